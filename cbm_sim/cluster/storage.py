"""Storage and peak shaving (储气调峰): LNG tank stock and the plan's two storage rules.

Rules (plan ch1 §2 四, quoting 发改能源规〔2018〕637号; restated in ch4 §2 二):

* the city must hold at least ``rule_days`` (3) days of its average daily consumption;
* city-gas companies must hold at least ``rule_city_gas_share`` (5 %) of their annual use.

Each day the simulation records whether each rule holds for the stock at the end of the day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from cbm_sim.cluster.facilities import Facility, total_capacity_at

ArrayOrFloat = float | npt.NDArray[np.float64]


@dataclass
class StorageAgent:
    """Aggregate storage: capacity is the sum of commissioned projects [m³ of gas]."""

    projects: list[Facility]
    level_m3: float
    max_rate_share_per_day: float
    injection_months: frozenset[int] = field(default_factory=frozenset)
    sendout_m3_per_day: tuple[float, ...] = ()
    """Send-out capacity of each project [m³/d] (same order as ``projects``); empty: every
    project sends out ``max_rate_share_per_day`` of its capacity a day."""

    @property
    def capacity_m3(self) -> float:
        """Capacity in service now [m³]."""
        return sum(p.available_capacity for p in self.projects)

    def capacity_at(self, times: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Capacity in service at each of ``times`` [day] (from the projects' histories)."""
        return total_capacity_at(self.projects, times)

    def max_rate_m3(self, step_days: ArrayOrFloat, capacity_m3: ArrayOrFloat | None = None) -> Any:
        """Most gas that can go in or out over a step [m³], with ``capacity_m3`` in service
        (default: now); elementwise on arrays."""
        capacity = self.capacity_m3 if capacity_m3 is None else capacity_m3
        return capacity * self.max_rate_share_per_day * step_days

    def sendout_at(self, times: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Send-out capacity in service at each of ``times`` [m³/d]: the projects' stated
        capacities (or the default share of their storage capacity) while they are in service.

        Raises
        ------
        ValueError
            If ``sendout_m3_per_day`` is given but not one per project.
        """
        t = np.asarray(times, dtype=np.float64)
        if not self.sendout_m3_per_day:
            return np.asarray(self.capacity_at(t) * self.max_rate_share_per_day, dtype=np.float64)
        if len(self.sendout_m3_per_day) != len(self.projects):
            raise ValueError(
                f"sendout_m3_per_day has {len(self.sendout_m3_per_day)} entries for "
                f"{len(self.projects)} projects"
            )
        out = np.zeros(t.shape)
        for project, rate in zip(self.projects, self.sendout_m3_per_day, strict=True):
            out += np.where(project.capacity_at(t) > 0.0, rate, 0.0)
        return out

    def apply(self, injection_m3: float, withdrawal_m3: float) -> None:
        """Update the stock; it may not leave ``0 .. capacity``."""
        level = self.level_m3 + injection_m3 - withdrawal_m3
        if level < -1e-6 or level > self.capacity_m3 + 1e-6:
            raise RuntimeError(
                f"storage level {level:.6g} m3 outside 0..{self.capacity_m3:.6g} m3 "
                f"after injection {injection_m3:.6g} and withdrawal {withdrawal_m3:.6g}"
            )
        self.level_m3 = min(max(level, 0.0), self.capacity_m3)


def rule_holds(level_m3: ArrayOrFloat, need_m3: ArrayOrFloat) -> Any:
    """Whether a stock meets a required volume (with a 1 m³ tolerance for rounding);
    elementwise on arrays."""
    return level_m3 + 1.0 >= need_m3
