"""``exp`` and ``log`` of float64 arrays in compiled loops that the CPU runs 4 points at a time.

The public decline functions (:func:`cbm_sim.wells.decline.rate`,
:func:`cbm_sim.wells.decline.cumulative`) spend most of their time in ``numpy.exp`` and
``numpy.log``, which on a CPU without AVX-512 (the 2-core host of 2026-12) call the C
library one point at a time (≈ 8 ns a call there). The loops below hold no call and no
branch, so LLVM vectorises them (AVX2: 4 doubles a lane): ≈ 3 ns a point, measured.

Both functions stay within 1 ulp of the C library (``tests/test_decline.py`` compares on
10⁶ points of every range, and the special values exactly):

- ``exp``: Cody–Waite reduction :math:`x = n\\ln 2 + r`, :math:`|r| \\le \\ln 2/2` (with
  :math:`\\ln 2` split in two as fdlibm's, so :math:`n \\ln 2_{hi}` is exact), the Taylor
  polynomial of degree 13 of :math:`e^r` (truncation below 5e-18), scaled by :math:`2^n` in
  two factors (so subnormal and near-overflow results need no branch); inf above 709.9,
  0 below -746, NaN kept.
- ``log``: fdlibm's ``__ieee754_log`` (Sun Microsystems 1993, ``e_log.c``, e.g.
  https://github.com/gliptic/liero/blob/master/tl/fdlibm/e_log.c): :math:`x = 2^k(1+f)`
  with :math:`\\sqrt2/2 \\le 1+f < \\sqrt2`, :math:`s = f/(2+f)`, its Remez polynomial
  ``Lg1``…``Lg7`` (error below :math:`2^{-58.45}`), and its constants; subnormals scaled
  by :math:`2^{52}` first; -inf at 0, NaN below, inf at inf.

:mod:`cbm_sim.wells.declinegrid` inlines ``_exp`` and ``_log``; numba's on-disk cache of its
kernels does not see an edit here (it checks the kernel's own file): clear
``cbm_sim/wells/__pycache__/declinegrid*.nb*`` after changing them.

They differ from the C library in the last bit at some points (≈ 9 % of ``exp``'s, 2 % of
``log``'s), so the grids of the public decline functions agree with the numpy kernels'
(which the engine uses) to ~1e-15 relative, not bit for bit.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

FloatArray = npt.NDArray[np.float64]


def _bits_typer(typingctx: Any, x: Any) -> Any:
    """The IEEE-754 bits of a float64 as an int64 (a bitcast, no conversion)."""

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


def _from_bits_typer(typingctx: Any, x: Any) -> Any:
    """The float64 whose IEEE-754 bits are the int64 ``x``."""

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


_bits: Any = intrinsic(_bits_typer)
_from_bits: Any = intrinsic(_from_bits_typer)

_INV_LN2 = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # fdlibm's ln2_hi (3fe62e42 fee00000)
_LN2_LO = 1.90821492927058770002e-10  # fdlibm's ln2_lo (3dea39ef 35793c76)
_SHIFT = 6755399441055744.0  # 1.5·2⁵²: adding it rounds to an integer, kept in the low bits
_EXP_HI = 709.9  # above: inf (e^709.78 is the largest double)
_EXP_LO = -746.0  # below: 0 (e^-745.13 is half the smallest subnormal)
# 1/k! for k = 13 … 0 (Horner's order)
_E13, _E12, _E11, _E10, _E9, _E8, _E7, _E6, _E5, _E4, _E3, _E2, _E1, _E0 = (
    1.0 / math.factorial(k) for k in range(13, -1, -1)
)
# fdlibm e_log.c
_LG1 = 6.666666666666735130e-01
_LG2 = 3.999999999940941908e-01
_LG3 = 2.857142874366239149e-01
_LG4 = 2.222219843214978396e-01
_LG5 = 1.818357216161805012e-01
_LG6 = 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01
_SQRT2 = 1.4142135623730951
_TWO52 = 4503599627370496.0
_TINY = 2.2250738585072014e-308  # the smallest normal double
_MANTISSA = 0xFFFFFFFFFFFFF
_ONE_BITS = 0x3FF0000000000000


@njit(inline="always", error_model="numpy")
def _exp(x):  # type: ignore[no-untyped-def]  # numba infers the types
    """:math:`e^x` to 1 ulp, without a branch (module docstring)."""
    xc = x if x < _EXP_HI else _EXP_HI
    xc = xc if xc > _EXP_LO else _EXP_LO
    k = xc * _INV_LN2 + _SHIFT
    n = k - _SHIFT
    r = (xc - n * _LN2_HI) - n * _LN2_LO
    p = _E13
    p = p * r + _E12
    p = p * r + _E11
    p = p * r + _E10
    p = p * r + _E9
    p = p * r + _E8
    p = p * r + _E7
    p = p * r + _E6
    p = p * r + _E5
    p = p * r + _E4
    p = p * r + _E3
    p = p * r + _E2
    p = p * r + _E1
    p = p * r + _E0
    ni = _bits(k) - _bits(_SHIFT)
    half = ni >> 1
    out = (p * _from_bits((half + 1023) << 52)) * _from_bits((ni - half + 1023) << 52)
    return out if x < _EXP_HI else (x if x != x else math.inf)


@njit(inline="always", error_model="numpy")
def _log(x):  # type: ignore[no-untyped-def]
    """:math:`\\ln x` to 1 ulp (fdlibm's method), without a branch (module docstring)."""
    sub = x < _TINY
    bits = _bits(x * _TWO52 if sub else x)
    e = (bits >> 52) - (1075 if sub else 1023)
    m = _from_bits((bits & _MANTISSA) | _ONE_BITS)  # in [1, 2)
    big = m > _SQRT2
    m = m * 0.5 if big else m
    f = m - 1.0
    hfsq = 0.5 * f * f
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (_LG2 + w * (_LG4 + w * _LG6))
    t2 = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7)))
    dk = float(e + 1 if big else e)
    out = dk * _LN2_HI - ((hfsq - (s * (hfsq + (t2 + t1)) + dk * _LN2_LO)) - f)
    out = out if x > 0.0 else (-math.inf if x == 0.0 else math.nan)
    return out if x < math.inf else x


