"""Checks of a scenario's ``uncertainty`` entries that need no sampling (no scipy).

An entry maps a dotted path into the dumped scenario (``type_curves.peak_rate_scale``,
``lng.plants.8.capacity_t_per_day``, ``demand.industry.annual_1e8_m3``) to a distribution.
:func:`parent` walks such a path; :func:`distribution_problem` says what is wrong with a
distribution's parameters. Both are used when a scenario is validated (so that ``validate``
refuses what an ensemble would refuse) and by :mod:`cbm_sim.studies.ensemble` when it samples.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np


def is_time_path(value: Any) -> bool:
    """Whether ``value`` is a ``{year: value}`` time path (int keys, numeric values)."""
    return isinstance(value, dict) and all(
        isinstance(k, int) and isinstance(v, int | float) for k, v in value.items()
    )


def parent(data: dict[str, Any], path: str) -> tuple[Any, str | int]:
    """The container holding the leaf of ``path`` in the dumped scenario, and the leaf key.

    Raises
    ------
    ValueError
        Naming ``path``, the segment that does not exist and what was expected there.
    """
    try:
        return _walk(data, path)
    except ValueError as exc:
        raise ValueError(f"uncertainty path {path!r}: {exc}") from None


def _walk(data: dict[str, Any], path: str) -> tuple[Any, str | int]:
    parts = path.split(".")
    node: Any = data
    walked: list[str] = []
    for i, part in enumerate(parts):
        key: str | int = part
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ValueError(
                    f"{part!r} is not an index of {'.'.join(walked)} (a list of {len(node)})"
                )
            key = int(part)
        elif isinstance(node, dict) and not is_time_path(node):
            if part not in node:
                import difflib

                where = ".".join(walked) or "the scenario"
                names = [str(k) for k in node]
                close = difflib.get_close_matches(part, names, n=1)
                hint = (
                    f"did you mean {close[0]!r}?"
                    if close
                    else f"expected one of {', '.join(names)}"
                )
                raise ValueError(f"no {part!r} in {where}; {hint}")
        else:
            raise ValueError(f"{'.'.join(walked)} is a value, not a section")
        if i == len(parts) - 1:
            return node, key
        node = node[key]
        walked.append(part)
    raise ValueError("empty path")  # pragma: no cover - str.split gives >= 1 part


def parent_value(data: dict[str, Any], path: str) -> Any:
    """The value at ``path`` in the dumped scenario (which must exist)."""
    node, key = parent(data, path)
    return node[key]


def path_problem(data: dict[str, Any], path: str) -> str | None:
    """What is wrong with the uncertainty ``path`` in the dumped scenario ``data``, or None.

    A path must exist and lead to a number (the sample replaces it) or to a time path (the
    sample multiplies it).
    """
    try:
        node, key = _walk(data, path)
    except ValueError as exc:
        return str(exc)
    leaf = node[key]
    if is_time_path(leaf) or (isinstance(leaf, int | float) and not isinstance(leaf, bool)):
        return None
    return f"leads to {type(leaf).__name__} {leaf!r}, not a number or a {{year: value}} path"


_NEEDS: dict[str, tuple[str, ...]] = {
    "uniform": ("low", "high"),
    "triangular": ("low", "mode", "high"),
    "normal": ("mean", "sd"),
    "truncnorm": ("mean", "sd", "low", "high"),
    "lognormal": ("mean", "sd"),
}
"""Parameters each distribution needs (scipy.stats conventions, see studies.ensemble)."""


def distribution_problem(
    dist: str,
    *,
    low: float | None = None,
    high: float | None = None,
    mode: float | None = None,
    mean: float | None = None,
    sd: float | None = None,
) -> str | None:
    """What is wrong with the parameters of a ``dist`` distribution, or None if they work."""
    given = {"low": low, "high": high, "mode": mode, "mean": mean, "sd": sd}
    needs = _NEEDS.get(dist)
    if needs is None:
        return f"unknown distribution {dist!r}; expected one of {', '.join(_NEEDS)}"
    missing = [n for n in needs if given[n] is None]
    if missing:
        return f"{dist} needs {', '.join(needs)}; missing {', '.join(missing)}"
    unused = [n for n, v in given.items() if v is not None and n not in needs]
    if unused:
        return f"{dist} takes {', '.join(needs)}; {', '.join(unused)} would be ignored"
    if "low" in needs and not low < high:  # type: ignore[operator]
        return f"{dist} needs low < high, got low={low} high={high}"
    if dist == "triangular" and not low <= mode <= high:  # type: ignore[operator]
        return f"triangular needs low <= mode <= high, got low={low} mode={mode} high={high}"
    if dist == "lognormal" and not mean > 0:  # type: ignore[operator]
        return f"lognormal needs mean > 0, got mean={mean}"
    return None


def _bounds_of(metadata: list[Any]) -> tuple[float | None, bool, float | None, bool]:
    """(low, low is open, high, high is open) from a pydantic field's annotated_types."""
    low = high = None
    low_open = high_open = False
    for m in metadata:
        for attr, is_low, is_open in (("ge", True, False), ("gt", True, True),
                                      ("le", False, False), ("lt", False, True)):  # fmt: skip
            value = getattr(m, attr, None)
            if value is None:
                continue
            if is_low:
                low, low_open = float(value), is_open
            else:
                high, high_open = float(value), is_open
    return low, low_open, high, high_open


