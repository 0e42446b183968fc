"""blackout's DC N-1 against PowSyBl OpenLoadFlow's DC security analysis (the reference).

Skipped without pypowsybl (the ``psse`` extra). The same grid goes to both: case118, the
test fixtures' ratings (1.3 x the base flow, floor 31.7 MVA) with six of its most loaded
branches re-rated to 0.9 x their base flow (base-case violations, so that "worsened"
is exercised), the dispatch of blackout's base case (the case's, its DC imbalance shared
by headroom; OpenLoadFlow without distributed slack then starts from the same flows).
Ratings go to PowSyBl as permanent ACTIVE_POWER limits (MW) on both sides: OpenLoadFlow's
DC mode does not check apparent-power limits. OpenLoadFlow reports a post-contingency
violation when it is new or when a pre-contingency one rose by more than its
flowProportionalThreshold (10 %), the rule of ``new_violations`` and
``worsened_violations``.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import numpy as np
import pytest

from blackout.grid.io.powsybl import to_powsybl
from blackout.grid.model import Grid
from blackout.study.contingency.n1 import screen_n1
from blackout.study.fastdc.model import DCModel

from ..conftest import rated

pw = pytest.importorskip("pypowsybl", reason="pypowsybl (the psse extra) not installed")


def _stressed_case118() -> tuple[Grid, DCModel]:
    grid = rated("case118")
    base_flow = np.abs(DCModel.build(grid).f0_pu) * grid.base_mva
    cut = np.argsort(-base_flow)[[0, 3, 7, 12, 20, 30]]
    rate = np.array(grid.branch["rate_a_mva"], dtype=float)
    rate[cut] = 0.9 * base_flow[cut]
    grid = grid.replace(branch=grid.branch.with_columns(rate_a_mva=rate))
    return grid, DCModel.build(grid)


def _powsybl_network(grid: Grid, model: DCModel, folder: Path):  # type: ignore[no-untyped-def]
    """(pypowsybl network of ``grid`` at the model's base dispatch, branch id per position)."""
    gen = {k: np.array(v) for k, v in grid.gen.items()}
    gen["p_mw"] = np.where(model.gen_on, model.gen_p0_mw, gen["p_mw"])
    net, bid = to_powsybl(grid.replace(gen=gen), folder)  # limits set below, as active power
    ids = set(net.get_lines().index) | set(net.get_2_windings_transformers().index)
    assert set(bid) == ids and all(re.fullmatch(r"(LINE|TWT)-\d+-\d+(#\d+)?", i) for i in bid)
    rb = [b for b in np.flatnonzero(model.live).tolist() if model.rate_mva[b] > 0]
    m2 = 2 * len(rb)
    net.create_loading_limits(
        element_id=[bid[b] for b in rb for _ in (0, 1)], side=["ONE", "TWO"] * len(rb),
        name=["permanent"] * m2, type=["ACTIVE_POWER"] * m2,
        value=[float(model.rate_mva[b]) for b in rb for _ in (0, 1)],
        acceptable_duration=[-1] * m2)
    return net, bid


def test_flagged_contingencies_equal_openloadflow_dc() -> None:
    """The set of N-1 contingencies with a new or worsened violation equals OpenLoadFlow's
    (all 186 outages, the 9 islanding ones included), and the base-case violations are
    the same branches."""
    grid, model = _stressed_case118()
    with tempfile.TemporaryDirectory() as tmp:
        net, bid = _powsybl_network(grid, model, Path(tmp))
        live = np.flatnonzero(model.live)
        sa = pw.security.create_analysis()
        sa.add_single_element_contingencies([bid[b] for b in live])
        params = pw.security.Parameters(
            load_flow_parameters=pw.loadflow.Parameters(distributed_slack=False))
        res = sa.run_dc(net, parameters=params)
    theirs = set(res.limit_violations.index.get_level_values(0).unique()) - {""}
    pre = res.pre_contingency_result.limit_violations
    ours_res = screen_n1(model, cascade=False)
    tab = ours_res.table
    ours = {bid[b] for b in tab.loc[(tab["new_violations"] > 0)
                                    | (tab["worsened_violations"] > 0), "branch"]}
    base = ours_res.meta["base_case"]["violations"]
    assert {bid[v["branch"]] for v in base["list"]} == {v.subject_id for v in pre}
    assert len(ours) > 50 and (tab["islands_added"] > 0).sum() == 9
    assert ours == theirs
