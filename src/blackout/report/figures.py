"""The report's plotly figures, built from view data (see :mod:`blackout.report.frames`).

Each function returns a plotly figure as a plain dict (``{"data", "layout"}``) or
``None`` when the run lacks what it needs; the report leaves such plots out.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from blackout.grid.model import Grid
from blackout.report.geometry import bus_coordinates, polygon_xy, region_features

__all__ = ["map_figure", "frequency_figure", "served_figure", "waterfall_figure",
           "series_figure", "restoration_figure", "critical_figure", "wrap_label",
           "LOADING_BUCKETS", "loading_bucket"]

_LAYOUT: dict[str, Any] = {"template": "plotly_white", "margin": {"l": 60, "r": 20, "t": 50,
                                                                  "b": 50},
                           "hovermode": "closest", "font": {"family": "sans-serif"},
                           # "16,329" (plotly's default groups thousands with a space)
                           "separators": ".,"}

#: branch colour classes: (name, upper bound of loading %, colour)
LOADING_BUCKETS: list[tuple[str, float, str]] = [
    ("loading \u2264 50 %", 50.0, "#2b8cbe"),
    ("50-80 %", 80.0, "#41ab5d"),
    ("80-100 %", 100.0, "#fd8d3c"),
    ("> 100 %", math.inf, "#d7301f"),
    ("loading unknown", math.nan, "#969696"),
    ("de-energised", math.nan, "#52525b"),
    ("tripped", math.nan, "#7a0177"),
]


def loading_bucket(pct: float | None) -> int:
    """Index in :data:`LOADING_BUCKETS` of a branch loaded ``pct`` % (in service)."""
    if pct is None or not math.isfinite(pct):
        return 4
    for i, (_, upper, _c) in enumerate(LOADING_BUCKETS[:4]):
        if pct <= upper:
            return i
    return 3


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    return {**_LAYOUT, "title": {"text": title}, **extra}


def wrap_label(text: str, width: int = 18, max_lines: int = 4) -> str:
    """A long axis label broken into lines (plotly's ``<br>``) so bars stay apart."""
    import textwrap

    lines = textwrap.wrap(str(text), width=width, break_on_hyphens=False) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: width - 1] + "…"
    return "<br>".join(lines)


