"""pandapower nets and pandapower JSON files, through pandapower's own ``to_ppc`` converter.

pandapower's internal branch model has a shunt conductance column (``BR_G``,
transformer iron losses) that MATPOWER lacks; it is kept as ``g_pu``.
pandapower marks a missing rating with sentinel values (99999 kA on lines,
9900 MVA from PYPOWER's convention): those branches are read as unrated
(``rate_a_mva = 0``, ``rating_given = False``), never as a real limit.
"""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from blackout.errors import CaseFormatError
from blackout.grid.io.ppc import grid_from_ppc
from blackout.grid.model import Grid
from blackout.grid.schema import check_range, schema
from blackout.inputfiles import CASE_MAX_BYTES, MAX_NESTING, check_nesting, read_text

__all__ = ["grid_from_pandapower", "read_pandapower_json", "grid_to_pandapower",
           "write_pandapower_json", "check_pandapower_json", "grid_from_pandapower_json",
           "check_net_references", "ALLOWED_TYPES", "MAX_INDEX"]

_SENTINEL_MVA = 9900.0
_SENTINEL_KA = 99999.0


def grid_from_pandapower(net: Any, *, name: str = "pandapower", path: str | None = None) -> Grid:
    """Convert an in-memory pandapower net to a Grid (via ``pandapower.converter.to_ppc``)."""
    from pandapower.converter.pypower.to_ppc import to_ppc

    check_net_references(net, path=path)
    # per-unit conversion divides by vn_kv: check it first so the error names it
    try:
        vn_kv = np.asarray(net.bus["vn_kv"], dtype=np.float64)
        f_hz = float(net.f_hz)
    except (AttributeError, KeyError, TypeError, ValueError):
        raise CaseFormatError("net.bus.vn_kv and net.f_hz must be numbers", path=path,
                              table="bus", field="vn_kv") from None
    check_range(vn_kv, schema()["bus"]["vn_kv"], path=path, table="bus")
    logging.getLogger("pandapower").setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ppc = to_ppc(net, init="flat", calculate_voltage_angles=True,
                         check_connectivity=False)
    except Exception as exc:
        raise CaseFormatError(f"pandapower could not convert the net ({exc})",
                              path=path) from None
    lookup = net._pd2ppc_lookups  # noqa: SLF001 (pandapower keeps its ppc lookups only there)
    bus_lookup = np.asarray(lookup["bus"])
    nb = ppc["bus"].shape[0]
    names = [""] * nb
    numbers = np.arange(1, nb + 1)
    for idx, nm in zip(net.bus.index, net.bus["name"], strict=True):
        p = int(bus_lookup[idx])
        if names[p] == "":
            names[p] = str(nm) if nm is not None and str(nm) != "nan" else str(idx)
    if all(n.lstrip("-").isdigit() for n in names) and len(set(names)) == nb:
        numbers = np.array([int(n) for n in names])
    ppc["bus"][:, 0] = numbers
    for key in ("branch", "gen"):
        arr = ppc[key].real
        cols = [0, 1] if key == "branch" else [0]
        for c in cols:
            arr[:, c] = numbers[arr[:, c].astype(int)]
        ppc[key] = arr
    ppc["bus_name"] = names
    for extra in ("branch_r_asym", "branch_x_asym", "branch_g_asym", "branch_b_asym"):
        if extra in ppc:
            raise CaseFormatError("asymmetric branch impedances are not supported", path=path,
                                  table="branch", field=extra)
    if "branch_g" in ppc:
        ppc["branch_g_pu"] = np.asarray(ppc["branch_g"]).real
    branch = ppc["branch"]
    ppc["branch_name"] = _branch_names(net, lookup, branch.shape[0])
    kind = np.full(branch.shape[0], "line", dtype=object)
    for table, (start, stop) in lookup["branch"].items():
        if table.startswith("trafo"):
            kind[start:stop] = "transformer"
    ppc["branch_kind"] = kind
    # pandapower's "no rating" sentinels -> unrated
    rate = branch[:, 5]
    sentinel = (rate >= _SENTINEL_MVA * (1 - 1e-9)) & np.isclose(
        np.mod(rate, _SENTINEL_MVA), 0.0) | (rate >= 1e6)
    sentinel |= _line_sentinel(net, lookup, branch.shape[0])
    branch[sentinel, 5:8] = 0.0
    grid = grid_from_ppc(ppc, name=name, path=path, f_hz=f_hz,
                         require_slack=False)
    return grid


