#!/usr/bin/env python
"""Fidelity of archgym's NoC simulator against BookSim2, and its speed.

    python benchmarks/bench_noc.py [--fidelity] [--speed] [--topologies] [--quick] [--threads 2] [--out DIR]
                                   [--vs-booksim PATH/TO/booksim] [--repeats N]

1. Fidelity (the full overlay): every run of tests/data/reference/booksim/curves.csv
   and curves_islip.csv is repeated with archgym.noc.measure (same configuration,
   same seed value, different random streams), over ``--threads`` worker threads
   (measure_many).  Per curve (pattern, routing, packet size, VCs, allocator):
   the max and mean |latency error| at points that are ``ok`` in the reference
   and below 90% of its last stable rate, the last stable rate (highest ``ok``
   rate) of both, and whether we are unstable wherever BookSim aborted.
   Writes bench_noc_points.csv (one row per run), bench_noc_curves.csv (one row
   per curve), bench_noc_fidelity.png (our curves beside BookSim's, if
   matplotlib is installed) and prints a summary.
2. Speed: simulated cycles per second of four fixed-length runs of
   tests/data/reference/booksim/booksim_base.cfg (max_samples=23
   stopping_thres=0.0 acc_stopping_thres=0.0: 3,000 warm-up + 20,000 measured
   cycles + drain): 8x8 mesh uniform at 0.1 and 0.3 flits/node/cycle, 16x16 at
   0.1, and 8x8 with 4-flit packets at 0.2.  Each tool runs as its command line
   (``archgym-booksim`` and, with ``--vs-booksim PATH``, the real BookSim2, never
   called otherwise) and is timed by its own "Total run time" line, the two tools
   alternately, ``--repeats`` times each; cycles/s = its "Time taken is N
   cycles" / the median run time.  Prints the four ratios and the smallest last.
   Without the oracle archgym is timed alone (ratios against the BookSim runs
   recorded in timing.txt, another machine and day).  Writes bench_noc_speed.csv.
3. Speed on the other topologies: BookSim's example configurations of fly,
   anynet, cmesh, flatfly, fattree and dragonfly (tests/data/reference/booksim/
   examples), each run from its folder at 0.1 with 1,000-cycle sample periods,
   fixed length, timed as section 2; the examples archgym refuses are listed and
   skipped.  Writes bench_noc_topologies_speed.csv.

All sections run unless some are selected.  ``--quick`` (under a minute) takes
the uniform-traffic, packet-size-1, 4-VC curves only (fidelity: every routing,
both allocators) and one repeat (speed).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

# numpy's OpenBLAS worker threads spin and steal a core from the simulation threads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from _common import OUT, REFERENCE  # benchmarks/_common.py

from archgym import noc
from archgym.noc import booksim

REF = REFERENCE / "booksim"

LAT_TOL = 0.10        # |latency error| allowed at ok points below 90% of saturation
SAT_TOL = 0.02 + 1e-9  # last stable rate difference allowed (flits/node/cycle)


def load_reference(ref: Path, quick: bool = False) -> list[dict]:
    rows = []
    for name, alloc in (("curves.csv", "separable_input_first"), ("curves_islip.csv", "islip")):
        with open(ref / name, newline="") as fh:
            for r in csv.DictReader(fh):
                r["allocator"] = alloc
                r["packet_size"] = int(r["packet_size"])
                r["num_vcs"] = int(r["num_vcs"])
                r["injection_rate"] = float(r["injection_rate"])
                for key in ("avg_packet_latency", "avg_network_latency", "avg_hops",
                            "accepted_flit_rate"):
                    r[key] = float(r[key]) if r[key] else math.nan
                if quick and (r["pattern"] != "uniform" or r["packet_size"] != 1 or r["num_vcs"] != 4):
                    continue
                rows.append(r)
    return rows


def config_of(row: dict) -> noc.NocConfig:
    return noc.NocConfig(traffic=row["pattern"], routing_function=row["routing"],
                         packet_size=row["packet_size"], num_vcs=row["num_vcs"],
                         injection_rate=row["injection_rate"], vc_allocator=row["allocator"],
                         sw_allocator=row["allocator"])


def curve_key(row: dict) -> tuple:
    return (row["allocator"], row["pattern"], row["routing"], row["packet_size"], row["num_vcs"])


def analyse(rows: list[dict], ours: list[dict]) -> list[dict]:
    """Per-curve comparison (see the module docstring)."""
    curves = defaultdict(list)
    for r, o in zip(rows, ours):
        curves[curve_key(r)].append((r, o))
    out = []
    for key, pts in sorted(curves.items()):
        pts.sort(key=lambda p: p[0]["injection_rate"])
        ref_ok = [r["injection_rate"] for r, _ in pts if r["status"] == "ok"]
        our_ok = [r["injection_rate"] for r, o in pts if o["status"] == "ok"]
        ref_sat = max(ref_ok) if ref_ok else 0.0
        our_sat = max(our_ok) if our_ok else 0.0
        errs, errs80 = [], []
        for r, o in pts:
            if r["status"] == "ok" and r["injection_rate"] < 0.9 * ref_sat - 1e-9:
                e = abs(o["avg_packet_latency"] - r["avg_packet_latency"]) / r["avg_packet_latency"]
                errs.append(e if math.isfinite(e) else math.inf)
                if r["injection_rate"] <= 0.8 * ref_sat + 1e-9:
                    errs80.append(errs[-1])
        unstable_ref = [(r, o) for r, o in pts if r["status"] == "unstable"]
        unstable_agree = sum(o["status"] == "unstable" for _, o in unstable_ref)
        max_err = max(errs) if errs else 0.0
        rec = dict(zip(("allocator", "pattern", "routing", "packet_size", "num_vcs"), key))
        rec.update(points=len(pts), latency_points=len(errs), max_latency_error=max_err,
                   mean_latency_error=(sum(errs) / len(errs)) if errs else 0.0,
                   latency_points_within=sum(e <= LAT_TOL for e in errs),
                   points_below_80pct=len(errs80), error_sum_below_80pct=sum(errs80),
                   max_error_below_80pct=max(errs80) if errs80 else 0.0,
                   ref_last_stable=ref_sat, our_last_stable=our_sat,
                   saturation_difference=round(our_sat - ref_sat, 4),
                   ref_unstable=len(unstable_ref), unstable_agree=unstable_agree)
        rec["pass"] = (max_err <= LAT_TOL and abs(our_sat - ref_sat) <= SAT_TOL
                       and unstable_agree == len(unstable_ref))
        out.append(rec)
    return out


def run_fidelity(args) -> dict:
    rows = load_reference(REF, args.quick)
    configs = [config_of(r) for r in rows]
    print(f"fidelity: {len(rows)} BookSim runs, {args.threads} threads ...", flush=True)
    t0 = time.perf_counter()
    ours = noc.measure_many(configs, threads=args.threads)
    wall = time.perf_counter() - t0
    print(f"  simulated in {wall:.1f} s")
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "bench_noc_points.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["allocator", "pattern", "routing", "packet_size", "num_vcs", "injection_rate",
                    "ref_latency", "our_latency", "latency_error", "ref_status", "our_status",
                    "ref_accepted", "our_accepted", "ref_hops", "our_hops", "our_sample_periods",
                    "our_total_cycles"])
        for r, o in zip(rows, ours):
            err = (o["avg_packet_latency"] - r["avg_packet_latency"]) / r["avg_packet_latency"]
            w.writerow([r["allocator"], r["pattern"], r["routing"], r["packet_size"], r["num_vcs"],
                        r["injection_rate"], r["avg_packet_latency"],
                        round(o["avg_packet_latency"], 4), round(err, 5), r["status"], o["status"],
                        r["accepted_flit_rate"], round(o["accepted_flit_rate"], 5),
                        r["avg_hops"], round(o["avg_hops"], 4), o["sample_periods"],
                        o["total_cycles"]])
    curves = analyse(rows, ours)
    with open(args.out / "bench_noc_curves.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(curves[0]))
        w.writeheader()
        w.writerows(curves)

    print(f"\n{'allocator':<9} {'pattern':<9} {'routing':<15} ps vc  maxerr  meanerr  "
          f"sat ref/ours  unstable  pass")
    for c in curves:
        print(f"{c['allocator'][:9]:<9} {c['pattern']:<9} {c['routing']:<15} {c['packet_size']:>2} "
              f"{c['num_vcs']:>2} {100 * c['max_latency_error']:6.2f}% {100 * c['mean_latency_error']:6.2f}%"
              f"  {c['ref_last_stable']:.2f}/{c['our_last_stable']:.2f}"
              f"  {c['unstable_agree']:>3}/{c['ref_unstable']:<3}   {'yes' if c['pass'] else 'NO'}")
    all_errs = [c for c in curves if c["latency_points"]]
    n_lat = sum(c["latency_points"] for c in curves)
    n_within = sum(c["latency_points_within"] for c in curves)
    sat_ok = sum(abs(c["saturation_difference"]) <= SAT_TOL for c in curves)
    unst = sum(c["ref_unstable"] for c in curves)
    unst_ok = sum(c["unstable_agree"] for c in curves)
    mean_err = (sum(c["mean_latency_error"] * c["latency_points"] for c in curves) / n_lat) if n_lat else 0
    summary = {
        "runs": len(rows), "curves": len(curves), "wall_s": round(wall, 1), "threads": args.threads,
        "curves_pass": sum(c["pass"] for c in curves),
        "latency_points": n_lat, "latency_points_within_10pct": n_within,
        "mean_latency_error": round(mean_err, 5),
        "points_below_80pct_saturation": sum(c["points_below_80pct"] for c in curves),
        "mean_latency_error_below_80pct": round(
            sum(c["error_sum_below_80pct"] for c in curves)
            / max(1, sum(c["points_below_80pct"] for c in curves)), 5),
        "max_latency_error_below_80pct": round(max(c["max_error_below_80pct"] for c in curves), 5),
        "max_latency_error": round(max((c["max_latency_error"] for c in all_errs), default=0), 5),
        "saturation_within_0.02": sat_ok,
        "saturation_exact": sum(abs(c["saturation_difference"]) < 1e-9 for c in curves),
        "unstable_points": unst, "unstable_agree": unst_ok,
    }
    print("\nsummary:", json.dumps(summary, indent=1))
    with open(args.out / "bench_noc_fidelity.json", "w") as fh:
        json.dump(summary, fh, indent=1)
    if not args.no_plot:
        plot(rows, ours, args.out / "bench_noc_fidelity.png")
    return summary


def plot(rows, ours, path: Path) -> None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no PNG")
        return
    panels = defaultdict(lambda: defaultdict(list))
    for r, o in zip(rows, ours):
        panel = (r["allocator"], r["packet_size"], r["num_vcs"], r["pattern"])
        panels[panel][r["routing"]].append((r["injection_rate"], r, o))
    keys = sorted(panels)
    ncol = 4
    nrow = math.ceil(len(keys) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.2 * nrow), squeeze=False)
    colors = dict(zip(["dor", "min_adapt", "xy_yx", "adaptive_xy_yx", "romm", "valiant"],
                      ["C0", "C1", "C2", "C3", "C4", "C5"]))
    for ax, key in zip(axes.flat, keys):
        for routing, pts in sorted(panels[key].items()):
            pts.sort(key=lambda p: p[0])
            c = colors.get(routing, "k")
            ref = [(x, r["avg_packet_latency"]) for x, r, _ in pts if r["status"] == "ok"]
            our = [(x, o["avg_packet_latency"]) for x, _, o in pts if o["status"] == "ok"]
            if ref:
                ax.plot(*zip(*ref), "--", color=c, lw=1.2, alpha=0.8)
            if our:
                ax.plot(*zip(*our), "-", color=c, lw=1.0, marker=".", ms=3, label=routing)
        alloc, ps, vcs, pattern = key
        ax.set_title(f"{pattern} ps{ps} {vcs}VC {'iSLIP' if alloc == 'islip' else 'sep.IF'}",
                     fontsize=9)
        ax.set_ylim(0, 200)
        ax.set_xlabel("offered (flits/node/cycle)", fontsize=8)
        ax.set_ylabel("packet latency", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(keys):]:
        ax.axis("off")
    from matplotlib.lines import Line2D
    handles = [Line2D([], [], color=c, label=name) for name, c in colors.items()]
    handles += [Line2D([], [], color="k", ls="-", label="archgym"),
                Line2D([], [], color="k", ls="--", label="BookSim2")]
    fig.legend(handles=handles, loc="upper center", ncol=len(handles), fontsize=9,
               bbox_to_anchor=(0.5, 1.0))
    fig.suptitle("packet latency vs offered load, 8x8 mesh (ok points only)", y=1.02, fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(path, dpi=90, bbox_inches="tight")
    print(f"wrote {path}")


# ----------------------------------------------------------------- speed
#: The four speed cases: booksim_base.cfg plus these overrides, as fixed-length runs.
SPEED_CASES = (
    ("8x8 mesh, uniform 0.1", ["injection_rate=0.1"]),
    ("8x8 mesh, uniform 0.3", ["injection_rate=0.3"]),
    ("16x16 mesh, uniform 0.1", ["k=16", "injection_rate=0.1"]),
    ("8x8 mesh, 4-flit packets 0.2", ["packet_size=4", "injection_rate=0.2"]),
)
#: Fixed length: 3,000 warm-up + 20,000 measured cycles, then the drain (thresholds
#: of 0 never converge, so every max_samples period runs).
FIXED_LENGTH = ["max_samples=23", "stopping_thres=0.0", "acc_stopping_thres=0.0"]


def parse_timing(path: Path) -> dict:
    """BookSim's cycles/s per case from timing.txt: {case: [cycles/s of each round]}."""
    out = defaultdict(list)
    case = None
    for line in path.read_text().splitlines():
        m = re.match(r"^(\d+x\d+ mesh),\s+uniform dor ([\d.]+)\s+(\d+)\s+(\d)\s+(.*)$", line)
        m2 = re.match(r"^\s+(\d)\s+([\d.]+\s+[\d.]+\s+[\d.]+)\s+([\d.]+)\s+([\d,]+)", line)
        if m:
            case = f"{m.group(1)}, uniform {m.group(2)}"
            out[case].append(float(m.group(5).split()[-2].replace(",", "")))
        elif m2 and case:
            out[case].append(float(m2.group(4).replace(",", "")))
    return dict(out)


