"""The annual drivers of the valuation read from a run, and the valuation section it ran with.

:class:`AnnualTable` reads simulated annual quantities (``entity.quantity``) for a set of years;
:func:`config_of` gives the run's own :class:`~cbm_sim.scenario.valuation_inputs.ValuationConfig`.
Shared by :mod:`cbm_sim.economics.valuation` and :mod:`cbm_sim.economics.carbon`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from cbm_sim.results.frames import Results
from cbm_sim.scenario.valuation_inputs import ValuationConfig

FloatArray = npt.NDArray[np.float64]


def config_of(results: Results) -> ValuationConfig:
    """The valuation section of the run's scenario, else the defaults."""
    section = getattr(results.scenario, "valuation", None)
    if isinstance(section, ValuationConfig):
        return section
    if isinstance(section, Mapping):
        return ValuationConfig.model_validate(dict(section))
    return ValuationConfig.default()


class AnnualTable:
    """Fast look-up of annual series of a :class:`Results` (one grouping, many reads)."""

    def __init__(self, results: Results) -> None:
        annual = results.annual
        grouped = annual.groupby(["entity", "quantity", "year"], observed=True)["value"].sum()
        # one pass over the sorted index: each series is a slice (years, values) of it
        ent = grouped.index.get_level_values(0).astype(str).to_numpy()
        qty = grouped.index.get_level_values(1).astype(str).to_numpy()
        years = grouped.index.get_level_values(2).to_numpy(np.int64)
        values = grouped.to_numpy(np.float64)
        cut = np.flatnonzero((ent[1:] != ent[:-1]) | (qty[1:] != qty[:-1])) + 1
        starts = np.concatenate(([0], cut)).tolist() if len(ent) else []
        ends = np.concatenate((cut, [len(ent)])).tolist() if len(ent) else []
        self._series: dict[tuple[str, str], tuple[npt.NDArray[np.int64], FloatArray]] = {
            (str(ent[a]), str(qty[a])): (years[a:b], values[a:b])
            for a, b in zip(starts, ends, strict=True)
        }
        units_of = annual.drop_duplicates(["entity", "quantity"])
        self._units = {
            (str(e), str(q)): str(u)
            for e, q, u in zip(
                units_of["entity"], units_of["quantity"], units_of["unit"], strict=True
            )
        }

    def get(self, entity: str, quantity: str, years: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Annual figures at ``years`` (0 where a year is absent).

        Raises
        ------
        KeyError
            If the series never occurs in the results (the simulation must produce it).
        """
        series = self._series.get((entity, quantity))
        if series is None:
            raise KeyError(
                f"valuation needs the annual series {entity}/{quantity}, which the results "
                "lack (docs/architecture.md, Results contract)"
            )
        have, values = series
        want = np.asarray(years, dtype=np.int64)
        at = np.minimum(np.searchsorted(have, want), max(have.size - 1, 0))
        found = have[at] == want if have.size else np.zeros(want.shape, dtype=bool)
        return np.where(found, values[at] if have.size else 0.0, 0.0)

    def has(self, entity: str, quantity: str) -> bool:
        """Whether the results hold the series at all."""
        return (entity, quantity) in self._series

    def unit(self, entity: str, quantity: str) -> str:
        """Unit of a series as recorded (``""`` if absent)."""
        return self._units.get((entity, quantity), "")


def read_annual(
    results: Results, entity: str, quantity: str, years: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    """Annual figures of one series at ``years`` (0 where a year is absent); see
    :meth:`AnnualTable.get`."""
    return AnnualTable(results).get(entity, quantity, years)
