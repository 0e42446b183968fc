"""The sweep results store: atomic chunks, completed chunks, loading them back."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from blackout.study.sweep.store import ResultStore

SCHEMA = pa.schema([("trial", pa.int64()), ("load_lost_mw", pa.float64()),
                    ("tripped", pa.list_(pa.int64())), ("error", pa.string())])


def test_chunks_load_back_in_trial_order(tmp_path: Path) -> None:
    """Chunks written out of order (records, and bytes encoded elsewhere) read back as one
    frame ordered by trial, list columns as arrays, nulls kept; no temporary file left."""
    from blackout.study.sweep.store import encode_chunk

    store = ResultStore(tmp_path)
    store.write_chunk(1, [{"trial": 3, "load_lost_mw": 1.5, "tripped": [4, 7], "error": None},
                          {"trial": 2, "load_lost_mw": 0.0, "tripped": [], "error": "boom"}],
                      schema=SCHEMA)
    store.write_chunk(0, encode_chunk([{"trial": 0, "load_lost_mw": 2.0, "tripped": [1],
                                        "error": None},
                                       {"trial": 1, "load_lost_mw": 0.5, "tripped": [2, 3],
                                        "error": None}], schema=SCHEMA))
    assert store.completed() == {0, 1}
    assert not list(tmp_path.glob(".chunk-*"))
    frame = store.load()
    assert frame["trial"].tolist() == [0, 1, 2, 3]
    assert frame["load_lost_mw"].tolist() == [2.0, 0.5, 0.0, 1.5]
    assert [list(t) for t in frame["tripped"]] == [[1], [2, 3], [], [4, 7]]
    assert frame["error"].tolist() == [None, None, "boom", None]


def test_chunks_of_differing_column_types_still_load(tmp_path: Path) -> None:
    """A chunk whose column has another type (written without the sweep's schema) does not
    stop the folder from loading."""
    store = ResultStore(tmp_path)
    store.write_chunk(0, [{"trial": 0, "x": 1}])
    store.write_chunk(1, [{"trial": 1, "x": "one"}])
    frame = store.load()
    assert frame["trial"].tolist() == [0, 1]
    assert frame["x"].tolist() == [1, "one"]
