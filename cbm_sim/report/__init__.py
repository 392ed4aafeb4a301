"""Reports: figures (each a matplotlib ``Figure``), the CJK font, and the PDF report."""

from __future__ import annotations

__all__: list[str] = []
