"""Regenerate traffic_matrix.csv: the real BookSim2 on every traffic pattern x every topology.

    python tests/data/reference/booksim/regenerate_traffic_matrix.py /path/to/booksim
        [--network NAME ...] [--quick]

Runs the oracle (never called by the project: by hand only) once per cell: the
network's overrides of NETWORKS on booksim_base.cfg, ``traffic=<pattern>``, the
cell's injection rate (RATE; RATE_OF where every packet goes to one or two
nodes) and ``pair_stats=1 stats_out=<temporary file>``, whose ``pair_sent`` matrix
counts the packets of every source -> destination pair.  Writes
traffic_matrix.csv beside this script, one row per cell:

* network, overrides (BookSim's command-line arguments after booksim_base.cfg,
  without the rate), pattern, injection_rate;
* verdict: ``ok`` (the run ended with its statistics), ``error`` (BookSim stopped
  with a message), ``assert`` (an assertion failed), ``crash`` (killed by a signal,
  no message) or ``timeout``; message: BookSim's first error or assertion line
  (the assertion's condition only);
* status (``ok``, ``saturated`` or ``unstable``, the rules of regenerate_cubes.py),
  avg_packet_latency, avg_hops, accepted_flit_rate, as BookSim printed them;
* destinations: for each source node in order, the destinations it sent packets to
  (``|``-separated, increasing), space-separated; empty when some source sent to
  more than MAX_LISTED destinations (uniform, taper64, ...).

``--network NAME`` (repeatable) reruns only those networks' cells (their rows replace
theirs); ``--quick`` runs the first network's first two patterns, to stdout.  About
15 minutes on 2 busy cores, two runs at a time.
"""

from __future__ import annotations

import argparse
import csv
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASE = HERE / "booksim_base.cfg"
OUT = HERE / "traffic_matrix.csv"

#: BookSim's traffic patterns (its manual's list and the patterns its traffic code names:
#: traffic/README.md); hotspot without parameters is BookSim's random node
PATTERNS = ("uniform", "bitcomp", "transpose", "bitrev", "shuffle", "tornado", "neighbor",
            "randperm", "diagonal", "asymmetric", "taper64", "badperm_yarc", "hotspot")

#: The networks: every topology archgym supports at the size of BookSim's example (or 64
#: nodes), then other sizes that pin how a pattern reads a node id (cmesh k = 2 and 8,
#: flatfly with 1 and 4 nodes per router, an 8 x 8 flatfly, a 16-node anynet, ...)
NETWORKS = {
    "mesh8x8": "topology=mesh k=8 n=2 routing_function=dor",
    "torus8x8": "topology=torus k=8 n=2 routing_function=dim_order",
    "fly4ary3": "topology=fly k=4 n=3 routing_function=dest_tag",
    "anynet9": "topology=anynet network_file=examples/anynet/anynet_file routing_function=min",
    "flatfly4c4": "topology=flatfly k=4 n=2 c=4 x=4 y=4 xr=2 yr=2 routing_function=ran_min",
    "cmesh4": "topology=cmesh k=4 n=2 c=4 x=4 y=4 xr=2 yr=2 routing_function=dor",
    "fattree4ary3": "topology=fattree k=4 n=3 routing_function=nca",
    "dragonfly2": "topology=dragonflynew k=2 n=1 routing_function=min num_vcs=2 vc_buf_size=256",
    # other sizes
    "cmesh2": "topology=cmesh k=2 n=2 c=4 x=2 y=2 xr=2 yr=2 routing_function=dor",
    "cmesh8": "topology=cmesh k=8 n=2 c=4 x=8 y=8 xr=2 yr=2 routing_function=dor",
    "cmesh3": "topology=cmesh k=3 n=2 c=4 x=3 y=3 xr=2 yr=2 routing_function=dor_no_express",
    "flatfly4c1": "topology=flatfly k=4 n=2 c=1 x=4 y=4 xr=1 yr=1 routing_function=ran_min",
    "flatfly8c4": "topology=flatfly k=8 n=2 c=4 x=8 y=8 xr=2 yr=2 routing_function=ran_min",
    "flatfly2c16": "topology=flatfly k=2 n=2 c=16 x=2 y=2 xr=4 yr=4 routing_function=ran_min",
    "anynet16": "topology=anynet network_file=topologies/ring16_anynet routing_function=min",
    "fly2ary4": "topology=fly k=2 n=4 routing_function=dest_tag",
    "fattree2ary4": "topology=fattree k=2 n=4 routing_function=nca",
    "mesh4x4x4": "topology=mesh k=4 n=3 routing_function=dim_order",
}

RATE = 0.04
#: Lower rates where every packet goes to one node (hotspot) or two (tornado and neighbor
#: on the dragonfly: its 72 nodes send to nodes 0 and 1), and where 0.04 is the knee of the
#: curve (transpose on the 16 x 16 nodes of cmesh8: 37.7 cycles at 0.03, 80.6 at 0.04,
#: unstable at 0.05), by pattern or (network, pattern)
RATE_OF = {"hotspot": 0.01, ("cmesh8", "hotspot"): 0.002, ("flatfly8c4", "hotspot"): 0.002,
           ("dragonfly2", "hotspot"): 0.005, ("dragonfly2", "tornado"): 0.005,
           ("dragonfly2", "neighbor"): 0.005, ("cmesh8", "transpose"): 0.02}
