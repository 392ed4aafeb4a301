"""The compiled wells × times pass: which grids it takes, and threads that change nothing."""

from __future__ import annotations

import numpy as np
import pytest

from cbm_sim.wells import declinegrid


def _consts(n: int, rng: np.random.Generator, count: int) -> tuple[np.ndarray, ...]:
    return tuple(rng.uniform(0.5, 2.0, (n, 1)) for _ in range(count))


@pytest.mark.parametrize(
    ("t_shape", "c_shape", "shape", "taken"),
    [
        ((50,), (40, 1), (40, 50), True),  # wells × times
        ((1, 50), (40, 1), (40, 50), True),
        ((50,), (), (50,), True),  # one well, constants as scalars
        ((50,), (1,), (50,), True),
        ((), (40, 1), (40, 1), True),  # one time
        ((50, 40), (40,), (50, 40), False),  # times per well on the fast axis
        ((40, 50), (40, 1), (40, 50), False),  # a time per point
        ((2, 40, 50), (40, 1), (2, 40, 50), False),  # three axes
    ],
)
def test_only_wells_by_times_grids_are_taken(t_shape, c_shape, shape, taken) -> None:
    rng = np.random.default_rng(0)
    t = rng.uniform(0.0, 1e3, t_shape)
    consts = tuple(rng.uniform(0.5, 2.0, c_shape) for _ in range(7))
    got = declinegrid.rate(shape, t, consts, False, 1)
    assert (got is not None) == taken
    if got is not None:
        assert got.shape == shape


def test_non_finite_constants_are_left_to_numpy_but_an_infinite_switch_time_is_not() -> None:
    rng = np.random.default_rng(1)
    t = np.linspace(0.0, 1e3, 20)
    consts = list(_consts(10, rng, 7))
    consts[2] = np.full((10, 1), np.inf)  # τ* = inf: no terminal decline
    assert declinegrid.rate((10, 20), t, tuple(consts), False, 1) is not None
    consts[3] = np.full((10, 1), np.inf)  # bD overflowed: the numpy kernels' rules
    assert declinegrid.rate((10, 20), t, tuple(consts), False, 1) is None
    cum = list(_consts(10, rng, 8))
    cum[1] = np.full((10, 1), np.nan)  # τ* NaN
    assert declinegrid.cumulative((10, 20), t, tuple(cum), False, 1) is None


def test_threads_share_the_wells_without_changing_a_bit() -> None:
    rng = np.random.default_rng(2)
    t = np.linspace(-10.0, 2e4, 300)
    n = 1000  # 300,000 points: shared among threads
    rate = (
        rng.uniform(0.0, 400.0, (n, 1)),  # t_incline
        rng.choice([0.0, 200.0], (n, 1)),  # t_plateau
        rng.uniform(100.0, 1e4, (n, 1)),  # tau_star
        rng.uniform(1e-4, 1e-2, (n, 1)),  # bD
        rng.uniform(0.1, 1.5, (n, 1)),  # b_safe
        rng.uniform(1e-4, 1e-3, (n, 1)),  # Dt
        rng.uniform(1e2, 1e4, (n, 1)),  # qi
        rng.uniform(0.0, 1e2, (n, 1)),  # q_start
        rng.uniform(0.0, 1e4, (n, 1)),  # rise
        rng.uniform(1.0, 400.0, (n, 1)),  # t_div
    )
    one = declinegrid.rate((n, t.size), t, rate, True, 1)
    two = declinegrid.rate((n, t.size), t, rate, True, 2)
    assert one is not None and two is not None
    assert one.tobytes() == two.tobytes()
    cum = (rate[0], rate[2], rate[3], -rate[4], -rate[6], -rate[5], -rate[6], rate[1], rate[6])
    cum += (rate[9], rate[8], rate[7])  # the incline as divisor, half the rise, q_start
    one = declinegrid.cumulative((n, t.size), t, cum, True, 1)
    two = declinegrid.cumulative((n, t.size), t, cum, True, 2)
    assert one is not None and two is not None
    assert one.tobytes() == two.tobytes()
