"""Economics: output value of every sub-cluster item, carbon, and the check against targets.

Everything is computed from a run's :class:`~cbm_sim.results.Results` and its scenario's
valuation section; nothing here simulates.
"""

from __future__ import annotations

__all__: list[str] = []
