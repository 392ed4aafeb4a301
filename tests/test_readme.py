"""README.md works top to bottom as written: its blocks run in order in a fresh directory.

What each fenced block is taken for:

* ``sh`` — every command runs (``cbm-sim`` being the one of this environment) and must exit 0.
* ``text`` with ``$ `` lines — a console session: each ``$`` command runs; the lines under it
  are its output, which must appear in order (numbers masked, since the model's answers move
  with its data; ``...`` stands for lines left out, a line ending in ``…`` for the rest of
  that line). A session whose output holds ``error:``
  lines must exit 2 (bad input), any other 0. ``text`` blocks without ``$`` are samples of
  output only.
* ``yaml`` — a first line ``# <path>.yaml`` writes the file there (later blocks use it);
  a scenario named after a shipped one must agree with it on every key it shows; a plan
  record must be the packaged record of ``cbm_sim/data/plan.yaml``.
* ``python`` — runs as a script and must exit 0.
* anything else (the layout tree) is prose.

A block can be marked by the HTML comment right before it: ``<!-- readme-test: skip
(reason) -->`` or ``<!-- readme-test: instead (reason): COMMAND -->`` for blocks too long
for a test (a 200-member ensemble, a Dask cluster); the reason is required.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

import cbm_sim

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[\w-]*)[ \t]*$")
MARKER = re.compile(
    r"^<!--\s*readme-test:\s*(?P<what>skip|instead)\s*\((?P<why>[^)]+)\)"
    r"(?:\s*:\s*(?P<command>.*?))?\s*-->$"
)
NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?")
# one README command may simulate a few runs or report; none should get near this
COMMAND_TIMEOUT_S = 300


@dataclass(frozen=True)
class Block:
    """A fenced block of the README: its language, text, first line and marker."""

    lang: str
    text: str
    line: int
    marker: re.Match[str] | None


class ReadmeError(ValueError):
    """The README's fences or markers are malformed."""


def parse_blocks(markdown: str) -> list[Block]:
    """The fenced blocks of ``markdown`` in order, each with the marker right before it.

    Raises
    ------
    ReadmeError
        On a fence that is never closed, or a ``readme-test`` comment that is not a valid
        marker (unknown verb, no reason, ``instead`` without a command) or not followed by a
        block.
    """
    lines = markdown.splitlines()
    blocks: list[Block] = []
    pending: tuple[int, re.Match[str]] | None = None
    k = 0
    while k < len(lines):
        stripped = lines[k].strip()
        if "readme-test" in stripped:
            match = MARKER.match(stripped)
            if match is None or (match["what"] == "instead") != bool(match["command"]):
                raise ReadmeError(f"README.md:{k + 1}: malformed readme-test marker {stripped!r}")
            pending = (k + 1, match)
            k += 1
            continue
        fence = FENCE.match(lines[k])
        if fence is None:
            if stripped and pending is not None:
                raise ReadmeError(f"README.md:{pending[0]}: marker not right before a block")
            k += 1
            continue
        start, indent, body = k + 1, fence["indent"], []
        k += 1
        while k < len(lines) and lines[k].strip() != "```":
            body.append(lines[k][len(indent) :] if lines[k].startswith(indent) else lines[k])
            k += 1
        if k == len(lines):
            raise ReadmeError(f"README.md:{start}: block never closed")
        blocks.append(
            Block(fence["lang"], "\n".join(body), start, None if pending is None else pending[1])
        )
        pending = None
        k += 1
    if pending is not None:
        raise ReadmeError(f"README.md:{pending[0]}: marker not right before a block")
    return blocks


def shell_commands(text: str) -> list[str]:
    """The commands of a shell block: continuation lines joined, comments and blanks dropped."""
    commands, current = [], ""
    for raw in text.splitlines():
        line = raw.rstrip()
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        if current.strip() and not current.lstrip().startswith("#"):
            commands.append(current.strip())
        current = ""
    return commands