def map_figure(view: dict[str, Any], grid: Grid) -> tuple[dict[str, Any], dict[str, Any]]:
    """The map at the first frame, and the index the page's script uses to animate it.

    Regions are filled polygons (one trace each, from the case's GeoJSON), branches are
    grouped by loading class into line traces with hover markers at their midpoints, and
    buses are markers. Axes are lon/lat (or the computed layout) with the aspect ratio
    of an equirectangular map at the case's mean latitude: no tiles, no geo base layer.
    """
    lon, lat, geographic = bus_coordinates(grid)
    matched, other = region_features(grid) if geographic else ([], [])
    data: list[dict[str, Any]] = []
    index: dict[str, Any] = {"regions": [], "region_ids": [], "branch_lines": [],
                             "branch_marks": [], "buses": None}
    if other:
        xs: list[float | None] = []
        ys: list[float | None] = []
        for feat in other:
            x, y = polygon_xy(feat["geometry"])
            xs += ([None] if xs else []) + x
            ys += ([None] if ys else []) + y
        data.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines", "fill": "toself",
                     "fillcolor": "#d9d9d9", "line": {"color": "#bdbdbd", "width": 0.5},
                     "hoverinfo": "skip", "showlegend": False, "name": "land"})
    for rid, feat in matched:
        x, y = polygon_xy(feat["geometry"])
        index["regions"].append(len(data))
        index["region_ids"].append(rid)
        data.append({"type": "scatter", "x": x, "y": y, "mode": "lines", "fill": "toself",
                     "fillcolor": "#f6c945", "line": {"color": "#52525b", "width": 0.8},
                     "hoveron": "fills", "hoverinfo": "text",
                     "text": str(grid.region["name"][rid]), "showlegend": False,
                     "name": str(grid.region["name"][rid])})
    for name, _u, colour in LOADING_BUCKETS:
        index["branch_lines"].append(len(data))
        dash = "dot" if name == "tripped" else "solid"
        data.append({"type": "scatter", "x": [], "y": [], "mode": "lines", "name": name,
                     "line": {"color": colour, "width": 2.2, "dash": dash},
                     "hoverinfo": "skip", "legendgroup": name})
    for name, _u, colour in LOADING_BUCKETS:
        index["branch_marks"].append(len(data))
        symbol = "x" if name == "tripped" else "circle"
        data.append({"type": "scatter", "x": [], "y": [], "mode": "markers", "name": name,
                     "marker": {"color": colour, "size": 7 if symbol == "x" else 4,
                                "symbol": symbol}, "hoverinfo": "text", "text": [],
                     "showlegend": False, "legendgroup": name})
    index["buses"] = len(data)
    data.append({"type": "scatter", "x": lon.tolist(), "y": lat.tolist(), "mode": "markers",
                 "name": "buses", "text": [str(n) for n in grid.bus["name"].tolist()],
                 "hoverinfo": "text", "showlegend": False,
                 "marker": {"size": 5, "color": "#27272a", "line": {"width": 0}}})
    # a colour bar for the served fraction (a marker trace with nothing to hover)
    data.append({"type": "scatter", "x": [None], "y": [None], "mode": "markers",
                 "showlegend": False, "hoverinfo": "skip",
                 "marker": {"color": [0], "cmin": 0, "cmax": 100, "showscale": True,
                            "colorscale": [[0, "#111827"], [0.5, "#8c6d1f"], [1, "#f6c945"]],
                            "colorbar": {"title": {"text": "served %"}, "len": 0.6}}})
    f = grid.branch["from_bus"]
    t = grid.branch["to_bus"]
    index["branch_xy"] = [[float(lon[a]), float(lat[a]), float(lon[b]), float(lat[b])]
                          for a, b in zip(f.tolist(), t.tolist(), strict=True)]
    index["branch_names"] = [str(n) for n in grid.branch["name"].tolist()]
    index["bucket_names"] = [b[0] for b in LOADING_BUCKETS]
    ratio = 1.0 / max(math.cos(math.radians(float(np.nanmean(lat)))), 0.2) if geographic else 1
    layout = _layout("", showlegend=True, height=620, plot_bgcolor="#eef3f8",
                     legend={"orientation": "h", "y": -0.02},
                     margin={"l": 10, "r": 10, "t": 10, "b": 10},
                     xaxis={"visible": False}, yaxis={"visible": False, "scaleanchor": "x",
                                                      "scaleratio": ratio})
    return {"data": data, "layout": layout}, index


def frequency_figure(view: dict[str, Any]) -> dict[str, Any] | None:
    """Frequency of each island over time."""
    freq = (view.get("traces") or {}).get("frequency_hz") or {}
    names = (view.get("traces") or {}).get("island_names") or {}
    data = [{"type": "scatter", "mode": "lines", "name": names.get(k, f"island {k}"),
             "x": v.get("time_s", []), "y": v.get("frequency_hz", [])}
            for k, v in freq.items() if v.get("time_s")]
    if not data:
        return None
    xaxis: dict[str, Any] = {"title": {"text": "time (s); double-click for the full run"}}
    window = _event_window(freq)
    if window is not None:
        xaxis["range"] = list(window)
    return {"data": data, "layout": _layout("Frequency per island", xaxis=xaxis,
                                            yaxis={"title": {"text": "frequency (Hz)"}})}


def _event_window(freq: dict[str, Any], *, tol_hz: float = 0.02,
                  pad_fraction: float = 0.15) -> tuple[float, float] | None:
    """(start, end) in s of the span where some island's frequency moves (by more than
    ``tol_hz`` from its first value), padded; None when nothing moves or the span is
    most of the run."""
    t_lo, t_hi, t_all = math.inf, -math.inf, 0.0
    for v in freq.values():
        t = np.asarray([x if x is not None else np.nan for x in v.get("time_s") or []], float)
        f = np.asarray([x if x is not None else np.nan for x in v.get("frequency_hz") or []],
                       float)
        if t.size == 0 or f.size != t.size:
            continue
        t_all = max(t_all, float(np.nanmax(t)))
        moving = np.abs(f - f[0]) > tol_hz
        moving |= np.r_[False, np.abs(np.diff(f)) > tol_hz / 10]
        if moving.any():
            t_lo = min(t_lo, float(t[moving].min()))
            t_hi = max(t_hi, float(t[moving].max()))
        if t[0] > 0:  # an island born during the event: its whole life is the event
            t_lo, t_hi = min(t_lo, float(t[0])), max(t_hi, float(np.nanmax(t)))
    if not math.isfinite(t_lo) or t_all <= 0:
        return None
    span = max(t_hi - t_lo, 1.0)
    lo, hi = max(t_lo - pad_fraction * span, 0.0), min(t_hi + pad_fraction * span, t_all)
    return None if hi - lo > 0.7 * t_all else (lo, hi)


