"""Regenerate cubes.csv and cubes_verdicts.csv: the real BookSim2 on k-ary n-cubes.

    python tests/data/reference/booksim/regenerate_cubes.py /path/to/booksim [--quick]

Runs the oracle (never called by the project: by hand only) on the networks
beyond the 8x8 mesh reference of curves.csv (tori first), with the sweep
procedure of README.md on a coarser grid: booksim_base.cfg plus overrides,
rates 0.02, 0.06, 0.10, ... while the status stays ``ok``, then 0.01, 0.02, 0.03
below the first non-ok grid rate until one is ok, stop after 2 consecutive
non-ok grid rates.  Two runs at a time.  Writes, beside this script:

* cubes.csv: one row per run, the columns of curves.csv that tests read
  (topology, k, n first; ``options`` holds any further overrides);
* cubes_verdicts.csv: for each configuration of VERDICTS, whether BookSim runs
  it (``ok``) or fails, and its first error line.

Each curve's rows replace its old rows in cubes.csv as soon as its sweep ends
(an interrupted run keeps the curves it finished); ``--group G`` (repeatable)
runs only the curves of group G, ``--routing R`` (repeatable) only those of routing R,
``--options S`` (repeatable) only those whose options contain S (each leaves
cubes_verdicts.csv as it is).

Status: ``unstable`` if BookSim aborted (latency over latency_thres; the
latency is then the last sample's); ``ok`` if it converged before max_samples
(or in the last sample) and accepted >= 0.95 x offered; else ``saturated``.
``--quick`` runs the first curve's first rates only (a smoke test of the script).
"""

from __future__ import annotations

import argparse
import csv
import re
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASE = HERE / "booksim_base.cfg"

