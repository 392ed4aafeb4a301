"""The studio's JSON API through a test client: every route, its bad input, runs and jobs.

Runs use a quick base (the plan scenario with monthly steps, 0.7 s a run) in a pool of one
worker; the numbers of the plan scenario itself are pinned elsewhere (test_reproducibility).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from cbm_sim.studio.api import MAX_BODY_BYTES, create_app
from cbm_sim.studio.drafts import Workspace
from cbm_sim.studio.jobs import Jobs
from cbm_sim.studio.runs import Runner

PLAN = Path(__file__).resolve().parents[1] / "scenarios" / "plan.yaml"
QUICK = f"""# the plan scenario with monthly steps, for quick runs in tests
extends: {PLAN}
name: quick
horizon:
  step_days: 30  # assumption: a quick look (README: moves the totals by about 1-2 %)
"""


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("studio")
    (root / "scenarios").mkdir()
    (root / "scenarios" / "quick.yaml").write_text(QUICK, encoding="utf-8")
    workspace = Workspace(root / "scenarios", root)
    runner = Runner(workspace.runs_dir, workers=1, warm=False)
    jobs = Jobs()
    app = create_app(workspace, runner, jobs, allowed_hosts=("testserver",))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, workspace, runner, jobs
    jobs.close()
    runner.close()


def _fields(response) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


def _wait(client, job_id: str, timeout_s: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still running after {timeout_s} s")


# --------------------------------------------------------------------------- reading
def test_the_page_fonts_and_api_description_are_served_from_the_package(studio):
    client = studio[0]
    page = client.get("/")
    assert page.status_code == 200 and "/static/app.js" in page.text
    assert "http" not in page.text.replace("http-equiv", "")  # nothing from the internet
    for asset in ("/static/app.js", "/static/style.css", "/static/api.html"):
        text = client.get(asset).text
        assert "https://" not in text and "http://" not in text, asset
    font = client.get("/fonts/ui.ttf")
    assert font.status_code == 200 and len(font.content) > 10_000
    spec = client.get("/api/openapi.json").json()
    assert {"/api/runs", "/api/validate", "/api/jobs/ensemble"} <= set(spec["paths"])
    assert client.get("/docs").status_code == 404  # the CDN-hosted docs are off


def test_a_scenario_comes_with_its_levers_units_bounds_and_sources(studio):
    client = studio[0]
    listed = {s["id"] for s in client.get("/api/scenarios").json()}
    assert listed == {"quick"}
    body = client.get("/api/scenarios/quick").json()
    levers = {lever["id"]: lever for lever in body["levers"]}
    rigs = levers["drilling.blocks.mabi.rigs"]
    assert (rigs["lo"], rigs["hi"], rigs["base"]) == (0.0, 200.0, 65)  # plan.yaml's 马必
    assert rigs["labels"]["en"] == "Mabi: drilling rigs"
    assert rigs["source"].startswith("assumption:")
    assert body["step_days"] == 30 and body["has_uncertainty"]
    download = client.get("/api/scenarios/quick/yaml")
    assert download.text == QUICK and "attachment" in download.headers["content-disposition"]


# --------------------------------------------------------------------------- bad input
BAD_REQUESTS = [
    ("get", "/api/scenarios/no-such", None, 404, "scenario_id"),
    ("get", "/api/scenarios/..%2Fplan", None, 404, "path"),  # no route: ../plan
    ("get", "/api/scenarios/no-such/yaml", None, 404, "scenario_id"),
    ("get", "/fonts/evil.ttf", None, 422, "name"),
    ("put", "/api/runs", None, 405, "path"),
    ("post", "/api/validate", {"changes": {}}, 422, "base"),
    ("post", "/api/validate", {"base": "quick", "extra": 1}, 422, "extra"),
    ("post", "/api/validate", {"base": "../../etc/passwd"}, 422, "base"),
    ("post", "/api/validate", {"base": "quick", "changes": {"no.such": 1}}, 422, "no.such"),
    ("post", "/api/validate", {"base": "quick", "changes": {"drilling.blocks.mabi.rigs": 380}},
     422, "drilling.blocks.mabi.rigs"),
    ("post", "/api/validate", {"base": "quick", "changes": {"drilling.achieved_share": "x"}},
     422, "drilling.achieved_share"),
    ("post", "/api/validate", {"base": "quick", "name": "a/b"}, 422, "name"),
    ("post", "/api/runs", {"base": "quick",
     "changes": {"lng.plants[8].commissioned": "2040-01-01"}}, 422, "lng.plants[8].commissioned"),
    ("post", "/api/draft.yaml", {"base": "quick", "changes": {"commissioning.delay_days": -5}},
     422, "commissioning.delay_days"),
    ("post", "/api/scenarios", {"base": "quick", "name": "quick"}, 422, "name"),
    ("get", "/api/runs/zz", None, 422, "run_id"),
    ("get", "/api/runs/0123456789abcdef", None, 404, "run"),
    ("get", "/api/runs/0123456789abcdef/targets", None, 404, "run"),
    ("get", "/api/runs/0123456789abcdef/valuation", None, 404, "run"),
    ("get", "/api/runs/0123456789abcdef/annual", None, 404, "run"),
    ("get", "/api/runs/0123456789abcdef/compare/0123456789abcdee", None, 404, "run"),
    ("get", "/api/runs/0123456789abcdef/charts/pie.svg", None, 422, "chart"),
    ("get", "/api/runs/0123456789abcdef/charts/value.svg?lang=fr", None, 422, "lang"),
    ("get", "/api/runs/0123456789abcdef/files/..%2F..%2Fetc%2Fpasswd", None, 404, "path"),
    ("get", "/api/runs/0123456789abcdef/files/secret.txt", None, 422, "name"),
    ("post", "/api/jobs/ensemble", {"base": "quick", "n": 0}, 422, "n"),
    ("post", "/api/jobs/ensemble", {"base": "quick", "n": 100000}, 422, "n"),
    ("post", "/api/jobs/ensemble", {"base": "quick", "step_days": 90}, 422, "step_days"),
    ("post", "/api/jobs/goalseek", {"base": "quick", "year": 2025, "target": 1, "lever": "magic"},
     422, "lever"),
    ("post", "/api/jobs/goalseek", {"base": "quick", "year": 2045, "target": 500,
     "lever": "drilling"}, 422, "year"),
    ("post", "/api/jobs/goalseek", {"base": "quick", "year": 2025, "target": 500,
     "lever": "drilling", "quantity": "lng.output"}, 422, "quantity"),
    ("post", "/api/jobs/goalseek", {"base": "quick", "year": 2025, "target": 500,
     "lever": "drilling", "low": 3, "high": 1}, 422, "high"),
    ("post", "/api/jobs/report", {"run": "0123456789abcdef"}, 404, "run"),
    ("post", "/api/jobs/report", {"run": "nope"}, 422, "run"),
    ("post", "/api/jobs/report", {"run": "0123456789abcdef", "lang": "fr"}, 422, "lang"),
    ("get", "/api/jobs/nope", None, 422, "job_id"),
    ("get", "/api/jobs/0123456789ab", None, 404, "job"),
    ("delete", "/api/jobs/0123456789ab", None, 404, "job"),
    ("get", "/api/jobs/0123456789ab/charts/fan-value.svg", None, 404, "job"),
    ("get", "/api/jobs/0123456789ab/files/members.csv", None, 404, "job"),
    ("get", "/api/jobs/0123456789ab/report.pdf", None, 404, "job"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "url", "body", "status", "field"), BAD_REQUESTS)
def test_bad_input_on_every_route_is_a_4xx_naming_the_field(
    studio, method, url, body, status, field
):
    client = studio[0]
    response = getattr(client, method)(url, json=body) if body is not None else getattr(
        client, method)(url)  # fmt: skip
    assert response.status_code == status, response.text
    assert field in _fields(response), response.json()
    assert "Traceback" not in response.text
    assert client.get("/api/health").json()["status"] == "ok"  # the server goes on


def test_a_scenario_problem_gives_the_message_of_cbm_sim_validate(studio):
    client = studio[0]
    response = client.post(
        "/api/validate", json={"base": "quick", "changes": {"drilling.blocks.mabi.rigs": 380}}
    )
    (error,) = response.json()["errors"]
    assert error["message"] == "expected less than or equal to 200, got 380"
    assert error["where"].startswith("my-scenarios/quick-studio.yaml:")


def test_runs_and_jobs_beyond_their_limits_are_refused_with_429(studio, monkeypatch):
    client = studio[0]
    monkeypatch.setattr("cbm_sim.studio.runs.MAX_PENDING_RUNS", 0)
    busy = client.post(
        "/api/runs", json={"base": "quick", "changes": {"drilling.achieved_share": 0.7}}
    )
    assert busy.status_code == 429 and "queued or running" in busy.json()["detail"]
    monkeypatch.setattr("cbm_sim.studio.jobs.MAX_QUEUED", 0)
    busy = client.post("/api/jobs/ensemble", json={"base": "quick", "n": 2})
    assert busy.status_code == 429 and "waiting" in busy.json()["detail"]
    assert client.get("/api/health").status_code == 200


def test_malformed_json_oversized_bodies_and_foreign_hosts_are_refused(studio):
    client = studio[0]
    bad = client.post(
        "/api/runs", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert bad.status_code == 422 and _fields(bad)
    big = client.post(
        "/api/validate",
        content=b"x" * (MAX_BODY_BYTES + 1),
        headers={"content-type": "application/json"},
    )
    assert big.status_code == 413 and _fields(big) == ["body"]


def test_a_chunked_body_is_counted_refused_above_the_limit_and_passed_on_below_it(studio):
    client = studio[0]

    def chunked(body: bytes, size: int = 4096):
        for start in range(0, len(body), size):
            yield body[start : start + size]  # a generator: sent without Content-Length

    big = client.post(
        "/api/validate",
        content=chunked(b"x" * (MAX_BODY_BYTES + 1)),
        headers={"content-type": "application/json"},
    )
    assert big.status_code == 413 and _fields(big) == ["body"], big.text  # not the parser's 400
    fits = client.post(
        "/api/validate",
        content=chunked(b'{"base": "quick", "changes": {}}', size=5),
        headers={"content-type": "application/json"},
    )
    assert fits.status_code == 200, fits.text  # the body arrived whole, in order
    foreign = client.get("/api/health", headers={"host": "evil.example"})
    assert foreign.status_code == 400
    text = client.post(
        "/api/validate", content=b'{"base": "quick"}', headers={"content-type": "text/plain"}
    )
    assert text.status_code == 422  # a form post from another page is not JSON


# --------------------------------------------------------------------------- runs
@pytest.mark.slow
def test_a_run_is_an_ordinary_run_folder_and_its_verdict_is_the_folder_s(studio):
    client, workspace, _, _ = studio
    draft = {"base": "quick", "changes": {"drilling.achieved_share": 1.2}, "name": "faster"}
    first = client.post("/api/runs", json=draft)
    assert first.status_code == 200, first.text
    run = first.json()
    assert run["changes"] == [{"lever": "drilling.achieved_share", "base": 1.0, "new": 1.2}]
    folder = workspace.runs_dir / run["run"]
    read = client.get(f"/api/runs/{run['run']}").json()  # waits for the folder
    assert read["verdict"] == run["verdict"]
    assert (
        read["meta"]["scenario"] == "faster"
        and "achieved_share: 1.2" in read["meta"]["studio_draft"]
    )
    assert (folder / "meta.json").is_file() and (folder / "daily.parquet").is_file()
    targets = pd.read_csv(folder / "targets.csv")
    total = targets[(targets["sub_cluster"] == "total") & (targets["year"] == 2025)]
    (row,) = [r for r in run["verdict"] if r["sub_cluster"] == "total" and r["year"] == 2025]
    assert row["simulated"] == float(total["simulated"].iloc[0])
    # the same scenario under another name is the same run (no second simulation)
    again = client.post("/api/runs", json={**draft, "name": "same-again"}).json()
    assert again["run"] == run["run"]
    for route in ("targets", "valuation", "annual"):
        rows = client.get(f"/api/runs/{run['run']}/{route}").json()
        assert rows and isinstance(rows[0], dict)
    svg = client.get(f"/api/runs/{run['run']}/charts/value.svg?lang=en")
    assert svg.status_code == 200 and svg.text.lstrip().startswith("<?xml")
    csv = client.get(f"/api/runs/{run['run']}/files/targets.csv")
    assert csv.content == (folder / "targets.csv").read_bytes()
    base = client.post("/api/runs", json={"base": "quick"}).json()
    compared = client.get(f"/api/runs/{run['run']}/compare/{base['run']}").json()
    assert [c["path"] for c in compared["inputs"]] == ["drilling.achieved_share"]
    production = [
        o for o in compared["outputs"] if o["quantity"] == "production.total" and o["year"] == 2025
    ]
    assert production and production[0]["b"] > production[0]["a"]
    assert {r["name_en"] for r in run["verdict"] if r["id"] == "output.total"} == {
        "Cluster output value"
    }


@pytest.mark.slow
def test_cbm_sim_run_of_a_saved_scenario_reproduces_the_studios_numbers(studio, monkeypatch):
    from click.testing import CliRunner

    from cbm_sim.cli import main

    client, workspace, _, _ = studio
    draft = {
        "base": "quick",
        "name": "reproduce",
        "changes": {
            "drilling.blocks.zaoyuan.vertical_wells_per_year": {"2023": 500, "2024": 450},
            "storage.projects[1].commissioned": "2026-06-30",
            "valuation.lng_price_yuan_per_t": {"2025": 5000},
        },
    }
    saved = client.post("/api/scenarios", json=draft)
    assert saved.status_code == 201, saved.text
    run = client.post("/api/runs", json=draft).json()
    studio_folder = workspace.runs_dir / run["run"]
    client.get(f"/api/runs/{run['run']}")  # the folder is written
    monkeypatch.chdir(workspace.root)  # where a planner would run it
    result = CliRunner().invoke(main, ["run", "my-scenarios/reproduce.yaml", "-o", "runs/by-hand"])
    assert result.exit_code == 0, result.output
    by_hand = workspace.root / "runs" / "by-hand"
    for name in ("targets.csv", "annual.csv", "valuation.csv", "scenario.yaml"):
        assert (by_hand / name).read_bytes() == (studio_folder / name).read_bytes(), name


@pytest.mark.slow
def test_a_run_whose_worker_dies_fails_with_a_message_and_the_next_run_works(studio):
    client, _, runner, _ = studio
    warm = client.post(
        "/api/runs", json={"base": "quick", "changes": {"drilling.achieved_share": 0.9}}
    )
    pool = runner._pool
    assert pool is not None
    import threading

    def kill_soon() -> None:
        # as soon as the next run is in flight (a fixed sleep raced the run: a warm quick run
        # can end within 0.3 s), kill the worker running it
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not set(runner._inflight) - {warm.json()["run"]}:
            time.sleep(0.002)
        for process in list(pool._processes.values()):
            os.kill(process.pid, signal.SIGKILL)

    killer = threading.Thread(target=kill_soon)
    killer.start()
    dead = client.post(
        "/api/runs", json={"base": "quick", "changes": {"drilling.achieved_share": 0.8}}
    )
    killer.join()
    assert dead.status_code == 500, dead.text
    assert "worker process died" in dead.json()["detail"]
    assert client.get("/api/health").status_code == 200
    again = client.post(
        "/api/runs", json={"base": "quick", "changes": {"drilling.achieved_share": 0.8}}
    )
    assert again.status_code == 200, again.text


# --------------------------------------------------------------------------- jobs
@pytest.mark.slow
def test_an_ensemble_runs_in_the_background_with_progress_and_its_charts(studio):
    client, workspace, _, _ = studio
    started = client.post("/api/jobs/ensemble", json={"base": "quick", "n": 2, "step_days": 30})
    assert started.status_code == 202, started.text
    job = _wait(client, started.json()["id"])
    assert job["status"] == "done", job
    assert job["result"]["members"] == 2 and job["result"]["failed"] == 0
    assert {r["target"] for r in job["result"]["headline"]} == {"output.total", "production.total"}
    folder = Path(job["result"]["folder"])
    assert folder.parent == workspace.runs_dir and (folder / "meta.json").is_file()
    chart = client.get(f"/api/jobs/{job['id']}/charts/probability.svg")
    assert chart.status_code == 200 and "<svg" in chart.text
    csv = client.get(f"/api/jobs/{job['id']}/files/probabilities.csv")
    assert csv.content == (folder / "probabilities.csv").read_bytes()


@pytest.mark.slow
def test_a_goal_seek_can_be_cancelled_and_its_process_ends(studio):
    client, _, _, jobs = studio
    started = client.post(
        "/api/jobs/goalseek",
        json={"base": "quick", "year": 2025, "target": 100, "quantity": "production.total",
              "lever": "drilling", "low": 1, "high": 4},
    )  # fmt: skip
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]
    deadline = time.monotonic() + 60
    while jobs.get(job_id).process is None and time.monotonic() < deadline:
        time.sleep(0.1)
    process = jobs.get(job_id).process
    cancelled = client.delete(f"/api/jobs/{job_id}")
    assert cancelled.status_code == 200
    job = _wait(client, job_id)
    assert job["status"] == "cancelled"
    process.join(timeout=10)
    assert not process.is_alive()
    assert client.get(f"/api/jobs/{job_id}/report.pdf").status_code == 409


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Origin": "https://evil.example"}, 403),
        ({"Origin": "null"}, 403),  # a sandboxed frame of another page
        ({"Sec-Fetch-Site": "cross-site"}, 403),
        ({"Origin": "http://testserver"}, 200),  # the studio's own page
        ({}, 200),  # a tool, not a browser
    ],
)
def test_a_page_of_another_origin_cannot_change_anything(studio, headers, status):
    client = studio[0]
    res = client.post("/api/validate", json={"base": "quick", "changes": {}}, headers=headers)
    assert res.status_code == status, res.text
    if status == 403:
        assert res.json()["errors"][0]["field"] == "origin"
        assert "cross-origin" in res.json()["detail"]
    # reading stays open to any page (nothing changes)
    assert client.get("/api/scenarios", headers=headers).status_code == 200


def test_a_draft_with_a_chinese_name_downloads_under_that_name(studio):
    from urllib.parse import quote

    client = studio[0]
    res = client.post("/api/draft.yaml", json={"base": "quick", "changes": {}, "name": "多钻井"})
    assert res.status_code == 200, res.text
    disposition = res.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=")
    assert f"filename*=UTF-8''{quote('多钻井.yaml')}" in disposition
