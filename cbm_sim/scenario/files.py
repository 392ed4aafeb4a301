"""Scenario files: YAML with line numbers, ``extends`` resolution, and readable errors.

A scenario file is parsed once into both its data and a tree of source locations (file and
line of every key and list item, from the YAML node marks). ``extends`` chains are merged
data-and-locations together, so that when the merged document fails validation every
problem is reported against the file and line that *set* the offending value:

.. code-block:: text

    scenarios/typo.yaml:7: lng.plantz: unknown key 'plantz'; did you mean 'plants'?

Merge rule (``extends``): mappings merge key by key, recursively; lists and scalars in the
child replace the parent's whole.
"""

from __future__ import annotations

import copy
import difflib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from cbm_sim.scenario import reading, runsize
from cbm_sim.scenario.model import FieldError, MultiFieldError, Scenario
from cbm_sim.scenario.uncertainty import unwrap_type


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario: where (file, line, field path) and what was expected."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ScenarioError(ValueError):
    """A scenario could not be read or validated; ``problems`` says where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class _Located:
    """Source location of one YAML node, with those of its children (keys as ``str``)."""

    file: str
    line: int
    children: dict[str, _Located] | list[_Located] = field(default_factory=dict)

    def find(self, loc: tuple[Any, ...]) -> tuple[_Located, str]:
        """Deepest node along ``loc`` (values left at their default have none), and ``loc``
        written as a field path (``lng.plants[0].commissioned``)."""
        node, path, inside = self, "", True
        for part in loc:
            kids = node.children if inside else None
            if isinstance(kids, list) and isinstance(part, int) and 0 <= part < len(kids):
                node = kids[part]
            elif isinstance(kids, dict) and str(part) in kids:
                node = kids[str(part)]
            else:
                inside = False
            in_list = isinstance(part, int) and not isinstance(kids, dict)
            path = f"{path}[{part}]" if in_list else f"{path}.{part}" if path else str(part)
        return node, path


def _problem(file: str, line: int | None, path: str, message: str) -> ScenarioError:
    return ScenarioError([Problem(file, line, path, message)])


def _parse(text: str, source: str) -> tuple[Any, _Located]:
    """Data and source locations of one YAML document, within the limits of
    :mod:`~cbm_sim.scenario.reading` (size, characters, depth, alias expansion)."""
    try:
        if len(text) > reading.MAX_FILE_BYTES:
            raise reading.InputError(
                f"text too large: {len(text):,} characters; at most {reading.MAX_FILE_BYTES:,}"
            )
        reading.check_printable(text)
    except reading.InputError as exc:
        raise _problem(source, exc.line, "", str(exc)) from None
    parsed = None
    fast = reading.libyaml_loader(text)
    if fast is not None:
        try:
            parsed = _compose(fast, source)
        except Exception:  # libyaml's wording or verdict: PyYAML's, from its own parser below
            parsed = None
    try:
        data, located = _compose(reading.BoundedLoader(text), source) if parsed is None else parsed
    except reading.InputError as exc:
        raise _problem(source, exc.line, "", str(exc)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        what = " ".join(str(x) for x in (exc.context, exc.problem) if x)
        raise _problem(source, line, "", f"malformed YAML: {what}") from None
    except yaml.reader.ReaderError as exc:  # the characters are checked above; a safety net
        line = text.count("\n", 0, exc.position) + 1
        raise _problem(source, line, "", f"malformed YAML: {exc.reason}") from None
    except yaml.YAMLError as exc:
        raise _problem(source, None, "", f"malformed YAML: {exc}") from None
    if not isinstance(data, dict):
        raise _problem(
            source,
            located.line,
            "",
            f"expected a mapping of scenario sections, got a {type(data).__name__}",
        )
    return data, located


def _compose(loader: yaml.SafeLoader, source: str) -> tuple[Any, _Located]:
    """The data and source locations of ``loader``'s one document (``{}`` for none), within
    the node and alias limits; the loader disposed of."""
    try:
        node = loader.get_single_node()
        if node is None:
            return {}, _Located(source, 1)
        reading.check_expansion(node)
        located = _locate(loader, node, source)
        return loader.construct_document(node), located
    finally:
        loader.dispose()


_MERGE_TAG = "tag:yaml.org,2002:merge"


def _locate(loader: yaml.SafeLoader, node: yaml.Node, source: str) -> _Located:
    here = _Located(source, node.start_mark.line + 1)
    if isinstance(node, yaml.SequenceNode):
        here.children = [_locate(loader, item, source) for item in node.value]
    elif isinstance(node, yaml.MappingNode):
        kids: dict[str, _Located] = {}
        merged: dict[str, _Located] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:  # ``<<: *base``: the keys of base, where not set
                merged = {**_merged_keys(loader, value_node, source), **merged}
                continue
            key = str(loader.construct_object(key_node, deep=True))
            line = key_node.start_mark.line + 1
            if key in kids:
                raise _problem(
                    source, line, key, f"duplicate key {key!r} (first set at line {kids[key].line})"
                )
            child = _locate(loader, value_node, source)
            kids[key] = _Located(source, line, child.children)
        here.children = {**merged, **kids}
    return here


def _merged_keys(loader: yaml.SafeLoader, value: yaml.Node, source: str) -> dict[str, _Located]:
    """The located keys a YAML merge key (``<<``) brings: of one mapping, or of a list of
    them, the earlier ones first (YAML 1.1 merge: the first mapping that sets a key wins)."""
    maps = value.value if isinstance(value, yaml.SequenceNode) else [value]
    out: dict[str, _Located] = {}
    for item in reversed(maps):
        if isinstance(item, yaml.MappingNode):  # otherwise the constructor reports it
            children = _locate(loader, item, source).children
            assert isinstance(children, dict)
            out.update(children)
    return out


def _merge(base: tuple[Any, _Located], over: tuple[Any, _Located]) -> tuple[Any, _Located]:
    """``over`` on top of ``base``: mappings merged recursively, everything else replaced."""
    (bd, bl), (od, ol) = base, over
    if not (isinstance(bd, dict) and isinstance(od, dict)):
        return od, ol
    assert isinstance(bl.children, dict) and isinstance(ol.children, dict)
    data, kids = dict(bd), dict(bl.children)
    for key, value in od.items():
        k = str(key)
        if key in bd and k in kids:
            data[key], kids[k] = _merge((bd[key], kids[k]), (value, ol.children[k]))
        else:
            data[key], kids[k] = value, ol.children[k]
    return data, _Located(ol.file, ol.line, kids)


def _resolve(
    text: str, source: str, base_dir: Path, chain: tuple[Path, ...]
) -> tuple[Any, _Located]:
    """One file's data with its ``extends`` chain merged in (``extends`` removed)."""
    data, located = _parse(text, source)
    if "extends" not in data:
        return data, located
    parent_ref = data.pop("extends")
    assert isinstance(located.children, dict)
    line = located.children.pop("extends").line
    if not isinstance(parent_ref, str) or not parent_ref:
        raise _problem(source, line, "extends", f"expected a file path, got {parent_ref!r}")
    if len(chain) >= reading.MAX_EXTENDS:
        raise _problem(
            source,
            line,
            "extends",
            f"extends chain longer than {reading.MAX_EXTENDS} files "
            f"(from {chain[0].name}); merge some of them",
        )
    shown = reading.shown_path(parent_ref)
    try:
        parent = (base_dir / parent_ref).resolve()
        is_file = parent.is_file()
    except (OSError, ValueError, RuntimeError) as exc:
        raise _problem(
            source, line, "extends", f"cannot use '{shown}': {reading.os_problem(exc)}"
        ) from None
    if parent in chain:
        cycle = " -> ".join(p.name for p in (*chain, parent))
        raise _problem(source, line, "extends", f"cyclic extends: {cycle}")
    if not is_file:
        raise _problem(
            source,
            line,
            "extends",
            f"expected an existing file, {reading.shown_path(parent)} not found",
        )
    parent_source = _display(parent)
    try:
        parent_text = reading.read_text(parent)
    except reading.InputError as exc:
        if exc.line is None:  # could not open it: the child's extends line is to blame
            raise _problem(source, line, "extends", f"{parent_source}: {exc}") from None
        raise _problem(parent_source, exc.line, "", str(exc)) from None
    parent_data = _resolve(parent_text, parent_source, parent.parent, (*chain, parent))
    return _merge(parent_data, (data, located))


