"""The member journal of an ensemble: each member written as it finishes, read back to resume.

An ensemble of hundreds of members may die half-way (a scheduler lost, a machine rebooted,
Ctrl-C). Its finished members are not lost: each is written, atomically, to a journal folder
beside the output folder as soon as its worker returns it, and the same command run again
takes them from there and runs only the rest. Member ``i`` always uses the ``i``-th spawned
seed of the root seed, so a resumed ensemble equals the undisturbed one.

The journal folder ``.<out>.members-<key>`` is keyed by the SHA-256 of the resolved scenario,
the root seed, the summary measures and the cbm-sim version: another scenario, seed or version
never reuses it. It is removed once the ensemble's folder is written.

A journal is never trusted blindly. Each entry (one JSON file per member; frames in pandas'
"split" orientation, floats written by ``repr`` so they read back bit for bit) carries the
member's seed (root seed and spawn key), the scenario's SHA-256, the cbm-sim version, the
measures, its sampled inputs and the SHA-256 of all of it (:func:`entry_digest`). On resume
an entry is used only if it parses, its checksum matches, and its seed, scenario, version,
measures and sampled inputs are those this member would have now; any other is **rejected**
(damaged, edited, or another run's), its member run again, and the caller told
(:class:`JournalRead`). The checksum guards against damage and careless edits, not against
someone who recomputes it: the journal lives in the user's own folder.

A failed member is journaled as a failure (its error, no frames), never as a result: it is
run again on resume.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

import cbm_sim
from cbm_sim.plan.packaged import packaged_data_sha256

if TYPE_CHECKING:
    from cbm_sim.scenario.model import Scenario

FORMAT: Final[int] = 2
"""Version of the entry layout (1: no provenance, no checksum; never read)."""


@dataclass(frozen=True)
class MemberOutcome:
    """What a worker sends back: the summary frames, or the error of a failed member."""

    index: int
    parameters: dict[str, float]
    wide: pd.DataFrame | None = None
    statuses: pd.DataFrame | None = None
    error: str | None = None


@dataclass(frozen=True)
class JournalKey:
    """What every entry of one ensemble's journal must carry."""

    scenario_sha256: str
    seed: int
    measures: tuple[str, ...]
    version: str = cbm_sim.__version__


@dataclass(frozen=True)
class JournalRead:
    """The entries read back: the finished members that verified, and the rejected files
    with why (their members are run again)."""

    members: dict[int, MemberOutcome] = field(default_factory=dict)
    rejected: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str | None:
        """One line on the rejected entries (None when there are none)."""
        if not self.rejected:
            return None
        shown = "; ".join(f"{name}: {why}" for name, why in self.rejected[:3])
        more = f"; {len(self.rejected) - 3} more" if len(self.rejected) > 3 else ""
        return (
            f"{len(self.rejected)} journal entr{'y' if len(self.rejected) == 1 else 'ies'} "
            f"damaged or from another run, recomputed ({shown}{more})"
        )


def key_of(scenario: Scenario, seed: int, measures: Sequence[str]) -> JournalKey:
    """The journal key of an ensemble of ``scenario`` with root ``seed``."""
    digest = hashlib.sha256(scenario.to_yaml().encode("utf-8")).hexdigest()
    return JournalKey(digest, int(seed), tuple(measures))


def journal_dir(out: Path, scenario: Scenario, seed: int, measures: Sequence[str]) -> Path:
    """The journal folder of an ensemble of ``scenario`` into ``out``."""
    key = key_of(scenario, seed, measures)
    text = (
        f"{key.scenario_sha256}\nseed={key.seed}\nmeasures={','.join(key.measures)}\n"
        f"version={key.version}\ndata={packaged_data_sha256()}"
    )  # the packaged model data too: another calibration under one version is another run
    return out.parent / f".{out.name}.members-{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def _frame(data: dict[str, Any] | None) -> pd.DataFrame | None:
    if data is None:
        return None
    return pd.DataFrame(data["data"], columns=data["columns"])


def _split(frame: pd.DataFrame | None) -> dict[str, Any] | None:
    if frame is None:
        return None
    split = frame.to_dict(orient="split")
    split.pop("index", None)
    return split


def _canonical(body: Mapping[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), default=_plain)


