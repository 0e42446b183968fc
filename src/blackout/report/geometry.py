"""Where a case's elements are drawn: coordinates, region outlines and a GeoJSON export.

Buses with latitude and longitude are drawn there; a case without coordinates (the
IEEE and PEGASE cases) gets a seeded graph layout, scaled into a small lon/lat box
around (0, 0) so that the same code (plotly, MapLibre) draws both. Region outlines come
from the GeoJSON a case names in ``grid.notes["regions_geojson"]``, matched to the
region table by ISO code or name.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from blackout.grid.model import Grid

__all__ = ["bus_coordinates", "region_features", "case_geojson", "polygon_xy", "LAYOUT_SEED"]

#: seed of the graph layout used for cases without coordinates (same seed, same picture)
LAYOUT_SEED = 7
#: half-width in degrees of the box a computed layout is scaled into
_LAYOUT_HALF_DEG = 8.0


def bus_coordinates(grid: Grid) -> tuple[np.ndarray, np.ndarray, bool]:
    """(lon, lat, geographic) of every bus.

    ``geographic`` is True when every bus has coordinates in the case; otherwise a
    seeded Kamada-Kawai (up to 400 buses) or spring layout is returned, in degrees
    around (0, 0).
    """
    cols = grid.bus
    if "lat" in cols and "lon" in cols:
        lat = np.asarray(cols["lat"], dtype=float)
        lon = np.asarray(cols["lon"], dtype=float)
        if lat.size and np.isfinite(lat).all() and np.isfinite(lon).all():
            return lon, lat, True
    xy = _layout(grid)
    return xy[:, 0], xy[:, 1], False


def _layout(grid: Grid) -> np.ndarray:
    import networkx as nx

    n = grid.bus.n
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(zip(grid.branch["from_bus"].tolist(), grid.branch["to_bus"].tolist(),
                         strict=True))
    if n == 0:
        return np.zeros((0, 2))
    if n <= 400:
        start = nx.spring_layout(g, seed=LAYOUT_SEED)
        pos = nx.kamada_kawai_layout(g, pos=start)
    else:
        pos = nx.spring_layout(g, seed=LAYOUT_SEED, iterations=60)
    xy = np.array([pos[i] for i in range(n)], dtype=float)
    xy -= xy.mean(axis=0)
    span = float(np.abs(xy).max()) or 1.0
    return xy * (_LAYOUT_HALF_DEG / span)


def _geojson_path(grid: Grid) -> Path | None:
    ref = grid.notes.get("regions_geojson") if grid.notes else None
    if not ref:
        return None
    path = Path(str(ref))
    if path.is_absolute():
        return path if path.exists() else None
    import blackout

    for root in (Path(blackout.__file__).parent.parent, Path(blackout.__file__).parent):
        if (root / path).exists():
            return root / path
    return None


@lru_cache(maxsize=8)
def _read_geojson(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


def region_features(grid: Grid) -> tuple[list[tuple[int, dict[str, Any]]], list[dict[str, Any]]]:
    """Region outlines of ``grid``: ([(region id, feature)], [unmatched features]).

    A feature matches a region when one of its property values equals the region's
    code or name (Natural Earth's ``iso_3166_2`` and ``name`` do). Features that match
    no region (e.g. islands with no load) are returned separately, to be drawn as land.
    """
    path = _geojson_path(grid)
    if path is None or grid.region.n == 0:
        return [], []
    data = _read_geojson(str(path))
    by_key: dict[str, int] = {}
    for i, (name, code) in enumerate(zip(grid.region["name"].tolist(),
                                         grid.region["code"].tolist(), strict=True)):
        by_key[str(code)] = i
        by_key[str(name)] = i
    matched: list[tuple[int, dict[str, Any]]] = []
    other: list[dict[str, Any]] = []
    seen: set[int] = set()
    for feat in data.get("features", []):
        props = feat.get("properties") or {}
        hit = next((by_key[str(v)] for v in props.values() if str(v) in by_key), None)
        if hit is None or hit in seen:
            other.append(feat)
        else:
            seen.add(hit)
            matched.append((hit, feat))
    return matched, other


def polygon_xy(geometry: dict[str, Any]) -> tuple[list[float | None], list[float | None]]:
    """Outer and inner rings of a (Multi)Polygon as x/y lists separated by ``None``."""
    if geometry["type"] == "Polygon":
        polys = [geometry["coordinates"]]
    elif geometry["type"] == "MultiPolygon":
        polys = geometry["coordinates"]
    else:
        return [], []
    xs: list[float | None] = []
    ys: list[float | None] = []
    for poly in polys:
        for ring in poly:
            if xs:
                xs.append(None)
                ys.append(None)
            xs.extend(float(p[0]) for p in ring)
            ys.extend(float(p[1]) for p in ring)
    return xs, ys


def _num(v: Any) -> Any:
    if isinstance(v, (np.generic,)):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def case_geojson(grid: Grid) -> dict[str, Any]:
    """The case's geometry as one GeoJSON FeatureCollection.

    Every feature has ``properties.layer`` ("region", "land", "branch", "bus" or "gen")
    and ``properties.id``, the element's integer position in its table (the id the
    cascade engine and the web API use). Branches are LineStrings between their buses;
    generators are Points at their bus. The collection's ``properties.geographic``
    says whether coordinates are real (lon/lat) or a computed layout.

    Examples
    --------
    >>> from blackout import load_case
    >>> fc = case_geojson(load_case("case9"))
    >>> sorted({f["properties"]["layer"] for f in fc["features"]})
    ['branch', 'bus', 'gen']
    """
    lon, lat, geographic = bus_coordinates(grid)
    feats: list[dict[str, Any]] = []
    demand = grid.bus_load_mw()
    reg_of_bus = np.asarray(grid.bus["region"]) if "region" in grid.bus else np.full(grid.bus.n,
                                                                                        -1)
    matched, other = region_features(grid) if geographic else ([], [])
    for rid, feat in matched:
        feats.append({"type": "Feature", "geometry": feat["geometry"], "properties": {
            "layer": "region", "id": int(rid), "name": str(grid.region["name"][rid]),
            "code": str(grid.region["code"][rid]),
            "population": _num(grid.region["population"][rid]),
            "demand_mw": float(demand[reg_of_bus == rid].sum())}})
    for feat in other:
        props = feat.get("properties") or {}
        feats.append({"type": "Feature", "geometry": feat["geometry"], "properties": {
            "layer": "land", "id": -1, "name": str(props.get("name", ""))}})
    for b in range(grid.branch.n):
        f, t = int(grid.branch["from_bus"][b]), int(grid.branch["to_bus"][b])
        feats.append({"type": "Feature", "geometry": {"type": "LineString", "coordinates": [
            [float(lon[f]), float(lat[f])], [float(lon[t]), float(lat[t])]]}, "properties": {
            "layer": "branch", "id": b, "name": str(grid.branch["name"][b]),
            "from_bus": f, "to_bus": t, "kind": str(grid.branch["kind"][b]),
            "rate_a_mva": _num(float(grid.branch["rate_a_mva"][b])),
            "vn_kv": _num(float(grid.bus["vn_kv"][f]))}})
    for i in range(grid.bus.n):
        feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [
            float(lon[i]), float(lat[i])]}, "properties": {
            "layer": "bus", "id": i, "name": str(grid.bus["name"][i]),
            "vn_kv": _num(float(grid.bus["vn_kv"][i])), "region": int(reg_of_bus[i]),
            "demand_mw": float(demand[i])}})
    for g in range(grid.gen.n):
        bus = int(grid.gen["bus"][g])
        feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [
            float(lon[bus]), float(lat[bus])]}, "properties": {
            "layer": "gen", "id": g, "name": str(grid.gen["name"][g]), "bus": bus,
            "kind": str(grid.gen["kind"][g]), "p_mw": _num(float(grid.gen["p_mw"][g]))}})
    return {"type": "FeatureCollection", "properties": {
        "case": grid.name, "geographic": geographic, "regions": len(matched),
        "f_hz": float(grid.f_hz)}, "features": feats}