_UNARY = types.void(types.float64[::1], types.float64[::1], types.boolean)
_IN_PLACE = types.void(types.float64[::1], types.boolean)
# In place, one array: with two that may overlap LLVM checks at run time and, finding them
# the same, takes its scalar loop (measured 1.6x slower). ``log`` is loop-invariant: LLVM
# makes a loop of each function.


@njit(_UNARY, cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
def _loop(x, out, log):  # type: ignore[no-untyped-def]
    for i in range(x.size):
        out[i] = _log(x[i]) if log else _exp(x[i])


@njit(_IN_PLACE, cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
def _in_place(x, log):  # type: ignore[no-untyped-def]
    for i in range(x.size):
        x[i] = _log(x[i]) if log else _exp(x[i])


def _apply(log: bool, x: FloatArray, out: FloatArray) -> FloatArray:
    """``log`` or ``exp`` of ``x`` into ``out`` by the compiled loops, or numpy's where
    they do not apply (another shape, not C-contiguous, a shifted overlap)."""
    fallback = np.log if log else np.exp
    if not (x.shape == out.shape and x.flags.c_contiguous and out.flags.c_contiguous):
        return fallback(x, out=out)
    if np.shares_memory(x, out):
        if x.ctypes.data != out.ctypes.data:
            return fallback(x, out=out)
        _in_place(out.reshape(-1), log)
    else:
        _loop(x.reshape(-1), out.reshape(-1), log)
    return out


def exp(x: FloatArray, out: FloatArray) -> FloatArray:
    """``out = e**x`` [-], elementwise (as ``numpy.exp(x, out=out)``, to 1 ulp); ``x`` and
    ``out`` of one shape, C-contiguous, the same array or apart (else ``numpy.exp``)."""
    return _apply(False, x, out)


def log(x: FloatArray, out: FloatArray) -> FloatArray:
    """``out = ln(x)`` [-], elementwise (as ``numpy.log(x, out=out)``, to 1 ulp); ``x`` and
    ``out`` of one shape, C-contiguous, the same array or apart (else ``numpy.log``)."""
    return _apply(True, x, out)
