"""The fonts the page is set in, served from the installed package (no font from the web).

The page's Chinese text needs a CJK font that a fresh machine may not have; the report's font
dependency ships Noto Sans SC (SIL Open Font License 1.1). The page loads a subset of it first
— the characters of the page's own texts, of the report's texts and of the packaged data
(:func:`cbm_sim.report.fonts.report_characters`), made once and cached like the report's — and
the full font only for a character outside it (a Chinese scenario name, say).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

STATIC = Path(__file__).parent / "static"


def page_characters() -> str:
    """Every character the page and the report can show whatever the run, sorted."""
    from cbm_sim.report.fonts import report_characters

    chars = set(report_characters())
    for path in sorted(STATIC.glob("*")):
        if path.suffix in (".html", ".js", ".css"):
            chars.update(path.read_text(encoding="utf-8"))
    return "".join(sorted(ch for ch in chars if ch.isprintable()))


@cache
def font_file(name: str) -> Path:
    """``ui.ttf`` (the page's subset) or ``full.otf`` (the whole font).

    Raises
    ------
    KeyError
        For any other name.
    """
    from cbm_sim.report.fonts import cjk_subset_path, source_font_path

    if name == "full.otf":
        return source_font_path()
    if name == "ui.ttf":
        return cjk_subset_path(chars=page_characters())
    raise KeyError(name)
