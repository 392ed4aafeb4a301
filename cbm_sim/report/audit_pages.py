"""The plan audit as an appendix of the PDF report: tables, in Chinese or English.

:func:`audit_pages` sets the findings of :func:`cbm_sim.plan.audit.audit` as tables on A4
portrait pages (:class:`~cbm_sim.report.flow.Flow`): the counts by severity and by check,
then every ``error`` and ``inconsistency`` as a row — finding (check and subject, plan ids by
their names), severity, stated, computed, difference, reference — and a table of notes under
it (the plan's own phrases in the Chinese appendix, the derivation in the English one). The
whole derivation is in ``cbm-sim plan audit -o``'s CSV. The English appendix replaces the
Chinese units (亿, 万, 元) and drops quoted Chinese text, so its pages are free of Chinese
script.
"""

from __future__ import annotations

import math
import re
from typing import Final

import pandas as pd
from matplotlib.figure import Figure

from cbm_sim.names import target_name
from cbm_sim.report.flow import Flow
from cbm_sim.report.fonts import Lang, check_lang, use_report_style
from cbm_sim.report.tables import Row

__all__ = ["A4_IN", "MIN_FONT_PT", "audit_pages"]

A4_IN: Final[tuple[float, float]] = (210 / 25.4, 297 / 25.4)
"""A4 portrait [inch] (ISO 216: 210 × 297 mm)."""
MIN_FONT_PT: Final[float] = 9.0
"""Smallest font size on the pages [pt] (legible in print)."""
_TITLE_PT: Final[float] = 15.0
_FULL: Final[tuple[str, ...]] = ("error", "inconsistency")

_TEXT: Final[dict[str, tuple[str, str]]] = {
    "title": ("附录：规划数据一致性审核", "Appendix: audit of the plan's figures"),
    "intro": (
        "由 cbm-sim plan audit 从规划数据（晋市政发〔2022〕28号）计算得出，共 {n} 项检查结果。"
        "“错误”和“不一致”逐项列于表中，附规划原文；其余只列数量。完整推算过程见 "
        "cbm-sim plan audit -o 输出的CSV。",
        "Computed by cbm-sim plan audit from the plan data (Jincheng plan of 2022, "
        "document 28); {n} findings. Errors and inconsistencies are listed in the table, "
        "with their derivation as a note; the other severities are counted only. The whole "
        "derivation is in the CSV of cbm-sim plan audit -o.",
    ),
    "by_severity": ("按严重程度", "By severity"),
    "by_check": ("按检查类型", "By check"),
    "full": ("错误与不一致（全部）", "Errors and inconsistencies (all)"),
    "none": ("无。", "None."),
    "basis": ("依据：", "Basis: "),
    "col.severity": ("严重程度", "severity"),
    "col.count": ("项数", "findings"),
    "col.check": ("检查类型", "check"),
    "col.finding": ("发现", "finding"),
    "col.stated": ("规划所述", "stated"),
    "col.computed": ("计算值", "computed"),
    "col.difference": ("差异", "difference"),
    "col.reference": ("出处", "reference"),
    "col.note": (
        "规划原文（完整推算见 cbm-sim plan audit -o 的CSV）",
        "derivation (in full: cbm-sim plan audit -o CSV)",
    ),
    "notes_intro": (
        "各项发现的说明（编号对应上表）：",
        "Notes on each finding (numbers as above):",
    ),
}
_SEVERITY: Final[dict[str, tuple[str, str]]] = {
    "error": ("错误：规划自相矛盾或违背物理", "error: the plan contradicts itself or physics"),
    "inconsistency": ("不一致：超出舍入误差", "inconsistency: beyond rounding"),
    "rounding": ("舍入：在所述精度内", "rounding: within the stated precision"),
    "note": ("提示：值得规划者一看的推算数", "note: a derived figure worth a look"),
    "ok": ("无误", "ok"),
}
_SEVERITY_SHORT: Final[dict[str, str]] = {
    "error": "错误",
    "inconsistency": "不一致",
    "rounding": "舍入",
    "note": "提示",
    "ok": "无误",
}
_CHECK: Final[dict[str, str]] = {
    "sum": "分项求和",
    "formula": "比例与定义",
    "unit_value": "单位产值",
    "balance": "气量平衡",
    "value_balance": "含仅有产值部门的气量平衡",
    "services": "服务与装备产值对气量",
    "physical": "物理换算",
    "capacity": "设施利用率",
    "storage_base": "储气需求的基数",
    "duplicate": "重复表述",
    "year_context": "年份与上下文",
    "coverage": "目标年份覆盖",
}
# English: Chinese units to Latin, then any other Chinese text dropped.
_EN_UNITS: Final[tuple[tuple[str, str], ...]] = (
    ("亿元", "×10⁸ CNY"),
    ("万元", "×10⁴ CNY"),
    ("元", "CNY"),
    ("亿", "×10⁸ "),
    ("万", "×10⁴ "),
)
_QUOTED = re.compile(r"[“「][^”」]*[”」]")
_CJK_RUN = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]+")


