#!/usr/bin/env python
"""SB3 PPO and DQN on every registered env for a short budget: do the learning curves rise above random?

    python benchmarks/bench_sb3_curves.py            # every env x {ppo, dqn, random} x 2 seeds
    python benchmarks/bench_sb3_curves.py --quick    # 5 envs, tiny budgets (smoke run)
        [--out DIR]          # default benchmarks/out/
        [--address ADDR]     # join a Ray cluster instead of starting a local instance
        [--num-cpus N]       # local Ray instance size (default: all CPUs)
        [--seeds N]          # seeds per (env, agent), default 2
        [--from-runs DIR]    # recompute the tables from a previous run's */runs/*.json

Every id ``import archgym`` registers is trained with stable-baselines3 PPO
and DQN (``agents.sb3``, default settings) and with the ``random`` baseline,
on the same budget and seeds.  DQN runs only where
``agents.AGENTS["dqn"].why_not(env)`` is None (Discrete actions, or a
MultiDiscrete space of at most 4096 joint actions); elsewhere its row says
"n/a" and why.  The Fashion-MNIST ids are skipped, saying so, when the data
package is not installed (``archgym.quant.data.fashion_mnist_available``).

The budget is in samples (episodes) and set per family of envs (see
:data:`FAMILIES`) so that the whole run takes about a quarter of an hour on 2
cores (measured: 16 min with 2 seeds, 248 runs, on 2 cores shared with other
jobs, load average ~5; --quick: 30 s): long for one-step envs, short for the
envs whose episodes cost tenths of a second (NAS live training, the persistent
NoC simulations).  The runs are
``agents.sweep.run_sweep`` sweeps, one per (family, agent set), run
concurrently on one Ray instance.

The learning curve of a run is its episode return against samples
(``RunResult.history``).  Per (env, agent), the mean return over the LAST 20%
of the agent's episodes (pooled over seeds) is compared with random's mean
return over its whole run (same env, budget and seeds): the table reports
both, the difference, and a verdict from Welch's t-test on the pooled
episodes (returns within a run are autocorrelated, so the p-value is
indicative): "above" / "below" random when p < 0.05, else "no clear
difference".  The first 20% of the agent's episodes are reported too, to
show whether the curve rose at all.

Writes to --out: ``bench_sb3_curves.csv`` (one row per env x agent, random
included), ``bench_sb3_curves.png`` (one small panel per env: the seeds'
mean of each agent's moving-mean return, random's mean as a dashed line, the
last-20% window shaded) and the sweeps' own files under ``sb3_curves_sweep/``.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import gymnasium as gym
import numpy as np

from _common import add_sweep_arguments, load_runs, write_csv  # benchmarks/_common.py

import archgym  # noqa: F401  (registers the environments)
from agents import AGENTS, RunResult
from agents.sweep import SweepError, run_sweep, start_ray
from archgym.cli import env_ids as all_env_ids
from archgym.quant.data import fashion_mnist_available

AGENT_NAMES = ("ppo", "dqn", "random")
LEARNERS = ("ppo", "dqn")
#: (family, id pattern, budget in samples, --quick budget); the first match wins.
#: Chosen from measured costs (wall seconds of one PPO run at these budgets, on 2
#: cores shared with other jobs): one-step envs 4-7 s (NoCRouting-MultiPattern's 6
#: steps 25 s), HWResource 14-18 s (DenseNet's 160 steps 54 s), Quant 10-12 s,
#: Fashion-MNIST Quant 17 s, NAS-Live 12 s, the persistent NoC envs 18-36 s.
FAMILIES = (
    ("nas-live", r"NAS-Live-v0", 100, 10),
    ("noc-persistent", r"NoCRouting-(Persistent|PerRouter)-v0|NoCAdaptive-v0", 30, 4),
    ("quant-fashion", r"Quant-.*FashionMNIST-v0", 150, 10),
    ("quant", r"Quant-(?!OneShot).*v0", 400, 20),
    ("hwresource", r"HWResource-.*v0", 100, 10),
    ("short", r".*", 1500, 150),  # one-step and few-step envs (NAS, SparseFormat, Quant-OneShot, NoC bandits)
)
QUICK_ENVS = ("NAS-v0", "SparseFormat-v0", "NoCRouting-v0", "HWResource-v0", "Quant-OneShot-v0")
#: The fraction of the agent's episodes whose mean return is compared with random's.
LAST = 0.2
ALPHA = 0.05


def missing_data(env_id: str) -> str | None:
    """Why env_id cannot run here (the Fashion-MNIST data package is absent), or None."""
    if gym.spec(env_id).kwargs.get("model") == "fashion_lenet" and not fashion_mnist_available():
        return "Fashion-MNIST is not installed (apt-get install -y dataset-fashion-mnist)"
    return None


def family(env_id: str, quick: bool = False) -> tuple[str, int]:
    """(family name, budget) of an env id."""
    for name, pattern, budget, quick_budget in FAMILIES:
        if re.fullmatch(pattern, env_id):
            return name, quick_budget if quick else budget
    raise AssertionError("the last family matches every id")


def plan(env_ids: list[str], seeds: int, quick: bool) -> tuple[list[dict], dict[str, str]]:
    """The sweep specs (one per family and agent set) and the reason DQN or an env is left out."""
    groups: dict[tuple[str, tuple], dict] = {}
    skipped: dict[str, str] = {}  # "env" or "env|dqn" -> reason
    for env_id in env_ids:
        reason = missing_data(env_id)
        if reason is not None:
            skipped[env_id] = reason
            continue
        env = gym.make(env_id)
        try:
            why_not = AGENTS["dqn"].why_not(env)
        finally:
            env.close()
        agents = AGENT_NAMES if why_not is None else tuple(a for a in AGENT_NAMES if a != "dqn")
        if why_not is not None:
            skipped[f"{env_id}|dqn"] = why_not
        name, budget = family(env_id, quick)
        spec = groups.setdefault((name, agents), {
            "name": name if "dqn" in agents else f"{name}-nodqn", "budget": budget,
            "seeds": seeds, "score": "return", "envs": [], "agents": list(agents)})
        spec["envs"].append(env_id)
    return list(groups.values()), skipped


def run_all(specs: list[dict], out: Path, address: str | None, num_cpus: int | None
            ) -> tuple[list[RunResult], dict[str, str]]:
    """Run the specs concurrently on one Ray instance; (finished runs, failed run id -> error)."""
    import ray

    started = start_ray(address, num_cpus)

    def one(spec: dict):
        try:
            return run_sweep(spec, out / spec["name"], progress=False,
                             log=lambda line: print(f"{spec['name']}: {line}", flush=True)), {}
        except SweepError as e:  # keep the runs that finished
            return e.results, e.failures

    try:
        with ThreadPoolExecutor(max_workers=len(specs)) as pool:
            outcomes = list(pool.map(one, specs))
    finally:
        if started:
            ray.shutdown()
    results = [r for done, _ in outcomes for r in done]
    failures = {run: err for _, failed in outcomes for run, err in failed.items()}
    return results, failures


# ------------------------------------------------------------------ analysis
def returns(result: RunResult) -> np.ndarray:
    return np.array([row["return"] for row in result.history], dtype=float)


def window(values: np.ndarray, first: bool) -> np.ndarray:
    """The first or the last LAST fraction of a run's episodes (at least one)."""
    n = max(1, math.ceil(LAST * len(values)))
    return values[:n] if first else values[-n:]


