"""Monte Carlo ensembles: sample the scenario's ``uncertainty``, run the members on Dask.

Uncertain inputs
----------------
``Scenario.uncertainty`` maps a dotted path into the scenario to a
:class:`~cbm_sim.scenario.model.Distribution`. The sample is applied by the kind of field the path
leads to:

* a **scalar** field (``type_curves.peak_rate_scale``, ``wells.pump_failures_per_well_year``):
  the sample **replaces** the value;
* a ``{year: value}`` **time path** (``demand.industry.annual_1e8_m3``): the sample is a
  **multiplier** of every year's value (1 = as written).

A distribution's ``op`` overrides this (``set``, ``scale``, ``add``: ``scale`` on a scalar
keeps what a scenario extending the file set, e.g. ``low-price``'s price scale); its
``from_year`` leaves a path's years before it as written (the 2021 baseline is known); its
``paths`` make it a **shared factor** acting on several fields at once (the entry's key is
then a name). ``Scenario.correlations`` states rank correlations between inputs, sampled
through a Gaussian copula (:mod:`cbm_sim.studies.correlation`); other inputs are independent.

Path segments name model fields, mapping keys (block ids) or list indices
(``lng.plants.8.capacity_t_per_day``). The member scenario is validated again, so a sample
outside a field's bounds fails that member (reported with its index and parameters), not the
ensemble.

Distributions (scipy.stats): ``uniform(low, high)``, ``triangular(low, mode, high)``,
``normal(mean, sd)``, ``truncnorm(mean, sd, low, high)`` (normal truncated to
``[low, high]``) and ``lognormal(mean, sd)`` with ``mean``/``sd`` of the variable itself
(not of its logarithm):

.. math::

    \\sigma^2 = \\ln(1 + sd^2/mean^2), \\qquad \\mu = \\ln(mean) - \\sigma^2/2.

Reproducibility: member ``i`` uses ``SeedSequence(seed).spawn(n)[i]``, both for its sample
(a PCG64 generator on that sequence: ``k`` standard normals through the copula) and for its
simulation run (``simulate.run`` derives its process streams from it with extra spawn keys),
so an ensemble is the same whatever the number of workers.
"""

from __future__ import annotations

import contextlib
import math
import os
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TypeVar

import numpy as np
import pandas as pd
from scipy import stats

from cbm_sim.scenario.model import Distribution, RankCorrelation, Scenario
from cbm_sim.scenario.uncertainty import distribution_problem
from cbm_sim.scenario.uncertainty import is_time_path as _is_time_path
from cbm_sim.scenario.uncertainty import parent as _parent
from cbm_sim.studies.journal import MemberOutcome
from cbm_sim.studies.probability import wilson_interval
from cbm_sim.units import to_planner

Progress = Callable[[float], None]
T = TypeVar("T")
R = TypeVar("R")

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


# --------------------------------------------------------------------------- distributions
def frozen_distribution(path: str, spec: Distribution) -> Any:
    """The scipy.stats frozen distribution of ``spec`` (the input at ``path``).

    Raises
    ------
    ValueError
        Naming ``path`` and the offending parameters when they are missing or inconsistent.
    """

    problem = distribution_problem(
        spec.dist, low=spec.low, high=spec.high, mode=spec.mode, mean=spec.mean, sd=spec.sd
    )
    if problem is not None:
        raise ValueError(f"uncertainty {path!r}: {problem}")

    def need(*names: str) -> list[float]:
        return [float(getattr(spec, n)) for n in names]

    if spec.dist == "uniform":
        low, high = need("low", "high")
        return stats.uniform(loc=low, scale=high - low)
    if spec.dist == "triangular":
        low, mode, high = need("low", "mode", "high")
        return stats.triang(c=(mode - low) / (high - low), loc=low, scale=high - low)
    if spec.dist == "normal":
        mean, sd = need("mean", "sd")
        return stats.norm(loc=mean, scale=sd)
    if spec.dist == "truncnorm":
        mean, sd, low, high = need("mean", "sd", "low", "high")
        return stats.truncnorm((low - mean) / sd, (high - mean) / sd, loc=mean, scale=sd)
    mean, sd = need("mean", "sd")  # lognormal
    sigma2 = math.log1p((sd / mean) ** 2)
    return stats.lognorm(s=math.sqrt(sigma2), scale=math.exp(math.log(mean) - sigma2 / 2))


