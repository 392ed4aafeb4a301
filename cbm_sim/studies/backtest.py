r"""The hindcast (``cbm-sim backtest``): the 2021-vintage model through 2022-2025 against the
public post-2021 record, as an ensemble, and its skill.

The record is the ``hindcast`` section of ``cbm_sim/data/history.yaml`` (every row with its
source, definition, tolerance and the date it became public); the rows marked ``scored`` are
the held-out test set. The scenario (``scenarios/backtest-2021.yaml``) runs the 2021-vintage
calibration (``calibration-2021.yaml``: fitted only to the rows known by 2021-12-31 and the
plan's baseline), the drilling that really happened where it is known and the plan
scenario's elsewhere, and only ranges a forecaster had at the end of 2021 in its
``uncertainty``. Each member is a full run (same sampling and member seeds as
:func:`cbm_sim.studies.ensemble.run_ensemble`); each observation is computed from it
(:func:`observe`).

Skill, over the scored rows: for each, the members' P10/P50/P90, the error of the P50
(:math:`e = P50 - y`; for a one-sided row, :math:`e = 0` when the P50 satisfies the bound),
its relative error :math:`e / y`, and whether :math:`y` lies inside P10-P90 (a lower bound
:math:`y`: inside when :math:`P90 \ge y`). Then

.. math::

    \text{bias} = \frac{1}{n}\sum_k \frac{e_k}{y_k}, \qquad
    \text{MAPE} = \frac{1}{n}\sum_k \left|\frac{e_k}{y_k}\right|, \qquad
    \text{coverage} = \frac{\#\{\text{inside}\}}{n}.

Issue 23's target: :math:`|\text{bias}| \le 10\,\%` and coverage :math:`\ge 70\,\%`.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from cbm_sim.plan.blocks import block_ids
from cbm_sim.plan.packaged import read_packaged
from cbm_sim.scenario.model import Scenario
from cbm_sim.studies.ensemble import MemberTask, member_draws
from cbm_sim.studies.execution import Progress, execute
from cbm_sim.studies.sampling import apply, check_uncertainty
from cbm_sim.units import WAN, YI
from cbm_sim.wells.calibration import Reported, row_date, row_fields

if TYPE_CHECKING:
    from cbm_sim.results.frames import Results

BIAS_TARGET: Final[float] = 0.10
"""Issue 23: |bias| of the held-out observations at most 10 %."""
COVERAGE_TARGET: Final[float] = 0.70
"""Issue 23: at least 70 % of the held-out observations inside P10-P90."""
KINDS: Final[tuple[str, ...]] = ("equal", "at_least", "at_most")
METRICS: Final[tuple[str, ...]] = (
    "production_1e8_m3",
    "total_extraction_1e8_m3",
    "block_production_1e8_m3",
    "blocks_production_1e8_m3",
    "block_production_h1_1e8_m3",
    "blocks_production_9m_1e8_m3",
    "blocks_rate_1e4_m3_per_day",
    "blocks_cumulative_1e8_m3",
    "blocks_wells_drilled",
    "blocks_wells_drilled_h1",
)
"""What a run computes (:func:`observe`); a row of another metric is shown, not modelled."""
SKILL_COLUMNS: Final[tuple[str, ...]] = (
    "id",
    "metric",
    "year",
    "observed",
    "unit",
    "kind",
    "tolerance",
    "p10",
    "p50",
    "p90",
    "error",
    "rel_error",
    "inside",
    "scored",
    "known",
    "why",
    "definition",
    "source",
)
"""Columns of the skill table (``skill.csv``): the observation, the members' percentiles in
its unit, the P50's error and whether the observation lies inside P10-P90."""


@dataclass(frozen=True, kw_only=True)
class Observation(Reported):
    """One row of the post-2021 record (``history.yaml``, ``hindcast``)."""

    scored: bool
    definition: str = ""
    why: str = ""
    date: dt.date | None = None
    """The day of a daily-rate metric (``blocks_rate_1e4_m3_per_day``)."""

    def modelled(self) -> bool:
        """Whether a run computes this observation's metric."""
        return self.metric in METRICS


