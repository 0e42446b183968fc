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
(:func:`blackout.study.batch.run_cascades`, trip above ``trip_multiple`` x rating);
it takes scenarios without threats (the random outages are the initiating events) and
its re-run is the detailed engine's simple DC mode, which gives the same tripped set
and load lost. ``derive_ratings=(k, floor_mva, override)`` rates branches as
``k * max(|base DC flow|, floor)`` from the studies' base case (the case dispatch, each
island's imbalance shared by participation: what the simple rule starts from), once per
sweep, so that the intact grid does not cascade.

Execution: trials are grouped in chunks (``chunk_size`` trials, one task each) and
submitted to a :class:`concurrent.futures.Executor` (see
:mod:`blackout.study.executors`). A task carries the sweep's small spec (the scenario
as data and the options), never a grid: each worker process compiles the scenario,
loads the case and (fast engine) factorises it once, cached by the spec's hash; on Dask
the spec is scattered to every worker once. Results go to a
:class:`~blackout.study.store.ResultStore` as each chunk completes.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from blackout.cases import builtin_cases, load_case
from blackout.errors import BlackoutError
from blackout.events import Event
from blackout.jsonsafe import json_safe
from blackout.scenario import CompiledScenario, Scenario, compile_scenario, load_scenario
from blackout.study.executors import SerialExecutor, completed_in_window
from blackout.study.store import ResultStore, encode_chunk
from blackout.study.sweep_spec import (
    SweepOptions,
    _scenario_data,
    _Spec,
    as_stored,
    chunk_meta,
    sweep_manifest,
    trial_seed,
)
from blackout.study.timelimit import TrialTimeout, time_limit

# the summary of a sweep and the re-run of one trial: blackout.study.sweep_results
__all__ = ["SweepOptions", "SweepResult", "ROW_SCHEMA", "run_sweep", "trial_seed"]

#: default trials per chunk (one task) by engine
CHUNK_SIZE = {"detailed": 8, "fast": 250}
#: one row per trial; every chunk is written with this schema
ROW_SCHEMA = pa.schema([
    ("trial", pa.int64()), ("seed", pa.int64()), ("status", pa.string()),
    ("error", pa.string()), ("load_scale", pa.float64()), ("load_lost_mw", pa.float64()),
    ("load_lost_percent", pa.float64()), ("lines_out", pa.int64()),
    ("initiating", pa.list_(pa.int64())), ("tripped", pa.list_(pa.int64())),
    ("islands", pa.int64()), ("rounds", pa.int64()), ("regions_dark", pa.int64()),
    ("time_to_collapse_s", pa.float64()), ("wall_s", pa.float64()),
])


# ---------------------------------------------------------------------------- context
@dataclass
class _Context:
    """A sweep's shared, read-only state in one process (built once, cached)."""

    spec: _Spec
    scenario: Scenario
    base: CompiledScenario  # the scenario's own seed, factor 1, ratings applied
    ratings: dict[str, Any] | None
    candidates: np.ndarray  # branches that random outages draw from
    weights: np.ndarray | None  # their probabilities (None: uniform)
    model: Any = None  # fast engine: DCModel of base.grid, built on first use

    def dc_model(self) -> Any:
        """The factorised DC model of the base grid (fast engine)."""
        if self.model is None:
            from blackout.study.dcmodel import DCModel

            self.model = DCModel.build(self.base.grid, rule=self.spec.options.participation)
        return self.model


_CONTEXTS: dict[str, _Context] = {}


def _context(spec: _Spec) -> _Context:
    """This process's context for ``spec`` (built on first use; the last two are kept)."""
    ctx = _CONTEXTS.get(spec.key)
    if ctx is None:
        ctx = _build_context(spec)
        while len(_CONTEXTS) >= 2:
            _CONTEXTS.pop(next(iter(_CONTEXTS)))
        _CONTEXTS[spec.key] = ctx
    return ctx


