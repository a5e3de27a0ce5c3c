#!/usr/bin/env python
"""NAS-v0 benchmark: the tabular benchmark's statistics, live/tabular agreement, speed.

    python benchmarks/bench_nas.py            # full run (~1-2 min here)
    python benchmarks/bench_nas.py --quick    # smaller live sample (~20 s)
        [--out DIR]   # default benchmarks/out/
        [--no-plot]

Writes to --out:

* ``bench_nas_stats.csv``: per space: architectures, metric min/median/max on
  the valid and test splits, parameter, MAC, latency and energy ranges per
  platform, and the table's training time (sum and max; measured when the
  table was built).
* ``bench_nas_constraints.csv``: per space, platform and constraint, for
  budgets at the 10th, 25th and 50th percentile of the constraint over the
  space (the 50th is the environments' default): how many architectures are
  feasible, the best feasible valid metric (the oracle), its test metric and
  architecture, and the mean best valid metric random search reaches with
  10 and 50 samples (200 repeats, samples with replacement).
* ``bench_nas_pareto.csv``: the Pareto-optimal architectures (valid metric vs
  latency) per space and platform.
* ``bench_nas_agreement.csv``: live training of a fixed random sample of each
  space against the table (same seed and epochs): exact agreement and the
  largest differences.
* ``bench_nas_speed.csv``: steps per second of the tabular environments,
  seconds per live training step (uncached), table load, cost of a whole space.
* ``bench_nas.png`` (if matplotlib is installed): valid metric against edge
  latency for every space, Pareto front marked.
"""

from __future__ import annotations

import argparse
import csv
import platform as pyplatform
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
from _common import OUT  # benchmarks/_common.py

import archgym  # noqa: F401
from archgym import nas
from archgym.envs import nas as nasenv
from archgym.nas import table as nastable

CONSTRAINTS = nasenv.CONSTRAINTS
PERCENTILES = (10, 25, 50)


def write_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    print(f"  wrote {path}")


def fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def print_table(rows: list[dict], columns: list[str]) -> None:
    widths = [max(len(c), *(len(fmt(r[c])) for r in rows)) for c in columns]
    print("  " + "  ".join(c.rjust(w) for c, w in zip(columns, widths)))
    for r in rows:
        print("  " + "  ".join(fmt(r[c]).rjust(w) for c, w in zip(columns, widths)))


def stats() -> list[dict]:
    rows = []
    for name in nas.SPACES:
        t = nas.load_table(name)
        metric = nas.load_task(nas.get_space(name).task).metric_name
        r = {"space": name, "archs": len(t), "metric": metric}
        for split in ("valid", "test"):
            m = t.metrics[split]
            r.update({f"{split}_min": float(m.min()), f"{split}_median": float(np.median(m)),
                      f"{split}_max": float(m.max())})
        r.update(params_min=int(t.params.min()), params_max=int(t.params.max()),
                 macs_min=int(t.macs.min()), macs_max=int(t.macs.max()))
        for p in nas.PLATFORMS:
            r.update({f"latency_{p}_min": int(t.latency[p].min()), f"latency_{p}_max": int(t.latency[p].max()),
                      f"energy_{p}_min": float(t.energy[p].min()), f"energy_{p}_max": float(t.energy[p].max())})
        r.update(train_time_sum_s=float(t.train_time.sum()), train_time_max_s=float(t.train_time.max()))
        rows.append(r)
    return rows


def constraints(repeats: int = 200) -> list[dict]:
    rows = []
    rng = np.random.default_rng(0)
    for name in nas.SPACES:
        sp, t = nas.get_space(name), nas.load_table(name)
        valid, test = t.metrics["valid"], t.metrics["test"]
        for p in nas.PLATFORMS:
            fig = nas.space_figures(name, p)
            for c in CONSTRAINTS:
                used = fig[c].astype(float)
                ordered = np.sort(used)
                for q in PERCENTILES:
                    budget = float(ordered[int(q / 100 * (len(ordered) - 1))])
                    ok = ~nasenv.exceeds(used, budget)
                    best = int(np.flatnonzero(ok)[np.argmax(valid[ok])])
                    reward = np.where(ok, np.maximum(valid, -1.0), nasenv.infeasible_reward(used, budget))
                    rs = {}
                    for n in (10, 50):
                        draws = rng.integers(len(sp), size=(repeats, n))
                        rs[n] = float(np.mean(reward[draws].max(axis=1)))
                    rows.append({"space": name, "platform": p, "constraint": c, "percentile": q,
                                 "budget": budget, "feasible": int(ok.sum()), "archs": len(sp),
                                 "best_valid": float(valid[best]), "best_test": float(test[best]),
                                 "best_arch": sp.decode(sp.enumerate()[best]).describe(),
                                 "unconstrained_best_valid": float(valid.max()),
                                 "random10_mean_best": rs[10], "random50_mean_best": rs[50]})
    return rows


