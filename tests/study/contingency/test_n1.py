"""N-1: post-outage DC flows against pandapower's rundcpp; AC verification against a full
AC N-1 (every contingency solved with ``blackout.flow.run_ac``, lightsim2grid).

The pandapower net is written from the very grid the model uses (rated, re-dispatched by
the balancing rule) with ``grid_to_pandapower``; pandapower's ``_from_ppc_lookups`` maps
each of our branches (ppc row) to its line, trafo or impedance element.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
import pandapower as pp
import pandas as pd
import pytest

from blackout.flow import run_ac
from blackout.flow.state import FlowState
from blackout.grid.io.pandapower import grid_to_pandapower
from blackout.grid.model import Grid
from blackout.study.contingency.n1 import (
    N1Result,
    base_ac_pq,
    screen_n1,
    verify_ac,
)
from blackout.study.fastdc.engine import post_outage_flows
from blackout.study.fastdc.model import DCModel

from ..conftest import rated

FLOW_MW_TOL = 1e-6
ELEMENTS = ("line", "trafo", "impedance")
RESULT_P = {"line": "p_from_mw", "trafo": "p_hv_mw", "impedance": "p_from_mw"}


class PandapowerDC:
    """A pandapower net of ``grid`` whose branches can be switched off by our position."""

    def __init__(self, grid: Grid) -> None:
        logging.getLogger("pandapower").setLevel(logging.ERROR)
        self.net = grid_to_pandapower(grid)
        bl = self.net._from_ppc_lookups["branch"]
        self.kind = bl["element_type"].to_numpy()
        self.element = bl["element"].to_numpy().astype(np.int64)
        gl = self.net._from_ppc_lookups["gen"]
        self.gen_kind = gl["element_type"].to_numpy()
        self.gen_element = gl["element"].to_numpy().astype(np.int64)
        self.gen_p0 = {t: self.net[t]["p_mw"].to_numpy().copy() for t in ("gen", "sgen")
                       if len(self.net[t])}
        self.load_p0 = self.net.load["p_mw"].to_numpy().copy()
        self.load_bus_pos = self.net.bus.index.get_indexer(self.net.load["bus"])

    def flows(self, out: list[int], *, gen_p: np.ndarray | None = None,
              load_scale_bus: np.ndarray | None = None) -> np.ndarray:
        """MW entering each branch at its from end (NaN where pandapower has no result)."""
        net = self.net
        for t in ELEMENTS:
            if len(net[t]):
                net[t]["in_service"] = True
        for b in out:
            net[self.kind[b]].at[self.element[b], "in_service"] = False
        for t, p0 in self.gen_p0.items():
            net[t]["p_mw"] = p0
        net.load["p_mw"] = self.load_p0
        if gen_p is not None:  # non-slack units at the given dispatch; ext_grid is slack
            for t in ("gen", "sgen"):
                sel = self.gen_kind == t
                if sel.any():
                    net[t].loc[self.gen_element[sel], "p_mw"] = gen_p[sel]
        if load_scale_bus is not None:
            net.load["p_mw"] = self.load_p0 * load_scale_bus[self.load_bus_pos]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pp.rundcpp(net)
        f = np.full(self.kind.size, np.nan)
        for t in ELEMENTS:
            sel = self.kind == t
            if sel.any():
                f[sel] = net[f"res_{t}"][RESULT_P[t]].to_numpy()[self.element[sel]]
        f[out] = 0.0
        return f


_NETS: dict[str, PandapowerDC] = {}


def _pp(model: DCModel) -> PandapowerDC:
    """pandapower net of the model's own (rated, balanced) grid, one per case."""
    name = model.grid.name
    if name not in _NETS:
        _NETS[name] = PandapowerDC(model.grid)
    return _NETS[name]


def _plain(model: DCModel) -> np.ndarray:
    live = np.flatnonzero(model.live)
    return live[model.xor_label[live] != 0]  # outages that keep every island connected


