"""The reused LSGrid path of run_ac gives the same answer as solving each island on our Ybus."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

import blackout
from blackout.flow import FlowState, run_ac
from blackout.flow import lsgrid as lsg
from blackout.flow.network import admittance, build_network
from blackout.flow.result import PowerFlowResult

# venezuela2019 stores its lines with a tap of 0 (MATPOWER: ratio 1)
CASES = ["case9", "case30", "case118", "case300", "case2869pegase", "venezuela2019"]


def _same(a: PowerFlowResult, b: PowerFlowResult) -> None:
    assert a.converged == b.converged
    assert [(i.buses, i.energized, i.converged, i.slack) for i in a.islands] == \
        [(i.buses, i.energized, i.converged, i.slack) for i in b.islands]
    np.testing.assert_allclose(a.bus["vm_pu"], b.bus["vm_pu"], atol=1e-8)
    np.testing.assert_allclose(a.bus["va_degree"], b.bus["va_degree"], atol=1e-7)
    for key in ("p_from_mw", "q_from_mvar", "p_to_mw", "q_to_mvar"):
        np.testing.assert_allclose(a.branch[key], b.branch[key], atol=1e-5)
    np.testing.assert_allclose(a.gen["p_mw"], b.gen["p_mw"], atol=1e-5)
    np.testing.assert_allclose(a.gen["q_mvar"], b.gen["q_mvar"], atol=1e-5)


@pytest.fixture
def accepted(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bool]]:
    """Records, per call, whether the LSGrid answer was used (True) or fell back (False)."""
    calls: list[bool] = []
    orig = lsg.LsModel.solve_island

    def spy(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        out = orig(self, *args, **kwargs)
        calls.append(out is not None)
        return out

    monkeypatch.setattr(lsg.LsModel, "solve_island", spy)
    yield calls


@pytest.mark.parametrize("case", CASES)
def test_lsgrid_ybus_equals_makeybus(case: str) -> None:
    grid = blackout.load_case(case)
    run_ac(grid)  # syncs the model to the base case
    model = lsg.ls_model(grid)
    net = build_network(grid, FlowState.of(grid))
    ybus = admittance(grid, net)[0]
    diff = abs(model.model.get_Ybus() - ybus).max()
    assert diff <= 1e-12 * abs(ybus).max()


@pytest.mark.parametrize("case", CASES)
def test_base_case_same_as_island_solver(case: str, accepted: list[bool]) -> None:
    grid = blackout.load_case(case)
    _same(run_ac(grid), run_ac(grid, solver="island"))
    assert accepted == [True]


def test_state_changes_on_one_grid(accepted: list[bool]) -> None:
    """One model follows outages, redispatch, load changes and back again."""
    grid = blackout.load_case("case2869pegase")
    rng = np.random.default_rng(3)
    states = []
    base = FlowState.of(grid)
    states.append(base)
    out = FlowState.of(grid)
    out.branch_in[[5, 17, 400]] = False
    states.append(out)
    redispatch = FlowState.of(grid)
    redispatch.load_p_mw *= rng.uniform(0.95, 1.05, redispatch.load_p_mw.size)
    redispatch.load_q_mvar *= 0.9
    live = np.flatnonzero(redispatch.gen_p_mw > 10)
    redispatch.gen_p_mw[live[:5]] *= 1.02
    states.append(redispatch)
    gen_out = FlowState.of(grid)
    gen_out.gen_in[live[5:8]] = False
    states.append(gen_out)
    states.append(FlowState.of(grid))
    for st in states:
        _same(run_ac(grid, st), run_ac(grid, st, solver="island"))
    assert all(accepted)


def test_islands_main_through_lsgrid_rest_alone(accepted: list[bool]) -> None:
    grid = blackout.load_case("case118")
    side = grid.bus["number"] <= 11
    f, t = grid.branch["from_bus"], grid.branch["to_bus"]
    st = FlowState.of(grid)
    st.branch_in[side[f] != side[t]] = False
    res = run_ac(grid, st)
    assert len(res.islands) == 2 and all(i.energized for i in res.islands)
    _same(res, run_ac(grid, st, solver="island"))
    assert accepted == [True]


def test_dark_island_and_bus_out(accepted: list[bool]) -> None:
    """A load bus cut off (no generation: dark) and a bus out of service."""
    grid = blackout.load_case("case118")
    st = FlowState.of(grid)
    no_gen = np.setdiff1d(grid.load["bus"], grid.gen["bus"])
    load_bus, other = int(no_gen[0]), int(no_gen[5])
    touching = (grid.branch["from_bus"] == load_bus) | (grid.branch["to_bus"] == load_bus)
    st.branch_in[touching] = False
    st.bus_in[other] = False
    res = run_ac(grid, st)
    assert any(not i.energized for i in res.islands)
    _same(res, run_ac(grid, st, solver="island"))
    assert accepted == [True]


def test_slack_moves_to_largest_generator(accepted: list[bool]) -> None:
    """The reference generator out: the largest remaining one becomes the slack."""
    grid = blackout.load_case("case118")
    st = FlowState.of(grid)
    ref_gens = np.flatnonzero(grid.bus["type"][grid.gen["bus"]] == 3)
    st.gen_in[ref_gens] = False
    a, b = run_ac(grid, st), run_ac(grid, st, solver="island")
    assert a.islands[0].slack != str(grid.bus["name"][grid.gen["bus"][ref_gens[0]]])
    _same(a, b)
    assert accepted == [True]
    _same(run_ac(grid), run_ac(grid, solver="island"))  # and back


def test_wrong_answer_is_rejected() -> None:
    """The check that guards the LSGrid path: a solution of other injections fails it."""
    grid = blackout.load_case("case30")
    net = build_network(grid, FlowState.of(grid))
    from blackout.flow.ac import island_setup

    ybus = admittance(grid, net)[0]
    setup = island_setup(grid, net, ybus, np.arange(grid.bus.n))
    assert setup is not None
    sbus = (net.p_inj_mw + 1j * net.q_inj_mvar) / grid.base_mva
    res = run_ac(grid, solver="island")
    v = res.bus["vm_pu"] * np.exp(1j * np.radians(res.bus["va_degree"]))
    assert lsg.satisfies(setup, v, sbus, 1e-8)
    sbus[int(setup.pq[0])] += 1e-4
    assert not lsg.satisfies(setup, v, sbus, 1e-8)


def test_unknown_solver_is_refused() -> None:
    with pytest.raises(ValueError):
        run_ac(blackout.load_case("case9"), solver="fast")
