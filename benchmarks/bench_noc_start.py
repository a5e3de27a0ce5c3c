#!/usr/bin/env python
"""What a NoC env costs to start in a new process: first start (empty disk cache) against later ones.

    python benchmarks/bench_noc_start.py            # NoCRouting-v0 and -MultiPattern-v0, 3 rounds
    python benchmarks/bench_noc_start.py --quick    # NoCRouting-v0, 1 round
        [--ids ID ...] [--rounds N] [--out DIR]

Each measurement is a fresh Python process that imports archgym, makes the env
and resets it (the reset measures or loads the latency table), timed inside
the process: wall time (``time.perf_counter``) and CPU time of all its threads
(``time.process_time``) from just before ``gym.make`` to just after
``reset``.  "first" runs with an empty cache folder (``ARCHGYM_CACHE_DIR``
set to a new temporary folder), "second" right after with the folder the
first run filled.  Rounds alternate first and second; the table gives medians.
The user's own cache is never touched.

Writes ``bench_noc_start.csv`` (one row per id and start) to --out
(default benchmarks/out/).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from _common import OUT, machine_info, write_csv  # benchmarks/_common.py

CHILD = """
import json, time
t0, c0 = time.perf_counter(), time.process_time()
import gymnasium as gym
import archgym
env = gym.make({env_id!r})
env.reset(seed=0)
print(json.dumps({{"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0}}))
"""


def start(env_id: str, cache: str) -> dict:
    env = {**os.environ, "ARCHGYM_CACHE_DIR": cache}
    out = subprocess.run([sys.executable, "-c", CHILD.format(env_id=env_id)], env=env, capture_output=True,
                         text=True, check=True, timeout=3600)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="NoCRouting-v0 only, one round")
    ap.add_argument("--ids", nargs="+", default=None,
                    help="env ids (default NoCRouting-v0 NoCRouting-MultiPattern-v0)")
    ap.add_argument("--rounds", type=int, default=None, help="rounds of (first, second) (default 3; 1 with --quick)")
    ap.add_argument("--out", default=str(OUT), help="folder for bench_noc_start.csv")
    args = ap.parse_args(argv)
    ids = args.ids or (["NoCRouting-v0"] if args.quick else ["NoCRouting-v0", "NoCRouting-MultiPattern-v0"])
    rounds = args.rounds or (1 if args.quick else 3)
    info = machine_info()
    print(f"{info['cpu']}, {info['usable_cpus']} usable CPUs, commit {info.get('git_commit', '?')}")
    rows = []
    print(f"{'id':28} {'start':>6} {'wall s':>8} {'CPU s':>8}  (medians of {rounds})")
    for env_id in ids:
        runs = {"first": [], "second": []}
        for _ in range(rounds):
            with tempfile.TemporaryDirectory(prefix="archgym-bench-cache-") as cache:
                runs["first"].append(start(env_id, cache))
                runs["second"].append(start(env_id, cache))
        for kind, samples in runs.items():
            row = {"id": env_id, "start": kind, "rounds": rounds,
                   "wall_s": float(np.median([s["wall"] for s in samples])),
                   "cpu_s": float(np.median([s["cpu"] for s in samples]))}
            rows.append(row)
            print(f"{env_id:28} {kind:>6} {row['wall_s']:>8.3f} {row['cpu_s']:>8.3f}", flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"wrote {write_csv(out / 'bench_noc_start.csv', rows)}")


if __name__ == "__main__":
    main()
