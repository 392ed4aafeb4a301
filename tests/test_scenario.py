"""Scenario model and files: shipped scenarios, ``extends``, YAML round trip, error locations."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from cbm_sim.bounds import BOUNDS
from cbm_sim.scenario.files import ScenarioError, load_scenario, scenario_from_text
from cbm_sim.scenario.model import BlockProgramme, Horizon, Scenario

SCENARIOS = sorted((Path(__file__).parent.parent / "scenarios").glob("*.yaml"))
NUMERIC_TAGS = {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp"}


def test_the_five_shipped_scenarios_exist() -> None:
    names = {p.stem for p in SCENARIOS}
    assert {"plan", "frozen-2021", "business-as-usual", "pipeline-delay", "low-price"} <= names


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_shipped_scenario_validates_and_says_which_question(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.name == path.stem
    assert scenario.extends is None  # resolved
    assert path.read_text(encoding="utf-8").startswith("# Question:")


def _numeric_lines(node: yaml.Node) -> list[int]:
    if isinstance(node, yaml.ScalarNode):
        return [node.start_mark.line] if node.tag in NUMERIC_TAGS else []
    if isinstance(node, yaml.SequenceNode):
        return [line for item in node.value for line in _numeric_lines(item)]
    if isinstance(node, yaml.MappingNode):
        return [line for k, v in node.value for n in (k, v) for line in _numeric_lines(n)]
    return []


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_number_in_a_shipped_scenario_has_a_comment(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    bare = [
        lines[i]
        for i in sorted(set(_numeric_lines(yaml.compose(text))))
        if "#" not in lines[i] and not (i > 0 and lines[i - 1].lstrip().startswith("#"))
    ]
    assert bare == [], f"numbers without a source comment in {path.name}: {bare}"


def test_plan_scenario_encodes_the_plans_figures() -> None:
    s = load_scenario(SCENARIOS[0].parent / "plan.yaml")
    # ch4 §2 二: 95.02 existing + the two new lines = 150 亿m³/yr in 2025.
    new = [ln for ln in s.pipelines.lines if ln.name in ("晋城-新乡", "晋城-焦作")]
    assert len(new) == 2 and all(ln.commissioned <= dt.date(2025, 1, 1) for ln in new)
    assert sum(ln.capacity_1e8_m3_per_year for ln in s.pipelines.lines) == pytest.approx(150.0)
    # ch4 §2 一: 9 LNG plants in 2025, 10 in 2030; capacity at 85 % covers 150 万t.
    for year, count in ((2025, 9), (2030, 10)):
        day = dt.date(year, 1, 1)
        assert sum(p.commissioned is None or p.commissioned <= day for p in s.lng.plants) == count
    capacity_t = sum(p.capacity_t_per_day for p in s.lng.plants) * 365 * 0.85
    assert capacity_t >= s.lng.demand_1e4_t_per_year[2030] * 1e4
    # ch4 §2 二: 聚力民生 16万m³ × 2 of LNG in service by 2025: 1.92 亿m³ of gas at 600 m³ of
    # gas per m³ of LNG (GIIGNL), not the plan's 2.5.
    assert any(p.lng_liquid_1e4_m3 == 32.0 and p.capacity_1e4_m3 == pytest.approx(19200.0)
               and p.commissioned < dt.date(2025, 1, 1) for p in s.storage.projects)  # fmt: skip
    # contracts: 80 % of the 2021 outbound 19.35 亿m³, held by the 90 % holders (ch1 §3 四)
    assert s.contracts.holders_share == 0.9
    assert s.contracts.outbound[0].annual_1e8_m3 == {2021: pytest.approx(0.8 * 19.35)}
    assert s.pipelines.outbound_cap_1e8_m3_per_year == {2025: 30.0, 2030: 20.0}
    assert s.demand.chemicals.annual_1e8_m3[2025] == 13.8


def test_pipeline_delay_is_plan_with_lines_two_years_late() -> None:
    folder = SCENARIOS[0].parent
    plan, late = load_scenario(folder / "plan.yaml"), load_scenario(folder / "pipeline-delay.yaml")
    for a, b in zip(plan.pipelines.lines, late.pipelines.lines, strict=True):
        assert a.capacity_1e8_m3_per_year == b.capacity_1e8_m3_per_year
        if a.commissioned is not None:
            assert b.commissioned == a.commissioned.replace(year=a.commissioned.year + 2)
    same = {"pipelines", "name", "description"}
    assert plan.model_dump(exclude=same) == late.model_dump(exclude=same)


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_extends_deep_merges_mappings_and_replaces_lists(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "grand.yaml",
        "seed: 7\nstorage: {initial_fill_share: 0.5, rule_days: 4}\n",
    )
    _write(
        tmp_path,
        "parent.yaml",
        "extends: grand.yaml\nlng:\n  demand_1e4_t_per_year: {2021: 80, 2025: 100}\n"
        "  plants:\n    - {name: A, capacity_t_per_day: 500}\n"
        "    - {name: B, capacity_t_per_day: 600}\n"
        "storage: {rule_days: 5}\n",
    )
    sub = tmp_path / "sub"
    sub.mkdir()
    child = _write(
        sub,
        "child.yaml",
        "extends: ../parent.yaml\nlng:\n  demand_1e4_t_per_year: {2025: 120, 2030: 150}\n"
        "  plants: [{name: C, capacity_t_per_day: 700}]\n",
    )
    s = load_scenario(child)
    assert s.name == "child"  # a child never inherits its parent's name
    assert s.seed == 7  # from the grandparent, two levels up
    assert s.storage.initial_fill_share == 0.5 and s.storage.rule_days == 5
    assert s.lng.demand_1e4_t_per_year == {2021: 80.0, 2025: 120.0, 2030: 150.0}
    assert [p.name for p in s.lng.plants] == ["C"]


def test_error_in_inherited_value_points_at_the_parent_file_and_line(tmp_path: Path) -> None:
    _write(tmp_path, "parent.yaml", "seed: 1\nmine_gas:\n  usable_share: {2021: 0.5, 2025: 1.4}\n")
    child = _write(tmp_path, "child.yaml", "extends: parent.yaml\nseed: 2\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    (problem,) = info.value.problems
    assert Path(problem.file).name == "parent.yaml"
    assert problem.line == 3
    assert problem.path == "mine_gas.usable_share.2025"
    assert "1.4" in problem.message and "0..1" in problem.message


def test_every_problem_is_reported_with_its_own_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "two.yaml", "seed: -1\nhorizon:\n  step_days: 0\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    found = {(p.line, p.path) for p in info.value.problems}
    assert found == {(1, "seed"), (3, "horizon.step_days")}


def test_interpolation_is_documented_behaviour_of_time_paths() -> None:
    # paths.py: linear between stated years, flat outside.
    from cbm_sim.scenario.paths import interpolate

    path = load_scenario(SCENARIOS[0].parent / "plan.yaml").pipelines.outbound_cap_1e8_m3_per_year
    got = interpolate(path, [2021, 2025, 2027.5, 2030, 2035])
    np.testing.assert_allclose(got, [30.0, 30.0, 25.0, 20.0, 20.0])


# used for an LNG demand and a block's wells a year: the tighter of the two bounds
_finite = st.floats(
    min_value=0.0,
    max_value=min(BOUNDS["lng_demand_1e4_t_per_year"].hi, BOUNDS["wells_per_block_year"].hi),
    allow_nan=False,
)
# a scenario name is a plain file name (runs/<name>): no separators, not hidden, not blank
_name = st.text(
    st.characters(categories=("L", "N", "P", "Zs"), exclude_characters="/\\"),
    min_size=1,
    max_size=20,
).filter(lambda n: n.strip() != "" and not n.startswith("."))
_year = st.integers(min_value=1990, max_value=2100)


@settings(max_examples=40, deadline=None)
@given(
    name=_name,
    seed=st.integers(min_value=0, max_value=2**63 - 1),
    step=st.integers(min_value=1, max_value=31),
    # an interpolated path needs at least one entry (issue #18: {} crashed the run)
    lng_demand=st.dictionaries(_year, _finite, min_size=1, max_size=5),
    share=st.dictionaries(_year, st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=5),
    capacity=st.floats(min_value=1e-3, max_value=20000.0),
    commissioned=st.dates(min_value=dt.date(2021, 1, 1), max_value=dt.date(2030, 12, 31)),
)
def test_to_yaml_round_trips(
    name: str,
    seed: int,
    step: int,
    lng_demand: dict[int, float],
    share: dict[int, float],
    capacity: float,
    commissioned: dt.date,
) -> None:
    s = Scenario.model_validate(
        {
            "name": name,
            "seed": seed,
            "horizon": {"step_days": step},
            "lng": {
                "demand_1e4_t_per_year": lng_demand,
                "plants": [
                    {"name": "x", "capacity_t_per_day": capacity, "commissioned": commissioned}
                ],
            },
            "mine_gas": {"usable_share": share},
            "drilling": {"blocks": {"zhengzhuang": {"vertical_wells_per_year": lng_demand}}},
        }
    )
    assert scenario_from_text(s.to_yaml()) == s


def test_shipped_scenarios_round_trip_through_yaml() -> None:
    for path in SCENARIOS:
        s = load_scenario(path)
        assert scenario_from_text(s.to_yaml()) == s


def test_json_schema_describes_the_sections() -> None:
    schema = Scenario.model_json_schema()
    assert schema["additionalProperties"] is False
    assert {"horizon", "drilling", "lng", "extends", "valuation"} <= set(schema["properties"])
    # Bounds reach the schema, so an editor flags a negative capacity too.
    plant = schema["$defs"]["LNGPlant"]["properties"]["capacity_t_per_day"]
    assert plant["exclusiveMinimum"] == 0


def test_text_scenario_extends_relative_to_base_dir(tmp_path: Path) -> None:
    _write(tmp_path, "base.yaml", "seed: 11\n")
    s = scenario_from_text("extends: base.yaml\n", base_dir=tmp_path)
    assert s.seed == 11 and s.extends is None


def test_block_programme_years_must_be_ordered() -> None:
    with pytest.raises(ScenarioError, match=re.escape("first_year 2025, got 2023")) as info:
        scenario_from_text(
            "drilling:\n  blocks:\n    mabi:\n      first_year: 2025\n      last_year: 2023\n"
        )
    assert info.value.problems[0].line == 5
    assert info.value.problems[0].path == "drilling.blocks.mabi.last_year"


@pytest.mark.slow
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_shipped_scenario_runs_and_conserves_gas(path: Path) -> None:
    from cbm_sim.results.simulate import run

    scenario = load_scenario(path)
    results = run(scenario)
    years = sorted(results.annual["year"].unique())
    # every year of the horizon: the plan's to 2030, the hindcast's (backtest-2021) to 2025
    assert years == list(range(2021, scenario.horizon.end.year + 1))
    assert scenario.horizon.end.year in (2025, 2030)
    residual = results.annual_series("balance", "residual").abs().max()
    produced = results.annual_series("surface", "potential").max()
    assert residual <= 1e-9 * produced
    assert results.scenario == scenario


def test_lng_tanks_are_stated_as_liquid_or_as_gas_not_both_differently() -> None:
    from cbm_sim.scenario.model import StorageProject

    tanks = StorageProject(name="t", lng_liquid_1e4_m3=16.0)
    assert tanks.capacity_1e4_m3 == pytest.approx(9600.0)  # 16万m³ × 600
    again = StorageProject.model_validate(tanks.model_dump())
    assert again == tanks
    with pytest.raises(ValueError, match=r"expected 9600 万m3 of gas for 16 万m3 of LNG"):
        StorageProject(name="t", lng_liquid_1e4_m3=16.0, capacity_1e4_m3=12500.0)
    with pytest.raises(ValueError, match="capacity_1e4_m3"):
        StorageProject(name="t")


def test_storage_send_out_is_positive_and_bounded() -> None:
    from cbm_sim.scenario.model import StorageProject

    assert StorageProject(name="t", capacity_1e4_m3=100.0).sendout_1e4_m3_per_day is None
    ok = StorageProject(name="t", capacity_1e4_m3=100.0, sendout_1e4_m3_per_day=12.5)
    assert ok.sendout_1e4_m3_per_day == 12.5
    for bad in (0.0, -3.0, 2e4):
        with pytest.raises(ValueError, match=rf"sendout_1e4_m3_per_day[\s\S]*{bad:g}"):
            StorageProject(name="t", capacity_1e4_m3=100.0, sendout_1e4_m3_per_day=bad)


def test_bad_contract_terms_are_named() -> None:
    from cbm_sim.scenario.model import Contract, Contracts

    with pytest.raises(ValueError, match="heating_season_share"):
        Contract(name="c", annual_1e8_m3={2021: 1.0}, heating_season_share=1.5)
    with pytest.raises(ValueError, match="take_or_pay_share"):
        Contract(name="c", annual_1e8_m3={2021: 1.0}, take_or_pay_share=-0.1)
    with pytest.raises(ValueError, match=r"expected a value >= 0, got -1\.0 for 2021"):
        Contract(name="c", annual_1e8_m3={2021: -1.0})
    with pytest.raises(ValueError, match="holders_share"):
        Contracts(holders_share=2.0)


def test_model_copy_validates_and_reports_every_date_outside_a_shorter_horizon() -> None:
    import pydantic

    plan = load_scenario(Path(__file__).parent.parent / "scenarios" / "plan.yaml")
    shorter = plan.horizon.model_copy(update={"end": dt.date(2023, 12, 31)})
    with pytest.raises(pydantic.ValidationError) as err:
        plan.model_copy(update={"horizon": shorter})
    text = str(err.value)
    # every commissioning date after 2023 at once, each with its place
    assert "lng.plants.8.commissioned" in text and "lng.plants.9.commissioned" in text
    assert "storage.projects.1.commissioned" in text
    with pytest.raises(pydantic.ValidationError, match="must be after start"):
        plan.horizon.model_copy(update={"end": dt.date(2021, 1, 1)})  # the start itself
    with pytest.raises(pydantic.ValidationError, match="extra"):
        plan.model_copy(update={"sede": 3})
    assert plan.model_copy() == plan  # no update: as pydantic's


def test_python_path_refuses_twin_names_and_bad_uncertainty() -> None:
    import pydantic

    from cbm_sim.scenario.model import LNG, Distribution, LNGPlant

    with pytest.raises(pydantic.ValidationError, match="duplicate name 'A'"):
        LNG(
            plants=[
                LNGPlant(name="A", capacity_t_per_day=1),
                LNGPlant(name="A", capacity_t_per_day=2),
            ]
        )
    with pytest.raises(pydantic.ValidationError, match="no 'peak_rate' in type_curves"):
        Scenario(uncertainty={"type_curves.peak_rate": Distribution(dist="uniform", low=0, high=1)})


def test_validate_reports_field_and_cross_field_problems_together(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "horizon: {end: 2024-12-31}\n"
        "lng:\n"
        "  plants:\n"
        "    - {name: A, capacity_t_per_day: 500, commissioned: 2026-01-01}\n"
        "    - {name: A, capacity_t_per_day: 500, commissioned: 2023-01-01, retired: 2022-01-01}\n"
        "uncertainty:\n"
        "  type_curves.decline_scale: {dist: uniform, low: 1.1, high: 0.9}\n"
        "  lng.plants.0.name: {dist: normal, mean: 1, sd: 0.1}\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    got = [(p.line, p.path) for p in err.value.problems]
    assert got == [
        (4, "lng.plants[0].commissioned"),  # outside the horizon (a rule of the whole scenario)
        (5, "lng.plants[1].retired"),  # before commissioned (a rule of the plant)
        (5, "lng.plants[1].name"),  # duplicate (a rule of the section)
        (7, "uncertainty.type_curves.decline_scale"),  # low > high (a field)
        (8, "uncertainty.lng.plants.0.name"),  # not a number (a rule of the whole scenario)
    ], err.value


def test_the_plan_scenario_drills_what_the_readme_says() -> None:
    # README, "What it answers": "an assumed programme of 2,000 new wells a year in
    # 2022–2025 (20 % horizontal), halved from 2026, placed in proportion to each proved
    # block's undrilled proved acreage" — held against scenarios/plan.yaml
    import re

    from cbm_sim.cluster import build

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    said = re.search(
        r"programme\s+of ([\d,]+) new wells a year in (\d{4})–(\d{4}) \((\d+) % horizontal\), "
        r"halved from (\d{4}), placed in\s+proportion to each proved block's undrilled proved "
        r"acreage",
        readme,
    )
    assert said is not None, "the README no longer states the plan scenario's programme"
    total, first, last, horizontal, halved = said.groups()
    total_wells = float(total.replace(",", ""))
    plan = load_scenario(Path(__file__).parent.parent / "scenarios" / "plan.yaml")
    blocks = plan.drilling.blocks

    def wells(year: int) -> tuple[float, float]:
        v, h = zip(*(wells_of(b, year) for b in blocks.values()), strict=True)
        return sum(v), sum(h)

    for year in range(int(first), int(last) + 1):
        v, h = wells(year)
        assert v + h == total_wells, year
        assert h == pytest.approx(int(horizontal) / 100 * total_wells)
    v, h = wells(int(halved))
    assert v + h == pytest.approx(total_wells / 2)
    assert all(b.first_year == int(first) for b in blocks.values())
    # the allocation: each proved block's share of the wells is its share of the undrilled
    # proved acreage at the end of 2021 (largest remainders to whole wells: ±1 per type)
    m = build.build(Scenario(horizon=Horizon(end=dt.date(2022, 12, 31), step_days=30)))
    room = {
        b.info.id: b.resource.undrilled_km2(1)
        for b in m.blocks
        if b.info.proved_reserves_m3 is not None
    }
    for block_id, km2 in room.items():
        prog = blocks.get(block_id)
        got = 0.0 if prog is None else sum(wells_of(prog, int(first)))
        assert got == pytest.approx(total_wells * km2 / sum(room.values()), abs=2), block_id


def wells_of(prog: BlockProgramme, year: int) -> tuple[float, float]:
    """A block programme's vertical and horizontal wells in ``year``."""
    from cbm_sim.scenario.paths import value_at

    v = value_at(prog.vertical_wells_per_year, year) if prog.vertical_wells_per_year else 0.0
    h = value_at(prog.horizontal_wells_per_year, year) if prog.horizontal_wells_per_year else 0.0
    return v, h
