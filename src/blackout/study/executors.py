"""Where many independent tasks run: in this process, in local processes, or on Dask.

Everything is a :class:`concurrent.futures.Executor`, so studies (sweeps, forensics
trials) are written once against ``submit`` and futures:

- :class:`SerialExecutor`: runs each task at ``submit`` in this process (tests,
  debugging, ``--workers 0``);
- ``ProcessPoolExecutor``: ``--workers W`` local processes (the default), each
  limited to one BLAS thread (parallelism is across tasks);
- Dask distributed: ``--scheduler tcp://HOST:PORT`` through
  ``distributed.Client(ADDR).get_executor()`` (the ``dask`` extra).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from blackout.errors import BlackoutError

__all__ = ["SerialExecutor", "make_executor", "dask_client", "executor_workers"]

T = TypeVar("T")

#: environment variables that cap a worker's BLAS / OpenMP / numba threads (one each: the
#: parallelism is across trials, one process per core)
_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMBA_NUM_THREADS")


class SerialExecutor(Executor):
    """An executor that runs each task in this process when it is submitted."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Run ``fn(*args, **kwargs)`` now; its result or exception is in the future."""
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # the future carries it, like any executor's
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            future.set_exception(exc)
        return future


@contextmanager
def make_executor(workers: int | None = None, scheduler: str | None = None
                  ) -> Iterator[Executor]:
    """The executor for ``workers`` local processes or a Dask ``scheduler`` address.

    ``scheduler`` (``tcp://HOST:PORT``) wins over ``workers``; ``workers=0`` runs
    serially in this process; ``None`` uses one process per CPU core. The executor
    (and the Dask client) is shut down on exit. Raises :class:`BlackoutError` on a bad
    worker count, a missing ``dask`` extra or an unreachable scheduler.
    """
    if scheduler:
        with dask_client(scheduler) as client:
            yield client.get_executor()
        return
    if workers is None:
        workers = os.cpu_count() or 1
    if workers < 0:
        raise BlackoutError(f"--workers must be >= 0, got {workers}")
    if workers == 0:
        yield SerialExecutor()
        return
    import multiprocessing

    # spawned workers start clean (no inherited threads, locks or BLAS pools) and read
    # the thread caps from the environment before numpy loads; the pool starts its
    # processes on demand, so the caps stay set while it lives
    saved = {v: os.environ.get(v) for v in _THREAD_VARS}
    for var in _THREAD_VARS:
        os.environ.setdefault(var, "1")
    pool = ProcessPoolExecutor(max_workers=workers,
                               mp_context=multiprocessing.get_context("spawn"))
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        for var, value in saved.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value


@contextmanager
def dask_client(address: str, timeout_s: float = 10.0) -> Iterator[Any]:
    """A ``distributed.Client`` connected to ``address`` (closed on exit)."""
    try:
        from distributed import Client
    except ImportError:
        raise BlackoutError("--scheduler needs the dask extra: pip install "
                            "'blackout-sim[dask]'") from None
    try:
        client = Client(address, timeout=timeout_s)
    except (OSError, TimeoutError, ValueError) as exc:
        raise BlackoutError(f"cannot connect to the Dask scheduler at {address}: "
                            f"{exc}") from None
    try:
        yield client
    finally:
        client.close()


def executor_workers(executor: Executor) -> int:
    """How many tasks ``executor`` runs at once (best effort; 1 when unknown)."""
    client = getattr(executor, "_client", None)
    if client is not None:
        try:
            return max(1, sum(int(w.get("nthreads", 1)) for w in
                              client.scheduler_info()["workers"].values()))
        except Exception:  # noqa: BLE001 - only sizes the queue
            return 1
    return int(getattr(executor, "_max_workers", 1) or 1)
