"""Monte Carlo ensembles: sample the scenario's ``uncertainty``, run the members on Dask.

How an uncertain input is drawn and acts on its field is :mod:`cbm_sim.studies.sampling`; how
members are run (serially or on Dask distributed) is :mod:`cbm_sim.studies.execution`. This
module makes the members, summarises each run and holds the ensemble's result.

Reproducibility: member ``i`` uses ``SeedSequence(seed).spawn(n)[i]``, both for its sample
(a PCG64 generator on that sequence: ``k`` standard normals through the copula) and for its
simulation run (``simulate.run`` derives its process streams from it with extra spawn keys),
so an ensemble is the same whatever the number of workers.
"""

from __future__ import annotations

import math
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from cbm_sim import bounds
from cbm_sim.scenario.model import Scenario
from cbm_sim.studies.execution import (
    SCHEDULER_TIMEOUT_S,
    WORKER_DEATH_RETRIES,
    WORKER_ENVIRON,
    Progress,
    SchedulerError,
    execute,
    settle,
)
from cbm_sim.studies.journal import MemberOutcome
from cbm_sim.studies.probability import wilson_interval
from cbm_sim.studies.sampling import (
    apply,
    check_uncertainty,
    frozen_distribution,
    invalid_because,
    sample,
    targets_of,
)
from cbm_sim.units import to_planner

__all__ = [
    "MEASURES",
    "SCHEDULER_TIMEOUT_S",
    "TARGET_YEARS",
    "WORKER_DEATH_RETRIES",
    "WORKER_ENVIRON",
    "EnsembleResult",
    "MemberTask",
    "SchedulerError",
    "TooFewMembersError",
    "apply",
    "check_enough",
    "check_uncertainty",
    "collect",
    "execute",
    "frozen_distribution",
    "member_draws",
    "member_seeds",
    "probability_of_reaching",
    "run_ensemble",
    "run_member",
    "sample",
    "settle",
    "summarise",
    "target_id",
    "targets_of",
]

TARGET_YEARS: Final[tuple[int, ...]] = (2025, 2030)
"""Years of the plan's targets (plan ch3 §3: 2025 and 2030)."""
MEASURES: Final[tuple[str, ...]] = ("production", "value", "targets")
"""What a member summary holds: production volumes, output value, target statuses."""
PRODUCTION_UNIT: Final[str] = "m3"
VALUE_UNIT: Final[str] = "元"
STATUS_COLUMNS: Final[tuple[str, ...]] = (
    "year",
    "target",
    "status",
    "simulated",
    "target_value",
    "unit",
)
"""Columns of a member's target statuses; ``simulated`` and ``target_value`` are in ``unit``,
the unit the plan states the target in (亿元, 亿m3, 万t …)."""


