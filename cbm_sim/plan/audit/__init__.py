"""The plan's internal consistency, computed from the packaged plan data.

:func:`audit` returns one row per finding. Every number in it is computed from the records of
``cbm_sim/data/plan.yaml`` (their values, ``part_of``, ``formula``, ``driver``,
``context_year``) and, where the plan states no figure, from a named assumption (a price of
``cbm_sim/data/valuation.yaml``, a physical constant of :mod:`cbm_sim.units`); the ``detail``
sentences, with their arithmetic, are generated from those numbers, and ``phrases`` holds the
plan phrases each finding rests on.

Severities (:data:`SEVERITIES`), most serious first:

``error``
    The plan contradicts itself or physics: one figure stated twice with two values, a
    figure printed under the wrong year, gas uses that exceed the supply, a conversion
    ratio beyond the physical one.
``inconsistency``
    Figures that should agree disagree beyond the rounding of the stated figure.
``rounding``
    Figures that should agree differ within the stated precision (half a unit of the last
    printed digit; for figures stated as approximate, 约, within :data:`APPROX_PRECISION`).
``note``
    A derived figure worth a planner's eye (gas left unexplained, a unit value that moves
    more than :data:`UNIT_VALUE_DRIFT`, capacity far from its use, a plan-period gap).
``ok``
    The figures agree (to the printed precision where a share or ratio is rounded).

``status`` is the coarse three-valued view of the severity kept for ``--status``
(:data:`STATUS_OF_SEVERITY`): ``discrepancy`` = error or inconsistency, ``info`` = note,
``ok`` = rounding or ok.

Checks (:data:`CHECKS`):

``sum``
    Parts (records whose ``part_of`` names a parent) against the stated parent, per year,
    once with the ``summary`` and once with the ``detail`` statement of each part where these
    differ; where parts are themselves split, also the leaf items.
``formula``
    Stated shares and ratios against their definition (``formula``), within the rounding of
    the stated value (half a unit of its last printed digit), respecting ``min``/``max``.
``unit_value``
    Value over volume for every record with a ``driver`` (元/m³, 元/t, 元/kWh, m³/t, …) and its
    change from the previous year of the same series; two different unit values for one
    series and year are an inconsistency unless explained (:data:`EXPLAINED_SPREADS`).
``balance``
    Gas supply against the sum of stated uses and conversions, per year, for the surface
    gas, the coal-mine gas and the total. A use stated only as a ceiling (the export cap,
    控制在…以内) is a constraint, not a use: it is compared with what is left.
``value_balance``
    The same balances with the sectors the plan states only by value (industry, transport
    in 2025 and 2030) turned into volumes at an assumed price (named), with the break-even
    price at which the uses would fit the supply.
``services``
    Production-service and equipment value against the surface gas volume (value per m³
    from one target year to the next) and the wells the drilling value pays for.
``physical``
    Conversion ratios against physics: gas per m³ of LNG tank
    (:data:`cbm_sim.units.LNG_GAS_M3_PER_LIQUID_M3`), feed gas per tonne of LNG against the
    gas a tonne of methane holds.
``capacity``
    Utilisation of stated infrastructure (pipeline, CNG, LNG) by the stated flow or cap.
``storage_base``
    The storage needs (3 days of use, 5 % of annual use) turned back into the annual use they
    imply, against each other and against the stated local use.
``duplicate``
    Every id stated more than once for one year: equal point values (bounds satisfied) are
    ``ok``, anything else an error.
``year_context``
    Figures whose printed year contradicts their context (``context_year``), and targets
    beyond the plan horizon.
``coverage``
    Parts stated for one target year but not for another (e.g. carbon trading).

The gas-chain structure (what is a supply, what a use) is the :data:`BALANCES` table below;
the LNG feed-gas ratio used to turn tonnes of LNG into feed gas is computed from the data.
"""

from __future__ import annotations

import pandas as pd

from cbm_sim.plan.audit.arithmetic import _formula_checks, _sum_checks, _unit_values
from cbm_sim.plan.audit.balances import BALANCES, Balance, _balances, _value_balances
from cbm_sim.plan.audit.common import CHECKS, COLUMNS, SEVERITIES, STATUS_OF_SEVERITY
from cbm_sim.plan.audit.crosschecks import _capacities, _physical, _services, _storage_base
from cbm_sim.plan.audit.records import _coverage, _duplicates, _year_context
from cbm_sim.plan.figures import Plan, load_plan

__all__ = ["BALANCES", "CHECKS", "COLUMNS", "SEVERITIES", "STATUS_OF_SEVERITY", "Balance", "audit"]


def audit(plan: Plan | None = None) -> pd.DataFrame:
    """The plan's internal consistency: one row per finding.

    Parameters
    ----------
    plan
        The plan data; default the packaged file (:func:`cbm_sim.plan.figures.load_plan`).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`: ``check`` (one of :data:`CHECKS`), ``ref`` (the plan
        sections involved), ``subject``, ``year``, ``stated`` and ``computed`` (in ``unit``),
        ``difference`` (computed − stated; for ``unit_value`` the change from the previous
        year of the series; for ``balance`` supply − uses), ``severity`` (one of
        :data:`SEVERITIES`), ``status`` (its coarse form, :data:`STATUS_OF_SEVERITY`),
        ``detail`` (a generated sentence with the arithmetic), ``phrases`` (the plan phrases
        the finding rests on, joined by " ｜ ") and ``basis`` (the assumptions and public
        references it also uses; empty when it rests on the plan alone).
    """
    plan = plan if plan is not None else load_plan()
    rows = (
        _sum_checks(plan)
        + _formula_checks(plan)
        + _unit_values(plan)
        + _balances(plan)
        + _value_balances(plan)
        + _services(plan)
        + _physical(plan)
        + _capacities(plan)
        + _storage_base(plan)
        + _duplicates(plan)
        + _year_context(plan)
        + _coverage(plan)
    )
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["year"] = frame["year"].astype("int64")
    for col in ("stated", "computed", "difference"):
        frame[col] = frame[col].astype("float64")
    frame["check"] = pd.Categorical(frame["check"], categories=list(CHECKS), ordered=True)
    frame = frame.sort_values(["check", "subject", "year"], kind="stable")
    frame["check"] = frame["check"].astype(str)
    frame["basis"] = frame["basis"].fillna("").astype(str)
    return frame.reset_index(drop=True)
