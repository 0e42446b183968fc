"""A wall-clock limit for one trial: a stalled engine run must not stall a whole study."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from blackout.deadline import TrialTimeout, deadline

__all__ = ["TrialTimeout", "time_limit"]


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`TrialTimeout` in this thread after ``seconds`` (s); ``None``: no limit.

    In the main thread on Unix (serial runs, process pools) ``SIGALRM`` interrupts the
    run wherever it is. Elsewhere (Dask worker threads, Windows) a cooperative deadline
    (:mod:`blackout.deadline`) is armed instead: the engines' loops check it every time
    step, power-flow retry or round, so the run stops at the next check after the limit.
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
