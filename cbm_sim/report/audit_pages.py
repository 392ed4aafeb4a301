"""The plan audit as an appendix of the PDF report, in Chinese or English.

:func:`audit_pages` lays out the findings of :func:`cbm_sim.plan.audit.audit` on A4 portrait pages
(210 × 297 mm): the counts by severity and by check first, then every ``error`` and
``inconsistency`` in full (subject, references, the generated arithmetic, the plan phrases it
rests on and any assumption), and the other severities as counts only. Text is set at 9 pt or
more and wrapped to the measured width of its glyphs, so nothing runs off the page. The
generated arithmetic is English in both languages (the Chinese appendix keeps the plan's own
phrases beside it); the English appendix replaces the Chinese units (亿, 万, 元) and drops
quoted Chinese text, so its pages are free of Chinese script.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import Final

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.transforms import Bbox

from cbm_sim.report.fonts import Lang, check_lang, use_report_style
from cbm_sim.report.page import chart_width_in

__all__ = ["A4_IN", "MIN_FONT_PT", "audit_pages"]

A4_IN: Final[tuple[float, float]] = (210 / 25.4, 297 / 25.4)
"""A4 portrait [inch] (ISO 216: 210 × 297 mm)."""
MIN_FONT_PT: Final[float] = 9.0
"""Smallest font size on the pages [pt] (legible in print)."""
_MARGIN_IN: Final[float] = 18 / 25.4  # 18 mm at the top
_BOTTOM_IN: Final[float] = 30 / 25.4  # above the report's footer line (report.page)
_BODY_PT: Final[float] = 9.5
_HEAD_PT: Final[float] = 11.0
_TITLE_PT: Final[float] = 15.0
_LEADING: Final[float] = 1.35  # line height over font size
_SAFETY: Final[float] = 0.97  # wrap at 97 % of the measured width (kerning, hinting)
_FULL: Final[tuple[str, ...]] = ("error", "inconsistency")

_TEXT: Final[dict[str, tuple[str, str]]] = {
    "title": ("附录：规划数据一致性审核", "Appendix: audit of the plan's figures"),
    "intro": (
        "由 cbm-sim plan audit 从规划数据（晋市政发〔2022〕28号）计算得出，共 {n} 项检查结果。"
        "“错误”和“不一致”逐项列出（计算过程为程序生成的英文算式，附规划原文）；其余只列数量。",
        "Computed by cbm-sim plan audit from the plan data (Jincheng plan of 2022, "
        "document 28); {n} findings. Errors and inconsistencies are listed in full with "
        "their arithmetic; the other severities are counted only.",
    ),
    "by_severity": ("按严重程度", "By severity"),
    "by_check": (
        "按检查类型（错误 / 不一致 / 舍入 / 提示 / 无误）",
        "By check (error / inconsistency / rounding / note / ok)",
    ),
    "full": ("错误与不一致（全部）", "Errors and inconsistencies (all)"),
    "none": ("无。", "None."),
    "arithmetic": ("计算：", "Arithmetic: "),
    "phrases": ("规划原文：", ""),
    "basis": ("依据：", "Basis: "),
    "continued": ("（续）", " (continued)"),
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


class _Pages:
    """Lays out lines of text top-down on A4 pages, wrapping to the measured text width."""

    def __init__(self, lang: Lang) -> None:
        self.lang = lang
        self.pages: list[Figure] = []
        # the report's text column (cbm_sim.report.page): the same width as every chart
        self.width_in = chart_width_in()
        self.left_in = (A4_IN[0] - self.width_in) / 2
        self._widths: dict[tuple[str, float, str], float] = {}
        self._new_page()

    def _new_page(self) -> None:
        fig = Figure(figsize=A4_IN)
        canvas = FigureCanvasAgg(fig)
        # the text block as the page's chart box: the report adds its footer and page number
        # under it (cbm_sim.report.page.add_page_texts)
        fig._cbm_chart_box = Bbox.from_extents(  # type: ignore[attr-defined]
            self.left_in, _BOTTOM_IN, self.left_in + self.width_in, A4_IN[1] - _MARGIN_IN
        )
        self.pages.append(fig)
        self.fig = fig
        self.renderer = canvas.get_renderer()
        self.y_in = _MARGIN_IN  # from the top

    def _char_width(self, ch: str, size: float, weight: str) -> float:
        key = (ch, size, weight)
        if key not in self._widths:
            prop = FontProperties(size=size, weight=weight)
            w, _, _ = self.renderer.get_text_width_height_descent(ch, prop, ismath=False)
            if ch == " ":
                w = self.renderer.get_text_width_height_descent("a a", prop, False)[0] - (
                    2 * self.renderer.get_text_width_height_descent("a", prop, False)[0]
                )
            self._widths[key] = w / self.fig.dpi
        return self._widths[key]

    def wrap(self, text: str, size: float, weight: str = "normal", indent: float = 0) -> list[str]:
        """``text`` broken into lines no wider than the text column (less ``indent``) [inch]."""
        limit = (self.width_in - indent) * _SAFETY
        lines: list[str] = []
        for para in text.split("\n"):
            line, width = "", 0.0
            for token in _tokens(para):
                w = sum(self._char_width(c, size, weight) for c in token)
                if line and width + w > limit:
                    lines.append(line.rstrip())
                    token = token.lstrip()
                    w = sum(self._char_width(c, size, weight) for c in token)
                    line, width = "", 0.0
                while w > limit:  # a token wider than the column: split by characters
                    cut, acc = 0, 0.0
                    for i, c in enumerate(token):
                        acc += self._char_width(c, size, weight)
                        if acc > limit:
                            cut = max(i, 1)
                            break
                    lines.append(token[:cut])
                    token = token[cut:]
                    w = sum(self._char_width(c, size, weight) for c in token)
                line += token
                width += w
            lines.append(line.rstrip())
        return lines

    def text(
        self,
        text: str,
        size: float = _BODY_PT,
        weight: str = "normal",
        indent: float = 0.0,
        gap: float = 0.0,
        keep: int = 1,
    ) -> None:
        """Add wrapped ``text``; a new page starts where fewer than ``keep`` lines fit."""
        lines = self.wrap(text, size, weight, indent)
        step = size * _LEADING / 72
        bottom = A4_IN[1] - _BOTTOM_IN
        if self.y_in + gap + step * min(keep, len(lines)) > bottom:
            self._new_page()
        else:
            self.y_in += gap
        for line in lines:
            if self.y_in + step > bottom:
                self._new_page()
            self.fig.text(
                (self.left_in + indent) / A4_IN[0],
                1 - self.y_in / A4_IN[1],
                line,
                fontsize=size,
                fontweight=weight,
                va="top",
                ha="left",
            )
            self.y_in += step


def _tokens(text: str) -> Iterator[str]:
    """Break opportunities: Latin words with their trailing space, single CJK characters."""
    word = ""
    for ch in text:
        wide = unicodedata.east_asian_width(ch) in ("W", "F")
        if wide:
            if word:
                yield word
                word = ""
            yield ch
        elif ch == " ":
            yield word + ch
            word = ""
        else:
            word += ch
    if word:
        yield word


def _counts(frame: pd.DataFrame, lang: Lang, pages: _Pages) -> None:
    from cbm_sim.plan.audit import CHECKS, SEVERITIES

    counts = frame["severity"].value_counts()
    pages.text(_t("by_severity", lang), _HEAD_PT, gap=0.15, keep=3)
    for sev in SEVERITIES:
        zh, en = _SEVERITY[sev]
        pages.text(f"{counts.get(sev, 0):>4}  {zh if lang == 'zh' else en}", indent=0.15)
    pages.text(_t("by_check", lang), _HEAD_PT, gap=0.15, keep=3)
    table = frame.groupby(["check", "severity"]).size()
    for check in CHECKS:
        if not (frame["check"] == check).any():
            continue
        cells = " / ".join(str(int(table.get((check, s), 0))) for s in SEVERITIES)
        name = f"{_CHECK[check]}（{check}）" if lang == "zh" else check
        pages.text(f"{name}: {cells}", indent=0.15)


def _finding(row: pd.Series, lang: Lang, pages: _Pages) -> None:
    sev = _SEVERITY_SHORT[row["severity"]] if lang == "zh" else row["severity"]
    check = _CHECK[row["check"]] if lang == "zh" else row["check"]
    head = f"[{sev}] {check} · {row['subject']} · {row['year']} · {row['ref']}"
    pages.text(_localised(head, lang), _BODY_PT, gap=0.08, keep=3)
    body = _t("arithmetic", lang) + _localised(str(row["detail"]), lang)
    pages.text(body, indent=0.15)
    if lang == "zh" and row["phrases"]:
        pages.text(_t("phrases", lang) + str(row["phrases"]), indent=0.15)
    if row["basis"]:
        pages.text(_t("basis", lang) + _localised(str(row["basis"]), lang), indent=0.15)


def audit_pages(frame: pd.DataFrame | None = None, lang: Lang = "zh") -> list[Figure]:
    """The audit appendix as A4 portrait pages.

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
        pages = _Pages(lang)
        pages.text(_t("title", lang), _TITLE_PT)
        pages.text(_t("intro", lang).format(n=len(frame)), gap=0.1)
        _counts(frame, lang, pages)
        pages.text(_t("full", lang), _HEAD_PT, gap=0.2, keep=3)
        full = frame[frame["severity"].isin(_FULL)]
        if full.empty:
            pages.text(_t("none", lang))
        for sev in _FULL:
            for _, row in full[full["severity"] == sev].iterrows():
                _finding(row, lang, pages)
    return pages.pages
