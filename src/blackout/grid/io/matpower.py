"""MATPOWER case files: ``.m`` read with matpowercaseframes, ``.mat`` with scipy; ``.m`` written.

The writer emits every number with Python's shortest round-tripping repr, so
``.m -> Grid -> .m -> Grid`` is exact.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from blackout.errors import CaseFormatError
from blackout.grid.io.ppc import BRANCH_COLS, BUS_COLS, GEN_COLS, grid_from_ppc, grid_to_ppc
from blackout.grid.model import Grid

__all__ = ["read_matpower", "write_matpower"]


def read_matpower(path: str | Path, *, f_hz: float = 60.0) -> Grid:
    """Read a MATPOWER ``.m`` or ``.mat`` case file into a Grid.

    Raises :class:`CaseFormatError` naming the file, matrix, row and column for
    malformed input (missing matrix, too few columns, non-numeric value, unknown or
    duplicate bus, no reference bus).
    """
    path = Path(path)
    if not path.exists():
        raise CaseFormatError("file not found", path=str(path))
    ppc = _read_mat(path) if path.suffix.lower() == ".mat" else _read_m(path)
    return grid_from_ppc(ppc, name=path.stem, path=str(path), f_hz=f_hz)


def _read_m(path: Path) -> dict[str, Any]:
    from matpowercaseframes import CaseFrames

    text = path.read_text(encoding="utf-8", errors="replace")
    if "mpc" not in text or "function" not in text:
        raise CaseFormatError("not a MATPOWER case: no 'function mpc = ...' definition",
                              path=str(path))
    for key in ("bus", "branch", "gen", "baseMVA"):
        if f"mpc.{key}" not in text:
            raise CaseFormatError(f"missing matrix 'mpc.{key}'", path=str(path), table=key)
    _check_row_lengths(text, path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cf = CaseFrames(str(path))
    except CaseFormatError:
        raise
    except Exception as exc:  # the parser's own message is the best we have
        raise CaseFormatError(f"cannot parse ({type(exc).__name__}: {exc})",
                              path=str(path)) from None
    ppc: dict[str, Any] = {}
    for key in ("baseMVA", "bus", "branch", "gen", "bus_name", "branch_name", "gen_name"):
        value = getattr(cf, key, None)
        if value is None:
            continue
        if hasattr(value, "values") and key not in ("bus_name", "branch_name", "gen_name"):
            value = value.values
        ppc[key] = value
    return ppc


def _check_row_lengths(text: str, path: Path) -> None:
    """Name the first row of bus/gen/branch with fewer columns than MATPOWER requires."""
    need = {"bus": (13, BUS_COLS), "gen": (10, GEN_COLS), "branch": (11, BRANCH_COLS)}
    for key, (n, names) in need.items():
        m = re.search(rf"mpc\.{key}\s*=\s*\[(.*?)\]", text, flags=re.S)
        if not m:
            continue
        body = re.sub(r"%[^\n]*", "", m.group(1))
        rows = [r for r in re.split(r"[;\n]", body) if r.strip()]
        for i, row in enumerate(rows):
            count = len(row.split())
            if count < n:
                raise CaseFormatError(
                    f"row has {count} columns, MATPOWER needs at least {n} "
                    f"(missing {', '.join(names[count:n])})",
                    path=str(path), table=key, row=i, field=names[count])


def _read_mat(path: Path) -> dict[str, Any]:
    from scipy.io import loadmat

    try:
        raw = loadmat(str(path), squeeze_me=False, struct_as_record=True)
    except Exception as exc:
        raise CaseFormatError(f"cannot read .mat ({exc})", path=str(path)) from None
    mpc = raw.get("mpc")
    if mpc is None:
        raise CaseFormatError("no variable 'mpc' in .mat file", path=str(path))
    rec = mpc[0, 0]
    return {k: np.asarray(rec[k]) for k in rec.dtype.names}


def _num(v: float) -> str:
    if float(v).is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


def _matrix_text(name: str, arr: np.ndarray) -> str:
    rows = "\n".join("\t" + "\t".join(_num(v) for v in row) + ";" for row in arr)
    return f"mpc.{name} = [\n{rows}\n];\n"


def _names_text(name: str, names: list[str]) -> str:
    rows = "\n".join("\t'" + str(n).replace("'", "''") + "';" for n in names)
    return f"mpc.{name} = {{\n{rows}\n}};\n"


def write_matpower(grid: Grid, path: str | Path) -> None:
    """Write the grid as a MATPOWER version-2 ``.m`` file (with bus/branch/gen names).

    Branch shunt conductance (``g_pu``, from pandapower transformers) has no
    MATPOWER column: it is moved, electrically exactly, into the bus shunt ``GS``
    of both ends (``g/2/tap^2`` at the from bus, ``g/2`` at the to bus), and the
    file says so in a comment.
    """
    ppc = grid_to_ppc(grid)
    g = grid.branch["g_pu"]
    moved = np.flatnonzero((g != 0) & grid.branch["in_service"])
    if moved.size:
        tap = np.where(grid.branch["tap"] == 0, 1.0, grid.branch["tap"])[moved]
        half = g[moved] / 2 * grid.base_mva
        np.add.at(ppc["bus"][:, 4], grid.branch["from_bus"][moved], half / tap**2)
        np.add.at(ppc["bus"][:, 4], grid.branch["to_bus"][moved], half)
    fname = "".join(c if c.isalnum() or c == "_" else "_" for c in Path(path).stem) or "case"
    parts = [
        f"function mpc = {fname}\n",
        f"% written by blackout from case '{grid.name}'\n",
        (f"% shunt conductance of {moved.size} branches moved into bus GS\n" if moved.size
         else ""),
        "mpc.version = '2';\n",
        f"mpc.baseMVA = {_num(grid.base_mva)};\n",
        "%% bus data\n%\tbus_i\ttype\tPd\tQd\tGs\tBs\tarea\tVm\tVa\tbaseKV\tzone\tVmax\tVmin\n",
        _matrix_text("bus", ppc["bus"]),
        "%% generator data\n%\tbus\tPg\tQg\tQmax\tQmin\tVg\tmBase\tstatus\tPmax\tPmin\n",
        _matrix_text("gen", ppc["gen"]),
        "%% branch data\n%\tfbus\ttbus\tr\tx\tb\trateA\trateB\trateC\tratio\tangle\tstatus"
        "\tangmin\tangmax\n",
        _matrix_text("branch", ppc["branch"]),
        _names_text("bus_name", ppc["bus_name"]),
        _names_text("branch_name", ppc["branch_name"]),
        _names_text("gen_name", ppc["gen_name"]),
    ]
    Path(path).write_text("".join(parts), encoding="utf-8")
