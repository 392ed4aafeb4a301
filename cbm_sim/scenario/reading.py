"""Reading scenario YAML safely: bounded size, depth and alias expansion; clean errors.

A scenario file is written by a planner but may come from anywhere (a mail, a shared drive,
a fuzzer). Everything here fails fast with a :class:`InputError` that knows the line it
concerns, never with a traceback, a hang or a memory blow-up:

* :data:`MAX_FILE_BYTES` — larger files are refused before they are parsed (the pure-Python
  YAML parser, which keeps the line numbers, reads ~35 kB/s of the densest input: a 10 MB
  file took minutes);
* text must be UTF-8 and free of the control characters YAML forbids (the line and column
  of the first bad byte or character are reported);
* :data:`MAX_DEPTH` of nesting (deeper lists/maps crashed the recursive composer);
* :data:`MAX_NODES` nodes *after alias expansion*: a recursive alias is refused, and a
  "billion laughs" document (aliases of aliases, exponential when expanded) is refused from
  the size of its graph without expanding it;
* dates and numbers that do not exist (``2025-02-30``, an integer of 10,000 digits) are
  reported at their line.

The limits are far above any real scenario: the fully resolved plan scenario (every default
written out, ``scenario.yaml`` of a run) is 11.4 kB, 976 nodes and 6 levels deep (measured on
this code, ``wc -c`` and a count of the composed nodes).
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError
from yaml.events import AliasEvent, ScalarEvent

MAX_FILE_BYTES = 128 * 1024
"""Largest scenario file read [bytes]; assumption: 11× the resolved plan scenario (11.4 kB),
and parsed in about 3 s in the worst case (dense flow lists, ~35 kB/s measured)."""
MAX_DEPTH = 20
"""Deepest nesting of lists and maps; assumption: 3× the deepest scenario (6 levels)."""
MAX_NODES = 20_000
"""Most YAML nodes of one file, aliases counted once per use (as they would be expanded);
assumption: 20× the resolved plan scenario (976 nodes)."""
MAX_EXTENDS = 16
"""Longest ``extends`` chain (files, the first included); assumption: the shipped scenarios
use chains of at most 2, and a chain of 1,000 files exhausted the recursion."""

# YAML 1.1 §5.1 printable characters (what PyYAML's reader accepts), tab and line breaks.
_NOT_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


_SURROGATE = re.compile("[\ud800-\udfff]")


class InputError(ValueError):
    """Bad YAML input at ``line`` (1-based; ``None`` if it concerns the whole file)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


def shown_path(path: str | os.PathLike[str]) -> str:
    """``path`` as it may be printed: a NUL as ``\\0``, and at most 160 characters."""
    text = str(path).replace("\0", "\\0")
    return text if len(text) <= 160 else f"{text[:70]}…{text[-80:]}"


def os_problem(exc: BaseException) -> str:
    """One line for an error of the file system (no errno soup, no traceback)."""
    if isinstance(exc, ValueError) and "null" in str(exc):
        return "the path contains a NUL byte"
    if isinstance(exc, RuntimeError):  # Path.resolve on Python < 3.13
        return "symbolic link loop"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[0].lower() + exc.strerror[1:]
    return str(exc)


def read_text(path: Path) -> str:
    """The UTF-8 text of ``path``, at most :data:`MAX_FILE_BYTES`.

    Raises
    ------
    InputError
        The file cannot be opened (no line) or is too large, or is not UTF-8 (line of the
        first bad byte).
    """
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; the kind is checked on the
        # open file itself (no window between a check and the open)
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
        with os.fdopen(os.open(path, flags), "rb") as handle:
            kind = _not_a_file(os.fstat(handle.fileno()).st_mode)
            if kind is not None:
                raise InputError(f"cannot read the file: {kind}")
            data = handle.read(MAX_FILE_BYTES + 1)
    except (OSError, ValueError, RuntimeError) as exc:
        raise InputError(f"cannot read the file: {os_problem(exc)}") from None
    if len(data) > MAX_FILE_BYTES:
        size = os.stat(path).st_size if os.path.exists(path) else len(data)
        raise InputError(
            f"file too large: {size:,} bytes; a scenario file may have at most "
            f"{MAX_FILE_BYTES:,} (the resolved plan scenario has 11,392)"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError(
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} at column {column} "
            "(save the file as UTF-8)",
            line,
        ) from None