def pareto() -> list[dict]:
    rows = []
    for name in nas.SPACES:
        sp, t = nas.get_space(name), nas.load_table(name)
        for p in nas.PLATFORMS:
            lat, val = t.latency[p], t.metrics["valid"]
            order = np.lexsort((-val, lat))  # by latency, best metric first
            best = -np.inf
            for i in order:
                if val[i] > best:
                    best = val[i]
                    rows.append({"space": name, "platform": p, "arch": sp.decode(sp.enumerate()[i]).describe(),
                                 "latency": int(lat[i]), "energy": float(t.energy[p][i]),
                                 "params": int(t.params[i]), "valid": float(val[i]),
                                 "test": float(t.metrics["test"][i])})
    return rows


def agreement(per_space: dict[str, int]) -> list[dict]:
    rows = []
    for name, n in per_space.items():
        sp, t = nas.get_space(name), nas.load_table(name)
        rng = np.random.default_rng(7)
        ids = sorted(rng.choice(len(sp), size=min(n, len(sp)), replace=False).tolist())
        exact, worst, times = 0, 0.0, []
        for i in ids:
            rec = nas.measure(name, sp.enumerate()[i])
            times.append(rec["train_time_s"])
            diffs = [abs(rec[f"{s}_metric"] - t.metrics[s][i]) for s in ("train", "valid", "test")]
            exact += all(d == 0 for d in diffs)
            worst = max(worst, *diffs)
        rows.append({"space": name, "sampled": len(ids), "exact": exact, "max_abs_diff": worst,
                     "live_s_median": float(np.median(times)), "live_s_max": float(np.max(times)),
                     "table_s_median": float(np.median(t.train_time[ids]))})
    return rows


def _rate(fn, min_time: float = 0.5) -> float:
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < min_time:
        fn()
        n += 1
    return n / (time.perf_counter() - start)


def speed() -> list[dict]:
    rows = []
    for env_id in ("NAS-v0", "NAS-CNN-v0", "NAS-Fashion-v0", "NAS-Regression-v0", "NAS-Conditional-v0", "NAS-Sequential-v0"):
        env = gym.make(env_id)
        env.action_space.seed(0)
        env.reset(seed=0)
        state = {"done": False}

        def one(env=env, state=state):
            if state["done"]:
                env.reset()
            state["done"] = env.step(env.action_space.sample())[2]

        rows.append({"name": f"env_step/{env_id}", "value": _rate(one), "unit": "steps/s"})
    for name, enc in (("digits-mlp", (0, 0, 0, 0, 0)), ("digits-mlp", (2, 3, 3, 3, 0)),
                      ("digits-cnn", (0, 0, 0, 0, 0, 0)), ("digits-cnn", (1, 2, 1, 2, 1, 1)),
                      ("fashion-cnn", (0, 0, 0, 0, 0, 0, 0, 0, 0)), ("fashion-cnn", (2, 0, 2, 1, 2, 1, 2, 1, 1)),
                      ("diabetes-mlp", (1, 2, 2, 0, 0))):
        env = nasenv.NASEnv(name, mode="live", cache=False, budget=1e12)
        env.reset(seed=0)
        t0 = time.perf_counter()
        _, _, _, _, info = env.step(np.array(enc))
        rows.append({"name": f"live_step/{name}/{info['arch']}", "value": time.perf_counter() - t0, "unit": "s"})
    t0 = time.perf_counter()
    nastable._load.cache_clear()
    for name in nas.SPACES:
        nas.load_table(name)
    rows.append({"name": "table_load_all_spaces", "value": time.perf_counter() - t0, "unit": "s"})
    t0 = time.perf_counter()
    nas.measure.__globals__["space_figures"].cache_clear()
    for name in nas.SPACES:
        for p in nas.PLATFORMS:
            nas.space_figures(name, p)
    rows.append({"name": "cost_all_spaces_all_platforms", "value": time.perf_counter() - t0, "unit": "s"})
    return rows


