"""The plan 晋市政发〔2022〕28号 as data: its figures, its blocks, and its own audit.

Bottom of the data flow: everything here is read from the packaged files in ``cbm_sim/data``
(each figure with its chapter § section and the phrase it was read from).
"""

from __future__ import annotations

from cbm_sim.plan.blocks import BlockInfo, block_ids, load_blocks
from cbm_sim.plan.figures import Figure, Plan, PlanDataError, load_plan, parse_plan, preferred

__all__ = [
    "BlockInfo",
    "Figure",
    "Plan",
    "PlanDataError",
    "block_ids",
    "load_blocks",
    "load_plan",
    "parse_plan",
    "preferred",
]
