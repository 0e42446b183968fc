"""The Timeline: what happened, when, and why; with traces and a summary.

A :class:`Timeline` is the result of :func:`blackout.cascade.simulate`: the ordered
events (each with a cause and, except initiating events, the index of the event
that caused it), per-island frequency traces, served load per bus and per region
over time, islands over time, and a summary. ``to_dict()`` has a stable top level
for scripts: ``{"summary", "events", "traces"}``.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from blackout.events import Event
from blackout.grid.model import Grid
from blackout.impact.metrics import DARK_FRACTION  # re-exported: the one dark threshold
from blackout.jsonsafe import json_safe

__all__ = ["Timeline", "DARK_FRACTION"]



@dataclass
class Timeline:
    """Events, traces and summary of one cascade.

    Attributes
    ----------
    grid : the simulated grid (read-only). mode : "ac", "dc" or "simple_dc".
    events : recorded events in time order; ``caused_by`` is a position in this list.
    event_island : island id of each event's element when it happened (-1: none).
    island_names : id -> readable name. sample_time_s : times of the samples below.
    served_bus_mw : served load per bus at each sample (n_samples x n_bus), MW.
    island_count : energised islands at each sample.
    frequency : island id -> array of (time_s, frequency_hz) rows.
    load_lost_by_mechanism_mw : MW lost per mechanism (ufls, uvls, voltage_collapse,
        operator, tripped, shortfall).
    start_clock : "HH:MM:SS" label of t = 0, or None.
    """

    grid: Grid
    mode: str
    events: list[Event] = field(default_factory=list)
    event_island: list[int] = field(default_factory=list)
    island_names: dict[int, str] = field(default_factory=dict)
    sample_time_s: list[float] = field(default_factory=list)
    served_bus_mw: list[np.ndarray] = field(default_factory=list)
    island_count: list[int] = field(default_factory=list)
    frequency: dict[int, list[np.ndarray]] = field(default_factory=dict)
    load_lost_by_mechanism_mw: dict[str, float] = field(default_factory=dict)
    start_clock: str | None = None
    end_time_s: float = 0.0
    warnings: list[str] = field(default_factory=list)
    modelling_notes: list[str] = field(default_factory=list)

    def warn(self, message: str) -> None:
        """Record a warning about the run (once per distinct message)."""
        if message not in self.warnings:
            self.warnings.append(message)

    def note_shortcut(self, message: str) -> None:
        """Record a modelling shortcut that decided part of the result (once each)."""
        if message not in self.modelling_notes:
            self.modelling_notes.append(message)

    # ------------------------------------------------------------------ recording
    def record(self, event: Event, island: int = -1) -> int:
        """Append an event; returns its index (for ``caused_by``)."""
        self.events.append(event)
        self.event_island.append(int(island))
        return len(self.events) - 1

    def sample(self, time_s: float, served_bus_mw: np.ndarray, islands: int) -> None:
        """Record served load per bus and the island count at ``time_s``."""
        if self.sample_time_s and self.sample_time_s[-1] == time_s:
            self.served_bus_mw[-1] = np.array(served_bus_mw, dtype=float)
            self.island_count[-1] = islands
            return
        self.sample_time_s.append(float(time_s))
        self.served_bus_mw.append(np.array(served_bus_mw, dtype=float))
        self.island_count.append(int(islands))

    def add_frequency(self, island: int, rows: np.ndarray) -> None:
        """Append (time_s, frequency_hz) rows to an island's trace."""
        self.frequency.setdefault(island, []).append(np.asarray(rows, dtype=float))

    # ------------------------------------------------------------------ queries
    @property
    def demand_bus_mw(self) -> np.ndarray:
        """Initial demand per bus, MW."""
        return self.grid.bus_load_mw()

    def tripped(self, kind: str = "branch") -> np.ndarray:
        """Positions of the elements of ``kind`` that tripped (sorted, unique)."""
        hit = {e.element for e in self.events if e.kind == kind and e.action == "trip"}
        return np.array(sorted(hit), dtype=np.int64)

    def served_mw_at(self, time_s: float) -> np.ndarray:
        """Served load per bus at ``time_s`` (the last sample at or before it)."""
        if not self.sample_time_s:
            return self.demand_bus_mw
        k = int(np.searchsorted(np.asarray(self.sample_time_s), time_s, side="right")) - 1
        return self.served_bus_mw[max(k, 0)]

    def served_by_region_mw(self, time_s: float | None = None) -> dict[str, float]:
        """Served load per region name at ``time_s`` (default: the end), MW."""
        served = self.served_mw_at(self.end_time_s if time_s is None else time_s)
        return self._by_region(served)

    def _by_region(self, per_bus: np.ndarray) -> dict[str, float]:
        reg = self.grid.bus["region"]
        names = [str(n) for n in self.grid.region["name"]]
        sums = np.bincount(reg[reg >= 0], weights=per_bus[reg >= 0], minlength=len(names))
        return {n: float(s) for n, s in zip(names, sums, strict=True)}

    def regions_dark(self, time_s: float | None = None) -> list[str]:
        """Regions with demand and less than 10 % of it served at ``time_s`` (default: end)."""
        demand = self._by_region(self.demand_bus_mw)
        served = self.served_by_region_mw(time_s)
        return [r for r, d in demand.items() if d > 0 and served[r] < DARK_FRACTION * d]

    def frequency_trace(self, island: int) -> np.ndarray:
        """(time_s, frequency_hz) rows of one island."""
        parts = self.frequency.get(island, [])
        return np.vstack(parts) if parts else np.zeros((0, 2))

    def chain(self, index: int) -> list[int]:
        """Indices from event ``index`` back to its initiating event."""
        out = [index]
        seen = {index}
        while self.events[out[-1]].caused_by is not None:
            nxt = int(self.events[out[-1]].caused_by)  # type: ignore[arg-type]
            if nxt in seen:
                break
            out.append(nxt)
            seen.add(nxt)
        return out

    def element_name(self, event: Event) -> str:
        """Readable name of an event's element."""
        if event.element < 0:
            return "all" if event.kind != "island" else "island"
        if event.kind in ("branch", "gen", "load", "bus", "region"):
            return str(getattr(self.grid, event.kind)["name"][event.element])
        if event.kind == "island":
            return self.island_names.get(event.element, f"island {event.element}")
        return f"{event.kind} {event.element}"

    def summary(self) -> dict[str, Any]:
        """The summary block of :meth:`to_dict`."""
        demand = float(self.demand_bus_mw.sum())
        served = float(self.served_mw_at(self.end_time_s).sum())
        lost = max(demand - served, 0.0)
        nadir: dict[str, float] = {}
        zenith: dict[str, float] = {}
        for isl in sorted(self.frequency):
            tr = self.frequency_trace(isl)
            if tr.size:
                nadir[str(isl)] = float(tr[:, 1].min())
                zenith[str(isl)] = float(tr[:, 1].max())
        causes = Counter(e.cause for e in self.events if e.action == "trip")
        return {
            "load_lost_mw": lost,
            "load_lost_percent": 100.0 * lost / demand if demand > 0 else 0.0,
            "regions_dark": self.regions_dark(),
            "regions_total": int(sum(1 for d in self._by_region(self.demand_bus_mw).values()
                                     if d > 0)),
            "frequency_nadir_hz": nadir,
            "frequency_zenith_hz": zenith,
            "trips_by_cause": dict(sorted(causes.items())),
            "time_to_collapse_s": self.time_to_collapse_s(),
            "load_lost_by_mechanism_mw": {k: float(v) for k, v in
                                          sorted(self.load_lost_by_mechanism_mw.items())},
            "generation_tripped_mw_by_kind": self.generation_tripped_by_kind(),
            "generation_tripped_mw_by_protection": self.generation_tripped_by_protection(),
            "warnings": list(self.warnings),
            "modelling_notes": list(self.modelling_notes),
        }

    def generation_tripped_by_kind(self) -> dict[str, float]:
        """MW of generation (pre-event output) tripped by unit protection, by unit kind."""
        out: dict[str, float] = {}
        p0 = np.asarray(self.grid.gen["p_mw"], dtype=float)
        kinds = np.asarray(self.grid.gen["kind"]).astype(str)
        for e in self.events:
            if e.kind == "gen" and e.action == "trip" and str(
                    e.detail.get("mechanism", "")).startswith("unit_trip"):
                k = str(kinds[e.element])
                out[k] = out.get(k, 0.0) + float(max(p0[e.element], 0.0))
        return dict(sorted(out.items()))

    def generation_tripped_by_protection(self) -> dict[str, float]:
        """MW of generation (pre-event output) tripped by unit protection, by the relay
        that acted ("under-frequency", "over-frequency", "overspeed", "under-voltage")."""
        out: dict[str, float] = {}
        p0 = np.asarray(self.grid.gen["p_mw"], dtype=float)
        for e in self.events:
            if e.kind == "gen" and e.action == "trip" and str(
                    e.detail.get("mechanism", "")).startswith("unit_trip"):
                out[e.cause] = out.get(e.cause, 0.0) + float(max(p0[e.element], 0.0))
        return dict(sorted(out.items()))

    def time_to_collapse_s(self) -> float | None:
        """First time served load fell below 10 % of demand (None if it never did)."""
        demand = float(self.demand_bus_mw.sum())
        for t, s in zip(self.sample_time_s, self.served_bus_mw, strict=True):
            if demand > 0 and s.sum() < DARK_FRACTION * demand:
                return float(t)
        return None

    # ------------------------------------------------------------------ export
    def to_frame(self, what: str = "events") -> pd.DataFrame:
        """"events", "frequency" (island, time_s, frequency_hz), "served_region" or
        "served_bus" (one column per region / bus, indexed by time_s) as a DataFrame."""
        if what == "events":
            return pd.DataFrame(self._event_rows(detail=True))
        if what == "frequency":
            rows = [pd.DataFrame({"island": isl, "time_s": tr[:, 0], "frequency_hz": tr[:, 1]})
                    for isl in sorted(self.frequency) if (tr := self.frequency_trace(isl)).size]
            return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
                columns=["island", "time_s", "frequency_hz"])
        idx = pd.Index(self.sample_time_s, name="time_s")
        if what == "served_bus":
            return pd.DataFrame(np.array(self.served_bus_mw), index=idx,
                                columns=[str(n) for n in self.grid.bus["name"]])
        if what == "served_region":
            return pd.DataFrame([self._by_region(s) for s in self.served_bus_mw], index=idx)
        raise ValueError(f"unknown frame {what!r}; use events, frequency, served_bus, "
                         "served_region")

    def _event_rows(self, *, detail: bool = False) -> list[dict[str, Any]]:
        rows = []
        for e, isl in zip(self.events, self.event_island, strict=True):
            row: dict[str, Any] = {"time_s": float(e.time_s), "element": self.element_name(e),
                                   "kind": e.kind, "action": e.action, "cause": e.cause,
                                   "island": None if isl < 0 else int(isl)}
            if detail:
                row.update({"value": e.value, "caused_by": e.caused_by,
                            "detail": dict(e.detail)})
            else:  # the JSON rows: the cause chain, the reason and the clock as well
                row.update({"caused_by": None if e.caused_by is None else int(e.caused_by),
                            "why": str(e.detail.get("why") or e.cause),
                            "clock": self.clock(e.time_s),
                            "detail": json_safe(dict(e.detail))})
            rows.append(row)
        return rows

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict: ``{"summary": ..., "events": [...], "traces": {...}}``
        (``traces.start_clock``: "HH:MM:SS" of time_s = 0, or None); each event row carries ``caused_by`` (the
        index of the event that caused it, None for initiating events), ``why`` (the
        reason in words), ``clock`` (wall-clock label) and ``detail`` beside the time,
        element, kind, action, cause and island."""
        served_region = [self._by_region(s) for s in self.served_bus_mw]
        regions = [str(n) for n in self.grid.region["name"]]
        freq = {}
        for isl in sorted(self.frequency):
            tr = _decimate(self.frequency_trace(isl), 400)
            freq[str(isl)] = {"time_s": _floats(tr[:, 0]), "frequency_hz": _floats(tr[:, 1])}
        return {
            "summary": self.summary(),
            "events": self._event_rows(),
            "traces": {
                "time_s": _floats(np.asarray(self.sample_time_s)),
                "served_mw": _floats(np.array([s.sum() for s in self.served_bus_mw])),
                "served_mw_by_region": {r: _floats(np.array([s[r] for s in served_region]))
                                        for r in regions},
                "islands": [int(n) for n in self.island_count],
                "island_names": {str(k): v for k, v in sorted(self.island_names.items())},
                "frequency_hz": freq,
                "start_clock": self.start_clock,  # wall clock of time_s = 0, or None
            },
        }

    def render_text(self) -> str:
        """One line per event ("16:50:03  <element> tripped: <why>"), then the summary."""
        lines = [self._line(i) for i in range(len(self.events))]
        s = self.summary()
        lines.append("")
        lines += [f"warning: {w}" for w in self.warnings]
        lines += [f"modelling shortcut: {m}" for m in self.modelling_notes]
        lines.append(f"load lost: {s['load_lost_mw']:.0f} MW ({s['load_lost_percent']:.1f} %)"
                     + (f"; regions dark: {len(s['regions_dark'])} of {s['regions_total']}"
                        if s["regions_total"] else ""))
        mech = ", ".join(f"{k} {v:.0f} MW" for k, v in s["load_lost_by_mechanism_mw"].items()
                         if v > 0.5)
        if mech:
            lines.append(f"by mechanism: {mech}")
        if s["time_to_collapse_s"] is not None:
            lines.append(f"collapse (served < 10 %) at {self.clock(s['time_to_collapse_s'])}")
        return "\n".join(lines)

    def clock(self, time_s: float) -> str:
        """Wall-clock label (start_clock + t) or "t+12.3s"."""
        if not self.start_clock:
            return f"t+{time_s:.1f}s"
        h, m, sec = (int(x) for x in self.start_clock.split(":"))
        total = h * 3600 + m * 60 + sec + int(math.floor(time_s))
        return f"{total // 3600 % 24:02d}:{total // 60 % 60:02d}:{total % 60:02d}"

    def _line(self, i: int) -> str:
        e = self.events[i]
        verb = {"trip": "tripped", "shed": "shed", "close": "closed", "restore": "restored",
                "set_p": "set", "derate": "derated"}.get(e.action, e.action)
        why = e.detail.get("why") or e.cause
        text = f"{self.clock(e.time_s)}  {self.element_name(e)} {verb}: {why}"
        if e.caused_by is not None:
            parent = self.events[e.caused_by]
            text += f", after {self.element_name(parent)} {parent.action}"
            root = self.events[self.chain(i)[-1]]
            if root is not parent:
                text += f" ({root.cause})"
            else:
                text += f" ({parent.cause})"
        return text


def _floats(a: np.ndarray) -> list[float | None]:
    return [float(v) if math.isfinite(v) else None for v in np.asarray(a, dtype=float).tolist()]


def _decimate(rows: np.ndarray, n: int) -> np.ndarray:
    if rows.shape[0] <= n:
        return rows
    keep = np.unique(np.r_[np.linspace(0, rows.shape[0] - 1, n).astype(int),
                           np.argmin(rows[:, 1]), np.argmax(rows[:, 1])])
    return rows[keep]
