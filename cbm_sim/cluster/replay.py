"""What a run's wells gave each run of dispatch steps, kept for the next run of the same wells.

A Sobol study varies one input at a time around each base sample (Saltelli's design: ``k``
runs of ``k + 2`` differ from the base sample in one input), and about half of the plan
scenario's inputs (demand, prices, contracts, commissioning, valuation) change nothing the
wells do. Those runs build the same 2021 wells, drill the same new wells and draw the same
pump failures, so their well supply — each step's gas per block, wells online, active and
down, workovers — is the same array for array. A study worker keeps the supply of its last
runs of a history (:data:`REPLAYS_PER_HISTORY`), keyed by a digest of everything the supply
reads besides the history: the hook-ups (every new well's block, type, day, parameters,
constants and start factor), the failure rate and workover length and the step grid. A run
whose key was recorded whole replays it instead of stepping the supply
(:class:`cbm_sim.cluster.engine.Simulation`); the pump-failure stream is the supply's alone,
so nothing else changes. Tests compare replayed runs with runs computed in full.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from cbm_sim.wells.stepping import Hookups

FloatArray = npt.NDArray[np.float64]

REPLAYS_PER_HISTORY = 4
"""Supplies kept per cached history (assumption: a Saltelli group's runs come in order, so
the last few hold its base sample's; ~2 MB each on the plan scenario)."""


@dataclass
class SupplyRecord:
    """The supply of one run, a tuple ``(gas, active, total, down, workovers)`` per run of
    steps, in order; ``wells_at_end`` is set when the run finished (then it may replay)."""

    windows: list[tuple[npt.NDArray[Any], ...]] = field(default_factory=list)
    wells_at_end: int = -1

    @property
    def complete(self) -> bool:
        """Whether the run that recorded it finished."""
        return self.wells_at_end >= 0


def supply_key(
    hookups: Hookups,
    failures_per_well_year: float,
    workover_days: float,
    starts: npt.NDArray[np.int64],
    ends: npt.NDArray[np.int64],
    window_days: int,
) -> bytes:
    """A digest of what a run's supply reads besides its history (module docstring)."""
    h = hashlib.blake2b(digest_size=32)
    h.update(repr((float(failures_per_well_year), float(workover_days), window_days)).encode())
    arrays = [starts, ends, hookups.block, hookups.well_type, hookups.day, hookups.params]
    arrays += [hookups.factor, np.zeros(0) if hookups.constants is None else hookups.constants]
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(repr((a.dtype.str, a.shape)).encode())
        h.update(a.tobytes())
    return h.digest()


def record_for(
    store: OrderedDict[bytes, SupplyRecord], key: bytes
) -> tuple[SupplyRecord | None, SupplyRecord | None]:
    """``(to replay, to record)``: the finished record of ``key``, or a new one to fill
    (the oldest dropped beyond :data:`REPLAYS_PER_HISTORY`)."""
    hit = store.get(key)
    if hit is not None and hit.complete:
        store.move_to_end(key)
        return hit, None
    new = store[key] = SupplyRecord()
    store.move_to_end(key)
    while len(store) > REPLAYS_PER_HISTORY:
        store.popitem(last=False)
    return None, new
