"""Result folders you can trust: checksums in ``meta.json``, verified before anything is read.

A run directory's ``meta.json`` records the tool version that wrote it, the SHA-256 of the
resolved scenario (``scenario_sha256``), the SHA-256 of every other file (``sha256``) and of
its own content without that field (``meta_sha256``). :func:`verify` checks all of them and
refuses a damaged or edited folder with one line naming the file:

.. code-block:: text

    runs/plan/annual.csv: SHA-256 differs from meta.json (the file was edited or damaged)

Readers (``Results.from_parquet``, ``cbm-sim report``, ``compare``) verify by default; someone
who edited a folder on purpose passes ``verify=False`` (``--no-verify``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import cbm_sim

META = "meta.json"
"""The file holding the checksums (a run directory is a folder holding it)."""
_CHUNK = 1 << 20


class DamagedRunError(ValueError):
    """A result folder is incomplete, damaged or edited; the message names the file."""


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of the bytes of ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def meta_digest(meta: Mapping[str, Any]) -> str:
    """SHA-256 of ``meta`` without its ``meta_sha256`` field (what that field must hold)."""
    body = {k: v for k, v in meta.items() if k != "meta_sha256"}
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_meta_digest = meta_digest


def write_meta(directory: Path, meta: Mapping[str, Any], files: Iterable[str]) -> dict[str, Any]:
    """Write ``meta.json`` into ``directory`` with the checksums of ``files`` (names in it).

    Returns
    -------
    dict
        The metadata as written.
    """
    names = sorted(set(files) - {META})
    sums = {name: sha256_file(directory / name) for name in names}
    out: dict[str, Any] = {
        **dict(meta),
        "cbm_sim_version": cbm_sim.__version__,
        "files": sorted({*names, META}),
        "sha256": sums,
    }
    if "scenario.yaml" in sums:
        out["scenario_sha256"] = sums["scenario.yaml"]
    out["meta_sha256"] = _meta_digest(out)
    (directory / META).write_text(
        json.dumps(out, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
    )
    return out


_DERIVED = ("files", "sha256", "meta_sha256", "scenario_sha256", "cbm_sim_version")
"""The fields of ``meta.json`` that :func:`write_meta` computes."""


def reseal(directory: Path, meta: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Write ``meta.json`` again over every file now in ``directory`` (files added after it
    was written, e.g. ``robustness.csv`` beside a run), keeping its own fields, updated by
    ``meta``.

    Returns
    -------
    dict
        The metadata as written.
    """
    old = read_meta(directory) if (directory / META).is_file() else {}
    body = {k: v for k, v in old.items() if k not in _DERIVED}
    files = [p.name for p in directory.iterdir() if p.is_file()]
    return write_meta(directory, {**body, **dict(meta or {})}, files)


def read_meta(directory: Path) -> dict[str, Any]:
    """``meta.json`` of ``directory`` as a dict, unverified.

    Raises
    ------
    DamagedRunError
        If it is missing, unreadable, not JSON or not an object.
    """
    path = directory / META
    if not path.is_file():
        raise DamagedRunError(f"{path}: missing; not a cbm-sim result folder")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise DamagedRunError(f"{path}: unreadable ({type(exc).__name__}: {exc})") from None
    if not isinstance(meta, dict):
        raise DamagedRunError(f"{path}: expected a JSON object, got a {type(meta).__name__}")
    return meta


def verify(directory: str | Path, *, require: Iterable[str] = ()) -> dict[str, Any]:
    """Check a result folder against its ``meta.json`` and return the metadata.

    Parameters
    ----------
    directory
        The folder (``cbm-sim run -o``, or ``Results.to_parquet``).
    require
        Files that must be listed and present (e.g. ``targets.csv`` for ``compare``).

    Raises
    ------
    DamagedRunError
        The first problem found, one line naming the file: missing or edited ``meta.json``,
        another version's folder, a listed or required file missing, a checksum mismatch.
    """
    src = Path(directory)
    meta = read_meta(src)
    where = src / META
    sums = meta.get("sha256")
    if not isinstance(sums, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in sums.items()
    ):
        raise DamagedRunError(
            f"{where}: no checksums (written by an older cbm-sim, or edited); "
            "pass --no-verify to read it anyway"
        )
    if meta.get("meta_sha256") != _meta_digest(meta):
        raise DamagedRunError(f"{where}: edited or damaged (its own checksum differs)")
    version = meta.get("cbm_sim_version")
    if version != cbm_sim.__version__:
        raise DamagedRunError(
            f"{where}: written by cbm-sim {version}, this is {cbm_sim.__version__}; "
            "run it again, or pass --no-verify"
        )
    for name in require:
        if name not in sums:
            raise DamagedRunError(f"{src / name}: not part of this result folder")
    for name, want in sorted(sums.items()):
        path = src / name
        if Path(name).name != name or name in ("", ".", ".."):
            raise DamagedRunError(f"{where}: lists a file outside the folder, {name!r}")
        if not path.is_file():
            raise DamagedRunError(f"{path}: missing (listed in meta.json)")
        if sha256_file(path) != want:
            raise DamagedRunError(
                f"{path}: SHA-256 differs from meta.json (the file was edited or damaged)"
            )
    return meta