#: Largest element index accepted in a pandapower net (pandapower sizes lookup arrays by it).
MAX_INDEX = 10_000_000
_BUS_REFS = ("bus", "from_bus", "to_bus", "hv_bus", "lv_bus", "mv_bus")
_SWITCH_TABLES = {"b": "bus", "l": "line", "t": "trafo", "t3": "trafo3w"}


def check_net_references(net: Any, *, path: str | None = None) -> None:
    """Refuse a net whose tables pandapower's compiled code would index out of bounds.

    pandapower's numba kernels index arrays by bus number without bounds checks: a
    ``from_bus`` that names no bus crashes the process (a segmentation fault), not
    an exception. So before any conversion every table's index must be integers in
    ``[0, MAX_INDEX]``, every bus reference (``bus``, ``from_bus``, ``to_bus``,
    ``hv_bus``, ``lv_bus``, ``mv_bus``; a switch's ``element``) must name an existing
    row, and ``in_service`` must be true/false. Raises :class:`CaseFormatError`
    naming the table, row and field.
    """
    import pandas as pd

    tables = {k: v for k, v in net.items()
              if isinstance(v, pd.DataFrame) and not k.startswith(("res_", "_"))}
    if "bus" not in tables:
        raise CaseFormatError("the net has no bus table", path=path, table="bus")
    index: dict[str, set[int]] = {}
    for name, df in tables.items():
        idx = np.asarray(df.index)
        if len(idx) and (idx.dtype.kind not in "iu" or idx.min() < 0 or idx.max() > MAX_INDEX):
            raise CaseFormatError(f"index must be integers in [0, {MAX_INDEX}]", path=path,
                                  table=name, field="index")
        index[name] = set(idx.tolist())
    for name, df in tables.items():
        for col in (*_BUS_REFS, "in_service", "element"):
            if col not in df.columns or not len(df):
                continue
            values = df[col].to_numpy()
            if col == "in_service":
                ok = np.array([isinstance(v, bool | np.bool_) or v in (0, 1) for v in values])
                if not ok.all():
                    raise CaseFormatError(f"expected true or false, got {values[~ok][0]!r}",
                                          path=path, table=name, row=int(np.argmin(ok)),
                                          field=col)
                continue
            if col == "element" and name != "switch":
                continue
            targets = [index["bus"]] * len(values) if col != "element" else [
                index.get(_SWITCH_TABLES.get(str(et), ""), set()) for et in df["et"]]
            for row, (v, known) in enumerate(zip(values, targets, strict=True)):
                num = v if isinstance(v, int | float | np.number) and not isinstance(
                    v, bool | np.bool_) else None
                if num is None or not np.isfinite(num) or num != int(num) or \
                        int(num) not in known:
                    raise CaseFormatError(f"refers to no existing element ({v!r})", path=path,
                                          table=name, row=row, field=col)


def _branch_names(net: Any, lookup: dict[str, Any], n: int) -> list[str] | None:
    names: list[str] = [""] * n
    for table in ("line", "trafo", "impedance"):
        if table not in lookup["branch"]:
            continue
        start, stop = lookup["branch"][table]
        df = getattr(net, table)
        for k, nm in enumerate(df["name"]):
            if start + k < stop:
                names[start + k] = str(nm) if isinstance(nm, str) and nm else ""
    if any(n == "" for n in names):
        return None
    if len(set(names)) != n:
        return None
    return names


def _line_sentinel(net: Any, lookup: dict[str, Any], n: int) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    if "line" in lookup["branch"]:
        start, stop = lookup["branch"]["line"]
        out[start:stop] = net.line["max_i_ka"].to_numpy()[: stop - start] >= _SENTINEL_KA * 0.999
    return out


