"""blackout: a simulator of cascading failures and national power-grid blackouts."""

from blackout import libnotices  # noqa: F401  (first: before any library is imported)
from blackout.cases import load_case
from blackout.errors import (
    BlackoutError,
    CaseFormatError,
    ConvergenceError,
    ScenarioError,
    UnknownCaseError,
    UnknownElementError,
)
from blackout.events import Event
from blackout.flow import FlowState, PowerFlowResult, run_ac, run_dc
from blackout.grid.model import Grid, Table

__version__ = "0.1.0"

# the run's front door, imported on first use (the cascade and restoration are heavy)
_LAZY = {"run_scenario": "blackout.outcome", "Outcome": "blackout.outcome",
         "simulate": "blackout.cascade.engine", "Scenario": "blackout.scenario",
         "CascadeSettings": "blackout.cascade.settings"}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'blackout' has no attribute {name!r}")


__all__ = [
    "BlackoutError",
    "CascadeSettings",
    "Outcome",
    "Scenario",
    "CaseFormatError",
    "ConvergenceError",
    "Event",
    "FlowState",
    "Grid",
    "PowerFlowResult",
    "ScenarioError",
    "Table",
    "UnknownCaseError",
    "UnknownElementError",
    "load_case",
    "run_ac",
    "run_dc",
    "run_scenario",
    "simulate",
    "__version__",
]
