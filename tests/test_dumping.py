"""Scenario YAML by libyaml: the same text as PyYAML's emitter, or PyYAML's emitter itself."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cbm_sim.scenario.dumping import plain_text, safe_dump
from cbm_sim.scenario.files import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def python_dump(data: dict, sort_keys: bool) -> str:
    """The reference: PyYAML's pure-Python emitter."""
    return yaml.safe_dump(data, sort_keys=sort_keys, allow_unicode=True, width=100)


_TEXT = st.one_of(
    st.text(max_size=200),
    st.text(alphabet="中文煤层气 abc:-#'\"\n\t{}[]&*!|>%@`,?.\\", max_size=200),
)
_SCALARS = st.one_of(
    _TEXT, st.floats(), st.integers(), st.booleans(), st.none(), st.dates(), st.datetimes()
)
_KEYS = st.one_of(_TEXT, st.integers(), st.floats())
_DOCS = st.dictionaries(
    _KEYS,
    st.recursive(
        _SCALARS,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(_KEYS, inner, max_size=4)
        ),
        max_leaves=25,
    ),
    max_size=6,
)


@given(doc=_DOCS, sort_keys=st.booleans())
@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
def test_any_document_dumps_as_pyyaml_dumps_it(doc, sort_keys):
    # empty keys, astral-plane and control characters included: those go to PyYAML itself
    assert safe_dump(doc, sort_keys=sort_keys) == python_dump(doc, sort_keys)


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "scenarios").glob("*.yaml")))
@pytest.mark.parametrize("sort_keys", [False, True])
def test_shipped_scenarios_dump_as_pyyaml_dumps_them(name, sort_keys):
    data = load_scenario(ROOT / "scenarios" / name, check_size=False).model_dump(mode="python")
    assert safe_dump(data, sort_keys=sort_keys) == python_dump(data, sort_keys)


@pytest.mark.parametrize(
    ("text", "plain"),
    [("plan 晋城 2025\nsecond line", True), ("tab\there", False), ("emoji 🙂", False),
     ("soft\xadhyphen", False), ("", True)],
)  # fmt: skip
def test_plain_text_is_printable_bmp_and_newlines(text, plain):
    assert plain_text(text) is plain


def test_the_shipped_scenarios_take_libyaml(monkeypatch):
    # the point of the module: the plan's resolved scenario ({year: value} paths, Chinese
    # text) is plain, so libyaml writes it
    data = load_scenario(ROOT / "scenarios/plan.yaml", check_size=False).model_dump()
    if not hasattr(yaml, "CSafeDumper"):
        pytest.skip("PyYAML without libyaml")

    def refuse(*args, **kwargs):
        raise AssertionError("PyYAML's emitter used")

    monkeypatch.setattr(yaml, "safe_dump", refuse)
    assert safe_dump(data, sort_keys=True).startswith(f"{sorted(data)[0]}:")


def test_the_emitters_differ_where_pyyaml_is_kept():
    # why the guard exists: libyaml escapes an astral-plane character that PyYAML writes
    doc = {"description": "gas 🙂"}
    if not hasattr(yaml, "CSafeDumper"):
        pytest.skip("PyYAML without libyaml")
    c_text = yaml.dump(doc, Dumper=yaml.CSafeDumper, allow_unicode=True, width=100)
    assert c_text != python_dump(doc, False)
    assert safe_dump(doc, sort_keys=False) == python_dump(doc, False)
