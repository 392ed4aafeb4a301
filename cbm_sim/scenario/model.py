"""The scenario: every assumption of one run, typed, with units in the field names.

A scenario is what a planner writes (YAML) and what the simulation reads. Its defaults are
the 2021 baseline of the plan (chapter 1) or labelled assumptions; shipped scenarios under
``scenarios/`` change the forward paths. Conventions:

* ``_1e8_m3`` = 亿 m³, ``_1e4_m3`` = 万 m³, ``_1e4_t`` = 万 t, ``_1e4`` = 万 (people):
  the multiples of the plan, converted to base units by :mod:`cbm_sim.units` at the edge.
* Time paths are ``{year: value}`` maps, interpolated linearly between stated years and
  held flat outside them (:mod:`cbm_sim.scenario.paths`).
* Dates are ISO dates (``2025-07-01``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from cbm_sim import bounds
from cbm_sim.scenario.assets import (
    CNG,
    LNG,
    CNGStation,
    Contract,
    Contracts,
    LNGPlant,
    PipelineLine,
    Pipelines,
    Reliability,
    Storage,
    StorageProject,
)
from cbm_sim.scenario.base import (
    NAME_MAX_CHARS,
    BlockId,
    FieldError,
    Model,
    MultiFieldError,
    NonNegPath,
    SharePath,
    VolumePath,
    WellsPath,
    _block_names_schema,
    _bounded,
    _bounded_path,
    _raise_all,
    _safe_name,
    _schema,
    _year_in,
)
from cbm_sim.scenario.dumping import safe_dump
from cbm_sim.scenario.steps import CALENDAR_STEPS, MAX_STEP_DAYS, StepDays, step_label
from cbm_sim.scenario.uncertainty import (
    correlation_problem,
    distribution_problem,
    is_time_path,
    parent_value,
    path_problem,
    support_problem,
)
from cbm_sim.scenario.valuation_inputs import ValuationConfig


def _step_days(value: object) -> StepDays:
    """``horizon.step_days``: a whole number of days 1-31 (also as text, as the command line
    gives it) or ``month`` / ``quarter``."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().lower() in CALENDAR_STEPS:
        return value.strip().lower()  # type: ignore[return-value]  # a key of CALENDAR_STEPS
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_STEP_DAYS:
        return value
    raise ValueError(
        f"expected a whole number of days 1-{MAX_STEP_DAYS} or one of "
        f"{', '.join(CALENDAR_STEPS)}; got {value!r}"
    )


class Horizon(Model):
    """Simulated period and the step of the recorded results."""

    start: dt.date = Field(dt.date(2021, 1, 1), description="first simulated day")
    end: dt.date = Field(dt.date(2030, 12, 31), description="last simulated day (inclusive)")
    step_days: Annotated[int | str, BeforeValidator(_step_days)] = Field(
        1,
        description=(
            "step of the recorded results: 1-31 days (counted from every 1 January, no step "
            "spans two years), 'month' or 'quarter' (calendar); the dispatch runs every day "
            "whatever the step (cbm_sim/scenario/steps.py)"
        ),
    )

    @model_validator(mode="after")
    def _ordered(self) -> Horizon:
        b = bounds.BOUNDS["horizon_year"]
        lo, hi = dt.date(int(b.lo), 1, 1), dt.date(int(b.hi), 12, 31)
        for name, day in (("start", self.start), ("end", self.end)):
            if not lo <= day <= hi:
                raise FieldError(
                    f"expected a date in the supported range {lo} .. {hi}, got {day} ({b.doc})",
                    (name,),
                )
        if self.end <= self.start:
            raise ValueError(f"end {self.end} must be after start {self.start}")
        return self

    @property
    def n_days(self) -> int:
        """Number of simulated days, both ends included."""
        return (self.end - self.start).days + 1

    @property
    def step_label(self) -> str:
        """The step as a report says it: ``day``, ``7 days``, ``month``, ``quarter``."""
        return step_label(self.step_days)  # type: ignore[arg-type]  # validated by _step_days


