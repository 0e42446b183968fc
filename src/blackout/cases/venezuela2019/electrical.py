"""Electrical parameters from typical per-km values: impedances, ratings, lengths.

Pure functions of the records in ``data/``; no Venezuelan impedance data is public, so every
line gets the typical values of its voltage class (``parameters.toml`` [line_types]).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from blackout.grid.geo import great_circle_km

__all__ = [
    "great_circle_km",
    "route_length_km",
    "line_impedance_pu",
    "loadability_mw",
    "line_ratings_mva",
    "point_in_geometry",
]

_KM_PER_MILE = 1.609344


def route_length_km(a: Mapping[str, Any], b: Mapping[str, Any], *, routing_factor: float) -> float:
    """Estimated route length, km: great-circle distance between two substations x routing factor."""
    return great_circle_km(a["lat"], a["lon"], b["lat"], b["lon"]) * routing_factor


def line_impedance_pu(
    line_type: Mapping[str, float], kv: float, length_km: float, *, base_mva: float,
    series_comp: float = 0.0,
) -> tuple[float, float, float]:
    """(r, x, b) of one circuit in pu on ``base_mva``: typical per-km values x length.

    ``series_comp`` is the degree of series compensation k (x_eff = (1 - k) x).
    b is the total line charging susceptance.
    """
    z_base_ohm = kv**2 / base_mva
    r = line_type["r_ohm_per_km"] * length_km / z_base_ohm
    x = line_type["x_ohm_per_km"] * length_km * (1.0 - series_comp) / z_base_ohm
    b = line_type["b_us_per_km"] * 1e-6 * length_km * z_base_ohm
    return r, x, b


def loadability_mw(length_km: float, sil_mw: float, *, a: float, b: float) -> float:
    """St. Clair / Dunlop loadability, MW: ``a * L_miles**b`` x SIL (capped at 3 x SIL)."""
    miles = max(length_km / _KM_PER_MILE, 1.0)
    return min(a * miles**b, 3.0) * sil_mw


def line_ratings_mva(
    line_type: Mapping[str, float], length_km: float, rules: Mapping[str, float], *,
    series_comp: float = 0.0, rate_a_mva: float | None = None, rate_c_mva: float | None = None,
) -> tuple[float, float, float, str]:
    """(rate_a, rate_b, rate_c, basis) in MVA for one circuit.

    Normal rating: the given value, else min(thermal, St. Clair loadability x SIL), where series
    compensation raises the stability part by 1 / (1 - k). Emergency ratings follow
    ``rules`` (see parameters.toml [rules]).
    """
    thermal = line_type["thermal_mva"]
    stab = loadability_mw(length_km, line_type["sil_mw"], a=rules["st_clair_a"],
                          b=rules["st_clair_b"]) / (1.0 - series_comp)
    if rate_a_mva is not None:
        rate_a = float(rate_a_mva)
        basis = "given"
        stability = True
    elif stab < thermal:
        rate_a, basis, stability = stab, "stability (St. Clair)", True
    else:
        rate_a, basis, stability = thermal, "thermal", False
    if rate_c_mva is not None:
        return rate_a, float(rate_c_mva), float(rate_c_mva), basis
    if stability:
        rate_b = rate_c = rate_a * rules["emergency_short"]
    else:
        rate_b = rate_a * rules["emergency_long"]
        rate_c = rate_a * rules["emergency_short"]
    return rate_a, rate_b, rate_c, basis


def _ring_contains(ring: Sequence[Sequence[float]], lon: float, lat: float) -> bool:
    inside = False
    n = len(ring)
    for i in range(n):
        x1, y1 = ring[i][0], ring[i][1]
        x2, y2 = ring[(i + 1) % n][0], ring[(i + 1) % n][1]
        if (y1 > lat) != (y2 > lat):
            x_cross = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
            if lon < x_cross:
                inside = not inside
    return inside


def point_in_geometry(geometry: Mapping[str, Any], lat: float, lon: float) -> bool:
    """True when (lat, lon) lies inside a GeoJSON Polygon or MultiPolygon (ray casting)."""
    polys = geometry["coordinates"]
    if geometry["type"] == "Polygon":
        polys = [polys]
    for poly in polys:
        if _ring_contains(poly[0], lon, lat) and not any(
                _ring_contains(hole, lon, lat) for hole in poly[1:]):
            return True
    return False
