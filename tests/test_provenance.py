"""Which scenario a study is of: the assumptions hash and the one-line refusal."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cbm_sim
from cbm_sim.scenario.files import load_scenario
from cbm_sim.scenario.provenance import assumptions_sha256, mismatch, provenance

ROOT = Path(__file__).resolve().parents[1]
PLAN = load_scenario(ROOT / "scenarios/plan.yaml", check_size=False)


@given(
    seed=st.integers(0, 2**32),
    step=st.integers(1, 31),
    name=st.from_regex(r"[a-z][a-z0-9-]{0,12}", fullmatch=True),
)
@settings(max_examples=15, deadline=None)
def test_labels_seed_step_and_sampling_do_not_change_the_assumptions(seed, step, name):
    other = PLAN.model_copy(
        update={
            "seed": seed,
            "name": name,
            "description": "another text",
            "uncertainty": {},
            "correlations": [],
            "horizon": PLAN.horizon.model_copy(update={"step_days": step}),
        }
    )
    assert assumptions_sha256(other) == assumptions_sha256(PLAN)


@pytest.mark.parametrize(
    ("section", "field", "value"),
    [
        ("drilling", "achieved_share", 0.8),
        ("type_curves", "peak_rate_scale", 1.2),
        ("valuation", "gas_price_scale", 0.7),
        ("horizon", "end", __import__("datetime").date(2029, 12, 31)),
    ],
)
def test_any_assumption_changes_the_hash_and_is_refused_in_one_line(section, field, value):
    part = getattr(PLAN, section).model_copy(update={field: value})
    other = PLAN.model_copy(update={section: part})
    assert assumptions_sha256(other) != assumptions_sha256(PLAN)
    message = mismatch(provenance(other), PLAN, "the ensemble x")
    assert message is not None and "\n" not in message
    assert message.startswith("the ensemble x is of another version of scenario 'plan'")
    renamed = provenance(other.model_copy(update={"name": "frozen"}))
    assert "is of scenario 'frozen'" in str(mismatch(renamed, PLAN, "the ensemble x"))


def test_the_block_records_scenario_seed_step_and_version():
    block = provenance(PLAN, members=16)
    assert block["scenario"] == "plan" and block["members"] == 16
    assert (block["seed"], block["step_days"]) == (PLAN.seed, PLAN.horizon.step_days)
    assert block["cbm_sim_version"] == cbm_sim.__version__
    assert mismatch(block, PLAN, "x") is None
    assert mismatch({"scenario": "old"}, PLAN, "x") is None  # nothing recorded: not refused


def test_a_study_of_other_model_data_is_refused():
    from cbm_sim.plan.packaged import packaged_data_sha256

    block = provenance(PLAN, members=4)
    assert block["model_data_sha256"] == packaged_data_sha256()
    assert mismatch(block, PLAN, "the ensemble", model_data=packaged_data_sha256()) is None
    other = {**block, "model_data_sha256": "f" * 64}
    said = mismatch(other, PLAN, "the ensemble", model_data=packaged_data_sha256())
    assert said is not None and "other model data" in said and "ffffffffffff" in said
    # a run of an older cbm-sim (no record) or a study without one: the scenario decides
    assert mismatch(other, PLAN, "the ensemble", model_data=None) is None
    del other["model_data_sha256"]
    assert mismatch(other, PLAN, "the ensemble", model_data=packaged_data_sha256()) is None
