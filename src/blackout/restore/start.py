"""The restoration's starting point: the cascade's end state, rebuilt from its events.

The cascade :class:`~blackout.cascade.Timeline` records every status change as an
:class:`~blackout.events.Event`; replaying them on the grid's base state (with the
cascade's own :class:`~blackout.cascade.state.CascadeState`, the one place where
events change a state) gives which branches and units are out and which load is
still connected. Which buses are live is read from the timeline's last served-load
sample, and from islands that still hold an online unit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from blackout.cascade.state import CascadeState
from blackout.grid.model import Grid

if TYPE_CHECKING:
    from blackout.cascade.timeline import Timeline


__all__ = ["StartState", "start_state", "FAULT_WORDS"]

#: Words in an event's cause that mark a fault (a patrol is needed before reclosing).
FAULT_WORDS = re.compile(r"fault|flashover|fire|sabotage|destroyed|tree contact|explosion",
                         re.IGNORECASE)


@dataclass
class StartState:
    """Status at the end of the cascade (time ``time_h`` after its start).

    branch_closed, gen_on : bool per element. load_fraction : connected share per load.
    branch_tripped : branches opened during the cascade (candidates for reclosing).
    branch_faulted : of those, the ones tripped by a fault (need a patrol).
    gen_tripped_h : when each unit tripped (h; NaN if it did not).
    locked_until_h : per branch, earliest reclosing time (fire still burning), h.
    """

    time_h: float
    branch_closed: np.ndarray
    gen_on: np.ndarray
    load_fraction: np.ndarray
    branch_tripped: np.ndarray
    branch_faulted: np.ndarray
    gen_tripped_h: np.ndarray
    locked_until_h: np.ndarray = field(default_factory=lambda: np.zeros(0))


def start_state(grid: Grid, timeline: Timeline) -> StartState:
    """Rebuild the cascade's end state from ``timeline`` (a cascade Timeline).

    Loads count as connected only on buses that the timeline's last sample shows
    served (a de-energised island's loads are dark even if not shed).
    """
    state = CascadeState.of(grid)
    tripped = np.zeros(grid.branch.n, dtype=bool)
    faulted = np.zeros(grid.branch.n, dtype=bool)
    gen_trip_h = np.full(grid.gen.n, np.nan)
    for ev in getattr(timeline, "events", []):
        if ev.detail.get("record_only"):
            continue
        state.apply(ev)
        if ev.kind == "branch" and ev.action == "trip" and ev.element >= 0:
            tripped[ev.element] = True
            text = f"{ev.cause} {ev.detail.get('why', '')} {ev.detail.get('threat', '')}"
            if FAULT_WORDS.search(text):
                faulted[ev.element] = True
        if ev.kind == "branch" and ev.action == "close" and ev.element >= 0:
            tripped[ev.element] = False
            faulted[ev.element] = False
        if ev.kind == "gen" and ev.action == "trip" and ev.element >= 0:
            gen_trip_h[ev.element] = ev.time_s / 3600.0
    end_s = float(getattr(timeline, "end_time_s", 0.0))
    served = timeline.served_mw_at(end_s) if getattr(timeline, "sample_time_s", None) \
        else grid.bus_load_mw()
    live_bus = np.asarray(served) > 1e-9
    lbus = grid.load["bus"]
    frac = np.where(live_bus[lbus], state.connected, 0.0)
    gen_on = state.flow.gen_in & (grid.gen["pmax_mw"] > 0)
    return StartState(time_h=end_s / 3600.0, branch_closed=state.flow.branch_in.copy(),
                      gen_on=gen_on.copy(), load_fraction=frac, branch_tripped=tripped,
                      branch_faulted=faulted, gen_tripped_h=gen_trip_h,
                      locked_until_h=np.zeros(grid.branch.n))
