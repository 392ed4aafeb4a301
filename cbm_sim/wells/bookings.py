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

import numpy as np
import numpy.typing as npt
from numba import njit

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


@njit(cache=True, nogil=True)
def cumulative_at(cols: FloatArray, w: int, t: float) -> float:
    """``decline.cumulative_prepared`` for well column ``w`` at ``t`` days [m³]."""
    tp = max(t, 0.0)
    s = min(tp, cols[T_INCLINE, w])
    out = (s * cols[INV_T_INCLINE, w] * cols[HALF_RISE, w] + cols[Q_START, w]) * s
    tau = tp - cols[T_INCLINE, w]
    plateau = cols[T_PLATEAU, w]
    if plateau > 0.0:  # the peak rate held, then the decline clock starts
        out += cols[QI, w] * min(max(tau, 0.0), plateau)
        tau -= plateau
    tau_h = min(max(tau, 0.0), cols[TAU_STAR, w])
    x = math.log1p(tau_h * cols[BD, w])
    out += cols[K_HARM, w] * x
    out -= math.expm1(x * cols[NEG_C_OVER_B, w] + tau_h * cols[NEG_CD_EXPO, w]) * cols[K_HYP, w]
    tail = tau - cols[TAU_STAR, w]
    if tail > 0.0:
        out -= cols[K_EXP, w] * math.expm1(-cols[DT, w] * tail)
    return float(out)


@njit(cache=True, nogil=True)
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
    :data:`cbm_sim.wells.decline.PREPARED_KEYS` order).
    """
    for s in range(wells.size):
        w = wells[s]
        b = block[w]
        on = online_day[w]
        d = first_day[s]
        prev = cumulative_at(cols, w, min(max(float(d), lo[s]), hi[s]) - on)
        for k in range(n_days[s]):
            cur = cumulative_at(cols, w, min(max(float(d + k + 1), lo[s]), hi[s]) - on)
            out[b, d + k - base_day] += sign[s] * (cur - prev)
            prev = cur
