"""The CJK font that report charts are set in, and the matplotlib style that uses it.

Chinese labels must render on a fresh machine with no system fonts, so the font comes from a
Python dependency: ``pylopdf-fonts-zh-cn`` ships Noto Sans SC Regular (Adobe/Google, SIL Open
Font License 1.1, no Reserved Font Name, so converted copies may keep the name).

That file is an OpenType font with CFF (PostScript) outlines. matplotlib's PDF backend embeds a
``pdf.fonttype`` 42 font as a ``CIDFontType2`` (TrueType) descendant font; with CFF data inside
it writes a font program of the wrong type, which poppler reports as "Mismatch between font type
and embedded font file" and stricter readers reject. So on first use the outlines are converted
once to quadratic TrueType curves (fontTools ``cu2qu``, max error 1 font unit of 1000/em, i.e.
invisible) and the converted ``.ttf`` is cached in matplotlib's cache directory. The conversion
takes about half a minute once per machine; later calls only register the cached file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final, Literal

import matplotlib as mpl
from matplotlib import font_manager

Lang = Literal["zh", "en"]
LANGS: Final[tuple[str, ...]] = ("zh", "en")

FONT_PACKAGE: Final[str] = "pylopdf_fonts_zh_cn"
"""Import name of the dependency that ships the font (PyPI ``pylopdf-fonts-zh-cn``)."""
FONT_FILE: Final[str] = "NotoSansSC-Regular.otf"
"""The Simplified-Chinese font file inside :data:`FONT_PACKAGE`."""
FONT_LICENSE: Final[str] = "SIL Open Font License 1.1"

# Maximum deviation of the quadratic approximation of each cubic curve, in font units (the
# font has 1000 units per em): at 10 pt that is 0.01 pt, far below any printer's resolution.
_CU2QU_MAX_ERR_UNITS: Final[float] = 1.0
# Bumped whenever the conversion changes, so stale cached files are not reused.
_CONVERTER_VERSION: Final[str] = "1"
# Latin fallback after the CJK font (bundled with matplotlib, so always present).
_LATIN_FAMILY: Final[str] = "DejaVu Sans"


class FontMissingError(FileNotFoundError):
    """The packaged CJK font is not installed or its file is missing."""


def source_font_path(package: str = FONT_PACKAGE, filename: str = FONT_FILE) -> Path:
    """Path of the OpenType (CFF) font shipped by the font dependency.

    Parameters
    ----------
    package
        Import name of the package that ships the font.
    filename
        File name of the font inside the package directory.

    Raises
    ------
    FontMissingError
        If the package is not installed or the file is not in it.
    """
    try:
        module = __import__(package)
    except ImportError as exc:
        raise FontMissingError(
            f"the CJK font package {package!r} is not installed ({exc}); "
            "reinstall cbm-sim (`pip install cbm-sim`) to get its dependency "
            "pylopdf-fonts-zh-cn, which ships Noto Sans SC"
        ) from None
    path = Path(str(module.__file__)).parent / filename
    if not path.is_file():
        raise FontMissingError(
            f"the CJK font file {path} is missing from package {package!r}; "
            "reinstall pylopdf-fonts-zh-cn"
        )
    return path


def cjk_font_path(source: Path | None = None, cache_dir: Path | None = None) -> Path:
    """Path of the TrueType-outline CJK font used for charts, converting it on first use.

    Parameters
    ----------
    source
        The CFF OpenType font to convert; default :func:`source_font_path`.
    cache_dir
        Where the converted ``.ttf`` is kept; default ``<matplotlib cache dir>/cbm_sim``.

    Returns
    -------
    Path
        A ``.ttf`` with ``glyf`` outlines, safe for ``pdf.fonttype`` 42 embedding.

    Raises
    ------
    FontMissingError
        If ``source`` does not exist.
    """
    src = source_font_path() if source is None else Path(source)
    if not src.is_file():
        raise FontMissingError(f"CJK font source file {src} does not exist")
    stat = src.stat()
    key = hashlib.sha256(
        f"{src.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{_CONVERTER_VERSION}".encode()
    ).hexdigest()[:16]
    directory = Path(mpl.get_cachedir()) / "cbm_sim" if cache_dir is None else Path(cache_dir)
    target = directory / f"{src.stem}-truetype-{key}.ttf"
    if not target.is_file():
        directory.mkdir(parents=True, exist_ok=True)
        with _exclusive(directory / f"{target.name}.lock"):
            if not target.is_file():  # another process may have converted it meanwhile
                convert_cff_to_truetype(src, target)
    return target


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``lock_path`` (POSIX ``flock``; none elsewhere).

    Test workers, notebook kernels and Dask workers started together on a fresh machine
    would each spend half a minute converting the same font; with the lock, one converts
    and the others wait for its file.
    """
    try:
        import fcntl
    except ImportError:  # Windows: converting twice is slower, not wrong (atomic rename)
        yield
        return
    with open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def convert_cff_to_truetype(src: Path, dst: Path) -> Path:
    """Rewrite a CFF-outline OpenType font as a TrueType-outline font.

    Cubic Bézier outlines are approximated by quadratic splines (``cu2qu``) within
    :data:`_CU2QU_MAX_ERR_UNITS` font units; metrics, ``cmap`` and layout tables are kept. The
    file is written to a temporary name and renamed, so concurrent processes (pytest-xdist)
    never see a half-written font.

    Raises
    ------
    ValueError
        If ``src`` has no ``CFF`` table (it is already TrueType or not a font we know).
    """
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont, newTable

    font = TTFont(src)
    if "CFF " not in font:
        raise ValueError(f"{src} has no CFF outlines to convert (tables: {sorted(font.keys())})")
    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for name in order:
        pen = TTGlyphPen(None)
        # PostScript outlines run counter-clockwise, TrueType clockwise: reverse them.
        glyph_set[name].draw(Cu2QuPen(pen, _CU2QU_MAX_ERR_UNITS, reverse_direction=True))
        glyf[name] = pen.glyph()
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for attr in (
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    post = font["post"]
    # CID-keyed CFF glyph names (cid12345) carry nothing; format 3 stores none.
    post.formatType = 3.0
    post.extraNames = []
    post.mapping = {}
    for tag in ("CFF ", "VORG", "DSIG"):
        if tag in font:
            del font[tag]
    font["head"].glyphDataFormat = 0
    font.sfntVersion = "\x00\x01\x00\x00"
    fd, tmp = tempfile.mkstemp(suffix=".ttf.part", dir=dst.parent)
    os.close(fd)
    try:
        font.save(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes it owner-only; the cache may be shared
        os.replace(tmp, dst)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return dst


def cjk_font_family() -> str:
    """Register the CJK font with matplotlib and return its family name (``Noto Sans SC``)."""
    path = cjk_font_path()
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


def check_lang(lang: str) -> Lang:
    """Return ``lang`` if it is a report language, else raise ``ValueError`` naming it."""
    if lang not in LANGS:
        raise ValueError(f"unknown report language {lang!r}; expected one of {LANGS}")
    return lang  # type: ignore[return-value]


@contextlib.contextmanager
def use_report_style(lang: Lang) -> Iterator[dict[str, object]]:
    """Matplotlib settings for report charts, restored on exit.

    In Chinese the CJK font is first (its Latin glyphs match the Han ones); in English
    DejaVu Sans is first and the CJK font only serves characters DejaVu lacks (a Chinese
    scenario name on an English cover). Fonts are embedded as TrueType (``pdf.fonttype`` 42)
    so text stays text in the PDF; the ASCII hyphen is used as minus sign because not every
    font has U+2212.

    Yields
    ------
    dict
        The rcParams that were set.
    """
    check_lang(lang)
    cjk = cjk_font_family()
    families = [cjk, _LATIN_FAMILY] if lang == "zh" else [_LATIN_FAMILY, cjk]
    params: dict[str, Any] = {
        "font.family": families,
        "axes.unicode_minus": False,
        "pdf.fonttype": 42,
        "ps.fonttype": 42,
        "svg.fonttype": "none",
        # print sizes [pt], charts being drawn at the text column's width (report.page):
        # nothing below 9 pt, relative sizes ("small") resolved against these
        "font.size": 9.0,
        "axes.titlesize": 10.0,
        "axes.labelsize": 9.0,
        "xtick.labelsize": 9.0,
        "ytick.labelsize": 9.0,
        "legend.fontsize": 9.0,
        "legend.title_fontsize": 9.0,
        "figure.titlesize": 11.0,
        "lines.linewidth": 1.2,
    }
    with mpl.rc_context(params):  # type: ignore[arg-type]
        yield params