def _t(key: str, lang: Lang) -> str:
    zh, en = _TEXT[key]
    return zh if lang == "zh" else en


_NUMERALS: Final[dict[str, str]] = dict(
    zip("一二三四五六七八九十", map(str, range(1, 11)), strict=True)
)
_SUBSECTION = re.compile(r"(§\d+ )([一二三四五六七八九十])(?![\u4e00-\u9fff])")


def _english(text: str) -> str:
    """``text`` without Chinese script: units spelled in Latin, quotations dropped."""
    text = _SUBSECTION.sub(lambda m: m.group(1) + _NUMERALS[m.group(2)], text)
    text = _QUOTED.sub("(quoted in the plan)", text)
    for zh, en in _EN_UNITS:
        text = text.replace(zh, en)
    text = _CJK_RUN.sub("…", text)
    return re.sub(r" {2,}", " ", text)


def _localised(text: str, lang: Lang) -> str:
    return text if lang == "zh" else _english(text)


_TERMS: Final[tuple[tuple[str, str], ...]] = (
    (" = Σ leaf items (detail statements)", "＝各细项之和（细项表述）"),
    (" = Σ parts (detail statements)", "＝各部分之和（细项表述）"),
    (" = Σ leaf items", "＝各细项之和"),
    (" = Σ parts", "＝各部分之和"),
    ("surface gas balance incl. value-only sectors", "含仅有产值部门的地面气量平衡"),
    ("total gas balance incl. value-only sectors", "含仅有产值部门的总气量平衡"),
    ("coal-mine gas balance", "煤矿瓦斯气量平衡"),
    ("mine-gas utilisation balance", "瓦斯利用气量平衡"),
    ("surface gas balance", "地面抽采气量平衡"),
    ("total gas balance", "总气量平衡"),
    ("CNG compression utilisation", "CNG压缩设施利用率"),
    ("LNG liquefaction utilisation", "LNG液化设施利用率"),
    ("outbound pipeline utilisation", "外输管线利用率"),
    ("storage needs: derived base against local use", "储气需求的推算基数与本地用气"),
    ("wells paid by ", "按此产值推算的钻井数："),
    (" per m3 of LNG tank", "每立方米LNG储罐"),
    (" per m3 of ", "每立方米"),
)
"""The audit's subjects in Chinese: its fixed English phrases (plan ids are named by
:func:`cbm_sim.names.target_name`)."""
_ID = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+|[a-z]+_[a-z0-9_]+")
_CODE = re.compile(r"\s*[a-z_]+\.[A-Z][A-Z0-9_]+")
_UNIT_IN_BRACKETS = re.compile(r"\s*\[([^\]]+)\]")


def subject_text(subject: str, lang: Lang) -> str:
    """An audit subject for the report: plan ids by their names, the audit's phrases in the
    report's language (English: as the audit writes them, Chinese units in Latin)."""
    if lang == "en":
        return _ID.sub(lambda m: target_name(m.group(0), lang), _english(subject))
    text = subject
    for en, zh in _TERMS:
        text = text.replace(en, zh)
    text = _UNIT_IN_BRACKETS.sub(lambda m: f"（{m.group(1)}）", text)
    return _ID.sub(lambda m: target_name(m.group(0), lang), text)


def _amount(value: object, unit: str, lang: Lang) -> str:
    v = float(value)  # type: ignore[arg-type]
    if not math.isfinite(v):
        return "—"
    if unit == "year":
        return f"{v:.0f}"
    digits = 2 if abs(v) < 10 else 1 if abs(v) < 1000 else 0
    text = f"{v:,.{digits}f}"
    shown = unit if lang == "zh" else _english(unit).strip()
    return f"{text} {shown}".strip() if unit and unit not in ("count", "fraction") else text


def _note(row: pd.Series, lang: Lang) -> str:
    """The finding's note: the plan's own phrases (Chinese), or the derivation (English),
    each cut at :data:`NOTE_CHARS` (the whole is in ``cbm-sim plan audit -o``'s CSV)."""
    text = str(row["phrases"]) if lang == "zh" and row["phrases"] else _english(str(row["detail"]))
    if row["basis"]:
        basis = _localised(str(row["basis"]), lang)
        if lang == "zh":  # code references (units.LNG_…) are for the CSV, not the page
            basis = _CODE.sub("", basis)
        text += f" {_t('basis', lang)}{basis}"
    return text if len(text) <= NOTE_CHARS else text[: NOTE_CHARS - 1] + "…"


NOTE_CHARS: Final[int] = 360
"""A finding's note longer than this is cut in the report (the CSV has it whole)."""


