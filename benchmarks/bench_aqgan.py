#!/usr/bin/env python
"""AQGAN benchmark: conditioning error, hardware tuning on two presets, search cost against RL and random.

    python benchmarks/bench_aqgan.py [--model digits_cnn|fashion_dscnn] [--quick] [--out DIR] [--seed S]
                                     [--no-plot] [--no-rl]

On a model's one-shot env (``--model digits_cnn``, the default:
Quant-OneShot-v0, 5 layers, targets TARGETS; ``--model fashion_dscnn``:
Quant-OneShot-FashionDSCNN-v0, the 12-layer depthwise-separable
Fashion-MNIST CNN, targets at DSCNN_DISTANCES points below its float
accuracy; budget 1.0, so the env's action wall never changes a proposal: the
hardware budget is applied by the tuning flow):

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
   point's (SEARCH_BUDGET of the W8A8 latency; 0.5 for fashion_dscnn) and, for digits_cnn, AQGAN's
   pick's latency (a design at least as good as AQGAN's).  First-hit counting
   favours the baselines: a real search does not know when to stop.
5. Error by distance from the float accuracy (DISTANCE_BINS, points):
   |achieved - target| over all generated designs, and achieved - target over
   the tuning flow's picks.
6. Amortised cost per design point, in evaluations and in wall seconds, for N
   design points served: AQGAN's one-off cost (training data, GAN training)
   over N plus K proposals per new target (a target serves every hardware and
   budget); a baseline's per-point cost (mean over the search design points of
   the first-hit evaluations, an unreached point counted as the whole --cap,
   and of the whole --cap search; wall = its measured seconds per episode x
   those episodes) does not fall with N.  The break-even N is where AQGAN's
   cost per point drops below the baseline's.

Writes into --out (default benchmarks/out/), PREFIX = bench_aqgan for
digits_cnn and bench_aqgan_<model> otherwise: PREFIX_coverage.csv,
PREFIX_targets.csv, PREFIX_tuning.csv, PREFIX_search.csv, PREFIX_bins.csv,
PREFIX_amortised.csv, PREFIX.json (machine, settings, summary), PREFIX.png and
PREFIX_amortised.png (cost per point against points served).
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
#: fashion_dscnn: targets at these distances (points) below the float accuracy, and the search design points'.
DSCNN_DISTANCES = (0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 12.0, 20.0, 30.0, 45.0, 60.0)
DSCNN_SEARCH_DISTANCES = (1.0, 2.0, 3.0, 5.0)
#: Bins of the distance from float accuracy (points) the errors are reported in.
DISTANCE_BINS = (0.0, 2.0, 5.0, 10.0, 20.0, 40.0, 100.0)
#: Design points served by the amortisation curve (the plot's x axis: 1..AMORTISE_MAX).
AMORTISE_MAX = 1000
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


@dataclasses.dataclass(frozen=True)
class Setup:
    """What the benchmark runs on for one model."""

    oneshot: str            # the env AQGAN measures
    sequential: str         # the env the baselines search
    search_hardware: tuple  # the HARDWARE entries the baselines run on
    search_budget: float    # the search design points' budget (fraction of the W8A8 latency, one of BUDGETS)
    search_pick: bool       # also search at AQGAN's pick's latency


#: fashion_dscnn searches at 0.5: at 0.25 (uniform 4 bits: 80 %) no design is within 5 points of float.
SETUPS = {"digits_cnn": Setup("Quant-OneShot-v0", "Quant-v0", HARDWARE, SEARCH_BUDGET, True),
          "fashion_dscnn": Setup("Quant-OneShot-FashionDSCNN-v0", "Quant-FashionDSCNN-v0", HARDWARE[:1], 0.5,
                                 False)}


def targets_for(model: str, float_acc: float) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(targets, search targets) of a model: absolute for digits_cnn, below float accuracy otherwise."""
    if model == "digits_cnn":
        return TARGETS, SEARCH_TARGETS
    below = lambda ds: tuple(round(float_acc - d, 2) for d in ds)  # noqa: E731
    return below(DSCNN_DISTANCES), below(DSCNN_SEARCH_DISTANCES)


def distance_bin(distance: float) -> str:
    i = min(max(int(np.digitize(distance, DISTANCE_BINS)) - 1, 0), len(DISTANCE_BINS) - 2)
    return f"{DISTANCE_BINS[i]:g}-{DISTANCE_BINS[i + 1]:g}"


