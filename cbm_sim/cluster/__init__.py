"""The cluster as a SimPy simulation: blocks and rigs, mine gas, plants, storage, demand.

:mod:`~cbm_sim.cluster.build` turns a scenario into the model, :mod:`~cbm_sim.cluster.engine`
runs it (gas routed by :mod:`~cbm_sim.cluster.dispatch`, balanced every step) and returns
what it recorded as plain arrays.
"""

from __future__ import annotations

__all__: list[str] = []
