"""Goal-seek: the smallest setting of one lever that makes a quantity reach a target.

Levers (multipliers, 1 = the scenario as written):

* ``drilling`` scales every block's ``vertical_wells_per_year`` and
  ``horizontal_wells_per_year`` paths, and its rigs with them (rounded up; a faster
  programme needs the rigs to drill it);
* ``peak_rate`` sets ``type_curves.peak_rate_scale`` (a multiplier of the packaged type
  curves' peak rates);
* ``price`` scales every price path of :class:`cbm_sim.economics.valuation.ValuationConfig` (the
  ``{year: value}`` fields named ``*_price_*``: gas, CNG, LNG, sector and carbon prices).
  Prices do not feed back into the simulation, so this lever revalues one run.

The quantity is read from the deterministic run (the scenario's seed) in ``target_year``.
The solver assumes the quantity does not decrease as the lever grows; it brackets the root
on ``bounds`` and refines it with :func:`scipy.optimize.brentq`. Simulated volumes are step
functions of the lever where wells are counted whole, so the answer is the upper end of the
final bracket (where the target is met), within ``xtol``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

import pandas as pd
from scipy.optimize import brentq

from cbm_sim.bounds import BOUNDS
from cbm_sim.scenario.model import Scenario
from cbm_sim.studies.ensemble import summarise
from cbm_sim.studies.sampling import apply
from cbm_sim.studies.sensitivity import measures_for, resolve_quantity

Lever = Literal["drilling", "peak_rate", "price"]
LEVERS: Final[tuple[str, ...]] = ("drilling", "peak_rate", "price")
# assumption: a relative lever resolution of 1e-3 is far below the precision of any plan
# figure (stated to 2-4 significant digits) and keeps goal-seek to ~15 runs.
DEFAULT_XTOL: Final[float] = 1e-3


@dataclass(frozen=True)
class GoalSeekResult:
    """Outcome of a goal-seek.

    Attributes
    ----------
    lever
        The lever name.
    value
        Lever setting found (the smallest meeting the target, within ``xtol``), or the upper
        bound when the target cannot be reached.
    achieved
        The quantity at ``value`` (in the target's units).
    target
        The target (same units).
    converged
        Whether ``value`` meets the target.
    message
        What happened, in words.
    """

    lever: str
    value: float
    achieved: float
    target: float
    converged: bool
    message: str


def solve_monotone(
    f: Callable[[float], float],
    target: float,
    bounds: tuple[float, float],
    *,
    lever: str = "x",
    xtol: float = DEFAULT_XTOL,
) -> GoalSeekResult:
    """Smallest ``x`` in ``bounds`` with ``f(x) >= target`` for a non-decreasing ``f``.

    Raises
    ------
    ValueError
        If the bounds are not ordered and finite, or ``xtol`` is not positive.
    """
    lo, hi = (float(b) for b in bounds)
    if not lo < hi:
        raise ValueError(f"bounds must satisfy low < high, got {bounds}")
    if not xtol > 0:
        raise ValueError(f"xtol must be > 0, got {xtol}")
    cache: dict[float, float] = {}

    def g(x: float) -> float:
        if x not in cache:
            cache[x] = float(f(x))
        return cache[x] - target

    if g(lo) >= 0:
        return GoalSeekResult(
            lever, lo, cache[lo], target, True, f"target already met at the lower bound {lo:g}"
        )
    if g(hi) < 0:
        return GoalSeekResult(
            lever,
            hi,
            cache[hi],
            target,
            False,
            f"cannot reach {target:g} within {lever} in [{lo:g}, {hi:g}]: the upper bound "
            f"gives {cache[hi]:g} ({cache[hi] - target:+g}, {cache[hi] / target - 1:+.2%})",
        )
    iterations = int(BOUNDS["goal_seek_iterations"].hi)
    root, outcome = brentq(g, lo, hi, xtol=xtol, maxiter=iterations, full_output=True, disp=False)
    if not outcome.converged:
        best = min((x for x, y in cache.items() if y >= target), default=hi)
        return GoalSeekResult(
            lever,
            best,
            cache[best],
            target,
            False,
            f"not converged within {iterations} refinements (bounds.goal_seek_iterations); "
            f"the smallest {lever} found to reach {target:g} is {best:.6g}",
        )
    # brentq returns a point within xtol of the sign change; a step function may sit just
    # below it, so take the smallest evaluated point that meets the target above the root.
    meeting = sorted(x for x, y in cache.items() if y >= target and x >= root - xtol)
    x = meeting[0] if meeting else min(root + xtol, hi)
    if x not in cache:
        g(x)
    ok = cache[x] >= target
    return GoalSeekResult(
        lever,
        x,
        cache[x],
        target,
        ok,
        f"{lever} = {x:.6g} gives {cache[x]:g} for target {target:g} ({len(cache)} evaluations)",
    )


def apply_lever(scenario: Scenario, lever: str, x: float) -> Scenario:
    """``scenario`` with ``lever`` set to the multiplier ``x`` (validated again).

    Raises
    ------
    ValueError
        For an unknown lever or a negative setting.
    """
    if x < 0:
        raise ValueError(f"lever {lever!r} must be >= 0, got {x}")
    if lever == "peak_rate":
        return apply(scenario, {"type_curves.peak_rate_scale": x})
    if lever == "price":
        config = scenario.valuation
        scaled = {
            name: {year: v * x for year, v in value.items()}
            for name, value in config
            # price paths only: a scalar such as gas_price_scale would be scaled twice
            if "_price_" in name and isinstance(value, dict)
        }
        priced = type(config).model_validate({**config.model_dump(), **scaled})
        return scenario.model_copy(update={"valuation": priced})
    if lever == "drilling":
        # Each path is a {year: wells} time path, so apply() multiplies it by x.
        paced = apply(
            scenario,
            {
                f"drilling.blocks.{block}.{kind}_wells_per_year": x
                for block in scenario.drilling.blocks
                for kind in ("vertical", "horizontal")
            },
        )
        blocks = {
            name: prog.model_copy(update={"rigs": max(1, math.ceil(prog.rigs * x))})
            if prog.rigs > 0
            else prog
            for name, prog in paced.drilling.blocks.items()
        }
        drilling = paced.drilling.model_copy(update={"blocks": blocks})
        return paced.model_copy(update={"drilling": drilling})
    raise ValueError(f"unknown lever {lever!r}; expected one of {', '.join(LEVERS)}")


def planned_wells(scenario: Scenario, year: int) -> float:
    """New wells the drilling programme asks for in ``year`` (vertical + horizontal, all
    blocks), before rig and reserve limits: the planner's reading of the ``drilling`` lever."""
    from cbm_sim.scenario.paths import value_at

    total = 0.0
    for prog in scenario.drilling.blocks.values():
        if (prog.first_year is not None and year < prog.first_year) or (
            prog.last_year is not None and year > prog.last_year
        ):
            continue
        for path in (prog.vertical_wells_per_year, prog.horizontal_wells_per_year):
            total += value_at(path, year) if path else 0.0
    return total


def quantity_in_year(scenario: Scenario, quantity: str, year: int) -> float:
    """``quantity`` (plan id, base units m³ or 元) in ``year`` of the deterministic run."""
    from cbm_sim.results import simulate

    wide, _ = summarise(simulate.run(scenario), measures_for(quantity))
    return _read(wide, quantity, year)


def _read(wide: pd.DataFrame, quantity: str, year: int) -> float:
    rows = wide.loc[wide["year"] == year, quantity]
    if rows.empty:
        raise ValueError(f"year {year} is outside the scenario horizon")
    return float(rows.iloc[0])


def goal_problems(
    scenario: Scenario,
    target_year: int,
    target_value: float,
    lever: str,
    bounds: tuple[float, float],
    quantity: str = "output.total",
) -> list[tuple[str, str]]:
    """Everything wrong with a goal-seek's inputs, found without simulating.

    Returns
    -------
    list of (str, str)
        ``(what, message)`` with ``what`` one of ``lever``, ``quantity``, ``target``, ``low``,
        ``high`` (the command-line option at fault); empty if the goal-seek can run.
    """
    problems: list[tuple[str, str]] = []
    if lever not in LEVERS:
        problems.append(("lever", f"unknown lever {lever!r}; expected one of {', '.join(LEVERS)}"))
    try:
        metric = resolve_quantity(quantity)
    except ValueError as exc:
        problems.append(("quantity", str(exc)))
    else:
        if lever == "price" and not metric.startswith("output."):
            problems.append(
                ("quantity", f"the price lever moves output values only, not {metric!r}")
            )
    first, last = scenario.horizon.start.year, scenario.horizon.end.year
    if not first <= target_year <= last:
        problems.append(
            ("target", f"year {target_year} is outside the scenario horizon {first}..{last}")
        )
    if not math.isfinite(target_value):
        problems.append(("target", f"expected a finite value, got {target_value}"))
    low, high = bounds
    for what, x in (("low", low), ("high", high)):
        if not (math.isfinite(x) and x >= 0):
            problems.append((what, f"expected a finite multiplier >= 0, got {x:g}"))
    if not low < high:
        problems.append(("high", f"expected high > low {low:g}, got {high:g}"))
    if lever in LEVERS and not any(w in ("low", "high") for w, _ in problems):
        from pydantic import ValidationError

        for what, x in (("low", low), ("high", high)):
            try:
                apply_lever(scenario, lever, x)
            except ValidationError as exc:
                err = exc.errors()[0]
                where = ".".join(str(p) for p in err["loc"])
                reason = f"{where}: {err['msg']}" if where else err["msg"]
                problems.append((what, f"{lever} = {x:g} makes the scenario invalid: {reason}"))
            except ValueError as exc:
                problems.append((what, f"{lever} = {x:g} makes the scenario invalid: {exc}"))
    return problems


def goal_seek(
    scenario: Scenario,
    target_year: int,
    target_value_1e8_yuan: float,
    lever: str,
    bounds: tuple[float, float],
    *,
    quantity: str = "output.total",
    xtol: float = DEFAULT_XTOL,
    on_evaluation: Callable[[float, float], None] | None = None,
) -> GoalSeekResult:
    """The smallest ``lever`` multiplier in ``bounds`` making ``quantity`` reach the target.

    Parameters
    ----------
    scenario
        Base scenario (run deterministically with its own seed).
    target_year
        Year the target applies to.
    target_value_1e8_yuan
        Target in 亿 (1e8) of the quantity's base unit: 亿元 for ``output.*`` (the default,
        ``output.total``), 亿m³ for ``production.*``.
    lever
        One of :data:`LEVERS`.
    bounds
        ``(low, high)`` of the multiplier.

    on_evaluation
        Called with ``(lever setting, quantity in 亿)`` after each simulation (progress).

    Returns
    -------
    GoalSeekResult
        ``achieved`` and ``target`` in the same 亿 units.

    Raises
    ------
    ValueError
        Before any simulation, listing every problem of :func:`goal_problems`.
    """
    problems = goal_problems(
        scenario, target_year, target_value_1e8_yuan, lever, bounds, quantity=quantity
    )
    if problems:
        raise ValueError("; ".join(f"{what}: {message}" for what, message in problems))
    metric = resolve_quantity(quantity)
    measures_for(metric)

    if lever == "price":
        if not metric.startswith("output."):
            raise ValueError(f"the price lever moves output values only, not {metric!r}")
        from cbm_sim.results import simulate

        results = simulate.run(scenario)

        def f(x: float) -> float:
            # Same physical run, revalued: Results carries the scenario whose prices it uses.
            priced = dataclasses.replace(results, scenario=apply_lever(scenario, "price", x))
            return _read(summarise(priced, ("value",))[0], metric, target_year) / 1e8

    else:

        def f(x: float) -> float:
            return quantity_in_year(apply_lever(scenario, lever, x), metric, target_year) / 1e8

    def reported(x: float) -> float:
        y = f(x)
        if on_evaluation is not None:
            on_evaluation(x, y)
        return y

    return solve_monotone(reported, target_value_1e8_yuan, bounds, lever=lever, xtol=xtol)