MAX_RIGS = 200
"""Most rigs one block may work (bounds.py's wells_per_block_year: 200 × 365/15 d ≈ 4,867)."""


class BlockProgramme(Model):
    """Drilling programme of one block (wells spudded per year by type)."""

    vertical_wells_per_year: WellsPath = Field(default_factory=dict)
    horizontal_wells_per_year: WellsPath = Field(default_factory=dict)
    first_year: Annotated[int | None, _year_in("programme_year", "first_year")] = Field(
        None, description="no wells before this year"
    )
    last_year: Annotated[int | None, _year_in("programme_year", "last_year")] = Field(
        None, description="no wells after this year"
    )
    rigs: int = Field(2, ge=0, le=MAX_RIGS, description="drilling rigs working in the block")
    recorded_through: Annotated[int | None, _year_in("programme_year", "recorded_through")] = Field(
        None,
        description="the programme's wells up to this year are recorded drilling (what "
        "was drilled), not a plan: drilling.achieved_share does not scale them",
    )

    @model_validator(mode="after")
    def _years_ordered(self) -> BlockProgramme:
        if (
            self.first_year is not None
            and self.last_year is not None
            and self.last_year < self.first_year
        ):
            raise FieldError(
                f"expected last_year >= first_year {self.first_year}, got {self.last_year}",
                ("last_year",),
            )
        return self


class Drilling(Model):
    """New wells. Durations are assumptions for southern-Qinshui practice."""

    blocks: dict[BlockId, BlockProgramme] = Field(
        default_factory=dict,
        description="programme per block id (cbm_sim/data/blocks.yaml)",
        json_schema_extra=_block_names_schema,
    )
    # assumption: a ~700 m vertical CBM well is drilled in 1-3 weeks; 15 d includes moving.
    drilling_days_vertical: float = Field(15.0, gt=0, le=365)
    # assumption: a horizontal/multilateral CBM well with ~800-1000 m laterals takes 5-8 weeks.
    drilling_days_horizontal: float = Field(40.0, gt=0, le=365)
    # assumption: fracturing, pump installation and hook-up to gathering, ~1 month.
    completion_days: float = Field(30.0, ge=0, le=730)
    # 1 = every programmed well is drilled; an ensemble samples it (drilling achieved vs
    # programmed). Multiplies the wells of every block's programme, every year.
    achieved_share: float = Field(
        1.0,
        gt=bounds.BOUNDS["drilling_achieved_share"].lo,
        le=bounds.BOUNDS["drilling_achieved_share"].hi,
        description="wells drilled per well programmed (all blocks, all years)",
    )


FilingsPath = Annotated[
    NonNegPath,
    _bounded_path("proved_reserves_1e8_m3"),
    _schema("proved_reserves_1e8_m3", path=True),
]
"""A block's proved reserves [亿m³] from 1 January of each stated year on (a step path)."""