def test_case118_n1_flows_equal_rundcpp(case118: DCModel) -> None:
    """Every non-islanding N-1 of case118 (177 of 186) and every islanding one (the 9
    bridges) equal pandapower rundcpp with the branch out within 1e-6 MW.

    pandapower balances only the island holding its ext_grid (it has no per-island
    balancing: other islands are dropped), so for an islanding outage pandapower is
    given the model's re-balanced dispatch and served load and the comparison is on
    the main island's branches; the rule itself is checked against the detailed engine
    in test_batch.py."""
    ref = _pp(case118)
    plain = _plain(case118)
    ours = post_outage_flows(case118, [[b] for b in plain])
    for i, b in enumerate(plain.tolist()):
        theirs = ref.flows([b], gen_p=case118.gen_p0_mw)
        assert np.isfinite(theirs).all()
        assert np.abs(ours[i] - theirs).max() <= FLOW_MW_TOL, b
    bridges = np.flatnonzero(case118.live & (case118.xor_label == 0))
    assert bridges.size > 0
    ours_b = post_outage_flows(case118, [[b] for b in bridges])
    for i, b in enumerate(bridges.tolist()):
        mask = np.zeros(case118.n_branch, dtype=bool)
        mask[b] = True
        labels = case118.island_labels(mask)
        gen_p, load, _ = case118.balance(labels)
        scale = np.divide(load, case118.load_bus_mw, out=np.ones_like(load),
                          where=case118.load_bus_mw != 0)
        theirs = ref.flows([b], gen_p=gen_p, load_scale_bus=scale)
        main = labels[ref.net.bus.index.get_loc(ref.net.ext_grid.bus.iloc[0])]
        on_main = (labels[case118.f_bus] == main) & (labels[case118.t_bus] == main)
        assert np.isfinite(theirs[on_main]).all()
        assert np.abs(ours_b[i][on_main] - theirs[on_main]).max() <= FLOW_MW_TOL, b


def test_screen_n1_worst_loading_equals_rundcpp(case118: DCModel) -> None:
    """The flows behind screen_n1 (its LODF blocks): worst loading, worst branch and the
    overload count of each non-islanding outage equal those of pandapower's flows."""
    res = screen_n1(case118, cascade=False, block=64)
    ref = _pp(case118)
    rate = np.where(case118.rate_mva > 0, case118.rate_mva, np.inf)
    names = np.asarray(case118.grid.branch["name"], dtype=object)
    tab = res.table.set_index("branch")
    for b in _plain(case118).tolist():
        loading = np.abs(ref.flows([b], gen_p=case118.gen_p0_mw)) / rate
        row = tab.loc[b]
        assert abs(row["max_loading_pct"] - 100.0 * loading.max()) <= 1e-6, b
        worst = int(np.flatnonzero(names == row["worst_branch"])[0])  # ties: either one
        assert abs(loading[worst] - loading.max()) <= 1e-8, b
        assert row["overloads"] == int((loading > 1.0).sum()), b


def test_new_and_worsened_violations_equal_rundcpp() -> None:
    """case118 with six branches rated below their base flow: they are reported once as
    base-case violations; per outage ``new_violations`` counts branches above rate_a that
    were within it in the base case and ``worsened_violations`` base violations whose
    loading rose by more than 10 %, both from pandapower's flows (islanding outages from
    the general path's flows); the cascades are not run by default."""
    grid = rated("case118")
    model0 = DCModel.build(grid)
    base_flow = np.abs(model0.f0_pu) * model0.base_mva
    cut = np.argsort(-base_flow)[[0, 3, 7, 12, 20, 30]]
    rate = np.array(grid.branch["rate_a_mva"], dtype=float)
    rate[cut] = 0.9 * base_flow[cut]
    model = DCModel.build(grid.replace(branch=grid.branch.with_columns(rate_a_mva=rate)))
    res = screen_n1(model, block=64)
    base = res.meta["base_case"]["violations"]
    assert base["count"] == 6 and {v["branch"] for v in base["list"]} == set(cut.tolist())
    assert res.meta["cascades_run"] is False
    assert (res.table["cascade_lines_out"] == 1).all()
    ref = _pp(model)
    l0 = base_flow / rate
    tab = res.table.set_index("branch")
    plain = _plain(model)
    bridges = np.flatnonzero(model.live & (model.xor_label == 0))
    general = post_outage_flows(model, [[b] for b in bridges])
    worsened_seen = 0
    for b, flows in [*((b, ref.flows([b], gen_p=model.gen_p0_mw)) for b in plain.tolist()),
                     *zip(bridges.tolist(), general, strict=True)]:
        loading = np.abs(flows) / rate
        bv = l0 > 1.0
        row = tab.loc[b]
        assert row["new_violations"] == int(((loading > 1.0) & ~bv).sum()), b
        assert row["worsened_violations"] == int((bv & (loading > 1.1 * l0)).sum()), b
        caused = np.where(~bv | (loading > 1.1 * l0), loading, 0.0).max()
        assert abs(row["max_caused_loading_pct"] - 100.0 * caused) <= 1e-6, b
        worsened_seen += int(row["worsened_violations"])
    assert worsened_seen > 0


