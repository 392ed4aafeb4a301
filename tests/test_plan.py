"""Tests of cbm_sim.plan.figures: the packaged plan data, its look-ups and its loader's errors."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from cbm_sim import units
from cbm_sim.plan.figures import Figure, Plan, PlanDataError, expression_ids, load_plan, parse_plan

_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_MULT = {"十": 10, "百": 100, "千": 1000}


def _chinese(token: str) -> int:
    total = current = 0
    for ch in token:
        if ch in _DIGITS:
            current = _DIGITS[ch]
        else:
            total += (current or 1) * _MULT[ch]
            current = 0
    return total + current


def numbers_in(text: str) -> set[float]:
    """Every number written in ``text``: Arabic (42.67) and Chinese (二十, 千, 七)."""
    found = {float(x) for x in re.findall(r"\d+(?:\.\d+)?", text)}
    found |= {float(_chinese(t)) for t in re.findall(r"[一二两三四五六七八九十百千]+", text)}
    return found


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan()


def test_numbers_in_reads_what_is_written() -> None:
    assert numbers_in("利用总量12.35亿立方米，利用率达59.66%") == {12.35, 59.66}
    assert numbers_in("降低近二十倍") == {20.0}
    assert numbers_in("实现八大目标") == {8.0}
    assert 42.67 not in numbers_in("产量42.6亿立方米")


def test_packaged_data_loads_and_is_cached(plan: Plan) -> None:
    assert len(plan) > 300
    assert load_plan() is plan


def test_every_figure_has_a_source(plan: Plan) -> None:
    for fig in plan.figures:
        assert re.fullmatch(r"ch[1-5] §[1-8]( \S+)?", fig.ref), fig
        assert fig.section.startswith("第") and fig.phrase, fig


def test_every_value_is_written_in_its_phrase(plan: Plan) -> None:
    # The value must be one of the numbers printed in the phrase it was taken from.
    missing = [
        (f.id, f.year, f.value, f.phrase)
        for f in plan.figures
        if float(f.value) not in numbers_in(f.phrase)
    ]
    assert missing == []


def test_years_printed_in_phrases_match_the_record(plan: Plan) -> None:
    # A phrase that names exactly one year (20xx年) must name the record's printed year.
    for fig in plan.figures:
        years = {int(y) for y in re.findall(r"(20\d\d)年", fig.phrase)}
        if len(years) == 1 and fig.unit != "year":
            assert years == {fig.year}, (fig.id, fig.year, fig.phrase)


def test_structure_fields_are_properties_of_the_id(plan: Plan) -> None:
    by_id: dict[str, set] = {}
    for fig in plan.figures:
        by_id.setdefault(fig.id, set()).add(fig.part_of)
    assert {k: v for k, v in by_id.items() if len(v) > 1} == {}


def test_architecture_ids_exist(plan: Plan) -> None:
    scs = ["exploration", "processing", "utilisation", "science", "services", "equipment",
           "logistics", "radiating"]  # fmt: skip
    for year in (2025, 2030):
        for sc in scs:
            assert plan.has(f"output.{sc}", year)
    physical = [
        "production.total", "production.surface", "production.underground",
        "minegas.utilisation_rate", "minegas.heating_gas", "cng.gas", "lng.output",
        "pipeline.capacity", "pipeline.exports", "storage.rule_days", "storage.project_capacity",
        "local_use.residential", "residential.people", "power.generation", "power.gas",
    ]  # fmt: skip
    for id in physical:
        assert plan.has(id, 2025), id
    baseline = ["wells.total", "capacity.surface", "investment.cumulative", "mines.gassy",
                "reserves.proved.mabi", "rights.mining.area", "storage.need_5pct"]  # fmt: skip
    for id in baseline:
        assert plan.has(id, 2021), id


@pytest.mark.parametrize(
    ("id", "year", "expected"),
    [  # independent facts: the plan text (ch3 §3, ch1 §2, ch4 §2, ch4 §3)
        ("output.total", 2025, 500),
        ("output.total", 2030, 1000),
        ("output.radiating", 2030, 265),
        ("output.total", 2021, 150.3),
        ("production.surface", 2021, 42.67),
        ("wells.horizontal", 2021, 1590),
        ("pipeline.exports", 2025, 30),
        ("lng.output", 2030, 150),
        ("output.utilisation.chemicals", 2025, 55),  # the detail statement (ch4 §3 五)
        ("production.underground", 2025, 22),  # the point value, not the ≥20 floor
    ],
)
def test_value_lookups(plan: Plan, id: str, year: int, expected: float) -> None:
    assert plan.value(id, year) == expected


def test_summary_and_detail_are_both_kept(plan: Plan) -> None:
    assert plan.value("output.utilisation.chemicals", 2025, statement="summary") == 18
    assert plan.value("output.utilisation.chemicals", 2025, statement="detail") == 55


def test_misdated_figures_serve_their_context_year(plan: Plan) -> None:
    assert plan.target("power.generation", 2030).value == 41.95
    assert plan.target("power.generation", 2030).year == 2025  # as printed
    assert plan.value("power.generation", 2025) == 37.56
    assert plan.value("output.processing.storage", 2030, statement="detail") == 25.5


def test_base_units(plan: Plan) -> None:
    assert plan.base("lng.output", 2021) == pytest.approx(843_700)
    assert plan.base("output.total", 2025) == pytest.approx(5e10)
    assert plan.figure("power.capacity", 2025).base_value == pytest.approx(762.6)


def test_missing_lookup_names_id_and_years(plan: Plan) -> None:
    with pytest.raises(PlanDataError, match=r"'output.radiating.carbon_trading' for 2025.*2030"):
        plan.value("output.radiating.carbon_trading", 2025)
    with pytest.raises(PlanDataError, match="unknown id"):
        plan.value("no.such.id", 2025)


def test_ambiguous_lookup_raises(plan: Plan) -> None:
    fig = plan.figure("output.total", 2025)
    twin = replace(fig, value=501, ref="ch4 §1")
    with pytest.raises(PlanDataError, match="ambiguous") as info:
        Plan([fig, twin]).value("output.total", 2025)
    assert "501" in str(info.value)


def test_frame(plan: Plan) -> None:
    frame = plan.frame()
    assert len(frame) == len(plan)
    assert {"id", "year", "value", "unit", "ref", "phrase", "effective_year", "base_value"} <= set(
        frame.columns
    )
    assert frame["base_value"].notna().all()


def test_evaluate_and_expression_ids(plan: Plan) -> None:
    assert plan.evaluate("lng.feed_gas / lng.output", 2021) == pytest.approx(13.08e8 / 84.37e4)
    assert plan.evaluate("storage.rule_days@2020 * 2", 2021) == 6
    assert expression_ids("a.b@2020 / (c + 2)") == [("a.b", 2020), ("c", None)]
    for bad in ("a.b ** 2", "f(x)", "a.b @ c", "1 +"):
        with pytest.raises(ValueError, match=re.escape(bad)):
            expression_ids(bad)


# ------------------------------------------------------------------ the loader's errors

GOOD = {
    "id": "output.total", "year": 2025, "value": 500, "unit": "亿元", "kind": "target",
    "comparator": "approx", "statement": "detail", "ref": "ch3 §3", "section": "第三章 第三节",
    "phrase": "总产值力争达到500亿元",
}  # fmt: skip


def _write(tmp_path: Path, records: object) -> Path:
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(records, allow_unicode=True), encoding="utf-8")
    return path


def test_good_file_loads(tmp_path: Path) -> None:
    plan = load_plan(_write(tmp_path, [GOOD]))
    assert plan.value("output.total", 2025) == 500


@pytest.mark.parametrize("field", ["unit", "value", "ref", "phrase", "comparator"])
def test_missing_field(tmp_path: Path, field: str) -> None:
    path = _write(tmp_path, [{k: v for k, v in GOOD.items() if k != field}])
    with pytest.raises(PlanDataError) as info:
        load_plan(path)
    msg = str(info.value)
    assert str(path) in msg and "'output.total'" in msg and "2025" in msg
    assert f"field '{field}' is missing" in msg and "expected" in msg


@pytest.mark.parametrize("bad", ["abc", "500亿", True, None])
def test_non_numeric_value(tmp_path: Path, bad: object) -> None:
    path = _write(tmp_path, [GOOD | {"value": bad}])
    with pytest.raises(PlanDataError) as info:
        load_plan(path)
    msg = str(info.value)
    assert str(path) in msg and "field 'value'" in msg and repr(bad) in msg
    assert "expected a number" in msg


def test_unknown_unit(tmp_path: Path) -> None:
    path = _write(tmp_path, [GOOD | {"unit": "亿美元"}])
    with pytest.raises(PlanDataError) as info:
        load_plan(path)
    msg = str(info.value)
    assert str(path) in msg and "field 'unit'" in msg and "'亿美元'" in msg and "亿元" in msg


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"kind": "goal"}, "'goal'"),
        ({"year": "2025年"}, "'2025年'"),
        ({"id": "Output Total"}, "'Output Total'"),
        ({"ref": "chapter 3"}, "'chapter 3'"),
        ({"colour": "red"}, "'colour'"),
        ({"formula": "output.total ** 2"}, "output.total ** 2"),
        ({"value": float("nan")}, "nan"),
    ],
)
def test_other_bad_fields(tmp_path: Path, change: dict, needle: str) -> None:
    path = _write(tmp_path, [GOOD | change])
    with pytest.raises(PlanDataError) as info:
        load_plan(path)
    assert str(path) in str(info.value) and needle in str(info.value)


def test_unknown_reference(tmp_path: Path) -> None:
    path = _write(tmp_path, [GOOD | {"part_of": "output.grand_total"}])
    with pytest.raises(PlanDataError, match=r"field 'part_of'.*'output.grand_total'"):
        load_plan(path)


@pytest.mark.parametrize("text", ["{a: 1}", "[1, 2", ""])
def test_not_a_list_of_records(tmp_path: Path, text: str) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PlanDataError, match=re.escape(str(path))):
        load_plan(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PlanDataError, match=r"nothing\.yaml"):
        load_plan(tmp_path / "nothing.yaml")


record = st.fixed_dictionaries(
    {
        "id": st.from_regex(r"[a-z]{1,6}(\.[a-z][a-z_]{0,5}){0,2}", fullmatch=True),
        "year": st.integers(2000, 2040),
        "value": st.one_of(
            st.integers(-(10**9), 10**9),
            st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False),
        ),
        "unit": st.sampled_from(sorted(units.UNIT_FACTORS)),
    }
)


@settings(max_examples=60, deadline=None)
@given(rec=record)
def test_yaml_round_trip_of_any_record(rec: dict) -> None:
    text = yaml.safe_dump([GOOD | rec], allow_unicode=True)
    plan = parse_plan(text, "<hypothesis>")
    fig = plan.figure(rec["id"], rec["year"])
    assert isinstance(fig, Figure)
    assert fig.value == rec["value"] and fig.unit == rec["unit"]
    assert fig.base_value == pytest.approx(units.to_base(rec["value"], rec["unit"]))


def test_the_packaged_data_digest_covers_every_data_file(tmp_path, monkeypatch):
    from cbm_sim.plan import packaged

    real = packaged.packaged_data_sha256()
    assert len(real) == 64 and real == packaged.packaged_data_sha256()
    # the same digest from the files on disk, computed independently; one byte more moves it
    root = Path(__file__).resolve().parent.parent / "cbm_sim" / "data"
    files = sorted(p for p in root.iterdir() if p.is_file())
    assert {p.name for p in files} >= {"calibration.yaml", "typecurves.yaml", "history.yaml"}
    for p in files:
        (tmp_path / p.name).write_bytes(p.read_bytes())
    monkeypatch.setattr(packaged.resources, "files", lambda _pkg: tmp_path)
    packaged.packaged_data_sha256.cache_clear()
    try:
        assert packaged.packaged_data_sha256() == real
        (tmp_path / "calibration.yaml").write_bytes((root / "calibration.yaml").read_bytes() + b"#")
        packaged.packaged_data_sha256.cache_clear()
        assert packaged.packaged_data_sha256() != real
    finally:
        packaged.packaged_data_sha256.cache_clear()
