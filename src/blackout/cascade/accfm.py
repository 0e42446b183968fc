"""The AC-CFM rule (Noebels, Preece & Panteli, "AC Cascading Failure Model for
Resilience Analysis in Power Networks", IEEE Systems Journal 2022; code
github.com/mnoebels/AC-CFM, ``accfm.m``), on blackout's grid and solvers.

``CascadeSettings.accfm_like()`` / ``blackout run --preset accfm`` select it. Like the
simple DC rule it has no time: ``time_s`` of a recorded event counts rounds (one round is
one level of accfm.m's apply_recursion). Each step and the accfm.m line it follows:

- start (line 277, ``network_prev``): the first round's previous state is the case as
  given, a solved case: the slack unit starts at the intact case's solved output;
- line 177: when an island splits, the generator buses of its pieces are PV again
  (O/UXL holds end); lines 220-229: an island with no unit of pmax > 0 is tripped;
- lines 259-271: add_reference_bus (the reference kept while it has a unit and is not
  held, else the PV bus with the most pmax, :mod:`accfm_slack`); no PV bus left: VCLS;
- line 280: AC power flow (no reactive limits in Newton-Raphson; MATPOWER's runpf
  starts from the last solution, so does this one); line 284: distribute_slack (lines
  634-701: the slack's change shared by pmax, a power flow, the limit loop, a power
  flow); a failed flow: VCLS (line 293);
- lines 303-355, dG = the island's generation after distribute_slack less before it:
  dG > 15 % (dP_limit) of the previous generation, or generation beyond the units'
  pmax: UFLS, every load scaled by min(sum pmax, previous x 1.15) / 1.1 / demand
  (P_overhead 10 %; rounded to 5 decimals; a factor >= 1 sheds everything, line 334),
  then a power flow (line 341) whose outputs the next round starts from;
- lines 358-407: dG < 0 beyond 15 %: OFGS, the smallest units (by pmax) whose outputs
  sum to no more than -dG trip (at least one), then a power flow;
- otherwise (lines 414-575), on the flow after distribute_slack, all at once:
  O/UXL (line 420: a unit's Q beyond a limit by more than 10 % of it, Q_tolerance:
  its bus becomes PQ at that limit, the reference bus too), UVLS (lines 418, 489-547:
  a loaded bus whose voltage rounded to 3 decimals is below vmin sheds 5 % steps of
  what it has, 5 steps at most, then all), ULGT (lines 459-487: a unit below pmin
  trips), OL (line 417: a branch whose mean MVA over
  both ends, rounded to 5 decimals, exceeds 1.01 x rate_a trips);
- VCLS (lines 725-899): an AC OPF with dispatchable loads (:mod:`accfm_opf`); its
  loads, dispatch, voltage setpoints and reference are kept; an OPF or flow that fails
  trips the island (counted as tripped; AC-CFM's "non-converging OPF");
- repeat while anything changed (line 587).

On case39 with branch 4-14 out this gives AC-CFM's published run event for event (its
README: 45.05 %; UFLS 20.97, UVLS 0.88, VCLS 4.61, tripped 18.59 points).

Departures (stated in the output and docs/cascade.md): unit costs for the VCLS OPF are
MATPOWER case39's for every unit (the case format has no costs); the OPF's retries with
PMIN = 0 and without shunts (lines 763-800) are not followed; no grid-forming check (settings.grid_forming needs
MATPOWER gentypes the case format does not carry).
"""

from __future__ import annotations

import numpy as np

from blackout.cascade.accfm_opf import vcls_opf
from blackout.cascade.accfm_slack import clamp_to_limits, references, released_holds
from blackout.cascade.settings import CascadeSettings
from blackout.cascade.simple_dc import start_rounds
from blackout.cascade.state import CascadeState
from blackout.cascade.timeline import Timeline
from blackout.deadline import check_deadline
from blackout.events import Event
from blackout.flow import FlowState, PowerFlowResult, run_ac
from blackout.grid.model import Grid
from blackout.grid.topology import island_labels

