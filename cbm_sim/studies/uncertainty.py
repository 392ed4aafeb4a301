"""A scenario's uncertainty section as an analyst sees it: a table, a subset, a quick variant.

:func:`describe` lists every uncertain input with its distribution, how it acts, and its
P10/P50/P90; :func:`restrict` keeps some inputs (and the correlations among them), e.g. for a
quick Sobol study; :func:`with_step_days` changes the step of the recorded results only.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from cbm_sim.scenario.model import Scenario
from cbm_sim.studies.sampling import frozen_distribution, targets_of

DESCRIBE_COLUMNS = (
    "input",
    "dist",
    "low",
    "mode",
    "high",
    "mean",
    "sd",
    "op",
    "from_year",
    "acts_on",
    "p10",
    "p50",
    "p90",
)
"""Columns of :func:`describe` (``acts_on``: the fields one sample changes)."""


def describe(scenario: Scenario) -> pd.DataFrame:
    """One row per uncertain input: its distribution, its action and its P10/P50/P90.

    ``op`` is the stated one or, when none is stated, ``set``/``scale`` as the field
    decides (:func:`cbm_sim.studies.sampling.apply`); shown here as ``default``.
    """
    rows = []
    for name, spec in scenario.uncertainty.items():
        p10, p50, p90 = frozen_distribution(name, spec).ppf([0.1, 0.5, 0.9])
        rows.append(
            {
                "input": name,
                "dist": spec.dist,
                "low": spec.low,
                "mode": spec.mode,
                "high": spec.high,
                "mean": spec.mean,
                "sd": spec.sd,
                "op": spec.op or "default",
                "from_year": spec.from_year,
                "acts_on": ", ".join(targets_of(name, spec)),
                "p10": float(p10),
                "p50": float(p50),
                "p90": float(p90),
            }
        )
    return pd.DataFrame(rows, columns=list(DESCRIBE_COLUMNS))


def restrict(scenario: Scenario, inputs: Sequence[str] | None) -> Scenario:
    """``scenario`` with only ``inputs`` uncertain (``None``: all), and their correlations.

    Raises
    ------
    ValueError
        If an input is not in the scenario's uncertainty section (names the known ones).
    """
    if inputs is None:
        return scenario
    unknown = [k for k in inputs if k not in scenario.uncertainty]
    if unknown:
        raise ValueError(
            f"inputs {unknown} are not uncertain in {scenario.name!r}; "
            f"known: {', '.join(scenario.uncertainty) or 'none'}"
        )
    keep = set(inputs)
    return scenario.model_copy(
        update={
            "uncertainty": {k: v for k, v in scenario.uncertainty.items() if k in keep},
            "correlations": [c for c in scenario.correlations if set(c.inputs) <= keep],
        }
    )


def with_step_days(scenario: Scenario, step_days: int | str) -> Scenario:
    """``scenario`` with the step of its recorded results ``step_days`` (validated: 1-31
    days, ``month`` or ``quarter``; :mod:`cbm_sim.scenario.steps`)."""
    horizon = scenario.horizon.model_validate(
        {**scenario.horizon.model_dump(), "step_days": step_days}
    )
    return scenario.model_copy(update={"horizon": horizon})


__all__ = ["DESCRIBE_COLUMNS", "describe", "restrict", "with_step_days"]
