"""Results frames: annual aggregation by kind of quantity, look-ups, bad shapes."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cbm_sim.results.frames import Results, annualise, annualise_series, events_frame, tidy_daily
from cbm_sim.results.integrity import DamagedRunError


def _daily() -> pd.DataFrame:
    dates = pd.date_range("2021-12-30", "2022-01-02", freq="D")
    return tidy_daily(
        dates,
        [
            ("surface", "production", "m3", np.array([1.0, 2.0, 3.0, 4.0])),
            ("storage", "level", "m3", np.array([10.0, 20.0, 30.0, 40.0])),
            ("surface", "wells_active_mean", "count", np.array([2.0, 4.0, 6.0, 8.0])),
        ],
    )


def test_flows_are_summed_stocks_taken_at_year_end_means_averaged():
    annual = annualise(_daily()).set_index(["year", "quantity"])["value"]
    assert annual[(2021, "production")] == 3.0 and annual[(2022, "production")] == 7.0
    assert annual[(2021, "level")] == 20.0 and annual[(2022, "level")] == 40.0
    assert annual[(2021, "wells_active_mean")] == 3.0


def test_a_typo_in_a_lookup_is_a_key_error_not_a_zero():
    daily = _daily()
    res = Results(daily=daily, annual=annualise(daily), events=events_frame([]))
    assert res.annual_value("surface", "production", 2022) == 7.0
    with pytest.raises(KeyError, match="prodution"):
        res.annual_value("surface", "prodution", 2022)
    # a year the run does not cover is an error naming the range, not a silent zero
    with pytest.raises(ValueError, match=r"year 2040 is outside the run's years 2021\.\.2022"):
        res.annual_value("surface", "production", 2040)


def test_series_of_the_wrong_length_is_refused():
    with pytest.raises(ValueError, match=r"surface/production has shape \(3,\)"):
        tidy_daily(
            pd.date_range("2021-01-01", periods=4), [("surface", "production", "m3", np.ones(3))]
        )


def test_from_parquet_names_what_is_missing(tmp_path):
    with pytest.raises(DamagedRunError, match=r"meta\.json: missing"):
        Results.from_parquet(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"daily\.parquet"):
        Results.from_parquet(tmp_path, verify=False)


@settings(max_examples=40, deadline=None)
@given(
    start=st.dates(dt.date(2020, 1, 1), dt.date(2030, 1, 1)),
    n_days=st.integers(1, 900),
    step=st.sampled_from([1, 7, 30]),
    kinds=st.lists(st.sampled_from(["production", "level", "wells_active_mean"]), min_size=1),
    seed=st.integers(0, 2**32 - 1),
)
def test_annualise_series_equals_annualise_of_the_daily_frame(start, n_days, step, kinds, seed):
    dates = pd.date_range(start, periods=n_days, freq="D")[::step]
    rng = np.random.default_rng(seed)
    series = [(f"e{i}", q, "m3", rng.normal(size=len(dates))) for i, q in enumerate(kinds)]
    want = annualise(tidy_daily(dates, series))
    got = annualise_series(dates, series)
    pd.testing.assert_frame_equal(got, want, check_categorical=False, rtol=1e-12)


# --------------------------------------------------------------------------- for analysts
@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    """A run folder as ``cbm-sim run -o`` writes it, of the synthetic run (no simulation)."""
    import sys
    from dataclasses import replace
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from synthetic import build

    from cbm_sim.results.rundir import write_run
    from cbm_sim.scenario.model import Scenario

    synth = build()
    results = replace(synth.results, scenario=Scenario(name="synthetic-test"))
    out = tmp_path_factory.mktemp("run") / "synthetic"
    out.mkdir()
    write_run(out, results, targets=synth.targets, valuation=synth.valuation)
    return out


def test_python_frames_and_files_agree_on_units(run_folder):
    """``table()`` is ``annual.csv`` (planner units with their unit column); the base values
    are one call away and convert back exactly."""
    results = Results.from_dir(run_folder)
    shown = results.table()
    written = pd.read_csv(run_folder / "annual.csv")
    pd.testing.assert_frame_equal(
        shown.reset_index(drop=True), written, check_dtype=False, check_exact=False, rtol=1e-12
    )
    assert set(shown["unit"]) >= {"亿m3", "万t", "count"} and "m3" not in set(shown["unit"])
    base = results.table(base=True)
    assert set(base["unit"]) >= {"m3", "t"}
    volume = (base["unit"] == "m3").to_numpy()
    assert np.allclose(shown.loc[volume, "value"] * 1e8, base.loc[volume, "value"], rtol=1e-12)


def test_from_dir_loads_targets_and_valuation_and_summarises(run_folder):
    results = Results.from_dir(run_folder)
    assert results.targets is not None and "status" in results.targets
    assert results.valuation is not None and set(results.valuation["unit"]) == {"亿元"}
    summary = results.summary()
    assert summary.loc["production.total", "unit"] == "亿m3"
    assert summary.loc["output.total", "unit"] == "亿元"
    assert summary.loc["output.total.status", 2025] in ("met", "short")
    total = results.valuation.groupby("year")["value"].sum()
    assert summary.loc["output.total", 2030] == pytest.approx(total[2030])
    production = results.table().query("entity == 'surface' and quantity == 'production'")
    surface = production.set_index("year")["value"]
    assert summary.loc["production.surface", 2025] == pytest.approx(surface[2025])


def test_repr_is_one_short_line_and_the_notebook_view_a_table(run_folder):
    results = Results.from_dir(run_folder)
    text = repr(results)
    assert "\n" not in text and len(text) < 250
    assert "scenario='synthetic-test'" in text and "with targets and valuation" in text
    assert "<table" in results._repr_html_()


def test_plot_helpers_return_figures_and_name_the_charts(run_folder):
    from matplotlib.figure import Figure

    results = Results.from_dir(run_folder)
    assert isinstance(results.plot.production(lang="en"), Figure)
    assert isinstance(results.plot.value(lang="zh"), Figure)
    with pytest.raises(AttributeError, match="the charts are: balance, facilities"):
        results.plot.nope()
    with pytest.raises(ValueError, match="year 2040 is outside"):
        results.plot.sankey(2040)


@settings(max_examples=40, deadline=None)
@given(
    start=st.dates(dt.date(2020, 1, 1), dt.date(2030, 1, 1)),
    n_days=st.integers(1, 900),
    step=st.sampled_from([1, 7, 30, "month", "quarter"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_a_coarse_step_run_has_the_annual_figures_of_its_days(start, n_days, step, seed):
    """Days summed into calendar steps (no step spans two years) and then into years give
    the years of the days: flows, stocks at year end, means and day shares by day."""
    from cbm_sim.results.frames import aggregate_steps
    from cbm_sim.scenario.steps import step_lengths, step_starts

    dates = pd.date_range(start, periods=n_days, freq="D")
    rng = np.random.default_rng(seed)
    kinds = ["production", "level", "wells_active_mean", "available"]
    series = [(f"e{i}", q, "m3", rng.normal(size=n_days)) for i, q in enumerate(kinds)]
    first = step_starts(start, dates[-1].date(), step)
    coarse = aggregate_steps(series, first)
    got = annualise_series(dates[first], coarse, step_lengths(first, n_days))
    want = annualise_series(dates, series)
    pd.testing.assert_frame_equal(got, want, check_categorical=False, rtol=1e-12, atol=1e-9)
    # within a step: flows summed, the stock on its last day, means and shares averaged
    last = np.append(first[1:], n_days) - 1
    np.testing.assert_allclose(coarse[0][3], np.add.reduceat(series[0][3], first))
    np.testing.assert_array_equal(coarse[1][3], series[1][3][last])
    days = last + 1 - first
    np.testing.assert_allclose(coarse[3][3], np.add.reduceat(series[3][3], first) / days)


def test_aggregate_steps_refuses_steps_that_do_not_tile_the_days():
    from cbm_sim.results.frames import aggregate_steps

    series = [("surface", "production", "m3", np.ones(5))]
    with pytest.raises(ValueError, match=r"step starts must increase from 0 within the 5 days"):
        aggregate_steps(series, np.array([1, 3]))
    with pytest.raises(ValueError, match=r"step_days has shape \(2,\); expected \(5,\)"):
        annualise_series(pd.date_range("2021-01-01", periods=5), series, np.ones(2))
