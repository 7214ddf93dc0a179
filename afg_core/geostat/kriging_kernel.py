"""Compiled (numba) kernels of local kriging and neighbour selection.

These work on plain arrays only, so :mod:`afg_core.estimation` can call them chunk by
chunk (and a Dask backend could map them over blocks). Coordinates are already centred
and anisotropy-scaled (metres along the major axis); the variogram arrives as the
arrays of :meth:`afg_core.variography.VariogramModel.kernel_parameters`.

Local kriging solves ``LANES`` targets side by side: each builds its own ``k x k``
system from its neighbour indices, but the arrays hold the targets in their innermost
axis, so every step of building and solving the systems is one loop over targets that
LLVM vectorises (a per-target solve is a chain of short dot products that leaves the
vector units idle; this layout measured about twice as fast). Bounded models are solved
by Cholesky factorisation of the covariance matrix (about half the flops of an LU),
unbounded ones (linear, power) and the rare matrices that are not positive definite by
LU with partial pivoting of PyKrige's semivariance system, one target at a time.
Targets are split into contiguous blocks run in parallel threads, each with its own
work arrays, so nothing of size ``targets x k x k`` is ever allocated. The kernels release
the GIL (``nogil``): kriging for one browser session or a training thread must not freeze
the other sessions' reruns.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

# Kind codes, as afg_core.variography.KIND_CODES.
_SPHERICAL, _EXPONENTIAL, _GAUSSIAN, _HOLE_EFFECT, _LINEAR = 0, 1, 2, 3, 4
_GAUSSIAN_SCALE = 4.0 / 7.0
# NumPy's error model drops the per-division zero checks, and these fast-math flags let
# LLVM reorder and vectorise the dot products; NaN/inf semantics stay exact (no
# "nnan"/"ninf"), since NaN marks failed solves.
_FAST = {"reassoc", "contract", "arcp", "nsz"}
# Targets solved together, side by side in the innermost array axis. The count reaches
# the kernel as a run-time argument so that LLVM vectorises the loops over targets
# rather than unrolling them; 64 measured faster than 16 or 32 and as fast as 128.
LANES = 64
# Work-array budget per thread (bytes): fewer lanes for very large neighbourhoods.
_LANE_BYTES = 8 * 2**20


def block_count() -> int:
    """Target blocks per kernel call: a few per thread, so uneven blocks even out."""
    return 8 * nb.get_num_threads()


@nb.njit(cache=True, inline="always", error_model="numpy", fastmath=_FAST)
def _gamma(h, nugget, codes, sills, ranges):  # pragma: no cover - compiled
    """Semivariance at isotropic-equivalent lag ``h``; 0 at ``h == 0``."""
    if h == 0.0:
        return 0.0
    total = nugget
    for s in range(codes.shape[0]):
        code = codes[s]
        r = h / ranges[s]
        if code == _SPHERICAL:
            f = 1.0 if r >= 1.0 else r * (1.5 - 0.5 * r * r)
        elif code == _EXPONENTIAL:
            f = 1.0 - math.exp(-3.0 * r)
        elif code == _GAUSSIAN:
            q = r / _GAUSSIAN_SCALE
            f = 1.0 - math.exp(-(q * q))
        elif code == _HOLE_EFFECT:
            f = 1.0 - (1.0 - 3.0 * r) * math.exp(-3.0 * r)
        elif code == _LINEAR:
            f = r
        else:  # power: the "range" is the exponent
            f = h ** ranges[s]
        total += sills[s] * f
    return total


@nb.njit(nogil=True, cache=True, error_model="numpy", fastmath=_FAST)
def _lu_solve(a, m, b):  # pragma: no cover - compiled
    """Solve ``a[:m, :m] x = b[:m]`` in place by LU with partial pivoting; False if singular."""
    for j in range(m):
        pivot = j
        for i in range(j + 1, m):
            if abs(a[i, j]) > abs(a[pivot, j]):
                pivot = i
        if a[pivot, j] == 0.0:
            return False
        if pivot != j:
            for p in range(m):
                a[j, p], a[pivot, p] = a[pivot, p], a[j, p]
            b[j], b[pivot] = b[pivot], b[j]
        for i in range(j + 1, m):
            f = a[i, j] / a[j, j]
            if f != 0.0:
                for p in range(j + 1, m):
                    a[i, p] -= f * a[j, p]
                b[i] -= f * b[j]
    for i in range(m - 1, -1, -1):
        s = b[i]
        for p in range(i + 1, m):
            s -= a[i, p] * b[p]
        b[i] = s / a[i, i]
    return True


@nb.njit(nogil=True, cache=True, error_model="numpy", fastmath=_FAST)
def _solve_semivariance(pts, tgt, m, nugget, codes, sills, ranges, a, w):  # pragma: no cover - compiled
    """Ordinary kriging in PyKrige's semivariance form; weights in ``w[:m]``, returns variance."""
    d = pts.shape[1]
    for i in range(m):
        a[i, i] = 0.0
        for j in range(i):
            h2 = 0.0
            for c in range(d):
                diff = pts[i, c] - pts[j, c]
                h2 += diff * diff
            g = _gamma(math.sqrt(h2), nugget, codes, sills, ranges)
            a[i, j] = g
            a[j, i] = g
        a[i, m] = 1.0
        a[m, i] = 1.0
        h2 = 0.0
        for c in range(d):
            diff = pts[i, c] - tgt[c]
            h2 += diff * diff
        w[i] = _gamma(math.sqrt(h2), nugget, codes, sills, ranges)
    a[m, m] = 0.0
    w[m] = 1.0
    rhs = w[: m + 1].copy()
    if not _lu_solve(a, m + 1, w):
        return np.nan
    variance = w[m]
    for i in range(m):
        variance += w[i] * rhs[i]
    return variance


