"""``cbm-sim studio``: the address it binds, what it refuses before starting anything."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from cbm_sim.cli import main
from cbm_sim.studio import server

PLAN = Path(__file__).resolve().parents[1] / "scenarios" / "plan.yaml"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.8.9.10", True), ("localhost", True), ("::1", True),
     ("[::1]", True), ("0.0.0.0", False), ("192.168.1.5", False), ("example.org", False)],
)  # fmt: skip
def test_only_loopback_addresses_count_as_local(host, loopback):
    assert server.is_loopback(host) is loopback


def test_a_port_in_use_is_refused_with_the_option_named_and_status_2():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["studio", str(PLAN), "--port", str(port)])
    assert result.exit_code == 2
    assert "error: --port: cannot listen on 127.0.0.1" in result.output
    assert "Traceback" not in result.output


def test_an_invalid_scenario_is_refused_before_anything_starts(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"extends: {PLAN}\ndrilling:\n  achieved_share: 7\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["studio", str(bad)])
    assert result.exit_code == 2
    assert "drilling.achieved_share: expected less than or equal to 2" in result.output


def test_another_host_than_loopback_is_said_out_loud(monkeypatch, tmp_path):
    started = {}

    class Stub:
        def __init__(self, *args, **kwargs):
            started.setdefault("parts", []).append(type(self).__name__)

        def close(self):
            pass

    monkeypatch.setattr("cbm_sim.studio.runs.Runner", Stub)
    monkeypatch.setattr("cbm_sim.studio.jobs.Jobs", Stub)
    monkeypatch.setattr("cbm_sim.studio.figures.warm", lambda: None)
    monkeypatch.setattr(
        "uvicorn.Server.run",
        lambda self: started.update(host=self.config.host, app=self.config.app),
    )
    said: list[str] = []
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server.serve(PLAN, host="0.0.0.0", port=port, root=tmp_path, say=said.append)
    assert said[0].startswith("warning: listening on 0.0.0.0, not on 127.0.0.1")
    assert f"http://0.0.0.0:{port}/?scenario=plan" in said[-1]
    assert started["host"] == "0.0.0.0"
    said.clear()
    server.serve(PLAN, host="127.0.0.1", port=port, root=tmp_path, say=said.append)
    assert not any(line.startswith("warning") for line in said)
    assert (tmp_path / "my-scenarios").is_dir() and (tmp_path / "runs" / "studio").is_dir()
