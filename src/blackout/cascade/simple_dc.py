"""The "simple DC" cascade rule: the reference the fast batch engine must agree with.

No frequency dynamics and no relay timers; ``time_s`` of a recorded event counts
rounds (0: the initiating events). The rule, exactly::

    apply the initiating events
    repeat:
        find islands
        for each island:
            no in-service generator          -> its load is lost
            else re-dispatch the in-service generators in proportion to pmax_mw,
                 within [0, pmax_mw], to meet the island's load; any shortfall is
                 shed as a uniform fraction of the island's load
        DC power flow
        every in-service branch with rate_a_mva > 0 and |P| > trip_multiple * rate_a_mva
            trips, all in the same round (cause "overload")
    until a round trips nothing
"""

from __future__ import annotations

import numpy as np

from blackout.cascade.settings import CascadeSettings
from blackout.cascade.state import CascadeState
from blackout.cascade.timeline import Timeline
from blackout.deadline import check_deadline
from blackout.events import Event
from blackout.flow import PowerFlowResult, run_dc
from blackout.grid.model import Grid
from blackout.grid.topology import island_labels

__all__ = ["simulate_simple_dc", "balance_islands"]


def balance_islands(grid: Grid, state: CascadeState) -> tuple[np.ndarray, dict[str, float]]:
    """Re-dispatch each island in proportion to pmax and shed any shortfall uniformly.

    Returns the island label per bus and the MW lost per mechanism ("tripped": islands
    without generation; "shortfall": uniform shedding where capacity < load).
    """
    flow = state.flow
    labels = island_labels(grid, branch_in=flow.branch_in, bus_in=flow.bus_in)
    gbus, lbus = grid.gen["bus"], grid.load["bus"]
    gen_on = flow.gen_in & flow.bus_in[gbus]
    pmax = np.where(gen_on, np.maximum(grid.gen["pmax_mw"], 0.0), 0.0)
    demand = np.where(flow.bus_in[lbus], state.demand_mw, 0.0)
    n = int(labels.max()) + 1 if labels.size else 0
    gen_island = np.where(gen_on, labels[gbus], -1)
    load_island = np.where(flow.bus_in[lbus], labels[lbus], -1)
    cap = np.bincount(gen_island[gen_on], weights=pmax[gen_on], minlength=n)
    count = np.bincount(gen_island[gen_on], minlength=n)
    need = np.bincount(load_island[load_island >= 0], weights=demand[load_island >= 0],
                       minlength=n)
    served_frac = np.where(count > 0, np.minimum(1.0, np.divide(
        cap, need, out=np.ones(n), where=need > 0)), 0.0)
    dispatch_frac = np.divide(need * served_frac, cap, out=np.zeros(n), where=cap > 0)
    flow.gen_p_mw[:] = np.where(gen_on, pmax * dispatch_frac[np.maximum(gen_island, 0)], 0.0)
    frac = np.where(load_island >= 0, served_frac[np.maximum(load_island, 0)], 0.0)
    # a negative load (net injection, e.g. embedded generation) follows its island's
    # fraction like any other: the fast engine's bus balance keeps it too
    state.set_load_fraction(np.arange(grid.load.n), frac)
    lost = {"tripped": float(np.sum(need[count == 0])),
            "shortfall": float(np.sum((need * (1.0 - served_frac))[count > 0]))}
    return labels, lost


def simulate_simple_dc(grid: Grid, events: list[Event], settings: CascadeSettings) -> Timeline:
    """Run the simple DC rule (see the module docstring) and return its Timeline."""
    state = CascadeState.of(grid)
    tl = Timeline(grid=grid, mode="simple_dc", start_clock=None)
    tl.sample(0.0, grid.bus_load_mw(), 1)
    previous: list[int] = []
    for ev in sorted(events):
        state.apply(ev)
        previous.append(tl.record(Event(0.0, ev.kind, ev.element, ev.action, ev.cause, ev.value,
                                        None, {**ev.detail, "scheduled_s": ev.time_s})))
    rate = grid.branch["rate_a_mva"] * state.rating_factor
    round_no = 0
    while True:
        check_deadline()
        labels, lost = balance_islands(grid, state)
        result = run_dc(grid, state.flow)
        p = np.abs(result.branch["p_from_mw"])
        over = np.flatnonzero(state.flow.branch_in & (rate > 0)
                              & (p > settings.trip_multiple * rate))
        served = np.bincount(grid.load["bus"], weights=state.flow.load_p_mw,
                             minlength=grid.bus.n)
        tl.sample(float(round_no), served, _energised(result))
        if over.size == 0:
            break
        round_no += 1
        cause_of = previous[0] if previous else None
        current = []
        for b in over.tolist():
            state.flow.branch_in[b] = False
            pct = 100.0 * p[b] / rate[b]
            current.append(tl.record(Event(
                float(round_no), "branch", b, "trip", "overload", None, cause_of,
                {"loading_percent": pct, "round": round_no,
                 "why": f"overload {pct:.0f}% of rate_a (round {round_no})"}),
                island=int(labels[grid.branch["from_bus"][b]])))
        previous = current
    tl.load_lost_by_mechanism_mw = lost
    tl.end_time_s = float(round_no)
    return tl


def _energised(result: PowerFlowResult) -> int:
    return sum(1 for i in result.islands if i.energized)
