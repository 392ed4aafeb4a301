"""The one writer of every command (issue 26): outputs staged beside their place and swapped in
whole; ``--overwrite`` replaces only what cbm-sim wrote; no link is written through; a write
killed at any point of its swap leaves the old or the new output, and the next write finishes
it."""

from __future__ import annotations

import json
import os
import re
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from cbm_sim.results import integrity, ownership, writer
from cbm_sim.results.writer import Output, OutputExistsError


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _write_pair(parent: Path, text: str, *, overwrite: bool) -> None:
    """A report-like write: a file and a folder in one transaction."""
    outputs = [Output(parent / "r.pdf"), Output(parent / "r_charts", folder=True)]
    with writer.staged(outputs, overwrite=overwrite) as (pdf, charts):
        pdf.write_text(text, encoding="utf-8")
        for k in range(3):
            (charts / f"c{k}.png").write_text(f"{text}{k}", encoding="utf-8")


def _state(parent: Path) -> tuple[str, list[str]]:
    pdf = (parent / "r.pdf").read_text(encoding="utf-8")
    charts = sorted(p.read_text(encoding="utf-8") for p in (parent / "r_charts").glob("c*.png"))
    integrity.verify(parent / "r_charts")  # a complete folder, whichever it is
    return pdf, charts


OLD = ("old", ["old0", "old1", "old2"])
NEW = ("new", ["new0", "new1", "new2"])


def test_a_file_is_recorded_and_replaced_only_while_it_is_cbm_sims(tmp_path: Path) -> None:
    out = tmp_path / "t.csv"
    writer.write_text(out, "a\n")
    ledger = json.loads((tmp_path / ownership.LEDGER).read_text(encoding="utf-8"))
    assert ledger["files"] == {"t.csv": [integrity.sha256_file(out)]}
    with pytest.raises(OutputExistsError, match=re.escape("t.csv exists; pass --overwrite")):
        writer.write_text(out, "b\n")
    writer.write_text(out, "b\n", overwrite=True)
    assert out.read_text(encoding="utf-8") == "b\n"
    out.write_text("edited by hand\n", encoding="utf-8")
    with pytest.raises(OutputExistsError, match="did not write it, or it was changed since"):
        writer.write_text(out, "c\n", overwrite=True)
    assert out.read_text(encoding="utf-8") == "edited by hand\n"
    assert _listing(tmp_path) == [ownership.LEDGER, "t.csv"]  # no staging left


def test_a_foreign_file_is_never_replaced(tmp_path: Path) -> None:
    mine = tmp_path / "mine.csv"
    mine.write_text("precious\n", encoding="utf-8")
    for overwrite in (False, True):
        with pytest.raises(OutputExistsError, match=re.escape("mine.csv exists")):
            writer.write_text(mine, "x", overwrite=overwrite)
    assert mine.read_text(encoding="utf-8") == "precious\n"
    # ... unless its content marks it as cbm-sim's (a calibration's header)
    mine.write_text("# made by cbm-sim\nx: 1\n", encoding="utf-8")
    marked = ownership.text_starting("# made by cbm-sim")
    writer.write_text(mine, "# made by cbm-sim\nx: 2\n", overwrite=True, recognise=marked)
    assert mine.read_text(encoding="utf-8").endswith("x: 2\n")