def sessions(text: str) -> list[tuple[str, list[str]]]:
    """The ``$`` commands of a console block, each with the output lines shown under it."""
    out: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("$ "):
            out.append((line[2:].strip(), []))
        elif out and line.strip():
            out[-1][1].append(line.strip())
    return out


def masked(line: str) -> str:
    """``line`` with every number replaced by ``#``."""
    return NUMBER.sub("#", line)


def missing_output(expected: list[str], output: str) -> list[str]:
    """The expected lines (``...`` skipped) not found in ``output`` in order, numbers masked."""
    got = [masked(line.strip()) for line in output.splitlines()]
    position, missing = 0, []
    for line in expected:
        if line == "...":
            continue
        want = masked(line)
        cut = want.endswith("…")
        for k in range(position, len(got)):
            if got[k] == want or (cut and got[k].startswith(want[:-1])):
                position = k + 1
                break
        else:
            missing.append(line)
    return missing


def test_markers_and_fences_are_parsed_and_malformed_ones_named() -> None:
    blocks = parse_blocks("text\n<!-- readme-test: skip (slow) -->\n```sh\nmake x\n```\n")
    assert [(b.lang, b.text, b.marker["what"] if b.marker else None) for b in blocks] == [
        ("sh", "make x", "skip")
    ]
    instead = parse_blocks("<!-- readme-test: instead (why): a && b -->\n```sh\nc\n```")
    assert instead[0].marker is not None and instead[0].marker["command"] == "a && b"
    bad = {
        "<!-- readme-test: skip -->\n```sh\nx\n```": "malformed",
        "<!-- readme-test: instead (why) -->\n```sh\nx\n```": "malformed",
        "<!-- readme-test: later (why) -->\n```sh\nx\n```": "malformed",
        "<!-- readme-test: skip (why) -->\nprose\n```sh\nx\n```": "README.md:1: marker not",
        "<!-- readme-test: skip (why) -->\n": "marker not right before",
        "```sh\nx\n": "README.md:1: block never closed",
    }
    for text, message in bad.items():
        with pytest.raises(ReadmeError, match=message):
            parse_blocks(text)


def test_console_output_is_matched_in_order_with_numbers_masked() -> None:
    assert shell_commands("a \\\n  b  # c\n# only a comment\n\nd") == ["a    b  # c", "d"]
    assert sessions("$ x\n...\nverdict 1\n$ y") == [("x", ["...", "verdict 1"]), ("y", [])]
    output = "noise\nverdict 2025: 648.7 of 500.0 亿元 (+29.7 %) — met\nend"
    assert missing_output(["...", "verdict 2025: 1 of 2 亿元 (-3 %) — met"], output) == []
    assert missing_output(["verdict 2025: 1 of 2 亿元 (-3 %) — short"], output) != []
    assert missing_output(["end", "noise"], output) == ["noise"]  # order matters
    assert missing_output(["verdict 2025: 9 of …"], output) == []
    assert missing_output(["total: …"], output) == ["total: …"]


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
        check=False,
    )


def _check_yaml(block: Block, workdir: Path) -> None:
    first = block.text.splitlines()[0]
    data = yaml.safe_load(block.text)
    path = re.fullmatch(r"#\s*(\S+\.yaml)", first.strip())
    if path is not None:
        target = workdir / path[1]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(block.text + "\n", encoding="utf-8")
    elif isinstance(data, list):  # records of the packaged plan data
        from importlib import resources

        records = yaml.safe_load(
            resources.files("cbm_sim").joinpath("data/plan.yaml").read_text(encoding="utf-8")
        )
        records = records["figures"] if isinstance(records, dict) else records
        for record in data:  # the keys shown, as packaged (the README may leave some out)
            assert any(_shown_part(r, record) == record for r in records), (block.line, record)
    else:
        shipped = yaml.safe_load((ROOT / "scenarios" / f"{data['name']}.yaml").read_text())
        assert _shown_part(shipped, data) == data, block.line


def _shown_part(full: object, shown: object) -> object:
    """The part of ``full`` that ``shown`` shows: the same keys, recursively."""
    if isinstance(full, dict) and isinstance(shown, dict):
        return {k: _shown_part(full.get(k), v) for k, v in shown.items()}
    if isinstance(full, list) and isinstance(shown, list) and len(full) == len(shown):
        return [_shown_part(f, s) for f, s in zip(full, shown, strict=True)]
    return full


