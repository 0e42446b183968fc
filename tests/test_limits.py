"""The trial time limit holds off the main thread too (Dask worker threads)."""

from __future__ import annotations

import threading
import time

import pytest

from blackout import load_case
from blackout.cascade import simulate
from blackout.events import Event
from blackout.limits import TrialTimeout, check_deadline, deadline, time_limit


def _in_thread(fn):  # type: ignore[no-untyped-def]
    out: dict[str, object] = {}

    def run() -> None:
        try:
            out["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            out["error"] = exc

    th = threading.Thread(target=run)
    th.start()
    th.join(60)
    assert not th.is_alive()
    return out


def test_deadline_nests_and_clears() -> None:
    with deadline(None):
        check_deadline()
    with deadline(10.0), deadline(0.0):  # the earlier one holds
        time.sleep(0.001)
        with pytest.raises(TrialTimeout):
            check_deadline()
    check_deadline()  # cleared on exit


def test_a_cascade_in_a_worker_thread_is_cut_off() -> None:
    grid = load_case("venezuela2019")
    events = [Event(0.0, "branch", 0, "trip", "test")]

    def limited() -> object:
        with time_limit(1e-4):
            return simulate(grid, events)

    out = _in_thread(limited)
    assert isinstance(out.get("error"), TrialTimeout)
    out = _in_thread(lambda: simulate(grid, events))  # no limit: it runs to the end
    assert "error" not in out and out["value"] is not None
