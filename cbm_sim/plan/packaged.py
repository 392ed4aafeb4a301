"""The packaged data files (``cbm_sim/data/*.yaml``), parsed once per process.

They are read with libyaml's C loader where PyYAML was built with it (≈ 10× faster than the
pure-Python loader, which the command line felt at start-up) and with the pure-Python
``SafeLoader`` otherwise; both build the same plain Python data.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml

__all__ = ["LOADER", "read_packaged"]

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
