"""Points matched / tried per topology and routing: archgym against topologies_more.csv.

    PYTHONPATH=src python tests/data/reference/booksim/compare_topologies_more.py [--topology T]

Runs archgym (not the oracle) on every ``ok`` point of topologies_more.csv below 90%
of its curve's last stable rate (latency within 10%?) and on the stability checks
of tests/test_noc_topologies.py (stable 0.02 below BookSim's last stable rate, not
stable more than 0.02 above it), and prints the counts per (topology, routing):
the figures of docs/design/noc.md §15b.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

TESTS = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(TESTS))

from test_noc_fidelity import last_stable, read_curves  # noqa: E402
from test_noc_topologies import STABLE_LATENCY, config  # noqa: E402

from archgym import noc  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--topology", action="append",
                        help="only this topology's curves, e.g. fattree (repeatable)")
    args = parser.parse_args()
    reference = TESTS / "data" / "reference"
    curves = {key: pts for key, pts in read_curves(reference / "booksim" / "topologies_more.csv").items()
              if not args.topology or key[0] in args.topology}
    jobs = []
    for key, pts in curves.items():
        sat = last_stable(pts)
        jobs += [(key, rate, lat, "latency") for rate, st, lat in pts if st == "ok" and rate <= 0.9 * sat]
        cap = STABLE_LATENCY * pts[0][2]
        stable = [r for r, s, lat in pts if s == "ok" and lat <= cap]
        top = max(stable)
        jobs.append((key, max(r for r in stable if r <= top - 0.02 + 1e-9), cap, "stable"))
        above = [r for r, _, _ in pts if r not in stable and r > top + 0.02 + 1e-9]
        if above:
            jobs.append((key, min(above), cap, "unstable"))
    ours = noc.measure_many([config(reference, key, rate) for key, rate, _, _ in jobs], threads=2)
    score = defaultdict(lambda: [0, 0, 0, 0, 0.0])
    for (key, rate, ref, kind), o in zip(jobs, ours):
        s = score[key[0], key[4]]
        if kind == "latency":
            err = abs(o["avg_packet_latency"] - ref) / ref
            s[0] += o["status"] == "ok" and err <= 0.10
            s[1] += 1
            s[4] = max(s[4], err)
        else:
            stable = o["status"] == "ok" and o["avg_packet_latency"] <= ref
            s[2] += stable == (kind == "stable")
            s[3] += 1
    for (topology, routing), s in sorted(score.items()):
        print(f"{topology} {routing}: latency {s[0]}/{s[1]} within 10% (worst {100 * s[4]:.1f}%), "
              f"stability {s[2]}/{s[3]}")


if __name__ == "__main__":
    main()
