"""The ``cbm-sim`` command line: bad input gets one located message and status 2; runs are
written whole or not at all."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import click
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from cbm_sim.cli import main
from cbm_sim.results.integrity import write_meta
from cbm_sim.results.rundir import OUTPUT_FILES
from cbm_sim.scenario.model import Scenario

SCENARIOS = Path(__file__).parent.parent / "scenarios"

# name: (files {name: text}, file given to the command, file:line, field path, expected bits)
BAD_INPUT = {
    "typo-top-level": (
        {"s.yaml": "name: x\nhorizn:\n  step_days: 2\n"},
        "s.yaml",
        "s.yaml:2",
        "horizn",
        ["unknown key 'horizn'", "did you mean 'horizon'?"],
    ),
    "typo-nested": (
        {"s.yaml": "lng:\n  plants:\n    - name: A\n      capacity_t_per_dya: 500\n"},
        "s.yaml",
        "s.yaml:4",
        "lng.plants[0].capacity_t_per_dya",
        ["did you mean 'capacity_t_per_day'?"],
    ),
    "wrong-type": (
        {"s.yaml": "name: x\nseed: twelve\n"},
        "s.yaml",
        "s.yaml:2",
        "seed",
        ["expected a valid integer", "'twelve'"],
    ),
    "negative-capacity": (
        {"s.yaml": "pipelines:\n  lines:\n    - name: A\n      capacity_1e8_m3_per_year: -5\n"},
        "s.yaml",
        "s.yaml:4",
        "pipelines.lines[0].capacity_1e8_m3_per_year",
        ["expected greater than 0", "-5"],
    ),
    "share-outside-0-1": (
        {"s.yaml": "mine_gas:\n  usable_share:\n    2021: 0.6\n    2025: 1.2\n"},
        "s.yaml",
        "s.yaml:4",
        "mine_gas.usable_share.2025",
        ["expected a share in 0..1", "1.2"],
    ),
    "date-outside-horizon": (
        {
            "s.yaml": "storage:\n  projects:\n    - name: T\n      capacity_1e4_m3: 100\n"
            "      commissioned: 2033-06-30\n"
        },
        "s.yaml",
        "s.yaml:5",
        "storage.projects[0].commissioned",
        ["expected a date within the horizon 2021-01-01 .. 2030-12-31", "2033-06-30"],
    ),
    "unknown-block": (
        {"s.yaml": "drilling:\n  blocks:\n    zhengzhaung:\n      rigs: 3\n"},
        "s.yaml",
        "s.yaml:3",
        "drilling.blocks.zhengzhaung",
        ["unknown block 'zhengzhaung'", "did you mean 'zhengzhuang'?"],
    ),
    "missing-extends": (
        {"s.yaml": "name: x\nextends: no-such-parent.yaml\n"},
        "s.yaml",
        "s.yaml:2",
        "extends",
        ["expected an existing file", "no-such-parent.yaml"],
    ),
    "cyclic-extends": (
        {"a.yaml": "extends: b.yaml\n", "b.yaml": "seed: 3\nextends: a.yaml\n"},
        "a.yaml",
        "b.yaml:2",
        "extends",
        ["cyclic extends: a.yaml -> b.yaml -> a.yaml"],
    ),
    "malformed-yaml": (
        {"s.yaml": "name: x\nlng: {plants: [\nseed: 1\n"},
        "s.yaml",
        "s.yaml:4",
        "",
        ["malformed YAML"],
    ),
    "duplicate-key": (
        {"s.yaml": "seed: 1\nname: x\nseed: 2\n"},
        "s.yaml",
        "s.yaml:3",
        "seed",
        ["duplicate key 'seed' (first set at line 1)"],
    ),
    "error-set-by-parent": (
        {"p.yaml": "lng:\n  demand_1e4_t_per_year: {2025: -100}\n", "c.yaml": "extends: p.yaml\n"},
        "c.yaml",
        "p.yaml:2",
        "lng.demand_1e4_t_per_year.2025",
        ["expected a value >= 0", "-100"],
    ),
    "not-a-mapping": (
        {"s.yaml": "- seed: 1\n"},
        "s.yaml",
        "s.yaml:1",
        "",
        ["expected a mapping of scenario sections, got a list"],
    ),
}


def _setup(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")


@pytest.mark.parametrize("command", ["validate", "run"])
@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_bad_input_gives_a_located_message_and_status_2(
    case: str, command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files, given, where, path, expected = BAD_INPUT[case]
    monkeypatch.chdir(tmp_path)
    _setup(tmp_path, files)
    args = [command, given] + (["-o", "out"] if command == "run" else [])
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output  # one short message
    prefix = f"{where}: {path}: " if path else f"{where}: "
    assert lines[0].startswith(prefix), lines[0]
    for bit in expected:
        assert bit in lines[0]
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_debug_shows_the_exception(tmp_path: Path) -> None:
    bad = tmp_path / "s.yaml"
    bad.write_text("seed: -3\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", "--debug", str(bad)])
    assert result.exit_code != 0
    assert type(result.exception).__name__ == "ScenarioError"
    assert "-3" in str(result.exception)


def test_validate_accepts_every_shipped_scenario() -> None:
    files = sorted(str(p) for p in SCENARIOS.glob("*.yaml"))
    result = CliRunner().invoke(main, ["validate", *files])
    assert result.exit_code == 0, result.output
    assert result.output.count("ok: ") == len(files)


def test_validate_reports_every_bad_file_and_still_checks_the_good(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("sede: 1\n", encoding="utf-8")
    result = CliRunner().invoke(
        main, ["validate", str(tmp_path / "bad.yaml"), str(SCENARIOS / "plan.yaml")]
    )
    assert result.exit_code == 2
    assert "did you mean 'seed'?" in result.output and "ok: " in result.output


def test_missing_scenario_file_is_bad_input(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "nope.yaml" in result.output and "cannot read" in result.output


def test_every_command_has_help() -> None:
    def walk(group: click.Group, prefix: list[str]) -> list[list[str]]:
        out = [prefix]
        for name, cmd in group.commands.items():
            out += walk(cmd, [*prefix, name]) if isinstance(cmd, click.Group) else [[*prefix, name]]
        return out

    paths = walk(main, [])
    assert {"run", "validate", "compare", "schema"} <= {p[0] for p in paths if p}
    for path in paths:
        result = CliRunner().invoke(main, [*path, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output, path


def test_schema_is_the_models_json_schema(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.output) == Scenario.model_json_schema()
    out = tmp_path / "scenario.schema.json"
    assert CliRunner().invoke(main, ["schema", "-o", str(out)]).exit_code == 0
    assert json.loads(out.read_text(encoding="utf-8")) == Scenario.model_json_schema()


def test_existing_output_directory_is_refused_without_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "meta.json").write_text('{"keep": 1}', encoding="utf-8")
    result = CliRunner().invoke(main, ["run", str(SCENARIOS / "plan.yaml"), "-o", str(out)])
    assert result.exit_code == 2
    assert str(out) in result.output and "--overwrite" in result.output
    assert (out / "meta.json").read_text(encoding="utf-8") == '{"keep": 1}'


def test_interrupted_run_leaves_no_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import cbm_sim.results.simulate

    calls = []

    def failing_run(
        scenario: Scenario, *, seed: object = None, progress: Callable[[float], None]
    ) -> None:
        calls.append(scenario.name)
        progress(0.4)
        raise RuntimeError("disk full half way")

    monkeypatch.setattr(cbm_sim.results.simulate, "run", failing_run)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", str(SCENARIOS / "plan.yaml"), "-o", str(out)])
    assert calls == ["plan"]  # the failure happened inside the run, not before it
    assert result.exit_code == 1
    assert "disk full half way" in result.output and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []  # no output directory, no temporary left behind


def _run_dir(folder: Path, name: str, simulated_2025: float) -> Path:
    folder.mkdir()
    pd.DataFrame(
        {
            "year": [2025, 2025, 2030],
            "sub_cluster": ["total", "exploration", "total"],
            "item": ["", "", ""],
            "simulated": [simulated_2025, 100.0, 900.0],
            "target": [500.0, 167.0, 1000.0],
            "gap": [simulated_2025 - 500.0, -67.0, -100.0],
            "gap_pct": [(simulated_2025 - 500.0) / 5.0, -40.1, -10.0],
            "status": ["met" if simulated_2025 >= 500 else "short", "short", "short"],
        }
    ).to_csv(folder / "targets.csv", index=False)
    write_meta(folder, {"scenario": name}, ["targets.csv"])
    return folder


def test_compare_puts_runs_side_by_side(tmp_path: Path) -> None:
    a = _run_dir(tmp_path / "a", "plan", 510.0)
    b = _run_dir(tmp_path / "b", "pipeline-delay", 450.0)
    out = tmp_path / "cmp.csv"
    result = CliRunner().invoke(main, ["compare", str(a), str(b), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "510" in result.output and "450" in result.output
    wide = pd.read_csv(out)
    assert len(wide) == 3
    row = wide[(wide["year"] == 2025) & (wide["sub_cluster"] == "total")].iloc[0]
    assert row["target"] == 500.0
    assert (row["plan: simulated"], row["pipeline-delay: simulated"]) == (510.0, 450.0)
    assert (row["plan: status"], row["pipeline-delay: status"]) == ("met", "short")
    # deltas against the first scenario, units, totals first
    assert row["pipeline-delay: delta"] == -60.0
    assert set(wide["unit"]) == {"亿元"}
    assert wide[["year", "sub_cluster"]].to_numpy().tolist() == [
        [2025, "total"],
        [2025, "exploration"],
        [2030, "total"],
    ]
    assert "-60.0" in result.output and "Δ against plan" in result.output


def test_compare_refuses_a_directory_that_is_not_a_run(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["compare", str(tmp_path)])
    assert result.exit_code == 2 and "meta.json: missing" in result.output
    unverified = CliRunner().invoke(main, ["compare", "--no-verify", str(tmp_path)])
    assert unverified.exit_code == 2 and "targets.csv: missing" in unverified.output


@pytest.mark.slow
def test_run_writes_the_output_contract(tmp_path: Path) -> None:
    # A weekly step keeps this end-to-end run short; the scenario is otherwise frozen-2021.
    scenario = tmp_path / "weekly.yaml"
    scenario.write_text(
        f"extends: {SCENARIOS / 'frozen-2021.yaml'}\nhorizon: {{step_days: 7}}\n", encoding="utf-8"
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", str(scenario), "-o", str(out), "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUT_FILES)
    assert "verdict 2025" in result.output and "verdict 2030" in result.output
    assert json.loads((out / "meta.json").read_text(encoding="utf-8"))["seed"] == 3
    # the 2021 backtest line is the run's own valuation of 2021 against the plan's 150.3
    from cbm_sim.economics.valuation import backtest_2021
    from cbm_sim.results import Results

    backtest = backtest_2021(Results.from_parquet(out)).set_index("category")
    total = backtest.loc["total"]
    assert total["plan_1e8_yuan"] == 150.3
    assert (
        "backtest 2021, the plan's five categories (ch1 §2 八), like for like: "
        f"{total['simulated_1e8_yuan']:,.1f} of the plan's 150.3 亿元"
    ) in result.output
    gas_use = backtest.loc["gas_use"]
    assert f"gas use {gas_use['simulated_1e8_yuan']:,.1f} / 4.7" in result.output
    assert "outside the 2021 statistic (not counted)" in result.output
    targets = pd.read_csv(out / "targets.csv")
    assert {"physical", "total"} <= set(targets["sub_cluster"])
    # every row says what its figure is; the CLI prints the same marks (issue 24)
    assert targets["basis"].isin(["computed", "input", "exogenous", "computed + exogenous"]).all()
    rows = targets.set_index(["item", "year"])
    assert rows.loc[("production.underground", 2025), "basis"] == "input"
    assert rows.loc[("pipeline.exports", 2025), "target_kind"] == "cap"
    underground = next(ln for ln in result.output.splitlines() if "production.underground" in ln)
    exports = next(ln for ln in result.output.splitlines() if "pipeline.exports" in ln)
    assert "input" in underground and "cap" in exports
    again = CliRunner().invoke(main, ["run", str(scenario), "-o", str(out), "--overwrite"])
    assert again.exit_code == 0, again.output


def test_summary_prints_the_verdict_for_both_target_years(tmp_path: Path) -> None:
    import io

    from rich.console import Console

    from cbm_sim.cli import _print_targets

    frame = pd.read_csv(_run_dir(tmp_path / "r", "plan", 450.0) / "targets.csv")
    buffer = io.StringIO()
    _print_targets(frame, Console(file=buffer, width=160), "plan")
    text = buffer.getvalue()
    assert "verdict 2025: 450.0 of 500.0 亿元 (-10.0 %) — short" in text
    assert "verdict 2030: 900.0 of 1,000.0 亿元 (-10.0 %) — short" in text
    assert "exploration" in text and "167" in text
    assert "without the exogenous" not in text  # a target check from before the columns
    frame["exogenous"] = [30.0, 0.0, 255.0]
    frame["simulated_excl_exogenous"] = frame["simulated"] - frame["exogenous"]
    frame["status_excl_exogenous"] = "short"
    buffer = io.StringIO()
    _print_targets(frame, Console(file=buffer, width=160), "plan")
    text = buffer.getvalue()
    assert "verdict 2030: 900.0 of 1,000.0 亿元 (-10.0 %) — short; without the exogenous " in text
    assert "255.0: 645.0 — short" in text
    assert "w/o exog." in text


@pytest.mark.parametrize("terminal", [True, False])
def test_verdict_tables_rendered_ahead_print_what_print_targets_prints(
    tmp_path: Path, terminal: bool
) -> None:
    # run renders its tables while the Parquet thread writes (run_cmd._VerdictTables) and
    # prints them after the swap: the same text, colours included, as printing them directly
    import io

    from rich.console import Console

    from cbm_sim.cli import _print_targets
    from cbm_sim.cli.run_cmd import _VerdictTables

    frame = pd.read_csv(_run_dir(tmp_path / "r", "plan", 450.0) / "targets.csv")
    direct, ahead = io.StringIO(), io.StringIO()
    _print_targets(frame, Console(file=direct, width=120, force_terminal=terminal), "plan")
    tables = _VerdictTables(Console(file=ahead, width=120, force_terminal=terminal), "plan")
    tables.render(frame)
    assert ahead.getvalue() == ""  # nothing printed before the folder is in place
    tables.print(frame)
    assert ahead.getvalue() == direct.getvalue()
    assert ("\x1b[" in direct.getvalue()) == terminal and "verdict" in direct.getvalue()
    late = io.StringIO()  # never rendered (no target check came): rendered when printed
    _VerdictTables(Console(file=late, width=120, force_terminal=terminal), "plan").print(frame)
    assert late.getvalue() == direct.getvalue()


def test_calibrate_prints_and_writes_every_target(tmp_path: Path) -> None:
    out = tmp_path / "calibration.csv"
    result = CliRunner().invoke(main, ["calibrate", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "production_2021" in result.output and "targets met" in result.output
    frame = pd.read_csv(out)
    assert {"id", "simulated", "reported", "error", "met", "source"} <= set(frame.columns)
    row = frame.set_index("id").loc["production_2021"]
    assert row["simulated"] == pytest.approx(42.67, rel=0.01)
    assert row["error"] == pytest.approx(row["simulated"] - row["reported"])


def test_calibrate_write_parameters_needs_fit(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["calibrate", "--write-parameters", str(tmp_path / "c.yaml")])
    assert result.exit_code == 2
    assert "--write-parameters needs --fit" in result.output


def test_plan_show_lists_ids_figures_and_blocks(tmp_path: Path) -> None:
    every = CliRunner().invoke(main, ["plan", "show"])
    assert every.exit_code == 0, every.output
    assert "output.total" in every.output and "lng.output" in every.output
    one = CliRunner().invoke(main, ["plan", "show", "output.total", "--year", "2030"])
    assert one.exit_code == 0 and "1000" in one.output and "ch3" in one.output
    out = tmp_path / "blocks.csv"
    blocks = CliRunner().invoke(main, ["plan", "show", "blocks", "-o", str(out)])
    assert blocks.exit_code == 0 and "zhengzhuang" in blocks.output
    frame = pd.read_csv(out)
    assert len(frame) == 23 and "zhengzhuang" in set(frame["id"])
    typo = CliRunner().invoke(main, ["plan", "show", "lng.outpt"])
    assert typo.exit_code == 2 and "did you mean 'lng.output'?" in typo.output
    assert len(typo.output.strip().splitlines()) == 1


def test_calibrate_write_reserves_not_with_fit(tmp_path: Path) -> None:
    path = tmp_path / "blocks.yaml"
    path.write_text("blocks: []\n", "utf-8")
    result = CliRunner().invoke(main, ["calibrate", "--fit", "--write-reserves", str(path)])
    assert result.exit_code == 2
    assert "--write-reserves uses the packaged calibration: not with --fit" in result.output


def test_calibrate_write_reserves_rewrites_a_blocks_file(tmp_path: Path) -> None:
    from cbm_sim.wells import calibration

    path = tmp_path / "blocks.yaml"
    path.write_bytes((Path(calibration.__file__).parents[1] / "data" / "blocks.yaml").read_bytes())
    result = CliRunner().invoke(main, ["calibrate", "--write-reserves", str(path)])
    assert result.exit_code == 0, result.output
    assert f"wrote the reserves of 10 blocks to {path}" in result.output.replace("\n", "")
    written = {
        b["id"]: b.get("proved_reserves_m3") for b in yaml.safe_load(path.read_text())["blocks"]
    }
    for block, value in calibration.unitemised_allocation_m3().items():
        assert written[block] == pytest.approx(value, abs=5e6)


def test_calibrate_as_of_marks_the_later_rows_as_not_fitted(tmp_path: Path) -> None:
    out = tmp_path / "vintage.csv"
    args = ["calibrate", "--as-of", "2021-12-31", "--calibration", "calibration-2021.yaml"]
    result = CliRunner().invoke(main, [*args, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "fitted: the rows known by 2021-12-31 and the plan's baseline" in result.output
    frame = pd.read_csv(out).set_index("id")
    assert frame.loc["panzhuang_2021", "weight"] == 0  # AAG's FY2021 results: 2022-03
    assert frame.loc["panzhuang_2020", "weight"] == 0.5
    assert frame.loc["production_2021", "known"] == "2022-09-30"  # the plan's baseline
    bad = CliRunner().invoke(main, ["calibrate", "--fit", "--calibration", "calibration-2021.yaml"])
    assert bad.exit_code == 2 and "--calibration picks a packaged calibration" in bad.output


def test_cli_knows_the_packaged_calibrations() -> None:
    from cbm_sim.cli.calibrate_cmd import CALIBRATION_FILES
    from cbm_sim.scenario import model

    assert model.CALIBRATION_FILES == CALIBRATION_FILES


def _ensemble_dir(folder: Path, kind: str = "ensemble") -> Path:
    folder.mkdir()
    pd.DataFrame(
        {
            "year": [2025, 2030],
            "quantity": ["output.total", "output.total"],
            "unit": ["亿元", "亿元"],
            "p10": [300.0, 320.0],
            "p50": [329.3, 430.5],
            "p90": [400.7, 551.3],
        }
    ).to_csv(folder / "percentiles.csv", index=False)
    write_meta(folder, {"kind": kind, "n": 8, "seed": 1}, ["percentiles.csv"])
    return folder


def test_the_as_written_run_is_printed_beside_the_ensemble_centre(tmp_path: Path) -> None:
    import io

    from rich.console import Console

    from cbm_sim.cli.run_cmd import print_centre, read_percentiles

    targets = pd.read_csv(_run_dir(tmp_path / "r", "plan", 450.0) / "targets.csv")
    percentiles = read_percentiles(_ensemble_dir(tmp_path / "e"))
    buffer = io.StringIO()
    print_centre(targets, percentiles, Console(file=buffer, width=160), "runs/plan-ensemble")
    text = buffer.getvalue()
    assert "as-written run and the ensemble (runs/plan-ensemble)" in text
    assert "│ 2025 │ output.total (亿元) │      450.0 │ 329.3 │ 300.0–400.7 │   500.0 │" in text
    assert "900.0 │ 430.5 │ 320.0–551.3 │ 1,000.0" in text
    with pytest.raises(click.BadParameter, match="is not an ensemble folder"):
        read_percentiles(_ensemble_dir(tmp_path / "run", kind="run"))
    with pytest.raises(click.BadParameter, match=r"meta\.json"):
        read_percentiles(tmp_path)
