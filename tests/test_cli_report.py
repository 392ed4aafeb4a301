"""`cbm-sim report`: from a results directory, with an ensemble directory, and bad input."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from cbm_sim.cli import main
from cbm_sim.economics.targets import check_targets
from cbm_sim.economics.valuation import value
from cbm_sim.results import simulate
from cbm_sim.results.rundir import write_run
from cbm_sim.scenario.model import Horizon, Scenario


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    sc = Scenario(name="short", horizon=Horizon(end=dt.date(2030, 12, 31), step_days=30))
    res = simulate.run(sc)
    out = tmp_path_factory.mktemp("run") / "short"
    out.mkdir()
    write_run(out, res, targets=check_targets(res), valuation=value(res))
    return out


def _ensemble_dir(where, scenario: Scenario, step_days: int):
    """An ensemble folder of ``scenario`` as ``cbm-sim ensemble`` seals it (its frames
    invented: what is tested is which scenario it records)."""
    import pandas as pd

    from cbm_sim.results.integrity import write_meta
    from cbm_sim.scenario.provenance import provenance

    where.mkdir()
    rows = [
        (y, q, u, v * 0.9, v, v * 1.1)
        for y in range(2021, 2031)
        for q, u, v in (("production.total", "亿m3", 60.0), ("output.total", "亿元", 300.0))
    ]
    pd.DataFrame(rows, columns=["year", "quantity", "unit", "p10", "p50", "p90"]).to_csv(
        where / "percentiles.csv", index=False
    )
    pd.DataFrame(
        {"year": [2025, 2030], "target": "output.total", "probability": 0.0, "std_error": 0.0,
         "members": 8, "met": 0, "wilson_low": 0.0, "wilson_high": 0.32}
    ).to_csv(where / "probabilities.csv", index=False)  # fmt: skip
    study = provenance(
        scenario.model_copy(update={"horizon": scenario.horizon.model_copy(
            update={"step_days": step_days})}), members=8, kind="ensemble"
    )  # fmt: skip
    write_meta(where, study, ["percentiles.csv", "probabilities.csv"])
    return where


def test_report_from_a_results_directory(run_dir, tmp_path):
    """With an ensemble of the same scenario at another step: accepted, and the pages say
    which step the ensemble ran with."""
    from cbm_sim.scenario.files import load_scenario

    scenario = load_scenario(run_dir / "scenario.yaml", check_size=False)
    ensemble = _ensemble_dir(tmp_path / "ens", scenario, step_days=7)
    pdf = tmp_path / "r" / "short.pdf"
    args = ["report", str(run_dir), "-o", str(pdf), "--lang", "en", "--ensemble", str(ensemble)]
    got = CliRunner().invoke(main, args)
    assert got.exit_code == 0, got.output
    assert pdf.is_file() and str(pdf) in got.output
    assert len(PdfReader(pdf).pages) >= 8
    assert (tmp_path / "r" / "short_charts").is_dir()
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(pdf).pages).split())
    assert "The ensemble ran with 7-day steps (the single run: 30-day)." in text  # summary
    assert "The ensemble ran with 7-day steps; the single run with 30-day steps." in text


def test_report_refuses_an_ensemble_of_another_scenario(run_dir, tmp_path):
    """An ensemble of another scenario: exit 2, one line naming both, before any page."""
    other = Scenario(name="frozen", horizon=Horizon(end=dt.date(2030, 12, 31), step_days=30))
    other = other.model_copy(update={"seed": 7})  # a seed alone would not make it another
    frozen = other.model_copy(
        update={"drilling": other.drilling.model_copy(update={"completion_days": 60.0})}
    )
    ensemble = _ensemble_dir(tmp_path / "ens", frozen, step_days=30)
    pdf = tmp_path / "x.pdf"
    got = CliRunner().invoke(
        main, ["report", str(run_dir), "-o", str(pdf), "--ensemble", str(ensemble)]
    )
    assert got.exit_code == 2, got.output
    lines = [line for line in got.output.splitlines() if line.strip()]
    assert len(lines) == 1, got.output
    assert "scenario 'frozen'" in lines[0] and "not of the run's 'short'" in lines[0]
    assert not pdf.exists()
    same = _ensemble_dir(tmp_path / "same", other, step_days=30)  # only the seed differs
    from cbm_sim.scenario.files import load_scenario
    from cbm_sim.scenario.provenance import mismatch

    meta = __import__("json").loads((same / "meta.json").read_text(encoding="utf-8"))
    assert mismatch(meta, load_scenario(run_dir / "scenario.yaml", check_size=False), "x") is None


def test_report_refuses_a_directory_that_is_no_ensemble(run_dir, tmp_path):
    got = CliRunner().invoke(
        main, ["report", str(run_dir), "-o", str(tmp_path / "x.pdf"), "--ensemble", str(run_dir)]
    )
    assert got.exit_code == 2
    assert "not a cbm-sim ensemble directory" in got.output
    assert "percentiles.csv" in got.output


def test_report_of_a_missing_source_names_it(tmp_path):
    got = CliRunner().invoke(
        main, ["report", str(tmp_path / "nope"), "-o", str(tmp_path / "x.pdf")]
    )
    assert got.exit_code == 2
    assert "nope" in got.output


def test_report_refuses_folders_that_are_not_what_the_option_reads(run_dir, tmp_path):
    """--goal-seek needs a goal-seek run's record, --backtest a skill table: one line each."""
    pdf = str(tmp_path / "x.pdf")
    got = CliRunner().invoke(main, ["report", str(run_dir), "-o", pdf, "--goal-seek", str(run_dir)])
    assert got.exit_code == 2 and "is not a goal-seek run" in got.output
    got = CliRunner().invoke(main, ["report", str(run_dir), "-o", pdf, "--backtest", str(tmp_path)])
    assert got.exit_code == 2 and "has no skill.csv" in got.output
    (tmp_path / "skill.csv").write_text("id,year\nproduction_2022,2022\n", encoding="utf-8")
    got = CliRunner().invoke(main, ["report", str(run_dir), "-o", pdf, "--backtest", str(tmp_path)])
    assert got.exit_code == 2 and "lacks columns ['observed'" in got.output
    assert not (tmp_path / "x.pdf").exists()


def test_a_goal_seek_record_names_what_it_lacks():
    from cbm_sim.report.summary import GoalSeekRun

    record = {"quantity": "production.total", "year": 2025, "target": 100.0, "unit": "亿m³",
              "lever": "drilling", "value": 3.74, "achieved": 100.0, "converged": True}  # fmt: skip
    assert GoalSeekRun.from_meta(record).value == 3.74
    with pytest.raises(ValueError, match=r"goal-seek record lacks \['achieved'\]"):
        GoalSeekRun.from_meta({k: v for k, v in record.items() if k != "achieved"})
