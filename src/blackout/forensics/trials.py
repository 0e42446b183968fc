"""Run the trials of every hypothesis: seeded draws, chunks on an Executor, a resumable store.

Trial ``k`` of hypothesis ``h`` (of ``H``) draws its parameters and its scenario seed
from ``numpy.random.SeedSequence(seed).spawn(H)[h].spawn(trials)[k]``: the result does
not depend on the executor, the chunking or the order in which trials finish.

Trials run in chunks of ``chunk_size`` (one task each) on any
:class:`concurrent.futures.Executor`. A task carries the small spec (hypotheses,
observables, engine options) and its trials' draws, never a grid; each worker
process keeps what does not depend on a trial's parameters (each hypothesis's
scenario template; the case itself is cached by :func:`blackout.load_case`).

A trial that raises is recorded (:class:`TrialFailure`: hypothesis, trial, seed,
parameters, error) and left out of the likelihood; the inference goes on. With a
``store`` folder, every finished chunk is written at once to a
:class:`~blackout.study.sweep.store.ResultStore` (the sweep store: Parquet chunks and a
manifest, atomic renames), so a run that is killed resumes (``resume=True``) by
running only the chunks that are missing.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from blackout.errors import BlackoutError, ScenarioError
from blackout.forensics.evidence import Evidence, EvidenceError, Observable, needs_restoration
from blackout.forensics.hypotheses import EngineOptions, Hypothesis, HypothesisSet
from blackout.forensics.inference import TrialFailure, TrialSet
from blackout.forensics.observables import measure_all
from blackout.grid.model import Grid
from blackout.limits import TrialTimeout, time_limit

__all__ = ["CHUNK_SIZE", "FORMAT", "ROW_SCHEMA", "TrialDraw", "TrialSpec", "check_draws",
           "draw_trials", "run_chunk", "run_trial", "simulate_trials"]

FORMAT = "blackout-explain/1"
#: trials per task (and per stored chunk): small, so that a killed run loses little
CHUNK_SIZE = 4
#: one row per trial; every chunk is written with this schema
ROW_SCHEMA = pa.schema([
    ("trial", pa.int64()), ("hypothesis", pa.string()), ("k", pa.int64()),
    ("seed", pa.int64()), ("status", pa.string()), ("error", pa.string()),
    ("parameters", pa.string()), ("values", pa.list_(pa.float64())),
    ("wall_s", pa.float64()),
])


@dataclass(frozen=True)
class TrialDraw:
    """One trial: global index (``h * trials + k``), hypothesis h, its k, the scenario
    seed and the drawn parameter values."""

    index: int
    h: int
    k: int
    seed: int
    values: dict[str, Any]


@dataclass(frozen=True)
class TrialSpec:
    """What every trial of a run shares (small: it travels with each task)."""

    hypotheses: tuple[Hypothesis, ...]
    engine: EngineOptions
    observables: tuple[Observable, ...]

    @property
    def key(self) -> str:
        """A hash of the spec: a worker's cache key."""
        data = json.dumps([[h.model_dump(mode="json") for h in self.hypotheses],
                           self.engine.model_dump(mode="json"),
                           [o.model_dump(mode="json") for o in self.observables]],
                          sort_keys=True, default=str)
        return hashlib.sha256(data.encode()).hexdigest()


def draw_trials(hypotheses: Sequence[Hypothesis], trials: int, seed: int) -> list[TrialDraw]:
    """Every trial's parameters and scenario seed, hypothesis by hypothesis (see module)."""
    roots = np.random.SeedSequence(seed).spawn(len(hypotheses))
    out = []
    for h, (hyp, root) in enumerate(zip(hypotheses, roots, strict=True)):
        for k, child in enumerate(root.spawn(trials)):
            rng = np.random.default_rng(child)
            drawn = hyp.sample(rng)
            out.append(TrialDraw(h * trials + k, h, k, int(rng.integers(0, 2**32 - 1)),
                                 drawn))
    return out


# ------------------------------------------------------------------------ in a worker
#: per process: spec key -> scenario template of each hypothesis (the last two kept)
_TEMPLATES: dict[str, list[dict[str, Any]]] = {}


