"""Plain data kept between processes (cbm_sim/plan/datacache.py) and the packaged plan read
through it (cbm_sim/plan/figures.py)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cbm_sim.plan import datacache, figures

PLAIN = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)


def _counting(value: object) -> tuple[list[int], object]:
    calls: list[int] = []

    def compute() -> object:
        calls.append(1)
        return value

    return calls, compute


@settings(max_examples=40, deadline=None)
@given(value=PLAIN)
def test_an_entry_reads_back_what_was_computed(tmp_path_factory, value) -> None:
    folder = tmp_path_factory.mktemp("cache")
    calls, compute = _counting(value)
    first = datacache.cached("x", (b"source",), compute, folder=folder)
    second = datacache.cached("x", (b"source",), compute, folder=folder)
    assert first == value and second == value
    assert calls == [1]  # the second came from disk


def test_other_sources_are_another_entry(tmp_path: Path) -> None:
    calls, compute = _counting([1, 2.5])
    datacache.cached("x", (b"a", b"b"), compute, folder=tmp_path)
    datacache.cached("x", (b"ab",), compute, folder=tmp_path)  # not the same key joined
    datacache.cached("x", (b"a", b"c"), compute, folder=tmp_path)
    assert calls == [1, 1, 1]
    assert len(list(tmp_path.glob("x-*.marshal"))) == 3


def test_a_damaged_entry_is_computed_again(tmp_path: Path) -> None:
    path = datacache.cache_path("x", b"s", folder=tmp_path)
    path.write_bytes(b"\xff not marshal")
    calls, compute = _counting({"a": 1})
    assert datacache.cached("x", (b"s",), compute, folder=tmp_path) == {"a": 1}
    assert calls == [1]
    assert datacache.cached("x", (b"s",), compute, folder=tmp_path) == {"a": 1}
    assert calls == [1]  # rewritten whole


def test_an_unwritable_folder_costs_only_the_computation(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    calls, compute = _counting([3])
    assert datacache.cached("x", (b"s",), compute, folder=blocked) == [3]
    assert datacache.cached("x", (b"s",), compute, folder=blocked) == [3]
    assert calls == [1, 1]


def test_data_that_is_not_plain_is_returned_and_not_kept(tmp_path: Path) -> None:
    value = object()
    assert datacache.cached("x", (b"s",), lambda: value, folder=tmp_path) is value
    assert list(tmp_path.iterdir()) == []


def test_an_error_of_the_computation_is_raised_and_nothing_kept(tmp_path: Path) -> None:
    def fails() -> object:
        raise ValueError("bad data")

    with pytest.raises(ValueError, match="bad data"):
        datacache.cached("x", (b"s",), fails, folder=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_the_packaged_plan_from_its_entry_is_the_parsed_plan(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(datacache, "_DIR", tmp_path)
    text = resources.files("cbm_sim").joinpath("data/plan.yaml").read_text(encoding="utf-8")
    parsed = figures.parse_plan(text, "cbm_sim/data/plan.yaml")
    written = figures._packaged_plan()
    assert len(list(tmp_path.glob("plan-figures-*.marshal"))) == 1
    read = figures._packaged_plan()
    for plan in (written, read):
        assert plan.figures == parsed.figures
        assert [type(f.value) for f in plan.figures] == [type(f.value) for f in parsed.figures]
        assert plan.value("output.total", 2025) == 500  # 亿元, the plan's 2025 target
        assert plan.source == parsed.source