def plot(path: Path, pareto_rows: list[dict]) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("  matplotlib not installed: no PNG")
        return
    fig, axes = plt.subplots(1, len(nas.SPACES), figsize=(4.2 * len(nas.SPACES), 3.8))
    for ax, name in zip(axes, nas.SPACES):
        t = nas.load_table(name)
        metric = nas.load_task(nas.get_space(name).task).metric_name
        for p, colour in zip(nas.PLATFORMS, ("tab:blue", "tab:orange")):
            ax.scatter(t.latency[p], t.metrics["valid"], s=8, alpha=0.5, color=colour, label=f"{p}")
            front = [r for r in pareto_rows if r["space"] == name and r["platform"] == p]
            ax.step([r["latency"] for r in front], [r["valid"] for r in front], where="post", color=colour)
        ax.set_xscale("log")
        ax.set_xlabel("latency (cycles, cost model)")
        ax.set_ylabel(f"valid {metric}")
        ax.set_title(f"{name} ({len(t)} archs)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"  wrote {path}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=OUT, help="output folder (default: %(default)s)")
    ap.add_argument("--quick", action="store_true", help="smaller live sample")
    ap.add_argument("--no-plot", action="store_true")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"bench_nas: Python {pyplatform.python_version()}, numpy {np.__version__}, "
          f"{pyplatform.machine()}, {pyplatform.processor() or 'cpu'}")

    print("\n== table statistics ==")
    s = stats()
    write_csv(args.out / "bench_nas_stats.csv", s)
    print_table(s, ["space", "archs", "metric", "valid_min", "valid_median", "valid_max", "test_min", "test_max",
                    "params_min", "params_max", "latency_edge_min", "latency_edge_max", "latency_cloud_min",
                    "latency_cloud_max", "energy_edge_min", "energy_edge_max", "train_time_sum_s"])

    print("\n== constraints (budget at a percentile of the constraint over the space) ==")
    c = constraints()
    write_csv(args.out / "bench_nas_constraints.csv", c)
    print_table([r for r in c if r["platform"] == "edge" and r["constraint"] in ("latency", "params")],
                ["space", "constraint", "percentile", "budget", "feasible", "archs", "best_valid", "best_test",
                 "best_arch", "random10_mean_best", "random50_mean_best"])

    print("\n== Pareto fronts (valid metric vs latency) ==")
    pr = pareto()
    write_csv(args.out / "bench_nas_pareto.csv", pr)
    for name in nas.SPACES:
        for p in nas.PLATFORMS:
            front = [r for r in pr if r["space"] == name and r["platform"] == p]
            print(f"  {name} {p}: {len(front)} Pareto-optimal: " +
                  ", ".join(f"{r['arch']} ({r['latency']}, {r['valid']:.3f})" for r in front[:4]) +
                  (" ..." if len(front) > 4 else ""))

    print("\n== live training vs the table (same seed and epochs) ==")
    sample = {"digits-mlp": 4, "digits-cnn": 2, "fashion-cnn": 2, "diabetes-mlp": 4, "friedman1-mlp": 4} \
        if args.quick else {"digits-mlp": 12, "digits-cnn": 6, "fashion-cnn": 6, "diabetes-mlp": 12,
                            "friedman1-mlp": 12}
    a = agreement(sample)
    write_csv(args.out / "bench_nas_agreement.csv", a)
    print_table(a, list(a[0]))

    print("\n== speed ==")
    sp = speed()
    write_csv(args.out / "bench_nas_speed.csv", sp)
    print_table(sp, ["name", "value", "unit"])

    if not args.no_plot:
        plot(args.out / "bench_nas.png", pr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
