"""A block resource without history wells, for tests of the drilling agents."""

from __future__ import annotations

import datetime as dt

import numpy as np

from cbm_sim.cluster.resource import BlockResource, ResourceRules
from cbm_sim.scenario.model import Resources


def rules(**change: float) -> ResourceRules:
    """The scenario defaults' rules (units: m³/km²), with ``change`` applied."""
    r = Resources()
    base = {
        "recovery_factor": r.recovery_factor,
        "abundance_m3_per_km2": r.abundance_1e8_m3_per_km2 * 1e8,
        "proving_rate_per_year": r.proving_rate_per_year,
    }
    base.update(change)
    return ResourceRules(
        drainage_km2=(r.drainage_area_km2_vertical, r.drainage_area_km2_horizontal), **base
    )


def blank_resource(
    proved_m3: float = 1e12,
    area_km2: float | None = None,
    years: range = range(2021, 2031),
    produced_m3: float = 0.0,
    drilled_km2: float = 0.0,
    block_id: str = "panzhuang",
    **change: float,
) -> BlockResource:
    """A block with constant proved reserves, no wells before the run, the run from
    2021-01-01 (``produced_m3``: gas produced before the run, the same every year)."""
    rr = rules(**change)
    starts = np.array([float((dt.date(y, 1, 1) - dt.date(2021, 1, 1)).days) for y in years])
    n = len(starts)
    return BlockResource(
        block_id=block_id,
        area_km2=proved_m3 / rr.abundance_m3_per_km2 if area_km2 is None else area_km2,
        rules=rr,
        year_start_days=starts,
        proved_m3=np.full(n, proved_m3),
        history_produced_m3=np.full(n, produced_m3),
        drilled_km2=drilled_km2,
    )
