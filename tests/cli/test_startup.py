"""`blackout --help` and `blackout cases` stay fast: the help imports no solver, the case
list reads recorded sizes (the times themselves are in benchmarks/bench_cli.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from blackout.cases import builtin_cases
from blackout.cases.metadata import case_metadata, case_row


def test_the_help_and_the_package_import_no_solver() -> None:
    code = ("import sys; import blackout; from blackout.cli import commands; "
            "from blackout.cli.app import app; "
            "heavy = [m for m in ('pandapower', 'lightsim2grid', 'blackout.cascade.engine', "
            "'blackout.restore', 'scipy.sparse.linalg') if m in sys.modules]; "
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == ""


def test_front_door_names_resolve_on_first_use() -> None:
    import blackout

    assert callable(blackout.run_scenario) and callable(blackout.load_case)
    assert blackout.Outcome.__name__ == "Outcome"
    with pytest.raises(AttributeError):
        blackout.no_such_name  # noqa: B018


def test_recorded_case_sizes_cover_every_case_and_match_the_small_ones() -> None:
    rows = {r["name"]: r for r in case_metadata()}
    assert set(rows) == set(builtin_cases())
    for name in ("case9", "case39", "venezuela2019"):
        assert rows[name] == case_row(name), f"{name}: python -m blackout.cases.metadata"
