r"""Closed-form CBM well decline: linear incline to a peak, optional plateau, then modified
hyperbolic (pure numpy).

A coalbed-methane well first produces water: while the coal is dewatered and desorbs, its
gas rate *rises* (the incline or dewatering period) to a peak, then declines. The model is

.. math::

    q(t) = \begin{cases}
        0 & t < 0 \\
        q_s + (q_i - q_s)\,t / t_p & 0 \le t < t_p \\
        q_i & t_p \le t < t_p + t_h \\
        q_i\,(1 + b D \tau)^{-1/b} & 0 \le \tau \le \tau^* \\
        q^*\,e^{-D_t (\tau - \tau^*)} & \tau > \tau^*
    \end{cases}
    \qquad \tau = t - t_p - t_h,

with :math:`D = d_i/365.25` and :math:`D_t = d_{term}/365.25` the nominal declines per day,
and :math:`t_h \ge 0` (``t_plateau``, default 0) an optional plateau at the peak rate between
the incline and the decline (a well held at a constant rate, e.g. by its choke or its
gathering line, before its pressure lets the rate fall). The plateau only shifts the decline
clock: every decline formula below takes :math:`\tau = t - t_p - t_h`, and the plateau adds
:math:`q_i \min(\max(t - t_p, 0), t_h)` to the cumulative. With :math:`t_h = 0` every
kernel skips or adds exact zeros, so the results are bit-identical to a model without it.
The Arps hyperbola (Arps 1945, *Analysis of Decline Curves*, Trans. AIME 160, 228–247) with
:math:`b = 0` is the exponential :math:`q_i e^{-D\tau}` and with :math:`b = 1` the harmonic.
Its instantaneous decline :math:`D(\tau) = D / (1 + bD\tau)` falls with time; the *modified
hyperbolic* (Robertson 1988, *Generalized Hyperbolic Equation*, SPE-18731-MS) switches to an
exponential at the terminal decline when :math:`D(\tau)` reaches :math:`D_t`:

.. math::

    \tau^* = \frac{D/D_t - 1}{b D}, \qquad q^* = q(\tau^*).

If :math:`D_t \ge D` the well declines exponentially at :math:`D_t` from the peak
(:math:`\tau^* = 0`); if :math:`D_t = 0` (or :math:`b = 0 < D_t < D`) there is no switch.
The same segment logic is used by the petbox-dca ``MH`` model (D. S. Fulford, petbox-dca
documentation, "Primary phase models"), against which the tests cross-check.

Cumulative volumes are closed form. With :math:`w(\tau) = \ln(1 + bD\tau)/b` (so that
:math:`q = q_i e^{-w}`) the hyperbolic cumulative is

.. math::

    N_p(\tau) = \frac{q_i}{(1-b) D}\left(1 - e^{-(1-b) w}\right),

which is :math:`q_i (1 - e^{-D\tau})/D` at :math:`b = 0` and :math:`q_i \ln(1 + D\tau)/D` at
:math:`b = 1`. Numerical stability: ``log1p``/``expm1`` keep these exact for small arguments;
the two removable singularities (:math:`b = 0` in :math:`w` and :math:`b = 1` in
:math:`N_p`) are handled by a branch that moves :math:`b` (resp. :math:`1-b`) off zero by
``_TINY = 1e-150``, where ``log1p(x)/x`` and ``expm1(x)/x`` equal 1 to machine precision, so
the result is the analytic limit to machine precision (continuous in :math:`b`). Infinities
are avoided by clipping :math:`\tau` at the switch time before evaluating the hyperbola.

Public functions validate their inputs against :mod:`cbm_sim.bounds` and convert to float64;
the ``_kernel`` functions compute and assume valid float64 inputs. Everything broadcasts with
numpy rules: parameters shaped ``(n, 1)`` against times shaped ``(m,)`` give ``(n, m)``.

Speed: :func:`rate` and :func:`cumulative` evaluate grids of 2²⁰ points or more with the
vectorised ``exp`` and ``log`` of :mod:`cbm_sim.wells.vecmath` (within 1 ulp of numpy's),
wells × times grids in one compiled pass (:mod:`cbm_sim.wells.declinegrid`), so there they
agree with the numpy kernels to ~1e-15 relative (tests: 2e-13), not bit for bit. Everything
the engine evaluates (:func:`cumulative_prepared`, :func:`eur`, the internal kernels) stays on
the numpy kernels, bit for bit as before.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import numpy.typing as npt

from cbm_sim import bounds
from cbm_sim.units import DAYS_PER_YEAR

ArrayLike = npt.ArrayLike
FloatArray = npt.NDArray[np.float64]

_TINY = 1e-150
"""Offset that moves b (or 1 - b) off the removable singularity; see the module docstring."""

_BLOCK_POINTS = 1 << 16
"""Points per block of the grid kernels (:func:`_blockwise`): their five work arrays, 512 kB
each, stay in the L3 cache (32 MB on the 2-core host of 2026-12). Measured on (10⁵ wells ×
120 months) and (20,595 wells × 3,653 days) grids: 16k-point blocks (L2-sized) were slower,
since each block costs ~60 µs of Python calls there; 128k no faster."""

_THREADS = 2
"""Threads for :func:`rate` and :func:`cumulative` on grids of several blocks (2 cores); the
internal kernels run on one (their callers, e.g. gridded production, run them in threads)."""

_Libm = tuple[Callable[[FloatArray, FloatArray], FloatArray], ...]
"""``exp`` and ``log``, each called as ``f(x, out)``."""

_NUMPY_LIBM: _Libm = (np.exp, np.log)
"""numpy's ``exp`` and ``log``: every kernel's by default (the engine's numbers)."""

_FAST_POINTS = 1 << 20
"""Grids of :func:`rate` and :func:`cumulative` from this many points on take the compiled
code of :mod:`cbm_sim.wells.declinegrid` and :mod:`cbm_sim.wells.vecmath` (within ~1e-15 of
numpy's kernels; about 2x faster). Smaller grids stay numpy's bit for bit: loading the cached
compiled code costs 0.05 s once in a process that has numba loaded, 0.5 s in one that has not
(measured), the numpy kernels' time on ~10⁶ to 10⁷ points."""


def _libm(size: int) -> _Libm:
    """The ``exp`` and ``log`` of a public function's grid of ``size`` points."""
    if size < _FAST_POINTS:
        return _NUMPY_LIBM
    from cbm_sim.wells import vecmath

    return (vecmath.exp, vecmath.log)


PARAMS: tuple[str, ...] = ("qi", "di", "b", "d_term", "t_incline", "q_start", "t_plateau")
"""The decline parameters, in the order of :func:`prepare_unchecked`'s arguments."""


def _validated(**values: ArrayLike) -> dict[str, FloatArray]:
    return {name: bounds.check(name, value) for name, value in values.items()}


def _validated_params(*values: ArrayLike) -> dict[str, FloatArray]:
    """The decline parameters, given in :data:`PARAMS` order, checked against their bounds."""
    return _validated(**dict(zip(PARAMS, values, strict=True)))


_Params = tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]
"""The decline parameters in :data:`PARAMS` order."""