class Resources(Model):
    """Each block's gas as a resource: recovery, abundance, exploration and well spacing.

    The rules that use these figures are :mod:`cbm_sim.cluster.resource` (docs/resources.md).
    """

    # source: the share of proved geological reserves that is technically recoverable,
    # 1613.4 of 3179.3 亿m³ = 0.507 in China's new CBM filings of 2023 (Xinhua 2024-04-23,
    # via m.14z7q.com/xw/cycj/20240423/243419.html); lower at the resource level: 10.87 of
    # 36.81 万亿m³ = 0.30 (2006 national evaluation) and 12.50 of 30 = 0.42 (2015 dynamic
    # evaluation), both as summarised by 孙杰 et al. 2018 (victorzhang.cn/page/2018/0704/
    # 16560826.shtml). A block's recoverable gas is its proved reserves × this share.
    recovery_factor: Annotated[float, _bounded("recovery_factor"), _schema("recovery_factor")] = (
        Field(0.5, description="recoverable share of a block's proved gas in place")
    )
    # plan ch1 §1 一: 6141 亿m³ of resources in the rights' 2744.988 km² (ch1 §1 二), the
    # plan's 1.7-2.8 亿m³/km² (southern Qinshui, 2006 evaluation) applied: 2.237 on average.
    abundance_1e8_m3_per_km2: Annotated[
        float, _bounded("abundance_1e8_m3_per_km2"), _schema("abundance_1e8_m3_per_km2")
    ] = Field(6141.0 / 2744.988, description="gas in place per km² [亿m³/km²]")
    # assumption: the unproved resource is proved at the city's own historical pace: 60.36 %
    # of the resource was proved in the 19 years of scale exploration 2003-2021 (plan ch1 §2
    # 一: 探明程度 60.36 %; 2003 the start of scale development), a constant share
    # 1 - (1 - 0.6036)^(1/19) = 4.75 % a year of what is still unproved. Acts on the blocks
    # without a filing (blocks.yaml) that `filings` does not name.
    proving_rate_per_year: Annotated[
        float, _bounded("proving_rate_per_year"), _schema("proving_rate_per_year")
    ] = Field(
        1.0 - (1.0 - 0.6036) ** (1.0 / 19.0),
        description="share of an unfiled block's unproved resource proved each year",
    )
    # assumption: a vertical well drains a 300 m × 300 m square (0.09 km²), the common
    # square pattern of southern Qinshui vertical wells (no spacing figure was retrieved:
    # docs/resources.md lists the searches); a horizontal well drains 3 × that, in
    # proportion to the calibrated horizontal/vertical productivity of 3.0 (history.yaml,
    # 柿庄 2,000-3,000 vs 5,000-10,000 m³/d): the same gas per km² drained.
    drainage_area_km2_vertical: Annotated[
        float, _bounded("drainage_area_km2"), _schema("drainage_area_km2")
    ] = Field(0.09, description="area one vertical well drains [km²]")
    drainage_area_km2_horizontal: Annotated[
        float, _bounded("drainage_area_km2"), _schema("drainage_area_km2")
    ] = Field(0.27, description="area one horizontal well drains [km²]")
    filings: dict[BlockId, FilingsPath] = Field(
        default_factory=dict,
        description="proved reserves [亿m³] of a block from 1 January of each stated year on "
        "(replaces the block's packaged reserves and the proving rule from that year)",
        json_schema_extra=_block_names_schema,
    )

    def drainage_area_km2(self, well_type: int) -> float:
        """Area a well of ``well_type`` (0 vertical, 1 horizontal) drains [km²]."""
        return self.drainage_area_km2_horizontal if well_type else self.drainage_area_km2_vertical


CALIBRATION_FILES = ("calibration.yaml", "calibration-2021.yaml")
"""The packaged calibrations (``cbm_sim/data``): fitted to everything known today, and the
hindcast's vintage, fitted to what was known by 2021-12-31 (``cbm-sim calibrate --as-of``)."""


