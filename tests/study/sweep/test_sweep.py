"""Monte Carlo sweeps: seeding, executors (serial vs a real Dask cluster), failed trials,
resume, exposure draws and the re-run of one trial in the detailed engine."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from blackout.errors import BlackoutError
from blackout.study.sweep import trial
from blackout.study.sweep.options import SweepSpec
from blackout.study.sweep.results import rerun_trial
from blackout.study.sweep.run import SweepOptions, run_sweep, trial_seed

SCENARIO = Path(__file__).parents[2] / "data" / "scenarios" / "sweep-case118-dc.yaml"
RATINGS = (1.5, 50.0, False)
FAST = SweepOptions(engine="fast", random_outages=2, derive_ratings=RATINGS)


def _values(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows without the timing column, lists as tuples (comparable)."""
    out = frame.drop(columns=["wall_s"]).copy()
    for col in ("initiating", "tripped"):
        out[col] = [tuple(int(b) for b in v) for v in out[col]]
    return out


def test_trial_seed_is_the_spawned_child() -> None:
    children = np.random.SeedSequence(11).spawn(6)
    for i, child in enumerate(children):
        assert trial_seed(11, i) == int(child.generate_state(1, np.uint32)[0])
    assert len({trial_seed(11, i) for i in range(6)}) == 6


