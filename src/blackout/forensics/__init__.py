"""Forensics: which explanation of a blackout fits what was seen?

An evidence file lists observations (each measurable on a simulated timeline,
with its source and reliability); a hypothesis file lists competing accounts as
scenario templates with priors on their uncertain parameters. :func:`explain`
simulates every hypothesis over its priors, weighs the evidence (soft-kernel
ABC with reliabilities) and reports posteriors with their Monte Carlo
uncertainty, the deciding observations, the next best observation and how the
answer moves when evidence is dropped. See docs/forensics.md.
"""

from blackout.forensics.analysis import DEFAULT_TRIALS, HONESTY, Explanation, explain
from blackout.forensics.evidence import (
    Candidate,
    Evidence,
    EvidenceError,
    Observable,
    Observation,
    Selection,
    load_evidence,
)
from blackout.forensics.hypotheses import (
    Hypothesis,
    HypothesisSet,
    Parameter,
    Prior,
    load_hypotheses,
)
from blackout.forensics.inference import TrialFailure, TrialSet, posterior
from blackout.forensics.tables import report_data
from blackout.forensics.trials import simulate_trials

__all__ = [
    "DEFAULT_TRIALS",
    "HONESTY",
    "Candidate",
    "Evidence",
    "EvidenceError",
    "Explanation",
    "Hypothesis",
    "HypothesisSet",
    "Observable",
    "Observation",
    "Parameter",
    "Prior",
    "Selection",
    "TrialFailure",
    "TrialSet",
    "explain",
    "load_evidence",
    "load_hypotheses",
    "posterior",
    "report_data",
    "simulate_trials",
]
