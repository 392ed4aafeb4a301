"""Charts draw the numbers of the results they are given, in both languages, without warnings."""

from __future__ import annotations

import io
import itertools
import logging
import os
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.testing.compare import compare_images
from synthetic import CLUSTER_TARGETS_YI, ITEMS, PRODUCTION_TARGETS_YI_M3, Synthetic, build

from cbm_sim import units
from cbm_sim.economics.valuation import SUB_CLUSTERS
from cbm_sim.plan.figures import load_plan
from cbm_sim.report import charts, sankey, supply_charts
from cbm_sim.report.ensemble_charts import display_unit
from cbm_sim.report.fonts import Lang, use_report_style
from cbm_sim.report.style import LABELS, item_key, label

BASELINES = Path(__file__).parent / "baseline_images"
CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]")
YI = units.to_base(1.0, "亿m3")


@pytest.fixture(scope="module")
def synth() -> Synthetic:
    return build()


def all_charts(s: Synthetic, lang: Lang) -> dict[str, Figure]:
    from cbm_sim.report.pdf import build_charts

    return build_charts(s.results, lang, targets=s.targets, values=s.valuation, ensemble=s.ensemble)


def drawn_values(ax) -> Iterator[np.ndarray]:
    """The numbers each data artist of an axes carries."""
    for line in ax.lines:
        yield np.asarray(line.get_ydata(), dtype=float)
    for patch in ax.patches:
        if isinstance(patch, Rectangle):
            yield np.array([patch.get_x(), patch.get_y(), patch.get_width(), patch.get_height()])
        elif isinstance(patch, PathPatch):
            yield patch.get_path().vertices.ravel()
    for coll in ax.collections:
        if isinstance(coll, PathCollection):
            yield np.asarray(coll.get_offsets(), dtype=float).ravel()
        elif isinstance(coll, LineCollection):
            segs = coll.get_segments()
            yield np.concatenate([s.ravel() for s in segs]) if segs else np.array([])
        else:
            paths = coll.get_paths()
            yield np.concatenate([p.vertices.ravel() for p in paths]) if paths else np.array([])
    for table in ax.tables:
        yield np.array([float(c.get_text().get_text() != "") for c in table.get_celld().values()])


def assert_axes_have_data(fig: Figure) -> None:
    for ax in fig.axes:
        arrays = list(drawn_values(ax))
        if not arrays and ax.texts:  # text-only page (the cover)
            continue
        assert arrays, f"axes {ax.get_title()!r} has no data artists"
        assert any(np.isfinite(a).any() and a.size for a in arrays), ax.get_title()
        for line in ax.lines:
            y = np.asarray(line.get_ydata(), dtype=float)
            assert np.isfinite(y).any(), f"all-NaN line {line.get_label()!r} in {ax.get_title()!r}"


# --- the label dictionary -------------------------------------------------------------------


def test_labels_cover_every_sub_cluster_and_item() -> None:
    for sc, items in ITEMS.items():
        assert f"sc.{sc}" in LABELS
        for item in items:
            assert f"item.{item}" in LABELS, item


def test_chinese_labels_are_chinese_and_english_labels_have_no_cjk() -> None:
    for key, (zh, en) in LABELS.items():
        assert CJK.search(zh), key
        # The plan's document number is a proper name, kept in Chinese in both languages.
        assert not CJK.search(en.replace("晋市政发〔2022〕28号", "")), (key, en)


def test_unknown_label_and_language_are_named() -> None:
    with pytest.raises(KeyError, match=r"'title\.nope'"):
        label("title.nope", "zh")
    with pytest.raises(ValueError, match="'de'"):
        label("title.cover", "de")  # type: ignore[arg-type]


# --- every chart -----------------------------------------------------------------------------


def test_every_chart_has_finite_data(synth: Synthetic) -> None:
    figures = all_charts(synth, "zh")
    assert list(figures) == [
        "summary",
        "production",
        "balance",
        "sankey_2025",
        "sankey_2030",
        "facilities",
        "storage",
        "value",
        "value_table",
        "physical_table",
        "calibration",
        "fan_production",
        "fan_value",
        "probability",
        "tornado",
    ]
    for fig in figures.values():
        assert_axes_have_data(fig)


