"""Every benchmark, one after the other, for the figures of ``benchmarks/README.md``.

Run: ``make bench`` (or ``.venv/bin/python benchmarks/bench_all.py [--quick]``).

Runs the scripts of this folder in sequence and keeps what they print, with the date, the
commit and the machine's load, in ``benchmarks/out/bench-<UTC date>.txt``. Each printed line
starts with the key of its row in ``benchmarks/README.md`` ("Current figures"). ``--quick``
leaves out the long cases (``calibrate --fit``, ``make demo``, the 200-member ensemble, the
backtest and the Sobol study of N = 256): a few minutes instead of about 45. Run it on an
idle machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def scripts(quick: bool) -> list[list[str]]:
    """The scripts and their arguments, in order."""
    cli = ["python", "imports", "help", "run", "report"]
    out = [
        ["bench_cli.py", "--cases", *cli] if quick else
        ["bench_cli.py", "--cases", *cli, "calibrate", "demo", "ensemble", "backtest"],
        ["bench_run.py"],
        ["bench_decline.py"],
        ["bench_sobol.py", "--n", "8", "--workers", "1", "2", "--scheduler", "auto",
         "--no-indices"],
        ["bench_studio.py"],
    ]  # fmt: skip
    if not quick:
        out.append(["bench_sobol.py", "--n", "256", "--workers", "2"])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="leave out the long cases")
    args = parser.parse_args()
    out_dir = HERE / "out"
    out_dir.mkdir(exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    log_path = out_dir / f"bench-{now:%Y%m%dT%H%M}Z.txt"
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    failed = []
    with log_path.open("w", encoding="utf-8") as log:

        def say(line: str) -> None:
            print(line, flush=True)
            log.write(line + "\n")
            log.flush()

        say(f"# bench_all {now:%Y-%m-%d %H:%M} UTC, commit {commit}, load {os.getloadavg()}")
        for script in scripts(args.quick):
            say(f"## {' '.join(script)}")
            proc = subprocess.Popen(
                [sys.executable, str(HERE / script[0]), *script[1:]],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            assert proc.stdout is not None
            for line in proc.stdout:
                say(line.rstrip("\n"))
            if proc.wait() != 0:
                failed.append(script[0])
                say(f"## {script[0]} FAILED (exit {proc.returncode})")
    print(f"bench_all: written {log_path}")
    if failed:
        sys.exit(f"bench_all: failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
