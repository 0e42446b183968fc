"""Operating state beside a Grid: what is in service and how much is injected.

The grid is never mutated; a cascade or a study passes a :class:`FlowState`
(status vectors and setpoints) to the power-flow functions instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from blackout.grid.model import Grid

__all__ = ["FlowState"]


@dataclass
class FlowState:
    """Status vectors and setpoints for one power flow (defaults: the grid's own).

    branch_in, gen_in, bus_in : bool per element.
    gen_p_mw : active-power setpoints per generator, MW.
    load_p_mw, load_q_mvar : demand actually connected per load (after shedding), MW / Mvar.
    """

    branch_in: np.ndarray
    gen_in: np.ndarray
    bus_in: np.ndarray
    gen_p_mw: np.ndarray
    load_p_mw: np.ndarray
    load_q_mvar: np.ndarray

    @classmethod
    def of(cls, grid: Grid) -> FlowState:
        """The base-case state of ``grid`` (copies, safe to modify)."""
        live = grid.load["in_service"]
        return cls(
            branch_in=np.array(grid.branch["in_service"], dtype=bool),
            gen_in=np.array(grid.gen["in_service"], dtype=bool),
            bus_in=np.array(grid.bus["in_service"], dtype=bool),
            gen_p_mw=np.array(grid.gen["p_mw"], dtype=float),
            load_p_mw=np.where(live, grid.load["p_mw"], 0.0).astype(float),
            load_q_mvar=np.where(live, grid.load["q_mvar"], 0.0).astype(float),
        )

    def copy(self) -> FlowState:
        """A deep copy."""
        return FlowState(*(np.array(getattr(self, f)) for f in self.__dataclass_fields__))
