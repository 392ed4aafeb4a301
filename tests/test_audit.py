"""Tests of cbm_sim.plan.audit and ``cbm-sim plan audit``: the findings against hand arithmetic on
the plan's printed numbers, and their dependence on the data (not on typed text)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from cbm_sim import units
from cbm_sim.cli import main
from cbm_sim.plan.audit import CHECKS, COLUMNS, SEVERITIES, STATUS_OF_SEVERITY, audit
from cbm_sim.plan.figures import Plan, load_plan

SUBCLUSTERS = ["exploration", "processing", "utilisation", "science", "services", "equipment",
               "logistics", "radiating"]  # fmt: skip


@pytest.fixture(scope="module")
def found() -> pd.DataFrame:
    return audit()


def _key(row: pd.Series) -> tuple[str, str, int]:
    return row["check"], row["subject"].split(" ")[0], int(row["year"])


def _one(found: pd.DataFrame, check: str, subject: str, year: int) -> pd.Series:
    rows = found[
        (found["check"] == check) & (found["subject"] == subject) & (found["year"] == year)
    ]
    assert len(rows) == 1, (check, subject, year, rows)
    return rows.iloc[0]


def test_shape(found: pd.DataFrame) -> None:
    assert tuple(found.columns) == COLUMNS
    assert set(found["check"]) == set(CHECKS)
    assert set(found["severity"]) == set(SEVERITIES)
    assert (found["status"] == found["severity"].map(STATUS_OF_SEVERITY)).all()
    assert found["detail"].str.len().min() > 20
    assert found["ref"].str.match(r"ch\d §\d").all()
    # Every finding carries the plan phrases it rests on (Chinese text of the plan).
    assert found["phrases"].str.contains(r"[\u4e00-\u9fff]").all()


EXPECTED_ERRORS = {
    ("value_balance", "surface", 2030),  # 46.75 + 100/3 + 7/4 = 81.84 > 60 亿m³
    ("value_balance", "total", 2030),  # 61.75 + 35.08 = 96.84 > 80 亿m³
    ("physical", "storage.project_capacity", 2025),  # 2.5亿 / (2 × 16万) = 781 m³/m³ > 600
    ("duplicate", "output.utilisation.chemicals", 2025),  # 18 vs 55
    ("duplicate", "science_city.goals", 2022),  # 八大目标 vs 七大目标
    ("duplicate", "training_base.universities", 2022),  # 六所 vs 七校
    ("year_context", "power.generation", 2025),
    ("year_context", "power.gas", 2025),
    ("year_context", "minegas.heating_gas", 2025),
    ("year_context", "output.processing.storage", 2035),
}
EXPECTED_INCONSISTENCIES = {
    # with the detail 55: 180.8 vs 144 and 536.99 vs 500
    ("sum", "output.utilisation", 2025),
    ("sum", "output.total", 2025),
    ("formula", "minegas.utilisation_rate", 2025),  # (10.12+2.88)/22 = 59.1 % < 60 %
    ("formula", "production_per_area.city", 2021),  # 42.67亿/2744.988 = 155.4 ≠ 159.5
    ("unit_value", "local_use.chemicals", 2025),  # 18/13.8 vs 55/13.8 元/m³
    ("services", "output.services", 2030),  # 30 → 98 亿元 while 78 → 60 亿m³
    ("services", "output.equipment", 2030),  # 24 → 85 亿元
}
EXPECTED_ROUNDING = {
    # 143.8 vs 144 (summary statements), 219.5 vs 220; 97.2 vs 97, 129.3 vs 129;
    # 61.69 vs 61.7, 90.75 vs 90.8; leaf items 499.99 vs 500, 999.75 vs 1000
    ("sum", "output.utilisation", 2025),
    ("sum", "output.utilisation", 2030),
    ("sum", "output.processing", 2025),
    ("sum", "output.processing", 2030),
    ("sum", "output.processing.conversion", 2025),
    ("sum", "output.processing.conversion", 2030),
    ("sum", "output.total", 2025),
    ("sum", "output.total", 2030),
    ("storage_base", "storage", 2021),  # 7.519 vs 7.540 亿m³/yr: 0.28 %, approximate figures
}


def _keys(found: pd.DataFrame, severity: str) -> set[tuple[str, str, int]]:
    return {_key(r) for _, r in found[found["severity"] == severity].iterrows()}


def test_exactly_the_expected_errors(found: pd.DataFrame) -> None:
    assert _keys(found, "error") == EXPECTED_ERRORS


def test_exactly_the_expected_inconsistencies(found: pd.DataFrame) -> None:
    assert _keys(found, "inconsistency") == EXPECTED_INCONSISTENCIES


def test_sums_within_rounding_are_counted_as_rounding(found: pd.DataFrame) -> None:
    assert _keys(found, "rounding") == EXPECTED_ROUNDING
    sums = found[(found["check"] == "sum") & (found["severity"] == "rounding")]
    assert len(sums) == 12
    assert sums["detail"].str.contains("within the rounding of the stated total").all()
    assert (sums["status"] == "ok").all()
    beyond = found[(found["check"] == "sum") & (found["severity"] == "inconsistency")]
    assert beyond["detail"].str.contains("beyond the rounding").all()


def test_subcluster_sums_hold_or_are_reported(found: pd.DataFrame) -> None:
    sums = found[found["check"] == "sum"]
    for year in (2025, 2030):
        for sc in [*SUBCLUSTERS, "total"]:
            rows = sums[(sums["subject"].str.startswith(f"output.{sc} =")) & (sums["year"] == year)]
            assert len(rows) >= 1, (sc, year)
            for _, r in rows.iterrows():
                holds = abs(r["computed"] - r["stated"]) < 1e-9
                assert (r["severity"] == "ok") == holds, r["detail"]


@pytest.mark.parametrize(
    ("subject", "year", "stated", "computed"),
    [
        ("output.total = Σ parts", 2025, 500, 167 + 97 + 144 + 12 + 30 + 24 + 8 + 18),
        ("output.total = Σ parts", 2030, 1000, 130 + 129 + 220 + 40 + 98 + 85 + 33 + 265),
        ("output.total = Σ parts", 2021, 150.3, 75.8 + 38 + 21.6 + 10.2 + 4.7),
        (
            "output.utilisation = Σ parts (summary statements)",
            2025,
            144,
            6.8 + 7 + 6 + 84 + 18 + 22,
        ),
        ("output.utilisation = Σ parts (detail statements)", 2025, 144, 6.8 + 7 + 6 + 84 + 55 + 22),
        ("output.radiating = Σ parts", 2025, 18, 12 + 6),
        ("output.services = Σ parts", 2030, 98, 2 + 30 + 24 + 15 + 1 + 8 + 3 + 15),
        ("wells.total = Σ parts", 2021, 10595, 9005 + 1590),
    ],
)
def test_sum_numbers(
    found: pd.DataFrame, subject: str, year: int, stated: float, computed: float
) -> None:
    row = _one(found, "sum", subject, year)
    assert row["stated"] == stated
    assert row["computed"] == pytest.approx(computed)
    within = abs(stated - computed) <= 0.5
    exact = abs(stated - computed) < 1e-9
    assert row["severity"] == ("ok" if exact else "rounding" if within else "inconsistency")


def test_radiating_2025_has_no_carbon_item(found: pd.DataFrame) -> None:
    row = _one(found, "coverage", "output.radiating.carbon_trading", 2025)
    assert row["severity"] == "note" and "2030" in row["detail"]


@pytest.mark.parametrize(
    ("series", "year", "value"),
    [
        ("lng.output [元/t]", 2025, 60e8 / 100e4),
        ("lng.output [元/t]", 2030, 89e8 / 150e4),
        ("power.generation [元/kWh]", 2025, 19.09 / 37.56),
        ("power.generation [元/kWh]", 2030, 21.25 / 41.95),  # the misdated 2030 figure
        ("cng.gas [元/m3]", 2025, 1.69 / 0.484),
        ("local_use.residential [元/m3]", 2025, 6.8 / 2.73),
        ("production.surface [元/m3]", 2021, 75.8 / 42.67),
        ("pipeline.exports [元/m3]", 2021, 10.2 / 19.35),
    ],
)
def test_unit_values(found: pd.DataFrame, series: str, year: int, value: float) -> None:
    assert _one(found, "unit_value", series, year)["computed"] == pytest.approx(value)


def test_unit_value_movement(found: pd.DataFrame) -> None:
    row = _one(found, "unit_value", "production.surface [元/m3]", 2025)
    assert row["difference"] == pytest.approx(156 / 78 - 75.8 / 42.67)
    assert "2021" in row["detail"]


def test_lng_ratios_gap_is_plant_fuel_a_note(found: pd.DataFrame) -> None:
    rows = found[(found["check"] == "unit_value") & found["subject"].str.startswith("lng_feed")]
    assert sorted(rows["computed"]) == pytest.approx(sorted([645e4 / 4200, 13.08e8 / 84.37e4]))
    assert set(rows["severity"]) == {"note"} and rows["detail"].str.contains("fuel").all()
    # Both ratios hold more gas than a tonne of methane (≈1,499 m³ at 20 °C): physics ok.
    phys = found[(found["check"] == "physical") & found["subject"].str.contains("per t of LNG")]
    assert len(phys) == 2 and set(phys["severity"]) == {"ok"}
    assert phys["computed"].iloc[0] == pytest.approx(1000 / (16.043 / 24.055))


def test_city_gas_unit_value_divides_by_every_city_gas_sector(found: pd.DataFrame) -> None:
    uv = found[found["check"] == "unit_value"]
    rows = uv[uv["detail"].str.contains("output2021.city_gas")]
    assert len(rows) == 1
    assert rows.iloc[0]["computed"] == pytest.approx(21.6 / (2.23 + 0.97 + 2.46 + 0.82))
    # The sectors are those valuation.yaml maps to 城燃及辅助 that have a 2021 volume.
    from cbm_sim.scenario.valuation_inputs import defaults

    items = defaults().categories["city_gas"][1]
    sectors = {i.removeprefix("utilisation.") for i in items if i.startswith("utilisation.")}
    plan = load_plan()
    with_volume = {s for s in sectors if plan.has(f"local_use.{s}", 2021)}
    driver = plan.records("output2021.city_gas")[0].driver
    assert {t.removeprefix("local_use.") for t in driver.split(" + ")} == with_volume


def test_balances(found: pd.DataFrame) -> None:
    surface = _one(found, "balance", "surface gas balance", 2021)
    assert surface["stated"] == pytest.approx(42.67)
    assert surface["computed"] == pytest.approx(6.48 + 0.56 + 13.08 + 19.35)
    assert surface["difference"] == pytest.approx(42.67 - 39.47)
    mine = _one(found, "balance", "coal-mine gas balance", 2021)
    assert mine["difference"] == pytest.approx(20.7 - 12.35)
    use = _one(found, "balance", "mine-gas utilisation balance", 2021)
    assert use["difference"] == pytest.approx(12.35 - 9.05)
    lng_2025 = 100e4 * 13.08e8 / 84.37e4 / 1e8
    total = _one(found, "balance", "total gas balance", 2025)
    assert total["stated"] == pytest.approx(100)
    # The export cap (≤ 30 亿m³) is a constraint, not a use.
    uses = 2.73 + 1.78 + 13.8 + 0.484 + lng_2025 + 10.12 + 2.88
    assert total["computed"] == pytest.approx(uses)
    assert "ceiling, not a use" in total["detail"] and total["severity"] == "note"


LNG_2030 = 150e4 * 13.08e8 / 84.37e4 / 1e8  # 150 万t at the plan's 2021 m³/t, in 亿m³


def test_2030_balances_without_the_export_cap_are_ok(found: pd.DataFrame) -> None:
    surface = _one(found, "balance", "surface gas balance", 2030)
    assert surface["computed"] == pytest.approx(3 + 2 + 18 + 0.5 + LNG_2030)  # 46.75
    assert surface["difference"] == pytest.approx(60 - 46.7547, abs=1e-3)
    total = _one(found, "balance", "total gas balance", 2030)
    assert total["computed"] == pytest.approx(46.7547 + 11.33 + 3.67, abs=1e-3)  # 61.75 < 80
    for row in (surface, total):
        assert row["severity"] == "ok" and "cap does not bind" in row["detail"]


def test_value_only_sectors_break_the_2030_balance(found: pd.DataFrame) -> None:
    row = _one(found, "value_balance", "surface gas balance incl. value-only sectors", 2030)
    industry, transport = 100 / 3.0, 7 / 4.0  # 亿m³ at the assumed 3 and 4 元/m³
    uses = 3 + 2 + 18 + 0.5 + LNG_2030 + industry + transport
    assert row["computed"] == pytest.approx(uses) and uses == pytest.approx(81.84, abs=0.01)
    assert row["severity"] == "error"
    breakeven = 100 / (60 - (uses - industry))
    assert breakeven == pytest.approx(8.70, abs=0.01)
    assert _fmt_in(breakeven, row["detail"])
    assert "industry_price_yuan_per_m3 = 3" in row["basis"]
    assert "4 元/m3" in row["detail"]  # the highest price the plan implies (commercial 8/2)
    ok_2025 = _one(found, "value_balance", "surface gas balance incl. value-only sectors", 2025)
    assert ok_2025["severity"] == "ok"


def _fmt_in(x: float, text: str) -> bool:
    return f"{x:.6g}" in text


def test_services_against_volumes(found: pd.DataFrame) -> None:
    row = _one(found, "services", "output.services per m3 of production.surface", 2030)
    assert row["stated"] == pytest.approx(30 / 78) and row["computed"] == pytest.approx(98 / 60)
    assert "drilling_fracturing 8.5 → 30" in row["detail"]
    row = _one(found, "services", "output.equipment per m3 of production.surface", 2030)
    assert "equipment 10 → 40" in row["detail"] and row["severity"] == "inconsistency"
    wells = _one(found, "services", "wells paid by output.services.drilling_fracturing", 2030)
    # at the well cost model's drilling (45 万元) and fracturing (30 万元) per well-equivalent
    assert wells["computed"] == pytest.approx(30e8 / 7.5e5)
    # a horizontal well counts as 4.3 vertical ones (valuation.yaml, cited)
    assert wells["stated"] == pytest.approx((9005 + 4.3 * 1590) / (2021 - 2003))
    assert wells["severity"] == "note" and "drilling_fracturing_yuan_per_well_eq" in wells["basis"]


def test_lng_tanks_break_physics(found: pd.DataFrame) -> None:
    assert units.LNG_GAS_M3_PER_LIQUID_M3 == 600
    row = _one(found, "physical", "storage.project_capacity per m3 of LNG tank", 2025)
    assert row["stated"] == pytest.approx(2.5e8 / (2 * 16e4))  # 781.25
    assert row["severity"] == "error" and "public" in row["basis"]
    ok = _one(found, "physical", "storage.capacity per m3 of LNG tank", 2021)
    assert ok["stated"] == pytest.approx(4737.5 / 7.58) and ok["severity"] == "ok"  # 625


@pytest.mark.parametrize(("year", "share"), [(2021, 19.35 / 95.02), (2025, 0.2), (2030, 20 / 150)])
def test_pipeline_capacity_utilisation(found: pd.DataFrame, year: int, share: float) -> None:
    row = _one(found, "capacity", "outbound pipeline utilisation", year)
    assert row["stated"] == pytest.approx(100 * share, rel=1e-6)
    assert row["severity"] == "note"


def test_storage_needs_agree_on_a_stated_base(found: pd.DataFrame) -> None:
    row = _one(found, "storage_base", "storage needs: annual use they imply", 2021)
    assert row["stated"] == pytest.approx(618e4 * 365 / 3 / 1e8)  # 7.519
    assert row["computed"] == pytest.approx(3770e4 / 0.05 / 1e8)  # 7.54
    assert row["severity"] == "rounding" and "7.5295 亿m3" in row["detail"]
    base = _one(found, "storage_base", "storage needs: derived base against local use", 2021)
    assert base["severity"] == "note" and "6.48" in base["detail"]
    # The old, misleading formula findings against 6.48 亿m³ are gone.
    assert not found["subject"].str.startswith("storage.need").any()


def test_formula_rounding(found: pd.DataFrame) -> None:
    row = _one(found, "formula", "minegas.utilisation_rate", 2021)
    assert row["computed"] == pytest.approx(100 * 12.35 / 20.7) and row["severity"] == "ok"


def test_year_context_detail_is_generated(found: pd.DataFrame) -> None:
    row = _one(found, "year_context", "power.generation", 2025)
    assert row["computed"] == 2030 and "37.56" in row["detail"] and "41.95" in row["detail"]
    row = _one(found, "year_context", "output.processing.storage", 2035)
    assert "horizon 2030" in row["detail"]


def _edited(plan: Plan, id: str, year: int, value: float) -> Plan:
    return Plan(
        replace(f, value=value) if (f.id, f.year) == (id, year) else f for f in plan.figures
    )


def test_findings_follow_the_data() -> None:
    plan = load_plan()
    # Make the 2025 utilisation summary add up: the sum finding must turn ok.
    fixed = audit(_edited(plan, "output.utilisation.industry", 2025, 84.2))
    row = _one(fixed, "sum", "output.utilisation = Σ parts (summary statements)", 2025)
    assert row["severity"] == "ok"
    # Break an item that adds up today: a new inconsistency appears with the new numbers.
    broken = audit(_edited(plan, "output.exploration.surface", 2025, 150))
    row = _one(broken, "sum", "output.exploration = Σ parts", 2025)
    assert row["severity"] == "inconsistency" and row["computed"] == pytest.approx(161)
    assert "150" in row["detail"]
    # Enough surface gas for the 2030 uses at 3 元/m³: the value balance turns ok.
    more = audit(_edited(plan, "production.surface", 2030, 85))
    row = _one(more, "value_balance", "surface gas balance incl. value-only sectors", 2030)
    assert row["severity"] == "ok"


def test_cli_prints_and_writes_csv(tmp_path: Path, found: pd.DataFrame) -> None:
    out = tmp_path / "audit.csv"
    result = CliRunner().invoke(main, ["plan", "audit", "--csv", str(out)])
    assert result.exit_code == 0, result.output
    counts = found["severity"].value_counts()
    assert f"{len(found)} findings" in result.output
    for severity in SEVERITIES:
        assert f"{counts[severity]} {severity}" in result.output
    for check in CHECKS:
        assert f"check: {check}" in result.output
    written = pd.read_csv(out)
    assert len(written) == len(found) and list(written.columns) == list(COLUMNS)


def test_cli_status_filter() -> None:
    result = CliRunner().invoke(main, ["plan", "audit", "--status", "discrepancy"])
    assert result.exit_code == 0
    assert "check: coverage" not in result.output and "check: year_context" in result.output
    bad = CliRunner().invoke(main, ["plan", "audit", "--status", "bogus"])
    assert bad.exit_code != 0 and "bogus" in bad.output


def test_cli_severity_filter(found: pd.DataFrame) -> None:
    result = CliRunner().invoke(main, ["plan", "audit", "--severity", "error"])
    assert result.exit_code == 0, result.output
    assert "check: year_context" in result.output and "check: sum" not in result.output
    assert "inconsistency" not in result.output.split("findings over")[0]
    n = int((found["severity"] == "error").sum())
    assert f"shown: {n} of {len(found)}" in result.output
    both = CliRunner().invoke(
        main, ["plan", "audit", "--severity", "error", "--severity", "inconsistency"]
    )
    n = int(found["severity"].isin(["error", "inconsistency"]).sum())
    assert f"shown: {n} of {len(found)}" in both.output
    bad = CliRunner().invoke(main, ["plan", "audit", "--severity", "bogus"])
    assert bad.exit_code != 0 and "bogus" in bad.output
