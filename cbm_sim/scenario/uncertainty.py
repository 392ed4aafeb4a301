"""Checks of a scenario's ``uncertainty`` entries that need no sampling (no scipy).

An entry maps a dotted path into the dumped scenario (``type_curves.peak_rate_scale``,
``lng.plants.8.capacity_t_per_day``, ``demand.industry.annual_1e8_m3``) to a distribution.
:func:`parent` walks such a path; :func:`distribution_problem` says what is wrong with a
distribution's parameters. Both are used when a scenario is validated (so that ``validate``
refuses what an ensemble would refuse) and by :mod:`cbm_sim.studies.ensemble` when it samples.
"""

from __future__ import annotations

from typing import Any


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
        node = node[key]  # type: ignore[index]
        walked.append(part)
    raise ValueError("empty path")  # pragma: no cover - str.split gives >= 1 part


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
