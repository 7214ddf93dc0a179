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
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import least_squares
from scipy.spatial.distance import cdist

VariogramKind = Literal["spherical", "exponential", "gaussian", "linear", "power", "hole-effect"]
Estimator = Literal["matheron", "cressie"]

BOUNDED_KINDS = frozenset({"spherical", "exponential", "gaussian", "hole-effect"})
KINDS = BOUNDED_KINDS | {"linear", "power"}


def _spherical(r: NDArray[np.float64]) -> NDArray[np.float64]:
    r = np.minimum(r, 1.0)
    return r * (1.5 - 0.5 * r * r)


def _exponential(r: NDArray[np.float64]) -> NDArray[np.float64]:
    return 1.0 - np.exp(-3.0 * r)


def _gaussian(r: NDArray[np.float64]) -> NDArray[np.float64]:
    return 1.0 - np.exp(-((r / (4.0 / 7.0)) ** 2))


def _hole_effect(r: NDArray[np.float64]) -> NDArray[np.float64]:
    return 1.0 - (1.0 - 3.0 * r) * np.exp(-3.0 * r)


def _linear(r: NDArray[np.float64]) -> NDArray[np.float64]:
    return r


# Unit-sill structures of the lag expressed in ranges (r = h / range).
_STRUCTURES: dict[str, Callable[[NDArray[np.float64]], NDArray[np.float64]]] = {
    "spherical": _spherical,
    "exponential": _exponential,
    "gaussian": _gaussian,
    "hole-effect": _hole_effect,
    "linear": _linear,
}


#: Kind codes of the compiled kriging kernel (afg_core.kriging_kernel), in this order.
KIND_CODES: dict[str, int] = {k: i for i, k in enumerate(
    ["spherical", "exponential", "gaussian", "hole-effect", "linear", "power"])}


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


def _unit_structure(kind: str, h: NDArray[np.float64], range_: float) -> NDArray[np.float64]:
    """Structure of unit sill at lags ``h`` (m); ``range_`` is the exponent for ``power``."""
    if kind == "power":
        return h**range_
    return _STRUCTURES[kind](h / range_)


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

    def __call__(self, h: ArrayLike) -> NDArray[np.float64]:
        """Semivariance at isotropic-equivalent lags.

        Parameters
        ----------
        h : array_like
            Non-negative lags in metres (already anisotropy-scaled, see
            :meth:`scaled_lags`).

        Returns
        -------
        numpy.ndarray
            ``gamma(h)`` in value units²; exactly 0 at ``h == 0`` and at least the nugget
            for ``h > 0``.
        """
        h = np.asarray(h, dtype=np.float64)
        total = self.nugget + sum(s.sill * _unit_structure(s.kind, h, s.range) for s in self.structures)
        # Comparing with == (not >) keeps NaN lags NaN instead of turning them into 0.
        return np.where(h == 0, 0.0, total)

    def covariance(self, h: ArrayLike) -> NDArray[np.float64]:
        """Covariance ``total_sill - gamma(h)`` (value units²); ``nugget + sill`` at 0.

        Raises
        ------
        ValueError
            For the unbounded kinds (linear, power), which have no covariance.
        """
        if not self.bounded:
            raise ValueError(f"the {self.kind} variogram is unbounded and has no covariance")
        return self.total_sill - self(h)

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


@dataclass(frozen=True, eq=False)
class ExperimentalVariogram:
    """Binned sample semivariances.

    Attributes
    ----------
    lags : numpy.ndarray
        Centres of the non-empty lag bins (metres).
    semivariance : numpy.ndarray
        Semivariance of each bin (value units²).
    n_pairs : numpy.ndarray
        Number of sample pairs in each bin (after any subsampling).
    estimator : str
        ``"matheron"`` or ``"cressie"``.
    """

    lags: NDArray[np.float64]
    semivariance: NDArray[np.float64]
    n_pairs: NDArray[np.int64]
    estimator: str


