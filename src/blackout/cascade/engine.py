"""The detailed cascade engine: a discrete-event, quasi-steady-state loop.

Read :meth:`Cascade.run` first; it is the whole algorithm::

    apply the events due now; re-find islands
    solve each energised island's power flow (AC or DC)
    act on what protection sees now (instantaneous relays, timers that expired)
    integrate each island's frequency to the next discrete event, stopping where it
        crosses a protection threshold; overload relays integrate meanwhile
    repeat until nothing moves, nothing is pending, or the horizon is reached

Protection and control models live in :mod:`blackout.physics` and
:mod:`blackout.cascade.protect`; every action becomes an :class:`Event` with a cause
and the index of the event that caused it.
"""

from __future__ import annotations

import heapq
from dataclasses import replace

import numpy as np

from blackout.bounds import MAX_EVENTS_PER_RUN, MAX_HORIZON_S, MAX_STEPS_PER_RUN
from blackout.cascade.islands import Island, IslandTracker
from blackout.cascade.protect import Protection, disturbs
from blackout.cascade.settings import CascadeSettings
from blackout.cascade.simple_dc import simulate_simple_dc
from blackout.cascade.state import CascadeState
from blackout.cascade.timeline import Timeline
from blackout.deadline import check_deadline
from blackout.errors import ResourceLimitError
from blackout.events import Event
from blackout.flow import FlowState, PowerFlowResult, run_ac, run_dc
from blackout.grid.model import Grid

__all__ = ["simulate", "Cascade"]

_EPS_S = 1e-9


def simulate(grid: Grid, events: list[Event], *,
             settings: CascadeSettings | None = None) -> Timeline:
    """Simulate the cascade that ``events`` start on ``grid``.

    Parameters
    ----------
    grid : the network (never modified).
    events : initiating events (trips, setpoint changes, relay blocks) at their times.
    settings : every model setting; default :class:`CascadeSettings` (AC, 1 h horizon).

    Returns
    -------
    Timeline : ordered events with causes, frequency and served-load traces, summary.

    Examples
    --------
    >>> from blackout import load_case, Event
    >>> from blackout.cascade import simulate, CascadeSettings
    >>> grid = load_case("case39")
    >>> line = grid.find("branch", "4-14")
    >>> tl = simulate(grid, [Event(0.0, "branch", line, "trip", cause="fault")],
    ...               settings=CascadeSettings(mode="dc"))
    >>> tl.events[0].cause
    'fault'
    """
    settings = settings or CascadeSettings()
    if settings.simple:
        return simulate_simple_dc(grid, list(events), settings)
    if settings.accfm:
        from blackout.cascade.accfm import simulate_accfm

        return simulate_accfm(grid, list(events), settings)
    return Cascade(grid, list(events), settings).run()


