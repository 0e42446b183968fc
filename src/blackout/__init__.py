"""blackout: a simulator of cascading failures and national power-grid blackouts."""

from typing import TYPE_CHECKING

from blackout import libnotices  # noqa: F401  (first: before any library is imported)
from blackout.errors import (
    BlackoutError,
    CaseFormatError,
    ConvergenceError,
    ScenarioError,
    UnknownCaseError,
    UnknownElementError,
)
from blackout.events import Event
from blackout.grid.model import Grid, Table

if TYPE_CHECKING:  # imported on first use below: pandapower and the engine are heavy
    from blackout.cascade.engine import simulate
    from blackout.cascade.settings import CascadeSettings
    from blackout.cases import load_case
    from blackout.flow import FlowState, PowerFlowResult, run_ac, run_dc
    from blackout.scenario import Scenario
    from blackout.scenario.run import Outcome, run_scenario

__version__ = "0.1.0"

# imported on first use (``import blackout`` and ``blackout --help`` stay fast): the
# power flows and case readers load pandapower, the front door the whole engine
_LAZY = {"run_scenario": "blackout.scenario.run", "Outcome": "blackout.scenario.run",
         "simulate": "blackout.cascade.engine", "Scenario": "blackout.scenario",
         "CascadeSettings": "blackout.cascade.settings", "load_case": "blackout.cases",
         "FlowState": "blackout.flow", "PowerFlowResult": "blackout.flow",
         "run_ac": "blackout.flow", "run_dc": "blackout.flow"}


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