def _date(row: Mapping[str, Any], key: str) -> dt.date | None:
    return row_date(row, key, "observation")


def load_observations(doc: Mapping[str, Any] | None = None) -> tuple[Observation, ...]:
    """The post-2021 record of ``data/history.yaml`` (or of ``doc``), validated.

    Raises
    ------
    ValueError
        Naming the row: an unknown kind or block, a non-positive tolerance, no source or
        known date, a scored row whose metric no run computes, a metric missing its blocks,
        end date or day, or a row not scored without its reason (``why``).
    """
    raw = doc if doc is not None else read_packaged("history.yaml")
    known_blocks = set(block_ids())
    out = []
    for row in raw.get("hindcast") or ():
        known = _date(row, "known")
        if known is None:
            raise ValueError(
                f"observation {row.get('id')}: missing known (the date it became public)"
            )
        o = Observation(
            **row_fields(row, "observation"),
            known=known,
            scored=bool(row.get("scored", False)),
            definition=str(row.get("definition", "")),
            why=str(row.get("why", "")),
            date=_date(row, "date"),
        )
        problem = _problem(o, known_blocks)
        if problem:
            raise ValueError(f"observation {o.id}: {problem}")
        out.append(o)
    return tuple(out)


def _problem(o: Observation, known_blocks: set[str]) -> str | None:
    if o.kind not in KINDS:
        return f"kind must be one of {KINDS}; got {o.kind!r}"
    if not o.tolerance > 0:
        return f"tolerance must be > 0; got {o.tolerance!r}"
    if not o.source.strip():
        return "missing source"
    if o.scored and not o.modelled():
        return f"metric {o.metric!r} is scored but no run computes it; expected one of {METRICS}"
    if not o.scored and not o.why.strip():
        return "a row not scored needs its reason (why)"
    for b in o.group:
        if b not in known_blocks:
            return f"unknown block {b!r}"
    needs_blocks = o.metric.startswith("block")
    if o.modelled() and needs_blocks and not o.group:
        return f"metric {o.metric} needs a block or blocks"
    if o.metric == "blocks_cumulative_1e8_m3" and o.until is None:
        return f"metric {o.metric} needs an end date (until)"
    if o.metric == "blocks_rate_1e4_m3_per_day" and o.date is None:
        return f"metric {o.metric} needs a day (date)"
    return None


# --------------------------------------------------------------------------- one run
def _block_series(results: Results, blocks: Sequence[str], quantity: str) -> pd.Series:
    """The blocks' summed daily series of ``quantity`` (per step, indexed by step start)."""
    d = results.daily
    rows = d[(d["quantity"] == quantity) & d["entity"].isin([f"block:{b}" for b in blocks])]
    return rows.groupby("date")["value"].sum()


def _annual(results: Results, entities: Sequence[str], quantity: str, year: int) -> float:
    a = results.annual
    rows = a[(a["entity"].isin(entities)) & (a["quantity"] == quantity) & (a["year"] == year)]
    return float(rows["value"].sum()) if len(rows) else math.nan


def _between(series: pd.Series, start: dt.date, end: dt.date) -> float:
    """Sum of a per-step series over the steps starting in ``[start, end)``."""
    idx = series.index
    sel = (idx >= pd.Timestamp(start)) & (idx < pd.Timestamp(end))
    return float(series[sel].sum())


def _last_step_end(results: Results, starts: pd.DatetimeIndex) -> pd.Timestamp:
    """The day after the last step of ``results``: the day after the horizon's end (meta),
    else the last step as long as ``step_days`` days (or as the step before it)."""
    if "end" in results.meta:
        return pd.Timestamp(results.meta["end"]) + pd.Timedelta(days=1)
    step = results.meta.get("step_days")
    if isinstance(step, int):
        return starts[-1] + pd.Timedelta(days=step)
    return starts[-1] + (starts[-1] - starts[-2] if len(starts) > 1 else pd.Timedelta(days=1))


