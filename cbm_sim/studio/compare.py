"""A draft against its base: every target whose simulated value or verdict moved.

Both target checks come from run folders (``targets.csv``); rows are matched on year,
sub-cluster and item, and a row is "moved" when its simulated value differs by more than a
millionth (relative) or its status changed.
"""

from __future__ import annotations

import math
from typing import Any, Final

import pandas as pd

_KEYS: Final[list[str]] = ["year", "sub_cluster", "item"]
RTOL: Final[float] = 1e-6
"""Relative change below which an output counts as unmoved. assumption: far below the one
decimal the tables print, far above the 1e-13 rounding of the same run."""


def moved_targets(base: pd.DataFrame, draft: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of the target check that moved from ``base`` to ``draft``, side by side.

    Returns
    -------
    list of dict
        ``year, sub_cluster, item, unit, target, base, draft, delta, delta_pct, base_status,
        draft_status`` per moved row, in the target check's order.
    """
    left = base[[*_KEYS, "unit", "target", "simulated", "status"]]
    right = draft[[*_KEYS, "simulated", "status"]]
    both = left.merge(right, on=_KEYS, how="outer", suffixes=("_base", "_draft"), sort=False)
    out = []
    for row in both.itertuples(index=False):
        a, b = float(row.simulated_base), float(row.simulated_draft)
        moved = not math.isclose(a, b, rel_tol=RTOL, abs_tol=1e-12)
        if not moved and row.status_base == row.status_draft:
            continue
        out.append(
            {
                "year": int(row.year),
                "sub_cluster": row.sub_cluster,
                "item": row.item,
                "unit": row.unit,
                "target": float(row.target),
                "base": a,
                "draft": b,
                "delta": b - a,
                "delta_pct": 100.0 * (b - a) / a if a else None,
                "base_status": row.status_base,
                "draft_status": row.status_draft,
            }
        )
    return out
