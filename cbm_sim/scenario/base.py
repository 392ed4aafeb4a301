"""Building blocks of the scenario schema: the base model, field errors and path validators.

Split from :mod:`cbm_sim.scenario.model` (whose names stay importable from there).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from typing import Annotated, Any, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from cbm_sim import bounds
from cbm_sim.plan.blocks import block_ids


class FieldError(ValueError):
    """A validation error that knows where below the validated field it lies.

    ``loc`` is appended to pydantic's location of the field, so that an error in one entry
    of a time path (or in a nested date) points at that entry's line of the YAML file.
    """

    def __init__(self, message: str, loc: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.loc = loc


class MultiFieldError(ValueError):
    """Several :class:`FieldError` found by one validator, reported together (one per line)."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{'.'.join(map(str, e.loc))}: {e}" for e in errors))
        self.errors = errors


def _raise_all(errors: list[FieldError]) -> None:
    """Raise every error of ``errors`` together (their locations in the message), if any."""
    if errors:
        raise MultiFieldError(errors)


def _check_path(path: dict[int, float]) -> dict[int, float]:
    for year, value in path.items():
        if not 1990 <= year <= 2100:
            raise FieldError(f"year {year} is outside 1990..2100", (year,))
        if not math.isfinite(value):
            raise FieldError(f"value for {year} must be finite, got {value}", (year,))
    return dict(sorted(path.items()))


def _nonnegative_path(path: dict[int, float]) -> dict[int, float]:
    for year, value in path.items():
        if value < 0:
            raise FieldError(f"expected a value >= 0, got {value} for {year}", (year,))
    return path


def _share_path(path: dict[int, float]) -> dict[int, float]:
    for year, value in path.items():
        if not 0.0 <= value <= 1.0:
            raise FieldError(f"expected a share in 0..1, got {value} for {year}", (year,))
    return path


def _bounded(name: str) -> AfterValidator:
    """Validator of a scalar field against the bound ``name`` of :mod:`cbm_sim.bounds`."""

    def check(value: float) -> float:
        bounds.check(name, value)
        return value

    return AfterValidator(check)


def _bounded_path(name: str, *, allow_empty: bool = False) -> AfterValidator:
    """Validator of every value of a time path against the bound ``name``; a path is
    interpolated, so it needs a value unless empty has a meaning (``allow_empty``: no wells,
    no cap)."""

    def check(path: dict[int, float]) -> dict[int, float]:
        if not path and not allow_empty:
            raise ValueError("expected at least one {year: value} entry, got {}")
        for year, value in path.items():
            try:
                bounds.check(name, value)
            except ValueError as exc:
                raise FieldError(f"{exc} for {year}", (year,)) from None
        return path

    return AfterValidator(check)


def _schema(name: str, *, path: bool = False) -> Any:
    """JSON-Schema limits of the bound ``name`` (for editors), of a number or of every value
    of a ``{year: value}`` path."""
    b = bounds.BOUNDS[name]
    limits: dict[str, Any] = {
        "exclusiveMinimum" if b.lo_open else "minimum": b.lo,
        "exclusiveMaximum" if b.hi_open else "maximum": b.hi,
    }
    extra: dict[str, Any] = (
        {"additionalProperties": {"type": "number", **limits}} if path else limits
    )
    return Field(json_schema_extra=extra)


def _year_in(name: str, field: str) -> AfterValidator:
    """Validator of a year (an int) against the bound ``name``."""

    def check(year: int | None) -> int | None:
        b = bounds.BOUNDS[name]
        if year is not None and not b.lo <= year <= b.hi:
            raise ValueError(f"{field} must be in {b.lo:.0f}..{b.hi:.0f} ({b.doc}); got {year}")
        return year

    return AfterValidator(check)


NAME_MAX_CHARS = 100
"""Longest scenario name; assumption: a name is a label, and ``runs/<name>`` plus the staging
suffix must stay within the 255-byte file-name limit of common file systems."""


def _safe_name(name: str) -> str:
    """A scenario name is one plain file name: ``run`` writes to ``runs/<name>`` by default,
    so a name must never lead outside ``runs/`` (``../x``, ``/abs``) or hide (``.x``)."""
    bad = [c for c in ("/", "\\") if c in name]
    if not name.strip():
        raise ValueError(f"expected a non-empty name, got {name!r}")
    if bad or any(ord(c) < 32 or ord(c) == 127 for c in name):
        what = f"a path separator {bad[0]!r}" if bad else "a control character"
        raise ValueError(f"expected a plain name (used as a folder name), got {name!r} with {what}")
    if name.startswith("."):
        raise ValueError(f"expected a name not starting with '.', got {name!r}")
    if len(name) > NAME_MAX_CHARS:
        raise ValueError(f"expected at most {NAME_MAX_CHARS} characters, got {len(name)}")
    return name


def _known_block(block_id: str) -> str:
    known = block_ids()
    if block_id not in known:
        close = difflib.get_close_matches(block_id, known, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"expected one of {', '.join(known)}"
        raise ValueError(f"unknown block {block_id!r}; {hint}")
    return block_id


YearPath = Annotated[
    dict[int, float],
    AfterValidator(_check_path),
    Field(json_schema_extra={"propertyNames": {"pattern": "^[0-9]{4}$"}}),
]
"""``{year: value}``; linear between stated years, flat outside."""
NonNegPath = Annotated[YearPath, AfterValidator(_nonnegative_path)]
SharePath = Annotated[
    YearPath, AfterValidator(_share_path), _bounded_path("share"), _schema("share", path=True)
]
WellsPath = Annotated[
    NonNegPath,
    _bounded_path("wells_per_block_year", allow_empty=True),
    _schema("wells_per_block_year", path=True),
]
"""Wells spudded per year in one block."""
VolumePath = Annotated[
    NonNegPath,
    _bounded_path("gas_volume_1e8_m3_per_year"),
    _schema("gas_volume_1e8_m3_per_year", path=True),
]
"""An annual gas volume [亿m³/yr]."""


def _block_names_schema(schema: dict[str, Any]) -> None:
    schema["propertyNames"] = {"enum": list(block_ids())}


BlockId = Annotated[str, AfterValidator(_known_block)]
"""Id of a packaged block (``cbm_sim/data/blocks.yaml``)."""


class Model(BaseModel):
    """Base of every scenario section: immutable, unknown keys rejected.

    :meth:`model_copy` with ``update`` validates the copy (pydantic's does not), so that
    the Python path refuses what a scenario file would.
    """

    model_config = ConfigDict(
        frozen=True, extra="forbid", validate_default=True, allow_inf_nan=False
    )

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy with ``update`` applied, validated again (nested models are kept as given).

        Raises
        ------
        pydantic.ValidationError
            If the updated copy is invalid (an unknown key, a bad value, a date outside the
            horizon, ...).
        """
        copied = super().model_copy(update=update, deep=deep)
        if not update:
            return copied
        return type(self).model_validate(dict(copied))
