"""Benchmark: a Sobol study of the plan scenario, daily, measured (not extrapolated).

Run: ``.venv/bin/python benchmarks/bench_sobol.py [--n 256] [--workers 2] [--scheduler auto]``

Runs :func:`cbm_sim.studies.sensitivity.sobol_indices` on ``scenarios/plan.yaml`` (its shipped
``uncertainty``: ``k`` inputs, a Saltelli design of ``n (k + 2)`` runs, the 2025 and 2030
output value, daily steps) once per configuration and prints, for each:

* the wall time, and the CPU seconds (user + system) of this process (client, local
  scheduler and nannies) and of the worker processes (waited for when the cluster closes:
  ``getrusage(RUSAGE_CHILDREN)``), and from them the **worker-seconds per run**;
* the machine's load average before and after (a loaded machine's wall time measures the
  other jobs: publish only figures of an idle machine);
* the indices with their bootstrap 95 % confidence intervals (SALib), every input by its
  total index, for each year — the answer a user would read.

Configurations: ``--workers 1 2`` local Dask worker processes (``1`` runs in this process,
no Dask), and ``--scheduler``: ``auto`` starts ``dask scheduler`` and ``dask worker
--nworkers 2`` on the loopback interface (processes separate from this one, as a remote
cluster would be; the same malloc settings as the local cluster's workers), or an address
``tcp://host:port`` of a running cluster. The goal (issue 27): N = 256 in ≤ 15 min on this
2-core machine, i.e. ``--n 256 --workers 2``; ``--n 8 --workers 1 2 --scheduler auto`` shows
in a few minutes how the study scales with workers.
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from cbm_sim.scenario.files import load_scenario
from cbm_sim.studies.execution import WORKER_ENVIRON
from cbm_sim.studies.sensitivity import saltelli_runs, sobol_indices
from cbm_sim.studies.uncertainty import with_step_days

PLAN = Path(__file__).resolve().parents[1] / "scenarios" / "plan.yaml"
BIN = Path(sys.executable).parent
BUDGET_S = 15 * 60.0
"""Issue 27's goal for N = 256 on this machine [s]."""


def load() -> str:
    """The 1-minute load average and the CPUs, for the record."""
    return f"load {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"


def cpu(who: int) -> float:
    """CPU seconds (user + system) of this process or of its waited-for children."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LoopbackCluster:
    """``dask scheduler`` and ``dask worker --nworkers N`` started on 127.0.0.1 (stopped and
    waited for on exit, so that their CPU time counts as this process's children's)."""

    def __init__(self, workers: int) -> None:
        self.port = free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.workers = workers
        self.procs: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> LoopbackCluster:
        env = dict(os.environ)
        for key, value in WORKER_ENVIRON.items():  # the local cluster's malloc settings
            name = key.replace("distributed.nanny.pre-spawn-environ.", "")
            env[f"DASK_DISTRIBUTED__NANNY__PRE_SPAWN_ENVIRON__{name}"] = str(value)
        dask = str(BIN / "dask")
        self.procs.append(
            subprocess.Popen(
                [dask, "scheduler", "--host", "127.0.0.1", "--port", str(self.port),
                 "--dashboard-address", ":0"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
            )
        )  # fmt: skip
        self.procs.append(
            subprocess.Popen(
                [dask, "worker", self.address, "--nworkers", str(self.workers),
                 "--nthreads", "1", "--host", "127.0.0.1", "--dashboard-address", ":0"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
            )
        )  # fmt: skip
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in reversed(self.procs):
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def study(
    n: int, workers: int | None, scheduler: str | None, step: int | str | None
) -> tuple[pd.DataFrame, float, float, float, int]:
    """One Sobol study: indices, wall, own CPU, children's CPU [s], runs."""
    scenario = load_scenario(PLAN)
    if step is not None:
        scenario = with_step_days(scenario, step)
    runs = saltelli_runs(n, len(scenario.uncertainty))
    own0, kids0 = cpu(resource.RUSAGE_SELF), cpu(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    frame = sobol_indices(scenario, n, years=(2025, 2030), workers=workers, scheduler=scheduler)
    wall = time.perf_counter() - t0
    own, kids = cpu(resource.RUSAGE_SELF) - own0, cpu(resource.RUSAGE_CHILDREN) - kids0
    return frame, wall, own, kids, runs


def print_indices(frame: pd.DataFrame) -> None:
    """Every input by total index, with the 95 % intervals, for each year."""
    for year, rows in frame.groupby("year"):
        print(f"  {year}: input, S1 [95 % interval], ST [95 % interval] (by ST)")
        for r in rows.sort_values("ST", ascending=False).itertuples():
            print(
                f"    {r.input:52s} S1 {r.S1:6.3f} [{r.S1_low:6.3f}, {r.S1_high:6.3f}]  "
                f"ST {r.ST:6.3f} [{r.ST_low:6.3f}, {r.ST_high:6.3f}]"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=256, help="base sample (a power of 2)")
    parser.add_argument(
        "--workers", type=int, nargs="*", default=[2], help="local worker processes to measure"
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        help="also measure on a scheduler: 'auto' (started on loopback) or tcp://host:port",
    )
    parser.add_argument(
        "--scheduler-workers", type=int, default=2, help="workers of the 'auto' cluster"
    )
    parser.add_argument("--step-days", default=None, help="step of the results (default daily)")
    parser.add_argument("--no-indices", action="store_true", help="timings only")
    args = parser.parse_args()
    print(f"bench_sobol: plan.yaml, N = {args.n}, daily dispatch; {load()}")
    configs: list[tuple[str, int | None, str | None]] = [
        (f"{w} local worker{'s' if w > 1 else ''}", w, None) for w in args.workers
    ]
    if args.scheduler is not None:
        configs.append(("scheduler", None, args.scheduler))
    first_wall: float | None = None
    for label, workers, scheduler in configs:
        before = load()
        if scheduler == "auto":
            kids0 = cpu(resource.RUSAGE_CHILDREN)
            with LoopbackCluster(args.scheduler_workers) as cluster:
                label = f"scheduler {cluster.address}, {args.scheduler_workers} workers"
                frame, wall, own, _, runs = study(args.n, None, cluster.address, args.step_days)
            # the scheduler's and workers' processes, waited for on leaving the block
            kids = cpu(resource.RUSAGE_CHILDREN) - kids0
        else:
            frame, wall, own, kids, runs = study(args.n, workers, scheduler, args.step_days)
        per_run = (kids if kids > 0 else own) / runs
        first_wall = first_wall or wall
        verdict = (
            ("within" if wall <= BUDGET_S else "over") + " the 15-min goal"
            if args.n == 256
            else "the 15-min goal is for N = 256"
        )
        print(
            f"sobol N={args.n} {label}: {runs} runs in {wall:.1f} s wall ({wall / 60:.1f} min, "
            f"{verdict}), speed-up {first_wall / wall:.2f}x over the first; "
            f"CPU {own:.1f} s this process, {kids:.1f} s workers = {per_run:.3f} worker-s a "
            f"run; {before}, after {load()}",
            flush=True,
        )
        if not args.no_indices:
            print_indices(frame)


if __name__ == "__main__":
    main()
