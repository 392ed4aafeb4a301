"""The studio as a planner meets it: ``cbm-sim studio`` on loopback, driven by headless
Chromium (Debian's package, through Playwright for Python), and a bounded load test.

The browser test needs ``/usr/bin/chromium`` (``.ci/run`` installs it as root: ``apt-get
install -y chromium``) and the ``playwright`` package (the test extras); without either it is
skipped and says why. Playwright never downloads a browser here: it is pointed at Debian's.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from cbm_sim.scenario.files import load_scenario

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("studio-server")]

PLAN = Path(__file__).resolve().parents[1] / "scenarios" / "plan.yaml"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
"""The flags this machine needs: without the background-networking ones Chromium keeps
trying to reach Google's hosts, which a closed network refuses."""
QUICK = f"""# the plan scenario with monthly steps: the tests' base (runs of ~0.7 s)
extends: {PLAN}
name: quick
horizon:
  step_days: 30  # assumption: a quick look (README: moves the totals by about 1-2 %)
"""
FROZEN = f"""# decline only to 2025, monthly steps: the load test's base (runs of ~0.2 s)
extends: {PLAN.parent / "frozen-2021.yaml"}
name: frozen
horizon:
  end: 2025-12-31  # assumption: the load test needs many runs, not the 2030 verdict
  step_days: 30  # assumption: a quick look
"""
LOAD_RUNS = 20


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """``cbm-sim studio`` in a subprocess on a free loopback port, in a fresh workspace."""
    root = tmp_path_factory.mktemp("studio-server")
    (root / "scenarios").mkdir()
    (root / "scenarios" / "quick.yaml").write_text(QUICK, encoding="utf-8")
    (root / "scenarios" / "frozen.yaml").write_text(FROZEN, encoding="utf-8")
    port = _free_port()
    log = (root / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "cbm_sim", "studio", "scenarios/quick.yaml", "--port", str(port)],
        cwd=root,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    try:
        while True:
            try:
                if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError((root / "server.log").read_text())
            time.sleep(0.2)
        printed = (root / "server.log").read_text()
        assert f"cbm-sim studio: http://127.0.0.1:{port}/" in printed  # the address is printed
        yield url, root
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:  # pragma: no cover
            process.kill()
        log.close()