@nb.njit(cache=True, inline="always", error_model="numpy", fastmath=_FAST)
def _lags_to_covariances(
    lags, row, count, nugget, codes, sills, ranges, sill, total
):  # pragma: no cover - compiled
    """Turn the lags ``lags[row, :count, :]`` of every lane into covariances in place.

    ``total`` is (lanes,) scratch. The kind test sits outside the loop over lanes, so
    each structure is one vectorised pass.
    """
    lanes = lags.shape[2]
    for j in range(count):
        for lane in range(lanes):
            total[lane] = 0.0
        for s in range(codes.shape[0]):
            code = codes[s]
            inverse = 1.0 / ranges[s]
            c = sills[s]
            if code == _SPHERICAL:
                for lane in range(lanes):
                    r = min(lags[row, j, lane] * inverse, 1.0)
                    total[lane] += c * r * (1.5 - 0.5 * r * r)
            elif code == _EXPONENTIAL:
                for lane in range(lanes):
                    total[lane] += c * (1.0 - math.exp(-3.0 * lags[row, j, lane] * inverse))
            elif code == _GAUSSIAN:
                for lane in range(lanes):
                    q = lags[row, j, lane] * inverse / _GAUSSIAN_SCALE
                    total[lane] += c * (1.0 - math.exp(-(q * q)))
            else:  # hole effect
                for lane in range(lanes):
                    r = lags[row, j, lane] * inverse
                    total[lane] += c * (1.0 - (1.0 - 3.0 * r) * math.exp(-3.0 * r))
        for lane in range(lanes):
            h = lags[row, j, lane]
            lags[row, j, lane] = sill if h == 0.0 else sill - nugget - total[lane]


