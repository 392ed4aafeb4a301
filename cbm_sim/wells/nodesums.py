"""Compiled per-block sums of the interpolated wells' cumulatives at a window's nodes.

:class:`cbm_sim.wells.supply.BlockSupply` interpolates each window's smooth wells from their
cumulatives at the window's Chebyshev nodes, summed per block. In numpy that is
:func:`cbm_sim.wells.decline.cumulative_prepared` on a (nodes × wells) grid (a dozen passes
over it, three libm calls per point) and a ``numpy.bincount`` of the differences to the
window start. :func:`node_sums` does both in one compiled loop over the wells: the same
operations of the vectorised kernel in the same order (its ``log1p`` and ``expm1`` through
``log`` and ``exp``, Kahan's trick), and the same additions of each (node, block) sum in well
order as the bincount, so its sums are the numpy path's bit for bit (tests compare; numba
and numpy call the same libm here, and numba contracts no multiply-add without fastmath).
A well before its decline adds the decline's exact zeros, which are skipped, as
:func:`cbm_sim.wells.bookings.book_days` does.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from numba import njit

from cbm_sim.wells import blocksplit
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
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@njit(inline="always", error_model="numpy")
def _cumulative(  # type: ignore[no-untyped-def]  # numba infers the types
    t,
    t_incline,
    inv_t_incline,
    half_rise,
    q_start,
    any_plateau,
    t_plateau,
    qi,
    tau_star,
    bd,
    k_harm,
    neg_c_over_b,
    neg_cd_expo,
    k_hyp,
    k_exp,
    d_t,
    finite,
):
    """``decline.cumulative_prepared`` of one point, operation by operation (``any_plateau``:
    whether the kernel's call would take its plateau branch)."""
    tp = max(t, 0.0)
    s = min(tp, t_incline)
    out = s * inv_t_incline
    out = out * half_rise
    out = out + q_start
    out = out * s
    tau = tp - t_incline
    if any_plateau:
        out = out + min(max(tau, 0.0), t_plateau) * qi
        tau = tau - t_plateau
    if tau <= 0.0 and out > 0.0 and finite:
        return out  # the decline's terms are exact zeros (bookings._cumulative)
    tau_h = min(max(tau, 0.0), tau_star)
    x = tau_h * bd
    u = x + 1.0  # decline._log1p_fast
    err = ((u - 1.0) - x) / u
    x = math.log(u) - err
    out = out + x * k_harm
    y = x * neg_c_over_b + tau_h * neg_cd_expo
    e = math.exp(y)  # decline._expm1_into
    em1 = e - 1.0
    r = (y / math.log(e)) * em1
    if em1 == 0.0:
        r = y
    if not math.isfinite(em1) or em1 == -1.0:
        r = em1
    out = out - r * k_hyp
    tail = tau - tau_star
    if tail > 0.0:
        out = out + k_exp * -math.expm1(-d_t * tail)
    return out


def node_sums(
    cols: FloatArray,
    online_day: FloatArray,
    block: IntArray,
    wells: IntArray,
    times: FloatArray,
    any_plateau: bool,
    sums: FloatArray,
    n_blocks: int,
) -> None:
    """Add each well's cumulative at ``times[r + 1]`` less that at ``times[0]`` [m³] to
    ``sums[r * n_blocks + block]``, well by well in the order of ``wells`` (:func:`_node_sums`).

    Inside :func:`cbm_sim.wells.blocksplit.split_blocks`, the wells of some blocks are summed
    on a second thread: each (node, block) sum gets the same additions in the same order.
    """
    second = blocksplit.second_side(block[wells], np.full(wells.size, float(times.size)))
    if second is None:
        _node_sums(cols, online_day, block, wells, times, any_plateau, sums, n_blocks)
        return

    def part(k: npt.NDArray[np.bool_]) -> Callable[[], None]:
        return lambda: _node_sums(
            cols, online_day, block, wells[k], times, any_plateau, sums, n_blocks
        )

    blocksplit.run_split(part(~second), part(second))


@njit(cache=True, nogil=True, error_model="numpy")
def _node_sums(
    cols: FloatArray,
    online_day: FloatArray,
    block: IntArray,
    wells: IntArray,
    times: FloatArray,
    any_plateau: bool,
    sums: FloatArray,
    n_blocks: int,
) -> None:
    """Add each well's cumulative at ``times[r + 1]`` less that at ``times[0]`` [m³] to
    ``sums[r * n_blocks + block]``, well by well in the order of ``wells``.

    ``times`` [day since the run's start] are the window start and its nodes; a well's time
    is ``times[r] - online_day``, as the numpy grid computes it. ``cols`` holds the prepared
    constants, one column per well (:data:`cbm_sim.wells.decline.PREPARED_KEYS` rows);
    ``sums`` starts as zeros (a bincount) or as the sums of earlier wells, which this
    continues in order.
    """
    m = times.size - 1
    for j in range(wells.size):
        w = wells[j]
        on = online_day[w]
        b = block[w]
        t_incline, inv_t_incline = cols[T_INCLINE, w], cols[INV_T_INCLINE, w]
        half_rise, q_start = cols[HALF_RISE, w], cols[Q_START, w]
        t_plateau, qi, tau_star = cols[T_PLATEAU, w], cols[QI, w], cols[TAU_STAR, w]
        bd, k_harm, neg_c_over_b = cols[BD, w], cols[K_HARM, w], cols[NEG_C_OVER_B, w]
        neg_cd_expo, k_hyp = cols[NEG_CD_EXPO, w], cols[K_HYP, w]
        k_exp, d_t = cols[K_EXP, w], cols[DT, w]
        finite = (
            math.isfinite(bd)
            and math.isfinite(k_harm)
            and math.isfinite(neg_c_over_b)
            and math.isfinite(neg_cd_expo)
            and math.isfinite(k_hyp)
        )
        c0 = _cumulative(
            times[0] - on,
            t_incline, inv_t_incline, half_rise, q_start, any_plateau, t_plateau, qi,
            tau_star, bd, k_harm, neg_c_over_b, neg_cd_expo, k_hyp, k_exp, d_t, finite,
        )  # fmt: skip
        for r in range(m):
            c = _cumulative(
                times[r + 1] - on,
                t_incline, inv_t_incline, half_rise, q_start, any_plateau, t_plateau, qi,
                tau_star, bd, k_harm, neg_c_over_b, neg_cd_expo, k_hyp, k_exp, d_t, finite,
            )  # fmt: skip
            sums[r * n_blocks + b] += c - c0
