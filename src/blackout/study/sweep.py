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
3. the scenario's own random elements: the scenario runs with ``seed = seed_i`` (its
   threats draw from ``rng_for(seed_i, k)``, the engine's hidden failures from seed_i).

Engines. ``detailed`` runs each trial through the cascade engine with the scenario's
settings, exactly as ``blackout run --from-sweep DIR --trial I`` re-runs it.
``fast`` runs the trials of a chunk together through the batched DC engine
(:func:`blackout.study.batch.run_cascades`, trip above ``trip_multiple`` x rating);
it takes scenarios without threats (the random outages are the initiating events) and
its re-run is the detailed engine's simple DC mode, which gives the same tripped set
and load lost. ``derive_ratings=(k, floor_mva, override)`` rates branches as
``k * max(|base DC flow|, floor)`` from the balanced base case (the dispatch the
simple rule starts from), once per sweep, so that the intact grid does not cascade.

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
import hashlib
import json
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from blackout.errors import BlackoutError
from blackout.events import Event
from blackout.scenario import CompiledScenario, Scenario, compile_scenario, load_scenario
from blackout.study.executors import SerialExecutor, executor_workers
from blackout.study.store import ResultStore

__all__ = ["SweepOptions", "SweepResult", "TrialRun", "ROW_SCHEMA", "run_sweep", "rerun_trial",
           "summarize", "trial_seed"]

ENGINES = ("detailed", "fast")
FORMAT = "blackout-sweep/1"
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


# ---------------------------------------------------------------------------- spec
@dataclass(frozen=True)
class SweepOptions:
    """What a sweep varies and how its trials run.

    engine : "detailed" (the cascade engine, scenario settings) or "fast" (batched DC).
    load_scale : (lo, hi): all loads x U(lo, hi) per trial; None: the scenario's level.
    random_outages : K random initiating branch outages per trial at t = 0 (by length).
    trip_multiple : fast engine (and its simple-DC re-run): trip when |P| > this x rate_a.
    derive_ratings : (k, floor_mva, override_given): rate branches from the balanced base
        DC flows, ``k * max(|flow|, floor_mva)``; None keeps the scenario's ratings.
    trial_time_limit_s : detailed engine: a trial running longer is recorded as an error
        (enforced where the trial runs in a process's main thread; None: no limit).
    """

    engine: str = "detailed"
    load_scale: tuple[float, float] | None = None
    random_outages: int = 0
    trip_multiple: float = 1.0
    derive_ratings: tuple[float, float, bool] | None = None
    trial_time_limit_s: float | None = None

    def validate(self) -> None:
        """Raise :class:`BlackoutError` on an option out of its range."""
        if self.engine not in ENGINES:
            raise BlackoutError(f"--engine: expected one of {', '.join(ENGINES)}, "
                                f"got {self.engine!r}")
        if self.load_scale is not None:
            lo, hi = self.load_scale
            if not (0 < lo <= hi < np.inf):
                raise BlackoutError(f"--load-scale LO,HI needs 0 < LO <= HI, got {lo},{hi}")
        if self.random_outages < 0:
            raise BlackoutError(f"--random-outages must be >= 0, got {self.random_outages}")
        if not self.trip_multiple > 0:
            raise BlackoutError(f"--trip-multiple must be > 0, got {self.trip_multiple}")
        if self.derive_ratings is not None:
            k, floor, _ = self.derive_ratings
            if not (k > 0 and floor >= 0):
                raise BlackoutError("--derive-ratings: K must be > 0 and FLOOR_MVA >= 0")
        if self.trial_time_limit_s is not None and not self.trial_time_limit_s > 0:
            raise BlackoutError("--trial-time-limit must be > 0 s")

    def to_dict(self) -> dict[str, Any]:
        """The options as JSON-ready data (as stored in the manifest)."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SweepOptions:
        """Options from :meth:`to_dict`'s data."""
        d = dict(data)
        for key in ("load_scale", "derive_ratings"):
            if d.get(key) is not None:
                d[key] = tuple(d[key])
        return cls(**d)