def _templates(spec: TrialSpec) -> list[dict[str, Any]]:
    key = spec.key
    found = _TEMPLATES.get(key)
    if found is None:
        found = [h.template() for h in spec.hypotheses]
        while len(_TEMPLATES) >= 2:
            _TEMPLATES.pop(next(iter(_TEMPLATES)))
        _TEMPLATES[key] = found
    return found


#: per process: the grids trials ran on, newest first. Each trial compiles its scenario into
#: a new Grid object, the same in content for every trial of a hypothesis; running on the
#: first such object keeps the per-grid caches (topology matrices and factorisations,
#: flow/network.py) from one trial to the next. Grids are immutable: results are the same.
_GRIDS: list[Grid] = []


def _interned(grid: Grid) -> Grid:
    """The grid of an earlier trial equal to ``grid`` in every table and note, else ``grid``."""
    for known in _GRIDS:
        if known is grid or (known.equals(grid) and dict(known.notes) == dict(grid.notes)):
            return known
    _GRIDS.insert(0, grid)
    del _GRIDS[4:]
    return grid


def _simulate(grid: Any, events: Any, settings: Any) -> Any:
    """The cascade engine (one place, so that a test can make a trial raise)."""
    from blackout.cascade import simulate

    return simulate(grid, events, settings=settings)


def run_trial(spec: TrialSpec, draw: TrialDraw, template: dict[str, Any] | None = None
              ) -> np.ndarray:
    """Instantiate, compile, simulate (and restore, if an observable needs it), measure.

    Returns every observable's value. Raises :class:`EvidenceError` when the drawn
    parameters make an invalid scenario (a fault of the hypothesis file), and whatever
    the engine raises (the caller records it as a failed trial).
    """
    from blackout.scenario import compile_scenario, engine_settings, load_scenario

    hyp = spec.hypotheses[draw.h]
    data = hyp.instantiate(draw.values, seed=draw.seed, template=template)
    try:
        compiled = compile_scenario(load_scenario(data))
    except ScenarioError as exc:
        raise EvidenceError(f"hypothesis {hyp.name!r}: parameters {draw.values} give an "
                            f"invalid scenario: {exc}") from None
    settings = engine_settings(compiled.settings)
    changes: dict[str, Any] = {"mode": spec.engine.mode}
    if spec.engine.simple:
        changes["simple"] = True
    if spec.engine.horizon_s is not None:
        changes["horizon_s"] = min(settings.horizon_s, spec.engine.horizon_s)
    grid = _interned(compiled.grid)
    with time_limit(spec.engine.trial_time_limit_s):
        timeline = _simulate(grid, compiled.events, settings.with_(**changes))
        restoration = None
        if needs_restoration(spec.observables):
            from blackout.restore import restore

            restoration = restore(grid, timeline, scenario=compiled.restoration,
                                  spec=compiled.scenario.restoration)
    return measure_all(timeline, spec.observables, restoration)


def _error_text(exc: BaseException, spec: TrialSpec) -> str:
    if isinstance(exc, TrialTimeout):
        return f"TrialTimeout: over the {spec.engine.trial_time_limit_s:g} s trial time limit"
    return f"{type(exc).__name__}: {str(exc) or type(exc).__name__}"[:2000]


def _row(spec: TrialSpec, draw: TrialDraw, template: dict[str, Any]) -> dict[str, Any]:
    t0 = time.perf_counter()
    row: dict[str, Any] = {
        "trial": draw.index, "hypothesis": spec.hypotheses[draw.h].name, "k": draw.k,
        "seed": draw.seed, "status": "ok", "error": None,
        "parameters": json.dumps(draw.values, sort_keys=True, default=str), "values": None}
    try:
        row["values"] = [float(v) for v in run_trial(spec, draw, template)]
    except EvidenceError:
        raise
    except Exception as exc:  # noqa: BLE001 - a failed trial is a row; the run goes on
        row.update(status="error", error=_error_text(exc, spec))
    row["wall_s"] = time.perf_counter() - t0
    return row


def run_chunk(spec: TrialSpec, chunk: int, draws: Sequence[TrialDraw]
              ) -> tuple[int, list[dict[str, Any]]]:
    """Run the trials of one chunk (module level: picklable); returns (chunk, rows)."""
    templates = _templates(spec)
    return chunk, [_row(spec, d, templates[d.h]) for d in draws]


