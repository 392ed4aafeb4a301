"""The 2021 population: plan well counts, blocks data, calibration to 42.67 亿m³."""

from __future__ import annotations

import time
from importlib import resources

import numpy as np
import pytest
import yaml

from cbm_sim.wells import history
from cbm_sim.wells.population import HORIZONTAL, VERTICAL

# Plan 晋市政发〔2022〕28号 ch1 §2 二: "2021年，全市煤层气年产量达42.67亿立方米" and
# "累计施工钻井达 10595口（直井 9005口、水平井1590口）"; ch1 §2 一: proved reserves 3706.48 亿m³.
PLAN_2021_PRODUCTION_M3 = 42.67e8
PLAN_WELLS_VERTICAL = 9005
PLAN_WELLS_HORIZONTAL = 1590
PLAN_PROVED_RESERVES_M3 = 3706.48e8


@pytest.fixture(scope="module")
def report() -> history.CalibrationReport:
    return history.calibration_report(seed=7)


def test_calibrated_2021_production_matches_plan(report: history.CalibrationReport) -> None:
    assert report.production_2021_m3 == pytest.approx(PLAN_2021_PRODUCTION_M3, rel=0.01)
    # independently of the report: integrate the built population's daily volumes over 2021
    pop = history.build_2021_population(7)
    total = pop.total(np.arange(0.0, 365.0)).sum()
    assert total == pytest.approx(PLAN_2021_PRODUCTION_M3, rel=0.01)


def test_well_counts_match_plan(report: history.CalibrationReport) -> None:
    pop = history.build_2021_population(np.random.default_rng(3), calibrate=False)
    assert int(np.sum(pop.well_type == VERTICAL)) == PLAN_WELLS_VERTICAL
    assert int(np.sum(pop.well_type == HORIZONTAL)) == PLAN_WELLS_HORIZONTAL
    assert report.wells_vertical + report.wells_horizontal == 10595
    assert np.all(pop.online_day < 0.0)  # all drilled before 2021-01-01


def test_drilling_history_shape() -> None:
    pop = history.build_2021_population(0, calibrate=False)
    year = 2021.0 + pop.online_day / 365.25
    v, h = year[pop.well_type == VERTICAL], year[pop.well_type == HORIZONTAL]
    # plan ch1 §2 二: 30 pilot wells in 2003; ch1 §2 一: scale development from 2003
    assert v.min() >= 2003.0 and int(np.sum(v < 2004.0)) == history.PILOT_WELLS_2003
    assert np.median(h) > np.median(v)  # assumption: horizontal wells came later


def test_calibration_is_fast_and_uncalibrated_differs() -> None:
    t0 = time.perf_counter()
    pop = history.build_2021_population(11)
    assert time.perf_counter() - t0 < 2.0
    raw = history.build_2021_population(11, calibrate=False)
    scale = history.calibrate_scale(raw)
    np.testing.assert_allclose(pop.qi, raw.qi * scale, rtol=1e-14)
    assert history.production_2021_m3(raw) != pytest.approx(PLAN_2021_PRODUCTION_M3, rel=0.01)


def test_seed_reproducible() -> None:
    a, b = history.build_2021_population(5), history.build_2021_population(5)
    np.testing.assert_array_equal(a.qi, b.qi)
    np.testing.assert_array_equal(a.block, b.block)


def test_capacity_interpretation_reported(report: history.CalibrationReport) -> None:
    # "累计形成煤层气产能 91.77亿立方米" read as Σ peak rates × 365.25 of all wells drilled:
    # the nameplate must exceed the 2021 production (wells decline from their peaks)
    assert report.capacity_m3_per_year > report.production_2021_m3
    assert report.capacity_target_m3_per_year == 91.77e8
    assert report.capacity_ratio == pytest.approx(report.capacity_m3_per_year / 91.77e8)


def test_underdeveloped_blocks_give_about_ten_percent(report: history.CalibrationReport) -> None:
    # plan ch1 §3 一: 马必、马必东、柿庄南、柿庄北 … 贡献煤层气产量仅为年总产量的10%左右
    assert 0.07 <= report.underdeveloped_share_2021 <= 0.13


def _blocks_doc() -> dict:
    return yaml.safe_load(resources.files("cbm_sim").joinpath("data/blocks.yaml").read_text())


def test_blocks_data_matches_plan() -> None:
    blocks = _blocks_doc()["blocks"]
    assert len(blocks) == 23  # ch1 §2 一
    ids = [b["id"] for b in blocks]
    assert len(set(ids)) == 23 and all(i.isascii() for i in ids)
    reserves = [b["proved_reserves_m3"] for b in blocks]
    assert sum(r or 0.0 for r in reserves) == pytest.approx(PLAN_PROVED_RESERVES_M3, rel=1e-12)
    assert sum(1 for r in reserves if r) == 15  # 15 blocks with proved reserves
    stated = {b["id"]: b["proved_reserves_m3"] for b in blocks}
    for bid, yi in [
        ("zhengzhuang", 1600.81),
        ("shizhuang", 691.04),
        ("mabi", 662.93),
        ("panzhuang", 377.48),
        ("zaoyuan", 137.87),
    ]:
        assert stated[bid] == pytest.approx(yi * 1e8, rel=1e-12)
    for no_res in ("qinnan", "zhengzhuang_slope", "gushuyuan", "wangtaipu", "dingdian", "xiaoxi"):
        assert stated[no_res] is None
    mining = [b["area_km2"] for b in blocks if b["right"] == "mining"]
    expl = [b["area_km2"] for b in blocks if b["right"] == "exploration"]
    assert len(mining) == 8 and sum(mining) == pytest.approx(1194.506, rel=1e-12)
    assert len(expl) == 15 and sum(expl) == pytest.approx(1550.482, rel=1e-12)
    assert sum(b["share_of_2021_wells"] for b in blocks) == pytest.approx(1.0, abs=1e-12)
    for b in blocks:
        for key in ("class_source", "proved_reserves_source", "area_source", "share_source"):
            assert b[key].strip()
    classes = {b["id"]: b["class"] for b in blocks}
    # ch4 §1 一: 潘庄、潘河 producing; 成庄、郑庄、马必、柿庄南 ramping; 马必西、枣园 proved
    assert {classes[i] for i in ("panzhuang", "panhe")} == {"producing"}
    assert {classes[i] for i in ("chengzhuang", "zhengzhuang", "mabi", "shizhuang_south")} == {
        "ramping"
    }
    assert {classes[i] for i in ("mabi_west", "zaoyuan")} == {"proved"}
