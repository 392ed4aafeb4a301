"""Type curves per well type and block class, and per-well scatter around them.

The parameters live in ``cbm_sim/data/typecurves.yaml`` with a ``source`` for each; this module
loads and validates them (against :mod:`cbm_sim.bounds`) and samples per-well parameters.

Scatter (assumption, stated in the data): the peak rate and the incline period of each well are
lognormal around the curve, :math:`q_i = \\bar q_i\\,e^{\\sigma Z - \\sigma^2/2}` (mean-preserving,
so the population's mean peak equals the curve's), :math:`t_p = \\bar t_p\\,e^{\\sigma_t Z'}`
(median-preserving, clipped to the bound of ``t_incline``); the decline parameters are shared.

A curve may carry an optional plateau (``plateau_days``: the peak rate held that long before
the decline, :mod:`cbm_sim.wells.decline`); it is 0 when the data leave it out, and every
well of the curve gets the same value: no published spread of CBM plateau lengths was found
to scale a scatter on (assumption), so none is drawn and the random streams are unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

from cbm_sim import bounds
from cbm_sim.plan.packaged import read_packaged
from cbm_sim.wells.population import WELL_TYPES

BLOCK_CLASSES: tuple[str, ...] = ("producing", "ramping", "proved")
"""Development classes of plan ch4 §1 一 (开发区保产、建产区达产、探明区建产)."""

bounds.register(
    bounds.Bound(
        "sigma_ln",
        0.0,
        2.0,
        "dimensionless",
        "lognormal scatter of a well parameter; assumption: 2 (a factor e^2 ≈ 7 per sigma) "
        "exceeds any plausible spread",
    )
)
bounds.register(
    bounds.Bound(
        "q_start_fraction",
        0.0,
        1.0,
        "fraction",
        "rate at online as a fraction of the peak rate (≤ 1: CBM rates rise while dewatering)",
    )
)

bounds.register(
    bounds.Bound(
        "curve_multiplier",
        0.0,
        10.0,
        "dimensionless",
        "calibrated multiplier on a type curve (class or block level, horizontal, decline, "
        "incline scale); assumption: 10x is beyond any plausible recalibration",
        lo_open=True,
    )
)
bounds.register(
    bounds.Bound(
        "producing_share",
        0.0,
        1.0,
        "fraction",
        "share of drilled wells that ever produce gas (0 would be no gas at all)",
        lo_open=True,
    )
)

_FIELDS = {
    "qi_m3_per_day": "qi",
    "q_start_fraction": "q_start_fraction",
    "t_incline_days": "t_incline",
    "di_per_year": "di",
    "b": "b",
    "d_term_per_year": "d_term",
    "sigma_ln_qi": "sigma_ln",
    "sigma_ln_t_incline": "sigma_ln",
}
_OPTIONAL_FIELDS = {"plateau_days": "t_plateau"}
"""Fields a curve may leave out (then 0), with their bound names."""


@dataclass(frozen=True)
class TypeCurve:
    """One type curve (units in the field names; decline rates nominal per year)."""

    well_type: str
    block_class: str
    qi_m3_per_day: float
    q_start_fraction: float
    t_incline_days: float
    di_per_year: float
    b: float
    d_term_per_year: float
    sigma_ln_qi: float
    sigma_ln_t_incline: float
    sources: dict[str, str]
    plateau_days: float = 0.0

    def sample(
        self,
        n: int,
        rng: np.random.Generator,
        qi_scale: float = 1.0,
        adjustment: CurveAdjustment | None = None,
        block_id: str | None = None,
    ) -> dict[str, npt.NDArray[np.float64]]:
        """Per-well parameters for ``n`` wells of block ``block_id``, keyed as
        :meth:`WellPopulation.add_cohort`.

        Draws two standard normals per well (peak rate, incline) and, with an
        ``adjustment``, one uniform per well (producing or not), then calls
        :meth:`from_draws`. ``qi_scale`` multiplies the peak and start rates.
        """
        z = rng.standard_normal((2, n))
        u = rng.random(n) if adjustment is not None else np.zeros(n)
        scale, share = qi_scale, None
        if adjustment is not None and block_id is not None:
            scale = qi_scale * adjustment.block_level(block_id)
            share = adjustment.producing_share_of(block_id, self.block_class)
        params, _ = self.from_draws(z[0], z[1], u, adjustment, scale, share)
        return params

    def from_draws(
        self,
        z_qi: npt.NDArray[np.float64],
        z_incline: npt.NDArray[np.float64],
        u_producing: npt.NDArray[np.float64],
        adjustment: CurveAdjustment | None = None,
        qi_scale: float | npt.NDArray[np.float64] = 1.0,
        producing_share: float | npt.NDArray[np.float64] | None = None,
    ) -> tuple[dict[str, npt.NDArray[np.float64]], npt.NDArray[np.float64]]:
        """Per-well parameters from standard draws (common random numbers for the fit).

        Parameters
        ----------
        z_qi, z_incline
            Standard normal draws, one per well, for the peak rate and the incline period.
        u_producing
            Uniform draws on [0, 1): a well produces gas iff ``u < producing_share``.
        adjustment
            Calibrated multipliers (``None``: the curve as packaged, every well producing).
        qi_scale
            Extra multiplier on the peak and start rates, one value or one per well (the
            run's exact 2021 fit times the block's level, :meth:`CurveAdjustment.block_level`).
        producing_share
            Share of wells that produce, one value or one per well (default the
            adjustment's share of this curve's class; a block's own share:
            :meth:`CurveAdjustment.producing_share_of`).

        Returns
        -------
        params, design_qi
            Parameters keyed as :meth:`WellPopulation.add_cohort` (``qi = q_start = 0`` for a
            well that never produces) and each well's design peak rate [m³/d] (its peak had
            it produced: what capacity is booked at when the well is built).
        """
        adj = adjustment if adjustment is not None else CurveAdjustment.identity()
        s_q = self.sigma_ln_qi
        level = adj.level(self.block_class) * np.asarray(qi_scale, dtype=np.float64)
        if self.well_type == "horizontal":
            level *= adj.horizontal_scale
        design = self.qi_m3_per_day * level * np.exp(s_q * np.asarray(z_qi) - 0.5 * s_q * s_q)
        share = (
            adj.class_producing_share(self.block_class)
            if producing_share is None
            else producing_share
        )
        qi = np.where(np.asarray(u_producing) < share, design, 0.0)
        lim = bounds.BOUNDS["t_incline"]
        t_mean = self.t_incline_days * adj.incline_scale
        t_inc = np.minimum(t_mean * np.exp(self.sigma_ln_t_incline * np.asarray(z_incline)), lim.hi)
        n = qi.size
        di = self.di_per_year * adj.decline_scale
        return {
            "qi": qi,
            "q_start": qi * self.q_start_fraction,
            "t_incline": t_inc,
            "di": np.full(n, di),
            "b": np.full(n, self.b),
            # the terminal decline is the packaged assumption, not calibrated: wells at most
            # 18 years old (2003-2021) say little about it (capped at di, as Robertson 1988)
            "d_term": np.full(n, min(self.d_term_per_year, di)),
            # the packaged plateau (0 for the shipped curves) plus the calibrated one of this
            # well type: the same for every well (no cited spread to scatter it with)
            "t_plateau": np.full(n, self.plateau_days + adj.plateau_days_of(self.well_type)),
        }, design


@dataclass(frozen=True)
class CurveAdjustment:
    """Calibrated multipliers on the type curves (fitted by :mod:`cbm_sim.wells.calibration`).

    Attributes
    ----------
    levels
        Peak-rate multiplier per block class (``producing``, ``ramping``, ``proved``;
        ``exploration`` blocks use ``proved`` through the data's alias) [-].
    horizontal_scale
        Extra peak-rate multiplier of horizontal wells [-].
    decline_scale
        Multiplier on the initial nominal decline [-] (the terminal decline stays as
        packaged, capped at the initial one).
    incline_scale
        Multiplier on the median incline (dewatering) period [-].
    producing_shares
        Share of drilled wells that ever produce gas, per block class [-] (classes not
        listed: 1); the others are counted as wells but give no gas (idle, water only, or
        shut in).
    block_levels
        Extra peak-rate multiplier of named blocks, on top of their class level [-]
        (blocks not listed: 1).
    block_producing_shares
        Producing share of named blocks, instead of their class's share [-] (cited in
        ``typecurves.yaml``, not fitted).
    plateau_days
        Plateau at the peak rate per well type (``vertical``, ``horizontal``) [day], added to
        the curve's packaged ``plateau_days`` (types not listed: 0).
    """

    levels: tuple[tuple[str, float], ...]
    horizontal_scale: float = 1.0
    decline_scale: float = 1.0
    incline_scale: float = 1.0
    producing_shares: tuple[tuple[str, float], ...] = ()
    block_levels: tuple[tuple[str, float], ...] = ()
    block_producing_shares: tuple[tuple[str, float], ...] = ()
    plateau_days: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        bounds.check("curve_multiplier", [self.horizontal_scale, self.decline_scale])
        bounds.check("curve_multiplier", self.incline_scale)
        for what, pairs, bound in (
            ("levels", self.levels, "curve_multiplier"),
            ("producing_shares", self.producing_shares, "producing_share"),
        ):
            for cls, value in pairs:
                if cls not in BLOCK_CLASSES:
                    raise ValueError(
                        f"unknown block class {cls!r} in {what}; known: {BLOCK_CLASSES}"
                    )
                bounds.check(bound, value)
        bounds.check("curve_multiplier", [value for _, value in self.block_levels])
        bounds.check("producing_share", [value for _, value in self.block_producing_shares])
        for well_type, days in self.plateau_days:
            if well_type not in WELL_TYPES:
                raise ValueError(
                    f"unknown well type {well_type!r} in plateau_days; known: {WELL_TYPES}"
                )
            bounds.check("t_plateau", days)

    @classmethod
    def identity(cls) -> CurveAdjustment:
        """No adjustment: the packaged curves, every well producing."""
        return cls(levels=tuple((c, 1.0) for c in BLOCK_CLASSES))

    def level(self, block_class: str) -> float:
        """Peak-rate multiplier of a (resolved) block class; 1 if not listed."""
        return dict(self.levels).get(block_class, 1.0)

    def block_level(self, block_id: str) -> float:
        """Extra peak-rate multiplier of a block; 1 if not listed."""
        return dict(self.block_levels).get(block_id, 1.0)

    def class_producing_share(self, block_class: str) -> float:
        """Producing share of a (resolved) block class; 1 if not listed."""
        return dict(self.producing_shares).get(block_class, 1.0)

    def plateau_days_of(self, well_type: str) -> float:
        """Calibrated plateau of a well type [day]; 0 if not listed."""
        return dict(self.plateau_days).get(well_type, 0.0)

    def producing_share_of(self, block_id: str, block_class: str) -> float:
        """Producing share of a block of a (resolved) class: its own if listed, else its
        class's (:meth:`class_producing_share`)."""
        own = dict(self.block_producing_shares)
        return own.get(block_id, self.class_producing_share(block_class))


