"""Start-up of the commands a user types first: ``blackout --help``, ``blackout cases``,
``import blackout`` (issue 21: help <= 1.5 s, cases <= 2 s).

Each is run as a fresh process, as a user runs it (median wall time of the repeats);
``blackout cases`` reads the recorded case sizes (``blackout/cases/metadata.json``)
instead of building the 14 cases through pandapower (20-30 s before).

``python bench_cli.py [REPEATS]`` (default 5).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import write_result

EXE = Path(sys.executable).parent / "blackout"
COMMANDS = {
    "blackout --help": [str(EXE), "--help"],
    "blackout cases --format json": [str(EXE), "cases", "--format", "json"],
    "python -c 'import blackout'": [sys.executable, "-c", "import blackout"],
}
TARGETS_S = {"blackout --help": 1.5, "blackout cases --format json": 2.0}


def wall(cmd: list[str], repeats: int) -> float:
    """Median wall time of ``cmd`` in seconds (one untimed warm-up run)."""
    subprocess.run(cmd, capture_output=True, check=True)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(repeats: int = 5) -> None:
    rows, targets = [], []
    for label, cmd in COMMANDS.items():
        t = wall(cmd, repeats)
        rows.append({"command": label, "wall_s": round(t, 2), "repeats": repeats})
        if label in TARGETS_S:
            targets.append({"target": f"issue 21: {label} <= {TARGETS_S[label]} s",
                            "measured": f"{t:.2f} s", "met": t <= TARGETS_S[label]})
        print(f"{label}: {t:.2f} s")
    write_result("cli", "Command start-up (fresh process each run)", rows,
                 ["median wall time of fresh processes after one warm-up run; the help "
                  "imports no solver (pandapower, the engine and restoration load when a "
                  "command needs them)"], targets=targets)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
