"""Risk of cascading failure from many simulated cascades: size distributions and metrics.

- :func:`ccdf`: the complementary cumulative distribution ``P(X >= x)`` for the log-log
  plot of blackout sizes.
- :func:`fit_power_law`: the continuous power-law tail fit of Clauset, Shalizi & Newman,
  "Power-law distributions in empirical data", SIAM Review 51(4):661-703 (2009)
  (CSN below): ``alpha`` by maximum likelihood (CSN eq. 3.1), ``xmin`` by minimising the
  Kolmogorov-Smirnov distance between the tail and the fit (CSN §3.3), goodness of fit by
  the semi-parametric bootstrap of CSN §4.1.
- :func:`risk_metrics`: the four metrics of the IEEE PES Cascading Failure Working Group
  (Bialek et al., "Benchmarking and validation of cascading failure analysis tools",
  IEEE Trans. Power Systems 31(6):4887-4900, 2016; Papic et al., "Survey of tools for
  risk assessment of cascading outages", IEEE PES General Meeting 2011): expected demand
  loss, the distribution of demand loss, the distribution of the number of lines outaged,
  and the critical lines (elements that take part most in large cascades).

Every result is plain JSON-able data (floats, ints, lists, dicts, None).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from blackout.errors import BlackoutError

__all__ = ["PowerLawFit", "ccdf", "fit_power_law", "risk_metrics"]

#: fewest tail samples a candidate xmin may leave (CSN fits are noise below this)
MIN_TAIL = 10
#: most candidate xmin values scanned (quantile-spaced among the distinct values)
MAX_CANDIDATES = 400
#: CCDF points kept in :func:`risk_metrics` output (log-spaced ranks beyond this)
MAX_CCDF_POINTS = 200


@dataclass(frozen=True)
class PowerLawFit:
    """A continuous power-law tail ``p(x) = (alpha - 1) / xmin * (x / xmin) ** -alpha``.

    Attributes
    ----------
    alpha : exponent (maximum-likelihood, CSN eq. 3.1).
    xmin : lower bound of the tail, in the unit of the data (e.g. MW).
    n_tail : samples ``>= xmin``.
    ks_distance : Kolmogorov-Smirnov distance between the tail and the fit.
    p_value : fraction of semi-parametric bootstrap data sets whose own fit is farther
        (KS) from their model than the data is from this one (CSN §4.1); the power law
        is ruled out when it is small (CSN use p <= 0.1). None when not computed.
    n : positive samples in the data.
    bootstrap : bootstrap data sets used for ``p_value`` (0: not computed).
    xmin_estimated : whether ``xmin`` was chosen by the KS scan (else given).
    alpha_stderr : standard error of ``alpha``, ``(alpha - 1) / sqrt(n_tail)`` (CSN eq. 3.2).
    """

    alpha: float
    xmin: float
    n_tail: int
    ks_distance: float
    p_value: float | None
    n: int = 0
    bootstrap: int = 0
    xmin_estimated: bool = True
    alpha_stderr: float = float("nan")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict of every field."""
        return {k: (None if isinstance(v, float) and not np.isfinite(v) else v)
                for k, v in asdict(self).items()}


def ccdf(x: np.ndarray | Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Empirical complementary CDF for a log-log plot.

    Parameters
    ----------
    x : samples (any unit, e.g. MW of demand lost); NaNs are dropped.

    Returns
    -------
    (x_sorted, p) : the distinct sample values ascending and ``p[i] = P(X >= x_sorted[i])``
        (fraction of samples at or above each value; ``p[0] == 1``).
    """
    a = np.asarray(x, dtype=float).ravel()
    a = np.sort(a[~np.isnan(a)])
    if a.size == 0:
        return a, a.copy()
    vals, first = np.unique(a, return_index=True)
    return vals, (a.size - first) / a.size


def _weighted_ccdf(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values ascending and the weighted ``P(X >= value)`` (weights sum to 1)."""
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], w[order]
    vals, first = np.unique(xs, return_index=True)
    tail = np.cumsum(ws[::-1])[::-1]  # weight at or above each sorted position
    return vals, np.clip(tail[first], 0.0, 1.0)


# ---------------------------------------------------------------------------- power law
def _tail_fit(xs: np.ndarray, i: int, log_suffix: np.ndarray) -> tuple[float, float]:
    """(alpha, KS distance) of the tail ``xs[i:]`` (sorted ascending) at ``xmin = xs[i]``."""
    n = xs.size - i
    xmin = xs[i]
    denom = log_suffix[i] - n * np.log(xmin)
    if denom <= 0.0:
        return np.inf, np.inf
    alpha = 1.0 + n / denom
    cdf = 1.0 - (xs[i:] / xmin) ** (1.0 - alpha)
    j = np.arange(n)
    d = max(float(np.max((j + 1) / n - cdf)), float(np.max(cdf - j / n)))
    return alpha, d


