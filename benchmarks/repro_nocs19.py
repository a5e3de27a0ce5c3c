#!/usr/bin/env python
"""NOCS'19 reproduction: tabular Q-learning and SARSA, in the paper's regime and in the steady state.

    python benchmarks/repro_nocs19.py             # 2 regimes x 2 methods x 9 settings x 10 seeds, ~2 min
    python benchmarks/repro_nocs19.py --quick     # 3 settings x 3 seeds (smoke run), ~45 s (mostly the tables)
        [--out DIR]          # default benchmarks/out/

Kao et al. (NOCS 2019) train tabular learners to pick the routing algorithm
of an 8x8 mesh per injection rate (shuffle traffic, 1-flit packets, 4
routings), for 15 episodes with alpha 0.01, a zero-initialised Q table and
epsilon = 1/(episode + 1), and claim near-optimal choices.  Two regimes, two
registered environments with the same actions and an exhaustive oracle:

* ``NoCRouting-NOCS19-v0``, the paper's: rates 0.1..0.6, each point one
  fixed 20,000-cycle run from an empty network (no warm-up), uncapped latency;
* ``NoCRouting-v0``, archgym's default: rates 0.05..0.30, BookSim's
  steady-state measurement, latency capped at 500.

Learners (``agents.tabular``; ``agents.train``, in this process): q_learning
and sarsa, each with

* the paper's settings: alpha 0.01, Q initialised to 0, gamma 0.9 (the
  paper tied gamma to epsilon; agents.tabular keeps a constant);
* a sweep of sound ones for a contextual bandit: gamma 0 (the next rate
  follows whatever the action, so bootstrapping only mixes rates), alpha in
  {0.01, 0.1, 0.5, 1} and an optimistic (0, above every reward, which is
  -latency) or a pessimistic (-latency_cap, below every reward) initial Q.
  The sweep's "sound" reference is alpha 1 with the optimistic start: each
  table entry is deterministic, so one sample is its exact value, and
  optimism makes the greedy policy try every routing once.

Every run lasts 15 episodes (the paper's budget); seeds 0-9.  After training
the greedy policy of the Q table is played once (``evaluate_greedy``), and
its regret per rate (latency of its routing minus the oracle's, cycles) is
reported; the per-episode return (-sum of latencies over the rates) is the
paper's learning curve.

Prints markdown tables: per regime, the regret per rate of each method and
setting (mean over seeds, in brackets the seeds whose choice was optimal)
and the total (mean, sd, min-max); the oracle's routing per rate.  Writes to
--out: ``repro_nocs19.csv`` (one row per regime x method x setting x rate,
plus rate "total"), ``repro_nocs19_curves.csv`` (return per episode: mean,
min, max over seeds, and the oracle's return), ``repro_nocs19.png`` (regret
per rate and return curves, one column per regime).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

from _common import OUT, write_csv  # benchmarks/_common.py

import agents
from agents.tabular import evaluate_greedy
from archgym.envs.noc_routing import PAPER_ROUTINGS

#: label -> registered id.  The paper's regime first.
REGIMES = {"NOCS'19 regime": "NoCRouting-NOCS19-v0", "steady state": "NoCRouting-v0"}
METHODS = ("q_learning", "sarsa")
BUDGET = 15  # NOCS'19: 15 episodes
SEEDS = 10
PAPER = "paper (a=0.01, Q0=0, g=0.9)"
SOUND = "a=1, Q0 optimistic, g=0"
ALPHAS = (0.01, 0.1, 0.5, 1.0)
#: archgym routing function -> the paper's name for it.
PAPER_NAME = {fn: paper for paper, fn in PAPER_ROUTINGS.items()}


def settings(latency_cap: float, quick: bool) -> dict[str, dict]:
    """label -> agents.tabular.Config overrides: the paper's, then the sweep."""
    out = {PAPER: {"alpha": 0.01, "q_init": 0.0, "gamma": 0.9}}
    for alpha in ((0.01, 1.0) if quick else ALPHAS):
        for start, q_init in (("optimistic", 0.0), ("pessimistic", -latency_cap)):
            if quick and (alpha, start) == (0.01, "pessimistic"):
                continue
            out[f"a={alpha:g}, Q0 {start}, g=0"] = {"alpha": alpha, "q_init": q_init, "gamma": 0.0}
    return out


