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
           "series_figure", "LOADING_BUCKETS", "loading_bucket"]

_LAYOUT: dict[str, Any] = {"template": "plotly_white", "margin": {"l": 60, "r": 20, "t": 50,
                                                                  "b": 50},
                           "hovermode": "closest", "font": {"family": "sans-serif"}}

#: branch colour classes: (name, upper bound of loading %, colour)
LOADING_BUCKETS: list[tuple[str, float, str]] = [
    ("loading \u2264 50 %", 50.0, "#2b8cbe"),
    ("50-80 %", 80.0, "#41ab5d"),
    ("80-100 %", 100.0, "#fd8d3c"),
    ("> 100 %", math.inf, "#d7301f"),
    ("loading unknown", math.nan, "#969696"),
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
    return {"data": data, "layout": _layout("Frequency per island", xaxis={
        "title": {"text": "time (s)"}}, yaxis={"title": {"text": "frequency (Hz)"}})}


def served_figure(view: dict[str, Any], *, top_regions: int = 8) -> dict[str, Any] | None:
    """Served load, national and per region, over the cascade."""
    tr = view.get("traces") or {}
    t = tr.get("time_s") or []
    if not t or not tr.get("served_mw"):
        return None
    data: list[dict[str, Any]] = [{"type": "scatter", "mode": "lines", "name": "national",
                                   "x": t, "y": tr["served_mw"], "line": {"width": 3,
                                                                         "color": "#111827"}}]
    regions = sorted(view.get("regions") or [], key=lambda r: -r["demand_mw"])
    for i, r in enumerate(regions):
        ys = (tr.get("served_mw_by_region") or {}).get(r["name"])
        if ys:
            data.append({"type": "scatter", "mode": "lines", "name": r["name"], "x": t,
                         "y": ys, "visible": True if i < top_regions else "legendonly"})
    return {"data": data, "layout": _layout("Served load", xaxis={"title": {"text": "time (s)"}},
                                            yaxis={"title": {"text": "served (MW)"}})}


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
    x = ["demand", *[k.replace("_", " ") for k in mech], "served at end"]
    y = [demand, *[-v for v in mech.values()], 0]
    return {"data": [{"type": "waterfall", "x": x, "y": y,
                      "measure": ["absolute", *["relative"] * len(mech), "total"],
                      "decreasing": {"marker": {"color": "#d7301f"}},
                      "totals": {"marker": {"color": "#2b8cbe"}},
                      "connector": {"line": {"color": "#a1a1aa"}}}],
            "layout": _layout("Load lost by mechanism", yaxis={"title": {"text": "MW"}},
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
