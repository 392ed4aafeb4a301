"""The member journal of an ensemble: each member written as it finishes, read back to resume.

An ensemble of hundreds of members may die half-way (a scheduler lost, a machine rebooted,
Ctrl-C). Its finished members are not lost: each is written, atomically, to a journal folder
beside the output folder as soon as its worker returns it, and the same command run again
takes them from there and runs only the rest. Member ``i`` always uses the ``i``-th spawned
seed of the root seed, so a resumed ensemble equals the undisturbed one.

The journal folder ``.<out>.members-<key>`` is keyed by the SHA-256 of the resolved scenario,
the root seed and the summary measures: another scenario or seed never reuses it. It is
removed once the ensemble's folder is written.

One JSON file per member (frames in pandas' "split" orientation; Python's ``json`` writes
floats by ``repr``, which reads back bit for bit).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from cbm_sim.scenario.model import Scenario


@dataclass(frozen=True)
class MemberOutcome:
    """What a worker sends back: the summary frames, or the error of a failed member."""

    index: int
    parameters: dict[str, float]
    wide: pd.DataFrame | None = None
    statuses: pd.DataFrame | None = None
    error: str | None = None


def journal_dir(out: Path, scenario: Scenario, seed: int, measures: Sequence[str]) -> Path:
    """The journal folder of an ensemble of ``scenario`` into ``out``."""
    text = f"{scenario.to_yaml()}\nseed={seed}\nmeasures={','.join(measures)}"
    key = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return out.parent / f".{out.name}.members-{key}"


def _frame(data: dict[str, Any] | None) -> pd.DataFrame | None:
    if data is None:
        return None
    return pd.DataFrame(data["data"], columns=data["columns"])


def write_member(journal: Path, outcome: MemberOutcome) -> Path:
    """Write one finished member (atomically: a temporary file renamed into place)."""
    journal.mkdir(parents=True, exist_ok=True)
    body = {
        "index": outcome.index,
        "parameters": outcome.parameters,
        "error": outcome.error,
        "wide": None if outcome.wide is None else outcome.wide.to_dict(orient="split"),
        "statuses": None if outcome.statuses is None else outcome.statuses.to_dict(orient="split"),
    }
    for part in ("wide", "statuses"):
        split = body[part]
        if isinstance(split, dict):
            split.pop("index", None)
    path = journal / f"member-{outcome.index:06d}.json"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(body, default=_plain), encoding="utf-8")
    os.replace(tmp, path)
    return path


def _plain(value: Any) -> Any:
    """numpy scalars as Python numbers (json cannot write them)."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to the member journal")


def read_members(journal: Path) -> dict[int, MemberOutcome]:
    """The members finished so far (unreadable files are skipped: they are run again)."""
    out: dict[int, MemberOutcome] = {}
    if not journal.is_dir():
        return out
    for path in sorted(journal.glob("member-*.json")):
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
            outcome = MemberOutcome(
                index=int(body["index"]),
                parameters={str(k): float(v) for k, v in body["parameters"].items()},
                wide=_frame(body["wide"]),
                statuses=_frame(body["statuses"]),
                error=body["error"],
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
        out[outcome.index] = outcome
    return out


def remove(journal: Path) -> None:
    """Delete the journal (after the ensemble's folder is written)."""
    shutil.rmtree(journal, ignore_errors=True)
