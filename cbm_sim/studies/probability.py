"""How sure is a Monte Carlo probability: standard error, Wilson interval, members needed.

A target is met by ``k`` of ``n`` members; the estimate is :math:`\\hat p = k/n` with the
binomial standard error :math:`\\sqrt{\\hat p(1-\\hat p)/n}`. That error is 0 when no member (or
every member) meets the target, which says nothing about how sure we are; the Wilson score
interval (Wilson 1927; recommended by Brown, Cai & DasGupta 2001, Statistical Science 16(2))
stays honest there:

.. math::

    \\frac{\\hat p + z^2/2n \\pm z\\sqrt{\\hat p(1-\\hat p)/n + z^2/4n^2}}{1 + z^2/n}.

The members needed for a 95 % half-width ``h`` are :math:`\\lceil z^2 p(1-p)/h^2 \\rceil` with
``p`` the point of the Wilson interval nearest 1/2 (the worst case the data allow; 385 members
for ``h = 0.05`` at ``p = 1/2``).
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
import numpy.typing as npt

Z95: Final[float] = 1.959963984540054
"""Two-sided 95 % quantile of the standard normal."""
HALF_WIDTH: Final[float] = 0.05
"""Default half-width of the 95 % interval a probability should have (±0.05)."""


def wilson_interval(
    met: npt.ArrayLike, n: npt.ArrayLike, z: float = Z95
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Lower and upper Wilson score bounds of ``met`` successes in ``n`` members.

    Raises
    ------
    ValueError
        If ``n < 1`` or ``met`` is outside ``0..n``.
    """
    k = np.asarray(met, dtype=np.float64)
    m = np.asarray(n, dtype=np.float64)
    if np.any(m < 1) or np.any(k < 0) or np.any(k > m):
        raise ValueError(f"need 0 <= met <= n and n >= 1, got met={met!r}, n={n!r}")
    p = k / m
    centre = (p + z * z / (2 * m)) / (1 + z * z / m)
    half = z * np.sqrt(p * (1 - p) / m + z * z / (4 * m * m)) / (1 + z * z / m)
    # Exact at the ends (no member / every member meets it), where round-off would not be.
    low = np.where(k == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    high = np.where(k == m, 1.0, np.clip(centre + half, 0.0, 1.0))
    return low, high


def members_needed(
    low: npt.ArrayLike, high: npt.ArrayLike, half_width: float = HALF_WIDTH, z: float = Z95
) -> npt.NDArray[np.int64]:
    """Members for a 95 % half-width ``half_width``, at the worst ``p`` in ``[low, high]``.

    Raises
    ------
    ValueError
        If ``half_width`` is not in (0, 0.5].
    """
    if not 0 < half_width <= 0.5:
        raise ValueError(f"half_width must be in (0, 0.5], got {half_width}")
    lo = np.asarray(low, dtype=np.float64)
    hi = np.asarray(high, dtype=np.float64)
    worst = np.clip(0.5, lo, hi)
    return np.ceil(z * z * worst * (1 - worst) / half_width**2 - 1e-9).astype(np.int64)


def standard_error(p: npt.ArrayLike, n: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Binomial standard error :math:`\\sqrt{p(1-p)/n}`."""
    q = np.asarray(p, dtype=np.float64)
    return np.sqrt(q * (1 - q) / np.asarray(n, dtype=np.float64))


def worst_case_members(half_width: float = HALF_WIDTH, z: float = Z95) -> int:
    """Members for a 95 % half-width ``half_width`` whatever ``p`` (``p = 1/2``)."""
    return math.ceil(z * z * 0.25 / half_width**2)


__all__ = [
    "HALF_WIDTH",
    "Z95",
    "members_needed",
    "standard_error",
    "wilson_interval",
    "worst_case_members",
]