def unwrap_type(tp: Any) -> Any:
    """The type inside ``Annotated`` and ``Optional`` wrappers (a union of several types is
    returned as it is)."""
    import types
    import typing

    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _leaf_field(root: type, path: str) -> Any:
    """The pydantic FieldInfo of the scalar leaf of ``path`` below the model ``root``, or
    None when the path leads through something that is not a model field (a time path)."""
    import typing

    from pydantic import BaseModel

    strip = unwrap_type
    tp: Any = root
    info = None
    for part in path.split("."):
        tp = strip(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            info = tp.model_fields.get(part)
            if info is None:
                return None
            tp = info.annotation
        elif typing.get_origin(tp) in (list, dict):
            info, tp = None, typing.get_args(tp)[-1]
        else:
            return None
    return info if typing.get_origin(strip(tp)) is None else None


def support_problem(root: type, path: str, low: float | None, high: float | None) -> str | None:
    """Whether a distribution bounded to ``[low, high]`` can put the scalar field at ``path``
    (of the model ``root``) outside the field's own bounds; None if not, or if unbounded."""
    if low is None or high is None:
        return None
    info = _leaf_field(root, path)
    if info is None:
        return None
    lo, lo_open, hi, hi_open = _bounds_of(list(info.metadata))
    if lo is not None and (low < lo or (lo_open and low == lo)):
        return f"low {low:g} is outside the field's bounds ({'>' if lo_open else '>='} {lo:g})"
    if hi is not None and (high > hi or (hi_open and high == hi)):
        return f"high {high:g} is outside the field's bounds ({'<' if hi_open else '<='} {hi:g})"
    return None


def normal_correlation(rank: float) -> float:
    """Pearson correlation of the normal scores that gives Spearman ``rank`` (Kruskal 1958;
    the Gaussian copula of :mod:`cbm_sim.studies.correlation`)."""
    return 2.0 * math.sin(math.pi * rank / 6.0)


_PD_TOLERANCE = 1e-10
"""Smallest eigenvalue of a normal-score correlation matrix taken as positive: its Cholesky
factor must exist to sample."""


def correlation_problem(
    names: Sequence[str], pairs: Sequence[tuple[str, str, float]]
) -> str | None:
    """Why the stated rank correlations ``(a, b, rank)`` of the inputs ``names`` cannot hold
    together (their normal-score matrix is not positive definite), or None.

    Each pair may be possible alone while three together are not (``a ~ b`` and ``b ~ c``
    strongly positive, ``a ~ c`` strongly negative); the message lists them all.
    """
    index = {n: i for i, n in enumerate(names)}
    if not pairs or any(a not in index or b not in index for a, b, _ in pairs):
        return None  # unknown names are reported by whoever knows the inputs
    r = np.eye(len(names))
    for a, b, rank in pairs:
        r[index[a], index[b]] = r[index[b], index[a]] = normal_correlation(rank)
    if np.linalg.eigvalsh(r).min() > _PD_TOLERANCE:
        return None
    stated = "; ".join(f"{a} ~ {b}: {rank:g}" for a, b, rank in pairs)
    return (
        "the rank correlations are not jointly possible (their matrix is not positive "
        f"definite): {stated}"
    )
