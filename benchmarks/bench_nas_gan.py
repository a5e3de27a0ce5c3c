#!/usr/bin/env python
"""Conditional NAS GAN benchmark (agents.nas_gan) on NAS-v0's search spaces.

    python benchmarks/bench_nas_gan.py            # full run: 4 spaces (about 10 min per space here)
    python benchmarks/bench_nas_gan.py --quick    # fashion-cnn, 1 seed, fewer budgets (about a minute)
        [--space NAME]  # repeatable; default digits-mlp, fashion-cnn, friedman1-mlp, diabetes-mlp
                        # (--quick: fashion-cnn)
        [--out DIR]     # default benchmarks/out/
        [--seeds N]     # search repeats per method and setting (default 5)
        [--search-percentiles Q ...]  # the search section's budgets (default 10 50)
        [--sizes N ...]  # evaluations per search run (default 10 30)
        [--sections S ...]  # only these sections (default all)
        [--no-plot]

Every figure of a generated design is measured by stepping it through NAS-v0
on its space (tabular: the valid metric of the real trained network, accuracy
or R^2 on the regression spaces, and its cost-model latency).  Every CSV row
names its ``space``.  Writes to --out:

* ``bench_nas_gan_feasibility.csv``: the GAN trained once on the space's edge
  records of the table, generating 1,000 designs per edge latency budget
  (percentiles of the space) and target accuracy: feasible fraction, mean
  latency and accuracy, distinct designs; beside uniform random designs and
  the same GAN trained without the auxiliary loss (``no_aux_*``).
* ``bench_nas_gan_targets.csv``: target against achieved accuracy at a loose
  budget.
* ``bench_nas_gan_search.csv``: best valid metric at the same number of
  evaluations (samples) on NAS-v0 at two budgets (the 10th and 50th
  percentiles of the space's latency): nas_gan (training records
  from the budget), nas_gan with the table as training data (table reads not
  counted), random search, random search among the feasible designs only, and
  the other registered agents that run (sa, tpe, ga, reinforce).
* ``bench_nas_gan_unseen_platform.csv``: a platform never trained on: the
  edge-trained GAN generates for the cloud platform's latency budgets.
* ``bench_nas_gan_unseen_range.csv``: budgets below the training range: a GAN
  trained without the cheapest quarter of the space generates for budgets
  under its cheapest record (the 5th, 10th and 20th percentiles).
* ``bench_nas_gan.json`` (machine, settings, fit statistics per space),
  ``bench_nas_gan_<space>_edge.pt`` (the trained GAN, reloadable with
  ``ConditionalNASGAN.load``) and ``bench_nas_gan_<space>.png``.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
from _common import OUT, machine_info, write_csv  # benchmarks/_common.py
from scipy.stats import spearmanr

import agents
import archgym  # noqa: F401  (registers the envs)
from agents.nas_gan import ConditionalNASGAN, Config, table_records
from archgym import nas

SPACES = ("digits-mlp", "fashion-cnn", "friedman1-mlp", "diabetes-mlp")
QUICK_SPACES = ("fashion-cnn",)
SECTIONS = ("feasibility", "targets", "search", "unseen_platform", "unseen_range")
N_GENERATED = 1000
PROPOSALS = 10  # evaluations spent on proposals in the unseen-platform comparison
OTHER_AGENTS = ("sa", "tpe", "ga", "reinforce")


def print_table(rows: list[dict], columns: list[str]) -> None:
    def fmt(v):
        return f"{v:.4g}" if isinstance(v, float) else str(v)
    widths = [max(len(c), *(len(fmt(r[c])) for r in rows)) for c in columns]
    print("  " + "  ".join(c.rjust(w) for c, w in zip(columns, widths)))
    for r in rows:
        print("  " + "  ".join(fmt(r[c]).rjust(w) for c, w in zip(columns, widths)))


class Judge:
    """Steps designs of a space through NAS-v0 on a platform and budget; memoises per design."""

    def __init__(self, space: str, platform: str, budget: float):
        self.env = gym.make("NAS-v0", space=space, platform=platform, budget=float(budget))
        self.cache: dict[tuple, dict] = {}

    def __call__(self, enc) -> dict:
        key = tuple(int(v) for v in enc)
        if key not in self.cache:
            self.env.reset(seed=0)
            info = self.env.step(np.asarray(key))[4]
            self.cache[key] = {"latency": info["latency"], "feasible": info["feasible"],
                               "accuracy": info["valid_metric"]}
        return self.cache[key]

    def summary(self, designs) -> dict:
        figs = [self(d) for d in designs]
        feasible = [f["accuracy"] for f in figs if f["feasible"]]
        return {"feasible": float(np.mean([f["feasible"] for f in figs])),
                "mean_latency": float(np.mean([f["latency"] for f in figs])),
                "mean_accuracy": float(np.mean([f["accuracy"] for f in figs])),
                "best_feasible_accuracy": max(feasible) if feasible else math.nan,
                "distinct": len({tuple(d) for d in map(tuple, designs)})}


def uniform_designs(space: str, n: int, seed: int) -> np.ndarray:
    """Uniform random encodings, as random search draws them."""
    nvec = nas.get_space(space).nvec
    return np.random.default_rng(seed).integers(0, nvec, size=(n, len(nvec)))


def best_target(records: list[dict], position_ok) -> float:
    """The agent's target rule: the best metric among the records that fit the budget."""
    fits = [r["metric"] for r in records if position_ok(r)]
    return max(fits or [r["metric"] for r in records])


