"""Regenerate throughput.csv: the real BookSim2 with ``sim_type = throughput``.

Usage (from the repository root; the oracle is never called by tests or CI):

    nice python tests/data/reference/booksim/throughput/regenerate.py /path/to/booksim [--quick]

Each case is booksim_base.cfg plus ``sim_type=throughput``, the overrides of
CASES and one injection rate (flits/node/cycle), below and far past
saturation.  Two runs at a time.  Writes throughput.csv next to this script
(--quick: the first case's first rate, to stdout only).
"""

from __future__ import annotations

import argparse
import csv
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASE = HERE.parent / "booksim_base.cfg"

#: case name -> (overrides, injection rates)
CASES = {
    "uniform_dor": ([], [0.2, 0.4, 0.5, 0.7]),
    "transpose_dor": (["traffic=transpose"], [0.1, 0.2, 0.3]),
    "uniform_dor_4flit": (["packet_size=4"], [0.3, 0.6]),
    "torus_dim_order": (["topology=torus", "routing_function=dim_order"], [0.3, 0.7]),
}

FIELDS = ["case", "overrides", "injection_rate", "status", "avg_packet_latency",
          "avg_network_latency", "avg_hops", "accepted_flit_rate", "injected_flit_rate",
          "sample_periods", "total_cycles"]


def run(booksim: str, case: str, overrides: list[str], rate: float) -> dict:
    args = ["sim_type=throughput", *overrides, f"injection_rate={rate}"]
    out = subprocess.run([booksim, str(BASE), *args], capture_output=True, text=True,
                         timeout=3600, check=False).stdout
    overall = out.split("====== Overall Traffic Statistics ======")[-1]

    def last(label):
        found = re.findall(rf"^{label} average = (\S+)", overall, re.M)
        return float(found[-1]) if found else ""

    row = {"case": case, "overrides": " ".join(args[:-1]), "injection_rate": rate,
           "avg_packet_latency": last("Packet latency"), "avg_network_latency": last("Network latency"),
           "avg_hops": last("Hops"), "accepted_flit_rate": last("Accepted flit rate"),
           "injected_flit_rate": last("Injected flit rate"),
           "sample_periods": out.count("\nClass 0:"),
           "total_cycles": int(re.search(r"Time taken is (\d+) cycles", out).group(1))}
    converged = "Too many sample periods" not in out
    row["status"] = ("ok" if converged and row["accepted_flit_rate"] >= 0.95 * rate
                     else "saturated")
    print(row, file=sys.stderr)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("booksim", help="path of the BookSim2 binary")
    parser.add_argument("--quick", action="store_true", help="the first case's first rate, to stdout")
    args = parser.parse_args()
    jobs = [(case, overrides, rate) for case, (overrides, rates) in CASES.items() for rate in rates]
    if args.quick:
        jobs = jobs[:1]
    with ThreadPoolExecutor(2) as pool:  # each run is a process of its own
        rows = list(pool.map(lambda job: run(args.booksim, *job), jobs))
    out = sys.stdout if args.quick else open(HERE / "throughput.csv", "w", newline="")
    writer = csv.DictWriter(out, FIELDS)
    writer.writeheader()
    writer.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
