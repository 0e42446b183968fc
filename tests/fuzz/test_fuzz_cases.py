"""Fuzzed case files (MATPOWER .m, native JSON, pandapower JSON) through ``blackout pf``.

Each example mutates case9 in one format (a hostile value in one cell or field, a
deleted or duplicated line, a truncation, stray bytes, a type name) and runs the
power flow: the outcome is a valid run or exit 2 with one line (see conftest).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import blackout
from blackout.grid.io import write_case
from blackout.grid.io.native import grid_to_dict

FUZZ = settings.get_profile("blackout-fuzz")

#: Values a careless or hostile file puts where a number belongs (JSON side).
JSON_VALUES = st.one_of(
    st.sampled_from([None, "nan", "inf", "-inf", 0, -1, 1e300, -1e300, 1e20, 2**70, 1.5, "x",
                     "", [], {}, True, False, 1e-320, 9, 4, -60, 1000.5]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**80), max_value=2**80),
)
#: Tokens put into a MATPOWER matrix.
M_TOKENS = st.one_of(
    st.sampled_from(["nan", "NaN", "Inf", "-Inf", "1e300", "-1e300", "0", "-1", "1,2", "abc",
                     "1e20", "9_0", "0x10", "1e-320", "4", "9", "+", "--1", "1e", "''"]),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
)


@lru_cache(maxsize=1)
def _base_m() -> str:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "case9.m"
        write_case(blackout.load_case("case9"), path)
        return path.read_text()


@lru_cache(maxsize=1)
def _base_pandapower() -> str:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "case9.json"
        write_case(blackout.load_case("case9"), path, fmt="pandapower")
        return path.read_text()


def _copy(data: Any) -> Any:
    return json.loads(json.dumps(data))


@st.composite
def mutated_m(draw: st.DrawFn) -> bytes:
    text = _base_m()
    op = draw(st.sampled_from(["token", "token", "token", "delete_line", "duplicate_line",
                               "truncate", "insert_bytes"]))
    if op == "token":
        spans = [m.span() for m in re.finditer(r"(?<=\t)[-+0-9.eE]+(?=[\t;])", text)]
        a, b = draw(st.sampled_from(spans))
        return (text[:a] + draw(M_TOKENS) + text[b:]).encode()
    lines = text.splitlines(keepends=True)
    if op in ("delete_line", "duplicate_line"):
        i = draw(st.integers(0, len(lines) - 1))
        lines[i:i + 1] = [] if op == "delete_line" else [lines[i], lines[i]]
        return "".join(lines).encode()
    raw = text.encode()
    at = draw(st.integers(0, len(raw)))
    if op == "truncate":
        return raw[:at]
    return raw[:at] + draw(st.binary(min_size=1, max_size=8)) + raw[at:]


@st.composite
def mutated_native(draw: st.DrawFn) -> str:
    data = _copy(grid_to_dict(blackout.load_case("case9")))
    op = draw(st.sampled_from(["cell", "cell", "cell", "system", "drop_column", "short_column",
                               "table"]))
    tables = ["bus", "branch", "gen", "load"]
    table = draw(st.sampled_from(tables))
    column = draw(st.sampled_from(sorted(data[table])))
    if op == "cell":
        col = data[table][column]
        if col:
            col[draw(st.integers(0, len(col) - 1))] = draw(JSON_VALUES)
    elif op == "system":
        data[draw(st.sampled_from(["f_hz", "base_mva", "version", "name", "notes",
                                   "format"]))] = draw(JSON_VALUES)
    elif op == "drop_column":
        del data[table][column]
    elif op == "short_column":
        data[table][column] = data[table][column][:-1]
    else:
        data[table] = draw(JSON_VALUES)
    return json.dumps(data)


@st.composite
def mutated_pandapower(draw: st.DrawFn) -> str:
    data = json.loads(_base_pandapower())
    net = data["_object"]
    op = draw(st.sampled_from(["cell", "cell", "f_hz", "type_name"]))
    if op == "f_hz":
        net["f_hz"] = draw(JSON_VALUES)
    elif op == "type_name":
        module = draw(st.sampled_from(["this", "os", "evilmod_fuzz", "numpy", "pandas",
                                       "builtins", "subprocess", "pandapower.auxiliary"]))
        cls = draw(st.sampled_from(["function", "system", "load", "eval", "DataFrame",
                                    "pandapowerNet", "float64", "array"]))
        where = draw(st.sampled_from(["top", "table"]))
        entry = {"_module": module, "_class": cls, "_object": draw(st.sampled_from(
            ["s", "{}", "[1]", "1"]))}
        if where == "top":
            net["extra"] = entry
        else:
            frame = json.loads(net["bus"]["_object"])
            frame["data"][0][0] = entry
            net["bus"]["_object"] = json.dumps(frame)
    else:
        table = draw(st.sampled_from(["bus", "line", "gen", "load", "ext_grid"]))
        frame = json.loads(net[table]["_object"])
        if frame["data"]:
            row = draw(st.integers(0, len(frame["data"]) - 1))
            col = draw(st.integers(0, len(frame["columns"]) - 1))
            frame["data"][row][col] = draw(JSON_VALUES)
        net[table]["_object"] = json.dumps(frame)
    return json.dumps(data)


@settings(FUZZ)
@given(content=mutated_m(), dc=st.booleans())
def test_matpower_files(cli, tmp_path: Path, content: bytes, dc: bool) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "fuzz.m"
    path.write_bytes(content)
    cli("pf", str(path), "--format", "json", *(["--dc"] if dc else [])).check()


@settings(FUZZ)
@given(content=mutated_native(), dc=st.booleans())
def test_native_json_files(cli, tmp_path: Path, content: str, dc: bool) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "fuzz.json"
    path.write_text(content)
    cli("pf", str(path), "--format", "json", *(["--dc"] if dc else [])).check()


@settings(FUZZ)
@given(content=mutated_pandapower())
def test_pandapower_json_files(cli, tmp_path: Path, content: str) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "evilmod_fuzz_ran"
    (tmp_path / "evilmod_fuzz.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    path = tmp_path / "fuzz.json"
    path.write_text(content)
    outcome = cli("pf", str(path), "--format", "json", "--dc")
    outcome.check()
    assert not marker.exists()
    assert "Beautiful is better" not in outcome.stdout
