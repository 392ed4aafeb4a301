"""Drafts of the studio: the YAML a save writes, validated as ``cbm-sim validate`` would."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cbm_sim.scenario.files import ScenarioError, load_scenario
from cbm_sim.studio.drafts import NotFoundError, Workspace, check_id
from cbm_sim.studio.levers import LeverError

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return Workspace(SCENARIOS, tmp_path_factory.mktemp("studio"))


def test_a_draft_extends_its_base_and_holds_only_the_changed_levers(workspace):
    composed = workspace.compose(
        "plan", {"drilling.achieved_share": 1.3, "type_curves.peak_rate_scale": 1.0}
    )
    assert composed.problems == [] and composed.scenario is not None
    data = yaml.safe_load(composed.text)
    assert data == {
        "extends": workspace.extends_ref(workspace.base("plan")),
        "name": "plan-studio",
        "drilling": {"achieved_share": 1.3},
    }
    assert (workspace.saved_dir / data["extends"]).resolve() == (SCENARIOS / "plan.yaml").resolve()
    assert "drilling.achieved_share: 1.0 -> 1.3" in composed.text  # the header names each change


def test_the_saved_file_is_the_scenario_the_studio_validated(workspace):
    composed = workspace.compose(
        "plan",
        {"lng.plants[8].commissioned": "2026-03-01", "demand.industry.annual_1e8_m3": {"2025": 20}},
        name="later-lng",
        description="LNG-9 later, less industry",
    )
    path = workspace.save(composed)
    assert path == workspace.saved_dir / "later-lng.yaml"
    assert load_scenario(path) == composed.scenario
    again = workspace.compose("later-lng", {})  # a saved scenario is a base too
    assert again.scenario is not None and again.base.saved


def test_the_problems_of_a_draft_are_those_cbm_sim_validate_prints(workspace, tmp_path):
    composed = workspace.compose(
        "plan",
        {"drilling.blocks.mabi.rigs": 380, "lng.plants[8].commissioned": "2036-01-01"},
        name="bad",
    )
    assert composed.scenario is None
    assert [p.path for p in composed.problems] == [
        "drilling.blocks.mabi.rigs",
        "lng.plants[8].commissioned",
    ]
    # the same text written where a save would put it, then read as `cbm-sim validate` does
    workspace.saved_dir.mkdir(parents=True, exist_ok=True)
    target = workspace.saved_dir / "bad.yaml"
    target.write_text(composed.text, encoding="utf-8")
    try:
        with pytest.raises(ScenarioError) as caught:
            load_scenario(target)
    finally:
        target.unlink()
    assert [(p.path, p.message, p.line) for p in caught.value.problems] == [
        (p.path, p.message, p.line) for p in composed.problems
    ]


@pytest.mark.parametrize(
    "bad", ["../plan", "/etc/passwd", "a/b", "a\\b", ".hidden", "", "x" * 101, "a..b", "_x"]
)
def test_an_id_from_the_browser_is_a_plain_name_never_a_path(bad):
    with pytest.raises(LeverError, match="plain name") as caught:
        check_id(bad, "name")
    assert caught.value.field == "name"


def test_a_name_from_the_browser_never_leads_outside_the_workspace(workspace):
    with pytest.raises(LeverError) as caught:
        workspace.compose("plan", {}, name="../../etc/evil")
    assert caught.value.field == "name"
    with pytest.raises(NotFoundError) as missing:
        workspace.base("no-such-scenario")
    assert missing.value.field == "base"


def test_a_save_never_replaces_a_shipped_scenario_nor_silently_a_saved_one(workspace):
    with pytest.raises(LeverError, match="shipped") as caught:
        workspace.save(workspace.compose("plan", {"drilling.achieved_share": 1.1}, name="plan"))
    assert caught.value.field == "name"
    first = workspace.compose("plan", {"drilling.achieved_share": 1.1}, name="twice")
    workspace.save(first)
    second = workspace.compose("plan", {"drilling.achieved_share": 1.2}, name="twice")
    with pytest.raises(LeverError, match="overwrite"):
        workspace.save(second)
    assert load_scenario(workspace.save(second, overwrite=True)).drilling.achieved_share == 1.2
    assert not list(workspace.saved_dir.glob(".*tmp*"))  # the temporary file is gone


def test_an_invalid_draft_is_not_saved(workspace):
    bad = workspace.compose("plan", {"drilling.blocks.mabi.rigs": 380}, name="never")
    with pytest.raises(LeverError, match="invalid"):
        workspace.save(bad)
    assert not (workspace.saved_dir / "never.yaml").exists()


def test_name_and_description_do_not_change_the_run_key(workspace):
    a = workspace.compose("plan", {"drilling.achieved_share": 1.4}, name="a")
    b = workspace.compose("plan", {"drilling.achieved_share": 1.4}, name="b", description="x")
    c = workspace.compose("plan", {"drilling.achieved_share": 1.5}, name="a")
    assert a.key == b.key != c.key


def test_other_model_data_is_another_run(workspace, monkeypatch):
    # a run folder of the same scenario made with other packaged data (a recalibration, the
    # development rule) under the same version is not this model's run
    from cbm_sim.studio import drafts

    a = workspace.compose("plan", {"drilling.achieved_share": 1.4}, name="a")
    before = a.key
    monkeypatch.setattr(drafts, "packaged_data_sha256", lambda: "0" * 64)
    assert a.key != before