@nb.njit(nogil=True, cache=True, error_model="numpy", fastmath=_FAST)
def _krige_lanes(a, valid, x1, x2, m, sill, ordinary, failed, scratch):  # pragma: no cover - compiled
    """Solve the covariance systems of one group of lanes in place.

    Parameters
    ----------
    a : numpy.ndarray
        (k + 1, k, lanes): lower triangle of each lane's covariance matrix in rows
        ``:m``, sample-to-target covariances in row ``k``. Rows ``:m`` are overwritten by
        the Cholesky factors.
    valid : numpy.ndarray
        (k, lanes) 1.0 for a real neighbour, 0.0 for padding; padded rows and columns of
        ``a`` must be zero off the diagonal and one on it, which leaves them decoupled.
    x1, x2 : numpy.ndarray
        (k, lanes) outputs: kriging weights, and scratch.
    m : int
        Rows in use (the largest neighbour count of the group).
    sill : float
        Covariance at lag 0 (value units²).
    ordinary : bool
        Ordinary kriging (weights sum to one) or simple kriging.
    failed : numpy.ndarray
        (lanes,) float output: 1.0 where a matrix was not positive definite.
    scratch : numpy.ndarray
        (lanes,) scratch.

    Returns
    -------
    None
        Kriging variances are left in ``scratch``.
    """
    k, lanes = valid.shape
    for lane in range(lanes):
        failed[lane] = 0.0
    # Right-looking Cholesky: every step is an update of whole (lanes,) rows, with no
    # reductions, so all of it runs in vector registers.
    for p in range(m):
        for lane in range(lanes):
            diagonal = a[p, p, lane]
            positive = diagonal > 0.0
            failed[lane] = failed[lane] if positive else 1.0
            root = math.sqrt(diagonal) if positive else 1.0
            a[p, p, lane] = root
            scratch[lane] = 1.0 / root
        for i in range(p + 1, m):
            for lane in range(lanes):
                a[i, p, lane] *= scratch[lane]
        for i in range(p + 1, m):
            for j in range(p + 1, i + 1):
                for lane in range(lanes):
                    a[i, j, lane] -= a[i, p, lane] * a[j, p, lane]
    # Two right-hand sides: covariances to the target, and ones (for the Lagrange
    # multiplier of ordinary kriging).
    for i in range(m):
        for lane in range(lanes):
            x1[i, lane] = a[k, i, lane] * valid[i, lane]
            x2[i, lane] = valid[i, lane]
    for i in range(m):
        for lane in range(lanes):
            x1[i, lane] /= a[i, i, lane]
            x2[i, lane] /= a[i, i, lane]
        for r in range(i + 1, m):
            for lane in range(lanes):
                x1[r, lane] -= a[r, i, lane] * x1[i, lane]
                x2[r, lane] -= a[r, i, lane] * x2[i, lane]
    for i in range(m - 1, -1, -1):
        for lane in range(lanes):
            x1[i, lane] /= a[i, i, lane]
            x2[i, lane] /= a[i, i, lane]
        for r in range(i):
            for lane in range(lanes):
                x1[r, lane] -= a[i, r, lane] * x1[i, lane]
                x2[r, lane] -= a[i, r, lane] * x2[i, lane]
    for lane in range(lanes):
        scratch[lane] = sill
    if ordinary:
        s1 = np.zeros(lanes)
        s2 = np.zeros(lanes)
        for i in range(m):
            for lane in range(lanes):
                s1[lane] += x1[i, lane]
                s2[lane] += x2[i, lane]
        for lane in range(lanes):
            mu = (s1[lane] - 1.0) / s2[lane]
            s1[lane] = mu
            scratch[lane] -= mu
        for i in range(m):
            for lane in range(lanes):
                x1[i, lane] -= s1[lane] * x2[i, lane]
    for i in range(m):
        for lane in range(lanes):
            scratch[lane] -= x1[i, lane] * a[k, i, lane] * valid[i, lane]