# Curves by group: (topology, k, n, traffic, routing_function, packet_size, num_vcs, options)
CURVES = {
    "torus": [
        ("torus", 8, 2, "uniform", "dim_order", 1, 4, ""),
        ("torus", 8, 2, "uniform", "dim_order", 4, 4, ""),
        ("torus", 8, 2, "transpose", "dim_order", 1, 4, ""),
        ("torus", 8, 2, "tornado", "dim_order", 1, 4, ""),
        ("torus", 8, 2, "uniform", "min_adapt", 1, 4, ""),
        ("torus", 8, 2, "uniform", "min_adapt", 1, 2, ""),
        ("torus", 8, 2, "transpose", "min_adapt", 1, 8, ""),
        ("torus", 5, 2, "uniform", "dim_order", 1, 4, ""),
        ("torus", 4, 2, "uniform", "dim_order", 1, 3, ""),
        ("torus", 8, 2, "neighbor", "dim_order", 1, 4, "vc_buf_size=2"),
    ],
    "ndim": [
        ("torus", 8, 1, "uniform", "dim_order", 1, 2, ""),
        ("torus", 16, 1, "uniform", "min_adapt", 1, 4, ""),
        ("mesh", 8, 1, "uniform", "dor", 1, 1, ""),
        ("mesh", 4, 3, "uniform", "dim_order", 1, 4, ""),
        ("mesh", 4, 3, "uniform", "min_adapt", 1, 4, ""),
        ("mesh", 4, 3, "uniform", "romm", 1, 4, ""),
        ("mesh", 4, 3, "uniform", "valiant", 1, 4, ""),
        ("torus", 4, 3, "uniform", "dim_order", 1, 4, ""),
        ("torus", 4, 3, "bitcomp", "min_adapt", 1, 4, ""),
        ("mesh", 3, 3, "tornado", "dim_order", 4, 2, ""),
        # xy_yx off 2-D: dimension order or its reverse (acceptance.csv: BookSim runs them)
        ("mesh", 4, 3, "uniform", "xy_yx", 1, 4, ""),
        ("mesh", 4, 3, "bitcomp", "adaptive_xy_yx", 1, 4, ""),
        ("mesh", 8, 1, "uniform", "xy_yx", 1, 2, ""),
    ],
    # more than 3 dimensions (hypercubes are k = 2)
    "highdim": [
        ("mesh", 2, 6, "uniform", "dim_order", 1, 4, ""),
        ("mesh", 2, 6, "uniform", "min_adapt", 1, 3, ""),
        ("torus", 3, 4, "uniform", "min_adapt", 1, 4, ""),
        ("mesh", 2, 7, "bitcomp", "dim_order", 1, 4, ""),
        ("mesh", 4, 4, "uniform", "dim_order", 1, 4, ""),
    ],
    "router": [
        ("mesh", 8, 2, "uniform", "dor", 4, 2, "vc_buf_size=4 wait_for_tail_credit=1"),
        ("mesh", 8, 2, "transpose", "min_adapt", 1, 4, "wait_for_tail_credit=1"),
        ("torus", 8, 2, "uniform", "dim_order", 4, 4, "wait_for_tail_credit=1"),
    ],
    # the input-queued router's options (issue 12)
    "router_options": [
        ("mesh", 8, 2, "uniform", "dor", 1, 4, "speculative=1"),
        ("mesh", 8, 2, "transpose", "min_adapt", 4, 4, "speculative=1"),
        ("mesh", 8, 2, "uniform", "dor", 4, 2, "input_speedup=2"),
        ("mesh", 8, 2, "uniform", "dor", 4, 4, "hold_switch_for_packet=1"),
        ("mesh", 8, 2, "uniform", "dor", 4, 4, "output_speedup=2"),
        ("mesh", 8, 2, "uniform", "dor", 4, 4,
         "vc_allocator=separable_output_first sw_allocator=separable_output_first"),
        ("mesh", 8, 2, "uniform", "dor", 4, 4, "vc_allocator=wavefront sw_allocator=wavefront"),
        ("mesh", 8, 2, "uniform", "dor", 1, 4, "vc_allocator=islip sw_allocator=islip alloc_iters=2"),
        ("mesh", 8, 2, "uniform", "dor", 4, 4, "vc_allocator=max_size sw_allocator=max_size"),
        ("mesh", 8, 2, "uniform", "dor", 4, 4, "vc_allocator=loa sw_allocator=loa"),
        ("mesh", 8, 2, "uniform", "dor", 1, 4, "internal_speedup=1.5"),
        ("mesh", 8, 2, "uniform", "dor", 1, 4, "internal_speedup=2.0"),
        ("mesh", 8, 2, "uniform", "dor", 4, 2, "internal_speedup=2.0"),
    ],
    # packet priorities in the allocators (issue 12): 4-flit packets, where they matter
    "priority": [
        ("mesh", 8, 2, "uniform", "dor", 4, 4, f"priority={p}")
        for p in ("age", "network_age", "local_age", "queue_length", "hop_count", "sequence")
    ],
    # speculation's allocator and checks (issue 12): 1-flit packets, where every flit is a head
    "speculation": [
        *(("mesh", 8, 2, "uniform", "dor", 1, 4, f"speculative=1 spec_sw_allocator={a}")
          for a in ("separable_input_first", "separable_output_first")),
        ("mesh", 8, 2, "uniform", "dor", 1, 4, "speculative=1 spec_check_cred=0"),
        ("mesh", 8, 2, "uniform", "dor", 1, 4,
         "speculative=1 spec_sw_allocator=separable_input_first spec_mask_by_reqs=1"),
        *(("mesh", 8, 2, "uniform", "dor", 1, 4, f"speculative=1 spec_sw_allocator={a}")
          for a in ("islip", "wavefront", "max_size")),
        ("mesh", 8, 2, "transpose", "min_adapt", 4, 4,
         "speculative=1 spec_sw_allocator=separable_input_first"),
        ("mesh", 8, 2, "uniform", "dor", 1, 4, "speculative=1 spec_check_elig=0"),
    ],
    # BookSim's further routing functions for meshes and tori
    "routing": [
        ("mesh", 8, 2, "uniform", "chaos", 1, 4, ""),
        ("torus", 4, 2, "uniform", "chaos", 1, 2, ""),
        ("torus", 8, 2, "uniform", "dim_order_bal", 1, 4, ""),
        ("torus", 4, 2, "uniform", "dim_order_bal", 1, 2, ""),
        ("mesh", 8, 2, "uniform", "dim_order_pni", 1, 8, ""),
        ("mesh", 8, 2, "transpose", "dim_order_pni", 1, 8, ""),
        ("mesh", 3, 2, "uniform", "dim_order_ni", 1, 9, ""),
        ("torus", 3, 2, "uniform", "dim_order_ni", 1, 9, ""),
        ("mesh", 3, 2, "uniform", "romm_ni", 1, 9, ""),
        # 4 nodes: long periods, or the accepted rate at 0.02 is too noisy for the 95% rule
        ("mesh", 2, 2, "uniform", "romm_ni", 1, 8, "sample_period=10000"),
        ("torus", 3, 2, "uniform", "valiant", 1, 4, ""),
    ],
    # planar_adapt (mesh only): the VC classes (V = 2, 3, 4, 8), traffic, packets, n = 1 and 3
    "planar": [
        ("mesh", 8, 2, "uniform", "planar_adapt", 1, 4, ""),
        ("mesh", 8, 2, "transpose", "planar_adapt", 1, 4, ""),
        ("mesh", 8, 2, "bitcomp", "planar_adapt", 1, 3, ""),
        ("mesh", 8, 2, "uniform", "planar_adapt", 1, 2, ""),
        ("mesh", 8, 2, "uniform", "planar_adapt", 4, 8, ""),
        ("mesh", 4, 3, "uniform", "planar_adapt", 1, 6, ""),
        ("mesh", 8, 1, "uniform", "planar_adapt", 1, 5, ""),
    ],
}

