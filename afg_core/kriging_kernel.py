"""Compiled (numba) kernels of local kriging and neighbour selection.

These work on plain arrays only, so :mod:`afg_core.estimation` can call them chunk by
chunk (and a Dask backend could map them over blocks). Coordinates are already centred
and anisotropy-scaled (metres along the major axis); the variogram arrives as the
arrays of :meth:`afg_core.variography.VariogramModel.kernel_parameters`.

Each target builds its own ``k x k`` system from its neighbour indices (copying the
covariances of neighbour pairs it shares with the previous target, as adjacent cells
mostly do) and solves it in place: bounded models by Cholesky factorisation of the covariance matrix (about half the
flops of an LU), unbounded ones (linear, power) by LU with partial pivoting of PyKrige's
semivariance system. Targets are split into contiguous blocks run in parallel threads,
each with its own small work arrays, so nothing of size ``targets x k x k`` is ever
allocated.
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


@nb.njit(cache=True, inline="always", error_model="numpy", fastmath=_FAST)
def _covariance_row(lags, total, count, nugget, codes, sills, ranges, sill):  # pragma: no cover - compiled
    """Turn ``lags[:count]`` into covariances ``sill - gamma`` in place (bounded kinds only).

    ``total`` is scratch space of at least ``count`` entries.

    One loop per structure, with the kind test outside the loop over lags, so that LLVM
    can vectorise it; :func:`_gamma` would branch per lag.
    """
    total[:count] = 0.0
    for s in range(codes.shape[0]):
        code = codes[s]
        inverse = 1.0 / ranges[s]
        c = sills[s]
        if code == _SPHERICAL:
            for j in range(count):
                r = min(lags[j] * inverse, 1.0)
                total[j] += c * r * (1.5 - 0.5 * r * r)
        elif code == _EXPONENTIAL:
            for j in range(count):
                total[j] += c * (1.0 - math.exp(-3.0 * lags[j] * inverse))
        elif code == _GAUSSIAN:
            for j in range(count):
                q = lags[j] * inverse / _GAUSSIAN_SCALE
                total[j] += c * (1.0 - math.exp(-(q * q)))
        else:  # hole effect
            for j in range(count):
                r = lags[j] * inverse
                total[j] += c * (1.0 - (1.0 - 3.0 * r) * math.exp(-3.0 * r))
    for j in range(count):
        lags[j] = sill if lags[j] == 0.0 else sill - nugget - total[j]


@nb.njit(cache=True, error_model="numpy", fastmath=_FAST)
def _cholesky(a, m):  # pragma: no cover - compiled
    """In-place lower Cholesky factor of ``a[:m, :m]``; False if not positive definite.

    Row-oriented (Cholesky-Crout): each entry is one contiguous dot product, which
    measured about twice as fast here as the right-looking AXPY form.
    """
    for j in range(m):
        d = a[j, j]
        for p in range(j):
            d -= a[j, p] * a[j, p]
        if d <= 0.0:
            return False
        d = math.sqrt(d)
        a[j, j] = d
        inverse = 1.0 / d
        for i in range(j + 1, m):
            s = a[i, j]
            for p in range(j):
                s -= a[i, p] * a[j, p]
            a[i, j] = s * inverse
    return True


@nb.njit(cache=True, error_model="numpy", fastmath=_FAST)
def _cholesky_solve(a, m, b):  # pragma: no cover - compiled
    """Solve ``L L' x = b[:m]`` in place with the factor from :func:`_cholesky`."""
    for i in range(m):
        s = b[i]
        for p in range(i):
            s -= a[i, p] * b[p]
        b[i] = s / a[i, i]
    for i in range(m - 1, -1, -1):
        s = b[i]
        for p in range(i + 1, m):
            s -= a[p, i] * b[p]
        b[i] = s / a[i, i]


@nb.njit(cache=True, error_model="numpy", fastmath=_FAST)
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


@nb.njit(cache=True, error_model="numpy", fastmath=_FAST)
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


