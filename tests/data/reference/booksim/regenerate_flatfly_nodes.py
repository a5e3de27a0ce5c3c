"""Regenerate flatfly_nodes.csv and flatfly_credits.csv: BookSim2's flatfly node channels.

    python tests/data/reference/booksim/regenerate_flatfly_nodes.py /path/to/booksim
        [--network NAME ...] [--quick]

Runs the oracle (never called by the project: by hand only) once per network of
NETWORKS: booksim_base.cfg with the network's overrides, ``traffic=uniform
injection_rate=0.002`` and ``watch_file=<the first 8N packet ids> watch_out=-`` (N
nodes), which prints every event of those packets.  From the trace it keeps the
packets that never waited (injected in the cycle they were created, and at every
router sent on exactly as many cycles after they were received as the fastest
router visit of the run: 3 with booksim_base.cfg's delays) whose source or
destination no packet kept before had, so that every node's two channels appear.
Writes flatfly_nodes.csv beside this script, one row per such packet:

* network, k, c (BookSim's arguments after booksim_base.cfg: ``topology=flatfly k=<k> n=2
  c=<c> x=<k> y=<k> xr=<xr> yr=<xr> routing_function=ran_min``, c = xr^2);
* src, dst, hops (as BookSim's "Retiring packet" line gives them), plat (its
  packet latency, cycles: creation to retirement, the zero-load latency);
* ingress, egress: the delay of the source's injection channel
  (``fchan_ingress<src>``) and of the destination's ejection channel
  (``fchan_egress<dst>``), "Beginning channel traversal ... with delay d".

Then flatfly_credits.csv: whether a node channel's credits take its latency too.
With one VC of one flit (``num_vcs=1 vc_buf_size=1``) every node of ``flatfly2c16``
sends to one node (``traffic=hotspot({v})``, ``injection_rate=0.01
sim_type=throughput``): the ejection channel's credit loop bounds the accepted rate.
One row per run: network, overrides (after booksim_base.cfg), node (v), ingress and
egress (its channels' delays, as in flatfly_nodes.csv), accepted_flit_rate (per node,
as BookSim printed it).

``--network NAME`` (repeatable) reruns only those networks (their rows replace
theirs; not the credit runs); ``--quick`` runs the first network, to stdout.  About 3
minutes on 2 busy cores.
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
OUT = HERE / "flatfly_nodes.csv"
CREDITS_OUT = HERE / "flatfly_credits.csv"

#: (k, xr): k x k routers of xr x xr nodes (c = xr^2, x = y = k): sides xr = 1 to 8 (c up
#: to 64) on 2 x 2 routers, and k = 3 and 4 with xr = 2 to 5
SHAPES = [(2, 1), (2, 2), (2, 3), (2, 4), (2, 5), (2, 6), (2, 7), (2, 8), (3, 3), (3, 4), (3, 5),
          (4, 2), (4, 4)]
NETWORKS = {f"flatfly{k}c{xr * xr}": f"topology=flatfly k={k} n=2 c={xr * xr} x={k} y={k} "
            f"xr={xr} yr={xr} routing_function=ran_min" for k, xr in SHAPES}
RATE = 0.002

FIELDS = ["network", "k", "c", "src", "dst", "hops", "plat", "ingress", "egress"]
#: The credit runs: a corner, an edge and a middle node of router 0's square of 16
CREDIT_NETWORK = "flatfly2c16"
CREDIT_NODES = (0, 1, 9)
CREDIT_OVERRIDES = "num_vcs=1 vc_buf_size=1 injection_rate=0.01 sim_type=throughput"
CREDIT_FIELDS = ["network", "overrides", "node", "ingress", "egress", "accepted_flit_rate"]


def trace(oracle: str, overrides: list[str], watched: int) -> str:
    """BookSim's output with every event of packets 0 .. watched - 1."""
    with tempfile.TemporaryDirectory() as tmp:
        ids = Path(tmp) / "ids"
        ids.write_text("\n".join(map(str, range(watched))) + "\n")
        proc = subprocess.run([oracle, str(BASE), *overrides, "traffic=uniform",
                               f"injection_rate={RATE}", f"watch_file={ids}", "watch_out=-"],
                              capture_output=True, text=True, timeout=1800, cwd=HERE)
    if "Overall Traffic Statistics" not in proc.stdout:
        raise RuntimeError(f"BookSim failed on {' '.join(overrides)}: {proc.stderr[-300:]}")
    return proc.stdout


