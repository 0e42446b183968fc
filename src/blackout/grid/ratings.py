"""Branch ratings: report which were given, derive the missing ones with an explicit rule.

Many MATPOWER cases carry no ratings (case118, case300: all zero). A cascade
needs them, so blackout derives them with a stated rule that is recorded in
``grid.notes["ratings"]`` and per branch in ``rating_given``; never silently.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from blackout.errors import BlackoutError
from blackout.flow.dc import run_dc, shared_dispatch_state
from blackout.grid.model import Grid

__all__ = ["derive_ratings", "RatingsSpec", "RatingsSpecError", "parse_ratings_spec", "apply_ratings",
           "grandfather_base", "unrated_branches", "RATINGS_GRAMMAR"]

#: the one grammar of ``--derive-ratings`` (every command) and of the scenario file's string
RATINGS_GRAMMAR = "K[,FLOOR_MVA][,basis=dc|ac][,override]"


class RatingsSpecError(BlackoutError):
    """A ``--derive-ratings`` value that does not follow :data:`RATINGS_GRAMMAR`."""


@dataclass(frozen=True)
class RatingsSpec:
    """The ratings rule: ``rate_a = k * max(|base flow|, floor_mva)`` (MVA).

    basis : "dc" (the study base case's DC ``|P|``) or "ac" (the AC base case's ``|S|``).
    override : re-rate every branch, given ratings included (else only the unrated ones).
    """

    k: float = 1.5
    floor_mva: float = 50.0
    basis: str = "dc"
    override: bool = False


def parse_ratings_spec(text: str, *, option: str = "--derive-ratings") -> RatingsSpec:
    """Parse ``K[,FLOOR_MVA][,basis=dc|ac][,override]`` (the one grammar of every command).

    The older forms stay accepted: ``K,F,dc`` / ``K,F,ac`` (a bare basis) and ``K,F,all``
    (= ``override``). Raises :class:`RatingsSpecError` (exit 2 from the CLI) naming
    ``option`` on anything else.
    """
    parts = [p.strip() for p in str(text).split(",") if p.strip()]
    bad = RatingsSpecError(f"{option} expects {RATINGS_GRAMMAR}, got {text!r}")
    if not parts:
        raise bad
    try:
        k = float(parts[0])
    except ValueError:
        raise bad from None
    floor = 50.0
    rest = parts[1:]
    if rest:
        try:
            floor = float(rest[0])
            rest = rest[1:]
        except ValueError:
            pass
    basis, override = "dc", False
    for word in rest:
        w = word.lower().replace(" ", "")
        if w in ("override", "all"):
            override = True
        elif w in ("dc", "ac", "basis=dc", "basis=ac"):
            basis = w.rsplit("=", 1)[-1]
        else:
            raise bad
    if not (k > 0 and np.isfinite(k)) or not (floor >= 0 and np.isfinite(floor)):
        raise RatingsSpecError(f"{option}: K must be > 0 and FLOOR_MVA >= 0, got {text!r}")
    return RatingsSpec(k=k, floor_mva=floor, basis=basis, override=override)


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


def unrated_branches(grid: Grid) -> int:
    """In-service branches without a rating (``rate_a_mva <= 0``): they never trip."""
    br = grid.branch
    return int(np.sum(np.asarray(br["in_service"], dtype=bool)
                      & (np.asarray(br["rate_a_mva"], dtype=float) <= 0)))


def grandfather_base(grid: Grid, flow_mva: np.ndarray, *, factor: float = 1.1) -> Grid:
    """Re-rate every branch whose base-case flow ``flow_mva`` exceeds its ``rate_a_mva`` to
    ``factor`` x that flow (rate_b, rate_c: 1.1 and 1.2 x the new rate_a), so that the
    base case is feasible and only contingencies overload. Recorded in
    ``notes["ratings_grandfathered"]``."""
    br = grid.branch
    rate = np.asarray(br["rate_a_mva"], dtype=float)
    flow = np.abs(np.nan_to_num(np.asarray(flow_mva, dtype=float)))
    over = (rate > 0) & (flow > rate)
    new_a = np.where(over, factor * flow, rate)
    cols = {"rate_a_mva": new_a,
            "rate_b_mva": np.where(over, 1.1 * new_a, br["rate_b_mva"]),
            "rate_c_mva": np.where(over, 1.2 * new_a, br["rate_c_mva"])}
    note = (f"{int(over.sum())} branches above rate_a in the base case re-rated to "
            f"{factor:g} x their base flow (--grandfather-base)")
    return grid.replace(branch=br.with_columns(**cols),
                        notes={**grid.notes, "ratings_grandfathered": note})


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