__all__ = ["simulate_accfm", "DP_LIMIT", "P_OVERHEAD", "UVLS_PER_STEP", "UVLS_MAX_STEPS",
           "OL_MARGIN"]

#: get_default_settings.m of AC-CFM
DP_LIMIT = 0.15
P_OVERHEAD = 0.1
UVLS_PER_STEP = 0.05
UVLS_MAX_STEPS = 5
#: accfm.m: exceeded_lines ... > RATE_A * 1.01
OL_MARGIN = 1.01
#: get_default_settings.m: Q_tolerance
Q_TOLERANCE = 0.1
MAX_ROUNDS = 100

_VCLS_NOTE = ("AC-CFM preset: voltage-collapse load shedding by AC-CFM's AC OPF with "
              "dispatchable loads (pandapower's PIPS OPF); every unit costs as in MATPOWER "
              "case39 (the case format has no costs); the OPF's PMIN and shunt retries are "
              "not followed")


def _ac(grid: Grid, fs: FlowState, held: dict[int, float] | None = None,
        v_start: np.ndarray | None = None) -> PowerFlowResult:
    """AC power flow as accfm.m runs it: no reactive limits inside Newton-Raphson; the
    buses its O/UXL step converted to PQ are held at their limit (``held``). ``grid`` is
    the case with accfm.m's reference buses (:meth:`_Rounds._references`). MATPOWER's
    runpf starts from the voltages in the bus matrix, which hold the last solution:
    ``v_start`` (complex, pu)."""
    return run_ac(grid, fs, held_q=held, v_start=v_start)


def simulate_accfm(grid: Grid, events: list[Event], settings: CascadeSettings) -> Timeline:
    """Run the AC-CFM rule (module docstring) from ``events``; returns the Timeline."""
    del settings  # the rule's constants are AC-CFM's defaults (module constants)
    # accfm.m line 277 (network_prev = network): the first round's "previous" generation is
    # the case as given, a solved case, so the slack unit starts at its solved output
    intact = run_ac(grid, CascadeState.of(grid).flow)
    state, tl, causes = start_rounds(grid, events, "accfm")
    if all(res.converged for res in intact.islands if res.energized):
        same = state.flow.gen_p_mw == np.asarray(grid.gen["p_mw"], dtype=float)
        solved = np.asarray(intact.gen["p_mw"], dtype=float)
        state.flow.gen_p_mw[same] = solved[same]   # an event's own setpoint is kept
    run = _Rounds(grid, state, tl, causes[0] if causes else None)
    run.go()
    return tl