# ------------------------------------------------------------------ sections
def feasibility(space, gan, ablation, records, percentiles) -> list[dict]:
    """``ablation``: the same GAN trained without the auxiliary loss (aux_weight=0)."""
    lat = np.array([r["latency"] for r in records], dtype=float)
    acc = np.array([r["metric"] for r in records])
    rows = []
    for q in percentiles:
        budget = float(np.percentile(lat, q))
        judge = Judge(space, "edge", budget)
        rnd = judge.summary(uniform_designs(space, N_GENERATED, seed=q))
        targets = {"median": float(np.median(acc)),
                   "best_fitting": best_target(records, lambda r, b=budget: r["latency"] <= b)}
        for name, target in targets.items():
            cond = {"latency": budget, "accuracy": target}
            gen = judge.summary(gan.generate(cond, N_GENERATED, seed=q))
            plain = judge.summary(ablation.generate(cond, N_GENERATED, seed=q))
            rows.append({"space": space, "platform": "edge", "percentile": q, "budget": budget, "target": name,
                         "target_accuracy": target, "space_feasible": float(np.mean(lat <= budget)),
                         "random_feasible": rnd["feasible"], "gan_feasible": gen["feasible"],
                         "gan_mean_latency": gen["mean_latency"], "random_mean_latency": rnd["mean_latency"],
                         "gan_mean_accuracy": gen["mean_accuracy"], "gan_distinct": gen["distinct"],
                         "gan_best_feasible": gen["best_feasible_accuracy"],
                         "no_aux_feasible": plain["feasible"], "no_aux_mean_latency": plain["mean_latency"],
                         "no_aux_mean_accuracy": plain["mean_accuracy"],
                         "oracle": float(acc[lat <= budget].max())})
    return rows


def targets(space, gan, records) -> tuple[list[dict], float]:
    lat = np.array([r["latency"] for r in records], dtype=float)
    acc = np.array([r["metric"] for r in records])
    budget = float(np.percentile(lat, 90))
    judge = Judge(space, "edge", budget)
    rows = []
    for q in (0, 10, 25, 50, 75, 90, 100):
        target = float(np.percentile(acc, q))
        designs = gan.generate({"latency": budget, "accuracy": target}, N_GENERATED, seed=100 + q)
        achieved = np.array([judge(d)["accuracy"] for d in designs])
        rows.append({"space": space, "budget": budget, "target_percentile": q, "target": target,
                     "achieved_mean": float(achieved.mean()), "achieved_sd": float(achieved.std()),
                     "abs_error_of_mean": abs(float(achieved.mean()) - target),
                     "mean_abs_error": float(np.abs(achieved - target).mean()),
                     "feasible": judge.summary(designs)["feasible"]})
    rho = float(spearmanr([r["target"] for r in rows], [r["achieved_mean"] for r in rows]).statistic)
    return rows, rho


