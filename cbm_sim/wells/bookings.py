"""Compiled per-day bookings of a few wells' exact gas, for the engine's per-step corrections.

Every dispatch step, :class:`cbm_sim.wells.supply.BlockSupply` books the gas of the wells hooked
up during the step and the gas lost by the wells that went down for a workover: a few dozen
wells over a few dozen days each. Done with numpy, the ~50 array calls cost far more than
their arithmetic; this module loops over the wells and days in compiled code (numba) with a
scalar form of :func:`cbm_sim.wells.decline.cumulative_prepared`, which the tests check against
the vectorised kernel.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from numba import njit

from cbm_sim.wells import blocksplit
from cbm_sim.wells.decline import PREPARED_KEYS

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# rows of the constants array (decline.PREPARED_KEYS order); module-level ints are
# compile-time constants to numba
(
    T_INCLINE,
    Q_START,
    HALF_RISE,
    INV_T_INCLINE,
    DT,
    TAU_STAR,
    K_HYP,
    K_EXP,
    BD,
    NEG_C_OVER_B,
    K_HARM,
    NEG_CD_EXPO,
    T_PLATEAU,
    QI,
) = (
    PREPARED_KEYS.index(key)
    for key in (
        "t_incline",
        "q_start",
        "half_rise",
        "inv_t_incline",
        "Dt",
        "tau_star",
        "k_hyp",
        "k_exp",
        "bD",
        "neg_c_over_b",
        "k_harm",
        "neg_cD_expo",
        "t_plateau",
        "qi",
    )
)


@njit(inline="always")
def _cumulative(  # type: ignore[no-untyped-def]  # numba infers the types
    t,
    t_incline,
    inv_t_incline,
    half_rise,
    q_start,
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
    """``decline.cumulative_prepared`` of one well at ``t`` days [m³], from its constants.

    The operations of the vectorised kernel, in its order. Before the decline starts
    (incline, plateau) the hyperbola's terms add ``k · 0`` (``log1p(±0) = ±0``,
    ``expm1(±0) = ±0`` exactly, C99 Annex F) to a positive sum, which leaves it unchanged,
    so they are skipped when the well's constants are ``finite`` (else they would give NaN,
    and do); and ``log1p``/``expm1`` of an exact zero are the zero itself. The result is
    the same bit for bit as computing every term (a test compares the two).
    """
    tp = max(t, 0.0)
    s = min(tp, t_incline)
    out = (s * inv_t_incline * half_rise + q_start) * s
    tau = tp - t_incline
    if t_plateau > 0.0:  # the peak rate held, then the decline clock starts
        out += qi * min(max(tau, 0.0), t_plateau)
        tau -= t_plateau
    if tau <= 0.0 and out > 0.0 and finite:
        return out
    tau_h = min(max(tau, 0.0), tau_star)
    y = tau_h * bd
    x = y if y == 0.0 else math.log1p(y)
    out += k_harm * x
    z = x * neg_c_over_b + tau_h * neg_cd_expo
    out -= (z if z == 0.0 else math.expm1(z)) * k_hyp
    tail = tau - tau_star
    if tail > 0.0:
        out -= k_exp * math.expm1(-d_t * tail)
    return float(out)


@njit(inline="always")
def _finite(cols: FloatArray, w: int) -> bool:
    """Whether the hyperbola's constants of well ``w`` are finite (see :func:`_cumulative`)."""
    return (
        math.isfinite(cols[BD, w])
        and math.isfinite(cols[K_HARM, w])
        and math.isfinite(cols[NEG_C_OVER_B, w])
        and math.isfinite(cols[NEG_CD_EXPO, w])
        and math.isfinite(cols[K_HYP, w])
    )


@njit(cache=True, nogil=True)
def cumulative_at(cols: FloatArray, w: int, t: float) -> float:
    """``decline.cumulative_prepared`` for well column ``w`` at ``t`` days [m³]."""
    return float(
        _cumulative(
            t,
            cols[T_INCLINE, w],
            cols[INV_T_INCLINE, w],
            cols[HALF_RISE, w],
            cols[Q_START, w],
            cols[T_PLATEAU, w],
            cols[QI, w],
            cols[TAU_STAR, w],
            cols[BD, w],
            cols[K_HARM, w],
            cols[NEG_C_OVER_B, w],
            cols[NEG_CD_EXPO, w],
            cols[K_HYP, w],
            cols[K_EXP, w],
            cols[DT, w],
            _finite(cols, w),
        )
    )