@pytest.mark.parametrize(
    ("files", "why"),
    [
        ({"meta.json": "{}", "precious.txt": "mine"}, "no checksums"),
        ({"notes.txt": "mine"}, "no meta.json"),
    ],
)
def test_a_foreign_folder_is_never_replaced(
    tmp_path: Path, files: dict[str, str], why: str
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
    with pytest.raises(OutputExistsError, match=why), writer.staged_folder(out, overwrite=True):
        pytest.fail("the stage must not be entered")
    assert _listing(out) == sorted(files)


def test_a_cbm_sim_folder_with_a_users_file_or_an_edit_is_not_replaced(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with writer.staged_folder(out, meta={"kind": "test"}) as stage:
        (stage / "a.csv").write_text("1\n", encoding="utf-8")
    assert integrity.verify(out)["kind"] == "test"
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(OutputExistsError, match=re.escape("does not list: notes.txt")):
        writer.check(Output(out, folder=True), overwrite=True)
    (out / "notes.txt").unlink()
    (out / "a.csv").write_text("2\n", encoding="utf-8")
    with pytest.raises(
        OutputExistsError, match=re.escape("a.csv was changed since cbm-sim wrote it")
    ):
        writer.check(Output(out, folder=True), overwrite=True)


def test_links_are_never_written_through(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "out.csv").symlink_to(elsewhere / "x.csv")  # dangling
    (tmp_path / "out").symlink_to(elsewhere)
    for target, folder in ((tmp_path / "out.csv", False), (tmp_path / "out", True)):
        for overwrite in (False, True):
            with pytest.raises(OutputExistsError, match="is a symbolic link"):
                writer.check(Output(target, folder=folder), overwrite=overwrite)
    assert _listing(elsewhere) == []


def test_bad_places_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x", encoding="utf-8")
    cases = {
        tmp_path / ("x" * 300): "file name too long",
        tmp_path / "file" / "sub" / "a.csv": "is not a folder",
    }
    for path, why in cases.items():
        with pytest.raises(OutputExistsError, match=why) as info:
            writer.write_text(path, "x")
        assert "\n" not in str(info.value)
    # a missing folder is made; a long (legal) name gets a shorter staging name
    deep = tmp_path / "a" / "b" / ("r" * 250)
    writer.write_text(deep, "x")
    assert deep.read_text(encoding="utf-8") == "x"


def test_an_edit_replaces_the_file_atomically_and_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "blocks.yaml"
    path.write_text("a: 1\n", encoding="utf-8")
    path.chmod(0o640)
    with writer.staged_edit(path) as stage:
        assert stage.read_text(encoding="utf-8") == "a: 1\n"
        stage.write_text("a: 2\n", encoding="utf-8")
    assert path.read_text(encoding="utf-8") == "a: 2\n" and path.stat().st_mode & 0o777 == 0o640
    with pytest.raises(RuntimeError), writer.staged_edit(path) as stage:
        stage.write_text("half", encoding="utf-8")
        raise RuntimeError("failed")
    assert path.read_text(encoding="utf-8") == "a: 2\n"
    with pytest.raises(OutputExistsError, match="no such file to edit"):
        writer.check(Output(tmp_path / "none.yaml", keep=True), overwrite=False)


def test_a_kept_folder_gets_a_file_and_is_sealed_again(tmp_path: Path) -> None:
    out = tmp_path / "ens"
    with writer.staged_folder(out, meta={"kind": "ensemble", "n": 2}) as stage:
        (stage / "a.csv").write_text("1\n", encoding="utf-8")
    with writer.staged_folder(out, keep=True, meta={"sobol": "b.csv"}) as stage:
        (stage / "b.csv").write_text("2\n", encoding="utf-8")
    meta = integrity.verify(out, require=("a.csv", "b.csv"))
    assert (meta["kind"], meta["n"], meta["sobol"]) == ("ensemble", 2, "b.csv")


def _killed_at(parent: Path, kill: Callable[[], None], exchange: bool) -> None:
    """Run a --overwrite write in a forked child that dies (no clean-up) where ``kill`` says."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            if not exchange:
                writer._exchange = lambda a, b: False  # type: ignore[assignment]
            kill()
            _write_pair(parent, "new", overwrite=True)
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == -signal.SIGKILL  # killed where meant


def _after_swaps(n: int) -> Callable[[], None]:
    """Die after ``n`` outputs were swapped in."""

    def kill() -> None:
        real = writer._swap_one
        done = [0]

        def swap(*args: object) -> None:
            if done[0] == n:
                os.kill(os.getpid(), signal.SIGKILL)
            real(*args)  # type: ignore[arg-type]
            done[0] += 1

        writer._swap_one = swap  # type: ignore[assignment]

    return kill


def _before_the_clean_up() -> None:
    """Die once both outputs are in place, before the ledger and the staging are tidied."""
    real = ownership.record

    def record(folder: Path, sums: dict[str, str], *, keep_previous: bool) -> None:
        if not keep_previous:
            os.kill(os.getpid(), signal.SIGKILL)
        real(folder, sums, keep_previous=keep_previous)

    ownership.record = record  # type: ignore[assignment]


def _between_renames() -> None:
    """Die between the two renames of a folder swap without an atomic exchange."""
    real = Path.rename

    def rename(self: Path, target: Path) -> Path:  # type: ignore[override]
        if str(target).endswith("/old/r_charts"):
            real(self, target)
            os.kill(os.getpid(), signal.SIGKILL)
        return real(self, target)

    Path.rename = rename  # type: ignore[method-assign]


def _while_writing() -> None:
    real = Path.write_text

    def write_text(self: Path, *args: object, **kw: object) -> int:
        if self.name == "c1.png":
            os.kill(os.getpid(), signal.SIGKILL)
        return real(self, *args, **kw)  # type: ignore[arg-type]

    Path.write_text = write_text  # type: ignore[method-assign]


KILLS = {
    "while-writing": (_while_writing, OLD),
    "before-the-swap": (_after_swaps(0), NEW),  # the intent was written: finished
    "between-the-outputs": (_after_swaps(1), NEW),
    "after-both": (_before_the_clean_up, NEW),
    "between-two-renames": (_between_renames, NEW),
}


@pytest.mark.parametrize("exchange", [True, False], ids=["exchange", "rename-aside"])
@pytest.mark.parametrize("case", sorted(KILLS))
def test_a_write_killed_anywhere_leaves_old_or_new_and_is_finished_next_time(
    tmp_path: Path, case: str, exchange: bool
) -> None:
    if case == "between-two-renames" and exchange:
        pytest.skip("an exchange has no two renames")
    _write_pair(tmp_path, "old", overwrite=False)
    kill, final = KILLS[case]
    _killed_at(tmp_path, kill, exchange)
    pdf_here = (tmp_path / "r.pdf").read_text(encoding="utf-8")
    assert pdf_here in ("old", "new")
    if (tmp_path / "r_charts").exists():  # missing only between two renames, never half
        charts = _state(tmp_path)[1]
        assert charts in (OLD[1], NEW[1])
    else:
        assert case == "between-two-renames"
    # the next write into the folder finishes the dead one first
    writer.check(Output(tmp_path / "r.pdf"), overwrite=True)
    assert _state(tmp_path) == final
    assert _listing(tmp_path) == [ownership.LEDGER, "r.pdf", "r_charts"]
    _write_pair(tmp_path, "newer", overwrite=True)  # and the result is cbm-sim's again
    assert _state(tmp_path)[0] == "newer"


def test_ctrl_c_during_the_swap_is_held_until_it_is_done(tmp_path: Path) -> None:
    _write_pair(tmp_path, "old", overwrite=False)
    real = writer._swap_one

    def swap(*args: object) -> None:
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C in the middle of the swap
        real(*args)  # type: ignore[arg-type]

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        writer._swap_one = swap  # type: ignore[assignment]
        with pytest.raises(KeyboardInterrupt):
            _write_pair(tmp_path, "new", overwrite=True)
    finally:
        writer._swap_one = real  # type: ignore[assignment]
        signal.signal(signal.SIGINT, previous)
    assert _state(tmp_path) == NEW
    assert _listing(tmp_path) == [ownership.LEDGER, "r.pdf", "r_charts"]


def test_another_processes_live_staging_is_left_alone(tmp_path: Path) -> None:
    host = os.uname().nodename
    live = tmp_path / f".x.partial-0123abcd-{os.getpid()}@{host}"
    other = tmp_path / f".x.partial-0123abcd-{2**22 + 1}@another-host"
    dead = tmp_path / f".x.partial-0123abcd-{2**22 + 1}@{host}"
    for folder in (live, other, dead):
        folder.mkdir()
    assert writer.recover(tmp_path) == [dead]
    assert _listing(tmp_path) == sorted([live.name, other.name])