def search(space, records, budgets, sizes, seeds) -> list[dict]:
    lat = np.array([r["latency"] for r in records], dtype=float)
    acc = np.array([r["metric"] for r in records])
    methods = {"nas_gan": ("nas_gan", {}), "nas_gan (table)": ("nas_gan", {"table": True}),
               "random": ("random", {})}
    methods.update({name: (name, {}) for name in OTHER_AGENTS})
    rows = []
    for budget in budgets:
        oracle = float(acc[lat <= budget].max())
        feasible_acc = acc[lat <= budget]
        for n in sizes:
            # random search restricted to feasible designs: n distinct ones drawn uniformly
            rng = np.random.default_rng(0)
            draws = [rng.choice(feasible_acc, size=min(n, len(feasible_acc)), replace=False).max()
                     for _ in range(2000)]
            rows.append({"space": space, "budget": budget, "evaluations": n, "method": "random among feasible",
                         "runs": 2000, "mean_best": float(np.mean(draws)), "found_feasible": 1.0,
                         "found_oracle": float(np.mean(np.array(draws) == oracle)), "oracle": oracle,
                         "seconds_per_run": 0.0})
            for label, (agent, config) in methods.items():
                t0 = time.perf_counter()
                best = np.array([agents.train("NAS-v0", agent, budget=n, seed=seed, config=config,
                                              env_kwargs={"space": space, "budget": budget}).best_score
                                 for seed in seeds])
                # a feasible reward is the metric floored at -1; an infeasible one is below -1
                rows.append({"space": space, "budget": budget, "evaluations": n, "method": label,
                             "runs": len(best), "mean_best": float(best.mean()),
                             "found_feasible": float(np.mean(best >= -1)),
                             "found_oracle": float(np.mean(best == oracle)), "oracle": oracle,
                             "seconds_per_run": (time.perf_counter() - t0) / len(best)})
    return rows


def unseen_platform(space, gan, records, percentiles) -> list[dict]:
    """Trained on edge records only; generate for the cloud platform's latency budgets."""
    cloud = nas.space_figures(space, "cloud")["latency"].astype(float)
    edge = np.array([r["latency"] for r in records], dtype=float)
    cloud_range = {"latency": (float(cloud.min()), float(cloud.max()))}
    acc = np.array([r["metric"] for r in records])
    rows = []
    for q in percentiles:
        budget = float(np.percentile(cloud, q))
        judge = Judge(space, "cloud", budget)
        # the budget's position in the cloud range, applied to the records' edge positions
        frac = math.log(budget / cloud.min()) / math.log(cloud.max() / cloud.min())
        target = best_target(records, lambda r, f=frac: math.log(r["latency"] / edge.min())
                             / math.log(edge.max() / edge.min()) <= f)
        cond = {"latency": budget, "accuracy": target}
        transfer = judge.summary(gan.generate(cond, N_GENERATED, seed=q, ranges=cloud_range))
        naive = judge.summary(gan.generate(cond, N_GENERATED, seed=q))  # cloud cycles on the edge scale
        rnd = judge.summary(uniform_designs(space, N_GENERATED, seed=q))

        def best_of_first(proposals, judge=judge):  # best feasible accuracy among the first PROPOSALS
            found = [judge(d)["accuracy"] for d in proposals[:PROPOSALS] if judge(d)["feasible"]]
            return max(found) if found else math.nan
        rnd_best = []
        for rep in range(500):
            picks = [judge(d) for d in uniform_designs(space, PROPOSALS, seed=10_000 + rep)]
            ok = [p["accuracy"] for p in picks if p["feasible"]]
            rnd_best.append(max(ok) if ok else math.nan)
        rows.append({"space": space, "case": "cloud platform (unseen)", "percentile": q, "budget": budget,
                     "target_accuracy": target, "space_feasible": float(np.mean(cloud <= budget)),
                     "random_feasible": rnd["feasible"], "gan_feasible": transfer["feasible"],
                     "gan_feasible_edge_scale": naive["feasible"],
                     "gan_mean_accuracy": transfer["mean_accuracy"],
                     "gan_mean_accuracy_edge_scale": naive["mean_accuracy"],
                     f"gan_best_of_{PROPOSALS}": best_of_first(gan.propose(cond, N_GENERATED, seed=q,
                                                                           ranges=cloud_range)),
                     f"gan_best_of_{PROPOSALS}_edge_scale": best_of_first(gan.propose(cond, N_GENERATED, seed=q)),
                     f"random_best_of_{PROPOSALS}": float(np.nanmean(rnd_best)),
                     f"random_{PROPOSALS}_none_feasible": float(np.mean(np.isnan(rnd_best))),
                     "oracle": float(acc[cloud <= budget].max())})  # records are in arch_id order
    return rows


