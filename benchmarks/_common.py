"""Shared by the benchmark scripts: the repository's paths, the machine they ran on, a median timer.

The scripts import it as ``from _common import ...``: Python puts a script's own
folder first on sys.path, so this works from any working directory, while
archgym and agents come from the installed package.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import platform
import subprocess
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
#: Outputs of the real MAESTRO, BookSim2 and ConfuciuX, committed with the tests
#: (each folder's README says which tool, commit and command produced it).
REFERENCE = REPO / "tests" / "data" / "reference"
#: Where the scripts write by default (not tracked); every script takes --out.
OUT = REPO / "benchmarks" / "out"


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (or platform's guess)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def machine_info() -> dict:
    """Date, CPU, cores, load, Python and numpy versions, and the git commit."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    info = {
        "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": usable,
        "platform": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "numpy": np.__version__,
        "loadavg_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        rev = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=5, check=False)
        if rev.returncode == 0:
            info["git_commit"] = rev.stdout.strip()
    return info


def median_time(fn, repeats: int) -> float:
    """Median wall time of fn() over repeats calls, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def write_csv(path: Path, rows: list[dict], fields: list[str] | None = None) -> Path:
    """Write ``rows`` as CSV with a header (``fields``, or the first row's keys)."""
    import csv

    with Path(path).open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields or list(rows[0]), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return Path(path)


def add_sweep_arguments(parser, quick_help: str) -> None:
    """The options every reproduction that runs a sweep on Ray takes."""
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--out", type=Path, default=OUT, help="output folder (default: %(default)s)")
    parser.add_argument("--address", default=None, help="join this Ray cluster (default: a local instance)")
    parser.add_argument("--num-cpus", type=int, default=None, help="local Ray instance size")
    parser.add_argument("--from-runs", type=Path, default=None,
                        help="a previous run's sweep folder: its run records are reused, nothing is run")


def load_runs(folder: Path, pattern: str = "runs/*.json") -> list:
    """The run records (agents.RunResult) a previous sweep saved under ``folder``."""
    from agents import RunResult

    return [RunResult.load_json(p) for p in sorted(Path(folder).glob(pattern))]