def verdict(agent: np.ndarray, random: np.ndarray) -> tuple[float, str]:
    """(p-value, verdict) of Welch's t-test of the agent's episodes against random's."""
    from scipy.stats import ttest_ind

    if np.ptp(agent) == 0 and np.ptp(random) == 0:  # no spread: the test is undefined
        p = 0.0 if agent[0] != random[0] else 1.0
    else:
        p = float(ttest_ind(agent, random, equal_var=False).pvalue)
    diff = agent.mean() - random.mean()
    if p < ALPHA and diff > 0:
        return p, "above"
    if p < ALPHA and diff < 0:
        return p, "below"
    return p, "no clear difference"


def analyse(results: list[RunResult], env_ids: list[str], skipped: dict[str, str],
            failures: dict[str, str], quick: bool) -> list[dict]:
    """One row per env x agent (random included); skipped envs and n/a agents say why."""
    rows = []
    for env_id in env_ids:
        fam, budget = family(env_id, quick)
        base = {"env": env_id, "family": fam, "budget": budget}
        if env_id in skipped:
            rows.append({**base, "agent": "all", "verdict": f"skipped: {short(skipped[env_id])}"})
            continue
        runs = {a: [r for r in results if r.env_id == env_id and r.agent == a] for a in AGENT_NAMES}
        rand = np.concatenate([returns(r) for r in runs["random"]]) if runs["random"] else None
        for agent in AGENT_NAMES:
            row = {**base, "agent": agent}
            rows.append(row)
            if f"{env_id}|{agent}" in skipped:
                row["verdict"] = f"n/a: {short(skipped[f'{env_id}|{agent}'])}"
                continue
            failed = [run for run in failures if run.startswith(f"{env_id}__{agent}__")]
            if failed or not runs[agent]:
                row["verdict"] = f"failed: {failures[failed[0]]}" if failed else "failed: no runs"
                continue
            curves = [returns(r) for r in runs[agent]]
            row.update(seeds=len(curves), samples=int(np.mean([len(c) for c in curves])),
                       wall_s_per_run=float(np.mean([r.wall_time_s for r in runs[agent]])))
            if agent == "random":
                row.update(mean_return=float(np.mean(np.concatenate(curves))), verdict="reference")
                continue
            first = np.concatenate([window(c, True) for c in curves])
            last = np.concatenate([window(c, False) for c in curves])
            row.update(first20_mean=float(first.mean()), last20_mean=float(last.mean()))
            if rand is None:
                row["verdict"] = "no random runs to compare with"
                continue
            p, word = verdict(last, rand)
            row.update(random_mean=float(rand.mean()), diff=float(last.mean() - rand.mean()),
                       diff_over_random_sd=float((last.mean() - rand.mean()) / rand.std())
                       if rand.std() > 0 else math.nan,
                       p_value=p, verdict=word)
    return rows


