"""Running trials: a trial that raises is recorded and the run goes on; a killed run resumes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from blackout.errors import BlackoutError
from blackout.forensics import trials as trials_mod
from blackout.forensics.analysis import Explanation
from blackout.forensics.evidence import Evidence
from blackout.forensics.hypotheses import HypothesisSet
from blackout.forensics.inference import TrialSet, bootstrap_posterior, posterior
from blackout.forensics.trials import draw_trials, simulate_trials
from blackout.report.forensics import forensics_section

#: A small run (two hypotheses on case39) whose trials are replaced by a cheap stand-in in
#: the resume test; the failure test runs the real engine.
SMALL = textwrap.dedent('''
    from blackout.forensics.evidence import Evidence
    from blackout.forensics.hypotheses import HypothesisSet

    def scenario(name):
        return {"name": name, "case": "case39", "mode": "dc", "horizon_s": 60.0,
                "threats": [{"kind": "cyber", "name": "attack", "actions": [
                    {"do": "open_breakers", "at_s": 5.0, "branches": ["26-28"]}]}]}

    HYPOTHESES = HypothesisSet.model_validate({"name": "small", "hypotheses": [
        {"name": "early", "scenario": scenario("early"), "parameters": [
            {"name": "at_s", "paths": ["threats.0.actions.0.at_s"],
             "prior": {"dist": "uniform", "low": 0, "high": 20}}]},
        {"name": "late", "scenario": scenario("late"), "parameters": [
            {"name": "at_s", "paths": ["threats.0.actions.0.at_s"],
             "prior": {"dist": "uniform", "low": 30, "high": 50}}]}]})
    EVIDENCE = Evidence.model_validate({"name": "small evidence", "observations": [
        {"name": "line out early", "source": "test", "range": [0, 25], "tolerance": 5,
         "observable": {"kind": "trip_time", "select": {"names": ["26-28"]}}}]})

    def fake_values(draw):
        """A stand-in for a trial: its values follow from its draw alone."""
        import numpy as np
        return np.array([draw.values["at_s"] + draw.seed % 7], dtype=float)
''')
_ns: dict[str, Any] = {}
exec(SMALL, _ns)  # noqa: S102 - the same definitions as the killed child process uses
HYPOTHESES: HypothesisSet = _ns["HYPOTHESES"]
EVIDENCE: Evidence = _ns["EVIDENCE"]


def test_a_trial_that_raises_is_listed_and_the_run_goes_on(
        monkeypatch: pytest.MonkeyPatch) -> None:
    draws = draw_trials(HYPOTHESES.hypotheses, 3, 7)
    bad = draws[3 + 1]  # trial 1 of "late"
    real = trials_mod.run_trial

    def flaky(spec: Any, draw: Any, template: Any = None) -> np.ndarray:
        if draw.index == bad.index:
            raise IndexError("list index out of range")
        return real(spec, draw, template)

    monkeypatch.setattr(trials_mod, "run_trial", flaky)
    ts = simulate_trials(EVIDENCE, HYPOTHESES, trials=3, seed=7)
    assert ts.failed == [0, 1]
    assert [v.shape[0] for v in ts.values] == [3, 2]
    (failure,) = ts.failures
    assert (failure.hypothesis, failure.trial, failure.seed) == ("late", 1, bad.seed)
    assert failure.parameters == bad.values and "IndexError" in failure.error
    p = posterior(ts)
    assert p.sum() == pytest.approx(1.0) and p[0] > p[1]  # the evidence says early
    out = Explanation(EVIDENCE, HYPOTHESES, ts, p, bootstrap_posterior(ts, n_boot=20)).to_dict()
    assert out["failed_trials"] == [failure.to_dict()]
    assert out["failed_trials"][0]["seed"] == bad.seed
    assert [h["trials_failed"] for h in out["hypotheses"]] == [0, 1]
    assert any("1 trials failed" in w for w in out["warnings"])
    text = Explanation(EVIDENCE, HYPOTHESES, ts, p,
                       bootstrap_posterior(ts, n_boot=20)).render_text(out)
    assert f"failed: late trial 1 (seed {bad.seed}): IndexError" in text
    page, _ = forensics_section(out)
    assert 'id="failed-trials"' in page and str(bad.seed) in page


def test_few_effective_trials_are_flagged_beside_the_posterior() -> None:
    """With 2 trials per hypothesis the weight rests on < 3 effective trials: the warning
    is on the hypothesis's own row (table, JSON and report), not only at the bottom."""
    values = [np.array([[1.0], [100.0]]), np.array([[2.0], [3.0]])]
    ts = TrialSet(list(HYPOTHESES.hypotheses), list(EVIDENCE.observations), [], values,
                  [np.zeros((2, 0))] * 2, [[{"at_s": 1.0}, {"at_s": 2.0}]] * 2, [0, 0], 2, 0)
    expl = Explanation(EVIDENCE, HYPOTHESES, ts, posterior(ts),
                       bootstrap_posterior(ts, n_boot=20))
    out = expl.to_dict()
    rows = {h["name"]: h for h in out["hypotheses"]}
    assert rows["early"]["effective_sample_size"] == pytest.approx(1.0, abs=0.01)
    assert "effective trials" in rows["early"]["warning"]
    assert {"posterior_a", "posterior_b", "agree"} <= set(rows["early"]["seed_stability"])
    lines = expl.render_text(out).splitlines()
    at = next(i for i, ln in enumerate(lines) if ln.strip().startswith("early"))
    assert "warning" in lines[at + 1] and "effective trials" in lines[at + 1]
    page, _ = forensics_section(out)
    posteriors = page[page.index('id="posteriors"'):page.index("</table>",
                                                                 page.index('id="posteriors"'))]
    assert "effective trials (fewer than 3)" in posteriors


