"""Results store of a sweep: a folder of Parquet chunks and a JSON manifest.

Layout::

    DIR/_manifest.json           what the sweep is (case, scenario, trials, root seed,
                                 engine, options, chunk size, versions)
    DIR/chunk-000000.parquet     trials [0, chunk_size), one row per trial
    DIR/chunk-000001.parquet     ...

A chunk is written to a temporary file in DIR (``.chunk-*.tmp``, not a ``.parquet``
name) and renamed into place (``os.replace``, atomic on POSIX): a chunk file either
holds all of its trials or does not exist, so a sweep killed at any moment resumes by
running exactly the chunks that are missing (temporary files left by the kill are
removed). Every chunk has the same Arrow schema (given by the writer) and carries the
sweep's description as Parquet key-value metadata ``blackout`` (JSON), which
:func:`blackout.report.sweep.read_sweep` reads. A trial that raised is a row with
``status == "error"``, its error message and its seed.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from blackout.errors import BlackoutError

__all__ = ["ResultStore", "MANIFEST", "encode_chunk"]

#: a leading underscore: Parquet readers (pyarrow's dataset discovery, ``pd.read_parquet(DIR)``)
#: skip it, so the folder reads as one table
MANIFEST = "_manifest.json"
#: the manifest's earlier name, still read (never written)
LEGACY_MANIFEST = "manifest.json"
#: manifest keys that may differ between a sweep and its resumption
VOLATILE = ("created", "workers", "scheduler", "versions")


class ResultStore:
    """A sweep's folder: manifest, chunk paths, atomic writes, completed chunks."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    # ------------------------------------------------------------------ manifest
    def create(self, manifest: dict[str, Any], *, resume: bool) -> dict[str, Any]:
        """Start (or, with ``resume``, continue) a sweep described by ``manifest``.

        Resuming checks that the stored manifest describes the same sweep (every key but
        :data:`VOLATILE`); starting a new sweep in a folder that already holds one, or
        files of any kind, is refused (use ``--resume`` or another folder). Returns the
        manifest in force. Raises :class:`BlackoutError`.
        """
        if self.path.exists() and not self.path.is_dir():
            raise BlackoutError(f"--out {self.path}: exists and is not a folder")
        self.path.mkdir(parents=True, exist_ok=True)
        existing = self.manifest_path()
        if existing.exists():
            old = self.manifest()
            if not resume:
                raise BlackoutError(f"{self.path} already holds a sweep; pass --resume to "
                                    "continue it or choose another --out folder")
            keys = sorted((set(manifest) | set(old)) - set(VOLATILE))
            diff = [k for k in keys if _jsonable(old.get(k)) != _jsonable(manifest.get(k))]
            if diff:
                raise BlackoutError(f"--resume: {self.path} holds a different sweep "
                                    f"(differs in {', '.join(diff)})")
            self.clean_temporary()
            return old
        if any(p for p in self.path.iterdir() if not p.name.startswith(".")):
            raise BlackoutError(f"--out {self.path}: folder is not empty and holds no sweep "
                                f"({MANIFEST} missing); choose an empty or new folder")
        _atomic_write_text(existing, json.dumps(manifest, indent=2, sort_keys=True))
        return manifest

    def manifest_path(self) -> Path:
        """Where the manifest is (the earlier name ``manifest.json`` if only it exists)."""
        path = self.path / MANIFEST
        legacy = self.path / LEGACY_MANIFEST
        return legacy if not path.exists() and legacy.exists() else path

    def manifest(self) -> dict[str, Any]:
        """The stored manifest (raises :class:`BlackoutError` if there is none)."""
        path = self.manifest_path()
        if not path.is_file():
            raise BlackoutError(f"{self.path} is not a sweep folder (no {MANIFEST})")
        from blackout.inputfiles import read_text

        try:  # a regular UTF-8 file under the text size cap, like every other input
            return dict(json.loads(read_text(path, what="sweep manifest")))
        except (OSError, ValueError) as exc:
            raise BlackoutError(f"{path}: unreadable sweep manifest ({exc})") from None

    # ------------------------------------------------------------------ chunks
    def chunk_path(self, chunk: int) -> Path:
        """Path of chunk number ``chunk``."""
        return self.path / f"chunk-{chunk:06d}.parquet"

    def completed(self) -> set[int]:
        """Chunks already written in full."""
        done = set()
        for p in self.path.glob("chunk-*.parquet"):
            try:
                done.add(int(p.stem.split("-")[1]))
            except ValueError:
                continue
        return done

    def clean_temporary(self) -> None:
        """Remove temporary chunk files left by an interrupted writer."""
        for p in self.path.glob(".chunk-*.tmp"):
            p.unlink(missing_ok=True)

    def write_chunk(self, chunk: int, records: Iterable[dict[str, Any]] | pa.Table | bytes,
                    *, schema: pa.Schema | None = None,
                    metadata: dict[str, Any] | None = None) -> Path:
        """Write one chunk atomically (temp file in the folder, fsync, rename): its records
        (dicts or an Arrow table, encoded here by :func:`encode_chunk`) or an already
        encoded Parquet file's bytes (written as they are)."""
        data = records if isinstance(records, bytes) else encode_chunk(
            records, schema=schema, metadata=metadata)
        fd, tmp = tempfile.mkstemp(prefix=f".chunk-{chunk:06d}-", suffix=".tmp", dir=self.path)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)  # mkstemp makes it private; a result is for reading
            os.replace(tmp, self.chunk_path(chunk))
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return self.chunk_path(chunk)

    def load(self) -> pd.DataFrame:
        """Every completed trial, ordered by trial number."""
        paths = sorted(self.path.glob("chunk-*.parquet"))
        if not paths:
            return pd.DataFrame()
        tables = [pq.read_table(p) for p in paths]
        try:  # one Arrow table, one conversion (the chunks share the writer's schema)
            frame = pa.concat_tables(tables, promote_options="default").to_pandas()
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # chunks of differing column types
            frame = pd.concat([t.to_pandas() for t in tables], ignore_index=True)
        return frame.sort_values("trial", kind="stable").reset_index(drop=True)


def _jsonable(value: Any) -> Any:
    """``value`` as it reads back from JSON (tuples become lists)."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def _atomic_write_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".manifest-", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def encode_chunk(records: Iterable[dict[str, Any]] | pa.Table, *,
                 schema: pa.Schema | None = None,
                 metadata: dict[str, Any] | None = None) -> bytes:
    """One chunk as Parquet file bytes (done where the trials ran, so the process that
    writes the results only writes bytes).

    ``schema`` fixes the column types (so that every chunk reads back alike, even one
    whose optional columns are all null); a table must already have it. ``metadata``
    is stored as the Parquet key-value entry ``blackout`` (JSON)."""
    if isinstance(records, pa.Table):
        table = records
        if schema is not None and not table.schema.equals(schema):
            raise ValueError("chunk table schema differs from the sweep's")
    elif schema is not None:
        table = pa.Table.from_pylist(list(records), schema=schema)
    else:
        table = pa.Table.from_pandas(pd.DataFrame(list(records)), preserve_index=False)
    if metadata is not None:
        meta = dict(table.schema.metadata or {})
        meta[b"blackout"] = json.dumps(metadata, sort_keys=True).encode()
        table = table.replace_schema_metadata(meta)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return bytes(sink.getvalue().to_pybytes())
