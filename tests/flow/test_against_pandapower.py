"""AC and DC power flow against pandapower's runpp / rundcpp on standard cases.

Sign conventions: pandapower's res_line.p_from_mw and res_trafo.p_hv_mw are power
entering the branch at the from (hv) end, as our p_from_mw. Angles are compared
relative to the slack bus because the two tools may reference them differently.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pytest

from blackout.flow import run_ac, run_dc
from blackout.grid.io.pandapower import grid_from_pandapower

CASES = ["case9", "case14", "case30", "case39", "case118", "case300", "case1354pegase",
         "case2869pegase"]


def _net(name: str):  # type: ignore[no-untyped-def]
    logging.getLogger("pandapower").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return getattr(pn, name)()


def _compare(net, res, tol, *, ac: bool) -> None:  # type: ignore[no-untyped-def]
    pos = np.asarray(net._pd2ppc_lookups["bus"])[net.bus.index]
    slack = net.bus.index.get_loc(net.ext_grid.bus.iloc[0])
    if ac:
        assert np.abs(res.bus["vm_pu"][pos] - net.res_bus.vm_pu.to_numpy()).max() <= \
            tol["bus_vm_pu"]
    va = res.bus["va_degree"][pos]
    ref = net.res_bus.va_degree.to_numpy()
    dva = (va - va[slack]) - (ref - ref[slack])
    assert np.abs(dva).max() <= tol["bus_va_degree"]
    rng = net._pd2ppc_lookups["branch"]
    s, e = rng["line"]
    assert np.abs(res.branch["p_from_mw"][s:e] - net.res_line.p_from_mw.to_numpy()).max() <= \
        tol["branch_p_mw"]
    if "trafo" in rng:
        s, e = rng["trafo"]
        assert np.abs(res.branch["p_from_mw"][s:e] - net.res_trafo.p_hv_mw.to_numpy()).max() \
            <= tol["branch_p_mw"]
    # the slack unit (ext_grid, first generator row) takes the same balance
    assert abs(res.gen["p_mw"][0] - net.res_ext_grid.p_mw.iloc[0]) <= tol["gen_p_mw"]


@pytest.mark.parametrize("case", CASES)
def test_ac_equals_pandapower_runpp(case: str, tolerances: dict[str, float]) -> None:
    net = _net(case)
    grid = grid_from_pandapower(net, name=case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net, tolerance_mva=1e-10)
    res = run_ac(grid, tolerance_mva=1e-10)
    assert res.converged
    _compare(net, res, tolerances, ac=True)


@pytest.mark.parametrize("case", CASES)
def test_dc_equals_pandapower_rundcpp(case: str, tolerances: dict[str, float]) -> None:
    net = _net(case)
    grid = grid_from_pandapower(net, name=case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.rundcpp(net)
    res = run_dc(grid)
    _compare(net, res, tolerances, ac=False)
