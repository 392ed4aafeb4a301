"""Report charts: one function per chart, each returning a :class:`matplotlib.figure.Figure`.

This module is the public face of the chart modules:

- :mod:`cbm_sim.report.style` — the label dictionary (Chinese/English, one place), units;
- :mod:`cbm_sim.report.supply_charts` — production, gas balance, flows, facilities, storage;
- :mod:`cbm_sim.report.value_charts` — cover verdict, output value against targets, item table;
- :mod:`cbm_sim.report.ensemble_charts` — P10–P90 fans, target probabilities, tornado.

Figures are built with the object-oriented API (``Figure()``, never pyplot), so no global
state is touched. Build and save them inside :func:`cbm_sim.report.fonts.use_report_style` (the
functions enter it while building; matplotlib lays out tick labels and picks the PDF font type
at save time, so saving needs it too — :func:`cbm_sim.report.pdf.write_report` does both)::

    with use_report_style("zh"):
        production_chart(results, "zh").savefig("production.pdf")
"""

from __future__ import annotations

from cbm_sim.report.ensemble_charts import (
    EnsembleFrames,
    fan_chart,
    probability_chart,
    tornado_chart,
)
from cbm_sim.report.sankey import sankey_chart
from cbm_sim.report.style import LABELS, label
from cbm_sim.report.supply_charts import (
    TARGET_YEARS,
    balance_chart,
    balance_groups,
    facilities_chart,
    production_chart,
    storage_chart,
)
from cbm_sim.report.tables import (
    physical_table_chart,
    probability_table_chart,
    value_table_chart,
)
from cbm_sim.report.value_charts import cover_chart, value_chart

__all__ = [
    "LABELS",
    "TARGET_YEARS",
    "EnsembleFrames",
    "balance_chart",
    "balance_groups",
    "cover_chart",
    "facilities_chart",
    "fan_chart",
    "label",
    "physical_table_chart",
    "probability_chart",
    "probability_table_chart",
    "production_chart",
    "sankey_chart",
    "storage_chart",
    "tornado_chart",
    "value_chart",
    "value_table_chart",
]