def run_regime(label: str, env_id: str, seeds: int, quick: bool) -> tuple[list[dict], list[dict], dict]:
    """(per-run-and-rate regret rows, per-run-and-episode return rows, the regime's oracle)."""
    env = gym.make(env_id).unwrapped
    latency = env.latency_table()[0]  # (rates, actions)
    oracle = {"rates": list(env.rates), "routings": list(env.routings), "latency": latency,
              "best": latency.argmin(axis=1), "return": -float(latency.min(axis=1).sum())}
    regret_rows, curve_rows = [], []
    for setting, config in settings(env.latency_cap, quick).items():
        for method in METHODS:
            for seed in range(seeds):
                result = agents.train(env_id, method, budget=BUDGET, seed=seed, config=config)
                for row in result.history:
                    curve_rows.append({"regime": label, "method": method, "setting": setting,
                                       "seed": seed, "episode": row["sample"],
                                       "return": row["return"]})
                for step in evaluate_greedy(env, result.extras, seed=0):
                    info = step["info"]
                    regret_rows.append({"regime": label, "method": method, "setting": setting,
                                        "seed": seed, "rate": info["rate"],
                                        "chosen": step["action"], "regret": info["regret"]})
    env.close()
    return regret_rows, curve_rows, oracle


def summarise(rows: list[dict], oracles: dict) -> list[dict]:
    """CSV rows: regime x method x setting x rate (and 'total'): regret over seeds."""
    out = []
    keys = dict.fromkeys((r["regime"], r["method"], r["setting"]) for r in rows)
    for regime, method, setting in keys:
        mine = [r for r in rows if (r["regime"], r["method"], r["setting"]) == (regime, method, setting)]
        oracle = oracles[regime]
        seeds = sorted({r["seed"] for r in mine})
        for i, rate in enumerate(oracle["rates"]):
            regret = np.array([r["regret"] for r in mine if r["rate"] == rate])
            out.append({"regime": regime, "method": method, "setting": setting, "rate": rate,
                        "seeds": len(regret), "mean_regret": regret.mean(), "sd_regret": regret.std(),
                        "min_regret": regret.min(), "max_regret": regret.max(),
                        "optimal_seeds": int((regret == 0).sum()),
                        "oracle": oracle["routings"][oracle["best"][i]]})
        totals = np.array([sum(r["regret"] for r in mine if r["seed"] == s) for s in seeds])
        out.append({"regime": regime, "method": method, "setting": setting, "rate": "total",
                    "seeds": len(seeds), "mean_regret": totals.mean(), "sd_regret": totals.std(),
                    "min_regret": totals.min(), "max_regret": totals.max(),
                    "optimal_seeds": int((totals == 0).sum()), "oracle": ""})
    return out


def curves(rows: list[dict], oracles: dict) -> list[dict]:
    """CSV rows: regime x method x setting x episode: return over seeds, and the oracle's."""
    out = []
    keys = dict.fromkeys((r["regime"], r["method"], r["setting"], r["episode"]) for r in rows)
    for regime, method, setting, episode in keys:
        values = np.array([r["return"] for r in rows if (r["regime"], r["method"], r["setting"],
                                                         r["episode"]) == (regime, method, setting, episode)])
        out.append({"regime": regime, "method": method, "setting": setting, "episode": episode,
                    "seeds": len(values), "mean_return": values.mean(), "min_return": values.min(),
                    "max_return": values.max(), "oracle_return": oracles[regime]["return"]})
    return out


def print_tables(table: list[dict], oracles: dict) -> None:
    for regime, oracle in oracles.items():
        rows = [r for r in table if r["regime"] == regime]
        rates = oracle["rates"]
        print(f"\n**{regime}** ({REGIMES[regime]}): regret (cycles) of the greedy policy after "
              f"{BUDGET} episodes, mean over seeds (seeds with an optimal routing); total: "
              "mean ± sd [min, max]\n")
        print("| method | setting | " + " | ".join(f"{rate:g}" for rate in rates) + " | total |")
        print("|---" * (len(rates) + 3) + "|")
        print("| oracle | | " + " | ".join(PAPER_NAME[oracle["routings"][a]] for a in oracle["best"])
              + " | 0 |")
        print("| oracle latency | | " + " | ".join(f"{v:.1f}" for v in oracle["latency"].min(axis=1))
              + " | |")
        for key in dict.fromkeys((r["method"], r["setting"]) for r in rows):
            mine = [r for r in rows if (r["method"], r["setting"]) == key]
            cells = [f"{r['mean_regret']:.1f} ({r['optimal_seeds']}/{r['seeds']})" for r in mine[:-1]]
            t = mine[-1]
            cells.append(f"{t['mean_regret']:.1f} ± {t['sd_regret']:.1f} "
                         f"[{t['min_regret']:.1f}, {t['max_regret']:.1f}]")
            print(f"| {key[0]} | {key[1]} | " + " | ".join(cells) + " |")