def _display(path: Path) -> str:
    """``path`` relative to the cwd when below it (shorter messages), else absolute; printable."""
    try:
        return reading.shown_path(path.resolve().relative_to(Path.cwd()))
    except (ValueError, OSError, RuntimeError):
        return reading.shown_path(path)


def _fields_at(loc: tuple[Any, ...]) -> list[str]:
    """Valid keys of the model at ``loc`` in a :class:`Scenario` ([] if not a model)."""
    tp: Any = Scenario
    for part in loc:
        tp = unwrap_type(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if part not in tp.model_fields:
                return []
            tp = tp.model_fields[part].annotation
        elif typing.get_origin(tp) in (dict, list):
            tp = typing.get_args(tp)[-1]
        else:
            return []
    tp = unwrap_type(tp)
    return list(tp.model_fields) if isinstance(tp, type) and issubclass(tp, BaseModel) else []


def _closest(key: str, valid: list[str]) -> list[str]:
    return difflib.get_close_matches(key, valid, n=1)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _explain_all(err: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    """Locations and one-line messages of one pydantic error (several for
    :class:`~cbm_sim.scenario.model.MultiFieldError`)."""
    cause = (err.get("ctx") or {}).get("error")
    if isinstance(cause, MultiFieldError):
        loc = tuple(p for p in err["loc"] if p != "[key]")
        return [(loc + e.loc, str(e)) for e in cause.errors]
    return [_explain(err)]


def _explain(err: dict[str, Any]) -> tuple[tuple[Any, ...], str]:
    """Location and one-line message of one pydantic error."""
    loc = tuple(p for p in err["loc"] if p != "[key]")
    kind = err["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        valid = _fields_at(loc[:-1])
        close = _closest(key, valid)
        hint = f"did you mean {close[0]!r}?" if close else f"expected one of: {', '.join(valid)}"
        return loc, f"unknown key {key!r}; {hint}"
    if kind == "missing":
        return loc, "missing required value"
    cause = (err.get("ctx") or {}).get("error")
    if isinstance(cause, ValueError):
        return loc + getattr(cause, "loc", ()) if isinstance(cause, FieldError) else loc, str(cause)
    msg = err["msg"].replace("Input should be", "expected")
    return loc, f"{msg}, got {_short(err['input'])}"


def _problems_of(
    exc: ValidationError, located: _Located, *, skip_missing: bool = False
) -> list[Problem]:
    """One located problem per pydantic error (a typo's missing twin left out, and every
    missing value with ``skip_missing``)."""
    problems = []
    errors = exc.errors()
    # A typo also leaves the intended key missing; the typo's message already says so.
    suggested = {
        (*err["loc"][:-1], close[0])
        for err in errors
        if err["type"] == "extra_forbidden"
        and (close := _closest(str(err["loc"][-1]), _fields_at(err["loc"][:-1])))
    }
    for err in errors:
        if err["type"] == "missing" and (skip_missing or tuple(err["loc"]) in suggested):
            continue
        for loc, message in _explain_all(dict(err)):
            node, path = located.find(loc)
            problems.append(Problem(node.file, node.line, path, message))
    return problems


def _prune(data: Any, errors: list[dict[str, Any]]) -> bool:
    """Remove from ``data`` (in place) every value an error points at, so that the checks
    pydantic runs only on valid sections (duplicate names, dates within the horizon,
    uncertainty paths) can run too; False if some error cannot be removed that way."""
    for err in errors:
        for loc, _ in _explain_all(err):
            if not loc or err["type"] == "missing" or not _drop(data, loc):
                return False  # a rule of the whole scenario, or nothing to fall back on
    return True


def _drop(data: Any, loc: tuple[Any, ...]) -> bool:
    """Delete the mapping entry at ``loc`` in ``data`` (replace a ``name``); False if there
    is none."""
    node = data
    for part in loc[:-1]:
        inside = isinstance(node, dict) and part in node
        inside |= isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if not inside:
            return False
        node = node[part]
    if not (isinstance(node, dict) and loc[-1] in node):
        return False
    if loc[-1] == "name":  # a required key: keep a valid, unique stand-in instead (its
        node["name"] = f"invalid-name-{id(node)}"  # problem was reported; no more about it)
    else:
        del node[loc[-1]]
    return True


def _validate(data: dict[str, Any], located: _Located, *, check_size: bool = True) -> Scenario:
    """The scenario of ``data``, or every problem of it at once.

    Pydantic checks a section's cross-field rules only when its fields are valid; so after
    a failed validation the offending values are dropped (falling back to their defaults) and
    the rest is validated again, up to a few rounds, to report those rules' problems too.
    """
    try:
        scenario = Scenario.model_validate(data)
        if check_size:
            runsize.check(scenario)
        return scenario
    except runsize.RunTooLargeError as exc:
        node, path = located.find(exc.loc)
        raise ScenarioError([Problem(node.file, node.line, path, str(exc))]) from None
    except ValidationError as exc:
        problems = _problems_of(exc, located)
        errors = exc.errors()
    trial = copy.deepcopy(data)
    for _ in range(4):  # assumption: nesting of the model's validators is < 4 levels deep
        if not _prune(trial, [dict(e) for e in errors]):
            break
        try:
            Scenario.model_validate(trial)
            break
        except ValidationError as exc:
            # a later round's "missing" is a required value this loop dropped: not news
            later = _problems_of(exc, located, skip_missing=True)
            # a value this loop dropped may leave its container empty or short: not news
            # either when a problem was already reported inside that container
            problems += [
                p
                for p in later
                if p not in problems and not any(q.path.startswith(f"{p.path}.") for q in problems)
            ]
            errors = exc.errors()
    problems.sort(key=lambda p: (p.file, p.line or 0))
    raise ScenarioError(problems) from None


def scenario_from_text(
    text: str, *, source: str = "<string>", base_dir: Path | None = None
) -> Scenario:
    """Validate scenario YAML text; ``extends`` is resolved against ``base_dir`` (default cwd).

    Raises
    ------
    ScenarioError
        Malformed YAML, missing or cyclic ``extends``, or invalid values, with locations.
    """
    base = Path.cwd() if base_dir is None else base_dir
    data, located = _resolve(text, source, base, ())
    return _validate(data, located)


def load(path: Path, *, check_size: bool = True) -> Scenario:
    """Read, resolve and validate the scenario file at ``path``.

    ``check_size=False`` skips the run-size check against this machine's memory
    (:mod:`~cbm_sim.scenario.runsize`), for a scenario read back from a finished run.

    A file that does not set ``name`` is named after its stem (``pipeline-delay.yaml`` →
    ``pipeline-delay``), so that a child never inherits its parent's name.

    Raises
    ------
    ScenarioError
        As :func:`scenario_from_text`, or if the file cannot be read.
    """
    source = _display(path)
    try:
        text = reading.read_text(path)
    except reading.InputError as exc:
        message = str(exc) if exc.line is not None else f"cannot read scenario file: {exc}"
        raise _problem(
            source, exc.line, "", message.replace("cannot read the file: ", "")
        ) from None
    try:
        resolved = path.resolve()
    except (OSError, ValueError, RuntimeError) as exc:  # pragma: no cover - read_text failed
        raise _problem(source, None, "", f"cannot read scenario file: {exc}") from None
    data, located = _resolve(text, source, resolved.parent, (resolved,))
    assert isinstance(located.children, dict)
    name_at = located.children.get("name")
    if name_at is None or name_at.file != source:
        data["name"] = path.stem
    return _validate(data, located, check_size=check_size)


@dataclass(frozen=True)
class FieldSource:
    """Where a scenario file sets a value: file, line and the comment that gives its source
    (the line's own ``# …`` comment, else the comment lines just above it; "" when none)."""

    file: str
    line: int
    comment: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        return f"{where} # {self.comment}" if self.comment else where


def _comment_at(lines: list[str], line: int) -> str:
    """The comment of 1-based ``line``: its trailing ``# …``, else the block of comment lines
    right above it (a key's source is written either way in the shipped scenarios)."""
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    quoted, hit = "", -1
    for k, ch in enumerate(text):  # a '#' inside quotes is not a comment
        if ch in "'\"" and (not quoted or quoted == ch):
            quoted = "" if quoted else ch
        elif ch == "#" and not quoted and (k == 0 or text[k - 1] in " \t"):
            hit = k
            break
    if hit >= 0 and text[:hit].strip():
        return text[hit + 1 :].strip()
    above: list[str] = []
    k = line - 2
    while k >= 0 and lines[k].lstrip().startswith("#"):
        note = lines[k].lstrip()[1:].strip()
        if not note.startswith("---"):  # a section rule, not the value's source
            above.insert(0, note)
        k -= 1
    return " ".join(above)


def field_sources(path: str | Path) -> dict[str, FieldSource]:
    """File, line and source comment of every value a scenario file (and its ``extends``
    chain) sets, by dotted path (list items by index: ``lng.plants.8.capacity_t_per_day``).

    Values left at their defaults have no entry: their source is the model's default
    (``cbm_sim/scenario/model.py``).

    Raises
    ------
    ScenarioError
        If the file or a parent cannot be read or parsed (as :func:`load`).
    """
    file = Path(path)
    source = _display(file)
    try:
        text = reading.read_text(file)
    except reading.InputError as exc:
        raise _problem(source, exc.line, "", f"cannot read scenario file: {exc}") from None
    resolved = file.resolve()
    _, located = _resolve(text, source, resolved.parent, (resolved,))
    texts: dict[str, list[str]] = {}

    def lines_of(name: str) -> list[str]:
        if name not in texts:
            try:
                texts[name] = reading.read_text(Path(name)).splitlines()
            except reading.InputError:
                texts[name] = []
        return texts[name]

    out: dict[str, FieldSource] = {}

    def walk(node: _Located, prefix: str) -> None:
        kids = node.children
        pairs = kids.items() if isinstance(kids, dict) else enumerate(kids)
        for key, child in pairs:
            where = f"{prefix}.{key}" if prefix else str(key)
            out[where] = FieldSource(
                child.file, child.line, _comment_at(lines_of(child.file), child.line)
            )
            walk(child, where)

    walk(located, "")
    return out


def load_scenario(path: str | Path, *, check_size: bool = True) -> Scenario:
    """Read, resolve (``extends``) and validate a scenario file (and, unless ``check_size``
    is false, that a run of it fits this machine: :func:`cbm_sim.scenario.runsize.check`).

    Raises
    ------
    ScenarioError
        With file, line, field path and expectation of every problem.
    """
    return load(Path(path), check_size=check_size)
