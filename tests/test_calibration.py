"""Calibration metrics added for issue 13: operator fields over several blocks, cumulative
investment of the history, and the rule that allocates the unitemised reserves."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from cbm_sim.plan.blocks import load_blocks
from cbm_sim.plan.packaged import read_packaged
from cbm_sim.units import YI
from cbm_sim.wells import calibration, history
from cbm_sim.wells.population import HORIZONTAL, VERTICAL

ROW = {
    "id": "x",
    "metric": "blocks_production_1e8_m3",
    "blocks": ["zhengzhuang", "fanzhuang"],
    "year": 2021,
    "value": 20.0,
    "unit": "1e8 m3",
    "kind": "at_most",
    "tolerance": 2.0,
    "weight": 1.0,
    "source": "test",
    "known": "2021-06-30",
}


@pytest.fixture(scope="module")
def hist() -> history.History:
    return history.calibrated_history(0)


def _one(hist: history.History, **row: object) -> float:
    targets = calibration.load_targets({"targets": [ROW | row]})
    return calibration.metrics(hist, targets)["x"]


def test_group_production_is_the_sum_of_its_blocks(hist: history.History) -> None:
    group = _one(hist)
    each = sum(
        _one(hist, metric="block_production_1e8_m3", block=b, blocks=None)
        for b in ("zhengzhuang", "fanzhuang")
    )
    assert group == pytest.approx(each, rel=1e-12)


def test_group_cumulative_adds_up_the_years(hist: history.History) -> None:
    # cumulative to 2022-06-25 = the calendar years 2003-2021 + 2022 up to that day, summed
    # piece by piece (exact cumulative differences telescope)
    until = dt.date(2022, 6, 25)
    cum = _one(hist, metric="blocks_cumulative_1e8_m3", year=2022, until=until.isoformat())
    idx = [hist.pop.block_ids.index(b) for b in ("zhengzhuang", "fanzhuang")]
    years = sum(hist.production_by_block_m3(y)[idx].sum() for y in range(2003, 2022))
    tail = hist.pop.daily_volume_by_block(
        history.year_start_day(2022), float((until - history.EPOCH).days)
    )[idx].sum()
    assert cum == pytest.approx((years + tail) / YI, rel=1e-9)
    # and it grows with the end date
    later = _one(hist, metric="blocks_cumulative_1e8_m3", year=2022, until="2022-12-31")
    assert later > cum


def test_investment_is_wells_times_the_valuation_cost(hist: history.History) -> None:
    # closed form from the raw valuation.yaml: (vertical + 4.3 × horizontal) × all-in capex
    raw = read_packaged("valuation.yaml")
    capex = float(raw["well_cost"]["capex_total_yuan_per_well_eq"])
    h_eq = float(raw["fields"]["horizontal_well_equivalent"]["value"])
    want = (9005 + 1590 * h_eq) * capex
    assert calibration.investment_yuan(hist) == pytest.approx(want, rel=1e-12)
    got = _one(hist, metric="investment_1e8_yuan", blocks=None, year=2021)
    assert got == pytest.approx(want / YI, rel=1e-12)


@settings(max_examples=15, deadline=None)
@given(st.integers(2003, 2020))
def test_investment_grows_with_the_wells_drilled(year: int) -> None:
    hist = history.calibrated_history(0)
    drilled = hist.drilled_day < history.year_start_day(year + 1)
    typ = hist.pop.well_type[drilled]
    per_v = calibration.investment_yuan(hist) / (9005 + 1590 * 4.3)
    want = (np.count_nonzero(typ == VERTICAL) + 4.3 * np.count_nonzero(typ == HORIZONTAL)) * per_v
    assert calibration.investment_yuan(hist, year) == pytest.approx(want, rel=1e-9)
    assert calibration.investment_yuan(hist, year) <= calibration.investment_yuan(hist, year + 1)


def test_bad_group_rows_are_refused() -> None:
    with pytest.raises(ValueError, match="target x: metric blocks_production_1e8_m3 needs a list"):
        calibration.load_targets({"targets": [ROW | {"blocks": []}]})
    with pytest.raises(ValueError, match="target x: unknown block 'atlantis'"):
        calibration.load_targets({"targets": [ROW | {"blocks": ["zhengzhuang", "atlantis"]}]})
    cum = ROW | {"metric": "blocks_cumulative_1e8_m3"}
    with pytest.raises(ValueError, match=r"target x: metric blocks_cumulative_1e8_m3 needs an end"):
        calibration.load_targets({"targets": [cum]})
    with pytest.raises(ValueError, match="target x: until must be a date, got 'midsummer'"):
        calibration.load_targets({"targets": [cum | {"until": "midsummer"}]})


def test_packaged_reserves_follow_the_allocation_rule() -> None:
    # blocks.yaml holds the rule's values rounded to 10^6 m3 (the largest block takes the
    # rounding of all 10), so a refit that moves the EUR shows up here
    rule = calibration.unitemised_allocation_m3()
    reserves = {b.id: b.proved_reserves_m3 for b in load_blocks()}
    assert len(rule) == 10
    assert sum(rule.values()) == pytest.approx(calibration.UNITEMISED_RESERVES_M3, rel=1e-12)
    for block, value in rule.items():
        assert reserves[block] == pytest.approx(value, abs=5e6), block
    floor = calibration.UNITEMISED_FLOOR * calibration.UNITEMISED_RESERVES_M3
    eur = calibration.block_eur_m3(0)
    for b in load_blocks():
        if b.id in rule and eur[b.index] == 0:
            assert rule[b.id] == pytest.approx(floor)


def test_write_unitemised_reserves_rewrites_only_those(tmp_path: Path) -> None:
    path = tmp_path / "blocks.yaml"
    shutil.copy(Path(calibration.__file__).parent.parent / "data" / "blocks.yaml", path)
    before = yaml.safe_load(path.read_text("utf-8"))
    written = calibration.write_unitemised_reserves(path)
    assert sum(written.values()) == pytest.approx(calibration.UNITEMISED_RESERVES_M3, abs=1e-3)
    after = yaml.safe_load(path.read_text("utf-8"))
    assert {k: v for k, v in after.items() if k != "blocks"} == {
        k: v for k, v in before.items() if k != "blocks"
    }
    for old, new in zip(before["blocks"], after["blocks"], strict=True):
        if new["id"] in written:
            assert new["proved_reserves_m3"] == written[new["id"]]
            assert written[new["id"]] % 1e6 == 0
            new = new | {"proved_reserves_m3": old["proved_reserves_m3"]}
        assert new == old  # nothing else moved
    text = path.read_text("utf-8").replace("- id: block_15\n", "- id: block_99\n")
    path.write_text(text, "utf-8")
    with pytest.raises(ValueError, match="no proved_reserves_m3 found for block 'block_15'"):
        calibration.write_unitemised_reserves(path)


def test_plateau_parameters_cover_the_cited_well_within_the_decline_bound() -> None:
    from cbm_sim.bounds import BOUNDS
    from cbm_sim.wells.population import WELL_TYPES

    params = {p.name: p for p in calibration.PARAMETERS}
    for well_type in WELL_TYPES:
        p = params[f"plateau_days_{well_type}"]
        # 0 (no plateau) allowed; LDP-22H's 865 days inside; never past the decline core's bound
        assert p.lo == 0.0 and not p.multiplier
        assert 865.0 <= p.hi == calibration.PLATEAU_MAX_DAYS <= BOUNDS["t_plateau"].hi
    # the parameter vector round-trips through the adjustment, plateaus included
    x = calibration.vector_from_calibration(history.packaged_calibration())
    names = [p.name for p in calibration.PARAMETERS]
    x[names.index("plateau_days_vertical")] = 123.0
    x[names.index("plateau_days_horizontal")] = 456.0
    cal = calibration.calibration_from_vector(x)
    assert cal.adjustment.plateau_days_of("vertical") == 123.0
    assert cal.adjustment.plateau_days_of("horizontal") == 456.0
    np.testing.assert_array_equal(calibration.vector_from_calibration(cal), x)


# --------------------------------------------------------------------------- data vintages
def test_every_row_says_when_it_became_public() -> None:
    targets = calibration.load_targets()
    assert all(t.known > dt.date(2000, 1, 1) for t in targets)
    # the plan's own rows are its baseline, published with it (晋市政发〔2022〕28号, 2022-09-30)
    plan = [t for t in targets if t.source.startswith("plan ch")]
    assert plan and all(t.vantage and t.known == dt.date(2022, 9, 30) for t in plan)
    with pytest.raises(ValueError, match="target x: missing known"):
        calibration.load_targets({"targets": [{k: v for k, v in ROW.items() if k != "known"}]})
    with pytest.raises(ValueError, match="target x: known must be a date, got 'soon'"):
        calibration.load_targets({"targets": [ROW | {"known": "soon"}]})


def test_as_of_fits_only_the_rows_known_by_then() -> None:
    targets = calibration.load_targets()
    vintage = calibration.as_of(targets, calibration.VINTAGE_2021)
    for full, v in zip(targets, vintage, strict=True):
        if full.vantage or full.known <= dt.date(2021, 12, 31):
            assert v == full
        else:  # later rows stay in the table, weight 0: reported, not fitted
            assert v.weight == 0.0 and v.known > dt.date(2021, 12, 31)
    pairs = zip(targets, vintage, strict=True)
    dropped = {t.id for t, v in pairs if t.weight > 0 and v.weight == 0}
    # AAG's FY2021 results (2022-03), Huabei's field (2022-06), CNOOC's 潘河 (2023-08), the
    # national producing share (探矿工程 2023), 秦勇 et al. (2022-01)
    assert dropped == {
        "panzhuang_2021", "mabi_2021", "huabei_cumulative_2022", "huabei_production_2021",
        "panhe_rate_2023", "producing_share_national", "growth_2020_national",
    }  # fmt: skip
    # the objective sees only the vintage's rows: one residual each, plus the ridge
    draws = history.HistoryDraws.draw(np.random.default_rng(0))
    x = calibration.vector_from_calibration(history.packaged_calibration())
    n_ridge = sum(p.multiplier for p in calibration.PARAMETERS)
    got = calibration.residuals(x, draws, vintage)
    assert got.size == sum(t.weight > 0 for t in vintage) + n_ridge
    frame = calibration.backtest(0, targets=targets, vintage=calibration.VINTAGE_2021)
    assert set(frame.loc[frame["weight"] == 0, "id"]) >= dropped
    assert (frame["known"] == [t.known.isoformat() for t in targets]).all()


def test_the_2021_vintage_ships_with_its_own_fit_and_reserves() -> None:
    doc = read_packaged("calibration-2021.yaml")
    assert doc["vintage"] == "2021-12-31"
    assert "the rows known by 2021-12-31" in doc["source"]
    old, new = history.packaged_calibration(), history.packaged_calibration("calibration-2021.yaml")
    assert old != new
    # its own allocation of the 236.35 亿m³ the plan does not itemise, by its own wells
    assert sum(dict(new.reserves_m3).values()) == pytest.approx(236.35e8, rel=1e-9)
    assert new.proved_reserves_m3("panzhuang", 377.48e8) == 377.48e8  # itemised: the plan's
    assert old.reserves_m3 == ()  # the shipped calibration's are blocks.yaml's