def _parse(doc: dict[str, Any]) -> dict[tuple[str, str], TypeCurve]:
    curves: dict[tuple[str, str], TypeCurve] = {}
    for well_type, by_class in doc["curves"].items():
        for block_class, params in by_class.items():
            if block_class not in BLOCK_CLASSES:
                raise ValueError(f"unknown block class {block_class!r} in typecurves.yaml")
            values: dict[str, float] = {}
            sources: dict[str, str] = {}
            present = {k: v for k, v in _OPTIONAL_FIELDS.items() if k in params}
            for key, bound_name in {**_FIELDS, **present}.items():
                entry = params[key]
                if not str(entry.get("source", "")).strip():
                    raise ValueError(f"{well_type}/{block_class}/{key}: missing source")
                values[key] = float(bounds.check(bound_name, entry["value"]))
                sources[key] = str(entry["source"])
            curves[(well_type, block_class)] = TypeCurve(
                well_type=well_type, block_class=block_class, sources=sources, **values
            )
    return curves


@cache
def _load() -> tuple[dict[tuple[str, str], TypeCurve], dict[str, str]]:
    doc = read_packaged("typecurves.yaml")
    aliases = {name: str(a["use"]) for name, a in doc.get("aliases", {}).items()}
    return _parse(doc), aliases


