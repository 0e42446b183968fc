"""Derived ratings: the DC rule and the AC (apparent power) rule, stated in the notes."""

from __future__ import annotations

import numpy as np
import pytest

from blackout import load_case
from blackout.errors import BlackoutError
from blackout.flow import run_ac, run_dc
from blackout.flow.dc import shared_dispatch_state
from blackout.flow.ratings import derive_ratings


def _s_mva(grid) -> np.ndarray:  # type: ignore[no-untyped-def]
    br = run_ac(grid).branch
    return np.maximum(*[np.hypot(np.nan_to_num(np.asarray(br[f"p_{e}_mw"], dtype=float)),
                                 np.nan_to_num(np.asarray(br[f"q_{e}_mvar"], dtype=float)))
                        for e in ("from", "to")])


def test_dc_rule_is_k_times_the_dc_flow_or_the_floor() -> None:
    """On the studies' base case (the case dispatch, each island's imbalance shared by
    headroom); with ``participation=None`` on the case's plain DC flow (what pf shows)."""
    g = load_case("case30")
    rated = derive_ratings(g, k=1.4, floor_mva=10.0, override_given=True)
    flows = np.abs(np.asarray(run_dc(g, shared_dispatch_state(g)).branch["p_from_mw"],
                              dtype=float))
    np.testing.assert_allclose(rated.branch["rate_a_mva"], 1.4 * np.maximum(flows, 10.0))
    assert "base DC flow" in rated.notes["ratings"]
    assert rated.notes["ratings_rule"]["basis"] == "dc"
    assert rated.notes["ratings_rule"]["participation"] == "headroom"
    plain = derive_ratings(g, k=1.4, floor_mva=10.0, override_given=True, participation=None)
    flows = np.abs(np.asarray(run_dc(g).branch["p_from_mw"], dtype=float))
    np.testing.assert_allclose(plain.branch["rate_a_mva"], 1.4 * np.maximum(flows, 10.0))


def test_ac_rule_is_k_times_the_larger_end_apparent_power_so_the_ac_base_is_secure() -> None:
    g = load_case("case118")
    rated = derive_ratings(g, k=1.2, floor_mva=5.0, override_given=True, basis="ac")
    s = _s_mva(g)
    np.testing.assert_allclose(rated.branch["rate_a_mva"], 1.2 * np.maximum(s, 5.0))
    np.testing.assert_allclose(rated.branch["rate_b_mva"], 1.1 * rated.branch["rate_a_mva"])
    loading = np.nan_to_num(np.asarray(run_ac(rated).branch["loading_percent"], dtype=float))
    assert loading.max() <= 100.0 / 1.2 + 1e-9
    assert "base AC |S|" in rated.notes["ratings"]
    # sized on DC flows, the same k leaves branches overloaded by reactive flow in AC
    dc_rated = derive_ratings(g, k=1.2, floor_mva=5.0, override_given=True)
    dc_loading = np.nan_to_num(np.asarray(run_ac(dc_rated).branch["loading_percent"],
                                          dtype=float))
    assert (dc_loading > 100.0).any()


def test_unknown_basis_is_a_clear_error() -> None:
    with pytest.raises(BlackoutError, match="basis must be 'dc' or 'ac'"):
        derive_ratings(load_case("case14"), basis="acdc")