def binned_errors(proposals: dict, tuning: list[dict], float_acc: float) -> list[dict]:
    """Per distance bin: |achieved - target| over the generated designs, achieved - target over the picks."""
    rows = []
    for lo, hi in zip(DISTANCE_BINS[:-1], DISTANCE_BINS[1:]):
        name = f"{lo:g}-{hi:g}"
        errs = [np.abs(acc - t) for t, (_, acc) in proposals.items() if distance_bin(float_acc - t) == name]
        picks = [r for r in tuning if distance_bin(float_acc - r["target"]) == name]
        if not errs:
            continue
        e = np.concatenate(errs)
        found = np.array([r["error"] for r in picks if r["found"]])
        rows.append({"distance_from_float": name, "targets": len(errs), "designs": len(e),
                     "mean_abs_err": e.mean(), "median_abs_err": float(np.median(e)),
                     "within_3.5": float(np.mean(e <= 3.5)), "picks": len(found), "points": len(picks),
                     "pick_mean_err": found.mean() if len(found) else math.nan,
                     "pick_max_err": found.max() if len(found) else math.nan})
    return rows


def amortised(n: np.ndarray, fixed: float, per_target: float, points_per_target: int) -> np.ndarray:
    """AQGAN's cost per design point after serving n points: (fixed + per_target x targets) / n."""
    return (fixed + per_target * np.ceil(n / points_per_target)) / n


