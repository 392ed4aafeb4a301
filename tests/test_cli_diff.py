"""`cbm-sim diff A B`: two run folders or scenario files, printed and written."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from click.testing import CliRunner

from cbm_sim.cli import main
from cbm_sim.economics.targets import check_targets
from cbm_sim.economics.valuation import value
from cbm_sim.results import simulate
from cbm_sim.results.rundir import write_run
from cbm_sim.scenario.model import Horizon, Scenario


def _run(where, scenario: Scenario):
    res = simulate.run(scenario)
    where.mkdir()
    write_run(where, res, targets=check_targets(res), valuation=value(res))
    return where


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = Scenario(name="base", horizon=Horizon(end=dt.date(2025, 12, 31), step_days=30))
    cheap = base.model_copy(
        update={
            "name": "cheap",
            "valuation": base.valuation.model_copy(update={"gas_price_scale": 0.7}),
        }
    )
    root = tmp_path_factory.mktemp("runs")
    return _run(root / "base", base), _run(root / "cheap", cheap)


def test_diff_prints_the_changed_input_the_moved_value_and_writes_the_tables(runs, tmp_path):
    base, cheap = runs
    out = tmp_path / "d"
    got = CliRunner().invoke(main, ["diff", str(base), str(cheap), "-o", str(out)])
    assert got.exit_code == 0, got.output
    assert "Gas price level (×)" in got.output  # the field by its name, not its path
    assert "outputs that moved" in got.output and "Cluster output value" in got.output
    inputs = pd.read_csv(out / "inputs.csv", dtype={"a": str, "b": str})
    assert list(inputs["path"]) == ["valuation.gas_price_scale"]
    assert (inputs.iloc[0]["a"], inputs.iloc[0]["b"]) == ("1", "0.7")
    outputs = pd.read_csv(out / "outputs.csv")
    total = outputs[(outputs["quantity"] == "output.total") & (outputs["year"] == 2025)].iloc[0]
    assert total["b"] < total["a"] and bool(total["moved"])
    production = outputs[outputs["quantity"] == "production.total"]
    assert not production["moved"].any()  # prices move value, not gas
    targets = pd.read_csv(out / "targets.csv")
    assert {"status_a", "status_b", "status_changed"} <= set(targets.columns)
    again = CliRunner().invoke(main, ["diff", str(base), str(cheap), "-o", str(out)])
    assert again.exit_code == 2 and "--overwrite" in again.output


def test_diff_of_a_damaged_folder_is_refused_with_one_line(runs, tmp_path):
    base, _ = runs
    got = CliRunner().invoke(main, ["diff", str(base), str(tmp_path)])
    assert got.exit_code == 2
    assert len([line for line in got.output.splitlines() if line.strip()]) == 1
    assert "meta.json" in got.output