def _build_context(spec: _Spec) -> _Context:
    opts = spec.options
    sc = load_scenario(spec.scenario)
    if sc.case in builtin_cases():  # built once (cached), outside the limit
        load_case(sc.case)
    try:  # expanding the threats is bounded by the trial time limit too
        with time_limit(opts.trial_time_limit_s):
            base = compile_scenario(sc)
    except (TrialTimeout, MemoryError) as exc:
        if not sc.threats:
            why = "ran out of memory" if isinstance(exc, MemoryError) else (
                f"took longer than the trial time limit ({opts.trial_time_limit_s:g} s)")
            raise BlackoutError(f"scenario {sc.name!r}: compiling it {why}") from None
        # the snapshot alone gives the grid the trials draw on; each trial expands its
        # threats within its own limit and, failing, is a failed trial with its seed
        base = compile_scenario(sc.model_copy(update={"threats": []}))
    ratings = None
    if opts.derive_ratings is not None:
        from blackout.flow.ratings import derive_ratings

        k, floor, override = opts.derive_ratings  # on the case dispatch, imbalance shared
        rated = derive_ratings(base.grid, k=k, floor_mva=floor, override_given=override,
                               participation=opts.participation)
        cols = ("rate_a_mva", "rate_b_mva", "rate_c_mva", "rating_given")
        ratings = {"columns": {c: np.asarray(rated.branch[c]) for c in cols},
                   "rule": rated.notes.get("ratings")}
        base = _with_ratings(base, ratings)
    if opts.engine == "fast":
        if sc.threats:
            raise BlackoutError(f"--engine fast: scenario {sc.name!r} has threats; the fast "
                                "engine sweeps random initiating outages (--random-outages) "
                                "on the scenario's snapshot: use --engine detailed")
        if opts.random_outages == 0:
            raise BlackoutError("--engine fast needs initiating events: give "
                                "--random-outages K")
        if sc.uncertain and opts.sample_uncertain:  # (fast engine)
            raise BlackoutError(f"--engine fast: scenario {sc.name!r} has uncertain inputs, "
                                "which only the detailed engine samples: use --engine "
                                "detailed, or --central for their central values")
    if opts.load_scale is not None and opts.sample_uncertain and any(
            p.input == "demand_mw" for p in sc.uncertain.values()):
        raise BlackoutError(f"--load-scale: scenario {sc.name!r} has an uncertain demand_mw "
                            "input, which sets the demand: drop --load-scale (or use "
                            "--central)")
    grid = base.grid
    br = grid.branch
    bus_in = np.asarray(grid.bus["in_service"], dtype=bool)
    on = np.asarray(br["in_service"], dtype=bool) & bus_in[br["from_bus"]] & \
        bus_in[br["to_bus"]]
    cand = np.flatnonzero(on)
    length = np.nan_to_num(np.asarray(br["length_km"], dtype=float)[cand], nan=0.0)
    weights = None
    if np.any(length > 0):
        cand, length = cand[length > 0], length[length > 0]
        weights = length / length.sum()
    if opts.random_outages > cand.size:
        raise BlackoutError(f"--random-outages {opts.random_outages}: the grid has only "
                            f"{cand.size} branches that can be drawn")
    return _Context(spec, sc, base, ratings, cand, weights)


def _with_ratings(compiled: CompiledScenario, ratings: dict[str, Any] | None
                  ) -> CompiledScenario:
    if ratings is None:
        return compiled
    g = compiled.grid
    grid = g.replace(branch=g.branch.with_columns(**ratings["columns"]),
                     notes={**g.notes, "ratings": ratings["rule"]})
    return dataclasses.replace(compiled, grid=grid)


@dataclass(frozen=True)
class _Draw:
    trial: int
    seed: int
    load_scale: float
    outages: list[int]
    uncertain: dict[str, float] = dataclasses.field(default_factory=dict)


def _draw(ctx: _Context, trial: int, root_seed: int) -> _Draw:
    """The trial's seed, load factor and random outages (in that order from its rng)."""
    opts = ctx.spec.options
    # the root seed comes from the caller's spec: a cached context is shared by sweeps
    # that differ only in their root seed (its key leaves the seed out)
    seed = trial_seed(root_seed, trial)
    rng = np.random.default_rng(seed)
    factor = float(rng.uniform(*opts.load_scale)) if opts.load_scale is not None else 1.0
    outs: list[int] = []
    if opts.random_outages:
        outs = sorted(int(b) for b in rng.choice(ctx.candidates, size=opts.random_outages,
                                                 replace=False, p=ctx.weights))
    values: dict[str, float] = {}
    if opts.sample_uncertain and ctx.scenario.uncertain:
        from blackout.uncertainty import sample

        values = sample(ctx.scenario.uncertain, rng)
    return _Draw(trial, seed, factor, outs, values)


# ---------------------------------------------------------------------------- trials
def _simulate(grid: Any, events: list[Event], settings: Any) -> Any:
    """The cascade engine (one place, so that tests can make a trial fail)."""
    from blackout.cascade import simulate

    return simulate(grid, events, settings=settings)


