"""Protection and control during a cascade: what each relay sees, its timers, its trips.

:class:`Protection` is the engine's single contact with the physics models: it reads
each power flow (:meth:`observe`), integrates overload relays over time
(:meth:`integrate`), follows frequency threshold crossings (:meth:`crossed`), says
when the next relay can act (:meth:`deadlines`) and turns expired timers into
events with causes (:meth:`actions_due`).
"""

from __future__ import annotations

import numpy as np

from blackout.cascade.islands import Island, IslandTracker
from blackout.cascade.loadability import Solver, plan_shed
from blackout.cascade.operator import Operator
from blackout.cascade.settings import CascadeSettings
from blackout.cascade.state import CascadeState
from blackout.cascade.timeline import Timeline
from blackout.cascade.unit_voltage import UnitVoltageRelays
from blackout.events import Event
from blackout.flow import FlowState, PowerFlowResult
from blackout.grid.model import Grid
from blackout.physics.frequency import Crossing
from blackout.physics.protection import (
    corridor_angles,
    exposed_branches,
    relay_table,
    scaled_envelope,
    time_to_trip_s,
)
from blackout.physics.ufls import UflsScheme
from blackout.physics.unit_trips import UnitTripSettings, unit_stages, voltage_stages

__all__ = ["Protection", "disturbs"]

_EPS = 1e-9

def disturbs(ev: Event) -> bool:
    """Whether an event can cause what follows: switching, setpoints, initiating events.

    Load shedding relieves a disturbance rather than causing one, so it is never the
    cause recorded for a later trip (unless it was itself an initiating event).
    """
    return ev.action in ("trip", "close", "set_p", "set_droop") or ev.caused_by is None


