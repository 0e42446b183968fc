"""A wall-clock limit for one trial: a stalled engine run must not stall a whole study."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["TrialTimeout", "time_limit"]


class TrialTimeout(Exception):
    """A trial ran past its wall-clock limit."""

    def __str__(self) -> str:
        return "over the trial time limit"


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`TrialTimeout` in this thread after ``seconds`` (s).

    Enforced with ``SIGALRM`` in the main thread on Unix (serial runs, process pools);
    elsewhere (Dask worker threads, Windows) and with ``None`` there is no limit.
    """
    if seconds is None or not hasattr(signal, "setitimer") or \
            threading.current_thread() is not threading.main_thread():
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