def test_chinese_charts_render_without_glyph_or_font_warnings(
    synth: Synthetic, caplog: pytest.LogCaptureFixture
) -> None:
    # Raster rendering lays out every text with the same fonts as the PDF backend, so a
    # character missing from the CJK font warns here too ("Glyph … missing from font").
    with (
        caplog.at_level(logging.WARNING, logger="matplotlib"),
        warnings.catch_warnings(),
        use_report_style("zh"),
    ):
        warnings.simplefilter("error")
        for fig in all_charts(synth, "zh").values():
            fig.savefig(io.BytesIO(), format="png", dpi=20)
    assert [r.getMessage() for r in caplog.records] == []


# --- numbers drawn ---------------------------------------------------------------------------


def test_production_stack_tops_are_total_production_and_marks_are_the_plan(synth) -> None:
    fig = charts.production_chart(synth.results, "zh")
    ax = fig.axes[0]
    res = synth.results
    total = (
        res.annual_series("surface", "production") + res.annual_series("mine_gas", "drainage")
    ) / YI
    top = ax.collections[len(ax.collections) - 2].get_paths()[0].vertices  # last stack layer
    for year, value in total.items():
        at_year = top[np.isclose(top[:, 0], year)][:, 1]
        assert at_year.max() == pytest.approx(value, rel=1e-9)
    marks = np.asarray(ax.collections[-1].get_offsets())
    # Plan ch4 §1: 100 亿m³ in 2025, about 80 亿m³ in 2030.
    assert dict(zip(marks[:, 0], marks[:, 1], strict=True)) == pytest.approx(
        {2025.0: PRODUCTION_TARGETS_YI_M3[2025], 2030.0: PRODUCTION_TARGETS_YI_M3[2030]}
    )


def test_production_groups_small_blocks(synth: Synthetic) -> None:
    fig = charts.production_chart(synth.results, "en", max_blocks=3)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert label("series.other_blocks", "en") in legend
    assert len(fig.axes[0].collections) == 3 + 1 + 1  # 3 block layers, mine gas, target marks
    with pytest.raises(ValueError, match="max_blocks must be >= 1, got 0"):
        charts.production_chart(synth.results, "en", max_blocks=0)


def test_balance_groups_conserve_gas(synth: Synthetic) -> None:
    groups = charts.balance_groups(synth.results)
    supply = groups[list(supply_charts.SUPPLY_GROUPS)].sum(axis=1)
    uses = groups[list(supply_charts.USE_GROUPS)].sum(axis=1)
    residual = synth.results.annual_series("balance", "residual")
    np.testing.assert_allclose(supply - uses, residual.reindex(supply.index), atol=1.0)
    delivered = synth.results.annual[synth.results.annual["quantity"] == "delivered"]
    np.testing.assert_allclose(groups["local"], delivered.groupby("year")["value"].sum())


def test_balance_bars_stack_to_supply_and_uses(synth: Synthetic) -> None:
    fig = charts.balance_chart(synth.results, "zh")
    groups = charts.balance_groups(synth.results)
    bars = [p for p in fig.axes[0].patches if isinstance(p, Rectangle)]
    tops: dict[float, float] = {}
    for bar in bars:
        x = round(bar.get_x() + bar.get_width() / 2, 6)
        tops[x] = max(tops.get(x, 0.0), bar.get_y() + bar.get_height())
    for year in groups.index:
        supply = groups.loc[year, list(supply_charts.SUPPLY_GROUPS)].sum() / YI
        assert tops[round(year - 0.19, 6)] == pytest.approx(supply)
        assert tops[round(year + 0.19, 6)] == pytest.approx(supply, rel=1e-9)


