"""Wells: the CBM decline core, type curves, the 2021 history and the population of a run.

Numeric: float64 numpy arrays in and out. The decline core (:mod:`~cbm_sim.wells.decline`)
knows nothing of SimPy, YAML, pandas or plotting; :mod:`~cbm_sim.wells.supply` gives the gas
of every block over each dispatch step.
"""

from __future__ import annotations

from cbm_sim.wells.population import HORIZONTAL, VERTICAL, WELL_TYPES, WellPopulation

__all__ = ["HORIZONTAL", "VERTICAL", "WELL_TYPES", "WellPopulation"]
