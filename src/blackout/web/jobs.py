"""Background runs: a job id per cascade, a small worker pool, and polling.

The server computes the cascade in a worker thread and keeps the finished result
(the view data the page animates, and the Timeline for the report) for a while. A
run's HTML report is rendered once, by the first request for it, and kept with the
run (gzip-compressed); while it renders it counts as one job in flight, under the
same limit as the runs (:class:`BusyError`, HTTP 429).
"""

from __future__ import annotations

import gzip
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from blackout.errors import BlackoutError

if TYPE_CHECKING:
    from blackout.cascade.timeline import Timeline


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
    timeline: Timeline | None = None
    report_gz: bytes | None = None  # the rendered HTML report, gzip-compressed
    report_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

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
        self._rendering = 0  # reports being rendered now
        self.max_pending, self.keep = max_pending, keep
        self.reports_rendered = 0  # reports rendered since the start (each run's once)

    def _in_flight(self) -> int:
        """Runs queued or running plus reports rendering (call with the lock held)."""
        runs = sum(1 for j in self._jobs.values() if j.status in ("queued", "running"))
        return runs + self._rendering

    def submit(self, label: str, work: Callable[[], tuple[dict[str, Any], Any]]) -> Job:
        """Queue ``work`` (returning (view data, timeline)); raises BusyError when full."""
        with self._lock:
            pending = self._in_flight()
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

    def report_gz(self, job: Job, render: Callable[[], str]) -> bytes:
        """The job's HTML report, gzip-compressed: rendered by the first call and kept.

        Concurrent calls for one job wait for that rendering; a rendering counts as a
        job in flight, so :class:`BusyError` is raised when ``max_pending`` jobs and
        renderings already are.
        """
        with job.report_lock:
            if job.report_gz is None:
                with self._lock:
                    busy = self._in_flight()
                    if busy >= self.max_pending:
                        raise BusyError(f"{busy} runs and reports in progress; try again "
                                        "when one finishes")
                    self._rendering += 1
                try:
                    html = render()
                    job.report_gz = gzip.compress(html.encode("utf-8"), compresslevel=6)
                    with self._lock:
                        self.reports_rendered += 1
                finally:
                    with self._lock:
                        self._rendering -= 1
            return job.report_gz

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
