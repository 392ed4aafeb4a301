"""The report's uncertainty pages: a tornado per year, headline probabilities, the Sobol page;
and `cbm-sim sensitivity` through the command line."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from synthetic import build

from cbm_sim.cli import main
from cbm_sim.report.pdf import build_charts
from cbm_sim.report.sensitivity_charts import sobol_chart
from cbm_sim.report.tables import HEADLINE_TARGETS
from cbm_sim.results import integrity


@pytest.fixture(scope="module")
def synth():
    return build()


def _sobol_frame() -> pd.DataFrame:
    rows = []
    for year in (2025, 2030):
        for k, name in enumerate(["gas_prices", "type_curves.peak_rate_scale", "per_well_values"]):
            st = 0.6 / (k + 1)
            rows.append(
                {
                    "year": year,
                    "input": name,
                    "S1": st * 0.9,
                    "S1_low": st * 0.7,
                    "S1_high": st * 1.1,
                    "ST": st,
                    "ST_low": st * 0.8,
                    "ST_high": st * 1.2,
                    "n": 256,
                    "runs": 256 * 5,
                }
            )
    return pd.DataFrame(rows)


def test_tornado_of_two_years_gives_a_page_per_year_and_sobol_a_page(synth) -> None:
    one = synth.ensemble.tornado
    two = pd.concat([one.assign(year=2025, base=one["base"] * 0.5), one], ignore_index=True)
    two["low_value"] = np.where(two["year"] == 2025, two["low_value"] * 0.5, two["low_value"])
    two["high_value"] = np.where(two["year"] == 2025, two["high_value"] * 0.5, two["high_value"])
    frames = dataclasses.replace(synth.ensemble, tornado=two, sobol=_sobol_frame())
    figures = build_charts(
        synth.results, "en", targets=synth.targets, values=synth.valuation, ensemble=frames
    )
    names = list(figures)
    assert "tornado" not in names
    assert names[-3:] == ["tornado_2025", "tornado_2030", "sobol"]


def test_probability_page_shows_the_headline_targets_only() -> None:
    frame = pd.DataFrame(
        {
            "year": 2025,
            "target": [
                "output.total",
                "output.services",
                "output.services.workover",
                "production.total",
                "lng.output",
            ],
            "probability": 0.5,
            "std_error": 0.1,
        }
    )
    got = frame[frame["target"].isin(HEADLINE_TARGETS)]  # the chart's rows (report.tables)
    assert list(got["target"]) == ["output.total", "output.services", "production.total"]


def test_sobol_chart_orders_by_total_index_and_names_bad_input() -> None:
    fig = sobol_chart(_sobol_frame(), "zh")
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["气价水平（气、CNG、LNG同步）", "新井峰值产量倍数", "单井服务与装备产值"]
    texts = [t.get_text() for t in fig.texts]
    assert len(fig.axes) == 2 and any("N = 256" in t for t in texts)  # the title, in the box
    assert not any(t.startswith("注意") for t in texts)  # N = 256: no warning
    small = _sobol_frame().assign(n=2, S1=lambda f: f["S1"] + 1.0)
    warned = [t.get_text() for t in sobol_chart(small, "en").texts]
    assert any(t.startswith("Warning: with a base sample of N = 2") for t in warned)
    with pytest.raises(ValueError, match="ST_high"):
        sobol_chart(_sobol_frame().drop(columns="ST_high"), "en")
    with pytest.raises(ValueError, match="got 0"):
        sobol_chart(_sobol_frame(), "en", top=0)


SCENARIO = """\
name: tiny-uncertain
horizon: {start: 2021-01-01, end: 2025-12-31, step_days: 30}
drilling:
  blocks:
    zhengzhuang: {vertical_wells_per_year: {2022: 50}, first_year: 2022, rigs: 4}
uncertainty:
  # assumption: a test input
  type_curves.peak_rate_scale: {dist: triangular, low: 0.8, mode: 1.0, high: 1.2}
  # assumption: a test input that cannot move anything in 2025 (the 2025 carbon price is 0)
  valuation.carbon_price_yuan_per_t_co2e: {dist: uniform, low: 0.5, high: 1.5}
"""


def test_sensitivity_command_writes_sobol_indices(tmp_path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    out = tmp_path / "sens"
    args = ["sensitivity", str(path), "--sobol", "4", "--workers", "1", "-o", str(out)]
    got = CliRunner().invoke(main, args)
    assert got.exit_code == 0, got.output
    frame = pd.read_csv(out / "sobol.csv")
    assert list(frame["year"].unique()) == [2025]
    by = frame.set_index("input")
    assert (frame["runs"] == 4 * (2 + 2)).all()
    # the only input that moves 2025 carries the whole variance
    assert by.loc["type_curves.peak_rate_scale", "ST"] > 0.9
    assert by.loc["valuation.carbon_price_yuan_per_t_co2e", "ST"] == pytest.approx(0.0, abs=1e-9)
    assert "Sobol indices of output.total 2025" in got.output
    import json

    meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))
    assert meta["sobol"]["n"] == 4 and meta["sobol"]["runs"] == 16
    assert meta["sobol"]["step_days"] == 30 and meta["sobol"]["scenario"] == "tiny-uncertain"
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 2 and "--overwrite" in again.output
    # the folder is sealed: meta.json vouches for sobol.csv (issue 26)
    meta = integrity.verify(out, require=("sobol.csv",))
    assert meta["kind"] == "sensitivity" and meta["sobol"]["n"] == 4
    # a folder cbm-sim did not write gets no sobol.csv, --overwrite or not
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine", encoding="utf-8")
    refused = CliRunner().invoke(main, [*args[:-1], str(mine), "--overwrite"])
    assert refused.exit_code == 2 and "not a folder cbm-sim wrote" in refused.output
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [(["--sobol", "6"], "power of 2, got 6"), (["--sobol", "1"], "1")],
)
def test_sensitivity_command_rejects_bad_n(tmp_path, extra: list[str], fragment: str) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    got = CliRunner().invoke(main, ["sensitivity", str(path), *extra, "-o", str(tmp_path / "x")])
    assert got.exit_code == 2 and fragment in got.output