def test_case2869_n1_flows_equal_rundcpp_sample(case2869: DCModel) -> None:
    """A fixed random sample of 20 non-islanding case2869pegase outages."""
    ref = _pp(case2869)
    rng = np.random.default_rng(2869)
    sample = np.sort(rng.choice(_plain(case2869), 20, replace=False))
    ours = post_outage_flows(case2869, [[b] for b in sample])
    for i, b in enumerate(sample.tolist()):
        theirs = ref.flows([b], gen_p=case2869.gen_p0_mw)
        assert np.isfinite(theirs).all()
        assert np.abs(ours[i] - theirs).max() <= FLOW_MW_TOL, b


# ------------------------------------------------------------------------------ AC
AC_MARGIN = 1.25


def _s_mva(res: Any) -> np.ndarray:
    br = res.branch
    ends = [np.hypot(np.nan_to_num(np.asarray(br[f"p_{e}_mw"], dtype=float)),
                     np.nan_to_num(np.asarray(br[f"q_{e}_mvar"], dtype=float)))
            for e in ("from", "to")]
    return np.maximum(*ends)


_AC: dict[str, DCModel] = {}


def _ac_model(base: DCModel) -> DCModel:
    """The rated fixture grid with every rating raised to at least AC_MARGIN x its base-case
    AC apparent power. With the fixtures' DC-derived ratings the AC base case already
    overloads branches (14 on case118, 395 on case2869pegase), so every contingency
    "violates" and the completeness check would be vacuous."""
    if base.grid.name in _AC:
        return _AC[base.grid.name]
    grid = base.grid
    br = {k: np.array(v) for k, v in grid.branch.items()}
    rate = br["rate_a_mva"]
    br["rate_a_mva"] = np.where(rate > 0, np.maximum(rate, AC_MARGIN * _s_mva(run_ac(grid))),
                                rate)
    _AC[grid.name] = DCModel.build(grid.replace(branch=br))
    return _AC[grid.name]


def _full_ac(grid: Grid, branches: np.ndarray) -> dict[int, tuple[int, bool]]:
    """(AC overload count, converged) of each single-branch outage."""
    out = {}
    for b in branches.tolist():
        st = FlowState.of(grid)
        st.branch_in[b] = False
        res = run_ac(grid, st)
        loading = np.nan_to_num(np.asarray(res.branch["loading_percent"], dtype=float))
        out[b] = (int((loading > 100.0).sum()), bool(res.converged))
    return out


def _check_complete(res: N1Result, full: dict[int, tuple[int, bool]]) -> int:
    tab = res.table.set_index("branch")
    violating = 0
    for b, (over, conv) in full.items():
        row = tab.loc[b]
        if over > 0 or not conv:
            violating += 1
            assert bool(row["ac_verified"]), (b, over, row["est_mva_loading_pct"])
        if row["ac_verified"]:
            assert int(row["ac_overloads"]) == over and bool(row["ac_converged"]) == conv, b
    return violating


