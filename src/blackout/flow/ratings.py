"""Branch ratings derived from base-case flows (DC or AC) with an explicit, recorded rule.

:func:`derive_ratings` rates unrated branches as ``k * max(base flow, floor_mva)`` (MVA)
and writes the rule into ``grid.notes["ratings"]``; :func:`apply_ratings` applies a
``--derive-ratings`` rule (:mod:`blackout.grid.ratings` holds its grammar).
"""

from __future__ import annotations

import numpy as np

from blackout.errors import BlackoutError
from blackout.flow.dc import run_dc, shared_dispatch_state
from blackout.grid.model import Grid
from blackout.grid.ratings import RatingsSpec, parse_ratings_spec

__all__ = ["apply_ratings", "derive_ratings"]


def apply_ratings(grid: Grid, spec: RatingsSpec | str | None, *,
                  participation: str | None = "headroom") -> Grid:
    """``grid`` rated by ``spec`` (a :class:`RatingsSpec` or its text); unchanged if None.
    ``participation``: the base case the flows come from (see :func:`derive_ratings`)."""
    if spec is None:
        return grid
    if isinstance(spec, str):
        spec = parse_ratings_spec(spec)
    return derive_ratings(grid, k=spec.k, floor_mva=spec.floor_mva,
                          override_given=spec.override, basis=spec.basis,
                          participation=participation)


def derive_ratings(
    grid: Grid, *, k: float = 1.5, floor_mva: float = 50.0, override_given: bool = False,
    basis: str = "dc", participation: str | None = "headroom",
) -> Grid:
    """A new grid whose unrated branches get ``rate_a = k * max(base flow, floor_mva)`` (MVA).

    ``basis`` says which base-case flow: ``"dc"`` the DC active flow ``|P|`` (default) of
    the studies' base case: the case dispatch with each island's imbalance shared by the
    ``participation`` rule (:func:`blackout.flow.dc.shared_dispatch_state`; None: the
    plain DC power flow of the case, its slack taking the whole mismatch, as ``blackout pf
    --dc`` shows it);
    ``"ac"`` the AC apparent power, the larger of ``|S|`` at the two ends (what a thermal
    rating limits; with DC-sized ratings the reactive flow alone can overload a branch
    in AC before any outage). A branch the AC base case leaves dark gets ``floor_mva``.
    ``rate_b`` and ``rate_c`` of those branches are set to 1.1x and 1.2x ``rate_a``
    (long-term and short-term emergency). With ``override_given`` every branch is
    re-rated by the rule. The rule is written into ``grid.notes["ratings"]``.
    """
    if basis == "dc":
        state = None if participation is None else shared_dispatch_state(grid, participation)  # type: ignore[arg-type]
        flows = np.abs(np.nan_to_num(np.asarray(run_dc(grid, state).branch["p_from_mw"],
                                                dtype=float)))
        what = "|base DC flow|"
    elif basis == "ac":
        from blackout.flow import run_ac

        res = run_ac(grid)
        if not res.converged:
            raise BlackoutError(f"derive_ratings(basis='ac'): the AC base case of {grid.name} "
                                "does not converge; use basis='dc'")
        ac = res.branch
        flows = np.maximum(
            *[np.hypot(np.nan_to_num(np.asarray(ac[f"p_{e}_mw"], dtype=float)),
                       np.nan_to_num(np.asarray(ac[f"q_{e}_mvar"], dtype=float)))
              for e in ("from", "to")])
        what = "base AC |S| (larger end)"
    else:
        raise BlackoutError(f"derive_ratings: basis must be 'dc' or 'ac', got {basis!r}")
    target = ~grid.branch["rating_given"] | (grid.branch["rate_a_mva"] <= 0)
    if override_given:
        target = np.ones(grid.branch.n, dtype=bool)
    rate = k * np.maximum(flows, floor_mva)
    br = grid.branch
    new = {
        "rate_a_mva": np.where(target, rate, br["rate_a_mva"]),
        "rate_b_mva": np.where(target, 1.1 * rate, br["rate_b_mva"]),
        "rate_c_mva": np.where(target, 1.2 * rate, br["rate_c_mva"]),
        "rating_given": np.where(target, False, br["rating_given"]),
    }
    rule = (f"{int(target.sum())} of {br.n} branch ratings derived as rate_a = {k:g} x "
            f"max({what}, {floor_mva:g} MVA), rate_b = 1.1 rate_a, rate_c = 1.2 rate_a")
    return grid.replace(branch=br.with_columns(**new),
                        notes={**grid.notes, "ratings": rule,
                               "ratings_rule": {"k": k, "floor_mva": floor_mva,
                                                "basis": basis, "participation": participation}})