@nb.njit(parallel=True, cache=True, error_model="numpy", fastmath=_FAST)
def krige_local(coords, values, targets, idx, nugget, codes, sills, ranges, mean, bounded, n_blocks):  # pragma: no cover
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
        True when the model has a covariance (no linear or power structure).
    n_blocks : int
        Number of contiguous target blocks shared out among the threads.

    Returns
    -------
    tuple of numpy.ndarray
        Estimates (c, e) in value units and variances (c,) in value units², NaN for
        targets without neighbours or with a singular system.
    """
    c, k = idx.shape
    d = coords.shape[1]
    e = values.shape[1]
    estimate = np.full((c, e), np.nan)
    variance = np.full(c, np.nan)
    ordinary = np.isnan(mean)
    sill = nugget
    for s in range(sills.shape[0]):
        sill += sills[s]
    n_blocks = max(1, min(c, n_blocks))
    n = coords.shape[0]
    for block in nb.prange(n_blocks):
        a = np.empty((k + 1, k + 1))
        x1 = np.empty(k + 1)
        x2 = np.empty(k + 1)
        c0 = np.empty(k)
        row = np.empty(k)
        scratch = np.empty(k)
        missing = np.empty(k, dtype=np.int64)
        pts = np.empty((k, d))
        # Covariances among the previous target's neighbours: consecutive targets (adjacent
        # cells) share most neighbours, so most entries of the new matrix are copied, not
        # recomputed. ``slot[j]`` is sample j's row in that matrix, or -1.
        cov = np.empty((k, k))
        new_cov = np.empty((k, k))
        slot = np.full(n, -1, dtype=np.int64)
        previous = np.empty(k, dtype=np.int64)
        previous_m = 0
        for t in range(block * c // n_blocks, (block + 1) * c // n_blocks):
            m = 0
            while m < k and idx[t, m] >= 0:
                for q in range(d):
                    pts[m, q] = coords[idx[t, m], q]
                m += 1
            if m == 0:
                continue
            tgt = targets[t]
            solved = False
            if bounded:
                # Covariance form: C = sill - gamma, SPD for a valid model and distinct points.
                for i in range(m):
                    h2 = 0.0
                    for q in range(d):
                        diff = pts[i, q] - tgt[q]
                        h2 += diff * diff
                    c0[i] = math.sqrt(h2)
                _covariance_row(c0, scratch, m, nugget, codes, sills, ranges, sill)
                for i in range(m):
                    si = slot[idx[t, i]]
                    count = 0
                    for j in range(i):
                        sj = slot[idx[t, j]]
                        if si >= 0 and sj >= 0:
                            new_cov[i, j] = cov[si, sj]
                        else:
                            h2 = 0.0
                            for q in range(d):
                                diff = pts[i, q] - pts[j, q]
                                h2 += diff * diff
                            row[count] = math.sqrt(h2)
                            missing[count] = j
                            count += 1
                    if count > 0:
                        _covariance_row(row, scratch, count, nugget, codes, sills, ranges, sill)
                        for p in range(count):
                            new_cov[i, missing[p]] = row[p]
                    for j in range(i):
                        new_cov[j, i] = new_cov[i, j]
                        a[i, j] = new_cov[i, j]
                    a[i, i] = sill
                    x1[i] = c0[i]
                    x2[i] = 1.0
                for i in range(previous_m):
                    slot[previous[i]] = -1
                for i in range(m):
                    slot[idx[t, i]] = i
                    previous[i] = idx[t, i]
                previous_m = m
                cov, new_cov = new_cov, cov
                solved = _cholesky(a, m)
            if solved:
                _cholesky_solve(a, m, x1)
                var = sill
                if ordinary:
                    # Lagrange multiplier from the unbiasedness constraint sum(w) = 1.
                    _cholesky_solve(a, m, x2)
                    s1 = 0.0
                    s2 = 0.0
                    for i in range(m):
                        s1 += x1[i]
                        s2 += x2[i]
                    mu = (s1 - 1.0) / s2
                    for i in range(m):
                        x1[i] -= mu * x2[i]
                    var -= mu
                for i in range(m):
                    var -= x1[i] * c0[i]
            elif ordinary:
                var = _solve_semivariance(pts, tgt, m, nugget, codes, sills, ranges, a, x1)
            else:
                continue
            if np.isnan(var):
                continue
            # Only round-off can make the variance negative.
            variance[t] = max(var, 0.0)
            for col in range(e):
                total = 0.0 if ordinary else mean
                for i in range(m):
                    v = values[idx[t, i], col]
                    total += x1[i] * (v if ordinary else v - mean)
                estimate[t, col] = total
    return estimate, variance


@nb.njit(parallel=True, cache=True, error_model="numpy", fastmath=_FAST)
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


@nb.njit(cache=True, error_model="numpy", fastmath=_FAST)
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


@nb.njit(parallel=True, cache=True, error_model="numpy", fastmath=_FAST)
def select_in_tiles(
    tile_start, members, targets, centres, reach, bucket_start, bucket_order, bucket_origin, bucket_size,
    bucket_shape, coords, hole_codes, n_holes, max_per_hole, k, radius,
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
            hi[q] = min(bucket_shape[q] - 1, int(math.floor((centre[q] + r - bucket_origin[q]) / bucket_size)))
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
