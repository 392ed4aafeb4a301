"""Benchmark of the vectorised decline core against a per-well pure-Python loop and petbox-dca.

(a) ``rate`` and ``cumulative`` for 100,000 wells × 120 monthly points;
(b) daily production 2021-01-01 … 2030-12-31 per block for the calibrated 2021 population
    plus 10,000 new wells (drilled 2021-2025);
(c) as (a) with a plateau on half the wells (``t_plateau`` up to 900 days), and the prepared
    kernel (``cumulative_prepared``) with and without plateaus;
(d) as (a) against petbox-dca's modified hyperbolic model (``petbox.dca.MH``, one model per
    well, its ``rate`` and ``cum`` over the well's times: how a petbox-dca user computes a
    population), on the model both implement (no incline, no plateau).

Times are the best of 3 runs of the vectorised code and of 2 of the loop and petbox-dca (the
host is shared), each without ``tracemalloc``, which measures the peak memory in a run of
its own. The loop is the textbook model written independently with ``math`` (one well, one time at a
time); it runs on a subset of wells, its time is scaled to the full size, and its numbers
must agree with the vectorised ones to 1e-9 relative. Run: ``.venv/bin/python
benchmarks/bench_decline.py``.
"""

from __future__ import annotations

import math
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

from cbm_sim.wells import decline, history
from cbm_sim.wells.supply import BlockSupply

DPY = 365.25  # days per year, as cbm_sim.units.DAYS_PER_YEAR


def agreement(r: np.ndarray, c: np.ndarray, ref: np.ndarray) -> tuple[float, float]:
    """Largest relative differences of rates ``r`` and cumulatives ``c`` from a reference
    (``ref[..., 0]`` rates, ``ref[..., 1]`` cumulatives); asserts both below 1e-9."""
    err_r = float(np.max(np.abs(r - ref[..., 0]) / np.maximum(ref[..., 0], 1e-300)))
    err_c = float(np.max(np.abs(c - ref[..., 1]) / np.maximum(ref[..., 1], 1e-300)))
    assert max(err_r, err_c) < 1e-9, (err_r, err_c)
    return err_r, err_c


def loop_rate_cum(
    t: float, qi: float, di: float, b: float, dterm: float, tp: float, qs: float, th: float = 0.0
):
    """Rate [m3/d] and cumulative [m3] of one well at one time, plain Python (``th``: the
    plateau at ``qi`` after the incline [day])."""
    if t <= 0.0:
        return 0.0, 0.0
    if t < tp:
        return qs + (qi - qs) * t / tp, qs * t + 0.5 * (qi - qs) * t * t / tp
    if t < tp + th:
        return qi, 0.5 * (qs + qi) * tp + qi * (t - tp)
    n_inc = 0.5 * (qs + qi) * tp + qi * th
    tau = t - tp - th
    D, Dt = di / DPY, dterm / DPY
    if Dt >= D:
        return qi * math.exp(-Dt * tau), n_inc + qi / Dt * -math.expm1(-Dt * tau)
    t_sw = (1.0 / Dt - 1.0 / D) / b if (Dt > 0.0 and b > 0.0) else math.inf

    def hyp(x: float) -> tuple[float, float]:
        if b == 0.0:
            return qi * math.exp(-D * x), qi / D * -math.expm1(-D * x)
        q = qi * (1.0 + b * D * x) ** (-1.0 / b)
        if b == 1.0:
            return q, qi / D * math.log1p(D * x)
        return q, qi / ((1.0 - b) * D) * (1.0 - (1.0 + b * D * x) ** (1.0 - 1.0 / b))

    if tau <= t_sw:
        q, n = hyp(tau)
        return q, n_inc + n
    q_sw, n_sw = hyp(t_sw)
    x = tau - t_sw
    return q_sw * math.exp(-Dt * x), n_inc + n_sw + q_sw / Dt * -math.expm1(-Dt * x)


def timed(fn: Callable[[], Any], repeat: int = 3, trace: bool = True) -> tuple[Any, float, float]:
    """Result, best wall seconds of ``repeat`` runs (the host is shared and noisy), and the
    peak traced memory [MB] of one more run under ``tracemalloc`` (``trace``; NaN without),
    not timed: tracing slows allocation, the loop's Python floats most of all."""
    peak = math.nan
    if trace:
        tracemalloc.start()
        fn()
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return out, best, peak


