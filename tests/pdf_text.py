"""Text boxes of a PDF page, measured from its content stream with pypdf (for layout tests).

Every text-showing operator (``Tj``, ``TJ``, ``'``, ``"``) gives one box: its start point and
advance from the text and graphics state (``cm``, ``q``/``Q``, ``BT``, ``Tm``, ``Td``,
``TD``, ``T*``, ``TL``, ``Tf``, ``Tc``, ``Tw``, ``Tz``, ``Ts``, form XObjects with their
``/Matrix``), its width from the font's widths (``/W`` of a Type0 font's descendant with
2-byte codes, ``/Widths`` of a simple font, a Type 3 font's ``/FontMatrix``), its height the
ideographic em box (0.12 em below the baseline to 0.88 em above it: what a CJK glyph fills;
Latin capitals and descenders lie inside it). The box is the axis-aligned hull of the
transformed corners, in PDF points from the page's lower left.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pypdf import PageObject, PdfReader
from pypdf.generic import ContentStream

EM_BELOW = 0.12
EM_ABOVE = 0.88
Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def _mul(m: Matrix, n: Matrix) -> Matrix:
    """``m × n`` (PDF row-vector convention: apply ``m`` first, then ``n``)."""
    a, b, c, d, e, f = m
    A, B, C, D, E, F = n
    return (
        a * A + b * C,
        a * B + b * D,
        c * A + d * C,
        c * B + d * D,
        e * A + f * C + E,
        e * B + f * D + F,
    )


def _apply(m: Matrix, x: float, y: float) -> tuple[float, float]:
    a, b, c, d, e, f = m
    return x * a + y * c + e, x * b + y * d + f


@dataclass(frozen=True)
class Box:
    """One shown string and the box it fills [pt]."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    size: float

    def overlap(self, other: Box) -> tuple[float, float]:
        """How far the two boxes overlap horizontally and vertically [pt] (negative: apart)."""
        return (
            min(self.x1, other.x1) - max(self.x0, other.x0),
            min(self.y1, other.y1) - max(self.y0, other.y0),
        )


class _Font:
    def __init__(self, font: Any) -> None:
        font = font.get_object()
        self.two_bytes = font.get("/Subtype") == "/Type0"
        self.widths: dict[int, float] = {}
        self.default = 1000.0
        self.scale = 0.001
        self.to_unicode: dict[int, str] = {}
        if self.two_bytes:
            desc = font["/DescendantFonts"][0].get_object()
            self.default = float(desc.get("/DW", 1000))
            w = desc.get("/W", [])
            w = w.get_object() if hasattr(w, "get_object") else w
            k = 0
            while k < len(w):
                first = int(w[k])
                nxt = w[k + 1].get_object() if hasattr(w[k + 1], "get_object") else w[k + 1]
                if isinstance(nxt, list):
                    for j, v in enumerate(nxt):
                        self.widths[first + j] = float(v)
                    k += 2
                else:
                    last, value = int(w[k + 1]), float(w[k + 2])
                    for cid in range(first, last + 1):
                        self.widths[cid] = value
                    k += 3
        else:
            first = int(font.get("/FirstChar", 0))
            widths = font.get("/Widths", [])
            widths = widths.get_object() if hasattr(widths, "get_object") else widths
            for j, v in enumerate(widths):
                self.widths[first + j] = float(v)
            self.default = 0.0
            if font.get("/Subtype") == "/Type3":
                self.scale = float(font["/FontMatrix"][0])
        if "/ToUnicode" in font:
            self._read_cmap(font["/ToUnicode"].get_object().get_data())

    def _read_cmap(self, data: bytes) -> None:
        import re

        text = data.decode("latin-1")
        for block in re.findall(r"beginbfchar(.*?)endbfchar", text, re.S):
            for src, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                self.to_unicode[int(src, 16)] = bytes.fromhex(dst).decode("utf-16-be", "replace")
        for block in re.findall(r"beginbfrange(.*?)endbfrange", text, re.S):
            for lo, hi, dst in re.findall(
                r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(\[[^\]]*\]|<[0-9A-Fa-f]+>)", block
            ):
                codes = range(int(lo, 16), int(hi, 16) + 1)
                if dst.startswith("["):
                    for code, item in zip(
                        codes, re.findall(r"<([0-9A-Fa-f]+)>", dst), strict=False
                    ):
                        self.to_unicode[code] = bytes.fromhex(item).decode("utf-16-be", "replace")
                else:
                    start = int(dst[1:-1], 16)
                    for k, code in enumerate(codes):
                        self.to_unicode[code] = chr(start + k)

    def codes(self, raw: bytes) -> list[int]:
        if self.two_bytes:
            return [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw) - 1, 2)]
        return list(raw)

    def width(self, code: int) -> float:
        """Advance of ``code`` in text-space units per unit of font size."""
        return self.widths.get(code, self.default) * self.scale

    def text(self, codes: list[int]) -> str:
        return "".join(self.to_unicode.get(c, "?") for c in codes)