def _curve(section: Any) -> dict[str, Any] | None:
    """The ``curve`` of a restoration or critical-service section (``time_h`` + series)."""
    curve = section.get("curve") if isinstance(section, dict) else None
    return curve if isinstance(curve, dict) and isinstance(curve.get("time_h"), list) else None


def served_figure(view: dict[str, Any], *, top_regions: int = 8) -> dict[str, Any] | None:
    """Served load, national and per region: the cascade in seconds (left) and, when the
    run has a restoration, the whole restoration in hours (right, a second time axis)."""
    tr = view.get("traces") or {}
    t = tr.get("time_s") or []
    if not t or not tr.get("served_mw"):
        return None
    data: list[dict[str, Any]] = [{"type": "scatter", "mode": "lines", "name": "national",
                                   "x": t, "y": tr["served_mw"], "legendgroup": "national",
                                   "line": {"width": 3, "color": "#111827"}}]
    regions = sorted(view.get("regions") or [], key=lambda r: -r["demand_mw"])
    curve = _curve(view.get("restoration"))
    by_region_pct = (curve or {}).get("served_percent_by_region") or {}
    for i, r in enumerate(regions):
        ys = (tr.get("served_mw_by_region") or {}).get(r["name"])
        shown = True if i < top_regions else "legendonly"
        if ys:
            data.append({"type": "scatter", "mode": "lines", "name": r["name"], "x": t,
                         "y": ys, "visible": shown, "legendgroup": r["name"]})
        pct = by_region_pct.get(r["name"])
        if curve is not None and pct and _numeric_list(pct, len(curve["time_h"])):
            data.append({"type": "scatter", "mode": "lines", "name": r["name"],
                         "x": curve["time_h"], "visible": shown, "legendgroup": r["name"],
                         "showlegend": not ys, "xaxis": "x2",
                         "y": [None if v is None else v / 100.0 * r["demand_mw"]
                               for v in pct]})
    y_title = {"title": {"text": "served (MW)"}}
    if curve is None or not _numeric_list(curve.get("served_mw"), len(curve["time_h"])):
        return {"data": data, "layout": _layout("Served load", xaxis={
            "title": {"text": "time (s)"}}, yaxis=y_title)}
    data.insert(1, {"type": "scatter", "mode": "lines", "name": "national",
                    "x": curve["time_h"], "y": curve["served_mw"], "xaxis": "x2",
                    "legendgroup": "national", "showlegend": False,
                    "line": {"width": 3, "color": "#111827"}})
    return {"data": data, "layout": _layout(
        "Served load: the cascade (s), then the restoration (h)",
        xaxis={"title": {"text": "cascade: time (s)"}, "domain": [0.0, 0.32]},
        xaxis2={"title": {"text": "restoration: hours from the start"},
                "domain": [0.38, 1.0], "anchor": "y"},
        yaxis=y_title)}


def restoration_figure(view: dict[str, Any], *, top_regions: int = 8) -> dict[str, Any] | None:
    """Share of demand served over the restoration horizon (hours), national and per
    region (the largest ``top_regions`` shown, the rest in the legend)."""
    rest = view.get("restoration")
    curve = _curve(rest)
    if curve is None:
        return None
    t = curve["time_h"]
    data: list[dict[str, Any]] = []
    if _numeric_list(curve.get("served_percent"), len(t)):
        data.append({"type": "scatter", "mode": "lines", "name": "national", "x": t,
                     "y": curve["served_percent"], "line": {"width": 3, "color": "#111827"}})
    order = {r["name"]: -r["demand_mw"] for r in view.get("regions") or []}
    by_region = curve.get("served_percent_by_region") or {}
    for i, name in enumerate(sorted(by_region, key=lambda n: order.get(n, 0.0))):
        if _numeric_list(by_region[name], len(t)):
            data.append({"type": "scatter", "mode": "lines", "name": str(name), "x": t,
                         "y": by_region[name],
                         "visible": True if i < top_regions else "legendonly"})
    if not data:
        return None
    horizon = (rest or {}).get("horizon_h") or (t[-1] if t else 0)
    return {"data": data, "layout": _layout(
        f"Restoration over {float(horizon):,.0f} h ({float(horizon) / 24:.1f} days)",
        xaxis={"title": {"text": "hours from the start of the event"}},
        yaxis={"title": {"text": "demand served (%)"}, "range": [0, 105]})}


