"""Branch ratings without a power flow: the rule's grammar, unrated branches, grandfathering.

Many MATPOWER cases carry no ratings (case118, case300: all zero). A cascade
needs them, so blackout derives them with a stated rule that is recorded in
``grid.notes["ratings"]`` and per branch in ``rating_given``; never silently. The rule's
text (:data:`RATINGS_GRAMMAR`, :func:`parse_ratings_spec`) lives here; deriving ratings
from base-case flows needs a power flow and lives in :mod:`blackout.flow.ratings`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from blackout.errors import BlackoutError
from blackout.grid.model import Grid

__all__ = ["RatingsSpec", "RatingsSpecError", "parse_ratings_spec", "grandfather_base",
           "unrated_branches", "RATINGS_GRAMMAR"]

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
