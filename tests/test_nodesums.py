"""The compiled node sums of the interpolated wells against the numpy kernel and bincount."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cbm_sim.wells import decline, nodesums, stepping
from cbm_sim.wells.supply import NODES, _interpolation

N_BLOCKS = 3

_PROBE = np.random.default_rng(0).uniform(-40.0, 40.0, 20_000)
SAME_LIBM = np.exp(_PROBE).tobytes() == np.array([math.exp(x) for x in _PROBE]).tobytes() and (
    np.log1p(np.abs(_PROBE)).tobytes() == np.array([math.log1p(abs(x)) for x in _PROBE]).tobytes()
)
"""Whether numpy's exp and log are the C library's on this machine (numba calls the C
library): then the compiled sums are the numpy kernel's bit for bit. On a CPU where numpy
uses its own AVX-512 exp and log they may differ in the last bit, and the sums are compared
to 1e-12."""


def _same(got: np.ndarray, want: np.ndarray) -> None:
    if SAME_LIBM:
        assert got.tobytes() == want.tobytes()
    else:
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9)


def _population(rng: np.random.Generator, n: int, plateau: float) -> tuple[np.ndarray, ...]:
    """Wells of every decline family (exponential, hyperbolic, harmonic, b > 1), some
    with a plateau, online before and inside the window."""
    qi = rng.uniform(1.0, 2e4, n)
    di = rng.choice([1e-3, 0.05, 0.3, 1.5, 4.0], n) * rng.uniform(0.8, 1.2, n)
    params = {
        "qi": np.where(rng.random(n) < 0.1, 0.0, qi),
        "di": di,
        "b": rng.choice([0.0, 1e-12, 0.3, 0.7, 1.0 - 1e-7, 1.0, 1.6], n),
        "d_term": np.minimum(rng.uniform(0.0, 0.3, n), di),
        "t_incline": rng.choice([0.0, 1e-301, 37.5, 90.0, 400.0], n),
        "q_start": qi * rng.uniform(0.0, 0.5, n),
        "t_plateau": np.where(rng.random(n) < 0.5, plateau, 0.0),
    }
    cols = np.ascontiguousarray(stepping.prepared_columns(params))
    online = rng.uniform(-6000.0, 600.0, n).round(rng.integers(0, 3))
    return cols, online, rng.integers(0, N_BLOCKS, n)


def _numpy_sums(cols, online, block, wells, times):
    """The numpy path of BlockSupply before issue 27's last pass: the vectorised kernel on
    the (nodes × wells) grid, differences to the window start, one bincount."""
    rows = np.take(cols, wells, axis=1)
    k = {key: rows[j] for j, key in enumerate(decline.PREPARED_KEYS)}
    c = decline.cumulative_prepared(times[:, None] - online[wells], k)
    values = c[1:] - c[:1]
    pair = np.arange(values.shape[0])[:, None] * N_BLOCKS + block[wells]
    sums = np.bincount(pair.ravel(), weights=values.ravel(), minlength=values.shape[0] * N_BLOCKS)
    return sums.astype(np.float64), bool(k["t_plateau"].any())


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 300),
    w0=st.sampled_from([0, 256, 3584]),
    plateau=st.sampled_from([0.0, 20.25, 1095.0]),
    split=st.floats(0.0, 1.0),
)
def test_node_sums_equal_the_numpy_kernel_and_bincount_bit_for_bit(seed, n, w0, plateau, split):
    """Issue 27: the same numbers, the same additions in the same order; continuing the
    sums of a first run of wells with the rest gives the sums of all at once."""
    rng = np.random.default_rng(seed)
    cols, online, block = _population(rng, n, plateau)
    nodes, _ = _interpolation(256, NODES)
    times = w0 + np.concatenate(([0.0], nodes))
    wells = rng.permutation(n)
    want, any_plateau = _numpy_sums(cols, online, block, wells, times)
    got = np.zeros(NODES * N_BLOCKS)
    nodesums.node_sums(cols, online, block, wells, times, any_plateau, got, N_BLOCKS)
    _same(got, want)
    cut = int(split * n)
    first, _ = _numpy_sums(cols, online, block, wells[:cut], times) if cut else (got * 0.0, False)
    nodesums.node_sums(cols, online, block, wells[cut:], times, any_plateau, first, N_BLOCKS)
    _same(first, want)