def break_even(fixed: float, per_target: float, points_per_target: int, baseline: float) -> float:
    """Smallest n (up to AMORTISE_MAX) at which AQGAN's cost per point is at most the baseline's; inf if none."""
    n = np.arange(1, AMORTISE_MAX + 1)
    hit = np.flatnonzero(amortised(n, fixed, per_target, points_per_target) <= baseline)
    return float(n[hit[0]]) if hit.size else math.inf


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
    ap.add_argument("--model", choices=tuple(SETUPS), default="digits_cnn",
                    help="the Quant model AQGAN serves (default: %(default)s)")
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
    setup = SETUPS[args.model]
    prefix = "bench_aqgan" if args.model == "digits_cnn" else f"bench_aqgan_{args.model}"
    args.out.mkdir(parents=True, exist_ok=True)

    import torch

    torch.set_num_threads(1)
    env = gym.make(setup.oneshot, budget=1.0).unwrapped
    start = env.reset(seed=0)[1]
    float_acc, w8a8 = start["float_accuracy"], start["budget"]
    targets, search_targets = targets_for(args.model, float_acc)
    model = q.load_model(args.model)
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
    print(f"{args.model}: {genes // 2} layers, float accuracy {float_acc:.2f}%, all-2-bit {low:.2f}% "
          f"({len(env.setup.labels)} held-out images)")

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
    t0 = time.perf_counter()
    for i, target in enumerate(targets):
        acts = gan.generate(target, K, seed=args.seed * 1000 + i)
        acc = measure(acts, "proposals")
        proposals[target] = (acts, acc)
        err = np.abs(acc - target)
        per_target.append({"target": target, "below_float": round(float_acc - target, 2),
                           "mean_achieved": acc.mean(), "mean_abs_err": err.mean(),
                           "median_abs_err": float(np.median(err)), "max_abs_err": err.max(),
                           "within_3.5": float(np.mean(err <= 3.5)), "meeting_target": float(np.mean(acc >= target)),
                           "unique": len({tuple(r) for r in acts})})
    t_proposals = (time.perf_counter() - t0) / len(targets)  # generate + measure K, per target
    all_err = np.concatenate([np.abs(proposals[t][1] - t) for t in targets])
    table(f"|achieved - target| over the K={K} generated designs per target (accuracy measured, %)",
          per_target, list(per_target[0]))
    print(f"all {len(all_err)} generated designs: mean |err| {all_err.mean():.2f}, median "
          f"{np.median(all_err):.2f}, max {all_err.max():.2f}, within 3.5: {np.mean(all_err <= 3.5):.1%}")

    # 3. the tuning flow on two presets and two budgets, no retraining
    tuning = []
    L = genes // 2
    for hw_name, preset, design in HARDWARE:
        hw = q.HardwareCost(model, preset=preset, design=design)
        w8 = float(hw.objective("latency", [8] * L, [8] * L)[0])
        for frac in BUDGETS:
            for target in targets:
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
          [r for r in tuning if r["target"] in search_targets], list(tuning[0]))

    # 4. search cost per design point
    points_per_target = len(HARDWARE) * len(BUDGETS)
    points = len(targets) * points_per_target
    gan_total = evaluations["data"] + evaluations["proposals"]
    gan_per_point = gan_total / points
    gan_per_target = evaluations["data"] / len(targets) + K
    available = [b for b in BASELINES if not (args.no_rl and b != "random")]
    missing = [b for b in available if b not in agents.AGENTS]
    if missing:
        print(f"\nagents not registered, skipped: {missing}")
    available = [b for b in available if b in agents.AGENTS]
    search = []
    episode_s = {b: [0.0, 0] for b in available}  # wall seconds and episodes of every baseline run
    t0 = time.perf_counter()

    def baseline_runs(preset, design, frac):
        kwargs = {"preset": preset, "accelerator": design, "objective": "latency", "budget": frac}
        runs = {b: [agents.train(setup.sequential, b, budget=cap, seed=s, env_kwargs=kwargs, score="max:accuracy")
                    for s in range(seeds)] for b in available}
        for b, rs in runs.items():
            episode_s[b][0] += sum(r.wall_time_s for r in rs)
            episode_s[b][1] += sum(r.samples for r in rs)
        return runs

    for hw_name, preset, design in setup.search_hardware:
        at_budget = baseline_runs(preset, design, setup.search_budget)
        for target in search_targets:
            pick = next(r for r in tuning if (r["hardware"], r["budget"], r["target"]) ==
                        (hw_name, setup.search_budget, target))
            variants = [("design-point budget", setup.search_budget, at_budget)]
            if pick["found"] and setup.search_pick:  # can the baseline find a design as good as AQGAN's pick?
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
        if not rows:
            continue
        for b in available:
            ratios = [r[f"{b}_evals"] / r["aqgan_evals"] for r in rows if math.isfinite(r[f"{b}_evals"])]
            summary_ratio[f"{b} @ {mode}"] = {
                "median_ratio": float(np.median(ratios)) if ratios else None, "points_reached": len(ratios),
                "points_missed": len(rows) - len(ratios)}
    print(f"\nAQGAN: {gan_total} accuracy evaluations ({evaluations['data']} training data + "
          f"{len(targets)} targets x K={K}) serve {points} design points -> {gan_per_point:.1f} per point "
          f"({gan_per_target:.1f} if each target served a single hardware and budget)")
    for name, s in summary_ratio.items():
        print(f"{name}: median (baseline evals / AQGAN evals) = {fmt(s['median_ratio'])} over the "
              f"{s['points_reached']} design points AQGAN solved and the baseline reached; "
              f"{s['points_missed']} not reached within {cap} episodes")
    print(f"charging a baseline its whole search ({cap} episodes, as HAQ runs a fixed number per design point): "
          f"{cap / gan_per_point:.1f} x AQGAN's cost per point")

    # 5. error by distance from float accuracy
    bins = binned_errors(proposals, tuning, float_acc)
    table("Error by distance of the target below float accuracy (points): |achieved - target| over all generated "
          "designs; achieved - target over the tuning flow's picks", bins, list(bins[0]))

    # 6. amortised cost per design point, evaluations and wall seconds
    aq = {"evals": (evaluations["data"], K), "wall_s": (t_data + t_fit, t_proposals)}
    at_budget_rows = [r for r in search if r["baseline_budget"] == "design-point budget"]
    base = {}
    for b in available:
        per_episode = episode_s[b][0] / max(episode_s[b][1], 1)
        hits = [min(r[f"{b}_evals"], cap) for r in at_budget_rows]  # unreached: the whole search
        base[b] = {"first_hit_evals": float(np.mean(hits)), "whole_evals": float(cap), "s_per_episode": per_episode}
        base[b].update(first_hit_wall_s=base[b]["first_hit_evals"] * per_episode, whole_wall_s=cap * per_episode)
    amort = []
    for unit, (fixed, per_t) in aq.items():
        key = "evals" if unit == "evals" else "wall_s"
        for b, c in base.items():
            for kind in ("first_hit", "whole"):
                cost = c[f"{kind}_{key}"]
                amort.append({"unit": unit, "baseline": b, "baseline_cost": kind, "baseline_per_point": cost,
                              "aqgan_fixed": fixed, "aqgan_per_target": per_t,
                              "aqgan_per_point_at_served": float(amortised(np.array([points]), fixed, per_t,
                                                                           points_per_target)[0]),
                              "aqgan_per_point_limit": per_t / points_per_target,
                              "break_even_points": break_even(fixed, per_t, points_per_target, cost)})
    table(f"Amortised cost per design point (AQGAN: fixed / N + per target / {points_per_target} points; "
          f"served here N = {points}; break-even N up to {AMORTISE_MAX}, inf: never)", amort, list(amort[0]))

    # outputs
    write_csv(args.out / f"{prefix}_coverage.csv", coverage)
    write_csv(args.out / f"{prefix}_targets.csv", per_target)
    write_csv(args.out / f"{prefix}_tuning.csv", tuning)
    write_csv(args.out / f"{prefix}_search.csv", search)
    write_csv(args.out / f"{prefix}_bins.csv", bins)
    write_csv(args.out / f"{prefix}_amortised.csv", amort)
    picks = np.array([r["error"] for r in tuning if r["found"]])
    summary = {"model": args.model, "layers": L, "float_accuracy": float_acc, "all2bit_accuracy": low,
               "train_data": evaluations["data"],
               "proposal_evaluations": evaluations["proposals"], "design_points": points,
               "aqgan_evals_per_point": gan_per_point, "aqgan_evals_per_target": gan_per_target,
               "mean_abs_err": float(all_err.mean()), "median_abs_err": float(np.median(all_err)),
               "max_abs_err": float(all_err.max()), "within_3.5": float(np.mean(all_err <= 3.5)),
               "picks_found": int(len(picks)), "picks_mean_err": float(picks.mean()) if len(picks) else None,
               "data_s": t_data, "fit_s": t_fit, "proposals_s_per_target": t_proposals,
               "baseline_s": t_search, "baseline_s_per_episode": {b: c["s_per_episode"] for b, c in base.items()},
               "ratios": summary_ratio}
    (args.out / f"{prefix}.json").write_text(json.dumps(
        {"machine": machine_info(), "command": " ".join(sys.argv),
         "settings": {"model": args.model, "data": n_data, "proposals": K, "targets": targets, "hardware": HARDWARE,
                      "budgets": BUDGETS, "search_targets": search_targets, "search_budget": setup.search_budget,
                      "seeds": seeds, "cap": cap, "config": dataclasses.asdict(config)},
         "summary": summary, "bins": bins, "amortised": amort}, indent=1, allow_nan=True))
    if not args.no_plot:
        violin_width = 4 if args.model == "digits_cnn" else 1  # the DS-CNN's targets are from 0.5 apart
        plot(args.out / f"{prefix}.png", proposals, data_acc, uniform_acc, search, available, low, float_acc,
             violin_width)
        plot_amortised(args.out / f"{prefix}_amortised.png", args.model, aq, base, points, points_per_target)
    print(f"\nwrote {args.out}/{prefix}_*.csv, {prefix}.json" + ("" if args.no_plot else f", {prefix}*.png"))