COLUMNS = ["env", "family", "budget", "agent", "seeds", "samples", "first20_mean", "last20_mean",
           "random_mean", "mean_return", "diff", "diff_over_random_sd", "p_value", "verdict",
           "wall_s_per_run"]


def short(reason: str) -> str:
    """A reason on one line, long arrays (e.g. a 64-dimension MultiDiscrete) summarised."""
    reason = " ".join(reason.split())
    return re.sub(r"\[([^\]]{40,})\]", lambda m: f"[{len(m.group(1).split())} values]", reason)


def _cell(row: dict | None) -> str:
    if row is None:
        return "-"
    if "last20_mean" not in row or "diff" not in row:
        return row["verdict"].split(":")[0]  # n/a, failed, ...: the reasons follow the table
    return f"{row['last20_mean']:.4g} ({row['diff']:+.3g}; {row['verdict']})"


def print_tables(rows: list[dict]) -> None:
    def find(env, agent):
        return next((r for r in rows if r["env"] == env and r["agent"] == agent), None)

    envs = list(dict.fromkeys(r["env"] for r in rows))
    print("\nMean episode return: random over its whole run; PPO and DQN over the last "
          f"{LAST:.0%} of their episodes (difference to random; Welch p < {ALPHA} verdict)\n")
    print("| env | samples | random | PPO last 20% | DQN last 20% |")
    print("|---|---|---|---|---|")
    for env in envs:
        rand = find(env, "random")
        if rand is None or "mean_return" not in rand:
            reason = (rand or find(env, "all") or {}).get("verdict", "-")
            print(f"| {env} | - | {reason} | | |")
            continue
        print(f"| {env} | {rand['budget']} | {rand['mean_return']:.4g} | {_cell(find(env, 'ppo'))} "
              f"| {_cell(find(env, 'dqn'))} |")
    notes = [r for r in rows if ":" in r.get("verdict", "")]
    if notes:
        print()
    for r in notes:
        print(f"- {r['env']}, {r['agent']}: {short(r['verdict'])}")
    print("\nVerdicts per family: above / no clear difference / below random (n/a or failed)\n")
    print("| family | envs | samples | PPO | DQN |")
    print("|---|---|---|---|---|")
    families = list(dict.fromkeys(r["family"] for r in rows)) + ["all"]
    for fam in families:
        mine = [r for r in rows if fam in ("all", r["family"])]
        cells = []
        for agent in LEARNERS:
            verdicts = [r["verdict"] for r in mine if r["agent"] == agent]
            counts = [verdicts.count(v) for v in ("above", "no clear difference", "below")]
            other = len(verdicts) - sum(counts)
            cells.append(" / ".join(map(str, counts)) + (f" ({other})" if other else ""))
        budgets = sorted({r["budget"] for r in mine})
        samples = str(budgets[0]) if len(budgets) == 1 else "-"
        print(f"| {fam} | {len({r['env'] for r in mine})} | {samples} | {cells[0]} | {cells[1]} |")


