"""Typed threat effects combine by the worst case into the settings and restoration data."""

from __future__ import annotations

from blackout.threats.effects import (
    BlindWindow,
    EngineOverrides,
    Repair,
    RestorationEffects,
    ThreatEffects,
    combine_restoration,
    combine_settings,
)


def test_overrides_combine_by_the_worst_case_and_keep_every_window() -> None:
    a = ThreatEffects(settings=EngineOverrides(hidden_failure_p=0.1, operator_delay_s=600.0))
    b = ThreatEffects(settings=EngineOverrides(
        hidden_failure_p=0.3, operator_blind=(BlindWindow(0.0, 60.0, "blind"),)))
    assert combine_settings([a, b]) == {
        "hidden_failure_p": 0.3, "operator_delay_s": 600.0,
        "operator_blind": [{"from_s": 0.0, "until_s": 60.0, "mode": "blind"}]}
    assert combine_settings([ThreatEffects()]) == {}


def test_restoration_data_merges_repairs_and_maps_and_omits_unset_fields() -> None:
    a = ThreatEffects(restoration=RestorationEffects(
        repairs=(Repair("gen", "G1", 720.0),), fuel_caps_mw={"G1": 10.0}))
    b = ThreatEffects(restoration=RestorationEffects(
        repairs=(Repair("branch", "west", 48.0, position=2, at_s=60.0),),
        crews_fraction=0.4, fuel_caps_mw={"G2": 5.0}))
    assert combine_restoration([a, b]) == {
        "repairs": [{"element": "gen", "name": "G1", "repair_h": 720.0},
                    {"element": "branch", "position": 2, "name": "west", "at_s": 60.0,
                     "repair_h": 48.0}],
        "crews_fraction": 0.4, "fuel_caps_mw": {"G1": 10.0, "G2": 5.0}}
