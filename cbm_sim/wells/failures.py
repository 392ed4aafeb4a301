r"""Pump failures over a run of dispatch steps: how many wells fail, and which (compiled).

At the start of every step (day :math:`d_0`, length :math:`\Delta t`) the number of pump
failures is drawn as

.. math:: N \sim \operatorname{Poisson}\bigl(\lambda\,\Delta t / 365.25 \cdot n_{up}(d_0)\bigr),
   \qquad N \le n_{up}(d_0),

with :math:`\lambda` the failures per well-year (scenario ``wells``) and :math:`n_{up}` the
wells online and not down on :math:`d_0`; the :math:`N` wells are a uniform random subset of
those, and each goes down for ``workover_days`` from :math:`d_0`. This is a per-well
Poisson process of rate :math:`\lambda` while producing, on the dispatch grid.

The draws of a step depend on those of the steps before (a well that failed is down), so
the steps are taken in order; a run of steps is one compiled loop (numba), fed with the
per-day changes of the online and down counts. Randomness comes from the caller's
:class:`numpy.random.Generator` (the scenario's ``pump-failures`` stream), advanced in place.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit

from cbm_sim.wells.population import DOWN, WellPopulation

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

REJECTION_MIN_SHARE = 0.125
"""Below this share of producing wells, failing wells are drawn from a list of the
producing ones instead of by rejection from all wells (which would need many tries)."""


COUNTS_DISAGREE = (
    "pump failures: the wells online and down counted per day disagree with the population's "
    "online and workover days (a well changed outside BlockSupply?)"
)
MAX_TRIES_PER_WELL = 64
"""Rejection draws allowed per well of the population before the counts are deemed wrong
(at least an eighth of the wells produce, so a draw is accepted with probability >= 1/8)."""


@njit(cache=True)
def _producing(online_day, abandon_day, down_from, down_until, w, d):  # type: ignore[no-untyped-def]  # numba infers the types
    return online_day[w] <= d and abandon_day[w] > d and (down_from[w] > d or down_until[w] <= d)


@njit(cache=True)
def _fail(  # type: ignore[no-untyped-def]  # numba infers the types
    rng,
    online_day,
    abandon_day,
    down_from,
    down_until,
    state,
    block,
    n_wells,
    step_days,
    expected_per_well,
    workover_days,
    online_delta,
    down_delta,
    down_delta_by_block,
    online_now,
    down_now,
):
    first = step_days[0]  # online_delta and down_delta are per day from here to the last step
    last = step_days[-1]
    cap = 64
    wells = np.empty(cap, dtype=np.int64)
    days = np.empty(cap, dtype=np.int64)
    n_out = 0
    per_step = np.zeros(step_days.size, dtype=np.int64)
    s = 0
    for d in range(first, last + 1):
        online_now += online_delta[d - first]
        down_now += down_delta[d - first]
        if d != step_days[s]:
            continue
        n_up = online_now - down_now
        n = 0
        if n_up > 0 and expected_per_well[s] > 0.0:
            n = min(rng.poisson(expected_per_well[s] * n_up), n_up)
        if n > 0:
            until = d + workover_days
            end = math.ceil(until)
            chosen = np.empty(n, dtype=np.int64)
            if n_up < REJECTION_MIN_SHARE * n_wells:
                pool = np.empty(n_wells, dtype=np.int64)
                m = 0
                for w in range(n_wells):
                    if _producing(online_day, abandon_day, down_from, down_until, w, d):
                        pool[m] = w
                        m += 1
                if m != n_up:
                    raise ValueError(COUNTS_DISAGREE)
                for i in range(n):  # partial Fisher-Yates: a uniform subset of the pool
                    j = rng.integers(i, m)
                    pool[i], pool[j] = pool[j], pool[i]
                    chosen[i] = pool[i]
            else:
                got = 0
                tries = 0
                while got < n:  # rejection: uniform over the producing wells
                    tries += 1
                    if tries > MAX_TRIES_PER_WELL * n_wells:  # cannot happen if counts agree
                        raise ValueError(COUNTS_DISAGREE)
                    w = rng.integers(0, n_wells)
                    if _producing(online_day, abandon_day, down_from, down_until, w, d):
                        chosen[got] = w
                        got += 1
                        down_from[w] = d  # down now: cannot be drawn twice
                        down_until[w] = until
            for i in range(n):
                w = chosen[i]
                down_from[w] = d
                down_until[w] = until
                state[w] = DOWN
                down_delta_by_block[block[w], d] += 1.0
                down_delta_by_block[block[w], end] -= 1.0
                if n_out == cap:
                    cap *= 2
                    wells = np.concatenate((wells, np.empty(cap - n_out, dtype=np.int64)))
                    days = np.concatenate((days, np.empty(cap - n_out, dtype=np.int64)))
                wells[n_out] = w
                days[n_out] = d
                n_out += 1
            down_now += n
            if end <= last:
                down_delta[end - first] -= n
            per_step[s] = n
        s += 1
        if s == step_days.size:
            break
    return wells[:n_out], days[:n_out], per_step


def draw(
    rng: np.random.Generator,
    pop: WellPopulation,
    step_days: IntArray,
    expected_per_well: FloatArray,
    workover_days: float,
    online_delta: IntArray,
    down_delta: IntArray,
    online_before: int,
    down_before: int,
    down_delta_by_block: FloatArray,
) -> tuple[IntArray, IntArray, IntArray]:
    """Draw the pump failures of consecutive steps and put the failing wells down.

    Parameters
    ----------
    rng
        The failure stream; advanced in place.
    pop
        The population; failing wells get state ``DOWN`` over ``[d0, d0 + workover_days)``.
    step_days
        First day of each step, increasing.
    expected_per_well
        :math:`\\lambda \\Delta t / 365.25` of each step: expected failures per producing well.
    workover_days
        Length of a workover [day].
    online_delta, down_delta
        Change in the number of wells online / down on each day ``step_days[0] …
        step_days[-1]`` (wells come online on the first whole day at or after their online
        day); ``down_delta`` is updated with the new workovers.
    online_before, down_before
        Wells online / down on the day before ``step_days[0]``.
    down_delta_by_block
        ``(blocks, days)``: change in the wells down per block and day, updated with the new
        workovers; must reach day ``ceil(step_days[-1] + workover_days)``.

    Returns
    -------
    wells, days, per_step
        The failing wells and the day each failed (in order of failure), and the number of
        failures of each step.
    """
    step_days = np.ascontiguousarray(step_days, dtype=np.int64)
    expected = np.ascontiguousarray(expected_per_well, dtype=np.float64)
    if step_days.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    if expected.shape != step_days.shape:
        raise ValueError(
            f"expected_per_well has shape {expected.shape}; step_days {step_days.shape}"
        )
    if step_days.size > 1 and np.any(np.diff(step_days) <= 0):
        raise ValueError(f"step_days must increase; got {step_days.tolist()}")
    if not (np.isfinite(expected).all() and (expected >= 0).all()):
        raise ValueError(f"expected failures per well must be finite and >= 0; got {expected}")
    if not (math.isfinite(workover_days) and workover_days > 0):
        raise ValueError(f"workover_days must be > 0; got {workover_days}")
    span = int(step_days[-1] - step_days[0]) + 1
    if online_delta.shape != (span,) or down_delta.shape != (span,):
        raise ValueError(
            f"online_delta and down_delta need one entry per day of the {span} days; "
            f"got {online_delta.shape} and {down_delta.shape}"
        )
    reach = math.ceil(float(step_days[-1]) + workover_days)
    if down_delta_by_block.shape[1] <= reach:
        raise ValueError(
            f"down_delta_by_block covers {down_delta_by_block.shape[1]} days; the workovers "
            f"reach day {reach}"
        )
    n = len(pop)
    return _fail(  # type: ignore[no-any-return]
        rng,
        pop.online_day,
        pop.abandon_day,
        pop.down_from_day,
        pop.down_until_day,
        pop.state,
        pop.block,
        n,
        step_days,
        expected,
        float(workover_days),
        np.ascontiguousarray(online_delta, dtype=np.int64),
        down_delta,
        down_delta_by_block,
        int(online_before),
        int(down_before),
    )