def observe(results: Results, obs: Observation, produced_before_m3: Mapping[str, float]) -> float:
    """The value of ``obs`` in one run, in its unit (``nan``: not modelled or out of the run).

    ``produced_before_m3``: each block's gas produced before the run's start (its history
    wells), for cumulative metrics. Partial-year and monthly metrics sum the steps that start
    in the period (exact with daily steps).
    """
    y = obs.year
    blocks = obs.group
    entities = [f"block:{b}" for b in blocks]
    m = obs.metric
    if m == "production_1e8_m3":
        return _annual(results, ["surface"], "production", y) / YI
    if m == "total_extraction_1e8_m3":
        surface = _annual(results, ["surface"], "production", y)
        return (surface + _annual(results, ["mine_gas"], "drainage", y)) / YI
    if m in ("block_production_1e8_m3", "blocks_production_1e8_m3"):
        return _annual(results, entities, "surface_production", y) / YI
    if m == "blocks_wells_drilled":
        return _annual(results, entities, "wells_drilled", y)
    if m in ("block_production_h1_1e8_m3", "blocks_production_9m_1e8_m3"):
        end = dt.date(y, 7, 1) if m.endswith("h1_1e8_m3") else dt.date(y, 10, 1)
        series = _block_series(results, blocks, "surface_production")
        return _between(series, dt.date(y, 1, 1), end) / YI
    if m == "blocks_wells_drilled_h1":
        series = _block_series(results, blocks, "wells_drilled")
        return _between(series, dt.date(y, 1, 1), dt.date(y, 7, 1))
    if m == "blocks_rate_1e4_m3_per_day":
        assert obs.date is not None  # load_observations checks it
        first = obs.date.replace(day=1)
        last = (first + dt.timedelta(days=32)).replace(day=1)
        series = _block_series(results, blocks, "surface_production")
        # the mean rate of the steps that start in the month (a month's days when daily or
        # monthly): their gas over the days they cover (steps: cbm_sim/scenario/steps.py)
        starts = series.index
        ends = starts[1:].append(pd.DatetimeIndex([_last_step_end(results, starts)]))
        sel = (starts >= pd.Timestamp(first)) & (starts < pd.Timestamp(last))
        days = int(np.sum((ends[sel] - starts[sel]).days))
        return _between(series, first, last) / days / WAN if days else math.nan
    if m == "blocks_cumulative_1e8_m3":
        assert obs.until is not None
        series = _block_series(results, blocks, "surface_production")
        start = pd.Timestamp(results.meta["start"]).date()
        before = sum(produced_before_m3.get(b, 0.0) for b in blocks)
        return (before + _between(series, start, obs.until)) / YI
    return math.nan


def produced_before_start(
    scenario: Scenario, seed: int | np.random.SeedSequence
) -> dict[str, float]:
    """Gas every block's history wells produced before the scenario's start [m³]: the same
    history the run builds (its stream of ``seed``), at the wells' availability (the run
    loses that share of every well's gas to workovers, and its 2021 is fitted with it)."""
    from cbm_sim.cluster.build import stream
    from cbm_sim.wells import history, stepping

    cal = history.packaged_calibration(scenario.type_curves.calibration)
    past = stepping.initial_history(stream(seed, "history"), scenario.wells, cal)
    start = float((scenario.horizon.start - history.EPOCH).days)
    first = float(past.pop.online_day.min())
    by_block = past.pop.daily_volume_by_block(first, start) * stepping.availability(scenario.wells)
    return {b: float(v) for b, v in zip(past.pop.block_ids, by_block, strict=True)}


@dataclass(frozen=True)
class MemberValues:
    """What a member returns: each observation's value, or the error that failed it."""

    index: int
    parameters: dict[str, float]
    observed: dict[str, float]
    error: str | None = None