class TypeCurveScaling(Model):
    """Multipliers applied to the packaged type curves (1 = as published/calibrated)."""

    calibration: Literal["calibration.yaml", "calibration-2021.yaml"] = Field(
        "calibration.yaml",
        description="packaged calibration the history and the new wells draw from: "
        "calibration.yaml (everything known today) or calibration-2021.yaml (the rows known "
        "by 2021-12-31: the hindcast's vintage)",
    )

    peak_rate_scale: float = Field(1.0, gt=0, le=10)
    incline_days_scale: Annotated[
        float, _bounded("incline_days_scale"), _schema("incline_days_scale")
    ] = Field(1.0)
    decline_scale: float = Field(1.0, gt=0, le=10)
    producing_blocks_peak_scale: float = Field(
        1.0, gt=0, le=10, description="peak-rate multiplier of new wells in producing blocks"
    )
    ramping_blocks_peak_scale: float = Field(
        1.0, gt=0, le=10, description="peak-rate multiplier of new wells in ramping blocks"
    )
    proved_blocks_peak_scale: float = Field(
        1.0,
        gt=0,
        le=10,
        description="peak-rate multiplier of new wells in proved (and exploration) blocks",
    )
    producing_share_scale: float = Field(
        1.0,
        gt=0,
        le=1,
        description="share of the calibrated producing new wells that do produce (1: as fitted)",
    )
    horizontal_peak_scale: float = Field(
        1.0, gt=0, le=10, description="peak-rate multiplier of new horizontal wells"
    )
    development_blocks_peak_scale: float = Field(
        1.0,
        gt=0,
        le=10,
        description="peak-rate multiplier of new wells in the blocks of the development rule "
        "(马必, 马必东, 柿庄南, 柿庄北: the class curve stands for their development wells; "
        "typecurves.yaml, new_wells: class)",
    )

    def peak_scale(self, block_class: str, well_type: int = 0) -> float:
        """The peak-rate multiplier of new wells of ``block_class``: the overall one times the
        block group's (``producing``, ``ramping``, ``proved``; an unknown class: overall),
        times ``horizontal_peak_scale`` for horizontal wells (``well_type`` 1)."""
        group = {
            "producing": self.producing_blocks_peak_scale,
            "ramping": self.ramping_blocks_peak_scale,
            "proved": self.proved_blocks_peak_scale,
        }.get(block_class, 1.0)
        horizontal = self.horizontal_peak_scale if well_type == 1 else 1.0
        return self.peak_rate_scale * group * horizontal


class WellReliability(Model):
    """Pump failures and workovers (修井/检泵)."""

    # assumption: rod-pump CBM wells in Qinshui need a pump check or workover every ~2 years.
    pump_failures_per_well_year: float = Field(0.5, ge=0, le=20)
    # assumption: a workover rig needs a few days per well; queueing adds a week.
    workover_days: float = Field(10.0, gt=0, le=365)


class MineGas(Model):
    """Coal-mine gas (井下抽采): drainage, utilisation, mine-gas power and heating."""

    # plan ch1 §2 三 (2021 20.7); ch4 §1 (2025 ≈22, 2030 ≈20 亿m³).
    drainage_1e8_m3_per_year: VolumePath = Field(
        default_factory=lambda: {2021: 20.7, 2025: 22.0, 2030: 20.0}
    )
    # plan ch1 §2 三: 利用率 59.66 % in 2021; ch4 §1 二: 保持在60%以上.
    usable_share: SharePath = Field(default_factory=lambda: {2021: 0.5966, 2025: 0.60})
    # plan ch1 §2 三/七: 12.35 utilised − 9.05 to power = 3.30 (2021); ch4 §3 六: 2.88 (2025),
    # 3.67 (2030, printed under "2025").
    heating_gas_1e8_m3_per_year: VolumePath = Field(
        default_factory=lambda: {2021: 3.30, 2025: 2.88, 2030: 3.67}
    )
    # plan ch1 §2 七 (31 plants, 621.1 MW); ch4 §3 六 (36 plants, 76.26万kW).
    power_capacity_mw: Annotated[
        NonNegPath, _bounded_path("power_capacity_mw"), _schema("power_capacity_mw", path=True)
    ] = Field(default_factory=lambda: {2021: 621.1, 2025: 762.6})
    power_plants: Annotated[
        NonNegPath, _bounded_path("power_plants"), _schema("power_plants", path=True)
    ] = Field(default_factory=lambda: {2021: 31.0, 2025: 36.0})
    # plan ch1 §2 七: 9.05 亿m³ for 33.68 亿kWh in 2021.
    power_gas_m3_per_kwh: float = Field(9.05 / 33.68, gt=0, le=2)
    # assumption: availability of gas-engine plants ~90 % (maintenance, grid limits).
    power_availability: float = Field(0.9, gt=0, le=1)


class Sector(Model):
    """A demand sector given as annual volume with a seasonal profile."""

    annual_1e8_m3: VolumePath
    # ratio of the mid-January daily demand to the annual mean (1 = flat).
    winter_peak_ratio: float = Field(1.0, ge=1.0, le=4.0)


