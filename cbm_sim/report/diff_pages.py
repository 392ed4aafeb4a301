"""The comparison pages (``cbm-sim report --compare``): what differs from another scenario.

Draws a :class:`~cbm_sim.studies.diff.Diff` as tables: every changed input with the source
each side's file gives for it, the production, LNG and output value of the target years side
by side, and the targets — the cluster total, the sub-clusters, production and LNG, and any
other whose verdict changed — with both verdicts.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from matplotlib.figure import Figure

from cbm_sim import names
from cbm_sim.economics.targets import TARGET_YEARS
from cbm_sim.economics.valuation import SUB_CLUSTERS
from cbm_sim.report.flow import Flow
from cbm_sim.report.fonts import Lang, use_report_style
from cbm_sim.report.style import MET_COLOUR, SHORT_COLOUR, label, unit_label
from cbm_sim.report.tables import Row
from cbm_sim.studies.diff import Diff

HEADLINE: Final[tuple[str, ...]] = (
    "output.total",
    *(f"output.{sc}" for sc in SUB_CLUSTERS),
    "production.total",
    "production.surface",
    "lng.output",
)
"""Targets the comparison always shows (the rest only when their verdict changed)."""
SOURCE_CHARS: Final[int] = 220
"""A source comment longer than this is cut (the full text is in ``diff``'s CSV)."""


def _num(v: float, sign: bool = False) -> str:
    if not np.isfinite(v):
        return "—"
    v = 0.0 if round(v, 1) == 0 else v
    return f"{v:+,.1f}" if sign else f"{v:,.1f}"


def _source(text: str, lang: Lang) -> str:
    if text == "default":
        return label("compare.default", lang)
    if not text:
        return "—"
    return text if len(text) <= SOURCE_CHARS else text[: SOURCE_CHARS - 1] + "…"


def diff_pages(d: Diff, lang: Lang) -> list[Figure]:
    """The comparison of ``d.b`` against ``d.a`` as A4 pages (tables)."""
    name_col = f"name_{lang}"
    with use_report_style(lang):
        flow = Flow(lang)
        flow.text(label("title.compare", lang).format(a=d.a, b=d.b), 12.0, gap_pt=4.0)
        flow.heading(label("compare.inputs", lang).format(n=len(d.inputs)))
        if d.inputs.empty:
            flow.text(label("compare.no_inputs", lang))
        else:
            header = [label("summary.col.input", lang), d.a, d.b, label("compare.source", lang)]
            rows = [
                Row([str(r[name_col]), str(r["a"]), str(r["b"]), _source(str(r["source_b"]), lang)])
                for _, r in d.inputs.iterrows()
            ]
            flow.table([header], rows, (0.27, 0.17, 0.17, 0.39), left=(3,))
        out = d.outputs[d.outputs["year"].isin(TARGET_YEARS)]
        flow.heading(label("compare.outputs", lang))
        header = [label("compare.col.output", lang), label("summary.col.year", lang), d.a, d.b,
                  "Δ", "Δ %"]  # fmt: skip
        rows = []
        for _, r in out.iterrows():
            unit = unit_label(str(r["unit"]), lang)
            rows.append(
                Row(
                    [
                        f"{r[name_col]} ({unit})",
                        str(int(r["year"])),
                        _num(r["a"]),
                        _num(r["b"]),
                        _num(r["delta"], True),
                        _num(r["delta_pct"], True),
                    ],
                    total=not bool(r["moved"]),
                )
            )
        flow.table([header], rows, (0.38, 0.09, 0.14, 0.14, 0.13, 0.12), wrapped=(0,))
        flow.text(label("compare.outputs_note", lang), color="#444444")
        t = d.targets
        shown = t[t["target"].isin(HEADLINE) | t["status_changed"]]
        flow.heading(label("compare.targets", lang))
        header = [label("compare.col.target", lang), label("summary.col.year", lang),
                  label("summary.col.target", lang), d.a, d.b]  # fmt: skip
        rows = []
        for _, r in shown.iterrows():
            cells = [str(r[name_col]), str(int(r["year"])), _num(r["target_value"])]
            colours = {}
            for k, (value, status) in enumerate(((r["a"], r["status_a"]), (r["b"], r["status_b"]))):
                word = names.status_name(str(status), lang) if status != "—" else "—"
                cells.append(f"{_num(value)} {word}")
                colours[3 + k] = MET_COLOUR if status == "met" else SHORT_COLOUR
            rows.append(Row(cells, total=bool(r["status_changed"]), colours=colours))
        flow.table([header], rows, (0.36, 0.09, 0.13, 0.21, 0.21), wrapped=(0,))
        flow.text(label("compare.targets_note", lang), color="#444444")
    return flow.pages


__all__ = ["HEADLINE", "diff_pages"]
