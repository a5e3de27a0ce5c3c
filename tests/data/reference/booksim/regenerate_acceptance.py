"""Regenerate acceptance.csv: which k-ary n-cube configurations the real BookSim2 runs.

    python tests/data/reference/booksim/regenerate_acceptance.py /path/to/booksim [--quick]

Runs the oracle (never called by the project: by hand only) on a fixed list of
configurations, each booksim_base.cfg plus TINY (a run of a few hundred cycles)
plus its overrides, and records BookSim's verdict:

* ``ran``: it printed its overall statistics;
* ``error``: it stopped with an error message (``Error``, ``Parse error``,
  ``Invalid ...``) before simulating;
* ``crash``: it failed an assertion (or died on a signal);
* ``timeout``: it had not finished after TIMEOUT seconds.

The configurations (configurations()): meshes and tori x every routing name BookSim
has for either x num_vcs 1, 2, 3, 4, 8 x n = 1, 2, 3 (k = 4, and k = 3 on n = 2);
the router options BookSim restricts, on a 4x4 mesh and torus; and the literal
types BookSim's reader insists on (an integer literal for a decimal key, a decimal
literal for an integer key).  Writes acceptance.csv beside this script (columns
group, overrides: TINY and the configuration's own, verdict, message: the first error line);
tests/test_booksim_frontend.py checks that archgym-booksim accepts exactly the
``ran`` rows.  Four runs at a time.  ``--quick`` runs the first 4 configurations and
prints them (a smoke test of the script; nothing written).
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
BASE = HERE / "booksim_base.cfg"

#: A run of a few hundred cycles: enough for BookSim to check everything it checks.
TINY = ["injection_rate=0.05", "warmup_periods=1", "sample_period=100", "max_samples=2"]
#: Seconds a tiny run may take (they take well under one).
TIMEOUT = 120

#: BookSim's routing names for meshes and tori (its routing_function + _mesh / _torus).
MESH_ROUTINGS = ["dor", "dim_order", "xy_yx", "adaptive_xy_yx", "min_adapt", "romm", "valiant",
                 "dim_order_ni", "dim_order_pni", "romm_ni", "planar_adapt", "chaos"]
TORUS_ROUTINGS = ["dim_order", "min_adapt", "dim_order_ni", "dim_order_bal", "valiant_ni",
                  "chaos", "valiant"]

#: Router options BookSim restricts, each tried on a 4x4 mesh (dor) and torus (dim_order).
OPTIONS = [
    # (below 1.0 BookSim runs without end: docs/design/noc.md §5b)
    *(f"internal_speedup={v}" for v in ("1.0", "1", "2", "2.0", "1.5")),
    *(f"input_speedup={v}" for v in ("1", "2", "2.0", "3")),
    *(f"output_speedup={v}" for v in ("2", "2.0", "4")),
    *(f"speculative={v}" for v in ("-1", "1", "2")),
    *(f"speculative=1 spec_sw_allocator={a}" for a in (
        "prio", "separable_input_first", "separable_output_first", "islip", "wavefront",
        "max_size")),
    "speculative=1 vc_alloc_delay=0", "speculative=1 spec_check_elig=0",
    "speculative=1 spec_check_cred=0", "speculative=1 spec_mask_by_reqs=1",
    "speculative=0 spec_sw_allocator=islip",
    *(f"priority={p}" for p in ("none", "age", "network_age", "local_age", "queue_length",
                                "hop_count", "sequence", "class", "other", "forward")),
    *(f"{d}=0" for d in ("routing_delay", "vc_alloc_delay", "sw_alloc_delay", "st_final_delay",
                         "credit_delay")),
    "vc_alloc_delay=2", "sw_alloc_delay=2",
    "routing_delay=2", "st_final_delay=2",
    *(f"{kind}={a}" for a in ("separable_input_first", "separable_output_first", "islip",
                               "pim", "loa", "wavefront", "select", "max_size", "prio")
      for kind in ("vc_allocator", "sw_allocator")),
    "vc_allocator=islip alloc_iters=2", "vc_allocator=separable_input_first alloc_iters=2",
    "hold_switch_for_packet=1", "wait_for_tail_credit=1", "vct=1",
    "vc_buf_size=1", "vc_buf_size=0",
]

#: Keys and a valid value, written as an integer or a decimal literal (BookSim's reader
#: is typed: a literal of the other kind is a parse error).
LITERALS = [("k", "4"), ("num_vcs", "4"), ("vc_buf_size", "8"), ("packet_size", "1"),
            ("routing_delay", "1"), ("input_speedup", "1"), ("alloc_iters", "1"),
            ("hold_switch_for_packet", "0"), ("wait_for_tail_credit", "0"), ("seed", "42"),
            ("sample_period", "100"), ("max_samples", "2"), ("warmup_periods", "1"),
            ("injection_rate_uses_flits", "1"), ("speculative", "0"), ("perm_seed", "0"),
            ("injection_rate", "0.05"), ("internal_speedup", "1.0"), ("latency_thres", "500.0"),
            ("burst_alpha", "0.5"), ("burst_beta", "0.5"), ("stopping_thres", "0.0"),
            ("acc_stopping_thres", "0.0")]


def configurations() -> list[tuple[str, str]]:
    """(group, overrides) of every configuration, in a fixed order."""
    out = []
    for topology in ("mesh", "torus"):
        for routing in dict.fromkeys(MESH_ROUTINGS + TORUS_ROUTINGS):
            for k, n in ((4, 1), (4, 2), (3, 2), (4, 3)):
                for vcs in (1, 2, 3, 4, 8):
                    out.append(("routing", f"topology={topology} k={k} n={n} "
                                           f"routing_function={routing} num_vcs={vcs}"))
    for topology, routing in (("mesh", "dor"), ("torus", "dim_order")):
        for option in OPTIONS:
            out.append(("options", f"topology={topology} k=4 n=2 routing_function={routing} "
                                   f"num_vcs=4 {option}"))
    for key, value in LITERALS:
        other = str(float(value)) if "." not in value else value.split(".")[0]
        for text in (value, other):
            out.append(("literals", f"topology=mesh k=4 routing_function=dor {key}={text}"))
    return out


def verdict(oracle: str, overrides: str) -> dict:
    try:
        proc = subprocess.run([oracle, str(BASE), *overrides.split()], capture_output=True,
                              text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return dict(verdict="timeout", message=f"no end after {TIMEOUT} s")
    text = proc.stdout + proc.stderr
    errors = [line.strip() for line in text.splitlines()
              if re.search(r"Error|error|Invalid|Assertion|Unknown", line)]
    crashed = proc.returncode < 0 or any("Assertion" in line for line in errors)
    ran = "Overall Traffic Statistics" in text and not crashed
    return dict(verdict="ran" if ran else "crash" if crashed else "error",
                message="" if ran else re.sub(r"^\S+: \S+: ", "", errors[0]) if errors
                else f"exit status {proc.returncode}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("oracle", help="path of the BookSim2 binary")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: the first 4 configurations, printed, nothing written")
    args = parser.parse_args()
    configs = [(g, " ".join(TINY) + " " + o) for g, o in configurations()]
    configs = configs[:4] if args.quick else configs
    with ThreadPoolExecutor(4) as pool:  # each run is a process of its own
        verdicts = list(pool.map(lambda c: verdict(args.oracle, c[1]), configs))
    rows = [dict(group=g, overrides=o, **v) for (g, o), v in zip(configs, verdicts)]
    if args.quick:
        for row in rows:
            print(row)
        return
    with open(HERE / "acceptance.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, ["group", "overrides", "verdict", "message"])
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} configurations: "
          + ", ".join(f"{v} {sum(r['verdict'] == v for r in rows)}" for v in ("ran", "error", "crash", "timeout")),
          file=sys.stderr)


if __name__ == "__main__":
    main()
