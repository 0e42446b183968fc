"""A rich progress bar on stderr for long commands (quiet when stderr is not a terminal)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["progress_bar"]


@contextmanager
def progress_bar(enabled: bool, label: str = "sweep", unit: str = "trials"
                 ) -> Iterator[Callable[[int, int], None] | None]:
    """Yields ``update(done, total)`` drawing done/total, ``unit``/s and the ETA on stderr,
    or None when not ``enabled`` (callers then report nothing)."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )

    bar = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(),
                   TaskProgressColumn(),
                   TextColumn(f"{{task.fields[rate]}} {unit}/s"), TimeRemainingColumn(),
                   console=Console(stderr=True), transient=False)
    task = bar.add_task(label, total=None, rate="-")
    state: dict[str, Any] = {}

    def update(done: int, total: int) -> None:
        now = time.perf_counter()
        if "t0" not in state:
            state["t0"], state["d0"] = now, done
        dt = now - state["t0"]
        rate = (done - state["d0"]) / dt if dt > 0 else 0.0
        bar.update(task, completed=done, total=total, rate=f"{rate:.1f}")

    with bar:
        yield update
