"""What every report chart shares: the label dictionary, figure sizes, units and frame checks.

All text that a chart prints comes from :data:`LABELS` (one place, Chinese and English), so a
report can be switched between languages and the English one provably carries no Chinese
labels. Values are converted for display only through :mod:`cbm_sim.units`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from cbm_sim import names, units
from cbm_sim.report.fonts import Lang, check_lang
from cbm_sim.results.frames import Results

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision
# deficiency; met and short also differ by their mark (✓/✗), not by colour alone.
MET_COLOUR: Final[str] = "#0072B2"  # Okabe-Ito blue
SHORT_COLOUR: Final[str] = "#D55E00"  # Okabe-Ito vermillion
MET_MARK: Final[str] = "✓"
SHORT_MARK: Final[str] = "✗"

VOLUME_UNIT: Final[str] = "亿m3"
"""Display unit of annual gas volumes (the plan states volumes in 亿立方米)."""
MONEY_UNIT: Final[str] = "亿元"
"""Display unit of output value (the plan states output value in 亿元)."""
STOCK_UNIT: Final[str] = "万m3"
"""Display unit of storage levels (the plan states tank volumes in 万立方米)."""

# label key → (中文, English). Every string a chart prints that is not data comes from here.
LABELS: Final[dict[str, tuple[str, str]]] = {
    # axes
    "axis.year": ("年份", "Year"),
    "axis.date": ("日期", "Date"),
    "axis.production": ("产量（亿m³/年）", "Production (100 million m³/yr)"),
    "axis.gas_volume": ("气量（亿m³/年）", "Gas volume (100 million m³/yr)"),
    "axis.utilisation": ("利用率（%）", "Utilisation (%)"),
    "axis.outage_days": ("停运（设施·天）", "Outage (facility-days)"),
    "axis.storage_level": ("储气量（万m³）", "Gas in storage (10,000 m³)"),
    "axis.output_value": ("产值（亿元）", "Output value (100 million CNY)"),
    "axis.probability": ("达标概率（%）", "Probability of meeting the target (%)"),
    "axis.sub_cluster": ("子集群", "Sub-cluster"),
    # titles
    "title.cover": (
        "晋城市煤层气产业集群规划模拟报告",
        "Jincheng CBM industry cluster: simulation",
    ),
    "title.production": (
        "煤层气产量：地面抽采（分区块）与井下抽采",
        "CBM production: surface (by block) and coal-mine drainage",
    ),
    "title.balance": ("年度气量平衡：供应与去向", "Annual gas balance: supply and uses"),
    "title.sankey": ("{year}年气量流向（亿m³）", "Gas flows in {year} (100 million m³)"),
    "title.facilities": (
        "设施利用率与停运天数",
        "Facility utilisation and outage days",
    ),
    "title.storage": (
        "储气量与3天储气规则（违反规则 {days} 天）",
        "Gas in storage and the 3-day rule (rule violated on {days} days)",
    ),
    "title.value": ("各子集群产值与规划目标", "Output value by sub-cluster against the plan"),
    "title.value_table": (
        "分项产值与目标（亿元）",
        "Output value by item vs target (100 million CNY)",
    ),
    "title.fan_production": (
        "煤层气产量不确定性（P10–P90）",
        "CBM production uncertainty (P10–P90)",
    ),
    "title.fan_value": (
        "集群总产值不确定性（P10–P90）",
        "Cluster output value uncertainty (P10–P90)",
    ),
    "title.probability": ("达成规划目标的概率", "Probability of meeting each plan target"),
    "title.tornado": ("敏感性分析（龙卷风图）", "Sensitivity (tornado)"),
    "title.sobol": ("方差分解敏感性（Sobol指数）", "Variance-based sensitivity (Sobol indices)"),
    "axis.sobol": ("指数（95%自助法区间）", "Index (95 % bootstrap interval)"),
    "series.sobol_s1": ("一阶指数 S1", "First-order index S1"),
    "series.sobol_st": ("总效应指数 ST", "Total index ST"),
    "title.storage_short": ("储气量与3天储气规则", "Gas in storage and the 3-day rule"),
    "title.physical_table": ("实物量目标核验", "Physical targets of the plan"),
    "title.probability_table": ("其他目标的达标概率", "Probability of meeting the other targets"),
    "title.tornado_year": ("{year}年敏感性分析（龙卷风图）", "Sensitivity in {year} (tornado)"),
    # captions (after the numbered title)
    "caption.production": (
        "地面抽采按区块堆叠，井下抽采为煤矿瓦斯；菱形为规划目标（第四章第一节）。",
        "Surface production stacked by block, with coal-mine drainage; diamonds are the "
        "plan's targets (ch4 §1).",
    ),
    "caption.balance": (
        "每年左柱为供应、右柱为去向，两者相等（逐步守恒）。",
        "Each year's left bar is supply and right bar its uses; they balance at every step.",
    ),
    "caption.sankey": (
        "气源经集输管网或煤矿瓦斯利用到各用途的年度气量（亿m³）；斜线为各行业未满足的需求；"
        "零流量不绘制。",
        "Annual gas from each source through the gathering network or mine-site use to each "
        "use (100 million m³); hatched: each sector's unmet demand; zero flows are not drawn.",
    ),
    "caption.facilities": (
        "液化、压缩与管输设施的年均利用率及故障停运天数。",
        "Mean utilisation of LNG, CNG and pipeline facilities and their outage days per year.",
    ),
    "caption.storage": (
        "逐步储气量、储气能力与3天日均消费量规则线（第一章第二节四）。",
        "Gas in storage at each step, storage capacity and the 3-day rule (ch1 §2, part 4).",
    ),
    "caption.value": (
        "各子集群模拟产值（斜线部分为外生值，即规划给定而非模拟所得）与2025、2030年目标。",
        "Output value by sub-cluster; hatched parts are exogenous (the plan's own figures, not "
        "simulated); lines are the 2025 and 2030 targets.",
    ),
    "caption.value_table": (
        "亿元；✓达成、✗未达成（按规划所列精度比较）；*为外生值（规划给定）。",
        "100 million CNY; sim. = simulated; ✓ met, ✗ short (compared at the precision the "
        "plan states); * exogenous (the plan's own figure).",
    ),
    "caption.physical_table": (
        "规划实物量目标（规划所列单位）；✓达成、✗未达成或超限。",
        "The plan's physical targets in its own units; sim. = simulated; ✓ met, ✗ short or "
        "exceeded.",
    ),
    "caption.fan": (
        "集合模拟成员的P10–P90区间与中位数；菱形为规划目标。",
        "P10–P90 band and median over the ensemble members; diamonds are the plan's targets.",
    ),
    "caption.probability": (
        "达成总产值、各子集群及总产量目标的成员比例，误差线为95% Wilson区间。",
        "Share of members meeting the cluster, sub-cluster and production targets; bars are "
        "95 % Wilson intervals.",
    ),
    "caption.probability_table": (
        "达标概率（括号内为95% Wilson区间，%）。",
        "Probability of meeting the target (95 % Wilson interval in brackets, %).",
    ),
    "caption.tornado": (
        "每个不确定参数取P10与P90时产值的变化，其余参数取情景值。",
        "Change of the output when each uncertain input moves to its P10 and P90, the others "
        "at their scenario values.",
    ),
    "title.calibration": ("历史校准与回测", "Calibration and backtest of the well history"),
    "caption.calibration": (
        "井史参数同时拟合规划所述2021年基线与公开的区块产量（权重0为仅回测；nan为未建模）；"
        "来源见 cbm_sim/data/history.yaml，cbm-sim calibrate 可复现。",
        "The well history fitted at once to the plan's 2021 baseline and published block "
        "series (weight 0: backtest only; nan: not modelled); sources in "
        "cbm_sim/data/history.yaml, rerun with cbm-sim calibrate.",
    ),
    "title.robustness": ("稳健性：哪项假设会翻转达标结论", "What flips the verdict"),
    "caption.robustness": (
        "每项情景假设取其给定低值或高值（其余不变）时，哪些2025、2030年目标的达标结论会翻转；"
        "完整数值见 robustness.csv。",
        "For each scenario assumption at its stated low or high end (the others unchanged), "
        "the 2025 and 2030 verdicts it flips; every value is in robustness.csv.",
    ),
    "title.audit": ("附录：规划自洽性审查", "Appendix: the plan's internal consistency"),
    "caption.sobol": (
        "各不确定参数对2025、2030年总产值方差的一阶（S1）与总效应（ST）贡献，误差线为自助法95%区间。",
        "Each uncertain input's first-order (S1) and total (ST) share of the variance of the "
        "2025 and 2030 output; bars are 95 % bootstrap intervals.",
    ),
    "word.figure": ("图", "Figure"),
    "word.table": ("表", "Table"),
    "word.status": ("核验", "status"),
    "word.sim_short": ("模拟", "sim."),
    "word.unit": ("单位", "Unit"),
    "series.exogenous": ("外生值（规划给定）", "Exogenous (plan figure)"),
    "series.route_network": ("集输管网", "Gathering network"),
    "series.route_mine": ("煤矿瓦斯利用", "Mine-site use"),
    "series.mine_power": ("瓦斯发电", "Mine-gas power"),
    "series.mine_heating": ("瓦斯供热", "Mine-gas heating"),
    "word.unmet": ("未满足", "unmet"),
    # series
    "series.mine_gas": ("井下抽采（煤矿瓦斯）", "Coal-mine drainage"),
    "series.other_blocks": ("其他区块", "Other blocks"),
    "series.plan_target": ("规划目标", "Plan target"),
    "series.supply": ("供应", "Supply"),
    "series.uses": ("去向", "Uses"),
    "series.surface": ("地面抽采潜力", "Surface deliverability"),
    "series.drainage": ("井下抽采", "Coal-mine drainage"),
    "series.withdrawal": ("储气采出", "Storage withdrawal"),
    "series.local": ("本地用气", "Local use"),
    "series.mine_use": ("瓦斯发电与供热", "Mine-gas power and heat"),
    "series.cng": ("压缩（CNG）原料气", "CNG feed gas"),
    "series.lng": ("液化（LNG）原料气", "LNG feed gas"),
    "series.exports": ("管输外输", "Pipeline exports"),
    "series.injection": ("储气注入", "Storage injection"),
    "series.vented": ("瓦斯排空", "Vented mine gas"),
    "series.shut_in": ("关井限产", "Shut-in"),
    "series.total_supply": ("总供气", "Total supply"),
    "series.level": ("储气量", "Gas in storage"),
    "series.capacity": ("储气能力", "Storage capacity"),
    "series.rule_3day": ("3天日均消费量（规则线）", "3 days of mean consumption (rule)"),
    "series.winter": ("采暖季", "Heating season"),
    "series.pipeline": ("管输", "Pipeline"),
    "series.p50": ("中位数（P50）", "Median (P50)"),
    "series.p10_p90": ("P10–P90区间", "P10–P90 band"),
    "series.simulated": ("模拟值", "Simulated"),
    "series.low": ("参数取低值", "Input at low value"),
    "series.high": ("参数取高值", "Input at high value"),
    "series.base": ("基准", "Base"),
    # words
    "fmt.verdict": (
        "{year}年：模拟 {simulated:,.1f} 亿元 / 目标 {target:,.0f} 亿元 — {verdict}"
        "（差距 {gap:+,.1f} 亿元，{gap_pct:+.1f}%）",
        "{year}: simulated {simulated:,.1f} / target {target:,.0f} (100 million CNY) — "
        "{verdict} (gap {gap:+,.1f}, {gap_pct:+.1f}%)",
    ),
    "fmt.exogenous": (
        "其中外生值（规划给定）{exogenous:,.1f} 亿元，模拟部分 {simulated:,.1f} 亿元",
        "of which exogenous (the plan's own figures) {exogenous:,.1f}, simulated "
        "{simulated:,.1f} (100 million CNY)",
    ),
    "word.met": ("达成", "met"),
    "word.short": ("未达成", "short"),
    "word.gap": ("差距", "gap"),
    "word.target": ("目标", "target"),
    "word.simulated": ("模拟", "simulated"),
    "word.scenario": ("情景", "Scenario"),
    "word.seed": ("随机种子", "Seed"),
    "word.version": ("版本", "Version"),
    "word.period": ("模拟期", "Period"),
    "word.verdict": ("总产值目标核验", "Cluster output target check"),
    "word.short_sub_clusters": ("未达标子集群", "Sub-clusters short of target"),
    "word.none": ("无", "none"),
    "word.item": ("项目", "Item"),
    "word.sub_cluster": ("子集群", "Sub-cluster"),
    "word.source_note": (
        "数据来源：cbm-sim模拟；目标：晋市政发〔2022〕28号",
        "Source: cbm-sim simulation; targets: plan 晋市政发〔2022〕28号",
    ),
}


def _name_labels() -> dict[str, tuple[str, str]]:
    """The names of :mod:`cbm_sim.names` as label keys (``sc.<id>``, ``item.<id>``,
    ``target.<id>``, ``sector.<id>``, ``input.<path>``): one table, no second copy here."""
    prefixes = {
        "sub_clusters": "sc",
        "items": "item",
        "targets": "target",
        "sectors": "sector",
        "inputs": "input",
        "factors": "input",
    }
    return {
        f"{prefixes[section]}.{key}": (zh, en)
        for section, key, zh, en in names.rows()
        if section in prefixes
    }


LABELS.update(_name_labels())

# Colours of the gas-balance groups, fixed so a group has one colour in every chart.
GROUP_COLOURS: Final[dict[str, str]] = {
    "surface": "#1f77b4",
    "drainage": "#8c564b",
    "withdrawal": "#17becf",
    "local": "#2ca02c",
    "mine_use": "#bcbd22",
    "cng": "#9467bd",
    "lng": "#e377c2",
    "exports": "#ff7f0e",
    "injection": "#7fbfdf",
    "vented": "#7f7f7f",
    "shut_in": "#d62728",
}
YEAR_COLOURS: Final[dict[int, str]] = {2021: "#9ecae1", 2025: "#3182bd", 2030: "#08519c"}


def label(key: str, lang: Lang) -> str:
    """The text of ``key`` in ``lang``.

    Raises
    ------
    KeyError
        If ``key`` is not in :data:`LABELS` (the message names it).
    ValueError
        If ``lang`` is not a report language.
    """
    check_lang(lang)
    try:
        zh, en = LABELS[key]
    except KeyError:
        raise KeyError(f"no chart label {key!r} in cbm_sim.report.style.LABELS") from None
    return zh if lang == "zh" else en


def unit_label(unit: str, lang: Lang) -> str:
    """A plan unit for display: as the plan writes it in Chinese (``亿m3``), with powers of
    ten in English (亿 = 10⁸, 万 = 10⁴: ``10⁸ m³``), so an English table has no Han characters."""
    check_lang(lang)
    if lang == "zh":
        return unit
    text = unit.replace("m3", "m³").replace("元", " CNY").replace("tce", " tce")
    text = text.replace("亿", "10⁸ ").replace("万", "10⁴ ")
    return " ".join(text.split())


def label_or_id(prefix: str, ident: str, lang: Lang) -> str:
    """Translate a data id (``prefix.ident``) if the dictionary knows it, else print the id;
    an ``input`` is named by :func:`cbm_sim.names.input_name` (block ids, list indices)."""
    if prefix == "input":
        return names.input_name(ident, lang)
    key = f"{prefix}.{ident}"
    return label(key, lang) if key in LABELS else ident


def item_key(item: str, sub_cluster: str) -> str:
    """Normalise an item id: ``output.exploration.surface`` or ``surface`` → ``surface``."""
    prefix = f"output.{sub_cluster}."
    return item[len(prefix) :] if item.startswith(prefix) else item


def new_figure(height_in: float | None = None, *, layout: bool = True) -> Figure:
    """A report page figure made without pyplot (no global figure registry).

    An A4 page whose chart box is the text column's width (:mod:`cbm_sim.report.page`) and
    ``height_in`` high (default: the chart aspect). ``layout`` selects matplotlib's
    constrained layout inside the box; text-only pages place their text themselves.
    """
    from cbm_sim.report.page import page_figure

    return page_figure(height_in, layout=layout)


def legend_below(ax: Axes, ncols: int = 3, *, below_pt: float = 34.0) -> None:
    """The axes' legend centred under its x-axis label, in ``ncols`` columns.

    ``below_pt`` clears the tick labels and the axis label (9 pt text with their pads, about
    34 pt); constrained layout then shrinks the axes to make room for the legend.
    """
    from matplotlib.transforms import offset_copy

    anchor = offset_copy(ax.transAxes, fig=ax.get_figure(root=True), y=-below_pt, units="points")
    ax.legend(
        loc="upper center", bbox_to_anchor=(0.5, 0.0), bbox_transform=anchor, ncols=ncols,
        frameon=False, columnspacing=1.2, handlelength=1.5,
    )  # fmt: skip


def to_volume(values_m3: np.ndarray | pd.Series | float) -> np.ndarray:
    """m³ → display volume unit (亿m³)."""
    return np.asarray(values_m3, dtype=np.float64) / units.to_base(1.0, VOLUME_UNIT)


def to_money(values_yuan: np.ndarray | pd.Series | float) -> np.ndarray:
    """元 → display money unit (亿元)."""
    return np.asarray(values_yuan, dtype=np.float64) / units.to_base(1.0, MONEY_UNIT)


def require_columns(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise ``ValueError`` naming the missing columns if ``frame`` lacks any of ``columns``."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks columns {missing}; it has {list(frame.columns)}")
    if frame.empty:
        raise ValueError(f"{what} is empty: nothing to chart")


def annual_table(results: Results, pairs: Mapping[str, tuple[str, str]]) -> pd.DataFrame:
    """Annual series as columns: ``{name: (entity, quantity)}`` → frame indexed by year.

    Missing years of a series are 0 (a flow that did not happen); a missing series raises
    ``KeyError`` from :meth:`Results.annual_series`.
    """
    cols = {name: results.annual_series(ent, qty) for name, (ent, qty) in pairs.items()}
    return pd.DataFrame(cols).sort_index().fillna(0.0)


def entities_with_prefix(results: Results, prefix: str, quantity: str) -> list[str]:
    """Entities named ``prefix…`` that carry ``quantity`` in the annual frame, sorted."""
    annual = results.annual
    mask = annual["entity"].astype(str).str.startswith(prefix) & (annual["quantity"] == quantity)
    return sorted(annual.loc[mask, "entity"].astype(str).unique())


def block_label(block_id: str, lang: Lang) -> str:
    """A block's display name (:func:`cbm_sim.names.block_name`): 郑庄 / Zhengzhuang."""
    return names.block_name(block_id, lang)


