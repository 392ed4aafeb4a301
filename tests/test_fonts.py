"""The packaged CJK font: present, OFL-licensed, converted faithfully, embedded as TrueType."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib as mpl
import pytest
from fontTools.pens.boundsPen import BoundsPen
from fontTools.ttLib import TTFont
from matplotlib import font_manager
from pypdf import PdfReader

from cbm_sim.report import fonts
from cbm_sim.report.style import LABELS
from cbm_sim.report.style import new_figure as make_figure


def _cjk_chars(text: str) -> set[str]:
    return {ch for ch in text if 0x3000 <= ord(ch) <= 0x9FFF or 0xFF00 <= ord(ch) <= 0xFFEF}


def test_source_font_is_noto_sans_sc_under_the_ofl() -> None:
    font = TTFont(fonts.source_font_path())
    name = font["name"]
    assert name.getDebugName(1) == "Noto Sans SC"
    assert "Open Font License" in name.getDebugName(13)
    # OFL: no Reserved Font Name in the copyright, so a converted copy may keep the name.
    assert "Reserved Font Name" not in (name.getDebugName(0) or "")
    assert "CFF " in font


def test_converted_font_is_truetype_and_covers_every_chinese_label() -> None:
    font = TTFont(fonts.cjk_font_path())
    assert "glyf" in font
    assert "CFF " not in font
    assert font.sfntVersion == "\x00\x01\x00\x00"
    cmap = font.getBestCmap()
    needed = set().union(*(_cjk_chars(zh) for zh, _ in LABELS.values()))
    assert needed, "the Chinese labels contain Chinese characters"
    missing = sorted(ch for ch in needed if ord(ch) not in cmap)
    assert missing == []


def test_conversion_keeps_metrics_and_outlines() -> None:
    src = TTFont(fonts.source_font_path())
    dst = TTFont(fonts.cjk_font_path())
    src_cmap, src_glyphs = src.getBestCmap(), src.getGlyphSet()
    dst_cmap, dst_glyphs = dst.getBestCmap(), dst.getGlyphSet()
    # Same glyph for every code point (names differ: post format 3 stores none).
    src_ids = {cp: src.getGlyphID(name) for cp, name in src_cmap.items()}
    assert {cp: dst.getGlyphID(name) for cp, name in dst_cmap.items()} == src_ids
    for ch in "晋城煤层气亿元m³Ag%（":
        a, b = src_cmap[ord(ch)], dst_cmap[ord(ch)]
        assert dst["hmtx"][b] == src["hmtx"][a]
        pa, pb = BoundsPen(src_glyphs), BoundsPen(dst_glyphs)
        src_glyphs[a].draw(pa)
        dst_glyphs[b].draw(pb)
        # Quadratic approximation within 1 unit, plus rounding to integer coordinates.
        for u, v in zip(pa.bounds, pb.bounds, strict=True):
            assert abs(u - v) <= 2.0, (ch, pa.bounds, pb.bounds)


def test_conversion_is_cached(tmp_path: Path) -> None:
    first = fonts.cjk_font_path()
    mtime = first.stat().st_mtime_ns
    assert fonts.cjk_font_path() == first
    assert first.stat().st_mtime_ns == mtime


def test_missing_font_package_is_named() -> None:
    with pytest.raises(fonts.FontMissingError, match="no_such_font_pkg"):
        fonts.source_font_path(package="no_such_font_pkg")


def test_missing_font_file_is_named() -> None:
    with pytest.raises(fonts.FontMissingError, match=r"Nope-Regular\.otf"):
        fonts.source_font_path(filename="Nope-Regular.otf")
    with pytest.raises(fonts.FontMissingError, match=r"absent\.otf"):
        fonts.cjk_font_path(source=Path("/nonexistent/absent.otf"))


def test_converting_a_truetype_font_is_refused(tmp_path: Path) -> None:
    dejavu = Path(mpl.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    with pytest.raises(ValueError, match=r"DejaVuSans\.ttf has no CFF"):
        fonts.convert_cff_to_truetype(dejavu, tmp_path / "x.ttf")


def test_unknown_language_is_named() -> None:
    with pytest.raises(ValueError, match="'fr'"), fonts.use_report_style("fr"):  # type: ignore[arg-type]
        pass


@pytest.mark.parametrize(("lang", "first"), [("zh", fonts.SUBSET_FAMILY), ("en", "DejaVu Sans")])
def test_report_style_sets_and_restores_rcparams(lang: fonts.Lang, first: str) -> None:
    before = dict(mpl.rcParams)
    with fonts.use_report_style(lang):
        assert mpl.rcParams["font.family"][0] == first
        assert "Noto Sans SC" in mpl.rcParams["font.family"]
        assert mpl.rcParams["pdf.fonttype"] == 42
        assert mpl.rcParams["axes.unicode_minus"] is False
    assert mpl.rcParams["font.family"] == before["font.family"]
    assert mpl.rcParams["pdf.fonttype"] == before["pdf.fonttype"]


def test_family_is_registered_with_matplotlib() -> None:
    family = fonts.cjk_font_family()
    found = font_manager.findfont(
        font_manager.FontProperties(family=family), fallback_to_default=False
    )
    assert Path(found) == fonts.cjk_font_path()


def test_pdf_embeds_the_cjk_font_as_truetype(recwarn: pytest.WarningsRecorder) -> None:
    buf = io.BytesIO()
    with fonts.use_report_style("zh"):
        fig = make_figure()
        ax = fig.add_subplot()
        ax.plot([0, 1], [0, 1])
        ax.set_title("晋城煤层气 产量（亿m³）")
        fig.savefig(buf, format="pdf")
    assert [str(w.message) for w in recwarn] == []
    reader = PdfReader(buf)
    found = []
    for font in reader.pages[0]["/Resources"]["/Font"].values():
        font = font.get_object()
        if "NotoSansSC" not in str(font["/BaseFont"]):
            continue
        descendant = font["/DescendantFonts"][0].get_object()
        program = descendant["/FontDescriptor"].get_object()["/FontFile2"].get_object()
        found.append((str(descendant["/Subtype"]), program.get_data()[:4]))
    assert found, "the CJK font is embedded"
    assert all(sub == "/CIDFontType2" and magic == b"\x00\x01\x00\x00" for sub, magic in found)
    assert "晋城煤层气" in reader.pages[0].extract_text()


def test_concurrent_first_uses_convert_once(tmp_path: Path, monkeypatch) -> None:
    """Workers starting together wait for one conversion instead of each converting."""
    import threading
    import time

    calls: list[float] = []

    def slow_convert(src: Path, dst: Path) -> Path:
        calls.append(time.monotonic())
        time.sleep(0.3)
        dst.write_bytes(b"converted")
        return dst

    monkeypatch.setattr(fonts, "convert_cff_to_truetype", slow_convert)
    results: list[Path] = []
    threads = [
        threading.Thread(target=lambda: results.append(fonts.cjk_font_path(cache_dir=tmp_path)))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert len(set(results)) == 1 and results[0].read_bytes() == b"converted"


def test_report_subset_covers_the_labels_keeps_the_ofl_records_and_is_renamed() -> None:
    full, subset = TTFont(fonts.cjk_font_path()), TTFont(fonts.cjk_subset_path())
    assert len(subset.getGlyphOrder()) < len(full.getGlyphOrder()) / 5
    cmap, full_cmap = subset.getBestCmap(), full.getBestCmap()
    needed = set().union(*(_cjk_chars(zh) for zh, _ in LABELS.values()))
    assert sorted(ch for ch in needed if ord(ch) not in cmap) == []
    # every character the report can draw and the font has is in the subset, same advance
    wanted = {ord(ch) for ch in fonts.report_characters()} & set(full_cmap)
    assert wanted <= set(cmap)
    for cp in sorted(wanted)[::97]:
        assert subset["hmtx"][cmap[cp]] == full["hmtx"][full_cmap[cp]], chr(cp)
    name = subset["name"]
    assert name.getDebugName(1) == fonts.SUBSET_FAMILY
    for record in (0, 13, 14):  # copyright, licence, licence URL: as in the font
        assert name.getDebugName(record) == full["name"].getDebugName(record)
    assert "Open Font License" in name.getDebugName(13)


def test_subset_is_keyed_by_font_and_characters(tmp_path: Path) -> None:
    full = fonts.cjk_font_path()
    a = fonts.cjk_subset_path(full, "晋城abc", cache_dir=tmp_path)
    assert fonts.cjk_subset_path(full, "晋城abc", cache_dir=tmp_path) == a
    b = fonts.cjk_subset_path(full, "晋城abcd", cache_dir=tmp_path)
    assert a != b
    assert set(TTFont(a).getBestCmap()) == {ord(ch) for ch in "晋城abc"}
    with pytest.raises(fonts.FontMissingError, match=r"nope\.ttf does not exist"):
        fonts.cjk_subset_path(tmp_path / "nope.ttf", "a", cache_dir=tmp_path)


def test_characters_outside_the_subset_fall_back_to_the_full_font() -> None:
    rare = next(
        chr(cp)
        for cp in range(0x4E00, 0x9FFF)
        if cp in TTFont(fonts.cjk_font_path()).getBestCmap()
        and cp not in TTFont(fonts.cjk_subset_path()).getBestCmap()
    )
    buf = io.BytesIO()
    with fonts.use_report_style("zh"):
        assert mpl.rcParams["font.family"][:2] == [fonts.SUBSET_FAMILY, "Noto Sans SC"]
        fig = make_figure()
        fig.text(0.1, 0.5, f"晋城{rare}")
        fig.savefig(buf, format="pdf")
    text = PdfReader(buf).pages[0].extract_text()
    assert f"晋城{rare}" in text


def test_font_lookup_cache_gives_matplotlibs_answers_and_is_undone() -> None:
    """Inside (nested too) the cached lookup answers as matplotlib's own, for several
    properties, and asks matplotlib once per distinct properties; on leaving the last
    context matplotlib's own lookup is back."""
    from unittest import mock

    manager = font_manager.fontManager
    with fonts.use_report_style("zh"):
        props = [
            font_manager.FontProperties(size=s, weight=w)
            for s in (9, 10)
            for w in ("normal", "bold")
        ]
        own = [manager._find_fonts_by_props(p) for p in props]
        real = type(manager)._find_fonts_by_props
        with mock.patch.object(
            type(manager), "_find_fonts_by_props", autospec=True, side_effect=real
        ) as spy:
            with fonts.font_lookup_cache():
                with fonts.font_lookup_cache():
                    assert [manager._find_fonts_by_props(p) for p in props * 3] == own * 3
                assert "_find_fonts_by_props" in vars(manager)
            assert spy.call_count == len(props)
    assert "_find_fonts_by_props" not in vars(manager)
