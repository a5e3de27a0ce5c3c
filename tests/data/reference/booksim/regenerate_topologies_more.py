"""Regenerate topologies_more.csv: the real BookSim2 on fat trees, flattened butterflies and dragonflies.

    python tests/data/reference/booksim/regenerate_topologies_more.py /path/to/booksim
        [--group cmesh|fattree|fattree_adaptive|flatfly|flatfly_nonmin|flatfly_ugal|flatfly_c16|dragonfly ...] [--routing R ...] [--quick]

Runs the oracle (never called by the project: by hand only) on each curve of
CURVES with the sweep of regenerate_cubes.py (booksim_base.cfg plus overrides,
the same status rules) on a grid of step STEP[group]: rates 0.02, 0.02 + step,
... while ``ok``, then step/4, 2 step/4, 3 step/4 below the first non-ok rate
until one is ok, stop after 2 non-ok grid rates (step 0.04: regenerate_cubes.py's
grid).  Writes topologies_more.csv beside this script, the columns of cubes.csv;
each curve's rows replace its old rows as soon as its sweep ends (``--group``,
repeatable: only those groups' curves; ``--routing``, repeatable: only those routings').  Two runs at a time.  ``--quick`` runs
the first curve's first rates only.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

from regenerate_cubes import FIELDS, HERE, measure

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
    ],
    # anca against nca near saturation, on a finer grid: another pattern on the 4-ary 3-tree
    # (transpose: some packets turn below the roots) and a 2-ary 4-tree (two up ports per
    # router: anca's two drawn ports are the same one half of the time)
    "fattree_adaptive": [
        ("fattree", k, n, traffic, routing, 1, 4, "")
        for k, n, traffic in ((4, 3, "transpose"), (2, 4, "bitcomp"))
        for routing in ("nca", "anca")
    ],
    # BookSim's flatflyconfig network: 4 x 4 routers of 4 nodes (x, y: the routers' grid,
    # xr = yr: nodes per router side); 10 ports, so at most 6 VCs in 64-bit masks
    "flatfly": [
        ("flatfly", 4, 2, "uniform", "ran_min", 1, 4, "c=4 x=4 y=4 xr=2 yr=2"),
        ("flatfly", 4, 2, "uniform", "xyyx", 1, 4, "c=4 x=4 y=4 xr=2 yr=2"),
        ("flatfly", 4, 2, "asymmetric", "ran_min", 1, 6, "c=4 x=4 y=4 xr=2 yr=2"),
    ],
    # the flatfly's non-minimal routings (issue 13): uniform and an adversarial pattern
    # (asymmetric: each node sends to the same position in either half of the nodes, two
    # destinations only); 3 VCs: BookSim's two valiant VC classes share VC 1
    "flatfly_nonmin": [
        ("flatfly", 4, 2, "uniform", "valiant", 1, 4, "c=4 x=4 y=4 xr=2 yr=2"),
        ("flatfly", 4, 2, "asymmetric", "valiant", 1, 4, "c=4 x=4 y=4 xr=2 yr=2"),
        ("flatfly", 4, 2, "uniform", "valiant", 1, 3, "c=4 x=4 y=4 xr=2 yr=2"),
        ("flatfly", 4, 2, "uniform", "ugal", 1, 4, "c=4 x=4 y=4 xr=2 yr=2"),
        ("flatfly", 4, 2, "asymmetric", "ugal", 1, 4, "c=4 x=4 y=4 xr=2 yr=2"),
        ("flatfly", 4, 2, "uniform", "adaptive_xyyx", 1, 4, "c=4 x=4 y=4 xr=2 yr=2"),
        ("flatfly", 4, 2, "asymmetric", "adaptive_xyyx", 1, 4, "c=4 x=4 y=4 xr=2 yr=2"),
    ],
    # the flatfly's other UGAL routings: ugal_xyyx (BookSim needs 4+ VCs) and ugal_pni
    # (8 VCs on this network: one VC class per destination-router coordinate)
    "flatfly_ugal": [
        ("flatfly", 4, 2, traffic, routing, 1, vcs, "c=4 x=4 y=4 xr=2 yr=2")
        for routing, vcs in (("ugal_xyyx", 4), ("ugal_pni", 8))
        for traffic in ("uniform", "asymmetric")
    ],
    # flatflies of 16 nodes per router (xr = 4: a node's channels take 1 to 3 cycles,
    # docs/design/noc.md §15b), on 2 x 2 and 4 x 4 routers
    "flatfly_c16": [
        ("flatfly", k, 2, traffic, "ran_min", 1, 4, f"c=16 x={k} y={k} xr=4 yr=4")
        for k in (2, 4) for traffic in ("uniform", "asymmetric")
    ],
    # BookSim's dragonflyconfig network at k = 2: 9 groups of 4 routers of 2 nodes (72 nodes),
    # local channels of 10 cycles, global ones of 100, so buffers of 256 flits and 10-flit
    # packets as in the example; tornado(72) shifts the node id by 35 (5 of each group's 8
    # nodes send to one other group)
    "dragonfly": [
        ("dragonflynew", 2, 1, "uniform", "min", 10, 2, "vc_buf_size=256"),
        ("dragonflynew", 2, 1, "uniform", "ugal", 10, 3, "vc_buf_size=256"),
        ("dragonflynew", 2, 1, "tornado(72)", "min", 10, 2, "vc_buf_size=256"),
        ("dragonflynew", 2, 1, "tornado(72)", "ugal", 10, 3, "vc_buf_size=256"),
    ],
    # BookSim's cmeshconfig network: 4 x 4 routers of c = 4 nodes (BookSim asserts c = 4,
    # x = y, xr = yr = 2); dor and xy_yx take the express channels, the *_no_express
    # routings the mesh links only
    "cmesh": [
        ("cmesh", 4, 2, traffic, routing, 1, 4, "c=4 x=4 y=4 xr=2 yr=2")
        for traffic, routing in (("uniform", "dor"), ("uniform", "dor_no_express"),
                                 ("bitcomp", "dor"), ("bitcomp", "dor_no_express"),
                                 ("transpose", "dor"), ("transpose", "dor_no_express"),
                                 ("uniform", "xy_yx"), ("transpose", "xy_yx_no_express"))
    ],
}
# The sweep's grid step per group (fat trees saturate late: a coarse grid, which also keeps
# their sweeps under 45 minutes on 2 busy cores)
STEP = {"fattree": 0.16, "fattree_adaptive": 0.04, "flatfly": 0.04, "flatfly_nonmin": 0.04, "flatfly_ugal": 0.04,
        "flatfly_c16": 0.04, "dragonfly": 0.06, "cmesh": 0.04}

_lock = threading.Lock()


def sweep(oracle: str, curve: tuple, step: float, quick: bool = False) -> list[dict]:
    rows, misses, rate = [], 0, 0.02
    while misses < 2 and rate <= 1.0:
        row = measure(oracle, curve, rate)
        rows.append(row)
        print(curve, rate, row["status"], row["avg_packet_latency"], file=sys.stderr)
        if row["status"] != "ok" and misses == 0:
            for back in (1, 2, 3):
                if rate - back * step / 4 <= 0:
                    break  # the first rate is not ok (too few packets to converge)
                below = measure(oracle, curve, round(rate - back * step / 4, 2))
                rows.append(below)
                if below["status"] == "ok":
                    break
        misses = misses + 1 if row["status"] != "ok" else 0
        rate = round(rate + step, 2)
        if quick and len(rows) >= 2:
            break
    return sorted(rows, key=lambda r: r["injection_rate"])


def _key(row: dict) -> tuple:
    return tuple(str(row[f]) for f in FIELDS[:8])


def save(rows: list[dict]) -> None:
    """Replace the curve's old rows in OUT by `rows`."""
    with _lock:
        old = []
        if OUT.exists():
            with open(OUT, newline="") as fh:
                old = [r for r in csv.DictReader(fh) if _key(r) != _key(rows[0])]
        with open(OUT, "w", newline="") as fh:
            writer = csv.DictWriter(fh, FIELDS)
            writer.writeheader()
            writer.writerows(old + rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("oracle", help="path of the BookSim2 binary")
    parser.add_argument("--group", action="append", choices=sorted(CURVES),
                        help="only this group's curves (repeatable)")
    parser.add_argument("--routing", action="append",
                        help="only the curves of this routing function (repeatable)")
    parser.add_argument("--quick", action="store_true", help="smoke test: one curve, two rates")
    args = parser.parse_args()
    oracle = os.path.abspath(args.oracle)
    os.chdir(HERE)
    if args.quick:
        print(sweep(oracle, CURVES["fattree"][0], STEP["fattree"], quick=True))
        return
    todo = [(curve, STEP[g]) for g in args.group or list(CURVES) for curve in CURVES[g]
            if not args.routing or curve[4] in args.routing]
    with ThreadPoolExecutor(2) as pool:  # each run is a process of its own
        list(pool.map(lambda c: save(sweep(oracle, *c)), todo))


if __name__ == "__main__":
    main()