def _fit_sorted(xs: np.ndarray, xmin: float | None, min_tail: int,
                max_candidates: int) -> tuple[float, float, int, float]:
    """(alpha, xmin, n_tail, ks) for positive samples ``xs`` sorted ascending."""
    log_suffix = np.cumsum(np.log(xs)[::-1])[::-1]
    if xmin is not None:
        i = int(np.searchsorted(xs, xmin, side="left"))
        if xs.size - i < 2:
            raise BlackoutError(f"power-law fit: fewer than 2 samples >= xmin={xmin:g}")
        # the tail starts at the given xmin, not at the smallest sample above it
        n = xs.size - i
        denom = log_suffix[i] - n * np.log(xmin)
        if denom <= 0.0:
            raise BlackoutError("power-law fit: every tail sample equals xmin")
        alpha = 1.0 + n / denom
        cdf = 1.0 - (xs[i:] / xmin) ** (1.0 - alpha)
        j = np.arange(n)
        d = max(float(np.max((j + 1) / n - cdf)), float(np.max(cdf - j / n)))
        return alpha, float(xmin), n, d
    vals, first = np.unique(xs, return_index=True)
    ok = xs.size - first >= min_tail
    cand = first[ok]
    if cand.size == 0:
        raise BlackoutError(f"power-law fit: fewer than {min_tail} positive samples")
    if cand.size > max_candidates:
        cand = cand[np.unique(np.linspace(0, cand.size - 1, max_candidates).round()
                              .astype(np.int64))]
    best = (np.inf, np.inf, -1)
    for i in cand.tolist():
        alpha, d = _tail_fit(xs, i, log_suffix)
        if d < best[1]:
            best = (alpha, d, i)
    alpha, d, i = best
    if i < 0:
        raise BlackoutError("power-law fit: the samples do not vary (no tail to fit)")
    return alpha, float(xs[i]), int(xs.size - i), d


def fit_power_law(x: np.ndarray, *, xmin: float | None = None, bootstrap: int = 100,
                  seed: int = 0, min_tail: int = MIN_TAIL,
                  max_candidates: int = MAX_CANDIDATES) -> PowerLawFit:
    """Fit a continuous power-law tail to the positive samples of ``x`` (CSN 2009).

    ``alpha`` is the maximum-likelihood estimate ``1 + n / sum(ln(x_i / xmin))`` over the
    ``n`` samples ``>= xmin`` (CSN eq. 3.1). Without ``xmin``, every distinct sample
    value that leaves at least ``min_tail`` samples above it is tried (at most
    ``max_candidates``, quantile-spaced) and the one whose fit has the smallest
    Kolmogorov-Smirnov distance to the tail is kept (CSN §3.3). The goodness of fit
    follows CSN §4.1: ``bootstrap`` synthetic data sets of the same size are drawn
    (each sample from the fitted power law with probability ``n_tail / n``, else
    uniformly from the observed samples below ``xmin``), each is fitted the same way
    (its own ``xmin`` when ``xmin`` was estimated), and ``p_value`` is the fraction
    whose KS distance is at least the data's.

    Parameters
    ----------
    x : samples, e.g. demand lost per cascade (MW); zero, negative and non-finite values
        are dropped (a power law lives on x > 0).
    xmin : lower bound of the tail (unit of ``x``); None to estimate it.
    bootstrap : synthetic data sets for ``p_value`` (0: skip, ``p_value`` None). CSN
        recommend 2,500 for a p-value accurate to about 0.01; the default 100 gives
        about 0.05.
    seed : seed of the bootstrap's random generator.
    min_tail : fewest samples a candidate xmin may leave in the tail.
    max_candidates : most xmin values scanned.

    Returns
    -------
    PowerLawFit

    Raises
    ------
    BlackoutError : fewer than ``min_tail`` positive samples (or, with ``xmin``, fewer
        than 2 at or above it), or samples that do not vary.
    """
    a = np.asarray(x, dtype=float).ravel()
    a = np.sort(a[np.isfinite(a) & (a > 0)])
    need = 2 if xmin is not None else min_tail
    if a.size < need:
        raise BlackoutError(f"power-law fit: {a.size} positive samples, need at least {need}")
    if xmin is not None and not (np.isfinite(xmin) and xmin > 0):
        raise BlackoutError(f"power-law fit: xmin must be > 0, got {xmin}")
    alpha, xm, n_tail, d = _fit_sorted(a, xmin, min_tail, max_candidates)
    p_value: float | None = None
    if bootstrap > 0:
        rng = np.random.default_rng(seed)
        below = a[a < xm]
        hits = 0
        for _ in range(bootstrap):
            n_pl = int(rng.binomial(a.size, n_tail / a.size)) if below.size else a.size
            u = rng.random(n_pl)
            synth = xm * (1.0 - u) ** (-1.0 / (alpha - 1.0))
            if a.size > n_pl:
                synth = np.concatenate([synth, rng.choice(below, a.size - n_pl)])
            synth.sort()
            try:
                _, _, _, ds = _fit_sorted(synth, xmin, min(min_tail, synth.size),
                                          max_candidates)
            except BlackoutError:
                continue
            hits += ds >= d
        p_value = hits / bootstrap
    return PowerLawFit(alpha=float(alpha), xmin=float(xm), n_tail=int(n_tail),
                       ks_distance=float(d), p_value=p_value, n=int(a.size),
                       bootstrap=int(bootstrap), xmin_estimated=xmin is None,
                       alpha_stderr=float((alpha - 1.0) / np.sqrt(n_tail)))