def _outage_events(outages: list[int]) -> list[Event]:
    return [Event(0.0, "branch", b, "trip", cause="random outage (sweep)") for b in outages]


def _detailed_inputs(ctx: _Context, d: _Draw) -> tuple[CompiledScenario, list[Event], Any]:
    """Compiled scenario, events and engine settings of a detailed trial."""
    from blackout.scenario import engine_settings

    compiled = ctx.base
    if ctx.scenario.threats or d.load_scale != 1.0 or d.uncertain:
        from blackout.uncertainty import pin

        snap = ctx.scenario.snapshot
        snap = snap.model_copy(update={"load_scale": snap.load_scale * d.load_scale})
        sc = ctx.scenario.model_copy(update={"seed": d.seed, "snapshot": snap,
                                             "uncertain": pin(ctx.scenario.uncertain,
                                                              d.uncertain)})
        compiled = _with_ratings(compile_scenario(sc), ctx.ratings)
    events = sorted(_outage_events(d.outages) + list(compiled.events), key=lambda e: e.time_s)
    return compiled, events, engine_settings(compiled.settings, seed=d.seed)


def _simple_inputs(ctx: _Context, d: _Draw) -> tuple[Any, list[Event], Any]:
    """Grid, events and simple-DC settings that re-run a fast trial in the detailed engine."""
    from blackout.cascade import CascadeSettings

    grid = ctx.base.grid
    if d.load_scale != 1.0:
        load = grid.load
        grid = grid.replace(load=load.with_columns(p_mw=load["p_mw"] * d.load_scale,
                                                   q_mvar=load["q_mvar"] * d.load_scale))
    return grid, _outage_events(d.outages), CascadeSettings.simple_dc(
        trip_multiple=ctx.spec.options.trip_multiple).with_(
        participation=ctx.spec.options.participation)


def _timeline_row(timeline: Any, events: list[Event]) -> dict[str, Any]:
    init = sorted({e.element for e in events if e.kind == "branch" and e.action == "trip"})
    seen = set(init)
    tripped: list[int] = []
    for e in timeline.events:
        if e.kind == "branch" and e.action == "trip" and e.element not in seen:
            seen.add(e.element)
            tripped.append(int(e.element))
    s = timeline.summary()
    return {"load_lost_mw": float(s["load_lost_mw"]),
            "load_lost_percent": float(s["load_lost_percent"]),
            "lines_out": int(timeline.tripped("branch").size), "initiating": init,
            "tripped": tripped, "regions_dark": len(s["regions_dark"]),
            "time_to_collapse_s": s["time_to_collapse_s"]}


