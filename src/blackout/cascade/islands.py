"""Islands during a cascade: who is in which island, and each island's frequency state.

Islands are re-found after every change. An island keeps its identity (its id, its
frequency and governor states, its running frequency timers) when it holds most of
the inertia of an island that existed before; the other parts of a split get new
ids and inherit the parent's frequency state (they were one rotating mass until
the split). Islands without an online generator are dark.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from blackout.cascade.settings import CascadeSettings
from blackout.cascade.state import CascadeState
from blackout.grid.model import Grid
from blackout.grid.topology import island_labels
from blackout.physics.frequency import GovernorModel, IslandFrequency, governor_for_kind

__all__ = ["Island", "IslandTracker", "machine_mva"]


def _hydro_constants(grid: Grid) -> dict[str, float]:
    """Hydro water starting time and gate servo constant (s): the case's
    ``notes["dynamics_by_kind"]["hydro"]`` where it states them, else Tw 1 s and
    Tg 0.5 s (IEC CIM GovHydro1 typical values)."""
    out = {"tw_s": 1.0, "tg_s": 0.5}
    dyn = grid.notes.get("dynamics_by_kind") if isinstance(grid.notes, dict) else None
    hyd = dyn.get("hydro") if isinstance(dyn, dict) else None
    if isinstance(hyd, dict):
        for key in out:
            try:
                val = float(hyd[key])
            except (KeyError, TypeError, ValueError):
                continue
            if 0.0 < val < 100.0:
                out[key] = val
    return out


def machine_mva(grid: Grid) -> np.ndarray:
    """Machine rating per generator: max(mbase_mva, pmax_mw, 1) (some cases carry mbase 1)."""
    return np.maximum(np.maximum(grid.gen["mbase_mva"], grid.gen["pmax_mw"]), 1.0)


@dataclass
class Island:
    """One energised island.

    id : stable identity across splits. label : its number in this topology (as the
    power flow numbers islands). gens, loads : positions of its online generators and
    its loads. freq : its frequency model. below : for every frequency threshold (Hz),
    whether the frequency is below it. since : when the frequency went beyond a
    threshold (below an under-frequency one, above an over-frequency one), and
    since_cause the event index that started that excursion. last_event : the most
    recent event that changed this island's balance (the cause of what follows).
    """

    id: int
    label: int
    gens: np.ndarray
    loads: np.ndarray
    freq: IslandFrequency
    below: dict[float, bool] = field(default_factory=dict)
    since: dict[float, float] = field(default_factory=dict)
    since_cause: dict[float, int | None] = field(default_factory=dict)
    last_event: int | None = None
    fired: set[tuple[str, float, float]] = field(default_factory=set)


class IslandTracker:
    """Finds islands and builds their frequency models, keeping identities across changes."""

    def __init__(self, grid: Grid, settings: CascadeSettings) -> None:
        self.grid = grid
        self.settings = settings
        self.s_mva = machine_mva(grid)
        self.models: list[GovernorModel] = []
        self.group = np.zeros(grid.gen.n, dtype=np.int64)
        hydro = _hydro_constants(grid)
        for g, kind in enumerate(grid.gen["kind"]):
            model = governor_for_kind(settings.governors, str(kind))
            if settings.tune_hydro_governors and model.name.startswith("hydro"):
                r_perm = float(grid.gen["droop_pu"][g])
                model = GovernorModel.hydro_tuned(
                    h_s=float(grid.gen["inertia_h_s"][g]), tw_s=hydro["tw_s"],
                    tg_s=hydro["tg_s"], r_perm=r_perm if r_perm > 0 else 0.05)
            if model not in self.models:
                self.models.append(model)
            self.group[g] = self.models.index(model)
        self.droop = np.array(grid.gen["droop_pu"], dtype=float)
        self.pm0_mw = np.array(grid.gen["p_mw"], dtype=float)
        self.set_operating_limits(self.pm0_mw)
        self.islands: list[Island] = []
        self.labels = np.zeros(grid.bus.n, dtype=np.int64)
        self.next_id = 0

    def set_operating_limits(self, p_case_mw: np.ndarray) -> None:
        """Each unit's operating range, MW: [pmin, pmax] from the case, widened to
        include the pre-event operating point ``p_case_mw`` where the case itself
        dispatches a unit outside its limits (blackout does not re-dispatch a case;
        such units go at most as far as the case put them; a unit the case runs at
        negative output, an import or pumping equivalent, keeps that floor)."""
        pmax = np.maximum(np.asarray(self.grid.gen["pmax_mw"], dtype=float), 0.0)
        pmin = np.clip(np.asarray(self.grid.gen["pmin_mw"], dtype=float), 0.0, pmax)
        p = np.asarray(p_case_mw, dtype=float)
        self.pmax_mw = np.maximum(pmax, p)
        self.pmin_mw = np.minimum(pmin, p)  # a case's negative "unit" (a net import
        # or pumping equivalent) keeps its negative dispatch as its lower limit

    def gain_mw(self, gens: np.ndarray) -> np.ndarray:
        """Governor gain S_i / R_i (MW per pu speed); 0 for units without a governor."""
        r = self.droop[gens]
        has = (r > 0) & np.array([self.models[k].order > 0 for k in self.group[gens]], dtype=bool)
        return np.where(has, self.s_mva[gens] / np.where(r > 0, r, 1.0), 0.0)

    def rebuild(self, state: CascadeState, thresholds: list[float],
                cause: int | None) -> list[Island]:
        """Re-find islands after a change; returns the new list (also kept in ``islands``)."""
        grid, flow = self.grid, state.flow
        self.labels = island_labels(grid, branch_in=flow.branch_in, bus_in=flow.bus_in)
        gbus, lbus = grid.gen["bus"], grid.load["bus"]
        online = flow.gen_in & flow.bus_in[gbus]
        gen_label = np.where(online, self.labels[gbus], -1)
        load_label = np.where(flow.bus_in[lbus], self.labels[lbus], -1)
        old_of_gen = np.full(grid.gen.n, -1, dtype=np.int64)
        old_by_id = {isl.id: isl for isl in self.islands}
        for isl in self.islands:
            old_of_gen[isl.gens] = isl.id
        h = np.array(grid.gen["inertia_h_s"], dtype=float) * self.s_mva
        n = int(self.labels.max()) + 1 if self.labels.size else 0
        candidates = []
        for k in range(n):
            gens = np.flatnonzero(gen_label == k)
            if gens.size == 0:
                continue
            weight = np.bincount(np.maximum(old_of_gen[gens], 0) if gens.size else gens,
                                 weights=h[gens] * (old_of_gen[gens] >= 0))
            parent = int(np.argmax(weight)) if weight.size and weight.max() > 0 else -1
            candidates.append((k, gens, parent, float(h[gens].sum())))
        # the heaviest child of each parent keeps the parent's id
        keeper: dict[int, int] = {}
        for k, _, parent, _energy in sorted(candidates, key=lambda c: -c[3]):
            if parent >= 0 and parent not in keeper:
                keeper[parent] = k
        new: list[Island] = []
        for k, gens, parent, _ in candidates:
            old = old_by_id.get(parent)
            keeps = old is not None and keeper.get(parent) == k
            iid = parent if keeps else self._fresh_id()
            loads = np.flatnonzero(load_label == k)
            freq = IslandFrequency(
                f0_hz=grid.f_hz, models=self.models, gens=gens, h_s_mva=h[gens],
                gain_mw=self.gain_mw(gens), pm0_mw=self.pm0_mw[gens],
                pmax_mw=self.pmax_mw[gens], pmin_mw=self.pmin_mw[gens],
                group=self.group[gens], load0_mw=float(state.flow.load_p_mw[loads].sum()),
                damping=self.settings.load_damping,
                losses_mw=old.freq.losses_mw if old is not None and keeps else 0.0,
                dw_pu=old.freq.dw_pu if old is not None else 0.0,
                x=old.freq.x.copy() if old is not None else np.zeros(0),
                agc_s=self.settings.agc_s,
                agc_pu=old.freq.agc_pu if old is not None else 0.0)
            isl = Island(iid, k, gens, loads, freq)
            if old is not None:
                isl.below = dict(old.below)
                isl.since = dict(old.since)
                isl.since_cause = dict(old.since_cause)
                isl.fired = set(old.fired)
                isl.last_event = cause if cause is not None else old.last_event
            else:
                isl.below = {thr: isl.freq.frequency_hz < thr for thr in thresholds}
                isl.last_event = cause
            new.append(isl)
        self.islands = new
        return new

    def _fresh_id(self) -> int:
        iid = self.next_id
        self.next_id += 1
        return iid

    def claim_ids(self, ids: list[int]) -> None:
        """Make sure fresh ids never reuse ``ids``."""
        if ids:
            self.next_id = max(self.next_id, max(ids) + 1)

    def island_of_bus(self, bus: int) -> int:
        """Island id of a bus (-1 when dark)."""
        lab = int(self.labels[bus])
        for isl in self.islands:
            if isl.label == lab:
                return isl.id
        return -1
