"""Tests of the well cost model of cbm_sim.scenario.valuation_inputs: one breakdown, each cost
element assigned once, and the messages of a malformed ``well_cost`` section."""

from __future__ import annotations

import copy

import pytest
from fixtures_results import plan_series, results_from

from cbm_sim.economics.valuation import item_totals, value
from cbm_sim.plan.packaged import read_packaged
from cbm_sim.scenario.valuation_inputs import (
    COST_KINDS,
    ITEMS,
    WELLS_EQ,
    ValuationConfig,
    ValuationError,
    cost_model,
    parse_cost_model,
)


def _cost_fields() -> set[str]:
    raw = read_packaged("valuation.yaml")
    return {k for k, v in raw["fields"].items() if v.get("cost_model")}


# driven by the wells drilled but no cost of the well: the training base trains the crews
NOT_WELL_COSTS = {"training_yuan_per_well_drilled"}


def test_every_per_well_item_takes_its_unit_value_from_the_cost_model():
    per_well = {
        t.field
        for s in ITEMS
        for t in s.terms
        if t.driver == WELLS_EQ or t.field.endswith(("_per_active_well_year", "_per_workover"))
    }
    assert per_well - NOT_WELL_COSTS == _cost_fields()
    cfg = ValuationConfig.default()
    got = cost_model().unit_values()
    for field in per_well - NOT_WELL_COSTS:
        assert getattr(cfg, field) == {2021: pytest.approx(got[field])}, field  # flat, no trend


def test_no_cost_element_is_counted_twice():
    model = cost_model()
    for e in model.elements:
        assert sum(e.shares.values()) <= 1.0 + 1e-12, e.name
        for field in e.shares:
            assert field.endswith(COST_KINDS[e.kind]), (e.name, field)
    # the valuation of one vertical well, one active well-year and one workover: each item's
    # value is its shares of the elements, and all items together never exceed the elements
    one = {
        "wells_drilled_vertical": 1.0,
        "wells_drilled_horizontal": 0.0,
        "wells_active_mean": 1.0,
        "workovers": 1.0,
    }
    frame = value(results_from({k: {2025: v} for k, v in plan_series(2025, one).items()}))
    per_well = frame[
        frame["unit_value_unit"].isin(["元/well", "元/(well·yr)", "元/workover"])
        & (frame["item"] != "training_base")
    ]
    by_item = per_well.groupby("item")["value_yuan"].sum()
    totals = model.element_totals()
    assert by_item.sum() <= sum(totals.values()) * (1 + 1e-12)
    assert by_item.sum() == pytest.approx(
        sum(e.value_yuan * sum(e.shares.values()) for e in model.elements)
    )
    drilled = frame[frame["driver_unit"] == "vertical-well equivalent"]["value_yuan"].sum()
    assert drilled <= model.capex_total_yuan_per_well_eq
    assert item_totals(frame).set_index("item").loc["drilling_fracturing", "value_yuan"] == (
        pytest.approx(450_000.0 + 300_000.0)
    )


def test_the_capex_total_is_the_cited_all_in_cost():
    model = cost_model()
    assert model.capex_total_yuan_per_well_eq == 2_400_000.0
    assert model.element_totals()["capex"] == pytest.approx(2_400_000.0)
    assert "Green Dragon Gas" in model.capex_total_source
    assert all(e.source for e in model.elements)
    assert ValuationConfig.default().horizontal_well_equivalent == pytest.approx(4.3)


def _raw():
    return copy.deepcopy(read_packaged("valuation.yaml")["well_cost"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda r: r["capex"]["casing_tubing"]["items"].update(tools_yuan_per_well_eq=1.0),
            "shares add up to 1.15 > 1",
        ),
        (
            lambda r: r["capex"]["crew_base"]["items"].update(
                dewatering_yuan_per_active_well_year=0.1
            ),
            "goes to fields ending in '_per_well_eq'",
        ),
        (
            lambda r: r["capex"]["crew_base"]["items"].update(lng_price_yuan_per_t=0.1),
            "'lng_price_yuan_per_t' is not a cost-model field",
        ),
        (lambda r: r["capex"]["crew_base"].update(value=90000.0), "add up to 2.41e+06"),
        (lambda r: r["capex"]["crew_base"].update(value=-1.0), "finite cost >= 0, got -1.0"),
        (
            lambda r: r["capex"]["crew_base"]["items"].update(base_services_yuan_per_well_eq=0.0),
            "must be in (0, 1], got 0.0",
        ),
        (lambda r: r.update(extra={}), "unknown keys ['extra']"),
        (
            lambda r: r["opex"]["staff_base"].update(items={}),
            "['base_services_yuan_per_active_well_year'] take no share",
        ),
    ],
)
def test_a_malformed_cost_model_is_named(change, message):
    raw = _raw()
    change(raw)
    with pytest.raises(ValuationError) as info:
        parse_cost_model(raw, _cost_fields())
    assert message in str(info.value)
