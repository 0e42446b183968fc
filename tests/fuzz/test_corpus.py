"""Issue 24's failing inputs, kept as regression data: each must exit 2 with one line.

``corpus/manifest.json`` lists every file with the command to run and a part of the
expected message (regenerate with ``python tests/fuzz/make_corpus.py``). Inputs a
repository cannot hold (a directory given as a file, a named pipe, a link to
/dev/zero) are made here.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

CORPUS = Path(__file__).parent / "corpus"
ENTRIES: list[dict[str, Any]] = json.loads((CORPUS / "manifest.json").read_text())["entries"]


def _id(entry: dict[str, Any]) -> str:
    return entry["file"] or "-".join(entry["argv"][:1] + entry["argv"][-2:])


@pytest.mark.parametrize("entry", ENTRIES, ids=[_id(e) for e in ENTRIES])
def test_corpus_input_exits_2_with_one_line(entry: dict[str, Any], cli, tmp_path: Path,  # type: ignore[no-untyped-def]
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "evilmod_ran"
    (tmp_path / "evilmod_corpus.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("this", None)
    path = str(CORPUS / entry["file"]) if entry["file"] else ""
    args = [a.replace("{file}", path) for a in entry["argv"]]
    t0 = time.monotonic()
    outcome = cli(*args)
    wall_s = time.monotonic() - t0
    outcome.check()
    assert outcome.exit_code == 2, f"{entry['issue']}: exit {outcome.exit_code}"
    assert entry["expect"] in outcome.stderr, (entry["issue"], outcome.stderr)
    assert not marker.exists() and "evilmod_corpus" not in sys.modules
    assert "this" not in sys.modules and "Beautiful is better" not in outcome.stdout
    assert wall_s < 30, f"{entry['issue']}: took {wall_s:.1f} s"


@pytest.mark.parametrize(("command", "suffix"), [("pf", ".m"), ("pf", ".json"),
                                                 ("run", ".yaml"), ("explain", ".yaml"),
                                                 ("report", ".json")])
@pytest.mark.parametrize("kind", ["directory", "fifo", "dev_zero"])
def test_non_regular_files_are_refused_at_once(command: str, suffix: str, kind: str,  # type: ignore[no-untyped-def]
                                               cli, tmp_path: Path) -> None:
    path = tmp_path / f"input{suffix}"
    if kind == "directory":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    t0 = time.monotonic()
    fmt = [] if command == "report" else ["--format", "json"]
    outcome = cli(command, str(path), *fmt, "--out", str(tmp_path / "out.txt"))
    outcome.check()
    assert outcome.exit_code == 2 and str(path) in outcome.stderr
    assert time.monotonic() - t0 < 10
