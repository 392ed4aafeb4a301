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

The converted font has 31,036 glyphs and layout tables matplotlib does not use; matplotlib's
PDF backend subsets it with fontTools for every PDF file it writes, which cost about 1.5 s a
file (15 of the report's 18 s, ``benchmarks/README.md``). So report charts are set in a
*subset* of it (:func:`cjk_subset_path`): the glyphs of every character the report's own
texts, the packaged data and the usual Latin and CJK punctuation can use, and nothing else
(``glyf``, metrics, ``cmap``; all ``name`` records, the OFL ones included, with the family
renamed to :data:`SUBSET_FAMILY` so matplotlib can tell the two apart). The full font stays
in the family list right after it, so any character outside the subset (a Chinese scenario
name, say) still comes from Noto Sans SC through matplotlib's per-glyph font fallback.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import threading
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
SUBSET_FAMILY: Final[str] = "Noto Sans SC cbm-sim"
"""Family name of the report's subset of Noto Sans SC (OFL 1.1 without a Reserved Font Name
lets a modified copy keep or change the name; a distinct one keeps both fonts addressable)."""
_SUBSET_PS_NAME: Final[str] = "NotoSansSC-Regular-cbmsim"
# Bumped whenever the subsetting changes, so stale cached subsets are not reused.
_SUBSET_VERSION: Final[str] = "2"
# Character ranges every report can draw whatever its data: ASCII and Latin-1, general
# punctuation (– — ‰ ′ …), super/subscripts (³), letter-like symbols and arrows (→), math
# operators (≤ ≥ ±), box and geometric shapes (▲ ●), CJK and full-width punctuation.
_SUBSET_RANGES: Final[tuple[tuple[int, int], ...]] = (
    (0x20, 0x7E),
    (0xA0, 0xFF),
    (0x2000, 0x206F),
    (0x2070, 0x209F),
    (0x2100, 0x21FF),
    (0x2200, 0x22FF),
    (0x2500, 0x25FF),
    (0x3000, 0x303F),
    (0xFF00, 0xFFEF),
)
_AUTOHINT_CHARS: Final[str] = (
    "他们你來們到和地对對就席我时時會来為能舰說说这這齊军同已愿既星是景民照现現理用置要軍那配里開雷露面顾"
    "个为人以個大有主些因它想意生當看着者自著裡过还进進過道還"
    "她将將年得情最样樣通即吗吧听呢品响嗎师師收断斷明眼間间际陈限除陳随際隨"
    "事前學或政斯新沒没然特球第經谁起例別别制动動增指朝期构物确种調调費费都"
    "田囗"
)
"""Characters FreeType's auto-hinter measures a CJK font by, kept in the subset whatever the
report draws: its blue-zone strings ``AF_BLUE_STRING_CJK_TOP``/``BOTTOM``/``LEFT``/``RIGHT``
(FreeType ``src/autofit/afblue.dat``, https://github.com/freetype/freetype) and, assumption
from memory (not retrieved), the ideographs 田 囗 that ``afscript.h`` names as the Han
standard characters. matplotlib draws text auto-hinted; without these glyphs the subset's
blue zones differ from the full font's and every Han character lands a fraction of a pixel
elsewhere in the PNGs (RMS 10 of 255 against the baseline image of the value chart)."""
GB2312_LEVEL1_ROWS: Final[tuple[int, int]] = (0xB0, 0xD7)
"""EUC-CN lead bytes of GB 2312's level-1 hanzi (rows 16-55: 3,755 characters, the most
frequent ones, by pinyin; trail bytes 0xA1-0xFE, the last row ending at 0xF9), decoded by
Python's ``gb2312`` codec."""


def gb2312_level1() -> str:
    """GB 2312's 3,755 level-1 hanzi: kept in the report's subset so that the Chinese of a
    scenario's own name and description (not known when the subset is made) rarely needs the
    full font, whose subsetting for one glyph cost 0.3 s of every report PDF."""
    lo, hi = GB2312_LEVEL1_ROWS
    pairs = (bytes((lead, trail)) for lead in range(lo, hi + 1) for trail in range(0xA1, 0xFF))
    return "".join(pair.decode("gb2312", errors="ignore") for pair in pairs)


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
    return _save_atomically(font, dst)


def _save_atomically(font: Any, dst: Path) -> Path:
    """Save a fontTools ``TTFont`` to ``dst`` through a temporary file renamed into place, so
    concurrent processes (pytest-xdist) never see a half-written font."""
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
    _register(path)
    return font_manager.FontProperties(fname=str(path)).get_name()


def _register(path: Path) -> None:
    """Add a font file to matplotlib's font list once (each ``addfont`` opens the file,
    appends another entry and empties matplotlib's font lookup cache)."""
    known = {entry.fname for entry in font_manager.fontManager.ttflist}
    if str(path) not in known:
        font_manager.fontManager.addfont(str(path))


def report_characters() -> str:
    """Every character a report can draw whatever the run: those of the report's texts
    (``cbm_sim/report/*.py``) and of the packaged data (``cbm_sim/data/*.yaml``: the plan's
    phrases and names), plus :data:`_SUBSET_RANGES`, :data:`_AUTOHINT_CHARS` and GB 2312's
    level-1 hanzi (:func:`gb2312_level1`); sorted, without duplicates."""
    package = Path(__file__).resolve().parents[1]
    chars = {chr(cp) for lo, hi in _SUBSET_RANGES for cp in range(lo, hi + 1)}
    chars.update(_AUTOHINT_CHARS)
    chars.update(gb2312_level1())
    for path in sorted([*package.glob("report/*.py"), *package.glob("data/*.yaml")]):
        chars.update(path.read_text(encoding="utf-8"))
    return "".join(sorted(ch for ch in chars if ch.isprintable()))


def cjk_subset_path(
    full: Path | None = None, chars: str | None = None, cache_dir: Path | None = None
) -> Path:
    """Path of the report's subset of the TrueType CJK font, made and cached on first use.

    Parameters
    ----------
    full
        The TrueType font to subset; default :func:`cjk_font_path`.
    chars
        The characters to keep (those missing from the font are skipped); default
        :func:`report_characters`.
    cache_dir
        Where the subset is kept; default ``<matplotlib cache dir>/cbm_sim``. The file name
        holds a hash of the full font's contents and of ``chars``, so a changed label or font
        makes a new subset and never reuses a stale one.

    Returns
    -------
    Path
        A ``.ttf`` whose family is :data:`SUBSET_FAMILY`.

    Raises
    ------
    FontMissingError
        If ``full`` does not exist.
    """
    src = cjk_font_path() if full is None else Path(full)
    if not src.is_file():
        raise FontMissingError(f"CJK font file {src} does not exist")
    keep = report_characters() if chars is None else chars
    digest = hashlib.sha256()
    with src.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    digest.update(f"|{_SUBSET_VERSION}|{keep}".encode())
    directory = Path(mpl.get_cachedir()) / "cbm_sim" if cache_dir is None else Path(cache_dir)
    target = directory / f"{src.stem.split('-truetype')[0]}-subset-{digest.hexdigest()[:16]}.ttf"
    if not target.is_file():
        directory.mkdir(parents=True, exist_ok=True)
        with _exclusive(directory / f"{target.name}.lock"):
            if not target.is_file():
                subset_font(src, target, keep)
    return target


def subset_font(src: Path, dst: Path, chars: str) -> Path:
    """Write the glyphs of ``chars`` of the TrueType font ``src`` to ``dst``, renamed.

    Outlines, metrics, ``cmap``, layout tables and every ``name`` record are kept (the
    vertical metrics and ``BASE``, which matplotlib does not read, are dropped); the family
    becomes :data:`SUBSET_FAMILY`. Written to a temporary
    name and renamed, like :func:`convert_cff_to_truetype`.
    """
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.layout_features = ["*"]
    options.drop_tables += ["BASE", "vhea", "vmtx"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.recalc_bounds = True
    font = TTFont(src)
    cmap = font.getBestCmap()
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(ch) for ch in chars if ord(ch) in cmap])
    subsetter.subset(font)
    for record in font["name"].names:
        if record.nameID in (1, 4, 16):
            record.string = SUBSET_FAMILY
        elif record.nameID in (3, 6):
            record.string = _SUBSET_PS_NAME
    return _save_atomically(font, dst)


