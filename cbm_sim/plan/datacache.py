"""Plain data derived from a packaged file, kept on disk between processes.

Every ``cbm-sim`` process (a run, a report, each Dask worker, the studio) validates the plan's
≈ 1,000 records of ``cbm_sim/data/plan.yaml`` before its first look-up: ≈ 0.04–0.065 s of
parsing and pydantic validation, against ≈ 0.001 s to read the validated records back
(``marshal``; measured on the plan data, 2026-12-07). :func:`cached` keeps such records in the
package's ``__pycache__`` folder, as Python keeps bytecode there, under a name that holds a
SHA-256 of everything they were derived from (the file's text and the code that validated
it): an edited data file or module is a new name, so a stale entry is never read.

Only plain data goes through it (``str``, ``int``, ``float``, ``bool``, ``None``, lists,
tuples, dicts: what :mod:`marshal` writes, without pickle's code execution). A folder that
cannot be written, or an entry that cannot be read, costs only the computation.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

__all__ = ["cache_path", "cached"]

T = TypeVar("T")

FORMAT = b"cbm-sim datacache 1"
"""Part of every key: a new layout of the entries is a new name."""

_DIR = Path(__file__).resolve().parent / "__pycache__"


def cache_path(name: str, *sources: bytes, folder: Path | None = None) -> Path:
    """Where the entry ``name`` derived from ``sources`` is kept (``folder``: the package's
    ``__pycache__`` unless given)."""
    digest = hashlib.sha256(FORMAT)
    for source in sources:
        digest.update(len(source).to_bytes(8, "little") + source)
    return (folder or _DIR) / f"{name}-{digest.hexdigest()[:32]}.marshal"


def cached(
    name: str, sources: tuple[bytes, ...], compute: Callable[[], T], folder: Path | None = None
) -> T:
    """``compute()``, read from disk when an earlier process computed it from the same
    ``sources``, else computed and written (atomically: concurrent workers never read a
    partial entry).

    Parameters
    ----------
    name
        A short name of what is kept (part of the file name).
    sources
        Everything the result depends on, as bytes (texts, module sources).
    compute
        Returns the plain data; errors propagate and nothing is written.
    folder
        Where entries are kept (default: ``cbm_sim/plan/__pycache__``).
    """
    path = cache_path(name, *sources, folder=folder)
    with contextlib.suppress(Exception), open(path, "rb") as handle:  # absent or damaged: compute
        return marshal.load(handle)  # type: ignore[no-any-return,unused-ignore]
    value = compute()
    with contextlib.suppress(OSError, ValueError):  # read-only install, or not plain data
        blob = marshal.dumps(cast(Any, value))
        path.parent.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{name}-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(blob)
            os.replace(tmp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    return value
