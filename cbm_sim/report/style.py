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
    "axis.sobol": ("指数", "Index"),
    "series.sobol_s1": ("一阶指数 S1", "First-order index S1"),
    "fmt.sobol_n": ("（N = {n}，{runs} 次模拟）", " (N = {n}, {runs} runs)"),
    "fmt.sobol_warning": (
        "注意：基础样本N = {n}，{reasons}，各输入无法相互区分或排序；"
        "请以N ≥ {reliable}重算（cbm-sim sensitivity --sobol {reliable}）。",
        "Warning: with a base sample of N = {n}, {reasons}: the inputs cannot be told apart "
        "or ranked; rerun with N ≥ {reliable} (cbm-sim sensitivity --sobol {reliable}).",
    ),
    "fmt.sobol_outside": (
        "部分指数超出[0, 1]（S1最大{s1:.2f}，ST最小{st:.2f}，为抽样噪声）",
        "indices fall outside [0, 1] (largest S1 {s1:.2f}, smallest ST {st:.2f}: sampling noise)",
    ),
    "fmt.sobol_wide": (
        "总效应指数95%区间的中位宽度为{width:.2f}",
        "the total indices' 95 % intervals have a median width of {width:.2f}",
    ),
    "word.clipped": ("↔ 区间超出坐标范围", "↔ interval clipped"),
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
        "井史参数同时拟合规划所述2021年基线与公开的区块产量；权重为0的目标仅用于回测，"
        "不参与拟合；≥、≤为上下限目标。"
        "来源见 cbm_sim/data/history.yaml，cbm-sim calibrate 可复现。",
        "The well history fitted at once to the plan's 2021 baseline and published block "
        "series; targets of weight 0 are a backtest only, not fitted; ≥ and ≤ mark bounds. "
        "Sources in cbm_sim/data/history.yaml, rerun with cbm-sim calibrate.",
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
    "series.tornado_rest": ("其余{k}项输入合计", "The other {k} inputs together"),
    # the summary page (report.summary)
    "summary.verdict": ("结论：集群总产值目标", "Verdict: the cluster's output target"),
    "summary.col.year": ("年份", "Year"),
    "summary.col.simulated": ("模拟（亿元）", "Simulated (10⁸ CNY)"),
    "summary.col.band": ("集合P50（P10–P90）", "Ensemble P50 (P10–P90)"),
    "summary.col.target": ("目标", "Target"),
    "summary.col.gap": ("差距（%）", "Gap (%)"),
    "summary.col.p_met": ("达标概率", "P(met)"),
    "summary.col.verdict": ("结论", "Verdict"),
    "summary.exogenous": (
        "{year}年：其中外生值（规划给定，非模拟）{exo:,.1f}亿元，占{share:.0f}%；模拟部分{rest:,.1f}亿元。",
        "{year}: of which exogenous (the plan's own figures, not simulated) {exo:,.1f} "
        "({share:.0f} %), simulated {rest:,.1f}.",
    ),
    "summary.no_ensemble": (
        "未提供集合模拟，故无P10–P90区间与达标概率"
        "（cbm-sim ensemble，再以 --ensemble 目录加入报告）。",
        "No ensemble was given, so no P10–P90 band or probability (cbm-sim ensemble, then "
        "--ensemble DIR).",
    ),
    "summary.ensemble_step": (
        "集合模拟以{step}步长运行（单次运行为{run}）。",
        "The ensemble ran with {step} steps (the single run: {run}).",
    ),
    "summary.gaps": ("分子集群与实物量目标", "Gaps by sub-cluster, production and LNG"),
    "summary.col.sub_cluster": ("子集群 / 目标", "Sub-cluster / target"),
    "summary.col.sim_target": ("模拟 / 目标", "sim. / target"),
    "summary.gaps_note": (
        "产值单位亿元，实物量为规划所列单位；✓达成、✗未达成；P为集合模拟的达标概率；"
        "其后为数值的性质（外生、输入等，见产值表）。",
        "Output value in 10⁸ CNY, physical targets in the plan's units; ✓ met, ✗ short; P: "
        "the ensemble's probability of meeting it; then what the figure is (exogenous, input "
        "…; see the value table).",
    ),
    "summary.drivers": ("主要驱动因素", "The largest drivers"),
    "summary.col.input": ("输入", "Input"),
    "summary.col.swing": ("{year}年摆幅（亿元）", "Swing {year} (10⁸ CNY)"),
    "summary.no_drivers": (
        "未提供龙卷风图或稳健性分析，无法列出驱动因素。",
        "No tornado or robustness table was given: the drivers cannot be named.",
    ),
    "summary.drivers_from_tornado": (
        "摆幅：各输入取其P10与P90时集群总产值之差，其余输入取情景值（龙卷风图）。",
        "Swing: the cluster total with each input at its P10 and at its P90, the others as "
        "written (tornado).",
    ),
    "summary.drivers_from_robustness": (
        "摆幅：各假设取其给定低值与高值时集群总产值之差（稳健性分析）。",
        "Swing: the cluster total with each assumption at its stated low and high end "
        "(robustness table).",
    ),
    "summary.take": ("实现目标需要什么", "What it would take"),
    "summary.no_goal_seek": (
        "未提供目标求解结果（cbm-sim goal-seek … -o 目录，再以 --goal-seek 目录加入报告）。",
        "No goal-seek run was given (cbm-sim goal-seek … -o DIR, then --goal-seek DIR).",
    ),
    "summary.goal_reached": (
        "{year}年{what}达到{target:,.1f} {unit}："
        "{lever}须为情景的{value:.2f}倍（得{achieved:,.1f}）。",
        "{what} of {target:,.1f} {unit} in {year}: {lever} × {value:.2f} of the scenario "
        "(gives {achieved:,.1f}).",
    ),
    "summary.goal_missed": (
        "{year}年{what} {target:,.1f} {unit}："
        "单靠{lever}无法实现，{value:.2f}倍时仅得{achieved:,.1f}。",
        "{what} of {target:,.1f} {unit} in {year} is out of reach by {lever} alone: "
        "× {value:.2f} gives {achieved:,.1f}.",
    ),
    "summary.rests": ("结论的依据", "What the verdict rests on"),
    "summary.calibration": (
        "校准：井史参数同时拟合{total}项历史目标，达到{met}项（见校准页）。",
        "Calibration: the well history meets {met} of the {total} historical targets it is "
        "fitted and checked against (calibration page).",
    ),
    "summary.skill": ("回测技能（见回测页）：", "Hindcast skill (hindcast page): "),
    "summary.no_skill": (
        "回测技能：未提供（cbm-sim backtest，再以 --backtest 目录加入报告）。",
        "Hindcast skill: not given (cbm-sim backtest, then --backtest DIR).",
    ),
    "summary.exo": (
        "外生份额（规划给定、未经模拟的产值）：",
        "Exogenous share (plan figures, not simulated): ",
    ),
    "summary.exo_item": (
        "{year}年{exo:,.1f}亿元（{share:.0f}%）",
        "{year} {exo:,.1f} ({share:.0f} %)",
    ),
    "summary.no_robustness": (
        "会翻转结论的假设：未运行稳健性分析"
        "（cbm-sim robustness，再以 --robustness 目录加入报告）。",
        "Assumptions that flip it: no robustness table was given (cbm-sim robustness, then "
        "--robustness DIR).",
    ),
    "summary.no_flips": (
        "会翻转结论的假设：在给定的高低取值内，没有任何单项假设翻转集群总产值的结论。",
        "Assumptions that flip it: none of the stated low/high swings flips the cluster total.",
    ),
    "summary.flips": (
        "会翻转集群总产值结论的假设（▼低值、▲高值）：",
        "Assumptions whose stated swing flips the cluster total (▼ low, ▲ high): ",
    ),
    "summary.run_facts": (
        "模拟期 {start} – {end} · {step}调度 · 随机种子 {seed} · cbm-sim {version}",
        "Simulated {start} – {end} · {step} dispatch · seed {seed} · cbm-sim {version}",
    ),
    "title.summary": ("摘要", "Summary"),
    "title.compare": ("与情景“{b}”的比较（基准“{a}”）", "Comparison with '{b}' (base '{a}')"),
    "caption.compare": (
        "所有改动的输入（含来源注释）、变化的产量与产值、达标结论变化的目标。",
        "Every changed input (with its source comment), the production and value that moved, "
        "the targets whose verdict changed.",
    ),
    "compare.inputs": ("改动的输入（{n}项）", "Changed inputs ({n})"),
    "compare.no_inputs": ("两者输入相同。", "The two have the same inputs."),
    "compare.col.output": ("产出", "Output"),
    "compare.col.target": ("目标", "Target"),
    "compare.source": (
        "来源（比较情景的文件:行 # 注释）",
        "Source (the compared file:line # comment)",
    ),
    "compare.default": ("模型默认值", "model default"),
    "compare.outputs": (
        "产量、LNG与产值（2025、2030年）",
        "Production, LNG and output value (2025, 2030)",
    ),
    "compare.outputs_note": (
        "阴影行为未变化的产出；各年全部数值见 cbm-sim diff 的CSV。",
        "Shaded rows did not move; every year is in cbm-sim diff's CSV.",
    ),
    "compare.targets": ("达标结论", "Target verdicts"),
    "compare.targets_note": (
        "列出集群、各子集群、产量与LNG目标，以及结论变化的其他目标（阴影行为结论变化）。",
        "The cluster, sub-cluster, production and LNG targets, and any other whose verdict "
        "changed (shaded: the verdict changed).",
    ),
    "word.section": ("章节", "Section"),
    "word.page": ("页码", "Page"),
    "word.study_ensemble": ("集合模拟", "The ensemble"),
    "word.study_sobol": ("Sobol分析", "The Sobol study"),
    "word.study_robustness": ("稳健性分析", "The robustness study"),
    "fmt.step_note": (
        "{study}以{step}步长运行，单次运行为{run}。",
        "{study} ran with {step} steps; the single run with {run} steps.",
    ),
    "fmt.base_note": (
        "龙卷风图的基准{base:,.1f}亿元为按情景原值、以{step}步长重算的结果；"
        "单次运行（{run_step}）为{run:,.1f}亿元。",
        "The tornado's base {base:,.1f} is the scenario as written rerun with {step} steps; "
        "the single run ({run_step}) gives {run:,.1f}.",
    ),
    "title.contents": ("目录", "Contents"),
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
    """A plan unit for display: as the plan writes it in Chinese (``亿m³``, ``亿m³/年``, counts
    as 个), with powers of ten in English (亿 = 10⁸, 万 = 10⁴: ``10⁸ m³``), so an English table
    has no Han characters."""
    check_lang(lang)
    if lang == "zh":
        words = {"count": "个", "fraction": "比例", "day": "天", "year": "年"}
        if unit in words:
            return words[unit]
        return unit.replace("m3", "m³").replace("/yr", "/年").replace("/d", "/日")
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


def input_label(path: str, lang: Lang, scenario: object = None) -> str:
    """The display name of a scenario path or study factor (:func:`cbm_sim.names.input_name`),
    a list item named by its ``name`` in ``scenario`` when it has one
    (``contracts.outbound.0.annual_1e8_m3`` → 合同年供气量（晋城-新乡外输）)."""
    return names.input_name(path, lang, detail=_item_name(path, scenario))


def _item_name(path: str, scenario: object) -> str | None:
    """The ``name`` of the list item a path runs through in ``scenario`` (None if none)."""
    node, found = scenario, None
    for part in path.split("."):
        if node is None:
            return found
        if part.isdigit() and isinstance(node, list | tuple):
            k = int(part)
            node = node[k] if k < len(node) else None
            named = getattr(node, "name", None)
            found = named if isinstance(named, str) else found
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            node = getattr(node, part, None)
    return found


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
