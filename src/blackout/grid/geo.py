"""Distances on the Earth between buses' coordinates: the one great-circle rule.

:func:`great_circle_km` is the haversine distance on a sphere of the mean Earth radius
(6371 km, IUGG mean radius R1), used for line lengths of built cases and crew travel.
"""

from __future__ import annotations

import math

__all__ = ["EARTH_RADIUS_KM", "great_circle_km"]

#: Mean Earth radius, km (IUGG R1 = 6371.0088 km, rounded).
EARTH_RADIUS_KM = 6371.0


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance in km between two WGS84 points in degrees.

    NaN when a coordinate is unknown (not finite)."""
    if not all(math.isfinite(v) for v in (lat1, lon1, lat2, lon2)):
        return math.nan  # min(1.0, nan) below would give half the Earth's circumference
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))