@pytest.mark.parametrize("year", [2025, 2030])
def test_sankey_nodes_conserve_and_shares_add_up(synth: Synthetic, year: int) -> None:
    fig = charts.sankey_chart(synth.results, year, "zh")
    ax = fig.axes[0]
    # sources (left) and uses (right); routes in the middle; hatched: unmet demand, no flow
    nodes = [p for p in ax.patches if isinstance(p, Rectangle) and not p.get_hatch()]
    routes = [p for p in nodes if 0.2 < p.get_x() < 0.8]
    left_total = sum(p.get_height() for p in nodes if p.get_x() < 0.2)
    assert sum(p.get_height() for p in routes) == pytest.approx(left_total, rel=1e-9)
    left = sum(p.get_height() for p in nodes if p.get_x() < 0.2)
    right = sum(p.get_height() for p in nodes if p.get_x() > 0.8)
    assert left == pytest.approx(right, rel=1e-9)
    shares = [float(m) for t in ax.texts for m in re.findall(r"\(([\d.]+)%\)", t.get_text())]
    n_left = sum(1 for p in nodes if p.get_x() < 0.2)
    assert sum(shares[:n_left]) == pytest.approx(100.0, abs=0.1 * n_left)
    assert sum(shares[n_left:]) == pytest.approx(100.0, abs=0.1 * (len(shares) - n_left))


def test_sankey_rejects_a_year_outside_the_run(synth: Synthetic) -> None:
    with pytest.raises(ValueError, match="year 2040 not in results"):
        charts.sankey_chart(synth.results, 2040, "zh")


def test_facility_utilisation_is_throughput_over_capacity(synth: Synthetic) -> None:
    fig = charts.facilities_chart(synth.results, "en")
    lines = {ln.get_label(): ln for ln in fig.axes[0].lines if not ln.get_label().startswith("_")}
    res = synth.results
    lng = res.annual_series("lng", "feed_gas") / res.annual_series("lng", "capacity")
    np.testing.assert_allclose(lines[label("series.lng", "en")].get_ydata(), 100 * lng)
    outage = [p.get_height() for p in fig.axes[1].patches if isinstance(p, Rectangle)]
    expected = list(res.annual_series("lng", "outage_days")) + list(
        res.annual_series("cng", "outage_days")
    )
    assert sorted(outage) == pytest.approx(sorted(expected))


def test_storage_chart_draws_level_and_rule_line(synth: Synthetic) -> None:
    fig = charts.storage_chart(synth.results, "zh")
    ax = fig.axes[0]
    wan = units.to_base(1.0, "万m3")
    by_label = {ln.get_label(): ln for ln in ax.lines}
    level = synth.results.daily_series("storage", "level") / wan
    need = synth.results.daily_series("storage", "rule_3day_need") / wan
    np.testing.assert_allclose(by_label[label("series.level", "zh")].get_ydata(), level)
    np.testing.assert_allclose(by_label[label("series.rule_3day", "zh")].get_ydata(), need)
    days = int(synth.results.annual_series("storage", "rule_3day_violation_days").sum())
    assert str(days) in ax.get_title()


def test_value_chart_bars_and_target_marks(synth: Synthetic) -> None:
    fig = charts.value_chart(synth.targets, "zh", values=synth.valuation)
    ax = fig.axes[0]
    # horizontal bars: per year the simulated part, then the exogenous part (hatched) on it;
    # the synthetic valuation has no basis column, so the exogenous parts are empty
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    solid = [b for b in bars if not b.get_hatch()]
    hatched = [b for b in bars if b.get_hatch()]
    assert len(solid) == len(hatched) == 3 * len(SUB_CLUSTERS)
    assert all(b.get_width() == 0 for b in hatched)
    heights = [b.get_width() for b in solid]
    sub = synth.targets[synth.targets["item"] == "total"]
    expected_2025 = sub[sub["year"] == 2025].set_index("sub_cluster")["simulated"]
    vals = synth.valuation
    v2021 = vals[vals["year"] == 2021].groupby("sub_cluster")["value_yuan"].sum()
    assert heights[:8] == pytest.approx(list(v2021.reindex(SUB_CLUSTERS) / 1e8))
    assert heights[8:16] == pytest.approx(list(expected_2025.reindex(SUB_CLUSTERS)))
    segs = [c for c in ax.collections if isinstance(c, LineCollection)]
    targets_2030 = sub[sub["year"] == 2030].set_index("sub_cluster")["target"]
    assert [s[0, 0] for s in segs[1].get_segments()] == pytest.approx(
        list(targets_2030.reindex(SUB_CLUSTERS))
    )


