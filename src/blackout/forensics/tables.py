"""The forensics section's tables and series from an Explanation (no simulation here).

:func:`report_data` turns an :class:`~blackout.forensics.analysis.Explanation` (or
its ``to_dict()``) into plain tables and series ready for plotly and an HTML
table: posterior bars with their Monte Carlo error, the observation-by-hypothesis
reproduction matrix, the deciding and the non-discriminating observations, the
candidate observables ranked by information gain, both sensitivity tests, the
parameter ranges and the honesty statement.
"""

from __future__ import annotations

from typing import Any

from blackout.forensics.analysis import Explanation

__all__ = ["report_data"]


def report_data(explanation: Explanation | dict[str, Any]) -> dict[str, Any]:
    """Everything the report's forensics section shows, as JSON-safe data.

    Returns
    -------
    dict with keys
      ``title``, ``honesty``, ``method`` (text);
      ``posterior_bars``: [{"hypothesis", "posterior", "error" (MC sd), "prior",
      "effective_trials", "warning" (None or the few-effective-trials text), "replicates"
      (the two replicate runs' posteriors and whether they agree within 2 sd),
      "trials_failed"}] best first;
      ``failed_trials``: [{"hypothesis", "trial", "seed", "parameters", "error"}];
      ``matrix``: {"hypotheses": [...], "observations": [...], "reproduced": rows of
      per-hypothesis reproduction rates (0-1, None when unmeasured), "reliability": [...],
      "status": [...]};
      ``deciding``: the observations that move the posterior most (name, favours,
      discrimination in nats, posterior shift when dropped, source);
      ``non_discriminating``: [{"name", "status", "source"}];
      ``next_best``: the best candidate with its outcome -> posterior table, or None;
      ``candidates``: [{"name", "bits"}];
      ``sensitivity``: {"leave_one_out": rows (dropped, top, top_changed, posterior),
      "partisan_zero": {...}};
      ``parameters``: {hypothesis: {parameter: {"prior_5_50_95"|"prior_share",
      "posterior_5_50_95"|"posterior_share", "unit"}}};
      ``warnings``: [...].
    """
    d = explanation.to_dict() if isinstance(explanation, Explanation) else explanation
    hyps = sorted(d["hypotheses"], key=lambda h: -h["posterior"])
    names = [h["name"] for h in d["hypotheses"]]
    obs = d["observations"]
    deciding = sorted((o for o in obs if o["discriminating"]),
                      key=lambda o: -o["posterior_shift"])
    nb = d["next_best_observation"]
    return {
        "title": f"Forensics: which explanation fits {d['evidence']}?",
        "honesty": d["honesty"],
        "method": d["method"],
        "trials": d["trials"], "seed": d["seed"],
        "posterior_bars": [{"hypothesis": h["name"], "posterior": h["posterior"],
                            "error": h["posterior_sd"], "prior": h["prior"],
                            "effective_trials": h.get("effective_sample_size"),
                            "warning": h.get("warning"),
                            "replicates": h.get("seed_stability"),
                            "trials_failed": h.get("trials_failed", 0)} for h in hyps],
        "failed_trials": d.get("failed_trials", []),
        "matrix": {
            "hypotheses": names,
            "observations": [o["name"] for o in obs],
            "reproduced": [[o["reproduced_by"].get(n) for n in names] for o in obs],
            "reliability": [o["reliability"] for o in obs],
            "status": [o["status"] for o in obs],
        },
        "deciding": [{"name": o["name"], "favours": o["favours"],
                      "discrimination": o["discrimination"],
                      "posterior_shift": o["posterior_shift"], "source": o["source"]}
                     for o in deciding],
        "non_discriminating": [{"name": o["name"], "status": o["status"],
                                "source": o["source"]} for o in obs
                               if not o["discriminating"]],
        "next_best": None if nb is None else {
            "name": nb["name"], "description": nb["description"],
            "bits": nb["expected_information_gain_bits"], "outcomes": nb["outcomes"]},
        "candidates": [{"name": c["name"], "bits": c["expected_information_gain_bits"]}
                       for c in d["candidates"]],
        "sensitivity": d["sensitivity"],
        "parameters": {h["name"]: h["parameters"] for h in d["hypotheses"]},
        "warnings": d["warnings"],
    }
