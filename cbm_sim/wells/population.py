r"""The CBM well population as a struct of arrays, with vectorised production.

Every well is an agent with its own block, type, online day, decline parameters and state,
but all wells are stored column-wise in float64/int arrays and computed in one numpy call
(:mod:`cbm_sim.wells.decline`), never one Python object or loop per well.

Time is in days since the epoch 2021-01-01 (day 0); wells drilled earlier have negative
online days. A well's decline clock starts at its online day.

States and what they do to production:

* ``PRODUCING`` (0): dewatering or producing, as its decline curve says.
* ``DOWN`` (1): down for workover over ``[down_from_day, down_until_day)``; it produces
  nothing then. **Assumption:** the decline clock keeps running while a well is down (the
  reservoir keeps depleting by desorption towards offset wells and the rate after the
  workover is read off the same curve); the gas not produced is lost, not deferred.
* ``ABANDONED`` (2): produces nothing from ``abandon_day`` on.

Daily volumes are exact integrals of the rate (differences of the closed-form cumulative),
not rate samples.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields, replace
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from cbm_sim import bounds
from cbm_sim.units import DAYS_PER_YEAR
from cbm_sim.wells import decline

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

VERTICAL = 0
HORIZONTAL = 1
WELL_TYPES: tuple[str, ...] = ("vertical", "horizontal")

PRODUCING = 0
DOWN = 1
ABANDONED = 2

MEMORY_BUDGET_BYTES = 100 * 2**20
"""Peak memory for grid evaluations (the issue's ~100 MB), shared by the worker threads."""
_TEMPORARIES = 12
"""Full-size float64 temporaries alive at once in the cumulative kernel (measured bound)."""
_WORKERS = 2
"""Threads for chunked grid evaluation: numpy ufuncs release the GIL (2-core machine)."""

_PARAM_FIELDS = decline.PARAMS


def _check_grid(days: npt.ArrayLike, step_days: float) -> tuple[FloatArray, float]:
    d = bounds.check("day", np.atleast_1d(days))
    if d.ndim != 1 or d.size == 0:
        raise ValueError(f"days must be a non-empty 1-d array; got shape {d.shape}")
    step = float(step_days)
    if not step > 0:
        raise ValueError(f"step_days must be > 0; got {step_days!r}")
    return d, step


def _aligned(block: object, well_type: object, *columns: object) -> bool:
    """Whether a cohort is already int64 blocks, int8 well types and float64 columns, all
    1-d of one length (the fast path of :meth:`WellPopulation.add_cohort`)."""
    if not (isinstance(block, np.ndarray) and block.dtype == np.int64 and block.ndim == 1):
        return False
    if not (isinstance(well_type, np.ndarray) and well_type.dtype == np.int8):
        return False
    n = block.size
    return well_type.shape == (n,) and all(
        isinstance(c, np.ndarray) and c.dtype == np.float64 and c.shape == (n,) for c in columns
    )


def _as_float(_name: str, values: npt.ArrayLike) -> FloatArray:
    return np.asarray(values, dtype=np.float64)


def _empty_f() -> FloatArray:
    return np.empty(0, dtype=np.float64)


@dataclass
class WellPopulation:
    """All wells, column-wise. Create empty with ``n_blocks`` and fill with :meth:`add_cohort`.

    Attributes
    ----------
    n_blocks
        Number of blocks; ``block`` indexes ``0 … n_blocks-1``.
    block, well_type, state
        Block index, ``VERTICAL``/``HORIZONTAL``, ``PRODUCING``/``DOWN``/``ABANDONED``.
    online_day
        Day the well came online [day since 2021-01-01].
    qi, di, b, d_term, t_incline, q_start, t_plateau
        Decline parameters (see :func:`cbm_sim.wells.decline.rate`; m³/d, 1/yr, -, 1/yr, day,
        m³/d, day).
    block_ids
        Optional block names, ``block_ids[k]`` for block index ``k``.
    down_from_day, down_until_day
        Workover interval ``[from, until)`` [day]; ``inf`` when never down.
    abandon_day
        Day of abandonment [day]; ``inf`` when not abandoned.
    """

    n_blocks: int
    block: IntArray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    well_type: npt.NDArray[np.int8] = field(default_factory=lambda: np.empty(0, dtype=np.int8))
    online_day: FloatArray = field(default_factory=_empty_f)
    qi: FloatArray = field(default_factory=_empty_f)
    di: FloatArray = field(default_factory=_empty_f)
    b: FloatArray = field(default_factory=_empty_f)
    d_term: FloatArray = field(default_factory=_empty_f)
    t_incline: FloatArray = field(default_factory=_empty_f)
    q_start: FloatArray = field(default_factory=_empty_f)
    t_plateau: FloatArray = field(default_factory=_empty_f)
    state: npt.NDArray[np.int8] = field(default_factory=lambda: np.empty(0, dtype=np.int8))
    down_from_day: FloatArray = field(default_factory=_empty_f)
    down_until_day: FloatArray = field(default_factory=_empty_f)
    abandon_day: FloatArray = field(default_factory=_empty_f)
    block_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if int(self.n_blocks) < 1:
            raise ValueError(f"n_blocks must be >= 1; got {self.n_blocks!r}")
        if self.block_ids and len(self.block_ids) != self.n_blocks:
            raise ValueError(
                f"block_ids must name all {self.n_blocks} blocks; got {len(self.block_ids)}"
            )

    # --- construction ------------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.online_day.size)

    @property
    def n_wells(self) -> int:
        """Number of wells ever added (including abandoned ones)."""
        return len(self)

    def add_cohort(
        self,
        block: npt.ArrayLike,
        well_type: npt.ArrayLike,
        online_day: npt.ArrayLike,
        qi: npt.ArrayLike,
        di: npt.ArrayLike,
        b: npt.ArrayLike,
        d_term: npt.ArrayLike = 0.0,
        t_incline: npt.ArrayLike = 0.0,
        q_start: npt.ArrayLike = 0.0,
        t_plateau: npt.ArrayLike = 0.0,
        *,
        validate: bool = True,
    ) -> IntArray:
        """Append wells; scalars broadcast to the cohort size. Returns the new wells' indices.

        ``validate=False`` skips the parameter-bound checks, for callers whose parameters were
        drawn from validated type curves (the simulation hooks wells up on most days).

        Raises
        ------
        ValueError
            If a parameter is outside its bound, a block index is outside
            ``0 … n_blocks-1``, a well type is not 0/1, or the arrays do not broadcast.
        """
        values = (qi, di, b, d_term, t_incline, q_start, t_plateau)
        columns = (online_day, *values)
        if not validate and _aligned(block, well_type, *columns):
            # the engine's hook-ups: equal-length typed arrays, parameters from validated
            # type curves; the block and type checks stay (_aligned checked the types)
            blk = cast("npt.NDArray[np.int64]", block)
            typ = cast("npt.NDArray[np.int8]", well_type)
            if blk.size:
                self._check_block_and_type(blk, typ)
                floats = cast("tuple[FloatArray, ...]", columns)
                return self._append_cohort(blk, typ, floats[0], floats[1:])
        check = bounds.check if validate else _as_float
        days = check("day", online_day)
        params = {name: check(name, v) for name, v in zip(_PARAM_FIELDS, values, strict=True)}
        blk = np.asarray(block)
        typ = np.asarray(well_type)
        try:
            arrays = np.broadcast_arrays(days, blk, typ, *params.values())
        except ValueError as exc:
            raise ValueError(f"cohort arrays do not broadcast: {exc}") from exc
        cols = [np.atleast_1d(a).ravel() for a in arrays]
        blk_c, typ_c = cols[1], cols[2]
        self._check_block_and_type(blk_c, typ_c)
        return self._append_cohort(blk_c.astype(np.int64), typ_c.astype(np.int8), cols[0], cols[3:])

    def _check_block_and_type(
        self, blk: npt.NDArray[np.integer[Any]], typ: npt.NDArray[np.integer[Any]]
    ) -> None:
        if not np.issubdtype(blk.dtype, np.integer) or np.any((blk < 0) | (blk >= self.n_blocks)):
            bad = blk[~((blk >= 0) & (blk < self.n_blocks))] if blk.size else blk
            first = bad[0].item() if bad.size else blk.dtype
            raise ValueError(f"block must be an integer in [0, {self.n_blocks - 1}]; got {first!r}")
        if np.any((typ != VERTICAL) & (typ != HORIZONTAL)):
            bad = typ[(typ != VERTICAL) & (typ != HORIZONTAL)][0].item()
            raise ValueError(f"well_type must be 0 (vertical) or 1 (horizontal); got {bad!r}")

    def _append_cohort(
        self,
        block: IntArray,
        well_type: npt.NDArray[np.int8],
        online_day: FloatArray,
        params: Sequence[FloatArray],
    ) -> IntArray:
        start = len(self)
        n = len(online_day)
        inf = np.full(n, np.inf)
        self._append(
            {
                "online_day": online_day,
                "block": block,
                "well_type": well_type,
                **dict(zip(_PARAM_FIELDS, params, strict=True)),
                "state": np.zeros(n, dtype=np.int8),
                "down_from_day": inf,
                "down_until_day": inf,
                "abandon_day": inf,
            }
        )
        return np.arange(start, start + n, dtype=np.int64)

    def _append(self, new: dict[str, npt.NDArray[Any]]) -> None:
        """Append rows to every column.

        The columns are views of buffers that grow by doubling, so that the simulation,
        which adds a few wells on most days, copies each column O(log n) times, not once per
        cohort. Writes through the views (state changes) land in the buffers.
        """
        n0 = len(self)
        n = n0 + len(new["online_day"])
        buffers: dict[str, npt.NDArray[Any]] | None = self.__dict__.get("_buffers")
        if buffers is None or n > len(buffers["online_day"]):
            cap = max(n, 2 * n0, 1024, self.__dict__.get("_reserved", 0))
            grown = {}
            for name in new:
                old = getattr(self, name)
                arr = np.empty(cap, dtype=old.dtype if old.size else new[name].dtype)
                arr[:n0] = old
                grown[name] = arr
            buffers = self.__dict__["_buffers"] = grown
        for name, values in new.items():
            buffers[name][n0:n] = values
            setattr(self, name, buffers[name][:n])

    def reserve(self, wells: int) -> None:
        """Make room for ``wells`` wells in all: the buffers behind the columns are made that
        large when they next grow, so that cohorts added up to that many copy no column
        again (the same columns: :meth:`_append`)."""
        self.__dict__["_reserved"] = int(wells)

    def copy(self) -> WellPopulation:
        """An independent copy with its own arrays (a run appends wells and writes states)."""
        columns = {
            f.name: getattr(self, f.name).copy()
            for f in fields(self)
            if isinstance(getattr(self, f.name), np.ndarray)
        }
        return replace(self, **columns)

    # --- state changes -------------------------------------------------------------------------
    def _index(self, where: npt.ArrayLike) -> IntArray:
        w = np.asarray(where)
        if w.dtype == np.bool_:
            if w.shape != (len(self),):
                raise ValueError(f"boolean mask must have shape ({len(self)},); got {w.shape}")
            return np.flatnonzero(w)
        idx = np.atleast_1d(w).astype(np.int64, casting="same_kind")
        bad = (idx < 0) | (idx >= len(self))
        if bad.any():
            raise ValueError(f"well index out of range [0, {len(self) - 1}]; got {idx[bad][0]}")
        return idx

    def set_down(
        self, where: npt.ArrayLike, until_day: npt.ArrayLike, from_day: npt.ArrayLike = -np.inf
    ) -> None:
        """Put wells down for workover over ``[from_day, until_day)`` (state ``DOWN``).

        ``from_day`` defaults to ``-inf``: the simulation engine puts a well down at the current
        day and only asks for production from then on. The decline clock keeps running.
        Abandoned wells stay abandoned.
        """
        idx = self._index(where)
        until = np.broadcast_to(bounds.check("day", until_day), idx.shape)
        frm = np.broadcast_to(np.asarray(from_day, dtype=np.float64), idx.shape)
        if np.any(np.isnan(frm)) or np.any(frm > until):
            bad = frm[np.isnan(frm) | (frm > until)][0].item()
            raise ValueError(f"from_day must be a number <= until_day; got {bad!r}")
        live = self.state[idx] != ABANDONED
        idx, until, frm = idx[live], until[live], frm[live]
        self.state[idx] = DOWN
        self.down_from_day[idx] = frm
        self.down_until_day[idx] = until

    def abandon(self, where: npt.ArrayLike, day: npt.ArrayLike) -> None:
        """Abandon wells from ``day`` on (state ``ABANDONED``; no production after)."""
        idx = self._index(where)
        d = np.broadcast_to(bounds.check("day", day), idx.shape)
        self.state[idx] = ABANDONED
        self.abandon_day[idx] = np.minimum(self.abandon_day[idx], d)

    def state_at(self, day: float) -> npt.NDArray[np.int8]:
        """Each well's state on ``day`` (``DOWN`` only inside its workover interval)."""
        d = float(bounds.check("day", day))
        out = np.full(len(self), PRODUCING, dtype=np.int8)
        out[(self.down_from_day <= d) & (d < self.down_until_day)] = DOWN
        out[self.abandon_day <= d] = ABANDONED
        return out

    def active_mask(self, day: float) -> npt.NDArray[np.bool_]:
        """Wells online on ``day``, neither down nor abandoned."""
        d = float(bounds.check("day", day))
        mask: npt.NDArray[np.bool_] = (self.online_day <= d) & (self.state_at(d) == PRODUCING)
        return mask

    # --- production ----------------------------------------------------------------------------
    def _params(self, sl: slice | IntArray = slice(None)) -> dict[str, FloatArray]:
        return {name: getattr(self, name)[sl][:, None] for name in _PARAM_FIELDS}

    def daily_volume(self, day_start: float, day_end: float) -> FloatArray:
        r"""Gas produced by each well over ``[day_start, day_end)`` [m³], exactly.

        The producing part of the interval is ``[s, e')`` minus the workover interval, with
        :math:`e' = \min(e, \text{abandon day})`, so the volume is
        :math:`C(x_2) - C(x_1) + C(x_4) - C(x_3)` with the breakpoints clipped into
        ``[s, e']`` and :math:`C` the closed-form cumulative. One vectorised call per step.
        """
        s = float(bounds.check("day", day_start))
        e = float(bounds.check("day", day_end))
        if e < s:
            raise ValueError(f"day_end must be >= day_start={s}; got {e}")
        e_eff = np.maximum(np.minimum(e, self.abandon_day), s)
        x = np.stack(
            [
                np.full(len(self), s),
                np.clip(self.down_from_day, s, e_eff),
                np.clip(self.down_until_day, s, e_eff),
                e_eff,
            ],
            axis=1,
        )
        p = self._params()
        k = decline.prepare_unchecked(*(p[name] for name in _PARAM_FIELDS))
        c = decline.cumulative_prepared(x - self.online_day[:, None], k)
        return (c[:, 1] - c[:, 0]) + (c[:, 3] - c[:, 2])

    def daily_volume_by_block(self, day_start: float, day_end: float) -> FloatArray:
        """:meth:`daily_volume` summed per block (``bincount``) → shape ``(n_blocks,)`` [m³]."""
        by_block: FloatArray = np.bincount(
            self.block, weights=self.daily_volume(day_start, day_end), minlength=self.n_blocks
        ).astype(np.float64, copy=False)  # weighted counts are float64 already: no copy
        return by_block

    def _grid(self, sl: slice, days: FloatArray, step: float) -> FloatArray:
        """Volumes over ``[d, d + step)`` for wells ``sl``, days ``days`` (uniform grid)."""
        p = self._params(sl)
        edges = np.append(days, days[-1] + step)
        k = decline.prepare_unchecked(*(p[name] for name in _PARAM_FIELDS))
        c = decline.cumulative_prepared(edges[None, :] - self.online_day[sl][:, None], k)
        vol = np.diff(c, axis=1)
        ev, rows = self._event_volumes(sl, days, step)
        if ev.size:
            vol[ev] = rows
        return vol

    def _event_volumes(
        self, sl: slice, days: FloatArray, step: float
    ) -> tuple[IntArray, FloatArray]:
        """The wells of ``sl`` with a workover or an abandonment (indices into ``sl``) and
        their exact 4-point volumes over ``[d, d + step)`` for ``d`` in ``days`` [m³]."""
        ev = np.flatnonzero(
            np.isfinite(self.down_until_day[sl]) | np.isfinite(self.abandon_day[sl])
        )
        if not ev.size:
            return ev, np.empty((0, days.size))
        g = np.arange(sl.start or 0, sl.stop if sl.stop is not None else len(self))[ev]
        s = days[None, :]
        e = s + step
        e_eff = np.maximum(np.minimum(e, self.abandon_day[g][:, None]), s)
        x1 = np.clip(self.down_from_day[g][:, None], s, e_eff)
        x2 = np.clip(self.down_until_day[g][:, None], s, e_eff)
        pe = self._params(g)
        t0 = self.online_day[g][:, None]
        rows = (
            decline._cum_kernel(x1 - t0, **pe)
            - decline._cum_kernel(s - t0, **pe)
            + decline._cum_kernel(e_eff - t0, **pe)
            - decline._cum_kernel(x2 - t0, **pe)
        )
        return ev, rows

    def production(self, days: npt.ArrayLike, step_days: float = 1.0) -> FloatArray:
        """Volume of each well over ``[d, d + step_days)`` for each ``d`` in ``days`` [m³].

        Returns shape ``(n_wells, n_days)``. This materialises the whole matrix; for long
        grids use :meth:`production_by_block` or :meth:`total`, which are chunked.
        """
        d, step = _check_grid(days, step_days)
        return self._grid(slice(0, len(self)), d, step)

    def production_by_block(
        self,
        days: npt.ArrayLike,
        step_days: float = 1.0,
        memory_bytes: int = MEMORY_BUDGET_BYTES,
    ) -> FloatArray:
        """Volumes per block over ``[d, d + step_days)`` → shape ``(n_blocks, n_days)`` [m³].

        Wells are processed in chunks (sized, as when the numpy grid's temporaries bounded
        them, so that the worker threads together keep at most about ``memory_bytes``), each
        chunk summed per block, so 20,000 wells × 3,653 days never materialise at once. A
        chunk's volumes come from compiled code (:func:`cbm_sim.wells.gridsums.chunk_volumes`:
        dry wells and the days before a well's decline cost no ``exp``/``log``), the same
        numbers as :meth:`production`'s numpy grid, bit for bit (tests).
        """
        from cbm_sim.wells import gridsums

        d, step = _check_grid(days, step_days)
        # chunks as the numpy grid's were (its ~12 temporaries per point): each chunk's sums
        # are added to the total in turn, so the chunking fixes the order of the additions
        per_well = (d.size + 1) * 8 * _TEMPORARIES
        chunk = max(1, int(memory_bytes // (_WORKERS * per_well)))
        starts = range(0, len(self), chunk)
        edges = np.append(d, d[-1] + step)
        k = decline.prepare_unchecked(*(getattr(self, name) for name in _PARAM_FIELDS))
        cols = np.stack([k[key] for key in decline.PREPARED_KEYS])
        online = np.ascontiguousarray(self.online_day, dtype=np.float64)

        def work(start: int) -> FloatArray:
            sl = slice(start, min(start + chunk, len(self)))
            blk = self.block[sl]
            order = np.argsort(blk, kind="stable")
            vol = np.empty((order.size, d.size))
            wells = (start + order).astype(np.int64)
            gridsums.chunk_volumes(cols, online, wells, edges, bool(self.t_plateau[sl].any()), vol)
            ev, rows = self._event_volumes(sl, d, step)
            if ev.size:
                vol[np.argsort(order)[ev]] = rows
            # Sum rows by block: contiguous runs of the sorted rows (O(rows × days) additions;
            # a one-hot matrix product would cost n_blocks times more).
            runs = np.flatnonzero(np.r_[True, blk[order][1:] != blk[order][:-1]])
            part = np.zeros((self.n_blocks, d.size))
            part[blk[order][runs]] = np.add.reduceat(vol, runs, axis=0)
            return part

        out = np.zeros((self.n_blocks, d.size))
        with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
            for part in pool.map(work, starts):
                out += part
        return out

    def total(self, days: npt.ArrayLike, step_days: float = 1.0) -> FloatArray:
        """Volumes of all wells over ``[d, d + step_days)`` → shape ``(n_days,)`` [m³]."""
        total: FloatArray = self.production_by_block(days, step_days).sum(axis=0)
        return total

    def peak_capacity_m3_per_year(self) -> float:
        """Sum of peak rates × 365.25 over all wells ever drilled [m³/yr] (nameplate)."""
        return float(self.qi.sum() * DAYS_PER_YEAR)