def rows_of(network: str, text: str) -> list[dict]:
    """The rows of the packets of ``text`` (a watch trace) that never waited."""
    delay = {m[1]: int(m[2]) for m in re.finditer(
        r"\| \S*fchan_(\w+) \| Beginning channel traversal for flit \d+ with delay (\d+)", text)}
    created, injected, received, visits = {}, {}, {}, {}
    for m in re.finditer(r"^(\d+) \| (\S+) \| (.*)$", text, re.M):
        t, who, what = int(m[1]), m[2], m[3]
        if f := re.match(r"Enqueuing flit (\d+)", what):
            created[int(f[1])] = t
        elif f := re.match(r"Injecting flit (\d+)", what):
            injected[int(f[1])] = t
        elif f := re.match(r"Received flit (\d+) from channel", what):
            received[(who, int(f[1]))] = t
        elif f := re.match(r"Sending flit (\d+) to channel", what):
            flit = int(f[1])
            visits.setdefault(flit, []).append(t - received[(who, flit)])
    fastest = min(v for vs in visits.values() for v in vs)
    rows, sources, destinations = [], set(), set()
    for m in re.finditer(r"Retiring packet (\d+) \(plat = (\d+), nlat = \d+, frag = \d+, "
                         r"src = (\d+), dest = (\d+)\)", text):
        pid, plat, src, dst = (int(x) for x in m.groups())
        hops = re.search(rf"Retiring flit {pid} \(packet {pid}, src = \d+, dest = \d+, "
                         r"hops = (\d+)", text)
        waited = created[pid] != injected[pid] or any(v != fastest for v in visits[pid])
        if waited or (src in sources and dst in destinations):
            continue
        sources.add(src)
        destinations.add(dst)
        k, c = shape(network)
        rows.append(dict(network=network, k=k, c=c, src=src, dst=dst,
                         hops=int(hops[1]), plat=plat, ingress=delay[f"ingress{src}"],
                         egress=delay[f"egress{dst}"]))
    return rows


def shape(network: str) -> tuple[int, int]:
    """k and c of a network's name."""
    k, c = re.fullmatch(r"flatfly(\d+)c(\d+)", network).groups()
    return int(k), int(c)


def network_rows(oracle: str, network: str) -> list[dict]:
    k, c = shape(network)
    return rows_of(network, trace(oracle, NETWORKS[network].split(), 8 * c * k * k))


def credit_row(oracle: str, node: int, delays: dict) -> dict:
    overrides = f"{NETWORKS[CREDIT_NETWORK]} {CREDIT_OVERRIDES} traffic=hotspot({{{node}}})"
    proc = subprocess.run([oracle, str(BASE), *overrides.split()], capture_output=True,
                          text=True, timeout=1800, cwd=HERE)
    block = proc.stdout.split("====== Overall Traffic Statistics ======", 1)[1]
    accepted = re.search(r"Accepted flit rate average\s*=\s*(\S+)", block).group(1)
    return dict(network=CREDIT_NETWORK, overrides=overrides, node=node,
                ingress=delays[("ingress", node)], egress=delays[("egress", node)],
                accepted_flit_rate=accepted)


def write(path: Path, fields: list[str], rows: list[dict]) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fields)
        writer.writeheader()
        writer.writerows(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("oracle", help="path of the BookSim2 binary")
    parser.add_argument("--network", action="append", choices=sorted(NETWORKS),
                        help="only this network (repeatable); its rows replace its old ones")
    parser.add_argument("--quick", action="store_true", help="the first network, to stdout")
    args = parser.parse_args()
    oracle = str(Path(args.oracle).resolve())
    todo = [next(iter(NETWORKS))] if args.quick else args.network or list(NETWORKS)
    with ThreadPoolExecutor(2) as pool:  # each run is a process of its own
        rows = [r for rs in pool.map(lambda n: network_rows(oracle, n), todo) for r in rs]
    if args.quick:
        writer = csv.DictWriter(sys.stdout, FIELDS)
        writer.writeheader()
        writer.writerows(rows)
        return 0
    if args.network and OUT.exists():
        with open(OUT, newline="") as fh:
            rows = [r for r in csv.DictReader(fh) if r["network"] not in args.network] + rows
    order = list(NETWORKS)
    rows.sort(key=lambda r: (order.index(r["network"]), int(r["src"]), int(r["dst"])))
    write(OUT, FIELDS, rows)
    if not args.network:
        delays = {}
        for r in rows:
            if r["network"] == CREDIT_NETWORK:
                delays[("ingress", int(r["src"]))] = r["ingress"]
                delays[("egress", int(r["dst"]))] = r["egress"]
        with ThreadPoolExecutor(2) as pool:
            credits = list(pool.map(lambda v: credit_row(oracle, v, delays), CREDIT_NODES))
        write(CREDITS_OUT, CREDIT_FIELDS, credits)
    return 0


if __name__ == "__main__":
    sys.exit(main())
