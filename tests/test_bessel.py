"""I0 and its scaled form: scipy.special's results bit for bit, and the function's identities."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

from cbm_sim.cluster.bessel import i0, i0e

_X = st.floats(min_value=-700.0, max_value=700.0, allow_nan=False)


@given(x=_X)
@settings(max_examples=2000, deadline=None)
def test_i0_and_i0e_are_scipys_bit_for_bit(x):
    assert i0(x) == float(special.i0(x))
    assert i0e(x) == float(special.i0e(x))


def test_the_demand_profiles_range_is_scipys_bit_for_bit():
    # κ of the profile lies in [0, 50] (cluster/demand.py bisects there); both branches and
    # the switch at 8 are crossed
    xs = np.concatenate([np.linspace(0.0, 50.0, 20_001), np.nextafter(8.0, [0.0, 16.0])])
    assert [i0(x) for x in xs] == special.i0(xs).tolist()
    assert [i0e(x) for x in xs] == special.i0e(xs).tolist()


def test_closed_forms():
    # I0(0) = 1; I0 is even; I0(x) ~ e^x / sqrt(2πx) for large x (DLMF 10.40.1)
    assert i0(0.0) == 1.0
    assert i0e(0.0) == 1.0
    assert i0(-3.5) == i0(3.5)
    x = 400.0
    assert i0e(x) == pytest.approx(1.0 / math.sqrt(2.0 * math.pi * x), rel=1e-3)


@given(x=st.floats(min_value=0.0, max_value=50.0))
@settings(max_examples=300, deadline=None)
def test_the_series_agrees_with_the_power_series(x):
    # I0(x) = Σ (x²/4)^k / (k!)², summed independently, scaled by e^-x
    term, total, k = 1.0, 1.0, 0
    while term > 1e-17 * total:
        k += 1
        term *= (x * x / 4.0) / (k * k)
        total += term
    assert i0e(x) == pytest.approx(total * math.exp(-x), rel=1e-12)
