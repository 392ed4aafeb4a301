"""The ``cbm-sim`` command line (click): one module per command, sharing :mod:`~cbm_sim.cli.app`.

Top of the data flow: commands import the lower stages only inside their bodies, so that
``cbm-sim --help`` does not pay for scipy, dask or matplotlib.
"""

from __future__ import annotations

from cbm_sim.cli import (  # noqa: F401 - importing a command module registers its command
    backtest_cmd,
    calibrate_cmd,
    compare_cmd,
    diff_cmd,
    ensemble_cmd,
    goalseek_cmd,
    plan_cmd,
    report_cmd,
    robustness_cmd,
    run_cmd,
    sensitivity_cmd,
    studio_cmd,
)
from cbm_sim.cli.app import main, plan_group
from cbm_sim.cli.compare_cmd import side_by_side
from cbm_sim.cli.run_cmd import _print_targets

__all__ = ["_print_targets", "main", "plan_group", "side_by_side"]