@dataclass(frozen=True)
class _Spec:
    """Everything a worker needs to run any trial of a sweep (small, picklable)."""

    scenario: dict[str, Any]
    options: SweepOptions
    root_seed: int
    trials: int
    chunk_size: int

    @property
    def key(self) -> str:
        """Hash of what a worker's context depends on."""
        blob = json.dumps([self.scenario, self.options.to_dict()], sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def trial_seed(root_seed: int, trial: int) -> int:
    """The 32-bit seed of ``trial``: ``SeedSequence(root_seed).spawn(N)[trial]``'s first word."""
    child = np.random.SeedSequence(root_seed, spawn_key=(trial,))
    return int(child.generate_state(1, np.uint32)[0])


def _scenario_data(sc: Scenario) -> dict[str, Any]:
    """The scenario as data, its case resolved to an absolute path when it is a file."""
    data = sc.model_dump(mode="json")
    base = sc._base_dir
    case = Path(sc.case)
    if base is not None and case.suffix and not case.is_absolute() and (base / case).exists():
        data["case"] = str((base / case).resolve())
    return data


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

            self.model = DCModel.build(self.base.grid)
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
    base = compile_scenario(sc)
    ratings = None
    if opts.derive_ratings is not None:
        from blackout.grid.ratings import derive_ratings
        from blackout.study.dcmodel import balanced_grid

        k, floor, override = opts.derive_ratings
        rated = derive_ratings(balanced_grid(base.grid), k=k, floor_mva=floor,
                               override_given=override)
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
    return _Draw(trial, seed, factor, outs)


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
    if ctx.scenario.threats or d.load_scale != 1.0:
        snap = ctx.scenario.snapshot
        snap = snap.model_copy(update={"load_scale": snap.load_scale * d.load_scale})
        sc = ctx.scenario.model_copy(update={"seed": d.seed, "snapshot": snap})
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
        trip_multiple=ctx.spec.options.trip_multiple)


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
    row.update(values)
    return row


def _error_row(d: _Draw, exc: BaseException, wall_s: float) -> dict[str, Any]:
    msg = str(exc) or type(exc).__name__
    return _row(d, status="error", error=f"{type(exc).__name__}: {msg}"[:2000],
                wall_s=wall_s)


def _detailed_trial(ctx: _Context, d: _Draw) -> dict[str, Any]:
    t0 = time.perf_counter()
    try:
        compiled, events, settings = _detailed_inputs(ctx, d)
        with _time_limit(ctx.spec.options.trial_time_limit_s):
            timeline = _simulate(compiled.grid, events, settings)
        return _row(d, **_timeline_row(timeline, events), wall_s=time.perf_counter() - t0)
    except Exception as exc:  # noqa: BLE001 - a failed trial is a row, the sweep goes on
        return _error_row(d, exc, time.perf_counter() - t0)


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
            model = base if d.load_scale == 1.0 else _scaled_model(base, d.load_scale)
            rows.extend(rows_of(model, [d]))
        except Exception as exc:  # noqa: BLE001
            rows.append(_error_row(d, exc, time.perf_counter() - t0))
    return rows


def _scaled_model(model: Any, factor: float) -> Any:
    """``model`` with every load x ``factor``: same factorisation and sensitivities, the
    base state re-balanced (one solve)."""
    m = dataclasses.replace(model, load_bus_mw=model.load_bus_mw * factor)
    if m._cache_slot is not None:  # lazily cached H columns: own copies
        m._cache_slot, m._cache_rows = m._cache_slot.copy(), m._cache_rows.copy()
    labels = m.island_labels(np.zeros(m.n_branch, dtype=bool))
    m.gen_p0_mw, m.load0_bus_mw, m.p0_pu = m.balance(labels)
    m.f0_pu = m.base_flows(m.p0_pu[:, None])[:, 0]
    return m


def run_chunk(spec: _Spec, chunk: int) -> tuple[int, list[dict[str, Any]]]:
    """Run every trial of chunk ``chunk`` (module level: picklable); returns its rows."""
    ctx = _context(spec)
    lo = chunk * spec.chunk_size
    draws = [_draw(ctx, i, spec.root_seed)
             for i in range(lo, min(lo + spec.chunk_size, spec.trials))]
    if spec.options.engine == "fast":
        return chunk, _fast_rows(ctx, draws)
    return chunk, [_detailed_trial(ctx, d) for d in draws]


class _TrialTimeout(Exception):
    """A trial ran past its wall-clock limit."""

    def __str__(self) -> str:
        return "over the trial time limit"