# Configurations whose acceptance is the point: (topology, routing_function, num_vcs[, k, n])
# (k and n: those of booksim_base.cfg unless given)
VERDICTS = [
    ("torus", "dor", 4), ("torus", "xy_yx", 4), ("torus", "adaptive_xy_yx", 4),
    ("torus", "romm", 4), ("torus", "dim_order", 1), ("torus", "dim_order", 2),
    ("torus", "min_adapt", 1), ("torus", "min_adapt", 2), ("torus", "min_adapt", 3),
    ("torus", "min_adapt", 4), ("mesh", "dim_order", 1), ("mesh", "dor", 1),
    ("torus", "valiant", 4), ("torus", "dim_order_ni", 4),
    ("mesh", "dim_order_ni", 8, 3, 2), ("mesh", "dim_order_ni", 9, 3, 2),
    ("torus", "dim_order_ni", 9, 3, 2), ("mesh", "dim_order_ni", 3, 3, 1),
    ("mesh", "dim_order_pni", 4), ("mesh", "dim_order_pni", 8), ("mesh", "dim_order_pni", 2, 3, 2),
    ("mesh", "dim_order_pni", 3, 3, 2), ("torus", "dim_order_pni", 8),
    ("mesh", "romm_ni", 8, 3, 2), ("mesh", "romm_ni", 9, 3, 2), ("torus", "romm_ni", 9, 3, 2),
    ("torus", "dim_order_bal", 1), ("torus", "dim_order_bal", 2), ("torus", "dim_order_bal", 3),
    ("mesh", "dim_order_bal", 4), ("torus", "dim_order_bal", 4, 3, 3),
    ("mesh", "chaos", 1), ("torus", "chaos", 1), ("mesh", "chaos", 4, 3, 3),
    ("torus", "valiant", 3, 3, 2), ("torus", "valiant", 4, 3, 2), ("torus", "valiant", 4, 4, 2),
    ("torus", "valiant", 4, 3, 1), ("torus", "valiant", 8, 5, 2),
    ("torus", "valiant_ni", 8, 2, 2), ("torus", "valiant_ni", 12, 2, 1),
    ("mesh", "valiant_ni", 4),
]

FIELDS = ["topology", "k", "n", "pattern", "routing", "packet_size", "num_vcs", "options",
          "injection_rate", "avg_packet_latency", "avg_network_latency", "avg_hops",
          "accepted_flit_rate", "status", "sample_periods"]


def run(oracle: str, overrides: list[str]) -> str:
    proc = subprocess.run([oracle, str(BASE), *overrides], capture_output=True, text=True,
                          timeout=3600)
    return proc.stdout + proc.stderr


def overall(text: str, label: str) -> str:
    block = text.split("====== Overall Traffic Statistics ======", 1)[1]
    return re.search(re.escape(label) + r"\s*=\s*([-\d.e+]+)", block).group(1)


def measure(oracle: str, curve: tuple, rate: float) -> dict:
    topology, k, n, pattern, routing, ps, vcs, options = curve
    overrides = [f"topology={topology}", f"k={k}", f"n={n}", f"traffic={pattern}",
                 f"routing_function={routing}", f"packet_size={ps}", f"num_vcs={vcs}",
                 f"injection_rate={rate}", *options.split()]
    text = run(oracle, overrides)
    row = dict(topology=topology, k=k, n=n, pattern=pattern, routing=routing, packet_size=ps,
               num_vcs=vcs, options=options, injection_rate=rate)
    periods = text.count("\nClass 0:")
    row["sample_periods"] = periods
    if "Simulation unstable" in text or "Overall Traffic Statistics" not in text:
        lat = re.findall(r"Packet latency average = (\S+)", text)
        acc = re.findall(r"Accepted flit rate average\s*=\s*([-\d.e+]+)", text)
        last = lat[-1] if lat and "nan" not in lat[-1] else ""  # no packet arrived: -nan
        row.update(avg_packet_latency=last, avg_network_latency="",
                   avg_hops="", accepted_flit_rate=acc[-1] if acc else "", status="unstable")
        return row
    changes = re.findall(r"latency change\s*=\s*([-\d.e+]+)\s*\nthroughput change\s*=\s*"
                         r"([-\d.e+]+)", text)
    converged = periods < 10 or (changes and max(map(float, changes[-1])) <= 0.05)
    accepted = float(overall(text, "Accepted flit rate average"))
    row.update(avg_packet_latency=overall(text, "Packet latency average"),
               avg_network_latency=overall(text, "Network latency average"),
               avg_hops=overall(text, "Hops average"), accepted_flit_rate=accepted,
               status="ok" if converged and accepted >= 0.95 * rate else "saturated")
    return row


