"""What every check of the audit shares: columns, severities, tolerances, the row format."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

import numpy as np

from cbm_sim.plan.figures import Figure, Plan, PlanDataError, expression_ids, preferred

COLUMNS: tuple[str, ...] = (
    "check",
    "ref",
    "subject",
    "year",
    "stated",
    "computed",
    "difference",
    "unit",
    "severity",
    "status",
    "detail",
    "phrases",
    "basis",
)
CHECKS: tuple[str, ...] = (
    "sum",
    "formula",
    "unit_value",
    "balance",
    "value_balance",
    "services",
    "physical",
    "capacity",
    "storage_base",
    "duplicate",
    "year_context",
    "coverage",
)
SEVERITIES: tuple[str, ...] = ("error", "inconsistency", "rounding", "note", "ok")
"""Severities, most serious first (see the module docstring)."""
STATUS_OF_SEVERITY: Final[dict[str, str]] = {
    "error": "discrepancy",
    "inconsistency": "discrepancy",
    "rounding": "ok",
    "note": "info",
    "ok": "ok",
}
"""The coarse ``status`` of each severity (``cbm-sim plan audit --status``)."""

_EXACT = 1e-9  # relative tolerance for "adds up exactly" (float noise only)
_SAME_UNIT_VALUE = 1e-3  # relative spread above which two unit values of a series differ
_PHRASE_SEP = " ｜ "

APPROX_PRECISION: Final[float] = 0.01
"""Relative precision of figures the plan states as approximate (约): assumption, such
figures are round numbers (3770, 618) and two of them agreeing within 1 % agree to their
precision."""
UNIT_VALUE_DRIFT: Final[float] = 0.20
"""Change of a unit value from one stated year to the next above which it is a ``note``:
assumption, ≈4 %/yr of price drift over the plan's 4-5-year steps (CPI ≈2 %/yr plus mix)."""
_UNEXPLAINED_SHARE: Final[float] = 0.05
# Share of supply a balance may leave unexplained before it is a note: assumption, field
# own use, gathering and processing losses of a CBM field are a few per cent of output.
_SERVICES_FACTOR: Final[float] = 2.0
# Change of service value per m³ of gas (target year to target year) beyond which value and
# volume disagree: assumption, price drift (≈1.1 over 5 years) or a shift to horizontal wells
# cannot double the drilling spend per m³ while output falls.
_PHYSICAL_TOLERANCE: Final[float] = 0.15
# Relative deviation from the LNG expansion ratio (≈600) beyond which a stated tank capacity
# is physically impossible: assumption, LNG of 420-470 kg/m³ and gas metered at 0 °C or 20 °C
# span ≈585-≈633 m³/m³ (units.LNG_GAS_M3_PER_LIQUID_M3), well inside 600 ± 15 %.
_CH4_KG_PER_M3_20C: Final[float] = 16.043 / 24.055
# Public: methane, 16.043 g/mol, over the ideal-gas molar volume at 20 °C and 101.325 kPa
# (8.314 × 293.15 / 101.325 = 24.055 L/mol), China's gas-metering reference condition:
# 0.667 kg/m³, so a tonne of methane is ≈1,499 m³ of gas.
_UTILISATION_LOW: Final[float] = 0.5
# Assumption: gas infrastructure is sized for peaks, but winter peak over annual mean is ≈1.5-2
# for city gas; a facility used below half its capacity on average is worth a look.
_UTILISATION_HIGH: Final[float] = 0.9
# Assumption: above 90 % of capacity a facility has no headroom for outages and peaks.


@dataclass(frozen=True)
class Balance:
    """One gas balance: a supply against the uses it should cover (ids of the plan data)."""

    name: str
    supply: str
    uses: tuple[str, ...]


_SURFACE_USES = ("local_use.total", "cng.gas", "lng.feed_gas", "pipeline.exports")
BALANCES: tuple[Balance, ...] = (
    Balance("surface gas", "production.surface", _SURFACE_USES),
    Balance("coal-mine gas", "production.underground", ("minegas.utilised",)),
    Balance("mine-gas utilisation", "minegas.utilised", ("power.gas", "minegas.heating_gas")),
    Balance("total gas", "production.total", (*_SURFACE_USES, "minegas.utilised")),
)
"""Supply and uses per balance. A use not stated for a year is replaced by its stated parts
(``part_of``), LNG feed gas by LNG output × the data's own m³/t, mine-gas utilisation by
power + heating gas. A use stated only as a ceiling (``comparator: max``) is a cap."""

