"""Write the pinned annual results of the plan run (``tests/data/plan_annual.csv.gz``).

Run: ``.venv/bin/python tests/pin_plan_run.py`` — only when a change is *meant* to move the
plan run's answers (then say by how much and why in the commit message, as for
``test_engine.PLAN_RUN``). ``test_engine`` compares every annual value of the daily plan run
with this file bit for bit (values stored as ``float.hex``), so that a change meant only to
make the run faster (rigs in batches, caches, compiled kernels) is shown to move nothing.
"""

from __future__ import annotations

import gzip
import hashlib
import subprocess
from pathlib import Path

from cbm_sim.results import simulate
from cbm_sim.scenario.files import load_scenario

ROOT = Path(__file__).resolve().parents[1]
PINS = ROOT / "tests" / "data" / "plan_annual.csv.gz"


def rows(annual) -> list[str]:  # type: ignore[no-untyped-def]
    """``entity,quantity,unit,year,value.hex()`` lines, sorted."""
    return sorted(
        f"{e},{q},{u},{int(y)},{float(v).hex()}"
        for e, q, u, y, v in zip(
            annual["entity"],
            annual["quantity"],
            annual["unit"],
            annual["year"],
            annual["value"],
            strict=True,
        )
    )


def daily_digest(daily) -> str:  # type: ignore[no-untyped-def]
    """SHA-256 of every daily value, in (entity, quantity, date) order."""
    frame = daily.astype({"entity": str, "quantity": str}).sort_values(
        ["entity", "quantity", "date"], kind="stable"
    )
    return hashlib.sha256(frame["value"].to_numpy(dtype="float64").tobytes()).hexdigest()


def events_digest(events) -> str:  # type: ignore[no-untyped-def]
    """SHA-256 of every event (time in ns, entity, event, detail), in the run's order."""
    text = "\n".join(
        f"{t.value},{e},{k},{d}"
        for t, e, k, d in zip(
            events["time"], events["entity"], events["event"], events["detail"], strict=True
        )
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def header(res) -> list[str]:  # type: ignore[no-untyped-def]
    """The pinned lines that are not annual values."""
    return [
        f"# wells_at_end {res.meta['wells_at_end']}",
        f"# events {len(res.events)} sha256 {events_digest(res.events)}",
        f"# daily_sha256 {daily_digest(res.daily)}",
    ]


def main() -> None:
    res = simulate.run(load_scenario(ROOT / "scenarios" / "plan.yaml"))
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    lines = [
        f"# plan.yaml daily, seed {res.meta['seed']}, pinned at {commit}",
        *header(res),
        *rows(res.annual),
    ]
    # mtime=0: the same results give the same bytes
    with gzip.GzipFile(PINS, "wb", mtime=0) as f:
        f.write(("\n".join(lines) + "\n").encode("utf-8"))
    print(f"{PINS}: {len(lines) - 4} annual values")


if __name__ == "__main__":
    main()