# ------------------------------------------------------------------ figure
def moving_mean(values: np.ndarray, width: int) -> np.ndarray:
    """Mean of each run of ``width`` consecutive values (len(values) - width + 1 of them)."""
    return np.convolve(values, np.ones(width) / width, mode="valid")


def plot(results: list[RunResult], rows: list[dict], out: Path) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    envs = [e for e in dict.fromkeys(r["env"] for r in rows)
            if any(r.env_id == e for r in results)]
    cols = min(6, len(envs))
    nrows = math.ceil(len(envs) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(3.2 * cols, 2.5 * nrows + 0.6), squeeze=False)
    colours = {"ppo": "C0", "dqn": "C1", "random": "grey"}
    for ax, env in zip(axes.flat, envs):
        for agent in AGENT_NAMES:
            curves = [returns(r) for r in results if r.env_id == env and r.agent == agent]
            if not curves:
                continue
            n = min(len(c) for c in curves)
            if agent == "random":
                ax.axhline(np.mean(np.concatenate(curves)), color=colours[agent], ls="--", lw=1.2,
                           label="random (mean)")
                continue
            width = max(1, n // 15)
            y = np.mean([moving_mean(c[:n], width) for c in curves], axis=0)
            ax.plot(np.arange(width, n + 1), y, color=colours[agent], lw=1.2, label=agent)
            ax.axvspan(n - max(1, math.ceil(LAST * n)) + 0.5, n + 0.5, color="0.9", zorder=0)
        ax.set_title(env, fontsize="small")
        ax.tick_params(labelsize="x-small")
        ax.yaxis.get_offset_text().set_fontsize("x-small")
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(envs):]:
        ax.set_axis_off()
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize="small")
    fig.suptitle("Episode return vs samples (moving mean of n/15 episodes, mean over seeds; "
                 f"shaded: the last {LAST:.0%} compared with random)", fontsize="medium")
    height = 2.5 * nrows + 0.6
    fig.tight_layout(rect=(0, 0.4 / height, 1, 1 - 0.25 / height))
    path = out / "bench_sb3_curves.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    add_sweep_arguments(parser, f"{len(QUICK_ENVS)} envs, tiny budgets")
    parser.add_argument("--seeds", type=int, default=2, help="seeds per (env, agent), >= 1")
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error(f"--seeds must be >= 1, got {args.seeds}")
    args.out.mkdir(parents=True, exist_ok=True)
    env_ids = list(QUICK_ENVS) if args.quick else all_env_ids()
    start = time.perf_counter()
    specs, skipped = plan(env_ids, args.seeds, args.quick)
    for key, reason in skipped.items():
        print(f"{key.replace('|', ': ')} left out: {short(reason)}")
    failures: dict[str, str] = {}
    if args.from_runs is not None:
        results = load_runs(args.from_runs, "*/runs/*.json")
        if not results:
            parser.error(f"no */runs/*.json under {args.from_runs}")
    else:
        print(f"{sum(len(s['envs']) * len(s['agents']) * args.seeds for s in specs)} runs in "
              f"{len(specs)} sweeps: " + ", ".join(f"{s['name']} ({len(s['envs'])} envs x "
                                                    f"{s['budget']} samples)" for s in specs))
        results, failures = run_all(specs, args.out / "sb3_curves_sweep", args.address, args.num_cpus)
    trained = time.perf_counter() - start
    rows = analyse(results, env_ids, skipped, failures, args.quick)
    print_tables(rows)
    write_csv(args.out / "bench_sb3_curves.csv", rows, COLUMNS)
    png = plot(results, rows, args.out)
    print(f"\n{len(results)} runs ({len(failures)} failed); training {trained:.0f} s, "
          f"total {time.perf_counter() - start:.0f} s")
    print(f"wrote {args.out / 'bench_sb3_curves.csv'} and {png}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