def _wells(rng: np.random.Generator, n: int, b_lo: float, incline: bool) -> dict[str, np.ndarray]:
    """Random wells as (n, 1) columns: rates, declines, b from ``b_lo`` to 1.5, terminal
    decline, and (``incline``) a dewatering incline."""
    p: dict[str, np.ndarray] = {
        "qi": rng.lognormal(7.3, 0.6, n)[:, None],
        "di": rng.uniform(0.1, 0.8, n)[:, None],
        "b": rng.uniform(b_lo, 1.5, n)[:, None],
        "d_term": rng.uniform(0.03, 0.1, n)[:, None],
    }
    if incline:
        p["t_incline"] = rng.uniform(0.0, 720.0, n)[:, None]
        p["q_start"] = rng.uniform(0.0, 300.0, n)[:, None]
    return p


def bench_a(n: int = 100_000, m: int = 120, n_loop: int = 500, plateau: bool = False) -> None:
    rng = np.random.default_rng(0)
    p = _wells(rng, n, 0.0, incline=True)
    if plateau:  # drawn after the others: the wells are those of the run without plateaus
        on = rng.random(n) < 0.5
        p["t_plateau"] = np.where(on, rng.uniform(0.0, 900.0, n), 0.0)[:, None]
    t = np.arange(1, m + 1) * (DPY / 12.0)
    (r, c), dt_vec, peak = timed(lambda: (decline.rate(t, **p), decline.cumulative(t, **p)))
    cols = [p[k][:n_loop, 0].tolist() for k in p]

    def loop() -> np.ndarray:
        return np.array(
            [[loop_rate_cum(tt, *w) for tt in t.tolist()] for w in zip(*cols, strict=True)]
        )

    ref, dt_loop, _ = timed(loop, repeat=2, trace=False)
    err_r, err_c = agreement(r[:n_loop], c[:n_loop], ref)
    scaled = dt_loop * n / n_loop
    print(
        f"({'c' if plateau else 'a'}) rate+cumulative {n:,} wells x {m} months"
        f"{', half with a plateau' if plateau else ''}: vectorised {dt_vec:.3f} s, "
        f"peak {peak:.0f} MB; loop {dt_loop:.2f} s on {n_loop} wells -> {scaled:.1f} s scaled; "
        f"speed-up {scaled / dt_vec:.0f}x; max rel diff rate {err_r:.1e} cum {err_c:.1e}"
    )
    if plateau:
        bench_prepared(p, t)


def bench_prepared(p: dict[str, np.ndarray], t: np.ndarray, repeat: int = 5) -> None:
    """The prepared kernel (the engine's hot path) on the wells of (c), with their plateaus
    and with every plateau set to 0 (which skips the plateau terms)."""
    grid = np.broadcast_to(t[:, None], (t.size, p["qi"].shape[0]))  # wells on the fast axis
    for label, th in (("plateaus", p["t_plateau"]), ("no plateau", np.zeros_like(p["qi"]))):
        k = decline.prepare(**{**{n: v[:, 0] for n, v in p.items()}, "t_plateau": th[:, 0]})
        out = np.empty(grid.shape)
        run = lambda k=k, out=out: decline.cumulative_prepared(grid, k, out=out)  # noqa: E731
        best = timed(run, repeat=repeat, trace=False)[1]
        print(f"    cumulative_prepared, {label}: {best:.3f} s (best of {repeat})")