def _not_a_file(mode: int) -> str | None:
    """What a path is when it is not a regular file (a scenario is a YAML file; a FIFO would
    block the read and a device never end it)."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a directory"
    for test, what in (
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return f"not a regular file but {what}"
    return "not a regular file"


def check_printable(text: str) -> None:
    """Refuse characters YAML forbids (NUL, other C0 controls, DEL, surrogates).

    Raises
    ------
    InputError
        At the line of the first such character, naming it.
    """
    bad = _NOT_PRINTABLE.search(text)
    if bad is None:
        return
    line = text.count("\n", 0, bad.start()) + 1
    column = bad.start() - (text.rfind("\n", 0, bad.start()) + 1) + 1
    raise InputError(
        f"control character U+{ord(bad.group()):04X} at column {column}: not allowed in YAML "
        "text (a binary file, or a file damaged in transfer?)",
        line,
    )


class BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with a depth and node budget and located value errors."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise ComposerError(
                None, None, f"more than {MAX_NODES:,} values in one file", event.start_mark
            )
        if isinstance(event, AliasEvent):
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise ComposerError(
                None, None, f"nested deeper than {MAX_DEPTH} levels", event.start_mark
            )
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_scalar(self, node: yaml.Node) -> Any:
        value = super().construct_scalar(node)  # type: ignore[arg-type]
        bad = _SURROGATE.search(value) if isinstance(value, str) else None
        if bad is not None:  # "\ud800" escaped in a quoted string: not a character at all
            raise ConstructorError(
                None,
                None,
                f"escape makes a lone surrogate U+{ord(bad.group()):04X}, which is not a "
                "character (no file, name or table can hold it)",
                node.start_mark,
            )
        return value

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except yaml.MarkedYAMLError:
            raise
        except (ValueError, OverflowError, TypeError) as exc:
            what = "date" if node.tag.endswith(":timestamp") else "value"
            raise ConstructorError(
                None, None, f"invalid {what} {_clip(node)}: {exc}", node.start_mark
            ) from None


_CPARSER: Any = getattr(getattr(yaml, "cyaml", None), "CParser", None)
"""libyaml's scanner and parser (PyYAML built with it, as its wheels are); None without."""


class UnlikeTextError(ValueError):
    """Text that libyaml's events would place differently from PyYAML's (read by PyYAML)."""


_UNLIKE = re.compile("[\t\ufeff\x85\u2028\u2029]")
"""Characters libyaml and PyYAML read differently: a tab (libyaml takes some that PyYAML
refuses), a byte-order mark past the start (libyaml skips it, PyYAML refuses it) and the
Unicode line breaks (NEL, LS, PS); text with any of them is read by PyYAML alone (found by
tests/test_reading.py)."""


_BLOCK_HEADER_COMMENT = re.compile(r"[|>][-+0-9]*#")
"""A block scalar's header with a comment glued to it (``>#``): libyaml reads the comment,
PyYAML refuses the header (found by tests/test_reading.py); read by PyYAML alone."""


def _questions_in_comments(text: str) -> bool:
    """Whether every ``?`` of ``text`` is on a comment line (``# …``). Elsewhere libyaml and
    PyYAML read it differently: PyYAML ends a plain value at a ``?`` inside ``[…]`` or
    ``{…}`` and takes any ``?`` there as a key, libyaml reads on (found by
    tests/test_reading.py); the shipped scenarios have ``?`` in comments only."""
    if "?" not in text:
        return True
    return all(line.lstrip().startswith("#") for line in text.splitlines() if "?" in line)


