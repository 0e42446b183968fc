"""Results store of a sweep: a folder of Parquet chunks and a JSON manifest.

Layout::

    DIR/manifest.json            what the sweep is (case, trials, root seed, settings)
    DIR/chunk-000000.parquet     trials [0, chunk_size), one row per trial
    DIR/chunk-000001.parquet     ...

A chunk is written to a temporary file in DIR and renamed into place
(``os.replace``, atomic on POSIX): a chunk file either holds all of its trials or
does not exist, so a sweep killed at any moment resumes by running exactly the
chunks that are missing. A trial that raised is a row with ``status == "error"``,
its error message and its seed.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from blackout.errors import BlackoutError

__all__ = ["ResultStore"]

MANIFEST = "manifest.json"


class ResultStore:
    """A sweep's folder: manifest, chunk paths, atomic writes, completed chunks."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    # ------------------------------------------------------------------ manifest
    def create(self, manifest: dict[str, Any], *, resume: bool) -> dict[str, Any]:
        """Start (or, with ``resume``, continue) a sweep described by ``manifest``.

        Resuming checks that the stored manifest describes the same sweep; starting a new
        sweep in a folder that already holds one is refused (use ``--resume`` or another
        folder)."""
        self.path.mkdir(parents=True, exist_ok=True)
        existing = self.path / MANIFEST
        if existing.exists():
            old = self.manifest()
            if not resume:
                raise BlackoutError(f"{self.path} already holds a sweep; pass --resume to "
                                    "continue it or choose another --out folder")
            keys = [k for k in manifest if k not in ("created", "workers", "scheduler")]
            diff = [k for k in keys if old.get(k) != manifest[k]]
            if diff:
                raise BlackoutError(f"--resume: {self.path} holds a different sweep "
                                    f"(differs in {', '.join(diff)})")
            return old
        _atomic_write_text(existing, json.dumps(manifest, indent=2, sort_keys=True))
        return manifest

    def manifest(self) -> dict[str, Any]:
        """The stored manifest."""
        path = self.path / MANIFEST
        if not path.exists():
            raise BlackoutError(f"{self.path} is not a sweep folder (no {MANIFEST})")
        return dict(json.loads(path.read_text(encoding="utf-8")))

    # ------------------------------------------------------------------ chunks
    def chunk_path(self, chunk: int) -> Path:
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

    def write_chunk(self, chunk: int, records: Iterable[dict[str, Any]]) -> Path:
        """Write one chunk's records atomically (temp file in the folder + rename)."""
        frame = pd.DataFrame(list(records))
        fd, tmp = tempfile.mkstemp(prefix=f".chunk-{chunk:06d}-", suffix=".tmp", dir=self.path)
        os.close(fd)
        try:
            frame.to_parquet(tmp, index=False)
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
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
        frame = pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)
        return frame.sort_values("trial", kind="stable").reset_index(drop=True)


def _atomic_write_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".manifest-", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text + "\n")
    os.replace(tmp, path)
