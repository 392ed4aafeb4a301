"""Ensembles under faults (issue #18): the output folder checked before any member runs and
replaced atomically; members journaled as they finish and resumed; dead workers retried with
the undisturbed result; a scheduler without workers or out of reach fails within its timeout.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from dask_clusters import local_cluster

from cbm_sim.cli import main
from cbm_sim.results import integrity
from cbm_sim.scenario.model import Distribution, Horizon, Scenario
from cbm_sim.studies import ensemble, journal
from cbm_sim.studies.ensemble import SchedulerError, execute, run_ensemble

SCENARIO = Scenario(
    name="faults",
    horizon=Horizon(end=dt.date(2021, 12, 31), step_days=30),
    uncertainty={
        "type_curves.peak_rate_scale": Distribution(dist="uniform", low=0.8, high=1.2),
    },
)
YAML = (
    "name: faults\nhorizon: {start: 2021-01-01, end: 2025-12-31, step_days: 30}\n"
    "uncertainty:\n  type_curves.peak_rate_scale: {dist: uniform, low: 0.8, high: 1.2}\n"
)
PRODUCTION = ("production",)


def test_output_folder_is_checked_before_any_member_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "s.yaml").write_text(YAML, encoding="utf-8")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("precious", encoding="utf-8")
    ran = []
    monkeypatch.setattr(ensemble, "run_member", lambda task: ran.append(task))
    for extra in ([], ["--overwrite"]):
        args = ["ensemble", str(tmp_path / "s.yaml"), "-n", "2", "--workers", "1", "-o", str(mine)]
        result = CliRunner().invoke(main, [*args, *extra])
        assert result.exit_code == 2, result.output
        assert "exists" in result.output or "not a cbm-sim run directory" in result.output
    assert ran == [] and (mine / "notes.txt").read_text(encoding="utf-8") == "precious"


@pytest.mark.slow
def test_overwrite_replaces_the_folder_whole(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(YAML, encoding="utf-8")
    out = tmp_path / "ens"
    base = ["ensemble", str(tmp_path / "s.yaml"), "-n", "2", "--workers", "1", "-o", str(out)]
    first = CliRunner().invoke(main, [*base, "--tornado"])
    assert first.exit_code == 0, first.output
    assert (out / "tornado.csv").is_file()
    integrity.verify(out)
    again = CliRunner().invoke(main, base)
    assert again.exit_code == 2 and "--overwrite" in again.output
    second = CliRunner().invoke(main, [*base, "--overwrite", "--seed", "7", "--no-tornado"])
    assert second.exit_code == 0, second.output
    assert not (out / "tornado.csv").exists()  # the old seed's tornado does not survive
    assert integrity.verify(out)["seed"] == 7
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ens", "s.yaml"]  # no leftovers


def test_a_failed_ensemble_keeps_its_members_and_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    undisturbed = run_ensemble(SCENARIO, 4, workers=1, seed=3, measures=PRODUCTION)
    kept = tmp_path / ".ens.members-x"

    def die_after_two(fraction: float) -> None:
        if fraction >= 0.5:
            raise KeyboardInterrupt  # Ctrl-C (or a lost scheduler) half-way

    with pytest.raises(KeyboardInterrupt):
        run_ensemble(
            SCENARIO, 4, workers=1, seed=3, measures=PRODUCTION, journal=kept,
            progress=die_after_two,
        )  # fmt: skip
    assert sorted(p.name for p in kept.glob("member-*.json")) == [
        "member-000000.json",
        "member-000001.json",
    ]
    ran: list[int] = []
    real = ensemble.run_member

    def counting(task: ensemble.MemberTask) -> ensemble.MemberOutcome:
        ran.append(task.index)
        return real(task)

    monkeypatch.setattr(ensemble, "run_member", counting)
    resumed = run_ensemble(SCENARIO, 4, workers=1, seed=3, measures=PRODUCTION, journal=kept)
    assert ran == [2, 3]  # only the members not yet finished
    pd.testing.assert_frame_equal(resumed.members, undisturbed.members)
    pd.testing.assert_frame_equal(resumed.failures, undisturbed.failures)


def _tamper(path: Path, how: str) -> None:
    body = json.loads(path.read_text(encoding="utf-8"))
    if how == "output x 10":  # the attack of issue 26: one member's output multiplied by 10
        column = body["wide"]["columns"].index("production.total")
        for row in body["wide"]["data"]:
            row[column] *= 10
    elif how == "truncated":
        path.write_text(path.read_text(encoding="utf-8")[:100], encoding="utf-8")
        return
    elif how == "another seed":  # a well-formed entry of another run, checksum and all
        body["seed"]["root"] = 4
        body["sha256"] = journal.entry_digest(body)
    elif how == "another version":
        body["cbm_sim_version"] = "0.0.1"
        body["sha256"] = journal.entry_digest(body)
    elif how == "failed":  # a failure is never taken as a result
        body.update(error="RuntimeError: out of memory", wide=None, statuses=None)
        body["sha256"] = journal.entry_digest(body)
    path.write_text(json.dumps(body), encoding="utf-8")


@pytest.mark.parametrize(
    ("how", "why"),
    [
        ("output x 10", "its checksum differs"),
        ("truncated", "unreadable"),
        ("another seed", "another run's entry (seed differs)"),
        ("another version", "another run's entry (cbm-sim version differs)"),
        ("failed", None),
    ],
)
def test_a_damaged_or_foreign_journal_entry_is_recomputed_and_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str, why: str | None
) -> None:
    kept = tmp_path / ".ens.members-x"
    first = run_ensemble(SCENARIO, 3, workers=1, seed=3, measures=PRODUCTION, journal=kept)
    _tamper(kept / "member-000001.json", how)
    ran: list[int] = []
    real = ensemble.run_member

    def counting(task: ensemble.MemberTask) -> ensemble.MemberOutcome:
        ran.append(task.index)
        return real(task)

    monkeypatch.setattr(ensemble, "run_member", counting)
    said: list[str] = []
    again = run_ensemble(
        SCENARIO, 3, workers=1, seed=3, measures=PRODUCTION, journal=kept, notify=said.append
    )
    assert ran == [1]  # only the damaged, foreign or failed member runs again
    pd.testing.assert_frame_equal(again.members, first.members)  # never the tampered values
    if why is None:
        assert said == []  # a failure is run again quietly: it is no damage
    else:
        assert len(said) == 1 and "1 journal entry damaged or from another run" in said[0]
        assert f"member-000001.json: {why}" in said[0], said[0]


def test_an_unreachable_scheduler_fails_within_its_timeout() -> None:
    started = time.monotonic()
    with pytest.raises(SchedulerError, match=r"cannot reach the Dask scheduler at tcp://127\.0"):
        execute(abs, [1, 2], scheduler="tcp://127.0.0.1:9", timeout_s=2.0)
    assert time.monotonic() - started < 30.0


@pytest.mark.slow
def test_a_scheduler_without_workers_fails_within_its_timeout() -> None:

    with local_cluster(0, processes=True) as cluster:
        started = time.monotonic()
        with pytest.raises(SchedulerError, match="has no workers"):
            execute(abs, [1, 2], scheduler=cluster.scheduler_address, timeout_s=2.0)
        assert time.monotonic() - started < 30.0


@pytest.mark.slow
def test_a_task_that_kills_its_worker_is_retried(tmp_path: Path) -> None:
    import dask

    marker = str(tmp_path / "died-once")

    def dies_once(x: int) -> int:
        if x == 1 and not os.path.exists(marker):
            open(marker, "w").close()
            os._exit(1)  # the worker process dies under the task
        return x * 10

    # allowed-failures 0: the first death is a KilledWorker, which execute() retries
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        local_cluster(2) as cluster,
    ):
        got = execute(dies_once, [0, 1, 2], scheduler=cluster.scheduler_address, timeout_s=60)
    assert got == [0, 10, 20] and os.path.exists(marker)


@pytest.mark.slow
def test_killing_a_worker_mid_ensemble_gives_the_undisturbed_members() -> None:
    from dask.distributed import Client

    undisturbed = run_ensemble(SCENARIO, 6, workers=1, seed=5, measures=PRODUCTION)
    with local_cluster(2) as cluster:
        # the pids come from a client closed before the ensemble opens its own: two clients
        # of one process on different event loops failed inside distributed ("bound to a
        # different event loop", seen in a fresh clone)
        with Client(cluster) as client:
            pids = list(client.run(os.getpid).values())
        killed: list[int] = []

        def kill_one(fraction: float) -> None:
            if not killed:
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])

        result = run_ensemble(
            SCENARIO, 6, scheduler=cluster.scheduler_address, seed=5, measures=PRODUCTION,
            progress=kill_one, timeout_s=60,
        )  # fmt: skip
    assert killed
    pd.testing.assert_frame_equal(result.members, undisturbed.members)
    assert result.failures.empty


@pytest.mark.slow
def test_report_refuses_an_edited_ensemble_folder(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(YAML, encoding="utf-8")
    out = tmp_path / "ens"
    args = ["ensemble", str(tmp_path / "s.yaml"), "-n", "2", "--workers", "1", "-o", str(out)]
    assert CliRunner().invoke(main, args).exit_code == 0
    with (out / "percentiles.csv").open("a", encoding="utf-8") as handle:
        handle.write("2025,output.total,元,1,2,3\n")
    result = CliRunner().invoke(
        main,
        ["report", str(tmp_path / "s.yaml"), "-o", str(tmp_path / "r.pdf"), "--ensemble", str(out)],
    )
    assert result.exit_code == 2
    assert "percentiles.csv: SHA-256 differs from meta.json" in result.output


@pytest.mark.slow
def test_a_task_that_keeps_killing_its_workers_ends_the_run() -> None:
    import dask

    def always_dies(x: int) -> int:
        os._exit(1)

    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        local_cluster(1) as cluster,
        pytest.raises(SchedulerError, match=r"item 0 killed its workers 4 times; giving up"),
    ):
        execute(always_dies, [0], scheduler=cluster.scheduler_address, timeout_s=60)


@pytest.mark.slow
def test_losing_every_worker_mid_run_fails_within_the_timeout() -> None:

    def slow(x: int) -> int:
        time.sleep(60 if x else 0)
        return x

    with local_cluster(1) as cluster:

        def retire(fraction: float) -> None:
            cluster.scale(0)  # the cluster goes away under the remaining member

        started = time.monotonic()
        with pytest.raises(SchedulerError, match=r"no Dask workers left .* 1 members to run"):
            execute(slow, [0, 1], scheduler=cluster.scheduler_address, progress=retire, timeout_s=3)
        assert time.monotonic() - started < 40.0


@pytest.mark.slow
def test_an_interrupted_ensemble_command_resumes_from_its_members(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "s.yaml").write_text(YAML, encoding="utf-8")
    args = ["ensemble", str(tmp_path / "s.yaml"), "-n", "4", "--workers", "1", "--seed", "9"]
    whole = CliRunner().invoke(main, [*args, "-o", str(tmp_path / "whole")])
    assert whole.exit_code == 0, whole.output
    real = ensemble.run_member

    def interrupted_at_2(task: ensemble.MemberTask) -> ensemble.MemberOutcome:
        if task.index == 2:
            raise KeyboardInterrupt
        return real(task)

    out = tmp_path / "ens"
    monkeypatch.setattr(ensemble, "run_member", interrupted_at_2)
    first = CliRunner().invoke(main, [*args, "-o", str(out)])
    assert first.exit_code == 130
    assert "2 finished members kept in" in first.output and "interrupted" in first.output
    assert not out.exists()
    (kept,) = tmp_path.glob(".ens.members-*")
    _tamper(kept / "member-000001.json", "output x 10")  # issue 26: used on resume before
    ran: list[int] = []

    def counting(task: ensemble.MemberTask) -> ensemble.MemberOutcome:
        ran.append(task.index)
        return real(task)

    monkeypatch.setattr(ensemble, "run_member", counting)
    second = CliRunner().invoke(main, [*args, "-o", str(out)])
    assert second.exit_code == 0, second.output
    assert ran == [1, 2, 3]  # the tampered member is recomputed, and the command says so
    assert "1 journal entry damaged or from another run, recomputed" in second.output
    for name in ("members.csv", "statuses.csv", "percentiles.csv", "probabilities.csv"):
        assert (out / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name
    assert not any(p.name.startswith(".ens.") for p in tmp_path.iterdir())  # journal removed