def test_value_chart_without_valuation_draws_target_years_only(synth: Synthetic) -> None:
    fig = charts.value_chart(synth.targets, "en")
    bars = [p for p in fig.axes[0].patches if isinstance(p, Rectangle) and not p.get_hatch()]
    assert len(bars) == 2 * len(SUB_CLUSTERS)


def test_cover_states_the_verdicts(synth: Synthetic) -> None:
    fig = charts.cover_chart(synth.results, synth.targets, "zh")
    text = "\n".join(t.get_text() for t in fig.axes[0].texts)
    totals = synth.targets[synth.targets["sub_cluster"] == "total"].set_index("year")
    for year, target in CLUSTER_TARGETS_YI.items():
        flat = text.replace("\n", "")  # the cover wraps long lines
        line = flat[flat.index(f"{year}年：") :][:100]
        simulated = totals.loc[year, "simulated"]
        verdict = "达成" if simulated >= target else "未达成"
        assert f"目标 {target:,.0f} 亿元" in line
        assert f"— {verdict}" in line
        assert f"{simulated - target:+,.1f}" in line
    assert "synthetic-test" in text


def test_value_table_lists_every_item_of_both_years(synth: Synthetic) -> None:
    fig = charts.value_table_chart(synth.targets, "zh")
    cells = fig.axes[0].tables[0].get_celld()
    n_rows = max(r for r, _ in cells)  # two header rows (years, column names): rows 0 and 1
    assert n_rows == 1 + 1 + len(SUB_CLUSTERS) + sum(len(v) for v in ITEMS.values())
    row = next(
        r
        for (r, c), cell in cells.items()
        if c == 0 and cell.get_text().get_text().strip() == "地面开发"
    )
    item = synth.targets[synth.targets["item"] == "output.exploration.surface"].set_index("year")
    assert cells[(row, 1)].get_text().get_text() == f"{item.loc[2025, 'simulated']:,.1f}"
    assert cells[(row, 5)].get_text().get_text() == f"{item.loc[2030, 'target']:,.1f}"
    status = cells[(row, 3)].get_text().get_text()
    expected = "✓" if item.loc[2025, "status"] == "met" else "✗"
    assert status == expected  # the mark alone: the last column is the basis
    last = max(c for _, c in cells)
    assert cells[(1, last)].get_text().get_text() == "性质"  # basis (issue 24)
    assert cells[(row, last)].get_text().get_text() == ""  # computed against a plain target


# --- ensemble charts -------------------------------------------------------------------------


def test_fan_chart_draws_the_percentiles(synth: Synthetic) -> None:
    fig = charts.fan_chart(synth.ensemble.percentiles, "output.total", "zh")
    ax = fig.axes[0]
    rows = synth.ensemble.percentiles.query("quantity == 'output.total'").sort_values("year")
    np.testing.assert_allclose(ax.lines[0].get_ydata(), rows["p50"] / 1e8)
    marks = np.asarray(ax.collections[-1].get_offsets())
    plan = load_plan()
    assert marks[:, 1] == pytest.approx(
        [plan.target("output.total", y).value for y in (2025, 2030)]
    )


def test_probability_bars_are_percentages(synth: Synthetic) -> None:
    fig = charts.probability_chart(synth.ensemble.probabilities, "zh")
    widths = sorted(p.get_width() for p in fig.axes[0].patches if isinstance(p, Rectangle))
    assert widths == pytest.approx(sorted(100 * synth.ensemble.probabilities["probability"]))