# ------------------------------------------------------------------------ the run
def check_draws(spec: TrialSpec, draws: Sequence[TrialDraw]) -> None:
    """Refuse, before anything runs, a hypothesis file whose draws make invalid scenarios.

    Every draw's scenario is validated (~0.2 ms each) and the first draw of each
    hypothesis compiled (element names, threats), so that a bad prior or path is an input
    error at once, not an abort hours into a run. Raises :class:`EvidenceError`.
    """
    from blackout.scenario import compile_scenario, load_scenario

    templates = [h.template() for h in spec.hypotheses]
    compiled: set[int] = set()
    for d in draws:
        hyp = spec.hypotheses[d.h]
        try:
            sc = load_scenario(hyp.instantiate(d.values, seed=d.seed, template=templates[d.h]))
            if d.h not in compiled:
                compile_scenario(sc)
                compiled.add(d.h)
        except ScenarioError as exc:
            raise EvidenceError(f"hypothesis {hyp.name!r}, trial {d.k}: parameters {d.values} "
                                f"give an invalid scenario: {exc}") from None


def _manifest(spec: TrialSpec, evidence: Evidence, hypotheses: HypothesisSet, trials: int,
              seed: int, chunk_size: int) -> dict[str, Any]:
    from datetime import datetime, timezone
    from importlib.metadata import PackageNotFoundError, version

    versions: dict[str, str] = {}
    for pkg in ("blackout-sim", "numpy", "scipy"):
        try:
            versions[pkg] = version(pkg)
        except PackageNotFoundError:
            continue
    return {"format": FORMAT, "evidence": evidence.name, "hypothesis_set": hypotheses.name,
            "hypotheses": [h.model_dump(mode="json") for h in spec.hypotheses],
            "engine": spec.engine.model_dump(mode="json"),
            "observables": [o.model_dump(mode="json") for o in spec.observables],
            "trials": trials, "root_seed": seed, "chunk_size": chunk_size,
            "chunks": -(-trials * len(spec.hypotheses) // chunk_size),
            "seeding": "trial k of hypothesis h: numpy SeedSequence(root_seed).spawn(H)[h]"
                       ".spawn(trials)[k]",
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "versions": versions}


def _stored_rows(store: Any) -> list[dict[str, Any]]:
    frame = store.load()
    if frame.empty:
        return []
    rows = []
    for rec in frame.to_dict("records"):
        values = rec.get("values")
        rec["values"] = None if values is None else [float(v) for v in values]
        rows.append(rec)
    return rows


def simulate_trials(evidence: Evidence, hypotheses: HypothesisSet, *, trials: int,
                    seed: int = 0, executor: Executor | None = None,
                    progress: Callable[[int, int], None] | None = None,
                    store: str | Path | None = None, resume: bool = False,
                    chunk_size: int | None = None) -> TrialSet:
    """Simulate every hypothesis ``trials`` times over its priors and measure the evidence.

    Parameters
    ----------
    evidence : observations (and candidate observables) to measure.
    hypotheses : the competing hypotheses and engine options.
    trials : simulations per hypothesis (>= 2).
    seed : root seed (see the module docstring).
    executor : where chunks run (``ProcessPoolExecutor``, a Dask ``Client``'s executor...);
        serial in this process when None.
    progress : called with (trials done, trials in all) as chunks complete (stored trials
        found when resuming count as done).
    store : a folder that keeps every finished chunk (created; must be empty or, with
        ``resume``, hold this same run).
    resume : continue the run stored in ``store``: only missing chunks are run.
    chunk_size : trials per task (default :data:`CHUNK_SIZE`; when resuming, the stored one).

    Raises
    ------
    EvidenceError : fewer than 2 trials, or a hypothesis's parameters make an invalid
        scenario (checked for every draw before anything runs: :func:`check_draws`).
    BlackoutError : a store folder holding something else, or a task that failed as a
        whole (finished chunks are kept: resume later).
    """
    from blackout.study.sweep.executors import SerialExecutor, completed_in_window
    from blackout.study.sweep.store import ResultStore

    t_start = time.perf_counter()
    if trials < 2:
        raise EvidenceError(f"--trials must be at least 2, got {trials}")
    if resume and store is None:
        raise EvidenceError("--resume needs the folder of the run to continue (--out DIR)")
    observables = tuple(o.observable for o in evidence.observations) + \
        tuple(c.observable for c in evidence.candidates)
    spec = TrialSpec(tuple(hypotheses.hypotheses), hypotheses.engine, observables)
    draws = draw_trials(spec.hypotheses, trials, seed)
    check_draws(spec, draws)
    results: dict[int, dict[str, Any]] = {}
    rs = None
    if store is not None:
        rs = ResultStore(store)
        if chunk_size is None and resume and rs.manifest_path().exists():
            chunk_size = int(rs.manifest().get("chunk_size", CHUNK_SIZE))
    chunk_size = chunk_size or CHUNK_SIZE
    if chunk_size < 1:
        raise EvidenceError(f"chunk size must be >= 1, got {chunk_size}")
    n_chunks = -(-len(draws) // chunk_size)
    done: set[int] = set()
    if rs is not None:
        rs.create(_manifest(spec, evidence, hypotheses, trials, seed, chunk_size),
                  resume=resume)
        done = rs.completed() & set(range(n_chunks))
        for row in _stored_rows(rs):
            if int(row["trial"]) // chunk_size in done:
                results[int(row["trial"])] = row
    resumed = len(results)
    # hypotheses take turns (their trials cost differently): the rate and the ETA are
    # representative from the start, and an interrupted run holds some of each
    todo = sorted((c for c in range(n_chunks) if c not in done),
                  key=lambda c: ((c * chunk_size) % trials, c))
    executor = executor or SerialExecutor()
    count = resumed
    if progress is not None:
        progress(count, len(draws))
    def failed(exc: Exception) -> BlackoutError:
        kept = (f"; finished chunks are kept in {rs.path}: rerun with --resume"
                if rs is not None else "")
        return BlackoutError(f"a task of the inference failed as a whole "
                             f"({type(exc).__name__}: {exc}){kept}")

    tasks = ((spec, c, draws[c * chunk_size:(c + 1) * chunk_size]) for c in todo)
    for chunk, rows in completed_in_window(executor, run_chunk, tasks, failed):
        if rs is not None:
            rs.write_chunk(chunk, rows, schema=ROW_SCHEMA,
                           metadata={"evidence": evidence.name, "seed": seed})
        for row in rows:
            results[int(row["trial"])] = row
        count += len(rows)
        if progress is not None:
            progress(count, len(draws))
    return _trial_set(evidence, hypotheses, spec, draws, results, trials, seed,
                      ran=count - resumed, resumed=resumed,
                      wall_s=time.perf_counter() - t_start)


def _trial_set(evidence: Evidence, hypotheses: HypothesisSet, spec: TrialSpec,
               draws: list[TrialDraw], results: dict[int, dict[str, Any]], trials: int,
               seed: int, *, ran: int, resumed: int, wall_s: float) -> TrialSet:
    n_obs, width = len(evidence.observations), len(spec.observables)
    values, cand, params, failed = [], [], [], []
    failures: list[TrialFailure] = []
    for h, hyp in enumerate(spec.hypotheses):
        ok_rows, ok_params = [], []
        for d in draws[h * trials:(h + 1) * trials]:
            row = results[d.index]
            if row["status"] == "ok":
                ok_rows.append(row["values"])
                ok_params.append(d.values)
            else:
                failures.append(TrialFailure(hyp.name, d.k, d.seed, d.values,
                                             str(row["error"]),
                                             _finite(row.get("wall_s"))))
        mat = np.array(ok_rows, dtype=float).reshape(len(ok_rows), width)
        values.append(mat[:, :n_obs])
        cand.append(mat[:, n_obs:])
        params.append(ok_params)
        failed.append(trials - len(ok_rows))
    first = f"{failures[0].hypothesis}: {failures[0].error}" if failures else None
    return TrialSet(list(hypotheses.hypotheses), list(evidence.observations),
                    list(evidence.candidates), values, cand, params, failed, trials, seed,
                    first, hypotheses.engine.model_dump(), failures=failures, ran=ran,
                    resumed=resumed, wall_s=wall_s)


def _finite(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None