def unseen_range(space, records, config, percentiles) -> tuple[list[dict], dict]:
    """Train without the cheapest quarter of the space; generate below the training range."""
    lat = np.array([r["latency"] for r in records], dtype=float)
    cut = float(np.percentile(lat, 25))
    budgets = [float(np.percentile(lat, q)) for q in percentiles]
    kept = [r for r in records if r["latency"] > cut]
    trained = {tuple(r["encoding"]) for r in kept}
    gan = ConditionalNASGAN(space, config, seed=0)
    stats = gan.fit(kept)
    acc = np.array([r["metric"] for r in records])
    rows = []
    for budget in budgets:
        judge = Judge(space, "edge", budget)
        target = float(np.median([r["metric"] for r in kept]))
        designs = gan.generate({"latency": budget, "accuracy": target}, N_GENERATED, seed=int(budget))
        gen = judge.summary(designs)
        # every design within these budgets is cheaper than all training records: none was seen
        novel = [d for d in map(tuple, designs.tolist()) if judge(d)["feasible"] and d not in trained]
        rows.append({"space": space, "case": f"latency budget below the training range (records > {cut:g} cycles)",
                     "budget": budget, "training_records": len(kept), "target_accuracy": target,
                     "space_feasible": float(np.mean(lat <= budget)),
                     "random_feasible": judge.summary(uniform_designs(space, N_GENERATED, seed=int(budget)))["feasible"],
                     "gan_feasible": gen["feasible"], "gan_mean_latency": gen["mean_latency"],
                     "space_feasible_count": int(np.sum(lat <= budget)), "distinct_feasible": len(set(novel)), "gan_best_feasible": gen["best_feasible_accuracy"],
                     "oracle": float(acc[lat <= budget].max())})
    return rows, stats


def plot(out: Path, space: str, feas, unseen, tg, srch, floor: float) -> None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("  matplotlib not installed: no PNG")
        return
    fig, ax = plt.subplots(1, 3, figsize=(15, 4.2))
    edge = [r for r in feas if r["target"] == "best_fitting"]
    ax[0].plot([r["percentile"] for r in edge], [r["gan_feasible"] for r in edge], "o-", label="GAN, edge (trained)")
    ax[0].plot([r["percentile"] for r in edge], [r["random_feasible"] for r in edge], "s--", label="uniform random, edge")
    ax[0].plot([r["percentile"] for r in unseen], [r["gan_feasible"] for r in unseen], "o-", label="GAN, cloud (unseen)")
    ax[0].plot([r["percentile"] for r in unseen], [r["gan_feasible_edge_scale"] for r in unseen], "x:",
               label="GAN, cloud budget on edge scale")
    ax[0].plot([r["percentile"] for r in unseen], [r["random_feasible"] for r in unseen], "s--", label="uniform random, cloud")
    ax[0].set(xlabel="latency budget (percentile of the space)", ylabel="feasible fraction",
              title=f"{space}: feasibility of generated designs")
    ax[0].legend(fontsize=7)
    t = [r["target"] for r in tg]
    ax[1].errorbar(t, [r["achieved_mean"] for r in tg], yerr=[r["achieved_sd"] for r in tg], fmt="o-")
    ax[1].plot([min(t), max(t)], [min(t), max(t)], "k:", label="achieved = target")
    ax[1].set(xlabel="target metric", ylabel="achieved valid metric (mean, sd)",
              title="Metric conditioning (loose budget)")
    ax[1].legend(fontsize=7)
    tight = min(r["budget"] for r in srch)
    rows = [r for r in srch if r["budget"] == tight]
    for method in dict.fromkeys(r["method"] for r in rows):
        mr = [r for r in rows if r["method"] == method]
        ax[2].plot([r["evaluations"] for r in mr], [max(r["mean_best"], floor) for r in mr], "o-", label=method)
    ax[2].axhline(rows[0]["oracle"], color="k", ls=":", label="oracle")
    ax[2].set(xlabel="evaluations", ylabel=f"mean best valid metric (clipped at {floor:.3g})",
              title=f"Search at latency <= {tight:g} cycles")
    ax[2].legend(fontsize=7)
    fig.tight_layout()
    path = out / f"bench_nas_gan_{space}.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"  wrote {path}")


