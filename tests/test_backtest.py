"""The hindcast (cbm_sim.studies.backtest, cbm-sim backtest): the post-2021 record, what a
run says of each observation, and the skill measures."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from cbm_sim.cli.app import main
from cbm_sim.results.frames import Results
from cbm_sim.scenario.files import load_scenario
from cbm_sim.scenario.model import Horizon, Scenario
from cbm_sim.studies import backtest
from cbm_sim.studies.backtest import Observation, observe, skill_summary, skill_table

SCENARIO = Path(__file__).parent.parent / "scenarios" / "backtest-2021.yaml"
ROW = {
    "id": "x",
    "metric": "block_production_1e8_m3",
    "block": "mabi",
    "year": 2023,
    "value": 5.0,
    "unit": "1e8 m3",
    "kind": "equal",
    "tolerance": 0.3,
    "known": "2024-04-26",
    "scored": True,
    "source": "test",
}


# --------------------------------------------------------------------------- the record
def test_the_record_is_dated_sourced_and_held_out() -> None:
    obs = backtest.load_observations()
    scored = [o for o in obs if o.scored]
    assert len(scored) == 15
    # held out: every scored figure became public after the hindcast's vintage, and is of
    # the forecast years; each says what it counts
    assert all(o.known > dt.date(2021, 12, 31) and o.year >= 2022 for o in scored)
    assert all(o.definition and o.source for o in obs)
    assert all(o.why for o in obs if not o.scored)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "about"}, "kind must be one of"),
        ({"tolerance": 0}, "tolerance must be > 0; got 0.0"),
        ({"source": " "}, "missing source"),
        ({"block": "atlantis"}, "unknown block 'atlantis'"),
        ({"metric": "province_growth"}, "metric 'province_growth' is scored but no run computes"),
        ({"scored": False}, "a row not scored needs its reason (why)"),
        (
            {"metric": "blocks_cumulative_1e8_m3"},
            "metric blocks_cumulative_1e8_m3 needs an end date (until)",
        ),
        (
            {"metric": "blocks_rate_1e4_m3_per_day"},
            "metric blocks_rate_1e4_m3_per_day needs a day (date)",
        ),
        ({"known": None}, "missing known"),
        ({"until": "midsummer"}, "until must be a date, got 'midsummer'"),
    ],
)
def test_bad_rows_are_named(change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(f"observation x: {message}")):
        backtest.load_observations({"hindcast": [ROW | change]})


# --------------------------------------------------------------------------- one run
def _results(step_days: int = 1) -> Results:
    """A hand-made run: 马必 makes 1 m³ on each day of 2022 and 2 m³ on each day of 2023,
    樊庄 half of that; the city's annual surface production and mine drainage."""
    days = pd.date_range("2021-01-01", "2023-12-31", freq=f"{step_days}D")
    per_day = np.where(days.year == 2023, 2.0, np.where(days.year == 2022, 1.0, 0.0))
    rows = []
    for block, share in (("mabi", 1.0), ("fanzhuang", 0.5)):
        rows.append(
            pd.DataFrame(
                {
                    "date": days,
                    "entity": f"block:{block}",
                    "quantity": "surface_production",
                    "unit": "m3",
                    "value": per_day * share * step_days,
                }
            )
        )
    daily = pd.concat(rows, ignore_index=True)
    annual = pd.DataFrame(
        {
            "year": [2023, 2023, 2023, 2023],
            "entity": ["block:mabi", "block:fanzhuang", "surface", "mine_gas"],
            "quantity": ["surface_production", "surface_production", "production", "drainage"],
            "unit": ["m3"] * 4,
            "value": [730.0, 365.0, 50e8, 21e8],
        }
    )
    meta = {"start": "2021-01-01", "step_days": step_days}
    return Results(
        daily=daily, annual=annual, events=pd.DataFrame(), meta=meta, scenario=Scenario()
    )


def _obs(**row: object) -> Observation:
    return backtest.load_observations({"hindcast": [ROW | row]})[0]


def test_observations_of_a_hand_made_run() -> None:
    res = _results()
    before = {"mabi": 100.0, "fanzhuang": 10.0}
    assert observe(res, _obs(), before) == pytest.approx(730.0 / 1e8)
    both = _obs(metric="blocks_production_1e8_m3", block=None, blocks=["mabi", "fanzhuang"])
    assert observe(res, both, before) == pytest.approx(1095.0 / 1e8)
    # January-June 2023: 181 days at 2 m³
    h1 = _obs(metric="block_production_h1_1e8_m3")
    assert observe(res, h1, before) == pytest.approx(2 * 181 / 1e8)
    # the mean rate of March 2023 (万m³/d) over both blocks: 3 m³/d
    rate = _obs(metric="blocks_rate_1e4_m3_per_day", block=None, blocks=["mabi", "fanzhuang"],
                date="2023-03-26")  # fmt: skip
    assert observe(res, rate, before) == pytest.approx(3.0 / 1e4)
    # produced before the run, plus the run's days before 2023-02-01: 365 + 2 × 31 + 100
    cum = _obs(metric="blocks_cumulative_1e8_m3", until="2023-02-01")
    assert observe(res, cum, before) == pytest.approx((100 + 365 + 62) / 1e8)
    city = _obs(metric="total_extraction_1e8_m3", block=None)
    assert observe(res, city, before) == pytest.approx(71.0)
    assert np.isnan(observe(res, _obs(metric="province_growth", scored=False, why="x"), before))


