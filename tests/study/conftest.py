"""Shared fixtures for the study tests: rated copies of built-in cases, the case dispatch kept."""

from __future__ import annotations

from functools import cache

import pytest

from blackout import load_case
from blackout.grid.model import Grid
from blackout.grid.ratings import derive_ratings
from blackout.study.fastdc.model import DCModel


@cache
def rated(case: str, k: float = 1.3, floor_mva: float = 31.7) -> Grid:
    """``case`` (its own dispatch) rated ``k * max(|flow|, floor)`` on the studies' base case
    (each island's imbalance shared by headroom).

    Odd k/floor values keep derived ratings away from round flow values (a flow exactly at
    its limit is a tie that the strict ``>`` of both engines may split by rounding)."""
    return derive_ratings(load_case(case), k=k, floor_mva=floor_mva,
                          override_given=True)


@cache
def model_of(case: str) -> DCModel:
    return DCModel.build(rated(case))


@pytest.fixture(scope="session")
def case118() -> DCModel:
    return model_of("case118")


@pytest.fixture(scope="session")
def case2869() -> DCModel:
    return model_of("case2869pegase")
