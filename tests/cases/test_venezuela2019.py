"""The built-in venezuela2019 case: sourced totals, N-0 security, the 765 kV corridor's N-1/N-2.

Tolerances: voltages 0.95-1.05 pu (issue 3), loadings against rate_a / rate_c in percent with
no slack; totals against the sourced ranges in venezuela2019/data/parameters.toml.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import blackout
from blackout.cases.venezuela2019 import (
    REGIONS_GEOJSON,
    build_venezuela2019,
    describe_venezuela2019,
)
from blackout.flow import FlowState, run_ac, run_dc
from blackout.grid.model import Grid

GURI_MALENA = [f"Guri-Malena 765 kV {c}" for c in (1, 2, 3)]
LOWER_CARONI = ("Guri", "Caruachi", "Macagua")
THERMAL = ("steam", "gas", "combined_cycle")
VM_MIN_PU, VM_MAX_PU = 0.95, 1.05


@pytest.fixture(scope="module")
def grid() -> Grid:
    return build_venezuela2019()


@pytest.fixture(scope="module")
def ac(grid: Grid):  # type: ignore[no-untyped-def]
    return run_ac(grid)


def _s_max_mva(res) -> np.ndarray:  # type: ignore[no-untyped-def]
    br = res.branch
    return np.maximum(np.abs(br["p_from_mw"] + 1j * br["q_from_mvar"]),
                      np.abs(br["p_to_mw"] + 1j * br["q_to_mvar"]))


def _without(grid: Grid, names: list[str]) -> FlowState:
    state = FlowState.of(grid)
    for n in names:
        state.branch_in[grid.find("branch", n)] = False
    return state


def test_registered_and_cached() -> None:
    assert "venezuela2019" in blackout.cases.builtin_cases()
    g = blackout.load_case("venezuela2019")
    assert g.name == "venezuela2019" and g.f_hz == 60.0


def test_ac_and_dc_converge(grid: Grid, ac) -> None:  # type: ignore[no-untyped-def]
    assert ac.converged
    assert run_dc(grid).converged
    energized = [i for i in ac.islands if i.energized]
    assert len(energized) == 1  # one synchronous system (the Colombian links are open)


def test_no_base_case_overload(grid: Grid, ac) -> None:  # type: ignore[no-untyped-def]
    live = ac.branch["in_service"]
    loading = _s_max_mva(ac)[live] / grid.branch["rate_a_mva"][live]
    assert loading.max() <= 1.0, grid.branch["name"][live][np.argmax(loading)]


def test_voltages_in_range(ac) -> None:  # type: ignore[no-untyped-def]
    vm = ac.bus["vm_pu"][ac.bus["energized"]]
    assert VM_MIN_PU <= vm.min() and vm.max() <= VM_MAX_PU


def test_demand_in_sourced_range(grid: Grid) -> None:
    domestic = grid.load["p_mw"][grid.bus["region"][grid.load["bus"]] >= 0].sum()
    assert 10_500 <= domestic <= 14_000


def test_generation_shares(grid: Grid, ac) -> None:  # type: ignore[no-untyped-def]
    p = ac.gen["p_mw"]
    names = [str(n) for n in grid.gen["name"]]
    lower_caroni = sum(p[i] for i, n in enumerate(names) if n.startswith(LOWER_CARONI))
    assert 0.70 <= lower_caroni / p.sum() <= 0.80
    guri = sum(p[i] for i, n in enumerate(names) if n.startswith("Guri"))
    assert 5_000 <= guri <= 6_000  # ~5,500 MW just before the outage (Argus)
    thermal = p[np.isin(grid.gen["kind"], THERMAL)].sum()
    assert 2_000 <= thermal <= 3_000  # ~2,500 MW available nationally
    zulia = grid.find("gen", "Zulia thermal (available units)")
    assert 171 <= p[zulia] <= 350
    for off in ("Planta Centro steam units", "Tacoa steam units", "Termozulia units"):
        assert not grid.gen["in_service"][grid.find("gen", off)]


def test_export_below_sourced_limit(grid: Grid, ac) -> None:  # type: ignore[no-untyped-def]
    limit = grid.notes["stability_limits"][0]
    idx = [grid.find("branch", n) for n in limit["branches"]]
    assert set(GURI_MALENA) <= set(limit["branches"])
    export = ac.branch["p_from_mw"][idx].sum()
    assert 4_000 < export < limit["limit_mw"] <= 7_200


def test_guri_malena_circuits_share_a_corridor(grid: Grid) -> None:
    idx = [grid.find("branch", n) for n in GURI_MALENA]
    assert len({grid.branch["corridor"][i] for i in idx}) == 1
    assert grid.branch["length_km"][idx[0]] == 165.0


@pytest.mark.parametrize("lost", GURI_MALENA)
def test_n1_guri_malena_secure(grid: Grid, lost: str) -> None:
    res = run_ac(grid, _without(grid, [lost]))
    assert res.converged
    live = res.branch["in_service"]
    loading = _s_max_mva(res)[live] / grid.branch["rate_c_mva"][live]
    assert loading.max() <= 1.0, grid.branch["name"][live][np.argmax(loading)]


def test_n2_guri_malena_overloads_the_third(grid: Grid) -> None:
    res = run_ac(grid, _without(grid, GURI_MALENA[:2]))
    third = grid.find("branch", GURI_MALENA[2])
    ratio = _s_max_mva(res)[third] / grid.branch["rate_c_mva"][third]
    assert 1.5 <= ratio <= 2.5


def test_n3_separates_guayana_with_surplus(grid: Grid) -> None:
    res = run_dc(grid, _without(grid, GURI_MALENA))
    # what is left between Guayana and the centre is the 400 kV paths, far beyond rate_c
    limit = grid.notes["stability_limits"][0]
    rest = [grid.find("branch", n) for n in limit["branches"] if n not in GURI_MALENA]
    loading = np.abs(res.branch["p_from_mw"][rest]) / grid.branch["rate_c_mva"][rest]
    assert loading.min() > 2.0


def test_every_state_has_load(grid: Grid) -> None:
    with open(REGIONS_GEOJSON, encoding="utf-8") as f:
        features = json.load(f)["features"]
    codes = list(grid.region["code"])
    load_region = grid.bus["region"][grid.load["bus"]]
    for feat in features:
        code = feat["properties"]["iso_3166_2"]
        if feat["properties"]["name"] == "Dependencias Federales":
            assert code not in codes
            continue
        k = codes.index(code)
        assert grid.load["p_mw"][load_region == k].sum() > 0, feat["properties"]["name"]
    assert grid.region.n == 24


def test_coordinates_in_bounding_box(grid: Grid) -> None:
    lat, lon = grid.bus["lat"], grid.bus["lon"]
    assert np.isfinite(lat).all() and np.isfinite(lon).all()
    # Venezuela plus the Brazil (Boa Vista) and Colombia (Cuestecitas, Cúcuta) border points
    assert (lat >= 0.6).all() and (lat <= 12.3).all()
    assert (lon >= -73.5).all() and (lon <= -59.5).all()


def test_critical_loads(grid: Grid) -> None:
    crit = set(grid.load["critical"]) - {""}
    assert {"hospital", "dialysis", "water", "metro", "telecom"} <= crit
    dialysis = grid.load["critical"] == "dialysis"
    assert grid.load["customers"][dialysis].sum() == 10_200
    water = grid.find("load", "Tuy I-III water pumping (Caracas supply)")
    assert grid.bus["name"][grid.load["bus"][water]] == "Miranda load"


def test_dynamic_data(grid: Grid) -> None:
    kind = grid.gen["kind"]
    hydro = kind == "hydro"
    assert grid.gen["black_start"][hydro].all()
    assert not grid.gen["black_start"][np.isin(kind, THERMAL)].any()
    assert (grid.gen["inertia_h_s"][hydro] > 0).all() and (grid.gen["droop_pu"][hydro] > 0).all()


def test_describe_table(grid: Grid) -> None:
    rows = describe_venezuela2019()
    assert len(rows) > 100
    for row in rows:
        assert set(row) >= {"quantity", "value", "unit", "source"}
        assert row["source"].strip(), row["quantity"]


def test_cli_pf_json_names_everything(grid: Grid) -> None:
    from typer.testing import CliRunner

    from blackout.cli import (
        app,
        commands,  # noqa: F401  (registers the commands)
    )

    result = CliRunner().invoke(app, ["pf", "venezuela2019", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["converged"] is True
    assert data["bus"]["name"] == list(grid.bus["name"])
    assert set(GURI_MALENA) <= set(data["branch"]["name"])
    assert "Guri CM2 unit group" in data["gen"]["name"] and "hydro" in data["gen"]["kind"]
    assert {"name", "load_mw", "served_mw"} <= set(data["region"])
    assert len(data["region"]["name"]) == 24


def test_package_does_not_read_shared_data() -> None:
    from pathlib import Path

    package = Path(build_venezuela2019.__code__.co_filename).parent
    for path in package.glob("*.py"):
        assert "../shared" not in path.read_text(encoding="utf-8"), path.name