@pytest.mark.slow
def test_readme_blocks_run_in_order_in_a_fresh_directory(tmp_path: Path) -> None:
    blocks = parse_blocks(README.read_text(encoding="utf-8"))
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(Path(cbm_sim.__file__).resolve().parents[1])
    env["COLUMNS"] = "200"  # a wide terminal: the README shows console lines unwrapped
    ran = []
    for block in blocks:
        if block.marker is not None and block.marker["what"] == "skip":
            continue
        if block.lang == "sh":
            commands = [block.marker["command"]] if block.marker else shell_commands(block.text)
            for command in commands:
                done = _run(["bash", "-c", command], tmp_path, env)
                assert done.returncode == 0, (block.line, command, done.stderr[-2000:])
                ran.append(command)
        elif block.lang == "text":
            for command, expected in sessions(block.text):
                done = _run(["bash", "-c", command], tmp_path, env)
                status = 2 if any(line.startswith("error:") for line in expected) else 0
                assert done.returncode == status, (block.line, command, done.stderr[-2000:])
                missing = missing_output(expected, done.stdout + done.stderr)
                assert missing == [], (block.line, command, missing, done.stdout[-2000:])
                ran.append(command)
        elif block.lang == "yaml":
            _check_yaml(block, tmp_path)
        elif block.lang == "python":
            done = _run([sys.executable, "-c", block.text], tmp_path, env)
            assert done.returncode == 0, (block.line, done.stderr[-2000:])
            ran.append(f"python block at README.md:{block.line}")
    # what the README promises is there: the demo's run, the report, the comparison
    for produced in ("reports/plan/meta.json", "reports/plan.pdf", "compare.csv",
                     "runs/pipeline-delay/meta.json", "value_vs_target.png"):  # fmt: skip
        assert (tmp_path / produced).exists(), produced
    assert len(ran) >= 10


# --------------------------------------------------------------------------- timing figures
BENCHMARKS = ROOT / "benchmarks" / "README.md"
TIMING = re.compile(
    r"(?<![\w.,–-])(?P<value>\d+(?:\.\d+)?(?:\s?[–-]\s?\d+(?:\.\d+)?)?)\s?"
    r"(?P<unit>worker-s|minutes|min|seconds|s)(?![\w-])"
)
BENCH_MARK = re.compile(r"<!-- bench:(?P<key>[\w-]+)(?P<why> \([^)]+\))? -->")
HELP_SOURCE = re.compile(r"benchmarks/README\.md: (?P<key>[\w-]+)")
UNITS = {"s": "s", "seconds": "s", "min": "min", "minutes": "min", "worker-s": "worker-s"}