def test_resume_after_sigkill_reuses_every_stored_trial(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = tmp_path / "run"
    child = tmp_path / "child.py"
    child.write_text(SMALL + textwrap.dedent(f'''
        import time
        from blackout.forensics import trials

        def slow(spec, draw, template=None):
            time.sleep(0.4)
            return fake_values(draw)

        trials.run_trial = slow
        trials.simulate_trials(EVIDENCE, HYPOTHESES, trials=8, seed=3, chunk_size=1,
                               store={str(store)!r})
    '''), encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(child)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while len(list(store.glob("chunk-*.parquet"))) < 3:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "the child wrote no chunks"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
    kept = {int(p.stem.split("-")[1]) for p in store.glob("chunk-*.parquet")}
    stored = len(kept)
    assert 3 <= stored < 16  # killed mid-run

    calls: list[int] = []

    def counted(spec: Any, draw: Any, template: Any = None) -> np.ndarray:
        calls.append(draw.index)
        return _ns["fake_values"](draw)

    monkeypatch.setattr(trials_mod, "run_trial", counted)
    with pytest.raises(BlackoutError, match="holds"):  # no silent overwrite
        simulate_trials(EVIDENCE, HYPOTHESES, trials=8, seed=3, chunk_size=1, store=store)
    with pytest.raises(BlackoutError, match="root_seed"):  # another run: refused
        simulate_trials(EVIDENCE, HYPOTHESES, trials=8, seed=4, store=store, resume=True)
    ts = simulate_trials(EVIDENCE, HYPOTHESES, trials=8, seed=3, store=store, resume=True)
    assert ts.resumed == stored and ts.ran == 16 - stored == len(calls)
    assert not set(calls) & kept  # chunk i holds trial i: none is run again
    assert set(calls) | kept == set(range(16))
    draws = draw_trials(HYPOTHESES.hypotheses, 8, 3)
    expect = [np.array([_ns["fake_values"](d) for d in draws[h * 8:(h + 1) * 8]])
              for h in range(2)]
    for got, want in zip(ts.values, expect, strict=True):
        np.testing.assert_array_equal(got, want)
    assert ts.parameters == [[d.values for d in draws[:8]], [d.values for d in draws[8:]]]


def test_trials_of_one_hypothesis_share_one_grid_object() -> None:
    """Each trial compiles a new but equal grid; the worker runs on the first one it saw, so
    per-grid caches (topology matrices, factorisations) carry over, and only an equal grid
    (every table and note) is ever substituted."""
    from blackout import load_case

    trials_mod._GRIDS.clear()
    g = load_case("case9")
    twin = g.replace(bus=g.bus.with_columns())
    assert twin is not g and trials_mod._interned(g) is g and trials_mod._interned(twin) is g
    other = g.replace(notes={**g.notes, "snapshot": "2019-03-07T16:00:00"})
    assert trials_mod._interned(other) is other
    loads = g.load
    heavier = g.replace(load=loads.with_columns(p_mw=loads["p_mw"] * 1.1))
    assert trials_mod._interned(heavier) is heavier
    trials_mod._GRIDS.clear()


def test_worker_processes_give_the_serial_result() -> None:
    """The CLI's default path (2 spawned worker processes): same trials, same numbers."""
    from blackout.study.sweep.executors import make_executor

    serial = simulate_trials(EVIDENCE, HYPOTHESES, trials=3, seed=5)
    with make_executor(2) as ex:
        pooled = simulate_trials(EVIDENCE, HYPOTHESES, trials=3, seed=5, executor=ex)
    for a, b in zip(serial.values, pooled.values, strict=True):
        np.testing.assert_array_equal(a, b)
    assert serial.parameters == pooled.parameters and pooled.failures == []


def test_invalid_draws_are_refused_before_any_trial_runs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A prior that leaves the scenario's valid range is an input error at once (not an
    abort hours into a run, nor a trial silently left out)."""
    from blackout.forensics.evidence import EvidenceError

    data = HYPOTHESES.model_dump(mode="json")
    data["hypotheses"][1]["parameters"].append({
        "name": "horizon", "paths": ["horizon_s"],
        "prior": {"dist": "uniform", "low": -10, "high": 100}})
    hs = HypothesisSet.model_validate(data)
    calls: list[int] = []
    monkeypatch.setattr(trials_mod, "run_trial",
                        lambda spec, draw, template=None: calls.append(draw.index))
    with pytest.raises(EvidenceError, match="'late', trial .*horizon"):
        simulate_trials(EVIDENCE, hs, trials=20, seed=1)
    assert calls == []
