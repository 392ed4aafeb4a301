"""One writer for every output of cbm-sim: staged beside its place, swapped in whole.

Every command that writes (``run``, ``report`` and its charts, ``ensemble``, ``robustness``,
``sensitivity``, ``goal-seek``, ``calibrate``, ``compare``, ``schema``, ``plan``) writes
through this module, so that an output is always either the previous complete one or the new
complete one — whatever fails, whoever presses Ctrl-C, whenever the process is killed:

1. :func:`check` refuses a place before any work is done (the output exists and
   ``--overwrite`` was not given, it is not cbm-sim's to replace
   (:mod:`~cbm_sim.results.ownership`), it is a symbolic link, or its folder cannot be made);
2. :func:`staged` (:func:`staged_folder`, :func:`staged_file`) hands out paths inside a
   staging folder beside the outputs; the command writes there;
3. on success the outputs are checked again, folders are sealed (``meta.json`` with the
   SHA-256 of every file), files are recorded in their folder's ledger, an intent file
   (``SWAP.json``) is written, and each output is swapped in: a file by ``os.replace``
   (atomic), a folder by an atomic exchange (Linux ``renameat2(RENAME_EXCHANGE)``) or, where
   the file system has none, by renaming the old folder aside and the new one in. Ctrl-C and
   SIGTERM are held back during the swap. The old outputs are deleted last;
4. on any exception (Ctrl-C included) the staging folder is removed: the old outputs were
   never touched.

A process killed with SIGKILL cannot clean up. Staging folders are named
``.<name>.partial-<id>-<pid>@<host>``; the next write into the same folder (:func:`recover`)
removes those whose process is gone, and **finishes** a swap that had begun (an intent file
is present: the new outputs were complete), so a report whose charts folder was swapped but
whose PDF was not gets its new PDF. Several outputs of one command (a report's PDF and its
charts folder) form one transaction.

Layout of a write of outputs ``a`` and ``b`` into folder ``P``::

    P/.a.partial-<id>-<pid>@<host>/
        new/a, new/b      the outputs being written
        SWAP.json         written once new/ is complete: from here on the swap is finished
        old/              folders moved aside during a swap without an atomic exchange
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import re
import shutil
import signal
import socket
import sys
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from cbm_sim.results import integrity, ownership
from cbm_sim.results.ownership import OutputExistsError, Recognise

__all__ = [
    "Output",
    "OutputExistsError",
    "check",
    "recover",
    "staged",
    "staged_edit",
    "staged_file",
    "staged_folder",
    "write_text",
]

_NEW: Final[str] = "new"
_OLD: Final[str] = "old"
_SWAP: Final[str] = "SWAP.json"
_STAGE = re.compile(r"^\..*\.partial-[0-9a-f]{8}-(?P<tag>\d+@.+)$")
_STAGE_STEM_CHARS: Final[int] = 100
"""Characters of the output's name kept in its staging folder's name (the tag adds up to
~90 more; a file name may have 255 bytes)."""


@dataclass(frozen=True)
class Output:
    """One output of a command.

    Attributes
    ----------
    path
        Where it goes.
    folder
        A folder (sealed with ``meta.json``) rather than a file.
    recognise
        Accepts an existing output as cbm-sim's by its content when no ``meta.json`` or
        ledger vouches for it (:mod:`~cbm_sim.results.ownership`: a PDF by its creator).
    keep
        Start from the existing output and change it (a folder that gets one more file, a
        file edited in place) instead of replacing it; no ``--overwrite`` is needed. A kept
        folder must be cbm-sim's; a kept file is one the user named to be edited.
    """

    path: Path
    folder: bool = False
    recognise: Recognise | None = None
    keep: bool = False


def _shown(path: Path) -> str:
    text = str(path)
    return text if len(text) <= 160 else f"{text[:70]}…{text[-80:]}"


def _os_reason(exc: OSError) -> str:
    text = exc.strerror or str(exc)
    return text[:1].lower() + text[1:]


# --------------------------------------------------------------------------- checks
def check(outputs: Output | Sequence[Output], *, overwrite: bool) -> None:
    """Refuse outputs that may not be written, before any work (and again before the swap).

    Also finishes or removes what killed writes left in the outputs' folders (:func:`recover`).

    Raises
    ------
    OutputExistsError
        One line: the output exists and ``overwrite`` is false; it is not cbm-sim's to
        replace (and why); it is a symbolic link; a folder stands where a file goes or the
        reverse; its folder cannot be made or written; its name is too long.
    """
    items = [outputs] if isinstance(outputs, Output) else list(outputs)
    for out in items:
        recover(out.path.parent, [out.path.name])
        _check_one(out, overwrite=overwrite)


def _check_one(out: Output, *, overwrite: bool) -> None:
    path = out.path
    try:
        ownership.refuse_link(path)
        exists = path.exists()
        _check_folder_of(path)
    except OSError as exc:
        if isinstance(exc, OutputExistsError):
            raise
        raise OutputExistsError(f"cannot write {_shown(path)}: {_os_reason(exc)}") from None
    if not exists:
        if out.keep and not out.folder:
            raise OutputExistsError(f"{_shown(path)}: no such file to edit")
        return
    if not out.folder and path.is_dir():
        raise OutputExistsError(f"{path} is a directory; expected a file name")
    if out.folder and not path.is_dir():
        raise OutputExistsError(f"{path} exists and is not a folder; refusing to replace it")
    if out.keep and not out.folder:
        if not path.is_file():
            raise OutputExistsError(f"{path} is not a regular file; refusing to edit it")
        return
    if not overwrite and not out.keep:
        raise OutputExistsError(f"{path} exists; pass --overwrite to replace it")
    if out.folder:
        problem = ownership.folder_problem(path, out.recognise)
        what = "a folder cbm-sim wrote"
    else:
        problem = ownership.file_problem(path, out.recognise)
        what = "a file cbm-sim wrote"
    if problem is not None:
        raise OutputExistsError(
            f"{path} exists and is not {what} ({problem}); --overwrite replaces only "
            "cbm-sim's outputs: move it away or choose another -o"
        )


def _check_folder_of(path: Path) -> None:
    """The nearest existing ancestor of ``path`` must be a folder this process can write."""
    for folder in path.absolute().parents:
        if folder.is_symlink() or folder.exists():
            if not folder.is_dir():
                raise OutputExistsError(f"cannot write {_shown(path)}: {folder} is not a folder")
            if not os.access(folder, os.W_OK | os.X_OK):
                raise OutputExistsError(
                    f"cannot write {_shown(path)}: no permission to write in {folder}"
                )
            return


# --------------------------------------------------------------------------- staging
@contextlib.contextmanager
def staged(
    outputs: Sequence[Output],
    *,
    overwrite: bool = False,
    meta: Mapping[str, Any] | None = None,
) -> Iterator[list[Path]]:
    """Staging paths for ``outputs`` (all in one folder), swapped in together on success.

    A folder output's staging path exists (empty, or a copy of the existing folder when
    ``keep``); a file output's does not (with ``keep``, a copy of the file). Write the
    outputs there inside the ``with`` block. Folders without a ``meta.json`` are sealed with
    ``meta`` (a kept folder keeps its own metadata, updated with ``meta``).

    Raises
    ------
    OutputExistsError
        On entry and before the swap, as :func:`check`.
    """
    items = list(outputs)
    if not items:
        raise ValueError("staged() needs at least one output")
    parent = items[0].path.parent
    if any(o.path.parent != parent for o in items) or len({o.path.name for o in items}) < len(
        items
    ):
        raise ValueError(f"the outputs of one write must share a folder: {items}")
    check(items, overwrite=overwrite)
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputExistsError(f"cannot make the folder {parent}: {_os_reason(exc)}") from None
    stem = items[0].path.name[:_STAGE_STEM_CHARS]
    stage = parent / f".{stem}.partial-{uuid.uuid4().hex[:8]}-{_owner_tag()}"
    try:
        stage.mkdir()
        (stage / _NEW).mkdir()
    except OSError as exc:
        shutil.rmtree(stage, ignore_errors=True)
        raise OutputExistsError(
            f"cannot create the staging folder beside {_shown(items[0].path)}: "
            f"{_os_reason(exc)}; use a shorter -o"
        ) from None
    try:
        paths = [_prepare(stage, o) for o in items]
        yield paths
        _commit(stage, parent, items, overwrite=overwrite, meta=meta)
    except BaseException:
        if not (stage / _SWAP).is_file():
            shutil.rmtree(stage, ignore_errors=True)
        else:  # the swap began and failed (a disk error): finish it now, or the next write will
            with contextlib.suppress(OSError):
                _finish(stage, parent)
        raise


def _prepare(stage: Path, out: Output) -> Path:
    new = stage / _NEW / out.path.name
    exists = out.path.exists()
    if out.folder:
        if out.keep and exists:
            shutil.copytree(out.path, new, symlinks=True)
        else:
            new.mkdir()  # an ordinary mkdir: permissions of 0777 less the umask
    elif out.keep and exists:
        shutil.copy2(out.path, new)
    return new


@contextlib.contextmanager
def staged_folder(
    path: str | Path,
    *,
    overwrite: bool = False,
    meta: Mapping[str, Any] | None = None,
    keep: bool = False,
    recognise: Recognise | None = None,
) -> Iterator[Path]:
    """A staging folder that becomes ``path`` whole on success (see :func:`staged`).

    With ``keep`` it starts as a copy of the existing folder (which must be cbm-sim's), to
    add or replace files in it; it is sealed again with its metadata updated by ``meta``.
    """
    out = Output(Path(path), folder=True, recognise=recognise, keep=keep)
    with staged([out], overwrite=overwrite, meta=meta) as (stage,):
        yield stage


@contextlib.contextmanager
def staged_file(
    path: str | Path, *, overwrite: bool = False, recognise: Recognise | None = None
) -> Iterator[Path]:
    """A staging file name that becomes ``path`` (``os.replace``) on success, recorded in the
    folder's ledger as cbm-sim's (see :func:`staged`)."""
    with staged([Output(Path(path), recognise=recognise)], overwrite=overwrite) as (stage,):
        yield stage


@contextlib.contextmanager
def staged_edit(path: str | Path) -> Iterator[Path]:
    """A copy of the existing regular file ``path`` to edit; it replaces ``path`` atomically
    on success (a file the user named to be rewritten, e.g. ``--write-reserves``)."""
    with staged([Output(Path(path), keep=True)]) as (stage,):
        yield stage


def write_text(
    path: str | Path, text: str, *, overwrite: bool = False, recognise: Recognise | None = None
) -> Path:
    """Write ``text`` (UTF-8) to ``path`` through :func:`staged_file`; returns ``path``."""
    with staged_file(path, overwrite=overwrite, recognise=recognise) as stage:
        stage.write_text(text, encoding="utf-8")
    return Path(path)


# --------------------------------------------------------------------------- the swap
def _commit(
    stage: Path,
    parent: Path,
    outputs: Sequence[Output],
    *,
    overwrite: bool,
    meta: Mapping[str, Any] | None,
) -> None:
    for out in outputs:  # the place may have changed while the outputs were made
        _check_one(out, overwrite=overwrite)
    entries, sums = [], {}
    for out in outputs:
        new = stage / _NEW / out.path.name
        if out.folder:
            _seal(new, meta, keep=out.keep)
        elif new.is_symlink() or not new.is_file():
            raise RuntimeError(f"nothing was written for {out.path}")
        elif not out.keep:
            sums[out.path.name] = integrity.sha256_file(new)
        entries.append(
            {
                "name": out.path.name,
                "folder": out.folder,
                "new": _ident(new),
                "old": _ident(out.path),
            }
        )
    if sums:  # before the swap: the old file or the new one, whichever is in place, is ours
        ownership.record(parent, sums, keep_previous=True)
    _write_json(stage / _SWAP, {"entries": entries})
    with _signals_held():
        for entry in entries:
            _swap_one(stage, parent, entry)
    if sums:
        ownership.record(parent, sums, keep_previous=False)
    shutil.rmtree(stage, ignore_errors=True)


def _seal(folder: Path, meta: Mapping[str, Any] | None, *, keep: bool) -> None:
    """Write ``meta.json`` over every file of ``folder`` unless a verified one is there."""
    for entry in folder.iterdir():
        if entry.is_symlink() or not entry.is_file():
            raise RuntimeError(f"{entry}: an output folder holds only files")
    if keep or not (folder / integrity.META).is_file():
        integrity.reseal(folder, meta)
    problem = ownership.folder_problem(folder)
    if problem is not None:
        raise RuntimeError(f"{folder}: its meta.json does not vouch for it ({problem})")


def _swap_one(stage: Path, parent: Path, entry: Mapping[str, Any]) -> None:
    new = stage / _NEW / entry["name"]
    final = parent / entry["name"]
    if not entry["folder"]:
        os.replace(new, final)
        return
    if not (final.exists() or final.is_symlink()):
        new.rename(final)
    elif not _exchange(new, final):
        # no atomic exchange here: the old folder aside, then the new one in (a kill between
        # the two is finished by the next write, :func:`recover`)
        (stage / _OLD).mkdir(exist_ok=True)
        final.rename(stage / _OLD / entry["name"])
        new.rename(final)


def _ident(path: Path) -> list[int] | None:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return [st.st_dev, st.st_ino]


def _write_json(path: Path, body: Mapping[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(body, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


_RENAME_EXCHANGE: Final[int] = 2  # linux/fs.h
_AT_FDCWD: Final[int] = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap the two paths atomically (Linux ``renameat2``); False where that is unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]  # fmt: skip
    renameat2.restype = ctypes.c_int
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EPERM):
        return False
    raise OSError(code, os.strerror(code), str(b))


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM back until the block is done (then deliver the first one)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous: dict[signal.Signals, Any] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(sig) is not None:  # None: set outside Python, leave it alone
            previous[sig] = signal.signal(sig, lambda signum, _frame: caught.append(signum))
    try:
        yield
    finally:
        for sig, before in previous.items():
            signal.signal(sig, before)
        if caught:
            signal.raise_signal(caught[0])


# --------------------------------------------------------------------------- recovery
def _owner_tag() -> str:
    """``<pid>@<host>``: who made a staging folder (so that only dead writes' are touched)."""
    return f"{os.getpid()}@{socket.gethostname()}"


def _is_stale(tag: str) -> bool:
    """Whether the staging folder tagged ``tag`` belongs to a process that no longer runs
    (never for another host's, or a live process's; always for an untagged one)."""
    pid_text, _, host = tag.partition("@")
    if not pid_text.isdigit():
        return True
    if host != socket.gethostname():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError, OSError):
        return False
    return False


def recover(parent: Path, names: Iterable[str] = ()) -> list[Path]:
    """Finish or remove the writes into ``parent`` whose process died.

    A staging folder with an intent file (``SWAP.json``) held complete new outputs and had
    begun to swap them in: the swap is finished (an output that is neither the old one nor
    the new one, something put there since, is left alone). One without is removed: the old
    outputs were never touched. For each of ``names``, the staging folders of older cbm-sim
    versions (``.<name>.partial-*`` without an owner, ``.<name>.old-*``) are cleaned too.

    Returns
    -------
    list of pathlib.Path
        The staging folders finished, removed or restored.
    """
    try:
        entries = sorted(parent.iterdir())
    except OSError:
        return []
    done = []
    for entry in entries:
        match = _STAGE.match(entry.name)
        if match is None or entry.is_symlink() or not entry.is_dir():
            continue
        if _is_stale(match["tag"]):
            _finish(entry, parent)
            done.append(entry)
    for name in names:
        done += _recover_legacy(parent / name, entries)
    return done


def _finish(stage: Path, parent: Path) -> None:
    try:
        intent = json.loads((stage / _SWAP).read_text(encoding="utf-8"))
        entries = list(intent["entries"])
    except (OSError, ValueError, KeyError, TypeError):
        entries = []  # the swap never began
    for entry in entries:
        final = parent / entry["name"]
        here = _ident(final)
        if here == entry["new"] or _ident(stage / _NEW / entry["name"]) != entry["new"]:
            continue  # swapped already
        if here is not None and here != entry["old"]:
            continue  # something else is there now: never replace what may not be ours
        _swap_one(stage, parent, entry)
    shutil.rmtree(stage, ignore_errors=True)


def _recover_legacy(final: Path, entries: Sequence[Path]) -> list[Path]:
    """The staging folders of cbm-sim before this writer: ``.<name>.partial-*`` removed,
    ``.<name>.old-*`` (a folder moved aside by an ``--overwrite`` killed before its second
    rename) restored when ``final`` is missing."""

    def stale(kind: str) -> list[Path]:
        prefix = f".{final.name}.{kind}-"
        return [
            e
            for e in entries
            if e.name.startswith(prefix)
            and not _STAGE.match(e.name)
            and e.is_dir()
            and not e.is_symlink()
            and _is_stale(e.name[len(prefix) :].partition("-")[2])
        ]

    done = []
    for folder in stale("partial"):
        shutil.rmtree(folder, ignore_errors=True)
        done.append(folder)
    olds = [e for e in stale("old") if e.exists()]
    if olds and not final.exists() and not final.is_symlink():
        newest = max(olds, key=lambda p: p.stat().st_mtime)
        newest.rename(final)
        olds.remove(newest)
        done.append(newest)
    for folder in olds:
        shutil.rmtree(folder, ignore_errors=True)
        done.append(folder)
    return done
