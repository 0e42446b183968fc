"""Simulate each hypothesis over its priors and weigh the evidence: likelihoods, posteriors.

Method: approximate Bayesian computation with a soft kernel and reliabilities.

- Trial ``i`` of hypothesis ``H`` draws parameters ``theta_i`` from H's priors, runs
  the scenario so made through the cascade engine and measures every observable:
  ``x_ij``.
- Observation ``j`` says the value lay in ``[a_j, b_j]``. Its kernel is 1 inside the
  range and ``exp(-d^2 / 2 e_j^2)`` at a distance ``d`` outside (``e_j`` the soft edge),
  never below ``FLOOR`` (the simulator is not the world: no single mismatch may
  rule a hypothesis out). A value the timeline cannot give (``nan``) is uninformative.
- A source of reliability ``r_j`` is right with probability ``r_j`` and otherwise
  says nothing: ``l_ij = r_j k_ij + (1 - r_j)``. ``r_j = 0`` leaves every hypothesis's
  likelihood unchanged, exactly.
- Observations are conditionally independent given a trial (they are measured on
  the same simulated timeline, so correlations between observables are kept):
  ``L_i = prod_j l_ij`` and the evidence of H is ``Z_H = mean_i L_i``.
- Posterior ``P(H | E) ~ prior_weight_H * Z_H``; its Monte Carlo uncertainty is the
  standard deviation over bootstrap resamples of each hypothesis's trials.

Trials run on any :class:`concurrent.futures.Executor` (serial when none is
given); every trial's seed comes from ``numpy.random.SeedSequence(seed)``, so the
result does not depend on the executor or the order trials finish.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from blackout.errors import BlackoutError, ScenarioError
from blackout.forensics.evidence import (
    Candidate,
    Evidence,
    EvidenceError,
    Observable,
    Observation,
    needs_restoration,
)
from blackout.forensics.hypotheses import EngineOptions, Hypothesis, HypothesisSet
from blackout.forensics.observables import measure_all
from blackout.study.timelimit import TrialTimeout, time_limit

__all__ = [
    "FLOOR",
    "TrialSet",
    "bootstrap_posterior",
    "kernel",
    "log_likelihoods",
    "log_evidence",
    "posterior",
    "run_trial",
    "simulate_trials",
    "trial_weights",
    "with_observations",
]

#: Smallest kernel value: the model-error floor (a mismatch costs at most a factor 1000).
FLOOR = 1e-3


@dataclass
class TrialSet:
    """Measured observables of every trial of every hypothesis.

    values[h] : (trials, observations) array; candidate_values[h] : (trials, candidates);
    parameters[h] : the drawn parameters of each successful trial; failed[h] : trials the
    engine could not finish (left out); first_failure : one such message, if any.
    """

    hypotheses: list[Hypothesis]
    observations: list[Observation]
    candidates: list[Candidate]
    values: list[np.ndarray]
    candidate_values: list[np.ndarray]
    parameters: list[list[dict[str, Any]]]
    failed: list[int]
    trials: int
    seed: int
    first_failure: str | None = None
    engine: dict[str, Any] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        """Hypothesis names, in order."""
        return [h.name for h in self.hypotheses]

    @property
    def prior(self) -> np.ndarray:
        """Prior probability of each hypothesis (normalised prior weights)."""
        w = np.array([h.prior_weight for h in self.hypotheses], dtype=float)
        return w / w.sum()


@dataclass(frozen=True)
class _Task:
    index: int
    hypothesis: Hypothesis
    template: dict[str, Any]
    values: dict[str, Any]
    seed: int
    engine: EngineOptions
    observables: tuple[Observable, ...]


def run_trial(task: _Task) -> tuple[int, np.ndarray | None, str | None]:
    """Run one trial: instantiate, compile, simulate, measure (module level: picklable)."""
    from blackout.cascade import simulate
    from blackout.scenario import compile_scenario, engine_settings, load_scenario

    data = task.hypothesis.instantiate(task.values, seed=task.seed, template=task.template)
    try:
        compiled = compile_scenario(load_scenario(data))
    except ScenarioError as exc:
        raise EvidenceError(f"hypothesis {task.hypothesis.name!r}: parameters "
                            f"{task.values} give an invalid scenario: {exc}") from None
    settings = engine_settings(compiled.settings)
    changes: dict[str, Any] = {"mode": task.engine.mode}
    if task.engine.simple:
        changes["simple"] = True
    if task.engine.horizon_s is not None:
        changes["horizon_s"] = min(settings.horizon_s, task.engine.horizon_s)
    try:
        with time_limit(task.engine.trial_time_limit_s):
            timeline = simulate(compiled.grid, compiled.events,
                                settings=settings.with_(**changes))
            restoration = None
            if needs_restoration(task.observables):
                from blackout.restore import restore

                restoration = restore(compiled.grid, timeline, scenario=compiled.restoration)
    except TrialTimeout:
        return task.index, None, (f"over the {task.engine.trial_time_limit_s:g} s trial time "
                                  f"limit (parameters {task.values}, seed {task.seed})")
    except (BlackoutError, ArithmeticError, np.linalg.LinAlgError, ValueError) as exc:
        return task.index, None, f"{type(exc).__name__}: {exc}"
    return task.index, measure_all(timeline, task.observables, restoration), None


def simulate_trials(evidence: Evidence, hypotheses: HypothesisSet, *, trials: int,
                    seed: int = 0, executor: Executor | None = None,
                    progress: Callable[[int, int], None] | None = None) -> TrialSet:
    """Simulate every hypothesis ``trials`` times over its priors and measure the evidence.

    Parameters
    ----------
    evidence : observations (and candidate observables) to measure.
    hypotheses : the competing hypotheses and engine options.
    trials : simulations per hypothesis (>= 2).
    seed : root seed; trial k of hypothesis h uses ``SeedSequence(seed).spawn(H)[h].spawn(N)[k]``.
    executor : where trials run (``ProcessPoolExecutor``, a Dask ``Client``'s executor...);
        serial in this process when None.
    progress : called with (done, total) after each trial.

    Raises
    ------
    EvidenceError : a hypothesis's parameters make an invalid scenario.
    """
    if trials < 2:
        raise EvidenceError(f"--trials must be at least 2, got {trials}")
    observables = tuple(o.observable for o in evidence.observations) + \
        tuple(c.observable for c in evidence.candidates)
    roots = np.random.SeedSequence(seed).spawn(len(hypotheses.hypotheses))
    tasks: list[_Task] = []
    for h, (hyp, root) in enumerate(zip(hypotheses.hypotheses, roots, strict=True)):
        template = hyp.template()
        for k, child in enumerate(root.spawn(trials)):
            rng = np.random.default_rng(child)
            drawn = hyp.sample(rng)
            tasks.append(_Task(h * trials + k, hyp, template, drawn,
                               int(rng.integers(0, 2**32 - 1)), hypotheses.engine, observables))
    results: list[np.ndarray | None] = [None] * len(tasks)
    first_failure: str | None = None
    mapper = map if executor is None else executor.map
    for done, (index, row, failure) in enumerate(mapper(run_trial, tasks), start=1):
        results[index] = row
        if failure and first_failure is None:
            first_failure = f"{tasks[index].hypothesis.name}: {failure}"
        if progress is not None:
            progress(done, len(tasks))
    n_obs = len(evidence.observations)
    values, cand, params, failed = [], [], [], []
    for h in range(len(hypotheses.hypotheses)):
        rows = [(results[h * trials + k], tasks[h * trials + k].values) for k in range(trials)]
        ok = [(r, v) for r, v in rows if r is not None]
        width = len(observables)
        mat = np.array([r for r, _ in ok], dtype=float).reshape(len(ok), width)
        values.append(mat[:, :n_obs])
        cand.append(mat[:, n_obs:])
        params.append([v for _, v in ok])
        failed.append(trials - len(ok))
    return TrialSet(list(hypotheses.hypotheses), list(evidence.observations),
                    list(evidence.candidates), values, cand, params, failed, trials, seed,
                    first_failure, hypotheses.engine.model_dump())


def with_observations(ts: TrialSet, observations: Sequence[Observation]) -> TrialSet:
    """The same trials judged against other observations of the same observables.

    Changing ranges, reliabilities or sources needs no new simulation. Raises
    :class:`EvidenceError` if the observables differ from those simulated.
    """
    if [o.observable for o in observations] != [o.observable for o in ts.observations]:
        raise EvidenceError("the observations measure other observables than the trials did; "
                            "simulate again")
    return replace(ts, observations=list(observations))


# ------------------------------------------------------------------------ likelihood
def kernel(x: np.ndarray, low: float, high: float, edge: float) -> np.ndarray:
    """Soft indicator of ``low <= x <= high`` with Gaussian edges of width ``edge``.

    1 inside, ``max(exp(-d^2 / 2 edge^2), FLOOR)`` at distance ``d`` outside, ``FLOOR`` for
    ``inf`` and 1 for ``nan`` (not measurable: uninformative).
    """
    x = np.asarray(x, dtype=float)
    with np.errstate(invalid="ignore"):
        d = np.where(x < low, low - x, np.where(x > high, x - high, 0.0))
        k = np.exp(-0.5 * (d / edge) ** 2)
    k = np.maximum(np.nan_to_num(k, nan=1.0), FLOOR)
    return np.where(np.isnan(x), 1.0, k)


def log_likelihoods(values: np.ndarray, observations: Sequence[Observation],
                    reliability: Sequence[float] | None = None) -> np.ndarray:
    """``log l_ij`` for trials ``i`` and observations ``j`` (``values``: trials x obs).

    ``l_ij = r_j * kernel_ij + (1 - r_j)``; ``reliability`` overrides the observations' own.
    """
    rel = [o.reliability for o in observations] if reliability is None else list(reliability)
    out = np.zeros(values.shape, dtype=float)
    for j, obs in enumerate(observations):
        k = kernel(values[:, j], obs.range[0], obs.range[1], obs.edge)
        out[:, j] = np.log(rel[j] * k + (1.0 - rel[j]))
    return out


def _logmeanexp(a: np.ndarray, axis: int = -1) -> np.ndarray:
    if a.shape[axis] == 0:
        return np.full(np.delete(a.shape, axis), -np.inf)
    m = np.max(a, axis=axis, keepdims=True)
    return np.squeeze(m, axis) + np.log(np.mean(np.exp(a - m), axis=axis))


def log_evidence(ts: TrialSet, *, reliability: Sequence[float] | None = None,
                 keep: Sequence[bool] | np.ndarray | None = None) -> np.ndarray:
    """``log Z_H`` of each hypothesis; ``keep`` masks observations (default: all)."""
    mask = np.ones(len(ts.observations), bool) if keep is None else np.asarray(keep, bool)
    out = []
    for vals in ts.values:
        ll = log_likelihoods(vals, ts.observations, reliability)[:, mask].sum(axis=1)
        out.append(float(_logmeanexp(ll)))
    return np.array(out)


def _normalise(log_z: np.ndarray, prior: np.ndarray) -> np.ndarray:
    lp = log_z + np.log(prior)
    if not np.isfinite(lp).any():
        return prior.copy()
    lp = lp - np.max(lp[np.isfinite(lp)])
    p = np.where(np.isfinite(lp), np.exp(lp), 0.0)
    return p / p.sum()


def posterior(ts: TrialSet, *, reliability: Sequence[float] | None = None,
              keep: Sequence[bool] | np.ndarray | None = None) -> np.ndarray:
    """Posterior probability of each hypothesis."""
    return _normalise(log_evidence(ts, reliability=reliability, keep=keep), ts.prior)


def bootstrap_posterior(ts: TrialSet, *, n_boot: int = 200, seed: int = 0) -> np.ndarray:
    """Posteriors over ``n_boot`` bootstrap resamples of each hypothesis's trials.

    Returns an (n_boot, hypotheses) array; its spread is the Monte Carlo uncertainty
    from simulating each hypothesis a finite number of times.
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xB007]))
    per_trial = [log_likelihoods(v, ts.observations).sum(axis=1) for v in ts.values]
    out = np.empty((n_boot, len(per_trial)))
    for b in range(n_boot):
        log_z = np.array([float(_logmeanexp(ll[rng.integers(0, ll.size, ll.size)]))
                          if ll.size else -math.inf for ll in per_trial])
        out[b] = _normalise(log_z, ts.prior)
    return out


def trial_weights(ts: TrialSet, h: int) -> np.ndarray:
    """Normalised posterior weights of hypothesis ``h``'s trials (``L_i / sum L``)."""
    ll = log_likelihoods(ts.values[h], ts.observations).sum(axis=1)
    if ll.size == 0:
        return ll
    w = np.exp(ll - ll.max())
    return w / w.sum()
