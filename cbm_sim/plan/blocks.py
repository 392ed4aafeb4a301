"""The 23 blocks (区块) of the plan (ch1 §2 一) as packaged data: ids, names, class, reserves.

Read from ``cbm_sim/data/blocks.yaml``; every figure there carries its source.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from cbm_sim.plan.packaged import read_packaged


@dataclass(frozen=True)
class BlockInfo:
    """Static facts of one block, from ``cbm_sim/data/blocks.yaml``."""

    index: int
    id: str
    name_zh: str
    klass: str
    proved_reserves_m3: float | None
    share_of_2021_wells: float
    source: str


@cache
def load_blocks() -> tuple[BlockInfo, ...]:
    """The 23 blocks of the plan (ch1 §2 一), in data-file order."""
    raw = read_packaged("blocks.yaml")
    records = raw["blocks"] if isinstance(raw, dict) else raw
    out = []
    for i, rec in enumerate(records):
        out.append(
            BlockInfo(
                index=i,
                id=str(rec["id"]),
                name_zh=str(rec.get("name_zh", rec["id"])),
                klass=str(rec.get("class", rec.get("klass", "proved"))),
                proved_reserves_m3=(
                    None
                    if rec.get("proved_reserves_m3") is None
                    else float(rec["proved_reserves_m3"])
                ),
                share_of_2021_wells=float(rec.get("share_of_2021_wells", 0.0)),
                source=str(rec.get("proved_reserves_source", "")),
            )
        )
    return tuple(out)


def block_ids() -> tuple[str, ...]:
    """Ids of the packaged blocks."""
    return tuple(b.id for b in load_blocks())
