"""Every command keeps the error contract: bad input gets one line per problem naming the
file:line or the option, exit status 2, no traceback (``--debug`` shows it), and nothing is
simulated or written first."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cbm_sim.cli import main

GOOD = """\
name: tiny
horizon: {start: 2021-01-01, end: 2025-12-31, step_days: 30}
uncertainty:
  type_curves.peak_rate_scale: {dist: triangular, low: 0.8, mode: 1.0, high: 1.2}
"""
MISSPELT_PATH = """\
name: misspelt
uncertainty:
  type_curves.peak_rate_scal: {dist: uniform, low: 0.9, high: 1.1}
"""
BACKWARDS_UNIFORM = """\
name: backwards
uncertainty:
  type_curves.peak_rate_scale: {dist: uniform, low: 1.1, high: 0.9}
"""
OUT_OF_FIELD = """\
name: wide
uncertainty:
  type_curves.peak_rate_scale: {dist: uniform, low: 0.5, high: 12}
"""
TWIN_PLANTS = """\
name: twins
lng:
  plants:
    - {name: LNG-1, capacity_t_per_day: 500}
    - {name: LNG-1, capacity_t_per_day: 600}
"""
RETIRED_FIRST = """\
name: retired-first
cng:
  stations:
    - {name: C, capacity_1e4_m3_per_day: 10, commissioned: 2024-01-01, retired: 2023-01-01}
"""
SHORT_CHILD = """\
extends: parent.yaml
horizon: {end: 2023-12-31}
"""
PARENT = """\
name: parent
lng:
  plants:
    - {name: A, capacity_t_per_day: 500, commissioned: 2024-06-01}
storage:
  projects:
    - {name: T, capacity_1e4_m3: 100, commissioned: 2025-01-01}