def test_twenty_concurrent_runs_are_all_answered_and_none_mixed(server):
    url, _ = server
    prices = [round(0.52 + 0.05 * k, 2) for k in range(LOAD_RUNS)]  # the base's is 1

    async def one(client: httpx.AsyncClient, scale: float) -> dict:
        body = {"base": "frozen", "changes": {"valuation.gas_price_scale": scale},
                "name": f"load-{scale}"}  # fmt: skip
        response = await client.post(f"{url}/api/runs", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    async def all_at_once() -> list[dict]:
        async with httpx.AsyncClient(timeout=httpx.Timeout(120.0)) as client:
            return await asyncio.gather(*(one(client, s) for s in prices))

    started = time.monotonic()
    answers = asyncio.run(all_at_once())
    elapsed = time.monotonic() - started
    assert len({a["run"] for a in answers}) == LOAD_RUNS  # twenty scenarios, twenty runs
    for scale, answer in zip(prices, answers, strict=True):
        assert answer["changes"] == [
            {"lever": "valuation.gas_price_scale", "base": 1.0, "new": scale}
        ]
        read = httpx.get(f"{url}/api/runs/{answer['run']}", timeout=60).json()
        assert read["verdict"] == answer["verdict"]  # the answer is its own run's folder
        assert f"gas_price_scale: {scale}" in read["meta"]["studio_draft"]
        assert read["meta"]["scenario"] == f"load-{scale}"
    totals = [
        next(r["simulated"] for r in a["verdict"] if r["sub_cluster"] == "total") for a in answers
    ]
    assert totals == sorted(totals) and len(set(totals)) == LOAD_RUNS  # each its own price
    print(f"{LOAD_RUNS} concurrent runs answered in {elapsed:.1f} s")


def _browser():
    if not CHROMIUM.is_file():
        pytest.skip(
            f"no Chromium at {CHROMIUM}: the browser tests need Debian's package "
            "(`apt-get install -y chromium` as root; .ci/run does it)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed (pip install -e '.[test]')")
    return sync_playwright


def test_a_planner_moves_the_drilling_lever_saves_runs_an_ensemble_and_downloads_the_report(
    server, tmp_path
):
    url, root = server
    sync_playwright = _browser()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            clock = time.monotonic()

            def lap(what: str) -> None:  # the phases' times, shown with pytest -s
                nonlocal clock
                print(f"{what}: {time.monotonic() - clock:.1f} s")
                clock = time.monotonic()

            page.goto(f"{url}/?scenario=quick")
            total = page.locator('#verdict .year[data-year="2025"] .total')
            total.wait_for(timeout=60_000)
            before = total.get_attribute("data-value")
            assert "晋城" in page.locator("header h1").inner_text()  # Chinese by default

            lap("page and base verdict")
            # move the drilling lever: the verdict changes
            slider = page.locator('.lever[data-lever="drilling.achieved_share"] input[type=range]')
            slider.fill("1.5")
            page.wait_for_function(
                "(before) => { const el = document.querySelector("
                "'#verdict .year[data-year=\"2025\"] .total');"
                " return el && el.dataset.value !== before; }",
                arg=before,
                timeout=60_000,
            )
            assert float(total.get_attribute("data-value")) > float(before)
            timing = page.evaluate("window.__studio.timings.at(-1)")
            print(f"lever -> verdict in the browser: {timing['seconds']:.2f} s")
            assert timing["seconds"] < 60

            # two tabs at once: each shows the run of its own scenario
            other = browser.new_page(viewport={"width": 1400, "height": 1000})
            other.goto(f"{url}/?scenario=quick")
            other.locator('#verdict .year[data-year="2025"] .total').wait_for(timeout=60_000)
            shown = {}
            for tab, share in ((page, "0.8"), (other, "1.2")):
                shown[share] = tab.evaluate("window.__studio.run.run")
                tab.locator('.lever[data-lever="drilling.achieved_share"] input[type=range]').fill(
                    share
                )
            for tab, share in ((page, "0.8"), (other, "1.2")):
                tab.wait_for_function(
                    "(before) => window.__studio.run.run !== before && "
                    "document.querySelector('#status').textContent !== ''",
                    arg=shown[share],
                    timeout=60_000,
                )
                run = tab.evaluate("window.__studio.run")
                assert run["changes"][0]["new"] == float(share)
                meta = httpx.get(f"{url}/api/runs/{run['run']}", timeout=60).json()["meta"]
                assert f"achieved_share: {share}" in meta["studio_draft"]
                drawn = tab.locator('#verdict .year[data-year="2025"] .total')
                (total_row,) = [r for r in run["verdict"]
                                if r["sub_cluster"] == "total" and r["year"] == 2025]  # fmt: skip
                assert float(drawn.get_attribute("data-value")) == total_row["simulated"]
            other.close()
            slider.fill("1.5")  # back to the move above
            page.wait_for_function(
                "() => window.__studio.run.changes.length === 1 && "
                "window.__studio.run.changes[0].new === 1.5",
                timeout=60_000,
            )

            # the comparison with the base: the changed input and the moved outputs
            page.click('button[data-tab="compare"]')
            changed = page.locator('#compare-inputs tr[data-path="drilling.achieved_share"]')
            changed.wait_for(timeout=60_000)
            assert "钻井计划完成率" in changed.inner_text()  # its display name
            assert page.locator("#compare-outputs tr").count() > 1
            lap("lever")
            # bad input: the field and the message on the page, no stack trace
            rigs = page.locator('.lever[data-lever="drilling.blocks.mabi.rigs"]')
            page.locator('details[data-group="drilling"]').evaluate("d => d.open = true")
            rigs.locator("input[type=number]").fill("380")
            rigs.locator("input[type=number]").dispatch_event("change")
            error = rigs.locator(".error")
            error.wait_for(state="visible", timeout=30_000)
            assert "expected less than or equal to 200, got 380" in error.inner_text()
            assert "Traceback" not in page.content()
            rigs.locator("button.reset").click()
            page.wait_for_selector("#problems", state="hidden", timeout=60_000)

            lap("bad input")
            # save the scenario: a YAML that extends its base, which cbm-sim validates
            page.click('button[data-tab="files"]')
            page.fill("#save-name", "browser-check")
            page.click("#save")
            saved = page.locator("#saved-file")
            saved.wait_for(timeout=30_000)
            assert saved.inner_text() == "my-scenarios/browser-check.yaml"
            scenario = load_scenario(root / "my-scenarios" / "browser-check.yaml")
            assert scenario.drilling.achieved_share == 1.5

            lap("save")
            # a tiny ensemble: progress, then P(met) and the fans
            page.click('button[data-tab="ensemble"]')
            page.fill("#ens-n", "2")
            page.fill("#ens-step", "30")
            page.click("#ens-run")
            page.wait_for_selector("#ens-result table", timeout=120_000)
            assert page.locator('#ens-result tr[data-target="output.total"]').count() == 2
            page.wait_for_function(
                "document.querySelector('#chart-probability').naturalWidth > 0", timeout=60_000
            )

            lap("ensemble")
            # the PDF report, downloaded
            page.click('button[data-tab="files"]')
            page.click("#report-run")
            link = page.locator("#report-download")
            link.wait_for(timeout=180_000)
            with page.expect_download(timeout=60_000) as download:
                link.click()
            pdf = tmp_path / "report.pdf"
            download.value.save_as(pdf)
            assert pdf.read_bytes()[:5] == b"%PDF-"

            lap("report")
            # English by a switch
            page.click("#lang")
            assert page.locator("header h1").inner_text().startswith("Jincheng")
            assert not re.search(r"[\u4e00-\u9fff]", page.locator(".tabs").inner_text())
            assert errors == []
        finally:
            browser.close()


def test_only_loopback_names_reach_a_loopback_studio(server):
    # a web page elsewhere cannot reach it through a DNS name pointed at 127.0.0.1
    url, _ = server
    port = url.rsplit(":", 1)[1]
    assert httpx.get(f"{url}/api/health", timeout=10).status_code == 200
    for name in ("localhost", "127.0.0.1"):
        ok = httpx.get(f"{url}/api/health", headers={"Host": f"{name}:{port}"}, timeout=10)
        assert ok.status_code == 200, name
    evil = httpx.get(f"{url}/api/health", headers={"Host": f"evil.example:{port}"}, timeout=10)
    assert evil.status_code == 400
