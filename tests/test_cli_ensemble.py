"""`cbm-sim ensemble` and `cbm-sim goal-seek` through the command line."""

from __future__ import annotations

import pandas as pd
from click.testing import CliRunner

from cbm_sim.cli import main

SCENARIO = """\
name: tiny-uncertain
horizon: {start: 2021-01-01, end: 2025-12-31, step_days: 30}
drilling:
  blocks:
    zhengzhuang: {vertical_wells_per_year: {2022: 50}, first_year: 2022, rigs: 4}
uncertainty:
  type_curves.peak_rate_scale: {dist: triangular, low: 0.8, mode: 1.0, high: 1.2}
"""


def test_ensemble_writes_summaries_prints_probabilities_and_tornado(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    out = tmp_path / "ens"
    args = ["ensemble", str(path), "-n", "3", "--workers", "1", "-o", str(out), "--tornado"]
    got = CliRunner().invoke(main, args)
    assert got.exit_code == 0, got.output
    for name in ("members.parquet", "percentiles.csv", "probabilities.csv", "tornado.csv"):
        assert (out / name).is_file(), name
    assert "P(meet output.total 2025)" in got.output
    assert "3 of 3 members ran, 0 failed" in got.output
    tornado = pd.read_csv(out / "tornado.csv")
    assert set(tornado["input"]) == {"type_curves.peak_rate_scale"}
    # more productive new wells can only add value
    assert (tornado["high_value"] >= tornado["low_value"]).all()
    # provenance: which scenario, seed, step and members (issues 25, 27)
    import json

    from cbm_sim.scenario.files import load_scenario
    from cbm_sim.scenario.provenance import assumptions_sha256

    meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))
    assert meta["scenario"] == "tiny-uncertain" and meta["kind"] == "ensemble"
    assert meta["assumptions_sha256"] == assumptions_sha256(load_scenario(path))
    assert (meta["step_days"], meta["members"], meta["members_ok"]) == (30, 3, 3)
    assert meta["seed"] == 20220930 and meta["tornado"] is True
    assert meta["parameters"] == ["type_curves.peak_rate_scale"]


def test_ensemble_rejects_zero_members(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    got = CliRunner().invoke(main, ["ensemble", str(path), "-n", "0", "-o", str(tmp_path / "x")])
    assert got.exit_code == 2
    assert "0" in got.output and "-n" in got.output


def test_goal_seek_reports_the_lever_value_or_the_bound(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    easy = CliRunner().invoke(
        main, ["goal-seek", str(path), "--target", "2025:1", "--lever", "drilling"]
    )
    assert easy.exit_code == 0 and "already met at the lower bound 0.5" in easy.output
    # a 2025 total far beyond any drilling of one block: the bounds cannot reach it
    hard = CliRunner().invoke(
        main, ["goal-seek", str(path), "--target", "2025:5000", "--lever", "drilling"]
    )
    assert hard.exit_code == 1 and "5000" in hard.output


def test_goal_seek_target_must_be_year_colon_value(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    got = CliRunner().invoke(
        main, ["goal-seek", str(path), "--target", "500", "--lever", "drilling"]
    )
    assert got.exit_code == 2
    assert "YEAR:VALUE" in got.output and "'500'" in got.output