@nb.njit(parallel=True, nogil=True, cache=True, error_model="numpy", fastmath=_FAST)
def _krige_covariance_form(
    coords, values, targets, idx, nugget, codes, sills, ranges, mean, n_blocks, lanes
):  # pragma: no cover
    """Bounded models: :func:`krige_local` by Cholesky, ``lanes`` targets at a time."""
    c, k = idx.shape
    d = coords.shape[1]
    e = values.shape[1]
    estimate = np.full((c, e), np.nan)
    variance = np.full(c, np.nan)
    ordinary = np.isnan(mean)
    sill = nugget
    for s in range(sills.shape[0]):
        sill += sills[s]
    n_groups = (c + lanes - 1) // lanes
    n_blocks = max(1, min(n_groups, n_blocks))
    for block in nb.prange(n_blocks):
        a = np.empty((k + 1, k, lanes))
        pts = np.empty((k, d, lanes))
        tgt = np.empty((d, lanes))
        valid = np.empty((k, lanes))
        x1 = np.empty((k, lanes))
        x2 = np.empty((k, lanes))
        failed = np.empty(lanes)
        scratch = np.empty(lanes)
        count = np.empty(lanes, dtype=np.int64)
        # Work arrays of the one-target fallback for matrices that are not positive definite.
        lone_a = np.empty((k + 1, k + 1))
        lone_w = np.empty(k + 1)
        lone_pts = np.empty((k, d))
        for group in range(block * n_groups // n_blocks, (block + 1) * n_groups // n_blocks):
            first = group * lanes
            m = 0
            for lane in range(lanes):
                t = first + lane
                used = 0
                if t < c:
                    while used < k and idx[t, used] >= 0:
                        used += 1
                    for q in range(d):
                        tgt[q, lane] = targets[t, q]
                else:
                    for q in range(d):
                        tgt[q, lane] = 0.0
                count[lane] = used
                m = max(m, used)
            if m == 0:
                continue
            for i in range(m):
                for lane in range(lanes):
                    if i < count[lane]:
                        valid[i, lane] = 1.0
                        for q in range(d):
                            pts[i, q, lane] = coords[idx[first + lane, i], q]
                    else:
                        # Padding sits on the target: finite lags, then masked out.
                        valid[i, lane] = 0.0
                        for q in range(d):
                            pts[i, q, lane] = tgt[q, lane]
            # Lags (search-frame metres), then covariances, of sample pairs and to the target.
            for i in range(m + 1):
                row = k if i == m else i
                for j in range(m if i == m else i):
                    for lane in range(lanes):
                        a[row, j, lane] = 0.0
                    for q in range(d):
                        for lane in range(lanes):
                            other = tgt[q, lane] if i == m else pts[i, q, lane]
                            diff = other - pts[j, q, lane]
                            a[row, j, lane] += diff * diff
                    for lane in range(lanes):
                        a[row, j, lane] = math.sqrt(a[row, j, lane])
                _lags_to_covariances(a, row, m if i == m else i, nugget, codes, sills, ranges, sill, scratch)
            for i in range(m):
                for j in range(i):
                    for lane in range(lanes):
                        a[i, j, lane] *= valid[i, lane] * valid[j, lane]
                for lane in range(lanes):
                    a[i, i, lane] = sill if valid[i, lane] > 0.0 else 1.0
            _krige_lanes(a, valid, x1, x2, m, sill, ordinary, failed, scratch)
            for lane in range(lanes):
                t = first + lane
                used = count[lane]
                if used == 0:
                    continue
                if failed[lane] > 0.0:
                    if not ordinary:
                        continue
                    for i in range(used):
                        for q in range(d):
                            lone_pts[i, q] = coords[idx[t, i], q]
                    var = _solve_semivariance(
                        lone_pts, targets[t], used, nugget, codes, sills, ranges, lone_a, lone_w
                    )
                    if np.isnan(var):
                        continue
                    for i in range(used):
                        x1[i, lane] = lone_w[i]
                else:
                    var = scratch[lane]
                # Only round-off can make the variance negative.
                variance[t] = max(var, 0.0)
                for col in range(e):
                    total = 0.0 if ordinary else mean
                    for i in range(used):
                        v = values[idx[t, i], col]
                        total += x1[i, lane] * (v if ordinary else v - mean)
                    estimate[t, col] = total
    return estimate, variance


@nb.njit(parallel=True, nogil=True, cache=True, error_model="numpy", fastmath=_FAST)
def _krige_semivariance_form(
    coords, values, targets, idx, nugget, codes, sills, ranges, n_blocks
):  # pragma: no cover
    """Unbounded models (linear, power): ordinary :func:`krige_local` one target at a time."""
    c, k = idx.shape
    d = coords.shape[1]
    e = values.shape[1]
    estimate = np.full((c, e), np.nan)
    variance = np.full(c, np.nan)
    n_blocks = max(1, min(c, n_blocks))
    for block in nb.prange(n_blocks):
        a = np.empty((k + 1, k + 1))
        w = np.empty(k + 1)
        pts = np.empty((k, d))
        for t in range(block * c // n_blocks, (block + 1) * c // n_blocks):
            m = 0
            while m < k and idx[t, m] >= 0:
                for q in range(d):
                    pts[m, q] = coords[idx[t, m], q]
                m += 1
            if m == 0:
                continue
            var = _solve_semivariance(pts, targets[t], m, nugget, codes, sills, ranges, a, w)
            if np.isnan(var):
                continue
            variance[t] = max(var, 0.0)
            for col in range(e):
                total = 0.0
                for i in range(m):
                    total += w[i] * values[idx[t, i], col]
                estimate[t, col] = total
    return estimate, variance


def krige_local(coords, values, targets, idx, nugget, codes, sills, ranges, mean, bounded, n_blocks):
    """Ordinary (``mean`` NaN) or simple kriging of targets from their neighbours.

    Parameters
    ----------
    coords : numpy.ndarray
        (n, d) scaled sample coordinates (m).
    values : numpy.ndarray
        (n, e) sample values, one column per variable kriged with the same weights.
    targets : numpy.ndarray
        (c, d) scaled target coordinates (m).
    idx : numpy.ndarray
        (c, k) int64 neighbour indices, valid ones first, then -1.
    nugget, codes, sills, ranges
        Variogram, see ``VariogramModel.kernel_parameters``.
    mean : float
        Known mean (simple kriging), or NaN for ordinary kriging.
    bounded : bool
        True when the model has a covariance (no linear or power structure); simple
        kriging needs one.
    n_blocks : int
        Number of contiguous target blocks shared out among the threads.

    Returns
    -------
    tuple of numpy.ndarray
        Estimates (c, e) in value units and variances (c,) in value units², NaN for
        targets without neighbours or with a singular system.
    """
    if bounded:
        k = idx.shape[1]
        lanes = int(max(1, min(LANES, _LANE_BYTES // (8 * (k + 1) * max(k, 1)))))
        return _krige_covariance_form(
            coords, values, targets, idx, nugget, codes, sills, ranges, mean, n_blocks, lanes
        )
    if not np.isnan(mean):
        raise ValueError("simple kriging needs a bounded variogram model")
    return _krige_semivariance_form(coords, values, targets, idx, nugget, codes, sills, ranges, n_blocks)


@nb.njit(parallel=True, nogil=True, cache=True, error_model="numpy", fastmath=_FAST)
def select_neighbours(
    candidates, coords, targets, hole_codes, n_holes, max_per_hole, max_per_octant, k, target_holes, n_blocks
):  # pragma: no cover
    """Nearest-first neighbour selection honouring per-hole and per-octant caps.

    Parameters
    ----------
    candidates : numpy.ndarray
        (c, q) int64 candidate sample indices sorted nearest first in the search metric;
        entries ``>= n`` (cKDTree's "missing") end the list.
    coords, targets : numpy.ndarray
        (n, d) sample and (c, d) target coordinates in the search frame (m); octants are
        the sign patterns of ``sample - target`` in that frame.
    hole_codes : numpy.ndarray
        (n,) int64 hole code per sample (all 0 when holes are unknown).
    n_holes : int
        Number of distinct hole codes.
    max_per_hole, max_per_octant : int
        Caps; 0 disables a cap.
    k : int
        Most samples to select.
    target_holes : numpy.ndarray
        (c,) int64 hole code whose samples each target must not use (leave-one-hole-out
        cross-validation), or -1.
    n_blocks : int
        Number of contiguous target blocks shared out among the threads.

    Returns
    -------
    tuple of numpy.ndarray
        (c, k) selected indices (nearest first, -1 padded) and (c,) flags that are True
        when the selection is final: ``k`` samples found or the candidates ran out before
        ``q``. A False flag means a longer candidate list could add samples.
    """
    c, q = candidates.shape
    n = coords.shape[0]
    d = coords.shape[1]
    selected = np.full((c, k), -1, dtype=np.int64)
    final = np.zeros(c, dtype=np.bool_)
    n_blocks = max(1, min(c, n_blocks))
    for block in nb.prange(n_blocks):
        per_hole = np.zeros(max(n_holes, 1), dtype=np.int64)
        per_octant = np.zeros(1 << d, dtype=np.int64)
        for t in range(block * c // n_blocks, (block + 1) * c // n_blocks):
            m = 0
            ended = False
            for p in range(q):
                j = candidates[t, p]
                if j >= n:
                    ended = True
                    break
                if m == k:
                    break
                if hole_codes[j] == target_holes[t]:
                    continue
                if max_per_hole > 0 and per_hole[hole_codes[j]] >= max_per_hole:
                    continue
                if max_per_octant > 0:
                    octant = 0
                    for axis in range(d):
                        if coords[j, axis] > targets[t, axis]:
                            octant |= 1 << axis
                    if per_octant[octant] >= max_per_octant:
                        continue
                    per_octant[octant] += 1
                per_hole[hole_codes[j]] += 1
                selected[t, m] = j
                m += 1
            final[t] = m == k or ended
            # Reset only the counters this target touched.
            for i in range(m):
                per_hole[hole_codes[selected[t, i]]] = 0
            per_octant[:] = 0
    return selected, final


@nb.njit(nogil=True, cache=True, error_model="numpy", fastmath=_FAST)
def _greedy(order, cand, hole_codes, per_hole, max_per_hole, k, out):  # pragma: no cover - compiled
    """Accept candidates ``cand[order]`` nearest first under the hole cap; returns the count."""
    m = 0
    for p in range(order.shape[0]):
        if m == k:
            break
        j = cand[order[p]]
        if max_per_hole > 0:
            if per_hole[hole_codes[j]] >= max_per_hole:
                continue
            per_hole[hole_codes[j]] += 1
        out[m] = j
        m += 1
    if max_per_hole > 0:
        for i in range(m):
            per_hole[hole_codes[out[i]]] = 0
    return m


@nb.njit(parallel=True, nogil=True, cache=True, error_model="numpy", fastmath=_FAST)
def select_in_tiles(
    tile_start,
    members,
    targets,
    centres,
    reach,
    bucket_start,
    bucket_order,
    bucket_origin,
    bucket_size,
    bucket_shape,
    coords,
    hole_codes,
    n_holes,
    max_per_hole,
    k,
    radius,
):  # pragma: no cover - compiled
    """Neighbour selection for targets grouped in tiles, sharing one candidate list per tile.

    A tile's candidates are the samples within ``reach`` of its centre, gathered from a
    uniform bucket grid of the samples. The caller sizes ``reach`` as
    ``min(d + 2 delta, radius + delta)``, with ``d`` the distance within which the
    (capped) selection at the centre completes and ``delta`` the tile's half-diagonal:
    every member's own capped selection then completes within ``d + delta`` of it, so
    the result equals a per-target search (octant caps lack this property and are not
    supported here).

    Parameters
    ----------
    tile_start : numpy.ndarray
        (t + 1,) offsets of each tile's targets in ``members``.
    members : numpy.ndarray
        Target row numbers grouped by tile.
    targets, centres : numpy.ndarray
        (c, d) targets and (t, d) tile centres in the search frame (m).
    reach : numpy.ndarray
        (t,) candidate radius per tile (m).
    bucket_start, bucket_order : numpy.ndarray
        CSR of the bucket grid: samples ``bucket_order[bucket_start[b]:bucket_start[b+1]]``
        lie in flat bucket ``b`` (C order over ``bucket_shape``).
    bucket_origin, bucket_size, bucket_shape : numpy.ndarray
        Lower corner (m), edge (m) and (d,) int64 shape of the bucket grid.
    coords, hole_codes, n_holes, max_per_hole, k
        As in :func:`select_neighbours`.
    radius : float
        Search radius in the search frame (m); inf for none.

    Returns
    -------
    numpy.ndarray
        (c, k) int64 selected sample indices, nearest first, -1 padded.
    """
    n, d = coords.shape
    c = targets.shape[0]
    selected = np.full((c, k), -1, dtype=np.int64)
    radius2 = radius * radius
    n_tiles = tile_start.shape[0] - 1
    for tile in nb.prange(n_tiles):
        centre = centres[tile]
        r = reach[tile]
        lo = np.empty(d, dtype=np.int64)
        hi = np.empty(d, dtype=np.int64)
        for q in range(d):
            lo[q] = max(0, int(math.floor((centre[q] - r - bucket_origin[q]) / bucket_size)))
            hi[q] = min(
                bucket_shape[q] - 1, int(math.floor((centre[q] + r - bucket_origin[q]) / bucket_size))
            )
        cand = np.empty(n, dtype=np.int64)
        count = 0
        # Walk the buckets of the box around the reach sphere (d is 2 or 3).
        iz_hi = hi[2] if d == 3 else 0
        iz_lo = lo[2] if d == 3 else 0
        for ix in range(lo[0], hi[0] + 1):
            for iy in range(lo[1], hi[1] + 1):
                for iz in range(iz_lo, iz_hi + 1):
                    b = ix * bucket_shape[1] + iy
                    if d == 3:
                        b = b * bucket_shape[2] + iz
                    for p in range(bucket_start[b], bucket_start[b + 1]):
                        j = bucket_order[p]
                        h2 = 0.0
                        for q in range(d):
                            diff = coords[j, q] - centre[q]
                            h2 += diff * diff
                        if h2 <= r * r:
                            cand[count] = j
                            count += 1
        # Candidate coordinates side by side, axis by axis, so distances vectorise.
        local = np.empty((d, count))
        for p in range(count):
            for q in range(d):
                local[q, p] = coords[cand[p], q]
        dist = np.empty(count)
        # Members run along a serpentine path (see afg_core.search), so consecutive
        # targets rank the candidates almost alike: insertion sort from the previous
        # order costs little more than a pass.
        perm = np.arange(count)
        per_hole = np.zeros(max(n_holes, 1), dtype=np.int64)
        out = np.empty(k, dtype=np.int64)
        for pos in range(tile_start[tile], tile_start[tile + 1]):
            t = members[pos]
            for p in range(count):
                dist[p] = 0.0
            for q in range(d):
                x = targets[t, q]
                for p in range(count):
                    diff = local[q, p] - x
                    dist[p] += diff * diff
            for p in range(count):
                if dist[p] > radius2:
                    dist[p] = np.inf
            for p in range(1, count):
                item = perm[p]
                key = dist[item]
                i = p - 1
                while i >= 0 and dist[perm[i]] > key:
                    perm[i + 1] = perm[i]
                    i -= 1
                perm[i + 1] = item
            inside = 0
            while inside < count and dist[perm[inside]] < np.inf:
                inside += 1
            m = _greedy(perm[:inside], cand, hole_codes, per_hole, max_per_hole, k, out)
            for i in range(m):
                selected[t, i] = out[i]
    return selected