def critical_figure(view: dict[str, Any]) -> dict[str, Any] | None:
    """Service level of each critical service (``critical.<service>.curve``) over the
    restoration horizon, in % of normal."""
    crit = view.get("critical")
    if not isinstance(crit, dict):
        return None
    data: list[dict[str, Any]] = []
    for name, sec in crit.items():
        curve = _curve(sec)
        if curve is None:
            continue
        for key, val in curve.items():
            if key != "time_h" and _numeric_list(val, len(curve["time_h"])):
                label = str(name) if key == "service_percent" else (
                    f"{name}: {key.replace('_', ' ')}")
                data.append({"type": "scatter", "mode": "lines", "name": label,
                             "x": curve["time_h"], "y": val})
    if not data:
        return None
    return {"data": data, "layout": _layout(
        "Critical services: share of normal service",
        xaxis={"title": {"text": "hours from the start of the event"}},
        yaxis={"title": {"text": "service (% of normal)"}, "range": [0, 105]})}


def waterfall_figure(view: dict[str, Any]) -> dict[str, Any] | None:
    """Demand, minus the load lost by each mechanism, to what is served at the end."""
    s = view.get("summary") or {}
    mech = s.get("load_lost_by_mechanism_mw") or view.get("load_lost_by_mechanism_mw") or {}
    mech = {k: float(v) for k, v in mech.items() if v is not None and float(v) > 0.05}
    demand = sum(r["demand_mw"] for r in view.get("regions") or [])
    served = (view.get("traces") or {}).get("served_mw") or []
    if demand <= 0 and served:
        demand = float(served[0] or 0.0)
    if not mech and not s.get("load_lost_mw"):
        return None
    other = float(s.get("load_lost_mw") or 0.0) - sum(mech.values())
    if other > 0.5:
        mech["other"] = other
    x = ["demand", *[wrap_label(k.replace("_", " ")) for k in mech], "served at end"]
    y = [demand, *[-v for v in mech.values()], 0]
    return {"data": [{"type": "waterfall", "x": x, "y": y,
                      "measure": ["absolute", *["relative"] * len(mech), "total"],
                      "decreasing": {"marker": {"color": "#d7301f"}},
                      "totals": {"marker": {"color": "#2b8cbe"}},
                      "connector": {"line": {"color": "#a1a1aa"}}}],
            "layout": _layout("Load lost by mechanism", yaxis={"title": {"text": "MW"}},
                              xaxis={"automargin": True, "tickangle": 0},
                              showlegend=False)}


_TIME_KEYS = ("time_s", "time_h", "time_min", "t_s", "hours", "time")


def _numeric_list(v: Any, n: int) -> bool:
    return (isinstance(v, list) and len(v) == n
            and all(x is None or isinstance(x, (int, float)) for x in v))


def series_figure(section: Any, title: str, *, y_title: str = "") -> dict[str, Any] | None:
    """Any time-series section (restoration, critical services) as lines.

    Accepts ``{"time_s": [...], "<series>": [...], "<group>": {"<series>": [...]}}``
    (one level of grouping, e.g. per region or per service category); returns None when
    no time axis with matching series is found.
    """
    if not isinstance(section, dict):
        return None
    tkey = next((k for k in _TIME_KEYS if isinstance(section.get(k), list)), None)
    if tkey is None and isinstance(section.get("curve"), dict):  # restoration's shape
        return series_figure(section["curve"], title, y_title=y_title)
    if tkey is None:
        return None
    t = section[tkey]
    data: list[dict[str, Any]] = []
    for key, val in section.items():
        if key == tkey:
            continue
        if _numeric_list(val, len(t)):
            data.append({"type": "scatter", "mode": "lines", "name": key.replace("_", " "),
                         "x": t, "y": val, "line": {"width": 3}})
        elif isinstance(val, dict):
            for sub, vals in val.items():
                if _numeric_list(vals, len(t)):
                    data.append({"type": "scatter", "mode": "lines", "name": str(sub),
                                 "x": t, "y": vals, "legendgroup": key})
    if not data:
        return None
    return {"data": data, "layout": _layout(title, xaxis={"title": {"text": tkey.replace(
        "_", " (") + (")" if "_" in tkey else "")}}, yaxis={"title": {"text": y_title}})}