class Cascade:
    """One cascade simulation: state, islands, protection and the timeline being written."""

    def __init__(self, grid: Grid, events: list[Event], settings: CascadeSettings) -> None:
        self.grid, self.settings = grid, settings
        if not settings.horizon_s <= MAX_HORIZON_S:
            raise ResourceLimitError(f"horizon_s {settings.horizon_s:g} s is past the "
                                     f"longest run, {MAX_HORIZON_S:g} s (30 days)")
        self.state = CascadeState.of(grid)
        clock = settings.start_clock or _snapshot_clock(grid)
        self.timeline = Timeline(grid=grid, mode=settings.mode, start_clock=clock)
        self.tracker = IslandTracker(grid, settings)
        self.protection = Protection(grid, settings, self.state, self.timeline, self.tracker)
        self.pending: list[tuple[float, int, Event, int]] = []
        self._seq = 0
        self.last_event: int | None = None
        self._dc_noted: set[int] = set()
        self._v_last: np.ndarray | None = None
        for ev in sorted(events):
            self.schedule(ev)

    # ------------------------------------------------------------------ the loop
    def run(self) -> Timeline:
        """Run to quiet or to the horizon and return the timeline."""
        t, horizon = 0.0, self.settings.horizon_s
        self.start()
        rounds_at_t, steps = 0, 0
        while True:
            check_deadline()                                   # a trial's time limit
            changed = self.apply_due_events(t)                 # 1. events due now
            if changed:
                self.refind_islands()
            flow = self.solve(t)                               # 2. power flow per island
            self.protection.observe(t, flow)                   #    what the relays see now
            for ev, island in self.protection.actions_due(t):  #    instantaneous / expired
                self.schedule(ev, island)
            if self.due_now(t) and rounds_at_t < 10_000:
                rounds_at_t += 1
                continue
            if t >= horizon - _EPS_S:
                break
            t_next = self.next_stop(t)
            if t_next is None:                                 # 5. quiet: nothing moves
                break
            t = self.advance(t, min(t_next, horizon))          # 3-4. frequency, relay timers
            rounds_at_t, steps = 0, steps + 1
            if steps >= MAX_STEPS_PER_RUN:                     # bounded work (blackout.bounds)
                raise ResourceLimitError(
                    f"the cascade took {steps:,} time steps and reached t = {t:.0f} s of "
                    f"horizon_s = {horizon:g} s (frequency still moving); shorten horizon_s")
        self.timeline.end_time_s = t
        self.timeline.load_lost_by_mechanism_mw = self.protection.lost_by_mechanism()
        return self.timeline

    # ------------------------------------------------------------------ steps
    def start(self) -> None:
        """Solve the pre-event state; its dispatch is every unit's mechanical setpoint."""
        self.refind_islands()
        base = self._run_flow(self.state.flow)
        self.tracker.pm0_mw[:] = np.where(base.gen["in_service"], base.gen["p_mw"],
                                          self.tracker.pm0_mw)
        self.tracker.set_operating_limits(self.tracker.pm0_mw)
        self.refind_islands()
        for isl in self.tracker.islands:
            res = base.islands[isl.label]
            isl.freq.losses_mw = res.generation_mw - res.load_mw if res.converged else 0.0
            self._check_stability(isl)

    def _check_stability(self, isl: Island) -> None:
        """Warn when an island's linearised frequency model has an unstable mode."""
        if isl.freq.energy_mws <= 0:
            return
        mode = isl.freq.least_stable_mode()
        if mode.real > 1e-6:
            name = self.timeline.island_names.get(isl.id, f"island {isl.id}")
            self.timeline.warn(
                f"{name}: the linearised frequency model is unstable (eigenvalue "
                f"{mode.real:+.4f} {mode.imag:+.3f}j rad/s): governor settings do not suit "
                f"this island's inertia; its frequency trace grows by oscillation")

    def schedule(self, event: Event, island: int = -1) -> None:
        """Queue an event; it is applied (and recorded) when its time comes."""
        if self._seq >= MAX_EVENTS_PER_RUN:                    # bounded memory (blackout.bounds)
            raise ResourceLimitError(
                f"more than {MAX_EVENTS_PER_RUN:,} events in one run by t = {event.time_s:g} s "
                f"of horizon_s = {self.settings.horizon_s:g} s (the last: {event.cause}); "
                "shorten horizon_s or schedule fewer threat events")
        heapq.heappush(self.pending, (event.time_s, self._seq, event, island))
        self._seq += 1

    def due_now(self, t: float) -> bool:
        """Whether queued events are due at ``t``."""
        return bool(self.pending) and self.pending[0][0] <= t + _EPS_S

    def apply_due_events(self, t: float) -> bool:
        """Apply and record every event due at ``t``; True if the network or balance changed."""
        changed = False
        while self.due_now(t):
            _, _, ev, island = heapq.heappop(self.pending)
            if not self.protection.still_valid(ev):
                continue
            if island < 0 and ev.kind in ("branch", "gen", "bus", "load"):
                island = self._island_of(ev)
            ev = self._link_common_mode(ev)
            index = self.timeline.record(ev, island)
            did = self.state.apply(ev) if not ev.detail.get("record_only") else False
            if ev.action == "set_droop":
                self.tracker.droop[ev.element] = float(ev.value or 0.0)
                did = True
            if ev.action == "set_p":
                self.tracker.pm0_mw[ev.element] = float(ev.value or 0.0)
            self.protection.applied(ev, index)
            if did:
                changed = True
                self.last_event = index if disturbs(ev) else self.last_event
                for follow in self.protection.hidden_failures(ev, index):
                    self.schedule(follow)
        return changed

    def _link_common_mode(self, ev: Event) -> Event:
        """A threat's common-mode trip names the element whose fault it shares
        (``detail["with"]``): its cause is that element's trip, already recorded."""
        partner = ev.detail.get("with")
        if ev.caused_by is not None or not partner or ev.kind != "branch":
            return ev
        for k in range(len(self.timeline.events) - 1, -1, -1):
            e = self.timeline.events[k]
            if e.kind == "branch" and e.action == "trip" and \
                    str(self.grid.branch["name"][e.element]) == str(partner):
                return replace(ev, caused_by=k)
        return ev

    def refind_islands(self) -> None:
        """Re-find islands; new or split islands inherit frequency states."""
        before = {isl.id for isl in self.tracker.islands}
        self.tracker.rebuild(self.state, self.protection.thresholds_hz, self.last_event)
        self.protection.islands_changed(before, self.last_event)

    def solve(self, t: float) -> PowerFlowResult:
        """Power flow with every island at its quasi-steady governor response.

        An AC island that does not converge is first checked for loss of synchronism: if
        its DC solution puts a corridor beyond the out-of-step angle, the DC solution
        stands in for this step and the out-of-step relays separate the island. An island
        with no active-power source left is de-energised. Otherwise the island is past
        its loadability limit: its margin is found by bisection and only what is needed
        is shed, at its weakest buses (:mod:`blackout.cascade.loadability`), each shed
        recorded with its buses, MW and margin. An island with a generation surplus
        never sheds for voltage collapse: DC flows stand in for that step and the
        timeline says so.
        """
        rounds = 0
        loss_passes = 0
        while True:
            check_deadline()
            solve_state = self._flow_state()
            result = self._run_flow(solve_state)
            bad = [i for i in result.islands if i.energized and not i.converged]
            if not bad:
                if loss_passes < 3 and self._losses_moved(result):
                    loss_passes += 1          # the slack took a change of losses: share it
                    continue
                break
            dc = run_dc(self.grid, solve_state)
            if self.protection.loses_synchronism(dc, [i.island for i in bad]):
                result = dc
                result.extra["fallback"] = "dc: AC did not converge, angle beyond out-of-step"
                break
            acted = False
            surplus: list[Island] = []
            no_margin: list[Island] = []  # no lighter load solves: not a loadability limit
            for res in bad:
                isl = next((x for x in self.tracker.islands if x.label == res.island), None)
                if isl is None:
                    continue
                gone = self.protection.sourceless(t, isl)
                if gone:
                    for ev, island in gone:
                        self.schedule(ev, island)
                    acted = True
                    continue
                if self._in_surplus(isl) or rounds >= 20:
                    surplus.append(isl)
                    continue
                shed = self.protection.voltage_collapse_shed(
                    t, isl, res.reason, solve_state, res.island, self._run_flow)
                if shed is not None:
                    self.schedule(shed, isl.id)
                    acted = True
                else:
                    no_margin.append(isl)
            if not acted:
                result = self._dc_stands_in(t, dc, surplus, no_margin)
                break
            rounds += 1
            if not self.apply_due_events(t):
                break
            self.refind_islands()
        for isl in self.tracker.islands:
            res = result.islands[isl.label]
            if res.converged and result.mode == self.settings.mode:
                isl.freq.losses_mw = res.generation_mw - res.load_mw
        self.timeline.sample(t, self._served_bus_mw(result), len(self.tracker.islands))
        return result

    def _in_surplus(self, isl: Island) -> bool:
        """An island in generation surplus: its quasi-steady frequency (governors at
        their limits, load damping) settles above the continuous band of the ride-through
        envelope (above its lowest over-frequency threshold, 60.6 Hz at 60 Hz)."""
        band = min((thr for thr, _ in self.protection.over), default=1.01 * self.grid.f_hz)
        return isl.freq.f0_hz * (1.0 + isl.freq.quasi_steady()[2]) > band

    def _losses_moved(self, result: PowerFlowResult) -> bool:
        """Update each island's network losses from a converged flow; True when one
        moved by more than max(1 MW, 0.2 % of its load), so that the slack unit, not the
        participation rule, took the change (the state is then solved again)."""
        moved = False
        for isl in self.tracker.islands:
            res = result.islands[isl.label]
            if not res.converged or result.mode != self.settings.mode:
                continue
            losses = res.generation_mw - res.load_mw
            if abs(losses - isl.freq.losses_mw) > max(1.0, 0.002 * abs(res.load_mw)):
                moved = True
            isl.freq.losses_mw = losses
        return moved

    def _dc_stands_in(self, t: float, dc: PowerFlowResult, surplus: list[Island],
                      no_margin: list[Island]) -> PowerFlowResult:
        """DC flows for a step whose AC flow has no solution in a surplus island, or in an
        island where no lighter load solves either (not a loadability limit)."""
        dc.extra["fallback"] = "dc: AC did not converge in a surplus island"
        for islands, why in ((surplus, "generation surplus"),
                             (no_margin, "no lighter load solves either, so it is not a "
                                         "loadability limit that shedding would cure")):
            fresh = [i for i in islands if i.id not in self._dc_noted]
            self._dc_noted.update(i.id for i in islands)
            if not fresh:
                continue
            names = ", ".join(self.timeline.island_names.get(i.id, f"island {i.id}")
                              for i in fresh)
            self.timeline.note_shortcut(
                f"the AC power flow had no solution in {names} ({why}, so no "
                f"voltage-collapse shedding) from t = {t:.1f} s; DC flows stood in for "
                f"relays in those steps")
        return dc

    def next_stop(self, t: float) -> float | None:
        """Earliest time something can happen; None when the system is quiet."""
        times = [self.pending[0][0]] if self.pending else []
        times += self.protection.deadlines(t)
        moving = [abs(isl.freq.rocof_hz_s()) for isl in self.tracker.islands
                  if not isl.freq.is_steady()]
        if moving:  # re-solve often while frequency moves fast, less often as it settles
            fast = max(moving) > 0.01
            times.append(t + self.settings.max_flow_interval_s * (1.0 if fast else 10.0))
        later = [x for x in times if x > t + _EPS_S]
        return min(later) if later else None

    def advance(self, t0: float, t1: float) -> float:
        """Integrate every island's frequency from t0 towards t1, stopping at the first
        threshold crossing; overload relays integrate over the same interval."""
        results = []
        for isl in self.tracker.islands:
            crossing, at, trace = isl.freq.advance(t0, t1, isl.below)
            results.append((isl, crossing, at, trace))
        stops = [c.time_s for _, c, _, _ in results if c is not None]
        t_stop = max(min(stops + [t1]), t0)
        for isl, crossing, at, trace in results:
            dw, x = at(t_stop)
            isl.freq.set_state(dw, x)
            self.timeline.add_frequency(isl.id, trace[trace[:, 0] <= t_stop + _EPS_S])
            if crossing is not None and crossing.time_s <= t_stop + _EPS_S:
                self.protection.crossed(isl, crossing)
        self.protection.integrate(t0, t_stop)
        return t_stop

    # ------------------------------------------------------------------ helpers
    def _flow_state(self) -> FlowState:
        """The state the power flow solves: every island at its quasi-steady governor
        response (units within [pmin, pmax], loads at the quasi-steady frequency), see
        :meth:`IslandFrequency.quasi_steady`; the inertial transient stays in the
        frequency model."""
        fs = self.state.flow.copy()
        for isl in self.tracker.islands:
            p_mw, load_factor, _ = isl.freq.quasi_steady()
            fs.gen_p_mw[isl.gens] = p_mw
            fs.load_p_mw[isl.loads] *= load_factor
        return fs

    def _run_flow(self, fs: FlowState) -> PowerFlowResult:
        if self.settings.mode == "dc":
            return run_dc(self.grid, fs)
        result = run_ac(self.grid, fs, q_limits=self.settings.q_limits, v_start=self._v_last)
        self._remember_voltages(result)
        return result

    def _remember_voltages(self, result: PowerFlowResult) -> None:
        """Keep the voltages of every island that solved: the next solve starts there (a
        warm start, as a continuation would), which matters after large changes."""
        ok = {i.island for i in result.islands if i.converged and i.energized}
        if not ok:
            return
        bus = result.bus
        solved = np.isin(bus["island"], list(ok)) & np.asarray(bus["energized"], dtype=bool)
        v = np.asarray(bus["vm_pu"], dtype=float) * np.exp(
            1j * np.radians(np.asarray(bus["va_degree"], dtype=float)))
        if self._v_last is None:
            self._v_last = np.zeros(self.grid.bus.n, dtype=complex)
        self._v_last[solved] = v[solved]

    def _served_bus_mw(self, result: PowerFlowResult) -> np.ndarray:
        """Connected demand (at nominal frequency) on energised buses, MW per bus."""
        lbus = self.grid.load["bus"]
        served = np.where(result.bus["energized"][lbus], self.state.flow.load_p_mw, 0.0)
        return np.bincount(lbus, weights=served, minlength=self.grid.bus.n)

    def _island_of(self, ev: Event) -> int:
        if ev.element < 0:
            return -1
        if ev.kind == "branch":
            return self.tracker.island_of_bus(int(self.grid.branch["from_bus"][ev.element]))
        if ev.kind in ("gen", "load"):
            return self.tracker.island_of_bus(int(getattr(self.grid, ev.kind)["bus"][ev.element]))
        if ev.kind == "bus":
            return self.tracker.island_of_bus(ev.element)
        return -1


def _snapshot_clock(grid: Grid) -> str | None:
    """"HH:MM:SS" of the case's snapshot time (``grid.notes["snapshot"]``, ISO 8601)."""
    from datetime import datetime

    try:
        return datetime.fromisoformat(str(grid.notes["snapshot"])).strftime("%H:%M:%S")
    except (KeyError, ValueError):
        return None
