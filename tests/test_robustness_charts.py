"""Tests of cbm_sim.report.robustness_charts: the flip grid."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cbm_sim.report.fonts import use_report_style
from cbm_sim.report.robustness_charts import CHART_COLUMNS, robustness_chart


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


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_flipped_cells_are_marked(lang):
    with use_report_style(lang):
        fig = robustness_chart(_table(), lang)
        grid = np.asarray(fig.axes[0].images[0].get_array())
    assert grid.tolist() == [[1.0, 0.0], [0.0, 0.0]]
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "430/620▼" in texts


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
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert ticks == (["气价", "peak"] if lang == "zh" else ["gas_price", "peak"])
