"""Where many independent tasks run: in this process, in local processes, or on Dask.

Everything is a :class:`concurrent.futures.Executor`, so studies (sweeps, forensics
trials) are written once against ``submit`` and futures:

- :class:`SerialExecutor`: runs each task at ``submit`` in this process (tests,
  debugging, ``--workers 0``);
- ``ProcessPoolExecutor``: ``--workers W`` local processes (the default), each
  limited to one BLAS thread (parallelism is across tasks); each worker dies with the
  process that started it, even one killed with SIGKILL (:func:`die_with_parent`);
- Dask distributed: ``--scheduler tcp://HOST:PORT`` through
  ``distributed.Client(ADDR).get_executor()`` (the ``dask`` extra).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from typing import Any, TypeVar

from blackout.errors import BlackoutError

__all__ = ["SerialExecutor", "make_executor", "dask_client", "die_with_parent",
           "executor_workers"]

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


#: prctl(2) options (Linux): the signal this process gets when its parent dies; the
#: calling thread's name (the process name ps and /proc/PID/comm show)
_PR_SET_PDEATHSIG, _PR_SET_NAME = 1, 15
#: the name a worker takes once its parent-death guard is armed
WORKER_NAME = b"blackout-worker"
#: how often a worker's watchdog checks that its parent is alive, s
WATCHDOG_INTERVAL_S = 0.5


def die_with_parent(parent_pid: int) -> None:
    """Make this worker process exit when ``parent_pid`` (the process that started it) dies.

    A pool's workers otherwise outlive a parent killed with SIGKILL: they wait on their
    task queue forever and hold the parent's stdout and stderr open, so whoever reads
    the dead command's output never sees its end. On Linux the kernel sends SIGKILL to
    this process when the parent dies (``prctl(PR_SET_PDEATHSIG)``); everywhere, a
    daemon thread checks every :data:`WATCHDOG_INTERVAL_S` s that the parent is still
    this process's parent and ends the process when it is not (the fallback where
    prctl is missing). With every worker gone the multiprocessing resource tracker
    reads end-of-file on its pipe and exits too. Used as the pool's initializer; once
    armed, the worker is named :data:`WORKER_NAME` (``ps``, ``/proc/PID/comm``).

    The kernel sends the signal when the *thread* that spawned the worker ends: submit
    to the pool (which spawns workers on demand) from a thread that outlives it, as the
    commands do (the main thread, inside :func:`make_executor`).

    The guard is armed when the worker has started (imported the parent's main module
    and this one): a parent killed while a worker is still starting is noticed when
    the start-up ends, a few seconds later.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            libc.prctl(_PR_SET_NAME, ctypes.c_char_p(WORKER_NAME), 0, 0, 0)
        except (OSError, AttributeError):  # no libc prctl: the watchdog alone
            pass
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(WATCHDOG_INTERVAL_S)
        os._exit(1)

    threading.Thread(target=watch, name="blackout-parent-watchdog", daemon=True).start()


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
                               mp_context=multiprocessing.get_context("spawn"),
                               initializer=die_with_parent, initargs=(os.getpid(),))
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
        client = Client(address, timeout=timeout_s)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError, ValueError) as exc:
        raise BlackoutError(f"cannot connect to the Dask scheduler at {address}: "
                            f"{exc}") from None
    try:
        yield client
    finally:
        client.close()  # type: ignore[no-untyped-call]


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


R = TypeVar("R")


def completed_in_window(executor: Executor, fn: Callable[..., R],
                        tasks: Iterable[tuple[Any, ...]],
                        failed: Callable[[Exception], BlackoutError]) -> Iterator[R]:
    """Run ``fn(*args)`` for every task, at most 2 x workers + 1 in flight (one at a time
    on a :class:`SerialExecutor`), yielding each result as it finishes.

    A task that raises a :class:`BlackoutError` re-raises it; any other exception becomes
    ``failed(exc)``. Tasks not yet finished are cancelled when the caller stops.
    """
    window = 1 if isinstance(executor, SerialExecutor) else 2 * executor_workers(executor) + 1
    pending: set[Future[R]] = set()
    queue = iter(tasks)
    try:
        while True:
            for args in queue:
                pending.add(executor.submit(fn, *args))
                if len(pending) >= window:
                    break
            if not pending:
                return
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                try:
                    result = fut.result()
                except BlackoutError:
                    raise
                except Exception as exc:
                    raise failed(exc) from None
                yield result
    finally:
        for fut in pending:
            fut.cancel()