def run_member(task: MemberTask, observations: Sequence[Observation]) -> MemberValues:
    """Run one member (an ensemble's task) and compute every observation; an exception
    fails the member only."""
    from cbm_sim.results import simulate

    try:
        member = apply(task.scenario, task.parameters, task.scenario.uncertainty)
        results = simulate.run(member, seed=task.seed)
        before = produced_before_start(member, task.seed)
        values = {o.id: observe(results, o, before) for o in observations}
    except Exception as exc:  # a failed member must not sink the hindcast
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return MemberValues(task.index, task.parameters, {}, error=detail)
    return MemberValues(task.index, task.parameters, values)


# --------------------------------------------------------------------------- the hindcast
@dataclass(frozen=True)
class BacktestResult:
    """The members' values of every observation, and the skill table made from them."""

    observations: tuple[Observation, ...]
    members: pd.DataFrame
    """One row per member that ran: ``member``, the sampled inputs, one column per observation."""
    failures: pd.DataFrame
    """``member, error`` of the members that failed."""
    seed: int
    scenario: str
    step_days: int | str

    @property
    def n(self) -> int:
        """Members that ran."""
        return len(self.members)

    def skill(self) -> pd.DataFrame:
        """The skill table (:data:`SKILL_COLUMNS`), scored rows first."""
        return skill_table(self.observations, self.members)

    def summary(self) -> dict[str, float | int | bool]:
        """Bias, MAPE and coverage of the scored rows (:func:`skill_summary`)."""
        return skill_summary(self.skill())

    def write(self, out: Path) -> None:
        """Write ``skill.csv``, ``members.csv``, ``summary.csv`` and ``failures.csv``."""
        self.skill().to_csv(out / "skill.csv", index=False, encoding="utf-8")
        self.members.to_csv(out / "members.csv", index=False, encoding="utf-8")
        summary = self.summary()
        pd.DataFrame(
            {"measure": list(summary), "value": [float(v) for v in summary.values()]}
        ).to_csv(out / "summary.csv", index=False, encoding="utf-8")
        self.failures.to_csv(out / "failures.csv", index=False, encoding="utf-8")

    def to_dir(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Write the hindcast's folder atomically (staged, renamed into place whole, with
        ``meta.json``), as ``cbm-sim ensemble`` writes its folder."""
        from cbm_sim.results.integrity import write_meta
        from cbm_sim.results.rundir import staged_directory

        out = Path(path)
        with staged_directory(out, overwrite=overwrite) as stage:
            self.write(stage)
            files = [p.name for p in stage.iterdir() if p.is_file()]
            meta = {
                "kind": "backtest",
                "n": self.n,
                "seed": self.seed,
                "scenario": self.scenario,
                "step_days": self.step_days,
            }
            write_meta(stage, meta, files)
        return out


def skill_table(observations: Sequence[Observation], members: pd.DataFrame) -> pd.DataFrame:
    """Each observation with the members' P10/P50/P90, the P50's error and whether the
    observation lies inside P10-P90 (module docstring); scored rows first, then by year."""
    rows = []
    for o in observations:
        values = members[o.id].to_numpy(dtype=float) if o.id in members else np.array([])
        values = values[np.isfinite(values)]
        if values.size:
            p10, p50, p90 = (float(v) for v in np.percentile(values, [10, 50, 90]))
        else:
            p10 = p50 = p90 = math.nan
        error = p50 - o.value
        if o.kind == "at_least":
            error = min(error, 0.0)
            inside = bool(p90 >= o.value)
        elif o.kind == "at_most":
            error = max(error, 0.0)
            inside = bool(p10 <= o.value)
        else:
            inside = bool(p10 <= o.value <= p90)
        rows.append(
            {
                "id": o.id,
                "metric": o.metric,
                "year": o.year,
                "observed": o.value,
                "unit": o.unit,
                "kind": o.kind,
                "tolerance": o.tolerance,
                "p10": p10,
                "p50": p50,
                "p90": p90,
                "error": error,
                "rel_error": error / o.value if o.value else math.nan,
                "inside": inside if values.size else False,
                "scored": o.scored,
                "known": o.known.isoformat(),
                "why": "" if o.scored else o.why,
                "definition": o.definition,
                "source": o.source,
            }
        )
    table = pd.DataFrame(rows, columns=list(SKILL_COLUMNS))
    order = np.lexsort((table["year"].to_numpy(), ~table["scored"].to_numpy(dtype=bool)))
    return table.iloc[order].reset_index(drop=True)


def skill_summary(table: pd.DataFrame) -> dict[str, float | int | bool]:
    """Bias, MAPE and P10-P90 coverage of the scored rows of a skill table, and whether
    issue 23's targets (|bias| ≤ 10 %, coverage ≥ 70 %) are met."""
    scored = table[table["scored"].astype(bool)]
    rel = scored["rel_error"].to_numpy(dtype=float)
    n = len(scored)
    bias = float(np.mean(rel)) if n else math.nan
    mape = float(np.mean(np.abs(rel))) if n else math.nan
    coverage = float(scored["inside"].astype(bool).mean()) if n else math.nan
    return {
        "held_out": n,
        "bias": bias,
        "mape": mape,
        "coverage": coverage,
        "bias_target": BIAS_TARGET,
        "coverage_target": COVERAGE_TARGET,
        "bias_met": bool(abs(bias) <= BIAS_TARGET),
        "coverage_met": bool(coverage >= COVERAGE_TARGET),
    }


