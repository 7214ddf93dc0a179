"""Variogram models, experimental variograms and weighted least-squares fitting.

Coordinates are in metres with x = easting, y = northing and z = elevation (up is
positive). Semivariances are in squared units of the variable (e.g. ppm²).

The bounded models use PyKrige's "effective range" conventions, so that a
:class:`VariogramModel` and PyKrige given the same parameters krige identically:

* spherical: ``gamma = c * (1.5 h/a - 0.5 (h/a)^3)`` for ``h <= a``, ``c`` beyond;
* exponential: ``gamma = c * (1 - exp(-h / (a/3)))`` (95 % of the sill at ``h = a``);
* gaussian: ``gamma = c * (1 - exp(-h^2 / (4a/7)^2))``;
* hole-effect: ``gamma = c * (1 - (1 - h/(a/3)) exp(-h/(a/3)))``;

with ``c`` the partial sill, ``a`` the range and the nugget added for ``h > 0``. PyKrige's
list form ``variogram_parameters=[sill, range, nugget]`` takes the *full* sill, i.e.
``VariogramModel.total_sill``. Nested models add further structures (:class:`Structure`)
to the first one; they share its nugget, rotation and anisotropy ratios.

Rotation convention (:func:`axis_directions`): the major axis points ``azimuth`` degrees
clockwise from north and ``dip`` degrees below the horizontal; ``plunge`` then turns the
minor and vertical axes about the major axis, positive lifting the minor axis (initially
horizontal, at ``azimuth + 90``) upwards. With all three angles zero the major, minor and
vertical axes are north, east and up.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.spatial.distance import cdist

VariogramKind = Literal["spherical", "exponential", "gaussian", "linear", "power", "hole-effect"]

BOUNDED_KINDS = frozenset({"spherical", "exponential", "gaussian", "hole-effect"})
KINDS = BOUNDED_KINDS | {"linear", "power"}


def _spherical(r: NDArray[np.float64], xp: ModuleType) -> NDArray[np.float64]:
    r = xp.minimum(r, 1.0)
    return r * (1.5 - 0.5 * r * r)


def _exponential(r: NDArray[np.float64], xp: ModuleType) -> NDArray[np.float64]:
    return 1.0 - xp.exp(-3.0 * r)


def _gaussian(r: NDArray[np.float64], xp: ModuleType) -> NDArray[np.float64]:
    return 1.0 - xp.exp(-((r / (4.0 / 7.0)) ** 2))


def _hole_effect(r: NDArray[np.float64], xp: ModuleType) -> NDArray[np.float64]:
    return 1.0 - (1.0 - 3.0 * r) * xp.exp(-3.0 * r)


def _linear(r: NDArray[np.float64], xp: ModuleType) -> NDArray[np.float64]:
    return r


# Unit-sill structures of the lag expressed in ranges (r = h / range), in the array
# namespace ``xp`` (numpy, or jax.numpy for the batched solves of afg_core.geostat.batched_solve).
_STRUCTURES: dict[str, Callable[[NDArray[np.float64], ModuleType], NDArray[np.float64]]] = {
    "spherical": _spherical,
    "exponential": _exponential,
    "gaussian": _gaussian,
    "hole-effect": _hole_effect,
    "linear": _linear,
}


#: Kind codes of the compiled kriging kernel (afg_core.kriging_kernel), in this order.
KIND_CODES: dict[str, int] = {
    k: i for i, k in enumerate(["spherical", "exponential", "gaussian", "hole-effect", "linear", "power"])
}


@dataclass(frozen=True)
class Structure:
    """One further nested structure of a :class:`VariogramModel`.

    Parameters
    ----------
    kind : str
        Model shape, as :attr:`VariogramModel.kind`.
    sill : float
        Partial sill of this structure (value units²).
    range : float
        Range along the major axis (metres); the minor and vertical ranges follow the
        host model's anisotropy ratios. For ``power`` the exponent, in (0, 2).
    """

    kind: VariogramKind
    sill: float
    range: float

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown variogram kind {self.kind!r}; use one of {sorted(KINDS)}")
        if self.sill < 0 or not self.range > 0:
            raise ValueError("a structure needs a non-negative sill and a positive range")
        if self.kind == "power" and self.range >= 2:
            raise ValueError("power exponent (range) must be in (0, 2)")


def _unit_structure(
    kind: str, h: NDArray[np.float64], range_: float, xp: ModuleType = np
) -> NDArray[np.float64]:
    """Structure of unit sill at lags ``h`` (m); ``range_`` is the exponent for ``power``."""
    if kind == "power":
        return h**range_
    return _STRUCTURES[kind](h / range_, xp)


def anisotropy_matrix(
    ranges: tuple[float, float, float], azimuth: float, dip: float, plunge: float, ndim: int
) -> NDArray[np.float64]:
    """Linear map from coordinate differences (m) to isotropic-equivalent lags (m).

    Parameters
    ----------
    ranges : tuple of float
        Major, minor and vertical ranges or semi-axes (metres).
    azimuth, dip, plunge : float
        Orientation in degrees, see :func:`axis_directions` (2D uses the azimuth only).
    ndim : int
        Number of coordinates (1, 2 or 3).

    Returns
    -------
    numpy.ndarray
        (ndim, ndim) matrix ``M``: ``|M @ d|`` is the length of ``d`` in major-axis metres,
        so the ellipsoid with semi-axes ``ranges`` maps onto the sphere of radius ``ranges[0]``.
    """
    if ndim not in (1, 2, 3):
        raise ValueError("coordinates must have 1, 2 or 3 columns")
    major, minor, vertical = ranges
    if ndim == 1 or (minor == major and (ndim == 2 or vertical == major)):
        # An exact identity keeps isotropic lags bit-identical to Euclidean distances.
        return np.eye(ndim)
    if ndim == 2:
        az = math.radians(azimuth)
        axes = np.array([[math.sin(az), math.cos(az)], [math.cos(az), -math.sin(az)]])
        stretch = np.array([1.0, major / minor])
    else:
        axes = axis_directions(azimuth, dip, plunge)
        stretch = np.array([1.0, major / minor, major / vertical])
    return stretch[:, None] * axes


def axis_directions(azimuth: float, dip: float, plunge: float) -> NDArray[np.float64]:
    """Unit vectors of the major, minor and vertical anisotropy axes in 3D.

    Parameters
    ----------
    azimuth : float
        Direction of the major axis, degrees clockwise from north (+y) towards east (+x).
    dip : float
        Inclination of the major axis below the horizontal, degrees (positive points down,
        i.e. towards -z).
    plunge : float
        Rotation of the minor and vertical axes about the major axis, degrees; positive
        lifts the minor axis (initially horizontal, at ``azimuth + 90``) towards +z.

    Returns
    -------
    numpy.ndarray
        (3, 3) array whose rows are the major, minor and vertical unit vectors (x, y, z).
    """
    az, dp, pl = np.radians([azimuth, dip, plunge])
    major = np.array([np.sin(az) * np.cos(dp), np.cos(az) * np.cos(dp), -np.sin(dp)])
    minor0 = np.array([np.cos(az), -np.sin(az), 0.0])
    vertical0 = np.cross(minor0, major)
    minor = np.cos(pl) * minor0 + np.sin(pl) * vertical0
    vertical = -np.sin(pl) * minor0 + np.cos(pl) * vertical0
    return np.vstack([major, minor, vertical])


@dataclass(frozen=True)
class VariogramModel:
    """A nested nugget + one-structure variogram model, optionally anisotropic.

    Parameters
    ----------
    kind : {"spherical", "exponential", "gaussian", "linear", "power", "hole-effect"}
        Model shape; see the module docstring for the formulas (PyKrige conventions).
    nugget : float
        Nugget (value units²), the jump of ``gamma`` just above zero lag.
    sill : float
        Partial sill (value units²), i.e. excluding the nugget. For ``linear`` it is the
        rise of ``gamma`` over one ``range`` (slope = sill / range per metre); for
        ``power`` it is PyKrige's ``scale`` in ``gamma = nugget + scale * h**exponent``.
    range : float
        Range along the major axis (metres). For ``power`` it is instead the
        dimensionless exponent, in (0, 2).
    range_minor, range_vertical : float or None
        Ranges along the minor and vertical axes (metres); None means equal to ``range``.
        Not allowed for ``power``, whose ``range`` is no distance.
    azimuth, dip, plunge : float
        Orientation of the axes in degrees, see :func:`axis_directions`: the major axis
        points ``azimuth`` clockwise from north and ``dip`` below horizontal; ``plunge``
        turns the minor/vertical axes about it. In 2D only ``azimuth`` and
        ``range_minor`` are used.
    nested : tuple of Structure
        Further structures added to the first one (e.g. a short- and a long-range
        spherical). They share the nugget, the rotation and the anisotropy ratios
        ``range_minor / range`` and ``range_vertical / range`` of the first structure.

    Notes
    -----
    Anisotropy is geometric: a lag vector is rotated into the (major, minor, vertical)
    frame and its minor/vertical components are stretched by ``range / range_minor`` and
    ``range / range_vertical``. The resulting "isotropic-equivalent" lag, in metres along
    the major axis, is what :meth:`__call__` takes.

    Examples
    --------
    >>> from afg_core.geostat import Structure, VariogramModel
    >>> model = VariogramModel("spherical", nugget=0.1, sill=0.9, range=200.0)
    >>> model([0.0, 100.0, 200.0, 500.0]).round(4).tolist()  # 0 at 0, the total sill from the range on
    [0.0, 0.7188, 1.0, 1.0]
    >>> round(model.total_sill, 3), round(float(model.covariance(100.0)), 4)
    (1.0, 0.2812)

    A short spherical and a long exponential structure sharing one nugget:

    >>> nested = VariogramModel(
    ...     "spherical", nugget=0.1, sill=0.4, range=100.0, nested=(Structure("exponential", 0.5, 400.0),)
    ... )
    >>> nested([50.0, 400.0, 2000.0]).round(3).tolist()
    [0.531, 0.975, 1.0]

    Anisotropy: a major axis pointing east (azimuth 90) with a range of 200 m, and 50 m
    across it, so 100 m north counts as 400 m along the major axis:

    >>> aniso = VariogramModel("spherical", 0.1, 0.9, 200.0, range_minor=50.0, azimuth=90.0)
    >>> aniso.scaled_lags([[100.0, 0.0, 0.0], [0.0, 100.0, 0.0]]).round(3).tolist()
    [100.0, 400.0]
    """

    kind: VariogramKind
    nugget: float
    sill: float
    range: float
    range_minor: float | None = None
    range_vertical: float | None = None
    azimuth: float = 0.0
    dip: float = 0.0
    plunge: float = 0.0
    nested: tuple[Structure, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "nested", tuple(self.nested))
        if self.kind not in KINDS:
            raise ValueError(f"unknown variogram kind {self.kind!r}; use one of {sorted(KINDS)}")
        if self.nugget < 0 or self.sill < 0:
            raise ValueError("nugget and sill must be non-negative")
        if not self.range > 0:
            raise ValueError("range must be positive")
        if self.kind == "power":
            if self.range >= 2:
                raise ValueError("power exponent (range) must be in (0, 2)")
            if self.range_minor is not None or self.range_vertical is not None:
                raise ValueError("the power model has no range, so it cannot be anisotropic")
            if self.nested:
                raise ValueError("the power model has no range to scale nested structures by")
        for r in (self.range_minor, self.range_vertical):
            if r is not None and not r > 0:
                raise ValueError("anisotropy ranges must be positive")

    @property
    def structures(self) -> tuple[Structure, ...]:
        """All structures, the first (``kind``, ``sill``, ``range``) then :attr:`nested`."""
        return (Structure(self.kind, self.sill, self.range), *self.nested)

    @property
    def bounded(self) -> bool:
        """True when the model reaches a sill (no linear or power structure)."""
        return all(s.kind in BOUNDED_KINDS for s in self.structures)

    @property
    def total_sill(self) -> float:
        """Nugget plus all partial sills (value units²); PyKrige's "full sill".

        For the unbounded kinds it is only ``gamma`` at one range (linear) or at 1 m
        (power), not a plateau.
        """
        return self.nugget + sum(s.sill for s in self.structures)

    def kernel_parameters(self) -> tuple[float, NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
        """The model as plain arrays for compiled kernels.

        Returns
        -------
        tuple
            Nugget (value units²), kind codes (:data:`KIND_CODES`), partial sills
            (value units²) and ranges (m, isotropic-equivalent) of every structure.
        """
        structures = self.structures
        return (
            float(self.nugget),
            np.array([KIND_CODES[s.kind] for s in structures], dtype=np.int64),
            np.array([s.sill for s in structures], dtype=np.float64),
            np.array([s.range for s in structures], dtype=np.float64),
        )

    def __call__(self, h: ArrayLike, xp: ModuleType = np) -> NDArray[np.float64]:
        """Semivariance at isotropic-equivalent lags.

        Parameters
        ----------
        h : array_like
            Non-negative lags in metres (already anisotropy-scaled, see
            :meth:`scaled_lags`).
        xp : module
            Array namespace: numpy, or ``jax.numpy`` (64-bit enabled) to evaluate inside
            a jitted function on an accelerator.

        Returns
        -------
        numpy.ndarray
            ``gamma(h)`` in value units²; exactly 0 at ``h == 0`` and at least the nugget
            for ``h > 0``.
        """
        h = xp.asarray(h, dtype=xp.float64)
        total = self.nugget + sum(s.sill * _unit_structure(s.kind, h, s.range, xp) for s in self.structures)
        # Comparing with == (not >) keeps NaN lags NaN instead of turning them into 0.
        return xp.where(h == 0, 0.0, total)

    def covariance(self, h: ArrayLike, xp: ModuleType = np) -> NDArray[np.float64]:
        """Covariance ``total_sill - gamma(h)`` (value units²); ``nugget + sill`` at 0.

        ``xp`` is the array namespace, as in :meth:`__call__`.

        Raises
        ------
        ValueError
            For the unbounded kinds (linear, power), which have no covariance.
        """
        if not self.bounded:
            raise ValueError(f"the {self.kind} variogram is unbounded and has no covariance")
        return self.total_sill - self(h, xp)

    def anisotropy_matrix(self, ndim: int) -> NDArray[np.float64]:
        """Linear map from coordinate differences to isotropic-equivalent lag vectors.

        Parameters
        ----------
        ndim : int
            Number of coordinates (1, 2 or 3).

        Returns
        -------
        numpy.ndarray
            (ndim, ndim) matrix ``M``; ``|M @ d|`` is the lag in major-axis metres of
            the difference vector ``d``. The identity for isotropic models.
        """
        return anisotropy_matrix(self.ranges, self.azimuth, self.dip, self.plunge, ndim)

    @property
    def ranges(self) -> tuple[float, float, float]:
        """Major, minor and vertical ranges of the first structure (metres)."""
        minor = self.range if self.range_minor is None else self.range_minor
        vertical = self.range if self.range_vertical is None else self.range_vertical
        return (self.range, minor, vertical)

    def scaled_lags(self, deltas: ArrayLike) -> NDArray[np.float64]:
        """Isotropic-equivalent lags (m) of coordinate differences ``deltas`` (..., ndim)."""
        deltas = np.asarray(deltas, dtype=np.float64)
        matrix = self.anisotropy_matrix(deltas.shape[-1])
        return np.linalg.norm(deltas @ matrix.T, axis=-1)

    def scaled_distances(self, a: ArrayLike, b: ArrayLike) -> NDArray[np.float64]:
        """Isotropic-equivalent lags (m) between every row of ``a`` (n, d) and ``b`` (m, d).

        Returns
        -------
        numpy.ndarray
            (n, m) lag matrix; plain Euclidean distances for an isotropic model.
        """
        a = np.atleast_2d(np.asarray(a, dtype=np.float64))
        b = np.atleast_2d(np.asarray(b, dtype=np.float64))
        matrix = self.anisotropy_matrix(a.shape[1])
        # Removing a shared offset first avoids losing precision on UTM-sized coordinates.
        offset = a.mean(axis=0) if len(a) else np.zeros(a.shape[1])
        return cdist((a - offset) @ matrix.T, (b - offset) @ matrix.T)
