"""The run's result, :class:`Outcome`, and the front door :func:`run_scenario`: both live
in :mod:`blackout.scenario.run`; this module keeps their old import path."""

from blackout.scenario.run import Outcome, outcome_of, run_scenario

__all__ = ["Outcome", "outcome_of", "run_scenario"]