def timed_run(command: list[str], cwd: Path | None = None) -> tuple[int, float]:
    """Run a BookSim-style CLI; (its "Time taken is N cycles", its "Total run time")."""
    proc = subprocess.run(command, capture_output=True, text=True, check=False, cwd=cwd)
    cycles = re.search(r"^Time taken is (\d+) cycles", proc.stdout, re.M)
    wall = re.search(r"^Total run time ([\d.eE+-]+)", proc.stdout, re.M)
    if not (cycles and wall):
        raise SystemExit(f"{command[0]}: no 'Time taken' / 'Total run time' in its output "
                         f"(exit {proc.returncode}): {proc.stderr.strip()[-300:]}")
    return int(cycles.group(1)), float(wall.group(1))


def alternate(cases: list[tuple[str, list[str], Path | None]], tools: dict[str, list[str]],
              repeats: int) -> dict[str, dict[str, tuple[int, list[float]]]]:
    """Every case (name, arguments, working folder) with each tool in turn, ``repeats`` rounds.

    Returns {case: {tool: (its simulated cycles, its "Total run time" of each round)}}.
    """
    runs = {name: {tool: (0, []) for tool in tools} for name, _, _ in cases}
    for rep in range(repeats):
        for name, arguments, cwd in cases:
            for tool, command in tools.items():
                cyc, wall = timed_run(command + arguments, cwd)
                runs[name][tool] = (cyc, runs[name][tool][1] + [wall])
                print(f"  [{rep + 1}/{repeats}] {name:<32} {tool:<8} {cyc:>6} cycles {wall:8.3f} s",
                      flush=True)
    return runs


