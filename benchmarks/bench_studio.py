"""Lever → verdict in the studio, measured in the browser (issue 28: ≤ 2 s on 2 cores).

Starts ``cbm-sim studio scenarios/plan.yaml`` on a free loopback port (a fresh workspace in a
temporary folder), opens it in headless Debian Chromium (Playwright pointed at
``/usr/bin/chromium``), waits for the base verdict, then moves the drilling lever
(``drilling.achieved_share``) to each of ``--values`` in turn and waits each time for the new
2025 verdict. The time of a move is the page's own: from the lever's first input event to the
new verdict drawn (``window.__studio.timings``; it includes the page's 0.25 s debounce, the
request, the validation of the draft, the full daily run in a warm worker — simulation,
valuation, target check — and the drawing). The studio computes no preview: the verdict is the
full run's. The server's own share (validation + run) is printed beside it.

    python benchmarks/bench_studio.py [--values 1.1 1.2 1.3 1.4 1.5] [--screenshot PNG]

``--screenshot`` also writes the page after the last move (the README's image,
``docs/images/studio.png``). Prints the machine's load (``os.getloadavg``) before and after:
figures taken on a busy machine are not publishable.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
VERDICT = '#verdict .year[data-year="2025"] .total'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--values", type=float, nargs="+", default=[1.1, 1.2, 1.3, 1.4, 1.5])
    parser.add_argument("--screenshot", type=Path, default=None)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    print(f"studio: load before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as work:
        cli = [sys.executable, "-m", "cbm_sim", "studio", str(ROOT / "scenarios" / "plan.yaml"),
               "--port", str(port)]  # fmt: skip
        server = subprocess.Popen(cli, cwd=work, stdout=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            time.sleep(5)  # the workers' warm-up run
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                page = browser.new_page(viewport={"width": 1440, "height": 1250})
                page.goto(f"{url}/?scenario=plan")
                page.locator(VERDICT).wait_for(timeout=120_000)
                slider = page.locator(
                    '.lever[data-lever="drilling.achieved_share"] input[type=range]'
                )
                for value in args.values:
                    before = page.locator(VERDICT).get_attribute("data-value")
                    slider.fill(str(value))
                    page.wait_for_function(
                        "(b) => document.querySelector('" + VERDICT.replace("'", "\\'") +
                        "').dataset.value !== b", arg=before, timeout=120_000,
                    )  # fmt: skip
                timings = page.evaluate("window.__studio.timings")[-len(args.values) :]
                if args.screenshot is not None:
                    page.wait_for_function(
                        "document.querySelector('#chart').naturalWidth > 0 && "
                        "!document.querySelector('#chart').classList.contains('loading')",
                        timeout=120_000,
                    )
                    page.screenshot(path=str(args.screenshot))
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    for value, t in zip(args.values, timings, strict=True):
        print(f"studio: drilling.achieved_share = {value}: verdict in {t['seconds']:.2f} s "
              f"(server {t['server_s']:.2f} s)")  # fmt: skip
    seconds = [t["seconds"] for t in timings]
    print(f"studio: median {statistics.median(seconds):.2f} s, max {max(seconds):.2f} s "
          f"over {len(seconds)} moves; load after: {os.getloadavg()}")  # fmt: skip


if __name__ == "__main__":
    main()
