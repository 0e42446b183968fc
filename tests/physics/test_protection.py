"""Protection settings and timing rules."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blackout.physics.protection import (
    ERCOT_UNDER_FREQUENCY,
    RelaySettings,
    corridor_angles,
    exposed_branches,
    relay_table,
    scaled_envelope,
    time_to_trip_s,
)
from blackout.physics.ufls import ERCOT_2026_STAGES, UflsScheme


def test_inverse_time_matches_dcsimsep_setting() -> None:
    t = time_to_trip_s(np.array([1.5, 2.0, 0.9]), np.zeros(3), np.full(3, 7.5))
    assert t[0] == pytest.approx(15.0)  # 15 s at 150 %
    assert t[1] == pytest.approx(7.5)
    assert np.isinf(t[2])  # below pickup: never


@settings(max_examples=50, deadline=None)
@given(st.floats(1.01, 5.0), st.floats(1.01, 5.0), st.floats(0.0, 7.0))
def test_relay_time_falls_as_loading_rises(a: float, b: float, acc: float) -> None:
    lo, hi = sorted((a, b))
    t = time_to_trip_s(np.array([lo, hi]), np.full(2, acc), np.full(2, 7.5))
    assert t[1] <= t[0]


def test_relay_table_overrides_by_class_and_name() -> None:
    branch = {"name": np.array(["a", "b", "c"]), "rate_a_mva": np.array([100.0, 100.0, 0.0]),
              "rate_b_mva": np.array([120.0, 0.0, 0.0]), "rate_c_mva": np.zeros(3)}
    table = relay_table(branch, np.array([765.0, 230.0, 230.0]), RelaySettings(),
                        {765.0: RelaySettings(threshold_s=3.0)},
                        {"b": RelaySettings(instantaneous=1.5)})
    assert table.rating_mva.tolist() == [120.0, 100.0, 0.0]  # rate_b, else rate_a
    assert table.threshold_s.tolist() == [3.0, 7.5, 7.5]
    assert table.instantaneous.tolist() == [2.0, 1.5, 2.0]
    assert table.enabled.tolist() == [True, True, False]  # unrated: unprotected


def test_envelope_scales_with_nominal_frequency() -> None:
    env = scaled_envelope(ERCOT_UNDER_FREQUENCY, 50.0)
    assert env[0] == pytest.approx((57.5 * 50 / 60, 0.0))
    assert [d for _, d in env] == [0.0, 2.0, 30.0, 540.0]


def test_exposed_branches_share_a_bus() -> None:
    f, t = np.array([0, 1, 2, 0]), np.array([1, 2, 3, 3])
    got = exposed_branches(f, t, np.ones(4, dtype=bool), 0)
    assert got.tolist() == [1, 3]


def test_corridor_angle_is_largest_circuit_angle() -> None:
    out = corridor_angles(np.array(["K", "K", ""]), np.array([0, 0, 1]), np.array([1, 2, 2]),
                          np.array([True, True, True]), np.array([0.0, -30.0, -70.0]))
    assert out == {"K": 70.0}


def test_ufls_stages_once_per_load_and_blockable() -> None:
    scheme = UflsScheme(np.array([0, 0, 1]), ["R0", "R1"], 60.0, ERCOT_2026_STAGES, {})
    assert scheme.thresholds() == [58.5, 58.7, 58.9, 59.1, 59.3]
    loads = np.arange(3)
    assert scheme.due(0, loads).tolist() == [0, 1, 2]
    scheme.operated[[0], 0] = True
    scheme.block(1)
    assert scheme.due(0, loads).tolist() == [1]
    assert sum(s.fraction for s in ERCOT_2026_STAGES) == pytest.approx(0.25)