def plan_target_base(plan_id: str, year: int) -> float:
    """A plan target in base units (m³, 元), from the packaged plan.

    Raises
    ------
    RuntimeError
        If :mod:`cbm_sim.plan.figures` is not available or does not state the target; chart target
        marks are never hard-coded.
    """
    try:
        from cbm_sim.plan.figures import load_plan
    except ImportError as exc:
        raise RuntimeError(
            f"chart target marks for {plan_id!r} {year} come from "
            f"cbm_sim.plan.figures.load_plan().target(...), which is not available: {exc}"
        ) from exc
    fig = load_plan().target(plan_id, year)
    value = getattr(fig, "value", None)
    unit = getattr(fig, "unit", None)
    if value is None or unit is None:
        raise RuntimeError(
            f"plan target {plan_id!r} {year} has no value/unit (got {fig!r}); "
            "cbm_sim.plan.figures.Plan.target must return a figure with .value and .unit"
        )
    return units.to_base(float(value), str(unit))


def finite(values: Iterable[float]) -> np.ndarray:
    """Values as float64 with non-finite entries dropped."""
    arr = np.asarray(list(values), dtype=np.float64)
    return arr[np.isfinite(arr)]


def draw_target_marks(ax: Axes, targets: Mapping[int, float], lang: Lang) -> np.ndarray:
    """Plan targets as labelled black diamonds (values already in display units).

    The last year's number sits left of its mark so it stays inside the axes.

    Returns
    -------
    numpy.ndarray
        The target values in year order.
    """
    years = np.array(sorted(targets), dtype=np.float64)
    values = np.array([targets[int(y)] for y in years], dtype=np.float64)
    ax.scatter(
        years,
        values,
        marker="D",
        s=60,
        color="black",
        zorder=5,
        label=label("series.plan_target", lang),
    )
    for year, value in zip(years, values, strict=True):
        last = year >= years.max()
        ax.annotate(
            f"{value:,.0f}",
            (year, value),
            xytext=(-6 if last else 0, 8),
            textcoords="offset points",
            ha="right" if last else "center",
        )
    return values


def target_name(plan_id: str, lang: Lang) -> str:
    """Display name of a target plan id (:func:`cbm_sim.names.target_name`)."""
    return names.target_name(plan_id, lang)
