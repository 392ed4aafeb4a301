"""Tests of cbm_sim.studies.diff: changed inputs, moved outputs, changed target statuses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cbm_sim.scenario.files import field_sources, load_scenario
from cbm_sim.scenario.model import Scenario
from cbm_sim.studies.diff import (
    INPUT_COLUMNS,
    OUTPUT_COLUMNS,
    TARGET_COLUMNS,
    Side,
    diff,
    diff_inputs,
)

ROOT = Path(__file__).resolve().parents[1]
YEARS = (2021, 2025, 2030)


def _side(name: str, scale: float, status: str = "short", scenario: Scenario | None = None) -> Side:
    """A synthetic run: production, LNG and value growing with ``scale``."""
    annual = pd.DataFrame(
        [
            (y, e, q, u, v * scale * (1 + (y - 2021) / 10))
            for y in YEARS
            for e, q, u, v in (
                ("surface", "production", "亿m3", 45.0),
                ("mine_gas", "drainage", "亿m3", 20.0),
                ("lng", "output", "万t", 40.0),
                ("surface", "wells_active", "count", 9000.0),
            )
        ],
        columns=["year", "entity", "quantity", "unit", "value"],
    )
    valuation = pd.DataFrame(
        [
            (y, sc, item, 100.0 * scale, "亿元")
            for y in YEARS
            for sc, item in (("exploration", "surface"), ("services", "workover"))
        ],
        columns=["year", "sub_cluster", "item", "value", "unit"],
    )
    targets = pd.DataFrame(
        [
            (y, "total", "total", 200.0 * scale, 500.0, status, "亿元", "output.total")
            for y in (2025, 2030)
        ]
        + [
            (
                y,
                "physical",
                "production.total",
                65.0 * scale,
                100.0,
                "short",
                "亿m3",
                "production.total",
            )
            for y in (2025, 2030)
        ],
        columns=["year", "sub_cluster", "item", "simulated", "target", "status", "unit", "id"],
    )
    return Side(name, scenario, annual, valuation, targets)


def test_a_side_against_itself_has_no_difference() -> None:
    plan = load_scenario(ROOT / "scenarios/plan.yaml", check_size=False)
    got = diff(_side("a", 1.0, scenario=plan), _side("b", 1.0, scenario=plan))
    assert got.inputs.empty and not got.outputs["moved"].any()
    assert not got.targets["moved"].any()
    assert list(got.inputs.columns) == list(INPUT_COLUMNS)
    assert list(got.outputs.columns) == list(OUTPUT_COLUMNS)
    assert list(got.targets.columns) == list(TARGET_COLUMNS)


@given(st.floats(0.5, 2.0), st.floats(0.5, 2.0))
@settings(max_examples=8, deadline=None)
def test_deltas_are_b_minus_a_and_antisymmetric(x: float, y: float) -> None:
    ab = diff(_side("a", x), _side("b", y))
    ba = diff(_side("b", y), _side("a", x))
    out = ab.outputs
    assert np.allclose(out["delta"], out["b"] - out["a"])
    assert np.allclose(out["delta"], -ba.outputs["delta"])
    total = out[(out["quantity"] == "production.total") & (out["year"] == 2021)].iloc[0]
    assert total["a"] == pytest.approx(65.0 * x) and total["b"] == pytest.approx(65.0 * y)
    value = out[(out["quantity"] == "output.total") & (out["year"] == 2030)].iloc[0]
    assert value["b"] == pytest.approx(200.0 * y)
    moved = round(65.0 * x, 2) != round(65.0 * y, 2)
    assert bool(total["moved"]) == moved


def test_a_status_change_is_flagged_and_named() -> None:
    got = diff(_side("plan", 1.0, "short"), _side("more", 2.6, "met"))
    changed = got.changed_statuses()
    assert set(changed["target"]) == {"output.total"}
    row = changed.iloc[0]
    assert (row["status_a"], row["status_b"]) == ("short", "met")
    assert row["name_zh"] == "集群总产值" and row["name_en"] == "Cluster output value"
    assert set(got.outputs["quantity"]) >= {
        "production.total",
        "production.surface",
        "production.underground",
        "lng.output",
        "output.total",
        "output.services",
    }


def test_a_target_only_one_side_has_shows_a_dash_status() -> None:
    a, b = _side("a", 1.0), _side("b", 1.0)
    b = Side(b.name, None, b.annual, b.valuation, b.targets[b.targets["id"] != "production.total"])
    got = diff(a, b)
    lone = got.targets[got.targets["target"] == "production.total"]
    assert (lone["status_b"] == "—").all() and lone["moved"].all()


FIELDS = (
    ("seed", 7),
    ("drilling.achieved_share", 0.8),
    ("type_curves.peak_rate_scale", 1.3),
    ("valuation.gas_price_scale", 0.7),
    ("storage.rule_days", 5.0),
    ("wells.workover_days", 9.0),
)


@pytest.mark.parametrize(("path", "value"), FIELDS)
def test_changing_one_field_gives_exactly_that_row(path: str, value: object) -> None:
    base = load_scenario(ROOT / "scenarios/plan.yaml", check_size=False)
    data = base.model_dump(mode="python")
    *head, last = path.split(".")
    node = data
    for part in head:
        node = node[part]
    node[last] = value
    other = Scenario.model_validate(data)
    got = diff_inputs(base, other)
    assert list(got["path"]) == [path]
    assert got.iloc[0]["b"] == f"{value:g}" if isinstance(value, float) else str(value)
    assert got.iloc[0]["name_en"] != path  # a display name, never the field


def test_list_items_are_matched_by_name() -> None:
    """Inserting a plant changes one row (the new plant), not every later plant."""
    base = load_scenario(ROOT / "scenarios/plan.yaml", check_size=False)
    plants = list(base.lng.plants)
    extra = plants[0].model_copy(update={"name": "新厂"})
    other = base.model_copy(
        update={"lng": base.lng.model_copy(update={"plants": [extra, *plants]})}
    )
    got = diff_inputs(base, other)
    assert set(got["item"]) == {"新厂"}
    assert (got["a"] == "—").all()
    assert got.iloc[0]["path"].startswith("lng.plants.0.")


def test_sources_are_the_files_comments() -> None:
    a = load_scenario(ROOT / "scenarios/plan.yaml", check_size=False)
    b = load_scenario(ROOT / "scenarios/low-price.yaml", check_size=False)
    got = diff_inputs(
        a,
        b,
        field_sources(ROOT / "scenarios/plan.yaml"),
        field_sources(ROOT / "scenarios/low-price.yaml"),
    )
    row = got.set_index("path").loc["valuation.gas_price_scale"]
    assert row["a"] == "1" and row["b"] == "0.7"
    assert row["source_a"] == "default"
    assert "low-price.yaml:" in row["source_b"] and "assumption" in row["source_b"]
    assert row["name_zh"] == "气价倍数"


def test_field_sources_give_line_and_comment() -> None:
    sources = field_sources(ROOT / "scenarios/pipeline-delay.yaml")
    commissioned = sources["pipelines.lines.1.commissioned"]
    assert commissioned.file.endswith("pipeline-delay.yaml") and commissioned.line > 0
    assert "+ 2 years" in commissioned.comment
    inherited = sources["drilling.blocks.zhengzhuang.rigs"]
    assert inherited.file.endswith("plan.yaml") and "assumption" in inherited.comment


def test_a_side_without_the_run_files_is_refused(tmp_path: Path) -> None:
    from cbm_sim.results.integrity import DamagedRunError

    with pytest.raises(DamagedRunError, match=r"missing \['annual.csv'"):
        Side.from_dir(tmp_path, verify=False)
    bad = Side("bad", None, pd.DataFrame({"year": [2025]}), pd.DataFrame(), pd.DataFrame())
    with pytest.raises(ValueError, match="bad: annual frame lacks"):
        diff(bad, _side("b", 1.0))