class Protection:
    """Relays, UFLS, UVLS, out-of-step and the operator, with their timers."""

    def __init__(self, grid: Grid, settings: CascadeSettings, state: CascadeState,
                 timeline: Timeline, tracker: IslandTracker) -> None:
        self.grid, self.settings, self.state = grid, settings, state
        self.timeline, self.tracker = timeline, tracker
        br = grid.branch
        vn = grid.bus["vn_kv"]
        self.f_bus, self.t_bus = br["from_bus"], br["to_bus"]
        self.relays = relay_table(br, np.maximum(vn[self.f_bus], vn[self.t_bus]),
                                  settings.relay, settings.relay_by_kv, settings.relay_by_element)
        nbr = br.n
        self.ratio = np.zeros(nbr)          # I / I_rate (emergency rating) at the last flow
        self.ratio_a = np.zeros(nbr)        # I / I_rate against rate_a (operator)
        self.loading_now = np.zeros(nbr)
        self.accumulated_s = np.zeros(nbr)  # ∫ (I/I_rate - 1) dt
        self.overload_since = np.full(nbr, np.nan)
        self.overload_cause: list[int | None] = [None] * nbr
        self.t_obs = 0.0
        f = grid.f_hz
        self.under = scaled_envelope(settings.under_frequency_envelope, f)
        self.over = scaled_envelope(settings.over_frequency_envelope, f)
        self.unit_stages = unit_stages(grid.gen["kind"], f, _trip_table(settings),
                                       self.under, self.over,
                                       settings.unit_trip_spread_hz, settings.seed)
        self._stage_gens = {(st.kind, st.threshold_hz, st.delay_s): np.array(st.gens)
                            for st in self.unit_stages}
        uv_stages = voltage_stages(grid.gen["kind"], _trip_table(settings),
                                   spread_pu=settings.unit_trip_spread_pu, seed=settings.seed)
        self.unit_voltage = UnitVoltageRelays(grid, uv_stages)
        for note in UnitVoltageRelays.notes(stages=bool(uv_stages), mode=settings.mode,
                                            q_limits=settings.q_limits):
            timeline.note_shortcut(note)
        self.ufls = UflsScheme(grid.load["region"] if "region" in grid.load else
                               grid.bus["region"][grid.load["bus"]],
                               [str(n) for n in grid.region["name"]], f,
                               tuple(settings.ufls_stages) + tuple(settings.ufls_anti_stall),
                               {k: tuple(v) for k, v in settings.ufls_by_region.items()})
        self.ufls.blocked_region = state.ufls_blocked
        under_thr = {st.threshold_hz for st in self.unit_stages if st.kind == "under"} | (
            set(self.ufls.thresholds()) if settings.ufls else set())
        over_thr = {st.threshold_hz for st in self.unit_stages if st.kind != "under"}
        self.under_thr, self.over_thr = under_thr, over_thr
        self.thresholds_hz = sorted(under_thr | over_thr)
        self.rng = np.random.default_rng(settings.seed)
        self.corridor = np.asarray(br["corridor"]).astype(str)
        self.oos_since: dict[str, float] = {}
        self.oos_cause: dict[str, int | None] = {}
        self.uv_since = np.full(grid.bus.n, np.nan)
        self.uv_cause: dict[int, int | None] = {}
        self.operator = Operator(grid, settings.operator, state, tracker)
        self.connected_prev = state.connected.copy()
        self.shed_mw: dict[str, np.ndarray] = {}
        self.last_event: int | None = None
        self.energised_bus = np.ones(grid.bus.n, dtype=bool)
        self.dark_cause: dict[int, str] = {}   # load -> "unit_trips_<kind>" when dark by it

    # ------------------------------------------------------------------ observing
    def observe(self, t: float, flow: PowerFlowResult) -> None:
        """Read a power flow: relay currents, corridor angles, voltages, operator view."""
        self.t_obs = t
        br = flow.branch
        vm = flow.bus["vm_pu"]
        s_from = np.hypot(br["p_from_mw"], br["q_from_mvar"])
        s_to = np.hypot(br["p_to_mw"], br["q_to_mvar"])
        with np.errstate(divide="ignore", invalid="ignore"):
            i_from = np.where(vm[self.f_bus] > 0.3, s_from / vm[self.f_bus], s_from)
            i_to = np.where(vm[self.t_bus] > 0.3, s_to / vm[self.t_bus], s_to)
        current = np.maximum(i_from, i_to)  # MVA at 1 pu voltage: proportional to current
        live = br["in_service"]
        factor = self.state.rating_factor
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = self.relays.rating_mva * factor
            self.ratio = np.where(live & (rate > 0), current / rate, 0.0)
            rate_a = self.grid.branch["rate_a_mva"] * factor
            self.ratio_a = np.where(live & (rate_a > 0), current / rate_a, 0.0)
        active = self.relays.enabled & ~self.state.relay_blocked & live
        self.ratio = np.where(active, self.ratio, 0.0)
        starting = (self.ratio > 1.0) & np.isnan(self.overload_since)
        for b in np.flatnonzero(starting).tolist():
            self.overload_since[b] = t
            self.overload_cause[b] = self.last_event
        self.overload_since[(self.ratio <= 1.0) & (self.accumulated_s <= 0)] = np.nan
        self._observe_corridors(t, flow)
        self._observe_voltages(t, flow)
        self.unit_voltage.observe(t, flow, self.state.flow.gen_in, self.last_event)
        self.operator.observe(t, flow, self.ratio_a, self.last_event)
        self._record_dark_islands(t, flow)

    def _observe_corridors(self, t: float, flow: PowerFlowResult) -> None:
        oos = self.settings.out_of_step
        if not oos.enabled:
            return
        angles = corridor_angles(self.corridor, self.f_bus, self.t_bus,
                                 flow.branch["in_service"], flow.bus["va_degree"])
        for name, angle in angles.items():
            if angle > oos.angle_deg and name not in self.oos_since:
                self.oos_since[name] = t
                self.oos_cause[name] = self.last_event
            elif angle <= oos.angle_deg:
                self.oos_since.pop(name, None)
        for name in list(self.oos_since):
            if name not in angles:
                self.oos_since.pop(name)

    def loses_synchronism(self, flow: PowerFlowResult, labels: list[int]) -> bool:
        """Whether a corridor within islands ``labels`` is beyond the out-of-step angle."""
        oos = self.settings.out_of_step
        if not oos.enabled:
            return False
        inside = np.isin(flow.bus["island"][self.f_bus], labels)
        angles = corridor_angles(self.corridor, self.f_bus, self.t_bus,
                                 flow.branch["in_service"] & inside, flow.bus["va_degree"])
        return any(a > oos.angle_deg for a in angles.values())

    def _observe_voltages(self, t: float, flow: PowerFlowResult) -> None:
        uv = self.settings.uvls
        if not uv.enabled or flow.mode != "ac":
            return
        low = flow.bus["energized"] & (flow.bus["vm_pu"] < uv.threshold_pu) & (
            flow.bus["load_mw"] > 0)
        for b in np.flatnonzero(low & np.isnan(self.uv_since)).tolist():
            self.uv_since[b] = t
            self.uv_cause[b] = self.last_event
        self.uv_since[~low] = np.nan

    def _record_dark_islands(self, t: float, flow: PowerFlowResult) -> None:
        """Record, once, the load left without generation when an island goes dark."""
        energised = flow.bus["energized"]
        newly = self.energised_bus & ~energised
        self.energised_bus = energised.copy()
        lbus = self.grid.load["bus"]
        loads = np.flatnonzero(newly[lbus] & (self.state.flow.load_p_mw > 0))
        if loads.size == 0:
            return
        mw = float(self.state.flow.load_p_mw[loads].sum())
        cause = (self.timeline.events[self.last_event] if self.last_event is not None
                 else None)
        while (cause is not None and cause.cause == "de-energised"
               and cause.caused_by is not None):  # an SVC left alone: what left it alone
            cause = self.timeline.events[cause.caused_by]
        if (cause is not None and cause.kind == "gen"
                and str(cause.detail.get("mechanism", "")).startswith("unit_trip")):
            kind = str(self.grid.gen["kind"][cause.element])
            for lo in loads.tolist():
                self.dark_cause[lo] = f"unit_trips_{kind}"
        self.timeline.record(Event(
            t, "island", -1, "shed", "no generation", 1.0, self.last_event,
            {"loads": loads.tolist(), "mw": mw, "record_only": True,
             "why": f"{loads.size} loads ({mw:.0f} MW) left without generation (dark)"}))

    # ------------------------------------------------------------------ time
    def integrate(self, t0: float, t1: float) -> None:
        """Overload relays integrate (I/I_rate - 1) over [t0, t1], floored at zero."""
        dt = t1 - t0
        if dt <= 0:
            return
        self.accumulated_s = np.maximum(self.accumulated_s + (self.ratio - 1.0) * dt, 0.0)
        self.accumulated_s[self.ratio <= 0] = 0.0

    def crossed(self, isl: Island, crossing: Crossing) -> None:
        """An island's frequency crossed a threshold: start or stop its timers."""
        thr, t = crossing.threshold_hz, crossing.time_s
        isl.below[thr] = crossing.down
        beyond = (crossing.down and thr in self.under_thr) or (
            not crossing.down and thr in self.over_thr)
        if beyond:
            isl.since[thr] = t
            isl.since_cause[thr] = isl.last_event
        else:
            isl.since.pop(thr, None)
            isl.fired = {f for f in isl.fired if f[1] != thr}

    def deadlines(self, t: float) -> list[float]:
        """Times at which a running timer will expire (if nothing changes before)."""
        out: list[float] = []
        tt = time_to_trip_s(self.ratio, self.accumulated_s, self.relays.threshold_s)
        finite = tt[np.isfinite(tt)]
        if finite.size:
            out.append(t + float(finite.min()))
        for isl in self.tracker.islands:
            for _, thr, delay, _ in self._frequency_rules(isl):
                if thr in isl.since:
                    out.append(isl.since[thr] + delay)
        out += [s + self.settings.out_of_step.delay_s for s in self.oos_since.values()]
        if np.any(np.isfinite(self.uv_since)):
            out.append(float(np.nanmin(self.uv_since)) + self.settings.uvls.delay_s)
        out += self.unit_voltage.deadlines()
        out += self.operator.deadlines()
        return out

    def _frequency_rules(self, isl: Island) -> list[tuple[str, float, float, int]]:
        """(kind, threshold Hz, delay s, stage) of every frequency rule still able to act."""
        online = set(isl.gens.tolist())
        rules = [(st.kind, st.threshold_hz, st.delay_s, -1) for st in self.unit_stages
                 if online.intersection(st.gens)]
        if self.settings.ufls:
            for k in range(len(self.ufls.stages)):
                if self.ufls.due(k, isl.loads).size:
                    rules.append(("ufls", float(self.ufls.threshold_hz[k]),
                                  float(self.ufls.delay_s[k]), k))
        return [r for r in rules if (r[0], r[1], r[2]) not in isl.fired]

    # ------------------------------------------------------------------ acting
    def actions_due(self, t: float) -> list[tuple[Event, int]]:
        """Events for every relay whose condition has held long enough at time ``t``."""
        out: list[tuple[Event, int]] = []
        out += self._overload_trips(t)
        for isl in self.tracker.islands:
            out += self._sourceless(t, isl)
            out += self._frequency_actions(t, isl)
        out += self._out_of_step_trips(t)
        out += self._uvls_sheds(t)
        out += [(ev, self.tracker.island_of_bus(int(self.grid.gen["bus"][ev.element])))
                for ev in self.unit_voltage.actions_due(t, self.state.flow.gen_in)]
        out += [(ev, -1) for ev in self.operator.actions_due(t)]
        return out

    def _overload_trips(self, t: float) -> list[tuple[Event, int]]:
        out = []
        inst = self.ratio > self.relays.instantaneous
        timed = self.accumulated_s >= self.relays.threshold_s - 1e-7
        for b in np.flatnonzero((inst | timed) & self.state.flow.branch_in).tolist():
            pct = 100.0 * self.ratio[b]
            dur = t - self.overload_since[b] if np.isfinite(self.overload_since[b]) else 0.0
            why = (f"overload {pct:.0f}% (instantaneous above "
                   f"{100 * self.relays.instantaneous[b]:.0f}%)" if inst[b]
                   else f"overload {pct:.0f}% for {dur:.1f} s")
            out.append((Event(t, "branch", b, "trip", "overload", None,
                              self.overload_cause[b],
                              {"loading_percent": pct, "overload_s": dur, "why": why}),
                        self.tracker.island_of_bus(int(self.f_bus[b]))))
        return out

    def _frequency_actions(self, t: float, isl: Island) -> list[tuple[Event, int]]:
        out: list[tuple[Event, int]] = []
        tripping: set[int] = set()
        f_now = isl.freq.frequency_hz
        for kind, thr, delay, stage in self._frequency_rules(isl):
            if thr not in isl.since or isl.since[thr] + delay > t + _EPS:
                continue
            isl.fired.add((kind, thr, delay))
            cause_ev = isl.since_cause.get(thr)
            if kind == "ufls":
                out += self._ufls_sheds(t, isl, stage, cause_ev)
                continue
            cause = {"under": "under-frequency", "over": "over-frequency",
                     "overspeed": "overspeed"}[kind]
            beyond = "below" if kind == "under" else "above"
            why = (f"{cause} ({f_now:.2f} Hz; {beyond} the unit's {thr:.2f} Hz setting "
                   f"for {t - isl.since[thr]:.1f} s, delay {delay:g} s)")
            gens = np.intersect1d(self._stage_gens[(kind, thr, delay)], isl.gens)
            for g in gens.tolist():
                if g in tripping:
                    continue
                tripping.add(g)
                out.append((Event(t, "gen", g, "trip", cause, None, cause_ev,
                                  {"frequency_hz": f_now, "threshold_hz": thr,
                                   "delay_s": delay, "unit_kind": str(self.grid.gen["kind"][g]),
                                   "mechanism": f"unit_trip_{kind}", "why": why}),
                            isl.id))
        return out

    def _sourceless(self, t: float, isl: Island) -> list[tuple[Event, int]]:
        """Units left in an island with no active-power source (an SVC or a
        synchronous condenser alone, pmax 0) cannot hold it energised: it goes dark."""
        pmax = np.asarray(self.grid.gen["pmax_mw"], dtype=float)[isl.gens]
        if isl.gens.size == 0 or pmax.max() > 0:
            return []
        why = "no active-power source left in its island: de-energised"
        return [(Event(t, "gen", g, "trip", "de-energised", None, isl.last_event,
                       {"why": why}), isl.id) for g in isl.gens.tolist()]

    def _ufls_sheds(self, t: float, isl: Island, stage: int,
                    cause_ev: int | None) -> list[tuple[Event, int]]:
        loads = self.ufls.due(stage, isl.loads)
        self.ufls.operated[loads, stage] = True
        s = self.ufls.stages[stage]
        frac = float(self.ufls.fraction[stage])
        region = np.asarray(self.grid.bus["region"])[self.grid.load["bus"][loads]]
        out = []
        for r in sorted(set(region.tolist())):
            group = loads[region == r]
            mw = float((self.state.demand_mw[group] * np.minimum(
                frac, self.state.connected[group])).sum())
            kind, el = ("region", r) if r >= 0 else ("island", isl.id)
            out.append((Event(t, kind, el, "shed", "ufls", frac, cause_ev,
                              {"loads": group.tolist(), "mw": mw, "stage_hz": s.threshold_hz,
                               "mechanism": "ufls",
                               "why": f"UFLS {s.threshold_hz * self.grid.f_hz / 60:.1f} Hz "
                                      f"stage, {100 * frac:.1f}% of load ({mw:.0f} MW)"}),
                        isl.id))
        return out

    def _out_of_step_trips(self, t: float) -> list[tuple[Event, int]]:
        out = []
        delay = self.settings.out_of_step.delay_s
        for name, since in list(self.oos_since.items()):
            if since + delay > t + _EPS:
                continue
            members = np.flatnonzero((self.corridor == name) & self.state.flow.branch_in)
            for b in members.tolist():
                out.append((Event(t, "branch", b, "trip", "out-of-step", None,
                                  self.oos_cause.get(name),
                                  {"corridor": name, "why": f"out-of-step: corridor {name} "
                                   f"beyond {self.settings.out_of_step.angle_deg:.0f}°"}),
                            self.tracker.island_of_bus(int(self.f_bus[b]))))
            self.oos_since.pop(name)
        return out

    def _uvls_sheds(self, t: float) -> list[tuple[Event, int]]:
        uv = self.settings.uvls
        if not uv.enabled:
            return []
        due = np.flatnonzero(np.isfinite(self.uv_since) & (self.uv_since + uv.delay_s <= t + _EPS))
        out = []
        lbus = self.grid.load["bus"]
        for b in due.tolist():
            loads = np.flatnonzero((lbus == b) & (self.state.connected > 0))
            if loads.size:
                mw = float((self.state.flow.load_p_mw[loads] * uv.fraction).sum())
                frac = float(uv.fraction * self.state.connected[loads].max())
                out.append((Event(t, "bus", b, "shed", "uvls", frac, self.uv_cause.get(b),
                                  {"loads": loads.tolist(), "mw": mw, "mechanism": "uvls",
                                   "why": f"UVLS below {uv.threshold_pu:.2f} pu: "
                                          f"{100 * uv.fraction:.0f}% ({mw:.0f} MW)"}),
                            self.tracker.island_of_bus(b)))
            self.uv_since[b] = t  # restart: sheds again if the voltage stays low
        return out

    def voltage_collapse_shed(self, t: float, isl: Island, reason: str, fs: FlowState,
                              label: int, solve: Solver) -> Event | None:
        """Shed what an unsolvable AC island needs to solve again, where it helps most:
        its loadability margin by bisection, then whole loads at its weakest buses
        (:func:`blackout.cascade.loadability.plan_shed`). None when it has no load or no
        lighter load solves either (shedding is then not shown to help)."""
        plan = plan_shed(self.grid, fs, label, isl.loads, isl.gens, self.state.connected,
                         self.state.demand_mw, solve)
        if plan is None:
            return None
        uniform = bool(np.allclose(plan.fraction, plan.fraction[0])) and plan.fraction[0] < 1.0
        value = float(plan.fraction[0]) if uniform else 1.0
        names = [str(self.grid.bus["name"][b]) for b in plan.buses.tolist()]
        where = (f"{len(names)} buses" if len(names) > 4 else ", ".join(names))
        return Event(t, "island", isl.id, "shed", "voltage collapse", value, isl.last_event,
                     {"loads": plan.loads.tolist(), "mw": plan.mw, "buses": names,
                      "margin_load_scale": plan.margin, "mechanism": "voltage_collapse",
                      "why": f"AC power flow has no solution ({reason}); loadability margin "
                             f"{100 * plan.margin:.0f}% of the island's load; "
                             f"{plan.mw:.0f} MW shed at {where}"})

    def sourceless(self, t: float, isl: Island) -> list[tuple[Event, int]]:
        """Trips that de-energise an island with no active-power source (public form)."""
        return self._sourceless(t, isl)

    # ------------------------------------------------------------------ bookkeeping
    def still_valid(self, ev: Event) -> bool:
        """False for a trip of an element that is already out (a fault on a de-energised
        line, a relay acting twice): it changes nothing and is not recorded, so a trip is
        counted once in ``trips_by_cause``."""
        if ev.action != "trip":
            return True
        status = {"branch": self.state.flow.branch_in, "gen": self.state.flow.gen_in}.get(ev.kind)
        return status is None or bool(status[ev.element])

    def applied(self, ev: Event, index: int) -> None:
        """Bookkeeping after an event was applied: relay reset, shed accounting, causes."""
        if ev.kind == "branch" and ev.action in ("trip", "close"):
            self.accumulated_s[ev.element] = 0.0
            self.overload_since[ev.element] = np.nan
        diff = self.connected_prev - self.state.connected
        if np.any(diff != 0):
            mech = str(ev.detail.get("mechanism", ev.cause))
            acc = self.shed_mw.setdefault(mech, np.zeros(self.grid.load.n))
            acc += diff * self.state.demand_mw
            self.connected_prev = self.state.connected.copy()
        if disturbs(ev):
            self.last_event = index
            for isl in self.tracker.islands:
                isl.last_event = index if self._touches(isl, ev) else isl.last_event

    def _touches(self, isl: Island, ev: Event) -> bool:
        if ev.kind == "gen":
            return bool(np.isin(ev.element, isl.gens))
        if ev.kind in ("island", "region", "bus") or ev.kind == "load":
            return True
        if ev.kind == "branch":
            lab = self.tracker.labels[int(self.f_bus[ev.element])]
            return int(lab) == isl.label
        return False

    def islands_changed(self, before: set[int], cause: int | None) -> None:
        """Called after islands were re-found (nothing to do yet beyond bookkeeping)."""
        self.tracker.claim_ids(list(before))

    def hidden_failures(self, ev: Event, index: int) -> list[Event]:
        """Misoperations of relays exposed by a branch trip (probability p each)."""
        p = self.settings.hidden_failures.p
        if p <= 0 or ev.kind != "branch" or ev.action != "trip":
            return []
        out = []
        for b in exposed_branches(self.f_bus, self.t_bus, self.state.flow.branch_in,
                                  ev.element).tolist():
            if self.rng.random() < p:
                out.append(Event(ev.time_s, "branch", b, "trip", "hidden failure", None, index,
                                 {"why": f"hidden failure (relay misoperation, p = {p:g})"}))
        return out

    def lost_by_mechanism(self) -> dict[str, float]:
        """MW of demand lost per mechanism at the end (shedding, then dark islands)."""
        out = {k: float(v.sum()) for k, v in self.shed_mw.items()}
        lbus = self.grid.load["bus"]
        dark = ~self.energised_bus[lbus]
        lost = self.state.flow.load_p_mw * dark
        out["tripped"] = float(lost.sum())
        for lo, why in self.dark_cause.items():  # dark because units tripped on their own
            if dark[lo]:                         # protection (by kind): taken out of "tripped"
                out[why] = out.get(why, 0.0) + float(lost[lo])
                out["tripped"] -= float(lost[lo])
        out["tripped"] = max(out["tripped"], 0.0)
        for k in ("ufls", "uvls", "voltage_collapse", "operator"):
            out.setdefault(k, 0.0)
        return out


def _trip_table(settings: CascadeSettings) -> dict[str, UnitTripSettings]:
    """The per-kind unit protection table, with ``overspeed_pu`` applied where set."""
    from dataclasses import replace

    table = dict(settings.unit_trips)
    if settings.overspeed_pu is not None:
        table = {k: (replace(v, overspeed_pu=settings.overspeed_pu)
                     if v.overspeed_pu is not None and k != "hydro" else v)
                 for k, v in table.items()}
    return table