def test_tornado_bars_run_from_base_to_each_bound(synth: Synthetic) -> None:
    tor = synth.ensemble.tornado
    fig = charts.tornado_chart(tor, "en")
    ax = fig.axes[0]
    base = tor["base"].iloc[0] / 1e8
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert all(b.get_x() == pytest.approx(base) for b in bars)
    ends = sorted(b.get_x() + b.get_width() for b in bars)
    assert ends == pytest.approx(sorted([*tor["low_value"] / 1e8, *tor["high_value"] / 1e8]))
    # each input's name is written above its bar, the widest swing first; no tick labels
    names = [t.get_text() for t in ax.texts if not t.get_text().lstrip().startswith(("+", "-"))]
    assert names[0] == "Gas price" and ax.get_yticklabels() == []


def test_a_tornado_of_many_inputs_shows_the_top_twelve_and_sums_the_rest() -> None:
    from cbm_sim.report.ensemble_charts import tornado_rows

    base = 100e8
    tor = pd.DataFrame(
        {
            "input": [f"x{k}" for k in range(20)],
            "low_value": [base - (20 - k) * 1e8 for k in range(20)],
            "high_value": [base + (20 - k) * 0.5e8 for k in range(20)],
            "base": base,
            "label_en": [f"input {k}" for k in range(20)],
        }
    )
    rows = tornado_rows(tor, "en")
    assert len(rows) == 13 and list(rows["name"][:2]) == ["input 0", "input 1"]
    rest = rows.iloc[-1]
    assert rest["name"] == "The other 8 inputs together" and bool(rest["rest"])
    # the rest's ends add up the swings of inputs 12..19 below and above the base
    below = sum((20 - k) for k in range(12, 20))
    assert rest["low"] == pytest.approx(100.0 - below)
    assert rest["high"] == pytest.approx(100.0 + 0.5 * below)
    fig = charts.tornado_chart(tor, "en")
    assert len([p for p in fig.axes[0].patches if isinstance(p, Rectangle)]) == 2 * 13


# --- bad inputs ------------------------------------------------------------------------------


def test_frames_missing_columns_are_named(synth: Synthetic) -> None:
    with pytest.raises(ValueError, match=r"lacks columns \['status'\]"):
        charts.value_table_chart(synth.targets.drop(columns="status"), "zh")
    with pytest.raises(ValueError, match=r"lacks columns \['p90'\]"):
        charts.fan_chart(synth.ensemble.percentiles.drop(columns="p90"), "output.total", "zh")
    with pytest.raises(ValueError, match=r"lacks columns \['std_error'\]"):
        charts.probability_chart(synth.ensemble.probabilities.drop(columns="std_error"), "zh")
    with pytest.raises(ValueError, match="is empty"):
        charts.tornado_chart(synth.ensemble.tornado.iloc[:0], "zh")


def test_bad_ensemble_values_are_named(synth: Synthetic) -> None:
    pct = synth.ensemble.percentiles
    with pytest.raises(ValueError, match=r"'output\.nope'"):
        charts.fan_chart(pct, "output.nope", "zh")
    swapped = pct.assign(p10=pct["p90"], p90=pct["p10"])
    with pytest.raises(ValueError, match="not ordered"):
        charts.fan_chart(swapped, "output.total", "zh")
    probs = synth.ensemble.probabilities.copy()
    probs.loc[0, "probability"] = 1.7
    with pytest.raises(ValueError, match=r"1\.7"):
        charts.probability_chart(probs, "zh")
    tor = synth.ensemble.tornado.copy()
    tor.loc[1, "base"] = 1.0
    with pytest.raises(ValueError, match="base values differ"):
        charts.tornado_chart(tor, "zh")
    with pytest.raises(ValueError, match="'kWh'"):
        display_unit("kWh")


