"""Scenario YAML on libyaml's events (reading.libyaml_loader) against PyYAML's own parser: the
same data, the same line of every value, and PyYAML's messages and refusals wherever the two
differ (files._parse falls back to PyYAML whenever libyaml's path raises)."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cbm_sim.scenario import files, reading
from cbm_sim.scenario.files import ScenarioError

SCENARIOS = sorted((Path(__file__).parent.parent / "scenarios").glob("*.yaml"))


def _python_only(text: str) -> tuple[Any, Any]:
    """files._parse's answer with PyYAML's parser alone (an exception is returned)."""
    try:
        return files._compose(reading.BoundedLoader(text), "s.yaml")
    except Exception as exc:  # compared by type and message
        return type(exc), str(exc)


def _libyaml(text: str) -> tuple[Any, Any] | None:
    loader = reading.libyaml_loader(text)
    if loader is None:  # text with a character the two read differently: PyYAML's alone
        return None
    try:
        return files._compose(loader, "s.yaml")
    except Exception:  # libyaml's path may refuse: PyYAML decides then
        return None


def _same(a: Any, b: Any) -> bool:
    """Equal data of the same types (NaN equal to NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def _agree(text: str) -> bool:
    """libyaml's path either refuses ``text`` or reads what PyYAML reads, at the same lines."""
    fast = _libyaml(text)
    if fast is None:
        return True
    slow = _python_only(text)
    return _same(fast[0], slow[0]) and fast[1] == slow[1]


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_the_shipped_scenarios_read_the_same_on_libyaml(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    fast = _libyaml(text)
    assert fast is not None
    slow = _python_only(text)
    assert _same(fast[0], slow[0]) and fast[1] == slow[1]


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True),
    st.dates(dt.date(1900, 1, 1), dt.date(2200, 12, 31)),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12),
    st.sampled_from(["yes", "No", "~", "null", "1e3", "0x1f", "1_000", "2025-02-30", ": x", "#"]),
)
_documents = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(min_size=1, max_size=6), inner)
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.dictionaries(st.text(min_size=1, max_size=8), _documents, max_size=6),
       flow=st.sampled_from([None, False, True]), indent=st.sampled_from([2, 4]))  # fmt: skip
def test_dumped_documents_read_the_same_on_libyaml(data, flow, indent) -> None:
    text = yaml.safe_dump(
        data, allow_unicode=True, default_flow_style=flow, indent=indent, sort_keys=False
    )
    reading.check_printable(text)
    assert _agree(text)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    base=st.sampled_from(SCENARIOS),
    cut=st.floats(0.0, 1.0),
    insert=st.sampled_from(
        [
            "\t",
            " ",
            ":",
            "- ",
            "'",
            '"',
            "\\",
            "#",
            "&a ",
            "*a",
            "{",
            "}",
            "[",
            "]",
            ",",
            "\n",
            "\r\n",
            "? ",
            "!!str ",
            "%YAML 1.1\n",
            "---\n",
            "...\n",
            "|\n",
            ">-\n",
            "\u2028",
            "\x85",
            "\ufeff",
            "  x: 1\n",
            "<<: *a\n",
            "?",
            "!!omap ",
            "!!set ",
            "!foo ",
            "- - ",
            "~",
            "\r",
            "1:20",
            "+.inf",
            "0o7",
            " #x",
            "|#",
            ">-#",
            "|2",
            ">+",
        ]
    ),
    where=st.floats(0.0, 1.0),
)
def test_damaged_scenarios_are_refused_or_read_the_same_on_libyaml(
    base: Path, cut: float, insert: str, where: float
) -> None:
    """Text near real scenarios with a token inserted or the tail cut: whatever libyaml's path
    accepts, PyYAML's reads alike (libyaml's refusals fall back to PyYAML's verdict)."""
    text = base.read_text(encoding="utf-8")
    text = text[: max(1, int(len(text) * cut))] if cut < 0.3 else text
    at = int(len(text) * where)
    text = text[:at] + insert + text[at:]
    try:
        reading.check_printable(text)
    except reading.InputError:
        return  # refused before any parser sees it
    assert _agree(text)


@pytest.mark.parametrize(
    "text",
    [
        "a: [1, 2\nb: 3\n",  # an unclosed flow sequence
        "a: 1\n\tb: 2\n",  # a tab where a token starts
        "a: 1\na: 2\n",  # a duplicate key (cbm-sim's own check)
        "a: 1\n---\nb: 2\n",  # two documents
        "a: &x [*x]\n",  # a recursive alias
        "a: 2025-02-30\n",  # a date that does not exist
        "a: 'unclosed\n",
        "- 1\n- 2\n",  # not a mapping
    ],
)
def test_malformed_text_is_reported_in_pyyaml_words(text: str, monkeypatch) -> None:
    """The messages (file, line, wording) are those of PyYAML's parser alone."""
    with pytest.raises(ScenarioError) as fast:
        files._parse(text, "s.yaml")
    monkeypatch.setattr(reading, "libyaml_loader", lambda text: None)
    with pytest.raises(ScenarioError) as slow:
        files._parse(text, "s.yaml")
    assert str(fast.value) == str(slow.value)


def test_a_scenario_reads_on_libyaml_by_default() -> None:
    loader = reading.libyaml_loader("a: 1\n")
    assert loader is not None and type(loader).__name__ == "LibyamlBoundedLoader"
    assert isinstance(loader, reading.BoundedLoader)
    assert files._compose(loader, "s.yaml")[0] == {"a": 1}
    for odd in ("\t", "\ufeff", "\x85", "\u2028", "\u2029", "?"):  # read differently
        assert reading.libyaml_loader(f"a: 1\nb: x{odd}y\n") is None  # PyYAML alone
    assert reading.libyaml_loader("# why?\na: 1\n") is not None  # a question in a comment
    assert reading.libyaml_loader("a: >#\n  x\n") is None  # a comment glued to a header


def test_libyaml_path_keeps_the_node_and_depth_limits() -> None:
    deep = "a: " + "[" * (reading.MAX_DEPTH + 1) + "]" * (reading.MAX_DEPTH + 1) + "\n"
    loader = reading.libyaml_loader(deep)
    assert loader is not None
    with pytest.raises(yaml.composer.ComposerError, match="nested deeper than"):
        loader.get_single_node()
    wide = "a: [" + ", ".join(["1"] * (reading.MAX_NODES + 1)) + "]\n"
    loader = reading.libyaml_loader(wide)
    assert loader is not None
    with pytest.raises(yaml.composer.ComposerError, match="values in one file"):
        loader.get_single_node()