VALUE_ONLY_PARENT: Final[str] = "output.utilisation"
"""Sales values whose sector ``output.utilisation.<s>`` has a volume id ``local_use.<s>``; a
sector with a value but no volume in a year is priced at ``<s>_price_yuan_per_m3`` of
``cbm_sim/data/valuation.yaml`` (check ``value_balance``)."""

CAPACITIES: tuple[tuple[str, str, str], ...] = (
    ("outbound pipeline", "pipeline.capacity", "pipeline.exports"),
    ("CNG compression", "cng.capacity", "cng.gas"),
    ("LNG liquefaction", "lng.capacity", "lng.output"),
)
"""(name, capacity id, flow id) for the ``capacity`` check; the capacity of a year is the
latest one stated up to that year."""

EXPLAINED_SPREADS: Final[dict[str, tuple[float, str]]] = {
    "lng_feed_m3_per_t": (
        0.02,
        "the plant-capacity pair (t/d ↔ m³/d) and the annual output and gas used need not "
        "give one ratio: the annual gas used includes the plants' own fuel, start-ups and "
        "losses, which move by about 1 % of feed (see check physical)",
    ),
}
"""Series whose two unit values for one year may differ by up to the given relative spread
for the stated reason (a ``note``, not an inconsistency)."""

_STORAGE_RULES: tuple[tuple[str, str, str], ...] = (
    ("storage.need_3day", "storage.need_3day * 365 / (storage.rule_days@2020)", "3 days"),
    ("storage.need_5pct", "storage.need_5pct / (storage.rule_city_gas_share@2020)", "5 %"),
)
# Each storage need turned back into the annual use it implies (365 days: the rule's 日均).


def _fmt(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if abs(x) >= 1e5:
        return f"{x:,.0f}"
    return f"{x:.6g}"


def _pct(fraction: float) -> str:
    return f"{100 * fraction:.3g} %"


def _half_unit(value: float) -> float:
    """Half a unit of the last printed digit of ``value`` (its rounding tolerance)."""
    text = repr(float(value))
    decimals = len(text.split(".")[1]) if "." in text and not text.endswith(".0") else 0
    return 0.5 * 10.0**-decimals


def _short(fig: Figure) -> str:
    return f"{fig.id} {_fmt(fig.value)} {fig.unit}"


def _refs(figs: Iterable[Figure]) -> str:
    return "; ".join(dict.fromkeys(f.ref for f in figs))


def _phrases(figs: Iterable[Figure]) -> str:
    return _PHRASE_SEP.join(dict.fromkeys(f.phrase for f in figs))


def _row(
    check: str,
    figs: Iterable[Figure],
    subject: str,
    year: int,
    severity: str,
    basis: str = "",
    **kw: object,
) -> dict:
    """One finding: ``figs`` are every plan figure it rests on (refs and phrases)."""
    figs = list(figs)
    row = dict.fromkeys(COLUMNS, np.nan) | {
        "check": check,
        "ref": _refs(figs),
        "subject": subject,
        "year": year,
        "severity": severity,
        "status": STATUS_OF_SEVERITY[severity],
        "phrases": _phrases(figs),
        "basis": basis,
    }
    row.update(kw)
    return row


def _terms(plan: Plan, expr: str, year: int) -> list[Figure]:
    """The figures an expression refers to for ``year`` (those stated)."""
    found = []
    for name, pinned in expression_ids(expr):
        fig = _pick(plan, name, pinned if pinned is not None else year)
        if fig is not None:
            found.append(fig)
    return found


def _need(plan: Plan, id: str, year: int, statement: str | None = None) -> Figure:
    """:func:`_pick` for a figure the caller knows is stated (it iterates the id's years)."""
    fig = _pick(plan, id, year, statement)
    if fig is None:
        raise PlanDataError(f"the audit needs {id} for {year}, which the plan data lacks")
    return fig


def _pick(plan: Plan, id: str, year: int, statement: str | None = None) -> Figure | None:
    figs = plan.records(id, year)
    if not figs:
        return None
    if statement is not None:
        figs = [f for f in figs if f.statement == statement] or figs
    return preferred(figs)[0]
