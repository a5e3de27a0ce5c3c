"""Regenerate no_effect.csv: BookSim2 settings whose value does not change its run.

    python tests/data/reference/booksim/regenerate_no_effect.py /path/to/booksim [--quick]

Runs the oracle (never called by the project: by hand only) on each base
configuration of CASES (booksim_base.cfg plus SHORT plus the case's overrides)
once per variant, and records whether BookSim's output (every line but the
command-line echo and the run time) is the same for all the variants:

* ``vct`` 0, 1 and 2 (virtual cut-through) on meshes and tori, packets longer than
  the buffers, adaptive routing, speculation and the other router options;
* ``spec_check_elig = 0`` against ``speculative = 0``;
* ``spec_mask_by_reqs`` 0 and 1 under the default ``spec_sw_allocator = prio``.

Writes no_effect.csv beside this script (columns base, variants: the variants'
overrides separated by ``|``, same: yes/no); docs/design/noc.md §5b cites it.
``--quick`` runs the first case and prints it (nothing written).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASE = HERE / "booksim_base.cfg"

#: Short runs: one warm-up period and two samples of 500 cycles.
SHORT = ["warmup_periods=1", "sample_period=500", "max_samples=3"]

VCT = ["vct=0", "vct=1", "vct=2"]
VCT_BASES = [
    "k=4 injection_rate=0.5 packet_size=8 vc_buf_size=4",
    "topology=torus k=4 routing_function=dim_order injection_rate=0.4 packet_size=4 vc_buf_size=2",
    "k=4 routing_function=min_adapt num_vcs=2 packet_size=4 injection_rate=0.4",
    "k=4 injection_rate=0.3 packet_size=4 speculative=1",
    "k=4 injection_rate=0.3 packet_size=4 wait_for_tail_credit=1",
    "k=4 injection_rate=0.3 packet_size=4 vc_allocator=islip sw_allocator=islip "
    "hold_switch_for_packet=1",
    "k=4 injection_rate=0.3 packet_size=4 input_speedup=2 output_speedup=2",
    "topology=torus k=4 routing_function=min_adapt injection_rate=0.3 packet_size=6 vc_buf_size=3",
]
CASES = (
    [(base, VCT) for base in VCT_BASES]
    + [(base, ["speculative=0", "speculative=1 spec_check_elig=0"])
       for base in ("k=4 injection_rate=0.3 packet_size=4", "k=8 injection_rate=0.4")]
    + [(base, ["speculative=1", "speculative=1 spec_mask_by_reqs=1"])
       for base in ("k=4 injection_rate=0.5", "k=8 injection_rate=0.4",
                    "k=8 injection_rate=0.4 packet_size=4 vc_buf_size=4")]
)


def fingerprint(oracle: str, overrides: list[str]) -> str:
    proc = subprocess.run([oracle, str(BASE), *SHORT, *overrides], capture_output=True,
                          text=True, timeout=600)
    lines = [line for line in (proc.stdout + proc.stderr).splitlines()
             if not line.startswith(("OVERRIDE Parameter", "Total run time"))]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("oracle", help="path of the BookSim2 binary")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: the first case, printed, nothing written")
    args = parser.parse_args()
    rows = []
    for base, variants in CASES[:1] if args.quick else CASES:
        prints = {fingerprint(args.oracle, base.split() + v.split()) for v in variants}
        rows.append(dict(base=base, variants="|".join(variants),
                         same="yes" if len(prints) == 1 else "no"))
        print(rows[-1])
    if args.quick:
        return
    with open(HERE / "no_effect.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, ["base", "variants", "same"])
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
