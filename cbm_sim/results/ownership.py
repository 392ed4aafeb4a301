"""What cbm-sim wrote, and so may replace with ``--overwrite``: nothing else ever is.

``--overwrite`` lets a command replace an output it wrote before; a mistyped ``-o`` must never
cost a user's own files. So an existing output is replaced only when cbm-sim can prove it
wrote it:

* a **folder** (a run, an ensemble, a robustness or sensitivity folder, a report's charts) is
  cbm-sim's when it is empty, or when its ``meta.json`` verifies (its own checksum and the
  SHA-256 of every file it lists, :mod:`~cbm_sim.results.integrity`; any cbm-sim version)
  *and* it holds nothing that ``meta.json`` does not list. A folder with a ``meta.json`` of
  ``{}``, an edited file, or a file of the user's added to it is refused, naming why;
* a **file** (a report PDF, a CSV of ``compare``/``calibrate``/``plan``, a schema, a
  calibration) is cbm-sim's when the **ledger** of its folder records its SHA-256, or when it
  carries cbm-sim's own mark (a format-specific test, e.g. a PDF whose ``/Creator`` is
  cbm-sim). The ledger, ``.cbm-sim-files.json`` in the file's folder, lists per file name the
  checksums cbm-sim wrote there (updated under an ``flock`` of the folder, replaced
  atomically); a file edited since no longer matches and is refused.

Symbolic links are never written through nor replaced (:func:`refuse_link`): ``-o`` naming a
link would write wherever the link points.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final

from cbm_sim.results import integrity

LEDGER: Final[str] = ".cbm-sim-files.json"
"""The ledger of a folder: the files cbm-sim wrote there and their SHA-256."""
_LEDGER_FORMAT: Final[int] = 1

Recognise = Callable[[Path], bool]
"""A test that an existing output is cbm-sim's by its content (a mark it carries)."""


class OutputExistsError(FileExistsError):
    """An output path that may not (or cannot) be written: it exists and is not cbm-sim's,
    ``--overwrite`` was not given, it is a link, or its folder cannot be made. Bad input:
    the commands exit with status 2 and this one line."""


def refuse_link(path: Path) -> None:
    """Refuse an output path that is a symbolic link (dangling or not).

    Raises
    ------
    OutputExistsError
        Naming the link and where it points.
    """
    if path.is_symlink():
        try:
            where = os.readlink(path)
        except OSError:
            where = "?"
        raise OutputExistsError(
            f"{path} is a symbolic link (to {where}); cbm-sim does not write through links: "
            "give the real path"
        )


# --------------------------------------------------------------------------- folders
def folder_problem(folder: Path, recognise: Recognise | None = None) -> str | None:
    """Why ``folder`` (an existing directory) is not cbm-sim's to replace; None if it is.

    Empty, or verified by its ``meta.json`` and holding only the files listed there, or
    accepted by ``recognise`` (a folder an older cbm-sim wrote without ``meta.json``).
    """
    try:
        entries = sorted(p.name for p in folder.iterdir())
    except OSError as exc:
        return f"cannot list it: {exc.strerror or exc}"
    if not entries:
        return None
    if recognise is not None and integrity.META not in entries and recognise(folder):
        return None
    if integrity.META not in entries:
        return f"no {integrity.META}"
    try:
        meta = integrity.read_meta(folder)
        listed = _verified_files(folder, meta)
    except integrity.DamagedRunError as exc:
        return str(exc).removeprefix(f"{folder / integrity.META}: ")
    extra = [name for name in entries if name not in listed]
    if extra:
        shown = ", ".join(extra[:3]) + (f" and {len(extra) - 3} more" if len(extra) > 3 else "")
        return f"it holds files its {integrity.META} does not list: {shown}"
    return None


def _verified_files(folder: Path, meta: dict[str, Any]) -> set[str]:
    """The names ``meta.json`` lists, once its checksums are verified (any cbm-sim version).

    Raises
    ------
    DamagedRunError
        As :func:`cbm_sim.results.integrity.verify`, without its version check: the version
        says whether the folder can be read, not whether cbm-sim wrote it.
    """
    sums = meta.get("sha256")
    if not isinstance(sums, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in sums.items()
    ):
        raise integrity.DamagedRunError(f"{folder / integrity.META}: no checksums")
    if meta.get("meta_sha256") != integrity.meta_digest(meta):
        raise integrity.DamagedRunError(
            f"{folder / integrity.META}: edited or damaged (its own checksum differs)"
        )
    for name, want in sums.items():
        path = folder / name
        if Path(name).name != name or not path.is_file() or path.is_symlink():
            raise integrity.DamagedRunError(f"{folder / integrity.META}: {name} is missing")
        if integrity.sha256_file(path) != want:
            raise integrity.DamagedRunError(
                f"{folder / integrity.META}: {name} was changed since cbm-sim wrote it"
            )
    return {*sums, integrity.META}