def test_ac_new_and_worsened_violations_equal_full_run_ac(case118: DCModel) -> None:
    """With DC-sized ratings case118's AC base case overloads branches before any outage:
    per verified outage ``ac_new_violations``, ``ac_worsened_violations`` and
    ``ac_max_caused_loading_pct`` equal those of one full run_ac with the branch out
    against the AC base case (threshold 10 %), on every path verify_ac takes."""
    p0, q0 = base_ac_pq(case118)
    res = verify_ac(screen_n1(case118, cascade=False, q0_mvar=q0, p0_mw=p0), case118)
    grid = case118.grid
    base = np.nan_to_num(np.asarray(run_ac(grid).branch["loading_percent"], dtype=float))
    assert (base > 100.0).sum() > 0
    lim = np.where(base > 100.0, 1.1 * base, 0.0)
    tab = res.table[res.table["ac_verified"]]
    rows = tab.iloc[np.linspace(0, len(tab) - 1, 25).astype(int)]
    rows = pd.concat([rows, tab[tab["islands_added"] > 0].head(5)])
    worsened = 0
    for _, row in rows.iterrows():
        st = FlowState.of(grid)
        st.branch_in[int(row["branch"])] = False
        loading = np.nan_to_num(np.asarray(run_ac(grid, st).branch["loading_percent"],
                                           dtype=float))
        new = int(((loading > 100.0) & (lim == 0.0)).sum())
        worse = int(((lim > 0.0) & (loading > lim)).sum())
        caused = float(np.where((lim == 0.0) | (loading > lim), loading, 0.0).max())
        assert int(row["ac_new_violations"]) == new, row["branch"]
        assert int(row["ac_worsened_violations"]) == worse, row["branch"]
        assert abs(row["ac_max_caused_loading_pct"] - caused) <= 1e-4, row["branch"]
        worsened += worse
    assert res.meta["base_case"]["ac_violations"]["count"] == int((base > 100.0).sum())


@pytest.mark.parametrize("screen_pct", [80.0, 70.0])
def test_ac_verification_finds_every_ac_violation_case118(case118: DCModel,
                                                          screen_pct: float) -> None:
    """Every contingency of the full AC N-1 with an overload (or a non-converged island)
    is among those verify_ac verifies, with the same overload count."""
    model = _ac_model(case118)
    p0, q0 = base_ac_pq(model)
    res = verify_ac(screen_n1(model, cascade=False, q0_mvar=q0, p0_mw=p0), model,
                    screen_pct=screen_pct)
    full = _full_ac(model.grid, res.table["branch"].to_numpy())
    assert _check_complete(res, full) > 0


def test_ac_verification_finds_every_ac_violation_case2869_subset(case2869: DCModel) -> None:
    """case2869pegase on a fixed subset: the full AC N-1 of all 4,582 outages takes ~60 s
    here and verify_ac of all of them as long, so both are run on the same fixed random
    120 contingencies (a sub-table of the DC screening, verified with the default
    settings: the DC-screened ones of the subset are verified, the rest are the check)."""
    model = _ac_model(case2869)
    p0, q0 = base_ac_pq(model)
    dc = screen_n1(model, cascade=False, q0_mvar=q0, p0_mw=p0)
    rng = np.random.default_rng(4582)
    rows = np.sort(rng.choice(len(dc.table), 120, replace=False))
    sub = N1Result(dc.table.iloc[rows].reset_index(drop=True), dc.meta)
    res = verify_ac(sub, model)
    full = _full_ac(model.grid, res.table["branch"].to_numpy())
    assert _check_complete(res, full) > 0


def test_ac_meta_counts_the_base_case_overloads_every_contingency_inherits(
        case118: DCModel) -> None:
    """With the fixture's DC-sized ratings the AC base case already overloads branches
    (reactive flow on top of the DC-sized rating): verify_ac reports how many, and every
    verified contingency's AC overload count includes them unless the outage relieves them;
    with ratings raised above the AC base flow there are none."""
    base = np.nan_to_num(np.asarray(run_ac(case118.grid).branch["loading_percent"],
                                    dtype=float))
    expected = int((base > 100.0).sum())
    assert expected > 0
    p0, q0 = base_ac_pq(case118)
    res = verify_ac(screen_n1(case118, cascade=False, q0_mvar=q0, p0_mw=p0), case118, top=5)
    assert res.meta["ac_base_overloads"] == expected
    secure = _ac_model(case118)
    p0, q0 = base_ac_pq(secure)
    res = verify_ac(screen_n1(secure, cascade=False, q0_mvar=q0, p0_mw=p0), secure, top=5)
    assert res.meta["ac_base_overloads"] == 0