"""
FILES = {
    "good.yaml": GOOD,
    "misspelt.yaml": MISSPELT_PATH,
    "backwards.yaml": BACKWARDS_UNIFORM,
    "twins.yaml": TWIN_PLANTS,
    "wide.yaml": OUT_OF_FIELD,
    "retired.yaml": RETIRED_FIRST,
    "child.yaml": SHORT_CHILD,
    "parent.yaml": PARENT,
}
GS = ["goal-seek", "good.yaml", "--lever", "drilling"]

# name: (arguments, expected lines: one list of fragments per line, in order)
CASES: dict[str, tuple[list[str], list[list[str]]]] = {
    # validate: everything any command would check, with file:line
    "validate-misspelt-path": (
        ["validate", "misspelt.yaml"],
        [["misspelt.yaml:3:", "did you mean 'peak_rate_scale'?"]],
    ),
    "validate-backwards-uniform": (
        ["validate", "backwards.yaml"],
        [["backwards.yaml:3:", "low < high", "low=1.1 high=0.9"]],
    ),
    "validate-sample-beyond-the-field": (
        ["validate", "wide.yaml"],
        [["wide.yaml:3:", "high 12 is outside the field's bounds (<= 10)"]],
    ),
    "validate-duplicate-names": (
        ["validate", "twins.yaml"],
        [["twins.yaml:5:", "lng.plants[1].name", "duplicate name 'LNG-1'"]],
    ),
    "validate-retired-first": (
        ["validate", "retired.yaml"],
        [["retired.yaml:4:", "retired after commissioned 2024-01-01", "2023-01-01"]],
    ),
    "validate-short-child-all-at-once": (
        ["validate", "child.yaml"],
        [
            ["parent.yaml:4:", "lng.plants[0].commissioned", "2024-06-01"],
            ["parent.yaml:7:", "storage.projects[0].commissioned", "2025-01-01"],
        ],
    ),
    # run
    "run-misspelt-path": (["run", "misspelt.yaml", "-o", "out"], [["misspelt.yaml:3:"]]),
    "run-negative-seed": (["run", "good.yaml", "--seed", "-1"], [["'--seed'", "-1"]]),
    "run-missing-file": (["run", "nope.yaml"], [["nope.yaml", "cannot read"]]),
    # goal-seek: every input checked before the first simulation
    "goal-seek-quantity": (
        [*GS, "--target", "2025:100", "--quantity", "lng.output"],
        [["--quantity", "unknown quantity 'lng.output'"]],
    ),
    "goal-seek-year-outside-horizon": (
        [*GS, "--target", "2035:1000"],
        [["--target", "year 2035 is outside the scenario horizon 2021..2025"]],
    ),
    "goal-seek-bounds-reversed": (
        [*GS, "--target", "2025:100", "--low", "2", "--high", "1"],
        [["--high", "expected high > low 2, got 1"]],
    ),
    "goal-seek-all-at-once": (
        [*GS, "--target", "2035:1", "--quantity", "lng.output", "--low", "2", "--high", "1"],
        [["--quantity"], ["--target", "2035"], ["--high"]],
    ),
    "goal-seek-bound-beyond-field": (
        ["goal-seek", "good.yaml", "--lever", "peak_rate", "--target", "2025:1", "--high", "20"],
        [["--high", "peak_rate_scale", "10"]],
    ),
    "goal-seek-target-format": (
        [*GS, "--target", "500"],
        [["'--target'", "YEAR:VALUE", "'500'"]],
    ),
    "goal-seek-unknown-lever": (
        ["goal-seek", "good.yaml", "--lever", "rigs", "--target", "2025:1"],
        [["'--lever'", "'rigs'"]],
    ),
    "goal-seek-misspelt-path": (
        ["goal-seek", "misspelt.yaml", "--lever", "drilling", "--target", "2025:1"],
        [["misspelt.yaml:3:", "peak_rate_scal"]],
    ),
    "goal-seek-existing-output": (
        [*GS, "--target", "2025:1", "-o", "full"],
        [["full exists", "--overwrite"]],
    ),
    # ensemble: checked before any member runs
    "ensemble-backwards-uniform": (
        ["ensemble", "backwards.yaml", "-o", "ens"],
        [["backwards.yaml:3:", "low < high"]],
    ),
    "ensemble-misspelt-path": (
        ["ensemble", "misspelt.yaml", "-o", "ens"],
        [["misspelt.yaml:3:", "did you mean 'peak_rate_scale'?"]],
    ),
    "ensemble-zero-members": (["ensemble", "good.yaml", "-n", "0", "-o", "ens"], [["'-n'"]]),
    "ensemble-zero-workers": (
        ["ensemble", "good.yaml", "--workers", "0", "-o", "ens"],
        [["'--workers'"]],
    ),
    "ensemble-no-output": (["ensemble", "good.yaml"], [["'-o' / '--output'"]]),
    "ensemble-existing-output": (
        ["ensemble", "good.yaml", "-o", "full"],
        [["full exists", "--overwrite"]],
    ),
    "ensemble-tornado-without-uncertainty": (
        ["ensemble", "parent.yaml", "-o", "ens", "--tornado"],
        [["'--tornado'", "no uncertainty entries"]],
    ),
    # report
    "report-not-pdf": (["report", "good.yaml", "-o", "r.txt"], [["'-o/--output'", ".pdf"]]),
    "report-not-an-ensemble": (
        ["report", "good.yaml", "-o", "r.pdf", "--ensemble", "full"],
        [["'--ensemble'", "not a cbm-sim ensemble directory"]],
    ),
    # no command writes over a file it did not create without --overwrite
    "report-existing-output": (
        ["report", "good.yaml", "-o", "mine.pdf"],
        [["mine.pdf exists", "--overwrite"]],
    ),
    "plan-audit-existing-output": (
        ["plan", "audit", "-o", "mine.csv"],
        [["mine.csv exists", "--overwrite"]],
    ),
    "plan-show-existing-output": (
        ["plan", "show", "blocks", "-o", "mine.csv"],
        [["mine.csv exists", "--overwrite"]],
    ),
    "report-language": (["report", "good.yaml", "-o", "r.pdf", "--lang", "fr"], [["'--lang'"]]),
    "report-bad-scenario": (["report", "backwards.yaml", "-o", "r.pdf"], [["backwards.yaml:3:"]]),
    # compare
    "compare-not-a-run": (["compare", "full"], [["full", "meta.json", "not a cbm-sim result"]]),
    "compare-bad-scenario": (["compare", "twins.yaml"], [["twins.yaml:5:"]]),
    # schema, plan audit: an output that cannot be written names it (a missing folder is
    # made; one that is a file cannot be)
    "schema-unwritable": (
        ["schema", "-o", "mine.csv/dir/s.json"],
        [["cannot write mine.csv/dir/s.json", "mine.csv is not a folder"]],
    ),
    "plan-audit-unwritable": (
        ["plan", "audit", "-o", "mine.csv/dir/a.csv"],
        [["cannot write mine.csv/dir/a.csv", "mine.csv is not a folder"]],
    ),
    "plan-audit-status": (["plan", "audit", "--status", "bad"], [["'--status'", "'bad'"]]),
    # the group itself
    "unknown-command": (["simulate", "good.yaml"], [["No such command 'simulate'"]]),
}


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name, text in FILES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine", encoding="utf-8")
    (tmp_path / "mine.pdf").write_text("a report of mine", encoding="utf-8")
    (tmp_path / "mine.csv").write_text("a table of mine", encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_one_line_per_problem_exit_2(
    case: str, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cbm_sim.results.simulate

    args, expected = CASES[case]
    simulated: list[str] = []
    original = cbm_sim.results.simulate.run

    def spy(scenario, **kwargs):  # type: ignore[no-untyped-def]
        simulated.append(scenario.name)
        return original(scenario, **kwargs)

    monkeypatch.setattr(cbm_sim.results.simulate, "run", spy)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == len(expected), result.output
    for line, fragments in zip(lines, expected, strict=True):
        for fragment in fragments:
            assert fragment in line, (fragment, line)
    assert simulated == [], "bad input must be refused before simulating"
    # nothing written: no output directory, report or chart folder
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [*FILES, "full", "mine.pdf", "mine.csv"]
    )
    assert [p.name for p in (folder / "full").iterdir()] == ["keep.txt"]
    assert (folder / "mine.pdf").read_text(encoding="utf-8") == "a report of mine"
    assert (folder / "mine.csv").read_text(encoding="utf-8") == "a table of mine"


@pytest.mark.parametrize(
    "args",
    [
        [*GS, "--target", "2035:1000", "--debug"],
        ["ensemble", "backwards.yaml", "-o", "ens", "--debug"],
        ["report", "good.yaml", "-o", "r.txt", "--debug"],
        ["schema", "-o", "mine.csv/dir/s.json", "--debug"],
    ],
)
def test_debug_lets_the_exception_through(args: list[str], folder: Path) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code != 0
    raised = result.exception is not None and not isinstance(result.exception, SystemExit)
    assert raised or "Traceback" in result.output, result.output


def test_out_is_a_hidden_alias_of_output(folder: Path) -> None:
    help_text = CliRunner().invoke(main, ["ensemble", "--help"]).output
    assert "-o, --output" in help_text and "--out " not in help_text
    assert "one per CPU" in help_text  # the --workers default is shown
    result = CliRunner().invoke(main, ["ensemble", "backwards.yaml", "--out", "ens"])
    assert result.exit_code == 2 and "backwards.yaml:3:" in result.output


def test_report_page_width_outside_its_bounds_is_bad_input(folder: Path) -> None:
    result = CliRunner().invoke(main, ["report", "good.yaml", "-o", "r.pdf", "--page-width", "30"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "'--page-width'" in lines[0] and "8..18 cm" in lines[0]
    assert not (folder / "r.pdf").exists()
