"""Wall-clock limits: a cooperative deadline for one run and a trial time limit.

A stalled engine run must not stall a whole study. :func:`time_limit` bounds one trial;
it arms the cooperative :func:`deadline` where ``SIGALRM`` cannot be used
(Dask worker threads, any thread but the main one, Windows); the long-running loops
(the cascade engine's time steps and power-flow retries, the simple DC rounds, the
restoration steps) call :func:`check_deadline`, which raises :class:`TrialTimeout` once
the deadline has passed. One ``time.monotonic()`` call per loop iteration.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["TrialTimeout", "check_deadline", "deadline", "time_limit"]

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


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`TrialTimeout` in this thread after ``seconds`` (s); ``None``: no limit.

    In the main thread on Unix (serial runs, process pools) ``SIGALRM`` interrupts the
    run wherever it is. Elsewhere (Dask worker threads, Windows) a cooperative deadline
    (:func:`deadline`) is armed instead: the engines' loops check it every time step,
    power-flow retry or round, so the run stops at the next check after the limit.
    """
    if seconds is None:
        yield
        return
    if not hasattr(signal, "setitimer") or \
            threading.current_thread() is not threading.main_thread():
        with deadline(seconds):
            yield
        return

    def _raise(signum: int, frame: Any) -> None:
        raise TrialTimeout

    old = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, float(seconds))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0.0)
        signal.signal(signal.SIGALRM, old)
