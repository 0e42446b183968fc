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

__all__ = [
    "BlackoutError",
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
    "__version__",
]