def speed_row(name: str, runs: dict[str, tuple[int, list[float]]]) -> dict:
    """One case's CSV row: each tool's cycles, median time and cycles/s, and the ratio."""
    row = {"case": name}
    for tool, (cyc, walls) in runs.items():
        row.update({f"{tool}_cycles": cyc, f"{tool}_median_s": round(statistics.median(walls), 4),
                    f"{tool}_cycles_per_s": round(cyc / statistics.median(walls)),
                    f"{tool}_runs_s": " ".join(f"{x:.3f}" for x in walls)})
    if "booksim" in runs:
        row["ratio"] = round(row["archgym_cycles_per_s"] / row["booksim_cycles_per_s"], 1)
        print(f"  {name:<32} BookSim {row['booksim_cycles_per_s']:>8,} cycles/s  archgym "
              f"{row['archgym_cycles_per_s']:>10,} cycles/s  ->  {row['ratio']}x")
    return row


def tools_of(args) -> dict[str, list[str]]:
    tools = {"booksim": [str(args.vs_booksim)]} if args.vs_booksim else {}
    return tools | {"archgym": [sys.executable, "-m", "archgym.noc.booksim"]}


def write_rows(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def run_speed(args) -> list[dict]:
    """Each tool's own "Total run time" as simulated cycles/s, BookSim and archgym alternately."""
    cfg = str(REF / "booksim_base.cfg")
    repeats = args.repeats or (1 if args.quick else 5)
    print(f"\nspeed: booksim_base.cfg + {' '.join(FIXED_LENGTH)}, {repeats} repeats, median of "
          "each tool's own 'Total run time'" + (", BookSim and archgym alternately" if args.vs_booksim
                                                 else " (archgym alone: no --vs-booksim)"))
    cases = [(name, [cfg, *overrides, *FIXED_LENGTH], None) for name, overrides in SPEED_CASES]
    runs = alternate(cases, tools_of(args), repeats)
    recorded = parse_timing(REF / "timing.txt")
    print()
    results = []
    for name, _ in SPEED_CASES:
        rec = speed_row(name, runs[name])
        ref = recorded.get(name)
        if not args.vs_booksim:
            rec["ratio_vs_timing_txt"] = (round(rec["archgym_cycles_per_s"] / statistics.median(ref), 1)
                                          if ref else math.nan)
            print(f"  {name:<32} archgym {rec['archgym_cycles_per_s']:>10,} cycles/s"
                  + (f"  ({rec['ratio_vs_timing_txt']}x BookSim's median in timing.txt,"
                     " another machine and day)" if ref else ""))
        results.append(rec)
    if args.vs_booksim:
        print(f"smallest ratio: {min(r['ratio'] for r in results):.1f}x")
    write_rows(args.out / "bench_noc_speed.csv", results)
    return results


# ----------------------------------------------------------------- other topologies
#: Section 3: BookSim's example configurations of the topologies other than the
#: k-ary n-cubes, each from its folder (an anynet reads its network_file there).
EXAMPLES = REF / "examples"
TOPOLOGY_EXAMPLES = ("singleconfig", "anynet/anynet_config", "cmeshconfig", "flatflyconfig",
                     "fattree_config", "dragonflyconfig")
#: Their own loads vary (singleconfig offers 1.0, beyond saturation) and some sample
#: 100,000-cycle periods: every example runs at 0.1 with 1,000-cycle periods, fixed length.
TOPOLOGY_LOAD = ["injection_rate=0.1", "sample_period=1000"]


def run_topology_speed(args) -> list[dict]:
    """Speed on BookSim's other example topologies, as section 2 (those archgym accepts)."""
    repeats = args.repeats or (1 if args.quick else 5)
    print(f"\nspeed on the other topologies: BookSim's example configs + {' '.join(TOPOLOGY_LOAD)} "
          f"{' '.join(FIXED_LENGTH)}, {repeats} repeats")
    cases = []
    for example in TOPOLOGY_EXAMPLES:
        path = EXAMPLES / example
        arguments = [path.name, *TOPOLOGY_LOAD, *FIXED_LENGTH]
        try:
            with contextlib.chdir(path.parent):
                booksim.to_noc_config(booksim.load(arguments))
        except booksim.ConfigError as e:
            print(f"  {example:<32} refused by archgym: {str(e).splitlines()[0]}")
            continue
        cases.append((example, arguments, path.parent))
    if not cases:
        print("  archgym refuses every example: nothing to time")
        return []
    runs = alternate(cases, tools_of(args), repeats)
    print()
    rows = [speed_row(name, runs[name]) for name, _, _ in cases]
    write_rows(args.out / "bench_noc_topologies_speed.csv", rows)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fidelity", action="store_true", help="only section 1, the overlay against BookSim2")
    ap.add_argument("--speed", action="store_true", help="only section 2, the speed against BookSim2")
    ap.add_argument("--topologies", action="store_true",
                    help="only section 3, the speed on BookSim's other example topologies")
    ap.add_argument("--quick", action="store_true",
                    help="uniform, packet size 1, 4 VCs only; one speed repeat (under a minute)")
    ap.add_argument("--threads", type=int, default=2, help="worker threads of the fidelity runs (default 2)")
    ap.add_argument("--out", type=Path, default=OUT, help="output folder (default: %(default)s)")
    ap.add_argument("--no-plot", action="store_true", help="do not write the PNG")
    ap.add_argument("--vs-booksim", type=Path, metavar="PATH",
                    help="the BookSim2 binary: time it and archgym alternately (speed section)")
    ap.add_argument("--repeats", type=int, default=0,
                    help="speed runs per tool and case (default 5, 1 with --quick)")
    args = ap.parse_args(argv)
    if args.vs_booksim and not (args.vs_booksim.is_file() and os.access(args.vs_booksim, os.X_OK)):
        ap.error(f"--vs-booksim {args.vs_booksim}: not an executable file (give the BookSim2 binary)")
    if args.repeats < 0:
        ap.error(f"--repeats {args.repeats}: must be 0 (the default) or more")
    every = not (args.fidelity or args.speed or args.topologies)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.2f}")
    if args.speed or every:
        run_speed(args)
    if args.topologies or every:
        run_topology_speed(args)
    if args.fidelity or every:
        run_fidelity(args)
    print(f"load at the end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
