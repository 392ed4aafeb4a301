"""Profile warm study members of the plan scenario (issue 27): where a member's CPU goes.

Run: ``.venv/bin/python benchmarks/profile_member.py [--kind ensemble|sobol] [--n 5]
[--out FILE.prof] [--top 40]``

Builds the members a study would run — ``ensemble``: :func:`cbm_sim.studies.ensemble.run_member`
on the ensemble's draws (own seed, all measures); ``sobol``: the sampled inputs applied, the
scenario's seed, the output value only, as :func:`cbm_sim.studies.sensitivity.sobol_indices`
runs them — runs two to warm the per-process caches, freezes the imports out of the garbage
collector's sight as a study worker does, then prints the CPU seconds of each of ``--n``
members (``time.process_time``) and profiles them together (cProfile, sorted by own time).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import time
from pathlib import Path

from cbm_sim.results import simulate
from cbm_sim.scenario.files import load_scenario
from cbm_sim.studies.ensemble import MEASURES, MemberTask, member_draws, run_member, summarise
from cbm_sim.studies.sampling import apply


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=("ensemble", "sobol"), default="ensemble")
    parser.add_argument("--n", type=int, default=5, help="profiled members")
    parser.add_argument("--timed", type=int, default=6, help="timed members (unprofiled)")
    parser.add_argument("--out", type=Path, default=None, help="write the pstats file here")
    parser.add_argument("--top", type=int, default=40, help="rows of the profile printed")
    parser.add_argument("--sort", default="tottime", help="pstats sort key")
    args = parser.parse_args()
    scenario = load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "plan.yaml")
    draws = member_draws(scenario, 2 + args.timed + args.n, scenario.seed + 1)

    def member(i: int) -> object:
        seed, params = draws[i]
        if args.kind == "ensemble":
            out = run_member(MemberTask(i, scenario, params, seed, MEASURES))
            if out.error is not None:
                raise RuntimeError(out.error)
            return out
        return summarise(
            simulate.run(apply(scenario, params, scenario.uncertainty), daily=False, events=False),
            ("value",),
        )

    member(0)
    member(1)
    gc.freeze()
    times = []
    for i in range(2, 2 + args.timed):
        t0 = time.process_time()
        member(i)
        times.append(time.process_time() - t0)
    print(
        f"{args.kind} members, CPU s: min {min(times):.3f} "
        f"({', '.join(f'{t:.3f}' for t in times)}); load {os.getloadavg()}",
        flush=True,
    )
    prof = cProfile.Profile()
    prof.enable()
    for i in range(2 + args.timed, 2 + args.timed + args.n):
        member(i)
    prof.disable()
    if args.out is not None:
        prof.dump_stats(args.out)
    pstats.Stats(prof).sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
