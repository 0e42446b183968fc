"""Background runs: a job id per cascade, a small worker pool, and polling.

The server computes the cascade in a worker thread and keeps the finished result
(the view data the page animates, and the Timeline for the report) for a while.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from blackout.errors import BlackoutError

__all__ = ["Job", "JobStore", "BusyError"]


class BusyError(Exception):
    """Too many runs waiting; try again later."""


@dataclass
class Job:
    """One run: what was asked, its status and, when done, its result or error."""

    id: str
    label: str
    status: str = "queued"  # queued, running, done, failed
    created_s: float = field(default_factory=time.time)
    started_s: float | None = None
    finished_s: float | None = None
    error: str | None = None
    view: dict[str, Any] | None = None
    timeline: Any = None

    def to_dict(self, *, with_result: bool = True) -> dict[str, Any]:
        """Status (and the view data when done) as JSON."""
        now = time.time()
        elapsed = ((self.finished_s or now) - self.started_s) if self.started_s else 0.0
        out: dict[str, Any] = {"id": self.id, "label": self.label, "status": self.status,
                               "elapsed_s": round(elapsed, 2)}
        if self.error:
            out["error"] = self.error
        if self.status == "done":
            out["report"] = f"/api/runs/{self.id}/report"
            if with_result:
                out["result"] = self.view
        return out


class JobStore:
    """Runs jobs on a small thread pool and keeps the last ``keep`` of them."""

    def __init__(self, *, workers: int = 1, max_pending: int = 4, keep: int = 32) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="blackout-run")
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self.max_pending, self.keep = max_pending, keep

    def submit(self, label: str, work: Callable[[], tuple[dict[str, Any], Any]]) -> Job:
        """Queue ``work`` (returning (view data, timeline)); raises BusyError when full."""
        with self._lock:
            pending = sum(1 for j in self._jobs.values() if j.status in ("queued", "running"))
            if pending >= self.max_pending:
                raise BusyError(f"{pending} runs already waiting; try again when one finishes")
            job = Job(id=uuid.uuid4().hex[:12], label=label)
            self._jobs[job.id] = job
            while len(self._jobs) > self.keep:
                oldest = next((k for k, j in self._jobs.items()
                               if j.status in ("done", "failed")), None)
                if oldest is None:
                    break
                del self._jobs[oldest]
        self._pool.submit(self._run, job, work)
        return job

    def get(self, job_id: str) -> Job | None:
        """The job with this id, if still kept."""
        with self._lock:
            return self._jobs.get(job_id)

    def _run(self, job: Job, work: Callable[[], tuple[dict[str, Any], Any]]) -> None:
        job.status, job.started_s = "running", time.time()
        try:
            job.view, job.timeline = work()
            job.status = "done"
        except BlackoutError as exc:
            job.error, job.status = str(exc).replace("\n", " "), "failed"
        except Exception as exc:  # reported to the client as one line, never a traceback
            job.error, job.status = f"internal error: {type(exc).__name__}: {exc}", "failed"
        finally:
            job.finished_s = time.time()

    def shutdown(self) -> None:
        """Stop accepting work; running jobs finish."""
        self._pool.shutdown(wait=False, cancel_futures=True)
