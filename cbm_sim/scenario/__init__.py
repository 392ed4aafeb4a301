"""Scenarios: the typed assumptions of a run (schema, files and ``extends``, time paths).

A planner's YAML enters here (:func:`load_scenario`) and leaves as a frozen, validated
:class:`Scenario`, with every problem reported by file, line and field.
"""

from __future__ import annotations

from cbm_sim.scenario.files import Problem, ScenarioError, load_scenario, scenario_from_text
from cbm_sim.scenario.model import Distribution, FieldError, Horizon, Scenario
from cbm_sim.scenario.valuation_inputs import ValuationConfig

__all__ = [
    "Distribution",
    "FieldError",
    "Horizon",
    "Problem",
    "Scenario",
    "ScenarioError",
    "ValuationConfig",
    "load_scenario",
    "scenario_from_text",
]
