"""Plane geometry for threats: a local kilometre projection, fire ellipses, line routes.

Coordinates in scenario files are ``[lon, lat]`` pairs in degrees (GeoJSON order).
Geometry is done in a local equirectangular projection in km about a reference
latitude; over a fire's extent (tens of km) its error is far below the
uncertainty of the mapped perimeter.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from shapely.geometry import LineString, Polygon
from shapely.validation import explain_validity

__all__ = ["KM_PER_DEG_LAT", "Projection", "check_ring", "fire_ellipse"]

#: Mean length of one degree of latitude, km.
KM_PER_DEG_LAT = 110.574
#: Length of one degree of longitude at the equator, km.
KM_PER_DEG_LON_EQ = 111.320


class Projection:
    """Local equirectangular projection: degrees (lon, lat) to km (x east, y north)."""

    def __init__(self, lon0_deg: float, lat0_deg: float) -> None:
        self.lon0, self.lat0 = lon0_deg, lat0_deg
        self.kx = KM_PER_DEG_LON_EQ * math.cos(math.radians(lat0_deg))

    def to_km(self, lonlat: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
        """(n, 2) array of [lon, lat] degrees -> (n, 2) array of [x, y] km."""
        a = np.asarray(lonlat, dtype=float).reshape(-1, 2)
        return np.column_stack([(a[:, 0] - self.lon0) * self.kx,
                                (a[:, 1] - self.lat0) * KM_PER_DEG_LAT])

    def polygon(self, lonlat: Sequence[Sequence[float]]) -> Polygon:
        """A shapely polygon in km."""
        return Polygon(self.to_km(lonlat))

    def route(self, lonlat: Sequence[Sequence[float]] | np.ndarray) -> LineString:
        """A shapely line (route of a circuit) in km."""
        return LineString(self.to_km(lonlat))


def check_ring(coords: Sequence[Sequence[float]]) -> None:
    """Raise ValueError unless ``coords`` ([lon, lat] pairs) is a valid simple polygon."""
    pts = [tuple(map(float, p)) for p in coords]
    for lon, lat in pts:
        if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0) or not (
                math.isfinite(lon) and math.isfinite(lat)):
            raise ValueError(f"invalid polygon: point ({lon}, {lat}) is not a [lon, lat] pair "
                             "within [-180, 180] x [-90, 90] degrees")
    if len(set(pts)) < 3:
        raise ValueError("invalid polygon: it needs at least 3 distinct [lon, lat] points")
    poly = Polygon(pts)
    if not poly.is_valid:
        raise ValueError(f"invalid polygon: {explain_validity(poly)} (a simple, "
                         "non-self-intersecting ring is allowed)")
    if poly.area <= 0.0:
        raise ValueError("invalid polygon: zero area")


def fire_ellipse(*, elapsed_s: float, head_m_per_min: float, back_fraction: float,
                 length_to_breadth: float, wind_to_rad: float | None,
                 vertices: int = 72) -> Polygon:
    """The burnt area after ``elapsed_s`` of spread from an ignition point at the origin (km).

    The elliptical fire-shape model (Van Wagner 1969; Anderson 1983): the head
    advances downwind at ``head_m_per_min``, the back at ``back_fraction`` of it,
    and the width is the length over ``length_to_breadth``. Without wind
    (``wind_to_rad`` None) the fire is a circle growing at ``head_m_per_min``.
    ``wind_to_rad`` is the direction the wind blows *towards*, radians clockwise
    from north.
    """
    head_km = head_m_per_min * elapsed_s / 60.0 / 1000.0
    if head_km <= 0:
        head_km = 1e-6  # a point ignition still has a (tiny) area
    theta = np.linspace(0.0, 2.0 * np.pi, vertices, endpoint=False)
    if wind_to_rad is None:
        return Polygon(np.column_stack([head_km * np.cos(theta), head_km * np.sin(theta)]))
    back_km = back_fraction * head_km
    a = 0.5 * (head_km + back_km)            # semi-major axis, km
    b = a / max(length_to_breadth, 1.0)      # semi-minor axis, km
    c = 0.5 * (head_km - back_km)            # centre offset downwind from the ignition
    u = np.column_stack([c + a * np.cos(theta), b * np.sin(theta)])  # along-wind frame
    # along-wind unit vector in (east, north): bearing -> (sin, cos)
    ex, ey = math.sin(wind_to_rad), math.cos(wind_to_rad)
    x = u[:, 0] * ex - u[:, 1] * ey
    y = u[:, 0] * ey + u[:, 1] * ex
    return Polygon(np.column_stack([x, y]))
