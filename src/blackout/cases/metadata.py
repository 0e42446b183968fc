"""What ``blackout cases`` lists, without building every case.

Building the 14 built-in cases through pandapower takes 20-30 s; their sizes are
fixed data, so they are recorded once in ``metadata.json`` beside this module
(:func:`write_metadata` regenerates it; a test checks the recorded rows against freshly
built small cases and that every built-in case has a row).

Regenerate after changing a case: ``python -m blackout.cases.metadata``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["case_row", "case_metadata", "write_metadata", "METADATA_PATH", "COLUMNS"]

#: the recorded sizes of the built-in cases
METADATA_PATH = Path(__file__).parent / "metadata.json"
#: the columns of a row (units in the names)
COLUMNS = ("name", "buses", "branches", "gens", "load_mw", "f_hz", "source")


def case_row(name: str) -> dict[str, Any]:
    """One case's row, built from the case itself (slow for the large cases)."""
    from blackout.cases import builtin_cases, load_case

    g = load_case(name)
    return {"name": name, "buses": int(g.bus.n), "branches": int(g.branch.n),
            "gens": int(g.gen.n), "load_mw": round(float(g.summary()["load_mw"]), 1),
            "f_hz": float(g.f_hz), "source": builtin_cases()[name].source}


@lru_cache(maxsize=1)
def _recorded() -> dict[str, dict[str, Any]]:
    if not METADATA_PATH.exists():
        return {}
    rows = json.loads(METADATA_PATH.read_text(encoding="utf-8"))
    return {str(r["name"]): r for r in rows}


def case_metadata() -> list[dict[str, Any]]:
    """A row per built-in case (:data:`COLUMNS`), from the recorded sizes; a case with
    no recorded row (a new one) is built. The source comes from the case registry."""
    from blackout.cases import builtin_cases

    rec = _recorded()
    rows = []
    for name, info in builtin_cases().items():
        row = dict(rec[name]) if name in rec else case_row(name)
        row["source"] = info.source
        rows.append({c: row[c] for c in COLUMNS})
    return rows


def write_metadata(path: Path = METADATA_PATH) -> Path:
    """Build every built-in case and record its row in ``path``."""
    from blackout.cases import builtin_cases

    rows = [case_row(n) for n in builtin_cases()]
    path.write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    _recorded.cache_clear()
    return path


if __name__ == "__main__":
    print(write_metadata())
