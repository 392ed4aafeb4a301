"""Tests of cbm_sim.plan.audit and ``cbm-sim plan audit``: the findings against hand arithmetic on
the plan's printed numbers, and their dependence on the data (not on typed text)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from cbm_sim.cli import main
from cbm_sim.plan.audit import CHECKS, COLUMNS, audit
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
    assert set(found["status"]) == {"ok", "discrepancy", "info"}
    assert found["detail"].str.len().min() > 20
    assert found["ref"].str.match(r"ch\d §\d").all()


def test_exactly_the_expected_discrepancies(found: pd.DataFrame) -> None:
    expected = {
        # 6.8+7+6+84+18+22 = 143.8 vs 144; with the detail 55: 180.8; 2030: 219.5 vs 220
        ("sum", "output.utilisation", 2025),
        ("sum", "output.utilisation", 2030),
        # 61.7+35.5 = 97.2 vs 97, 90.8+38.5 = 129.3 vs 129; 1.69+60 = 61.69, 1.75+89 = 90.75
        ("sum", "output.processing", 2025),
        ("sum", "output.processing", 2030),
        ("sum", "output.processing.conversion", 2025),
        ("sum", "output.processing.conversion", 2030),
        ("sum", "output.total", 2025),  # leaf items: 499.99 (summary), 536.99 (detail)
        ("sum", "output.total", 2030),  # leaf items: 999.75
        ("formula", "minegas.utilisation_rate", 2025),  # (10.12+2.88)/22 = 59.1 % < 60 %
        ("formula", "production_per_area.city", 2021),  # 42.67亿/2744.988 = 155.4 ≠ 159.5
        ("formula", "storage.need_3day", 2021),  # 3 × 6.48亿/365 = 532.6万 ≠ 618万
        ("formula", "storage.need_5pct", 2021),  # 5 % × 6.48亿 = 3240万 ≠ 3770万
        ("unit_value", "lng_feed_m3_per_t", 2021),  # 1550.3 vs 1535.7 m³/t
        ("unit_value", "local_use.chemicals", 2025),  # 18/13.8 vs 55/13.8 元/m³
        ("balance", "surface", 2030),  # uses exceed 60 亿m³
        ("balance", "total", 2030),  # uses exceed 80 亿m³
        ("duplicate", "output.utilisation.chemicals", 2025),  # 18 vs 55
        ("duplicate", "science_city.goals", 2022),  # 八大目标 vs 七大目标
        ("duplicate", "training_base.universities", 2022),  # 六所 vs 七校
        ("year_context", "power.generation", 2025),
        ("year_context", "power.gas", 2025),
        ("year_context", "minegas.heating_gas", 2025),
        ("year_context", "output.processing.storage", 2035),
    }
    got = {_key(r) for _, r in found[found["status"] == "discrepancy"].iterrows()}
    assert got == expected


def test_subcluster_sums_hold_or_are_reported(found: pd.DataFrame) -> None:
    sums = found[found["check"] == "sum"]
    for year in (2025, 2030):
        for sc in [*SUBCLUSTERS, "total"]:
            rows = sums[(sums["subject"].str.startswith(f"output.{sc} =")) & (sums["year"] == year)]
            assert len(rows) >= 1, (sc, year)
            for _, r in rows.iterrows():
                holds = abs(r["computed"] - r["stated"]) < 1e-9
                assert (r["status"] == "ok") == holds, r["detail"]


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
    assert row["status"] == ("ok" if abs(stated - computed) < 1e-9 else "discrepancy")


def test_radiating_2025_has_no_carbon_item(found: pd.DataFrame) -> None:
    row = _one(found, "coverage", "output.radiating.carbon_trading", 2025)
    assert row["status"] == "info" and "2030" in row["detail"]


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


def test_lng_ratios(found: pd.DataFrame) -> None:
    rows = found[(found["check"] == "unit_value") & found["subject"].str.startswith("lng_feed")]
    assert sorted(rows["computed"]) == pytest.approx(sorted([645e4 / 4200, 13.08e8 / 84.37e4]))


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
    uses = 2.73 + 1.78 + 13.8 + 0.484 + lng_2025 + 30 + 10.12 + 2.88
    assert total["computed"] == pytest.approx(uses)
    total_2030 = _one(found, "balance", "total gas balance", 2030)
    assert total_2030["difference"] < 0 and total_2030["status"] == "discrepancy"


def test_formula_rounding(found: pd.DataFrame) -> None:
    row = _one(found, "formula", "minegas.utilisation_rate", 2021)
    assert row["computed"] == pytest.approx(100 * 12.35 / 20.7) and row["status"] == "ok"


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
    assert row["status"] == "ok"
    # Break an item that adds up today: a new discrepancy appears with the new numbers.
    broken = audit(_edited(plan, "output.exploration.surface", 2025, 150))
    row = _one(broken, "sum", "output.exploration = Σ parts", 2025)
    assert row["status"] == "discrepancy" and row["computed"] == pytest.approx(161)
    assert "150" in row["detail"]


def test_cli_prints_and_writes_csv(tmp_path: Path, found: pd.DataFrame) -> None:
    out = tmp_path / "audit.csv"
    result = CliRunner().invoke(main, ["plan", "audit", "--csv", str(out)])
    assert result.exit_code == 0, result.output
    counts = found["status"].value_counts()
    assert f"{len(found)} findings" in result.output
    assert f"{counts['discrepancy']} discrepancy" in result.output
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
