"""Desurvey by minimum curvature: 3D positions along drill holes, all holes at once.

Between two survey stations a hole follows the circular arc tangent to both station
directions; points inside a segment lie on that arc (not on a chord). Above the first
station the first direction holds (a station is added at the collar); below the last
one the hole continues straight. A hole with a single station is therefore straight
(the balanced-tangent limit of one direction). Azimuths are degrees clockwise from
north, dips degrees negative downwards, depths metres along the hole.

Every array operation runs over all holes together (stations and query points carry
a hole index), so 400 holes cost about as much as one.
"""

from __future__ import annotations

import numpy as np

_STRAIGHT = 1e-6  # dogleg (rad) below which the second-order straight-line expansion is used


def direction_vectors(azimuth_deg: np.ndarray, dip_deg: np.ndarray) -> np.ndarray:
    """Unit vectors (east, north, up) for azimuths clockwise from north and dips negative down."""
    az = np.radians(azimuth_deg)
    dip = np.radians(dip_deg)
    return np.column_stack([np.sin(az) * np.cos(dip), np.cos(az) * np.cos(dip), np.sin(dip)])


def desurvey_holes(
    collar_xyz: np.ndarray,
    station_hole: np.ndarray,
    station_depth: np.ndarray,
    azimuth_deg: np.ndarray,
    dip_deg: np.ndarray,
    point_hole: np.ndarray,
    point_depth: np.ndarray,
) -> np.ndarray:
    """Positions of points along many holes by minimum curvature.

    Parameters
    ----------
    collar_xyz : array, shape (n_holes, 3)
        Collar easting, northing, elevation (m).
    station_hole : int array, shape (k,)
        Hole index (row of ``collar_xyz``) of each survey station. Every hole needs at
        least one station.
    station_depth : array, shape (k,)
        Station depth along the hole (m). Stations may come in any order; within a
        hole, depths must differ.
    azimuth_deg, dip_deg : array, shape (k,)
        Direction at each station (degrees).
    point_hole : int array, shape (n,)
        Hole index of each query point.
    point_depth : array, shape (n,)
        Depth along the hole of each query point (m).

    Returns
    -------
    numpy.ndarray, shape (n, 3)
        Easting, northing, elevation (m).
    """
    collar_xyz = np.asarray(collar_xyz, dtype=float).reshape(-1, 3)
    station_hole = np.asarray(station_hole, dtype=np.int64)
    station_depth = np.asarray(station_depth, dtype=float)
    tangents = direction_vectors(np.asarray(azimuth_deg, float), np.asarray(dip_deg, float))
    order = np.lexsort((station_depth, station_hole))
    station_hole, station_depth, tangents = station_hole[order], station_depth[order], tangents[order]

    # A station at the collar with the first station's direction, where the first is below it.
    first = np.r_[True, station_hole[1:] != station_hole[:-1]]
    add = first & (station_depth > 0)
    station_hole = np.insert(station_hole, np.flatnonzero(add), station_hole[add])
    station_depth = np.insert(station_depth, np.flatnonzero(add), 0.0)
    tangents = np.insert(tangents, np.flatnonzero(add), tangents[add], axis=0)
    first = np.r_[True, station_hole[1:] != station_hole[:-1]]
    last = np.r_[station_hole[1:] != station_hole[:-1], True]

    # Segment j runs from station j to j + 1 of the same hole.
    t1, t2 = tangents[:-1], tangents[1:]
    lengths = np.diff(station_depth)
    same_hole = ~last[:-1]
    dogleg = np.arccos(np.clip(np.einsum("ij,ij->i", t1, t2), -1.0, 1.0))
    half = np.where(dogleg > 1e-9, dogleg / 2, 1.0)
    ratio = np.where(dogleg > 1e-9, np.tan(half) / half, 1.0)
    steps = np.where(same_hole[:, None], 0.5 * lengths[:, None] * ratio[:, None] * (t1 + t2), 0.0)
    # Station positions: running sum of steps, restarted at each hole's collar.
    running = np.vstack([np.zeros(3), np.cumsum(steps, axis=0)])
    start = np.flatnonzero(first)
    hole_start = np.repeat(start, np.diff(np.r_[start, len(station_depth)]))
    station_xyz = running - running[hole_start] + collar_xyz[station_hole]

    # The segment of each point: the last station of its hole at or above it.
    point_hole = np.asarray(point_hole, dtype=np.int64)
    point_depth = np.asarray(point_depth, dtype=float)
    span = (
        max(
            float(np.nanmax(np.abs(station_depth), initial=0.0)),
            float(np.nanmax(np.abs(point_depth), initial=0.0)),
        )
        * 2
        + 1.0
    )
    key_stations = station_hole * span + station_depth
    key_points = point_hole * span + np.clip(point_depth, 0.0, None)
    s = np.searchsorted(key_stations, key_points, side="right") - 1
    s = np.maximum(s, start[np.searchsorted(station_hole[start], point_hole)])
    beyond = last[s]  # below the last station: straight on
    out = station_xyz[s] + (point_depth - station_depth[s])[:, None] * tangents[s]
    inside = np.flatnonzero(~beyond)
    if inside.size:
        seg = s[inside]
        length = lengths[seg]
        f = (point_depth[inside] - station_depth[seg]) / np.where(length > 0, length, 1.0)
        beta = dogleg[seg]
        a, b = t1[seg], t2[seg]
        curved = beta > _STRAIGHT
        safe = np.where(curved, beta, 1.0)
        # Circular arc: P = P1 + R [t1 sin(theta) + n (1 - cos(theta))], R = L / beta.
        normal = (b - a * np.cos(safe)[:, None]) / np.sin(safe)[:, None]
        theta = f * safe
        arc = (length / safe)[:, None] * (a * np.sin(theta)[:, None] + normal * (1 - np.cos(theta))[:, None])
        # Second-order expansion where the dogleg vanishes (avoids 0/0).
        straight = (f * length)[:, None] * a + (0.5 * f**2 * length)[:, None] * (b - a)
        out[inside] = station_xyz[seg] + np.where(curved[:, None], arc, straight)
    return out


def desurvey_minimum_curvature(
    collar_xyz: np.ndarray,
    station_depths: np.ndarray,
    azimuth_deg: np.ndarray,
    dip_deg: np.ndarray,
    depths: np.ndarray,
) -> np.ndarray:
    """Positions along one hole by minimum curvature (see :func:`desurvey_holes`).

    Parameters
    ----------
    collar_xyz : array, shape (3,)
        Collar position (m).
    station_depths : array, shape (k,)
        Survey depths along the hole (m), increasing.
    azimuth_deg, dip_deg : array, shape (k,)
        Direction at each station (degrees; dip negative down).
    depths : array, shape (n,)
        Depths along the hole (m) at which to return positions.

    Returns
    -------
    numpy.ndarray, shape (n, 3)
        Easting, northing, elevation (m).
    """
    station_depths = np.atleast_1d(np.asarray(station_depths, dtype=float))
    depths = np.atleast_1d(np.asarray(depths, dtype=float))
    return desurvey_holes(
        np.asarray(collar_xyz, float)[None, :],
        np.zeros(len(station_depths), int),
        station_depths,
        azimuth_deg,
        dip_deg,
        np.zeros(len(depths), int),
        depths,
    )