def run_space(space: str, args, seeds, results: dict, meta: dict) -> None:
    """Every section on one space; appends its rows to ``results`` (section -> rows)."""
    percentiles = (10, 50, 90) if args.quick else (10, 25, 50, 75, 90)
    m = meta.setdefault("spaces", {}).setdefault(space, {})
    records = table_records(space, "edge")
    print(f"\n===== {space} ({len(records)} architectures, metric: valid {nas.load_task(nas.get_space(space).task).metric_name})")
    gan = ConditionalNASGAN(space, Config(), seed=0)
    m["fit_edge"] = gan.fit(records)
    gan.save(args.out / f"bench_nas_gan_{space}_edge.pt")
    print(f"\n1. GAN fitted on the {len(records)} edge records in {m['fit_edge']['fit_time_s']:.1f} s")

    out: dict[str, list[dict]] = {}
    if "feasibility" in args.sections:
        ablation = ConditionalNASGAN(space, Config(aux_weight=0.0), seed=0)
        m["fit_edge_no_aux"] = ablation.fit(records)
        print("\n2. Feasibility across edge latency budgets (1,000 generated designs each; no_aux: aux_weight=0)")
        out["feasibility"] = feasibility(space, gan, ablation, records, percentiles)
        print_table(out["feasibility"], ["percentile", "budget", "target", "target_accuracy", "space_feasible",
                                         "random_feasible", "gan_feasible", "gan_mean_latency", "gan_mean_accuracy",
                                         "gan_best_feasible", "no_aux_feasible", "no_aux_mean_latency",
                                         "no_aux_mean_accuracy", "oracle"])
    if "targets" in args.sections:
        print("\n3. Target metric against achieved metric")
        out["targets"], m["target_spearman"] = targets(space, gan, records)
        print_table(out["targets"], ["target_percentile", "target", "achieved_mean", "achieved_sd",
                                     "abs_error_of_mean", "mean_abs_error", "feasible"])
        print(f"  Spearman(target, achieved mean) = {m['target_spearman']:.3f}")
    if "search" in args.sections:
        print(f"\n4. Search at the same number of evaluations (NAS-v0, {len(seeds)} seeds per method)")
        lat = np.array([r["latency"] for r in records], dtype=float)
        budgets = [float(np.percentile(lat, p)) for p in args.search_percentiles]
        out["search"] = search(space, records, budgets, args.sizes, seeds)
        print_table(out["search"], ["budget", "evaluations", "method", "runs", "mean_best", "found_feasible",
                                    "found_oracle", "oracle", "seconds_per_run"])
    if "unseen_platform" in args.sections:
        print("\n5a. Unseen platform: trained on edge records, generating for cloud budgets")
        out["unseen_platform"] = unseen_platform(space, gan, records, percentiles)
        print_table(out["unseen_platform"], [
            "percentile", "budget", "space_feasible", "random_feasible", "gan_feasible", "gan_feasible_edge_scale",
            "gan_mean_accuracy", "gan_mean_accuracy_edge_scale", f"gan_best_of_{PROPOSALS}",
            f"gan_best_of_{PROPOSALS}_edge_scale", f"random_best_of_{PROPOSALS}", f"random_{PROPOSALS}_none_feasible",
            "oracle"])
    if "unseen_range" in args.sections:
        print("\n5b. Unseen constraint values: trained without the cheapest quarter of the space")
        out["unseen_range"], m["fit_without_cheapest"] = unseen_range(space, records, Config(), (5, 10, 20))
        print_table(out["unseen_range"], ["budget", "training_records", "space_feasible", "random_feasible",
                                          "gan_feasible", "gan_mean_latency", "space_feasible_count",
                                          "distinct_feasible", "gan_best_feasible", "oracle"])
    for name, rows in out.items():
        results.setdefault(name, []).extend(rows)
    if not args.no_plot and len(out) == len(SECTIONS):
        plot(args.out, space, out["feasibility"], out["unseen_platform"], out["targets"], out["search"],
             floor=float(np.median([r["metric"] for r in records])))


