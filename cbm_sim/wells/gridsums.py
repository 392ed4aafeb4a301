"""Compiled per-block volumes of every day of a grid, for
:meth:`cbm_sim.wells.population.WellPopulation.production_by_block`.

In numpy a chunk of wells is :func:`cbm_sim.wells.decline.cumulative_prepared` on the (wells ×
day edges) grid, ``numpy.diff`` along the days and a ``numpy.add.reduceat`` of the rows sorted
by block: three libm calls at each of the 75 M points of 20,595 wells × 3,653 edges (issue 3's
case (b)), though 27 % of the wells are dry (every volume an exact zero) and a new well's
first years are incline and plateau (no libm call needed). :func:`chunk_volumes` does the
first two well by well, skipping what adds only zeros, with the vectorised kernel's
operations in its order (those of :func:`cbm_sim.wells.nodesums._cumulative`), so its volumes
are numpy's bit for bit where numba and numpy call the same libm (tests; up to the sign of a
zero volume, which no block sum shows); the caller sums them per block as before. A well's
points in decline go through the three libm calls in stages, each a loop of independent calls
(as numpy's passes, which the CPU overlaps), not one point's dependent chain after another's:
measured 1.3 → 0.9 CPU-s on issue 3's case (b).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit

from cbm_sim.wells.bookings import _well

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@njit(cache=True, nogil=True, error_model="numpy")
def chunk_volumes(
    cols: FloatArray,
    online_day: FloatArray,
    wells: IntArray,
    edges: FloatArray,
    any_plateau: bool,
    vol: FloatArray,
) -> None:
    """Write the volume of well ``wells[j]`` over ``[edges[k], edges[k + 1])`` [m³] to
    ``vol[j, k]``: the differences of :func:`cbm_sim.wells.decline.cumulative_prepared` at the
    edges, as ``numpy.diff`` of the numpy grid's, bit for bit (module docstring).

    ``cols`` holds the prepared constants, one column per well
    (:data:`cbm_sim.wells.decline.PREPARED_KEYS` rows), ``online_day`` its online days [day];
    a well's time at an edge is ``edges[k] - online_day``, as the numpy grid computes it.
    ``any_plateau``: whether the numpy kernel's call on these wells takes its plateau branch.
    """
    m = edges.size - 1
    c = np.empty(m + 1)  # the well's cumulatives at the edges
    # the points in decline, in stages: their edge, τ, τ_h, x = bDτ_h, 1 + x, then libm's
    # log(1 + x), y, e^y and log(e^y), each stage one loop of independent calls
    at = np.empty(m + 1, dtype=np.int64)
    tau_b, tau_h_b, x_b, u_b = np.empty(m + 1), np.empty(m + 1), np.empty(m + 1), np.empty(m + 1)
    log_b, y_b, e_b = np.empty(m + 1), np.empty(m + 1), np.empty(m + 1)
    for j in range(wells.size):
        w = wells[j]
        on = online_day[w]
        (t_incline, inv_t_incline, half_rise, q_start, t_plateau, qi, tau_star, bd, k_harm,
         neg_c_over_b, neg_cd_expo, k_hyp, k_exp, d_t, finite) = _well(cols, w)  # fmt: skip
        if qi == 0.0 and q_start == 0.0 and finite and math.isfinite(k_exp):
            # a dry well: every term of its cumulative is ±0 (a rate times a finite number)
            for k in range(m):
                vol[j, k] = 0.0
            continue
        n = 0
        for k in range(m + 1):
            tp = max(edges[k] - on, 0.0)
            s = min(tp, t_incline)
            out = s * inv_t_incline
            out = out * half_rise
            out = out + q_start
            out = out * s
            tau = tp - t_incline
            if any_plateau:
                out = out + min(max(tau, 0.0), t_plateau) * qi
                tau = tau - t_plateau
            c[k] = out
            if tau <= 0.0 and out > 0.0 and finite:
                continue  # the decline's terms are exact zeros (bookings._cumulative)
            tau_h = min(max(tau, 0.0), tau_star)
            x = tau_h * bd
            at[n], tau_b[n], tau_h_b[n], x_b[n], u_b[n] = k, tau, tau_h, x, x + 1.0
            n += 1
        for i in range(n):
            log_b[i] = math.log(u_b[i])
        for i in range(n):
            u, x = u_b[i], x_b[i]
            err = ((u - 1.0) - x) / u  # decline._log1p_fast
            x = log_b[i] - err
            c[at[i]] = c[at[i]] + x * k_harm
            y_b[i] = x * neg_c_over_b + tau_h_b[i] * neg_cd_expo
        for i in range(n):
            e_b[i] = math.exp(y_b[i])
        for i in range(n):
            log_b[i] = math.log(e_b[i])
        for i in range(n):
            y, e = y_b[i], e_b[i]  # decline._expm1_into
            em1 = e - 1.0
            r = (y / log_b[i]) * em1
            if em1 == 0.0:
                r = y
            if not math.isfinite(em1) or em1 == -1.0:
                r = em1
            out = c[at[i]] - r * k_hyp
            tail = tau_b[i] - tau_star
            if tail > 0.0:
                out = out + k_exp * -math.expm1(-d_t * tail)
            c[at[i]] = out
        for k in range(m):
            vol[j, k] = c[k + 1] - c[k]
