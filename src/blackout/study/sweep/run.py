"""Monte Carlo sweeps: many seeded trials of one scenario, on any Executor, into Parquet.

A sweep runs ``trials`` trials of a scenario. Trial ``i`` has the seed

    ``seed_i = SeedSequence(root_seed).spawn(trials)[i].generate_state(1, uint32)[0]``

(computed as ``SeedSequence(root_seed, spawn_key=(i,))``, the same child), recorded in
its row. Everything random in the trial comes from ``seed_i``, in this order:

1. the load level: with ``load_scale=(lo, hi)``, every load is multiplied by a factor
   drawn uniformly from [lo, hi] (on top of the scenario's own ``snapshot.load_scale``);
2. random initiating outages: with ``random_outages=K``, K distinct in-service branches
   drawn with probability proportional to ``length_km`` (exposure; branches without a
   length never drawn), or uniformly when no branch has a length; they trip at t = 0;
3. the scenario's uncertain inputs (``uncertain:`` priors, in the order declared;
   unless ``sample_uncertain=False``), recorded in the row as ``input_<name>`` columns;
4. the scenario's own random elements: the scenario runs with ``seed = seed_i`` (its
   threats draw from ``rng_for(seed_i, k)``, the engine's hidden failures from seed_i).

Engines. ``detailed`` runs each trial through the cascade engine with the scenario's
settings, exactly as ``blackout run --from-sweep DIR --trial I`` re-runs it.
``fast`` runs the trials of a chunk together through the batched DC engine
(:func:`blackout.study.fastdc.engine.run_cascades`, trip above ``trip_multiple`` x rating);
it takes scenarios without threats (the random outages are the initiating events) and
its re-run is the detailed engine's simple DC mode, which gives the same tripped set
and load lost. ``derive_ratings=(k, floor_mva, override)`` rates branches as
``k * max(|base DC flow|, floor)`` from the studies' base case (the case dispatch, each
island's imbalance shared by participation: what the simple rule starts from), once per
sweep, so that the intact grid does not cascade.

Execution: trials are grouped in chunks (``chunk_size`` trials, one task each) and
submitted to a :class:`concurrent.futures.Executor` (see
:mod:`blackout.study.sweep.executors`). A task carries the sweep's small spec (the scenario
as data and the options), never a grid: each worker process compiles the scenario,
loads the case and (fast engine) factorises it once, cached by the spec's hash; on Dask
the spec is scattered to every worker once. Results go to a
:class:`~blackout.study.sweep.store.ResultStore` as each chunk completes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from blackout.errors import BlackoutError
from blackout.jsonsafe import json_safe
from blackout.scenario import Scenario, load_scenario
from blackout.study.sweep.executors import SerialExecutor, completed_in_window
from blackout.study.sweep.options import (
    SweepOptions,
    SweepSpec,
    as_stored,
    scenario_data,
    sweep_manifest,
    trial_seed,
)
from blackout.study.sweep.store import ResultStore
from blackout.study.sweep.trial import ROW_SCHEMA, run_chunk, trial_context

# the summary of a sweep and the re-run of one trial: blackout.study.sweep.results
__all__ = ["SweepOptions", "SweepResult", "ROW_SCHEMA", "run_sweep", "trial_seed"]

#: default trials per chunk (one task) by engine
CHUNK_SIZE = {"detailed": 8, "fast": 250}


# ---------------------------------------------------------------------------- sweep
@dataclass
class SweepResult:
    """A finished (or resumed) sweep: its folder, manifest and every trial's row.

    ran : trials run by this call; resumed : trials found already done; wall_s : this
    call's wall time, s; branch_names : name per branch position of the case.
    """

    path: Path
    manifest: dict[str, Any]
    frame: pd.DataFrame
    ran: int
    resumed: int
    wall_s: float
    branch_names: list[str] | None = None

    def summary(self) -> dict[str, Any]:
        """Trials ok/failed, expected demand loss (MW), risk metrics and throughput."""
        from blackout.study.sweep.results import summarize

        out = summarize(self.frame, self.manifest, branch_names=self.branch_names)
        out.update(folder=str(self.path), ran=self.ran, resumed=self.resumed,
                   wall_s=self.wall_s,
                   trials_per_s=self.ran / self.wall_s if self.wall_s > 0 else None)
        safe: dict[str, Any] = json_safe(out)
        return safe


def run_sweep(scenario: Scenario | str | Path, *, trials: int, out: str | Path,
              root_seed: int = 0, options: SweepOptions | None = None,
              executor: Executor | None = None, resume: bool = False,
              chunk_size: int | None = None,
              progress: Callable[[int, int], None] | None = None) -> SweepResult:
    """Run (or resume) a Monte Carlo sweep of ``scenario`` into the folder ``out``.

    Parameters
    ----------
    scenario : a Scenario, a scenario file or a built-in scenario name.
    trials : number of trials (>= 1).
    out : the sweep's folder (created; must be empty or, with ``resume``, hold this sweep).
    root_seed : trial i's seed comes from ``SeedSequence(root_seed).spawn(trials)[i]``.
    options : what varies per trial and the engine (:class:`SweepOptions`).
    executor : where chunks run; serial in this process when None.
    resume : continue the sweep already in ``out``, running only its missing chunks.
    chunk_size : trials per task (default: by engine; when resuming, the stored one).
    progress : called with (trials done, trials) as chunks complete.

    Raises :class:`BlackoutError` on bad input, a folder holding another sweep, or a
    chunk task that failed as a whole (what finished is kept: resume later).
    """
    t_start = time.perf_counter()
    options = options or SweepOptions()
    options.validate()
    if trials < 1:
        raise BlackoutError(f"--trials must be at least 1, got {trials}")
    if not 0 <= root_seed < 2**63:
        raise BlackoutError(f"--seed must be in [0, 2**63), got {root_seed}")
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    store = ResultStore(out)
    if chunk_size is None and resume and store.manifest_path().exists():
        chunk_size = int(store.manifest().get("chunk_size", CHUNK_SIZE[options.engine]))
    chunk_size = chunk_size or CHUNK_SIZE[options.engine]
    if chunk_size < 1:
        raise BlackoutError(f"--chunk-size must be >= 1, got {chunk_size}")
    spec = SweepSpec(scenario_data(sc), options, int(root_seed), int(trials), int(chunk_size))
    ctx = trial_context(spec)
    manifest = sweep_manifest(spec, ctx.scenario.name, ctx.scenario.case,
                              None if ctx.ratings is None else ctx.ratings["rule"])
    if resume and store.manifest_path().exists():
        manifest = as_stored(store.manifest(), manifest)
    manifest = store.create(manifest, resume=resume)
    n_chunks = -(-trials // chunk_size)
    done = store.completed() & set(range(n_chunks))
    todo = [c for c in range(n_chunks) if c not in done]
    resumed = sum(min(chunk_size, trials - c * chunk_size) for c in done)
    executor = executor or SerialExecutor()
    arg: Any = spec
    client = getattr(executor, "_client", None)
    if client is not None and todo:  # Dask: the spec goes to every worker once
        arg = client.scatter(spec, broadcast=True, hash=False)
    count = resumed
    if progress is not None:
        progress(count, trials)
    def failed(exc: Exception) -> BlackoutError:
        return BlackoutError(f"a chunk of the sweep failed as a whole ({type(exc).__name__}: "
                             f"{exc}); finished chunks are kept in {store.path}: rerun with "
                             "--resume")

    for chunk, n_rows, data in completed_in_window(executor, run_chunk,
                                                   ((arg, c) for c in todo), failed):
        store.write_chunk(chunk, data)
        count += n_rows
        if progress is not None:
            progress(count, trials)
    names = [str(n) for n in ctx.base.grid.branch["name"]]
    return SweepResult(store.path, manifest, store.load(), count - resumed, resumed,
                       time.perf_counter() - t_start, names)
