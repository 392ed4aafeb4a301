"""Scenarios as the studio sees them: named files, and drafts that ``extends`` one of them.

Nothing the browser sends is a file path. A scenario is named by its id — the stem of a YAML
file in the folder the studio was started on (``scenarios/``) or in the studio's own folder of
saved scenarios (``my-scenarios/``) — and the studio looks the id up in those two folders only.

A draft is a base scenario and the levers changed on it. It becomes scenario text exactly as
it would be saved: a YAML file that ``extends`` its base (relative to ``my-scenarios/``) and
holds only the changed levers, headed by a comment that lists each change. That text is what
is validated (by :func:`cbm_sim.scenario.files.scenario_from_text`, with the messages of
``cbm-sim validate``), what is run, and what is saved, so that ``cbm-sim run`` of the saved
file reproduces the studio's numbers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

import cbm_sim
from cbm_sim.plan.packaged import packaged_data_sha256
from cbm_sim.scenario.files import (
    FieldSource,
    Problem,
    ScenarioError,
    field_sources,
    load_scenario,
)
from cbm_sim.scenario.files import scenario_from_text as _from_text
from cbm_sim.scenario.model import Scenario
from cbm_sim.studio.levers import Lever, LeverError, catalogue, overlay

SAVED_DIR: Final[str] = "my-scenarios"
"""Folder of scenarios saved from the studio, under the workspace (as the README's examples)."""

HEADER: Final[str] = "# Saved from the cbm-sim studio"
"""The first words of every scenario file the studio writes (how it knows its own files)."""
_ID = re.compile(r"^[^\W_][\w.-]{0,99}$")
"""A scenario id: a plain file stem (letters, digits — Chinese too —, ``.``, ``_``, ``-``)."""


class NotFoundError(LookupError):
    """An id the studio does not know (a scenario, a run, a job); ``field`` names the input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def check_id(value: str, field: str = "id") -> str:
    """``value`` if it is a plain scenario id, else :class:`LeverError` naming ``field``."""
    if not isinstance(value, str) or not _ID.fullmatch(value) or ".." in value:
        raise LeverError(
            field,
            f"expected a plain name (letters, digits, '.', '_', '-'; at most 100), got {value!r}",
        )
    return value


@dataclass(frozen=True)
class Base:
    """A scenario file the studio can start from, read and resolved once."""

    id: str
    path: Path
    scenario: Scenario
    levers: dict[str, Lever]
    text: str
    saved: bool


@dataclass(frozen=True)
class Composed:
    """A draft made into scenario text, validated.

    Attributes
    ----------
    base
        The base scenario.
    name
        The draft's scenario name (its file stem when saved).
    text
        The YAML a save writes (``extends`` the base, only the changed levers).
    changes
        ``{lever id: (base value, new value)}`` of the levers changed.
    scenario
        The validated scenario, ``None`` when ``problems``.
    problems
        What ``cbm-sim validate`` would print, one :class:`Problem` each.
    """

    base: Base
    name: str
    text: str
    changes: dict[str, tuple[Any, Any]]
    scenario: Scenario | None
    problems: list[Problem] = field(default_factory=list)
    base_dir: Path = Path(".")

    @property
    def source(self) -> str:
        """The file name problems and ``meta.json`` give the draft (its path once saved)."""
        return f"{SAVED_DIR}/{self.name}.yaml"

    @property
    def key(self) -> str:
        """Content key of the run this draft makes: the resolved scenario without its name
        and description (which do not change a number), so an edit and its saved file share
        one run; with the cbm-sim version and the packaged model data (calibration, type
        curves, valuation), so a folder run by another model is never shown as this one's."""
        assert self.scenario is not None
        data = self.scenario.model_dump_json(exclude={"name", "description"})
        model = f"{cbm_sim.__version__}\n{packaged_data_sha256()}\n"
        return hashlib.sha256((model + data).encode()).hexdigest()[:16]


class Workspace:
    """The studio's folders: the scenarios it starts from, the saved ones, its runs.

    Parameters
    ----------
    scenarios_dir
        Folder of the scenarios offered as bases (``scenarios/``).
    root
        Folder under which ``my-scenarios/`` and ``runs/studio/`` are kept (the cwd).
    """

    def __init__(self, scenarios_dir: Path, root: Path) -> None:
        self.scenarios_dir = scenarios_dir.resolve()
        self.root = root.resolve()
        self.saved_dir = self.root / SAVED_DIR
        self.runs_dir = self.root / "runs" / "studio"
        self._bases: dict[tuple[str, int, int], Base] = {}
        self._lock = threading.Lock()
        self._loading = threading.Lock()

    def files(self) -> dict[str, tuple[Path, bool]]:
        """``{id: (file, saved)}`` of every scenario offered (a saved one never hides a
        shipped one of the same id)."""
        out: dict[str, tuple[Path, bool]] = {}
        for folder, saved in ((self.saved_dir, True), (self.scenarios_dir, False)):
            if folder.is_dir():
                for path in sorted(folder.glob("*.yaml")):
                    if _ID.fullmatch(path.stem) and path.is_file():
                        out[path.stem] = (path, saved)
        return out

    def base(self, scenario_id: str, field: str = "base") -> Base:
        """The scenario ``scenario_id``, read and resolved (cached until its file changes).

        Raises
        ------
        LeverError
            If the id is not a plain name.
        NotFoundError
            If no offered scenario has that id.
        ScenarioError
            If the file is invalid (as ``cbm-sim validate`` says).
        """
        check_id(scenario_id, field)
        hit = self.files().get(scenario_id)
        if hit is None:
            raise NotFoundError(field, f"no scenario {scenario_id!r} in the studio's folders")
        path, saved = hit
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        with self._lock:
            cached = self._bases.get(key)
        if cached is not None:
            return cached
        # one thread reads a base (≈ 1.5 s for the plan scenario); the others asking for it
        # at the same moment wait for its result instead of reading it again
        with self._loading:
            with self._lock:
                cached = self._bases.get(key)
            if cached is not None:
                return cached
            scenario = load_scenario(path)
            levers = {lever.id: lever for lever in catalogue(scenario, _lines(path))}
            text = path.read_text(encoding="utf-8")
            found = Base(scenario_id, path, scenario, levers, text, saved)
            with self._lock:
                self._bases[key] = found
        return found

    def extends_ref(self, base: Base) -> str:
        """The base file as a path relative to :attr:`saved_dir` (what ``extends`` holds)."""
        return Path(os.path.relpath(base.path, self.saved_dir)).as_posix()

    def compose(
        self,
        base_id: str,
        changes: Mapping[str, Any],
        *,
        name: str | None = None,
        description: str = "",
    ) -> Composed:
        """The draft ``changes`` on ``base_id`` as scenario text, validated.

        Raises
        ------
        LeverError
            An unknown lever, a value of the wrong type, or a bad name.
        NotFoundError
            An unknown base.
        """
        base = self.base(base_id)
        name = check_id(name, "name") if name else f"{base.scenario.name}-studio"
        if len(description) > 2000:
            raise LeverError(
                "description", f"expected at most 2,000 characters, got {len(description):,}"
            )
        data, kept = overlay(base.scenario, base.levers, changes)
        text = render(self.extends_ref(base), base, name, description, data, kept)
        try:
            scenario = _from_text(text, source=f"{SAVED_DIR}/{name}.yaml", base_dir=self.saved_dir)
        except ScenarioError as exc:
            return Composed(base, name, text, kept, None, list(exc.problems), self.saved_dir)
        return Composed(base, name, text, kept, scenario, [], self.saved_dir)

    def save(self, composed: Composed, *, overwrite: bool = False) -> Path:
        """Write a valid draft to ``my-scenarios/<name>.yaml`` through the shared writer
        (:func:`cbm_sim.results.writer.write_text`: staged, swapped in whole, recorded as
        cbm-sim's; a file the studio did not write is never replaced).

        Raises
        ------
        LeverError
            If the draft is invalid, or the name is taken (by a shipped scenario, or by a saved
            one without ``overwrite``).
        """
        if composed.scenario is None:
            raise LeverError("changes", "the scenario is invalid; fix the problems first")
        taken = self.files().get(composed.name)
        if taken is not None and (not taken[1] or not overwrite):
            where = "a shipped scenario" if not taken[1] else "a saved scenario"
            hint = "" if not taken[1] else "; save with overwrite to replace it"
            raise LeverError("name", f"{composed.name!r} is already {where}{hint}")
        if taken is not None and taken[0].resolve() == composed.base.path.resolve():
            raise LeverError("name", f"{composed.name!r} is the base itself; choose another name")
        from cbm_sim.results import ownership, writer

        target = self.saved_dir / f"{composed.name}.yaml"
        try:
            return writer.write_text(
                target,
                composed.text,
                overwrite=overwrite,
                recognise=ownership.text_starting(HEADER),
            )
        except writer.OutputExistsError as exc:
            raise LeverError("name", str(exc)) from None


def _lines(path: Path) -> dict[str, FieldSource]:
    try:
        return field_sources(path)
    except ScenarioError:  # pragma: no cover - load_scenario read it a moment ago
        return {}


def render(
    extends: str,
    base: Base,
    name: str,
    description: str,
    data: Mapping[str, Any],
    kept: Mapping[str, tuple[Any, Any]],
) -> str:
    """The YAML of a draft: a header naming each change (base → new), ``extends``, ``name``,
    ``description`` and the overlay."""
    head = [
        f"{HEADER} ({dt.date.today().isoformat()}): {base.id} with "
        f"{len(kept)} lever{'s' if len(kept) != 1 else ''} changed.",
        "# assumption: every change below is the planner's, made in the studio; the values it",
        "# replaces and their sources are in the base file.",
    ]
    for lever_id, (old, new) in kept.items():
        head.append(f"#   {lever_id}: {_short(old)} -> {_short(new)}")
    body: dict[str, Any] = {"extends": extends, "name": name}
    if description:
        body["description"] = description
    body.update(data)
    text = yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=100)
    return "\n".join(head) + "\n" + text


def _short(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else value
    text = " ".join(text.split())
    return text if len(text) <= 90 else text[:87] + "..."
