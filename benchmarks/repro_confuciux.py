#!/usr/bin/env python
"""ConfuciuX reproduction: samples each method needs to reach a design within 5% of the best.

    python benchmarks/repro_confuciux.py             # 2 models x 2 dataflows x 12 methods x 10 seeds x 500
    python benchmarks/repro_confuciux.py --quick     # MobileNet-V2 dla, 2 seeds x 12 samples (smoke run)
        [--out DIR]          # default benchmarks/out/
        [--address ADDR]     # join a Ray cluster instead of starting a local instance
        [--num-cpus N]       # local Ray instance size (default: all CPUs)
        [--from-runs DIR]    # recompute the tables from a previous sweep's runs/*.json

The grid is ``examples/sweep_confuciux.yaml`` (HWResource-v0, MobileNet-V2 and
ResNet-50, dla and shi dataflows, area budget mul = 0.5, 500 full-model
evaluations per run, seeds 0-9; methods: REINFORCE+GA, REINFORCE, PPO, A2C,
SAC, TD3, DDPG, GA, SA, TPE, GP-BO, random), run with ``agents.sweep.run_sweep``.
The RL agents train on the paper's shaped reward (``reward_mode=confuciux``, as HWResource-ConfuciuX-v0 registers it;
:func:`check_paper_reward` refuses a grid that lost it), the search baselines on
the default reward, whose return ranks designs.  Every run's best design
is ranked by its total latency (score ``min:total_cycles``; designs over the
area budget do not count), whatever reward its agent trained on.

Two tables per model:

1. Within 5%: the target is 5% above the lowest latency ANY run found; per
   method, the seeds whose run reached it, the median over seeds of the
   samples needed (">budget" when fewer than half the seeds got there) and
   the ratio to REINFORCE+GA.
2. Convergence speed-up (ConfuciuX's comparison, which reports 4.7x to 24x in
   its favour): on median best-so-far curves over seeds, the samples a method
   needs to reach its own final latency, against the samples REINFORCE+GA
   needs to reach that same latency.

Both tables carry 95% percentile bootstrap intervals over seeds
(``agents.analysis.bootstrap_intervals``, scipy.stats.bootstrap): on the
median best latency, and on the speed-up (the method's seeds and
REINFORCE+GA's resampled independently).

Writes to --out: ``repro_confuciux.csv`` (table 1, one row per model and
method), ``repro_confuciux_speedup.csv`` (table 2),
``repro_confuciux.png`` (median best latency vs samples, interquartile band),
and the sweep's own files under ``confuciux_sweep/``.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from _common import REPO, add_sweep_arguments, load_runs, write_csv  # benchmarks/_common.py

import gymnasium as gym

import archgym  # noqa: F401  (registers the ids)
from agents import RunResult
from agents.analysis import bootstrap_intervals, sample_efficiency, samples_to_match
from agents.plots import curves_by, plot_convergence
from agents.sweep import load_spec, run_sweep

SPEC = REPO / "examples" / "sweep_confuciux.yaml"
REFERENCE = "reinforce_ga"
#: The agents that train on ConfuciuX's own reward in the paper.
RL_AGENTS = ("reinforce_ga", "reinforce", "ppo", "a2c", "sac", "td3", "ddpg")
TOLERANCE = 0.05


def model(result: RunResult) -> str:
    """The group of a run: its model and dataflow, e.g. ``mobilenet_v2-dla``."""
    kwargs = result.env_kwargs
    return f"{kwargs.get('workload', 'mobilenet_v2')}-{kwargs.get('dataflow', 'dla')}"


def _fmt_samples(x: float, budget: int) -> str:
    return f">{budget}" if math.isinf(x) else f"{x:.0f}"


def _fmt_ratio(x: float) -> str:
    return "-" if math.isnan(x) or math.isinf(x) else f"{x:.2f}x"


def _fmt_interval(low: float, high: float, fmt: str) -> str:
    """"[low, high]"; a speed-up of 0 (REINFORCE+GA never gets there) reads "ahead"."""
    if math.isnan(low):
        return "-"
    low_text, high_text = (fmt.format(x) if x != 0 else "ahead" for x in (low, high))
    return f"[{low_text}, {high_text}]"


def report(results: list[RunResult], out: Path) -> list[dict]:
    budget = max(r.budget for r in results)
    rows = sample_efficiency(results, TOLERANCE, group=model, reference=REFERENCE)
    rows.sort(key=lambda r: (r["group"], r["median_samples"], -r["best_median"]))
    speed = samples_to_match(results, REFERENCE, group=model)
    speed.sort(key=lambda r: (r["group"], -r["final_median"]))
    intervals = {(r["group"], r["agent"]): r
                 for r in bootstrap_intervals(results, REFERENCE, group=model)}
    for r in rows + speed:
        r.update(intervals[r["group"], r["agent"]])
    write_csv(out / "repro_confuciux.csv", rows,
              ["group", "agent", "seeds", "best_any", "target", "best_median", "best_low",
               "best_high", "best_of_seeds", "reached", "median_samples", "ratio",
               "samples_per_seed"])
    write_csv(out / "repro_confuciux_speedup.csv", speed,
              ["group", "agent", "final_median", "samples", "reference_samples", "speedup",
               "speedup_low", "speedup_high"])
    for group in sorted({r["group"] for r in rows}):
        best_any = -next(r["best_any"] for r in rows if r["group"] == group)
        print(f"\n{group}: best latency found by any run {best_any:,.0f} cycles; "
              f"target (within {TOLERANCE:.0%}) {best_any * (1 + TOLERANCE):,.0f}")
        print(f"{'method':<15}{'median best (cycles)':>22}{'95% interval':>30}{'seeds reaching':>16}"
              f"{'median samples':>16}{'vs ' + REFERENCE:>18}")
        for r in rows:
            if r["group"] != group:
                continue
            ratio = _fmt_ratio(r["ratio"])
            print(f"{r['agent']:<15}{-r['best_median']:>22,.0f}"
                  f"{_fmt_interval(-r['best_high'], -r['best_low'], '{:,.0f}'):>30}"
                  f"{r['reached']:>11}/{r['seeds']:<4}"
                  f"{_fmt_samples(r['median_samples'], budget):>16}{ratio:>18}")
        print(f"\n{group}: convergence speed-up of {REFERENCE} (median curves over seeds)")
        print(f"{'method':<15}{'final median (cycles)':>23}{'its samples':>13}"
              f"{REFERENCE + ' samples':>22}{'speed-up':>10}{'95% interval':>18}")
        for r in speed:
            if r["group"] == group:
                ahead = not math.isfinite(r["reference_samples"])
                print(f"{r['agent']:<15}{-r['final_median']:>23,.0f}{r['samples']:>13.0f}"
                      f"{_fmt_samples(r['reference_samples'], budget):>22}"
                      f"{'-' if ahead else _fmt_ratio(r['speedup']):>10}"
                      f"{_fmt_interval(r['speedup_low'], r['speedup_high'], '{:.2f}x'):>18}")
    return rows


def plot(results: list[RunResult], out: Path) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = sorted({model(r) for r in results})
    cols = min(len(groups), 2)
    rows = math.ceil(len(groups) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(6.5 * cols, 4.5 * rows), squeeze=False)
    for ax, group in zip(axes.flat, groups):
        runs = [r for r in results if model(r) == group]
        plot_convergence(curves_by(runs, "agent"), score=runs[0].score, ax=ax,
                         title=f"HWResource-v0 {group}, mul 0.5")
    fig.tight_layout()
    path = out / "repro_confuciux.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def check_paper_reward(spec: dict) -> None:
    """The RL agents of the grid train on the paper's shaped reward, HWResource-ConfuciuX-v0's setting."""
    paper = gym.spec("HWResource-ConfuciuX-v0").kwargs
    for agent in spec["agents"]:
        settings = {**spec.get("env_kwargs", {}), **agent["env_kwargs"]}
        if agent["name"] in RL_AGENTS and not paper.items() <= settings.items():
            raise SystemExit(f"{SPEC}: agent {agent['label']} must train on {paper} (HWResource-ConfuciuX-v0)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    add_sweep_arguments(parser, "MobileNet-V2 on dla only, 2 seeds x 12 samples")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.from_runs is not None:
        results = load_runs(args.from_runs)
        if not results:
            parser.error(f"no runs/*.json under {args.from_runs}")
    else:
        spec = load_spec(SPEC)
        check_paper_reward(spec)
        if args.quick:
            spec.update(envs=spec["envs"][:1], seeds=[0, 1], budget=12)
        results = run_sweep(spec, args.out / "confuciux_sweep", address=args.address,
                            num_cpus=args.num_cpus)
    report(results, args.out)
    print(f"\nwrote {args.out / 'repro_confuciux.csv'} and {plot(results, args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
