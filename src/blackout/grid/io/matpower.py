"""MATPOWER case files: ``.m`` parsed as data (never evaluated), ``.mat`` read with scipy; ``.m`` written.

The writer emits every number with Python's shortest round-tripping repr, so
``.m -> Grid -> .m -> Grid`` is exact.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import numpy as np

from blackout.errors import CaseFormatError
from blackout.grid.io.ppc import BRANCH_COLS, BUS_COLS, GEN_COLS, grid_from_ppc, grid_to_ppc
from blackout.grid.model import Grid
from blackout.inputfiles import CASE_MAX_BYTES, read_bytes, read_text

__all__ = ["read_matpower", "write_matpower", "parse_m"]


def read_matpower(path: str | Path, *, f_hz: float = 60.0) -> Grid:
    """Read a MATPOWER ``.m`` or ``.mat`` case file into a Grid.

    Raises :class:`CaseFormatError` naming the file, matrix, row and column for
    malformed input (missing matrix, too few columns, non-numeric value, a comma
    inside a matrix, unknown or duplicate bus, no reference bus). The file is read
    once, through :mod:`blackout.inputfiles` (regular file, at most 256 MiB, UTF-8);
    nothing in it is ever run (a ``.m`` file is parsed as data, never evaluated).
    """
    path = Path(path)
    if path.suffix.lower() == ".mat":
        ppc = _read_mat(path)
    else:
        ppc = parse_m(read_text(path, max_bytes=CASE_MAX_BYTES, what="case",
                                error=CaseFormatError), path=str(path))
    return grid_from_ppc(ppc, name=path.stem, path=str(path), f_hz=f_hz)


# a MATLAB number: decimal with optional exponent, or Inf/NaN (refused later where
# a value must be finite); no commas, underscores or other spellings Python accepts
_NUMBER = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[Ii]nf|NaN|nan)")
_COLS = {"bus": (13, BUS_COLS), "gen": (10, GEN_COLS), "branch": (11, BRANCH_COLS)}
_KEEP = {"bus": 13, "gen": 10, "branch": 13}


def parse_m(text: str, *, path: str | None = None) -> dict[str, Any]:
    """The MATPOWER case in ``text`` (a ``function mpc = ...`` file) as a ppc dict.

    Reads ``mpc.version``, ``mpc.baseMVA``, the ``bus``, ``gen`` and ``branch``
    matrices (MATPOWER's required columns) and the optional ``bus_name``,
    ``branch_name`` and ``gen_name`` cell arrays. Values are separated by spaces or
    tabs, rows by ``;`` or line ends, ``%`` starts a comment.
    """
    if "mpc" not in text or "function" not in text:
        raise CaseFormatError("not a MATPOWER case: no 'function mpc = ...' definition",
                              path=path)
    body = "\n".join(line.split("%", 1)[0] for line in text.splitlines())
    ppc: dict[str, Any] = {}
    version = re.search(r"mpc\.version\s*=\s*'?\"?([^;'\"\s]*)", body)
    if version and version.group(1) != "2":
        raise CaseFormatError(f"MATPOWER case format version {version.group(1)!r} is not "
                              "supported; only version '2'", path=path, field="version")
    for key in ("bus", "branch", "gen", "baseMVA"):
        if not re.search(rf"mpc\.{key}\s*=", body):
            raise CaseFormatError(f"missing matrix 'mpc.{key}'", path=path, table=key)
    base = re.search(r"mpc\.baseMVA\s*=\s*([^;\n]*)", body)
    token = base.group(1).strip() if base else ""
    if not _NUMBER.fullmatch(token):
        raise CaseFormatError(f"non-numeric value {token!r}", path=path, field="baseMVA")
    ppc["baseMVA"] = float(token)
    for key in ("bus", "gen", "branch"):
        ppc[key] = _matrix_rows(body, key, path)
    for key in ("bus_name", "branch_name", "gen_name"):
        m = re.search(rf"mpc\.{key}\s*=\s*\{{(.*?)\}}\s*;", body, flags=re.S)
        if m:
            ppc[key] = [_unquote(cell) for cell in re.split(r"[;\n]", m.group(1))
                        if cell.strip()]
    return ppc


def _matrix_rows(body: str, key: str, path: str | None) -> np.ndarray:
    need, names = _COLS[key]
    m = re.search(rf"mpc\.{key}\s*=\s*\[(.*?)\]", body, flags=re.S)
    if not m:
        raise CaseFormatError(f"'mpc.{key}' is not a [...] matrix", path=path, table=key)
    rows: list[list[float]] = []
    width = 0
    for text_row in re.split(r"[;\n]", m.group(1)):
        tokens = text_row.replace("...", " ").split()
        if not tokens:
            continue
        i = len(rows)
        if len(tokens) < need:
            raise CaseFormatError(
                f"row has {len(tokens)} columns, MATPOWER needs at least {need} "
                f"(missing {', '.join(names[len(tokens):need])})",
                path=path, table=key, row=i, field=names[len(tokens)])
        keep = tokens[: _KEEP[key]]
        if width and len(keep) != width:
            raise CaseFormatError(f"row has {len(keep)} columns, the rows above have {width}",
                                  path=path, table=key, row=i)
        width = len(keep)
        values = []
        for j, tok in enumerate(keep):
            if not _NUMBER.fullmatch(tok):
                col = names[j] if j < len(names) else f"column {j + 1}"
                hint = (" (a comma inside a matrix: separate columns with spaces and write "
                        "decimals with a point)" if "," in tok else "")
                raise CaseFormatError(f"non-numeric value {tok!r}{hint}", path=path,
                                      table=key, row=i, field=col)
            values.append(float(tok))
        rows.append(values)
    return np.array(rows, dtype=np.float64).reshape(len(rows), width or need)


def _unquote(cell: str) -> str:
    cell = cell.strip().rstrip(",").strip()
    if len(cell) >= 2 and cell[0] == cell[-1] and cell[0] in "'\"":
        cell = cell[1:-1].replace(cell[0] * 2, cell[0])
    return cell


def _check_mat_expansion(data: bytes, path: Path) -> None:
    """Refuse a MATLAB v5 file whose compressed elements expand beyond the case size cap
    (a zip bomb), before scipy inflates them: each ``miCOMPRESSED`` element is inflated
    here with a bound on its output."""
    import struct
    import zlib

    if len(data) < 128:
        return
    endian = "<" if data[126:128] == b"IM" else ">"
    pos, total = 128, 0
    while pos + 8 <= len(data):
        dtype, nbytes = struct.unpack(endian + "II", data[pos:pos + 8])
        if dtype >> 16:  # small data element format: 4 bytes in the tag
            pos += 8
            continue
        body = data[pos + 8:pos + 8 + nbytes]
        if dtype == 15:  # miCOMPRESSED
            inflater = zlib.decompressobj()
            try:
                out = inflater.decompress(body, CASE_MAX_BYTES - total + 1)
            except zlib.error:
                return  # scipy reports the damage with its own message
            total += len(out)
        else:
            total += nbytes
        if total > CASE_MAX_BYTES:
            raise CaseFormatError(f"the .mat data expands beyond {CASE_MAX_BYTES // 2**20} MiB "
                                  "(the case size limit)", path=str(path))
        pos += 8 + nbytes + ((8 - nbytes % 8) % 8 if dtype != 15 else 0)


def _read_mat(path: Path) -> dict[str, Any]:
    """A ``.mat`` file's ``mpc`` struct: scipy reads data only (no MATLAB code, no pickles)."""
    from scipy.io import loadmat

    data = read_bytes(path, max_bytes=CASE_MAX_BYTES, what="case", error=CaseFormatError)
    _check_mat_expansion(data, path)
    try:
        raw = loadmat(io.BytesIO(data), squeeze_me=False, struct_as_record=True)
    except Exception as exc:
        raise CaseFormatError(f"cannot read .mat ({type(exc).__name__}: {exc})",
                              path=str(path)) from None
    mpc = raw.get("mpc")
    if mpc is None:
        raise CaseFormatError("no variable 'mpc' in .mat file", path=str(path))
    try:
        rec = mpc[0, 0]
        return {k: np.asarray(rec[k]) for k in rec.dtype.names}
    except (TypeError, IndexError, ValueError):
        raise CaseFormatError("variable 'mpc' is not a MATPOWER struct", path=str(path)) from None


def _num(v: float) -> str:
    if float(v).is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


def _matrix_text(name: str, arr: np.ndarray) -> str:
    if np.any(np.isnan(arr)):  # never write a NaN (the reader refuses it)
        i, j = (int(v) for v in np.argwhere(np.isnan(arr))[0])
        raise CaseFormatError("NaN cannot be written to a MATPOWER file",
                              table=name, row=i, field=f"column {j + 1}")
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