# --- image regression ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "lang"),
    [("production", "en"), ("value", "zh")],
)
def test_image_regression(synth: Synthetic, tmp_path: Path, name: str, lang: str) -> None:
    fig = (
        charts.production_chart(synth.results, lang)
        if name == "production"
        else charts.value_chart(synth.targets, lang, values=synth.valuation)
    )
    actual = tmp_path / f"{name}_{lang}.png"
    from cbm_sim.report.page import chart_file_bbox

    with use_report_style(lang):  # the single-chart file's crop of the page
        fig.savefig(actual, dpi=60, bbox_inches=chart_file_bbox(fig))
    baseline = BASELINES / f"{name}_{lang}.png"
    if os.environ.get("CBM_SIM_REGENERATE_BASELINES") == "1":
        BASELINES.mkdir(exist_ok=True)
        baseline.write_bytes(actual.read_bytes())
        pytest.fail(f"baseline {baseline} regenerated; rerun without CBM_SIM_REGENERATE_BASELINES")
    assert baseline.is_file(), f"missing baseline {baseline}"
    # RMS tolerance (0–255 scale): identical renders give 0; moving one target mark by 1 %
    # gives about 4, dropping a series over 20.
    assert compare_images(str(baseline), str(actual), tol=2) is None


# --- helpers ---------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0.0, 1.0), min_size=1, max_size=12),
    st.floats(0.01, 0.1),
)
def test_label_spreading_keeps_order_gap_and_centre(ys: list[float], gap: float) -> None:
    ys = sorted(ys, reverse=True)
    out = sankey._spread(ys, gap)
    assert all(a - b >= gap - 1e-9 for a, b in itertools.pairwise(out))
    assert np.mean(out) == pytest.approx(np.mean(ys))


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="晋城煤层气abc de", max_size=200), st.floats(0.5, 6.0))
def test_wrap_respects_width_and_keeps_the_text(text: str, width_in: float) -> None:
    from cbm_sim.report.page import _char_ems, wrap

    lines = wrap(text, width_in, 9.0).split("\n")
    limit = width_in * 72.0 / 9.0  # ems per line

    def ems(s: str) -> float:  # each glyph's measured width, as wrap measures it
        return sum(_char_ems(ch) for ch in s)

    # a line is over the limit only when it is one unbreakable token
    assert all(ems(ln) <= limit + 1e-9 or (" " not in ln.strip() and ems(ln) > 0) for ln in lines)
    words = text.split()
    if all(ord(c) < 0x2E80 for c in text):
        assert [w for ln in lines for w in ln.split()] == words  # no word split
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")


def test_items_with_full_ids_are_normalised() -> None:
    frame = pd.DataFrame({"item": ["output.services.workover", "workover", "total"]})
    keys = [item_key(i, "services") for i in frame["item"]]
    assert keys == ["workover", "workover", "total"]


def test_sankey_routes_mine_gas_apart_and_shows_unmet_demand(synth: Synthetic) -> None:
    import dataclasses

    from cbm_sim.report.sankey import flows_of

    year = 2030
    annual = synth.results.annual.copy()
    unmet = (annual["year"] == year) & (annual["quantity"] == "shortfall")
    annual.loc[unmet & (annual["entity"] == "demand:industry"), "value"] = 3e8  # 3 亿m³ unmet
    results = dataclasses.replace(synth.results, annual=annual)
    flows = flows_of(results, year)
    route = {n.key: n.value_m3 for n in flows["routes"]}
    source = {n.key: n.value_m3 for n in flows["sources"]}
    uses = {n.key: n for n in flows["uses"]}
    assert route["mine"] == pytest.approx(source["drainage"])
    mine_uses = sum(uses[k].value_m3 for k in ("mine_power", "mine_heating", "vented") if k in uses)
    assert mine_uses == pytest.approx(route["mine"], rel=1e-9)
    network_uses = sum(
        n.value_m3 for k, n in uses.items() if k not in ("mine_power", "mine_heating", "vented")
    )
    assert network_uses == pytest.approx(route["network"], rel=1e-6)
    assert uses["industry"].shortfall_m3 == pytest.approx(3e8)
    assert all(n.shortfall_m3 == 0 for k, n in uses.items() if k != "industry")
    fig = charts.sankey_chart(results, year, "en")
    hatched = [p for p in fig.axes[0].patches if isinstance(p, Rectangle) and p.get_hatch()]
    assert len(hatched) == 1
    assert any("unmet 3.0" in t.get_text() for t in fig.axes[0].texts)
