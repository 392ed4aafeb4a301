r"""Surface gas per block and dispatch step, from a growing well population, by time windows.

The engine needs, every dispatch step, each block's gas summed over its wells. Evaluating
every well's closed-form cumulative at every step boundary (:class:`stepping.StepVolumes`)
costs one ``log1p`` and one ``exp`` per well and day. This module gets the same sums from
far fewer evaluations, using the fact that a well's cumulative is smooth between its kinks:

* Time is cut into windows of ``W`` days (256 for daily steps). At the start of a window,
  every well whose cumulative is analytic over the window (no kink inside: coming online,
  end of the incline, end of the plateau, switch to the terminal exponential) is evaluated
  at ``K`` Chebyshev points of the window (first kind) only. Interpolation is linear in the
  node values, so the per-block sums of the node values interpolate the per-block sum of
  the cumulatives:

  .. math::

      \sum_{i \in b} C_i(t) \approx \sum_j L_j(t) \sum_{i \in b} C_i(t_j),

  exact up to the interpolation error of each well, which falls like :math:`\rho^{-K}`
  with :math:`\rho = r + \sqrt{r^2 - 1}` and :math:`r` the distance from the window's
  centre to the nearest singularity of the well's curve in units of the half-window
  (Trefethen 2013, *Approximation Theory and Approximation Practice*, Thm 8.2). The
  hyperbola :math:`(1 + bD\tau)^{-(1-b)/b}` is singular at :math:`\tau = -1/(bD)`; a well
  is interpolated only if :math:`r \ge 8` (:math:`\rho^{-12} < 10^{-14}`) and its
  exponential declines move by at most a factor :math:`e^{0.5}` over a half-window.
  Every other well of the window is evaluated exactly at each day boundary from the day
  it comes online (compiled, :func:`cbm_sim.wells.bookings.book_days`).
* What the window could not know is booked per block and day as it happens, exactly and
  once (compiled loops, :mod:`cbm_sim.wells.bookings`): a well hooked up during the window adds its
  gas on each day to the window's end, and a workover (:meth:`BlockSupply.set_down`)
  removes the well's gas on each day of the workover (breakpoints clipped into the day, as
  in :meth:`cbm_sim.wells.population.WellPopulation.daily_volume`). A step then sums a few columns;
  :meth:`BlockSupply.steps` takes every step of a window at once.
* Pump failures (:meth:`BlockSupply.fail`, :mod:`cbm_sim.wells.failures`) are drawn for a run of
  steps in one compiled loop, from per-day changes of the wells online and down per block,
  which also give each step's well counts.
  Abandonment is not modelled within the horizon (``stepping.py``) and is refused.

Tests check the block sums against the per-well exact volumes to 1e-9 relative, over
random populations, hook-ups, workovers and step lengths; ``benchmarks/bench_run.py``
against a per-well SimPy reference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from numpy.polynomial import chebyshev

from cbm_sim.wells import bookings, decline, failures, nodesums, stepping
from cbm_sim.wells.population import WellPopulation
from cbm_sim.wells.stepping import PARAMS, Counts

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

WINDOW_DAYS = 256
"""Window length for daily steps [day]; longer steps use the nearest multiple of the step.
assumption: longer windows need fewer evaluations per well but see more wells with a kink
inside (evaluated daily, from their online day); 128, 256 and 512 days timed alike per
ensemble member on the plan scenario (0.66-0.76 s, within the host's noise;
benchmarks/README.md). The window is also the engine's run of dispatch steps."""
NODES = 12
"""Chebyshev points per window (see the module docstring for the error bound)."""
MIN_SINGULARITY_RATIO = 8.0
"""Least distance from the window centre to the hyperbola's singularity, in half-windows."""
MAX_EXPONENT_PER_HALF_WINDOW = 0.5
"""Largest ``D·W/2`` (and ``Dt·W/2``) of an interpolated well."""

_KEYS = decline.PREPARED_KEYS
_COL = {k: j for j, k in enumerate(_KEYS)}
_WINDOW_KEYS = ("t_incline", "t_plateau", "tau_star", "D", "Dt", "b_safe")
"""The constants that decide whether a well is interpolated over a window."""


