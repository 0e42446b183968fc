"""From simulated trials to an explanation: posteriors, deciding evidence, next observation.

:func:`explain` simulates the hypotheses (:mod:`blackout.forensics.trials`), weighs
them (:mod:`blackout.forensics.inference`) and returns an :class:`Explanation`, whose
``to_dict()`` is the stable JSON of ``blackout explain``:

``{"hypotheses": [{"name", "posterior", "posterior_sd", "effective_sample_size",
"warning", "seed_stability", "parameters"}, ...], "failed_trials": [{"hypothesis",
"trial", "seed", "parameters", "error"}], "seed_stability": {"agree", "unstable"},
"run": {"ran", "resumed", "wall_s", "trials_per_s"}, "observations": [{"name",
"discrimination", ...}], "next_best_observation": ..., "candidates": [...],
"sensitivity": {"leave_one_out": [...], "partisan_zero": ...}, "method": ...,
"honesty": ..., "warnings": [...]}``.

Everything after the simulations is arithmetic on the measured values, so the
sensitivity tests (dropping evidence, zeroing partisan sources) cost nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from blackout.forensics.evidence import Candidate, Evidence, load_evidence
from blackout.forensics.hypotheses import HypothesisSet, load_hypotheses
from blackout.forensics.inference import (
    TrialSet,
    bootstrap_posterior,
    effective_sample_size,
    kernel,
    log_evidence,
    log_likelihoods,
    posterior,
    seed_stability,
    trial_weights,
)
from blackout.forensics.trials import simulate_trials

__all__ = ["DEFAULT_TRIALS", "HONESTY", "METHOD", "Explanation", "explain",
           "MIN_EFFECTIVE_TRIALS", "NON_DISCRIMINATING_NATS"]

#: Trials per hypothesis of ``blackout explain`` with no ``--trials``.
DEFAULT_TRIALS = 200

#: Below this many effective trials a hypothesis's posterior is flagged as noisy.
MIN_EFFECTIVE_TRIALS = 3.0

#: An observation whose best/worst likelihood ratio is below 1.5 cannot tell the
#: hypotheses apart (Jeffreys: a Bayes factor under ~3 is "barely worth mentioning").
NON_DISCRIMINATING_NATS = math.log(1.5)

HONESTY = (
    "This is what the simulated physics and the stated evidence imply under the stated "
    "priors and reliabilities, nothing more. A hypothesis that is not listed gets no "
    "weight; a prior or a reliability chosen differently gives a different answer; the "
    "grid model, its ratings and its protection settings are estimates. The posterior "
    "says which listed account reproduces the reported facts more often in simulation, "
    "not what happened.")

METHOD = {
    "kind": "approximate Bayesian computation (soft-kernel ABC) with source reliabilities",
    "kernel": "1 inside the observed range, exp(-d^2 / 2 e^2) at distance d outside it "
              "(e: the observation's soft edge), never below 1e-3 (model-error floor); "
              "not measurable: 1",
    "reliability": "l = r * kernel + (1 - r): a source of reliability r is right with "
                   "probability r and otherwise says nothing; r = 0 changes nothing",
    "evidence_of_hypothesis": "Z_H = mean over trials of the product of l over observations",
    "posterior": "P(H | E) proportional to prior_weight_H * Z_H",
    "posterior_sd": "standard deviation over bootstrap resamples of each hypothesis's trials",
    "effective_sample_size": "Kish's (sum L)^2 / sum L^2 over a hypothesis's trials: how many "
                             "trials its evidence effectively rests on",
    "seed_stability": "the trials taken alternately as two independent replicate runs (each "
                      "trial has its own seed); they agree when their posteriors differ by "
                      "at most 2 standard deviations of the difference",
    "failed_trials": "a trial the engine could not finish is listed with its seed, "
                     "parameters and error and left out; the posterior uses the rest",
    "discrimination": "log of the largest over the smallest per-hypothesis likelihood of "
                      "the observation alone, nats; below log 1.5: non-discriminating",
    "information_gain": "mutual information (bits) between the hypothesis and the outcome "
                        "of a candidate observable, under the current posterior and the "
                        "posterior-weighted simulated outcomes",
}


def _tv(p: np.ndarray, q: np.ndarray) -> float:
    return float(0.5 * np.abs(p - q).sum())


def _ranking(names: Sequence[str], p: np.ndarray) -> list[str]:
    return [names[i] for i in np.argsort(-p, kind="stable")]


def _weighted_quantiles(x: np.ndarray, w: np.ndarray, qs: Sequence[float]) -> list[float]:
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    cw = np.cumsum(w)
    cw = cw / cw[-1]
    return [float(x[min(int(np.searchsorted(cw, q)), x.size - 1)]) for q in qs]


def _jsonable(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value


# ------------------------------------------------------------------------ pieces
def observation_table(ts: TrialSet, post: np.ndarray) -> list[dict[str, Any]]:
    """Per observation: how often each hypothesis reproduces it, and how much it decides."""
    names = ts.names
    rows = []
    for j, obs in enumerate(ts.observations):
        raw, lik = {}, {}
        measurable = False
        for h, vals in enumerate(ts.values):
            x = vals[:, j]
            measurable |= bool(np.isfinite(x).any() or np.isinf(x).any())
            k = kernel(x, obs.range[0], obs.range[1], obs.edge) if x.size else np.ones(0)
            raw[names[h]] = float(k.mean()) if k.size else math.nan
            l_ = obs.reliability * k + (1 - obs.reliability)
            lik[names[h]] = float(l_.mean()) if l_.size else math.nan
        m = np.array([v for v in lik.values() if math.isfinite(v)])
        disc = float(np.log(m.max() / m.min())) if m.size else 0.0
        keep = np.ones(len(ts.observations), bool)
        keep[j] = False
        shift = _tv(post, posterior(ts, keep=keep))
        if obs.retracted:
            status = "retracted"
        elif not measurable:
            status = "not measurable"
        elif obs.reliability == 0:
            status = "reliability 0"
        elif disc < NON_DISCRIMINATING_NATS:
            status = "non-discriminating"
        else:
            status = "discriminating"
        rows.append({
            "name": obs.name, "description": obs.description,
            "observable": obs.observable.kind, "range": list(obs.range),
            "source": obs.source, "reliability": obs.reliability,
            "partisan": obs.partisan, "retracted": obs.retracted,
            "discrimination": disc, "bayes_factor": float(math.exp(disc)),
            "discriminating": status == "discriminating",
            "favours": names[int(np.argmax([lik[n] for n in names]))] if m.size else None,
            "reproduced_by": {k: _jsonable(v) for k, v in raw.items()},
            "likelihood": {k: _jsonable(v) for k, v in lik.items()},
            "posterior_shift": shift, "status": status,
        })
    return rows


def parameter_ranges(ts: TrialSet, h: int) -> dict[str, Any]:
    """Prior and posterior 5-50-95 % values of each parameter of hypothesis ``h``."""
    w = trial_weights(ts, h)
    out: dict[str, Any] = {}
    for p in ts.hypotheses[h].parameters:
        vals = [t[p.name] for t in ts.parameters[h]]
        if not vals:
            continue
        entry: dict[str, Any] = {"unit": p.unit, "description": p.description,
                                 "prior": p.prior.describe()}
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
            x = np.asarray(vals, dtype=float)
            entry["prior_5_50_95"] = [float(q) for q in np.quantile(x, [0.05, 0.5, 0.95])]
            entry["posterior_5_50_95"] = _weighted_quantiles(x, w, [0.05, 0.5, 0.95])
        else:
            labels = [str(v) for v in vals]
            options = sorted(set(labels))
            entry["prior_share"] = {o: labels.count(o) / len(labels) for o in options}
            entry["posterior_share"] = {o: float(w[[lb == o for lb in labels]].sum())
                                        for o in options}
        out[p.name] = entry
    return out


def _bin_edges(cand: Candidate, pooled: np.ndarray) -> np.ndarray:
    if cand.bins is not None:
        return np.asarray(cand.bins, dtype=float)
    finite = pooled[np.isfinite(pooled)]
    if finite.size == 0:
        return np.array([0.0])
    if np.isin(finite, (0.0, 1.0)).all():
        return np.array([0.5])
    return np.unique(np.quantile(finite, [0.25, 0.5, 0.75]))


def information_gain(ts: TrialSet, post: np.ndarray) -> list[dict[str, Any]]:
    """Expected information gain (bits) of each candidate observable, best first.

    Outcome probabilities per hypothesis come from its trials weighted by how well
    they reproduce the evidence so far, with half a pseudo-count per outcome (the
    trials are few): ``p(b|H) = (ESS_H * w_b + 0.5) / (ESS_H + 0.5 B)``.
    """
    rows: list[dict[str, Any]] = []
    for c, cand in enumerate(ts.candidates):
        cols = [v[:, c] for v in ts.candidate_values]
        pooled = np.concatenate(cols) if cols else np.zeros(0)
        edges = _bin_edges(cand, pooled)
        n_bins = edges.size + 1
        p_bh = np.zeros((len(cols), n_bins))
        for h, x in enumerate(cols):
            w = trial_weights(ts, h)
            ok = ~np.isnan(x)
            ess = float(w[ok].sum() ** 2 / (w[ok] ** 2).sum()) if ok.any() else 0.0
            hist = np.bincount(np.searchsorted(edges, x[ok], side="right"),
                               weights=w[ok], minlength=n_bins)
            hist = hist / hist.sum() if hist.sum() > 0 else hist
            p_bh[h] = (ess * hist + 0.5) / (ess + 0.5 * n_bins)
        p_b = post @ p_bh
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(p_bh > 0, p_bh * np.log2(p_bh / p_b), 0.0)
        gain = float(post @ terms.sum(axis=1))
        outcomes = []
        labels = _bin_labels(edges)
        for b in range(n_bins):
            after = post * p_bh[:, b]
            after = after / after.sum()
            outcomes.append({"outcome": labels[b], "probability": float(p_b[b]),
                             "posterior_after": dict(zip(ts.names, map(float, after),
                                                         strict=True))})
        rows.append({"name": cand.name, "description": cand.description,
                     "observable": cand.observable.kind, "expected_information_gain_bits":
                     max(gain, 0.0), "outcomes": outcomes})
    rows.sort(key=lambda r: -r["expected_information_gain_bits"])
    return rows


def _bin_labels(edges: np.ndarray) -> list[str]:
    if edges.size == 1 and edges[0] == 0.5:
        return ["no (0)", "yes (1)"]
    labels = [f"< {edges[0]:g}"]
    labels += [f"{a:g} to {b:g}" for a, b in zip(edges[:-1], edges[1:], strict=True)]
    labels.append(f">= {edges[-1]:g}")
    return labels


def sensitivity(ts: TrialSet, post: np.ndarray) -> dict[str, Any]:
    """Ranking when each observation is dropped, and with partisan reliabilities at 0."""
    names = ts.names
    base = _ranking(names, post)
    loo = []
    for j, obs in enumerate(ts.observations):
        if obs.reliability == 0:
            continue
        keep = np.ones(len(ts.observations), bool)
        keep[j] = False
        p = posterior(ts, keep=keep)
        loo.append({"dropped": obs.name, "posterior": dict(zip(names, map(float, p),
                                                                strict=True)),
                    "top": _ranking(names, p)[0], "ranking_changed": _ranking(names, p) != base,
                    "top_changed": _ranking(names, p)[0] != base[0]})
    partisan = [o.name for o in ts.observations if o.partisan and o.reliability > 0]
    rel = [0.0 if o.name in partisan else o.reliability for o in ts.observations]
    p = posterior(ts, reliability=rel)
    return {
        "leave_one_out": loo,
        "top_robust_to_leave_one_out": all(not r["top_changed"] for r in loo),
        "partisan_zero": {"zeroed": partisan,
                          "posterior": dict(zip(names, map(float, p), strict=True)),
                          "top": _ranking(names, p)[0],
                          "ranking_changed": _ranking(names, p) != base},
    }


# ------------------------------------------------------------------------ explanation
def _few_trials_warning(name: str, ess: float, ok: int) -> str | None:
    if ok == 0:
        return f"{name}: no trial finished; its posterior is the prior's share of nothing"
    if ess < MIN_EFFECTIVE_TRIALS:
        return (f"{name}: its weight rests on {ess:.1f} effective trials (fewer than "
                f"{MIN_EFFECTIVE_TRIALS:g}); run more trials")
    return None


@dataclass
class Explanation:
    """The result of :func:`explain`: trials, posterior and its bootstrap spread."""

    evidence: Evidence
    hypotheses: HypothesisSet
    trials: TrialSet
    posterior: np.ndarray
    bootstrap: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON of ``blackout explain`` (see the module docstring)."""
        ts = self.trials
        log_z = log_evidence(ts)
        stability = seed_stability(ts, n_boot=max(self.bootstrap.shape[0], 20), seed=ts.seed)
        hyps = []
        for h, hyp in enumerate(ts.hypotheses):
            ess = effective_sample_size(ts, h)
            ok = int(ts.values[h].shape[0])
            hyps.append({
                "name": hyp.name, "description": hyp.description, "account": hyp.account,
                "prior": float(ts.prior[h]), "posterior": float(self.posterior[h]),
                "posterior_sd": float(self.bootstrap[:, h].std(ddof=1)),
                "posterior_5_95": [float(q) for q in np.quantile(self.bootstrap[:, h],
                                                                 [0.05, 0.95])],
                "log_evidence": _jsonable(float(log_z[h])),
                "trials_ok": ok, "trials_failed": int(ts.failed[h]),
                "effective_sample_size": ess,
                "warning": _few_trials_warning(hyp.name, ess, ok),
                "seed_stability": stability[h],
                "parameters": parameter_ranges(ts, h),
            })
        gains = information_gain(ts, self.posterior)
        warnings = []
        if ts.failures:
            warnings.append(f"{len(ts.failures)} trials failed in the engine and were left "
                            f"out (first: {ts.first_failure})")
        warnings += [row["warning"] for row in hyps if row["warning"]]
        unstable = [r["hypothesis"] for r in stability if not r["agree"]]
        if unstable:
            warnings.append("two replicate runs (other seeds) disagree by more than 2 sd on "
                            f"{', '.join(unstable)}: the posterior is not yet stable; run more "
                            "trials")
        obs = observation_table(ts, self.posterior)
        wall = ts.wall_s
        return {
            "evidence": self.evidence.name, "hypothesis_set": self.hypotheses.name,
            "trials": ts.trials, "seed": ts.seed, "engine": ts.engine,
            "hypotheses": hyps,
            "failed_trials": [f.to_dict() for f in ts.failures],
            "seed_stability": {"agree": not unstable, "unstable": unstable},
            "run": {"ran": ts.ran, "resumed": ts.resumed, "wall_s": wall,
                    "trials_per_s": ts.ran / wall if wall > 0 else None},
            "observations": obs,
            "non_discriminating": [o["name"] for o in obs
                                   if o["status"] in ("non-discriminating", "reliability 0",
                                                      "retracted", "not measurable")],
            "next_best_observation": gains[0] if gains else None,
            "candidates": gains,
            "sensitivity": sensitivity(ts, self.posterior),
            "method": METHOD, "honesty": HONESTY, "warnings": warnings,
        }

    def render_text(self, data: dict[str, Any] | None = None) -> str:
        """A plain-text summary for people."""
        d = self.to_dict() if data is None else data
        lines = [f"Evidence: {d['evidence']}  ({d['trials']} trials per hypothesis, "
                 f"seed {d['seed']})", "",
                 "Hypothesis            posterior   (+/- MC sd)   effective trials"]
        for h in sorted(d["hypotheses"], key=lambda r: -r["posterior"]):
            lines.append(f"  {h['name']:<20}{h['posterior']:>9.3f}   (+/- "
                         f"{h['posterior_sd']:.3f})   {h['effective_sample_size']:>8.1f}"
                         + (f"   {h['trials_failed']} failed" if h["trials_failed"] else ""))
            if h.get("warning"):
                lines.append(f"      ^ warning: {h['warning']}")
            st = h.get("seed_stability")
            if st and not st["agree"]:
                lines.append(f"      ^ warning: replicate runs give {st['posterior_a']:.3f} and "
                             f"{st['posterior_b']:.3f} (more than 2 sd apart)")
        for f in d.get("failed_trials", [])[:5]:
            lines.append(f"  failed: {f['hypothesis']} trial {f['trial']} (seed {f['seed']}): "
                         f"{f['error']}")
        if len(d.get("failed_trials", [])) > 5:
            lines.append(f"  ... {len(d['failed_trials']) - 5} more failed trials (see --format "
                         "json)")
        lines += ["", "Observations (discrimination in nats; status)"]
        for o in sorted(d["observations"], key=lambda r: -r["posterior_shift"]):
            lines.append(f"  {o['name']:<44.44}{o['discrimination']:>6.2f}  {o['status']}"
                         + (f", favours {o['favours']}" if o["discriminating"] else ""))
        nb = d["next_best_observation"]
        if nb:
            lines += ["", f"Next best observation: {nb['name']} "
                      f"({nb['expected_information_gain_bits']:.2f} bits)"]
        ps = d["sensitivity"]["partisan_zero"]
        lines += ["", f"Partisan sources at reliability 0: top = {ps['top']}"
                  + (" (ranking changes)" if ps["ranking_changed"] else " (ranking unchanged)")]
        flips = [r["dropped"] for r in d["sensitivity"]["leave_one_out"] if r["top_changed"]]
        lines.append("Leave-one-out: " + (f"dropping {', '.join(flips)} changes the top "
                                          "hypothesis" if flips else "no single observation "
                                          "changes the top hypothesis"))
        lines += [*(f"warning: {w}" for w in d["warnings"]), "", d["honesty"]]
        return "\n".join(lines)