BLOCK_LEVEL_KINDS = ("calibrated", "class")


@cache
def block_curves() -> dict[str, tuple[str, str]]:
    """How each documented block's curve is set: ``{block id: (level kind, source)}``.

    ``calibrated``: the block has its own fitted level (``block_level_<id>`` in
    ``data/calibration.yaml``); ``class``: the curve of its class.

    Raises
    ------
    ValueError
        If an entry has an unknown level kind or no source (the message names the block).
    """
    return parse_block_curves(read_packaged("typecurves.yaml").get("blocks", {}))


@cache
def block_producing_shares() -> tuple[tuple[str, float], ...]:
    """Blocks with a cited producing share (``producing_share:`` in the ``blocks:`` section
    of ``typecurves.yaml``), checked against the bound of ``producing_share``."""
    out = []
    for block, entry in read_packaged("typecurves.yaml").get("blocks", {}).items():
        share = entry.get("producing_share")
        if share is not None:
            if not str(share.get("source", "")).strip():
                raise ValueError(f"block {block}: producing_share without a source")
            out.append((str(block), float(bounds.check("producing_share", share["value"]))))
    return tuple(out)


NEW_WELL_KINDS = ("block", "class")
"""How a block's new wells (drilled in a run) take their level: ``block`` — the block's own
(its fitted level and producing share, as its past wells); ``class`` — the development rule
(:func:`development_blocks`)."""


