#!/usr/bin/env python
"""NoCAdaptive-v0: steps per second, and PPO against MIN, VAL, UGAL-L and UGAL-G on phase-changing traffic.

    python benchmarks/bench_noc_adaptive.py            # 5 evaluation episodes per baseline, PPO 150 episodes
    python benchmarks/bench_noc_adaptive.py --quick    # 8-step episodes, 2 per baseline, PPO 3 (smoke run)
        [--out DIR]           # default benchmarks/out/
        [--episodes N]        # evaluation episodes per baseline
        [--budget N]          # PPO training episodes
        [--seed S]            # PPO's seed; the evaluation episodes are reset seeds 1000, 1001, ...

Speed: the env's steps per second (``step()`` only, resets excluded) with
per-router and per-group actions, measured alternately, the median of
``--repeats`` episodes each (the network is dragonflynew k = 2, 500 cycles a
step; random actions).

Routing: the env's default traffic (phases alternating between uniform and
tornado over all nodes, rates in (0.1, 0.25) flits/node/cycle) with
``granularity="group"``.  The baselines are constant actions of the env
with ``decisions=archgym.noc.UGAL_DECISIONS`` (every router ``min``, ``val``,
``ugal_l``, ``ugal_g``), each on the same evaluation episodes (reset seeds
1000, ...: the same phases, rates and simulator seeds).  PPO
(``agents.train(..., "ppo")``, the agents package's SB3 PPO with its default
settings) trains on ``granularity="group"`` with actions min / val; its
figures are those of its last 20% of training episodes (the stochastic
policy as it was learning, on other reset seeds of the same traffic
distribution).  Per policy: the mean episode return, and the means over its
steps of the delivered packets' latency (cycles), the accepted throughput
(flits/node/cycle) and the source backlog (flits).

Writes ``bench_noc_adaptive.csv`` (one row per policy, plus the speed rows)
to --out and prints the table.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

from _common import OUT, machine_info, write_csv  # benchmarks/_common.py

import archgym  # noqa: F401  (registers the environments)
from archgym import noc

ENV_ID = "NoCAdaptive-v0"
BASELINES = {"MIN": "min", "VAL": "val", "UGAL-L": "ugal_l", "UGAL-G": "ugal_g"}
FIELDS = ["policy", "episodes", "mean_return", "latency", "throughput", "backlog_flits",
          "steps_per_s", "note"]


class EpisodeFigures(gym.Wrapper):
    """Collects, per finished episode, its return and the mean over its steps of the
    latency, throughput and backlog in ``info``."""

    def __init__(self, env):
        super().__init__(env)
        self.episodes: list[dict] = []
        self._steps: list[dict] = []

    def reset(self, **kwargs):
        self._steps = []
        return self.env.reset(**kwargs)

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._steps.append({"reward": reward, "latency": info["latency"], "throughput": info["throughput"],
                            "backlog_flits": info["backlog_flits"]})
        if terminated or truncated:
            self.episodes.append(summarise(self._steps))
        return obs, reward, terminated, truncated, info


def summarise(steps: list[dict]) -> dict:
    latencies = [s["latency"] for s in steps if s["latency"] is not None]
    return {"return": float(sum(s["reward"] for s in steps)),
            "latency": float(np.mean(latencies)) if latencies else float("nan"),
            "throughput": float(np.mean([s["throughput"] for s in steps])),
            "backlog_flits": float(np.mean([s["backlog_flits"] for s in steps]))}


def row(policy: str, episodes: list[dict], note: str = "") -> dict:
    return {"policy": policy, "episodes": len(episodes),
            "mean_return": round(float(np.mean([e["return"] for e in episodes])), 1),
            "latency": round(float(np.mean([e["latency"] for e in episodes])), 1),
            "throughput": round(float(np.mean([e["throughput"] for e in episodes])), 4),
            "backlog_flits": round(float(np.mean([e["backlog_flits"] for e in episodes])), 1),
            "steps_per_s": "", "note": note}


def speed(env_kwargs: dict, repeats: int) -> list[dict]:
    """Steps per second per granularity, episodes alternating between them."""
    times: dict[str, list[float]] = {"router": [], "group": []}
    envs = {g: gym.make(ENV_ID, granularity=g, **env_kwargs) for g in times}
    for i in range(repeats):
        for g, env in envs.items():
            env.reset(seed=i)
            env.action_space.seed(i)
            steps, t0 = 0, time.perf_counter()
            done = False
            while not done:
                _, _, terminated, truncated, _ = env.step(env.action_space.sample())
                done, steps = terminated or truncated, steps + 1
            times[g].append(steps / (time.perf_counter() - t0))
    return [{"policy": f"speed ({g} actions)", "episodes": repeats,
             "steps_per_s": round(float(np.median(t)), 2), "note": "random actions, median"}
            for g, t in times.items()]


def evaluate(decision: str, env_kwargs: dict, episodes: int) -> list[dict]:
    env = EpisodeFigures(gym.make(ENV_ID, granularity="group", decisions=noc.UGAL_DECISIONS, **env_kwargs))
    action = env.unwrapped.constant_action(decision)
    for i in range(episodes):
        env.reset(seed=1000 + i)
        done = False
        while not done:
            _, _, terminated, truncated, _ = env.step(action)
            done = terminated or truncated
    return env.episodes


def train_ppo(env_kwargs: dict, budget: int, seed: int) -> list[dict]:
    import agents

    collected: list[EpisodeFigures] = []

    def wrap(env):
        collected.append(EpisodeFigures(env))
        return collected[-1]

    agents.train(ENV_ID, "ppo", budget, seed=seed, env_kwargs={"granularity": "group", **env_kwargs},
                 wrap=wrap)
    episodes = [e for w in collected for e in w.episodes]
    return episodes[-max(1, len(episodes) // 5):]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="8-step episodes, 2 per baseline, PPO 3 episodes")
    p.add_argument("--out", type=Path, default=OUT, help="output folder (default benchmarks/out/)")
    p.add_argument("--episodes", type=int, default=None, help="evaluation episodes per baseline (default 5)")
    p.add_argument("--budget", type=int, default=None, help="PPO training episodes (default 150)")
    p.add_argument("--repeats", type=int, default=None, help="episodes per speed measurement (default 3)")
    p.add_argument("--seed", type=int, default=0, help="PPO's seed (default 0)")
    args = p.parse_args(argv)
    env_kwargs = {"max_steps": 8} if args.quick else {}
    def chosen(value, quick, full):
        return value if value is not None else quick if args.quick else full

    episodes, budget = chosen(args.episodes, 2, 5), chosen(args.budget, 3, 150)
    repeats = chosen(args.repeats, 1, 3)
    for name, value in (("--episodes", episodes), ("--budget", budget), ("--repeats", repeats)):
        if value < 1:
            print(f"bench_noc_adaptive: {name} must be at least 1, got {value}", file=sys.stderr)
            return 2
    args.out.mkdir(parents=True, exist_ok=True)
    info = machine_info()
    print(f"# {info['cpu']}, {info['usable_cpus']} usable CPUs, load {info['loadavg_start']}, "
          f"commit {info.get('git_commit', '?')}")
    rows = speed(env_kwargs, repeats)
    for name, decision in BASELINES.items():
        rows.append(row(name, evaluate(decision, env_kwargs, episodes), f"every router {decision}"))
        print(f"{name}: done", flush=True)
    t0 = time.perf_counter()
    ppo = train_ppo(env_kwargs, budget, args.seed)
    rows.append(row("PPO", ppo, f"last 20% of {budget} training episodes ({time.perf_counter() - t0:.0f} s)"))
    path = write_csv(args.out / "bench_noc_adaptive.csv", rows, FIELDS)
    print(f"\n{'policy':<22} {'episodes':>8} {'return':>10} {'latency':>8} {'thru':>7} {'backlog':>8} "
          f"{'steps/s':>8}  note")
    for r in rows:
        print(f"{r['policy']:<22} {r['episodes']:>8} {r.get('mean_return', ''):>10} {r.get('latency', ''):>8} "
              f"{r.get('throughput', ''):>7} {r.get('backlog_flits', ''):>8} {r['steps_per_s']:>8}  {r['note']}")
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
