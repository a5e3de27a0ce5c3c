"""Regenerate topologies.csv: the real BookSim2 on networks beyond the k-ary n-cubes.

    python tests/data/reference/booksim/regenerate_topologies.py /path/to/booksim [--quick]

Runs the oracle (never called by the project: by hand only) with the sweep of
regenerate_cubes.py (booksim_base.cfg plus overrides, rates 0.02, 0.06, ...
while ``ok``, then back 0.01-0.03 below the first non-ok rate, stop after 2
non-ok grid rates; the same status rules) on each curve of CURVES, from this
folder (so an anynet's ``network_file`` is a path relative to it).  Writes
topologies.csv beside this script, the columns of cubes.csv.  Two runs at a
time.  ``--quick`` runs the first curve's first rates only.
"""

from __future__ import annotations

import argparse
import csv
import os
from concurrent.futures import ThreadPoolExecutor

from regenerate_cubes import FIELDS, HERE, sweep

# (topology, k, n, traffic, routing_function, packet_size, num_vcs, options)
CURVES = [
    # BookSim's anynet example graph (3 routers of 3 nodes) with its example's buffers
    ("anynet", 8, 2, "uniform", "min", 1, 1,
     "network_file=examples/anynet/anynet_file vc_buf_size=3"),
    ("anynet", 8, 2, "uniform", "min", 1, 2, "network_file=examples/anynet/anynet_file"),
    # a tree: a root with one node and 4 leaves of 3 nodes, 2-cycle channels down, 1 up
    ("anynet", 8, 2, "uniform", "min", 1, 2, "network_file=topologies/tree_anynet"),
    ("anynet", 8, 2, "uniform", "min", 4, 2, "network_file=topologies/tree_anynet"),
    ("fly", 4, 2, "uniform", "dest_tag", 1, 4, ""),
    ("fly", 4, 2, "uniform", "dest_tag", 4, 2, ""),
    ("fly", 4, 2, "transpose", "dest_tag", 1, 4, ""),
    ("fly", 2, 3, "uniform", "dest_tag", 1, 4, ""),
    # 8 nodes: long periods, or the accepted rate at 0.02 is too noisy for the 95% rule
    ("fly", 8, 1, "uniform", "dest_tag", 1, 8, "sample_period=10000"),
    ("fly", 4, 3, "uniform", "dest_tag", 1, 2, ""),
    ("fly", 4, 3, "bitcomp", "dest_tag", 1, 2, "vc_buf_size=4"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("oracle", help="path of the BookSim2 binary")
    parser.add_argument("--quick", action="store_true", help="smoke test: one curve, two rates")
    args = parser.parse_args()
    oracle = os.path.abspath(args.oracle)
    os.chdir(HERE)
    if args.quick:
        print(sweep(oracle, CURVES[0], quick=True))
        return
    with ThreadPoolExecutor(2) as pool:  # each run is a process of its own
        curves = list(pool.map(lambda c: sweep(oracle, c, False), CURVES))
    with open(HERE / "topologies.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, FIELDS)
        writer.writeheader()
        for rows in curves:
            writer.writerows(rows)


if __name__ == "__main__":
    main()
