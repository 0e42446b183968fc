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

The trials themselves are run by :mod:`blackout.forensics.trials` (seeded draws,
chunks on any Executor, failures recorded, a resumable store); this module is the
arithmetic on what they measured.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from blackout.forensics.evidence import Candidate, EvidenceError, Observation
from blackout.forensics.hypotheses import Hypothesis

__all__ = [
    "FLOOR",
    "TrialFailure",
    "TrialSet",
    "bootstrap_posterior",
    "effective_sample_size",
    "kernel",
    "log_likelihoods",
    "log_evidence",
    "posterior",
    "replicate_halves",
    "seed_stability",
    "trial_weights",
    "with_observations",
]

#: Smallest kernel value: the model-error floor (a mismatch costs at most a factor 1000).
FLOOR = 1e-3


@dataclass(frozen=True)
class TrialFailure:
    """A trial the engine could not finish: left out of the likelihood, listed in the
    output. ``trial`` is its number within its hypothesis; ``seed`` the scenario seed it
    ran with; ``parameters`` its drawn values; ``error`` what was raised; ``wall_s`` how
    long it ran (s), when known."""

    hypothesis: str
    trial: int
    seed: int
    parameters: dict[str, Any]
    error: str
    wall_s: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe record."""
        return {"hypothesis": self.hypothesis, "trial": self.trial, "seed": self.seed,
                "parameters": self.parameters, "error": self.error, "wall_s": self.wall_s}


@dataclass
class TrialSet:
    """Measured observables of every trial of every hypothesis.

    values[h] : (trials, observations) array; candidate_values[h] : (trials, candidates);
    parameters[h] : the drawn parameters of each successful trial; failed[h] : trials the
    engine could not finish (left out); first_failure : one such message, if any;
    failures : every failed trial (:class:`TrialFailure`); ran / resumed : trials run by
    this call / found already stored; wall_s : this call's wall time, s.
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
    failures: list[TrialFailure] = field(default_factory=list)
    ran: int = 0
    resumed: int = 0
    wall_s: float = 0.0

    @property
    def names(self) -> list[str]:
        """Hypothesis names, in order."""
        return [h.name for h in self.hypotheses]

    @property
    def prior(self) -> np.ndarray:
        """Prior probability of each hypothesis (normalised prior weights)."""
        w = np.array([h.prior_weight for h in self.hypotheses], dtype=float)
        return w / w.sum()


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


def effective_sample_size(ts: TrialSet, h: int) -> float:
    """Kish's effective number of trials behind hypothesis ``h``'s evidence,
    ``(sum L)^2 / sum L^2`` (0 without trials): a weight resting on few trials is noisy."""
    w = trial_weights(ts, h)
    return float(1.0 / (w ** 2).sum()) if w.size else 0.0


def replicate_halves(ts: TrialSet) -> tuple[TrialSet, TrialSet]:
    """The trials as two independent replicate runs: each hypothesis's successful trials
    taken alternately (every trial has its own seed, so each half is a run with other
    seeds and half the trials)."""
    def half(start: int) -> TrialSet:
        return replace(ts, values=[v[start::2] for v in ts.values],
                       candidate_values=[v[start::2] for v in ts.candidate_values],
                       parameters=[p[start::2] for p in ts.parameters])
    return half(0), half(1)


def seed_stability(ts: TrialSet, *, n_boot: int = 200, seed: int = 0) -> list[dict[str, Any]]:
    """Do two independent replicate runs (:func:`replicate_halves`) agree?

    Per hypothesis: each half's posterior and bootstrap sd, their difference and
    ``agree``: ``|p_a - p_b| <= 2 sqrt(sd_a^2 + sd_b^2)`` (two standard deviations of the
    difference of two independent estimates).
    """
    a, b = replicate_halves(ts)
    pa, pb = posterior(a), posterior(b)
    sa = bootstrap_posterior(a, n_boot=n_boot, seed=seed).std(axis=0, ddof=1)
    sb = bootstrap_posterior(b, n_boot=n_boot, seed=seed + 1).std(axis=0, ddof=1)
    out = []
    for h, name in enumerate(ts.names):
        tol = 2.0 * math.sqrt(sa[h] ** 2 + sb[h] ** 2)
        diff = abs(float(pa[h] - pb[h]))
        out.append({"hypothesis": name, "posterior_a": float(pa[h]),
                    "posterior_b": float(pb[h]), "sd_a": float(sa[h]), "sd_b": float(sb[h]),
                    "difference": diff, "tolerance_2sd": tol, "agree": bool(diff <= tol)})
    return out
