"""MapLibre GL JS, served from the installed ``maplibre`` Python package.

The file is never copied into the repository nor fetched from a CDN: the PyPI package
``maplibre`` (the ``web`` extra) ships ``srcjs/maplibre-gl.js`` and its stylesheet.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fastapi import HTTPException

__all__ = ["maplibre_dir", "maplibre_asset", "MAPLIBRE_FILES"]

#: the only files served from the package
MAPLIBRE_FILES = ("maplibre-gl.js", "maplibre-gl.css")


def maplibre_dir() -> Path | None:
    """The folder holding maplibre-gl.js in the installed package (without importing it)."""
    spec = importlib.util.find_spec("maplibre")
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        folder = Path(root) / "srcjs"
        if (folder / "maplibre-gl.js").exists():
            return folder
    return None


def maplibre_asset(name: str) -> Path:
    """Path of one MapLibre file; 404 when unknown, 503 when the package is missing."""
    if name not in MAPLIBRE_FILES:
        raise HTTPException(404, f"unknown asset '{name}'")
    folder = maplibre_dir()
    if folder is None:
        raise HTTPException(503, "MapLibre GL JS not installed: pip install 'blackout-sim[web]'")
    return folder / name
