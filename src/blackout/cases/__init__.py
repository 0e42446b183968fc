"""Built-in cases: standard test networks from pandapower and the Venezuela 2019 model.

:func:`load_case` takes a built-in name or a path to a case file.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from blackout.errors import UnknownCaseError
from blackout.grid.io import read_case
from blackout.grid.model import Grid

__all__ = ["load_case", "builtin_cases", "CaseInfo"]


@dataclass(frozen=True)
class CaseInfo:
    """A built-in case: its name, where it comes from, and how to build it."""

    name: str
    source: str
    build: Callable[[], Grid]


_PANDAPOWER = {
    "case9": "IEEE 9-bus (WSCC), MATPOWER via pandapower.networks",
    "case14": "IEEE 14-bus, MATPOWER via pandapower.networks",
    "case30": "IEEE 30-bus, MATPOWER via pandapower.networks",
    "case39": "IEEE 39-bus New England, MATPOWER via pandapower.networks",
    "case57": "IEEE 57-bus, MATPOWER via pandapower.networks",
    "case118": "IEEE 118-bus, MATPOWER via pandapower.networks",
    "case300": "IEEE 300-bus, MATPOWER via pandapower.networks",
    "case1354pegase": "PEGASE 1354-bus (European HV), MATPOWER via pandapower.networks",
    "case2869pegase": "PEGASE 2869-bus (European HV), MATPOWER via pandapower.networks",
    "case3120sp": "Polish 3120-bus summer peak 2008, MATPOWER via pandapower.networks",
    "case6515rte": "RTE 6515-bus (French grid), MATPOWER via pandapower.networks",
    "case9241pegase": "PEGASE 9241-bus (European HV), MATPOWER via pandapower.networks",
    "GBnetwork": "Great Britain 2224-bus reduced model, via pandapower.networks",
}


def _pandapower_builder(name: str) -> Callable[[], Grid]:
    def build() -> Grid:
        import logging

        import pandapower.networks as pn

        from blackout.grid.io.pandapower import grid_from_pandapower

        logging.getLogger("pandapower").setLevel(logging.ERROR)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            net = getattr(pn, name)()
        grid = grid_from_pandapower(net, name=name)
        return grid.replace(notes={**grid.notes, "source": _PANDAPOWER[name]})

    return build


def _venezuela() -> Grid:
    from blackout.cases.venezuela2019 import build_venezuela2019

    return build_venezuela2019()


@lru_cache(maxsize=1)
def builtin_cases() -> dict[str, CaseInfo]:
    """Every built-in case by name."""
    cases = {n: CaseInfo(n, s, _pandapower_builder(n)) for n, s in _PANDAPOWER.items()}
    if (Path(__file__).parent / "venezuela2019" / "__init__.py").exists():
        cases["venezuela2019"] = CaseInfo(
            "venezuela2019",
            "Venezuela's national grid (SEN), 7 March 2019 ~16:50 VET: simplified, sourced "
            "model built by blackout (see `blackout cases --describe venezuela2019`)",
            _venezuela,
        )
    return cases


_cache: dict[str, Grid] = {}


def load_case(name_or_path: str | Path) -> Grid:
    """A built-in case by name (cached; grids are immutable) or a case file by path."""
    key = str(name_or_path)
    cases = builtin_cases()
    if key in cases:
        if key not in _cache:
            _cache[key] = cases[key].build()
        return _cache[key]
    path = Path(key)
    if path.suffix or path.exists():
        return read_case(path)
    close = difflib.get_close_matches(key, list(cases), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise UnknownCaseError(
        f"unknown case '{key}': not a built-in case (see `blackout cases`) and not a file{hint}")
