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


def test_report_from_a_results_directory(run_dir, tmp_path):
    pdf = tmp_path / "r" / "short.pdf"
    got = CliRunner().invoke(main, ["report", str(run_dir), "-o", str(pdf), "--lang", "en"])
    assert got.exit_code == 0, got.output
    assert pdf.is_file() and str(pdf) in got.output
    assert len(PdfReader(pdf).pages) >= 8
    assert (tmp_path / "r" / "short_charts").is_dir()


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
