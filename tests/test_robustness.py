"""Tests of cbm_sim.studies.robustness: swings, their application, and the flip table."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cbm_sim.economics.targets import check_targets
from cbm_sim.results import simulate
from cbm_sim.scenario.files import load_scenario
from cbm_sim.scenario.model import Distribution
from cbm_sim.scenario.valuation_inputs import ITEMS, WELLS_EQ
from cbm_sim.studies.ensemble import apply
from cbm_sim.studies.robustness import (
    EXOGENOUS_FIELDS,
    PER_WELL_FIELDS,
    ROBUSTNESS_COLUMNS,
    Swing,
    default_swings,
    flipped_by,
    robustness,
    swings_for,
    uncertainty_swings,
)

PLAN = Path(__file__).parent.parent / "scenarios" / "plan.yaml"


@pytest.fixture(scope="module")
def plan():
    return load_scenario(PLAN)


def test_bad_swings_are_named():
    with pytest.raises(ValueError, match="'x' moves no scenario path"):
        Swing("x", (), 0.5, 1.5, True, "s")
    with pytest.raises(ValueError, match=r"low must not exceed high, got low=2\.0 high=1\.0"):
        Swing("x", ("valuation.gas_price_scale",), 2.0, 1.0, True, "s")
    swing = Swing("x", ("valuation.gas_price_scale",), 0.5, 1.5, True, "s")
    with pytest.raises(ValueError, match="'low' or 'high', got 'mid'"):
        swing.values(load_scenario(PLAN), "mid")


def test_relative_swings_scale_scalars_and_absolute_ones_replace_them(plan):
    scaled = Swing("g", ("valuation.gas_price_scale",), 0.7, 1.3, True, "s")
    assert scaled.values(plan, "low") == {"valuation.gas_price_scale": pytest.approx(0.7)}
    low_price = plan.model_copy(
        update={"valuation": plan.valuation.model_copy(update={"gas_price_scale": 0.5})}
    )
    assert scaled.values(low_price, "high") == {"valuation.gas_price_scale": pytest.approx(0.65)}
    absolute = Swing("h", ("valuation.horizontal_well_equivalent",), 4.3, 6.6, False, "s")
    assert absolute.values(low_price, "low") == {"valuation.horizontal_well_equivalent": 4.3}
    path = Swing("d", ("drilling.blocks.mabi.vertical_wells_per_year",), 0.5, 1.2, True, "s")
    member = apply(plan, path.values(plan, "low"))
    written = plan.drilling.blocks["mabi"].vertical_wells_per_year[2022]
    assert member.drilling.blocks["mabi"].vertical_wells_per_year[2022] == 0.5 * written


def test_default_swings_cover_every_per_well_and_exogenous_item(plan):
    # every well cost the valuation charges (the training base is no cost of the well)
    per_well = {t.field for s in ITEMS for t in s.terms if t.driver == WELLS_EQ}
    assert per_well - {"training_yuan_per_well_drilled"} <= set(PER_WELL_FIELDS)
    assert "dewatering_yuan_per_active_well_year" in PER_WELL_FIELDS
    # issue 24: training, green finance and insurance have drivers; the science city has none
    assert set(EXOGENOUS_FIELDS) == {"science_city_1e8_yuan"}
    swings = {s.name: s for s in default_swings(plan)}
    assert set(swings) == {
        "gas_price",
        "per_well_values",
        "horizontal_well_equivalent",
        "peak_rate",
        "drilling",
        "contracts",
        "exogenous_items",
        "carbon_baseline",
    }
    # every programme path the plan writes (10 blocks × vertical, horizontal; block_15 has no
    # horizontal wells)
    written = [
        path
        for prog in plan.drilling.blocks.values()
        for path in (prog.vertical_wells_per_year, prog.horizontal_wells_per_year)
        if path
    ]
    assert len(swings["drilling"].paths) == len(written) == 19
    assert swings["contracts"].paths == ("contracts.outbound.0.annual_1e8_m3",)
    no_contracts = plan.model_copy(
        update={
            "contracts": plan.contracts.model_copy(update={"outbound": []}),
            "uncertainty": {},  # the shipped ranges name the contract
            "correlations": [],
        }
    )
    assert "contracts" not in {s.name for s in default_swings(no_contracts)}
    assert all(s.source for s in swings.values())
    assert "GB 21522" in swings["carbon_baseline"].source
    # prices rank the dispatch's markets (netback): a price swing is simulated again; a
    # per-well unit value or the carbon baseline only re-values the run
    assert not swings["gas_price"].valuation_only and not swings["peak_rate"].valuation_only
    assert swings["per_well_values"].valuation_only and swings["carbon_baseline"].valuation_only
    bare = plan.model_copy(update={"uncertainty": {}, "correlations": []})
    assert swings_for(bare) == default_swings(bare)
    assert swings_for(plan) == uncertainty_swings(plan)  # the shipped plan states its ranges


def test_an_uncertainty_section_replaces_the_defaults(plan):
    scenario = plan.model_copy(
        update={
            "uncertainty": {
                "type_curves.peak_rate_scale": Distribution(dist="uniform", low=0.7, high=1.1),
                "valuation.gas_price_scale": Distribution(dist="normal", mean=1.0, sd=0.1),
            },
            "correlations": [],
        }
    )
    swings = swings_for(scenario)
    assert [s.name for s in swings] == ["type_curves.peak_rate_scale", "valuation.gas_price_scale"]
    assert (swings[0].low, swings[0].high) == (0.7, 1.1)
    assert swings[1].low == pytest.approx(1.0 - 1.2815515655 * 0.1)  # P10 of the normal
    assert "P10/P90" in swings[1].source
    assert swings == uncertainty_swings(scenario)


@pytest.fixture(scope="module")
def table(plan):
    swings = [
        # wide enough to flip 2025 exploration (surface gas × price) whatever the model's base
        Swing("gas_price", ("valuation.gas_price_scale",), 0.2, 5.0, True, "s"),
        Swing("peak_rate", ("type_curves.peak_rate_scale",), 0.8, 1.2, True, "s"),
    ]
    return robustness(plan, swings, years=(2025,))


def test_the_table_flags_a_flipping_swing(table):
    assert list(table.columns) == list(ROBUSTNESS_COLUMNS)
    assert table["target"].iloc[0] == "output.total"
    rows = table.set_index(["target", "assumption"])
    # 2025 exploration (surface gas × price): gas at a fifth of the price is short, at five
    # times met, so the swing flips the base verdict on one side
    explore = rows.loc[("output.exploration", "gas_price")]
    assert (explore["low_status"], explore["high_status"]) == ("short", "met")
    expected = "high" if explore["base_status"] == "short" else "low"
    assert explore["flips"] == expected
    assert explore["high_simulated"] == pytest.approx(5.0 * explore["base_simulated"], rel=0.05)
    for _, r in table.iterrows():  # "flips" names exactly the sides whose status differs
        sides = [s for s in ("low", "high") if r[f"{s}_status"] != r["base_status"]]
        assert r["flips"] == "+".join(sides), r.to_dict()
    peak = rows.loc[("output.total", "peak_rate")]
    assert peak["flips"] == ""
    assert peak["low_simulated"] < peak["base_simulated"] < peak["high_simulated"]
    assert len(table) == 2 * 9  # two swings × (total + eight sub-clusters)


def test_a_revalued_swing_equals_a_full_rerun(plan, table):
    member = apply(plan, {"valuation.gas_price_scale": 0.2})
    direct = check_targets(simulate.run(member))
    row = direct[(direct["year"] == 2025) & (direct["sub_cluster"] == "total")].iloc[0]
    got = table[(table["target"] == "output.total") & (table["assumption"] == "gas_price")]
    assert got["low_simulated"].iloc[0] == pytest.approx(row["simulated"], rel=1e-12)


def test_flipped_by_lists_the_flipping_assumptions(table):
    summary = flipped_by(table).set_index("target")
    explore = table.set_index(["target", "assumption"]).loc[("output.exploration", "gas_price")]
    assert summary.loc["output.exploration", "flipped_by"] == f"gas_price ({explore['flips']})"
    total = table[(table["target"] == "output.total") & (table["flips"] != "")]
    listed = ", ".join(f"{r.assumption} ({r.flips})" for r in total.itertuples())
    assert summary.loc["output.total", "flipped_by"] == listed
    with pytest.raises(ValueError, match="lacks columns"):
        flipped_by(pd.DataFrame({"year": [2025]}))


def test_bad_calls_are_named(plan):
    swing = Swing("a", ("valuation.gas_price_scale",), 0.7, 1.3, True, "s")
    with pytest.raises(ValueError, match="unique"):
        robustness(plan, [swing, swing])
    with pytest.raises(ValueError, match=r"years \[2040\] are outside"):
        robustness(plan, [swing], years=(2040,))


def test_a_shared_factor_entry_swings_every_field_it_names(plan):
    # plan.yaml's gas_prices entry is a shared factor (its key is a name, not a path)
    swing = {s.name: s for s in swings_for(plan)}["gas_prices"]
    assert swing.paths == tuple(plan.uncertainty["gas_prices"].paths)
    assert swing.values(plan, "high") == {"gas_prices": swing.high}
    low = apply(plan, swing.values(plan, "low"), {swing.name: swing.spec})
    high = apply(plan, swing.values(plan, "high"), {swing.name: swing.spec})
    assert low.model_dump()["valuation"] != high.model_dump()["valuation"]