# --------------------------------------------------------------------------- files
def file_problem(path: Path, recognise: Recognise | None = None) -> str | None:
    """Why the existing file ``path`` is not cbm-sim's to replace; None if it is.

    A regular file whose SHA-256 the folder's ledger records, or accepted by ``recognise``.
    """
    if not path.is_file():
        return "it is not a regular file"
    try:
        digest = integrity.sha256_file(path)
    except OSError as exc:
        return f"cannot read it: {exc.strerror or exc}"
    if digest in _read_ledger(path.parent).get(path.name, []):
        return None
    if recognise is not None and recognise(path):
        return None
    return "cbm-sim did not write it, or it was changed since"


def _read_ledger(folder: Path) -> dict[str, list[str]]:
    """The ledger's ``{file name: [SHA-256, ...]}`` (empty when missing or unreadable)."""
    try:
        body = json.loads((folder / LEDGER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    files = body.get("files") if isinstance(body, dict) else None
    if not isinstance(files, dict):
        return {}
    return {
        str(name): [s for s in sums if isinstance(s, str)]
        for name, sums in files.items()
        if isinstance(sums, list)
    }


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` of ``folder`` (no-op where there is none)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def record(folder: Path, sums: dict[str, str], *, keep_previous: bool) -> None:
    """Record in the ledger of ``folder`` that cbm-sim wrote ``sums`` (``{name: SHA-256}``).

    With ``keep_previous`` the checksums already recorded for those names stay accepted (a
    swap under way: the old file or the new one may be in place); without, each name keeps
    only its new checksum. Names whose file is gone are dropped.
    """
    with _locked(folder):
        files = _read_ledger(folder)
        for name, digest in sums.items():
            before = files.get(name, []) if keep_previous else []
            files[name] = [*before, digest][-4:]  # a few: a file is swapped at most once at a time
        files = {n: s for n, s in files.items() if n in sums or (folder / n).is_file()}
        body = {
            "format": _LEDGER_FORMAT,
            "about": "files cbm-sim wrote in this folder and their SHA-256: "
            "`--overwrite` replaces only these",
            "files": dict(sorted(files.items())),
        }
        tmp = folder / f"{LEDGER}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(body, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, folder / LEDGER)


# --------------------------------------------------------------------------- marks
def pdf_by_cbm_sim(path: Path) -> bool:
    """Whether ``path`` is a PDF whose ``/Creator`` says cbm-sim wrote it (a report or chart
    file of a cbm-sim that kept no ledger)."""
    try:
        from pypdf import PdfReader

        info = PdfReader(path).metadata
    except Exception:  # anything unreadable is not ours
        return False
    creator = None if info is None else info.get("/Creator")
    return isinstance(creator, str) and creator.startswith("cbm-sim ")


def charts_by_cbm_sim(folder: Path) -> bool:
    """Whether ``folder`` is a report's charts folder written before charts folders had a
    ``meta.json``: only ``<name>.pdf`` files cbm-sim wrote and their ``<name>.png`` copies."""
    try:
        entries = list(folder.iterdir())
    except OSError:
        return False
    pdfs = {p.stem for p in entries if p.suffix == ".pdf"}
    for entry in entries:
        if entry.is_symlink() or not entry.is_file() or entry.suffix not in (".pdf", ".png"):
            return False
        if entry.suffix == ".png" and entry.stem not in pdfs:
            return False
    return all(pdf_by_cbm_sim(p) for p in entries if p.suffix == ".pdf")


def text_starting(mark: str) -> Recognise:
    """A test that a file begins with ``mark`` (the header cbm-sim writes into it)."""
    want = mark.encode("utf-8")

    def recognise(path: Path) -> bool:
        try:
            with open(path, "rb") as handle:
                return handle.read(len(want)) == want
        except OSError:
            return False

    return recognise
