"""A run's result as plain, JSON-safe "view data": events with their cause chains and frames.

Both the HTML report and the web API draw from :func:`view_data`. It accepts a
:class:`blackout.cascade.Timeline` or the dict of a run (``Timeline.to_dict()``, possibly
with the ``restoration``, ``critical``, ``scenario``, ``settings`` or ``assumptions``
sections other parts of blackout add) and returns:

- ``events``: one row per event with its id, clock label, reason and cause chain;
- ``frames``: the state at each sample time: served fraction per region (and per bus
  when known), branches and generators out, dark regions, served MW;
- ``branch_trip``: for each tripped branch, when and why (and its loading at the trip);
- per cascade frame, ``branches_dead`` (in service but in an island with no generator
  left: de-energised) and, for cases up to :data:`MAX_LOADING_BUSES` buses with per-bus
  served load (a Timeline), ``branch_loading_percent`` (see :func:`frame_loading`; one
  flow per topology and served load in 2 % steps, at most :data:`MAX_LOADING_FLOWS`);
- the ``summary`` and ``traces`` of the run, and optional sections passed through.

Nothing here runs the cascade: the branch loading shown is a DC power flow of each frame's
topology and served load (imbalances shared by headroom, the studies' base-case rule),
an approximation of the engine's AC state for colouring the map, not a result.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from blackout.grid.model import Grid
from blackout.impact.metrics import DARK_FRACTION
from blackout.jsonsafe import json_safe

if TYPE_CHECKING:
    from blackout.cascade.timeline import Timeline


__all__ = ["view_data", "json_safe", "pre_event_loading_percent", "clock_label",
           "OPTIONAL_SECTIONS", "MAX_FRAMES", "MAX_RESTORATION_FRAMES"]

#: sections of a run's dict passed through to the views when present
OPTIONAL_SECTIONS = ("restoration", "critical", "scenario", "settings", "assumptions", "case",
                     "forensics")
#: frames kept at most (evenly spaced over the samples, first and last always kept)
MAX_FRAMES = 240
#: restoration frames kept at most (hourly points of the restoration curve, thinned)
MAX_RESTORATION_FRAMES = 200
#: largest case (buses) whose frames get a DC loading per branch (one flow per state)
MAX_LOADING_BUSES = 1500
#: DC flows per view at most (later states reuse the last one solved)
MAX_LOADING_FLOWS = 80


def pre_event_loading_percent(grid: Grid) -> list[float | None]:
    """Branch loading before any event, % of rate_a (DC power flow of the base case).

    This is the one flow the views use to colour branches; ``None`` where unrated.
    """
    from blackout.flow import run_dc

    res = run_dc(grid)
    return [_f(v) for v in np.asarray(res.branch["loading_percent"], dtype=float).tolist()]


def clock_label(start_clock: str | None, time_s: float, *, tenths: bool = False) -> str:
    """Wall-clock label of ``time_s`` seconds after the start of the run.

    ``"16:49:09"`` (``"16:49:09.2"`` with ``tenths``) when the run has a start clock
    ("HH:MM:SS"), with ``" (day 3)"`` added from the second day on; otherwise
    ``"t+249.2 s"`` (or ``"t+40.0 h"`` past two hours).
    """
    if start_clock:
        try:
            h, m, sec = (int(x) for x in str(start_clock).split(":"))
        except ValueError:
            start_clock = None
    if not start_clock:
        return f"t+{time_s / 3600.0:.1f} h" if time_s >= 7200 else f"t+{time_s:.1f} s"
    total = h * 3600 + m * 60 + sec + float(time_s)
    whole = int(math.floor(total))
    text = f"{whole // 3600 % 24:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}"
    if tenths:
        text += f".{min(int((total - whole) * 10), 9)}"
    day = whole // 86400
    return text + (f" (day {day + 1})" if day >= 1 else "")


def _f(v: Any) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _is_timeline(result: Any) -> bool:
    return hasattr(result, "events") and hasattr(result, "to_dict") and hasattr(result, "grid")


def view_data(result: Any, grid: Grid | None = None, *,
              branch_loading_percent: list[float | None] | None = None,
              max_frames: int = MAX_FRAMES) -> dict[str, Any]:
    """Normalise a run (Timeline or its dict) into the data the report and web page draw.

    Parameters
    ----------
    result : a Timeline, a :class:`blackout.Outcome` (its timeline plus its restoration,
        critical services, scenario and case), or a dict with at least ``summary``,
        ``events`` and ``traces``.
    grid : the simulated grid; needed to place events on the map (a Timeline carries it).
    branch_loading_percent : pre-event loading per branch (see
        :func:`pre_event_loading_percent`); omitted from the frames when None.
    max_frames : the most frames kept.

    Returns
    -------
    dict : JSON-safe; keys summary, events, traces, frames, branch_trip, regions, and any
        of :data:`OPTIONAL_SECTIONS` present in ``result``.
    """
    if hasattr(result, "timeline") and hasattr(result, "to_dict"):  # an Outcome
        view = view_data(result.timeline, grid, branch_loading_percent=branch_loading_percent,
                         max_frames=max_frames)
        for key, value in result.to_dict().items():
            if key in OPTIONAL_SECTIONS and value not in (None, {}, []):
                view[key] = json_safe(value)
        view["frames"] = [f for f in view["frames"] if f.get("phase") != "restoration"]
        view["frames"] += _restoration_frames(view.get("restoration"), view["frames"],
                                              view["regions"])
        for fr in view["frames"]:
            fr["clock"] = clock_label(view.get("start_clock"), fr["time_s"])
        return view
    if _is_timeline(result):
        grid = grid or result.grid
        d = result.to_dict()
        events = _timeline_events(result)
        bus_served = [np.asarray(s, dtype=float) for s in result.served_bus_mw]
    elif isinstance(result, dict):
        d = result
        start_clock = d.get("start_clock") or (d.get("traces") or {}).get("start_clock")
        events = _dict_events(d.get("events") or [], grid,
                              start_clock if isinstance(start_clock, str) else None)
        bus_served = []
    else:
        raise TypeError(f"expected a Timeline or a run dict, got {type(result).__name__}")
    traces = d.get("traces") or {}
    out: dict[str, Any] = {"summary": json_safe(d.get("summary") or {}), "events": events,
                           "traces": json_safe(traces)}
    for key in OPTIONAL_SECTIONS:
        if d.get(key) not in (None, {}, []):
            out[key] = json_safe(d[key])
    if grid is not None:
        out["case"] = out.get("case") or grid.name
    start = d.get("start_clock") or traces.get("start_clock")
    start = start if isinstance(start, str) else None
    out["start_clock"] = start
    for e in events:
        if e["clock"].startswith("t+") and start:  # a dict whose rows carry no clock
            e["clock"] = clock_label(start, e["time_s"])
    out["regions"] = _regions(grid, traces)
    out["branch_trip"] = _branch_trips(events)
    out["frames"] = _frames(traces, events, out["regions"], grid, bus_served, max_frames)
    if grid is not None:
        _add_branch_states(out["frames"], grid, bus_served, traces)
    out["frames"] += _restoration_frames(out.get("restoration"), out["frames"],
                                         out["regions"])
    for fr in out["frames"]:
        fr["clock"] = clock_label(start, fr["time_s"])
    if branch_loading_percent is not None:
        out["branch_loading_percent"] = [_f(v) for v in branch_loading_percent]
    return out


def _timeline_events(tl: Timeline) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for i, e in enumerate(tl.events):
        rows.append({
            "index": i, "time_s": float(e.time_s), "clock": tl.clock(e.time_s),
            "clock_precise": clock_label(tl.start_clock, float(e.time_s), tenths=True),
            "kind": e.kind, "element": tl.element_name(e), "element_id": int(e.element),
            "action": e.action, "cause": e.cause, "why": str(e.detail.get("why") or e.cause),
            "caused_by": e.caused_by, "value": _f(e.value) if e.value is not None else None,
            "loading_percent": _f(e.detail.get("loading_percent")),
            "mw": _f(e.detail.get("mw")),
        })
    _add_chains(rows)
    return rows


def _dict_events(raw: list[dict[str, Any]], grid: Grid | None,
                 start_clock: str | None = None) -> list[dict[str, Any]]:
    from blackout.errors import BlackoutError

    rows: list[dict[str, Any]] = []
    for i, e in enumerate(raw):
        kind, name = str(e.get("kind", "")), str(e.get("element", ""))
        el = e.get("element_id")
        if el is None and grid is not None and kind in ("branch", "gen", "bus", "load",
                                                         "region"):
            try:
                el = grid.find(kind, name)
            except (BlackoutError, KeyError, ValueError):
                el = None
        detail = e.get("detail") or {}
        t = float(e.get("time_s", 0.0))
        rows.append({
            "index": i, "time_s": t, "clock": str(e.get("clock") or f"t+{t:.1f}s"),
            "clock_precise": clock_label(start_clock, t, tenths=True),
            "kind": kind, "element": name, "element_id": None if el is None else int(el),
            "action": str(e.get("action", "")), "cause": str(e.get("cause", "")),
            "why": str(e.get("why") or detail.get("why") or e.get("cause", "")),
            "caused_by": e.get("caused_by"), "value": _f(e.get("value")),
            "loading_percent": _f(e.get("loading_percent", detail.get("loading_percent"))),
            "mw": _f(detail.get("mw")),
        })
    _add_chains(rows)
    return rows


def _add_chains(rows: list[dict[str, Any]]) -> None:
    """Give each row ``chain``: "parent action <- ... <- root (cause)"; "" when initiating."""
    for row in rows:
        parts: list[str] = []
        seen = {row["index"]}
        k = row["caused_by"]
        while isinstance(k, int) and 0 <= k < len(rows) and k not in seen:
            seen.add(k)
            p = rows[k]
            parts.append(f"{p['element']} {p['action']}")
            k = p["caused_by"]
            if not isinstance(k, int):
                parts[-1] += f" ({p['cause']})"
        row["chain"] = " \u2190 ".join(parts)


def _regions(grid: Grid | None, traces: dict[str, Any]) -> list[dict[str, Any]]:
    """Region name and demand (MW): from the grid, else the trace's largest value."""
    by_region = traces.get("served_mw_by_region") or {}
    if grid is not None and grid.region.n:
        demand = grid.bus_load_mw()
        reg = np.asarray(grid.bus["region"])
        return [{"id": i, "name": str(n), "demand_mw": float(demand[reg == i].sum())}
                for i, n in enumerate(grid.region["name"].tolist())]
    return [{"id": i, "name": str(n),
             "demand_mw": float(max((v for v in vals if v is not None), default=0.0))}
            for i, (n, vals) in enumerate(by_region.items())]


