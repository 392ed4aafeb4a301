"""Type curves per well type and block class, and per-well scatter around them.

The parameters live in ``cbm_sim/data/typecurves.yaml`` with a ``source`` for each; this module
loads and validates them (against :mod:`cbm_sim.bounds`) and samples per-well parameters.

Scatter (assumption, stated in the data): the peak rate and the incline period of each well are
lognormal around the curve, :math:`q_i = \\bar q_i\\,e^{\\sigma Z - \\sigma^2/2}` (mean-preserving,
so the population's mean peak equals the curve's), :math:`t_p = \\bar t_p\\,e^{\\sigma_t Z'}`
(median-preserving, clipped to the bound of ``t_incline``); the decline parameters are shared.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

from cbm_sim import bounds
from cbm_sim.plan.packaged import read_packaged

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

    def sample(
        self, n: int, rng: np.random.Generator, qi_scale: float = 1.0
    ) -> dict[str, npt.NDArray[np.float64]]:
        """Per-well parameters for ``n`` wells, keyed as :meth:`WellPopulation.add_cohort`.

        ``qi_scale`` multiplies the peak and start rates (used by the calibration).
        """
        z = rng.standard_normal((2, n))
        s_q = self.sigma_ln_qi
        qi = self.qi_m3_per_day * qi_scale * np.exp(s_q * z[0] - 0.5 * s_q * s_q)
        lim = bounds.BOUNDS["t_incline"]
        t_inc = np.minimum(self.t_incline_days * np.exp(self.sigma_ln_t_incline * z[1]), lim.hi)
        return {
            "qi": qi,
            "q_start": qi * self.q_start_fraction,
            "t_incline": t_inc,
            "di": np.full(n, self.di_per_year),
            "b": np.full(n, self.b),
            "d_term": np.full(n, self.d_term_per_year),
        }


def _parse(doc: dict[str, Any]) -> dict[tuple[str, str], TypeCurve]:
    curves: dict[tuple[str, str], TypeCurve] = {}
    for well_type, by_class in doc["curves"].items():
        for block_class, params in by_class.items():
            if block_class not in BLOCK_CLASSES:
                raise ValueError(f"unknown block class {block_class!r} in typecurves.yaml")
            values: dict[str, float] = {}
            sources: dict[str, str] = {}
            for key, bound_name in _FIELDS.items():
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
