"""The bridge-outage path of the N-1 screen equals the general islanded path.

``bridge_outage_stats`` (one spanning forest, the split-off part as a preorder range,
balancing from sums) must give what :func:`post_outage_flows` (connected components,
``DCModel.balance``, a full base-topology solve; itself checked against pandapower and
the detailed engine) gives, for every islanding single outage."""

from __future__ import annotations

import numpy as np
import pytest

from blackout.study.contingency import bridges as bridge_path
from blackout.study.contingency.n1 import screen_n1
from blackout.study.fastdc.engine import post_outage
from blackout.study.fastdc.model import DCModel


def _general(model: DCModel, br: np.ndarray, q0: np.ndarray, dp: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    flows_pu, lost = post_outage(model, [[int(b)] for b in br])
    flows = flows_pu * model.base_mva
    rate = np.where(model.rate_mva > 0, model.rate_mva, np.inf)
    loading = np.abs(flows) / rate
    moved = np.where(flows != 0.0, flows + dp * model.base_mva, 0.0)
    est = (np.sqrt(moved ** 2 + (q0 * model.base_mva) ** 2) / rate).max(axis=1)
    return loading, (loading > 1.0).sum(axis=1), est, lost


@pytest.mark.parametrize("fixture", ["case118", "case2869"])
def test_bridge_stats_equal_general_islanded_path(request: pytest.FixtureRequest,
                                                  fixture: str) -> None:
    model: DCModel = request.getfixturevalue(fixture)
    cands = np.flatnonzero(model.live)
    br = cands[model.xor_label[cands] == 0]
    assert br.size >= 9
    rng = np.random.default_rng(7)
    q0 = 0.1 * rng.normal(size=model.n_branch)
    dp = 0.01 * rng.normal(size=model.n_branch)
    worst, arg, count, est, lost, *_ = bridge_path.bridge_outage_stats(model, br, q0, dp,
                                                                      block=64)
    loading, count0, est0, lost0 = _general(model, br, q0, dp)
    rows = np.arange(br.size)
    assert np.abs(worst - loading.max(axis=1)).max() <= 1e-9
    assert np.abs(loading[rows, arg] - loading.max(axis=1)).max() <= 1e-9  # ties: either
    assert (count == count0).all()
    assert np.abs(est - est0).max() <= 1e-9
    assert np.abs(lost - lost0).max() <= 1e-6  # MW
    # both kinds of split occur: a dead split-off part (load lost) and a live one
    assert (lost > 1e-6).any() and (lost <= 1e-6).any()


def test_screen_n1_islanding_rows_use_the_bridge_path(case2869: DCModel) -> None:
    res = screen_n1(case2869, cascade=False).table.set_index("branch")
    cands = np.flatnonzero(case2869.live)
    br = cands[case2869.xor_label[cands] == 0]
    loading, count0, _, lost0 = _general(case2869, br, np.zeros(case2869.n_branch),
                                         np.zeros(case2869.n_branch))
    rows = res.loc[br]
    assert (rows["islands_added"] == 1).all()
    assert np.abs(rows["max_loading_pct"].to_numpy() - 100 * loading.max(axis=1)).max() <= 1e-7
    assert (rows["overloads"].to_numpy() == count0).all()
    assert np.abs(rows["load_lost_mw"].to_numpy() - lost0).max() <= 1e-6


def test_not_a_bridge_is_an_error(case118: DCModel) -> None:
    cands = np.flatnonzero(case118.live)
    plain = cands[case118.xor_label[cands] != 0]
    z = np.zeros(case118.n_branch)
    with pytest.raises(ValueError, match="not a bridge"):
        bridge_path.bridge_outage_stats(case118, plain[:1], z, z)
