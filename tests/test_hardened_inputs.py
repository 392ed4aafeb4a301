"""The fixed corpus of issue #18: every hostile or careless scenario file found by the fuzz
campaign is refused by ``validate`` with exit 2 and file:line, fast, without a traceback — or,
at the edge of the accepted domain, runs to finite, sane results.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from cbm_sim.cli import main
from cbm_sim.cluster.engine import RunRecord
from cbm_sim.results import simulate
from cbm_sim.scenario import reading, runsize
from cbm_sim.scenario.files import ScenarioError, load_scenario
from cbm_sim.scenario.model import Horizon, Scenario

_LAUGHS = "\n".join(
    ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [
        f"{chr(97 + i)}: &{chr(97 + i)} [{', '.join([f'*{chr(96 + i)}'] * 9)}]"
        for i in range(1, 10)
    ]
)
_PLANT = "lng:\n  plants:\n    - name: A\n      capacity_t_per_day: 500\n"

# case: (files {name: text or bytes}, file given to validate, "file:line", bits of the message)
CORPUS: dict[str, tuple[dict[str, str | bytes], str, str, list[str]]] = {
    "recursive-alias": (
        {"s.yaml": "name: x\na: &a [1, *a]\n"},
        "s.yaml",
        "s.yaml:2",
        ["recursive alias"],
    ),
    "deep-lists": (
        {"s.yaml": "name: x\nlng: " + "[" * 5000 + "]" * 5000 + "\n"},
        "s.yaml",
        "s.yaml:2",
        [f"nested deeper than {reading.MAX_DEPTH} levels"],
    ),
    "deep-maps": (
        {"s.yaml": "name: x\nlng: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n"},
        "s.yaml",
        "s.yaml:2",
        [f"nested deeper than {reading.MAX_DEPTH} levels"],
    ),
    "billion-laughs": ({"s.yaml": _LAUGHS + "\n"}, "s.yaml", "s.yaml:", ["alias bomb"]),
    "many-values": (
        {"s.yaml": "name: x\ndescription: [" + ",".join(["0"] * 30000) + "]\n"},
        "s.yaml",
        "s.yaml:2",
        [f"more than {reading.MAX_NODES:,} values"],
    ),
    "10-MB-file": (
        {"s.yaml": 'name: x\ndescription: "' + "x" * (10 * 2**20) + '"\n'},
        "s.yaml",
        "s.yaml",
        ["file too large", "10,485,784 bytes", f"at most {reading.MAX_FILE_BYTES:,}"],
    ),
    "nul-character": (
        {"s.yaml": 'name: x\ndescription: "a\x00b"\n'},
        "s.yaml",
        "s.yaml:2",
        ["control character U+0000 at column 16"],
    ),
    "control-character": (
        {"s.yaml": "name: x\ndescription: a\x07b\n"},
        "s.yaml",
        "s.yaml:2",
        ["control character U+0007"],
    ),
    "not-utf8": (
        {"s.yaml": "name: x\ndescription: caf\xe9\n".encode("latin-1")},
        "s.yaml",
        "s.yaml:2",
        ["not UTF-8 text: byte 0xe9 at column 17"],
    ),
    "parent-not-utf8": (
        {"p.yaml": "seed: 1\nname: caf\xe9\n".encode("latin-1"), "c.yaml": "extends: p.yaml\n"},
        "c.yaml",
        "p.yaml:2",
        ["not UTF-8 text: byte 0xe9"],
    ),
    "parent-nul": (
        {"p.yaml": 'seed: 1\ndescription: "\x00"\n', "c.yaml": "extends: p.yaml\nseed: 2\n"},
        "c.yaml",
        "p.yaml:2",
        ["control character U+0000"],
    ),
    "parent-malformed": (
        {"p.yaml": "seed: [1\n", "c.yaml": "extends: p.yaml\n"},
        "c.yaml",
        "p.yaml:",
        ["malformed YAML"],
    ),
    "extends-chain-1000": (
        {
            **{f"c{i}.yaml": f"extends: c{i + 1}.yaml\n" for i in range(999)},
            "c999.yaml": "name: end\n",
        },
        "c0.yaml",
        f"c{reading.MAX_EXTENDS - 1}.yaml:1",
        [f"extends chain longer than {reading.MAX_EXTENDS} files"],
    ),
    "extends-name-too-long": (
        {"c.yaml": "extends: " + "x" * 5000 + ".yaml\n"},
        "c.yaml",
        "c.yaml:1",
        ["file name too long"],
    ),
    "extends-nul-in-path": (
        {"c.yaml": 'extends: "a\\0b.yaml"\n'},
        "c.yaml",
        "c.yaml:1",
        ["the path contains a NUL byte"],
    ),
    "invalid-date": (
        {"s.yaml": "name: x\nhorizon:\n  start: 2025-02-30\n"},
        "s.yaml",
        "s.yaml:3",
        ["invalid date '2025-02-30'", "day is out of range"],
    ),
    "integer-of-10000-digits": (
        {"s.yaml": "name: x\nseed: " + "9" * 10000 + "\n"},
        "s.yaml",
        "s.yaml:2",
        ["invalid value"],
    ),
    "infinite-mtbf": (
        {"s.yaml": _PLANT + "      reliability: {mean_days_between_failures: .inf}\n"},
        "s.yaml",
        "s.yaml:5",
        ["mean_days_between_failures", "finite number"],
    ),
    "infinite-repair": (
        {"s.yaml": _PLANT + "      reliability: {mean_repair_days: .inf}\n"},
        "s.yaml",
        "s.yaml:5",
        ["mean_repair_days", "finite number"],
    ),
    "tiny-mtbf": (
        {"s.yaml": _PLANT + "      reliability: {mean_days_between_failures: 1.0e-300}\n"},
        "s.yaml",
        "s.yaml:5",
        ["facility_mtbf_days must be in [1, 36525] day"],
    ),
    "horizon-from-1600": (
        {"s.yaml": "name: x\nhorizon:\n  start: 1600-01-01\n"},
        "s.yaml",
        "s.yaml:3",
        ["supported range 2021-01-01 .. 2050-12-31", "1600-01-01"],
    ),
    "horizon-to-2300": (
        {"s.yaml": "name: x\nhorizon:\n  end: 2300-12-31\n"},
        "s.yaml",
        "s.yaml:3",
        ["supported range 2021-01-01 .. 2050-12-31", "2300-12-31"],
    ),
    "horizon-to-9999": (
        {"s.yaml": "name: x\nhorizon:\n  end: 9999-12-31\n"},
        "s.yaml",
        "s.yaml:3",
        ["supported range", "9999-12-31"],
    ),
    "1e12-wells-a-year": (
        {
            "s.yaml": "name: x\ndrilling:\n  blocks:\n    mabi:\n"
            "      vertical_wells_per_year: {2022: 1.0e12}\n"
        },
        "s.yaml",
        "s.yaml:5",
        ["wells_per_block_year must be in [0, 5000]", "1000000000000.0 for 2022"],
    ),
    "incline-times-10": (
        {"s.yaml": "name: x\ntype_curves:\n  incline_days_scale: 10\n"},
        "s.yaml",
        "s.yaml:3",
        ["incline_days_scale must be in (0, 5]", "got 10.0"],
    ),
    "1e300-in-a-demand-path": (
        {"s.yaml": "name: x\ndemand:\n  industry:\n    annual_1e8_m3: {2021: 1.0e300}\n"},
        "s.yaml",
        "s.yaml:4",
        ["gas_volume_1e8_m3_per_year must be in [0, 1000]", "1e+300 for 2021"],
    ),
    "1e300-in-a-people-path": (
        {"s.yaml": "name: x\ndemand:\n  residential:\n    people_1e4: {2025: 1.0e300}\n"},
        "s.yaml",
        "s.yaml:4",
        ["people_1e4 must be in [0, 10000]"],
    ),
    "1e300-in-a-price-path": (
        {"s.yaml": "name: x\nvaluation:\n  lng_price_yuan_per_t: {2025: 1.0e300}\n"},
        "s.yaml",
        "s.yaml:3",
        ["valuation_unit_value must be in [0, 1e+09]"],
    ),
    "absolute-name": (
        {"s.yaml": "name: /tmp/elsewhere\n"},
        "s.yaml",
        "s.yaml:1",
        ["path separator"],
    ),
    "parent-dir-name": ({"s.yaml": "name: ../..\n"}, "s.yaml", "s.yaml:1", ["path separator"]),
    "hidden-name": ({"s.yaml": "name: .x\n"}, "s.yaml", "s.yaml:1", ["not starting with '.'"]),
    "too-many-plants": (
        {"s.yaml": "lng:\n  plants:\n" + "    - {name: A, capacity_t_per_day: 1}\n" * 201},
        "s.yaml",
        "s.yaml:2",
        ["at most 200 items"],
    ),
    "injection-month-13": (
        {"s.yaml": "storage:\n  injection_months: [4, 13]\n"},
        "s.yaml",
        "s.yaml:2",
        ["less than or equal to 12"],
    ),
}


def _write(tmp_path: Path, files: dict[str, str | bytes]) -> None:
    for name, text in files.items():
        data = text if isinstance(text, bytes) else text.encode("utf-8")
        (tmp_path / name).write_bytes(data)


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_the_corpus_is_refused_with_file_and_line(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files, entry, where, bits = CORPUS[case]
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, files)
    started = time.perf_counter()
    result = CliRunner().invoke(main, ["validate", entry])
    took = time.perf_counter() - started
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.output.startswith(where), result.output[:300]
    for bit in bits:
        assert bit in result.output, (bit, result.output[:500])
    assert took < 10.0, f"{case} took {took:.1f} s"  # refused fast, never a hang


def test_symlink_loop_in_extends_is_reported_at_the_extends_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    os.symlink("b.yaml", "a.yaml")
    os.symlink("a.yaml", "b.yaml")
    Path("c.yaml").write_text("name: x\nextends: a.yaml\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", "c.yaml", "a.yaml"])
    assert result.exit_code == 2
    assert "c.yaml:2: extends: cannot use 'a.yaml': symbolic link loop" in result.output
    assert "a.yaml: cannot read scenario file: too many levels of symbolic links" in result.output


def test_bad_paths_given_to_validate_are_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    long_name = "y" * 300 + ".yaml"
    result = CliRunner().invoke(main, ["validate", long_name, "missing.yaml", "."])
    assert result.exit_code == 2
    assert "cannot read scenario file: file name too long" in result.output
    assert "missing.yaml: cannot read scenario file: no such file or directory" in result.output
    assert "cannot read scenario file: is a directory" in result.output
    with pytest.raises(ScenarioError, match="NUL byte"):
        load_scenario("a\0b.yaml")


def test_a_run_too_large_for_the_machine_is_refused_with_its_estimate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    blocks = "".join(
        f"    {b}: {{vertical_wells_per_year: {{2022: 5000}}, horizontal_wells_per_year: "
        f"{{2022: 5000}}}}\n"
        for b in ("mabi", "shizhuang", "zaoyuan")
    )
    Path("s.yaml").write_text(
        "name: x\nhorizon: {end: 2050-12-31}\ndrilling:\n  blocks:\n" + blocks, encoding="utf-8"
    )
    # the model alone (load_scenario would check the size against this machine's memory)
    size = runsize.estimate(Scenario.model_validate(yaml.safe_load(Path("s.yaml").read_text())))
    monkeypatch.setattr(runsize, "MAX_RUN_BYTES", 1e9)  # a 1 GB machine
    result = CliRunner().invoke(main, ["validate", "s.yaml"])
    assert result.exit_code == 2
    assert result.output.startswith("s.yaml:5: drilling.blocks.mabi: run too large")
    assert "900,000 planned new wells" in result.output and "GB of memory" in result.output
    assert size.planned_wells == 3 * 10000 * 30  # 2021..2050, held flat
    assert size.memory_bytes == pytest.approx(
        runsize.BASE_BYTES
        + runsize.BYTES_PER_PLANNED_WELL * size.planned_wells
        + runsize.BYTES_PER_STEP_SERIES * size.steps * size.series
    )


def test_the_plan_fits_the_run_size_limit() -> None:
    plan = load_scenario(Path(__file__).parent.parent / "scenarios" / "plan.yaml")
    size = runsize.check(plan, limit_bytes=runsize.MAX_RUN_BYTES)
    assert 0.3e9 < size.memory_bytes < 0.6e9  # measured 414 MB peak RSS


def _record(values: np.ndarray, residual: np.ndarray) -> RunRecord:
    dates = pd.date_range("2021-01-01", periods=values.size)
    return RunRecord(
        step_dates=dates,
        columns=[
            ("surface", "production", "m3", values),
            ("balance", "residual", "m3", residual),
        ],
        events=[],
        wells_at_end=0,
    )


def test_results_with_nan_or_an_open_balance_are_refused() -> None:
    ok = np.ones(4)
    simulate.check_sane(_record(ok, np.zeros(4)))
    with pytest.raises(
        simulate.InsaneResultError, match=r"nan in surface/production .* 2021-01-03"
    ):
        simulate.check_sane(_record(np.array([1.0, 1.0, np.nan, 1.0]), np.zeros(4)))
    with pytest.raises(simulate.InsaneResultError, match=r"inf in balance/residual"):
        simulate.check_sane(_record(ok, np.array([0.0, np.inf, 0.0, 0.0])))
    with pytest.raises(simulate.InsaneResultError, match=r"does not close: residual 5 m3"):
        simulate.check_sane(_record(ok, np.array([0.0, 0.0, 0.0, 5.0])))


# At the edge of the accepted domain a run completes with finite results (monthly steps, two
# years: each run takes about a second).
EDGES = {
    "never-failing-plant": {"lng": {"plants": [{"name": "A", "capacity_t_per_day": 500,
                            "reliability": {"mean_days_between_failures": 36525.0}}]}},
    "daily-failing-plant": {"lng": {"plants": [{"name": "A", "capacity_t_per_day": 500,
                            "reliability": {"mean_days_between_failures": 1.0,
                                            "mean_repair_days": 3650.0}}]}},
    "largest-demand": {"demand": {"industry": {"annual_1e8_m3": {2021: 1000.0}}}},
    "slowest-incline": {"type_curves": {"incline_days_scale": 5.0, "peak_rate_scale": 10.0,
                                        "decline_scale": 10.0},
                        "drilling": {"blocks": {"mabi": {"vertical_wells_per_year": {2021: 500}}}}},
    "largest-volumes": {"mine_gas": {"drainage_1e8_m3_per_year": {2021: 1000.0},
                                     "heating_gas_1e8_m3_per_year": {2021: 1000.0}},
                        "pipelines": {"outbound_cap_1e8_m3_per_year": {2021: 0.0}}},
}  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(EDGES))
def test_edges_of_the_accepted_domain_run_to_finite_results(case: str) -> None:
    data = {
        "name": case,
        "horizon": {"start": dt.date(2021, 1, 1), "end": dt.date(2022, 12, 31), "step_days": 30},
        **EDGES[case],
    }
    scenario = Scenario.model_validate(data)
    assert isinstance(scenario.horizon, Horizon)
    results = simulate.run(scenario)  # check_sane inside: no NaN, balance closed
    assert np.isfinite(results.annual["value"].to_numpy()).all()


def test_the_new_bounds_reach_the_json_schema() -> None:
    defs = Scenario.model_json_schema()["$defs"]
    mtbf = defs["Reliability"]["properties"]["mean_days_between_failures"]
    assert (mtbf["minimum"], mtbf["maximum"]) == (1.0, 36525.0)
    wells = defs["BlockProgramme"]["properties"]["vertical_wells_per_year"]
    assert wells["additionalProperties"]["maximum"] == 5000.0
    incline = defs["TypeCurveScaling"]["properties"]["incline_days_scale"]
    assert (incline["exclusiveMinimum"], incline["maximum"]) == (0.0, 5.0)


def test_a_finished_runs_scenario_is_read_back_without_the_size_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("name: x\n", encoding="utf-8")
    monkeypatch.setattr(runsize, "MAX_RUN_BYTES", 1.0)  # nothing fits
    with pytest.raises(ScenarioError, match="run too large"):
        load_scenario(path)
    assert load_scenario(path, check_size=False).name == "x"


MERGED = """\
name: merged
lng:
  plants:
    - &plant {name: A, capacity_t_per_day: 500, commissioned: 2024-01-01}
    - {<<: *plant, name: B}
    - <<: [*plant]
      name: C
      capacity_t_per_day: 300
"""


def test_a_yaml_merge_key_is_accepted_with_the_lines_of_what_it_merges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("s.yaml").write_text(MERGED, encoding="utf-8")
    plants = load_scenario("s.yaml").lng.plants
    assert [(p.name, p.capacity_t_per_day) for p in plants] == [
        ("A", 500.0), ("B", 500.0), ("C", 300.0),
    ]  # fmt: skip
    assert {p.commissioned for p in plants} == {dt.date(2024, 1, 1)}
    # a bad merged value is reported where it is written: the anchor's line
    Path("s.yaml").write_text(MERGED.replace("2024-01-01", "2051-01-01"), encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", "s.yaml"])
    assert result.exit_code == 2
    assert all(line.startswith("s.yaml:4: ") for line in result.output.splitlines())


def test_special_files_are_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "s.yaml"
    os.mkfifo(fifo)  # no writer: an open() without O_NONBLOCK would wait for ever
    for path, what in ((fifo, "a FIFO (named pipe)"), (Path("/dev/zero"), "a character device")):
        with pytest.raises(ScenarioError, match=re.escape(f"not a regular file but {what}")):
            load_scenario(path)
    with pytest.raises(ScenarioError, match="cannot read scenario file: is a directory"):
        load_scenario(tmp_path)
