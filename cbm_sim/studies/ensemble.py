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
(a PCG64 generator on that sequence) and for its simulation run (``simulate.run`` derives
its process streams from it with extra spawn keys), so an ensemble is the same whatever the
number of workers.
"""

from __future__ import annotations

import math
import os
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from cbm_sim.scenario.model import Distribution, Scenario
from cbm_sim.scenario.uncertainty import distribution_problem, path_problem
from cbm_sim.scenario.uncertainty import is_time_path as _is_time_path
from cbm_sim.scenario.uncertainty import parent as _parent
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


def sample(uncertainty: Mapping[str, Distribution], rng: np.random.Generator) -> dict[str, float]:
    """One draw of every uncertain input, in the mapping's order, from ``rng``."""
    return {
        path: float(frozen_distribution(path, spec).rvs(random_state=rng))
        for path, spec in uncertainty.items()
    }


# --------------------------------------------------------------------------- dotted paths
def apply(scenario: Scenario, values: Mapping[str, float]) -> Scenario:
    """``scenario`` with each dotted path set to its value (scalar) or scaled by it (path).

    Raises
    ------
    ValueError
        If a path does not exist or leads to something that is neither a number nor a
        ``{year: value}`` path (the message names the path).
    pydantic.ValidationError
        If the changed scenario is invalid (e.g. a value outside a field's bounds).
    """
    data = scenario.model_dump(mode="python")
    for path, value in values.items():
        node, key = _parent(data, path)
        leaf = node[key]
        if _is_time_path(leaf):
            node[key] = {year: v * value for year, v in leaf.items()}
        elif isinstance(leaf, int | float) and not isinstance(leaf, bool):
            node[key] = value
        else:
            raise ValueError(
                f"uncertainty path {path!r} leads to {type(leaf).__name__} {leaf!r}, "
                "not a number or a {year: value} path"
            )
    return Scenario.model_validate(data)


def check_uncertainty(scenario: Scenario) -> None:
    """Fail early on a bad distribution or an unknown path of ``scenario.uncertainty``.

    A validated scenario has passed these checks (:mod:`cbm_sim.scenario.uncertainty`); this
    repeats them for one built with ``model_construct``.

    Raises
    ------
    ValueError
        Naming the path and the bad value.
    """
    data = scenario.model_dump(mode="python")
    for path, spec in scenario.uncertainty.items():
        frozen_distribution(path, spec)
        problem = path_problem(data, path)
        if problem is not None:
            raise ValueError(f"uncertainty path {path!r}: {problem}")


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
class MemberOutcome:
    """What a worker sends back: the summary frames, or the error of a failed member."""

    index: int
    parameters: dict[str, float]
    wide: pd.DataFrame | None = None
    statuses: pd.DataFrame | None = None
    error: str | None = None


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
        member = apply(task.scenario, task.parameters)
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


def execute(
    func: Callable[[T], R],
    items: Sequence[T],
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> list[R]:
    """``[func(x) for x in items]``, in order, serially or on Dask distributed.

    ``scheduler="tcp://host:port"`` uses that cluster; otherwise ``workers == 1`` runs in
    this process (no Dask, for debugging) and any other count starts a
    ``LocalCluster(n_workers=workers, threads_per_worker=1, processes=True)`` (one process
    per worker because the simulation holds the GIL); ``None`` = one worker per CPU.
    """
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    n = len(items)
    if scheduler is None and (workers == 1 or n <= 1):
        out = []
        for k, item in enumerate(items):
            out.append(func(item))
            if progress is not None:
                progress((k + 1) / n)
        return out
    import dask
    from dask.distributed import Client, LocalCluster, as_completed

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
        client = Client(scheduler)
    try:
        futures = client.map(func, items, pure=False)
        for k, _ in enumerate(as_completed(futures)):
            if progress is not None:
                progress((k + 1) / n)
        return client.gather(futures)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


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
        """``year, target, probability, std_error, ci_low, ci_high, members``: share of
        members whose target check says ``met``, its Monte Carlo standard error
        :math:`\\sqrt{p(1-p)/n}` and its 95 % Wilson score interval
        (:func:`wilson_interval`; unlike ``p ± 2 s.e.`` it stays in 0..1 and is not empty
        when every member meets, or misses, the target)."""
        frame = self.statuses.assign(met=self.statuses["status"] == "met")
        grouped = frame.groupby(["year", "target"], sort=True)["met"]
        out = grouped.agg(probability="mean", hits="sum", members="size").reset_index()
        out["std_error"] = np.sqrt(out["probability"] * (1 - out["probability"]) / out["members"])
        low, high = wilson_interval(out["hits"].to_numpy(), out["members"].to_numpy())
        out["ci_low"], out["ci_high"] = low, high
        return out[["year", "target", "probability", "std_error", "ci_low", "ci_high", "members"]]

    def to_dir(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Write ``members``/``statuses`` (Parquet in base units, CSV in planner units),
        ``percentiles.csv``, ``probabilities.csv`` and ``failures.csv`` into ``path``.

        The CSV files are long, with a ``unit`` column: ``members.csv`` has one row per
        member, year and quantity (``member, year, <sampled inputs>, quantity, unit, value``),
        in 亿m3 and 亿元 like ``percentiles.csv``; probabilities are a ``fraction``.
        """
        out = Path(path)
        if out.exists() and any(out.iterdir()) and not overwrite:
            raise FileExistsError(f"{out} exists and is not empty; pass overwrite=True")
        out.mkdir(parents=True, exist_ok=True)
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
        return out

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


WILSON_Z: Final[float] = 1.959963984540054
"""Standard normal quantile of 97.5 %: a two-sided 95 % interval."""


def wilson_interval(
    hits: npt.ArrayLike, n: npt.ArrayLike, z: float = WILSON_Z
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a binomial proportion ``hits / n`` (Wilson 1927, JASA 22,
    209-212; recommended over the normal interval by Brown, Cai & DasGupta 2001, Stat. Sci.
    16, 101-133).

    .. math::

        \\frac{\\hat p + z^2/2n \\pm z\\sqrt{\\hat p(1-\\hat p)/n + z^2/4n^2}}{1 + z^2/n}

    Raises
    ------
    ValueError
        If some ``n < 1`` or ``hits`` is outside ``0..n``.
    """
    k = np.asarray(hits, dtype=np.float64)
    m = np.asarray(n, dtype=np.float64)
    if np.any(m < 1) or np.any(k < 0) or np.any(k > m):
        raise ValueError(f"expected 0 <= hits <= n and n >= 1, got hits={k} n={m}")
    p = k / m
    centre = (p + z**2 / (2 * m)) / (1 + z**2 / m)
    half = z * np.sqrt(p * (1 - p) / m + z**2 / (4 * m**2)) / (1 + z**2 / m)
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


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

    Raises
    ------
    ValueError
        If ``n < 1`` or an uncertain input is malformed (bad distribution, unknown path).
    """
    if n < 1:
        raise ValueError(f"an ensemble needs n >= 1 members, got {n}")
    check_uncertainty(scenario)
    root = scenario.seed if seed is None else seed
    tasks = []
    for i, ss in enumerate(member_seeds(root, n)):
        params = sample(scenario.uncertainty, np.random.Generator(np.random.PCG64(ss)))
        tasks.append(MemberTask(i, scenario, params, ss, tuple(measures)))
    outcomes = execute(run_member, tasks, workers=workers, scheduler=scheduler, progress=progress)
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