class Residential(Model):
    """Residential gas (民生): people supplied × use per person."""

    # plan ch4 §3 一: 240 万 people (2025), 260 万 (2030). 2021: assumption, see plan scenario.
    people_1e4: Annotated[
        NonNegPath, _bounded_path("people_1e4"), _schema("people_1e4", path=True)
    ] = Field(default_factory=lambda: {2021: 196.0, 2025: 240.0, 2030: 260.0})
    # plan ch4 §3 一: 2.73 亿m³ / 240 万 = 113.75 m³ (2025); 3.0 / 260 = 115.4 (2030).
    use_m3_per_person_year: Annotated[
        NonNegPath,
        _bounded_path("use_m3_per_person_year"),
        _schema("use_m3_per_person_year", path=True),
    ] = Field(default_factory=lambda: {2021: 113.75, 2025: 113.75, 2030: 115.38})
    # assumption: heating-season peak ~2.2× the mean in northern Chinese cities.
    winter_peak_ratio: float = Field(2.2, ge=1.0, le=4.0)


class ColdSpell(Model):
    """A cold spell: local demand multiplied for some days."""

    start: dt.date
    days: int = Field(gt=0, le=120)
    demand_multiplier: float = Field(gt=0, le=10)


class Demand(Model):
    """Local demand by sector (plan ch1 §2 七 for 2021)."""

    residential: Residential = Field(default_factory=Residential)
    commercial: Sector = Field(
        default_factory=lambda: Sector(annual_1e8_m3={2021: 0.97}, winter_peak_ratio=1.5)
    )
    transport: Sector = Field(default_factory=lambda: Sector(annual_1e8_m3={2021: 0.82}))
    industry: Sector = Field(
        default_factory=lambda: Sector(annual_1e8_m3={2021: 2.46}, winter_peak_ratio=1.1)
    )
    chemicals: Sector = Field(default_factory=lambda: Sector(annual_1e8_m3={2021: 0.0}))
    # assumption: field own use, compression fuel and losses. The plan's 2021 uses (6.48 local
    # + 0.56 CNG + 13.08 LNG + 19.35 exports) leave 3.20 of 42.67 亿m³ unexplained: 7.5 %.
    field_use_share: float = Field(3.20 / 42.67, ge=0, le=0.5)
    # assumption: at most 1,000 cold spells (more than one a fortnight over 30 years).
    cold_spells: list[ColdSpell] = Field(default_factory=list, max_length=1000)


class Commissioning(Model):
    """Slip of the commissioning dates of facilities built during the horizon."""

    # 0 = every plant, station, pipeline and storage project comes on its stated date; an
    # ensemble samples the slip (commissioning delays). Slipped dates stay inside the horizon.
    delay_days: float = Field(
        0.0,
        ge=bounds.BOUNDS["commissioning_delay_days"].lo,
        le=bounds.BOUNDS["commissioning_delay_days"].hi,
        description="days added to every commissioning date after the horizon start",
    )


