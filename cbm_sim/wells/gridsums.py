"""Compiled per-block volumes of every day of a grid, for
:meth:`cbm_sim.wells.population.WellPopulation.production_by_block`.

In numpy a chunk of wells is :func:`cbm_sim.wells.decline.cumulative_prepared` on the (wells ×
day edges) grid, ``numpy.diff`` along the days and a ``numpy.add.reduceat`` of the rows sorted
by block: three libm calls at each of the 75 M points of 20,595 wells × 3,653 edges (issue 3's
case (b)), though 27 % of the wells are dry (every volume an exact zero) and a new well's
first years are incline and plateau (no libm call needed). :func:`chunk_volumes` does the
first two in one loop over the wells, skipping what adds only zeros, with the vectorised
kernel's operations in its order (:func:`cbm_sim.wells.nodesums._cumulative`), so its volumes
are numpy's bit for bit where numba and numpy call the same libm (tests; up to the sign of a
zero volume, which no block sum shows); the caller sums them per block as before.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit

from cbm_sim.wells.bookings import (
    BD,
    DT,
    HALF_RISE,
    INV_T_INCLINE,
    K_EXP,
    K_HARM,
    K_HYP,
    NEG_C_OVER_B,
    NEG_CD_EXPO,
    Q_START,
    QI,
    T_INCLINE,
    T_PLATEAU,
    TAU_STAR,
    _finite,
)
from cbm_sim.wells.nodesums import _cumulative

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
    for j in range(wells.size):
        w = wells[j]
        on = online_day[w]
        t_incline, inv_t_incline = cols[T_INCLINE, w], cols[INV_T_INCLINE, w]
        half_rise, q_start = cols[HALF_RISE, w], cols[Q_START, w]
        t_plateau, qi, tau_star = cols[T_PLATEAU, w], cols[QI, w], cols[TAU_STAR, w]
        bd, k_harm, neg_c_over_b = cols[BD, w], cols[K_HARM, w], cols[NEG_C_OVER_B, w]
        neg_cd_expo, k_hyp = cols[NEG_CD_EXPO, w], cols[K_HYP, w]
        k_exp, d_t = cols[K_EXP, w], cols[DT, w]
        finite = _finite(cols, w)
        if qi == 0.0 and q_start == 0.0 and finite and math.isfinite(k_exp):
            # a dry well: every term of its cumulative is ±0 (a rate times a finite number)
            for k in range(m):
                vol[j, k] = 0.0
            continue
        c0 = _cumulative(
            edges[0] - on,
            t_incline, inv_t_incline, half_rise, q_start, any_plateau, t_plateau, qi,
            tau_star, bd, k_harm, neg_c_over_b, neg_cd_expo, k_hyp, k_exp, d_t, finite,
        )  # fmt: skip
        for k in range(m):
            c = _cumulative(
                edges[k + 1] - on,
                t_incline, inv_t_incline, half_rise, q_start, any_plateau, t_plateau, qi,
                tau_star, bd, k_harm, neg_c_over_b, neg_cd_expo, k_hyp, k_exp, d_t, finite,
            )  # fmt: skip
            vol[j, k] = c - c0
            c0 = c
