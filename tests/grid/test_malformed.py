"""Malformed case files raise CaseFormatError naming file, table, row and field; the CLI exits 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from blackout.cli import (
    app,
    commands,  # noqa: F401
)
from blackout.errors import CaseFormatError
from blackout.grid.io import read_case

DATA = Path(__file__).parents[1] / "data"

FOLDER = DATA / "grid" / "malformed"
EXPECTED = {k: v for k, v in json.loads((FOLDER / "expected.json").read_text()).items()
            if not k.startswith("_")}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_malformed_file_message(name: str) -> None:
    with pytest.raises(CaseFormatError) as info:
        read_case(FOLDER / name)
    for part in EXPECTED[name]:
        assert part in str(info.value)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_cli_prints_one_line_and_exits_2(name: str) -> None:
    result = CliRunner().invoke(app, ["pf", str(FOLDER / name), "--format", "json"])
    assert result.exit_code == 2
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "Traceback" not in result.output


def test_valid_base_file_reads() -> None:
    grid = read_case(FOLDER / "base.m")
    assert (grid.bus.n, grid.branch.n, grid.gen.n, grid.load.n) == (3, 3, 2, 1)


def test_unknown_suffix_and_missing_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CaseFormatError, match="unknown case format"):
        read_case(tmp_path / "grid.xyz")
    with pytest.raises(CaseFormatError, match="file not found"):
        read_case(tmp_path / "absent.m")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(CaseFormatError, match="invalid JSON at line 1"):
        read_case(bad)


def test_mat_file_that_inflates_beyond_the_cap_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A compressed .mat of 300 MB of zeros (0.3 MB on disk) is refused before scipy
    inflates it; a normal compressed and uncompressed .mat still load."""
    import numpy as np
    import scipy.io as sio

    from blackout import load_case
    from blackout.errors import CaseFormatError
    from blackout.grid.io.ppc import grid_to_ppc

    bomb = tmp_path / "bomb.mat"
    sio.savemat(bomb, {"mpc": {"bus": np.zeros(300 * 2**20 // 8)}}, do_compression=True)
    with pytest.raises(CaseFormatError, match="expands beyond"):
        load_case(str(bomb))
    ppc = grid_to_ppc(load_case("case14"))
    for comp in (True, False):
        ok = tmp_path / f"c14_{comp}.mat"
        sio.savemat(ok, {"mpc": {k: ppc[k] for k in ("version", "baseMVA", "bus", "gen",
                                                    "branch")}}, do_compression=comp)
        assert load_case(str(ok)).bus.n == 14
