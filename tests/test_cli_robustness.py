"""`cbm-sim robustness` and `cbm-sim report --robustness`: files, table, flips, bad input."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from cbm_sim.cli import main
from cbm_sim.economics.targets import check_targets
from cbm_sim.economics.valuation import value
from cbm_sim.results import simulate
from cbm_sim.results.rundir import write_run
from cbm_sim.scenario.model import Horizon, Scenario
from cbm_sim.studies.robustness import ROBUSTNESS_COLUMNS


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory):
    sc = Scenario(name="short", horizon=Horizon(end=dt.date(2030, 12, 31), step_days=30))
    path = tmp_path_factory.mktemp("sc") / "short.yaml"
    path.write_text(sc.to_yaml(), encoding="utf-8")
    return path, sc


@pytest.fixture(scope="module")
def robustness_dir(scenario_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("rob") / "rob"
    got = CliRunner().invoke(main, ["robustness", str(scenario_file[0]), "-o", str(out)])
    assert got.exit_code == 0, got.output
    return out, got.output


def test_robustness_writes_its_table_and_prints_the_flips(robustness_dir):
    out, printed = robustness_dir
    table = pd.read_csv(out / "robustness.csv")
    assert list(table.columns) == list(ROBUSTNESS_COLUMNS)
    assert set(table["year"]) == {2025, 2030}
    assert "gas_price" in set(table["assumption"])
    assert "drilling" not in set(table["assumption"])  # the default scenario drills nothing
    assert (out / "meta.json").is_file()
    assert "what flips the verdict" in printed and "total" in printed


def test_robustness_refuses_an_existing_directory(scenario_file, robustness_dir):
    out, _ = robustness_dir
    got = CliRunner().invoke(main, ["robustness", str(scenario_file[0]), "-o", str(out)])
    assert got.exit_code == 2
    assert "--overwrite" in got.output


def test_robustness_of_a_missing_scenario_names_it(tmp_path):
    got = CliRunner().invoke(
        main, ["robustness", str(tmp_path / "nope.yaml"), "-o", str(tmp_path / "o")]
    )
    assert got.exit_code == 2
    assert "nope.yaml" in got.output


def test_report_gains_the_robustness_page(scenario_file, robustness_dir, tmp_path):
    res = simulate.run(scenario_file[1])
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    write_run(run_dir, res, targets=check_targets(res), valuation=value(res))
    base = CliRunner().invoke(main, ["report", str(run_dir), "-o", str(tmp_path / "a.pdf")])
    assert base.exit_code == 0, base.output
    got = CliRunner().invoke(
        main,
        ["report", str(run_dir), "-o", str(tmp_path / "b.pdf"), "--robustness",
         str(robustness_dir[0])],
    )  # fmt: skip
    assert got.exit_code == 0, got.output
    assert len(PdfReader(tmp_path / "b.pdf").pages) == len(PdfReader(tmp_path / "a.pdf").pages) + 1
    assert (tmp_path / "b_charts" / "robustness.png").is_file()
    bad = CliRunner().invoke(
        main, ["report", str(run_dir), "-o", str(tmp_path / "c.pdf"), "--robustness", str(run_dir)]
    )
    assert bad.exit_code == 2
    assert "not a cbm-sim robustness directory" in bad.output


def test_run_with_robustness_writes_the_table_and_report_picks_it_up(
    scenario_file, tmp_path, monkeypatch
):
    out = tmp_path / "run"
    got = CliRunner().invoke(main, ["run", str(scenario_file[0]), "-o", str(out), "--robustness"])
    assert got.exit_code == 0, got.output
    table = pd.read_csv(out / "robustness.csv")
    assert list(table.columns) == list(ROBUSTNESS_COLUMNS)
    assert "what flips the verdict" in got.output
    seen = {}

    def fake_write_report(results, output, **kwargs):
        seen.update(kwargs)
        output.write_bytes(b"%PDF-1.4 stand-in")  # the command swaps in what was written
        return output

    import cbm_sim.report.pdf

    monkeypatch.setattr(cbm_sim.report.pdf, "write_report", fake_write_report)
    done = CliRunner().invoke(main, ["report", str(out), "-o", str(tmp_path / "r.pdf")])
    assert done.exit_code == 0, done.output
    assert seen["robustness"] is not None and len(seen["robustness"]) == len(table)
