"""The hindcast's chart and report page (cbm_sim.report.hindcast_charts)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from cbm_sim.report.hindcast_charts import skill_chart, skill_table_pages, summary_line
from cbm_sim.report.pages import hindcast_pages
from cbm_sim.report.style import label


def _skill() -> pd.DataFrame:
    """Five scored rows (errors -10 %, 0, +20 %, -50 %, 0; 3 inside) and a context row."""
    observed = np.array([1.0, 2.0, 4.0, 8.0, 10.0])
    p50 = observed * np.array([0.9, 1.0, 1.2, 0.5, 1.0])
    return pd.DataFrame(
        {
            "id": ["obs_0", "obs_1", "obs_2", "obs_3", "obs_4", "context"],
            "year": [2022, 2023, 2024, 2025, 2022, 2023],
            "observed": [*observed, 3.0],
            "unit": ["1e8 m3"] * 6,
            "kind": ["equal", "equal", "equal", "equal", "at_least", "equal"],
            "p10": [*(observed * 0.8), np.nan],
            "p50": [*p50, np.nan],
            "p90": [*(observed * 1.1), np.nan],
            "rel_error": [-0.1, 0.0, 0.2, -0.5, 0.0, np.nan],
            "inside": [True, True, False, False, True, False],
            "scored": [True, True, True, True, True, False],
        }
    )


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_chart_and_table_draw_the_scored_rows(lang: str) -> None:
    skill = _skill()
    fig = skill_chart(skill, lang)
    ax = fig.axes[0]
    assert len(ax.get_yticklabels()) == 5  # the context row is not drawn
    assert "obs_4 (2022) ≥" in [t.get_text() for t in ax.get_yticklabels()]
    pages = skill_table_pages(skill, lang)
    assert len(pages) == 1
    cells = pages[0].axes[0].tables[0].get_celld().values()
    texts = [c.get_text().get_text() for c in cells]
    assert any("obs_3" in t for t in texts) and not any(t == "context" for t in texts)


def test_the_summary_is_the_skill_measures() -> None:
    line = summary_line(_skill(), "en")
    # bias (-0.1 + 0 + 0.2 - 0.5 + 0) / 5 = -8 %, MAPE 16 %, 3 of 5 inside
    assert line == "5 held-out observations: bias -8%, MAPE 16%, P10-P90 coverage 60%"


def test_bad_tables_are_refused() -> None:
    with pytest.raises(ValueError, match="skill table lacks"):
        skill_chart(_skill().drop(columns="p90"), "en")
    with pytest.raises(ValueError, match="no scored"):
        skill_chart(_skill().assign(scored=False), "en")


def test_the_page_builder_brings_its_own_titles() -> None:
    pages = hindcast_pages(_skill())(SimpleNamespace(lang="en"))  # type: ignore[arg-type]
    assert [p.name for p in pages] == ["hindcast", "hindcast_table"]
    assert [p.kind for p in pages] == ["figure", "table"]
    for p in pages:
        assert label(p.title, "zh") and label(p.caption, "en")
