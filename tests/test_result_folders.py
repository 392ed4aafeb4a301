"""Result folders you can trust (issue #18): checksums in meta.json, verified by ``report``,
``compare`` and ``Results.from_parquet``; stale staging folders removed; Ctrl-C and kills
never leave a partial or damaged folder; no file overwritten without ``--overwrite``."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import cbm_sim
from cbm_sim.cli import main
from cbm_sim.results import integrity
from cbm_sim.results.frames import Results
from cbm_sim.results.rundir import (
    OUTPUT_FILES,
    OutputExistsError,
    clean_stale,
    staged_directory,
)

SHORT = "name: short\nhorizon: {end: 2022-12-31, step_days: 30}\n"
_MAIN = "from cbm_sim.__main__ import _entry; _entry()"  # as the console script
_READY = "import cbm_sim.__main__, sys; sys.stderr.write('ready\\n'); sys.stderr.flush(); "


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("runs")
    (base / "short.yaml").write_text(SHORT, encoding="utf-8")
    out = base / "short"
    result = CliRunner().invoke(main, ["run", str(base / "short.yaml"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture
def copy(run_dir: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "copy"
    shutil.copytree(run_dir, dest)
    return dest


def test_meta_holds_version_scenario_hash_and_every_files_sha256(run_dir: Path) -> None:
    meta = json.loads((run_dir / "meta.json").read_text(encoding="utf-8"))
    assert meta["cbm_sim_version"] == cbm_sim.__version__
    assert meta["files"] == sorted(OUTPUT_FILES)
    assert set(meta["sha256"]) == set(OUTPUT_FILES) - {"meta.json"}
    for name, want in meta["sha256"].items():
        assert hashlib.sha256((run_dir / name).read_bytes()).hexdigest() == want
    assert meta["scenario_sha256"] == meta["sha256"]["scenario.yaml"]
    assert integrity.verify(run_dir)["scenario"] == "short"


def _damage(folder: Path, name: str, how: str) -> None:
    path = folder / name
    if how == "edit":
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))
    elif how == "truncate":
        path.write_bytes(path.read_bytes()[: max(1, path.stat().st_size // 3)])
    else:
        path.unlink()


@pytest.mark.parametrize("how", ["edit", "truncate", "remove"])
@pytest.mark.parametrize("name", sorted(OUTPUT_FILES))
def test_a_damaged_folder_is_refused_by_report_and_compare(
    copy: Path, tmp_path: Path, name: str, how: str
) -> None:
    _damage(copy, name, how)
    for args in (["report", str(copy), "-o", str(tmp_path / "r.pdf")], ["compare", str(copy)]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2, (args, result.output)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in result.output, result.output
        assert str(copy / name) in lines[0] or str(copy / "meta.json") in lines[0], lines[0]
    assert not (tmp_path / "r.pdf").exists()
    with pytest.raises(integrity.DamagedRunError):
        Results.from_parquet(copy)


def test_another_versions_folder_is_refused(copy: Path) -> None:
    meta = json.loads((copy / "meta.json").read_text(encoding="utf-8"))
    meta["cbm_sim_version"] = "0.0.1"
    meta["meta_sha256"] = integrity._meta_digest(meta)
    (copy / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    result = CliRunner().invoke(main, ["compare", str(copy)])
    assert result.exit_code == 2
    assert f"written by cbm-sim 0.0.1, this is {cbm_sim.__version__}" in result.output


def test_another_scenarios_yaml_is_refused(copy: Path) -> None:
    text = (copy / "scenario.yaml").read_text(encoding="utf-8")
    (copy / "scenario.yaml").write_text(text.replace("seed: 20220930", "seed: 1"), "utf-8")
    result = CliRunner().invoke(main, ["compare", str(copy)])
    assert result.exit_code == 2
    assert "scenario.yaml: SHA-256 differs from meta.json" in result.output


def test_no_verify_reads_an_edited_folder(copy: Path) -> None:
    targets = copy / "targets.csv"
    targets.write_text(targets.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert CliRunner().invoke(main, ["compare", str(copy)]).exit_code == 2
    result = CliRunner().invoke(main, ["compare", "--no-verify", str(copy)])
    assert result.exit_code == 0, result.output
    (copy / "annual.csv").write_text("edited\n", encoding="utf-8")
    assert Results.from_parquet(copy, verify=False).meta["scenario"] == "short"


def test_no_verify_still_refuses_an_unreadable_targets_csv(copy: Path) -> None:
    (copy / "targets.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["compare", "--no-verify", str(copy)])
    assert result.exit_code == 2
    assert "targets.csv: lacks columns" in result.output


def test_report_refuses_a_folder_without_its_scenario(copy: Path, tmp_path: Path) -> None:
    (copy / "scenario.yaml").unlink()
    result = CliRunner().invoke(
        main, ["report", "--no-verify", str(copy), "-o", str(tmp_path / "r.pdf")]
    )
    assert result.exit_code == 2
    assert "scenario.yaml: missing; the report values the run at the prices" in result.output


def _stale(parent: Path, name: str) -> list[Path]:
    return sorted(p for p in parent.iterdir() if p.name.startswith(f".{name}."))


def test_stale_staging_folders_of_dead_runs_are_removed(tmp_path: Path) -> None:
    final = tmp_path / "run"
    dead = 2**22 + 12345  # above the default pid_max of Linux (4194304): never a live process
    host = os.uname().nodename
    leftovers = [
        tmp_path / f".run.partial-0123abcd-{dead}@{host}",
        tmp_path / ".run.partial-xyz123",  # an older cbm-sim's name
    ]
    alive = tmp_path / f".run.partial-89abcdef-{os.getpid()}@{host}"
    other_host = tmp_path / f".run.partial-89abcdef-{dead}@another-host"
    for folder in (*leftovers, alive, other_host):
        folder.mkdir()
        (folder / "meta.json").write_text("{}", encoding="utf-8")
    with staged_directory(final, overwrite=True) as stage:
        (stage / "x.txt").write_text("new", encoding="utf-8")
    assert (final / "x.txt").read_text(encoding="utf-8") == "new"
    assert _stale(tmp_path, "run") == sorted([alive, other_host])
    # an older cbm-sim's run killed between its two renames: its old results come back
    final_old = tmp_path / f".run.old-0123abcd-{dead}@{host}"
    shutil.rmtree(final)
    final_old.mkdir()
    (final_old / "meta.json").write_text('{"old": true}', encoding="utf-8")
    assert clean_stale(final) == [final_old]
    assert json.loads((final / "meta.json").read_text()) == {"old": True}


def _cli(*args: str, ready: bool = False, **kw: object) -> subprocess.Popen[bytes]:
    code = _READY + _MAIN if ready else _MAIN
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # as from a terminal: a test runner's worker may ignore SIGINT, and a child inherits
        # an ignored signal (then Python installs no KeyboardInterrupt handler at all)
        preexec_fn=_default_sigint,
        **kw,  # type: ignore[arg-type]
    )


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.mark.slow
def test_ctrl_c_at_any_moment_exits_130_without_traceback(tmp_path: Path) -> None:
    scenario = tmp_path / "short.yaml"
    scenario.write_text(SHORT, encoding="utf-8")
    interrupted: list[float] = []
    for delay in (0.1, 0.4, 1.0, 2.5):  # while importing, loading, running
        # the interpreter's own start-up (site) is before any of our code: signal after it
        proc = _cli("run", str(scenario), "-o", str(tmp_path / "out"), "--overwrite", ready=True)
        assert proc.stderr is not None and proc.stderr.readline() == b"ready\n"
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        text = err.decode("utf-8", "replace")
        if proc.returncode == 0:
            continue  # finished before the signal
        assert proc.returncode == 130, text
        assert "interrupted" in text and "Traceback" not in text, text
        interrupted.append(delay)
    assert len(interrupted) >= 2, interrupted  # the signals did land inside runs


@pytest.mark.slow
def test_killed_runs_leave_the_old_or_the_new_complete_folder(tmp_path: Path) -> None:
    scenario = tmp_path / "short.yaml"
    scenario.write_text(SHORT, encoding="utf-8")
    out = tmp_path / "out"
    first = _cli("run", str(scenario), "-o", str(out))
    assert first.wait(timeout=120) == 0
    before = integrity.verify(out)["sha256"]
    rng = random.Random(18)
    for sig in (signal.SIGKILL, signal.SIGINT, signal.SIGKILL, signal.SIGINT):
        proc = _cli("run", str(scenario), "-o", str(out), "--overwrite")
        time.sleep(rng.uniform(0.5, 4.0))
        proc.send_signal(sig)
        proc.communicate(timeout=60)
        if not out.exists():  # killed between the two renames: the next run restores it
            clean_stale(out)
        assert integrity.verify(out)["sha256"] == before  # complete; same seed, same bytes
    last = _cli("run", str(scenario), "-o", str(out), "--overwrite")
    assert last.wait(timeout=120) == 0
    assert integrity.verify(out)["sha256"] == before
    assert _stale(tmp_path, "out") == []  # no staging leftovers after the next run


def test_compare_and_schema_overwrite_only_their_own_files(run_dir: Path, tmp_path: Path) -> None:
    existing = tmp_path / "mine.csv"
    existing.write_text("precious\n", encoding="utf-8")
    for args in (["compare", str(run_dir), "-o"], ["schema", "-o"]):
        for extra in ([], ["--overwrite"]):  # a file cbm-sim did not write: never replaced
            result = CliRunner().invoke(main, [*args, str(existing), *extra])
            assert result.exit_code == 2 and "mine.csv exists" in result.output, result.output
            assert existing.read_text(encoding="utf-8") == "precious\n"
        ours = tmp_path / "ours.out"
        assert CliRunner().invoke(main, [*args, str(ours)]).exit_code == 0
        first = ours.read_bytes()
        refused = CliRunner().invoke(main, [*args, str(ours)])
        assert refused.exit_code == 2 and "exists; pass --overwrite" in refused.output
        assert CliRunner().invoke(main, [*args, str(ours), "--overwrite"]).exit_code == 0
        assert ours.read_bytes() == first  # replaced (by the same content)
        ours.unlink()


def test_a_scenario_name_never_leads_outside_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("/tmp/abs", "../..", "a/../../b"):
        Path("s.yaml").write_text(f"name: {json.dumps(name)}\n", encoding="utf-8")
        result = CliRunner().invoke(main, ["run", "s.yaml"])
        assert result.exit_code == 2 and "s.yaml:1: name:" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]


def test_an_output_name_too_long_is_refused_and_a_long_one_written(tmp_path: Path) -> None:
    with (
        pytest.raises(OutputExistsError, match="file name too long"),
        staged_directory(tmp_path / ("r" * 300)),
    ):
        pytest.fail("the stage must not be entered")
    assert list(tmp_path.iterdir()) == []
    long = tmp_path / ("r" * 250)  # legal; its staging folder gets a shorter name
    with staged_directory(long) as stage:
        (stage / "x.txt").write_text("x", encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == [long.name]