def bench_b(n_new: int = 10_000, n_loop: int = 40) -> None:
    rng = np.random.default_rng(1)
    pop = history.build_2021_population(0)
    ref_idx = rng.choice(len(pop), n_new)
    pop.add_cohort(
        pop.block[ref_idx],
        pop.well_type[ref_idx],
        np.floor(rng.uniform(0.0, 5 * DPY, n_new)),
        pop.qi[ref_idx],
        pop.di[ref_idx],
        pop.b[ref_idx],
        pop.d_term[ref_idx],
        pop.t_incline[ref_idx],
        pop.q_start[ref_idx],
        pop.t_plateau[ref_idx],
    )
    days = np.arange(0.0, 3652.0)  # 2021-01-01 … 2030-12-31
    by_block, dt_vec, peak = timed(lambda: pop.production_by_block(days))
    sub = rng.choice(len(pop), n_loop, replace=False)
    edges = np.append(days, days[-1] + 1.0).tolist()

    def loop() -> np.ndarray:
        out = []
        for i in sub.tolist():
            w = (pop.qi[i], pop.di[i], pop.b[i], pop.d_term[i], pop.t_incline[i], pop.q_start[i])
            w = (*w, pop.t_plateau[i])  # the calibrated plateau of the 2021 wells
            cum = [loop_rate_cum(e - pop.online_day[i], *map(float, w))[1] for e in edges]
            out.append([cum[k + 1] - cum[k] for k in range(len(days))])
        return np.array(out)

    ref, dt_loop, _ = timed(loop, repeat=2, trace=False)
    vec = _rows(pop, sub, days)
    err = np.max(np.abs(vec - ref) / np.maximum(np.abs(ref), 1e-300))
    assert err < 1e-9, err
    scaled = dt_loop * len(pop) / n_loop
    print(
        f"(b) daily production per block, {len(pop):,} wells x {days.size} days: vectorised "
        f"{dt_vec:.2f} s, peak {peak:.0f} MB; loop {dt_loop:.2f} s on {n_loop} wells -> "
        f"{scaled:.0f} s scaled; speed-up {scaled / dt_vec:.0f}x; max rel diff {err:.1e}; "
        f"10-yr total {by_block.sum() / 1e8:.1f} 亿m3"
    )

    def windows() -> np.ndarray:  # the engine's path: Chebyshev windows, daily steps
        supply = BlockSupply(pop, pop.n_blocks)
        W, n = supply.window_days, days.size
        starts = [np.arange(w0, min(w0 + W, n)) for w0 in range(0, n, W)]
        return np.concatenate([supply.steps(s, s + 1)[0] for s in starts]).T

    by_window, dt_win, peak_win = timed(windows, repeat=1)
    diff = np.abs(by_window - by_block).max() / np.abs(by_block).max()
    print(
        f"    same per block with supply.BlockSupply (engine path, daily steps): {dt_win:.2f} s, "
        f"peak {peak_win:.0f} MB; x{dt_vec / dt_win:.1f} vs production_by_block; "
        f"max diff {diff:.1e} of the largest block-day"
    )


def bench_petbox(n: int = 100_000, m: int = 120, n_ref: int = 500) -> None:
    from petbox import dca

    p = _wells(np.random.default_rng(1), n, 0.05, incline=False)  # petbox's MH: no incline
    t = np.arange(1, m + 1) * (DPY / 12.0)
    (r, c), dt_vec, peak = timed(lambda: (decline.rate(t, **p), decline.cumulative(t, **p)))

    def reference() -> np.ndarray:
        out = np.empty((n_ref, m, 2))
        for i in range(n_ref):
            qi, di, b, dterm = (float(p[k][i, 0]) for k in ("qi", "di", "b", "d_term"))
            model = dca.MH(
                qi=qi,
                Di=float(decline.secant_from_nominal(di, b)),
                bi=b,
                Dterm=float(decline.tangent_from_nominal(dterm)),
            )
            out[i, :, 0], out[i, :, 1] = model.rate(t), model.cum(t)
        return out

    ref, dt_ref, _ = timed(reference, repeat=2, trace=False)
    err_r, err_c = agreement(r[:n_ref], c[:n_ref], ref)
    scaled = dt_ref * n / n_ref
    print(
        f"(d) rate+cumulative {n:,} wells x {m} months vs petbox-dca (MH, a model per well): "
        f"vectorised {dt_vec:.3f} s, peak {peak:.0f} MB; petbox-dca {dt_ref:.2f} s on {n_ref} "
        f"wells -> {scaled:.1f} s scaled; speed-up {scaled / dt_vec:.0f}x; max rel diff rate "
        f"{err_r:.1e} cum {err_c:.1e}"
    )


def _rows(pop: Any, sub: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Vectorised daily volumes of the wells ``sub`` (same kernel as production_by_block)."""
    return np.concatenate([pop._grid(slice(i, i + 1), days, 1.0) for i in sub.tolist()])


if __name__ == "__main__":
    print("wall times: best of 3 runs (vectorised; 1 for BlockSupply), of 2 (loop, petbox-dca)")
    bench_a()
    bench_b()
    bench_a(plateau=True)
    bench_petbox()