def test_a_monthly_rate_divides_by_the_days_of_its_steps() -> None:
    # with 30-day steps, March 2023 holds one step start: its volume over its 30 days
    rate = _obs(metric="blocks_rate_1e4_m3_per_day", date="2023-03-26")
    assert observe(_results(step_days=30), rate, {}) == pytest.approx(2.0 / 1e4)


# --------------------------------------------------------------------------- skill
def test_skill_measures_by_hand() -> None:
    obs = [
        _obs(id="a", value=10.0),
        _obs(id="b", value=4.0),
        _obs(id="c", value=100.0, kind="at_least"),
        _obs(id="d", value=1.0, scored=False, why="context"),
    ]
    members = pd.DataFrame(
        {
            "member": range(11),
            "a": np.arange(11.0) + 5.0,  # 5 … 15: P10 6, P50 10, P90 14
            "b": np.full(11, 6.0),  # all 6: the P50 is 50 % high, 4 lies outside
            "c": np.arange(11.0) + 85.0,  # P50 90, below the bound: error -10; P90 94 < 100
            "d": np.ones(11),
        }
    )
    table = skill_table(obs, members).set_index("id")
    assert table.loc["a", ["p10", "p50", "p90"]].tolist() == pytest.approx([6.0, 10.0, 14.0])
    assert table.loc["a", "inside"] and not table.loc["b", "inside"]
    assert table.loc["c", "error"] == pytest.approx(-10.0) and not table.loc["c", "inside"]
    s = skill_summary(table.reset_index())
    assert s["held_out"] == 3
    assert s["bias"] == pytest.approx((0.0 + 0.5 - 0.1) / 3)
    assert s["mape"] == pytest.approx((0.0 + 0.5 + 0.1) / 3)
    assert s["coverage"] == pytest.approx(1 / 3)
    assert not s["bias_met"] and not s["coverage_met"]
    assert list(skill_table(obs, members)["id"]) == ["a", "b", "c", "d"]  # scored first


def test_the_hindcast_refuses_a_horizon_it_cannot_score() -> None:
    late = Scenario(horizon=Horizon(start=dt.date(2022, 1, 1)))
    with pytest.raises(
        ValueError, match=re.escape("horizon.start must be 2021-01-01, got 2022-01-01")
    ):
        backtest.run_backtest(late, 1)
    short = Scenario(horizon=Horizon(end=dt.date(2023, 12, 31)))
    with pytest.raises(
        ValueError,
        match="the horizon ends 2023-12-31, before the observations huabei_rate_2024_03, ",
    ):
        backtest.run_backtest(short, 1)
    with pytest.raises(ValueError, match="a backtest needs n >= 1 members, got 0"):
        backtest.run_backtest(Scenario(), 0)


def test_the_history_before_the_run_is_the_runs_own() -> None:
    # the gas produced before 2021 by each block, as the resource model of the run sees it
    # (the same history stream), at the wells' availability
    from cbm_sim.cluster import build

    sc = load_scenario(SCENARIO)
    seed = np.random.SeedSequence(7)
    got = backtest.produced_before_start(sc, seed)
    m = build.build(sc, seed=seed)  # built, not run: its resources hold the history
    rel = sc.wells
    avail = 1 - rel.pump_failures_per_well_year * rel.workover_days / 365.25
    for b in m.blocks:
        assert got[b.info.id] == pytest.approx(b.resource.history_produced_m3[0] * avail)


@pytest.mark.slow
def test_cbm_sim_backtest_writes_and_prints_the_skill(tmp_path: Path) -> None:
    out = tmp_path / "bt"
    args = ["backtest", str(SCENARIO), "-n", "2", "--workers", "1", "--step-days", "30"]
    res = CliRunner().invoke(main, [*args, "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "skill on 15 held-out observations: bias" in res.output
    for name in ("skill.csv", "members.csv", "summary.csv", "failures.csv", "meta.json"):
        assert (out / name).is_file(), name
    skill = pd.read_csv(out / "skill.csv")
    scored = skill[skill["scored"]]
    assert len(scored) == 15 and scored["p50"].notna().all()
    members = pd.read_csv(out / "members.csv")
    assert len(members) == 2 and "resources.recovery_factor" in members
    # the same seed gives the same members (a second run, another folder)
    again = CliRunner().invoke(main, [*args, "-o", str(tmp_path / "again")])
    assert again.exit_code == 0, again.output
    pd.testing.assert_frame_equal(members, pd.read_csv(tmp_path / "again" / "members.csv"))
