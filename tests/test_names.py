"""Tests of cbm_sim.names: every input and output has a Chinese and an English name."""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cbm_sim import names
from cbm_sim.economics.targets import PHYSICAL
from cbm_sim.economics.valuation import SUB_CLUSTERS
from cbm_sim.plan.blocks import load_blocks
from cbm_sim.scenario.files import load_scenario
from cbm_sim.scenario.model import Horizon, Scenario

ROOT = Path(__file__).resolve().parents[1]
HAN = re.compile(r"[\u4e00-\u9fff]")


def _schema_paths() -> set[str]:
    """Every field path of the scenario's JSON schema ("[]" for list items, "*" for keys)."""
    schema = Scenario.model_json_schema()
    defs = schema.get("$defs", {})
    paths: set[str] = set()

    def walk(node: dict[str, Any], prefix: str, depth: int = 0) -> None:
        if depth > 10:
            return
        if "$ref" in node:
            walk(defs[node["$ref"].split("/")[-1]], prefix, depth + 1)
            return
        for key in ("anyOf", "allOf", "oneOf"):
            if key in node:
                for sub in node[key]:
                    walk(sub, prefix, depth + 1)
                return
        if node.get("type") == "object" and "properties" in node:
            for name, sub in node["properties"].items():
                paths.add(prefix + name)
                walk(sub, f"{prefix}{name}.", depth + 1)
        elif node.get("type") == "array" and isinstance(node.get("items"), dict):
            walk(node["items"], prefix.removesuffix(".") + "[].", depth + 1)
        elif node.get("type") == "object" and isinstance(node.get("additionalProperties"), dict):
            value = node["additionalProperties"]
            if "$ref" in value or "properties" in value:  # not a {year: number} time path
                paths.add(prefix + "*")
                walk(value, prefix + "*.", depth + 1)

    walk(schema, "")
    return paths


def test_every_scenario_field_has_a_name() -> None:
    missing = sorted(p for p in _schema_paths() if not names.has_input_name(p))
    assert not missing, f"add these scenario fields to cbm_sim/data/names.yaml: {missing}"


def test_every_named_input_is_a_scenario_field() -> None:
    """No stale entry: a pattern in the table is a field of the schema (or a wildcard)."""
    fields = _schema_paths()
    stale = [
        key for key in names.table()["inputs"] if not key.startswith("*.") and key not in fields
    ]
    assert not stale, f"names.yaml names fields the scenario no longer has: {stale}"


@cache
def _short_run() -> Any:
    from cbm_sim.results import simulate

    return simulate.run(Scenario(horizon=Horizon(end=dt.date(2021, 12, 31), step_days=7)))


@pytest.mark.slow
def test_every_results_series_has_a_name() -> None:
    annual = _short_run().annual
    for entity, quantity in set(zip(annual["entity"], annual["quantity"], strict=True)):
        kind = str(entity).partition(":")[0]
        assert names.lookup("entities", kind) is not None, entity
        assert names.lookup("quantities", str(quantity)) is not None, quantity
        shown = names.output_name(str(entity), str(quantity), "zh")
        assert HAN.search(shown) and str(quantity) not in shown, (entity, quantity, shown)


def test_targets_sub_clusters_items_and_blocks_are_named() -> None:
    from cbm_sim.scenario.valuation_inputs import ITEMS

    for plan_id in PHYSICAL:
        assert names.lookup("targets", plan_id) is not None, plan_id
    for sc in (*SUB_CLUSTERS, "total"):
        assert names.lookup("sub_clusters", sc) is not None, sc
    for item in ITEMS:
        assert names.lookup("items", item.item) is not None, item
    blocks = {b.id: b.name_zh for b in load_blocks()}
    assert set(names.table()["blocks"]) == set(blocks)
    for block_id, zh in blocks.items():
        assert names.block_name(block_id, "zh") == zh


@pytest.mark.parametrize("path", sorted(ROOT.glob("scenarios/*.yaml")), ids=lambda p: p.name)
def test_shipped_uncertainty_entries_have_names(path: Path) -> None:
    scenario = load_scenario(path, check_size=False)
    for entry in scenario.uncertainty:
        assert names.has_input_name(entry), f"{path.name}: {entry}"
        assert names.input_name(entry, "en") != entry


