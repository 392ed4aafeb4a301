"""Tests of cbm_sim.report.robustness_charts: the "what flips it" table pages."""

from __future__ import annotations

import pandas as pd
import pytest

from cbm_sim.report.fonts import use_report_style
from cbm_sim.report.robustness_charts import CHART_COLUMNS, robustness_chart, robustness_pages


def _table() -> pd.DataFrame:
    rows = []
    for target, base in (("output.total", 530.0), ("output.science", 12.0)):
        for name, lo, hi, flips in (("gas_price", 430.0, 620.0, "low"), ("peak", 520, 550, "")):
            rows.append(
                {
                    "year": 2025,
                    "target": target,
                    "assumption": name,
                    "base_simulated": base,
                    "target_value": 500.0,
                    "base_status": "met",
                    "low_simulated": lo,
                    "high_simulated": hi,
                    "flips": flips if target == "output.total" else "",
                }
            )
    return pd.DataFrame(rows)


def _cells(fig) -> list[str]:
    return [cell.get_text().get_text() for cell in fig.axes[0].tables[0].get_celld().values()]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_flipping_assumptions_are_listed_per_target(lang):
    with use_report_style(lang):
        pages = robustness_pages(_table(), lang)
    assert len(pages) == 1
    cells = _cells(pages[0])
    flips = "气价▼" if lang == "zh" else "Gas price▼"
    assert flips in cells  # the total flips at the low gas price
    assert "—" in cells  # science flips with nothing
    assert "530 / 500" in cells


def test_bad_tables_are_named():
    with pytest.raises(ValueError, match="flips"):
        robustness_chart(_table().drop(columns="flips"), "en")
    with pytest.raises(ValueError, match="robustness table is empty"):
        robustness_chart(pd.DataFrame(columns=list(CHART_COLUMNS)), "en")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_chart_renders_without_glyph_warnings(lang):
    import io
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with use_report_style(lang):
            fig = robustness_chart(_table(), lang)
            fig.savefig(io.BytesIO(), format="png")
    assert ("Gas price" if lang == "en" else "气价") in " ".join(_cells(fig))
