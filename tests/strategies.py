"""Hypothesis strategies derived from the parameter bounds in :mod:`cbm_sim.bounds`.

A test may narrow a bound (e.g. to keep ``scipy.integrate.quad`` well conditioned) but never
widen it: :func:`param` asserts the narrowed interval lies inside the registered one, so the
tested domain is always a subset of the accepted domain.
"""

from __future__ import annotations

import math

from hypothesis import strategies as st

from cbm_sim.bounds import BOUNDS


def param(name: str, lo: float | None = None, hi: float | None = None) -> st.SearchStrategy[float]:
    """Floats inside the bound of ``name``, optionally narrowed to ``[lo, hi]``."""
    bound = BOUNDS[name]
    a = bound.lo if lo is None else lo
    z = bound.hi if hi is None else hi
    assert bound.contains(a) or (lo is None and bound.lo_open), (name, a)
    assert bound.contains(z) or (hi is None and bound.hi_open), (name, z)
    return st.floats(
        min_value=a,
        max_value=z,
        exclude_min=lo is None and bound.lo_open,
        exclude_max=hi is None and bound.hi_open,
        allow_nan=False,
        allow_infinity=not math.isfinite(z),
    )


def outside(name: str) -> st.SearchStrategy[float]:
    """Values just outside the bound of ``name`` (and NaN), for rejection tests."""
    bound = BOUNDS[name]
    options = [st.just(math.nan)]
    if math.isfinite(bound.lo):
        below = st.floats(max_value=bound.lo, exclude_max=not bound.lo_open, allow_nan=False)
        options.append(below.filter(lambda v: v > -1e300))
    if math.isfinite(bound.hi):
        above = st.floats(min_value=bound.hi, exclude_min=not bound.hi_open, allow_nan=False)
        options.append(above.filter(lambda v: v < 1e300))
    return st.one_of(options)


def decline_params(
    qi_hi: float = 1e5,
    di_hi: float = 5.0,
    b_hi: float = 2.5,
    t_incline_hi: float = 1000.0,
    t_plateau_hi: float | None = None,
) -> st.SearchStrategy[dict[str, float]]:
    """Keyword arguments for :func:`cbm_sim.wells.decline.rate` (narrowed to realistic wells).

    With ``t_plateau_hi`` they include a plateau ``t_plateau``: 0 (none) or up to that long.
    """
    keys = {
        "qi": param("qi", 1.0, qi_hi),
        "di": param("di", 1e-3, di_hi),
        "b": param("b", 0.0, b_hi),
        "d_term": param("d_term", 0.0, di_hi),
        "t_incline": param("t_incline", 0.0, t_incline_hi),
        "q_start": param("q_start", 0.0, qi_hi),
    }
    if t_plateau_hi is not None:
        keys["t_plateau"] = st.one_of(st.just(0.0), param("t_plateau", 0.0, t_plateau_hi))
    return st.fixed_dictionaries(keys)