def plot(table: list[dict], regret_rows: list[dict], curve_table: list[dict], oracles: dict,
         out: Path) -> Path:
    """Per regime (column): regret per rate (mean, each seed a dot) and return per episode
    (mean, band min-max over seeds) of q_learning and sarsa with the paper's and the sound
    settings; the oracle's return as a dashed line."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [(m, s) for s in (PAPER, SOUND) for m in METHODS]
    fig, axes = plt.subplots(2, len(oracles), figsize=(6.0 * len(oracles), 8.4), squeeze=False)
    for col, (regime, oracle) in enumerate(oracles.items()):
        top, bottom = axes[0][col], axes[1][col]
        step = 0.08 * (oracle["rates"][1] - oracle["rates"][0])
        for i, (method, setting) in enumerate(shown):
            label = f"{method}, {setting}"
            style = {"color": "tab:blue" if setting == PAPER else "tab:red",
                     "ls": "-" if method == METHODS[0] else "--"}
            shift = (i - 1.5) * step  # side by side, so equal curves stay visible
            mine = [r for r in table if (r["regime"], r["method"], r["setting"], ) ==
                    (regime, method, setting) and r["rate"] != "total"]
            x = np.array([r["rate"] for r in mine]) + shift
            top.plot(x, [r["mean_regret"] for r in mine], marker="o", label=label, **style)
            dots = [r for r in regret_rows if (r["regime"], r["method"], r["setting"]) ==
                    (regime, method, setting)]
            top.plot([r["rate"] + shift for r in dots], [r["regret"] for r in dots], ".",
                     color=style["color"], alpha=0.35)
            curve = [r for r in curve_table if (r["regime"], r["method"], r["setting"]) ==
                     (regime, method, setting)]
            ep = [r["episode"] for r in curve]
            bottom.plot(ep, [r["mean_return"] for r in curve], marker=".", label=label, **style)
            if method == METHODS[0]:  # one band per setting (the methods' bands nearly coincide)
                bottom.fill_between(ep, [r["min_return"] for r in curve],
                                    [r["max_return"] for r in curve], color=style["color"], alpha=0.12)
        bottom.axhline(oracle["return"], color="k", ls=":", label="oracle")
        top.set_yscale("symlog", linthresh=1.0)
        top.set_title(f"{regime} ({REGIMES[regime]}): regret of the greedy policy", fontsize="medium")
        top.set_xlabel("injection rate (packets/node/cycle)")
        top.set_ylabel("regret vs oracle (cycles, symlog; dots: seeds)")
        bottom.set_title(f"{regime}: return per training episode", fontsize="medium")
        bottom.set_xlabel("episode")
        bottom.set_ylabel("return = -sum of latencies over the rates (cycles)")
        for ax in (top, bottom):
            ax.grid(alpha=0.3)
    handles, labels = axes[1][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize="small",
               title="bands: q_learning's min-max over seeds", title_fontsize="small")
    fig.tight_layout(rect=(0, 0.09, 1, 1))
    path = out / "repro_nocs19.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--quick", action="store_true",
                        help="3 seeds and 3 settings of the sweep (smoke run)")
    parser.add_argument("--out", type=Path, default=OUT, help="output folder (default: %(default)s)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    regret_rows, curve_rows, oracles = [], [], {}
    for label, env_id in REGIMES.items():
        rows, curve, oracles[label] = run_regime(label, env_id, 3 if args.quick else SEEDS, args.quick)
        regret_rows += rows
        curve_rows += curve
    table = summarise(regret_rows, oracles)
    curve_table = curves(curve_rows, oracles)
    print_tables(table, oracles)
    write_csv(args.out / "repro_nocs19.csv", table)
    write_csv(args.out / "repro_nocs19_curves.csv", curve_table)
    png = plot(table, regret_rows, curve_table, oracles, args.out)
    runs = len({(r["regime"], r["method"], r["setting"], r["seed"]) for r in regret_rows})
    print(f"\n{runs} runs of {BUDGET} episodes; total {time.perf_counter() - start:.1f} s")
    print(f"wrote {args.out / 'repro_nocs19.csv'}, {args.out / 'repro_nocs19_curves.csv'} and {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
