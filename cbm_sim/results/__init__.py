"""Results of a run: the tidy frames of the output contract, run directories, and ``run``.

:func:`run` simulates a scenario and returns :class:`Results` (daily, annual and event
frames); :mod:`~cbm_sim.results.rundir` writes and reads run directories atomically.
"""

from __future__ import annotations

from cbm_sim.results.frames import Results
from cbm_sim.results.simulate import run

__all__ = ["Results", "run"]