class _Rounds:
    """The AC-CFM loop on one cascade state."""

    def __init__(self, grid: Grid, state: CascadeState, tl: Timeline, cause: int | None) -> None:
        self.grid, self.state, self.tl, self.cause = grid, state, tl, cause
        self.lost = {"ufls": 0.0, "uvls": 0.0, "voltage_collapse": 0.0}
        self.uvls_steps = np.zeros(grid.bus.n, dtype=np.int64)
        self.pmax = np.asarray(grid.gen["pmax_mw"], dtype=float)
        self.pmin = np.asarray(grid.gen["pmin_mw"], dtype=float)
        self.lbus = np.asarray(grid.load["bus"])
        self.gbus = np.asarray(grid.gen["bus"])
        self.vmin = np.asarray(grid.bus["vmin_pu"], dtype=float)
        self.rate = np.asarray(grid.branch["rate_a_mva"], dtype=float)
        self.held: dict[int, float] = {}   # O/UXL: PV buses held as PQ at a limit
        self.types0 = np.asarray(grid.bus["type"], dtype=np.int64)
        self.ref: set[int] = set(np.flatnonzero(self.types0 == 3).tolist())
        self.no_slack: set[int] = set()   # islands whose every generator bus is held
        self._variants: dict[tuple[tuple[int, ...], bytes], Grid] = {}
        self.vg = np.array(grid.gen["vm_pu"], dtype=float)   # unit voltage setpoints, pu
        self.q_last = np.array(grid.gen["q_mvar"], dtype=float)  # last PF's unit Mvar
        self.run_grid = grid
        self.prev_labels: np.ndarray | None = None
        self.v_last: np.ndarray | None = None   # the last solution per bus (complex pu)

    def go(self) -> None:
        flow = self.state.flow
        rnd = 0
        for rnd in range(1, MAX_ROUNDS + 1):
            check_deadline()
            labels = island_labels(self.grid, branch_in=flow.branch_in, bus_in=flow.bus_in)
            self._release_split(labels)
            changed = self._dead_islands(rnd, labels)
            self._references(labels)
            result = self._pf(flow)
            moved = self._islands(rnd, labels, result)
            # islands are independent (accfm.m recurses into each): protection acts in
            # every island whose balance did not change this round
            self._references(labels)
            result = self._pf(flow)
            quiet = ~np.isin(labels, list(moved))
            changed |= bool(moved)
            changed |= self._xl(rnd, result, quiet) | self._ulgt(rnd, result, labels, quiet)
            changed |= self._uvls(rnd, result, quiet) | self._overloads(rnd, result, labels,
                                                                        quiet)
            served = np.bincount(self.lbus, weights=flow.load_p_mw * self._energised(labels),
                                 minlength=self.grid.bus.n)
            self.tl.sample(float(rnd), served, int(labels.max()) + 1 if labels.size else 0)
            if not changed or float(flow.load_p_mw.sum()) <= 0:
                break
        labels = island_labels(self.grid, branch_in=flow.branch_in, bus_in=flow.bus_in)
        dark = ~self._energised(labels)
        self.lost["tripped"] = float((flow.load_p_mw * dark).sum())
        self.tl.load_lost_by_mechanism_mw = dict(self.lost)
        if self.held:
            names = ", ".join(str(self.grid.bus["name"][b]) for b in sorted(self.held))
            self.tl.note_shortcut(f"AC-CFM O/UXL: generator buses held at a reactive limit "
                                  f"(PV to PQ, 10 % tolerance): {names}")
        self.tl.end_time_s = float(rnd)

    # ------------------------------------------------------------------ steps
    def _pf(self, fs: FlowState) -> PowerFlowResult:
        """One AC power flow from the last solution (MATPOWER keeps it in the bus matrix)."""
        res = _ac(self.run_grid, fs, self.held, self.v_last)
        vm = np.asarray(res.bus["vm_pu"], dtype=float)
        va = np.radians(np.asarray(res.bus["va_degree"], dtype=float))
        ok = np.zeros(self.grid.bus.n, dtype=bool)
        labels = island_labels(self.grid, branch_in=fs.branch_in, bus_in=fs.bus_in)
        for isl in res.islands:
            if isl.energized and isl.converged:
                ok |= labels == isl.island
        v = vm * np.exp(1j * va)
        q = np.asarray(res.gen["q_mvar"], dtype=float)
        self.q_last = np.where(ok[self.gbus], q, self.q_last)
        self.v_last = np.where(ok, v, self.v_last) if self.v_last is not None else \
            np.where(ok, v, 0)
        return res

    def _release_split(self, labels: np.ndarray) -> None:
        """accfm.m line 177: O/UXL holds end in the pieces of a split island."""
        for b in released_holds(self.prev_labels, labels) & set(self.held):
            self.held.pop(b)
        self.prev_labels = labels

    def _references(self, labels: np.ndarray) -> None:
        """accfm.m's add_reference_bus (:func:`accfm_slack.references`)."""
        self.ref, self.no_slack = references(labels, self.gbus, self.state.flow.gen_in,
                                             self.pmax, set(self.held), self.ref)
        self._variant()

    def _variant(self) -> None:
        """The case with accfm.m's reference buses and unit voltage setpoints (VG)."""
        key = (tuple(sorted(self.ref)), self.vg.tobytes())
        if key not in self._variants:
            types = np.where(self.types0 == 3, 2, self.types0)
            types[list(self.ref)] = 3
            self._variants[key] = self.grid.replace(
                bus=self.grid.bus.with_columns(type=types),
                gen=self.grid.gen.with_columns(vm_pu=self.vg.copy()))
        self.run_grid = self._variants[key]

    def _energised(self, labels: np.ndarray) -> np.ndarray:
        """Per load: whether its island has an in-service unit with pmax > 0."""
        flow = self.state.flow
        on = flow.gen_in & (self.pmax > 0)
        live = set(labels[self.gbus[on]].tolist()) - {-1}
        return np.isin(labels[self.lbus], list(live)) & flow.bus_in[self.lbus]

    def _dead_islands(self, rnd: int, labels: np.ndarray) -> bool:
        flow = self.state.flow
        changed = False
        for g in np.flatnonzero(flow.gen_in & (self.pmax <= 0)).tolist():
            lab = labels[self.gbus[g]]
            others = flow.gen_in & (self.pmax > 0) & (labels[self.gbus] == lab)
            if not others.any():
                flow.gen_in[g] = False
                self.tl.record(Event(float(rnd), "gen", g, "trip", "de-energised", None,
                                     self.cause, {"why": "no generation available in its "
                                                         "island (accfm.m)"}), int(lab))
                changed = True
        return changed

    def _islands(self, rnd: int, labels: np.ndarray, result: PowerFlowResult) -> set[int]:
        """Balance each island (accfm.m's UFLS / OFGS / VCLS); the labels that changed."""
        flow = self.state.flow
        changed: set[int] = set()
        for res in result.islands:
            if not res.energized:
                continue
            buses = np.flatnonzero(labels == res.island)
            gens = np.flatnonzero(flow.gen_in & np.isin(self.gbus, buses))
            loads = np.flatnonzero(np.isin(self.lbus, buses) & (self.state.connected > 0))
            if gens.size == 0:
                continue
            if not res.converged or res.island in self.no_slack:
                if self._vcls(rnd, res.island, loads, gens, res.reason):
                    changed.add(res.island)
                continue
            sum_prev = float(flow.gen_p_mw[gens].sum())   # accfm.m line 277: network_prev
            p_now = self._distribute(res.island, gens, result)
            if p_now is None:  # accfm.m lines 285-295: the PF failed: VCLS
                if self._vcls(rnd, res.island, loads, gens, "AC flow after distribute_slack"):
                    changed.add(res.island)
                continue
            flow.gen_p_mw[gens] = p_now   # the network carries its PF outputs
            sum_g = float(p_now.sum())
            d_g = sum_g - sum_prev                           # accfm.m line 305
            sum_d = float(flow.load_p_mw[loads].sum())
            sum_gmax = float(self.pmax[gens].sum())
            if d_g > 0 and sum_d > 0:
                if not (round(sum_gmax, 2) >= round(sum_g, 2)   # accfm.m line 315
                        and (d_g <= DP_LIMIT * sum_prev or d_g < 1)):
                    target = min(sum_gmax, sum_prev * (1 + DP_LIMIT))   # line 326
                    factor = round(target / (1 + P_OVERHEAD) / sum_d, 5)
                    if factor >= 1:
                        factor = 0.0  # accfm.m line 334: "if losses are high ..."
                    self._ufls(rnd, res.island, loads, 1.0 - factor)
                    self._settle(res.island, gens)            # line 341
                    changed.add(res.island)
            elif d_g < 0 and -d_g > DP_LIMIT * sum_prev:     # accfm.m line 361
                self._ofgs(rnd, res.island, gens, p_now, -d_g)
                self._settle(res.island, gens)                # line 392
                changed.add(res.island)
        return changed

    def _settle(self, island: int, gens: np.ndarray) -> None:
        """accfm.m runs a power flow right after UFLS or OFGS and carries its outputs into
        the next round (the slack took the change): the same here."""
        flow = self.state.flow
        res = self._pf(flow)
        live = gens[flow.gen_in[gens]]
        if island < len(res.islands) and res.islands[island].converged:
            flow.gen_p_mw[live] = np.asarray(res.gen["p_mw"], dtype=float)[live]

    def _distribute(self, island: int, gens: np.ndarray, result: PowerFlowResult
                    ) -> np.ndarray | None:
        """accfm.m's distribute_slack (lines 634-701) on one island; returns the units'
        outputs (MW) after its power flow, None if that flow fails.

        The slack unit's change since the previous round (ignored under 1 MW) is added to
        every unit in proportion to pmax and a power flow run (the slack unit's output
        is that flow's); its outputs are brought within [pmin, pmax]
        (:func:`accfm_slack.clamp_to_limits`); a power flow again."""
        flow = self.state.flow
        p_pf = np.asarray(result.gen["p_mw"], dtype=float)[gens]
        slack = [i for i, g in enumerate(gens.tolist()) if int(self.gbus[g]) in self.ref]
        if not slack:
            return p_pf
        change = p_pf[slack[0]] - float(flow.gen_p_mw[gens[slack[0]]])
        if abs(change) < 1:                                  # accfm.m line 650
            return p_pf
        pmax, pmin = self.pmax[gens], self.pmin[gens]
        flow.gen_p_mw[gens] = p_pf + pmax / pmax.sum() * change   # lines 655-661
        res = self._pf(flow)                                 # line 664
        if island >= len(res.islands) or not res.islands[island].converged:
            return None
        p = np.asarray(res.gen["p_mw"], dtype=float)[gens]
        p = clamp_to_limits(p, pmin, pmax)                   # lines 668-696
        flow.gen_p_mw[gens] = p
        res = self._pf(flow)            # line 699
        if island >= len(res.islands) or not res.islands[island].converged:
            return None
        return np.asarray(res.gen["p_mw"], dtype=float)[gens]

    def _ufls(self, rnd: int, island: int, loads: np.ndarray, frac: float) -> None:
        flow = self.state.flow
        mw = float(flow.load_p_mw[loads].sum() * frac)
        ev = Event(float(rnd), "island", island, "shed", "ufls", None, self.cause,
                   {"loads": loads.tolist(), "mw": mw, "mechanism": "ufls", "fraction": frac,
                    "why": f"AC-CFM UFLS: {100 * frac:.1f}% of the island's load ({mw:.0f} MW)"})
        self._shed_fraction(ev, loads, frac)

    def _shed_fraction(self, ev: Event, loads: np.ndarray, frac: float) -> None:
        """Scale ``loads`` by (1 - frac) of what they have now (AC-CFM scales PD)."""
        before = self.state.connected.copy()
        self.tl.record(ev, -1)
        self.state.set_load_fraction(loads, self.state.connected[loads] * (1.0 - frac))
        mech = str(ev.detail["mechanism"])
        self.lost[mech] += float(((before - self.state.connected) * self.state.demand_mw).sum())

    def _ofgs(self, rnd: int, island: int, gens: np.ndarray, p_now: np.ndarray,
              excess: float) -> None:
        order = np.argsort(self.pmax[gens], kind="stable")
        cum = np.cumsum(p_now[order])
        k = int(np.searchsorted(cum, excess, side="right"))
        k = max(k, 1)
        flow = self.state.flow
        for g in gens[order[:k]].tolist():
            flow.gen_in[g] = False
            self.tl.record(Event(float(rnd), "gen", g, "trip", "over-frequency", None,
                                 self.cause, {"mechanism": "ofgs",
                                              "why": f"AC-CFM OFGS: generation fell by "
                                                     f"{excess:.0f} MW; smallest units trip"}),
                           island)

    def _vcls(self, rnd: int, island: int, loads: np.ndarray, gens: np.ndarray,
              reason: str) -> bool:
        """accfm.m apply_vcls / apply_opf (lines 725-899, :mod:`accfm_opf`): the OPF's
        loads (only if it sheds one, line 847), its units' P, Q and voltage setpoints and
        its reference bus are kept (lines 841-868); then a power flow (line 871): if it
        fails, or the OPF does, the island is tripped (lines 803, 889)."""
        flow, n = self.state.flow, self.grid.bus.n
        labels = island_labels(self.grid, branch_in=flow.branch_in, bus_in=flow.bus_in)
        buses = np.flatnonzero(labels == island)
        inside = labels == island
        branches = np.flatnonzero(flow.branch_in & inside[self.grid.branch["from_bus"]]
                                  & inside[self.grid.branch["to_bus"]])
        lb = self.lbus[loads]
        pd = np.bincount(lb, weights=flow.load_p_mw[loads], minlength=n)[buses]
        qd = np.bincount(lb, weights=flow.load_q_mvar[loads], minlength=n)[buses]
        v = self.v_last[buses] if self.v_last is not None else np.ones(buses.size, complex)
        self.tl.note_shortcut(_VCLS_NOTE)
        opf = vcls_opf(self.grid, buses, branches, gens, pd, qd, v, flow.gen_p_mw[gens],
                       self.q_last[gens], self.vg[gens], self.held, self.ref,
                       island in self.no_slack)
        if opf is None:
            return self._trip_island(rnd, island, gens, "the VCLS OPF did not converge")
        before = self.state.connected.copy()
        if np.any(np.round(pd - opf.served_p_mw) > 0):          # accfm.m line 844
            ratio = np.where(pd > 0, opf.served_p_mw / np.where(pd > 0, pd, 1.0), 1.0)
            local = np.full(n, -1, dtype=np.int64)
            local[buses] = np.arange(buses.size)
            self.state.set_load_fraction(loads, self.state.connected[loads]
                                         * ratio[local[lb]])
            self.uvls_steps[buses[opf.served_p_mw < pd - 1e-9]] += 1   # line 852
        shed = float(((before - self.state.connected) * self.state.demand_mw).sum())
        self.lost["voltage_collapse"] += shed
        self.tl.record(Event(float(rnd), "island", island, "shed", "voltage collapse", None,
                             self.cause, {"loads": loads.tolist(), "mw": shed,
                                          "buses": buses[opf.served_p_mw
                                                         < pd - 0.5].tolist(),
                                          "mechanism": "voltage_collapse",
                                          "why": f"AC-CFM VCLS ({reason}): AC OPF with "
                                                 f"dispatchable loads sheds {shed:.0f} MW"}),
                       -1)
        flow.gen_p_mw[gens] = opf.gen_p_mw
        self.vg[gens] = opf.gen_vm_pu
        for b in [b for b in self.held if inside[b]]:
            self.held[b] = float(opf.gen_q_mvar[self.gbus[gens] == b].sum())
        self.held.pop(opf.ref, None)
        self.ref = {r for r in self.ref if not inside[r]} | {opf.ref}
        self.no_slack.discard(island)
        assert self.v_last is not None
        self.v_last[buses] = opf.v
        self._variant()
        res = self._pf(flow)                                    # line 871
        if island >= len(res.islands) or not res.islands[island].converged:
            return self._trip_island(rnd, island, gens, "the AC flow after the VCLS OPF "
                                                        "did not converge")
        flow.gen_p_mw[gens] = np.asarray(res.gen["p_mw"], dtype=float)[gens]
        return True

    def _trip_island(self, rnd: int, island: int, gens: np.ndarray, why: str) -> bool:
        """accfm.m lines 803-817 / 882-895: the island is tripped (its units out; its load
        counts as tripped here, as "non-converging OPF" in AC-CFM)."""
        for g in gens.tolist():
            self.state.flow.gen_in[g] = False
            self.tl.record(Event(float(rnd), "gen", g, "trip", "island tripped", None,
                                 self.cause, {"why": f"AC-CFM: {why}; island tripped"}),
                           island)
        return True

    def _xl(self, rnd: int, result: PowerFlowResult, quiet: np.ndarray) -> bool:
        """accfm.m's O/UXL: a generator bus whose reactive output lies beyond its units'
        limits by more than Q_tolerance (10 %) becomes a PQ bus at the limit crossed."""
        g = self.grid.gen
        gbus = self.gbus
        on = self.state.flow.gen_in & np.asarray(result.gen["in_service"], dtype=bool)
        nb = self.grid.bus.n
        q = np.bincount(gbus[on], weights=np.asarray(result.gen["q_mvar"], dtype=float)[on],
                        minlength=nb)
        qmax = np.bincount(gbus[on], weights=np.asarray(g["qmax_mvar"], dtype=float)[on],
                           minlength=nb)
        qmin = np.bincount(gbus[on], weights=np.asarray(g["qmin_mvar"], dtype=float)[on],
                           minlength=nb)
        changed = False
        for b in np.unique(gbus[on]).tolist():
            # accfm.m line 438: the reference bus too (add_reference_bus then moves it)
            if b in self.held or not quiet[b]:
                continue
            if q[b] - qmax[b] > abs(Q_TOLERANCE * qmax[b]):
                self.held[b] = float(qmax[b])
            elif q[b] - qmin[b] < -abs(Q_TOLERANCE * qmin[b]):
                self.held[b] = float(qmin[b])
            else:
                continue
            changed = True
        return changed

    def _ulgt(self, rnd: int, result: PowerFlowResult, labels: np.ndarray,
              quiet: np.ndarray) -> bool:
        """accfm.m's ULGT (lines 419, 459-487): a unit whose output (rounded to 5 decimals)
        is below its pmin trips."""
        p = np.round(np.asarray(result.gen["p_mw"], dtype=float), 5)
        flow = self.state.flow
        low = np.flatnonzero(flow.gen_in & quiet[self.gbus] & (p < self.pmin))
        for g in low.tolist():
            flow.gen_in[g] = False
            self.tl.record(Event(float(rnd), "gen", g, "trip", "under-load", None, self.cause,
                                 {"why": f"AC-CFM ULGT: {p[g]:.1f} MW below pmin "
                                         f"{self.pmin[g]:.1f} MW"}),
                           int(labels[self.gbus[g]]))
        return bool(low.size)

    def _uvls(self, rnd: int, result: PowerFlowResult, quiet: np.ndarray) -> bool:
        vm = np.asarray(result.bus["vm_pu"], dtype=float)
        energized = np.asarray(result.bus["energized"], dtype=bool)
        load_at = np.bincount(self.lbus, weights=self.state.flow.load_p_mw,
                              minlength=self.grid.bus.n)
        low = np.flatnonzero(energized & quiet & (np.round(vm, 3) < self.vmin) & (load_at > 0))
        changed = False
        for b in low.tolist():
            loads = np.flatnonzero((self.lbus == b) & (self.state.connected > 0))
            if loads.size == 0:
                continue
            steps = int(self.uvls_steps[b])
            frac = (UVLS_PER_STEP / (1 - UVLS_PER_STEP * steps) if steps < UVLS_MAX_STEPS
                    else 1.0)
            self.uvls_steps[b] += 1
            mw = float(self.state.flow.load_p_mw[loads].sum() * frac)
            self._shed_fraction(Event(float(rnd), "bus", b, "shed", "uvls", None, self.cause,
                                      {"loads": loads.tolist(), "mw": mw, "mechanism": "uvls",
                                       "why": f"AC-CFM UVLS: {vm[b]:.3f} pu below vmin; "
                                              f"{100 * frac:.0f}% of the bus load"}),
                                loads, frac)
            changed = True
        return changed

    def _overloads(self, rnd: int, result: PowerFlowResult, labels: np.ndarray,
                   quiet: np.ndarray) -> bool:
        br = result.branch
        s_from = np.hypot(br["p_from_mw"], br["q_from_mvar"])
        s_to = np.hypot(br["p_to_mw"], br["q_to_mvar"])
        mean = 0.5 * (s_from + s_to)
        flow = self.state.flow
        over = np.flatnonzero(flow.branch_in & (self.rate > 0) & quiet[self.grid.branch["from_bus"]]
                              & (np.round(mean, 5) > np.round(self.rate * OL_MARGIN, 5)))
        for b in over.tolist():
            flow.branch_in[b] = False
            pct = 100.0 * mean[b] / self.rate[b]
            self.tl.record(Event(float(rnd), "branch", b, "trip", "overload", None, self.cause,
                                 {"loading_percent": pct, "round": rnd,
                                  "why": f"AC-CFM OL: {pct:.0f}% of rate_a (mean MVA of both "
                                         f"ends > 1.01 x rate_a)"}),
                           int(labels[self.grid.branch["from_bus"][b]]))
        return bool(over.size)