def explain(evidence: Evidence | str | None = None,
            hypotheses: HypothesisSet | str | None = None, *,
            only: Sequence[str] | None = None, trials: int = DEFAULT_TRIALS, seed: int = 0,
            executor: Executor | None = None, n_boot: int = 200,
            progress: Callable[[int, int], None] | None = None,
            store: str | Path | None = None, resume: bool = False) -> Explanation:
    """Which hypothesis explains the evidence? Simulate, weigh, and explain.

    Parameters
    ----------
    evidence : an Evidence, a file or built-in name (default: 7-14 March 2019).
    hypotheses : a HypothesisSet, a file or built-in name (default: 7 March 2019).
    only : keep these hypotheses only.
    trials : simulations per hypothesis.
    seed : root seed; same seed, same result (whatever the executor).
    executor : where the trials run (serial when None).
    n_boot : bootstrap resamples for the Monte Carlo uncertainty.
    progress : called with (trials done, trials in all).
    store : a folder keeping every finished trial (see
        :func:`blackout.forensics.trials.simulate_trials`); ``resume`` continues it.

    Examples
    --------
    >>> result = explain(trials=4)  # doctest: +SKIP
    >>> result.to_dict()["hypotheses"][0]["posterior"]  # doctest: +SKIP
    """
    ev = evidence if isinstance(evidence, Evidence) else load_evidence(evidence)
    hs = hypotheses if isinstance(hypotheses, HypothesisSet) else load_hypotheses(hypotheses)
    hs = hs.only(list(only) if only else None)
    ts = simulate_trials(ev, hs, trials=trials, seed=seed, executor=executor,
                         progress=progress, store=store, resume=resume)
    post = posterior(ts)
    boot = bootstrap_posterior(ts, n_boot=n_boot, seed=seed)
    return Explanation(ev, hs, ts, post, boot)


def per_trial_log_likelihood(ts: TrialSet, h: int) -> np.ndarray:
    """``log L_i`` of every trial of hypothesis ``h`` (for plots of the weight spread)."""
    return log_likelihoods(ts.values[h], ts.observations).sum(axis=1)
