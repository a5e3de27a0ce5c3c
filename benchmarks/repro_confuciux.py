#!/usr/bin/env python
"""ConfuciuX reproduction: samples each method needs to reach a design within 5% of the best.

    python benchmarks/repro_confuciux.py             # 2 models x 2 dataflows x 12 methods x 10 seeds x 500
    python benchmarks/repro_confuciux.py --quick     # MobileNet-V2 dla, 2 seeds x 12 samples (smoke run)
        [--out DIR]          # default benchmarks/out/
        [--address ADDR]     # join a Ray cluster instead of starting a local instance
        [--num-cpus N]       # local Ray instance size (default: all CPUs)
        [--from-runs DIR]    # recompute the tables from a previous sweep's runs/*.json
        [--save-data CSV]    # with --from-runs: also write its runs as a results file
    python benchmarks/repro_confuciux.py --from-data  # the tables of the committed results
                                                      # (benchmarks/data/confuciux_results.csv)

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
   samples needed (">budget" when fewer than half the seeds got there), the
   ratio to REINFORCE+GA and the median wall time of a run.
2. Convergence speed-up (ConfuciuX's comparison, which reports 4.7x to 24x in
   its favour): on median best-so-far curves over seeds, the samples a method
   needs to reach its own final latency, against the samples REINFORCE+GA
   needs to reach that same latency.

Both tables carry 95% percentile bootstrap intervals over seeds
(``agents.analysis.bootstrap_intervals``, scipy.stats.bootstrap): on the
median best latency, and on the speed-up (the method's seeds and
REINFORCE+GA's resampled independently).

Only complete blocks enter the tables: an env x method block counts once every
seed of the grid has run its whole budget, and a model once REINFORCE+GA's block
is complete (the script says how many of the grid's runs that covers).  The
finished part of the grid is committed as ``benchmarks/data/confuciux_results.csv``
(one row per run with its best-so-far curve as change points, all the tables
need), made with ``--from-runs DIR --save-data benchmarks/data/confuciux_results.csv``
from the grid's sweep folder; ``--from-data`` prints the tables from it.

Writes to --out: ``repro_confuciux.csv`` (table 1, one row per model and
method), ``repro_confuciux_speedup.csv`` (table 2),
``repro_confuciux.png`` (median best latency vs samples, interquartile band),
and the sweep's own files under ``confuciux_sweep/``.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path

from _common import REPO, add_sweep_arguments, load_runs, write_csv  # benchmarks/_common.py

import gymnasium as gym
import numpy as np

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
#: The grid's finished runs, committed (``--save-data`` writes this format).
DATA = REPO / "benchmarks" / "data" / "confuciux_results.csv"
DATA_FIELDS = ["group", "agent", "seed", "env_id", "env_kwargs", "config", "budget", "score",
               "samples", "best_score", "best_return", "wall_time_s", "best_curve"]


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
    for r in rows:
        r["wall_median_s"] = float(np.median([x.wall_time_s for x in results
                                              if model(x) == r["group"] and x.agent == r["agent"]]))
    write_csv(out / "repro_confuciux.csv", rows,
              ["group", "agent", "seeds", "best_any", "target", "best_median", "best_low",
               "best_high", "best_of_seeds", "reached", "median_samples", "ratio",
               "wall_median_s", "samples_per_seed"])
    write_csv(out / "repro_confuciux_speedup.csv", speed,
              ["group", "agent", "final_median", "samples", "reference_samples", "speedup",
               "speedup_low", "speedup_high"])
    for group in sorted({r["group"] for r in rows}):
        best_any = -next(r["best_any"] for r in rows if r["group"] == group)
        print(f"\n{group}: best latency found by any run {best_any:,.0f} cycles; "
              f"target (within {TOLERANCE:.0%}) {best_any * (1 + TOLERANCE):,.0f}")
        print(f"{'method':<15}{'median best (cycles)':>22}{'95% interval':>30}{'seeds reaching':>16}"
              f"{'median samples':>16}{'vs ' + REFERENCE:>18}{'wall s/run':>12}")
        for r in rows:
            if r["group"] != group:
                continue
            ratio = _fmt_ratio(r["ratio"])
            print(f"{r['agent']:<15}{-r['best_median']:>22,.0f}"
                  f"{_fmt_interval(-r['best_high'], -r['best_low'], '{:,.0f}'):>30}"
                  f"{r['reached']:>11}/{r['seeds']:<4}"
                  f"{_fmt_samples(r['median_samples'], budget):>16}{ratio:>18}"
                  f"{r['wall_median_s']:>12.0f}")
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


def save_data(results: list[RunResult], path: Path) -> Path:
    """One row per run; ``best_curve`` is the best-so-far curve as JSON [sample, score]
    pairs where it changes (the first sample always), which is all the tables read."""
    rows = []
    for r in sorted(results, key=lambda r: (model(r), r.agent, r.seed)):
        curve = r.best_so_far()
        changes = [[i + 1, float(curve[i])] for i in range(len(curve)) if i == 0 or curve[i] != curve[i - 1]]
        rows.append({"group": model(r), "agent": r.agent, "seed": r.seed, "env_id": r.env_id,
                     "env_kwargs": json.dumps(r.env_kwargs, sort_keys=True),
                     "config": json.dumps(r.config, sort_keys=True), "budget": r.budget,
                     "score": r.score, "samples": r.samples, "best_score": r.best_score,
                     "best_return": r.best_return, "wall_time_s": round(r.wall_time_s, 3),
                     "best_curve": json.dumps(changes)})
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_csv(path, rows, DATA_FIELDS)


def load_data(path: Path) -> list[RunResult]:
    """The runs of a results file written by :func:`save_data` (no designs: the figures only)."""
    results = []
    with Path(path).open(newline="") as f:
        for row in csv.DictReader(f):
            changes = json.loads(row["best_curve"])
            samples = int(row["samples"])
            ends = [sample for sample, _ in changes[1:]] + [samples + 1]
            history = [{"sample": n, "best_score": best}
                       for (start, best), end in zip(changes, ends) for n in range(start, end)]
            results.append(RunResult(
                env_id=row["env_id"], env_kwargs=json.loads(row["env_kwargs"]), agent=row["agent"],
                config=json.loads(row["config"]), seed=int(row["seed"]), budget=int(row["budget"]),
                samples=samples, score=row["score"], best_score=float(row["best_score"]),
                best_return=float(row["best_return"]), best_actions=[], best_reset_seed=0, best_info={},
                history=history, wall_time_s=float(row["wall_time_s"])))
    return results


def complete_blocks(results: list[RunResult], spec: dict) -> list[RunResult]:
    """The runs of the complete blocks: every seed of ``spec`` ran its whole budget for that
    model and method, and REINFORCE+GA's block of that model is complete too."""
    finished = [r for r in results if r.samples == spec["budget"] and not r.interrupted]
    seeds: dict[tuple[str, str], set] = {}
    for r in finished:
        seeds.setdefault((model(r), r.agent), set()).add(r.seed)
    done = {block for block, got in seeds.items() if got >= set(spec["seeds"])}
    kept = [r for r in finished if (model(r), r.agent) in done and (model(r), REFERENCE) in done]
    total = len(spec["envs"]) * len(spec["agents"]) * len(spec["seeds"])
    blocks = sorted({(model(r), r.agent) for r in kept})
    print(f"{len(kept)} of the grid's {total} runs: {len(blocks)} complete model x method blocks of "
          f"{len(spec['envs']) * len(spec['agents'])} ({len(results)} runs given; incomplete blocks "
          f"and models without {REFERENCE}'s block are left out)")
    return kept


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
    parser.add_argument("--from-data", type=Path, nargs="?", const=DATA, default=None,
                        help="print the tables from a results file (default: the committed "
                             f"{DATA.relative_to(REPO)}); nothing is run")
    parser.add_argument("--save-data", type=Path, default=None,
                        help="with --from-runs: also write its runs as a results file")
    args = parser.parse_args(argv)
    if args.save_data is not None and args.from_runs is None:
        parser.error("--save-data needs --from-runs DIR (the sweep folder whose runs it saves)")
    if args.from_data is not None and args.from_runs is not None:
        parser.error("give --from-runs or --from-data, not both")
    spec = load_spec(SPEC)
    check_paper_reward(spec)
    if args.from_data is not None:
        if not args.from_data.is_file():
            parser.error(f"no results file {args.from_data}")
        try:
            results = load_data(args.from_data)
        except (KeyError, ValueError, TypeError) as exc:
            parser.error(f"{args.from_data} is not a results file written by --save-data "
                         f"({type(exc).__name__}: {exc})")
    elif args.from_runs is not None:
        results = load_runs(args.from_runs)
        if not results:
            parser.error(f"no runs/*.json under {args.from_runs}")
        if args.save_data is not None:
            print(f"wrote {save_data(results, args.save_data)} ({len(results)} runs)")
    else:
        if args.quick:
            spec.update(envs=spec["envs"][:1], seeds=[0, 1], budget=12)
        results = run_sweep(spec, args.out / "confuciux_sweep", address=args.address,
                            num_cpus=args.num_cpus)
    results = complete_blocks(results, spec)
    if not results:
        print(f"no complete block with {REFERENCE}'s: no table yet")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    report(results, args.out)
    print(f"\nwrote {args.out / 'repro_confuciux.csv'} and {plot(results, args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