def _ordered(p: dict[str, FloatArray]) -> _Params:
    """The parameters of :func:`_validated_params` as a tuple in :data:`PARAMS` order."""
    qi, di, b, d_term, t_incline, q_start, t_plateau = (p[name] for name in PARAMS)
    return qi, di, b, d_term, t_incline, q_start, t_plateau


def _segments(
    qi: FloatArray,
    di: FloatArray,
    b: FloatArray,
    d_term: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Per-well constants: D, Dt (per day), safe b, safe (1-b), switch time τ*, rate q*."""
    D = di / DAYS_PER_YEAR
    Dt = d_term / DAYS_PER_YEAR
    b_safe = np.maximum(b, _TINY)
    one_minus_b = 1.0 - b
    c_safe = np.where(np.abs(one_minus_b) < _TINY, _TINY, one_minus_b)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        tau_star = np.where(
            Dt >= D,
            0.0,
            np.where(Dt > 0.0, (D / np.where(Dt > 0.0, Dt, 1.0) - 1.0) / (b_safe * D), np.inf),
        )
    # q at the switch, from w(τ*) = ln(D/Dt)/b exactly (no overflow for huge τ*).
    w_star = _w(tau_star, D, b_safe)
    q_star = qi * np.exp(-w_star)
    return D, Dt, b_safe, c_safe, tau_star, q_star


def _w(tau: FloatArray, D: FloatArray, b_safe: FloatArray) -> FloatArray:
    """w(τ) = ln(1 + bDτ)/b, with q = qi·exp(-w); finite for finite τ, inf for τ = inf."""
    with np.errstate(over="ignore", invalid="ignore"):
        return np.log1p(b_safe * D * tau) / b_safe


def _blocks(shape: tuple[int, ...], size: int) -> Iterator[tuple[slice, ...]]:
    """Index tuples cutting the leading axes of ``shape`` into blocks of about ``size`` points.

    Rows are grouped while a row holds fewer than ``size`` points; a longer row is cut along
    its own leading axis, recursively. Each block is contiguous in a C-ordered array.
    """
    if not shape:
        yield ()
        return
    row = math.prod(shape[1:])
    if len(shape) > 1 and row > size:
        for i in range(shape[0]):
            for rest in _blocks(shape[1:], size):
                yield (slice(i, i + 1), *rest)
        return
    step = max(1, size // max(row, 1))
    for i in range(0, shape[0], step):
        yield (slice(i, i + step),)


def _part(a: FloatArray, idx: tuple[slice, ...], ndim: int) -> FloatArray:
    """The part of ``a`` (broadcast against a shape of ``ndim`` axes) read by block ``idx``."""
    lead = ndim - a.ndim
    return a[
        tuple(
            idx[j + lead] if j + lead < len(idx) and a.shape[j] != 1 else slice(None)
            for j in range(a.ndim)
        )
    ]


def _blockwise(
    block: Callable[..., None],
    out: FloatArray,
    arrays: tuple[FloatArray, ...],
    threads: int = 1,
    **flags: Any,
) -> FloatArray:
    """``block(*arrays_part, out=out_part, **flags)`` over cache-sized blocks of ``out``, on
    ``threads`` threads (numpy's ufuncs release the GIL; each thread has its own scratch).

    Every kernel is elementwise, so a block's points get the same operations, in the same
    order, as on the whole grid: the result is bit for bit that of one block (tests). What
    is saved is memory traffic: the work arrays of a block stay in the cache, where whole-grid
    temporaries (~100 MB each for 10⁵ wells × 120 months) stream through memory on every pass
    and fault in fresh pages.
    """
    if out.size <= 2 * _BLOCK_POINTS:
        block(*arrays, out=out, **flags)
        return out

    def run(idx: tuple[slice, ...]) -> None:
        block(*(_part(a, idx, out.ndim) for a in arrays), out=out[idx], **flags)

    blocks = list(_blocks(out.shape, _BLOCK_POINTS))
    if threads > 1 and len(blocks) >= 2 * threads:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(run, blocks))
    else:
        for idx in blocks:
            run(idx)
    return out


def _rate_kernel(
    t: FloatArray,
    qi: FloatArray,
    di: FloatArray,
    b: FloatArray,
    d_term: FloatArray,
    t_incline: FloatArray,
    q_start: FloatArray,
    t_plateau: FloatArray,
) -> FloatArray:
    return _rate_grid(t, (qi, di, b, d_term, t_incline, q_start, t_plateau), 1)


def _rate_grid(t: FloatArray, p: _Params, threads: int, libm: _Libm = _NUMPY_LIBM) -> FloatArray:
    qi, di, b, d_term, t_incline, q_start, t_plateau = p
    D, Dt, b_safe, _, tau_star, _ = _segments(qi, di, b, d_term)
    params = (t, qi, di, b, d_term, t_incline, q_start, t_plateau)
    shape = np.broadcast_shapes(*(a.shape for a in params))
    # the ramp only if some point is on an incline (never, past every well's peak)
    ramp = not (t.size and float(np.min(t)) >= float(np.max(t_incline)))
    arrays: tuple[FloatArray, ...] = (t, t_incline, t_plateau, tau_star, b_safe * D, b_safe, Dt, qi)
    if ramp:
        arrays += (q_start, qi - q_start, np.where(t_incline > 0.0, t_incline, 1.0))
    if libm is not _NUMPY_LIBM:
        from cbm_sim.wells import declinegrid

        fused = declinegrid.rate(shape, t, arrays[1:], ramp, threads)
        if fused is not None:
            return fused
    return _blockwise(_rate_block, np.empty(shape), arrays, threads, libm=libm)


def _rate_block(
    t: FloatArray,
    t_incline: FloatArray,
    t_plateau: FloatArray,
    tau_star: FloatArray,
    bD: FloatArray,
    b_safe: FloatArray,
    Dt: FloatArray,
    qi: FloatArray,
    *ramp: FloatArray,
    out: FloatArray,
    libm: _Libm = _NUMPY_LIBM,
) -> None:
    """:func:`_rate_kernel` on one block, into ``out``; ``ramp``: ``q_start``, ``qi -
    q_start`` and the incline as divisor, if some point may be on an incline; ``libm``:
    the ``exp`` and ``log`` to use."""
    q = out
    tau, x, work = _scratch(q.shape, 3)
    np.subtract(t, t_incline, out=tau)
    # the decline clock starts after the plateau; on the plateau τ < 0 clips to the peak rate
    tau -= t_plateau
    np.minimum(tau, tau_star, out=x)
    np.maximum(x, 0.0, out=x)
    x *= bD
    _log1p_into(x, q, work, libm[1])
    q /= b_safe  # w(τ_h)
    if np.any(tau > tau_star):
        np.subtract(tau, tau_star, out=work)
        np.maximum(work, 0.0, out=work)
        work *= Dt
        q += work
    np.negative(q, out=q)
    libm[0](q, q)
    q *= qi
    if ramp:
        q_start, rise, t_div = ramp
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            line = q_start + rise * (t / t_div)
        np.copyto(q, np.broadcast_to(line, q.shape), where=np.broadcast_to(t < t_incline, q.shape))
        np.copyto(q, 0.0, where=np.broadcast_to(t < 0.0, q.shape))


def _log1p_into(
    x: FloatArray,
    out: FloatArray,
    work: FloatArray,
    log: Callable[[FloatArray, FloatArray], FloatArray] = np.log,
) -> FloatArray:
    """``out = log1p(x)`` to a few ulps using the SIMD ``log`` (Goldberg 1991, Kahan's trick).

    :math:`\\ln(1+x) = \\ln(u)\\,x/(u-1)` with :math:`u = 1 \\oplus x` cancels the rounding
    of :math:`u`; where :math:`u = 1` the answer is :math:`x`. ``np.log1p`` is a scalar libm
    call about 4× slower than ``np.log`` here, which matters for 10⁸-element grids.
    """
    np.add(x, 1.0, out=work)
    log(work, out)
    with np.errstate(divide="ignore", invalid="ignore"):
        out *= x
        work -= 1.0
        out /= work
    np.copyto(out, x, where=work == 0.0)
    return out


def _expm1_into(
    y: FloatArray, out: FloatArray, work: FloatArray, libm: _Libm = _NUMPY_LIBM
) -> FloatArray:
    """``out = expm1(y)`` to a few ulps via ``exp`` and ``log`` (Kahan's trick, see above;
    ``libm``: the ``exp`` and ``log`` to use)."""
    libm[0](y, work)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        libm[1](work, out)
        np.divide(y, out, out=out)
        work -= 1.0
        out *= work
    np.copyto(out, y, where=work == 0.0)
    # exp overflowed (y > ~709): expm1 is inf as well; exp underflowed (e^y - 1 rounds to -1
    # below y ≈ -37): expm1 = -1. Two reductions tell that no point is there (a NaN fails it).
    if not (y.size and float(np.min(y)) > -30.0 and float(np.max(y)) < 700.0):
        np.copyto(out, work, where=~np.isfinite(work) | (work == -1.0))
    return out


def _cum_kernel(
    t: FloatArray,
    qi: FloatArray,
    di: FloatArray,
    b: FloatArray,
    d_term: FloatArray,
    t_incline: FloatArray,
    q_start: FloatArray,
    t_plateau: FloatArray,
) -> FloatArray:
    return _cum_grid(t, (qi, di, b, d_term, t_incline, q_start, t_plateau), 1)


def _cum_grid(t: FloatArray, p: _Params, threads: int, libm: _Libm = _NUMPY_LIBM) -> FloatArray:
    qi, di, b, d_term, t_incline, q_start, t_plateau = p
    D, Dt, b_safe, c_safe, tau_star, q_star = _segments(qi, di, b, d_term)
    params = (t, qi, di, b, d_term, t_incline, q_start, t_plateau)
    shape = np.broadcast_shapes(*(a.shape for a in params))
    # decided on the whole grid, not per block: the two incline forms round differently
    if t.size and float(np.min(t)) >= float(np.max(t_incline)):
        incline: tuple[FloatArray, ...] = (0.5 * (q_start + qi) * t_incline,)  # all past it
    else:
        incline = (np.where(t_incline > 0.0, t_incline, 1.0), 0.5 * (qi - q_start), q_start)
    Dt_safe = np.maximum(Dt, _TINY)
    arrays: tuple[FloatArray, ...] = (
        t,
        t_incline,
        tau_star,
        b_safe * D,
        -c_safe / b_safe,
        -qi / (c_safe * D),
    )
    arrays += (-Dt_safe, -q_star / Dt_safe)
    plateau = (t_plateau, qi) if np.any(t_plateau > 0.0) else ()
    if libm is not _NUMPY_LIBM:
        from cbm_sim.wells import declinegrid

        consts = (*arrays[1:], *plateau, *incline)
        fused = declinegrid.cumulative(shape, t, consts, bool(plateau), threads)
        if fused is not None:
            return fused
    return _blockwise(
        _cum_block,
        np.empty(shape),
        (*arrays, *plateau, *incline),
        threads,
        n_plateau=len(plateau),
        libm=libm,
    )


def _cum_block(
    t: FloatArray,
    t_incline: FloatArray,
    tau_star: FloatArray,
    bD: FloatArray,
    neg_c_over_b: FloatArray,
    neg_k_hyp: FloatArray,
    neg_Dt: FloatArray,
    neg_k_exp: FloatArray,
    *rest: FloatArray,
    out: FloatArray,
    n_plateau: int,
    libm: _Libm = _NUMPY_LIBM,
) -> None:
    """:func:`_cum_kernel` on one block, into ``out``. ``rest``: the plateau and ``qi`` (if
    any well has a plateau: skipped without one, the old arithmetic bit for bit), then the
    incline volume of wells all past their peak, or the incline, its divisor, half the rise
    and ``q_start``."""
    res = out
    tau, w1, w2, tmp = _scratch(res.shape, 4)
    plateau, incline = rest[:n_plateau], rest[n_plateau:]
    np.maximum(t, 0.0, out=tau)
    if len(incline) == 1:
        res[...] = incline[0]
    else:
        t_div, half_rise, q_start = incline
        np.minimum(tau, t_incline, out=res)  # s = min(t, t_p)
        # s/t_p <= 1: no overflow even for a denormal t_p
        np.divide(res, t_div, out=w1)
        w1 *= half_rise
        w1 += q_start
        res *= w1
    tau -= t_incline
    if plateau:
        t_plateau, qi = plateau
        np.clip(tau, 0.0, t_plateau, out=w1)
        w1 *= qi
        res += w1
        tau -= t_plateau
    np.minimum(tau, tau_star, out=w2)
    np.maximum(w2, 0.0, out=w2)
    w2 *= bD  # x = bDτ_h
    _log1p_into(w2, w1, tmp, libm[1])
    w1 *= neg_c_over_b  # -(1-b)·w
    _expm1_into(w1, w2, tmp, libm)
    w2 *= neg_k_hyp
    res += w2
    # the terminal segment only where some point is past its switch (often none on a grid);
    # skipping it adds nothing but a zero
    if np.any(tau > tau_star):
        np.subtract(tau, tau_star, out=tau)
        np.maximum(tau, 0.0, out=tau)
        tau *= neg_Dt
        _expm1_into(tau, w2, w1, libm)
        w2 *= neg_k_exp
        res += w2


def rate(
    t_days: ArrayLike,
    qi: ArrayLike,
    di: ArrayLike,
    b: ArrayLike,
    d_term: ArrayLike = 0.0,
    t_incline: ArrayLike = 0.0,
    q_start: ArrayLike = 0.0,
    *,
    t_plateau: ArrayLike = 0.0,
) -> FloatArray:
    r"""Gas rate of a CBM well at time ``t_days`` after it came online.

    Parameters
    ----------
    t_days
        Time since the well came online [day]; negative times (not yet online) give 0.
    qi
        Peak rate, reached at the end of the incline [m³/d].
    di
        Initial nominal Arps decline after the peak [1/yr] (:math:`-d\ln q/dt` per year).
    b
        Arps exponent [-]: 0 exponential, 1 harmonic, > 1 allowed.
    d_term
        Terminal nominal decline [1/yr]; 0 for a pure hyperbola.
    t_incline
        Dewatering (incline) period from online to peak [day]; 0 for none.
    q_start
        Rate when the well comes online [m³/d]; it rises linearly to ``qi`` over
        ``t_incline``.
    t_plateau
        Plateau after the incline [day]: the rate holds at ``qi`` this long before the
        decline starts; 0 (the default) for none.

    Returns
    -------
    numpy.ndarray
        Rate [m³/d], the broadcast shape of all arguments.

    Raises
    ------
    ValueError
        If any argument is NaN or outside its bound in :mod:`cbm_sim.bounds`; the message
        names the parameter and the offending value.

    Notes
    -----
    .. math::

        q(t) = q_i (1 + b D \tau)^{-1/b} \text{ for } 0 \le \tau = t - t_p - t_h \le \tau^*,
        \quad q^* e^{-D_t(\tau - \tau^*)} \text{ after}

    (see the module docstring for the incline, the plateau :math:`t_h` and the switch time
    :math:`\tau^*`). Grids of 2²⁰ points or more are evaluated by compiled code, to
    ~1e-15 relative of the numpy kernels (module docstring).
    """
    t = bounds.check("t_days", t_days)
    p = _validated_params(qi, di, b, d_term, t_incline, q_start, t_plateau)
    params = _ordered(p)
    libm = _libm(math.prod(np.broadcast_shapes(t.shape, *(a.shape for a in params))))
    return np.asarray(_rate_grid(t, params, _THREADS, libm), dtype=np.float64)


def cumulative(
    t_days: ArrayLike,
    qi: ArrayLike,
    di: ArrayLike,
    b: ArrayLike,
    d_term: ArrayLike = 0.0,
    t_incline: ArrayLike = 0.0,
    q_start: ArrayLike = 0.0,
    *,
    t_plateau: ArrayLike = 0.0,
) -> FloatArray:
    r"""Gas produced from online (t = 0) to ``t_days`` [m³], in closed form.

    Parameters are those of :func:`rate`. Negative times give 0.

    Notes
    -----
    .. math::

        N(t) = \underbrace{s\,(q_s + \tfrac{q_i - q_s}{2 t_p} s)}_{\text{incline},\ s=\min(t,t_p)}
        + \underbrace{q_i \min(\max(t - t_p, 0), t_h)}_{\text{plateau}}
        + \frac{q_i}{(1-b)D}\left(1 - e^{-(1-b)w(\min(\tau,\tau^*))}\right)
        + \frac{q^*}{D_t}\left(1 - e^{-D_t \max(\tau - \tau^*, 0)}\right)

    with :math:`w(\tau) = \ln(1 + bD\tau)/b` (Arps 1945 cumulative, written stably) and
    :math:`\tau = \max(t, 0) - t_p - t_h` clipped at 0 in the decline terms. Grids of
    2²⁰ points or more are evaluated by compiled code, to ~1e-15 relative of the numpy
    kernels (module docstring).
    """
    t = bounds.check("t_days", t_days)
    p = _validated_params(qi, di, b, d_term, t_incline, q_start, t_plateau)
    params = _ordered(p)
    libm = _libm(math.prod(np.broadcast_shapes(t.shape, *(a.shape for a in params))))
    return np.asarray(_cum_grid(t, params, _THREADS, libm), dtype=np.float64)


def _time_to_limit_kernel(
    qi: FloatArray,
    di: FloatArray,
    b: FloatArray,
    d_term: FloatArray,
    t_incline: FloatArray,
    q_limit: FloatArray,
    t_plateau: FloatArray,
) -> FloatArray:
    D, Dt, b_safe, _, tau_star, q_star = _segments(qi, di, b, d_term)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        w_lim = np.log(qi / q_limit)  # inf for q_limit = 0
        y = b_safe * w_lim
        # τ = (e^{b w} − 1)/(bD) = w·expm1(y)/y / D, exact as b → 0
        tau_h = np.where(y > 0.0, np.expm1(y) / b_safe / D, 0.0)
        tau_h = np.where(np.isinf(w_lim), np.inf, tau_h)
        tau_e = tau_star + np.log(q_star / q_limit) / np.maximum(Dt, _TINY)
        tau = np.where(tau_h <= tau_star, tau_h, np.where(Dt > 0.0, tau_e, np.inf))
    tau = np.where(q_limit >= qi, 0.0, t_plateau + tau)
    return t_incline + tau


def time_to_limit(
    qi: ArrayLike,
    di: ArrayLike,
    b: ArrayLike,
    d_term: ArrayLike = 0.0,
    t_incline: ArrayLike = 0.0,
    q_limit: ArrayLike = 0.0,
    *,
    t_plateau: ArrayLike = 0.0,
) -> FloatArray:
    r"""Time from online until the declining rate falls to ``q_limit`` [day].

    Parameters are those of :func:`rate`, plus the economic limit ``q_limit`` [m³/d].
    If ``q_limit >= qi`` the answer is the peak time ``t_incline`` (the well never exceeds
    the limit after its peak, plateau included). ``inf`` when the rate never reaches the
    limit (``q_limit = 0``).

    Notes
    -----
    Inverting the hyperbola, :math:`\tau = (e^{b\ln(q_i/q_l)} - 1)/(bD)` if that is before
    :math:`\tau^*`, else :math:`\tau^* + \ln(q^*/q_l)/D_t`; the answer is
    :math:`t_p + t_h + \tau`.
    """
    p = _validated(
        qi=qi,
        di=di,
        b=b,
        d_term=d_term,
        t_incline=t_incline,
        q_limit=q_limit,
        t_plateau=t_plateau,
    )
    return np.asarray(_time_to_limit_kernel(**p), dtype=np.float64)


def eur(
    qi: ArrayLike,
    di: ArrayLike,
    b: ArrayLike,
    d_term: ArrayLike = 0.0,
    t_incline: ArrayLike = 0.0,
    q_start: ArrayLike = 0.0,
    q_limit: ArrayLike = 0.0,
    *,
    t_plateau: ArrayLike = 0.0,
) -> FloatArray:
    r"""Estimated ultimate recovery [m³]: cumulative from online to :func:`time_to_limit`.

    With ``q_limit = 0`` this is the total volume as :math:`t \to \infty`:
    :math:`N(\tau^*) + q^*/D_t` with a terminal decline, :math:`q_i/((1-b)D)` for a pure
    hyperbola with :math:`b < 1`, and ``inf`` for :math:`b \ge 1` without terminal decline
    (Arps 1945: the harmonic and super-harmonic cumulatives diverge). The incline volume
    :math:`(q_s + q_i) t_p / 2` and the plateau volume :math:`q_i t_h` are included.
    """
    p = _validated_params(qi, di, b, d_term, t_incline, q_start, t_plateau)
    q_limit_v = bounds.check("q_limit", q_limit)
    t_lim = _time_to_limit_kernel(
        p["qi"], p["di"], p["b"], p["d_term"], p["t_incline"], q_limit_v, p["t_plateau"]
    )
    finite = np.isfinite(t_lim)
    cum = _cum_kernel(np.where(finite, t_lim, 0.0), **p)
    D, Dt, _, c_safe, tau_star, q_star = _segments(p["qi"], p["di"], p["b"], p["d_term"])
    # incline and plateau volumes; + qi·0 keeps a plateau-free well's sum bit for bit
    n_inc = 0.5 * (p["q_start"] + p["qi"]) * p["t_incline"] + p["qi"] * p["t_plateau"]
    decline_start = p["t_incline"] + p["t_plateau"]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        n_switch = _cum_kernel(np.where(np.isfinite(tau_star), tau_star + decline_start, 0.0), **p)
        total_term = n_switch + q_star / np.maximum(Dt, _TINY)
        total_hyp = np.where(p["b"] < 1.0, n_inc + p["qi"] / (c_safe * D), np.inf)
    total = np.where((Dt > 0.0) & np.isfinite(tau_star), total_term, total_hyp)
    return np.asarray(np.where(finite, cum, total), dtype=np.float64)


# --- decline conventions -------------------------------------------------------------------
# Nominal D: -d ln q/dt per year. Tangent effective: 1 - e^{-D} (fraction lost in a year at a
# constant nominal D). Secant effective (b-dependent): 1 - q(1 yr)/qi on the hyperbola,
# 1 - (1 + bD)^{-1/b}. These are the conventions of the SPEE monograph 4 and petbox-dca.


def tangent_from_nominal(d_nominal: ArrayLike) -> FloatArray:
    r"""Tangent effective annual decline :math:`D_e = 1 - e^{-D}` from nominal ``D`` [1/yr]."""
    d = bounds.check("decline_nominal", d_nominal)
    return np.asarray(-np.expm1(-d), dtype=np.float64)


def nominal_from_tangent(d_tangent: ArrayLike) -> FloatArray:
    r"""Nominal annual decline :math:`D = -\ln(1 - D_e)` from tangent effective ``D_e``."""
    d = bounds.check("decline_fraction", d_tangent)
    return np.asarray(-np.log1p(-d), dtype=np.float64)


def secant_from_nominal(d_nominal: ArrayLike, b: ArrayLike) -> FloatArray:
    r"""Secant effective annual decline :math:`D_s = 1 - (1 + bD)^{-1/b}` (tangent at b = 0)."""
    d = bounds.check("decline_nominal", d_nominal)
    b_v = np.maximum(bounds.check("b", b), _TINY)
    with np.errstate(over="ignore"):
        return np.asarray(-np.expm1(-np.log1p(b_v * d) / b_v), dtype=np.float64)


def nominal_from_secant(d_secant: ArrayLike, b: ArrayLike) -> FloatArray:
    r"""Nominal annual decline :math:`D = ((1 - D_s)^{-b} - 1)/b` from secant effective ``D_s``."""
    d = bounds.check("decline_fraction", d_secant)
    b_v = np.maximum(bounds.check("b", b), _TINY)
    with np.errstate(over="ignore"):
        return np.asarray(np.expm1(-b_v * np.log1p(-d)) / b_v, dtype=np.float64)


# --- prepared evaluation ---------------------------------------------------------------------
# Within this of b = 0 (b = 1) the hyperbola is evaluated as its exponential (harmonic) limit.
_EXPONENTIAL_B = 1e-9

PREPARED_KEYS: tuple[str, ...] = (
    "t_incline",
    "q_start",
    "half_rise",
    "inv_t_incline",
    "D",
    "Dt",
    "b_safe",
    "c",
    "tau_star",
    "k_hyp",
    "k_exp",
    "bD",
    "neg_c_over_b",
    "neg_cD_expo",
    "k_harm",
    "t_plateau",
    "qi",
)
"""Names of the per-well constants made by :func:`prepare`."""

RATE_LINEAR_KEYS: tuple[str, ...] = ("q_start", "half_rise", "k_hyp", "k_exp", "k_harm", "qi")
"""The constants of :data:`PREPARED_KEYS` proportional to the rates: multiplying ``qi`` and
``q_start`` by ``f`` multiplies these by ``f`` and leaves the others (the cumulative too is
multiplied by ``f``)."""
_RATE_ROWS = np.array([PREPARED_KEYS.index(k) for k in RATE_LINEAR_KEYS])


def scale_prepared_rates(columns: FloatArray, factor: float | FloatArray) -> FloatArray:
    """Constants of wells whose ``qi`` and ``q_start`` are multiplied by ``factor`` (one, or
    one per well), from their constants ``columns`` (``(len(PREPARED_KEYS),)`` or
    ``(len(PREPARED_KEYS), n)``, :func:`cbm_sim.wells.stepping.prepared_columns`); a new
    array, ``columns`` unchanged."""
    out = np.array(columns, dtype=np.float64, copy=True)
    out[_RATE_ROWS] *= factor
    return out


def prepare(
    qi: ArrayLike,
    di: ArrayLike,
    b: ArrayLike,
    d_term: ArrayLike = 0.0,
    t_incline: ArrayLike = 0.0,
    q_start: ArrayLike = 0.0,
    *,
    t_plateau: ArrayLike = 0.0,
) -> dict[str, FloatArray]:
    """Per-well constants for repeated evaluation of :func:`cumulative_prepared`.

    Parameters are those of :func:`cumulative` (validated the same way); the returned arrays
    have the broadcast shape of the parameters.
    """
    v = _validated_params(qi, di, b, d_term, t_incline, q_start, t_plateau)
    arrays = np.broadcast_arrays(*(v[k] for k in PARAMS))
    return prepare_unchecked(*(np.asarray(a, dtype=np.float64) for a in arrays))


def prepare_unchecked(
    qi: FloatArray,
    di: FloatArray,
    b: FloatArray,
    d_term: FloatArray,
    t_incline: FloatArray,
    q_start: FloatArray,
    t_plateau: FloatArray,
) -> dict[str, FloatArray]:
    """:func:`prepare` without validation, for callers whose inputs are already checked.

    The arguments are in :data:`PARAMS` order and must share one shape.
    """
    p = {"qi": qi, "di": di, "b": b, "d_term": d_term, "t_incline": t_incline, "q_start": q_start}
    D, Dt, b_safe, c_safe, tau_star, q_star = _segments(p["qi"], p["di"], p["b"], p["d_term"])
    Dt_safe = np.maximum(Dt, _TINY)
    t_inc = np.where(p["t_incline"] < 1e-300, 0.0, p["t_incline"])
    expo = p["b"] < _EXPONENTIAL_B
    harm = np.abs(p["b"] - 1.0) < _EXPONENTIAL_B
    return {
        "t_incline": t_inc,
        "q_start": p["q_start"],
        # the ramp as (qi - q_start)/2 · s/t_incline; an incline shorter than 1e-300 days
        # (subnormal) counts as none, so that 1/t_incline cannot overflow
        "half_rise": 0.5 * (p["qi"] - p["q_start"]),
        "inv_t_incline": np.where(t_inc > 0.0, 1.0 / np.where(t_inc > 0.0, t_inc, 1.0), 0.0),
        "D": D,
        "Dt": Dt_safe,
        "b_safe": b_safe,
        "c": c_safe,
        "tau_star": tau_star,
        "k_hyp": np.where(harm, 0.0, p["qi"] / (c_safe * D)),
        "k_exp": q_star / Dt_safe,
        "bD": np.where(expo, 0.0, b_safe * D),
        "neg_c_over_b": np.where(expo | harm, 0.0, -c_safe / b_safe),
        "k_harm": np.where(harm, p["qi"] / D, 0.0),
        "neg_cD_expo": np.where(expo, -c_safe * D, 0.0),
        "t_plateau": t_plateau,
        "qi": p["qi"],
    }


_SCRATCH = threading.local()


def _scratch(shape: tuple[int, ...], count: int) -> list[FloatArray]:
    """``count`` work arrays of ``shape`` from a per-thread buffer reused across calls.

    A fresh temporary of a few hundred kB costs more in page faults than the arithmetic
    done on it (measured 15x on 10^5 points); the hot kernels run thousands of times.
    """
    need = math.prod(shape) * count
    buf = getattr(_SCRATCH, "buf", None)
    if buf is None or buf.size < need:
        buf = _SCRATCH.buf = np.empty(max(need, 1024))
    work = buf[:need].reshape((count, *shape))
    return [work[i, ...] for i in range(count)]  # arrays, also 0-d ones


def _log1p_fast(x: FloatArray, u: FloatArray, err: FloatArray) -> FloatArray:
    """``log1p(x)`` in place for ``x >= 0``, through ``log`` (Goldberg 1991, *What every
    computer scientist should know about floating-point arithmetic*, Thm 4).

    ``log(u)`` with ``u = 1 + x`` is vectorised in numpy and ``log1p`` is not (5 ns vs
    15 ns per point here); ``((u - 1) - x) / u`` is what rounding ``1 + x`` lost, to
    within a few ulps (tests compare with ``np.log1p``). ``u`` and ``err`` are work arrays.
    """
    np.add(x, 1.0, out=u)
    np.subtract(u, 1.0, out=err)
    err -= x
    err /= u
    np.log(u, out=x)
    x -= err
    return x


def cumulative_prepared(
    t: FloatArray, k: dict[str, FloatArray], out: FloatArray | None = None
) -> FloatArray:
    """:func:`cumulative` at ``t_days`` [m³] from constants made by :func:`prepare`.

    The same closed form as :func:`cumulative`, evaluated with two transcendental calls per
    point instead of four and in place, block by cache-sized block (:func:`_blockwise`);
    ``t`` broadcasts against the constants (constants shaped ``(n, 1)`` against times
    ``(n, m)``, or ``(n,)`` against ``(m, n)``, which is faster: the wells lie on the fast
    axis). Agrees with :func:`cumulative` to ~1e-10 relative (tests). This is the hot path
    of the simulation and of gridded production. ``out``, if given, receives the result (it
    must have the broadcast shape).
    """
    t = np.asarray(t, dtype=np.float64)
    shape = t.shape if t.shape == k["D"].shape else np.broadcast_shapes(t.shape, k["D"].shape)
    if out is None:
        out = np.empty(shape)
    # one pass over the wells' constants; without a plateau, the old kernel bit for bit
    plateau = (k["t_plateau"], k["qi"]) if k["t_plateau"].any() else ()
    blocked = out.size > 2 * _BLOCK_POINTS
    # each well's incline volume, for blocks past every incline (the same operations as on
    # the grid); not for one small block (the engine's daily step), which it would not pay
    incline = k["t_incline"]
    if blocked:
        incline = (incline * k["inv_t_incline"] * k["half_rise"] + k["q_start"]) * incline
    arrays = (t, *(k[name] for name in _PREPARED_BLOCK_KEYS), incline, *plateau)
    return _blockwise(
        _prepared_block, out, arrays, incline_known=blocked, expo=bool(k["neg_cD_expo"].any())
    )


_PREPARED_BLOCK_KEYS = (
    "t_incline",
    "inv_t_incline",
    "half_rise",
    "q_start",
    "tau_star",
    "bD",
    "k_harm",
    "neg_c_over_b",
    "neg_cD_expo",
    "k_hyp",
    "k_exp",
    "Dt",
)


def _first_declining_column(tau: FloatArray) -> int:
    """The first index along the last axis where some point has ``tau > 0`` (is past its
    incline and plateau), the length of that axis if none; 0 for a 1-d ``tau``.

    In gridded production (wells × days) a new well's first years are incline and plateau,
    where the decline terms, two thirds of :func:`cumulative_prepared`'s work, add zeros.
    """
    if tau.ndim < 2 or tau.shape[-1] < 2:
        return 0
    started = np.any(tau.reshape(-1, tau.shape[-1]) > 0.0, axis=0)
    return int(np.argmax(started)) if started.any() else tau.shape[-1]


def _prepared_block(
    t: FloatArray,
    t_incline: FloatArray,
    inv_t_incline: FloatArray,
    half_rise: FloatArray,
    q_start: FloatArray,
    tau_star: FloatArray,
    bD: FloatArray,
    k_harm: FloatArray,
    neg_c_over_b: FloatArray,
    neg_cD_expo: FloatArray,
    k_hyp: FloatArray,
    k_exp: FloatArray,
    Dt: FloatArray,
    incline: FloatArray,
    *plateau: FloatArray,
    out: FloatArray,
    incline_known: bool,
    expo: bool,
) -> None:
    """:func:`cumulative_prepared` on one block, into ``out``; ``incline``: each well's
    incline volume if ``incline_known``; ``plateau``: the plateaus and ``qi``, if any well
    has one; ``expo``: some wells are exponential (else their terms, zeros, are skipped)."""
    shape = out.shape
    tp, s, x, w, v = _scratch(shape, 5)
    np.maximum(t, 0.0, out=tp)
    tau = np.subtract(tp, t_incline, out=s)
    if incline_known and tau.size and float(np.min(tau)) >= 0.0:
        # every point past its incline: min(t, t_p) is t_p (up to the sign of a zero, which
        # the harmonic term's += below clears as on the whole grid)
        out[...] = incline
    else:
        np.minimum(tp, t_incline, out=w)  # min(t, t_p)
        np.multiply(w, inv_t_incline, out=out)
        out *= half_rise
        out += q_start
        out *= w
    s = tp  # free: τ lives in the other buffer
    if plateau:
        t_plateau, qi = plateau
        on_plateau = np.clip(tau, 0.0, t_plateau, out=s)
        on_plateau *= qi
        out += on_plateau
        tau -= t_plateau
    c0 = _first_declining_column(tau)
    if c0:
        # no point of the block declines before column c0: there the decline terms add
        # zeros, which only turn a -0 into +0 (as ``+= 0.0`` does)
        out[..., :c0] += 0.0
        if c0 == shape[-1]:
            return
        out, tau, s, x, w, v = (a[..., c0:] for a in (out, tau, s, x, w, v))
        shape = out.shape
        tau_star, bD, k_harm, neg_c_over_b, neg_cD_expo, k_hyp, k_exp, Dt = (
            a[..., c0:] if a.ndim and a.shape[-1] != 1 else a
            for a in (tau_star, bD, k_harm, neg_c_over_b, neg_cD_expo, k_hyp, k_exp, Dt)
        )
    tau_h = np.maximum(tau, 0.0, out=s)
    np.minimum(tau_h, tau_star, out=tau_h)
    # 1 - (1 + bDτ)^(-c/b) through log1p and expm1 (as exp and log, Kahan's trick): exp - 1
    # would cost an absolute error of ~1e-16 × qi/((1-b)D), a millionth of a m³-a-day well's
    # daily gas when b is within 1e-5 of 1 (hypothesis found it: tests/test_supply.py).
    # Exponential wells (b ≈ 0) take the exact limit -cDτ through ``neg_cD_expo``.
    np.multiply(tau_h, bD, out=x)
    _log1p_fast(x, w, v)
    np.multiply(x, k_harm, out=w)
    out += w  # harmonic wells (b ≈ 1): qi/D · ln(1 + Dτ)
    x *= neg_c_over_b
    if expo:  # else τ_h·0 is a zero, which only moves the sign of a zero x (read as 0 below)
        tau_h *= neg_cD_expo
        x += tau_h
    _expm1_into(x, w, v)
    w *= k_hyp
    out -= w
    tail = np.subtract(tau, tau_star, out=tau)
    late = tail > 0.0
    if late.any():  # most wells stay on the hyperbola for decades: skip the tail if none
        k_exp_late = np.broadcast_to(k_exp, shape)[late]
        dt = np.broadcast_to(Dt, shape)[late]
        out[late] += k_exp_late * -np.expm1(-dt * tail[late])