class Distribution(Model):
    """A scipy.stats distribution for one uncertain input (used by ensembles).

    ``op`` says how a sample acts on its field: ``set`` replaces a number (the default for
    numbers), ``scale`` multiplies it (the default for ``{year: value}`` paths), ``add`` adds
    to it. ``from_year`` (paths only) leaves the years before it as written, so that a known
    2021 baseline is not sampled. ``paths`` makes the entry a shared factor: one sample acts
    on every listed field (the entry's key is then a name, not a path). ``year_sd`` adds a
    year-to-year volatility to a path: an ensemble member also draws one lognormal factor
    (mean 1, sd of its log ``year_sd``) for every year from ``from_year`` to the horizon's end,
    from its own generator (:mod:`cbm_sim.studies.sampling`).
    """

    dist: Literal["uniform", "triangular", "normal", "truncnorm", "lognormal"]
    low: float | None = None
    high: float | None = None
    mode: float | None = None
    mean: float | None = None
    sd: float | None = Field(None, gt=0)
    op: Literal["set", "scale", "add"] | None = Field(
        None, description="how a sample acts: set (numbers), scale (paths) by default"
    )
    from_year: int | None = Field(
        None, ge=1990, le=2100, description="paths: the first year the sample acts on"
    )
    paths: list[str] | None = Field(
        None, min_length=1, description="shared factor: the dotted paths one sample acts on"
    )
    year_sd: float | None = Field(
        None,
        gt=0,
        le=bounds.BOUNDS["year_sd"].hi,
        description="paths: year-to-year volatility, the sd of the log of an independent "
        "factor (mean 1) drawn for every year from from_year to the horizon's end",
    )

    @model_validator(mode="after")
    def _parameters_fit(self) -> Self:
        problem = distribution_problem(
            self.dist, low=self.low, high=self.high, mode=self.mode, mean=self.mean, sd=self.sd
        )
        if problem is not None:
            raise ValueError(problem)
        if self.year_sd is not None and self.from_year is None:
            raise ValueError(
                f"year_sd (year-to-year volatility) needs from_year, the first year it acts "
                f"on; got year_sd={self.year_sd} without it"
            )
        return self


class RankCorrelation(Model):
    """A Spearman rank correlation between two uncertain inputs (Gaussian copula)."""

    inputs: tuple[str, str] = Field(description="two keys of the scenario's uncertainty")
    rank: float = Field(
        ge=bounds.BOUNDS["rank_correlation"].lo,
        le=bounds.BOUNDS["rank_correlation"].hi,
        description="Spearman rank correlation",
    )


class Description(Model):
    """A scenario's description in each report language (either may be left out)."""

    zh: str = Field("", description="中文说明")
    en: str = Field("", description="English description")


