"""Time paths: values given for some years, interpolated for the rest.

Planners write a path as ``{year: value}`` (e.g. ``{2021: 19.35, 2025: 30, 2030: 20}``).
Between stated years the value is interpolated linearly; before the first and after the last
stated year it is held flat (no extrapolation of trends a planner did not write).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt


def interpolate(path: Mapping[int, float], years: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Value of a ``{year: value}`` path at (possibly fractional) ``years``.

    Parameters
    ----------
    path
        At least one ``year: value`` pair. Years need not be sorted.
    years
        Years to evaluate at; fractional years (e.g. 2025.5) interpolate within a year.

    Returns
    -------
    numpy.ndarray
        float64 array shaped like ``years``.

    Raises
    ------
    ValueError
        If the path is empty or holds a non-finite value.
    """
    if not path:
        raise ValueError("a time path needs at least one {year: value} entry, got {}")
    xs = np.array(sorted(path), dtype=np.float64)
    ys = np.array([float(path[int(x)]) for x in xs], dtype=np.float64)
    if not np.all(np.isfinite(ys)):
        bad = {int(x): y for x, y in zip(xs, ys, strict=True) if not np.isfinite(y)}
        raise ValueError(f"time path values must be finite, got {bad}")
    return np.interp(np.asarray(years, dtype=np.float64), xs, ys)


def value_at(path: Mapping[int, float], year: float) -> float:
    """Scalar convenience form of :func:`interpolate`."""
    return float(interpolate(path, [year])[0])
