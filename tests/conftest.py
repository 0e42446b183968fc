"""Shared fixtures: built-in cases are cached by blackout.load_case."""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"

logging.getLogger("pandapower").setLevel(logging.ERROR)
warnings.filterwarnings("ignore", module="pandapower")


@pytest.fixture(scope="session")
def tolerances() -> dict[str, float]:
    return json.loads((DATA / "flow" / "tolerances.json").read_text())
