"""The annual drivers of the valuation read from a run, and the valuation section it ran with.

:class:`AnnualTable` reads simulated annual quantities (``entity.quantity``) for a set of years;
:func:`config_of` gives the run's own :class:`~cbm_sim.scenario.valuation_inputs.ValuationConfig`.
Shared by :mod:`cbm_sim.economics.valuation` and :mod:`cbm_sim.economics.carbon`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
import pandas as pd

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
        got = _sorted_series(annual)
        if got is None:
            got = _grouped_series(annual)
        self._series, self._units = got

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


_Series = dict[tuple[str, str], tuple[npt.NDArray[np.int64], FloatArray]]


def _grouped_series(annual: pd.DataFrame) -> tuple[_Series, dict[tuple[str, str], str]]:
    """Each ``(entity, quantity)``'s years and values (summed per year) and its unit: one
    grouping of the annual frame, each series a slice of its sorted index."""
    grouped = annual.groupby(["entity", "quantity", "year"], observed=True)["value"].sum()
    ent = grouped.index.get_level_values(0).astype(str).to_numpy()
    qty = grouped.index.get_level_values(1).astype(str).to_numpy()
    years = grouped.index.get_level_values(2).to_numpy(np.int64)
    values = grouped.to_numpy(np.float64)
    cut = np.flatnonzero((ent[1:] != ent[:-1]) | (qty[1:] != qty[:-1])) + 1
    starts = np.concatenate(([0], cut)).tolist() if len(ent) else []
    ends = np.concatenate((cut, [len(ent)])).tolist() if len(ent) else []
    series = {
        (str(ent[a]), str(qty[a])): (years[a:b], values[a:b])
        for a, b in zip(starts, ends, strict=True)
    }
    units_of = annual.drop_duplicates(["entity", "quantity"])
    units = {
        (str(e), str(q)): str(u)
        for e, q, u in zip(units_of["entity"], units_of["quantity"], units_of["unit"], strict=True)
    }
    return series, units


def _sorted_series(annual: pd.DataFrame) -> tuple[_Series, dict[tuple[str, str], str]] | None:
    """:func:`_grouped_series` of a run's annual frame without the grouping, or ``None`` if
    the frame is not one row per series and year in the grouping's order.

    A run's frame (:func:`cbm_sim.results.frames.annualise_series`) has categorical
    entities, quantities and units and one row per ``(entity, quantity, year)``, sorted by
    the categories' codes and the year: then each group is one row, in the grouping's
    order, and its sum is the value itself, however pandas sums (``np.add.reduceat`` of
    sorted groups, or compensated addition from 0.0), as long as no value is NaN (skipped)
    or -0.0 (``0.0 + -0.0`` is 0.0): frames with such values are grouped. A test compares
    with the grouping on frames of every kind.
    """
    columns = [annual[c] for c in ("entity", "quantity", "unit")]
    if not all(isinstance(c.dtype, pd.CategoricalDtype) for c in columns) or annual.empty:
        return None
    ent, qty, unit = (c.cat.codes.to_numpy(np.int64) for c in columns)
    years = annual["year"].to_numpy(np.int64)
    if (ent < 0).any() or (qty < 0).any() or (unit < 0).any():
        return None  # a missing entity, quantity or unit: the grouping drops or keeps it
    new_series = (ent[1:] != ent[:-1]) | (qty[1:] != qty[:-1])
    ahead = (ent[1:] > ent[:-1]) | ((ent[1:] == ent[:-1]) & (qty[1:] > qty[:-1]))
    if not np.all(ahead | (~new_series & (years[1:] > years[:-1]))):
        return None  # not sorted by series and year, or a year twice
    values = annual["value"].to_numpy(np.float64)
    if np.isnan(values).any() or (np.signbit(values) & (values == 0.0)).any():
        return None  # pandas sums such groups its own way (a NaN skipped, -0.0 kept or not)
    starts = np.concatenate(([0], np.flatnonzero(new_series) + 1))
    ends = np.append(starts[1:], len(ent)).tolist()
    names = [[str(n) for n in c.cat.categories.tolist()] for c in columns]
    keys = [
        (names[0][e], names[1][q], names[2][u])
        for e, q, u in zip(
            ent[starts].tolist(), qty[starts].tolist(), unit[starts].tolist(), strict=True
        )
    ]
    series: _Series = {}
    units: dict[tuple[str, str], str] = {}
    for (e, q, u), a, b in zip(keys, starts.tolist(), ends, strict=True):
        series[e, q] = (years[a:b], values[a:b])
        units[e, q] = u
    return series, units
