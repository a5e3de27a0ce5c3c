"""Per-call wall time of the ``archgym-maestro`` command (and of MAESTRO's binary).

MAESTRO's clients (ConfuciuX, GAMMA, MaestroGym) start one process per mapping
file and read the CSV back, so a search's speed is the per-call time of the
command, start-up included.  This script runs the command on one mapping file
with one set of flags N times, each call in a fresh working folder (so every
call writes a new CSV, as a client's call does), and reports the median wall
time per call.  With ``--vs-maestro PATH`` it runs MAESTRO's binary on the same
file and flags too, the two tools alternating call by call (so both see the
same machine load), and reports the ratio.  The per-call figures in the README
come from:

    python benchmarks/bench_maestro_cli.py --vs-maestro /path/to/maestro
    python benchmarks/bench_maestro_cli.py --quick          # archgym only, few calls

Prints a table and writes a CSV (one row per tool) into --out.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import OUT, REPO, machine_info, write_csv

# The default: the mapping file ConfuciuX writes for ResNet-50's second layer (K64 C64
# Y56 X56 R3 S3, dla, 64 PEs, tile 4), the call of tests/data/reference/maestro/timing.txt.
DEFAULT_MAPPING = REPO / "examples" / "maestro" / "resnet50_layer2_dla.m"
# ConfuciuX's invocation (tests/data/reference/maestro/README.md), minus the mapping.
DEFAULT_FLAGS = ("--num_pes=64 --l1_size_cstr=819200000 --l2_size_cstr=819200000 "
                 "--noc_bw_cstr=81920000 --offchip_bw_cstr=70000 --noc_hops=1 "
                 "--noc_hop_latency=1 --noc_mc_support=true --full_buffer=false "
                 "--print_res=false --print_res_csv_file=true --print_log_file=false")


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--calls", type=int, default=200, help="calls per tool (default 200)")
    p.add_argument("--quick", action="store_true", help="20 calls per tool")
    p.add_argument("--mapping", type=Path, default=DEFAULT_MAPPING,
                   help=f"the mapping file (default {DEFAULT_MAPPING.relative_to(REPO)}; "
                        "tests/data/reference/maestro/mapping_files/Resnet50_kcp_ws.m with "
                        "--flags=--num_pes=256 is a 66-layer network)")
    p.add_argument("--flags", default=DEFAULT_FLAGS, help="the flags both tools get")
    p.add_argument("--archgym", default=None,
                   help="the archgym-maestro executable (default: the one on PATH)")
    p.add_argument("--vs-maestro", type=Path, default=None, metavar="PATH",
                   help="MAESTRO's binary, timed alternately with archgym-maestro")
    p.add_argument("--out", type=Path, default=OUT, help=f"output folder (default {OUT})")
    return p.parse_args(argv)


def one_call(cmd: list[str], folder: Path) -> float:
    """Wall time of one call in a fresh folder; fails loudly if the tool fails."""
    folder.mkdir()
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0 or not any(folder.glob("*.csv")):
        sys.exit(f"{cmd[0]} failed (exit {proc.returncode}): {proc.stderr.decode()[:500]}")
    return elapsed


def main(argv=None) -> int:
    args = parse_args(argv)
    calls = 20 if args.quick else args.calls
    archgym = args.archgym or shutil.which("archgym-maestro")
    if archgym is None:
        sys.exit("archgym-maestro not found on PATH: `pip install .` installs it (or give --archgym)")
    if args.vs_maestro is not None and not args.vs_maestro.is_file():
        sys.exit(f"--vs-maestro: {args.vs_maestro} is not a file")
    tools = {"archgym-maestro": archgym}
    if args.vs_maestro is not None:
        tools["maestro"] = str(args.vs_maestro)

    times: dict[str, list[float]] = {name: [] for name in tools}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        mapping = work / args.mapping.name
        shutil.copy(args.mapping, mapping)
        for i in range(calls + 1):  # call 0 of each tool warms the caches and is not counted
            for name, exe in tools.items():  # alternating, call by call
                cmd = [exe, f"--Mapping_file=../{mapping.name}", *args.flags.split()]
                elapsed = one_call(cmd, work / f"{name}-{i}")
                if i:
                    times[name].append(elapsed)

    mapping_name = mapping.name
    machine = machine_info()
    rows = []
    for name, samples in times.items():
        ms = np.array(samples) * 1e3
        rows.append({"tool": name, "calls": calls, "median_ms": round(float(np.median(ms)), 4),
                     "p10_ms": round(float(np.percentile(ms, 10)), 4),
                     "p90_ms": round(float(np.percentile(ms, 90)), 4),
                     "mapping_file": mapping_name, "flags": args.flags,
                     "cpu": machine["cpu"], "git_commit": machine.get("git_commit", "")})
    print(f"per-call wall time on {mapping_name}, {calls} calls per tool"
          f"{' (alternating)' if len(tools) > 1 else ''}; {machine['cpu']}")
    for r in rows:
        print(f"  {r['tool']:16s} median {r['median_ms']:8.3f} ms  "
              f"(p10 {r['p10_ms']:.3f}, p90 {r['p90_ms']:.3f})")
    if "maestro" in times:
        ratio = np.median(times["archgym-maestro"]) / np.median(times["maestro"])
        print(f"  archgym-maestro / maestro: {ratio:.3f}")
        for r in rows:
            r["ratio_to_maestro"] = round(float(np.median(times[r["tool"]]) /
                                                np.median(times["maestro"])), 4)
    args.out.mkdir(parents=True, exist_ok=True)
    path = write_csv(args.out / "bench_maestro_cli.csv", rows)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
