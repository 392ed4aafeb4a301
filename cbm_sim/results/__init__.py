"""Results of a run: the tidy frames of the output contract, run directories, and ``run``.

:func:`run` simulates a scenario and returns :class:`Results` (daily, annual and event
frames); :mod:`~cbm_sim.results.rundir` writes and reads run directories atomically.

``run`` is imported on first use: reading a run folder (``cbm-sim report``, the valuation)
needs the frames, not the engine, whose import (numba, scipy, the cluster) cost 0.5 s of CPU
before the report's first page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cbm_sim.results.frames import Results

if TYPE_CHECKING:
    from cbm_sim.results.simulate import run


def __getattr__(name: str) -> Any:
    """``run``, imported from :mod:`cbm_sim.results.simulate` when first asked for."""
    if name == "run":
        from cbm_sim.results.simulate import run

        return run
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Results", "run"]