def test_dask_cluster_equals_serial(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    serial = run_sweep(SCENARIO, trials=48, out=tmp_path / "serial", root_seed=3,
                       options=FAST, chunk_size=8)
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        dask = run_sweep(SCENARIO, trials=48, out=tmp_path / "dask", root_seed=3,
                         options=FAST, chunk_size=8, executor=client.get_executor())
        # each worker process built the sweep's context once and kept it
        cached = client.run(lambda: len(trial._CONTEXTS))
    assert sorted(cached.values()) == [1, 1]
    assert len(dask.frame) == 48 and (dask.frame["status"] == "ok").all()
    pd.testing.assert_frame_equal(_values(serial.frame), _values(dask.frame))
    assert (serial.frame["load_lost_mw"] > 0).any()  # the sample has cascades


def test_failed_detailed_trial_is_recorded_and_the_rest_complete(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad_seed = trial_seed(0, 2)
    real = trial.simulate_trial

    def flaky(grid: Any, events: Any, settings: Any) -> Any:
        if settings.seed == bad_seed:
            raise ValueError("injected failure")
        return real(grid, events, settings)

    monkeypatch.setattr(trial, "simulate_trial", flaky)
    opts = SweepOptions(random_outages=1, derive_ratings=RATINGS)
    res = run_sweep(SCENARIO, trials=5, out=tmp_path / "s", options=opts, chunk_size=2)
    f = res.frame
    assert f["trial"].tolist() == [0, 1, 2, 3, 4]
    bad = f[f["trial"] == 2].iloc[0]
    assert bad["status"] == "error" and "injected failure" in bad["error"]
    assert bad["seed"] == bad_seed and np.isnan(bad["load_lost_mw"])
    assert (f[f["trial"] != 2]["status"] == "ok").all()
    s = res.summary()
    assert s["trials_ok"] == 4 and s["trials_failed"] == 1
    assert s["first_error"]["trial"] == 2 and s["first_error"]["seed"] == bad_seed
    # a detailed trial re-runs alone to exactly its recorded result
    again = rerun_trial(tmp_path / "s", 3)
    rec = f[f["trial"] == 3].iloc[0]
    assert again.matches is True
    assert again.row["load_lost_mw"] == rec["load_lost_mw"]
    assert again.row["initiating"] == list(rec["initiating"])


def test_failed_fast_trial_is_isolated_from_its_batch(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from blackout.study.fastdc import engine as batch
    probe = run_sweep(SCENARIO, trials=10, out=tmp_path / "ref", options=FAST)
    target = list(probe.frame["initiating"][4])
    real = batch.run_cascades

    def flaky(model: Any, initiating: Any, **kw: Any) -> Any:
        if any(list(o) == target for o in initiating):
            raise np.linalg.LinAlgError("injected singular matrix")
        return real(model, initiating, **kw)

    monkeypatch.setattr(batch, "run_cascades", flaky)
    res = run_sweep(SCENARIO, trials=10, out=tmp_path / "s", options=FAST)
    f = res.frame
    assert f["status"].tolist() == ["ok"] * 4 + ["error"] + ["ok"] * 5
    assert "LinAlgError: injected singular matrix" in f["error"][4]
    ok = f["status"] == "ok"
    pd.testing.assert_frame_equal(_values(f[ok]), _values(probe.frame[ok]), check_dtype=False)


def test_resume_runs_only_missing_chunks_and_refuses_another_sweep(tmp_path: Path) -> None:
    full = run_sweep(SCENARIO, trials=30, out=tmp_path / "full", options=FAST, chunk_size=10)
    part = tmp_path / "part"
    shutil.copytree(tmp_path / "full", part)
    (part / "chunk-000001.parquet").unlink()
    (part / ".chunk-000001-x.tmp").write_bytes(b"half a chunk")  # left by a kill
    with pytest.raises(BlackoutError, match="already holds a sweep"):
        run_sweep(SCENARIO, trials=30, out=part, options=FAST, chunk_size=10)
    with pytest.raises(BlackoutError, match="different sweep.*root_seed"):
        run_sweep(SCENARIO, trials=30, out=part, root_seed=1, options=FAST, resume=True)
    res = run_sweep(SCENARIO, trials=30, out=part, options=FAST, resume=True)
    assert (res.ran, res.resumed) == (10, 20)
    assert not list(part.glob(".chunk-*"))
    pd.testing.assert_frame_equal(_values(res.frame), _values(full.frame))
    assert res.frame["trial"].tolist() == list(range(30))
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("x")
    with pytest.raises(BlackoutError, match="not empty"):
        run_sweep(SCENARIO, trials=3, out=tmp_path / "other", options=FAST)


def test_fast_trials_rerun_in_simple_dc_with_load_levels(tmp_path: Path) -> None:
    opts = SweepOptions(engine="fast", random_outages=2, derive_ratings=RATINGS,
                        load_scale=(0.85, 1.25))
    res = run_sweep(SCENARIO, trials=16, out=tmp_path / "s", root_seed=5, options=opts)
    f = res.frame
    assert f["load_scale"].between(0.85, 1.25).all() and f["load_scale"].nunique() == 16
    assert (f["load_lost_mw"] > 0).sum() >= 2  # heavy load levels cascade
    picks = list(f.sort_values("load_lost_mw").trial.iloc[-3:]) + [int(f.trial.iloc[0])]
    for i in picks:
        again = rerun_trial(tmp_path / "s", int(i))
        rec = f[f["trial"] == i].iloc[0]
        assert sorted(again.row["tripped"]) == sorted(rec["tripped"]), i
        assert abs(again.row["load_lost_mw"] - rec["load_lost_mw"]) <= 1e-6, i
        assert again.matches is True
    with pytest.raises(BlackoutError, match="out of range"):
        rerun_trial(tmp_path / "s", 16)


def test_random_outages_follow_exposure() -> None:
    opts = SweepOptions(random_outages=1)
    ctx: Any = SimpleNamespace(
        spec=SimpleNamespace(options=opts, root_seed=0), candidates=np.array([3, 5, 8, 9]),
        weights=np.array([0.7, 0.1, 0.1, 0.1]), scenario=SimpleNamespace(uncertain={}))
    drawn = np.array([trial.draw_trial(ctx, i, 0).outages[0] for i in range(3000)])
    assert set(drawn.tolist()) <= {3, 5, 8, 9}
    assert abs(np.mean(drawn == 3) - 0.7) < 0.04
    assert trial.draw_trial(ctx, 17, 0) == trial.draw_trial(ctx, 17, 0)  # a trial's draw is its seed's


def test_exposure_weights_are_branch_lengths() -> None:
    spec = SweepSpec({"name": "v", "case": "venezuela2019", "mode": "dc"},
                       SweepOptions(random_outages=2), 0, 4, 2)
    ctx = trial._build_context(spec)
    length = np.asarray(ctx.base.grid.branch["length_km"], dtype=float)
    assert ctx.weights is not None and np.all(length[ctx.candidates] > 0)
    np.testing.assert_allclose(ctx.weights, length[ctx.candidates] / length[ctx.candidates].sum())


def test_bad_options_are_errors(tmp_path: Path) -> None:
    for opts, msg in [(SweepOptions(engine="warp"), "--engine"),
                      (SweepOptions(load_scale=(1.2, 0.8)), "--load-scale"),
                      (SweepOptions(engine="fast"), "--random-outages"),
                      (SweepOptions(random_outages=999), "only")]:
        with pytest.raises(BlackoutError, match=msg):
            run_sweep(SCENARIO, trials=2, out=tmp_path / "x", options=opts)
    with pytest.raises(BlackoutError, match="--trials"):
        run_sweep(SCENARIO, trials=0, out=tmp_path / "x")
    with pytest.raises(BlackoutError, match="threats"):
        run_sweep("ukraine-2015-style-case39", trials=2, out=tmp_path / "y",
                  options=SweepOptions(engine="fast", random_outages=1))


def test_a_cached_context_does_not_leak_its_root_seed(tmp_path: Path) -> None:
    """Two sweeps of one scenario in one process share the worker context (keyed without
    the root seed); each still draws its trials from its own root seed."""
    a = run_sweep(SCENARIO, trials=4, out=tmp_path / "a", root_seed=1, options=FAST,
                  chunk_size=4)
    b = run_sweep(SCENARIO, trials=4, out=tmp_path / "b", root_seed=2, options=FAST,
                  chunk_size=4)
    assert a.frame["seed"].tolist() == [trial_seed(1, i) for i in range(4)]
    assert b.frame["seed"].tolist() == [trial_seed(2, i) for i in range(4)]


# ---------------------------------------------------------------------------- uncertainty
def _uncertain_scenario() -> Any:
    from tests.test_uncertainty import CASE39

    from blackout.scenario import load_scenario

    return load_scenario(CASE39)


def test_sweep_samples_priors_and_reads_back_with_names(tmp_path: Path) -> None:
    from blackout.study import load_sweep
    sc = _uncertain_scenario()
    res = run_sweep(sc, trials=12, out=tmp_path / "u", root_seed=3)
    f = res.frame
    for name in sc.uncertain:
        col = f[f"input_{name}"]
        assert col.nunique() == 12, name  # drawn per trial
        p = sc.uncertain[name]
        assert ((col >= p.low) & (col <= p.high)).all(), name
    assert (f["status"] == "ok").all()
    # a folder is a Parquet dataset: pandas reads it as is; load_sweep gives the same rows
    direct = pd.read_parquet(tmp_path / "u").sort_values("trial").reset_index(drop=True)
    loaded = load_sweep(tmp_path / "u")
    assert list(direct["trial"]) == list(loaded["trial"]) == list(range(12))
    np.testing.assert_allclose(direct["input_demand"], loaded["input_demand"])
    assert loaded.attrs["manifest"]["scenario"] == sc.name
    assert all(set(n) == {"16-19", "21-22"} for n in loaded["initiating_names"])
    names = [str(n) for n in res.branch_names or []]
    for ids, nm in zip(loaded["tripped"], loaded["tripped_names"], strict=True):
        assert [names[int(b)] for b in ids] == list(nm)
    # the summary: load lost varies and its strongest driver is the demand draw
    s = res.summary()
    assert s["outcomes"]["load_lost_mw"]["varies"]
    assert s["drivers"]["load_lost_mw"][0]["input"] == "demand"
    assert s["power_law"] is None and "no power-law fit" in s["power_law_note"]
    crit = {r["name"] for r in s["risk"]["critical_lines"]["rows"]}
    assert not crit & {"16-19", "21-22"}  # initiating elements are shown apart
    assert {r["name"] for r in s["initiating_elements"]} == {"16-19", "21-22"}
    # a trial re-runs alone from its seed, with the same draws
    again = rerun_trial(tmp_path / "u", 5)
    assert again.matches is True
    assert again.compiled.settings["uncertain"]["demand"] == pytest.approx(
        f["input_demand"][5])


def test_central_sweep_uses_central_values(tmp_path: Path) -> None:
    sc = _uncertain_scenario()
    res = run_sweep(sc, trials=3, out=tmp_path / "c", root_seed=3,
                    options=SweepOptions(sample_uncertain=False))
    assert not [c for c in res.frame.columns if c.startswith("input_")]
    assert res.frame["load_lost_mw"].nunique() == 1
    with pytest.raises(BlackoutError, match="--load-scale"):
        run_sweep(sc, trials=2, out=tmp_path / "d", options=SweepOptions(load_scale=(0.9, 1)))


def test_degenerate_sample_gets_no_power_law_fit() -> None:
    from blackout.study.sweep.results import summarize

    n = 40
    frame = pd.DataFrame({"trial": range(n), "seed": range(n), "status": ["ok"] * n,
                          "load_lost_mw": [11000.0] * n, "lines_out": [3] * n,
                          "initiating": [[1, 2]] * n, "tripped": [[5]] * n,
                          "regions_dark": [24] * n, "time_to_collapse_s": np.linspace(180, 310, n)})
    s = summarize(frame, {"trials": n})
    assert s["power_law"] is None and "1 distinct positive" in s["power_law_note"]
    assert s["outcomes"]["load_lost_mw"]["varies"] is False
    assert s["outcomes"]["time_to_collapse_s"]["varies"] is True
    assert [r["name"] for r in s["risk"]["critical_lines"]["rows"]] == ["5"]


def test_report_view_keeps_initiating_elements_apart() -> None:
    from blackout.report.sweep import sweep_view

    df = pd.DataFrame({"trial": [0, 1, 2], "status": ["ok"] * 3,
                       "load_lost_mw": [11000.0] * 3,
                       "initiating": [[1, 2]] * 3, "initiating_names": [["A", "B"]] * 3,
                       "tripped": [[1, 7], [7], [8]], "tripped_names": [["A", "G"], ["G"], ["H"]],
                       "regions_dark": [24] * 3, "time_to_collapse_s": [180.0, 200.0, 310.0],
                       "input_x": [0.1, 0.5, 0.9]})
    sv = sweep_view(df, {})
    assert {r["name"] for r in sv["critical_lines"]} == {"G", "H"}  # A initiated: apart
    assert {r["name"] for r in sv["initiating"]} == {"A", "B"}
    ids = [f[0] for f in sv["figures"]]
    assert "ccdf" not in ids and "hist-time_to_collapse_s" in ids and "drivers" in ids
    assert any("every trial" in n for n in sv["notes"])
    assert any("no power-law fit" in n for n in sv["notes"])


def test_a_sweep_written_before_priors_and_names_resumes(tmp_path: Path) -> None:
    import json

    out = tmp_path / "old"
    opts = SweepOptions(engine="fast", random_outages=2, derive_ratings=RATINGS)
    run_sweep(SCENARIO, trials=8, out=out, options=opts, chunk_size=4)
    (out / "chunk-000001.parquet").unlink()
    manifest = json.loads((out / "_manifest.json").read_text())
    for key in ("sample_uncertain", "restore"):  # options added since
        del manifest["options"][key]
    for key in ("restoration", "uncertain"):  # scenario sections added since
        del manifest["scenario_spec"][key]
    (out / "_manifest.json").unlink()
    (out / "manifest.json").write_text(json.dumps(manifest))  # the earlier name
    res = run_sweep(SCENARIO, trials=8, out=out, options=opts, resume=True)
    assert (res.ran, res.resumed) == (4, 4)
    assert not (out / "_manifest.json").exists()