def _pair_indices(
    n: int, max_pairs: int, rng: np.random.Generator
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """All pairs i < j, or ``max_pairs`` random pairs (i != j) when there are more."""
    if n * (n - 1) // 2 <= max_pairs:
        i, j = np.triu_indices(n, k=1)
        return i, j
    # Drawing with replacement never materialises the n² pair list; repeats are
    # statistically harmless at these sample sizes.
    i = rng.integers(0, n, size=max_pairs)
    j = rng.integers(0, n - 1, size=max_pairs)
    j += j >= i
    return i, j


def _direction_filter(
    deltas: NDArray[np.float64], lags: NDArray[np.float64], direction: tuple[float, float, float, float]
) -> NDArray[np.bool_]:
    """Pairs within the angular tolerance and bandwidth of a direction."""
    azimuth, dip, tolerance, bandwidth = direction
    ndim = deltas.shape[1]
    if ndim == 1:
        raise ValueError("directional variograms need 2D or 3D coordinates")
    if ndim == 2:
        az = math.radians(azimuth)
        unit = np.array([math.sin(az), math.cos(az)])
    else:
        unit = axis_directions(azimuth, dip, 0.0)[0]
    # Pairs are unordered, so a pair pointing the opposite way counts too.
    along = np.abs(deltas @ unit)
    across = np.sqrt(np.maximum(lags**2 - along**2, 0.0))
    return (along >= lags * math.cos(math.radians(tolerance))) & (across <= bandwidth)


def _bin_semivariance(
    diffs: NDArray[np.float64], bins: NDArray[np.intp], n_lags: int, estimator: Estimator
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    counts = np.bincount(bins, minlength=n_lags)
    with np.errstate(invalid="ignore", divide="ignore"):
        if estimator == "matheron":
            gamma = np.bincount(bins, weights=diffs**2, minlength=n_lags) / (2.0 * counts)
        else:
            # Cressie & Hawkins (1980): robust to outlying grades.
            root_mean = np.bincount(bins, weights=np.sqrt(np.abs(diffs)), minlength=n_lags) / counts
            gamma = root_mean**4 / (2.0 * (0.457 + 0.494 / counts))
    return gamma, counts


def experimental_variogram(
    coords: ArrayLike,
    values: ArrayLike,
    n_lags: int = 15,
    max_lag: float | None = None,
    estimator: Estimator = "matheron",
    max_pairs: int = 2_000_000,
    seed: int = 0,
    direction: tuple[float, float, float, float] | None = None,
) -> ExperimentalVariogram:
    """Experimental (sample) variogram of scattered data.

    Parameters
    ----------
    coords : array_like
        (n, d) sample coordinates in metres, d in 1..3.
    values : array_like
        (n,) sample values; samples with NaN values or coordinates are skipped.
    n_lags : int
        Number of equal-width lag bins over ``(0, max_lag]``.
    max_lag : float, optional
        Largest lag (m). Default: half the diagonal of the data's bounding box.
    estimator : {"matheron", "cressie"}
        Classical method-of-moments estimator, or Cressie-Hawkins robust estimator.
    max_pairs : int
        When there are more than this many pairs, this many are drawn at random, so the
        cost stays O(max_pairs) whatever n is.
    seed : int
        Seed of the pair subsampling.
    direction : tuple of float, optional
        ``(azimuth_deg, dip_deg, tolerance_deg, bandwidth_m)`` for a directional
        variogram (azimuth/dip as in :func:`axis_directions`); omnidirectional if None.

    Returns
    -------
    ExperimentalVariogram
        Only bins holding at least one pair. Pairs at zero separation are ignored, since
        they measure repeatability rather than spatial continuity.
    """
    if estimator not in ("matheron", "cressie"):
        raise ValueError("estimator must be 'matheron' or 'cressie'")
    xyz = np.asarray(coords, dtype=np.float64)
    if xyz.ndim == 1:
        xyz = xyz[:, None]
    z = np.asarray(values, dtype=np.float64)
    if xyz.shape[0] != z.shape[0]:
        raise ValueError("coords and values must have the same number of rows")
    finite = np.isfinite(z) & np.isfinite(xyz).all(axis=1)
    xyz, z = xyz[finite], z[finite]
    if len(z) < 2:
        raise ValueError("at least two samples with finite values are needed")
    if max_lag is None:
        max_lag = 0.5 * float(np.linalg.norm(xyz.max(axis=0) - xyz.min(axis=0)))
    if not max_lag > 0:
        raise ValueError("max_lag must be positive")

    i, j = _pair_indices(len(z), max_pairs, np.random.default_rng(seed))
    # np.take and einsum are about twice as fast as fancy indexing and norm here.
    deltas = np.take(xyz, j, axis=0) - np.take(xyz, i, axis=0)
    lags = np.sqrt(np.einsum("ij,ij->i", deltas, deltas))
    keep = (lags > 0) & (lags <= max_lag)
    if direction is not None:
        keep &= _direction_filter(deltas, lags, direction)
    width = max_lag / n_lags
    bins = np.minimum((lags[keep] / width).astype(np.intp), n_lags - 1)
    gamma, counts = _bin_semivariance(z[j][keep] - z[i][keep], bins, n_lags, estimator)

    occupied = counts > 0
    centres = (np.arange(n_lags) + 0.5) * width
    return ExperimentalVariogram(
        lags=centres[occupied],
        semivariance=gamma[occupied],
        n_pairs=counts[occupied].astype(np.int64),
        estimator=estimator,
    )


Transform = Literal["raw", "log", "normal-score"]


def transform_values(values: ArrayLike, transform: Transform = "raw") -> NDArray[np.float64]:
    """Values to model: raw, natural log, or normal scores.

    Parameters
    ----------
    values : array_like
        (n,) values (e.g. ppm); NaN stays NaN.
    transform : {"raw", "log", "normal-score"}
        ``log`` takes the natural log (non-positive values become NaN); ``normal-score``
        maps the finite values through their empirical quantiles onto a standard normal
        distribution (scikit-learn's QuantileTransformer), the usual transform before
        Gaussian simulation and for skewed grades.

    Returns
    -------
    numpy.ndarray
        (n,) transformed values (dimensionless for normal scores).
    """
    z = np.asarray(values, dtype=np.float64)
    if transform == "raw":
        return z.copy()
    if transform == "log":
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(z > 0, np.log(np.where(z > 0, z, 1.0)), np.nan)
    if transform != "normal-score":
        raise ValueError("transform must be 'raw', 'log' or 'normal-score'")
    from sklearn.preprocessing import QuantileTransformer

    out = np.full(z.shape, np.nan)
    finite = np.isfinite(z)
    if finite.sum() >= 2:
        scorer = QuantileTransformer(n_quantiles=min(1000, int(finite.sum())), output_distribution="normal")
        out[finite] = scorer.fit_transform(z[finite, None])[:, 0]
    return out


def downhole_variogram(
    depths: ArrayLike,
    values: ArrayLike,
    hole_ids: ArrayLike,
    n_lags: int = 15,
    max_lag: float = 50.0,
    estimator: Estimator = "matheron",
) -> ExperimentalVariogram:
    """Experimental variogram along the holes: pairs within one hole, lag = depth difference.

    Parameters
    ----------
    depths : array_like
        (n,) sample depths along the hole (m), e.g. interval mid-points.
    values : array_like
        (n,) values; NaN samples are skipped.
    hole_ids : array_like
        (n,) hole of each sample; pairs never join two holes.
    n_lags : int
        Equal-width lag bins over ``(0, max_lag]``.
    max_lag : float
        Largest along-hole lag (m).
    estimator : {"matheron", "cressie"}
        As in :func:`experimental_variogram`.

    Returns
    -------
    ExperimentalVariogram
        Non-empty bins; the down-hole variogram shows the short-range structure and the
        nugget, which sparse between-hole pairs cannot.
    """
    depth = np.asarray(depths, dtype=np.float64)
    z = np.asarray(values, dtype=np.float64)
    holes = np.unique(np.asarray(hole_ids), return_inverse=True)[1].ravel()
    keep = np.isfinite(depth) & np.isfinite(z)
    order = np.lexsort((depth[keep], holes[keep]))
    depth, z, holes = depth[keep][order], z[keep][order], holes[keep][order]
    lags, diffs = [], []
    # Sorted by hole then depth, pair i with i + offset until no pair is within max_lag.
    for offset in range(1, len(z)):
        same = holes[offset:] == holes[:-offset]
        lag = depth[offset:] - depth[:-offset]
        use = same & (lag > 0) & (lag <= max_lag)
        if not (same & (lag <= max_lag)).any():
            break
        lags.append(lag[use])
        diffs.append(z[offset:][use] - z[:-offset][use])
    if not lags or not sum(len(x) for x in lags):
        raise ValueError("no pair of samples within max_lag along any hole")
    lag = np.concatenate(lags)
    width = max_lag / n_lags
    bins = np.minimum((lag / width).astype(np.intp), n_lags - 1)
    gamma, counts = _bin_semivariance(np.concatenate(diffs), bins, n_lags, estimator)
    occupied = counts > 0
    return ExperimentalVariogram(
        lags=((np.arange(n_lags) + 0.5) * width)[occupied],
        semivariance=gamma[occupied],
        n_pairs=counts[occupied].astype(np.int64),
        estimator=estimator,
    )


@dataclass(frozen=True, eq=False)
class VariogramMap:
    """Semivariance of horizontal lag vectors on a square grid (a variogram map).

    Attributes
    ----------
    centres : numpy.ndarray
        (n,) centres of the lag cells along both east (dx) and north (dy), metres.
    semivariance : numpy.ndarray
        (n, n) semivariance (value units²) indexed [dy, dx]; NaN where no pair fell.
    n_pairs : numpy.ndarray
        (n, n) pair counts.
    """

    centres: NDArray[np.float64]
    semivariance: NDArray[np.float64]
    n_pairs: NDArray[np.int64]


def variogram_map(
    coords: ArrayLike,
    values: ArrayLike,
    max_lag: float,
    n_cells: int = 21,
    max_pairs: int = 1_000_000,
    seed: int = 0,
) -> VariogramMap:
    """2D variogram map of horizontal lags, for spotting the direction of anisotropy.

    Parameters
    ----------
    coords : array_like
        (n, 2) or (n, 3) coordinates (m); only x and y enter the lag vector.
    values : array_like
        (n,) values; NaN samples are skipped.
    max_lag : float
        Half-width of the map (m).
    n_cells : int
        Cells per side (odd keeps a cell centred on zero lag).
    max_pairs, seed
        Pair subsampling, as in :func:`experimental_variogram`.

    Returns
    -------
    VariogramMap
        Symmetric map (a pair counts for +d and -d); the long axis of the low-gamma
        region is the major direction of continuity.
    """
    xy = np.asarray(coords, dtype=np.float64)[:, :2]
    z = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(z) & np.isfinite(xy).all(axis=1)
    xy, z = xy[finite], z[finite]
    if len(z) < 2:
        raise ValueError("at least two samples with finite values are needed")
    i, j = _pair_indices(len(z), max_pairs, np.random.default_rng(seed))
    delta = np.concatenate([xy[j] - xy[i], xy[i] - xy[j]])
    squared = np.tile((z[j] - z[i]) ** 2, 2)
    width = 2.0 * max_lag / n_cells
    cell = np.floor((delta + max_lag) / width).astype(np.intp)
    inside = ((cell >= 0) & (cell < n_cells)).all(axis=1)
    flat = cell[inside, 1] * n_cells + cell[inside, 0]
    counts = np.bincount(flat, minlength=n_cells * n_cells)
    with np.errstate(invalid="ignore", divide="ignore"):
        gamma = np.bincount(flat, weights=squared[inside], minlength=n_cells * n_cells) / (2.0 * counts)
    return VariogramMap(
        centres=-max_lag + width * (np.arange(n_cells) + 0.5),
        semivariance=gamma.reshape(n_cells, n_cells),
        n_pairs=counts.reshape(n_cells, n_cells).astype(np.int64),
    )


@dataclass(frozen=True)
class _FitSpec:
    """Parameter vector layout of one fit: start, bounds and how to build the model."""

    kind: str
    fixed_nugget: float | None
    linear_range: float

    def build(self, p: NDArray[np.float64]) -> VariogramModel:
        nugget = self.fixed_nugget if self.fixed_nugget is not None else float(p[-1])
        if self.kind == "linear":
            return VariogramModel("linear", nugget, float(p[0]), self.linear_range)
        return VariogramModel(self.kind, nugget, float(p[0]), float(p[1]))  # type: ignore[arg-type]


def _starts_and_bounds(
    spec: _FitSpec, lags: NDArray[np.float64], gamma: NDArray[np.float64]
) -> tuple[list[NDArray[np.float64]], NDArray[np.float64], NDArray[np.float64]]:
    """Initial guesses (one per start) and bounds of the parameter vector."""
    scale = float(gamma.max()) if gamma.max() > 0 else 1.0
    max_lag = float(lags.max())
    # The last third of the bins approximates the sill (the data variance).
    plateau = float(np.mean(gamma[-max(1, len(gamma) // 3) :]))
    nugget0 = 0.5 * min(float(gamma[0]), plateau)
    partial0 = max(plateau - (spec.fixed_nugget if spec.fixed_nugget is not None else nugget0), 0.1 * scale)

    if spec.kind == "linear":
        firsts, lower, upper = [[partial0]], [0.0], [4.0 * scale]
    elif spec.kind == "power":
        firsts = [[plateau / max_lag**e, e] for e in (0.5, 1.0, 1.5)]
        lower, upper = [0.0, 0.01], [np.inf, 1.99]
    else:
        firsts = [[partial0, f * max_lag] for f in (0.25, 0.5, 1.0)]
        lower, upper = [0.0, 1e-6 * max_lag], [2.0 * scale, 2.0 * max_lag]
    if spec.fixed_nugget is None:
        firsts = [x + [nugget0] for x in firsts]
        lower, upper = lower + [0.0], upper + [scale]

    lo, hi = np.array(lower), np.array(upper)
    # least_squares needs starts strictly inside the bounds.
    margin = 1e-9 * np.where(np.isfinite(hi), hi - lo, 1.0)
    starts = [np.clip(np.array(x, dtype=np.float64), lo + margin, hi - margin) for x in firsts]
    return starts, lo, hi


def fit_variogram(
    experimental: ExperimentalVariogram,
    kind: VariogramKind = "spherical",
    nugget: float | None = None,
) -> VariogramModel:
    """Fit an isotropic variogram model by weighted least squares.

    Parameters
    ----------
    experimental : ExperimentalVariogram
        Bins to fit; bins with non-finite semivariance are ignored.
    kind : str
        Model kind (see :class:`VariogramModel`). ``linear`` fits its slope with the
        range fixed at the largest lag, as range and sill are not separable.
    nugget : float, optional
        Fixed nugget (value units²); fitted when None.

    Returns
    -------
    VariogramModel
        Best of a few starts (range at 1/4, 1/2 and 1 of the largest lag, or three
        exponents for ``power``), found with :func:`scipy.optimize.least_squares` within
        bounds: nugget in [0, max gamma], partial sill in [0, 2 max gamma], range in
        (0, 2 max lag].

    Notes
    -----
    Residuals are weighted by ``n_pairs / lag²`` (normalised to mean 1): well-populated,
    short-lag bins, which matter most for kriging, dominate the fit.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown variogram kind {kind!r}")
    ok = np.isfinite(experimental.semivariance) & (experimental.lags > 0)
    lags = np.asarray(experimental.lags, dtype=np.float64)[ok]
    gamma = np.asarray(experimental.semivariance, dtype=np.float64)[ok]
    if len(lags) < 2:
        raise ValueError("at least two non-empty lag bins are needed to fit a variogram")
    weights = np.asarray(experimental.n_pairs, dtype=np.float64)[ok] / lags**2
    root_w = np.sqrt(weights / weights.mean())
    scale = float(gamma.max()) if gamma.max() > 0 else 1.0

    spec = _FitSpec(kind, nugget, float(lags.max()))
    starts, lo, hi = _starts_and_bounds(spec, lags, gamma)

    def residuals(p: NDArray[np.float64]) -> NDArray[np.float64]:
        return root_w * (spec.build(p)(lags) - gamma) / scale

    fits = [least_squares(residuals, x0, bounds=(lo, hi)) for x0 in starts]
    best = min(fits, key=lambda f: f.cost)
    return spec.build(best.x)