@cache
def development_blocks() -> frozenset[str]:
    """Blocks whose new wells are development wells drawn from their class's curve
    (``new_wells: class`` in the ``blocks:`` section of ``typecurves.yaml``).

    The rule (issue 23, docs/hindcast.md §5): the plan names 马必、马必东、柿庄南、柿庄北
    as blocks long not fully developed (长期未得到全面开发, ch1 §3 一) and programmes the
    build-up of 马必 and 柿庄南 (建产区达产, ch4 §1 一). What their wells did before 2022 is
    the record of that under-development, so the wells a run drills there take the
    calibrated level and producing share of the block's class (``ramping`` or ``proved``),
    not the block's own fitted level (``block_level_<id>``) or cited share: the block's
    past wells keep them.
    """
    return frozenset(parse_new_wells(read_packaged("typecurves.yaml").get("blocks", {})))


def parse_new_wells(section: dict[str, Any]) -> dict[str, str]:
    """The blocks of a ``blocks:`` section whose ``new_wells`` is ``class``, with its source.

    Raises
    ------
    ValueError
        If ``new_wells`` has an unknown kind or ``class`` comes without a
        ``new_wells_source`` (the message names the block).
    """
    out: dict[str, str] = {}
    for block, entry in section.items():
        kind = str(entry.get("new_wells", "block"))
        if kind not in NEW_WELL_KINDS:
            raise ValueError(
                f"block {block}: new_wells must be one of {NEW_WELL_KINDS}; got {kind!r}"
            )
        source = str(entry.get("new_wells_source", "")).strip()
        if kind == "class":
            if not source:
                raise ValueError(f"block {block}: new_wells: class without a new_wells_source")
            out[str(block)] = source
    return out


def parse_block_curves(section: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Validate the ``blocks:`` section of ``typecurves.yaml`` (see :func:`block_curves`)."""
    out: dict[str, tuple[str, str]] = {}
    for block, entry in section.items():
        kind = str(entry.get("level", ""))
        source = str(entry.get("source", "")).strip()
        if kind not in BLOCK_LEVEL_KINDS:
            raise ValueError(
                f"block {block}: level must be one of {BLOCK_LEVEL_KINDS}; got {kind!r}"
            )
        if not source:
            raise ValueError(f"block {block}: missing source")
        out[str(block)] = (kind, source)
    return out


def typecurves() -> dict[tuple[str, str], TypeCurve]:
    """All type curves, keyed by ``(well_type, block_class)``."""
    return dict(_load()[0])


def typecurve(well_type: str, block_class: str) -> TypeCurve:
    """The type curve for ``well_type`` (vertical/horizontal) in a ``block_class`` block.

    ``exploration`` blocks (no proved reserves) use the curve named by the data's alias.

    Raises
    ------
    ValueError
        If the well type or block class is unknown (the message names it).
    """
    curves, aliases = _load()
    cls = aliases.get(block_class, block_class)
    key = (well_type, cls)
    if key not in curves:
        types = sorted({k[0] for k in curves})
        classes = sorted({k[1] for k in curves} | set(aliases))
        raise ValueError(
            f"no type curve for well_type={well_type!r}, block_class={block_class!r}; "
            f"well types: {types}, classes: {classes}"
        )
    return curves[key]
