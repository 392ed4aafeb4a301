"""Sampling an ensemble's uncertain inputs and applying them to a scenario.

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
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

from cbm_sim.scenario.model import Distribution, RankCorrelation, Scenario
from cbm_sim.scenario.uncertainty import distribution_problem
from cbm_sim.scenario.uncertainty import is_time_path as _is_time_path
from cbm_sim.scenario.uncertainty import parent as _parent


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


YEAR_SEP = "@"
"""Joins an input's name and a year in the key of a year-to-year factor (``name@2027``)."""


def sample(
    uncertainty: Mapping[str, Distribution],
    rng: np.random.Generator,
    correlations: Sequence[RankCorrelation] = (),
    last_year: int | None = None,
) -> dict[str, float]:
    """One draw of every uncertain input, in the mapping's order, from ``rng``.

    Inputs are drawn through a Gaussian copula (:mod:`cbm_sim.studies.correlation`): the
    stated rank ``correlations`` hold, every other pair is independent, and each input
    keeps its marginal distribution. Then, for every input with a ``year_sd`` and every year
    from its ``from_year`` to ``last_year``, one year-to-year factor ``name@year``:

    .. math:: f_y = \\exp(\\sigma z_y - \\sigma^2 / 2), \\qquad z_y \\sim N(0, 1),

    independent across years (mean 1; :func:`apply` multiplies that year of the path by it).
    Inputs without ``year_sd`` draw nothing more, so their samples do not change.
    """
    from cbm_sim.studies.correlation import correlated_uniforms, correlation_matrix

    names = list(uncertainty)
    if not names:
        return {}
    chol = np.linalg.cholesky(correlation_matrix(names, correlations)).astype(np.float64)
    u = correlated_uniforms(chol, rng)
    out = {
        path: float(frozen_distribution(path, uncertainty[path]).ppf(u[j]))
        for j, path in enumerate(names)
    }
    for name, spec in uncertainty.items():
        if spec.year_sd is None or spec.from_year is None or last_year is None:
            continue
        years = range(spec.from_year, last_year + 1)
        z = rng.standard_normal(len(years))
        factors = np.exp(spec.year_sd * z - 0.5 * spec.year_sd**2)
        out.update({f"{name}{YEAR_SEP}{y}": float(f) for y, f in zip(years, factors, strict=True)})
    return out


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
    from cbm_sim.scenario.paths import interpolate

    # Years before from_year keep their values; a knot the year before keeps the path as
    # written up to there, and one at from_year starts the changed path (the path at both
    # years in one call: np.interp is elementwise, value_at's numbers).
    before, at = interpolate(leaf, [from_year - 1, from_year]).tolist()
    out = {year: v for year, v in leaf.items() if year < from_year}
    out[from_year - 1] = before
    out[from_year] = changed(at)
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
    (``op``, ``from_year``, ``paths`` of a shared factor). A key ``name@year`` (from
    :func:`sample`, ``year_sd``) multiplies that year of the input's path(s), after the
    levels.

    Raises
    ------
    ValueError
        If a path does not exist or leads to something that is neither a number nor a
        ``{year: value}`` path, or an ``op``/``from_year`` does not fit it (names the path).
    pydantic.ValidationError
        If the changed scenario is invalid (e.g. a value outside a field's bounds).
    """
    data = scenario.model_dump(mode="python")
    yearly: dict[str, dict[int, float]] = {}
    for name, value in values.items():
        if YEAR_SEP in name:
            base, year = name.rsplit(YEAR_SEP, 1)
            yearly.setdefault(base, {})[int(year)] = value
            continue
        spec = None if specs is None else specs.get(name)
        for path in targets_of(name, spec):
            node, key = _parent(data, path)
            leaf = node[key]
            op = _operation(path, leaf, spec)
            node[key] = _act(leaf, op, value, None if spec is None else spec.from_year)
    # year-to-year factors act after every level: on the path as the levels left it
    for name, factors in yearly.items():
        spec = None if specs is None else specs.get(name)
        for path in targets_of(name, spec):
            node, key = _parent(data, path)
            node[key] = _by_year(path, node[key], factors)
    return Scenario.model_validate(data)


def _by_year(path: str, leaf: Any, factors: Mapping[int, float]) -> dict[int, float]:
    """``leaf`` with the value of each year of ``factors`` multiplied by its factor (a knot
    per year, so that every year gets its own value and no other year moves)."""
    from cbm_sim.scenario.paths import interpolate

    if not _is_time_path(leaf):
        raise ValueError(
            f"uncertainty path {path!r}: year-to-year factors act on {{year: value}} paths, "
            f"got {type(leaf).__name__} {leaf!r}"
        )
    out = {year: float(v) for year, v in leaf.items()}
    years = sorted(factors)
    # the path at every year read, in one call (np.interp is elementwise: the values of
    # reading each year alone, bit for bit)
    need = sorted({y + d for y in years for d in (-1, 0, 1)})
    at = dict(zip(need, interpolate(leaf, need).tolist(), strict=True))
    for year in years:
        out.setdefault(year - 1, at[year - 1])
        out.setdefault(year + 1, at[year + 1])
    out.update({year: at[year] * f for year, f in factors.items()})
    return dict(sorted(out.items()))


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


def invalid_because(exc: Exception) -> str:
    """What a sampled scenario the model refused breaks, in one line: the fields and rules of
    a pydantic ``ValidationError`` (not the values: those are the sample's), else the error."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'scenario'}: {err['msg']}"
            for err in exc.errors()[:3]
        )
    return " ".join(str(exc).split())
