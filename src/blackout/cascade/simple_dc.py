"""The "simple DC" cascade rule: the reference the fast batch engine must agree with.

No frequency dynamics and no relay timers; ``time_s`` of a recorded event counts
rounds (0: the initiating events). The rule, exactly::

    apply the initiating events
    repeat:
        find islands
        for each island:
            no in-service generator          -> its load is lost
            else the in-service generators start from the case dispatch and share the
                 island's imbalance (load + shunt conductance - dispatch) by
                 participation factors within [pmin_mw, pmax_mw]
                 (blackout.flow.balance.balance_islands; rule: settings.participation,
                 default headroom); a shortfall is shed as a uniform fraction of the
                 island's load, a surplus with every unit at pmin is left to the slack
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
from blackout.flow.balance import Participation
from blackout.flow.balance import balance_islands as share_by_island
from blackout.grid.model import Grid
from blackout.grid.topology import island_labels

__all__ = ["simulate_simple_dc", "balance_islands", "start_rounds"]


def balance_islands(grid: Grid, state: CascadeState, rule: Participation = "headroom"
                    ) -> tuple[np.ndarray, dict[str, float]]:
    """Re-dispatch each island from the case dispatch by participation (``rule``) and shed
    any shortfall uniformly (:func:`blackout.flow.balance.balance_islands`).

    Returns the island label per bus and the MW lost per mechanism ("tripped": islands
    without generation; "shortfall": uniform shedding where the units cannot meet the
    load).
    """
    flow = state.flow
    labels = island_labels(grid, branch_in=flow.branch_in, bus_in=flow.bus_in)
    nb = grid.bus.n
    n0 = int(labels.max()) + 1 if labels.size else 0
    lab = np.where(labels >= 0, labels, n0 + np.arange(nb))  # buses out: islands of their own
    gbus, lbus = grid.gen["bus"], grid.load["bus"]
    gen_on = flow.gen_in & flow.bus_in[gbus]
    demand = np.where(flow.bus_in[lbus], state.demand_mw, 0.0)
    load_bus = np.bincount(lbus, weights=demand, minlength=nb)
    gs = np.where(flow.bus_in, np.asarray(grid.bus["gs_mw"], dtype=float), 0.0)
    bal = share_by_island(rule, lab, gbus, gen_on, np.asarray(grid.gen["p_mw"], dtype=float),
                          np.asarray(grid.gen["pmin_mw"], dtype=float),
                          np.asarray(grid.gen["pmax_mw"], dtype=float), load_bus, gs,
                          np.asarray(grid.gen["droop_pu"], dtype=float))
    flow.gen_p_mw[:] = np.where(gen_on, bal.gen_p_mw, 0.0)
    frac = np.where(flow.bus_in[lbus], bal.served[lab[lbus]], 0.0)
    # a negative load (net injection, e.g. embedded generation) follows its island's
    # fraction like any other: the fast engine's bus balance keeps it too
    state.set_load_fraction(np.arange(grid.load.n), frac)
    need = np.bincount(lab, weights=load_bus, minlength=bal.served.size)
    lost = {"tripped": float(np.sum(need[bal.units == 0])),
            "shortfall": float(np.sum((need * (1.0 - bal.served))[bal.units > 0]))}
    return labels, lost


def start_rounds(grid: Grid, events: list[Event], mode: str
                 ) -> tuple[CascadeState, Timeline, list[int]]:
    """The start of a rule in rounds (simple DC, AC-CFM): every initiating event applied
    and recorded at round 0 (its own time kept as ``detail["scheduled_s"]``); returns the
    state, the timeline and the initiating events' indices in it."""
    state = CascadeState.of(grid)
    tl = Timeline(grid=grid, mode=mode, start_clock=None)
    tl.sample(0.0, grid.bus_load_mw(), 1)
    indices: list[int] = []
    for ev in sorted(events):
        state.apply(ev)
        indices.append(tl.record(Event(0.0, ev.kind, ev.element, ev.action, ev.cause, ev.value,
                                       None, {**ev.detail, "scheduled_s": ev.time_s})))
    return state, tl, indices


def simulate_simple_dc(grid: Grid, events: list[Event], settings: CascadeSettings) -> Timeline:
    """Run the simple DC rule (see the module docstring) and return its Timeline."""
    state, tl, previous = start_rounds(grid, events, "simple_dc")
    rate = grid.branch["rate_a_mva"] * state.rating_factor
    rule: Participation = settings.participation
    round_no = 0
    while True:
        check_deadline()
        labels, lost = balance_islands(grid, state, rule)
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
