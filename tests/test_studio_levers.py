"""The studio's levers: field paths, bounds, sources, and the overlay a draft writes."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cbm_sim import bounds
from cbm_sim.scenario.files import field_sources, load_scenario
from cbm_sim.scenario.paths import interpolate
from cbm_sim.studio.levers import (
    GROUPS,
    LeverError,
    catalogue,
    coerce,
    format_path,
    overlay,
    parse_path,
    value_at,
)

PLAN = Path(__file__).resolve().parents[1] / "scenarios" / "plan.yaml"


@cache
def _plan():
    scenario = load_scenario(PLAN)
    return scenario, {lever.id: lever for lever in catalogue(scenario, field_sources(PLAN))}


# --------------------------------------------------------------------------- field paths
@given(
    st.lists(
        st.one_of(st.from_regex(r"[a-z_][a-z0-9_]{0,12}", fullmatch=True), st.integers(0, 300)),
        min_size=1,
        max_size=6,
    ).filter(lambda parts: isinstance(parts[0], str))
)
def test_a_field_path_reads_back_as_its_parts(parts):
    assert parse_path(format_path(parts)) == tuple(parts)


@pytest.mark.parametrize("text", ["", ".a", "a..b", "a[x]", "a[1", "a]", "a.[1]"])
def test_a_malformed_field_path_is_refused_with_its_text(text):
    with pytest.raises(ValueError, match="not a field path"):
        parse_path(text)


# --------------------------------------------------------------------------- the catalogue
def test_every_stage_of_the_chain_has_levers_and_every_lever_is_a_field():
    scenario, levers = _plan()
    assert {lever.group for lever in levers.values()} == set(GROUPS)
    data = scenario.model_dump(mode="python")
    for lever in levers.values():
        assert value_at(data, parse_path(lever.id)) is not None or lever.kind == "date", lever.id


def test_bounds_come_from_the_bounds_registry_and_the_schema():
    _, levers = _plan()
    wells = bounds.BOUNDS["wells_per_block_year"]
    lever = levers["drilling.blocks.mabi.vertical_wells_per_year"]
    assert (lever.lo, lever.hi) == (wells.lo, wells.hi)
    share = bounds.BOUNDS["drilling_achieved_share"]
    lever = levers["drilling.achieved_share"]
    assert (lever.lo, lever.hi, lever.lo_open) == (share.lo, share.hi, True)
    assert levers["drilling.blocks.mabi.rigs"].hi == 200  # the schema's le=200
    assert levers["drilling.blocks.mabi.rigs"].kind == "integer"
    price = levers["valuation.surface_gas_price_yuan_per_m3"]
    assert price.hi == bounds.BOUNDS["valuation_unit_value"].hi


def test_a_lever_set_in_the_file_cites_the_comment_beside_it():
    _, levers = _plan()
    lever = levers["lng.plants[8].commissioned"]  # LNG-9 of plan.yaml
    assert lever.base == "2024-07-01"
    assert lever.source == "assumption: in service before the 2025 count"
    assert lever.where.startswith(str(PLAN.name)) or "plan.yaml:" in lever.where
    default = levers["type_curves.peak_rate_scale"]
    assert default.where == "default" and "model.py" in default.source
    price = levers["valuation.lng_price_yuan_per_t"]
    assert "SunSirs" in price.source  # valuation.yaml's source of the default


def test_names_and_units_come_from_the_projects_names_table():
    _, levers = _plan()
    assert levers["drilling.blocks.mabi.vertical_wells_per_year"].units == {
        "zh": "wells/yr",  # the names table leaves it to the bound (cbm_sim.bounds)
        "en": "wells/yr",
    }
    assert levers["lng.demand_1e4_t_per_year"].units == {"zh": "万t/年", "en": "10⁴ t/yr"}
    assert levers["type_curves.peak_rate_scale"].units["en"] == "×"
    assert levers["valuation.lng_price_yuan_per_t"].units["zh"] == "元/t"
    lng9 = levers["lng.plants[8].commissioned"].labels
    assert "LNG-9" in lng9["zh"] and "LNG-9" in lng9["en"]  # a list item by its name
    assert levers["drilling.blocks.mabi.rigs"].labels == {
        "zh": "马必 钻机数",
        "en": "Mabi: drilling rigs",
    }


def test_drilling_is_edited_year_by_year_from_the_programmes_first_year():
    _, levers = _plan()
    lever = levers["drilling.blocks.zhengzhuang.vertical_wells_per_year"]
    assert lever.years == tuple(range(2022, 2031))
    assert lever.base[2025] == 765 and lever.base[2026] == 382.5  # plan.yaml's 郑庄


# --------------------------------------------------------------------------- the overlay
@settings(max_examples=30, deadline=None)
@given(
    year=st.integers(2022, 2030),
    wells=st.integers(0, 5000),
    probe=st.floats(2022, 2031, exclude_max=True),  # the programme's years (first_year 2022)
)
def test_a_path_written_on_its_grid_is_the_base_path_where_not_edited(year, wells, probe):
    scenario, levers = _plan()
    lever_id = "drilling.blocks.mabi.horizontal_wells_per_year"
    data, kept = overlay(scenario, levers, {lever_id: {str(year): wells}})
    base = scenario.drilling.blocks["mabi"].horizontal_wells_per_year
    if not kept:
        assert wells == interpolate(base, [year])[0]
        return
    written = data["drilling"]["blocks"]["mabi"]["horizontal_wells_per_year"]
    assert written[year] == wells
    # away from the edited year (beyond its neighbours on the grid) the path is unchanged
    if abs(probe - year) >= 1:
        np.testing.assert_allclose(
            interpolate(written, [probe]), interpolate(base, [probe]), rtol=1e-12
        )


def test_a_change_inside_a_list_writes_the_whole_list_without_defaults():
    scenario, levers = _plan()
    data, kept = overlay(scenario, levers, {"lng.plants[8].commissioned": "2026-01-01"})
    plants = data["lng"]["plants"]
    assert len(plants) == len(scenario.lng.plants)
    assert str(plants[8]["commissioned"]) == "2026-01-01"
    assert "reliability" not in plants[0]  # left at its default, so not written
    assert kept == {"lng.plants[8].commissioned": ("2024-07-01", "2026-01-01")}


def test_a_change_back_to_the_base_value_is_no_change():
    scenario, levers = _plan()
    assert overlay(scenario, levers, {"drilling.achieved_share": 1.0}) == ({}, {})
    grid = levers["demand.industry.annual_1e8_m3"].base
    assert overlay(scenario, levers, {"demand.industry.annual_1e8_m3": grid}) == ({}, {})


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"nope.field": 1}, "nope.field", "not a lever"),
        ({"drilling.achieved_share": "1.2"}, "drilling.achieved_share", "expected a number"),
        ({"drilling.achieved_share": True}, "drilling.achieved_share", "expected a number"),
        ({"drilling.blocks.mabi.rigs": 2.5}, "drilling.blocks.mabi.rigs", "whole number"),
        ({"lng.plants[8].commissioned": "2025-02-30"}, "lng.plants[8].commissioned", "ISO date"),
        (
            {"demand.industry.annual_1e8_m3": {"20x5": 1}},
            "demand.industry.annual_1e8_m3.20x5",
            "year",
        ),
        ({"demand.industry.annual_1e8_m3": 3}, "demand.industry.annual_1e8_m3", "mapping"),
    ],
)
def test_a_bad_change_names_its_lever_and_says_what_was_expected(change, field, message):
    scenario, levers = _plan()
    with pytest.raises(LeverError, match=message) as caught:
        overlay(scenario, levers, change)
    assert caught.value.field == field


def test_a_number_must_be_finite():
    _, levers = _plan()
    with pytest.raises(LeverError, match="finite"):
        coerce(levers["drilling.achieved_share"], float("inf"))