def _counts(frame: pd.DataFrame, lang: Lang, flow: Flow) -> None:
    from cbm_sim.plan.audit import CHECKS, SEVERITIES

    counts = frame["severity"].value_counts()
    flow.heading(_t("by_severity", lang))
    rows = [
        Row([_SEVERITY[sev][0 if lang == "zh" else 1], str(int(counts.get(sev, 0)))])
        for sev in SEVERITIES
    ]
    flow.table([[_t("col.severity", lang), _t("col.count", lang)]], rows, (0.8, 0.2))
    flow.heading(_t("by_check", lang))
    table = frame.groupby(["check", "severity"]).size()
    rows = []
    for check in CHECKS:
        if not (frame["check"] == check).any():
            continue
        name = _CHECK[check] if lang == "zh" else check.replace("_", " ")
        rows.append(Row([name, *(str(int(table.get((check, s), 0))) for s in SEVERITIES)]))
    header = [_t("col.check", lang), *(_severity_word(s, lang) for s in SEVERITIES)]
    flow.table([header], rows, (0.40, 0.12, 0.12, 0.12, 0.12, 0.12))


REFERENCES_SHOWN: Final[int] = 3
"""A finding's references beyond this many are counted, not listed (the CSV lists them)."""


def _references(ref: str, lang: Lang) -> str:
    parts = [p.strip() for p in _localised(ref, lang).split(";") if p.strip()]
    shown = ("；" if lang == "zh" else "; ").join(parts[:REFERENCES_SHOWN])
    rest = len(parts) - REFERENCES_SHOWN
    if rest > 0:
        shown += f"等{len(parts)}处" if lang == "zh" else f" and {rest} more"
    return shown


_SEVERITY_SHORT_EN: Final[dict[str, str]] = {"inconsistency": "incons."}
"""English severities short enough for a table column (the counts table spells them out)."""


def _severity_word(severity: str, lang: Lang) -> str:
    if lang == "zh":
        return _SEVERITY_SHORT[severity]
    return _SEVERITY_SHORT_EN.get(severity, severity)


def _findings(frame: pd.DataFrame, lang: Lang, flow: Flow) -> None:
    flow.heading(_t("full", lang))
    full = frame[frame["severity"].isin(_FULL)]
    if full.empty:
        flow.text(_t("none", lang))
        return
    full = pd.concat([full[full["severity"] == sev] for sev in _FULL])
    header = [
        "#", _t("col.finding", lang), _t("col.severity", lang), _t("col.stated", lang),
        _t("col.computed", lang), _t("col.difference", lang), _t("col.reference", lang),
    ]  # fmt: skip
    rows = []
    for k, (_, r) in enumerate(full.iterrows(), start=1):
        check = _CHECK[r["check"]] if lang == "zh" else str(r["check"]).replace("_", " ")
        unit = str(r["unit"]) if r["unit"] else ""
        rows.append(
            Row(
                [
                    str(k),
                    f"{check}：{subject_text(str(r['subject']), lang)}（{r['year']}）"
                    if lang == "zh"
                    else f"{check}: {subject_text(str(r['subject']), lang)} ({r['year']})",
                    _severity_word(str(r["severity"]), lang),
                    _amount(r["stated"], unit, lang),
                    _amount(r["computed"], unit, lang),
                    _amount(r["difference"], unit, lang),
                    _references(str(r["ref"]), lang),
                ],
                colours={2: _SEVERE_COLOUR},
            )
        )
    widths = (0.05, 0.31, 0.09, 0.13, 0.13, 0.12, 0.17)
    flow.table([header], rows, widths, left=(1,))
    flow.text(_t("notes_intro", lang), color="#444444")
    notes = [Row([str(k), _note(r, lang)]) for k, (_, r) in enumerate(full.iterrows(), start=1)]
    flow.table([["#", _t("col.note", lang)]], notes, (0.05, 0.95), left=(1,))


_SEVERE_COLOUR: Final[str] = "#D55E00"  # Okabe-Ito vermillion, as the report's "short"


def audit_pages(frame: pd.DataFrame | None = None, lang: Lang = "zh") -> list[Figure]:
    """The audit appendix as A4 pages of tables, in the report's language.

    The counts by severity and by check, then every ``error`` and ``inconsistency`` as a table
    row (finding, severity, stated, computed, difference, reference) and a table of notes
    under it (the plan's own phrases in Chinese, the derivation in English; cut at
    :data:`NOTE_CHARS`, the whole is in ``cbm-sim plan audit -o``'s CSV).

    Parameters
    ----------
    frame
        The findings (:func:`cbm_sim.plan.audit.audit`); default the audit of the packaged plan.
    lang
        ``"zh"`` (default) or ``"en"``.

    Returns
    -------
    list of matplotlib.figure.Figure
        One figure per page, 210 × 297 mm, every text at least :data:`MIN_FONT_PT`.
    """
    check_lang(lang)
    if frame is None:
        from cbm_sim.plan.audit import audit

        frame = audit()
    with use_report_style(lang):
        flow = Flow(lang)
        flow.text(_t("title", lang), _TITLE_PT, gap_pt=6.0)
        flow.text(_t("intro", lang).format(n=len(frame)), gap_pt=4.0)
        _counts(frame, lang, flow)
        _findings(frame, lang, flow)
    return flow.pages
