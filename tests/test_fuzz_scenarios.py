"""A scenario mutator (hypothesis) against the contract of issue #18:

    ``cbm-sim validate`` exits 0 — and then the run completes with finite, sane results
    (no NaN or infinity in the results, valuation or target check; the gas balance closes) —
    or exits 2 with every problem at ``file:line``; never a traceback, another status or a hang.

Mutations start from the shipped scenarios: a value anywhere in the document replaced by a
hostile one (non-finite and huge numbers, wrong types, impossible or far dates, long
strings), a key removed or added, or the text damaged (a control character, a cut, a
duplicated line, an alias bomb appended). The number of examples is bounded per CI run
(``FUZZ_EXAMPLES``, default 30; hypothesis' database replays the failures it found first).
Accepted mutants run with monthly steps to keep this fast (a 10-year run takes ~1 s).
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, seed, settings
from hypothesis import strategies as st

from cbm_sim.cli import main
from cbm_sim.results import integrity
from cbm_sim.scenario.files import load_scenario

SCENARIOS = sorted((Path(__file__).parent.parent / "scenarios").glob("*.yaml"))
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))
_LOCATED = re.compile(r"^[^\n:]+\.yaml:\d+: ")

HOSTILE: list[Any] = [
    math.inf,
    -math.inf,
    math.nan,
    1e300,
    -1e300,
    1e12,
    -1,
    0,
    0.0,
    10**40,
    True,
    None,
    "",
    "twelve",
    "x" * 5000,
    [],
    {},
    [1, 2, 3],
    {"a": {"b": {"c": 1}}},
    "2025-02-30",
    "1600-01-01",
    "9999-12-31",
    "../../etc",
]


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value in a YAML document (mappings and lists)."""
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
    return out


def _set(doc: Any, path: tuple[Any, ...], value: Any, *, delete: bool = False) -> None:
    node = doc
    for part in path[:-1]:
        node = node[part]
    if delete and isinstance(node, dict):
        del node[path[-1]]
    elif delete and isinstance(node, list):
        node.pop(path[-1])
    else:
        node[path[-1]] = value


@st.composite
def mutants(draw: st.DrawFn) -> tuple[str, bytes]:
    """A shipped scenario (by name) and a mutated text of it."""
    source = draw(st.sampled_from(SCENARIOS))
    return source.name, _mutate(draw, source.read_text(encoding="utf-8"), source.parent)


def _mutate(draw: st.DrawFn, text: str, folder: Path) -> bytes:
    """``text`` (a YAML file of ``folder``) with one mutation."""
    kind = draw(st.sampled_from(["value", "value", "value", "delete", "add", "text"]))
    if kind == "text":
        data = text.encode("utf-8")
        at = draw(st.integers(0, len(data)))
        how = draw(st.sampled_from(["control", "cut", "duplicate", "bomb", "bytes"]))
        if how == "control":
            char = draw(st.sampled_from([b"\x00", b"\x07", b"\x1b", b"\x7f"]))
            data = data[:at] + char + data[at:]
        elif how == "cut":
            data = data[:at]
        elif how == "duplicate":
            lines = data.splitlines(keepends=True)
            k = draw(st.integers(0, max(0, len(lines) - 1)))
            data = b"".join([*lines[: k + 1], *lines[k:]])
        elif how == "bomb":
            data += b"\nz: &z0 [1, 1, 1, 1, 1, 1, 1, 1]\n" + b"".join(
                f"z{i}: &z{i} [{', '.join([f'*z{i - 1}'] * 8)}]\n".encode() for i in range(1, 9)
            )
        else:
            data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
        return data
    doc = yaml.safe_load(text)
    if "extends" in doc:  # resolve the parent by path relative to the shipped folder
        doc["extends"] = str(folder / doc["extends"])
    paths = _paths(doc)
    path = draw(st.sampled_from(paths))
    if kind == "delete":
        _set(doc, path, None, delete=True)
    elif kind == "add":
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        where = path[:-1] if isinstance(parent, dict) else ()
        _set(doc, (*where, draw(st.sampled_from(["zz", "extends", "seed", "name"]))), 1)
    else:
        _set(doc, path, draw(st.sampled_from(HOSTILE)))
    body = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    return body.encode("utf-8")


def _check_run(path: Path) -> None:
    """The run of an accepted scenario: complete, finite, balance closed (monthly steps)."""
    from cbm_sim.economics.targets import check_targets
    from cbm_sim.economics.valuation import value
    from cbm_sim.results.simulate import run

    scenario = load_scenario(path)
    short = scenario.model_copy(
        update={"horizon": scenario.horizon.model_copy(update={"step_days": 30})}
    )
    results = run(short)  # raises InsaneResultError on NaN/inf or an open balance
    frame = value(results)
    targets = check_targets(results, valuation=frame)
    for table in (results.annual, frame, targets):
        numbers = table.select_dtypes("number").to_numpy(dtype=np.float64)
        assert np.isfinite(numbers).all(), table.columns.tolist()


