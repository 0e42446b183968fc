"""Hostile and careless case files: no code runs from data, every bad value is a CaseFormatError.

Issue 24's probes, one per test: a pandapower JSON file that names a module
(``this``, a local module that would write a marker file), files that are not
regular files, not UTF-8 or nested too deeply, and values outside the schema's
physical ranges in every format.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import blackout
from blackout.errors import CaseFormatError
from blackout.grid.io import read_case, write_case
from blackout.grid.io.native import grid_to_dict
from blackout.inputfiles import read_bytes, read_text

BASE_M = Path(__file__).parents[1] / "data" / "grid" / "malformed" / "base.m"


@pytest.fixture(scope="module")
def pp_case9(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("pp") / "case9.json"
    write_case(blackout.load_case("case9"), path, fmt="pandapower")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data))
    return path


# ----------------------------------------------------------------- no code from data
def test_pandapower_json_naming_this_is_refused_without_import(
        pp_case9: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(json.dumps(pp_case9))
    data["_object"]["zen"] = {"_module": "this", "_class": "function", "_object": "s"}
    sys.modules.pop("this", None)
    with pytest.raises(CaseFormatError) as info:
        read_case(_write(tmp_path / "zen.json", data))
    msg = str(info.value)
    assert "zen.json" in msg and "$._object.zen" in msg and "'this'" in msg
    assert "this" not in sys.modules
    assert "Beautiful is better" not in capsys.readouterr().out


def test_local_module_is_never_imported(pp_case9: dict[str, Any], tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A module beside the file (and on sys.path) that would write a marker: never runs."""
    marker = tmp_path / "marker.txt"
    (tmp_path / "evilmod_h1.py").write_text(
        f"open({str(marker)!r}, 'w').write('ran')\ndef f():\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    data = json.loads(json.dumps(pp_case9))
    # at the top, nested in a table's JSON text, and as a DataFrame's class
    data["_object"]["evil"] = {"_module": "evilmod_h1", "_class": "f", "_object": "{}"}
    with pytest.raises(CaseFormatError, match="evilmod_h1"):
        read_case(_write(tmp_path / "a.json", data))
    data = json.loads(json.dumps(pp_case9))
    frame = json.loads(data["_object"]["bus"]["_object"])
    frame["data"][0][0] = {"\\u005fmodule": "evilmod_h1", "_class": "f", "_object": "x"}
    # the key escaped inside the nested JSON text: still found
    data["_object"]["bus"]["_object"] = json.dumps(frame).replace(
        '"\\\\u005fmodule"', '"\\u005fmodule"')
    with pytest.raises(CaseFormatError, match="evilmod_h1"):
        read_case(_write(tmp_path / "b.json", data))
    assert not marker.exists()
    assert "evilmod_h1" not in sys.modules


def test_dataframe_with_extra_reader_arguments_is_refused(pp_case9: dict[str, Any],
                                                          tmp_path: Path) -> None:
    data = json.loads(json.dumps(pp_case9))
    data["_object"]["bus"]["storage_options"] = {"x": 1}
    with pytest.raises(CaseFormatError, match="unexpected key 'storage_options'"):
        read_case(_write(tmp_path / "c.json", data))
    data = json.loads(json.dumps(pp_case9))
    data["_object"]["bus"]["_object"] = "/etc/passwd.json"
    with pytest.raises(CaseFormatError, match="must be JSON text"):
        read_case(_write(tmp_path / "d.json", data))


def test_pandapower_json_still_reads(pp_case9: dict[str, Any], tmp_path: Path) -> None:
    grid = read_case(_write(tmp_path / "ok.json", pp_case9))
    assert (grid.bus.n, grid.branch.n, grid.gen.n) == (9, 9, 3)


# ----------------------------------------------------------------- files read safely
def test_directory_fifo_and_device_are_refused_at_once(tmp_path: Path) -> None:
    (tmp_path / "d.m").mkdir()
    fifo = tmp_path / "p.json"
    os.mkfifo(fifo)
    zero = tmp_path / "z.m"
    zero.symlink_to("/dev/zero")
    results: dict[str, str] = {}

    def probe() -> None:
        for name in ("d.m", "p.json", "z.m"):
            try:
                read_case(tmp_path / name)
            except CaseFormatError as exc:
                results[name] = str(exc)

    worker = threading.Thread(target=probe, daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive(), "reading a FIFO or /dev/zero hung"
    assert "is a directory" in results["d.m"]
    assert "named pipe" in results["p.json"]
    assert "a device" in results["z.m"]


def test_size_cap_and_encoding(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes(b"a" * 101)
    with pytest.raises(Exception, match="over the"):
        read_bytes(path, max_bytes=100)
    assert len(read_bytes(path, max_bytes=101)) == 101
    path.write_bytes(b"name: caf\xe9\ncase: case39\n")
    with pytest.raises(Exception, match=r"line 1: byte 0xe9 is not UTF-8"):
        read_text(path)
    path.write_text("name: x\n", encoding="utf-16")
    with pytest.raises(Exception, match="UTF-16"):
        read_text(path)
    path.write_bytes(b"\xef\xbb\xbfname: x\n")
    assert read_text(path) == "name: x\n"


def test_latin1_case_and_deep_nesting(tmp_path: Path) -> None:
    latin = tmp_path / "l.m"
    latin.write_bytes(BASE_M.read_bytes().replace(b"function mpc = base",
                                                  b"function mpc = base % caf\xe9"))
    with pytest.raises(CaseFormatError, match="not UTF-8"):
        read_case(latin)
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(CaseFormatError, match="nested too deeply"):
        read_case(deep)
    deep.write_text('{"a":' * 200 + "1" + "}" * 200)
    with pytest.raises(CaseFormatError, match="nested too deeply"):
        read_case(deep)


# ----------------------------------------------------------------- physical validation
@pytest.fixture(scope="module")
def native_case9() -> dict[str, Any]:
    return grid_to_dict(blackout.load_case("case9"))


def _mutate(data: dict[str, Any], table: str | None, field: str, value: Any,
            row: int = 0) -> dict[str, Any]:
    out = json.loads(json.dumps(data))
    if table is None:
        out[field] = value
    else:
        out[table][field][row] = value
    return out


@pytest.mark.parametrize(("table", "field", "value", "expect"), [
    ("load", "p_mw", None, "got null"),
    ("load", "p_mw", "nan", "NaN or null"),
    ("gen", "pmax_mw", "inf", "infinite"),
    ("gen", "pmax_mw", "nan", "NaN"),
    ("branch", "rate_a_mva", "nan", "NaN"),
    ("load", "p_mw", 1e300, "out of range"),
    ("bus", "vn_kv", 0, "must be > 0"),
    ("bus", "vn_kv", "nan", "NaN"),
    ("bus", "type", 9, "above the maximum 4"),
    ("bus", "number", 1e20, "out of range"),
    ("gen", "inertia_h_s", -5, "below the minimum 0 s"),
    ("gen", "droop_pu", 7, "above the maximum 1"),
    ("load", "p_mw", "12", "expected a number"),
    ("gen", "in_service", "yes", "expected true or false"),
    ("bus", "number", 1.5, "expected an integer"),
    (None, "f_hz", 0, "within 10-1000 Hz"),
    (None, "f_hz", -60, "within 10-1000 Hz"),
    (None, "f_hz", "nan", "within 10-1000 Hz"),
    (None, "f_hz", [60], "expected a number"),
    (None, "version", 999, "unsupported version 999"),
    (None, "base_mva", "inf", "baseMVA"),
    (None, "bus", {"number": 5}, "expected a list"),
])
def test_native_json_values_are_checked(native_case9: dict[str, Any], tmp_path: Path,
                                        table: str | None, field: str, value: Any,
                                        expect: str) -> None:
    path = _write(tmp_path / "n.json", _mutate(native_case9, table, field, value))
    with pytest.raises(CaseFormatError) as info:
        read_case(path)
    msg = str(info.value)
    assert expect in msg and "n.json" in msg
    if table is not None:
        assert f"table '{table}'" in msg and "row 0" in msg and f"field '{field}'" in msg


def test_pandapower_json_goes_through_the_same_checks(pp_case9: dict[str, Any],
                                                      tmp_path: Path) -> None:
    data = json.loads(json.dumps(pp_case9))
    data["_object"]["f_hz"] = -60.0
    with pytest.raises(CaseFormatError, match="within 10-1000 Hz"):
        read_case(_write(tmp_path / "f.json", data))
    data = json.loads(json.dumps(pp_case9))
    frame = json.loads(data["_object"]["bus"]["_object"])
    col = frame["columns"].index("vn_kv")
    frame["data"][0][col] = 0.0
    data["_object"]["bus"]["_object"] = json.dumps(frame)
    with pytest.raises(CaseFormatError, match="vn_kv"):
        read_case(_write(tmp_path / "kv.json", data))


@pytest.mark.parametrize(("old", "new", "expect"), [
    ("\t2\t1\t90\t30", "\t2\t1\t1e300\t30", "out of range"),
    ("\t2\t1\t90\t30", "\t2\t1\tNaN\t30", "non-finite"),
    ("0.085", "0,085", "a comma inside a matrix"),
    ("\t3\t2\t0\t0", "\t1e20\t2\t0\t0", r"bus number 1e\+20 is out of range"),
    ("\t2\t1\t90", "\t2\t9\t90", "bus type 9"),
    ("\t2\t1\t90", "\t2\t1.5\t90", "bus type 1.5"),
    ("345\t1\t1.1", "0\t1\t1.1", "must be > 0 kV"),
    ("version = '2'", "version = '1'", "version '1'"),
    ("\t2\t1\t90", "\t2\t1\t9_0", "non-numeric value '9_0'"),
])
def test_matpower_values_are_checked(tmp_path: Path, old: str, new: str, expect: str) -> None:
    text = BASE_M.read_text()
    assert old in text
    path = tmp_path / "x.m"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(CaseFormatError, match=expect):
        read_case(path)


def test_matpower_rows_on_one_line_and_infinite_q_limits(tmp_path: Path) -> None:
    text = BASE_M.read_text().replace(";\n\t2\t1\t90", "; 2\t1\t90")
    text = text.replace("\t1\t0\t0\t300\t-300", "\t1\t0\t0\tInf\t-Inf", 1)
    path = tmp_path / "x.m"
    path.write_text(text)
    grid = read_case(path)
    assert grid.bus.n == 3 and np.isinf(grid.gen["qmax_mvar"][0])


@pytest.mark.parametrize("case", ["case9", "case39"])
def test_convert_never_writes_nan(case: str, tmp_path: Path) -> None:
    path = tmp_path / f"{case}.m"
    write_case(blackout.load_case(case), path)
    text = path.read_text().lower()
    assert "nan" not in text
    assert read_case(path).bus.n == blackout.load_case(case).bus.n


def test_cli_in_a_folder_holding_the_named_module_creates_nothing(
        pp_case9: dict[str, Any], tmp_path: Path) -> None:
    """The issue's probe end to end: ``blackout pf x.json`` run in a folder that holds
    the module the file names (the folder is on sys.path, as with ``python -c``)."""
    import subprocess

    marker = tmp_path / "marker.txt"
    (tmp_path / "evilmod.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    data = json.loads(json.dumps(pp_case9))
    data["_object"]["evil"] = {"_module": "evilmod", "_class": "function", "_object": "f"}
    data["_object"]["zen"] = {"_module": "this", "_class": "function", "_object": "s"}
    _write(tmp_path / "x.json", data)
    proc = subprocess.run(
        [sys.executable, "-c", "from blackout.cli import main; main()", "pf", "x.json",
         "--format", "json"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: x.json") and "_module" in lines[0]
    assert not marker.exists()
    assert "Beautiful is better" not in proc.stdout + proc.stderr


def test_a_nul_byte_in_a_path_is_a_case_error() -> None:
    with pytest.raises(CaseFormatError, match="not a valid case file name"):
        read_case("a\x00.m")