@contextmanager
def _time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`_TrialTimeout` after ``seconds`` (main thread on Unix; else no limit)."""
    if seconds is None or not hasattr(signal, "setitimer") or \
            threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum: int, frame: Any) -> None:
        raise _TrialTimeout

    old = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, float(seconds))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0.0)
        signal.signal(signal.SIGALRM, old)


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
        out = summarize(self.frame, self.manifest, branch_names=self.branch_names)
        out.update(folder=str(self.path), ran=self.ran, resumed=self.resumed,
                   wall_s=self.wall_s,
                   trials_per_s=self.ran / self.wall_s if self.wall_s > 0 else None)
        return _finite(out)


def _manifest(spec: _Spec, ctx: _Context) -> dict[str, Any]:
    from datetime import datetime, timezone
    from importlib.metadata import PackageNotFoundError, version

    versions: dict[str, str] = {}
    for pkg in ("blackout-sim", "numpy", "scipy", "pandapower", "pyarrow"):
        try:
            versions[pkg] = version(pkg)
        except PackageNotFoundError:
            continue
    return {"format": FORMAT, "scenario": ctx.scenario.name, "case": ctx.scenario.case,
            "scenario_spec": spec.scenario, "trials": spec.trials,
            "root_seed": spec.root_seed, "engine": spec.options.engine,
            "options": spec.options.to_dict(), "chunk_size": spec.chunk_size,
            "chunks": -(-spec.trials // spec.chunk_size),
            "ratings": None if ctx.ratings is None else ctx.ratings["rule"],
            "seeding": "trial i: numpy SeedSequence(root_seed).spawn(trials)[i]"
                       ".generate_state(1, uint32)[0]",
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "versions": versions}


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
    if chunk_size is None and resume and (store.path / "manifest.json").exists():
        chunk_size = int(store.manifest().get("chunk_size", CHUNK_SIZE[options.engine]))
    chunk_size = chunk_size or CHUNK_SIZE[options.engine]
    if chunk_size < 1:
        raise BlackoutError(f"--chunk-size must be >= 1, got {chunk_size}")
    spec = _Spec(_scenario_data(sc), options, int(root_seed), int(trials), int(chunk_size))
    ctx = _context(spec)
    manifest = store.create(_manifest(spec, ctx), resume=resume)
    n_chunks = -(-trials // chunk_size)
    done = store.completed() & set(range(n_chunks))
    todo = [c for c in range(n_chunks) if c not in done]
    resumed = sum(min(chunk_size, trials - c * chunk_size) for c in done)
    meta = {"case": manifest["case"], "scenario": manifest["scenario"],
            "trials_requested": trials, "seed": root_seed, "engine": options.engine}
    executor = executor or SerialExecutor()
    arg: Any = spec
    client = getattr(executor, "_client", None)
    if client is not None and todo:  # Dask: the spec goes to every worker once
        arg = client.scatter(spec, broadcast=True, hash=False)
    count = resumed
    if progress is not None:
        progress(count, trials)
    window = 1 if isinstance(executor, SerialExecutor) else 2 * executor_workers(executor) + 1
    pending: set[Future[tuple[int, list[dict[str, Any]]]]] = set()
    queue = iter(todo)
    try:
        while True:
            for c in queue:
                pending.add(executor.submit(run_chunk, arg, c))
                if len(pending) >= window:
                    break
            if not pending:
                break
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                try:
                    chunk, rows = fut.result()
                except BlackoutError:
                    raise
                except Exception as exc:
                    raise BlackoutError(f"a chunk of the sweep failed as a whole "
                                        f"({type(exc).__name__}: {exc}); finished chunks are "
                                        f"kept in {store.path}: rerun with --resume") from None
                store.write_chunk(chunk, rows, schema=ROW_SCHEMA, metadata=meta)
                count += len(rows)
                if progress is not None:
                    progress(count, trials)
    finally:
        for fut in pending:
            fut.cancel()
    names = [str(n) for n in ctx.base.grid.branch["name"]]
    return SweepResult(store.path, manifest, store.load(), count - resumed, resumed,
                       time.perf_counter() - t_start, names)


# ---------------------------------------------------------------------------- summary
def summarize(frame: pd.DataFrame, manifest: dict[str, Any], *,
              branch_names: list[str] | None = None) -> dict[str, Any]:
    """A sweep's summary: trials ok/failed, expected demand loss (MW), loss quantiles and,
    from :mod:`blackout.study.risk`, the four IEEE PES metrics and the power-law tail fit."""
    ok = frame[frame["status"] == "ok"] if len(frame) else frame
    failed = frame[frame["status"] != "ok"] if len(frame) else frame
    out: dict[str, Any] = {
        "scenario": manifest.get("scenario"), "case": manifest.get("case"),
        "engine": manifest.get("engine"), "root_seed": manifest.get("root_seed"),
        "trials": manifest.get("trials"), "trials_done": int(len(frame)),
        "trials_ok": int(len(ok)), "trials_failed": int(len(failed)),
        "first_error": None, "expected_demand_loss_mw": None, "load_lost_mw": None,
        "lines_out_mean": None,
    }
    if len(failed):
        r = failed.iloc[0]
        out["first_error"] = {"trial": int(r["trial"]), "seed": int(r["seed"]),
                              "error": str(r["error"])}
    if not len(ok):
        return out
    loss = ok["load_lost_mw"].to_numpy(dtype=float)
    lines = ok["lines_out"].to_numpy(dtype=np.int64)
    out["expected_demand_loss_mw"] = float(loss.mean())
    out["load_lost_mw"] = {"mean": float(loss.mean()), "max": float(loss.max()),
                           "p50": float(np.quantile(loss, 0.5)),
                           "p95": float(np.quantile(loss, 0.95)),
                           "p99": float(np.quantile(loss, 0.99)),
                           "p_loss": float(np.mean(loss > 0))}
    out["lines_out_mean"] = float(lines.mean())
    try:
        from blackout.study.risk import risk_metrics
    except ImportError:  # the risk module is optional here: its keys are left out
        return out
    try:
        risk = risk_metrics(loss, lines,
                            initiating=[list(map(int, a)) for a in ok["initiating"]],
                            tripped=[list(map(int, a)) for a in ok["tripped"]],
                            branch_names=branch_names)
    except BlackoutError as exc:
        out["risk_error"] = str(exc)
        return out
    out["risk"] = risk
    out["power_law"] = risk.get("demand_loss_distribution", {}).get("power_law")
    return out


def _finite(value: Any) -> Any:
    """``value`` with numpy scalars as Python numbers and non-finite floats as None."""
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_finite(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


# ---------------------------------------------------------------------------- re-run
@dataclass
class TrialRun:
    """One trial of a sweep re-run alone in the detailed engine.

    engine : the sweep's engine ("fast" trials re-run in the simple DC mode);
    recorded : the trial's stored row (None if its chunk is not written yet);
    row : the same fields measured on this re-run; matches : whether the re-run gives
    the recorded tripped set and load lost (within 1e-6 MW).
    """

    trial: int
    seed: int
    engine: str
    timeline: Any
    compiled: CompiledScenario
    recorded: dict[str, Any] | None
    row: dict[str, Any]

    @property
    def matches(self) -> bool | None:
        """Whether the re-run reproduces the recorded trial (None: nothing recorded)."""
        rec = self.recorded
        if rec is None or rec.get("status") != "ok":
            return None
        same_trips = sorted(rec["tripped"]) == sorted(self.row["tripped"]) and \
            sorted(rec["initiating"]) == sorted(self.row["initiating"])
        return bool(same_trips and abs(rec["load_lost_mw"] - self.row["load_lost_mw"]) <= 1e-6)

    def to_dict(self) -> dict[str, Any]:
        """The trial, its seed, the recorded and re-run rows and whether they match."""
        keys = ("status", "error", "load_scale", "load_lost_mw", "load_lost_percent",
                "lines_out", "initiating", "tripped")
        rec = None if self.recorded is None else {k: self.recorded.get(k) for k in keys}
        return _finite({"trial": self.trial, "seed": self.seed, "engine": self.engine,
                        "recorded": rec, "rerun": {k: self.row.get(k) for k in keys},
                        "matches": self.matches})


def rerun_trial(folder: str | Path, trial: int) -> TrialRun:
    """Re-run trial ``trial`` of the sweep in ``folder`` alone, in the detailed engine.

    Detailed-engine sweeps re-run exactly as the sweep ran the trial; fast-engine sweeps
    re-run in the detailed engine's simple DC mode. Raises :class:`BlackoutError` when the
    folder holds no sweep or ``trial`` is out of range.
    """
    store = ResultStore(folder)
    manifest = store.manifest()
    if manifest.get("format") != FORMAT:
        raise BlackoutError(f"{folder}: not a blackout sweep (format "
                            f"{manifest.get('format')!r}, expected {FORMAT})")
    spec = _Spec(manifest["scenario_spec"], SweepOptions.from_dict(manifest["options"]),
                 int(manifest["root_seed"]), int(manifest["trials"]),
                 int(manifest["chunk_size"]))
    if not 0 <= trial < spec.trials:
        raise BlackoutError(f"--trial {trial}: out of range; the sweep has trials "
                            f"0..{spec.trials - 1}")
    recorded = None
    path = store.chunk_path(trial // spec.chunk_size)
    if path.exists():
        frame = pd.read_parquet(path)
        hit = frame[frame["trial"] == trial]
        if len(hit):
            recorded = {k: (v.tolist() if isinstance(v, np.ndarray) else v)
                        for k, v in hit.iloc[0].to_dict().items()}
    ctx = _context(spec)
    d = _draw(ctx, trial, spec.root_seed)
    if spec.options.engine == "fast":
        grid, events, settings = _simple_inputs(ctx, d)
        compiled = dataclasses.replace(ctx.base, grid=grid)
    else:
        compiled, events, settings = _detailed_inputs(ctx, d)
    timeline = _simulate(compiled.grid, events, settings)
    row = _row(d, **_timeline_row(timeline, events))
    if spec.options.engine == "fast":  # the fast engine's lines out: initiating + tripped
        row["lines_out"] = len(row["initiating"]) + len(row["tripped"])
    return TrialRun(trial, d.seed, spec.options.engine, timeline, compiled, recorded, row)
