"""The cooperative deadline, kept under its old name: it now lives in :mod:`blackout.limits`."""

from blackout.limits import TrialTimeout, check_deadline, deadline

__all__ = ["TrialTimeout", "check_deadline", "deadline"]