def benchmark_rows(text: str) -> dict[str, str]:
    """The rows of benchmarks/README.md's "Current figures" table, by key."""
    section = text.split("## Current figures", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        match = re.match(r"\|\s*`(?P<key>[\w-]+)`\s*\|", line)
        if match:
            rows[match["key"]] = line
    return rows


def figures(text: str) -> list[tuple[list[float], str, int]]:
    """Every timing figure of ``text``: its numbers (a range gives two), unit and position."""
    out = []
    for m in TIMING.finditer(text):
        numbers = [float(x) for x in re.split(r"\s?[–-]\s?", m["value"])]
        out.append((numbers, UNITS[m["unit"]], m.end()))
    return out


def quoted(numbers: list[float], unit: str, written: str, row: str) -> bool:
    """Whether every number of a figure, as precise as written, is a figure of ``row``."""
    decimals = len(written.split(".")[1]) if "." in written else 0
    in_row = [(n, u) for ns, u, _ in figures(row) for n in ns]
    return all(
        any(u == unit and round(n, decimals) == value for n, u in in_row) for value in numbers
    )


def prose(markdown: str) -> str:
    """``markdown`` without its fenced blocks and readme-test markers (commands, not figures)."""
    text = re.sub(r"^```.*?^```", "", markdown, flags=re.M | re.S)
    return re.sub(r"<!--\s*readme-test:.*?-->", "", text, flags=re.S)


def unquoted(text: str, rows: dict[str, str], marker: re.Pattern[str]) -> list[str]:
    """The timing figures of ``text`` that are not marked with a key of ``rows`` right after
    them, or do not match that row."""
    bad = []
    for numbers, unit, end in figures(text):
        figure = text[max(0, end - 25) : end].split("\n")[-1].strip()
        mark = marker.match(text, end) if marker is BENCH_MARK else marker.search(text, end)
        if mark is None or (marker is HELP_SOURCE and mark.start() - end > 60):
            bad.append(f"{figure!r}: no benchmarks/README.md key after it")
        elif mark["key"] == "none":
            if marker is HELP_SOURCE or not mark["why"]:
                bad.append(f"{figure!r}: 'none' needs a reason")
        elif mark["key"] not in rows:
            bad.append(f"{figure!r}: unknown key {mark['key']!r}")
        else:
            written = TIMING.search(text, end - len(figure) - 1)
            assert written is not None
            first = re.split(r"\s?[–-]\s?", written["value"])[0]
            if not quoted(numbers, unit, first, rows[mark["key"]]):
                bad.append(f"{figure!r}: not in benchmarks/README.md row {mark['key']!r}")
    return bad


def test_timing_figures_are_found_and_matched() -> None:
    rows = {
        "run": "| `run` | ≤ 1.5 s | x | **1.51 s** wall; 15–19 s loaded; 29 min; 0.50 worker-s |"
    }
    assert [f[:2] for f in figures("took 1.5 s, 15–19 s and 2 min, 0.50 worker-s")] == [
        ([1.5], "s"),
        ([15.0, 19.0], "s"),
        ([2.0], "min"),
        ([0.5], "worker-s"),
    ]
    assert figures("ch1 §2, 25 inputs, 3652 days, 7 % (load 6–10), 256-day, v1.5 s2") == []
    good = (
        "1.5 s<!-- bench:run --> and 15–19 s<!-- bench:run -->, "
        "30 s<!-- bench:none (a time-out) -->"
    )
    assert unquoted(good, rows, BENCH_MARK) == []
    bad = unquoted("1.4 s<!-- bench:run -->, 2 s, 3 s<!-- bench:nope -->", rows, BENCH_MARK)
    assert [b.split(": ", 1)[1] for b in bad] == [
        "not in benchmarks/README.md row 'run'",
        "no benchmarks/README.md key after it",
        "unknown key 'nope'",
    ]
    assert unquoted("(≈ 1.51 s on 2 cores, benchmarks/README.md: run)", rows, HELP_SOURCE) == []


def test_every_timing_figure_of_the_readme_is_a_benchmark_figure() -> None:
    """Issue 27: the README and docs/ quote only figures of benchmarks/README.md's table,
    each marked with its key (a figure that drifts from the measurements fails here)."""
    rows = benchmark_rows(BENCHMARKS.read_text(encoding="utf-8"))
    assert {"run", "report", "calibrate", "ensemble", "member", "sobol"} <= set(rows)
    for doc in (README, *sorted((ROOT / "docs").glob("*.md"))):
        bad = unquoted(prose(doc.read_text(encoding="utf-8")), rows, BENCH_MARK)
        assert bad == [], doc.name


def test_every_timing_figure_of_the_help_is_a_benchmark_figure() -> None:
    """The same for every help text of the command line (options and commands)."""
    import click

    from cbm_sim.cli import main

    rows = benchmark_rows(BENCHMARKS.read_text(encoding="utf-8"))
    texts = []

    def walk(command: click.Command) -> None:
        texts.append(command.help or "")
        texts.extend(getattr(p, "help", None) or "" for p in command.params)
        for sub in getattr(command, "commands", {}).values():
            walk(sub)

    walk(main)
    bad = [b for text in texts for b in unquoted(text, rows, HELP_SOURCE)]
    assert bad == []