def sample(
    uncertainty: Mapping[str, Distribution],
    rng: np.random.Generator,
    correlations: Sequence[RankCorrelation] = (),
) -> dict[str, float]:
    """One draw of every uncertain input, in the mapping's order, from ``rng``.

    Inputs are drawn through a Gaussian copula (:mod:`cbm_sim.studies.correlation`): the
    stated rank ``correlations`` hold, every other pair is independent, and each input
    keeps its marginal distribution.
    """
    from cbm_sim.studies.correlation import correlated_uniforms, correlation_matrix

    names = list(uncertainty)
    if not names:
        return {}
    chol = np.linalg.cholesky(correlation_matrix(names, correlations)).astype(np.float64)
    u = correlated_uniforms(chol, rng)
    return {
        path: float(frozen_distribution(path, uncertainty[path]).ppf(u[j]))
        for j, path in enumerate(names)
    }


# --------------------------------------------------------------------------- dotted paths
def _operation(path: str, leaf: Any, spec: Distribution | None) -> str:
    """``set``, ``scale`` or ``add``: how a sample acts on ``leaf`` (the field at ``path``)."""
    time_path = _is_time_path(leaf)
    if not time_path and not (isinstance(leaf, int | float) and not isinstance(leaf, bool)):
        raise ValueError(
            f"uncertainty path {path!r} leads to {type(leaf).__name__} {leaf!r}, "
            "not a number or a {year: value} path"
        )
    if not time_path and spec is not None and spec.from_year is not None:
        raise ValueError(
            f"uncertainty path {path!r} is a single number: from_year applies to "
            f"{{year: value}} paths only, got from_year={spec.from_year}"
        )
    op = spec.op if spec is not None else None
    if op is None:
        return "scale" if time_path else "set"
    if time_path and op == "set":
        raise ValueError(
            f"uncertainty path {path!r} is a {{year: value}} path: op must be scale or add, "
            f"got op='set'"
        )
    return op


def _act(leaf: Any, op: str, value: float, from_year: int | None) -> Any:
    if not _is_time_path(leaf):
        return value if op == "set" else leaf * value if op == "scale" else leaf + value

    def changed(v: float) -> float:
        return v * value if op == "scale" else v + value

    if from_year is None:
        return {year: changed(v) for year, v in leaf.items()}
    from cbm_sim.scenario.paths import value_at

    # Years before from_year keep their values; a knot the year before keeps the path as
    # written up to there, and one at from_year starts the changed path.
    out = {year: v for year, v in leaf.items() if year < from_year}
    out[from_year - 1] = value_at(leaf, from_year - 1)
    out[from_year] = changed(value_at(leaf, from_year))
    out.update({year: changed(v) for year, v in leaf.items() if year > from_year})
    return dict(sorted(out.items()))


def targets_of(name: str, spec: Distribution | None) -> list[str]:
    """The dotted paths an uncertain input acts on (its ``paths``, or its own name)."""
    return list(spec.paths) if spec is not None and spec.paths else [name]


def apply(
    scenario: Scenario,
    values: Mapping[str, float],
    specs: Mapping[str, Distribution] | None = None,
) -> Scenario:
    """``scenario`` with each uncertain input's sample acting on its field(s).

    Without ``specs`` each key of ``values`` is a dotted path: a number is set to its value
    and a ``{year: value}`` path scaled by it. With ``specs`` (a scenario's ``uncertainty``)
    a key found there acts as its :class:`~cbm_sim.scenario.model.Distribution` says
    (``op``, ``from_year``, ``paths`` of a shared factor).

    Raises
    ------
    ValueError
        If a path does not exist or leads to something that is neither a number nor a
        ``{year: value}`` path, or an ``op``/``from_year`` does not fit it (names the path).
    pydantic.ValidationError
        If the changed scenario is invalid (e.g. a value outside a field's bounds).
    """
    data = scenario.model_dump(mode="python")
    for name, value in values.items():
        spec = None if specs is None else specs.get(name)
        for path in targets_of(name, spec):
            node, key = _parent(data, path)
            leaf = node[key]
            op = _operation(path, leaf, spec)
            node[key] = _act(leaf, op, value, None if spec is None else spec.from_year)
    return Scenario.model_validate(data)


