"""The dispatch step: routing one step's gas from supply to uses, by priority and netback.

Priority (documented, plan ch4 §3 一 "优先保障民生": residential first):

1. coal-mine gas: the usable share goes to mine heating/living gas, then to mine-gas power up
   to the plants' capacity; the rest is vented (low-concentration gas cannot be used);
2. surface gas by tiers: field own use and losses (physical, first), then residential (民生),
   then commercial (公商福业); the caller adds the storage reserves and the producers'
   outbound contracts up to their take-or-pay floor as tiers of their own
   (:data:`cbm_sim.cluster.engine.DISPATCH_TIERS`), then one market tier in which transport,
   industry, chemicals, CNG, LNG and the contracted volumes above the floor compete: **within a
   tier, gas goes to the request with the highest netback first** (its price net of
   processing and transport, :mod:`cbm_sim.cluster.netback`, 元/m³), and requests with equal
   netbacks share a shortage in proportion to their size (so the tiers before the market,
   whose netbacks are all equal, are shared pro rata as before);
3. storage is withdrawn only outside the injection season (winter peak shaving) and only to
   cover a shortfall of the local sectors (field use to chemicals), never for CNG, LNG or
   exports, at most ``storage_max_rate_m3`` (the caller passes the sites' send-out capacity
   outside the injection season); withdrawn gas goes to the local shortfalls by the same tiers
   and netbacks;
4. in the injection season storage is filled up to the plan's reserve rules (ch1 §2 四: 3 days
   of demand, 5 % of city-gas use) as a request of its own tier, placed by the caller (the
   simulation: after 公商福业, before the pro-rata tier — reserves are a legal duty), and
   beyond that from what remains; what remains then goes to outbound pipelines up to
   ``min(capacity, outbound cap)``; what has no outlet is shut in (wells choked back).

The kernel is a pure function of floats and float64 arrays; it knows nothing of SimPy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from numba import njit


@dataclass(frozen=True)
class StepFlows:
    """Flows of one step [m³ over the step] (``allocated`` in request order)."""

    allocated: npt.NDArray[np.float64]
    mine_heating: float
    mine_power: float
    mine_vented: float
    withdrawal: float
    injection: float
    exports: float
    shut_in: float


def greedy_allocate(supply: float, requests: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    r"""Serve ``requests`` in order from ``supply`` until it runs out.

    .. math:: a_k = \min\bigl(r_k, \max(0, S - \textstyle\sum_{j<k} r_j)\bigr)
    """
    before = np.concatenate(([0.0], np.cumsum(requests)[:-1]))
    return np.minimum(requests, np.maximum(supply - before, 0.0))


def tiered_allocate(
    supply: float,
    requests: npt.NDArray[np.float64],
    tiers: npt.NDArray[np.int64],
    netback: npt.NDArray[np.float64] | None = None,
) -> npt.NDArray[np.float64]:
    r"""Serve tiers in ascending order and, within a tier, netbacks in descending order; a
    group of requests with the same tier and netback that cannot be served in full shares
    what is left in proportion to the requests.

    .. math:: a_k = r_k \min\bigl(1, \max(0, S - R_{<g}) / R_g\bigr)

    with :math:`R_g` the requests of the group :math:`g = (t_k, n_k)` and :math:`R_{<g}` those
    of the groups before it (lower tier, or same tier and higher netback). ``netback=None``:
    every netback equal, i.e. pro rata within each tier.
    """
    # A handful of requests per step: plain floats beat numpy's per-call overhead here.
    req = requests.tolist()
    tier_of = tiers.tolist()
    nb = [0.0] * len(req) if netback is None else netback.tolist()
    per_group: dict[tuple[int, float], float] = {}
    for r, t, n in zip(req, tier_of, nb, strict=True):
        per_group[(t, n)] = per_group.get((t, n), 0.0) + r
    share: dict[tuple[int, float], float] = {}
    left = supply
    for g in sorted(per_group, key=lambda g: (g[0], -g[1])):
        total = per_group[g]
        # left >= total first: a tiny total must not overflow the division
        share[g] = (1.0 if left >= total else max(left, 0.0) / total) if total > 0.0 else 0.0
        left -= total
    return np.array([r * share[(t, n)] for r, t, n in zip(req, tier_of, nb, strict=True)])


def route(
    *,
    surface_m3: float,
    requests_m3: npt.NDArray[np.float64],
    n_local: int,
    tiers: npt.NDArray[np.int64] | None = None,
    mine_drainage_m3: float,
    mine_usable_share: float,
    mine_heating_m3: float,
    mine_power_capacity_m3: float,
    storage_level_m3: float,
    storage_capacity_m3: float,
    storage_max_rate_m3: float,
    inject: bool,
    export_limit_m3: float,
    withdraw: bool = True,
    reserve_fill_m3: float = 0.0,
    reserve_fill_tier: int = -1,
    netback_yuan_per_m3: npt.NDArray[np.float64] | None = None,
) -> StepFlows:
    """Route one step's gas.

    Parameters
    ----------
    surface_m3
        Deliverability of all surface wells over the step [m³].
    requests_m3
        Requests in priority order [m³]; the first ``n_local`` are local sectors that storage
        may serve, the rest (CNG, LNG feed) are not.
    tiers
        Priority tier of each request (served in ascending order, pro rata within a tier);
        ``None`` = every request its own tier, i.e. strict order.
    mine_drainage_m3, mine_usable_share, mine_heating_m3, mine_power_capacity_m3
        Coal-mine gas drained [m³], the share usable (0-1), heating/living demand [m³] and the
        gas the power plants can burn over the step [m³].
    storage_level_m3, storage_capacity_m3, storage_max_rate_m3
        Storage stock, capacity and the most it can take in or send out over the step [m³].
    inject
        Whether this step lies in the injection season.
    withdraw
        Whether storage may be drawn this step (the simulation allows it outside the
        injection season only: storage shaves the winter peak).
    reserve_fill_m3, reserve_fill_tier
        In the injection season, gas still missing in storage to meet the plan's reserve
        rules [m³]: served as a request of tier ``reserve_fill_tier`` (before every tier above
        it); storage beyond that is filled from what remains only.
    export_limit_m3
        ``min(pipeline capacity, outbound cap)`` over the step [m³].
    netback_yuan_per_m3
        Netback of each request [元/m³]: within a tier the highest is served first; ``None``
        = all equal (pro rata within each tier).

    Returns
    -------
    StepFlows
        The flows; they satisfy ``surface + drainage + withdrawal = sum(allocated) +
        heating + power + vented + injection + exports + shut_in``.
    """
    usable = mine_usable_share * mine_drainage_m3
    heating = min(mine_heating_m3, usable)
    power = min(usable - heating, mine_power_capacity_m3)
    vented = mine_drainage_m3 - heating - power

    if tiers is None:
        tiers = np.arange(len(requests_m3))
    netback = np.zeros(len(requests_m3)) if netback_yuan_per_m3 is None else netback_yuan_per_m3
    room = max(min(storage_capacity_m3 - storage_level_m3, storage_max_rate_m3), 0.0)
    fill = min(max(reserve_fill_m3, 0.0), room) if inject else 0.0
    # The reserve fill is one more request, in its own tier, ahead of the tiers above it.
    served = tiered_allocate(
        surface_m3,
        np.append(requests_m3, fill),
        np.append(tiers, reserve_fill_tier),
        np.append(netback, 0.0),
    )
    allocated, reserve_in = served[:-1], float(served[-1])
    local_short = requests_m3[:n_local] - allocated[:n_local]
    withdrawal = (
        min(storage_level_m3, storage_max_rate_m3, float(np.sum(local_short))) if withdraw else 0.0
    )
    if withdrawal > 0.0:
        allocated[:n_local] += tiered_allocate(
            withdrawal, local_short, tiers[:n_local], netback[:n_local]
        )
    remaining = max(surface_m3 + withdrawal - float(np.sum(allocated)) - reserve_in, 0.0)
    surplus_in = min(remaining, room - reserve_in) if inject and withdrawal == 0.0 else 0.0
    injection = reserve_in + max(surplus_in, 0.0)
    remaining -= max(surplus_in, 0.0)
    exports = min(remaining, max(export_limit_m3, 0.0))
    shut_in = remaining - exports
    return StepFlows(
        allocated=allocated,
        mine_heating=heating,
        mine_power=power,
        mine_vented=vented,
        withdrawal=withdrawal,
        injection=injection,
        exports=exports,
        shut_in=shut_in,
    )


# --------------------------------------------------------------------------- many steps
@njit(cache=True)
def _tiered_into(supply, requests, tiers, netback, idx, out):  # type: ignore[no-untyped-def]  # numba infers the types
    """:func:`tiered_allocate` into ``out``; ``idx`` is scratch space of ``requests.size``."""
    n = requests.size
    for k in range(n):
        idx[k] = k
    # insertion sort by (tier ascending, netback descending): a handful of requests
    for a in range(1, n):
        key = idx[a]
        b = a - 1
        while b >= 0 and (
            tiers[idx[b]] > tiers[key]
            or (tiers[idx[b]] == tiers[key] and netback[idx[b]] < netback[key])
        ):
            idx[b + 1] = idx[b]
            b -= 1
        idx[b + 1] = key
    left = supply
    a = 0
    while a < n:
        t, nb = tiers[idx[a]], netback[idx[a]]
        b = a
        total = 0.0
        while b < n and tiers[idx[b]] == t and netback[idx[b]] == nb:
            total += requests[idx[b]]
            b += 1
        share = (1.0 if left >= total else max(left, 0.0) / total) if total > 0.0 else 0.0
        left -= total
        for c in range(a, b):
            out[idx[c]] = requests[idx[c]] * share
        a = b


@njit(cache=True)
def _route_steps(  # type: ignore[no-untyped-def]  # numba infers the types
    surface,
    requests,
    n_local,
    tiers,
    netback,
    drainage,
    usable_share,
    heating_need,
    power_capacity,
    level0,
    capacity,
    max_rate,
    inject,
    withdraw,
    export_limit,
    reserve_need,
    allocated,
    mine,
    flows,
    level,
):
    m, r = requests.shape
    req = np.empty(r + 1)
    nb = np.zeros(r + 1)
    served = np.empty(r + 1)
    idx = np.empty(r + 1, dtype=np.int64)
    short = np.empty(n_local)
    extra = np.empty(n_local)
    local_tiers = tiers[:n_local].copy()
    local_nb = np.empty(n_local)
    lvl = level0
    for i in range(m):
        usable = usable_share[i] * drainage[i]
        heating = min(heating_need[i], usable)
        power = min(usable - heating, power_capacity[i])
        mine[i, 0] = heating
        mine[i, 1] = power
        mine[i, 2] = drainage[i] - heating - power
        cap = capacity[i]
        room = max(min(cap - lvl, max_rate[i]), 0.0)
        fill = min(max(reserve_need[i] - lvl, 0.0), room) if inject[i] else 0.0
        for k in range(r):
            req[k] = requests[i, k]
            nb[k] = netback[i, k]
        req[r] = fill
        _tiered_into(surface[i], req, tiers, nb, idx, served)
        reserve_in = served[r]
        total_short = 0.0
        for k in range(n_local):
            short[k] = requests[i, k] - served[k]
            local_nb[k] = netback[i, k]
            total_short += short[k]
        withdrawal = min(lvl, max_rate[i], total_short) if withdraw[i] else 0.0
        if withdrawal > 0.0:
            _tiered_into(withdrawal, short, local_tiers, local_nb, idx, extra)
            for k in range(n_local):
                served[k] += extra[k]
        given = 0.0
        for k in range(r):
            allocated[i, k] = served[k]
            given += served[k]
        remaining = max(surface[i] + withdrawal - given - reserve_in, 0.0)
        surplus_in = min(remaining, room - reserve_in) if inject[i] and withdrawal == 0.0 else 0.0
        surplus_in = max(surplus_in, 0.0)
        injection = reserve_in + surplus_in
        remaining -= surplus_in
        exports = min(remaining, max(export_limit[i], 0.0))
        flows[i, 0] = withdrawal
        flows[i, 1] = injection
        flows[i, 2] = exports
        flows[i, 3] = remaining - exports
        new = lvl + injection - withdrawal
        if new < -1e-6 or new > cap + 1e-6:
            return i  # the caller names the step and the flows
        lvl = min(max(new, 0.0), cap)
        level[i] = lvl
    return -1


@dataclass(frozen=True)
class StepsFlows:
    """Flows of consecutive steps [m³ over each step], one row per step.

    ``allocated`` is ``(steps, requests)`` in request order; ``level`` the storage stock at
    the end of each step [m³].
    """

    allocated: npt.NDArray[np.float64]
    mine_heating: npt.NDArray[np.float64]
    mine_power: npt.NDArray[np.float64]
    mine_vented: npt.NDArray[np.float64]
    withdrawal: npt.NDArray[np.float64]
    injection: npt.NDArray[np.float64]
    exports: npt.NDArray[np.float64]
    shut_in: npt.NDArray[np.float64]
    level: npt.NDArray[np.float64]


def route_steps(
    *,
    surface_m3: npt.ArrayLike,
    requests_m3: npt.ArrayLike,
    n_local: int,
    tiers: npt.ArrayLike,
    mine_drainage_m3: npt.ArrayLike,
    mine_usable_share: npt.ArrayLike,
    mine_heating_m3: npt.ArrayLike,
    mine_power_capacity_m3: npt.ArrayLike,
    storage_level_m3: float,
    storage_capacity_m3: npt.ArrayLike,
    storage_max_rate_m3: npt.ArrayLike,
    inject: npt.ArrayLike,
    withdraw: npt.ArrayLike,
    export_limit_m3: npt.ArrayLike,
    reserve_need_m3: npt.ArrayLike,
    reserve_fill_tier: int,
    netback_yuan_per_m3: npt.ArrayLike | None = None,
) -> StepsFlows:
    """Route consecutive steps in order, carrying the storage stock from one to the next.

    Step ``i`` is :func:`route` with the ``i``-th entry of every array argument (rows of
    ``requests_m3``), ``storage_level_m3`` the stock left by step ``i - 1`` (the argument
    for the first step), and ``reserve_fill_m3 = reserve_need_m3[i] - stock``: the same
    rules, as one compiled loop (the stock makes each step depend on the one before);
    ``netback_yuan_per_m3`` is ``(steps, requests)`` (``None``: all equal). Tests check it
    against :func:`route` step by step.

    Raises
    ------
    ValueError
        On arrays of different lengths, requests or netbacks of the wrong width, or a netback
        that is not finite.
    RuntimeError
        When a step would take the stock outside ``0 .. capacity`` (as
        :meth:`cbm_sim.cluster.storage.StorageAgent.apply`).
    """
    req = np.ascontiguousarray(requests_m3, dtype=np.float64)
    if req.ndim != 2:
        raise ValueError(f"requests_m3 must be (steps, requests); got shape {req.shape}")
    m, r = req.shape
    tier = np.ascontiguousarray(tiers, dtype=np.int64)
    if tier.shape != (r,):
        raise ValueError(f"tiers has shape {tier.shape}; the requests are {r} wide")
    if not 0 <= n_local <= r:
        raise ValueError(f"n_local must be in [0, {r}]; got {n_local}")
    netback = (
        np.zeros((m, r))
        if netback_yuan_per_m3 is None
        else np.ascontiguousarray(netback_yuan_per_m3, dtype=np.float64)
    )
    if netback.shape != (m, r):
        raise ValueError(f"netback_yuan_per_m3 has shape {netback.shape}; expected ({m}, {r})")
    if not np.isfinite(netback).all():
        raise ValueError("netback_yuan_per_m3 must be finite; got a NaN or an infinity")
    per_step = {
        "surface_m3": surface_m3,
        "mine_drainage_m3": mine_drainage_m3,
        "mine_usable_share": mine_usable_share,
        "mine_heating_m3": mine_heating_m3,
        "mine_power_capacity_m3": mine_power_capacity_m3,
        "storage_capacity_m3": storage_capacity_m3,
        "storage_max_rate_m3": storage_max_rate_m3,
        "export_limit_m3": export_limit_m3,
        "reserve_need_m3": reserve_need_m3,
    }
    arrays = {}
    for name, value in per_step.items():
        arr = np.ascontiguousarray(value, dtype=np.float64)
        if arr.shape != (m,):
            raise ValueError(f"{name} has shape {arr.shape}; expected ({m},), one per step")
        arrays[name] = arr
    flags = {}
    for name, value in (("inject", inject), ("withdraw", withdraw)):
        arr = np.ascontiguousarray(value, dtype=np.bool_)
        if arr.shape != (m,):
            raise ValueError(f"{name} has shape {arr.shape}; expected ({m},), one per step")
        flags[name] = arr
    all_tiers = np.append(tier, reserve_fill_tier)
    allocated = np.zeros((m, r))
    mine = np.zeros((m, 3))
    flows = np.zeros((m, 4))
    level = np.zeros(m)
    bad = _route_steps(
        arrays["surface_m3"],
        req,
        n_local,
        all_tiers,
        netback,
        arrays["mine_drainage_m3"],
        arrays["mine_usable_share"],
        arrays["mine_heating_m3"],
        arrays["mine_power_capacity_m3"],
        float(storage_level_m3),
        arrays["storage_capacity_m3"],
        arrays["storage_max_rate_m3"],
        flags["inject"],
        flags["withdraw"],
        arrays["export_limit_m3"],
        arrays["reserve_need_m3"],
        allocated,
        mine,
        flows,
        level,
    )
    if bad >= 0:
        before = level[bad - 1] if bad else float(storage_level_m3)
        raise RuntimeError(
            f"step {bad}: storage level would leave 0..{arrays['storage_capacity_m3'][bad]:.6g} "
            f"m3 (stock {before:.6g} m3, injection {flows[bad, 1]:.6g}, withdrawal "
            f"{flows[bad, 0]:.6g})"
        )
    return StepsFlows(
        allocated=allocated,
        mine_heating=mine[:, 0],
        mine_power=mine[:, 1],
        mine_vented=mine[:, 2],
        withdrawal=flows[:, 0],
        injection=flows[:, 1],
        exports=flows[:, 2],
        shut_in=flows[:, 3],
        level=level,
    )
