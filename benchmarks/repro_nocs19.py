#!/usr/bin/env python
"""NOCS'19 reproduction: regret of tabular Q-learning, SARSA and Expected SARSA on NoCRouting-v0.

    python benchmarks/repro_nocs19.py             # 4 patterns x 3 methods x 5 seeds x 15 episodes, ~25 s
    python benchmarks/repro_nocs19.py --quick     # 2 patterns x 2 seeds (smoke run), ~16 s
        [--out DIR]          # default benchmarks/out/
        [--address ADDR]     # join a Ray cluster instead of starting a local instance
        [--num-cpus N]       # local Ray instance size (default: all CPUs)
        [--from-runs DIR]    # recompute the tables from a previous sweep's runs/*.json

Kao et al. (NOCS 2019) train three tabular methods to pick the routing
algorithm of an 8x8 mesh per injection rate, on shuffle traffic, for 15
episodes (alpha 0.01, epsilon = 1/(episode + 1)).  NoCRouting-v0 keeps that
setting (4 routings, rates 0.05..0.30 flits/node/cycle, reward -latency) and
knows the exhaustive oracle, so the learned policy's regret is measurable:
latency of the chosen routing minus the best routing's, in cycles (latency
capped at 500 for unstable points).

The grid (``agents.sweep.run_sweep``): traffic shuffle (the paper's), uniform,
transpose and tornado (``traffic=`` kwarg) x q_learning, sarsa, expected_sarsa
with their NOCS'19 defaults (``agents.tabular.Config``; gamma is a constant
0.9, the paper tied it to epsilon) x seeds 0-4, budget 15 episodes.  After
training, the greedy policy of each run's Q table (``RunResult.extras``) is
played once on a fresh env (``agents.tabular.evaluate_greedy``), which reports
per rate the chosen routing, the oracle's and the regret.  For context, the
same table gives the expected regret of a uniformly random routing and the
regret of each fixed routing.

Tables (printed as markdown): per pattern, the mean regret over seeds per
rate and in total, and per rate how many seeds chose an optimal routing
(regret 0: the oracle's action or one tied with it, e.g. when every routing is
unstable); then the total regret per method and pattern.  Writes to --out: ``repro_nocs19.csv`` (one row per pattern x
method x rate, plus rate "total"), ``repro_nocs19.png`` (regret per rate per
method, one panel per pattern) and the sweep's files under ``nocs19_sweep/``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

from _common import add_sweep_arguments, load_runs, write_csv  # benchmarks/_common.py

from agents import RunResult
from agents.sweep import run_sweep
from agents.tabular import evaluate_greedy
from archgym.envs.noc_routing import DEFAULT_RATES, PAPER_ROUTINGS

ENV_ID = "NoCRouting-v0"
PATTERNS = ("shuffle", "uniform", "transpose", "tornado")
METHODS = ("q_learning", "sarsa", "expected_sarsa")
SEEDS = 5
BUDGET = 15  # NOCS'19: 15 episodes
RANDOM = "random policy (expected)"
#: archgym routing function -> the paper's name for it.
PAPER_NAME = {fn: paper for paper, fn in PAPER_ROUTINGS.items()}


def make_spec(patterns=PATTERNS, seeds: int = SEEDS) -> dict:
    return {"name": "nocs19", "budget": BUDGET, "seeds": seeds, "score": "return",
            "envs": [{"id": ENV_ID, "kwargs": {"traffic": p}, "label": p} for p in patterns],
            "agents": list(METHODS)}


def pattern(result: RunResult) -> str:
    return result.env_kwargs.get("traffic", "shuffle")


def greedy_rows(results: list[RunResult]) -> list[dict]:
    """One row per run and rate: the greedy policy's routing, the oracle's and the regret."""
    envs: dict[str, gym.Env] = {}
    rows = []
    for r in results:
        r.validate()  # the recorded best episode replays exactly
        p = pattern(r)
        env = envs.setdefault(p, gym.make(r.env_id, **r.env_kwargs))
        for step in evaluate_greedy(env, r.extras, seed=0):
            info = step["info"]
            rows.append({"pattern": p, "method": r.agent, "seed": r.seed, "rate": info["rate"],
                         "chosen": step["action"], "oracle": info["best_action"],
                         "regret": info["regret"]})
    for env in envs.values():
        env.close()
    return rows


def baseline_regret(p: str) -> tuple[list[float], list[str], dict[str, np.ndarray]]:
    """(rates, routing names, {baseline: regret per rate}) from the oracle table of pattern ``p``."""
    env = gym.make(ENV_ID, traffic=p).unwrapped
    latency = env.latency_table()[0]  # (rates, actions): one pattern
    regret = latency - latency.min(axis=1, keepdims=True)
    baselines = {RANDOM: regret.mean(axis=1)}
    for a, fn in enumerate(env.routings):
        baselines[f"fixed {PAPER_NAME.get(fn, fn)}"] = regret[:, a]
    return list(env.rates), list(env.routings), baselines


def summarise(rows: list[dict], patterns: list[str]) -> list[dict]:
    """CSV rows: per pattern x method (agents, then baselines) x rate, plus rate 'total'."""
    out = []
    for p in patterns:
        rates, routings, baselines = baseline_regret(p)
        for method in METHODS:
            mine = [r for r in rows if r["pattern"] == p and r["method"] == method]
            if not mine:
                continue
            seeds = sorted({r["seed"] for r in mine})
            totals = []
            for rate in rates:
                at = [r for r in mine if r["rate"] == rate]
                regret = np.array([r["regret"] for r in at])
                out.append({"pattern": p, "method": method, "rate": rate, "seeds": len(at),
                            "mean_regret": regret.mean(), "std_regret": regret.std(),
                            "optimal_seeds": int((regret == 0).sum()),
                            "oracle": routings[at[0]["oracle"]],
                            "chosen": " ".join(routings[r["chosen"]] for r in at)})
            for s in seeds:
                totals.append(sum(r["regret"] for r in mine if r["seed"] == s))
            out.append({"pattern": p, "method": method, "rate": "total", "seeds": len(seeds),
                        "mean_regret": float(np.mean(totals)), "std_regret": float(np.std(totals)),
                        "optimal_seeds": sum(t == 0 for t in totals), "oracle": "", "chosen": ""})
        for name, regret in baselines.items():
            for rate, value in zip(rates, regret):
                out.append({"pattern": p, "method": name, "rate": rate, "seeds": "",
                            "mean_regret": float(value), "std_regret": "", "optimal_seeds": "",
                            "oracle": "", "chosen": ""})
            out.append({"pattern": p, "method": name, "rate": "total", "seeds": "",
                        "mean_regret": float(regret.sum()), "std_regret": "", "optimal_seeds": "",
                        "oracle": "", "chosen": ""})
    return out


def print_tables(table: list[dict]) -> None:
    """Per pattern: rows = methods, columns = rates (mean regret, optimal seeds) and the total."""
    for p in dict.fromkeys(r["pattern"] for r in table):
        rows = [r for r in table if r["pattern"] == p]
        rates = [r["rate"] for r in rows if r["method"] == rows[0]["method"] and r["rate"] != "total"]
        oracle = {r["rate"]: r["oracle"] for r in rows if r["oracle"]}
        print(f"\n**{p}**: mean regret (cycles) over seeds of the greedy policy after {BUDGET} "
              "episodes; in brackets, seeds whose routing was optimal (regret 0)\n")
        print("| method | " + " | ".join(f"{rate:g}" for rate in rates) + " | total |")
        print("|---" * (len(rates) + 2) + "|")
        print("| oracle | " + " | ".join(PAPER_NAME.get(oracle.get(rate, ""), oracle.get(rate, "?"))
                                         for rate in rates) + " | 0 |")
        for method in dict.fromkeys(r["method"] for r in rows):
            cells = []
            for r in (r for r in rows if r["method"] == method):
                text = f"{r['mean_regret']:.1f}"
                if r["optimal_seeds"] != "":
                    text += f" ({r['optimal_seeds']}/{r['seeds']})"
                cells.append(text)
            print(f"| {method} | " + " | ".join(cells) + " |")


def print_summary(table: list[dict]) -> None:
    """Mean total regret over the rates, per method (rows) and pattern (columns)."""
    totals = [r for r in table if r["rate"] == "total"]
    patterns = list(dict.fromkeys(r["pattern"] for r in totals))
    print(f"\n**Total regret** (cycles, summed over the {len(DEFAULT_RATES)} rates; agents: mean ± sd "
          "over seeds)\n")
    print("| method | " + " | ".join(patterns) + " |")
    print("|---" * (len(patterns) + 1) + "|")
    for method in dict.fromkeys(r["method"] for r in totals):
        cells = []
        for p in patterns:
            row = next((r for r in totals if r["pattern"] == p and r["method"] == method), None)
            if row is None:
                cells.append("-")
            elif row["std_regret"] == "":
                cells.append(f"{row['mean_regret']:.1f}")
            else:
                cells.append(f"{row['mean_regret']:.1f} ± {row['std_regret']:.1f}")
        print(f"| {method} | " + " | ".join(cells) + " |")


def plot(table: list[dict], rows: list[dict], out: Path) -> Path:
    """One panel per pattern: mean regret per rate of each method (each seed a dot), the
    random policy's expected regret and each fixed routing's regret."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    patterns = list(dict.fromkeys(r["pattern"] for r in table))
    fig, axes = plt.subplots(1, len(patterns), figsize=(4.2 * len(patterns), 4.4), squeeze=False,
                             sharey=True)
    for ax, p in zip(axes[0], patterns):
        lines = [r for r in table if r["pattern"] == p and r["rate"] != "total"]
        fixed_markers = iter("s^vD")
        for i, method in enumerate(dict.fromkeys(r["method"] for r in lines)):
            mine = [r for r in lines if r["method"] == method]
            x = np.array([r["rate"] for r in mine])
            y = [r["mean_regret"] for r in mine]
            if method in METHODS:
                shift = (i - 1) * 0.004  # side by side, so overlapping methods stay visible
                line, = ax.plot(x + shift, y, marker="o", label=f"{method} (mean; dots: seeds)")
                seeds = [r for r in rows if r["pattern"] == p and r["method"] == method]
                ax.plot([r["rate"] + shift for r in seeds], [r["regret"] for r in seeds], ".",
                        color=line.get_color(), alpha=0.4)
            elif method == RANDOM:
                ax.plot(x, y, "k--", label=method)
            else:
                ax.plot(x, y, ":", color="grey", marker=next(fixed_markers), fillstyle="none",
                        label=method)
        ax.set_yscale("symlog", linthresh=1.0)
        ax.set_title(f"NoCRouting-v0, {p} traffic", fontsize="medium")
        ax.set_xlabel("injection rate (flits/node/cycle)")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("regret vs exhaustive oracle (cycles, symlog)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    ncol = 4 if len(patterns) > 2 else 2
    fig.legend(handles, labels, loc="lower center", ncol=ncol, fontsize="small")
    fig.suptitle(f"Greedy policy after {BUDGET} episodes (NOCS'19 settings)", fontsize="medium")
    fig.tight_layout(rect=(0, 0.12 if ncol == 4 else 0.25, 1, 1))
    path = out / "repro_nocs19.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    add_sweep_arguments(parser, "shuffle and uniform, 2 seeds")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    if args.from_runs is not None:
        results = load_runs(args.from_runs)
        if not results:
            parser.error(f"no runs/*.json under {args.from_runs}")
    else:
        spec = make_spec(PATTERNS[:2], 2) if args.quick else make_spec()
        results = run_sweep(spec, args.out / "nocs19_sweep", address=args.address,
                            num_cpus=args.num_cpus)
    trained = time.perf_counter() - start
    known = {p: i for i, p in enumerate(PATTERNS)}  # the grid's order, also for --from-runs
    patterns = sorted({pattern(r) for r in results}, key=lambda p: (known.get(p, len(known)), p))
    rows = greedy_rows(results)
    table = summarise(rows, patterns)
    print_tables(table)
    print_summary(table)
    write_csv(args.out / "repro_nocs19.csv", table)
    png = plot(table, rows, args.out)
    print(f"\n{len(results)} runs; sweep {trained:.1f} s, total {time.perf_counter() - start:.1f} s")
    print(f"wrote {args.out / 'repro_nocs19.csv'} and {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
