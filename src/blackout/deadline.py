"""A cooperative wall-clock deadline for one simulation run, valid in any thread.

:func:`blackout.study.timelimit.time_limit` arms it where ``SIGALRM`` cannot be used
(Dask worker threads, any thread but the main one, Windows); the long-running loops
(the cascade engine's time steps and power-flow retries, the simple DC rounds, the
restoration steps) call :func:`check_deadline`, which raises :class:`TrialTimeout` once
the deadline has passed. One ``time.monotonic()`` call per loop iteration.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["TrialTimeout", "check_deadline", "deadline"]

_local = threading.local()


class TrialTimeout(Exception):
    """A trial ran past its wall-clock limit."""

    def __str__(self) -> str:
        return "over the trial time limit"


def check_deadline() -> None:
    """Raise :class:`TrialTimeout` if this thread's deadline (if any) has passed."""
    end = getattr(_local, "end", None)
    if end is not None and time.monotonic() > end:
        raise TrialTimeout


@contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Arm this thread's deadline ``seconds`` (s) from now for the ``with`` block (nested
    deadlines: the earlier one holds); ``None``: no deadline."""
    before = getattr(_local, "end", None)
    if seconds is not None:
        end = time.monotonic() + float(seconds)
        _local.end = end if before is None else min(before, end)
    try:
        yield
    finally:
        _local.end = before