@lru_cache(maxsize=8)
def _interpolation(window_days: int, nodes: int) -> tuple[FloatArray, FloatArray]:
    """Node offsets from the window start [day] and the matrix ``(W + 1, K)`` that maps
    values at the nodes to values at the day boundaries ``0, 1, …, W``."""
    x = chebyshev.chebpts1(nodes)  # in (-1, 1), never an end point
    half = window_days / 2.0
    y = np.arange(window_days + 1) / half - 1.0
    matrix = _barycentric_matrix(x, y)
    return half * (x + 1.0), np.ascontiguousarray(matrix, dtype=np.float64)


def _barycentric_matrix(x: FloatArray, y: FloatArray) -> FloatArray:
    """Matrix ``(len(y), len(x))`` of the barycentric interpolation (second form) from the
    nodes ``x`` to the points ``y`` (Berrut & Trefethen 2004, *Barycentric Lagrange
    Interpolation*, SIAM Review 46(3), eq. 4.2).

    Computed here in a fixed order rather than by ``scipy.interpolate.BarycentricInterpolator``,
    which (scipy >= 1.11) permutes the nodes with the global random state while computing its
    weights: the matrix then differed at ~1 ulp between processes, and so did every run's
    results (issue #18: 206 of 1,570 annual rows of the same seed).
    """
    diff = x[:, None] - x[None, :]
    np.fill_diagonal(diff, 1.0)
    weights = 1.0 / np.prod(diff, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = weights[None, :] / (y[:, None] - x[None, :])
        matrix = terms / terms.sum(axis=1, keepdims=True)
    hit_rows, hit_cols = np.nonzero(y[:, None] == x[None, :])  # a point on a node: exact
    matrix[hit_rows] = 0.0
    matrix[hit_rows, hit_cols] = 1.0
    return np.asarray(matrix, dtype=np.float64)


def window_days_for(step_days: int) -> int:
    """Window length [day] for a dispatch step: a whole number of steps near :data:`WINDOW_DAYS`."""
    if step_days < 1:
        raise ValueError(f"step_days must be >= 1; got {step_days}")
    return step_days * max(1, round(WINDOW_DAYS / step_days))


@dataclass
class _PrefixWindow:
    """What the shared wells give one window (see :class:`SharedWindows`)."""

    sums: FloatArray
    """Per (node row, block) sums of the interpolated wells' node values, as
    a ``numpy.bincount`` leaves them (:meth:`BlockSupply._node_sums`)."""
    interpolated: int
    live: int
    rows: IntArray
    """Block of each well evaluated day by day, in order; then its first day and days."""
    first_day: IntArray
    n_days: IntArray
    values: FloatArray
    """Their daily terms (:func:`cbm_sim.wells.bookings.day_volumes`)."""


@dataclass
class SharedWindows:
    """What the first ``wells`` wells of a population give each window, kept for the next
    run of the same wells (a study worker's runs of one seed share the 2021 wells: their
    decline constants, online days and blocks; :mod:`cbm_sim.cluster.build` keeps one per
    cached history).

    A window's sums are those wells' node values summed per block in well order and their
    daily terms in order: a run continues the sums with its own wells and adds the terms
    before its own, so its window is the same bit for bit as computing every well (a test
    compares). A population whose first ``wells`` wells differ in any bit from those the
    windows were made of does not use them (:meth:`matches`).
    """

    wells: int
    cols: FloatArray | None = None
    online_day: FloatArray | None = None
    block: IntArray | None = None
    windows: dict[tuple[int, int, int], _PrefixWindow] = field(default_factory=dict)

    def matches(self, cols: FloatArray, online_day: FloatArray, block: IntArray) -> bool:
        """Whether the first :attr:`wells` of these columns are those of the windows (the
        first population asked fixes them)."""
        n = self.wells
        if cols.shape[1] < n or online_day.size < n:
            return False
        if self.cols is None or self.online_day is None or self.block is None:
            self.cols = cols[:, :n].copy()
            self.online_day = online_day[:n].copy()
            self.block = block[:n].copy()
            return True
        same = bool(np.array_equal(cols[:, :n].view(np.int64), self.cols.view(np.int64)))
        same = same and bool(
            np.array_equal(online_day[:n].view(np.int64), self.online_day.view(np.int64))
        )
        return same and bool(np.array_equal(block[:n], self.block))


class BlockSupply:
    """Per-block gas of ``pop`` over consecutive dispatch steps (see the module docstring).

    Parameters
    ----------
    pop
        The population; wells may be added between steps (hook-ups), and put down for
        workover or abandoned at any time before the step that they affect.
    n_blocks
        Number of blocks (the length of the returned arrays).
    step_days
        Length of a dispatch step [day]; steps must be asked for in order, starting at day 0.
    horizon_days
        Days that will be asked for (``None``: unbounded); the wells evaluated day by day are
        not evaluated past them (the last window reaches beyond the horizon).
    shared
        What the population's first wells gave each window in an earlier run of the same
        wells, used and filled by this one (:class:`SharedWindows`); ``None``: none.
    """

    def __init__(
        self,
        pop: WellPopulation,
        n_blocks: int,
        step_days: int = 1,
        horizon_days: int | None = None,
        shared: SharedWindows | None = None,
    ) -> None:
        self.pop = pop
        self._shared = shared
        self._shared_checked = False
        self.n_blocks = n_blocks
        self.horizon_days = horizon_days
        self.window_days = window_days_for(step_days)
        self._nodes, self._matrix = _interpolation(self.window_days, NODES)
        self._n = 0
        # one row per constant, one column per well: a gather gives contiguous rows, which
        # broadcast against (points, wells) time grids with the wells on the fast axis
        self._cols = np.empty((len(_KEYS), 0))
        self._window_start: int | None = None
        self._window: FloatArray = np.zeros((n_blocks, self.window_days))
        self._n_accounted = 0  # wells [0, n) are in the window's volumes
        self._day = 0  # start of the next step
        # per block and day: gas of wells hooked up since the window began (+) and gas lost
        # to workovers (-), on top of the window's volumes
        self._extra = np.zeros((n_blocks, 0))
        # wells coming online (+) per block and whole day, and going down (+) / back (-)
        self._online_delta = np.zeros((n_blocks, 0))
        self._down_delta = np.zeros((n_blocks, 0))
        self._online = np.zeros(n_blocks)  # wells online per block on _count_day
        self._down = np.zeros(n_blocks)  # wells down per block on _count_day
        self._count_day = -1
        self._n_counted = 0  # wells [0, n) are in _online_delta
        # workovers not yet booked: (wells, from_day, until_day), one value per well
        self._queued: list[tuple[IntArray, FloatArray, FloatArray]] = []
        self.interpolated_share = float("nan")
        """Share of the last window's online wells that were interpolated (diagnostic)."""

    # -- constants ----------------------------------------------------------------------
    def reserve(self, wells: int) -> None:
        """Make room for the constants of ``wells`` wells in all (the run knows how many
        wells it will hook up: one allocation instead of a copy at every doubling)."""
        self._reserve(wells)

    def _reserve(self, n: int) -> None:
        cap = self._cols.shape[1]
        if n > cap:  # columns grow by doubling: a hook-up costs O(new wells)
            grown = np.empty((len(_KEYS), max(n, 2 * cap, 1024)))
            grown[:, : self._n] = self._cols[:, : self._n]
            self._cols = grown

    def _sync(self) -> int:
        """Prepare the decline constants of wells added since the last call."""
        n = len(self.pop)
        self._sync_to(n)
        return n

    def add_constants(self, first: int, constants: FloatArray) -> None:
        """Take the decline constants ``(keys, m)`` of wells ``first … first + m - 1``, just
        added to the population, prepared ahead (see :data:`cbm_sim.cluster.blocks.Prepare`)."""
        if first != self._n:
            self._sync_to(first)
        m = constants.shape[1]
        if first != self._n or first + m > len(self.pop):
            raise ValueError(
                f"constants for wells [{first}, {first + m}) do not follow the "
                f"{self._n} prepared wells of a population of {len(self.pop)}"
            )
        self._reserve(first + m)
        self._cols[:, first : first + m] = constants
        self._n = first + m

    def _sync_to(self, n: int) -> None:
        """Prepare the decline constants of wells ``[prepared so far, n)``."""
        if n > self._n:
            sl = slice(self._n, n)
            new = decline.prepare_unchecked(*(getattr(self.pop, k)[sl] for k in PARAMS))
            self._reserve(n)
            for k, j in _COL.items():
                self._cols[j, sl] = new[k]
            self._n = n

    def _producing(self, idx: IntArray) -> IntArray:
        """The wells of ``idx`` that can produce: a dry well (``qi`` and ``q_start`` 0, the
        type curves' non-producing share) has a cumulative of exactly 0 at every time, so
        its terms would add exact zeros to the block sums (~27 % of the plan run's wells)."""
        return idx[self._wet(idx)]

    def _wet(self, idx: IntArray) -> npt.NDArray[np.bool_]:
        """Which wells of ``idx`` are not dry (see :meth:`_producing`)."""
        # the two rows only: a gather of every constant's row cost ~10x more
        cols = self._cols
        wet: npt.NDArray[np.bool_] = (cols[_COL["qi"], idx] != 0.0) | (
            cols[_COL["q_start"], idx] != 0.0
        )
        return wet

    def _constants(self, idx: IntArray, keys: tuple[str, ...] = _KEYS) -> dict[str, FloatArray]:
        # a contiguous gather per row (fancy indexing on axis 1 would give a column-major
        # result, whose broadcasting ops cost ~5x more), of the rows asked for only
        cols = self._cols
        return {k: cols[_COL[k]].take(idx) for k in keys}

    # -- windows ------------------------------------------------------------------------
    def _interpolable(self, idx: IntArray, w0: float) -> npt.NDArray[np.bool_]:
        w1 = w0 + self.window_days
        half = self.window_days / 2.0
        k = self._constants(idx, _WINDOW_KEYS)
        on = self.pop.online_day[idx]
        peak = on + k["t_incline"]
        decline_start = peak + k["t_plateau"]  # the plateau's end: a kink like the peak
        switch = decline_start + k["tau_star"]
        D, Dt = k["D"], k["Dt"]
        bD = k["b_safe"] * D
        with np.errstate(divide="ignore", over="ignore"):
            reach = np.maximum(w0 - decline_start, 0.0) + half + 1.0 / bD  # τ_centre + 1/(bD)
        hyperbolic = (decline_start < w1) & (switch > w0)
        ok = (on <= w0) & ((peak <= w0) | (peak >= w1)) & ((switch <= w0) | (switch >= w1))
        ok &= (decline_start <= w0) | (decline_start >= w1)
        ok &= ~hyperbolic | (reach >= MIN_SINGULARITY_RATIO * half)
        ok &= np.maximum(D, Dt) * half <= MAX_EXPONENT_PER_HALF_WINDOW
        return ok

    def _by_block(self, sums: FloatArray) -> FloatArray:
        """Per (node, block) sums ``(m · n_blocks,)`` as ``(n_blocks, m)``."""
        by_block: FloatArray = sums.reshape(-1, self.n_blocks).T.astype(np.float64, copy=False)
        return by_block

    def _build_window(self, w0: int) -> None:
        n = self._sync()
        W = self.window_days
        pop = self.pop
        if np.isfinite(pop.abandon_day[:n]).any():
            raise ValueError(
                "BlockSupply models no abandonment (stepping.py: none within the horizon); "
                f"well {int(np.flatnonzero(np.isfinite(pop.abandon_day[:n]))[0])} is abandoned"
            )
        # (not past the horizon: those days are never asked for)
        stop = w0 + W if self.horizon_days is None else min(w0 + W, self.horizon_days)
        shared = self._shared_wells()
        n0 = 0 if shared is None else shared.wells
        prefix = None
        if shared is not None:
            prefix = shared.windows.get((w0, W, stop))
            if prefix is None:
                prefix = shared.windows[w0, W, stop] = self._prefix_window(w0, stop, n0)
        # the rest produce nothing yet, or nothing at all (dry wells)
        live = self._producing(n0 + np.flatnonzero(pop.online_day[n0:n] < w0 + W))
        smooth = self._interpolable(live, float(w0))
        window = np.zeros((self.n_blocks, W))
        reg = live[smooth]
        n_reg = reg.size + (0 if prefix is None else prefix.interpolated)
        if n_reg:
            m = len(self._nodes)
            sums = np.zeros(m * self.n_blocks) if prefix is None else prefix.sums.copy()
            self._node_sums(reg, w0, sums)  # the run's wells after the shared ones, in order
            window += np.diff(self._by_block(sums) @ self._matrix.T, axis=1)
        if prefix is not None and prefix.rows.size:
            p = prefix
            bookings.add_days(p.rows, p.first_day, p.n_days, p.values, w0, window)
        irr = live[~smooth]
        if irr.size:
            # exactly, day by day from the day each comes online (compiled, as the bookings)
            first = np.clip(np.floor(pop.online_day[irr]), w0, stop).astype(np.int64)
            unbounded = np.full(irr.size, np.inf)
            bookings.book_days(
                self._cols,
                pop.online_day,
                pop.block,
                irr,
                first,
                stop - first,
                -unbounded,
                unbounded,
                np.ones(irr.size),
                w0,
                window,
            )
        self._window = window
        self._window_start = w0
        self._n_accounted = n
        n_live = live.size + (0 if prefix is None else prefix.live)
        self.interpolated_share = n_reg / n_live if n_live else float("nan")

    def _node_sums(self, reg: IntArray, w0: int, sums: FloatArray) -> None:
        """Add the cumulatives of wells ``reg`` at the Chebyshev nodes of the window from
        ``w0``, relative to the window start, to their (node, block) ``sums`` in well order
        (compiled: :func:`cbm_sim.wells.nodesums.node_sums`, the numbers of
        :func:`cbm_sim.wells.decline.cumulative_prepared` summed as ``numpy.bincount`` sums).
        Relative to the window start, the interpolated function stays of the order of a
        window's gas, so differencing it by day loses no digits to a large offset."""
        if not reg.size:
            return
        times = w0 + np.concatenate(([0.0], self._nodes))
        # the vectorised kernel's plateau branch is taken for the whole set of wells or not
        any_plateau = bool(self._cols[_COL["t_plateau"], reg].any())
        nodesums.node_sums(
            self._cols, self.pop.online_day, self.pop.block, reg, times, any_plateau, sums,
            self.n_blocks,
        )  # fmt: skip

    def _shared_wells(self) -> SharedWindows | None:
        """The shared windows if this population's first wells are theirs (checked once)."""
        if self._shared is not None and not self._shared_checked:
            self._shared_checked = True
            n = self._sync()
            if not self._shared.matches(self._cols[:, :n], self.pop.online_day, self.pop.block):
                self._shared = None
        return self._shared

    def _prefix_window(self, w0: int, stop: int, n0: int) -> _PrefixWindow:
        """What wells ``[0, n0)`` give the window from ``w0`` (see :class:`SharedWindows`)."""
        pop = self.pop
        live = self._producing(np.flatnonzero(pop.online_day[:n0] < w0 + self.window_days))
        smooth = self._interpolable(live, float(w0))
        reg = live[smooth]
        sums = np.zeros(len(self._nodes) * self.n_blocks)
        self._node_sums(reg, w0, sums)
        irr = live[~smooth]
        first = np.clip(np.floor(pop.online_day[irr]), w0, stop).astype(np.int64)
        n_days = (stop - first).astype(np.int64)
        values = bookings.day_volumes(self._cols, pop.online_day, irr, first, n_days)
        return _PrefixWindow(
            sums, int(reg.size), int(live.size), pop.block[irr].copy(), first, n_days, values
        )

    def _account(self, day_start: int) -> None:
        """Book the wells hooked up since the window was built (from ``day_start`` to the
        window's end) and the lost gas of the queued workovers, as per-day corrections of
        the window's volumes (compiled: :mod:`cbm_sim.wells.bookings`)."""
        n = self._sync()
        self._count_new_wells()
        joined = self._producing(np.arange(self._n_accounted, n))  # dry wells book zeros
        self._n_accounted = n
        queued = [(w[k], f[k], u[k]) for w, f, u in self._queued if (k := self._wet(w)).any()]
        self._queued = []
        if not joined.size and not queued:
            return
        if self._window_start is None:
            raise RuntimeError("BlockSupply: wells were booked before the first window opened")
        w_end = self._window_start + self.window_days
        if self.horizon_days is not None:
            w_end = min(w_end, self.horizon_days)
        wells, first, last, lo, hi, sign = [], [], [], [], [], []
        if joined.size:
            # production starts on the online day: earlier days would book zeros
            on = np.floor(self.pop.online_day[joined]).astype(np.int64)
            wells.append(joined)
            first.append(np.maximum(on, day_start))
            last.append(np.full(joined.size, w_end, dtype=np.int64))
            lo.append(np.full(joined.size, -np.inf))
            hi.append(np.full(joined.size, np.inf))
            sign.append(np.ones(joined.size))
        for down, frm, until in queued:
            wells.append(down)
            first.append(np.floor(frm).astype(np.int64))
            last.append(np.ceil(until).astype(np.int64))
            lo.append(frm)
            hi.append(until)
            sign.append(np.full(down.size, -1.0))
        first_day = np.concatenate(first)
        n_days = np.maximum(np.concatenate(last) - first_day, 0)
        self._days(int((first_day + n_days).max()))
        bookings.book_days(
            self._cols,
            self.pop.online_day,
            self.pop.block,
            np.concatenate(wells),
            first_day,
            n_days,
            np.concatenate(lo),
            np.concatenate(hi),
            np.concatenate(sign),
            0,
            self._extra,
        )

    # -- workovers and counts ------------------------------------------------------------
    def _days(self, end: int) -> None:
        """Grow the per-day arrays to cover days ``[0, end)``."""
        have = self._extra.shape[1]
        if end > have:
            cap = max(end, 2 * have, 1024)
            for name in ("_extra", "_online_delta", "_down_delta"):
                old = getattr(self, name)
                grown = np.zeros((self.n_blocks, cap))
                grown[:, :have] = old
                setattr(self, name, grown)

    def set_down(self, idx: npt.ArrayLike, from_day: float, until_day: float) -> None:
        """Send wells ``idx`` down for a workover over ``[from_day, until_day)``.

        Writes the population's columns (:func:`stepping.set_down`) and queues the wells'
        exact lost gas per day, booked once at the next :meth:`step` for all later steps.
        The wells must be online-or-later and not down at ``from_day``, and ``from_day``
        must not lie before the current step.
        """
        idx = np.asarray(idx, dtype=np.int64)
        if idx.size == 0:
            return
        if not until_day > from_day >= self._day:
            raise ValueError(
                f"a workover must satisfy day of the current step {self._day} <= from_day "
                f"< until_day; got from_day={from_day}, until_day={until_day}"
            )
        pop = self.pop
        busy = (pop.down_from_day[idx] <= from_day) & (pop.down_until_day[idx] > from_day)
        if busy.any():
            raise ValueError(f"well {int(idx[busy][0])} is already down on day {from_day}")
        late = pop.online_day[idx] > from_day
        if late.any():
            raise ValueError(f"well {int(idx[late][0])} is not online on day {from_day}")
        stepping.set_down(pop, idx, from_day, until_day)
        self._days(int(np.ceil(until_day)) + 1)
        self._queued.append(
            (idx, np.full(idx.size, float(from_day)), np.full(idx.size, float(until_day)))
        )
        # down on whole day d (the count day) iff from <= d < until
        per_block = np.bincount(pop.block[idx], minlength=self.n_blocks)
        self._down_delta[:, int(np.ceil(from_day))] += per_block
        self._down_delta[:, int(np.ceil(until_day))] -= per_block

    def _count_new_wells(self) -> None:
        """Book wells added since the last call in the per-day online changes."""
        n = len(self.pop)
        if n == self._n_counted:
            return
        idx = np.arange(self._n_counted, n)
        # online on whole day d iff online_day <= d; wells online before day 0 count from 0
        first = np.maximum(np.ceil(self.pop.online_day[idx]), 0).astype(np.int64)
        block = self.pop.block[idx]
        # wells added late (online on a day already counted) join the running count
        late = first <= self._count_day
        self._online += np.bincount(block[late], minlength=self.n_blocks)
        self._days(int(first.max()) + 1)
        np.add.at(self._online_delta, (block[~late], first[~late]), 1.0)
        self._n_counted = n

    def producing_count(self, day: int) -> int:
        """Wells online and not down on ``day`` (workovers as booked by :meth:`set_down`)."""
        if day < self._count_day:
            raise ValueError(f"day {day} is before the last counted day {self._count_day}")
        self._count_new_wells()
        self._days(day + 1)
        span = slice(self._count_day + 1, day + 1)
        online = self._online.sum() + self._online_delta[:, span].sum()
        down = self._down.sum() + self._down_delta[:, span].sum()
        return round(float(online - down))

    def fail(
        self,
        rng: np.random.Generator,
        step_days: IntArray,
        expected_per_well: FloatArray,
        workover_days: float,
    ) -> IntArray:
        """Draw the pump failures at the start of each of ``step_days`` (the next steps to
        be asked for, in order) and put the failing wells down (:func:`failures.draw`).

        Returns the number of failures of each step.
        """
        step_days = np.asarray(step_days, dtype=np.int64)
        if step_days.size == 0:
            return np.zeros(0, dtype=np.int64)
        if step_days[0] != self._day or self._count_day != self._day - 1:
            raise ValueError(
                f"failures must be drawn from the next step on (day {self._day}); "
                f"got step days from {int(step_days[0])}"
            )
        self._count_new_wells()
        first, last = int(step_days[0]), int(step_days[-1])
        self._days(int(np.ceil(last + workover_days)) + 2)
        span = slice(first, last + 1)
        wells, days, per_step = failures.draw(
            rng,
            self.pop,
            step_days,
            expected_per_well,
            workover_days,
            np.rint(self._online_delta[:, span].sum(axis=0)).astype(np.int64),
            np.rint(self._down_delta[:, span].sum(axis=0)).astype(np.int64),
            round(float(self._online.sum())),
            round(float(self._down.sum())),
            self._down_delta,
        )
        if wells.size:
            start = days.astype(np.float64)
            self._queued.append((wells, start, start + workover_days))
        return per_step

    def _counts_on(self, days: IntArray) -> tuple[FloatArray, FloatArray]:
        """Wells online and down per block on each of ``days`` (increasing, after the last
        counted day): two ``(len(days), blocks)`` arrays."""
        self._count_new_wells()
        end = int(days[-1]) + 1
        self._days(end)
        lo = self._count_day + 1
        online = np.cumsum(self._online_delta[:, lo:end], axis=1) + self._online[:, None]
        down = np.cumsum(self._down_delta[:, lo:end], axis=1) + self._down[:, None]
        self._online, self._down = online[:, -1].copy(), down[:, -1].copy()
        self._count_day = end - 1
        cols = np.asarray(days, dtype=np.int64) - lo
        return online[:, cols].T, down[:, cols].T

    # -- steps --------------------------------------------------------------------------
    def step(self, day_start: int, day_end: int) -> tuple[FloatArray, Counts]:
        """Gas per block over ``[day_start, day_end)`` [m³] and the well counts on ``day_end - 1``.

        One step of :meth:`steps`.
        """
        gas, active, total, down = self.steps(np.array([day_start]), np.array([day_end]))
        return gas[0], Counts(active=active[0], total=total[0], down=int(down[0]))

    def steps(
        self, day_start: IntArray, day_end: IntArray
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """Gas per block over consecutive steps ``[day_start[i], day_end[i])`` [m³], and the
        well counts on each step's last day.

        Steps must follow each other (the first starts where the last call ended, at 0 the
        first time), must not be longer than the step length given at construction, and
        must lie in one window (:attr:`window_days`, counted from day 0). Wells added to the
        population since the last call produce from their online day on.

        Returns
        -------
        gas, active, total, down
            ``(steps, blocks)`` arrays of gas [m³], wells online and not down, and wells
            online; ``down`` ``(steps,)`` is the wells online and down.
        """
        starts = np.asarray(day_start, dtype=np.int64)
        ends = np.asarray(day_end, dtype=np.int64)
        if (
            starts.ndim != 1
            or starts.shape != ends.shape
            or starts.size == 0
            or starts[0] != self._day
            or np.any(ends <= starts)
            or np.any(starts[1:] != ends[:-1])
        ):
            got = ", ".join(
                f"[{a}, {b})" for a, b in zip(starts.tolist(), ends.tolist(), strict=True)
            )
            raise ValueError(
                f"steps must follow each other from day 0; expected day_start={self._day} "
                f"and day_end > day_start, each step starting where the last ended; got {got}"
            )
        w0 = self._window_start
        if w0 is None or starts[0] >= w0 + self.window_days:
            w0 = 0 if w0 is None else w0 + self.window_days
            self._build_window(w0)
        if ends[-1] > w0 + self.window_days or starts[0] < w0:
            raise ValueError(
                f"step span [{int(starts[0])}, {int(ends[-1])}) crosses the window end "
                f"{w0 + self.window_days}; steps must not be longer than the step_days given "
                f"at construction, nor span two windows"
            )
        self._account(int(starts[0]))
        self._days(int(ends[-1]))
        lo, hi = int(starts[0]), int(ends[-1])
        offsets = starts - lo
        window = self._window[:, lo - w0 : hi - w0] + self._extra[:, lo:hi]
        gas = np.add.reduceat(window, offsets, axis=1).T
        # a block whose wells are all down nets its window gas against the same gas lost:
        # a rounding residual of ~1e-8 m³ either side of 0, never gas a block can send
        np.maximum(gas, 0.0, out=gas)
        self._day = hi
        online, down = self._counts_on(ends - 1)
        return gas, online - down, online, down.sum(axis=1)