def _as_bytes(operand: Any) -> bytes:
    if isinstance(operand, bytes):
        return operand
    original = getattr(operand, "original_bytes", None)
    if original is not None:
        return bytes(original)
    return str(operand).encode("latin-1", "replace")


def text_boxes(page: PageObject, reader: PdfReader) -> list[Box]:
    """Every shown string of ``page`` with its box (module docstring)."""
    boxes: list[Box] = []
    _walk(page.get_contents(), page["/Resources"], IDENTITY, reader, boxes, depth=0)
    return boxes


def _walk(stream: Any, resources: Any, ctm0: Matrix, reader: PdfReader, boxes: list[Box],
          depth: int) -> None:  # fmt: skip
    if stream is None or depth > 8:
        return
    resources = resources.get_object() if resources is not None else {}
    fonts = {str(k): _Font(v) for k, v in resources.get("/Font", {}).items()}
    xobjects = resources.get("/XObject", {})
    content = ContentStream(stream, reader)
    ctm = ctm0
    stack: list[Matrix] = []
    tm = tlm = IDENTITY
    font: _Font | None = None
    size = leading = rise = 0.0
    char_sp = word_sp = 0.0
    hscale = 1.0

    def show(raw: bytes, adjust: list[Any] | None = None) -> None:
        nonlocal tm
        if font is None:
            return
        pieces: list[Any] = adjust if adjust is not None else [raw]
        start = tm
        x = 0.0
        codes_all: list[int] = []
        for piece in pieces:
            if isinstance(piece, int | float) or type(piece).__name__ in (
                "FloatObject",
                "NumberObject",
            ):
                x -= float(piece) / 1000.0 * size * hscale
                continue
            codes = font.codes(_as_bytes(piece))
            codes_all += codes
            for code in codes:
                space = word_sp if (not font.two_bytes and code == 32) else 0.0
                x += (font.width(code) * size + char_sp + space) * hscale
        full = _mul(start, ctm)
        corners = [
            _apply(full, cx, cy + rise)
            for cx in (0.0, x)
            for cy in (-EM_BELOW * size, EM_ABOVE * size)
        ]
        xs, ys = [c[0] for c in corners], [c[1] for c in corners]
        text = font.text(codes_all)
        if text.strip():
            scale = (full[0] ** 2 + full[1] ** 2) ** 0.5
            boxes.append(Box(text, min(xs), min(ys), max(xs), max(ys), size * scale))
        tm = _mul((1.0, 0.0, 0.0, 1.0, x, 0.0), tm)

    for operands, op in content.operations:
        name = op.decode("latin-1") if isinstance(op, bytes) else str(op)
        if name == "q":
            stack.append(ctm)
        elif name == "Q":
            ctm = stack.pop() if stack else ctm0
        elif name == "cm":
            ctm = _mul(tuple(float(v) for v in operands), ctm)  # type: ignore[arg-type]
        elif name == "BT":
            tm = tlm = IDENTITY
        elif name == "Tf":
            font = fonts.get(str(operands[0]))
            size = float(operands[1])
        elif name == "TL":
            leading = float(operands[0])
        elif name == "Tc":
            char_sp = float(operands[0])
        elif name == "Tw":
            word_sp = float(operands[0])
        elif name == "Tz":
            hscale = float(operands[0]) / 100.0
        elif name == "Ts":
            rise = float(operands[0])
        elif name in ("Td", "TD"):
            tx, ty = float(operands[0]), float(operands[1])
            if name == "TD":
                leading = -ty
            tlm = _mul((1.0, 0.0, 0.0, 1.0, tx, ty), tlm)
            tm = tlm
        elif name == "Tm":
            tlm = tuple(float(v) for v in operands)  # type: ignore[assignment]
            tm = tlm
        elif name == "T*":
            tlm = _mul((1.0, 0.0, 0.0, 1.0, 0.0, -leading), tlm)
            tm = tlm
        elif name == "Tj":
            show(_as_bytes(operands[0]))
        elif name == "TJ":
            show(b"", list(operands[0]))
        elif name in ("'", '"'):
            tlm = _mul((1.0, 0.0, 0.0, 1.0, 0.0, -leading), tlm)
            tm = tlm
            show(_as_bytes(operands[-1]))
        elif name == "Do":
            xobj = xobjects.get(str(operands[0]))
            if xobj is None:
                continue
            xobj = xobj.get_object()
            if xobj.get("/Subtype") != "/Form":
                continue
            matrix = tuple(float(v) for v in xobj.get("/Matrix", IDENTITY))
            _walk(xobj, xobj.get("/Resources", resources), _mul(matrix, ctm), reader, boxes,  # type: ignore[arg-type]
                  depth + 1)  # fmt: skip


def overlaps(boxes: list[Box], tol_pt: float = 0.5) -> list[tuple[Box, Box, float, float]]:
    """Pairs of boxes that overlap by more than ``tol_pt`` both ways."""
    out = []
    ordered = sorted(boxes, key=lambda b: b.x0)
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            if b.x0 >= a.x1 - tol_pt:
                break
            dx, dy = a.overlap(b)
            if dx > tol_pt and dy > tol_pt:
                out.append((a, b, dx, dy))
    return out