@njit(inline="always")
def _well(cols: FloatArray, w: int):  # type: ignore[no-untyped-def]  # numba infers the types
    """Well ``w``'s constants in :func:`_cumulative`'s argument order (after ``t``), read
    once into locals before its days (the stores of the day loops would otherwise make the
    compiler read them again every day: 3× the time of the day loop, measured)."""
    return (
        cols[T_INCLINE, w], cols[INV_T_INCLINE, w], cols[HALF_RISE, w], cols[Q_START, w],
        cols[T_PLATEAU, w], cols[QI, w], cols[TAU_STAR, w], cols[BD, w], cols[K_HARM, w],
        cols[NEG_C_OVER_B, w], cols[NEG_CD_EXPO, w], cols[K_HYP, w], cols[K_EXP, w],
        cols[DT, w], _finite(cols, w),
    )  # fmt: skip


@njit(inline="always")
def _cumulative_of(t, k):  # type: ignore[no-untyped-def]  # numba infers the types
    """:func:`_cumulative` at ``t`` of a well's constants ``k`` (:func:`_well`)."""
    return _cumulative(
        t, k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7], k[8], k[9], k[10], k[11], k[12],
        k[13], k[14],
    )  # fmt: skip


def book_days(
    cols: FloatArray,
    online_day: FloatArray,
    block: IntArray,
    wells: IntArray,
    first_day: IntArray,
    n_days: IntArray,
    lo: FloatArray,
    hi: FloatArray,
    sign: FloatArray,
    base_day: int,
    out: FloatArray,
) -> None:
    """Add ``sign[s]`` × the exact gas of well ``wells[s]`` on each day ``first_day[s] …
    first_day[s] + n_days[s] - 1``, counting production inside ``[lo[s], hi[s])`` only, to
    ``out[block, day - base_day]`` [m³].

    ``cols`` holds the prepared constants, one column per well (rows in
    :data:`cbm_sim.wells.decline.PREPARED_KEYS` order), read once per well (:func:`_well`).
    Inside :func:`cbm_sim.wells.blocksplit.split_blocks`, the wells of some blocks are booked
    on a second thread: each row gets the same additions in the same order.
    """
    second = blocksplit.second_side(block[wells], n_days.astype(np.float64))
    if second is None:
        _book_days(cols, online_day, block, wells, first_day, n_days, lo, hi, sign, base_day, out)
        return

    def part(k: npt.NDArray[np.bool_]) -> Callable[[], None]:
        return lambda: _book_days(
            cols, online_day, block, wells[k], first_day[k], n_days[k], lo[k], hi[k], sign[k],
            base_day, out,
        )  # fmt: skip

    blocksplit.run_split(part(~second), part(second))


@njit(cache=True, nogil=True)
def _book_days(
    cols: FloatArray,
    online_day: FloatArray,
    block: IntArray,
    wells: IntArray,
    first_day: IntArray,
    n_days: IntArray,
    lo: FloatArray,
    hi: FloatArray,
    sign: FloatArray,
    base_day: int,
    out: FloatArray,
) -> None:
    """:func:`book_days` of every well given, in their order (compiled, one thread)."""
    for s in range(wells.size):
        w = wells[s]
        row = out[block[w]]
        on = online_day[w]
        d = first_day[s]
        lo_s, hi_s, sign_s = lo[s], hi[s], sign[s]
        k = _well(cols, w)
        prev = _cumulative_of(min(max(float(d), lo_s), hi_s) - on, k)
        for j in range(n_days[s]):
            cur = _cumulative_of(min(max(float(d + j + 1), lo_s), hi_s) - on, k)
            row[d + j - base_day] += sign_s * (cur - prev)
            prev = cur


@njit(cache=True, nogil=True)
def day_volumes(
    cols: FloatArray,
    online_day: FloatArray,
    wells: IntArray,
    first_day: IntArray,
    n_days: IntArray,
) -> FloatArray:
    """The terms :func:`book_days` adds (``lo = -inf``, ``hi = inf``, ``sign = 1``), well by
    well and day by day, in its order: one flat array of ``n_days.sum()`` values [m³], which
    :func:`add_days` adds later (a study worker keeps those of the wells every run shares)."""
    values = np.empty(n_days.sum())
    at = 0
    for s in range(wells.size):
        w = wells[s]
        on = online_day[w]
        d = first_day[s]
        k = _well(cols, w)
        prev = _cumulative_of(min(max(float(d), -np.inf), np.inf) - on, k)
        for j in range(n_days[s]):
            cur = _cumulative_of(min(max(float(d + j + 1), -np.inf), np.inf) - on, k)
            values[at] = 1.0 * (cur - prev)
            at += 1
            prev = cur
    return values


@njit(cache=True, nogil=True)
def add_days(
    rows: IntArray,
    first_day: IntArray,
    n_days: IntArray,
    values: FloatArray,
    base_day: int,
    out: FloatArray,
) -> None:
    """Add the terms of :func:`day_volumes` to ``out[rows[s], day - base_day]`` in its order:
    the same additions, in the same order, as :func:`book_days` of those wells."""
    at = 0
    for s in range(rows.size):
        row = out[rows[s]]
        d = first_day[s]
        for j in range(n_days[s]):
            row[d + j - base_day] += values[at]
            at += 1
