"""Fixtures for the report tests: a real cascade on the Venezuela case, Debian's chromium."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

import blackout
from blackout.cascade.engine import simulate
from blackout.cascade.settings import CascadeSettings
from blackout.events import Event


@pytest.fixture(scope="session")
def venezuela() -> blackout.Grid:
    return blackout.load_case("venezuela2019")


@pytest.fixture(scope="session")
def guri_trip(venezuela: blackout.Grid) -> Any:
    """The Timeline of tripping one Guri-Malena 765 kV circuit (about 2 s of computing)."""
    line = venezuela.find("branch", "Guri-Malena 765 kV 1")
    return simulate(venezuela, [Event(0.0, "branch", line, "trip", cause="user")])


# module scope: Playwright's sync API cannot run two instances at once
@pytest.fixture(scope="module")
def offline_browser() -> Iterator[Any]:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture(scope="session")
def guri_two_trips(venezuela: blackout.Grid) -> Any:
    """Two Guri-Malena 765 kV circuits tripped at once: a cascade with cause chains."""
    lines = [venezuela.find("branch", f"Guri-Malena 765 kV {k}") for k in (1, 2)]
    return simulate(venezuela, [Event(0.0, "branch", b, "trip", cause="user") for b in lines],
                    settings=CascadeSettings(horizon_s=120.0))