# (full font path, size, mtime) → its subset: every chart enters the report style, and
# hashing the 10 MB font and reading the package's texts each time would cost 0.03 s a chart
_SUBSETS: dict[tuple[str, int, int], Path] = {}


def report_font_families() -> tuple[str, str]:
    """Register the subset and the full CJK font; return (subset family, full family)."""
    full = cjk_font_family()
    full_path = cjk_font_path()
    stat = full_path.stat()
    key = (str(full_path), stat.st_size, stat.st_mtime_ns)
    path = _SUBSETS.get(key)
    if path is None or not path.is_file():
        path = _SUBSETS[key] = cjk_subset_path(full_path)
    _register(path)
    return SUBSET_FAMILY, full


class _LookupCache:
    """The state of :func:`font_lookup_cache`: how many callers are inside it (threads of the
    studio may write reports at once) and the lookup installed for them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.depth = 0
        self.installed: Any = None


_LOOKUP = _LookupCache()


@contextlib.contextmanager
def font_lookup_cache() -> Iterator[None]:
    """Remember, while reports are drawn, which font files matplotlib picks for each set of
    font properties.

    matplotlib looks the fonts of a text up again each time it measures or draws it
    (``FontManager._find_fonts_by_props``: per family of the list, a properties copy and a
    ``findfont`` that reads five rcParams for its cache key): 11,500 lookups of 4 distinct
    answers, 12 % of drawing the plan run's pages. Inside this context (the report's style and
    fonts are set, every family named, and no font is added) the answer for equal properties
    is the same, so it is kept; when the last caller leaves, matplotlib's own lookup is back.
    A matplotlib without that method is left alone.
    """
    manager = font_manager.fontManager
    find = getattr(type(manager), "_find_fonts_by_props", None)
    if find is None:
        yield
        return
    with _LOOKUP.lock:
        if _LOOKUP.depth == 0:
            lookup = find.__get__(manager)
            memo: dict[tuple[Any, ...], list[str]] = {}

            def cached(prop: Any, *args: Any, **kwargs: Any) -> Any:
                if not isinstance(prop, font_manager.FontProperties):
                    return lookup(prop, *args, **kwargs)
                key = (prop, args, tuple(sorted(kwargs.items())))
                found = memo.get(key)
                if found is None:
                    found = memo[(prop.copy(), args, key[2])] = list(lookup(prop, *args, **kwargs))
                return list(found)

            manager._find_fonts_by_props = _LOOKUP.installed = cached  # type: ignore[method-assign]
        _LOOKUP.depth += 1
    try:
        yield
    finally:
        with _LOOKUP.lock:
            _LOOKUP.depth -= 1
            if _LOOKUP.depth == 0:
                if manager.__dict__.get("_find_fonts_by_props") is _LOOKUP.installed:
                    del manager._find_fonts_by_props
                _LOOKUP.installed = None


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
    scenario name on an English cover). The CJK font is its report subset
    (:func:`cjk_subset_path`) followed by the full font for any other character. Fonts are
    embedded as TrueType (``pdf.fonttype`` 42) so text stays text in the PDF; the ASCII hyphen
    is used as minus sign because not every font has U+2212.

    Yields
    ------
    dict
        The rcParams that were set.
    """
    check_lang(lang)
    subset, full = report_font_families()
    # the full font right after its subset: matplotlib falls back glyph by glyph
    families = [subset, full, _LATIN_FAMILY] if lang == "zh" else [_LATIN_FAMILY, subset, full]
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