def sweep(oracle: str, curve: tuple, quick: bool) -> list[dict]:
    """Rates 0.02, 0.06, 0.10, ... while ok; below the first non-ok grid rate r,
    r-0.03 ... r-0.01 down to the first ok one; stop after 2 non-ok grid rates."""
    rows, misses, rate = [], 0, 0.02
    while misses < 2 and rate <= 1.0:
        row = measure(oracle, curve, rate)
        rows.append(row)
        print(curve, rate, row["status"], row["avg_packet_latency"], file=sys.stderr)
        if row["status"] != "ok" and misses == 0:
            for back in (0.01, 0.02, 0.03):
                below = measure(oracle, curve, round(rate - back, 2))
                rows.append(below)
                if below["status"] == "ok":
                    break
        misses = misses + 1 if row["status"] != "ok" else 0
        rate = round(rate + 0.04, 2)
        if quick and len(rows) >= 2:
            break
    return sorted(rows, key=lambda r: r["injection_rate"])


def verdict(oracle: str, topology: str, routing: str, vcs: int, k: int = 8, n: int = 2) -> dict:
    text = run(oracle, [f"topology={topology}", f"k={k}", f"n={n}", f"routing_function={routing}",
                        f"num_vcs={vcs}", "injection_rate=0.05", "sample_period=200"])
    errors = [line.strip() for line in text.splitlines()
              if "Error" in line or "Assertion" in line]
    return dict(topology=topology, k=k, n=n, routing=routing, num_vcs=vcs,
                verdict="error" if errors else "ok",
                message=re.sub(r"^\S+: \S+: ", "", errors[0]) if errors else "")


def save_curve(rows: list[dict], lock: threading.Lock) -> None:
    """Put one finished curve's rows into cubes.csv, replacing that curve's old rows."""
    key = tuple(str(rows[0][f]) for f in FIELDS[:8])
    with lock:
        kept = []
        if (HERE / "cubes.csv").exists():
            with open(HERE / "cubes.csv", newline="") as fh:
                kept = [r for r in csv.DictReader(fh) if tuple(r[f] for f in FIELDS[:8]) != key]
        with open(HERE / "cubes.csv", "w", newline="") as fh:
            writer = csv.DictWriter(fh, FIELDS)
            writer.writeheader()
            writer.writerows(kept + rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("oracle", help="path of the BookSim2 binary")
    parser.add_argument("--quick", action="store_true", help="smoke test: one curve, two rates")
    parser.add_argument("--group", choices=sorted(CURVES), action="append",
                        help="run only these groups of curves (default: every group)")
    parser.add_argument("--routing", action="append",
                        help="run only the curves of this routing function (repeatable)")
    parser.add_argument("--options", action="append",
                        help="run only the curves whose options contain this text, e.g. "
                             "priority=local_age (repeatable)")
    args = parser.parse_args()
    groups = args.group or sorted(CURVES)
    curves = [c for g in groups for c in CURVES[g]
              if (not args.routing or c[4] in args.routing)
              and (not args.options or any(o in c[7] for o in args.options))]
    if args.quick:
        sweep(args.oracle, curves[0], quick=True)
        return
    if not (args.group or args.routing or args.options):
        with open(HERE / "cubes_verdicts.csv", "w", newline="") as fh:
            writer = csv.DictWriter(fh, ["topology", "k", "n", "routing", "num_vcs", "verdict",
                                         "message"])
            writer.writeheader()
            writer.writerows(verdict(args.oracle, *v) for v in VERDICTS)
    lock = threading.Lock()
    with ThreadPoolExecutor(2) as pool:  # each run is a process of its own
        list(pool.map(lambda c: save_curve(sweep(args.oracle, c, False), lock), curves))


if __name__ == "__main__":
    main()