def summary(results: dict) -> None:
    """One line per space: feasibility at the tightest budget, search at the tight budget."""
    if not all(name in results for name in ("feasibility", "unseen_platform", "search")):
        return
    print("\nsummary (GAN vs uniform random feasibility at the 10th percentile; mean best at the tight budget)")
    for space in dict.fromkeys(r["space"] for r in results["feasibility"]):
        f = next(r for r in results["feasibility"] if r["space"] == space and r["target"] == "best_fitting")
        u = next(r for r in results["unseen_platform"] if r["space"] == space)
        rows = [r for r in results["search"] if r["space"] == space]
        tight, most = min(r["budget"] for r in rows), max(r["evaluations"] for r in rows)
        best = {r["method"]: r["mean_best"] for r in rows if r["budget"] == tight and r["evaluations"] == most}
        others = ", ".join(f"{k} {v:.4f}" for k, v in best.items() if k not in ("nas_gan", "oracle"))
        print(f"  {space}: feasible {f['gan_feasible']:.3f} vs {f['random_feasible']:.3f} (edge, trained), "
              f"{u['gan_feasible']:.3f} vs {u['random_feasible']:.3f} (cloud, unseen); "
              f"{most} evals at {tight:g} cycles: nas_gan {best['nas_gan']:.4f}; {others}; "
              f"oracle {rows[0]['oracle'] if rows[0]['budget'] == tight else math.nan:.4f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="fashion-cnn only (unless --space), 1 seed, 3 budgets, the search at the median budget only")
    ap.add_argument("--space", action="append", choices=list(nas.SPACES),
                    help=f"space to run (repeatable; default {', '.join(SPACES)}; --quick: {', '.join(QUICK_SPACES)})")
    ap.add_argument("--out", type=Path, default=OUT, help="output folder (default: %(default)s)")
    ap.add_argument("--seeds", type=int, default=None, help="search repeats per method and setting (default 5)")
    ap.add_argument("--search-percentiles", type=float, nargs="+", default=None, metavar="Q",
                    help="latency budgets of the search section, as percentiles of the space "
                         "(default 10 50; --quick: 50)")
    ap.add_argument("--sizes", type=int, nargs="+", default=None, metavar="N",
                    help="evaluations per search run (default 10 30; --quick: 10)")
    ap.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS),
                    help="run only these sections (default all; the PNG needs all)")
    ap.add_argument("--no-plot", action="store_true", help="do not write the PNG")
    args = ap.parse_args()
    if args.sizes is None:
        args.sizes = (10,) if args.quick else (10, 30)
    if min(args.sizes) < 1:
        ap.error(f"--sizes must be >= 1, got {args.sizes}")
    if args.search_percentiles is None:
        args.search_percentiles = (50.0,) if args.quick else (10.0, 50.0)
    if not all(0 <= q <= 100 for q in args.search_percentiles):
        ap.error(f"--search-percentiles must be in [0, 100], got {args.search_percentiles}")
    if args.seeds is not None and args.seeds < 1:
        ap.error(f"--seeds must be >= 1, got {args.seeds}")
    seeds = range(args.seeds if args.seeds is not None else (1 if args.quick else 5))
    spaces = args.space or (QUICK_SPACES if args.quick else SPACES)
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    meta = {"machine": machine_info(), "config": vars(Config()), "quick": args.quick, "seeds": list(seeds)}
    print("machine:", meta["machine"]["cpu"], "| usable cpus", meta["machine"]["usable_cpus"])
    results: dict[str, list[dict]] = {}
    for space in spaces:
        t0 = time.perf_counter()
        run_space(space, args, seeds, results, meta)
        meta["spaces"][space]["wall_time_s"] = time.perf_counter() - t0
    print()
    for name, rows in results.items():
        print(f"  wrote {write_csv(args.out / f'bench_nas_gan_{name}.csv', rows)}")
    meta["wall_time_s"] = time.perf_counter() - start
    (args.out / "bench_nas_gan.json").write_text(json.dumps(meta, indent=1, default=str))
    print(f"  wrote {args.out / 'bench_nas_gan.json'}")
    summary(results)
    print(f"\nwall time {meta['wall_time_s']:.0f} s")


if __name__ == "__main__":
    main()
