"""Island-aware AC and DC power flow."""

from blackout.flow.ac import run_ac
from blackout.flow.dc import run_dc
from blackout.flow.result import IslandResult, PowerFlowResult
from blackout.flow.state import FlowState

__all__ = ["run_ac", "run_dc", "FlowState", "PowerFlowResult", "IslandResult"]