class _LibyamlEvents:
    """:class:`BoundedLoader` on libyaml's events (:func:`libyaml_loader`)."""

    def __init__(self, stream: str) -> None:
        _CPARSER.__init__(self, stream)
        yaml.constructor.SafeConstructor.__init__(self)  # type: ignore[arg-type]
        yaml.resolver.Resolver.__init__(self)  # type: ignore[arg-type]
        self.anchors: dict[Any, yaml.Node] = {}
        self._depth = 0
        self._nodes = 0

    # the Python composer over libyaml's events (the C one has no limits)
    check_node = yaml.composer.Composer.check_node
    get_node = yaml.composer.Composer.get_node
    get_single_node = yaml.composer.Composer.get_single_node
    compose_document = yaml.composer.Composer.compose_document

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()  # type: ignore[attr-defined]
        # an empty plain value is marked by libyaml at the next token and by PyYAML at the
        # indicator before it: where its line is the one kept (a list item, a key, the
        # document), PyYAML alone reads the text
        empty = isinstance(event, ScalarEvent) and event.value == "" and not event.style
        if empty and not (isinstance(parent, yaml.MappingNode) and index is not None):
            raise UnlikeTextError("an empty value placed differently by libyaml")
        return BoundedLoader.compose_node(self, parent, index)  # type: ignore[arg-type]

    compose_scalar_node = yaml.composer.Composer.compose_scalar_node
    compose_sequence_node = yaml.composer.Composer.compose_sequence_node
    compose_mapping_node = yaml.composer.Composer.compose_mapping_node


_LIBYAML_LOADER: Any = (
    None
    if _CPARSER is None
    else type("LibyamlBoundedLoader", (_LibyamlEvents, _CPARSER, BoundedLoader), {})
)


def libyaml_loader(text: str) -> yaml.SafeLoader | None:
    """A :class:`BoundedLoader` of ``text`` on libyaml's events; None without libyaml.

    The scanner and parser are libyaml's (C: ≈ 7× PyYAML's, 0.047 -> 0.007 s for
    ``plan.yaml``, ≈ 3 % of a ``cbm-sim run``); the composer with its limits, the resolver
    and the constructor are :class:`BoundedLoader`'s own. libyaml and PyYAML both implement
    YAML 1.1 and give the same events for the same text (values, tags, implicit flags, line
    and column of every node: checked on the shipped scenarios and generated documents,
    ``tests/test_reading.py``), but they word their errors differently and disagree on some
    malformed text: the caller parses with :class:`BoundedLoader` whenever this one raises,
    so every message and every refusal is PyYAML's (:func:`cbm_sim.scenario.files._parse`).
    None too for text with a character the two read differently (:data:`_UNLIKE`, a ``?``
    off a comment line).
    """
    if _LIBYAML_LOADER is None:  # pragma: no cover - PyYAML without libyaml
        return None
    if _UNLIKE.search(text) is not None or not _questions_in_comments(text):
        return None
    if _BLOCK_HEADER_COMMENT.search(text) is not None:
        return None
    loader: yaml.SafeLoader = _LIBYAML_LOADER(text)
    return loader


def _clip(node: yaml.Node) -> str:
    value = node.value if isinstance(node, yaml.ScalarNode) else ""
    return repr(value if len(value) <= 40 else value[:37] + "...")


def check_expansion(root: yaml.Node) -> None:
    """Refuse a recursive alias, or a graph that would expand to more than :data:`MAX_NODES`.

    Counts each node once per path to it (memoised on the shared nodes, so a billion-laughs
    document is measured in time linear in its *file*, not its expansion).

    Raises
    ------
    InputError
        At the line of the recursive alias, or of the node where the count passed the limit.
    """
    sizes: dict[int, int] = {}
    open_: set[int] = set()
    stack: list[tuple[yaml.Node, int]] = [(root, 0)]
    while stack:
        node, state = stack.pop()
        key = id(node)
        kids = _children(node)
        if state == 0:
            if key in sizes:
                continue
            if key in open_:
                raise InputError(
                    "recursive alias: a value that contains itself", node.start_mark.line + 1
                )
            open_.add(key)
            stack.append((node, 1))
            for kid in kids:
                if id(kid) in open_:
                    raise InputError(
                        "recursive alias: a value that contains itself", kid.start_mark.line + 1
                    )
                if id(kid) not in sizes:
                    stack.append((kid, 0))
            continue
        total = 1 + sum(sizes[id(kid)] for kid in kids)
        if total > MAX_NODES:
            raise InputError(
                f"aliases expand to more than {MAX_NODES:,} values (an alias bomb?)",
                node.start_mark.line + 1,
            )
        sizes[key] = total
        open_.discard(key)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []
