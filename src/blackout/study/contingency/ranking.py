"""The ranking rule of the contingency tables (N-1 and N-k), in one place."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

__all__ = ["rank_rows"]


def rank_rows(table: pd.DataFrame, by: str, ties: Sequence[str], top: int | None = None
              ) -> pd.DataFrame:
    """Rows of ``table`` sorted by column ``by`` (descending), ties broken by the columns
    ``ties`` in order (descending; a stable sort: equal rows keep their order); the
    first ``top`` rows when ``top`` is given."""
    keys = list(dict.fromkeys([by, *ties]))
    out = table.sort_values(keys, ascending=False, kind="stable")
    return out if top is None else out.head(top)
