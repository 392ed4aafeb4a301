"""``cbm-sim report`` killed anywhere (issue 26): the PDF and its charts folder are always the
old complete report or the new complete one — never a 0-byte PDF or a half-old charts folder —
no file changes after the command has ended (its PNG child dies with it), Ctrl-C exits 130
with one line, and the next write finishes a swap that a kill cut in two.

The reports here have a few pages (the page builders cut down in the child process): the
kills are about how the report is written, not what it draws.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from cbm_sim.cli import main
from cbm_sim.results import integrity, writer

TINY = "name: tiny\nhorizon: {end: 2025-12-31, step_days: 30}\n"
_FEW_PAGES = (
    "import cbm_sim.report.pdf as pdf\n"
    "pdf.PAGE_BUILDERS[:] = [pdf._cover, pdf._value]\n"  # five pages, both PNG writers busy
)
_MAIN = "from cbm_sim.__main__ import _entry\n_entry()\n"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def old_report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A run folder and a complete (old) report of it, written in this process."""
    import cbm_sim.report.pdf as pdf

    base = tmp_path_factory.mktemp("report")
    (base / "tiny.yaml").write_text(TINY, encoding="utf-8")
    assert CliRunner().invoke(main, ["run", str(base / "tiny.yaml"), "-o", str(base / "run")])
    saved = list(pdf.PAGE_BUILDERS)
    pdf.PAGE_BUILDERS[:] = [pdf._cover, pdf._value]
    try:
        done = CliRunner().invoke(main, ["report", str(base / "run"), "-o", str(base / "r.pdf")])
    finally:
        pdf.PAGE_BUILDERS[:] = saved
    assert done.exit_code == 0, done.output
    yield base


@pytest.fixture
def place(old_report: Path, tmp_path: Path) -> Path:
    """A copy of the old report (with its ledger) to be overwritten."""
    import shutil

    for name in ("r.pdf", "r_charts", ".cbm-sim-files.json"):
        src = old_report / name
        copy = shutil.copytree if src.is_dir() else shutil.copy2
        copy(src, tmp_path / name)
    return tmp_path


def _report(place: Path, old_report: Path, hook: str = "") -> subprocess.Popen[bytes]:
    """The report command in a subprocess; its stderr goes to ``<place>.err`` (a pipe would
    keep the caller waiting for whoever holds it open: the PNG child too)."""
    args = ["report", str(old_report / "run"), "-o", str(place / "r.pdf"), "--overwrite"]
    err = place.with_suffix(".err").open("wb")
    return subprocess.Popen(
        [sys.executable, "-c", _FEW_PAGES + hook + _MAIN, *args],
        stdout=subprocess.DEVNULL,
        stderr=err,
        start_new_session=True,  # its own process group: Ctrl-C reaches it and its child
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.default_int_handler),
    )


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _report_state(place: Path) -> tuple[str, str]:
    """(SHA-256 of the PDF, SHA-256 the charts folder says its PDF has), both complete."""
    from pypdf import PdfReader

    pdf = place / "r.pdf"
    assert pdf.stat().st_size > 0, "a 0-byte PDF"
    assert len(PdfReader(pdf).pages) >= 5  # the whole report, not a cut
    meta = integrity.verify(place / "r_charts")  # every chart file, none missing or half
    assert meta["report"] == "r.pdf"
    listed = set(meta["sha256"])
    assert {p.name for p in (place / "r_charts").iterdir()} == {*listed, "meta.json"}
    return _sha(pdf), str(meta["report_sha256"])


def _ended(pid: int, wait_s: float = 1.0) -> bool:
    """Whether process ``pid`` has ended (gone, or a zombie its new parent has not reaped)."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False


def _snapshot(place: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(place)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(place.rglob("*"))
        if p.is_file()
    }


def _finish(place: Path, old: tuple[str, str]) -> tuple[str, str]:
    """The next write recovers the dead one; then PDF and charts belong together."""
    writer.recover(place)
    state = _report_state(place)
    assert state[0] == state[1], "the PDF and the charts of different reports"
    assert sorted(p.name for p in place.iterdir()) == [".cbm-sim-files.json", "r.pdf", "r_charts"]
    return state


_KILL_AT_SWAP = """
import os, signal
from cbm_sim.results import writer
_real, _done = writer._swap_one, []
def _swap(*args):
    if len(_done) == {n}:
        os.kill(os.getpid(), signal.SIGKILL)
    _real(*args)
    _done.append(1)
writer._swap_one = _swap
"""


@pytest.mark.parametrize("swapped", [0, 1], ids=["before-the-pdf", "between-pdf-and-charts"])
def test_a_kill_at_the_swap_leaves_old_or_new_and_is_finished(
    place: Path, old_report: Path, swapped: int
) -> None:
    old = _report_state(place)
    proc = _report(place, old_report, _KILL_AT_SWAP.format(n=swapped))
    proc.wait(timeout=300)
    assert proc.returncode == -signal.SIGKILL
    pdf_now, charts_say = _report_state(place)  # each complete (old or new) even now
    assert charts_say == old[1]  # the charts folder is swapped last: still the old one
    assert (pdf_now == old[0]) == (swapped == 0)  # the PDF: old before its swap, new after
    new = _finish(place, old)
    assert new != old  # the swap had begun (its intent was written): it is finished


_CHILD_SIGNALS = """
import os, time
import cbm_sim.report.pdf as pdf
_parent = os.getpid()
_real = pdf.show_for_file
def _slow(fig, single):
    if single and os.getpid() != _parent:  # the PNG child, about to draw a chart
        with open(os.environ["CHILD_MARK"], "a") as f:
            f.write(f"{os.getpid()}\\n")
        time.sleep(2.0)
    return _real(fig, single=single)
pdf.show_for_file = _slow
"""


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["kill", "ctrl-c"])
def test_a_report_stopped_while_its_child_draws_leaves_the_old_one_and_no_writer(
    place: Path, old_report: Path, tmp_path_factory: pytest.TempPathFactory, sig: int
) -> None:
    old = _report_state(place)
    mark = tmp_path_factory.mktemp("mark") / "child"
    os.environ["CHILD_MARK"] = str(mark)
    try:
        proc = _report(place, old_report, _CHILD_SIGNALS)
    finally:
        del os.environ["CHILD_MARK"]
    deadline = time.monotonic() + 240
    while not mark.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert mark.exists(), "the PNG child never started"
    child = int(mark.read_text().split()[0])
    os.killpg(proc.pid, sig) if sig == signal.SIGINT else proc.send_signal(sig)
    proc.wait(timeout=120)
    assert _ended(child), "the PNG child outlived the command"
    before = _snapshot(place)
    time.sleep(1.0)
    assert _snapshot(place) == before, "files changed after the command ended"
    if sig == signal.SIGINT:
        lines = place.with_suffix(".err").read_text(errors="replace").strip().splitlines()
        assert proc.returncode == 130 and len(lines) == 1, lines
        assert lines[0].startswith("interrupted") and "Traceback" not in lines[0]
    assert _report_state(place) == old  # the old report, untouched
    assert _finish(place, old) == old


def test_random_kills_leave_the_old_or_the_new_report(place: Path, old_report: Path) -> None:
    old = _report_state(place)
    rng = random.Random(26)
    for sig in (signal.SIGKILL, signal.SIGINT):
        proc = _report(place, old_report)
        time.sleep(rng.uniform(1.0, 8.0))
        os.killpg(proc.pid, sig)
        proc.wait(timeout=300)
        state = _report_state(place)
        assert state[0] in (old[0], state[1])  # each part complete
        old = _finish(place, old)
