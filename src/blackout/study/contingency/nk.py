"""N-k contingencies on the fast engine: sampled or exhaustive screening, malignant sets.

- :func:`sample_nk`: random (or all) sets of ``k`` in-service branches.
- :func:`screen_nk`: the DC overload cascade each set starts (:func:`run_cascades`,
  the simple DC rule of :mod:`blackout.study.fastdc.engine`), one row per set.
- :func:`random_chemistry`: the "random chemistry" search of Eppstein & Hines, "A 'random
  chemistry' algorithm for identifying collections of multiple contingencies that
  initiate cascading failure", IEEE Trans. Power Systems 27(3):1698-1705 (2012), for
  small *malignant* sets (sets whose cascade reaches a size threshold) without
  enumerating the ``C(n, k)`` candidates: start from a large random malignant set,
  shrink it by random subsets while it stays malignant, then remove elements one at a
  time until it is minimal (no single element can be dropped). All the trials advance
  together and every round's candidate sets go through one :func:`run_cascades` call.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from blackout.errors import BlackoutError
from blackout.study.contingency.ranking import rank_rows
from blackout.study.fastdc.engine import BatchResult, run_cascades
from blackout.study.fastdc.model import DCModel

__all__ = ["MalignantResult", "NkResult", "random_chemistry", "sample_nk", "screen_nk",
           "MAX_EXHAUSTIVE", "MEASURES"]

#: exhaustive N-k refuses more sets than this
MAX_EXHAUSTIVE = 200_000
#: cascade-size measures a malignant set is judged by
MEASURES = ("load_lost_mw", "lines_tripped")


def _candidates(model: DCModel) -> np.ndarray:
    return np.flatnonzero(model.live)


def _check_k(model: DCModel, k: int) -> np.ndarray:
    cands = _candidates(model)
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise BlackoutError(f"k must be an integer >= 1, got {k!r}")
    if k > cands.size:
        raise BlackoutError(f"k={k} is larger than the {cands.size} in-service branches")
    return cands


def sample_nk(model: DCModel, k: int, n: int | None, *, seed: int = 0,
              exhaustive: bool = False, max_sets: int = MAX_EXHAUSTIVE) -> np.ndarray:
    """Sets of ``k`` distinct in-service branches (positions), one set per row, sorted.

    Parameters
    ----------
    model : the factorised grid.
    k : branches per set.
    n : sets to draw at random, all distinct (ignored when ``exhaustive``).
    seed : seed of the random generator.
    exhaustive : every one of the ``C(L, k)`` sets of the ``L`` in-service branches,
        in lexicographic order.
    max_sets : most sets an exhaustive request may produce.

    Returns
    -------
    int64 array (sets x k) of branch positions, each row ascending.

    Raises
    ------
    BlackoutError : ``k`` < 1 or above the in-service branch count, ``n`` <= 0, more
        sets asked than exist, or an exhaustive count above ``max_sets``.
    """
    cands = _check_k(model, k)
    total = math.comb(cands.size, k)
    if exhaustive:
        if total > max_sets:
            raise BlackoutError(
                f"exhaustive N-{k} of {cands.size} branches is {total:,} sets, more than "
                f"the limit of {max_sets:,}: sample instead (--sample N)")
        flat = np.fromiter(itertools.chain.from_iterable(
            itertools.combinations(range(cands.size), k)), dtype=np.int64, count=total * k)
        return cands[flat.reshape(total, k)]
    if n is None or n <= 0:
        raise BlackoutError(f"the number of sampled sets must be > 0, got {n}")
    if n > total:
        raise BlackoutError(f"{n:,} distinct N-{k} sets asked but only {total:,} exist: "
                            f"ask for fewer or use exhaustive")
    rng = np.random.default_rng(seed)
    if total <= max_sets and n * 4 >= total:  # dense: draw from the enumeration
        every = sample_nk(model, k, None, exhaustive=True, max_sets=max_sets)
        return every[np.sort(rng.choice(total, n, replace=False))]
    seen: set[tuple[int, ...]] = set()
    rows: list[tuple[int, ...]] = []
    while len(rows) < n:
        draw = np.sort(rng.integers(0, cands.size, (n - len(rows), k)), axis=1)
        draw = draw[(np.diff(draw, axis=1) > 0).all(axis=1)]  # k distinct branches
        for r in map(tuple, cands[draw].tolist()):
            if r not in seen:
                seen.add(r)
                rows.append(r)
    return np.array(rows, dtype=np.int64).reshape(n, k)


@dataclass
class NkResult:
    """One row per N-k set (``table``) and what was assumed (``meta``).

    Columns: ``set`` (branch positions), ``names`` (branch names), ``lines_out`` (branches
    out at the end, initiating included), ``tripped`` (branch positions tripped by
    overload, in order), ``load_lost_mw`` (MW), ``islands`` (at the end), ``rounds``
    (overload rounds that tripped something).
    """

    table: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    def ranked(self, by: str = "load_lost_mw", top: int | None = None) -> pd.DataFrame:
        """Rows sorted by ``by`` (descending), ties by lines out then load lost."""
        return rank_rows(self.table, by, ("lines_out", "load_lost_mw"), top)

    def to_frame(self) -> pd.DataFrame:
        """A copy of the table."""
        return self.table.copy()

    def to_dict(self, top: int | None = None) -> dict[str, Any]:
        """``meta`` plus the ranked rows (``sets``) as plain records."""
        rows = self.ranked(top=top)
        return {**self.meta, "sets": _records(rows)}


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for rec in frame.to_dict(orient="records"):
        out.append({k: (v.item() if isinstance(v, np.generic) else v) for k, v in rec.items()})
    return out


def screen_nk(model: DCModel, k: int, *, sample: int | None = 1000, seed: int = 0,
              trip_multiple: float = 1.0, max_sets: int = MAX_EXHAUSTIVE) -> NkResult:
    """The DC overload cascade of each of ``sample`` random N-k sets (every set when
    ``sample`` is None), on the fast engine.

    Parameters
    ----------
    model : the factorised grid (ratings and dispatch as built).
    k : branches per initiating set.
    sample : random distinct sets to run; None for all of them (refused above
        ``max_sets``).
    seed : seed of the sampling.
    trip_multiple : a branch trips when ``|P| > trip_multiple * rate_a_mva``.
    max_sets : limit of an exhaustive screening.

    Returns
    -------
    NkResult, rows in sampling order (see :meth:`NkResult.ranked`); ``meta`` holds the
    case, k, the sampling, the rating and dispatch notes, the timing (``seconds``,
    ``sets_per_s``).
    """
    t0 = time.perf_counter()
    sets = sample_nk(model, k, sample, seed=seed, exhaustive=sample is None,
                     max_sets=max_sets)
    res = run_cascades(model, [s for s in sets], trip_multiple=trip_multiple)
    dt = time.perf_counter() - t0
    names = np.asarray(model.grid.branch["name"], dtype=object)
    table = pd.DataFrame({
        "set": [s.tolist() for s in sets],
        "names": [[str(x) for x in names[s]] for s in sets],
        "lines_out": res.lines_out.astype(np.int64),
        "tripped": [t.tolist() for t in res.tripped],
        "load_lost_mw": res.load_lost_mw.astype(float),
        "islands": res.islands.astype(np.int64),
        "rounds": res.rounds.astype(np.int64),
    })
    grid = model.grid
    meta = {
        "case": grid.name, "k": int(k), "sets_run": int(len(sets)),
        "exhaustive": sample is None, "seed": int(seed), "trip_multiple": float(trip_multiple),
        "candidates": int(_candidates(model).size),
        "total_sets": math.comb(int(_candidates(model).size), int(k)),
        "ratings": grid.notes.get("ratings", "as given in the case"),
        "dispatch": grid.notes.get("dispatch", "as given in the case"),
        "demand_mw": float(model.load_bus_mw.sum()),
        "seconds": round(dt, 4), "sets_per_s": round(len(sets) / dt, 2) if dt > 0 else None,
    }
    return NkResult(table, meta)


# ---------------------------------------------------------------------------- malignant sets
@dataclass
class MalignantResult:
    """Distinct minimal malignant sets found by :func:`random_chemistry`.

    ``sets``: one dict per set, smallest first then largest cascade: ``branches``,
    ``names``, ``size``, ``load_lost_mw``, ``lines_out``, ``lines_tripped``, ``found``
    (trials that ended on it). ``meta``: threshold, measure, trials, successes, failures
    by reason, cascade ``evaluations`` (distinct sets run) and their rate.
    """

    sets: list[dict[str, Any]]
    meta: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """One row per set."""
        return pd.DataFrame(self.sets, columns=["branches", "names", "size", "load_lost_mw",
                                                "lines_out", "lines_tripped", "found"])

    def to_dict(self) -> dict[str, Any]:
        """``meta`` plus ``sets``."""
        return {**self.meta, "sets": [dict(s) for s in self.sets]}


class _Evaluator:
    """Cascade sizes of branch sets, cached, evaluated in batches."""

    def __init__(self, model: DCModel, trip_multiple: float, measure: str) -> None:
        self.model, self.trip_multiple, self.measure = model, trip_multiple, measure
        self.cache: dict[tuple[int, ...], tuple[float, float, int, int]] = {}
        self.evaluations = 0
        self.seconds = 0.0

    def run(self, sets: list[tuple[int, ...]]) -> None:
        todo = list(dict.fromkeys(s for s in sets if s not in self.cache))
        if not todo:
            return
        t0 = time.perf_counter()
        res: BatchResult = run_cascades(self.model, [list(s) for s in todo],
                                        trip_multiple=self.trip_multiple)
        self.seconds += time.perf_counter() - t0
        self.evaluations += len(todo)
        lines = res.lines_out
        for i, s in enumerate(todo):
            tripped = int(res.tripped[i].size)
            lost = float(res.load_lost_mw[i])
            size = lost if self.measure == "load_lost_mw" else float(tripped)
            self.cache[s] = (size, lost, int(lines[i]), tripped)

    def size(self, s: tuple[int, ...]) -> float:
        return self.cache[s][0]


@dataclass
class _Trial:
    phase: str  # "seed", "shrink", "minimize", "done", "failed"
    start: int  # size of the random start sets
    x: tuple[int, ...] = ()
    frac: float = 0.5
    seed_rounds: int = 0
    reason: str = ""
    proposals: list[tuple[int, ...]] = field(default_factory=list)


def random_chemistry(model: DCModel, *, k: int = 2, trials: int = 20, seed: int = 0,
                     trip_multiple: float = 1.0, measure: str = "load_lost_mw",
                     threshold: float | None = None, start_size: int = 20, tries: int = 6,
                     minimize_at: int | None = None, max_seed_rounds: int = 12,
                     max_evaluations: int | None = None,
                     exclude: Sequence[int] | None = None,
                     exclude_malignant_singles: bool = False) -> MalignantResult:
    """Search for small malignant branch-outage sets by random chemistry (Eppstein & Hines
    2012, module docstring).

    A set is *malignant* when the DC overload cascade it starts reaches ``threshold`` by
    ``measure``. Each trial:

    1. draws ``tries`` random sets of ``start_size`` in-service branches per round until
       one is malignant (the start size doubles after every round without one, at most
       ``max_seed_rounds`` rounds);
    2. shrinks it: ``tries`` random subsets of ``max(k, ceil(f |X|))`` elements per round,
       ``f`` = 1/2; the first malignant one replaces ``X``; a round without one raises
       ``f`` halfway to 1 (3/4, 7/8, ...) until the subsets would be ``|X| - 1``;
    3. once ``|X| <= k``, or the shrinking stalls at ``|X| <= minimize_at``: evaluates every
       ``X`` minus one element and moves to a random malignant one, until none is: ``X``
       is then *minimal* (1-minimal: dropping any single element makes it benign);
    4. succeeds when the minimal set has at most ``k`` elements.

    Trials advance together: every round's proposals of every trial are one
    :func:`run_cascades` batch; cascades are cached, so a set is never run twice.

    Parameters
    ----------
    model : the factorised grid.
    k : largest malignant set wanted (typically 2 to 5).
    trials : independent random-chemistry runs.
    seed : seed of the one random generator all trials draw from (in a fixed order: the
        result is a function of the seed).
    trip_multiple : a branch trips when ``|P| > trip_multiple * rate_a_mva``.
    measure : "load_lost_mw" (demand lost, MW) or "lines_tripped" (branches tripped by
        overload, the initiating ones not counted).
    threshold : the malignant size (MW or branches); default 5 % of the demand, or 5 %
        of the in-service branches.
    start_size : elements of the first random sets (Eppstein & Hines start from a few
        tens of outages).
    tries : random subsets evaluated per trial and round.
    minimize_at : largest stalled set minimised element by element (default
        ``max(3 k, 10)``); a trial stalled above it fails.
    max_seed_rounds : rounds a trial may spend looking for a malignant start set.
    max_evaluations : stop starting new rounds after this many cascade evaluations.
    exclude : branch positions never put in a set.
    exclude_malignant_singles : first run every single-branch outage (one batch) and leave
        out the branches that are malignant alone, so that the sets found are genuine
        multiple contingencies (Eppstein & Hines study N-1-secure grids, where every
        malignant set has at least two elements).

    Returns
    -------
    MalignantResult with the distinct minimal malignant sets of size <= k.

    Raises
    ------
    BlackoutError : bad k, trials, measure or threshold, or an intact grid that is
        already malignant.
    """
    t0 = time.perf_counter()
    cands = _check_k(model, k)
    if trials < 1:
        raise BlackoutError(f"trials must be >= 1, got {trials}")
    if measure not in MEASURES:
        raise BlackoutError(f"measure must be one of {', '.join(MEASURES)}, got {measure!r}")
    if tries < 1 or start_size < 1:
        raise BlackoutError("tries and start_size must be >= 1")
    if threshold is None:
        threshold = (0.05 * float(model.load_bus_mw.sum()) if measure == "load_lost_mw"
                     else max(1.0, 0.05 * cands.size))
    if not threshold > 0:
        raise BlackoutError(f"threshold must be > 0, got {threshold}")
    minimize_at = max(3 * k, 10) if minimize_at is None else minimize_at
    ev = _Evaluator(model, trip_multiple, measure)
    ev.run([()])
    if ev.size(()) >= threshold:
        raise BlackoutError("the intact grid already cascades above the threshold")
    singles = 0
    if exclude is not None:
        cands = np.setdiff1d(cands, np.asarray(exclude, dtype=np.int64))
    if exclude_malignant_singles:
        ev.run([(int(b),) for b in cands])
        bad = np.array([ev.size((int(b),)) >= threshold for b in cands], dtype=bool)
        singles = int(bad.sum())
        cands = cands[~bad]
    if cands.size < k:
        raise BlackoutError(f"only {cands.size} candidate branches left, fewer than k={k}")
    rng = np.random.default_rng(seed)
    start = min(max(start_size, k), cands.size)
    state = [_Trial("seed", start) for _ in range(trials)]

    def mal(s: tuple[int, ...]) -> bool:
        return ev.size(s) >= threshold

    def draw(pool: np.ndarray, size: int) -> tuple[int, ...]:
        return tuple(sorted(rng.choice(pool, size, replace=False).tolist()))

    while any(t.phase in ("seed", "shrink", "minimize") for t in state):
        if max_evaluations is not None and ev.evaluations >= max_evaluations:
            for t in state:
                if t.phase not in ("done", "failed"):
                    t.phase, t.reason = "failed", "evaluation budget"
            break
        # propose
        batch: list[tuple[int, ...]] = []
        for t in state:
            if t.phase == "seed":
                t.proposals = [draw(cands, t.start) for _ in range(tries)]
            elif t.phase == "shrink":
                size = max(k, math.ceil(t.frac * len(t.x)))
                pool = np.array(t.x)
                t.proposals = [draw(pool, size) for _ in range(tries)]
            elif t.phase == "minimize":
                t.proposals = [t.x[:i] + t.x[i + 1:] for i in range(len(t.x))]
            else:
                t.proposals = []
            batch.extend(t.proposals)
        ev.run(batch)
        # advance
        for t in state:
            hits = [s for s in t.proposals if mal(s)]
            if t.phase == "seed":
                t.seed_rounds += 1
                if hits:
                    t.x, t.phase = hits[0], "shrink"
                elif t.seed_rounds >= max_seed_rounds or t.start >= cands.size:
                    t.phase, t.reason = "failed", "no malignant start set"
                else:
                    t.start = min(2 * t.start, cands.size)
            elif t.phase == "shrink":
                if hits:
                    t.x, t.frac = hits[0], 0.5
                else:
                    t.frac = (1.0 + t.frac) / 2.0
                    if math.ceil(t.frac * len(t.x)) >= len(t.x) - 1:
                        if len(t.x) <= minimize_at:
                            t.phase = "minimize"
                        else:
                            t.phase, t.reason = "failed", "shrinking stalled"
            elif t.phase == "minimize":
                if hits:
                    t.x = hits[int(rng.integers(len(hits)))]
                else:
                    t.phase = "done" if len(t.x) <= k else "failed"
                    t.reason = "" if len(t.x) <= k else "minimal set larger than k"
            if t.phase == "shrink" and len(t.x) <= k:
                t.phase = "minimize"
    names = np.asarray(model.grid.branch["name"], dtype=object)
    found: dict[tuple[int, ...], int] = {}
    for t in state:
        if t.phase == "done":
            found[t.x] = found.get(t.x, 0) + 1
    rows: list[dict[str, Any]] = []
    for s, count in found.items():
        _, lost, lines, tripped = ev.cache[s]
        rows.append({"branches": list(s), "names": [str(names[b]) for b in s], "size": len(s),
                     "load_lost_mw": lost, "lines_out": lines, "lines_tripped": tripped,
                     "found": count})
    rows.sort(key=lambda r: (r["size"], -r["load_lost_mw"], -r["lines_out"], r["branches"]))
    reasons: dict[str, int] = {}
    for t in state:
        if t.phase == "failed":
            reasons[t.reason] = reasons.get(t.reason, 0) + 1
    dt = time.perf_counter() - t0
    meta = {
        "case": model.grid.name, "k": int(k), "measure": measure, "threshold": float(threshold),
        "trip_multiple": float(trip_multiple), "seed": int(seed), "trials": int(trials),
        "succeeded": int(sum(t.phase == "done" for t in state)), "failed": reasons,
        "distinct": len(rows), "candidates": int(cands.size),
        "excluded_malignant_singles": singles, "evaluations": int(ev.evaluations),
        "evaluations_per_s": round(ev.evaluations / ev.seconds, 2) if ev.seconds > 0 else None,
        "seconds": round(dt, 4),
    }
    return MalignantResult(rows, meta)