def run_backtest(
    scenario: Scenario,
    n: int,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    seed: int | None = None,
    progress: Progress | None = None,
    observations: Sequence[Observation] | None = None,
    on_member: Callable[[int, MemberValues], None] | None = None,
) -> BacktestResult:
    """Run ``n`` members of ``scenario`` (its ``uncertainty`` sampled as an ensemble's, the
    same member seeds) and compute every observation of the record in each.

    Raises
    ------
    ValueError
        If ``n < 1``, an uncertain input is malformed, or the scenario's horizon does not
        start on 2021-01-01 (the history's vantage) or ends before an observation's year.
    """

    if n < 1:
        raise ValueError(f"a backtest needs n >= 1 members, got {n}")
    if scenario.horizon.start != dt.date(2021, 1, 1):
        raise ValueError(
            f"the hindcast starts from the plan's 2021 baseline: horizon.start must be "
            f"2021-01-01, got {scenario.horizon.start}"
        )
    obs = tuple(observations) if observations is not None else load_observations()
    late = [o.id for o in obs if o.modelled() and o.year > scenario.horizon.end.year]
    if late:
        raise ValueError(
            f"the horizon ends {scenario.horizon.end}, before the observations {', '.join(late)}"
        )
    check_uncertainty(scenario)
    root = scenario.seed if seed is None else seed
    tasks = [
        MemberTask(i, scenario, params, ss, ())
        for i, (ss, params) in enumerate(member_draws(scenario, n, root))
    ]
    outcomes = execute(
        functools.partial(run_member, observations=obs),
        tasks,
        workers=workers,
        scheduler=scheduler,
        progress=progress,
        on_result=on_member,
    )
    ok = [o for o in outcomes if o.error is None]
    members = pd.DataFrame(
        [{"member": o.index, **o.parameters, **o.observed} for o in ok],
        columns=["member", *scenario.uncertainty, *(x.id for x in obs)],
    )
    failures = pd.DataFrame(
        [{"member": o.index, "error": o.error} for o in outcomes if o.error is not None],
        columns=["member", "error"],
    )
    return BacktestResult(
        observations=obs,
        members=members,
        failures=failures,
        seed=root,
        scenario=scenario.name,
        step_days=scenario.horizon.step_days,
    )
