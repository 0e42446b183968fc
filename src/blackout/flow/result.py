"""Power-flow results: an object beside the grid, never written into it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["IslandResult", "PowerFlowResult"]


@dataclass
class IslandResult:
    """One island's outcome.

    ``energized`` is False for an island without generation (de-energised, its load dark).
    ``converged`` is False when Newton-Raphson failed; ``reason`` then says why.
    """

    island: int
    buses: int
    generation_mw: float
    load_mw: float
    slack: str | None
    energized: bool
    converged: bool
    iterations: int
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (for JSON)."""
        return dict(self.__dict__)


@dataclass
class PowerFlowResult:
    """Columns per element (numpy arrays), the island summaries and the mode ("ac"/"dc").

    bus: name, island, vm_pu, va_degree, energized. branch: name, p_from_mw, q_from_mvar,
    p_to_mw, q_to_mvar, loading_percent (NaN where unrated or out). gen: name, kind, p_mw,
    q_mvar, in_service. Voltages of de-energised buses are 0.
    """

    mode: str
    case: str
    islands: list[IslandResult]
    bus: dict[str, np.ndarray]
    branch: dict[str, np.ndarray]
    gen: dict[str, np.ndarray]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def converged(self) -> bool:
        """True when every energised island converged."""
        return all(i.converged for i in self.islands if i.energized)

    def to_frame(self, element: str = "bus") -> pd.DataFrame:
        """One element's results as a DataFrame."""
        return pd.DataFrame(getattr(self, element))

    def to_dict(self) -> dict[str, Any]:
        """Column-oriented, JSON-safe dict (NaN becomes null)."""
        out: dict[str, Any] = {
            "case": self.case,
            "mode": self.mode,
            "converged": self.converged,
            "islands": [i.to_dict() for i in self.islands],
        }
        for element in ("bus", "branch", "gen"):
            out[element] = {k: _json_list(v) for k, v in getattr(self, element).items()}
        out.update(self.extra)
        return out


def _json_list(values: np.ndarray) -> list[Any]:
    if values.dtype.kind == "f":
        return [None if not math.isfinite(v) else float(v) for v in values.tolist()]
    return values.tolist()