def plot_amortised(path, model, aq, base, points, points_per_target) -> None:
    """Cost per design point against points served: AQGAN falls with N, a per-point search does not."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = np.arange(1, AMORTISE_MAX + 1)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4))
    for ax, (unit, label) in zip(axes, (("evals", "accuracy evaluations"), ("wall_s", "wall seconds"))):
        fixed, per_t = aq[unit]
        y = amortised(n, fixed, per_t, points_per_target)
        ax.plot(n[:points], y[:points], "k-", lw=2, label="AQGAN (measured range)")
        ax.plot(n[points - 1:], y[points - 1:], "k:", lw=2, label="AQGAN (same costs, more targets)")
        key = "evals" if unit == "evals" else "wall_s"
        for j, (b, c) in enumerate(base.items()):
            color = f"C{j}"
            ax.axhline(c[f"first_hit_{key}"], color=color, lw=1.5, label=f"{b}: first hit")
            ax.axhline(c[f"whole_{key}"], color=color, lw=1, ls="--", label=f"{b}: whole search")
        ax.axvline(points, color="grey", lw=0.8)
        ax.set(xscale="log", yscale="log", xlabel="design points served (N)", ylabel=f"{label} per design point")
        ax.grid(alpha=0.3, which="both")
    axes[0].set_title(f"{model}: search cost per design point")
    axes[1].set_title("the same in wall time (this machine)")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot(path, proposals, data_acc, uniform_acc, search, baselines, low, float_acc, violin_width) -> None:
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
    ax.violinplot([proposals[t][1] for t in targets], positions=targets, widths=violin_width, showmedians=True)
    ax.plot([0, 100], [0, 100], "k--", lw=1)
    ax.set(xlim=(min(20, min(targets) - 5), 100), ylim=(0, 100), xlabel="target accuracy (%)",
           ylabel="measured accuracy (%)", title="Generated designs: achieved vs target")
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
