"""Studies over many runs: Monte Carlo ensembles (Dask), tornado/Sobol sensitivity, goal seeking."""

from __future__ import annotations

__all__: list[str] = []