def read_pandapower_json(path: str | Path) -> Grid:
    """Read a pandapower JSON file (``pandapower.to_json``) into a Grid.

    pandapower's own loader imports whatever module an entry's ``"_module"`` names
    (and runs that module's code). The file is therefore read and checked here
    first: every object that names a type (``_module``/``_class``, at any depth,
    including JSON embedded in strings) must be on :data:`ALLOWED_TYPES`;
    anything else raises :class:`CaseFormatError` naming the entry and nothing is
    imported. Only then is the checked text handed to pandapower.
    """
    path = Path(path)
    text = read_text(path, max_bytes=CASE_MAX_BYTES, what="case", error=CaseFormatError)
    return grid_from_pandapower_json(text, name=path.stem, path=str(path))


def grid_from_pandapower_json(text: str, *, name: str = "pandapower",
                              path: str | None = None) -> Grid:
    """A Grid from the text of a pandapower JSON file, checked before pandapower sees it."""
    import pandapower as pp

    check_pandapower_json(text, path=path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            net = pp.from_json_string(text, convert=True)  # as pp.from_json: old formats updated
    except RecursionError:
        raise CaseFormatError("nested too deeply", path=path) from None
    except Exception as exc:
        raise CaseFormatError(f"not a pandapower JSON net ({type(exc).__name__}: {exc})",
                              path=path) from None
    if not isinstance(net, pp.pandapowerNet):
        raise CaseFormatError("not a pandapower JSON net (no pandapowerNet at the top)",
                              path=path)
    return grid_from_pandapower(net, name=name, path=path)


#: Types a pandapower JSON file may name (``_module`` -> allowed ``_class`` values):
#: pandapower's net and the pandas, numpy, builtin and shapely types it serialises.
#: pandapower imports the named module before it checks anything, so only these
#: pass; every other name (a local module, ``this``, ``os``, ...) is refused.
ALLOWED_TYPES: dict[str, frozenset[str]] = {
    "pandapower.auxiliary": frozenset({"pandapowerNet"}),
    "pandas": frozenset({"DataFrame", "Series", "Index", "RangeIndex", "MultiIndex"}),
    "pandas.core.frame": frozenset({"DataFrame"}),
    "pandas.core.series": frozenset({"Series"}),
    "pandas.core.indexes.base": frozenset({"Index"}),
    "pandas.core.indexes.range": frozenset({"RangeIndex"}),
    "pandas.core.indexes.multi": frozenset({"MultiIndex"}),
    "numpy": frozenset({"array", "bool", "bool_", "int8", "int16", "int32", "int64", "uint8",
                        "uint16", "uint32", "uint64", "float16", "float32", "float64",
                        "complex64", "complex128", "str_"}),
    "builtins": frozenset({"complex", "tuple", "set", "frozenset"}),
    "shapely": frozenset({"Point", "LineString", "LinearRing", "Polygon", "MultiPoint",
                          "MultiLineString", "MultiPolygon", "GeometryCollection"}),
}
#: Keys a serialised DataFrame/Series may carry (pandapower passes the rest to
#: ``pandas.read_json`` as keyword arguments, so nothing else is let through).
_FRAME_KEYS = frozenset({"_module", "_class", "_object", "orient", "dtype", "is_multiindex",
                         "is_multicolumn", "index_name", "index_names", "column_name",
                         "column_names", "typ"})
_ORIENTS = frozenset({"split", "columns", "index", "records", "values", "table"})


def check_pandapower_json(text: str, *, path: str | None = None) -> None:
    """Refuse a pandapower JSON text that names a type outside :data:`ALLOWED_TYPES`.

    Walks every object at every depth (iteratively), and every string that holds
    JSON (pandapower nests serialised tables as strings). Raises
    :class:`CaseFormatError` naming the entry (a path such as
    ``_object.bus._object``) and the module and class it names.
    """
    try:
        root = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CaseFormatError(f"invalid JSON at line {exc.lineno}: {exc.msg}",
                              path=path) from None
    except RecursionError:
        raise CaseFormatError("nested too deeply", path=path) from None
    depth = check_nesting(root, limit=MAX_NESTING)
    if depth is not None:
        raise CaseFormatError(f"nested too deeply (over {MAX_NESTING} levels)", path=path)
    stack: list[tuple[Any, str, int]] = [(root, "$", 0)]
    while stack:
        value, where, level = stack.pop()
        if isinstance(value, dict):
            if "_module" in value or "_class" in value:
                _check_entry(value, where, path)
            stack.extend((v, f"{where}.{k}", level) for k, v in value.items()
                         if isinstance(v, dict | list | str))
        elif isinstance(value, list):
            stack.extend((v, f"{where}[{i}]", level) for i, v in enumerate(value)
                         if isinstance(v, dict | list | str))
        elif isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
            # JSON inside a string: pandas and pandapower parse it later, so check it too
            # (whatever escapes it uses); text that is not JSON is never decoded as types
            try:
                inner = json.loads(value)
            except (json.JSONDecodeError, RecursionError):
                if "_module" in value or "_class" in value:
                    raise CaseFormatError(f"entry '{where}' is a string naming a _module or "
                                          "_class that is not JSON; refused",
                                          path=path) from None
                continue
            if level >= 4:
                raise CaseFormatError(f"entry '{where}': JSON nested in strings too deeply",
                                      path=path)
            if check_nesting(inner, limit=MAX_NESTING) is not None:
                raise CaseFormatError(f"entry '{where}' is nested too deeply", path=path)
            stack.append((inner, f"{where}<json>", level + 1))


def _check_entry(obj: dict[str, Any], where: str, path: str | None) -> None:
    module, cls = obj.get("_module"), obj.get("_class")
    allowed = ALLOWED_TYPES.get(module) if isinstance(module, str) else None
    if allowed is None or not isinstance(cls, str) or cls not in allowed:
        raise CaseFormatError(
            f"entry '{where}' names _module {module!r}, _class {cls!r}: not a pandapower "
            "net type, refused without importing it (allowed modules: "
            f"{', '.join(sorted(ALLOWED_TYPES))})", path=path)
    if cls in ("DataFrame", "Series"):
        extra = sorted(set(obj) - _FRAME_KEYS)
        if extra:
            raise CaseFormatError(f"entry '{where}' ({cls}) has unexpected key {extra[0]!r}",
                                  path=path)
        inner = obj.get("_object")
        if not isinstance(inner, str) or inner.lstrip()[:1] not in ("{", "["):
            raise CaseFormatError(f"entry '{where}' ({cls}): _object must be JSON text",
                                  path=path)
        orient = obj.get("orient", "split")
        if orient not in _ORIENTS:
            raise CaseFormatError(f"entry '{where}' ({cls}): unknown orient {orient!r}",
                                  path=path)
        dtype = obj.get("dtype")
        if dtype is not None and not (isinstance(dtype, bool) or (
                isinstance(dtype, dict) and all(isinstance(v, str) for v in dtype.values()))):
            raise CaseFormatError(f"entry '{where}' ({cls}): dtype must map columns to type "
                                  "names", path=path)


def grid_to_pandapower(grid: Grid) -> Any:
    """The grid as a pandapower net (via ``pandapower.converter.from_ppc``)."""
    from pandapower.converter.pypower.from_ppc import from_ppc

    from blackout.grid.io.ppc import grid_to_ppc

    ppc = grid_to_ppc(grid)
    ppc = {k: v for k, v in ppc.items() if not k.endswith("_name")}
    logging.getLogger("pandapower").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = from_ppc(ppc, f_hz=grid.f_hz, validate_conversion=False)
    return net


def write_pandapower_json(grid: Grid, path: str | Path) -> None:
    """Write the grid as a pandapower JSON file."""
    import pandapower as pp

    pp.to_json(grid_to_pandapower(grid), str(path))