def test_default_swings_have_names() -> None:
    from cbm_sim.studies.robustness import default_swings

    for swing in default_swings(load_scenario(ROOT / "scenarios/plan.yaml", check_size=False)):
        assert names.input_name(swing.name, "zh") != swing.name, swing.name


def test_every_entry_is_a_pair_chinese_then_english() -> None:
    for section, key, zh, en in names.rows():
        assert HAN.search(zh) or section in ("inputs", "factors"), (section, key, zh)
        assert not HAN.search(en), (section, key, en)
        assert zh.strip() == zh and en.strip() == en


def test_concrete_paths_resolve_with_their_block_and_position() -> None:
    assert names.input_name("drilling.blocks.zhengzhuang.rigs", "zh") == "郑庄 钻机数"
    assert names.input_name("drilling.blocks.zhengzhuang.rigs", "en") == (
        "Zhengzhuang: drilling rigs"
    )
    assert names.input_name("lng.plants.8.capacity_t_per_day", "en") == ("LNG plant capacity (#9)")
    assert names.input_name("contracts.outbound.0.annual_1e8_m3", "zh", detail="晋城-新乡") == (
        "合同年供气量（晋城-新乡）"
    )
    assert names.input_name("cng.stations.2.reliability.mean_repair_days", "en") == (
        "CNG mother stations: mean repair time (#3)"
    )
    assert names.input_unit("mine_gas.drainage_1e8_m3_per_year", "zh") == "亿m³/年"
    assert names.input_unit("valuation.carbon_price_yuan_per_t_co2e", "en") == "CNY/t CO₂e"
    assert names.input_name("demand.industry.annual_1e8_m3.2025", "zh") == "工业用气需求（2025年）"
    assert names.input_name("demand.industry.annual_1e8_m3.2025", "en") == (
        "Industrial demand (2025)"
    )
    assert names.target_name("output.services.workover", "zh") == "生产服务 · 修井"
    assert names.output_name("demand:residential", "shortfall", "zh") == "民生用气缺口"
    assert names.output_name("block:zhengzhuang", "surface_production", "en") == (
        "Zhengzhuang surface production"
    )


_PATTERNS = sorted(k for k in names.table()["inputs"] if not k.startswith("*"))


@given(st.sampled_from(_PATTERNS), st.integers(0, 40), st.sampled_from(["zh", "en"]))
def test_any_concrete_path_of_a_pattern_is_named(pattern: str, index: int, lang: str) -> None:
    """A path with any list index or block id in it gets its pattern's name, never the path."""
    concrete = pattern.replace("[]", f".{index}").replace("*", "zhengzhuang")
    if pattern.startswith("uncertainty.*"):
        concrete = pattern.replace("*", "gas_prices")
    shown = names.input_name(concrete, lang)  # type: ignore[arg-type]
    assert shown != concrete and ("." not in concrete or concrete not in shown)
    if pattern != "uncertainty.*":  # an entry is named by what it samples (below)
        base = names.table()["inputs"][pattern](lang)  # type: ignore[arg-type]
        assert base.lower() in shown.lower()


def test_uncertainty_entries_are_named_by_what_they_sample() -> None:
    assert names.input_name("uncertainty.type_curves.peak_rate_scale", "zh") == (
        "不确定性：新井峰值产量倍数"
    )
    assert names.input_name("uncertainty.gas_prices.low", "en") == (
        "Uncertainty: Gas price level (gas, CNG, LNG together) — low"
    )


def test_an_unknown_path_is_shown_as_written_without_a_unit() -> None:
    assert names.input_name("my_own_factor", "zh") == "my_own_factor"
    assert names.input_unit("my_own_factor", "zh") == ""
    assert not names.has_input_name("valuation.no_such_field")


def test_bad_language_and_section_messages() -> None:
    with pytest.raises(ValueError, match=r"expected a language of \['zh', 'en'\], got 'fr'"):
        names.input_name("seed", "fr")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown names section 'colours'"):
        names.lookup("colours", "x")
