#!/usr/bin/env python
"""archgym's NoC against BookSim2 on the k-ary n-cube curves of cubes.csv, per curve.

    python benchmarks/bench_noc_cubes.py [--options TEXT] [--quick] [--threads 2] [--out DIR]

Every run of tests/data/reference/booksim/cubes.csv (BookSim2 on tori, rings,
3-D networks and the router options; made by regenerate_cubes.py there) is
repeated with archgym.noc.measure (same configuration and seed value, other
random streams).  Per curve, the tolerances of tests/test_noc_fidelity.py:
latency points matched / tried (``ok`` in BookSim, rate at most 90% of its
last stable rate, |error| <= 10%), and the saturation check: archgym ``ok`` at
BookSim's last stable rate - 0.02 and not ``ok`` at its first non-ok rate at
least 0.02 above (BookSim's last stable rate: its highest ``ok`` rate with a
latency up to 250, half of latency_thres).  ``--options TEXT`` keeps the curves
whose ``options`` contain TEXT (``--options speedup``; ``--options ''`` keeps
them all, the default: the curves with any options).  Prints one line per
curve and the totals; writes bench_noc_cubes.csv.  ``--quick``: the first two
curves.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from _common import OUT, REFERENCE  # benchmarks/_common.py

from archgym import noc

KEY = ("topology", "k", "n", "pattern", "routing", "packet_size", "num_vcs", "options")


def config(key: tuple, rate: float) -> noc.NocConfig:
    topology, k, n, pattern, routing, ps, vcs, options = key
    types = {f["name"]: f["type"] for f in noc.CONFIG_FIELDS}
    extra = {name: types[name](value) if types[name] in (str, float) else types[name](int(value))
             for name, value in (o.split("=") for o in options.split())}
    return noc.NocConfig(topology=topology, k=int(k), n=int(n), traffic=pattern,
                         routing_function=routing, packet_size=int(ps), num_vcs=int(vcs),
                         injection_rate=rate, **extra)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--options", default=None, metavar="TEXT",
                    help="keep the curves whose options contain TEXT (default: any options)")
    ap.add_argument("--quick", action="store_true", help="the first two curves only")
    ap.add_argument("--threads", type=int, default=2, help="worker threads (default 2)")
    ap.add_argument("--out", type=Path, default=OUT, help="output folder (default: %(default)s)")
    args = ap.parse_args()

    curves = defaultdict(list)
    with open(REFERENCE / "booksim" / "cubes.csv", newline="") as fh:
        for r in csv.DictReader(fh):
            key = tuple(r[f] for f in KEY)
            if (r["options"] != "") if args.options is None else (args.options in r["options"]):
                lat = float(r["avg_packet_latency"]) if r["avg_packet_latency"] else math.nan
                curves[key].append((float(r["injection_rate"]), r["status"], lat))
    keys = sorted(curves)[: 2 if args.quick else None]
    jobs = [(key, *pt) for key in keys for pt in sorted(curves[key])]
    ours = noc.measure_many([config(key, rate) for key, rate, _, _ in jobs], threads=args.threads)
    result = {(key, rate): o for (key, rate, _, _), o in zip(jobs, ours)}

    args.out.mkdir(parents=True, exist_ok=True)
    rows, matched_total, tried_total, sat_total = [], 0, 0, 0
    for key in keys:
        pts = sorted(curves[key])
        sat = max((r for r, s, lat in pts if s == "ok" and lat <= 250), default=0.0)
        tried = [(r, lat) for r, s, lat in pts if s == "ok" and r <= 0.9 * sat + 1e-9]
        matched = sum(abs(result[key, r]["avg_packet_latency"] - lat) / lat <= 0.10
                      for r, lat in tried)
        below = max((r for r, s, _ in pts if s == "ok" and r <= sat - 0.02 + 1e-9), default=None)
        above = min((r for r, s, _ in pts if s != "ok" and r >= sat + 0.02 - 1e-9), default=None)
        ours_sat = max((r for r, _, _ in pts if result[key, r]["status"] == "ok"), default=0.0)
        sat_ok = ((below is None or result[key, below]["status"] == "ok")
                  and (above is None or result[key, above]["status"] != "ok"))
        matched_total += matched
        tried_total += len(tried)
        sat_total += sat_ok
        name = " ".join(f"{f}={v}" for f, v in zip(KEY, key) if v)
        print(f"{name}: latency {matched}/{len(tried)}, last stable BookSim {sat:.2f} "
              f"archgym {ours_sat:.2f} ({'ok' if sat_ok else 'MISS'})")
        rows.append(dict(zip(KEY, key), matched=matched, tried=len(tried), booksim_last_stable=sat,
                         archgym_last_stable=ours_sat, saturation_check="ok" if sat_ok else "miss"))
    print(f"total: latency {matched_total}/{tried_total} points within 10%, saturation "
          f"{sat_total}/{len(keys)} curves")
    with open(args.out / "bench_noc_cubes.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, list(rows[0]) if rows else list(KEY))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
