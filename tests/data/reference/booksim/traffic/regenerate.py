"""Regenerate traffic.csv: the real BookSim2 on BookSim's traffic features (8x8 mesh).

Usage (from the repository root; the oracle is never called by tests or CI):

    nice python tests/data/reference/booksim/traffic/regenerate.py /path/to/booksim [--quick]
        [--case NAME ...]

Each case is booksim_base.cfg plus the overrides of CASES and one injection
rate, rising until the first unstable run; the same arguments are given to archgym-booksim by
tests/test_booksim_frontend.py.  Writes traffic.csv next to this script
(--quick: the first rate of each case, to stdout only; --case: only these
cases, whose rows replace theirs in traffic.csv).
"""

from __future__ import annotations

import argparse
import csv
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASE = HERE.parent / "booksim_base.cfg"

#: case name -> (overrides, injection rates in flits/node/cycle)
CASES = {
    "hotspot_one_node_rate": (["traffic=hotspot({0,27,36,63})"], [0.005, 0.01, 0.014, 0.018]),
    "hotspot_four_nodes": (["traffic=hotspot({{0,27,36,63}})"], [0.02, 0.04, 0.055, 0.07]),
    "hotspot_rates": (["traffic=hotspot({{0,27},{3,1}})"], [0.01, 0.016, 0.02, 0.024]),
    "hotspot_random": (["traffic=hotspot"], [0.005, 0.012, 0.015, 0.02]),
    "randperm_seed0": (["traffic=randperm", "perm_seed=0"], [0.1, 0.15, 0.2, 0.25, 0.3, 0.35]),
    "randperm_seed1": (["traffic=randperm", "perm_seed=1"], [0.1, 0.15, 0.2, 0.25, 0.3, 0.35]),
    "randperm_seed2": (["traffic=randperm", "perm_seed=2"], [0.1, 0.15, 0.2, 0.25, 0.3, 0.35]),
    "randperm_seed3": (["traffic=randperm(3)"], [0.1, 0.15, 0.2, 0.25, 0.3, 0.35]),
    "diagonal": (["traffic=diagonal"], [0.2, 0.4, 0.6, 0.8]),
    "asymmetric": (["traffic=asymmetric"], [0.05, 0.1, 0.15, 0.2, 0.25]),
    "taper64": (["traffic=taper64"], [0.1, 0.2, 0.3, 0.4, 0.5]),
    "badperm_yarc": (["traffic=badperm_yarc"], [0.05, 0.1, 0.12, 0.14, 0.16]),
    "on_off": (["injection_process=on_off", "burst_alpha=0.1", "burst_beta=0.3"],
               [0.05, 0.1, 0.2, 0.3]),
    "on_off_r1": (["injection_process=on_off", "burst_alpha=-1.0", "burst_beta=0.2", "burst_r1=0.5"],
                  [0.1, 0.2, 0.3, 0.4]),
    # tornado(r) / neighbor(r): the n low radix-r digits of the node id shifted
    "tornado_radix4": (["traffic=tornado(4)"], [0.05, 0.1, 0.15, 0.2, 0.25]),
    "neighbor_radix3": (["traffic=neighbor(3)"], [0.03, 0.06, 0.09, 0.12, 0.15]),
    "tornado_radix8_ignored": (["traffic=tornado(8,1)"], [0.1, 0.2, 0.3, 0.4]),
    "neighbor_radix2_torus": (["topology=torus", "routing_function=dim_order", "traffic=neighbor(2)"],
                              [0.05, 0.1, 0.15, 0.2, 0.25]),
    "transpose_ignored": (["traffic=transpose(5)"], [0.05, 0.1, 0.12, 0.14, 0.16]),
}

FIELDS = ["case", "overrides", "injection_rate", "status", "avg_packet_latency",
          "avg_network_latency", "avg_hops", "accepted_flit_rate"]


def run(booksim: str, overrides: list[str], rate: float) -> dict:
    out = subprocess.run([booksim, str(BASE), *overrides, f"injection_rate={rate}"],
                         capture_output=True, text=True, timeout=3600, check=False).stdout
    row = {"overrides": " ".join(overrides), "injection_rate": rate}
    if "Simulation unstable" in out:
        return {**row, "status": "unstable"}

    def last(label):
        found = re.findall(rf"^{label} average = (\S+)", out, re.M)
        return float(found[-1]) if found else ""

    row.update(avg_packet_latency=last("Packet latency"), avg_network_latency=last("Network latency"),
               avg_hops=last("Hops"), accepted_flit_rate=last("Accepted flit rate"))
    converged = "Too many sample periods" not in out
    accepted = row["accepted_flit_rate"]
    row["status"] = "ok" if converged and accepted != "" and accepted >= 0.95 * rate else "saturated"
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("booksim", help="path of the BookSim2 binary")
    parser.add_argument("--quick", action="store_true", help="first rate of each case, to stdout")
    parser.add_argument("--case", choices=sorted(CASES), action="append",
                        help="run only this case (repeatable); its rows replace the old ones")
    args = parser.parse_args()
    rows = []
    for case, (overrides, rates) in CASES.items():
        if args.case and case not in args.case:
            continue
        for rate in rates[:1] if args.quick else rates:
            rows.append({"case": case, **run(args.booksim, overrides, rate)})
            print(rows[-1], file=sys.stderr)
            if rows[-1]["status"] == "unstable":
                break  # higher rates are unstable too
    if args.case and not args.quick:
        with open(HERE / "traffic.csv", newline="") as fh:
            kept = [r for r in csv.DictReader(fh) if r["case"] not in args.case]
        order = list(CASES)
        rows = sorted(kept + rows, key=lambda r: order.index(r["case"]))  # stable: rates in order
    out = sys.stdout if args.quick else open(HERE / "traffic.csv", "w", newline="")
    writer = csv.DictWriter(out, FIELDS)
    writer.writeheader()
    writer.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