# --------------------------------------------------------------------------- member summary
def summarise(
    results: Any, measures: Sequence[str] = MEASURES
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Annual summary of one run: quantities (wide, one row per year) and target statuses.

    Quantities (plan ids, see docs/architecture.md): ``production.surface`` (surface
    production), ``production.underground`` (coal-mine drainage), ``production.total`` (their
    sum, as the plan counts 产量) in m³; with ``"value"``, ``output.<sub_cluster>`` and
    ``output.total`` in 元 (sums of :func:`cbm_sim.economics.valuation.value`'s ``value_yuan``).

    Statuses (long): ``year, target, status, simulated, target_value`` for the years
    :data:`TARGET_YEARS` of :func:`cbm_sim.economics.targets.check_targets`; ``target`` is the
    plan id
    (``output.total``, ``output.<sc>``, ``output.<sc>.<item>``, or the physical item id).
    """
    unknown = sorted(set(measures) - set(MEASURES))
    if unknown:
        raise ValueError(f"unknown measures {unknown}; expected some of {list(MEASURES)}")
    from cbm_sim.economics.drivers import AnnualTable

    # numbers only: the frames a member would build and drop are left out (a test compares
    # with the frames' sums bit for bit)
    years = sorted(int(y) for y in results.annual["year"].unique())
    columns: dict[str, Any] = {"year": years}  # one frame at the end: a column set costs ~1 ms
    table = AnnualTable(results)

    def series(entity: str, quantity: str) -> np.ndarray:
        if not table.has(entity, quantity):
            return np.zeros(len(years))
        return table.get(entity, quantity, years)

    if "production" in measures:
        surface, underground = series("surface", "production"), series("mine_gas", "drainage")
        columns["production.surface"] = surface
        columns["production.underground"] = underground
        columns["production.total"] = surface + underground
    terms = None
    if "value" in measures:
        from cbm_sim.economics.valuation import sub_cluster_totals, value_terms

        terms = value_terms(results, table=table)
        by_sc, total = sub_cluster_totals(terms)
        at = np.searchsorted(terms.years, years)
        for sc, per_year in by_sc.items():
            columns[f"output.{sc}"] = per_year[at]
        columns["output.total"] = total[at]
    wide = pd.DataFrame(columns)
    if "targets" not in measures:
        return wide, pd.DataFrame(columns=list(STATUS_COLUMNS))
    from cbm_sim.economics import targets
    from cbm_sim.economics.valuation import value_terms

    # the check's verdicts without its frames (a test compares with check_targets)
    terms = terms if terms is not None else value_terms(results, table=table)
    rows = targets.statuses(terms, table, years=TARGET_YEARS)
    statuses = pd.DataFrame(
        {
            "year": np.array([r[0] for r in rows], dtype=np.int64),
            "target": [target_id(r[1], r[2]) for r in rows],
            "status": np.array([r[3] for r in rows], dtype=object),
            "simulated": np.array([r[4] for r in rows], dtype=np.float64),
            "target_value": np.array([r[5] for r in rows], dtype=np.float64),
            "unit": np.array([r[6] for r in rows], dtype=object),
        }
    )
    return wide, statuses


def target_id(sub_cluster: str, item: str | None) -> str:
    """Plan id of a target-check row (``sub_cluster == "total"`` is the cluster total,
    ``"physical"`` rows carry their plan id in ``item``, an empty/``"total"`` item is a
    sub-cluster total)."""
    item = "" if item is None or (isinstance(item, float) and math.isnan(item)) else str(item)
    if sub_cluster == "total":
        return "output.total"
    if sub_cluster == "physical":
        return item
    if item in ("", "total"):
        return f"output.{sub_cluster}"
    return item if item.startswith("output.") else f"output.{sub_cluster}.{item}"


@dataclass(frozen=True)
class MemberTask:
    """One member: the base scenario, its sampled inputs and its simulation seed."""

    index: int
    scenario: Scenario
    parameters: dict[str, float]
    seed: np.random.SeedSequence
    measures: tuple[str, ...]


def run_member(task: MemberTask) -> MemberOutcome:
    """Build, run and summarise one member; any exception becomes a failed outcome."""
    from cbm_sim.results import simulate

    try:
        member = apply(task.scenario, task.parameters, task.scenario.uncertainty)
        # a member is summarised by year: no daily frame, no events
        results = simulate.run(member, seed=task.seed, daily=False, events=False)
        wide, statuses = summarise(results, task.measures)
    except Exception as exc:  # a failed member must not sink the ensemble
        return MemberOutcome(task.index, task.parameters, error=_member_error(exc))
    return MemberOutcome(task.index, task.parameters, wide=wide, statuses=statuses)


def _member_error(exc: Exception) -> str:
    """One line on why a member failed. A sampled scenario the model refuses names the field
    and the rule, not the value (that is in the member's parameters), so that members failing
    for one reason read alike and are counted together."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        return f"ValidationError: the sampled scenario is invalid: {invalid_because(exc)}"
    return " ".join("".join(traceback.format_exception_only(type(exc), exc)).split())


# --------------------------------------------------------------------------- the ensemble
@dataclass(frozen=True, repr=False)
class EnsembleResult:
    """Per-member annual summaries of an ensemble.

    Attributes
    ----------
    members
        One row per successful member × year: ``member``, ``year``, the sampled inputs
        (one column per dotted path) and the quantities of :func:`summarise`
        (``production.*`` in m³, ``output.*`` in 元: the raw member summaries, as
        ``members.parquet``; :meth:`members_long` and :meth:`percentiles` give them in the
        planner's units with a ``unit`` column, as the CSVs).
    statuses
        ``member, year, target, status, simulated, target_value`` (target check, 2025/2030).
    failures
        ``member, error`` and the sampled inputs of each failed member.
    n
        Members asked for (successful + failed).
    seed
        Root seed of the ensemble.
    parameters
        The dotted paths sampled.
    """

    members: pd.DataFrame
    statuses: pd.DataFrame
    failures: pd.DataFrame
    n: int
    seed: int
    parameters: tuple[str, ...] = field(default_factory=tuple)

    def quantities(self) -> list[str]:
        """The summary quantities (plan ids) present in :attr:`members`."""
        fixed = {"member", "year", *self.parameters}
        return [c for c in self.members.columns if c not in fixed]

    def __repr__(self) -> str:
        ran = int(self.members["member"].nunique()) if len(self.members) else 0
        return (
            f"EnsembleResult(n={self.n}, ran={ran}, failed={len(self.failures)}, "
            f"seed={self.seed}, inputs={len(self.parameters)}, "
            f"years={_span(self.members)}, quantities={len(self.quantities())})"
        )

    @property
    def plot(self) -> Any:
        """Charts of this ensemble, each a matplotlib ``Figure``: ``.fan(quantity, lang)``,
        ``.probability(lang)`` (:mod:`cbm_sim.report.plots`)."""
        from cbm_sim.results.frames import PlotAccessor

        return PlotAccessor(self, "ensemble")

    @classmethod
    def from_dir(cls, directory: str | Path, *, verify: bool = True) -> EnsembleResult:
        """An ensemble folder written by :meth:`to_dir` (``cbm-sim ensemble -o``), read back:
        members and statuses from their Parquet files, failures from ``failures.csv``, ``n``,
        ``seed`` and the sampled inputs from ``meta.json`` (verified unless ``verify`` is
        false).

        Raises
        ------
        DamagedRunError
            If the folder fails verification or lacks a file.
        """
        from cbm_sim.results import integrity

        src = Path(directory)
        wanted = ("members.parquet", "statuses.parquet", "failures.csv")
        meta = integrity.verify(src, require=wanted) if verify else integrity.read_meta(src)
        missing = [n for n in wanted if not (src / n).is_file()]
        if missing:
            raise integrity.DamagedRunError(f"{src}: missing {missing}; not an ensemble folder")
        members = pd.read_parquet(src / "members.parquet")
        statuses = pd.read_parquet(src / "statuses.parquet")
        failures = pd.read_csv(src / "failures.csv")
        parameters = meta.get("parameters")
        if not isinstance(parameters, list):  # an older folder: the columns between year
            fixed = [c for c in members.columns if c not in ("member", "year")]
            parameters = [c for c in fixed if not c.startswith(("production.", "output."))]
        return cls(
            members,
            statuses,
            failures,
            int(meta.get("n", members["member"].nunique() + len(failures))),
            int(meta.get("seed", 0)),
            tuple(str(p) for p in parameters),
        )

    def percentiles(self, *, base: bool = False) -> pd.DataFrame:
        """``year, quantity, unit, p10, p50, p90`` over the successful members (linear
        interpolation between order statistics, numpy's default), in the planner's units as
        ``percentiles.csv`` (亿m3, 亿元); ``base=True``: in m3 and 元."""
        long = self.members.melt(
            id_vars=["member", "year"], value_vars=self.quantities(), var_name="quantity"
        )
        grouped = long.groupby(["year", "quantity"], sort=True)["value"]
        out = pd.concat(
            {f"p{q}": grouped.quantile(q / 100) for q in (10, 50, 90)}, axis=1
        ).reset_index()
        out.insert(
            2,
            "unit",
            [
                PRODUCTION_UNIT if q.startswith("production.") else VALUE_UNIT
                for q in out["quantity"]
            ],
        )
        return out if base else to_planner(out, ("p10", "p50", "p90"))

    def probabilities(self) -> pd.DataFrame:
        """Probability of meeting every target of the target check, with its Monte Carlo error.

        Returns
        -------
        pandas.DataFrame
            ``year, target, probability, std_error, members, met, wilson_low, wilson_high,
            members_for_0_05``: the share of members whose target check says ``met``, its
            binomial standard error :math:`\\sqrt{p(1-p)/n}`, the members counted and meeting
            it, the 95 % Wilson score interval, and the members a 95 % half-width of 0.05
            would need (:mod:`cbm_sim.studies.probability`).
        """
        from cbm_sim.studies.probability import members_needed

        frame = self.statuses.assign(met=self.statuses["status"] == "met")
        grouped = frame.groupby(["year", "target"], sort=True)["met"]
        out = grouped.agg(probability="mean", members="size", met="sum").reset_index()
        out["met"] = out["met"].astype("int64")
        out["std_error"] = np.sqrt(out["probability"] * (1 - out["probability"]) / out["members"])
        low, high = wilson_interval(out["met"].to_numpy(), out["members"].to_numpy())
        out["wilson_low"], out["wilson_high"] = low, high
        out["members_for_0_05"] = members_needed(low, high)
        return out[
            [
                "year",
                "target",
                "probability",
                "std_error",
                "members",
                "met",
                "wilson_low",
                "wilson_high",
                "members_for_0_05",
            ]
        ]

    def to_dir(
        self,
        path: str | Path,
        *,
        overwrite: bool = False,
        extra: Callable[[Path], None] | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> Path:
        """Write the ensemble's folder ``path`` atomically, as ``cbm-sim run`` writes a run:
        staged beside it and renamed into place whole, with ``meta.json`` (SHA-256 of every
        file). ``--overwrite`` replaces a previous cbm-sim folder whole (no file of the old
        one, e.g. its ``tornado.csv``, survives) and never an unrelated folder.

        ``extra(stage)`` may add files (``tornado.csv``) before the folder is sealed;
        ``meta`` adds to ``meta.json`` (the provenance of
        :func:`cbm_sim.scenario.provenance.provenance`: scenario, assumptions hash, seed,
        step, version), which :meth:`from_dir` and ``cbm-sim report`` read back.

        Raises
        ------
        OutputExistsError
            As :func:`cbm_sim.results.rundir.check_target`.
        """
        from cbm_sim.results.integrity import write_meta
        from cbm_sim.results.rundir import staged_directory

        out = Path(path)
        with staged_directory(out, overwrite=overwrite) as stage:
            self.write(stage)
            if extra is not None:
                extra(stage)
            files = [p.name for p in stage.iterdir() if p.is_file()]
            own = {
                "kind": "ensemble",
                "n": self.n,
                "members": self.n,
                "members_ok": int(self.members["member"].nunique()) if len(self.members) else 0,
                "parameters": list(self.parameters),
            }
            write_meta(stage, {**dict(meta or {}), **own, "seed": self.seed}, files)
        return out

    def write(self, out: Path) -> None:
        """Write ``members``/``statuses`` (Parquet and CSV), ``percentiles.csv``,
        ``probabilities.csv`` and ``failures.csv`` into the existing directory ``out``."""
        for name, frame in (("members", self.members), ("statuses", self.statuses)):
            frame.to_parquet(out / f"{name}.parquet", index=False)
        self.members_long().to_csv(out / "members.csv", index=False)
        self.statuses.to_csv(out / "statuses.csv", index=False, encoding="utf-8")
        self.percentiles().to_csv(out / "percentiles.csv", index=False, encoding="utf-8")
        self.probabilities().assign(unit="fraction").to_csv(
            out / "probabilities.csv", index=False, encoding="utf-8"
        )
        self.failures.to_csv(out / "failures.csv", index=False, encoding="utf-8")

    def members_long(self, *, base: bool = False) -> pd.DataFrame:
        """:attr:`members` long: ``member, year, <sampled inputs>, quantity, unit, value``
        in the planner's units as ``members.csv`` (亿m3, 亿元); ``base=True``: m3 and 元."""
        ids = ["member", "year", *self.parameters]
        long = self.members.melt(id_vars=ids, value_vars=self.quantities(), var_name="quantity")
        long.insert(
            len(ids) + 1,
            "unit",
            [
                PRODUCTION_UNIT if q.startswith("production.") else VALUE_UNIT
                for q in long["quantity"]
            ],
        )
        long = long.sort_values(["member", "year", "quantity"], kind="stable").reset_index(
            drop=True
        )
        return long if base else to_planner(long)


def _span(members: pd.DataFrame) -> str:
    if members.empty:
        return "none"
    return f"{int(members['year'].min())}..{int(members['year'].max())}"


def member_seeds(seed: int, n: int) -> list[np.random.SeedSequence]:
    """The seed sequences of members ``0..n-1`` (independent of the worker count)."""
    return np.random.SeedSequence(seed).spawn(n)


def member_draws(
    scenario: Scenario, n: int, seed: int
) -> list[tuple[np.random.SeedSequence, dict[str, float]]]:
    """Each member's seed sequence and its sampled inputs (a PCG64 generator on the
    sequence), members ``0..n-1``: the draws of every study that runs members."""
    out = []
    for ss in member_seeds(seed, n):
        rng = np.random.Generator(np.random.PCG64(ss))
        draw = sample(scenario.uncertainty, rng, scenario.correlations, scenario.horizon.end.year)
        out.append((ss, draw))
    return out


def run_ensemble(
    scenario: Scenario,
    n: int,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    seed: int | None = None,
    progress: Progress | None = None,
    measures: Sequence[str] = MEASURES,
    journal: Path | None = None,
    timeout_s: float = SCHEDULER_TIMEOUT_S,
    notify: Callable[[str], None] | None = None,
) -> EnsembleResult:
    """Run ``n`` members of ``scenario`` with its ``uncertainty`` sampled.

    Parameters
    ----------
    scenario
        Base scenario; ``scenario.uncertainty`` lists the sampled inputs (may be empty).
    n
        Number of members (>= 1).
    workers, scheduler
        Execution, see :func:`execute`.
    seed
        Root seed (default ``scenario.seed``).
    progress
        Called with the fraction of members done.
    measures
        Parts of the member summary (:data:`MEASURES`); ``("production",)`` skips valuation
        and the target check.
    journal
        A folder where each member is written as it finishes and from which finished
        members are taken instead of being run again (:mod:`cbm_sim.studies.journal`:
        entries are verified; failed members and rejected entries are run again).
    timeout_s
        Scheduler timeout, see :func:`execute`.
    notify
        Told (one line) when journal entries were rejected and their members run again.

    Raises
    ------
    ValueError
        If ``n`` is not in 1..``bounds.study_runs`` or an uncertain input is malformed (bad
        distribution, unknown path).
    SchedulerError
        See :func:`execute`; the members finished so far stay in ``journal``.
    """
    if n < 1:
        raise ValueError(f"an ensemble needs n >= 1 members, got {n}")
    bounds.check("study_runs", n)
    check_uncertainty(scenario)
    root = scenario.seed if seed is None else seed
    draws = member_draws(scenario, n, root)
    seeds = [ss for ss, _ in draws]
    tasks = [
        MemberTask(i, scenario, params, ss, tuple(measures)) for i, (ss, params) in enumerate(draws)
    ]
    done: dict[int, MemberOutcome] = {}
    on_result = None
    if journal is not None:
        from cbm_sim.studies import journal as journals

        key = journals.key_of(scenario, root, measures)
        kept = journals.read_members(
            journal, key=key, seeds=seeds, parameters={t.index: t.parameters for t in tasks}
        )
        done = kept.members
        if notify is not None and (line := kept.summary()) is not None:
            notify(f"{journal}: {line}")

        def on_result(_k: int, outcome: MemberOutcome) -> None:
            journals.write_member(journal, outcome, key=key, seed=seeds[outcome.index])

    todo = [t for t in tasks if t.index not in done]
    base = len(done)

    def advance(fraction: float) -> None:
        if progress is not None:
            progress((base + fraction * len(todo)) / n)

    fresh = (
        execute(
            run_member,
            todo,
            workers=workers,
            scheduler=scheduler,
            progress=advance,
            on_result=on_result,
            timeout_s=timeout_s,
        )
        if todo
        else []
    )
    outcomes = sorted([*done.values(), *fresh], key=lambda o: o.index)
    return collect(outcomes, n=n, seed=root, parameters=tuple(scenario.uncertainty))


def collect(
    outcomes: Sequence[MemberOutcome], *, n: int, seed: int, parameters: tuple[str, ...]
) -> EnsembleResult:
    """Assemble member outcomes into an :class:`EnsembleResult`."""
    rows, stats_rows, failed = [], [], []
    for o in outcomes:
        if o.error is not None:
            failed.append({"member": o.index, "error": o.error, **o.parameters})
            continue
        assert o.wide is not None and o.statuses is not None
        wide = o.wide.copy()
        for p in parameters:
            wide.insert(1, p, o.parameters[p])
        wide.insert(0, "member", o.index)
        rows.append(wide)
        stats_rows.append(o.statuses.assign(member=o.index))
    members = (
        pd.concat(rows, ignore_index=True)
        if rows
        else pd.DataFrame(columns=["member", "year", *parameters])
    )
    ordered = ["member", "year", *parameters]
    members = members[ordered + [c for c in members.columns if c not in ordered]]
    status_columns = ["member", *STATUS_COLUMNS]
    statuses = (
        pd.concat(stats_rows, ignore_index=True)[status_columns]
        if stats_rows
        else pd.DataFrame(columns=status_columns)
    )
    failures = pd.DataFrame(failed, columns=["member", "error", *parameters])
    return EnsembleResult(members, statuses, failures, n, seed, parameters)


MIN_SUCCESS_SHARE: Final[float] = 0.5
"""Share of an ensemble's members that must succeed for its summaries to be written.

A member fails for a reason tied to its sampled inputs (most often a sample outside its
field's bounds), so the members that succeed are a truncated sample of the stated
distributions. Assumption: up to half missing, the percentiles and probabilities are still
worth having, with the count and the reasons printed and ``failures.csv`` written beside
them; beyond that they would describe some other distribution than the one stated, and the
ensemble fails instead (exit 2: the uncertainty section asks for what the model refuses)."""


class TooFewMembersError(ValueError):
    """Too many members of an ensemble failed for its summaries to mean anything."""


def failure_reasons(failures: pd.DataFrame, most: int = 3) -> str:
    """The commonest errors of failed members, counted: ``"4× ValueError: …; 1× …"``."""
    if failures.empty:
        return ""
    first_lines = failures["error"].astype(str).map(lambda e: " ".join(e.split())[:160])
    counts = first_lines.value_counts(sort=True)
    shown = [f"{k}× {error}" for error, k in counts.head(most).items()]
    if len(counts) > most:
        shown.append(f"{int(counts.iloc[most:].sum())} more")
    return "; ".join(shown)


def check_enough(result: EnsembleResult) -> None:
    """Refuse an ensemble with fewer successful members than :data:`MIN_SUCCESS_SHARE` of
    those asked for (and none).

    Raises
    ------
    TooFewMembersError
        One line: how many failed, how many are needed, and the commonest reasons.
    """
    ok = int(result.members["member"].nunique())
    need = max(1, math.ceil(MIN_SUCCESS_SHARE * result.n))
    if ok >= need:
        return
    raise TooFewMembersError(
        f"{len(result.failures)} of {result.n} members failed, {ok} ran; an ensemble needs at "
        f"least {need} (half) to summarise: {failure_reasons(result.failures)}"
    )


def probability_of_reaching(
    members: pd.DataFrame, quantity: str, year: int, threshold: float, *, at_most: bool = False
) -> tuple[float, float]:
    """Share of members with ``quantity`` in ``year`` at least (or at most) ``threshold``,
    and its standard error :math:`\\sqrt{p(1-p)/n}` (units of ``quantity``)."""
    values = members.loc[members["year"] == year, quantity].to_numpy(dtype=np.float64)
    if values.size == 0:
        raise ValueError(f"no members have {quantity!r} in year {year}")
    hit = values <= threshold if at_most else values >= threshold
    p = float(hit.mean())
    return p, math.sqrt(p * (1 - p) / values.size)


# --------------------------------------------------------------------------- CLI
