"""Reading the venezuela2019 data files: package data only, copied in with their sources."""

from __future__ import annotations

import json
import sys
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["DATA_DIR", "REGIONS_GEOJSON", "records", "parameters", "regions_geojson"]

DATA_DIR = Path(__file__).parent / "data"
REGIONS_GEOJSON = Path(__file__).parent / "regions.geojson"


@cache
def records(kind: str) -> tuple[dict[str, Any], ...]:
    """The records of one data file: substations, lines, transformers, generators or states."""
    with open(DATA_DIR / f"{kind}.json", encoding="utf-8") as f:
        return tuple(json.load(f))


@lru_cache(maxsize=1)
def parameters() -> dict[str, Any]:
    """``parameters.toml``: typical values, rules, demand and critical-load assumptions."""
    with open(DATA_DIR / "parameters.toml", "rb") as f:
        return tomllib.load(f)


@lru_cache(maxsize=1)
def regions_geojson() -> dict[str, Any]:
    """State boundaries (Natural Earth admin-1, public domain) with ISO 3166-2 codes."""
    with open(REGIONS_GEOJSON, encoding="utf-8") as f:
        return json.load(f)