def _row(d: _Draw, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {name: None for name in ROW_SCHEMA.names}
    row.update(trial=d.trial, seed=d.seed, load_scale=d.load_scale, status="ok",
               initiating=list(d.outages), tripped=[])
    row.update({f"input_{k}": v for k, v in d.uncertain.items()})
    row.update(values)
    return row


def row_schema(ctx: _Context) -> pa.Schema:
    """:data:`ROW_SCHEMA`, the branch names of ``initiating`` and ``tripped``
    (``initiating_names``, ``tripped_names``) and one ``input_<name>`` column per sampled
    uncertain input: the columns of every chunk written."""
    extra = [pa.field("initiating_names", pa.list_(pa.string())),
             pa.field("tripped_names", pa.list_(pa.string()))]
    if ctx.spec.options.sample_uncertain:
        extra += [pa.field(f"input_{n}", pa.float64()) for n in ctx.scenario.uncertain]
    if ctx.spec.options.restore:
        extra += [pa.field("restored_90_h", pa.float64()),
                  pa.field("energy_not_served_mwh", pa.float64())]
    return pa.schema(list(ROW_SCHEMA) + extra)


def _with_names(ctx: _Context, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with the branch names of their initiating and tripped positions."""
    names = ctx.base.grid.branch["name"]
    for r in rows:
        for col in ("initiating", "tripped"):
            r[f"{col}_names"] = [str(names[b]) for b in (r.get(col) or [])]
    return rows


def _error_row(d: _Draw, exc: BaseException, wall_s: float) -> dict[str, Any]:
    msg = str(exc) or type(exc).__name__
    return _row(d, status="error", error=f"{type(exc).__name__}: {msg}"[:2000],
                wall_s=wall_s)


def _detailed_trial(ctx: _Context, d: _Draw) -> dict[str, Any]:
    t0 = time.perf_counter()
    try:
        with time_limit(ctx.spec.options.trial_time_limit_s):  # compiling counts too
            compiled, events, settings = _detailed_inputs(ctx, d)
            timeline = _simulate(compiled.grid, events, settings)
            extra = _restoration_row(compiled, timeline) if ctx.spec.options.restore else {}
        return _row(d, **_timeline_row(timeline, events), **extra,
                    wall_s=time.perf_counter() - t0)
    except Exception as exc:  # noqa: BLE001 - a failed trial is a row, the sweep goes on
        return _error_row(d, exc, time.perf_counter() - t0)


def _restoration_row(compiled: CompiledScenario, timeline: Any) -> dict[str, Any]:
    """The trial's restoration (``restore=True``): hours until 90 % of demand is served
    for good (NaN: not within the horizon; 0: nothing was lost) and energy not served."""
    from blackout.restore import impact

    res = impact(compiled.grid, timeline, compiled)
    h90 = res.curve.time_to_national_h(90)
    return {"restored_90_h": float("nan") if h90 is None else float(h90),
            "energy_not_served_mwh": float(res.curve.energy_not_served_mwh())}


def _fast_rows(ctx: _Context, draws: list[_Draw]) -> list[dict[str, Any]]:
    """Run the draws through the batched DC engine: together when they share a load level,
    one by one otherwise (or when the batch fails, to isolate the failing trial)."""
    from blackout.study.batch import run_cascades

    mult = ctx.spec.options.trip_multiple
    base = ctx.dc_model()

    def rows_of(model: Any, group: list[_Draw]) -> list[dict[str, Any]]:
        t0 = time.perf_counter()
        res = run_cascades(model, [d.outages for d in group], trip_multiple=mult)
        wall = (time.perf_counter() - t0) / len(group)
        demand = float(model.load_bus_mw.sum())
        out = []
        for j, d in enumerate(group):
            lost = max(float(res.load_lost_mw[j]), 0.0)
            out.append(_row(d, load_lost_mw=lost,
                            load_lost_percent=100.0 * lost / demand if demand > 0 else 0.0,
                            lines_out=int(res.initiating[j].size + res.tripped[j].size),
                            initiating=res.initiating[j].tolist(),
                            tripped=res.tripped[j].tolist(), islands=int(res.islands[j]),
                            rounds=int(res.rounds[j]), wall_s=wall))
        return out

    if ctx.spec.options.load_scale is None:
        try:
            return rows_of(base, draws)
        except Exception:  # noqa: BLE001 - retry one by one to find the failing trial
            pass
    rows = []
    for d in draws:
        t0 = time.perf_counter()
        try:
            model = base if d.load_scale == 1.0 else base.with_load_scale(d.load_scale)
            rows.extend(rows_of(model, [d]))
        except Exception as exc:  # noqa: BLE001
            rows.append(_error_row(d, exc, time.perf_counter() - t0))
    return rows


def run_chunk(spec: _Spec, chunk: int) -> tuple[int, int, bytes]:
    """Run every trial of chunk ``chunk`` (module level: picklable); returns (chunk, rows,
    the chunk's Parquet bytes), encoded in the worker so the process that writes the
    results only writes bytes (fast-engine rows carry every tripped branch)."""
    ctx = _context(spec)
    lo = chunk * spec.chunk_size
    draws = [_draw(ctx, i, spec.root_seed)
             for i in range(lo, min(lo + spec.chunk_size, spec.trials))]
    if spec.options.engine == "fast":
        rows = _fast_rows(ctx, draws)
    else:
        rows = [_detailed_trial(ctx, d) for d in draws]
    data = encode_chunk(_with_names(ctx, rows), schema=row_schema(ctx),
                        metadata=chunk_meta(spec, ctx.scenario.name,
                                                ctx.scenario.case))
    return chunk, len(rows), data


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
        from blackout.study.sweep_results import summarize

        out = summarize(self.frame, self.manifest, branch_names=self.branch_names)
        out.update(folder=str(self.path), ran=self.ran, resumed=self.resumed,
                   wall_s=self.wall_s,
                   trials_per_s=self.ran / self.wall_s if self.wall_s > 0 else None)
        return json_safe(out)


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
    spec = _Spec(_scenario_data(sc), options, int(root_seed), int(trials), int(chunk_size))
    ctx = _context(spec)
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