# ---------------------------------------------------------------------------- metrics
def _thin(vals: np.ndarray, p: np.ndarray, limit: int) -> tuple[list[float], list[float]]:
    """At most ``limit`` CCDF points, log-spaced in rank (keeps both ends and the tail)."""
    if vals.size > limit:
        idx = np.unique(np.concatenate([
            np.geomspace(1, vals.size, limit).round().astype(np.int64) - 1,
            [0, vals.size - 1]]))
        idx = vals.size - 1 - idx[::-1]  # dense near the largest values (the tail)
        vals, p = vals[idx], p[idx]
    return [float(v) for v in vals], [float(q) for q in p]


def _weighted_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    """Smallest sample value whose weighted CDF reaches ``q``."""
    order = np.argsort(x, kind="stable")
    cw = np.cumsum(w[order])
    i = int(np.searchsorted(cw, q - 1e-12, side="left"))
    return float(x[order][min(i, x.size - 1)])


def risk_metrics(load_lost_mw: np.ndarray | Sequence[float],
                 lines_out: np.ndarray | Sequence[int], *,
                 initiating: Sequence[Sequence[int]] | None = None,
                 tripped: Sequence[Sequence[int]] | None = None,
                 weights: np.ndarray | Sequence[float] | None = None,
                 branch_names: Sequence[str] | None = None, top: int = 15,
                 large_mw: float | None = None, large_quantile: float = 0.9,
                 bootstrap: int = 50, seed: int = 0) -> dict[str, Any]:
    """The IEEE PES Cascading Failure Working Group's four risk metrics of a set of cascades.

    Parameters
    ----------
    load_lost_mw : demand lost per cascade (MW).
    lines_out : branches out at the end of each cascade (initiating + tripped).
    initiating, tripped : branch positions per cascade; needed for the critical lines.
    weights : probability of each cascade (normalised here; default: equally likely, as
        for Monte Carlo samples). Expectations, distributions and the critical-line
        scores are weighted; the power-law fit is of the unweighted positive losses.
    branch_names : name per branch position, for the critical-line rows.
    top : critical lines reported.
    large_mw : a cascade is "large" when it loses at least this much demand (MW) and more
        than 0; default: the weighted ``large_quantile`` quantile of the demand loss.
    bootstrap, seed : for the power-law goodness of fit (:func:`fit_power_law`).

    Returns
    -------
    dict with

    - ``scenarios``: number of cascades;
    - ``expected_demand_loss``: ``mean_mw`` (``sum w_i L_i``), ``std_mw``, ``max_mw``,
      ``p_loss`` (probability of any loss), ``q95_mw`` (95 % quantile) and ``cvar95_mw``
      (mean loss in the worst 5 % by weight);
    - ``demand_loss_distribution``: ``ccdf`` (``x_mw``, ``p``: ``P(L >= x)``, at most
      ``MAX_CCDF_POINTS`` points) and ``power_law`` (:meth:`PowerLawFit.to_dict` of the
      positive losses, or None with ``power_law_error`` when it cannot be fitted);
    - ``lines_outaged_distribution``: ``mean``, ``max``, ``pmf`` (``lines``, ``p``) and
      ``ccdf`` (``lines``, ``p``);
    - ``critical_lines`` (None without ``initiating`` and ``tripped``): ``large_mw``, the
      large cascades' count and weight, and rows ranked by ``score_mw`` =
      ``sum`` over large cascades the branch takes part in (initiating or tripped) of
      ``w_i L_i``, with ``share`` (of the large cascades' total ``w_i L_i``),
      ``frequency`` (weight of the large cascades it takes part in), ``initiating`` and
      ``tripped`` (counts of large cascades in each role).
    """
    loss = np.asarray(load_lost_mw, dtype=float).ravel()
    lines = np.asarray(lines_out, dtype=np.int64).ravel()
    n = loss.size
    if n == 0:
        raise BlackoutError("risk metrics: no cascades")
    if lines.size != n:
        raise BlackoutError(f"risk metrics: {n} losses but {lines.size} line counts")
    if not np.all(np.isfinite(loss)):
        raise BlackoutError("risk metrics: non-finite demand loss")
    if weights is None:
        w = np.full(n, 1.0 / n)
    else:
        w = np.asarray(weights, dtype=float).ravel()
        if w.size != n or np.any(w < 0) or not np.isfinite(w).all() or w.sum() <= 0:
            raise BlackoutError("risk metrics: weights must be n finite values >= 0, not all 0")
        w = w / w.sum()
    mean = float(w @ loss)
    std = float(np.sqrt(max(float(w @ (loss - mean) ** 2), 0.0)))
    q95 = _weighted_quantile(loss, w, 0.95)
    order = np.argsort(-loss, kind="stable")
    cw = np.cumsum(w[order])
    k = int(np.searchsorted(cw, 0.05 - 1e-12)) + 1  # worst cascades holding 5 % weight
    wk = w[order][:k].copy()
    wk[-1] -= max(cw[k - 1] - 0.05, 0.0)
    cvar = float(wk @ loss[order][:k] / wk.sum()) if wk.sum() > 0 else float(loss.max())
    expected = {"mean_mw": mean, "std_mw": std, "max_mw": float(loss.max()),
                "p_loss": float(w[loss > 0].sum()), "q95_mw": q95, "cvar95_mw": cvar}

    vals, p = _weighted_ccdf(loss, w)
    xs, ps = _thin(vals, p, MAX_CCDF_POINTS)
    dist: dict[str, Any] = {"ccdf": {"x_mw": xs, "p": ps}}
    try:
        dist["power_law"] = fit_power_law(loss, bootstrap=bootstrap, seed=seed).to_dict()
    except BlackoutError as exc:
        dist["power_law"] = None
        dist["power_law_error"] = str(exc)

    lvals, lfirst = np.unique(lines, return_inverse=True)
    pmf = np.bincount(lfirst, weights=w, minlength=lvals.size)
    lc_vals, lc_p = _weighted_ccdf(lines.astype(float), w)
    lines_dist = {
        "mean": float(w @ lines), "max": int(lines.max()),
        "pmf": {"lines": [int(v) for v in lvals], "p": [float(q) for q in pmf]},
        "ccdf": {"lines": [int(v) for v in lc_vals], "p": [float(q) for q in lc_p]},
    }

    critical: dict[str, Any] | None = None
    if initiating is not None and tripped is not None:
        if len(initiating) != n or len(tripped) != n:
            raise BlackoutError("risk metrics: initiating/tripped need one entry per cascade")
        thr = _weighted_quantile(loss, w, large_quantile) if large_mw is None else large_mw
        large = (loss >= thr) & (loss > 0)
        score: dict[int, float] = {}
        freq: dict[int, float] = {}
        n_init: dict[int, int] = {}
        n_trip: dict[int, int] = {}
        for i in np.flatnonzero(large).tolist():
            ini = {int(b) for b in initiating[i]}
            tri = {int(b) for b in tripped[i]}
            for b in ini | tri:
                score[b] = score.get(b, 0.0) + w[i] * loss[i]
                freq[b] = freq.get(b, 0.0) + w[i]
            for b in ini:
                n_init[b] = n_init.get(b, 0) + 1
            for b in tri - ini:
                n_trip[b] = n_trip.get(b, 0) + 1
        total = float(w[large] @ loss[large])
        ranked = sorted(score, key=lambda b: (-score[b], -freq[b], b))[:max(top, 0)]
        rows = [{
            "branch": b,
            "name": str(branch_names[b]) if branch_names is not None else str(b),
            "score_mw": float(score[b]), "share": float(score[b] / total) if total else 0.0,
            "frequency": float(freq[b]), "initiating": n_init.get(b, 0),
            "tripped": n_trip.get(b, 0),
        } for b in ranked]
        critical = {"large_mw": float(thr), "large_cascades": int(large.sum()),
                    "large_weight": float(w[large].sum()), "rows": rows}
    return {"scenarios": int(n), "expected_demand_loss": expected,
            "demand_loss_distribution": dist, "lines_outaged_distribution": lines_dist,
            "critical_lines": critical}