class Scenario(Model):
    """Every assumption of one simulation run.

    In a YAML file, ``extends: parent.yaml`` (a path relative to the file) takes every value
    of the parent and overrides it with this file's: mappings are merged key by key,
    recursively (time paths too: a child's ``{2027: 25}`` adds a year to the parent's path);
    lists and scalars are replaced whole. A loaded scenario is resolved: ``extends`` is None.
    """

    name: Annotated[str, AfterValidator(_safe_name)] = Field(
        "baseline-2021", description="short name, used in outputs (runs/<name>)"
    )
    description: str | Description = Field(
        "",
        description="what question the scenario answers: one text, or one per language "
        "({zh: ..., en: ...}; the report shows the one of its language)",
    )
    extends: str | None = Field(
        None, description="parent scenario file, relative to this one, whose values this overrides"
    )
    # numpy's SeedSequence uses 128 bits of entropy (numpy docs): larger seeds add nothing.
    seed: int = Field(
        20220930, ge=0, lt=2**128, description="seed of every random stream of the run"
    )
    horizon: Horizon = Field(default_factory=Horizon)
    drilling: Drilling = Field(default_factory=Drilling)
    resources: Resources = Field(default_factory=Resources)
    type_curves: TypeCurveScaling = Field(default_factory=TypeCurveScaling)
    wells: WellReliability = Field(default_factory=WellReliability)
    mine_gas: MineGas = Field(default_factory=MineGas)
    cng: CNG = Field(default_factory=CNG)
    lng: LNG = Field(default_factory=LNG)
    pipelines: Pipelines = Field(default_factory=Pipelines)
    storage: Storage = Field(default_factory=Storage)
    demand: Demand = Field(default_factory=Demand)
    contracts: Contracts = Field(default_factory=Contracts)
    valuation: ValuationConfig = Field(default_factory=ValuationConfig)
    commissioning: Commissioning = Field(default_factory=Commissioning)
    uncertainty: dict[str, Distribution] = Field(default_factory=dict)
    correlations: list[RankCorrelation] = Field(
        default_factory=list, description="rank correlations between uncertain inputs"
    )

    def describe(self, lang: str) -> str:
        """The description in ``lang`` (``"zh"`` or ``"en"``): the text of that language,
        else the other one's, else a single-text description as written ("" when none)."""
        if isinstance(self.description, Description):
            first, other = (
                (self.description.zh, self.description.en)
                if lang == "zh"
                else (self.description.en, self.description.zh)
            )
            return first or other
        return self.description

    @model_validator(mode="after")
    def _correlated_inputs_known(self) -> Scenario:
        seen: set[frozenset[str]] = set()
        for i, corr in enumerate(self.correlations):
            a, b = corr.inputs
            for k, name in enumerate((a, b)):
                if name not in self.uncertainty:
                    raise FieldError(
                        f"{name!r} is not an uncertain input; expected one of "
                        f"{', '.join(self.uncertainty) or 'none (no uncertainty section)'}",
                        ("correlations", i, "inputs", k),
                    )
            if a == b:
                raise FieldError(
                    f"an input cannot be correlated with itself, got {a!r} twice",
                    ("correlations", i, "inputs"),
                )
            pair = frozenset((a, b))
            if pair in seen:
                raise FieldError(
                    f"the pair {a!r}, {b!r} is correlated twice", ("correlations", i, "inputs")
                )
            seen.add(pair)
        problem = correlation_problem(
            list(self.uncertainty), [(*c.inputs, c.rank) for c in self.correlations]
        )
        if problem is not None:  # found at validate, not when an ensemble first samples
            raise FieldError(problem, ("correlations",))
        return self

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        """Dates within the horizon and uncertainty paths that exist: every problem at once."""
        lo, hi = self.horizon.start, self.horizon.end
        dated: list[tuple[tuple[str | int, ...], dt.date | None]] = []
        for section, field, items, attr in (
            ("lng", "plants", self.lng.plants, "commissioned"),
            ("cng", "stations", self.cng.stations, "commissioned"),
            ("pipelines", "lines", self.pipelines.lines, "commissioned"),
            ("storage", "projects", self.storage.projects, "commissioned"),
            ("demand", "cold_spells", self.demand.cold_spells, "start"),
        ):
            dated += [((section, field, i, attr), getattr(x, attr)) for i, x in enumerate(items)]
        errors = [
            FieldError(f"expected a date within the horizon {lo} .. {hi}, got {day}", where)
            for where, day in dated
            if day is not None and not lo <= day <= hi
        ]
        if self.uncertainty:
            data = self.model_dump(mode="python")
            for name, spec in self.uncertainty.items():
                # a shared factor (``paths``) acts on each of its paths, its key is a name
                for path in spec.paths or [name]:
                    problem = path_problem(data, path)
                    replaces = spec.op in (None, "set")  # a sample replaces the value itself
                    if problem is None and replaces and not is_time_path(parent_value(data, path)):
                        problem = support_problem(type(self), path, spec.low, spec.high)
                    if problem is not None:
                        errors.append(
                            FieldError(f"path {path!r}: {problem}", ("uncertainty", name))
                        )
        _raise_all(errors)
        return self

    def to_yaml(self) -> str:
        """The scenario as YAML text; :meth:`from_yaml` reads it back to an equal scenario."""
        data = self.model_dump(mode="python", exclude={"extends"} if self.extends is None else None)
        return safe_dump(data, sort_keys=False)


__all__ = [
    "CNG",
    "LNG",
    "MAX_RIGS",
    "NAME_MAX_CHARS",
    "BlockProgramme",
    "CNGStation",
    "ColdSpell",
    "Commissioning",
    "Contract",
    "Contracts",
    "Demand",
    "Description",
    "Distribution",
    "Drilling",
    "FieldError",
    "Horizon",
    "LNGPlant",
    "MineGas",
    "Model",
    "MultiFieldError",
    "PipelineLine",
    "Pipelines",
    "RankCorrelation",
    "Reliability",
    "Residential",
    "Resources",
    "Scenario",
    "Sector",
    "Storage",
    "StorageProject",
    "TypeCurveScaling",
    "WellReliability",
]
