"""The output contract: which files a run writes, and that writing is all-or-nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from cbm_sim.results.frames import Results, annualise
from cbm_sim.results.rundir import (
    OUTPUT_FILES,
    TARGET_COLUMNS,
    FrameFileError,
    OutputExistsError,
    frame_files,
    staged_directory,
    write_run,
)
from cbm_sim.scenario.files import load_scenario
from cbm_sim.scenario.model import Scenario


def _results() -> Results:
    dates = pd.date_range("2021-12-30", "2022-01-02", freq="D")
    daily = pd.DataFrame(
        {
            "date": dates,
            "entity": "surface",
            "quantity": "production",
            "unit": "m3",
            "value": [1.0, 2.0, 3.0, 4.0],
        }
    )
    events = pd.DataFrame(
        {"time": dates[:1], "entity": ["lng:LNG-1"], "event": ["trip"], "detail": ["x"]}
    )
    scenario = Scenario(name="tiny", seed=5)
    return Results(
        daily=daily,
        annual=annualise(daily),
        events=events,
        meta={"scenario": "tiny", "seed": 5},
        scenario=scenario,
    )


def _targets() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "note": ["extra column kept after the contract's"],
            "status": ["missed"],
            "year": [2025],
            "sub_cluster": ["total"],
            "item": ["output.total"],
            "simulated": [400.0],
            "target": [500.0],
            "gap": [-100.0],
            "gap_pct": [-20.0],
        }
    )


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_write_run_writes_every_file_of_the_contract(tmp_path: Path) -> None:
    out = tmp_path / "run"
    valuation = pd.DataFrame({"year": [2025], "item": ["output.total"], "value_1e8_yuan": [1.0]})
    with staged_directory(out) as stage:
        write_run(stage, _results(), targets=_targets(), valuation=valuation)
    assert _listing(out) == sorted(OUTPUT_FILES)
    assert _listing(tmp_path) == ["run"]  # nothing left beside it
    annual = pd.read_csv(out / "annual.csv")
    assert list(annual.columns) == ["year", "entity", "quantity", "unit", "value"]
    # flows are summed per year: 1+2 in 2021, 3+4 in 2022 (results.annualise); the CSV in
    # the planner's 亿m3, the Parquet file in base units (m3)
    assert annual["value"].tolist() == pytest.approx([3e-8, 7e-8], rel=1e-12)
    assert set(annual["unit"]) == {"亿m3"}
    parquet = pd.read_parquet(out / "annual.parquet")
    assert parquet["value"].tolist() == [3.0, 7.0] and set(parquet["unit"]) == {"m3"}
    targets = pd.read_csv(out / "targets.csv")
    assert list(targets.columns) == [*TARGET_COLUMNS, "note"]
    assert load_scenario(out / "scenario.yaml") == Scenario(name="tiny", seed=5)
    meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))
    assert meta["seed"] == 5 and meta["files"] == sorted(OUTPUT_FILES)
    assert Results.from_parquet(out).daily["value"].sum() == 10.0


def test_write_run_refuses_a_target_check_without_the_contract_columns(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="gap_pct"):
        write_run(
            tmp_path,
            _results(),
            targets=_targets().drop(columns="gap_pct"),
            valuation=pd.DataFrame(),
        )


@pytest.mark.parametrize("error", [RuntimeError("boom"), KeyboardInterrupt()])
def test_failure_inside_the_stage_leaves_nothing(tmp_path: Path, error: BaseException) -> None:
    out = tmp_path / "run"
    with pytest.raises(type(error)), staged_directory(out) as stage:
        (stage / "annual.csv").write_text("partial", encoding="utf-8")
        raise error
    assert _listing(tmp_path) == []


def test_existing_directory_is_refused_without_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "meta.json").write_text("{}", encoding="utf-8")
    with pytest.raises(OutputExistsError, match="--overwrite"), staged_directory(out):
        pytest.fail("the stage must not be entered")
    assert _listing(out) == ["meta.json"]


def test_overwrite_replaces_a_previous_run_only_on_success(tmp_path: Path) -> None:
    out = tmp_path / "run"
    with staged_directory(out) as stage:
        (stage / "x.txt").write_text("old", encoding="utf-8")
    assert _listing(out) == ["meta.json", "x.txt"]  # sealed: meta.json lists x.txt
    with pytest.raises(RuntimeError), staged_directory(out, overwrite=True) as stage:
        (stage / "x.txt").write_text("new", encoding="utf-8")
        raise RuntimeError("interrupted")
    assert (out / "x.txt").read_text(encoding="utf-8") == "old"
    with staged_directory(out, overwrite=True) as stage:
        (stage / "y.txt").write_text("new", encoding="utf-8")
    assert _listing(out) == ["meta.json", "y.txt"]  # replaced whole: x.txt does not survive
    assert _listing(tmp_path) == ["run"]


@pytest.mark.parametrize(
    ("files", "why"),
    [
        ({"chapter1.tex": "..."}, "no meta.json"),
        ({"meta.json": "{}", "precious.txt": "mine"}, "no checksums"),
    ],
)
def test_overwrite_never_replaces_a_directory_that_is_not_a_run(
    tmp_path: Path, files: dict[str, str], why: str
) -> None:
    precious = tmp_path / "thesis"
    precious.mkdir()
    for name, text in files.items():
        (precious / name).write_text(text, encoding="utf-8")
    with (
        pytest.raises(OutputExistsError, match=f"not a folder cbm-sim wrote \\({why}\\)"),
        staged_directory(precious, overwrite=True),
    ):
        pytest.fail("the stage must not be entered")
    assert _listing(precious) == sorted(files)


def test_a_run_directory_reads_back_with_its_scenario(tmp_path):
    import datetime as dt

    from cbm_sim.economics.targets import check_targets
    from cbm_sim.economics.valuation import ValuationConfig, value
    from cbm_sim.results import simulate
    from cbm_sim.results.frames import Results
    from cbm_sim.scenario.model import Horizon, Scenario

    sc = Scenario(
        name="cheap",
        horizon=Horizon(end=dt.date(2021, 12, 31), step_days=30),
        valuation=ValuationConfig(gas_price_scale=0.5),
    )
    res = simulate.run(sc)
    out = tmp_path / "run"
    out.mkdir()
    write_run(out, res, targets=check_targets(res), valuation=value(res))
    back = Results.from_parquet(out)
    assert back.scenario == sc
    assert value(back)["value_yuan"].sum() == pytest.approx(value(res)["value_yuan"].sum())


def test_a_run_directory_gets_ordinary_permissions(tmp_path):
    import os

    from cbm_sim.results.rundir import staged_directory

    umask = os.umask(0o022)
    try:
        with staged_directory(tmp_path / "out", overwrite=False) as stage:
            (stage / "x.txt").write_text("x")
    finally:
        os.umask(umask)
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o755


def test_valuation_csv_states_value_and_driver_in_planner_units() -> None:
    from cbm_sim.results.rundir import valuation_csv

    frame = pd.DataFrame(
        {
            "year": [2025, 2025],
            "item": ["surface", "green_finance"],
            "driver": ["surface.production", ""],
            "driver_value": [5e9, 3.0],
            "driver_unit": ["m3", "count"],
            "value_yuan": [2.5e9, 1e8],
            "basis": ["simulated", "exogenous (plan assumption)"],
        }
    )
    out = valuation_csv(frame)
    assert list(out.columns) == [
        "year", "item", "driver", "driver_value", "driver_unit", "value", "unit", "basis"
    ]  # fmt: skip
    assert out["value"].tolist() == [25.0, 1.0] and set(out["unit"]) == {"亿元"}
    assert out["driver_value"].tolist() == [50.0, 3.0]
    assert out["driver_unit"].tolist() == ["亿m3", "count"]


def test_write_run_writes_the_same_bytes_on_any_arrow_pool(tmp_path, monkeypatch) -> None:
    # the run's writes switch Arrow to the system allocator (faster first write), unless the
    # user chose a pool; the files do not depend on it (each folder read back equal, the
    # Parquet bytes the same)
    import pyarrow as pa

    valuation = pd.DataFrame({"year": [2025], "item": ["output.total"], "value_1e8_yuan": [1.0]})
    folders = {}
    for pool in ("mimalloc", None):
        if pool is None:
            monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
        else:
            monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", pool)
            pa.set_memory_pool(pa.mimalloc_memory_pool())
        out = tmp_path / f"run-{pool}"
        with staged_directory(out) as stage:
            write_run(stage, _results(), targets=_targets(), valuation=valuation)
        folders[pool] = out
        expected = "mimalloc" if pool else "system"
        assert pa.default_memory_pool().backend_name == expected
    for name in ("daily.parquet", "annual.parquet", "events.parquet", "annual.csv"):
        assert (folders["mimalloc"] / name).read_bytes() == (folders[None] / name).read_bytes()


def _valuation() -> pd.DataFrame:
    return pd.DataFrame({"year": [2025], "item": ["output.total"], "value_1e8_yuan": [1.0]})


def test_threaded_frames_are_the_bytes_of_to_parquet(tmp_path: Path) -> None:
    # the daily and event files come from a thread (rundir.FrameFiles), started by write_run
    # itself or before it (frame_files, as `run` does): the same bytes as pandas' to_parquet
    # in the caller's thread
    results = _results()
    with staged_directory(tmp_path / "own") as stage:
        write_run(stage, results, targets=_targets(), valuation=_valuation())
    with staged_directory(tmp_path / "early") as stage, frame_files(stage, results) as frames:
        write_run(stage, results, targets=_targets(), valuation=_valuation(), frames=frames)
    for name in ("daily", "events", "annual"):
        direct = tmp_path / f"{name}.parquet"
        getattr(results, name).to_parquet(direct, index=False)
        for folder in ("own", "early"):
            assert (tmp_path / folder / f"{name}.parquet").read_bytes() == direct.read_bytes()
    meta = json.loads((tmp_path / "early" / "meta.json").read_text(encoding="utf-8"))
    assert set(meta["sha256"]) == set(OUTPUT_FILES) - {"meta.json"}


@pytest.mark.parametrize("frame", ["daily", "events"])
def test_a_parquet_thread_that_fails_leaves_no_folder_and_names_its_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, frame: str
) -> None:
    from cbm_sim.results import rundir

    real = rundir._write_parquet

    def failing(out: Path, results: Results, frames: tuple[str, ...]) -> None:
        if frames == (frame,):
            raise OSError(28, "No space left on device")
        real(out, results, frames)

    monkeypatch.setattr(rundir, "_write_parquet", failing)
    out = tmp_path / "run"
    with pytest.raises(FrameFileError) as caught, staged_directory(out) as stage:
        write_run(stage, _results(), targets=_targets(), valuation=_valuation())
    assert str(caught.value) == (
        f"could not write {frame}.parquet: OSError: [Errno 28] No space left on device"
    )
    assert isinstance(caught.value.__cause__, OSError)
    assert _listing(tmp_path) == []  # no folder, no stage left beside it


def test_a_failure_beside_the_parquet_thread_waits_for_it_then_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the caller's thread fails while the Parquet thread still writes into the stage: the
    # stage is removed only after the thread is done (nothing left), and the caller's error
    # is the one raised
    import threading

    from cbm_sim.results import rundir

    real = rundir._write_parquet
    started, release = threading.Event(), threading.Event()
    finished: list[str] = []

    def slow(out: Path, results: Results, frames: tuple[str, ...]) -> None:
        if frames == ("daily",):
            started.set()
            release.wait(5)
        real(out, results, frames)
        finished.extend(frames)

    monkeypatch.setattr(rundir, "_write_parquet", slow)
    out = tmp_path / "run"
    with (
        pytest.raises(RuntimeError, match="boom"),
        staged_directory(out) as stage,
        frame_files(stage, _results()),
    ):
        assert started.wait(5)
        threading.Timer(0.2, release.set).start()
        raise RuntimeError("boom")
    assert finished == ["daily", "events"]  # waited for, not abandoned
    assert _listing(tmp_path) == []