#: The most destinations per source listed in the destinations column
MAX_LISTED = 16

FIELDS = ["network", "overrides", "pattern", "injection_rate", "verdict", "message", "status",
          "avg_packet_latency", "avg_hops", "accepted_flit_rate", "destinations"]


def pair_destinations(stats: str) -> str:
    """The destinations column from the stats file's pair_sent matrix (row = source)."""
    rows = re.findall(r"^pair_sent\(\d+,:\) = \[([^\]]*)\]", stats, re.M)
    if not rows:
        return ""
    counts = [int(x) for x in rows[-1].split()]
    nodes = int(round(len(counts) ** 0.5))
    listed = []
    for s in range(nodes):
        dests = [d for d in range(nodes) if counts[s * nodes + d]]
        if len(dests) > MAX_LISTED:
            return ""
        listed.append("|".join(map(str, dests)))
    return " ".join(listed)


def cell(oracle: str, network: str, pattern: str) -> dict:
    rate = RATE_OF.get((network, pattern), RATE_OF.get(pattern, RATE))
    overrides = NETWORKS[network].split() + [f"traffic={pattern}"]
    row = dict(network=network, overrides=" ".join(overrides), pattern=pattern,
               injection_rate=rate, verdict="ok", message="", status="", avg_packet_latency="",
               avg_hops="", accepted_flit_rate="", destinations="")
    with tempfile.TemporaryDirectory() as tmp:
        stats = Path(tmp) / "pairs.m"
        try:
            proc = subprocess.run([oracle, str(BASE), *overrides, f"injection_rate={rate}",
                                   "pair_stats=1", f"stats_out={stats}"],
                                  capture_output=True, text=True, timeout=600, cwd=HERE)
        except subprocess.TimeoutExpired:
            return {**row, "verdict": "timeout"}
        text = proc.stdout + proc.stderr
        lines = [ln.strip() for ln in text.splitlines()]
        failed = [ln for ln in lines if "Assertion" in ln]
        errors = [ln for ln in lines if re.search(r"error|Error|ERROR|Incorrect|fell below", ln)]
        if failed:
            cond = re.search(r"Assertion `(.*)' failed", failed[0])
            return {**row, "verdict": "assert", "message": cond.group(1) if cond else failed[0]}
        if errors and "Overall Traffic Statistics" not in text:
            return {**row, "verdict": "error", "message": errors[0]}
        if proc.returncode < 0:
            return {**row, "verdict": "crash", "message": f"signal {-proc.returncode}"}
        if "Simulation unstable" in text:
            return {**row, "status": "unstable"}
        if "Overall Traffic Statistics" not in text:
            return {**row, "verdict": "error", "message": (lines[-1] if lines else "no output")}
        block = text.split("====== Overall Traffic Statistics ======", 1)[1]

        def overall(label: str) -> str:
            return re.search(re.escape(label) + r" average\s*=\s*(\S+)", block).group(1)

        accepted = float(overall("Accepted flit rate"))
        converged = "Too many sample periods" not in text
        row.update(status="ok" if converged and accepted >= 0.95 * rate else "saturated",
                   avg_packet_latency=overall("Packet latency"), avg_hops=overall("Hops"),
                   accepted_flit_rate=overall("Accepted flit rate"),
                   destinations=pair_destinations(stats.read_text() if stats.exists() else ""))
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("oracle", help="path of the BookSim2 binary")
    parser.add_argument("--network", action="append", choices=sorted(NETWORKS),
                        help="only this network's cells (repeatable); their rows replace theirs")
    parser.add_argument("--quick", action="store_true", help="two cells, to stdout")
    args = parser.parse_args()
    oracle = str(Path(args.oracle).resolve())
    if args.quick:
        todo = [(next(iter(NETWORKS)), p) for p in PATTERNS[:2]]
    else:
        todo = [(n, p) for n in args.network or NETWORKS for p in PATTERNS]
    with ThreadPoolExecutor(2) as pool:  # each run is a process of its own
        rows = list(pool.map(lambda np_: cell(oracle, *np_), todo))
    for r in rows:
        print(r["network"], r["pattern"], r["verdict"], r["message"], r["status"],
              r["avg_packet_latency"], r["avg_hops"], file=sys.stderr)
    if args.quick:
        writer = csv.DictWriter(sys.stdout, FIELDS)
        writer.writeheader()
        writer.writerows(rows)
        return 0
    if args.network and OUT.exists():
        with open(OUT, newline="") as fh:
            rows = [r for r in csv.DictReader(fh) if r["network"] not in args.network] + rows
    order = list(NETWORKS)
    rows.sort(key=lambda r: (order.index(r["network"]), PATTERNS.index(r["pattern"])))
    with open(OUT, "w", newline="") as fh:
        writer = csv.DictWriter(fh, FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
