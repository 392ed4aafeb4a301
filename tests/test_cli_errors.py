"""Every command keeps the error contract: bad input gets one line per problem naming the
file:line or the option, exit status 2, no traceback (``--debug`` shows it), and nothing is
simulated or written first."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from cbm_sim.cli import main
from cbm_sim.wells import calibration

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
LONE_SURROGATE = 'name: "\\ud800"\n'
EVERY_MEMBER_FAILS = """\
name: allfail
horizon: {start: 2021-01-01, end: 2021-12-31, step_days: 30}
uncertainty:
  wells.pump_failures_per_well_year: {dist: normal, mean: -10, sd: 1}
"""
INFEASIBLE_CORRELATIONS = """\
name: corr
uncertainty:
  type_curves.peak_rate_scale: {dist: uniform, low: 0.8, high: 1.2}
  wells.pump_failures_per_well_year: {dist: uniform, low: 0.1, high: 0.3}
  type_curves.incline_days_scale: {dist: uniform, low: 0.8, high: 1.2}
correlations:
  - {inputs: [type_curves.peak_rate_scale, wells.pump_failures_per_well_year], rank: 0.95}
  - {inputs: [wells.pump_failures_per_well_year, type_curves.incline_days_scale], rank: 0.95}
  - {inputs: [type_curves.peak_rate_scale, type_curves.incline_days_scale], rank: -0.95}
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
    "surrogate.yaml": LONE_SURROGATE,
    "badname.yaml": 'name: "bad/name"\n',
    "allfail.yaml": EVERY_MEMBER_FAILS,
    "corr.yaml": INFEASIBLE_CORRELATIONS,
    "wrong-blocks.yaml": "hello: 1\n",
}
EXTRA = ["full", "mine.pdf", "mine.csv", "foreign", "fifo.yaml", "link.csv"]
"""What the folder holds besides FILES: a user's folder, report and table, a folder with a
meta.json cbm-sim did not write, a FIFO and a link pointing out of the folder."""
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
    # issue 26: every case found by trying as an attacker or a clumsy user would
    "validate-lone-surrogate": (
        ["validate", "surrogate.yaml"],
        [["surrogate.yaml:1:", "lone surrogate U+D800"]],
    ),
    "validate-invalid-name-once": (
        ["validate", "badname.yaml"],
        [["badname.yaml:1: name:", "a path separator '/'"]],
    ),
    "validate-infeasible-rank-correlations": (
        ["validate", "corr.yaml"],
        [["corr.yaml:6: correlations:", "not jointly possible", "-0.95"]],
    ),
    "validate-fifo": (["validate", "fifo.yaml"], [["fifo.yaml:", "a FIFO (named pipe)"]]),
    "validate-dev-zero": (["validate", "/dev/zero"], [["/dev/zero:", "a character device"]]),
    "run-fifo": (["run", "fifo.yaml", "-o", "out"], [["fifo.yaml:", "a FIFO"]]),
    "run-over-long-output": (["run", "good.yaml", "-o", "o" * 300], [["file name too long"]]),
    "run-foreign-meta-json-beside-a-precious-file": (
        ["run", "good.yaml", "-o", "foreign", "--overwrite"],
        [["foreign exists and is not a folder cbm-sim wrote (no checksums)"]],
    ),
    "ensemble-every-member-fails": (
        ["ensemble", "allfail.yaml", "-n", "3", "--workers", "1", "-o", "ens"],
        [["3 of 3 members failed, 0 ran", "wells.pump_failures_per_well_year"]],
    ),
    "ensemble-a-billion-members": (
        ["ensemble", "good.yaml", "-n", "1000000000", "-o", "ens"],
        [["'-n' / '--members'", "1,000,000,000 members", "limit of 100,000 runs"]],
    ),
    "ensemble-malformed-scheduler": (
        ["ensemble", "good.yaml", "--scheduler", "tcp//nowhere", "-o", "ens"],
        [["'--scheduler'", "tcp://host:8786", "'tcp//nowhere'"]],
    ),
    "sensitivity-too-many-runs": (
        ["sensitivity", "good.yaml", "--sobol", "131072", "-o", "sob"],
        [["'--sobol'", "limit of 100,000 runs"]],
    ),
    "calibrate-negative-seed": (["calibrate", "--seed", "-1"], [["'--seed'", "-1"]]),
    "calibrate-write-reserves-on-a-wrong-file": (
        ["calibrate", "--write-reserves", "wrong-blocks.yaml"],
        [["--write-reserves wrong-blocks.yaml: not a blocks.yaml", "proved_reserves_m3"]],
    ),
    "calibrate-write-parameters-where-no-folder-can-be": (
        ["calibrate", "--fit", "--write-parameters", "mine.csv/cal.yaml"],
        [["cannot write mine.csv/cal.yaml", "mine.csv is not a folder"]],
    ),
    "calibrate-write-parameters-over-a-users-file": (
        ["calibrate", "--fit", "--write-parameters", "mine.csv", "--overwrite"],
        [["mine.csv exists and is not a file cbm-sim wrote"]],
    ),
    "calibrate-output-through-a-link": (
        ["calibrate", "-o", "link.csv"],
        [["link.csv is a symbolic link", "does not write through links"]],
    ),
    "report-overwrite-a-users-pdf": (
        ["report", "good.yaml", "-o", "mine.pdf", "--overwrite"],
        [["mine.pdf exists and is not a file cbm-sim wrote"]],
    ),
    "compare-overwrite-a-users-table": (
        ["compare", "good.yaml", "-o", "mine.csv", "--overwrite"],
        [["mine.csv exists and is not a file cbm-sim wrote"]],
    ),
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
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "meta.json").write_text("{}", encoding="utf-8")
    (tmp_path / "foreign" / "precious.txt").write_text("a day's work", encoding="utf-8")
    os.mkfifo(tmp_path / "fifo.yaml")
    (tmp_path / "link.csv").symlink_to(tmp_path.parent / "outside.csv")
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
    monkeypatch.setattr(calibration, "fit", lambda *a, **k: pytest.fail("fitted first"))
    started = time.monotonic()
    result = CliRunner().invoke(main, args)
    assert time.monotonic() - started < 60, "refused at once, never a hang"
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == len(expected), result.output
    for line, fragments in zip(lines, expected, strict=True):
        for fragment in fragments:
            assert fragment in line, (fragment, line)
    assert simulated == [], "bad input must be refused before simulating"
    # nothing written: no output directory, report or chart folder
    assert sorted(p.name for p in folder.iterdir()) == sorted([*FILES, *EXTRA])
    for name, text in FILES.items():
        assert (folder / name).read_text(encoding="utf-8") == text, name
    assert [p.name for p in (folder / "full").iterdir()] == ["keep.txt"]
    assert sorted(p.name for p in (folder / "foreign").iterdir()) == ["meta.json", "precious.txt"]
    assert not (folder.parent / "outside.csv").exists()
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


def test_write_parameters_makes_its_folder_and_replaces_only_a_calibration(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cbm_sim.cli.calibrate_cmd import CALIBRATION_MARK

    start = calibration.calibration_from_vector([p.start for p in calibration.PARAMETERS])
    fitted = calibration.FitResult(start, 1.0, True, "stand-in for the 47 s fit", 1)
    monkeypatch.setattr(calibration, "fit", lambda *a, **k: fitted)
    out = folder / "new" / "folder" / "calibration.yaml"
    args = ["calibrate", "--fit", "--write-parameters", str(out)]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    assert out.read_text(encoding="utf-8").startswith(CALIBRATION_MARK)
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 2 and "exists; pass --overwrite" in again.output
    assert CliRunner().invoke(main, [*args, "--overwrite"]).exit_code == 0
    # a calibration cbm-sim wrote is recognised by its header, ledger or not (the packaged one)
    (out.parent / ".cbm-sim-files.json").unlink()
    assert CliRunner().invoke(main, [*args, "--overwrite"]).exit_code == 0
    shipped = Path(calibration.__file__).parent.parent / "data" / "calibration.yaml"
    assert shipped.read_text(encoding="utf-8").startswith(CALIBRATION_MARK)