@pytest.mark.slow
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=mutants())
def test_validate_accepts_only_what_runs_sanely(
    case: tuple[str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name, data = case
    monkeypatch.chdir(tmp_path)
    Path(name).write_bytes(data)
    result = CliRunner().invoke(main, ["validate", name])
    assert "Traceback" not in result.output, result.output
    assert result.exit_code in (0, 2), (result.exit_code, result.output, result.exception)
    event("refused" if result.exit_code == 2 else "accepted: run checked")
    if result.exit_code == 2:
        lines = [ln for ln in result.output.splitlines() if ln.strip()]
        assert lines, "a refusal must say why"
        for line in lines:
            assert _LOCATED.match(line), f"no file:line in {line[:200]!r}"
    else:
        _check_run(Path(name))


# --------------------------------------------------------------------------- the commands
# Issue 26: the contract holds for every command that reads a scenario, not only validate:
# exit 0 with a folder that verifies, or a refusal in one line per problem (exit 2; goal-seek
# may also say in one line that the target is out of reach, exit 1); never a traceback.
# The bases are small (5 years, monthly steps, three uncertain inputs) so that an accepted
# mutant runs in seconds; each command's examples are bounded by FUZZ_COMMAND_EXAMPLES.
FUZZ_COMMAND_EXAMPLES = int(os.environ.get("FUZZ_COMMAND_EXAMPLES", "4"))
SMALL = """\
name: small
horizon: {start: 2021-01-01, end: 2025-12-31, step_days: 30}
lng:
  plants:
    - {name: A, capacity_t_per_day: 500, commissioned: 2023-06-01}
storage:
  projects:
    - {name: T, capacity_1e4_m3: 100, commissioned: 2024-01-01}
uncertainty:
  type_curves.peak_rate_scale: {dist: triangular, low: 0.8, mode: 1.0, high: 1.2}
  wells.pump_failures_per_well_year: {dist: uniform, low: 0.1, high: 0.3}
  demand.industry.annual_1e8_m3: {dist: uniform, low: 0.9, high: 1.1}
correlations:
  - {inputs: [type_curves.peak_rate_scale, wells.pump_failures_per_well_year], rank: -0.3}
"""
COMMANDS = {
    "ensemble": ["ensemble", "s.yaml", "-n", "2", "--workers", "1", "--no-tornado", "-o", "out"],
    "goal-seek": ["goal-seek", "s.yaml", "--lever", "price", "--target", "2025:150"],
    "robustness": ["robustness", "s.yaml", "-o", "out"],
}
_ONE_LINE_ERROR = re.compile(r"^(error: |interrupted)")


def _contract(result: object, exits: tuple[int, ...]) -> None:
    output = result.output  # type: ignore[attr-defined]
    code = result.exit_code  # type: ignore[attr-defined]
    assert "Traceback" not in output, output
    assert code in exits, (code, output, result.exception)  # type: ignore[attr-defined]
    if code:
        lines = [ln for ln in output.splitlines() if ln.strip() and not ln.startswith("│")]
        errors = [ln for ln in lines if _LOCATED.match(ln) or _ONE_LINE_ERROR.match(ln)]
        assert errors, f"a refusal must say why: {output[-500:]}"


@st.composite
def small_mutants(draw: st.DrawFn) -> bytes:
    """The small base with one mutation."""
    return _mutate(draw, SMALL, Path.cwd())


BLOCKS = Path(__file__).parent.parent / "cbm_sim" / "data" / "blocks.yaml"


@st.composite
def blocks_mutants(draw: st.DrawFn) -> bytes:
    """The packaged blocks.yaml with one mutation."""
    return _mutate(draw, BLOCKS.read_text(encoding="utf-8"), BLOCKS.parent)


@pytest.mark.slow
@pytest.mark.parametrize("command", sorted(COMMANDS))
@settings(
    max_examples=FUZZ_COMMAND_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@seed(7)  # the same mutants every run (hypothesis' database replays a failure first)
@given(mutant=small_mutants())
def test_commands_keep_the_contract_on_mutated_scenarios(
    command: str, mutant: bytes, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "s.yaml").write_bytes(mutant)
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        result = CliRunner().invoke(main, COMMANDS[command])
    finally:
        os.chdir(cwd)
    _contract(result, (0, 1, 2) if command == "goal-seek" else (0, 2))
    event(f"{command}: exit {result.exit_code}")
    if result.exit_code == 0 and command != "goal-seek":
        integrity.verify(folder / "out")


@pytest.mark.slow
@settings(
    max_examples=FUZZ_COMMAND_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@seed(7)
@given(mutant=blocks_mutants())
def test_calibrate_write_reserves_keeps_the_contract_on_mutated_blocks(
    mutant: bytes, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """``calibrate`` reads no scenario; its input file is the blocks.yaml it rewrites."""
    path = tmp_path_factory.mktemp("fuzz") / "blocks.yaml"
    path.write_bytes(mutant)
    result = CliRunner().invoke(main, ["calibrate", "--write-reserves", str(path)])
    _contract(result, (0, 2))
    event(f"calibrate --write-reserves: exit {result.exit_code}")
    if result.exit_code == 2:
        assert path.read_bytes() == mutant  # a refused file is left as it was
    else:
        yaml.safe_load(path.read_text(encoding="utf-8"))  # rewritten whole, still YAML
