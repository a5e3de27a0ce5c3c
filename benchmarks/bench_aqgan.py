#!/usr/bin/env python
"""AQGAN benchmark: conditioning error, hardware tuning on two presets, search cost against RL and random.

    python benchmarks/bench_aqgan.py [--quick] [--out DIR] [--seed S] [--no-plot] [--no-rl]

On Quant-OneShot-v0 (digits CNN; budget 1.0, so the env's action wall never
changes a proposal: the hardware budget is applied by the tuning flow):

1. Training data: ``--data`` configurations from the stratified sampler
   (agents.aqgan.stratified_data), measured by the env; their accuracy
   coverage against as many uniform random configurations (the uniform ones
   are only for this table and are not charged to AQGAN).
2. One AQGAN is trained, then serves every target: for each target of
   TARGETS, K proposals are generated and measured; |achieved - target| over
   all generated designs (mean, median, max, share within 3.5 points).
3. Hardware tuning without retraining: for each target, preset (bit-serial
   edge and bit-fused cloud, latency) and budget (a fraction of the W8A8
   latency), the cheapest measured proposal meeting the target within the
   budget (agents.aqgan.tune).  Costs are analytic (archgym.quant.HardwareCost).
4. Search cost per design point, in accuracy evaluations.  AQGAN: (training
   data + K proposals per target) divided by the design points (target,
   preset, budget) served; a target's K proposals are measured once and serve
   every preset and budget.  PPO, REINFORCE (agents.train on Quant-v0 with the
   same preset; HAQ's action wall keeps every episode within the budget) and
   random search (same env): the episode at which a design with accuracy >=
   target is first found (median over --seeds runs; "inf" when fewer than half
   the runs found one within --cap episodes), with two budgets: the design
   point's (SEARCH_BUDGET of the W8A8 latency) and AQGAN's pick's latency (a
   design at least as good as AQGAN's).  First-hit counting favours the
   baselines: a real search does not know when to stop.

Writes into --out (default benchmarks/out/): bench_aqgan_coverage.csv,
bench_aqgan_targets.csv, bench_aqgan_tuning.csv, bench_aqgan_search.csv,
bench_aqgan.json (machine, settings, summary) and bench_aqgan.png.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import gymnasium as gym
from _common import OUT, machine_info, write_csv  # benchmarks/_common.py

import agents
import archgym  # noqa: F401  (registers the environments)
from agents.analysis import samples_to_reach
from agents.aqgan import AQGAN, Config, stratified_data, tune
from archgym import quant as q

TARGETS = (30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 85.0, 90.0, 93.0, 95.0, 96.0)
#: (name, preset, accelerator) of the hardware the tuning flow serves; the objective is latency.
HARDWARE = (("bitserial-edge", "edge", "bitserial"), ("bitfused-cloud", "cloud", "bitfused"))
#: Hardware budgets: fractions of the W8A8 latency.
BUDGETS = (0.5, 0.25)
#: Targets and budget of the search-cost comparison (tuning-flow design points).
SEARCH_TARGETS = (85.0, 90.0, 93.0, 95.0)
SEARCH_BUDGET = 0.25
BASELINES = ("ppo", "reinforce", "random")
#: AQGAN's settings here (the rest are Config's defaults).
GAN_SETTINGS = {"iterations": 3000}


def table(title: str, rows: list[dict], cols: list[str]) -> None:
    print(f"\n{title}")
    widths = [max(len(c), *(len(fmt(r[c])) for r in rows)) for c in cols]
    print("  ".join(c.rjust(w) for c, w in zip(cols, widths)))
    for r in rows:
        print("  ".join(fmt(r[c]).rjust(w) for c, w in zip(cols, widths)))


def fmt(v) -> str:
    if isinstance(v, float):
        return "inf" if math.isinf(v) else f"{v:.4g}"
    return str(v)


def shares(acc: np.ndarray, low: float, high: float, bins: int = 3) -> np.ndarray:
    edges = np.linspace(low, high, bins + 1)
    return np.bincount(np.clip(np.digitize(acc, edges) - 1, 0, bins - 1), minlength=bins) / len(acc)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small data, short training, 1 seed, cap 30 (under a minute)")
    ap.add_argument("--out", type=Path, default=OUT, help="output folder (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", type=int, default=None, help="training configurations (default 1500)")
    ap.add_argument("--proposals", type=int, default=64, help="K proposals per target")
    ap.add_argument("--seeds", type=int, default=None, help="baseline runs per (hardware, budget) (3)")
    ap.add_argument("--cap", type=int, default=None, help="episodes per baseline run (300)")
    ap.add_argument("--no-plot", action="store_true")
    ap.add_argument("--no-rl", action="store_true", help="skip the PPO and REINFORCE runs")
    args = ap.parse_args()
    n_data = args.data or (300 if args.quick else 1500)
    seeds = args.seeds or (1 if args.quick else 3)
    cap = args.cap or (30 if args.quick else 300)
    K = args.proposals
    settings = dict(GAN_SETTINGS, iterations=300 if args.quick else GAN_SETTINGS["iterations"])
    args.out.mkdir(parents=True, exist_ok=True)

    import torch

    torch.set_num_threads(1)
    env = gym.make("Quant-OneShot-v0", budget=1.0).unwrapped
    start = env.reset(seed=0)[1]
    float_acc, w8a8 = start["float_accuracy"], start["budget"]
    model = q.load_model("digits_cnn")
    evaluations = {"data": 0, "proposals": 0}

    def measure(actions, kind):
        _, acc, costs = env.evaluate_batch(actions)
        assert np.all(costs <= w8a8 * (1 + 1e-9)), "budget 1.0: the action wall must not act"
        evaluations[kind] += len(actions)
        return acc

    rng = np.random.default_rng(args.seed)
    genes, levels = len(env.action_space.nvec), int(env.action_space.nvec[0])
    low = float(measure(np.zeros((1, genes), dtype=np.int64), "data")[0])  # all 2-bit
    evaluations["data"] -= 1  # a reference point, not training data

    # 1. training data and its coverage
    t0 = time.perf_counter()
    data_acts, data_acc = stratified_data(lambda a: (a, measure(a, "data")), n_data, genes, levels, rng)
    t_data = time.perf_counter() - t0
    uniform_acc = env.evaluate_batch(rng.integers(0, levels, (n_data, genes)))[1]
    coverage = []
    for name, acc in (("stratified", data_acc), ("uniform", uniform_acc)):
        s3, s10 = shares(acc, low, float_acc), shares(acc, low, float_acc, 10)
        coverage.append({"sampler": name, "n": len(acc), "low_third": s3[0], "mid_third": s3[1],
                         "high_third": s3[2], "min_decile_share": s10.min(), "max_decile_share": s10.max(),
                         "below_all2bit": float(np.mean(acc < low))})
    table(f"Training-data coverage: thirds between the all-2-bit ({low:.1f}%) and float ({float_acc:.1f}%) "
          "accuracy", coverage, list(coverage[0]))

    # 2. one AQGAN for every target
    config = Config(**settings)
    gan = AQGAN(genes, levels, config, seed=args.seed)
    t0 = time.perf_counter()
    losses = gan.fit(data_acts, data_acc)
    t_fit = time.perf_counter() - t0
    print(f"\nAQGAN trained on {n_data} measured configurations in {t_fit:.1f} s "
          f"(data {t_data:.1f} s); final losses {losses}")
    proposals, per_target = {}, []
    for i, target in enumerate(TARGETS):
        acts = gan.generate(target, K, seed=args.seed * 1000 + i)
        acc = measure(acts, "proposals")
        proposals[target] = (acts, acc)
        err = np.abs(acc - target)
        per_target.append({"target": target, "mean_achieved": acc.mean(), "mean_abs_err": err.mean(),
                           "median_abs_err": float(np.median(err)), "max_abs_err": err.max(),
                           "within_3.5": float(np.mean(err <= 3.5)), "meeting_target": float(np.mean(acc >= target)),
                           "unique": len({tuple(r) for r in acts})})
    all_err = np.concatenate([np.abs(proposals[t][1] - t) for t in TARGETS])
    table(f"|achieved - target| over the K={K} generated designs per target (accuracy measured, %)",
          per_target, list(per_target[0]))
    print(f"all {len(all_err)} generated designs: mean |err| {all_err.mean():.2f}, median "
          f"{np.median(all_err):.2f}, max {all_err.max():.2f}, within 3.5: {np.mean(all_err <= 3.5):.1%}")

    # 3. the tuning flow on two presets and two budgets, no retraining
    tuning = []
    for hw_name, preset, design in HARDWARE:
        hw = q.HardwareCost(model, preset=preset, design=design)
        w8 = float(hw.objective("latency", [8] * (genes // 2), [8] * (genes // 2))[0])
        for frac in BUDGETS:
            for target in TARGETS:
                acts, acc = proposals[target]
                cost = hw.objective("latency", acts[:, 0::2] + 2, acts[:, 1::2] + 2)
                i = tune(acc, cost, target, frac * w8)
                row = {"hardware": hw_name, "budget": frac, "target": target, "found": i is not None,
                       "accuracy": float(acc[i]) if i is not None else math.nan,
                       "error": float(acc[i] - target) if i is not None else math.nan,
                       "latency_vs_w8a8": float(cost[i] / w8) if i is not None else math.nan,
                       "wbits": "-".join(map(str, acts[i, 0::2] + 2)) if i is not None else "",
                       "abits": "-".join(map(str, acts[i, 1::2] + 2)) if i is not None else ""}
                tuning.append(row)
    table("Hardware tuning: cheapest measured proposal meeting target within budget (latency / W8A8)",
          [r for r in tuning if r["target"] in SEARCH_TARGETS], list(tuning[0]))

    # 4. search cost per design point
    points = len(TARGETS) * len(HARDWARE) * len(BUDGETS)
    gan_total = evaluations["data"] + evaluations["proposals"]
    gan_per_point = gan_total / points
    gan_per_target = evaluations["data"] / len(TARGETS) + K
    available = [b for b in BASELINES if not (args.no_rl and b != "random")]
    missing = [b for b in available if b not in agents.AGENTS]
    if missing:
        print(f"\nagents not registered, skipped: {missing}")
    available = [b for b in available if b in agents.AGENTS]
    search = []
    t0 = time.perf_counter()

    def baseline_runs(preset, design, frac):
        kwargs = {"preset": preset, "accelerator": design, "objective": "latency", "budget": frac}
        return {b: [agents.train("Quant-v0", b, budget=cap, seed=s, env_kwargs=kwargs, score="max:accuracy")
                    for s in range(seeds)] for b in available}

    for hw_name, preset, design in HARDWARE:
        at_budget = baseline_runs(preset, design, SEARCH_BUDGET)
        for target in SEARCH_TARGETS:
            pick = next(r for r in tuning if (r["hardware"], r["budget"], r["target"]) ==
                        (hw_name, SEARCH_BUDGET, target))
            variants = [("design-point budget", SEARCH_BUDGET, at_budget)]
            if pick["found"]:  # can the baseline find a design as good as AQGAN's pick?
                frac = pick["latency_vs_w8a8"]
                variants.append(("AQGAN pick's latency", frac, baseline_runs(preset, design, frac)))
            for mode, frac, runs in variants:
                row = {"hardware": hw_name, "target": target, "baseline_budget": mode, "budget_vs_w8a8": frac,
                       "aqgan_found": pick["found"], "aqgan_evals": gan_per_point}
                for b, rs in runs.items():
                    hits = sorted(samples_to_reach(r.best_so_far(), target) for r in rs)
                    row[f"{b}_evals"] = hits[(len(hits) - 1) // 2]  # inf unless at least half the runs hit
                    row[f"{b}_found"] = f"{sum(math.isfinite(h) for h in hits)}/{len(hits)}"
                search.append(row)
    t_search = time.perf_counter() - t0
    table(f"Search cost per design point (accuracy evaluations; baselines: first episode meeting the target "
          f"within the budget, median of {seeds} runs, cap {cap})", search, list(search[0]))
    summary_ratio = {}
    for mode in ("design-point budget", "AQGAN pick's latency"):
        rows = [r for r in search if r["baseline_budget"] == mode and r["aqgan_found"]]
        for b in available:
            ratios = [r[f"{b}_evals"] / r["aqgan_evals"] for r in rows if math.isfinite(r[f"{b}_evals"])]
            summary_ratio[f"{b} @ {mode}"] = {
                "median_ratio": float(np.median(ratios)) if ratios else None, "points_reached": len(ratios),
                "points_missed": len(rows) - len(ratios)}
    print(f"\nAQGAN: {gan_total} accuracy evaluations ({evaluations['data']} training data + "
          f"{len(TARGETS)} targets x K={K}) serve {points} design points -> {gan_per_point:.1f} per point "
          f"({gan_per_target:.1f} if each target served a single hardware and budget)")
    for name, s in summary_ratio.items():
        print(f"{name}: median (baseline evals / AQGAN evals) = {fmt(s['median_ratio'])} over the "
              f"{s['points_reached']} design points AQGAN solved and the baseline reached; "
              f"{s['points_missed']} not reached within {cap} episodes")
    print(f"charging a baseline its whole search ({cap} episodes, as HAQ runs a fixed number per design point): "
          f"{cap / gan_per_point:.1f} x AQGAN's cost per point")

    # outputs
    write_csv(args.out / "bench_aqgan_coverage.csv", coverage)
    write_csv(args.out / "bench_aqgan_targets.csv", per_target)
    write_csv(args.out / "bench_aqgan_tuning.csv", tuning)
    write_csv(args.out / "bench_aqgan_search.csv", search)
    summary = {"float_accuracy": float_acc, "all2bit_accuracy": low, "train_data": evaluations["data"],
               "proposal_evaluations": evaluations["proposals"], "design_points": points,
               "aqgan_evals_per_point": gan_per_point, "aqgan_evals_per_target": gan_per_target,
               "mean_abs_err": float(all_err.mean()), "median_abs_err": float(np.median(all_err)),
               "max_abs_err": float(all_err.max()), "within_3.5": float(np.mean(all_err <= 3.5)),
               "fit_s": t_fit, "baseline_s": t_search, "ratios": summary_ratio}
    (args.out / "bench_aqgan.json").write_text(json.dumps(
        {"machine": machine_info(), "command": " ".join(sys.argv),
         "settings": {"data": n_data, "proposals": K, "targets": TARGETS, "hardware": HARDWARE,
                      "budgets": BUDGETS, "search_targets": SEARCH_TARGETS, "search_budget": SEARCH_BUDGET, "seeds": seeds, "cap": cap,
                      "config": dataclasses.asdict(config)},
         "summary": summary}, indent=1, allow_nan=True))
    if not args.no_plot:
        plot(args.out / "bench_aqgan.png", proposals, data_acc, uniform_acc, search, available, low, float_acc)
    print(f"\nwrote {args.out}/bench_aqgan_*.csv, bench_aqgan.json" + ("" if args.no_plot else ", bench_aqgan.png"))


def plot(path, proposals, data_acc, uniform_acc, search, baselines, low, float_acc) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.6))
    ax = axes[0]
    bins = np.linspace(0, 100, 41)
    ax.hist(uniform_acc, bins=bins, alpha=0.6, label="uniform bits")
    ax.hist(data_acc, bins=bins, alpha=0.6, label="stratified (training data)")
    ax.axvline(low, color="k", ls=":", lw=1)
    ax.axvline(float_acc, color="k", ls="--", lw=1)
    ax.set(xlabel="measured accuracy (%)", ylabel="configurations", title="Training-data coverage")
    ax.legend()
    ax = axes[1]
    targets = sorted(proposals)
    ax.violinplot([proposals[t][1] for t in targets], positions=targets, widths=4, showmedians=True)
    ax.plot([0, 100], [0, 100], "k--", lw=1)
    ax.set(xlim=(20, 100), ylim=(0, 100), xlabel="target accuracy (%)", ylabel="measured accuracy (%)",
           title="Generated designs: achieved vs target")
    ax = axes[2]
    labels = [f"{r['hardware']} {r['target']:g}%\nbudget {r['budget_vs_w8a8']:.3g}" for r in search]
    x = np.arange(len(search))
    series = [("aqgan", [r["aqgan_evals"] if r["aqgan_found"] else math.inf for r in search])] + \
        [(b, [r[f"{b}_evals"] for r in search]) for b in baselines]
    width = 0.8 / len(series)
    for j, (name, vals) in enumerate(series):
        vals = np.array(vals, dtype=float)
        shown = np.where(np.isfinite(vals), vals, np.nan)
        ax.bar(x + j * width, shown, width, label=name)
        ax.scatter((x + j * width)[~np.isfinite(vals)], np.full((~np.isfinite(vals)).sum(), 1.0), marker="x",
                   color="k", s=12)
    ax.set_yscale("log")
    ax.set_xticks(x + 0.4 - width / 2, labels, rotation=90, fontsize=6)
    ax.set(ylabel="accuracy evaluations per design point", title="Search cost (x: not reached)")
    ax.set_ylim(0.8, ax.get_ylim()[1] * 10)  # room for the legend above the bars
    ax.legend(fontsize=7, ncol=len(series), loc="upper center")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
