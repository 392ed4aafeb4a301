"""The modified Bessel function of the first kind, order 0, for the demand profile's κ.

:func:`i0` and :func:`i0e` are the Cephes Math Library's ``i0``/``i0e`` (S. L. Moshier,
``cephes/i0.c``: Chebyshev expansions on [0, 8] and (8, ∞)), the algorithm and coefficients
of ``scipy.special.i0``/``i0e`` and of ``numpy.i0`` (``numpy/lib/_function_base_impl.py``,
which lists the same coefficients), evaluated in the same order with the C library's
``exp``/``sqrt`` (:mod:`math`), so the results are scipy's bit for bit
(``tests/test_bessel.py``). The demand profile needs two scalars of it per run; importing
``scipy.special`` for them cost ≈ 0.05-0.17 s of a 2 s ``cbm-sim run`` (measured,
``python -X importtime``).
"""

from __future__ import annotations

import math

_A: tuple[float, ...] = (
    -4.41534164647933937950e-18,
    3.33079451882223809783e-17,
    -2.43127984654795469359e-16,
    1.71539128555513303061e-15,
    -1.16853328779934516808e-14,
    7.67618549860493561688e-14,
    -4.85644678311192946090e-13,
    2.95505266312963983461e-12,
    -1.72682629144155570723e-11,
    9.67580903537323691224e-11,
    -5.18979560163526290666e-10,
    2.65982372468238665035e-9,
    -1.30002500998624804212e-8,
    6.04699502254191894932e-8,
    -2.67079385394061173391e-7,
    1.11738753912010371815e-6,
    -4.41673835845875056359e-6,
    1.64484480707288970893e-5,
    -5.75419501008210370398e-5,
    1.88502885095841655729e-4,
    -5.76375574538582365885e-4,
    1.63947561694133579842e-3,
    -4.32430999505057594430e-3,
    1.05464603945949983183e-2,
    -2.37374148058994688156e-2,
    4.93052842396707084878e-2,
    -9.49010970480476444210e-2,
    1.71620901522208775349e-1,
    -3.04682672343198398683e-1,
    6.76795274409476084995e-1,
)
"""Chebyshev coefficients of exp(-x) I0(x) on [0, 8], in y = x/2 - 2 (30 terms)."""

_B: tuple[float, ...] = (
    -7.23318048787475395456e-18,
    -4.83050448594418207126e-18,
    4.46562142029675999901e-17,
    3.46122286769746109310e-17,
    -2.82762398051658348494e-16,
    -3.42548561967721913462e-16,
    1.77256013305652638360e-15,
    3.81168066935262242075e-15,
    -9.55484669882830764870e-15,
    -4.15056934728722208663e-14,
    1.54008621752140982691e-14,
    3.85277838274214270114e-13,
    7.18012445138366623367e-13,
    -1.79417853150680611778e-12,
    -1.32158118404477131188e-11,
    -3.14991652796324136454e-11,
    1.18891471078464383424e-11,
    4.94060238822496958910e-10,
    3.39623202570838634515e-9,
    2.26666899049817806459e-8,
    2.04891858946906374183e-7,
    2.89137052083475648297e-6,
    6.88975834691682398426e-5,
    3.36911647825569408990e-3,
    8.04490411014108831608e-1,
)
"""Chebyshev coefficients of exp(-x) sqrt(x) I0(x) on (8, ∞), in y = 32/x - 2 (25 terms)."""


def _chbevl(x: float, coefficients: tuple[float, ...]) -> float:
    """Cephes ``chbevl``: the Chebyshev series of ``coefficients`` at ``x`` (Clenshaw)."""
    b0 = coefficients[0]
    b1 = 0.0
    b2 = 0.0
    for c in coefficients[1:]:
        b2 = b1
        b1 = b0
        b0 = x * b1 - b2 + c
    return 0.5 * (b0 - b2)


def i0e(x: float) -> float:
    """Exponentially scaled I0: exp(-|x|) I0(x) (dimensionless; 1 at 0, → 0 as |x| grows)."""
    x = abs(float(x))
    if x <= 8.0:
        return _chbevl(x / 2.0 - 2.0, _A)
    return _chbevl(32.0 / x - 2.0, _B) / math.sqrt(x)


def i0(x: float) -> float:
    """The modified Bessel function of the first kind of order 0, I0(x) (dimensionless)."""
    x = abs(float(x))
    if x <= 8.0:
        return math.exp(x) * _chbevl(x / 2.0 - 2.0, _A)
    return math.exp(x) * _chbevl(32.0 / x - 2.0, _B) / math.sqrt(x)
