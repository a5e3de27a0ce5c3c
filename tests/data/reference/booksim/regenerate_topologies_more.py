"""Regenerate topologies_more.csv: the real BookSim2 on fat trees, flattened butterflies and cmeshes.

    python tests/data/reference/booksim/regenerate_topologies_more.py /path/to/booksim
        [--group fattree|flatfly|cmesh ...] [--quick]

Runs the oracle (never called by the project: by hand only) with the sweep of
regenerate_cubes.py (booksim_base.cfg plus overrides, rates 0.02, 0.06, ...
while ``ok``, then back 0.01-0.03 below the first non-ok rate, stop after 2
non-ok grid rates; the same status rules) on each curve of CURVES.  Writes
topologies_more.csv beside this script, the columns of cubes.csv; a group's
rows replace its old rows (``--group``, repeatable: only those groups).  Two
runs at a time.  ``--quick`` runs the first curve's first rates only.
"""

from __future__ import annotations

import argparse
import csv
import os
from concurrent.futures import ThreadPoolExecutor

from regenerate_cubes import FIELDS, HERE, sweep

OUT = HERE / "topologies_more.csv"

# Curves by group (= topology): (topology, k, n, traffic, routing_function, packet_size,
# num_vcs, options)
CURVES = {
    "fattree": [
        ("fattree", 4, 3, "uniform", "nca", 1, 4, ""),
        ("fattree", 4, 3, "uniform", "anca", 1, 4, ""),
        # bitcomp: every packet crosses a root
        ("fattree", 4, 3, "bitcomp", "nca", 1, 4, ""),
        ("fattree", 4, 3, "bitcomp", "anca", 1, 4, ""),
        ("fattree", 4, 3, "uniform", "nca", 4, 2, ""),
        ("fattree", 4, 3, "transpose", "anca", 4, 2, ""),
        ("fattree", 2, 3, "uniform", "nca", 1, 2, ""),
        ("fattree", 4, 2, "uniform", "anca", 1, 4, ""),
        # BookSim's fattree_config's router: held switches, credit_delay 2, routing_delay 0
        ("fattree", 4, 3, "uniform", "nca", 1, 4,
         "hold_switch_for_packet=1 vc_buf_size=16 credit_delay=2 routing_delay=0"),
    ],
    # BookSim's flatflyconfig network: 4 x 4 routers of 4 nodes (x, y: the routers' grid,
    # xr = yr: nodes per router side); 10 ports, so at most 6 VCs in 64-bit masks
    "flatfly": [
        ("flatfly", 4, 2, "uniform", "ran_min", 1, 4, "c=4 x=4 y=4 xr=2 yr=2"),
        ("flatfly", 4, 2, "uniform", "xyyx", 1, 4, "c=4 x=4 y=4 xr=2 yr=2"),
        ("flatfly", 4, 2, "asymmetric", "ran_min", 1, 6, "c=4 x=4 y=4 xr=2 yr=2"),
    ],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("oracle", help="path of the BookSim2 binary")
    parser.add_argument("--group", action="append", choices=sorted(CURVES),
                        help="only this group's curves (repeatable)")
    parser.add_argument("--quick", action="store_true", help="smoke test: one curve, two rates")
    args = parser.parse_args()
    oracle = os.path.abspath(args.oracle)
    os.chdir(HERE)
    if args.quick:
        print(sweep(oracle, next(iter(CURVES.values()))[0], quick=True))
        return
    groups = args.group or list(CURVES)
    kept = []
    if OUT.exists():
        with open(OUT, newline="") as fh:
            kept = [row for row in csv.DictReader(fh) if row["topology"] not in groups]
    todo = [curve for g in groups for curve in CURVES[g]]
    with ThreadPoolExecutor(2) as pool:  # each run is a process of its own
        curves = list(pool.map(lambda c: sweep(oracle, c, False), todo))
    with open(OUT, "w", newline="") as fh:
        writer = csv.DictWriter(fh, FIELDS)
        writer.writeheader()
        writer.writerows(kept)
        for rows in curves:
            writer.writerows(rows)


if __name__ == "__main__":
    main()
