"""Scenario data as YAML text, by libyaml's emitter when its bytes are PyYAML's own.

Every run writes the resolved scenario (``scenario.yaml``) and hashes its assumptions
(:func:`cbm_sim.scenario.provenance.assumptions_sha256`): two dumps of ~1,000 nodes, which
PyYAML's pure-Python emitter makes in ≈ 0.07 s of a 2 s ``cbm-sim run`` and libyaml's
(``yaml.CSafeDumper``) in a fifth of that. The two emitters agree byte for byte on mappings
whose keys are non-empty and whose text is printable Basic Multilingual Plane characters
and line breaks (checked on the shipped scenarios and on thousands of generated documents,
``tests/test_dumping.py``); they differ on an empty key, on astral-plane characters (libyaml
escapes them, PyYAML does not) and on some control characters. Those documents are dumped by
PyYAML, so the text never depends on which emitter was used.
"""

from __future__ import annotations

from typing import Any

import yaml

_C_DUMPER: type | None = getattr(yaml, "CSafeDumper", None)
"""libyaml's safe dumper; None when PyYAML was built without libyaml."""

_BMP_END = 0x10000


def plain_text(text: str) -> bool:
    """True if both emitters write ``text`` alike: printable BMP characters and newlines."""
    return (text.isprintable() and text.isascii()) or all(
        (c.isprintable() or c == "\n") and ord(c) < _BMP_END for c in text
    )


def _plain(node: Any) -> bool:
    """True if every string in ``node`` is :func:`plain_text` and every key :func:`_plain_key`."""
    if isinstance(node, str):
        return plain_text(node)
    if isinstance(node, dict):
        return all(_plain_key(k) and _plain(v) for k, v in node.items())
    if isinstance(node, list | tuple):
        return all(_plain(v) for v in node)
    return True


def _plain_key(key: Any) -> bool:
    """A key both emitters write alike: non-empty plain text, or a number (``{year: value}``
    paths have integer keys)."""
    if isinstance(key, str):
        return key != "" and plain_text(key)
    return isinstance(key, int | float)


def safe_dump(data: dict[str, Any], *, sort_keys: bool) -> str:
    """``yaml.safe_dump(data, sort_keys=sort_keys, allow_unicode=True, width=100)``, the
    same text, by libyaml when :func:`_plain` says the two emitters agree on ``data``."""
    options: dict[str, Any] = {"sort_keys": sort_keys, "allow_unicode": True, "width": 100}
    if _C_DUMPER is not None and _plain(data):
        text: str = yaml.dump(data, Dumper=_C_DUMPER, **options)
        return text
    return yaml.safe_dump(data, **options)
