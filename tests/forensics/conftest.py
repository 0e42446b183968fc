"""Synthetic ground truth on the IEEE 39-bus system: a fire or a cyber-attack on two lines.

Both hypotheses take out lines 16-17 and 17-18 (bus 17 stays connected through
17-27; their loss islands nothing, overloads nothing and sheds no load, so the trip
times are the threats' own):

- fire: a grass fire under both routes from ``start_s``; each exposed line faults
  with probability ``p`` per minute (the wildfire model steps in minutes), so the
  two trips fall on minute boundaries, often together;
- cyber: an attacker opens 16-17 at ``t1`` and 17-18 ``gap_s`` later, through the HMI.

Evidence is measured on one run of the true scenario with fixed parameters.

Why these lines: every trial is a full run of the detailed DC engine (threats,
flows, protection, frequency), and the tests run the inference at the CLI default
of trials (:data:`blackout.forensics.DEFAULT_TRIALS`) for 5 seeds, 2,000 runs in all.
The evidence observes trip times only (its frequency claim is trivially true). An
earlier choice, 26-28 and 26-29, islanded buses 28, 29 and 38 and shed 7.8 % of the
load: a frequency transient that no observation sees, and ~0.4 s per run (three
quarters of it integrating governors and AGC for up to 600 s), ~15 min for the 5
seeds. With lines whose loss moves no power balance the frequency stays nominal, the
engine has nothing to integrate, and a run takes ~15 ms: the same inference problem
(timing pattern of two trips) at the default trials in well under a minute.
"""

from __future__ import annotations

from typing import Any

import pytest

from blackout.forensics.analysis import DEFAULT_TRIALS
from blackout.forensics.evidence import Evidence, Observable, Observation, Selection
from blackout.forensics.hypotheses import HypothesisSet
from blackout.forensics.inference import TrialSet
from blackout.forensics.trials import simulate_trials

LINE_A, LINE_B = "16-17", "17-18"

#: Seeds of the ground-truth tests (each a whole inference).
SEEDS = (1, 2, 3, 4, 5)
#: Trials per hypothesis in the ground-truth tests: the default of ``blackout explain``.
TRIALS = DEFAULT_TRIALS
HORIZON_S = 600.0

_FIRE_AREA = [[-60.05, 9.99], [-59.85, 9.99], [-59.85, 10.03], [-60.05, 10.03]]


def fire_scenario(*, start_s: float = 0.0, p: float = 0.5) -> dict[str, Any]:
    """A case39 fire under lines A and B (routes given: case39 has no coordinates)."""
    return {
        "name": "case39 fire", "case": "case39", "mode": "dc", "horizon_s": HORIZON_S,
        "threats": [{
            "kind": "wildfire", "name": "test fire", "start_s": start_s,
            "polygons": [{"time_s": 0, "coords": _FIRE_AREA}],
            "routes": {LINE_A: [[-60.0, 10.0], [-59.9, 10.0]],
                       LINE_B: [[-60.0, 10.02], [-59.9, 10.02]]},
            "fault_probability_per_min": p, "common_mode_probability": 0.0, "derate": 0.9,
        }],
    }


def cyber_scenario(*, t1: float = 0.0, t2: float = 60.0) -> dict[str, Any]:
    """A case39 attack opening line A at t1 and line B at t2."""
    return {
        "name": "case39 cyber", "case": "case39", "mode": "dc", "horizon_s": HORIZON_S,
        "threats": [{"kind": "cyber", "name": "test attack", "actions": [
            {"do": "open_breakers", "at_s": t1, "branches": [LINE_A]},
            {"do": "open_breakers", "at_s": t2, "branches": [LINE_B]},
        ]}],
    }


HYPOTHESES = HypothesisSet.model_validate({
    "name": "case39 fire vs cyber",
    "engine": {"mode": "dc"},
    "hypotheses": [
        {"name": "fire", "scenario": fire_scenario(), "parameters": [
            {"name": "start_s", "paths": ["threats.0.start_s"],
             "prior": {"dist": "uniform", "low": 0, "high": 240}},
            {"name": "p_fault_per_min", "paths": ["threats.0.fault_probability_per_min"],
             "prior": {"dist": "uniform", "low": 0.3, "high": 0.9}}]},
        {"name": "cyber", "scenario": cyber_scenario(), "parameters": [
            {"name": "t1_s", "paths": ["threats.0.actions.0.at_s"],
             "prior": {"dist": "uniform", "low": 0, "high": 300}},
            {"name": "gap_s", "add_to": "t1_s", "paths": ["threats.0.actions.1.at_s"],
             "prior": {"dist": "uniform", "low": 30, "high": 240}}]},
    ],
})

A, B = Selection(names=[LINE_A]), Selection(names=[LINE_B])
OBSERVABLES = {
    "first trip": Observable(kind="trip_time", select=Selection(names=[LINE_A, LINE_B])),
    "interval": Observable(kind="interval", select=A, other=B),
    "frequency within 0-100 Hz": Observable(kind="frequency_nadir"),
}


def evidence_from(truth: dict[str, Any]) -> Evidence:
    """Evidence measured on one run of ``truth``: first trip +-15 s, interval +-5 s."""
    from blackout.forensics.observables import measure
    from blackout.scenario import load_scenario, simulate_scenario

    tl = simulate_scenario(load_scenario(truth))
    first = measure(tl, OBSERVABLES["first trip"])
    gap = measure(tl, OBSERVABLES["interval"])
    assert first < HORIZON_S and abs(gap) < HORIZON_S, "the truth must trip both lines"
    return Evidence.model_validate({
        "name": f"synthetic: {truth['name']}",
        "observations": [
            Observation(name="first trip", observable=OBSERVABLES["first trip"],
                        range=(first - 15, first + 15), tolerance=15, source="truth run"),
            Observation(name="interval", observable=OBSERVABLES["interval"],
                        range=(gap - 5, gap + 5), tolerance=10, source="truth run"),
            Observation(name="frequency within 0-100 Hz",
                        observable=OBSERVABLES["frequency within 0-100 Hz"],
                        range=(0.0, 100.0), source="trivially true"),
        ],
        "candidates": [
            {"name": "line B trip time", "observable": {
                "kind": "trip_time", "select": {"names": [LINE_B]}}},
            {"name": "load lost", "observable": {"kind": "load_lost_percent"}},
        ],
    })


@pytest.fixture(scope="session")
def hypotheses() -> HypothesisSet:
    return HYPOTHESES


@pytest.fixture(scope="session")
def fire_evidence() -> Evidence:
    return evidence_from(fire_scenario(start_s=100.0, p=0.6) | {"seed": 5})


@pytest.fixture(scope="session")
def cyber_evidence() -> Evidence:
    return evidence_from(cyber_scenario(t1=130.0, t2=280.0))


@pytest.fixture(scope="session")
def trial_sets(fire_evidence: Evidence) -> dict[int, TrialSet]:
    """Trials of both hypotheses for every seed in SEEDS (shared by the tests: the engine is
    the slow part, and judging other evidence of the same observables needs no new runs)."""
    return {seed: simulate_trials(fire_evidence, HYPOTHESES, trials=TRIALS, seed=seed)
            for seed in SEEDS}
