"""Monte Carlo error of a probability: Wilson interval, members needed, the CLI's table."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from cbm_sim.cli import main
from cbm_sim.studies.probability import (
    Z95,
    members_needed,
    standard_error,
    wilson_interval,
    worst_case_members,
)


def test_wilson_interval_matches_closed_forms() -> None:
    lo, hi = wilson_interval([0, 5], [10, 10])
    # k = 0: the upper bound is z^2 / (n + z^2); k = n/2: symmetric about 1/2.
    assert lo[0] == 0.0 and hi[0] == pytest.approx(Z95**2 / (10 + Z95**2))
    assert lo[1] == pytest.approx(0.2366, abs=1e-4) and hi[1] == pytest.approx(0.7634, abs=1e-4)


@given(st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
@settings(max_examples=80, deadline=None)
def test_wilson_interval_holds_the_estimate_and_stays_in_0_1(kn: tuple[int, int]) -> None:
    k, n = kn
    lo, hi = wilson_interval(k, n)
    assert 0.0 <= lo <= k / n <= hi <= 1.0
    need = members_needed(lo, hi)
    assert 0 <= need <= worst_case_members() == 385
    assert standard_error(k / n, n) == pytest.approx(math.sqrt(k / n * (1 - k / n) / n))


def test_members_needed_takes_the_worst_p_the_interval_allows() -> None:
    assert members_needed(0.0, 0.28) == math.ceil(Z95**2 * 0.28 * 0.72 / 0.05**2)
    assert members_needed(0.3, 0.9) == 385
    with pytest.raises(ValueError, match=r"got 0\.0"):
        members_needed(0.1, 0.2, half_width=0.0)
    with pytest.raises(ValueError, match="met=3"):
        wilson_interval(3, 2)


SCENARIO = """\
name: tiny-uncertain
horizon: {start: 2021-01-01, end: 2025-12-31, step_days: 30}
drilling:
  blocks:
    zhengzhuang: {vertical_wells_per_year: {2022: 50}, first_year: 2022, rigs: 4}
uncertainty:
  # assumption: a test input
  type_curves.peak_rate_scale: {dist: triangular, low: 0.8, mode: 1.0, high: 1.2}
  # assumption: a test input
  gas: {dist: uniform, low: 0.8, high: 1.2, from_year: 2022, paths: [
      valuation.surface_gas_price_yuan_per_m3, valuation.lng_price_yuan_per_t]}
"""


def test_ensemble_prints_and_writes_every_target_with_its_error(tmp_path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    out = tmp_path / "ens"
    args = ["ensemble", str(path), "-n", "3", "--workers", "1", "-o", str(out), "--step-days", "31"]
    got = CliRunner().invoke(main, args)
    assert got.exit_code == 0, got.output
    prob = pd.read_csv(out / "probabilities.csv")
    statuses = pd.read_csv(out / "statuses.csv")
    # every target of the target check, for both years, not only the totals
    assert set(zip(prob["year"], prob["target"], strict=True)) == set(
        zip(statuses["year"], statuses["target"], strict=True)
    )
    assert len(prob) > 20 and (prob["members"] == 3).all()
    assert (prob["wilson_low"] <= prob["probability"]).all()
    assert (prob["probability"] <= prob["wilson_high"]).all()
    assert np.array_equal(
        prob["members_for_0_05"], members_needed(prob["wilson_low"], prob["wilson_high"])
    )
    assert "n for ±0.05" in got.output and "needed for ±0.05" in got.output
    assert (out / "tornado.csv").is_file()  # the tornado is on by default
    tornado = pd.read_csv(out / "tornado.csv")
    assert set(tornado["input"]) == {"type_curves.peak_rate_scale", "gas"}