def check_uncertainty(scenario: Scenario) -> None:
    """Fail early on a bad distribution, an unknown path or impossible correlations.

    A validated scenario has passed these checks (:mod:`cbm_sim.scenario.uncertainty`); this
    repeats them for one built with ``model_construct``.

    Raises
    ------
    ValueError
        Naming the path and the bad value.
    """
    from cbm_sim.studies.correlation import correlation_matrix

    data = scenario.model_dump(mode="python")
    for name, spec in scenario.uncertainty.items():
        frozen_distribution(name, spec)
        for path in targets_of(name, spec):
            node, key = _parent(data, path)
            _operation(path, node[key], spec)
    correlation_matrix(list(scenario.uncertainty), scenario.correlations)


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
    annual = results.annual
    years = sorted(int(y) for y in annual["year"].unique())
    wide = pd.DataFrame({"year": years})

    def series(entity: str, quantity: str) -> np.ndarray:
        rows = annual[(annual["entity"] == entity) & (annual["quantity"] == quantity)]
        by_year = rows.groupby("year", observed=True)["value"].sum()
        return by_year.reindex(years, fill_value=0.0).to_numpy(dtype=np.float64)

    if "production" in measures:
        wide["production.surface"] = series("surface", "production")
        wide["production.underground"] = series("mine_gas", "drainage")
        wide["production.total"] = wide["production.surface"] + wide["production.underground"]
    frame = None
    if "value" in measures:
        from cbm_sim.economics.valuation import value

        frame = value(results)
        by_sc = frame.pivot_table(
            index="year", columns="sub_cluster", values="value_yuan", aggfunc="sum"
        )
        for sc in by_sc.columns:
            wide[f"output.{sc}"] = by_sc[sc].reindex(years).to_numpy(dtype=np.float64)
        wide["output.total"] = (
            frame.groupby("year")["value_yuan"].sum().reindex(years).to_numpy(dtype=np.float64)
        )
    statuses = pd.DataFrame(columns=list(STATUS_COLUMNS))
    if "targets" in measures:
        from cbm_sim.economics.targets import check_targets

        checks = check_targets(results, valuation=frame)
        checks = checks[checks["year"].isin(TARGET_YEARS)]
        statuses = pd.DataFrame(
            {
                "year": checks["year"].astype("int64").to_numpy(),
                "target": [
                    target_id(sc, item)
                    for sc, item in zip(checks["sub_cluster"], checks["item"], strict=True)
                ],
                "status": checks["status"].astype(str).to_numpy(),
                "simulated": checks["simulated"].astype(float).to_numpy(),
                "target_value": checks["target"].astype(float).to_numpy(),
                "unit": checks["unit"].astype(str).to_numpy(),
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
        results = simulate.run(member, seed=task.seed)
        wide, statuses = summarise(results, task.measures)
    except Exception as exc:  # a failed member must not sink the ensemble
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return MemberOutcome(task.index, task.parameters, error=detail)
    return MemberOutcome(task.index, task.parameters, wide=wide, statuses=statuses)


# --------------------------------------------------------------------------- execution
WORKER_ENVIRON: Final[dict[str, int]] = {
    "distributed.nanny.pre-spawn-environ.MALLOC_MMAP_THRESHOLD_": 32 * 2**20,
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": 128 * 2**20,
}
"""glibc malloc settings of the local cluster's workers (read at process start).

Dask sets ``MALLOC_TRIM_THRESHOLD_=65536`` to hand freed memory back at once; setting it
also fixes glibc's mmap threshold at 128 KiB, so every array of a member above that size is
a fresh ``mmap`` and its pages fault in again. A member allocates such arrays by the
thousand and returns only a small summary, so the workers keep arrays up to 32 MiB (the
largest threshold glibc accepts on 64-bit) on the heap and trim above 128 MiB free. Measured
(``benchmarks/README.md``): a member ≈ 15-25 % faster, a fifth of the system time.
"""


SCHEDULER_TIMEOUT_S: Final[float] = 30.0
"""How long an ensemble waits to reach a Dask scheduler, for its first worker, or with no
worker left while members remain [s]; assumption: a healthy cluster answers within seconds,
and half a minute covers workers still starting. Past it the ensemble fails with
:class:`SchedulerError` (never hangs)."""
WORKER_DEATH_RETRIES: Final[int] = 3
"""How often a member is started again after the workers running it died (``KilledWorker``);
assumption: Dask's own default of ``distributed.scheduler.allowed-failures`` (3, Dask
configuration reference). A member's result depends only on its seed, so a retried member
equals an undisturbed one."""


class SchedulerError(RuntimeError):
    """The Dask scheduler cannot be reached, has no workers, or keeps losing them."""


def execute(
    func: Callable[[T], R],
    items: Sequence[T],
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
    on_result: Callable[[int, R], None] | None = None,
    timeout_s: float = SCHEDULER_TIMEOUT_S,
) -> list[R]:
    """``[func(x) for x in items]``, in order, serially or on Dask distributed.

    ``scheduler="tcp://host:port"`` uses that cluster; otherwise ``workers == 1`` runs in
    this process (no Dask, for debugging) and any other count starts a
    ``LocalCluster(n_workers=workers, threads_per_worker=1, processes=True)`` (one process
    per worker because the simulation holds the GIL); ``None`` = one worker per CPU.

    ``on_result(k, result)`` is called as each item finishes (in completion order), e.g. to
    save it. An item whose workers die is submitted again, up to
    :data:`WORKER_DEATH_RETRIES` times.

    Raises
    ------
    SchedulerError
        If the scheduler is not reached, or has no worker, within ``timeout_s`` [s], or an
        item killed its workers more than :data:`WORKER_DEATH_RETRIES` times.
    """
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    n = len(items)
    if scheduler is None and (workers == 1 or n <= 1):
        out = []
        for k, item in enumerate(items):
            out.append(func(item))
            if on_result is not None:
                on_result(k, out[-1])
            if progress is not None:
                progress((k + 1) / n)
        return out
    import dask
    from dask.distributed import Client, LocalCluster

    cluster = None
    if scheduler is None:
        with dask.config.set(WORKER_ENVIRON):
            cluster = LocalCluster(
                n_workers=workers or os.cpu_count() or 1,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                # no dashboard, and its health/metrics server on a free port: the default
                # 8787 is often taken (another cluster), which prints a warning per run
                scheduler_kwargs={"dashboard_address": ":0"},
            )
        client = Client(cluster)
    else:
        try:
            client = Client(scheduler, timeout=timeout_s)
        except (OSError, TimeoutError, ValueError) as exc:
            raise SchedulerError(
                f"cannot reach the Dask scheduler at {scheduler} within {timeout_s:g} s "
                f"({type(exc).__name__}: {exc})"
            ) from None
    try:
        # distributed's wait() uses the process's default client; another client of the
        # caller's (a notebook's, a test's) on another event loop would bind our futures'
        # events to that loop ("bound to a different event loop"), so ours is made current
        with client.as_current():
            return _gather(client, func, items, progress, on_result, timeout_s, scheduler)
    finally:
        if cluster is not None:
            settle(client, len(cluster.workers))
        client.close()
        if cluster is not None:
            cluster.close()


def settle(client: Any, workers: int, timeout_s: float = 30.0) -> None:
    """Wait until ``workers`` workers are registered again (at most ``timeout_s`` [s]).

    A Nanny whose worker died restarts it; closing the cluster while that restart is under
    way fails inside distributed ("can only join a started process") and leaves the cluster
    half closed. Waiting for the restarted workers first makes the close clean; it returns at
    once when no worker died.
    """
    if workers < 1:
        return
    # a worker that cannot come back is closed as it is
    with contextlib.suppress(TimeoutError, OSError):
        client.wait_for_workers(workers, timeout=timeout_s)


def _workers(client: Any) -> int:
    return len(client.scheduler_info().get("workers", {}))


def _gather(
    client: Any,
    func: Callable[[T], R],
    items: Sequence[T],
    progress: Progress | None,
    on_result: Callable[[int, R], None] | None,
    timeout_s: float,
    scheduler: str | None,
) -> list[R]:
    """Submit every item, collect the results as they finish, retry items of dead workers."""
    import time

    from dask.distributed import wait
    from distributed import KilledWorker

    where = scheduler or "the local cluster"
    try:
        client.wait_for_workers(1, timeout=timeout_s)
    except (TimeoutError, OSError) as exc:
        raise SchedulerError(
            f"the Dask scheduler at {where} has no workers (waited {timeout_s:g} s; "
            f"{type(exc).__name__})"
        ) from None
    n = len(items)
    index = {client.submit(func, item, pure=False): k for k, item in enumerate(items)}
    results: dict[int, R] = {}
    deaths = [0] * n
    pending = set(index)
    idle_since: float | None = None
    poll_s = min(1.0, timeout_s / 10)
    while pending:
        try:
            done, pending = wait(pending, timeout=poll_s, return_when="FIRST_COMPLETED")
        except TimeoutError:
            done = set()
        if not done:
            if _workers(client):
                idle_since = None
                continue
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since > timeout_s:
                raise SchedulerError(
                    f"no Dask workers left at {where} for {timeout_s:g} s with "
                    f"{len(pending)} members to run"
                )
            continue
        idle_since = None
        for fut in done:
            k = index.pop(fut)
            try:
                value = fut.result()
            except KilledWorker:
                deaths[k] += 1
                if deaths[k] > WORKER_DEATH_RETRIES:
                    raise SchedulerError(
                        f"item {k} killed its workers {deaths[k]} times; giving up"
                    ) from None
                again = client.submit(func, items[k], pure=False)
                index[again] = k
                pending.add(again)
                continue
            results[k] = value
            if on_result is not None:
                on_result(k, value)
            if progress is not None:
                progress(len(results) / n)
    return [results[k] for k in range(n)]


# --------------------------------------------------------------------------- the ensemble
@dataclass(frozen=True)
class EnsembleResult:
    """Per-member annual summaries of an ensemble.

    Attributes
    ----------
    members
        One row per successful member × year: ``member``, ``year``, the sampled inputs
        (one column per dotted path) and the quantities of :func:`summarise`
        (``production.*`` in m³, ``output.*`` in 元).
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

    def percentiles(self) -> pd.DataFrame:
        """``year, quantity, unit, p10, p50, p90`` over the successful members (linear
        interpolation between order statistics, numpy's default)."""
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
        return out

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
    ) -> Path:
        """Write the ensemble's folder ``path`` atomically, as ``cbm-sim run`` writes a run:
        staged beside it and renamed into place whole, with ``meta.json`` (SHA-256 of every
        file). ``--overwrite`` replaces a previous cbm-sim folder whole (no file of the old
        one, e.g. its ``tornado.csv``, survives) and never an unrelated folder.

        ``extra(stage)`` may add files (``tornado.csv``) before the folder is sealed.

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
            write_meta(stage, {"kind": "ensemble", "n": self.n, "seed": self.seed}, files)
        return out

    def write(self, out: Path) -> None:
        """Write ``members``/``statuses`` (Parquet and CSV), ``percentiles.csv``,
        ``probabilities.csv`` and ``failures.csv`` into the existing directory ``out``."""
        for name, frame in (("members", self.members), ("statuses", self.statuses)):
            frame.to_parquet(out / f"{name}.parquet", index=False)
        self.members_long().pipe(to_planner).to_csv(out / "members.csv", index=False)
        self.statuses.to_csv(out / "statuses.csv", index=False, encoding="utf-8")
        to_planner(self.percentiles(), ("p10", "p50", "p90")).to_csv(
            out / "percentiles.csv", index=False, encoding="utf-8"
        )
        self.probabilities().assign(unit="fraction").to_csv(
            out / "probabilities.csv", index=False, encoding="utf-8"
        )
        self.failures.to_csv(out / "failures.csv", index=False, encoding="utf-8")

    def members_long(self) -> pd.DataFrame:
        """:attr:`members` long: ``member, year, <sampled inputs>, quantity, unit, value``
        (base units m3 and 元)."""
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
        return long.sort_values(["member", "year", "quantity"], kind="stable").reset_index(
            drop=True
        )


def member_seeds(seed: int, n: int) -> list[np.random.SeedSequence]:
    """The seed sequences of members ``0..n-1`` (independent of the worker count)."""
    return np.random.SeedSequence(seed).spawn(n)


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
        members are taken instead of being run again (:mod:`cbm_sim.studies.journal`).
    timeout_s
        Scheduler timeout, see :func:`execute`.

    Raises
    ------
    ValueError
        If ``n < 1`` or an uncertain input is malformed (bad distribution, unknown path).
    SchedulerError
        See :func:`execute`; the members finished so far stay in ``journal``.
    """
    if n < 1:
        raise ValueError(f"an ensemble needs n >= 1 members, got {n}")
    check_uncertainty(scenario)
    root = scenario.seed if seed is None else seed
    tasks = []
    for i, ss in enumerate(member_seeds(root, n)):
        rng = np.random.Generator(np.random.PCG64(ss))
        params = sample(scenario.uncertainty, rng, scenario.correlations)
        tasks.append(MemberTask(i, scenario, params, ss, tuple(measures)))
    done: dict[int, MemberOutcome] = {}
    on_result = None
    if journal is not None:
        from cbm_sim.studies import journal as journals

        done = {i: o for i, o in journals.read_members(journal).items() if i < n}

        def on_result(_k: int, outcome: MemberOutcome) -> None:
            journals.write_member(journal, outcome)

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
        pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["member", "year"])
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
