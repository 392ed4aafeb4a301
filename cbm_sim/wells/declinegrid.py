"""Rate and cumulative of wells × times in one compiled pass, for :func:`decline.rate` and
:func:`decline.cumulative` on their usual grid (parameters ``(n, 1)``, times ``(m,)``).

The numpy kernels of :mod:`cbm_sim.wells.decline` (``_rate_block``, ``_cum_block``) make
a dozen passes over each cache-sized block. Here each well's constants are read once and its
times run through the whole formula in registers, in an inner loop without calls or branches
(``exp`` and ``log`` are :mod:`cbm_sim.wells.vecmath`'s, inlined), which LLVM vectorises (4
points at a time with AVX2). The operations are the numpy kernels', in their order, with the
same grid-wide choices (the ramp, the incline form, the plateau); two differ by design:

- the terminal segment is added where a point is past its switch time, not in every point
  of a block that holds one (elsewhere the numpy kernels add an exact zero: only the sign of
  a zero rate exponent moves, which ``exp`` ignores, or of a zero cumulative);
- ``exp``/``log`` are :mod:`cbm_sim.wells.vecmath`'s (within 1 ulp of the C library's).

So the results agree with the numpy kernels to ~1e-15 relative (``tests/test_decline.py``:
1e-13 on random wells of the full parameter bounds), not bit for bit. The engine never calls
these (it uses :func:`cbm_sim.wells.decline.cumulative_prepared` and the numpy kernels).
Wells whose constants are not all finite (parameters at the edge of their bounds) are left to
the numpy kernels by the caller.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import numpy.typing as npt
from numba import njit, types

from cbm_sim.wells.vecmath import _exp, _log

FloatArray = npt.NDArray[np.float64]

_ROW = types.float64[::1]
_CONTRACT = {"contract"}
"""Multiply-adds fused (FMA): shorter chains in the polynomials, each product rounded once
less (no other fast-math liberty: NaN, inf and signed zeros keep their IEEE rules)."""
_OUT = types.float64[:, ::1]


@njit(inline="always")
def _maximum(a, b):  # type: ignore[no-untyped-def]  # numba infers the types
    """``numpy.maximum(a, b)``: NaN if either is, ``b`` when they compare equal (±0)."""
    return a if (a > b or a != a) else b


@njit(inline="always")
def _minimum(a, b):  # type: ignore[no-untyped-def]
    """``numpy.minimum(a, b)``: NaN if either is, ``b`` when they compare equal (±0)."""
    return a if (a < b or a != a) else b


@njit(inline="always", error_model="numpy")
def _log1p(x):  # type: ignore[no-untyped-def]
    """``decline._log1p_into`` of one point: ``log(1 + x)·x/((1 + x) - 1)``, ``x`` where
    ``1 + x`` rounds to 1."""
    u = x + 1.0
    out = _log(u) * x
    u = u - 1.0
    out = out / u
    return x if u == 0.0 else out


@njit(inline="always", error_model="numpy")
def _expm1(y):  # type: ignore[no-untyped-def]
    """``decline._expm1_into`` of one point: ``y/log(e^y)·(e^y - 1)``; ``y`` where ``e^y``
    rounds to 1, ``e^y - 1`` where that is not finite or is -1."""
    e = _exp(y)
    out = y / _log(e)
    e = e - 1.0
    out = out * e
    out = y if e == 0.0 else out
    return e if (not abs(e) < math.inf or e == -1.0) else out


@njit(
    types.void(_ROW, *(_ROW,) * 10, types.boolean, types.int64, types.int64, _OUT),
    cache=True,
    nogil=True,
    error_model="numpy",
    fastmath=_CONTRACT,
)
def rate_rows(  # type: ignore[no-untyped-def]
    t,
    t_incline,
    t_plateau,
    tau_star,
    bd,
    b_safe,
    d_t,
    qi,
    q_start,
    rise,
    t_div,
    ramp,
    first,
    last,
    out,
):
    """Rates [m³/d] of wells ``[first, last)`` at times ``t`` [day] into ``out[well, time]``:
    ``decline._rate_block``'s operations (its operands, one value per well; ``ramp``: some
    point of the grid is on its incline, else ``q_start``, ``rise``, ``t_div`` unread)."""
    for r in range(first, last):
        ti, tp, ts, b_d, bs = t_incline[r], t_plateau[r], tau_star[r], bd[r], b_safe[r]
        dt, q_i, qs, rs, tdiv = d_t[r], qi[r], q_start[r], rise[r], t_div[r]
        row = out[r]
        for c in range(t.size):
            tt = t[c]
            tau = (tt - ti) - tp
            q = _log1p(_maximum(_minimum(tau, ts), 0.0) * b_d) / bs
            q = q + _maximum(tau - ts, 0.0) * dt if tau > ts else q
            q = _exp(-q) * q_i
            if ramp:
                q = qs + rs * (tt / tdiv) if tt < ti else q
                q = 0.0 if tt < 0.0 else q
            row[c] = q


@njit(inline="always", error_model="numpy", fastmath=_CONTRACT)
def _cum_row(  # type: ignore[no-untyped-def]
    t, row, ti, ts, b_d, ncb, nkh, ndt, nke, tp, q_i, inc, tdiv, hr, qs, plateau, known, tail
):
    """One well's cumulatives at times ``t`` into ``row`` (:func:`cum_rows`; ``tail``: some
    point may be past the switch time, else the terminal segment is not computed)."""
    for c in range(t.size):
        tau = _maximum(t[c], 0.0)
        if known:
            res = inc
        else:
            s = _minimum(tau, ti)
            res = s * ((s / tdiv) * hr + qs)
        tau = tau - ti
        if plateau:
            res = res + _minimum(_maximum(tau, 0.0), tp) * q_i
            tau = tau - tp
        x = _log1p(_maximum(_minimum(tau, ts), 0.0) * b_d) * ncb
        res = res + _expm1(x) * nkh
        if tail:
            late = _expm1(_maximum(tau - ts, 0.0) * ndt) * nke
            res = res + late if tau > ts else res
        row[c] = res


@njit(
    types.void(
        _ROW,
        types.float64,
        *(_ROW,) * 13,
        types.boolean,
        types.boolean,
        types.int64,
        types.int64,
        _OUT,
    ),
    cache=True,
    nogil=True,
    error_model="numpy",
    fastmath=_CONTRACT,
)
def cum_rows(  # type: ignore[no-untyped-def]
    t,
    t_max,
    t_incline,
    tau_star,
    bd,
    neg_c_over_b,
    neg_k_hyp,
    neg_d_t,
    neg_k_exp,
    t_plateau,
    qi,
    incline,
    t_div,
    half_rise,
    q_start,
    plateau,
    incline_known,
    first,
    last,
    out,
):
    """Cumulatives [m³] of wells ``[first, last)`` at times ``t`` [day] (the largest
    ``t_max``) into ``out[well, time]``: ``decline._cum_block``'s operations (its operands,
    one value per well; ``plateau``: some well has one, else ``t_plateau`` and ``qi``
    unread; ``incline_known``: every point is past its incline, whose volume is ``incline``,
    else ``t_div``, ``half_rise`` and ``q_start`` give it)."""
    for r in range(first, last):
        ti, ts, b_d, ncb, nkh = t_incline[r], tau_star[r], bd[r], neg_c_over_b[r], neg_k_hyp[r]
        ndt, nke, tp, q_i, inc = neg_d_t[r], neg_k_exp[r], t_plateau[r], qi[r], incline[r]
        tdiv, hr, qs = t_div[r], half_rise[r], q_start[r]
        # the well's latest decline time, by the same operations: no point passes its
        # switch time unless this does
        tau_max = _maximum(t_max, 0.0) - ti
        if plateau:
            tau_max = tau_max - tp
        row = out[r]
        if tau_max > ts:
            _cum_row(
                t, row, ti, ts, b_d, ncb, nkh, ndt, nke, tp, q_i, inc, tdiv, hr, qs,
                plateau, incline_known, True,
            )  # fmt: skip
        else:
            _cum_row(
                t, row, ti, ts, b_d, ncb, nkh, ndt, nke, tp, q_i, inc, tdiv, hr, qs,
                plateau, incline_known, False,
            )  # fmt: skip


_THREAD_POINTS = 1 << 17
"""Grids from this many points on are shared among the threads (smaller ones: one)."""


def _per_well(
    shape: tuple[int, ...], t: FloatArray, consts: tuple[FloatArray, ...], switch: int
) -> tuple[FloatArray, tuple[FloatArray, ...]] | None:
    """The times of a grid of ``shape`` as one row and its wells' constants as one value
    per well, if the grid is wells × times (each constant constant along the last axis, the
    times along the others) and every constant is finite but ``consts[switch]``, the switch
    time, which may be inf (no terminal decline); else None."""
    if not 1 <= len(shape) <= 2 or t.ndim > 2 or (t.ndim == 2 and t.shape[0] != 1):
        return None
    if any(a.ndim > 2 or (a.ndim and a.shape[-1] != 1) for a in consts):
        return None
    wells = shape[0] if len(shape) == 2 else 1
    per_well = tuple(np.array(np.broadcast_to(a.reshape(a.shape[:-1]), (wells,))) for a in consts)
    finite = (np.isfinite(a).all() for i, a in enumerate(per_well) if i != switch)
    if not (all(finite) and (per_well[switch] >= 0.0).all()):
        return None  # the numpy kernels' NaN and inf rules, block by block
    return np.array(np.broadcast_to(t.reshape(-1), (shape[-1],))), per_well


def _run(
    kernel: Callable[..., None],
    shape: tuple[int, ...],
    times: tuple[FloatArray | float, ...],
    consts: tuple[FloatArray, ...],
    flags: tuple[bool, ...],
    threads: int,
) -> FloatArray:
    """``kernel`` on a grid of ``shape`` (wells × times), its wells shared among ``threads``
    threads (the kernels release the GIL)."""
    out = np.empty(shape)
    grid = out.reshape(-1, shape[-1])
    n = grid.shape[0]
    if threads > 1 and out.size >= _THREAD_POINTS and n >= threads:
        cuts = [n * i // threads for i in range(threads + 1)]
        with ThreadPoolExecutor(max_workers=threads) as pool:
            jobs = [
                pool.submit(kernel, *times, *consts, *flags, lo, hi, grid)
                for lo, hi in itertools.pairwise(cuts)
            ]
            for job in jobs:
                job.result()
    else:
        kernel(*times, *consts, *flags, 0, n, grid)
    return out


def rate(
    shape: tuple[int, ...],
    t: FloatArray,
    consts: tuple[FloatArray, ...],
    ramp: bool,
    threads: int,
) -> FloatArray | None:
    """Rates [m³/d] on a grid of ``shape`` by :func:`rate_rows`, or None if the grid is
    not wells × times with finite constants (:func:`_per_well`).

    ``t`` [day] and ``consts`` are ``decline._rate_block``'s operands (``t_incline``,
    ``t_plateau``, ``tau_star``, ``bD``, ``b_safe``, ``Dt``, ``qi``, then, if ``ramp``,
    ``q_start``, ``qi - q_start`` and the incline as divisor).
    """
    rows = _per_well(shape, t, consts, 2)
    if rows is None:
        return None
    times, per_well = rows
    unused = np.zeros(per_well[0].shape)
    ramps = per_well[7:] if ramp else (unused,) * 3
    return _run(rate_rows, shape, (times,), (*per_well[:7], *ramps), (ramp,), threads)


def cumulative(
    shape: tuple[int, ...],
    t: FloatArray,
    consts: tuple[FloatArray, ...],
    plateau: bool,
    threads: int,
) -> FloatArray | None:
    """Cumulatives [m³] on a grid of ``shape`` by :func:`cum_rows`, or None if the grid is
    not wells × times with finite constants (:func:`_per_well`).

    ``t`` [day] and ``consts`` are ``decline._cum_block``'s operands (``t_incline``,
    ``tau_star``, ``bD``, ``-c/b``, ``-k_hyp``, ``-Dt``, ``-k_exp``, then ``t_plateau`` and
    ``qi`` if ``plateau``, then the incline volume, or the incline as divisor, half the rise
    and ``q_start``).
    """
    rows = _per_well(shape, t, consts, 1)
    if rows is None:
        return None
    times, per_well = rows
    unused = np.zeros(per_well[0].shape)
    known = len(per_well) - 7 - 2 * plateau == 1
    operands = (
        *per_well[:7],
        *(per_well[7:9] if plateau else (unused, unused)),
        *((per_well[-1], unused, unused, unused) if known else (unused, *per_well[-3:])),
    )
    flags = (plateau, known)
    return _run(cum_rows, shape, (times, float(np.max(times))), operands, flags, threads)
