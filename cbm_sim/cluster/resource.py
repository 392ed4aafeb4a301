r"""Each block's gas as a resource: in place, proved, recoverable, produced, and drained.

This replaces the booking rule (issue 23), which charged a new well for the whole future EUR
of the wells already drilled. Five rules, each with its source or the word assumption
(scenario section ``resources``, :class:`cbm_sim.scenario.model.Resources`; derivations and
the searches behind them in ``docs/resources.md``):

1. **Area and gas in place.** The plan gives the rights' area (2,744.988 km², ch1 §1 二), the
   resource inside them (6,141 亿m³, ch1 §1 一, from the abundance 1.7-2.8 亿m³/km²) and the
   proved reserves (3,706.48 亿m³, five blocks itemised, ch1 §2 一), but no block's area. A
   block with proved reserves :math:`G` covers :math:`A = G / a` (abundance :math:`a`): its
   filing proves the whole of it. The rights' remaining area is split equally among the
   blocks without a filing (assumption: their areas are not stated), whose gas in place is
   :math:`A \cdot a` (the plan's own rule, ch1 §1 一).
2. **Proved reserves over time.** A block keeps its filing (``blocks.yaml``); a block without
   one has :math:`G(n) = A a \, (1 - (1 - h)^n)` proved after :math:`n` whole years of the
   run (exploration proves a share :math:`h` of what is still unproved each year, filed on
   1 January), unless the scenario states its filings (``resources.filings``: the block's
   proved reserves from a year on). Only proved area may be developed: the proved area is
   :math:`A_p = \min(A, G / a)`.
3. **Recoverable gas** :math:`R = r\,G` (recovery factor :math:`r`).
4. **Produced gas** :math:`P` of a block on 1 January of a year: the sum of the closed-form
   cumulatives (:mod:`cbm_sim.wells.decline`) of every well of the block online before it —
   the history's wells (evaluated once per run for every year, vectorised) and the run's new
   wells (once per block and year, vectorised over the block's new wells). Undisturbed
   curves: workovers and shut-in gas are not subtracted (assumption: together ≈ 1.4 % of a
   year's gas at the default pump-failure rate and workover days).
5. **Where a new well drains, and how much is left there.** Every well drilled so far drains
   an area (:math:`a_v` vertical, :math:`a_h` horizontal; the drilled area :math:`D` is their
   sum). A new well of area :math:`w` goes to the proved area not yet drilled first: the share
   :math:`u = \mathrm{clip}((A_p - D)/w, 0, 1)` of it lies on undrilled acreage and produces
   the full curve, the rest is infill in the drained area and produces its undepleted share
   :math:`1 - d`. The drained area once the well is on is :math:`D' = D + u w` when
   :math:`u > 0` (:math:`= A_p`) and :math:`\min(D, A)` when :math:`u = 0`, holding
   :math:`r a D'` recoverable, of which :math:`P` has been produced:

   .. math::

       f = u + (1 - u)\,(1 - \min(1, d)), \qquad d = \frac{P}{r\,a\,D'},

   and :math:`f = 0` where nothing is proved (:math:`A_p = 0`: no development without a
   filing). The well's peak and start rates are multiplied by :math:`f`. In a filed block
   (:math:`A_p = A`) an infill well starts at :math:`1 - P/R`, so a well in a block that has
   produced less than 40 % of its recoverable gas starts above 60 % of its curve.
   assumption (no published spacing or interference rule for the basin was retrieved): wells
   fill the proved area before they infill it, and an infill well shares the gas left in
   the drained area with its neighbours, as the plan's 开发区 井网优化 (ch4 §1 一) implies.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from cbm_sim.units import YI
from cbm_sim.wells import decline

FloatArray = npt.NDArray[np.float64]

RIGHTS_AREA_KM2 = 2744.988
"""Plan ch1 §1 二: 辖区内的煤层气矿业权登记面积共计 2744.988 平方千米."""


@dataclass(frozen=True)
class ResourceRules:
    """The numbers every block's resource uses (scenario section ``resources``).

    Attributes
    ----------
    recovery_factor
        Recoverable share of proved gas in place [-].
    abundance_m3_per_km2
        Gas in place per km² [m³/km²].
    proving_rate_per_year
        Share of an unfiled block's unproved resource proved each year [1/yr].
    drainage_km2
        Area a vertical and a horizontal well drain [km²], by well type (0, 1).
    """

    recovery_factor: float
    abundance_m3_per_km2: float
    proving_rate_per_year: float
    drainage_km2: tuple[float, float]

    def __post_init__(self) -> None:
        if not 0.0 < self.recovery_factor <= 1.0:
            raise ValueError(f"recovery_factor must be in (0, 1]; got {self.recovery_factor!r}")
        if not self.abundance_m3_per_km2 > 0.0:
            raise ValueError(f"abundance_m3_per_km2 must be > 0; got {self.abundance_m3_per_km2!r}")
        if not 0.0 <= self.proving_rate_per_year <= 1.0:
            raise ValueError(
                f"proving_rate_per_year must be in [0, 1]; got {self.proving_rate_per_year!r}"
            )
        if not all(a > 0.0 for a in self.drainage_km2) or len(self.drainage_km2) != 2:
            raise ValueError(
                f"drainage_km2 must be two areas > 0 (vertical, horizontal); got "
                f"{self.drainage_km2!r}"
            )


def block_areas_km2(
    proved_m3: Sequence[float | None],
    abundance_m3_per_km2: float,
    rights_area_km2: float = RIGHTS_AREA_KM2,
) -> FloatArray:
    """Area of every block [km²] (rule 1 of the module docstring).

    A block with proved reserves covers ``proved / abundance``; the rights' area left over
    (none if the filed blocks already cover it) is split equally among the blocks without.

    Raises
    ------
    ValueError
        If a block's proved reserves are negative.
    """
    filed = np.array([np.nan if g is None else float(g) for g in proved_m3])
    if np.any(filed < 0):
        raise ValueError(f"proved reserves must be >= 0; got {float(filed[filed < 0][0])!r} m3")
    areas = filed / abundance_m3_per_km2
    unfiled = np.isnan(filed)
    if unfiled.any():
        rest = max(rights_area_km2 - float(np.nansum(areas)), 0.0)
        areas[unfiled] = rest / int(np.count_nonzero(unfiled))
    return areas


def proved_by_year(
    initial_m3: float | None,
    resource_m3: float,
    years: Sequence[int],
    rate_per_year: float,
    filings_m3: Mapping[int, float] | None = None,
) -> FloatArray:
    """A block's proved reserves on 1 January of each of ``years`` [m³] (rule 2).

    ``filings_m3`` (``{year: proved reserves from that year on}``) states them from its
    first year on, and the packaged reserves (or the proving rule) before; a filed block
    (``initial_m3`` not None) keeps its reserves, a block without grows as
    ``resource × (1 - (1 - rate)^n)`` after ``n`` whole years from ``years[0]``.
    """
    first = years[0]
    out = np.empty(len(years))
    stated = sorted((filings_m3 or {}).items())
    for k, year in enumerate(years):
        if initial_m3 is not None:
            value = float(initial_m3)
        else:
            value = resource_m3 * (1.0 - (1.0 - rate_per_year) ** (year - first))
        for y, v in stated:
            if y <= year:
                value = float(v)
        out[k] = value
    return out


def start_factor(
    produced_m3: float,
    proved_m3: float,
    area_km2: float,
    drilled_km2: float,
    well_km2: float,
    rules: ResourceRules,
) -> float:
    """Share of its type curve a new well starts on [-] (rule 5 of the module docstring).

    Parameters
    ----------
    produced_m3
        Gas the block has produced so far [m³].
    proved_m3
        The block's proved reserves [m³].
    area_km2
        The block's area [km²].
    drilled_km2
        Area drained by the block's wells drilled before this one [km²].
    well_km2
        Area this well drains [km²].
    rules
        Recovery factor and abundance.

    Raises
    ------
    ValueError
        If an input is negative or ``well_km2`` is not positive (the message names it).
    """
    for name, v in (
        ("produced_m3", produced_m3),
        ("proved_m3", proved_m3),
        ("area_km2", area_km2),
        ("drilled_km2", drilled_km2),
    ):
        if not v >= 0.0:
            raise ValueError(f"{name} must be >= 0; got {v!r}")
    if not well_km2 > 0.0:
        raise ValueError(f"well_km2 must be > 0; got {well_km2!r}")
    a = rules.abundance_m3_per_km2
    proved_area = min(area_km2, proved_m3 / a)
    if proved_area <= 0.0:
        return 0.0
    fresh = min(max((proved_area - drilled_km2) / well_km2, 0.0), 1.0)
    if fresh >= 1.0:
        return 1.0
    drained = proved_area if fresh > 0.0 else min(drilled_km2, area_km2)
    if drained <= 0.0:  # a proved area too small to hold any part of the well
        return fresh
    left = max(1.0 - produced_m3 / (rules.recovery_factor * a * drained), 0.0)
    return fresh + (1.0 - fresh) * left


def start_factors(
    produced_m3: npt.ArrayLike,
    proved_m3: npt.ArrayLike,
    area_km2: npt.ArrayLike,
    drilled_km2: npt.ArrayLike,
    well_km2: npt.ArrayLike,
    rules: ResourceRules,
) -> FloatArray:
    """:func:`start_factor` of many wells at once (arrays broadcast; inputs not checked)."""
    a = rules.abundance_m3_per_km2
    # scalars stay scalars (the year's produced gas, reserves and area against each well's
    # drilled area): every operation broadcasts them, elementwise the same numbers
    produced, proved, area, drilled, well = (
        np.asarray(x, dtype=np.float64)
        for x in (produced_m3, proved_m3, area_km2, drilled_km2, well_km2)
    )
    proved_area = np.minimum(area, proved / a)
    fresh = np.clip((proved_area - drilled) / well, 0.0, 1.0)
    drained = np.where(fresh > 0.0, proved_area, np.minimum(drilled, area))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        depleted = produced / (rules.recovery_factor * a * drained)
    left = np.where(drained > 0.0, np.maximum(1.0 - depleted, 0.0), 0.0)
    f = fresh + (1.0 - fresh) * left
    return np.where(proved_area > 0.0, f, 0.0)


def history_produced_by_year(
    online_day: FloatArray,
    block: npt.NDArray[np.int64],
    params: Mapping[str, FloatArray],
    year_start_days: FloatArray,
    n_blocks: int,
) -> FloatArray:
    """Gas every block's wells have produced by each of ``year_start_days``, shape
    ``(n_days, n_blocks)`` [m³] (rule 4): one vectorised evaluation of the closed-form
    cumulatives, summed per block."""
    k = decline.prepare_unchecked(
        *(np.asarray(params[p], dtype=np.float64) for p in decline.PARAMS)
    )
    t = np.asarray(year_start_days, dtype=np.float64)[:, None] - online_day[None, :]
    cum = decline.cumulative_prepared(t, k)
    out = np.zeros((t.shape[0], n_blocks))
    for i in range(t.shape[0]):
        out[i] = np.bincount(block, weights=cum[i], minlength=n_blocks)
    return out


@dataclass
class BlockResource:
    """One block's resource through a run (the rules of the module docstring).

    Attributes
    ----------
    block_id
        The block (``blocks.yaml``).
    area_km2
        Its area (rule 1) [km²].
    rules
        Recovery factor, abundance, proving rate, drainage areas.
    year_start_days
        1 January of every year the run drills in, in days since the run's start.
    proved_m3
        Proved reserves on each of those days [m³] (rule 2).
    history_produced_m3
        Gas the block's wells drilled before the run had produced by each of those days [m³].
    drilled_km2
        Area drained by the wells drilled so far [km²]; grows with every well.
    """

    block_id: str
    area_km2: float
    rules: ResourceRules
    year_start_days: FloatArray
    proved_m3: FloatArray
    history_produced_m3: FloatArray
    drilled_km2: float
    _online: list[float] = field(default_factory=list, init=False, repr=False)
    _rows: list[FloatArray] = field(default_factory=list, init=False, repr=False)
    _prepared: list[FloatArray | None] = field(default_factory=list, init=False, repr=False)
    """Decline constants of each chunk of ``_rows`` if given (``(keys, n)``), else None."""
    """Parameters of the new wells not yet in ``_const``, in chunks of rows."""
    _factors: list[float] = field(default_factory=list, init=False, repr=False)
    _done: int = field(default=0, init=False, repr=False)
    """New wells whose constants are in ``_const`` (the rest are still rows)."""
    _const: dict[str, FloatArray] = field(default_factory=dict, init=False, repr=False)
    _online_arr: FloatArray = field(default_factory=lambda: np.zeros(0), init=False, repr=False)
    _factors_arr: FloatArray = field(default_factory=lambda: np.zeros(0), init=False, repr=False)
    """Online days and factors of the wells in ``_const``, as arrays."""
    _produced: dict[int, float] = field(default_factory=dict, init=False, repr=False)
    _starts: list[float] = field(default_factory=list, init=False, repr=False)
    _proved_km2: list[float] = field(default_factory=list, init=False, repr=False)
    _k: int = field(default=0, init=False, repr=False)
    _next_start: float = field(default=-math.inf, init=False, repr=False)

    def __post_init__(self) -> None:
        self._starts = [float(d) for d in self.year_start_days]  # bisect: no numpy per well
        a = self.rules.abundance_m3_per_km2
        self._proved_km2 = [min(self.area_km2, float(g) / a) for g in self.proved_m3]

    def year_index(self, day: float) -> int:
        """Index of the year holding ``day`` (days since the run's start)."""
        k = bisect.bisect_right(self._starts, day) - 1
        return min(max(k, 0), len(self._starts) - 1)

    def produced_m3(self, k: int) -> float:
        """Gas the block had produced by 1 January of year ``k`` [m³]: its history wells and
        the run's new wells (each new well's closed-form cumulative, all at once; the
        constants of wells added since the last call are prepared then, once)."""
        if k not in self._produced:
            new = 0.0
            if self._rows:
                rows = np.concatenate(self._rows)
                given = [c for c in self._prepared if c is not None]
                if given and len(given) == len(self._prepared):
                    # prepared when the wells were drawn (elementwise: the same numbers)
                    cols = np.concatenate(given, axis=1)
                    fresh = {k: cols[j] for j, k in enumerate(decline.PREPARED_KEYS)}
                else:
                    fresh = decline.prepare_unchecked(*(rows[:, j] for j in range(rows.shape[1])))
                done = self._done + rows.shape[0]
                # the wells' online days and factors as arrays, extended by the new ones
                online = np.asarray(self._online[self._done : done], dtype=np.float64)
                factors = np.asarray(self._factors[self._done : done], dtype=np.float64)
                if not self._const:
                    self._const, self._online_arr, self._factors_arr = fresh, online, factors
                else:
                    self._const = {
                        key: np.concatenate((self._const[key], fresh[key])) for key in fresh
                    }
                    self._online_arr = np.concatenate((self._online_arr, online))
                    self._factors_arr = np.concatenate((self._factors_arr, factors))
                self._done = done
                self._rows.clear()
                self._prepared.clear()
            if self._const:
                t = self.year_start_days[k] - self._online_arr
                cum = decline.cumulative_prepared(t, self._const)
                new = float(np.dot(cum, self._factors_arr))
            self._produced[k] = float(self.history_produced_m3[k]) + new
        return self._produced[k]

    def recoverable_m3(self, k: int) -> float:
        """Proved reserves × recovery factor on 1 January of year ``k`` [m³] (rule 3)."""
        return float(self.proved_m3[k]) * self.rules.recovery_factor

    def undrilled_km2(self, k: int) -> float:
        """Proved area its wells do not drain yet, in year ``k`` [km²]: where a new well
        starts on its full curve (the plan scenario places its wells by it)."""
        return max(self._proved_km2[k] - self.drilled_km2, 0.0)

    def factor(self, day: float, well_type: int) -> float:
        """The start factor of a well of ``well_type`` drilled on ``day`` (rule 5), from the
        gas produced by 1 January of its year and the area drilled before it."""
        if not self._next_start > day >= self._starts[self._k]:  # a new year (or the first)
            self._k = self.year_index(day)
            last = self._k + 1 >= len(self._starts)
            self._next_start = math.inf if last else self._starts[self._k + 1]
        k = self._k
        well = self.rules.drainage_km2[well_type]
        if self.drilled_km2 + well <= self._proved_km2[k]:
            return 1.0  # undrilled proved acreage: rule 5 without the produced gas
        return start_factor(
            self.produced_m3(k),
            float(self.proved_m3[k]),
            self.area_km2,
            self.drilled_km2,
            well,
            self.rules,
        )

    def add_well(
        self, well_type: int, online_day: float, params: Sequence[float], factor: float = 1.0
    ) -> None:
        """Count a drilled well: its drainage area, and its gas from ``online_day`` on
        (``params`` of its drawn curve in :data:`cbm_sim.wells.decline.PARAMS` order, its
        rates multiplied by ``factor``)."""
        self.drilled_km2 += self.rules.drainage_km2[well_type]
        self._online.append(float(online_day))
        self._rows.append(np.asarray(params, dtype=np.float64).reshape(1, -1))
        self._prepared.append(None)
        self._factors.append(factor)
        # wells are added in time order, each coming online after the 1 January of the year
        # it was drilled in: the produced gas cached for that year and earlier stays exact
        if self._produced and online_day < self._starts[max(self._produced)]:
            self._produced.clear()

    def add_wells(
        self,
        days: Sequence[float],
        well_types: Sequence[int],
        online_days: Sequence[float],
        rows: npt.ArrayLike,
        prepared: FloatArray | None = None,
    ) -> tuple[FloatArray, FloatArray]:
        """:meth:`factor` then :meth:`add_well` for each of many wells, in order, at once per
        year: the start factor of every well and the area drilled before each [km²].

        ``days`` (drilling ends, non-decreasing), ``well_types``, ``online_days`` and
        ``rows`` (parameters in :data:`cbm_sim.wells.decline.PARAMS` order) as the single
        calls take them. The result is the single calls' bit for bit: the drilled area is
        summed well by well (``np.add.accumulate``), a year's wells on undrilled acreage get
        1.0 as :meth:`factor`'s shortcut does, and the gas produced by 1 January of a year is
        evaluated when the first well of that year that needs it is reached, with the wells
        added before it (:func:`start_factors` is :func:`start_factor` elementwise).
        ``prepared``: the wells' decline constants ``(len(PREPARED_KEYS), n)`` if already
        made (:func:`cbm_sim.wells.decline.prepare_unchecked` is elementwise: the same
        numbers), else they are prepared from ``rows`` when the produced gas needs them.
        """
        n = len(days)
        rows = np.asarray(rows, dtype=np.float64).reshape(n, -1)
        types = np.asarray(well_types, dtype=np.int64)
        area = np.asarray(self.rules.drainage_km2, dtype=np.float64)[types]
        after = np.add.accumulate(np.concatenate(([self.drilled_km2], area)))
        before = after[:-1]
        factors = np.ones(n)
        year = np.searchsorted(np.asarray(self._starts), np.asarray(days), side="right") - 1
        year = np.clip(year, 0, len(self._starts) - 1)
        online = [float(d) for d in online_days]
        added = 0
        cols = prepared

        def extend(a: int, b: int | None) -> None:
            part = None if cols is None else cols[:, a:b]
            self._extend(online[a:b], rows[a:b], factors[a:b], part)

        bounds_ = np.flatnonzero(np.diff(year)) + 1
        for lo, hi in zip(
            np.concatenate(([0], bounds_)).tolist(), np.append(bounds_, n).tolist(), strict=True
        ):
            k = int(year[lo])
            proved_km2 = self._proved_km2[k]
            infill = np.flatnonzero(before[lo:hi] + area[lo:hi] > proved_km2) + lo
            if not infill.size:
                continue
            first = int(infill[0])
            extend(added, first)
            added = first
            factors[infill] = start_factors(
                self.produced_m3(k),
                float(self.proved_m3[k]),
                self.area_km2,
                before[infill],
                area[infill],
                self.rules,
            )
        extend(added, None)
        self.drilled_km2 = float(after[-1])
        self._k, self._next_start = 0, -math.inf  # factor() finds its year again
        return factors, before

    def _extend(
        self,
        online: list[float],
        rows: FloatArray,
        factors: FloatArray,
        prepared: FloatArray | None = None,
    ) -> None:
        """Record wells whose factors are known (:meth:`add_well` without the drilled area)."""
        if not online:
            return
        if self._produced and min(online) < self._starts[max(self._produced)]:
            self._produced.clear()  # as add_well (never in time order: online ≥ drilling end)
        self._online.extend(online)
        self._rows.append(np.asarray(rows, dtype=np.float64))
        self._prepared.append(prepared)
        self._factors.extend(factors.tolist())

    def describe(self, k: int, drilled_km2: float | None = None) -> str:
        """One line of the block's state on 1 January of year ``k`` (for events), with the
        area drilled so far (or ``drilled_km2``, the area drilled before a given well)."""
        proved = float(self.proved_m3[k])
        drilled = self.drilled_km2 if drilled_km2 is None else drilled_km2
        return (
            f"produced {self.produced_m3(k) / YI:.2f} of {self.recoverable_m3(k) / YI:.2f} 亿m3 "
            f"recoverable (proved {proved / YI:.2f} × {self.rules.recovery_factor:g}); drilled "
            f"{drilled:.1f} of "
            f"{min(self.area_km2, proved / self.rules.abundance_m3_per_km2):.1f} km2 proved"
        )


def unfiled_resource_m3(area_km2: float, rules: ResourceRules) -> float:
    """Gas in place of a block without a filing: its area × the abundance [m³] (rule 1)."""
    if not (area_km2 >= 0 and math.isfinite(area_km2)):
        raise ValueError(f"area_km2 must be finite and >= 0; got {area_km2!r}")
    return area_km2 * rules.abundance_m3_per_km2
