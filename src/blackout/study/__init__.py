"""study: contingency analysis, Monte Carlo sweeps and their results: the study API.

Every name below is imported on first use (importing ``blackout.study``, e.g. in a
worker, stays light). Where they live:

- the fast DC engine (:mod:`blackout.study.fastdc`): :class:`DCModel` (the factorised
  DC model of a grid, MW / per unit), :func:`balanced_grid`, :func:`run_cascades`
  (many cascades at once) and its :class:`BatchResult`;
- contingencies (:mod:`blackout.study.contingency`): :func:`screen_n1` /
  :func:`verify_ac` / :func:`base_violations` (N-1), :func:`screen_nk`,
  :func:`sample_nk` and :func:`random_chemistry` (N-k);
- sweeps (:mod:`blackout.study.sweep`): :func:`run_sweep` with :class:`SweepOptions`,
  :func:`load_sweep` (one row per trial; see
  :func:`blackout.study.sweep.results.load_sweep` for the columns), :func:`summarize`,
  :func:`rerun_trial`, :class:`ResultStore`, :func:`make_executor`;
- risk (:mod:`blackout.study.risk`): :func:`risk_metrics`, :func:`fit_power_law`,
  :func:`ccdf`.
"""

from __future__ import annotations

from importlib import import_module

__all__ = ["BatchResult", "DCModel", "MalignantResult", "N1Result", "NkResult",
           "PowerLawFit", "ResultStore", "SweepOptions", "SweepResult", "balanced_grid",
           "base_violations", "ccdf", "fit_power_law", "load_sweep", "make_executor",
           "random_chemistry", "rerun_trial", "risk_metrics", "run_cascades", "run_sweep",
           "sample_nk", "screen_n1", "screen_nk", "summarize", "verify_ac"]

#: public name -> the module that defines it
_HOME = {
    "BatchResult": "fastdc.engine", "run_cascades": "fastdc.engine",
    "DCModel": "fastdc.model", "balanced_grid": "fastdc.model",
    "N1Result": "contingency.n1", "screen_n1": "contingency.n1",
    "verify_ac": "contingency.n1", "base_violations": "contingency.n1",
    "MalignantResult": "contingency.nk", "NkResult": "contingency.nk",
    "random_chemistry": "contingency.nk", "sample_nk": "contingency.nk",
    "screen_nk": "contingency.nk",
    "SweepOptions": "sweep.options", "SweepResult": "sweep.run", "run_sweep": "sweep.run",
    "load_sweep": "sweep.results", "summarize": "sweep.results",
    "rerun_trial": "sweep.results", "ResultStore": "sweep.store",
    "make_executor": "sweep.executors",
    "PowerLawFit": "risk", "ccdf": "risk", "fit_power_law": "risk",
    "risk_metrics": "risk",
}


def __getattr__(name: str) -> object:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'blackout.study' has no attribute {name!r}")
    return getattr(import_module(f"blackout.study.{home}"), name)


def __dir__() -> list[str]:
    return sorted(__all__)