def entry_digest(body: Mapping[str, Any]) -> str:
    """SHA-256 of an entry without its ``sha256`` field (canonical JSON: sorted keys)."""
    rest = {k: v for k, v in body.items() if k != "sha256"}
    return hashlib.sha256(_canonical(rest).encode("utf-8")).hexdigest()


def _seed_of(seed: np.random.SeedSequence) -> list[int]:
    return [int(k) for k in seed.spawn_key]


def write_member(
    journal: Path, outcome: MemberOutcome, *, key: JournalKey, seed: np.random.SeedSequence
) -> Path:
    """Write one finished (or failed) member with its provenance and checksum (atomically:
    a temporary file renamed into place)."""
    journal.mkdir(parents=True, exist_ok=True)
    body: dict[str, Any] = {
        "format": FORMAT,
        "index": outcome.index,
        "seed": {"root": key.seed, "spawn_key": _seed_of(seed)},
        "scenario_sha256": key.scenario_sha256,
        "cbm_sim_version": key.version,
        "measures": list(key.measures),
        "parameters": outcome.parameters,
        "error": outcome.error,
        "wide": _split(outcome.wide),
        "statuses": _split(outcome.statuses),
    }
    body = json.loads(_canonical(body))  # numpy scalars as Python numbers, as read back
    body["sha256"] = entry_digest(body)
    path = journal / f"member-{outcome.index:06d}.json"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(_canonical(body), encoding="utf-8")
    os.replace(tmp, path)
    return path


def _plain(value: Any) -> Any:
    """numpy scalars as Python numbers (json cannot write them)."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to the member journal")


def read_members(
    journal: Path,
    *,
    key: JournalKey,
    seeds: Sequence[np.random.SeedSequence],
    parameters: Mapping[int, Mapping[str, float]],
) -> JournalRead:
    """The finished members of ``journal`` that verify against this ensemble.

    Parameters
    ----------
    key
        What every entry must carry (scenario SHA-256, root seed, measures, version).
    seeds
        Member ``i``'s seed sequence at ``seeds[i]``; entries of members beyond it are
        ignored (a smaller ensemble of the same scenario).
    parameters
        Member ``i``'s sampled inputs, drawn again from its seed: an entry must hold them.

    Returns
    -------
    JournalRead
        The members to reuse, and the files rejected with the reason (failed members are
        neither: they are run again quietly).
    """
    out = JournalRead()
    if not journal.is_dir():
        return out
    for path in sorted(journal.glob("member-*.json")):
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
            why, outcome = _verify(body, key, seeds, parameters)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            why, outcome = f"unreadable ({type(exc).__name__})", None
        if why == "beyond":
            continue
        if why is not None:
            out.rejected.append((path.name, why))
        elif outcome is not None and outcome.error is None:
            out.members[outcome.index] = outcome
    return out


def _verify(
    body: Any,
    key: JournalKey,
    seeds: Sequence[np.random.SeedSequence],
    parameters: Mapping[int, Mapping[str, float]],
) -> tuple[str | None, MemberOutcome | None]:
    """Why an entry may not be used (``"beyond"``: a member this ensemble does not have),
    else ``(None, outcome)``."""
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        return "not an entry of this cbm-sim's journal", None
    if body.get("sha256") != entry_digest(body):
        return "its checksum differs (damaged or edited)", None
    index = body["index"]
    if not isinstance(index, int) or index < 0:
        return f"bad member index {index!r}", None
    if index >= len(seeds):
        return "beyond", None
    for what, got, want in (
        ("cbm-sim version", body["cbm_sim_version"], key.version),
        ("scenario", body["scenario_sha256"], key.scenario_sha256),
        ("measures", body["measures"], list(key.measures)),
        ("seed", body["seed"], {"root": key.seed, "spawn_key": _seed_of(seeds[index])}),
    ):
        if got != want:
            return f"another run's entry ({what} differs)", None
    sampled = {str(k): float(v) for k, v in body["parameters"].items()}
    if sampled != dict(parameters.get(index, {})):
        return "another run's entry (sampled inputs differ)", None
    outcome = MemberOutcome(
        index=index,
        parameters=sampled,
        wide=_frame(body["wide"]),
        statuses=_frame(body["statuses"]),
        error=body["error"],
    )
    if outcome.error is None and (outcome.wide is None or outcome.statuses is None):
        return "a result without its frames", None
    return None, outcome


def remove(journal: Path) -> None:
    """Delete the journal (after the ensemble's folder is written)."""
    shutil.rmtree(journal, ignore_errors=True)