def _branch_trips(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for e in events:
        if e["kind"] == "branch" and e["action"] == "trip" and e["element_id"] is not None:
            out.setdefault(str(e["element_id"]), {
                "time_s": e["time_s"], "clock": e["clock"], "cause": e["cause"],
                "why": e["why"], "chain": e["chain"], "loading_percent": e["loading_percent"]})
    return out


def _out_at(events: list[dict[str, Any]], kind: str, t: float) -> list[int]:
    out: set[int] = set()
    for e in events:
        if e["time_s"] > t + 1e-9:
            break
        if e["kind"] != kind or e["element_id"] is None or e["element_id"] < 0:
            continue
        if e["action"] == "trip":
            out.add(e["element_id"])
        elif e["action"] == "close":
            out.discard(e["element_id"])
    return sorted(out)


def _frames(traces: dict[str, Any], events: list[dict[str, Any]],
            regions: list[dict[str, Any]], grid: Grid | None, bus_served: list[np.ndarray],
            max_frames: int) -> list[dict[str, Any]]:
    times = [float(t) for t in traces.get("time_s") or []]
    if not times:
        times = sorted({0.0, *(e["time_s"] for e in events)})
    keep = list(range(len(times)))
    if len(keep) > max_frames:
        keep = sorted(set(np.linspace(0, len(times) - 1, max_frames).round().astype(int)))
    served = traces.get("served_mw") or []
    by_region = traces.get("served_mw_by_region") or {}
    demand_bus = grid.bus_load_mw() if grid is not None else None
    events = sorted(events, key=lambda e: e["time_s"])
    frames = []
    for k in keep:
        t = times[k]
        fr: list[float | None] = []
        for r in regions:
            vals = by_region.get(r["name"]) or []
            v = vals[k] if k < len(vals) else None
            fr.append(None if v is None or r["demand_mw"] <= 0
                      else round(min(max(v / r["demand_mw"], 0.0), 1.0), 4))
        frame: dict[str, Any] = {
            "time_s": t, "phase": "cascade", "region_served_fraction": fr,
            "dark_regions": sum(1 for v in fr if v is not None and v < DARK_FRACTION),
            "served_mw": _f(served[k]) if k < len(served) else None,
            "branches_out": _out_at(events, "branch", t),
            "gens_out": _out_at(events, "gen", t),
            "events_so_far": sum(1 for e in events if e["time_s"] <= t + 1e-9),
        }
        if bus_served and demand_bus is not None and k < len(bus_served):
            with np.errstate(divide="ignore", invalid="ignore"):
                frac = np.where(demand_bus > 0, bus_served[k] / demand_bus, np.nan)
            frame["bus_served_fraction"] = [None if not math.isfinite(v) else round(v, 4)
                                            for v in np.clip(frac, 0, 1).tolist()]
        frames.append(frame)
    return frames


def _restoration_frames(restoration: Any, cascade: list[dict[str, Any]],
                        regions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Frames after the cascade from the restoration curve (``restoration.curve``: hourly
    ``time_h``, ``served_mw``, ``served_percent_by_region``), so the map's slider runs
    to the end of the restoration. Branch and generator states are not recorded by the
    restoration curve: these frames keep the end-of-cascade ones (``phase``
    "restoration" says so)."""
    curve = (restoration or {}).get("curve") if isinstance(restoration, dict) else None
    if not isinstance(curve, dict) or not cascade:
        return []
    hours = curve.get("time_h") or []
    by_region = curve.get("served_percent_by_region") or {}
    served = curve.get("served_mw") or []
    last = cascade[-1]
    keep = [k for k, h in enumerate(hours) if h is not None and 3600.0 * h > last["time_s"]]
    if len(keep) > MAX_RESTORATION_FRAMES:
        pick = np.linspace(0, len(keep) - 1, MAX_RESTORATION_FRAMES).round().astype(int)
        keep = [keep[i] for i in sorted(set(pick.tolist()))]
    frames = []
    for k in keep:
        fr: list[float | None] = []
        for r in regions:
            vals = by_region.get(r["name"]) or []
            v = vals[k] if k < len(vals) else None
            fr.append(None if v is None or r["demand_mw"] <= 0
                      else round(min(max(float(v) / 100.0, 0.0), 1.0), 4))
        frames.append({
            "time_s": 3600.0 * float(hours[k]), "phase": "restoration",
            "region_served_fraction": fr,
            "dark_regions": sum(1 for v in fr if v is not None and v < DARK_FRACTION),
            "served_mw": _f(served[k]) if k < len(served) else None,
            "branches_out": last["branches_out"], "gens_out": last["gens_out"],
            "events_so_far": last["events_so_far"]})
    return frames


def frame_loading(grid: Grid, branch_in: np.ndarray, gen_in: np.ndarray,
                  load_scale: np.ndarray) -> list[float | None]:
    """Branch loading (% of rate_a) of one frame: the DC power flow of ``grid`` with
    ``branch_in``/``gen_in`` in service and each load scaled by ``load_scale`` (its bus's
    served fraction), each island's imbalance shared by headroom
    (:func:`blackout.flow.dc.shared_dispatch_state`); 0 on de-energised and tripped
    branches, None where unrated."""
    from blackout.flow import run_dc
    from blackout.flow.dc import shared_dispatch_state
    from blackout.flow.state import FlowState

    st = FlowState.of(grid)
    st.branch_in = st.branch_in & branch_in
    st.gen_in = st.gen_in & gen_in
    st.load_p_mw = st.load_p_mw * load_scale
    st.load_q_mvar = st.load_q_mvar * load_scale
    res = run_dc(grid, shared_dispatch_state(grid, "headroom", st))
    vals = np.asarray(res.branch["loading_percent"], dtype=float)
    vals = np.where(st.branch_in, vals, 0.0)
    return [None if not math.isfinite(v) else round(float(v), 1) for v in vals.tolist()]


def _add_branch_states(frames: list[dict[str, Any]], grid: Grid,
                       bus_served: list[np.ndarray], traces: dict[str, Any]) -> None:
    """Give each cascade frame ``branches_dead`` and (when affordable) the frame's
    ``branch_loading_percent``; one flow per distinct state."""
    from blackout.errors import BlackoutError
    from blackout.grid.topology import island_labels

    base_branch = np.asarray(grid.branch["in_service"], dtype=bool)
    base_gen = np.asarray(grid.gen["in_service"], dtype=bool)
    gen_bus = np.asarray(grid.gen["bus"], dtype=np.int64)
    load_bus = np.asarray(grid.load["bus"], dtype=np.int64)
    demand = grid.bus_load_mw()
    times = [float(t) for t in traces.get("time_s") or []]
    want_loading = bool(bus_served) and grid.bus.n <= MAX_LOADING_BUSES
    cache: dict[tuple[Any, ...], list[float | None]] = {}
    last_key: tuple[Any, ...] = ()
    for fr in frames:
        branch_in = base_branch.copy()
        branch_in[[b for b in fr["branches_out"] if 0 <= b < branch_in.size]] = False
        gen_in = base_gen.copy()
        gen_in[[g for g in fr["gens_out"] if 0 <= g < gen_in.size]] = False
        labels = island_labels(grid, branch_in=branch_in)
        live = set(labels[gen_bus[gen_in]].tolist()) - {-1}
        f_lab = labels[np.asarray(grid.branch["from_bus"], dtype=np.int64)]
        dead = branch_in & ~np.isin(f_lab, list(live))
        fr["branches_dead"] = np.flatnonzero(dead).tolist()
        if not want_loading:
            continue
        k = int(np.searchsorted(np.asarray(times), fr["time_s"], side="right")) - 1
        served = bus_served[min(max(k, 0), len(bus_served) - 1)]
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(demand > 0, np.clip(served / demand, 0.0, 1.0), 1.0)
        scale = frac[load_bus]
        key = (tuple(fr["branches_out"]), tuple(fr["gens_out"]),
               np.round(scale / 0.02).astype(np.int64).tobytes())  # 2 % steps of load
        if key not in cache and len(cache) >= MAX_LOADING_FLOWS:
            key = last_key
        if key not in cache:
            try:
                cache[key] = frame_loading(grid, branch_in, gen_in, scale)
            except (BlackoutError, RuntimeError, ValueError):  # a flow that will not solve
                cache[key] = [None] * grid.branch.n
        fr["branch_loading_percent"] = cache[key]
        last_key = key
