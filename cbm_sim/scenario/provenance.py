"""Which scenario a result came from: the provenance every study records in its ``meta.json``.

A report draws a run and, beside it, studies of "the same scenario" (an ensemble, its tornado
and Sobol indices, a robustness table, goal-seek runs). They are the same scenario when their
**assumptions** are the same: every field but the labels (``name``, ``description``), the
seed, the dispatch step and the sampling sections (``uncertainty``, ``correlations``), which
do not change a single run's assumptions (an ensemble of ``plan-uncertain.yaml`` that only
adds ranges to ``plan.yaml`` is an ensemble of the plan). :func:`assumptions_sha256` hashes
exactly that; :func:`provenance` is the block a study writes (scenario name and hash, seed,
dispatch step, members, cbm-sim version) and :func:`mismatch` says, in one line, why a
study's block does not belong to a run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, Final

import cbm_sim
from cbm_sim.plan.packaged import packaged_data_sha256
from cbm_sim.scenario.dumping import safe_dump
from cbm_sim.scenario.model import Scenario

NOT_ASSUMPTIONS: Final[frozenset[str]] = frozenset(
    {"name", "description", "extends", "seed", "uncertainty", "correlations"}
)
"""Top-level fields that do not change what a single run assumes (``horizon.step_days``
is left out too: it changes how finely a run is stepped, not what it assumes)."""


def assumptions_sha256(scenario: Scenario) -> str:
    """Hex SHA-256 of the scenario's assumptions (module docstring): equal for a scenario,
    the same with another seed, step, name, description or uncertainty section, and the
    resolved ``scenario.yaml`` of its run folder."""
    data = scenario.model_dump(mode="python", exclude=set(NOT_ASSUMPTIONS))
    data["horizon"] = {k: v for k, v in data["horizon"].items() if k != "step_days"}
    text = safe_dump(data, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def provenance(scenario: Scenario, **extra: Any) -> dict[str, Any]:
    """The provenance block of a study of ``scenario`` (as it was run: its seed and step).

    ``extra`` adds what the study knows (``members``, ``members_ok``, ``n``, ``runs`` …).
    """
    return {
        "scenario": scenario.name,
        "assumptions_sha256": assumptions_sha256(scenario),
        "seed": scenario.seed,
        "step_days": scenario.horizon.step_days,
        "start": scenario.horizon.start.isoformat(),
        "end": scenario.horizon.end.isoformat(),
        "cbm_sim_version": cbm_sim.__version__,
        "model_data_sha256": packaged_data_sha256(),
        **extra,
    }


def mismatch(
    study: Mapping[str, Any], scenario: Scenario, what: str, *, model_data: str | None = None
) -> str | None:
    """Why the study whose provenance is ``study`` is not of ``scenario`` (one line), or
    ``None`` when it is, or when the block records no assumptions hash (a folder of an
    older cbm-sim: the caller decides what to say).

    ``model_data`` is the packaged model data's SHA-256 the run was made with
    (:func:`cbm_sim.plan.packaged.packaged_data_sha256`); a study that records another was
    made by another calibration or rule under the same scenario, and is refused too.
    """
    recorded = study.get("assumptions_sha256")
    if not isinstance(recorded, str):
        return None
    own = assumptions_sha256(scenario)
    theirs = study.get("model_data_sha256")
    if recorded == own and isinstance(theirs, str) and model_data and theirs != model_data:
        return (
            f"{what} was made with other model data (calibration, type curves, valuation: "
            f"{theirs[:12]}) than the run ({model_data[:12]}); run it again with this cbm-sim"
        )
    if recorded == own:
        return None
    name = study.get("scenario", "?")
    which = (
        f"another version of scenario {name!r}" if name == scenario.name else f"scenario {name!r}"
    )
    return (
        f"{what} is of {which} (assumptions {recorded[:12]}), not of the run's "
        f"{scenario.name!r} ({own[:12]}); run it on the same scenario"
    )


__all__ = ["NOT_ASSUMPTIONS", "assumptions_sha256", "mismatch", "provenance"]
