"""The packaged data files (``cbm_sim/data/*.yaml``), parsed once per process.

They are read with libyaml's C loader where PyYAML was built with it (≈ 10× faster than the
pure-Python loader, which the command line felt at start-up) and with the pure-Python
``SafeLoader`` otherwise; both build the same plain Python data.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from typing import Any

import yaml

__all__ = ["LOADER", "packaged_data_sha256", "read_packaged"]

LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""The fastest safe loader this PyYAML offers."""


@cache
def _parsed(name: str) -> Any:
    text = resources.files("cbm_sim.data").joinpath(name).read_text(encoding="utf-8")
    return yaml.load(text, Loader=LOADER)


def read_packaged(name: str) -> Any:
    """The parsed content of the packaged file ``cbm_sim/data/<name>``.

    Parameters
    ----------
    name
        File name inside ``cbm_sim/data`` (e.g. ``"blocks.yaml"``).

    Returns
    -------
    Any
        Plain data (dicts, lists, scalars). Parsed once per process; callers must not mutate it.

    Raises
    ------
    FileNotFoundError
        If the package has no such file.
    """
    return _parsed(name)


@cache
def packaged_data_sha256() -> str:
    """SHA-256 over every packaged data file (``cbm_sim/data``, names and contents, in name
    order): what a run depends on besides its scenario and the code (type curves, the
    calibration, the history, valuation, names).

    A cache keyed by the scenario alone (the studio's runs, an ensemble's journal) would
    otherwise hand back results of other model data under the same version number.
    """
    digest = hashlib.sha256()
    root = resources.files("cbm_sim.data")
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.is_file():
            digest.update(entry.name.encode() + b"\0" + entry.read_bytes() + b"\0")
    return digest.hexdigest()
