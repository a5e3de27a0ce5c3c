#!/usr/bin/env python
"""NoCAdaptive-v0: steps per second, and PPO against MIN, VAL, UGAL-L and UGAL-G on phase-changing traffic.

    python benchmarks/bench_noc_adaptive.py            # both topologies, PPO 120 episodes each, 5 evaluation episodes
    python benchmarks/bench_noc_adaptive.py --quick    # 8-step episodes, 2 evaluation episodes, PPO 3 (smoke run)
        [--out DIR]           # default benchmarks/out/
        [--topology T]        # dragonflynew, flatfly or both (default both)
        [--episodes N]        # evaluation episodes per policy (held-out reset seeds 1000, 1001, ...)
        [--budget N]          # PPO training episodes per topology
        [--repeats N]         # episodes per speed measurement (default 3)
        [--seed S]            # PPO's seed
        [--ppo KEY=VALUE ...] # PPO settings over PPO_SETTINGS (agents.agent_config("ppo") names)

Speed, per topology: the env's steps per second (``step()`` only, resets
excluded) with per-router and per-group actions, and the env-steps per
second of ``gym.make_vec`` (the vector entry point: copies in their own
processes) with 1 and 2 copies; all measured alternately, the median of
``--repeats`` episodes each (500 cycles a step; random actions).

Routing, per topology: the env's default traffic (phases alternating between
uniform and the topology's adversarial pattern: tornado over all nodes on
the dragonfly, asymmetric on the flatfly; see ``archgym.envs.noc_adaptive.
TOPOLOGIES``) with ``granularity="group"``.  The baselines are constant
actions of the env with ``decisions=archgym.noc.UGAL_DECISIONS`` (every
router ``min``, ``val``, ``ugal_l``, ``ugal_g``).  PPO (the agents package's
SB3 PPO, ``agents.train(..., "ppo")``, settings :data:`PPO_SETTINGS` plus
``--ppo``) trains on ``granularity="group"`` with actions min / val for
``--budget`` episodes; then its final policy, deterministic (the most likely
action), plays the evaluation episodes.  Every policy plays the same
evaluation episodes: reset seeds 1000, 1001, ... (the same phases, rates and
simulator seeds), none of which PPO saw in training (checked: its training
resets draw 31-bit seeds).  Per policy: the mean episode return, the means
over its steps of the delivered packets' latency (cycles), the accepted
throughput (flits/node/cycle) and the source backlog (flits), and the share
of routers set to ``val`` in uniform and in adversarial steps.  PPO's last
20% of training episodes (the stochastic policy as it learnt) is a row too.

Writes ``bench_noc_adaptive.csv`` (one row per topology and policy, plus the
speed rows) to --out and prints the table.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

from _common import OUT, machine_info, write_csv  # benchmarks/_common.py

import archgym  # noqa: F401  (registers the environments)
from archgym import noc
from archgym.envs.noc_adaptive import TOPOLOGIES

ENV_ID = "NoCAdaptive-v0"
BASELINES = {"MIN": "min", "VAL": "val", "UGAL-L": "ugal_l", "UGAL-G": "ugal_g"}
EVAL_SEED = 1000
#: PPO's settings for this env (over the agents package's defaults): observations
#: normalised (the features are fractions of very different scales: credits near 0,
#: the latency term up to 1), rewards normalised (returns run to -30,000), rollouts of
#: 2 episodes (64 steps) in minibatches of 32 and a learning rate of 1e-3 (more updates
#: in the few episodes a run affords).
PPO_SETTINGS = {"normalize_obs": True, "normalize_reward": True, "n_steps": 64, "batch_size": 32,
                "learning_rate": 1e-3, "ent_coef": 0.01}
FIELDS = ["topology", "policy", "episodes", "mean_return", "latency", "throughput", "backlog_flits",
          "val_share_uniform", "val_share_adversarial", "steps_per_s", "note"]


class EpisodeFigures(gym.Wrapper):
    """Collects, per finished episode, its reset seed, its return, the mean over its steps
    of the latency, throughput and backlog in ``info``, and the share of routers on ``val``
    in uniform and in other steps."""

    def __init__(self, env):
        super().__init__(env)
        self.episodes: list[dict] = []
        self.seeds: list[int | None] = []
        self._steps: list[dict] = []

    def reset(self, **kwargs):
        self._steps = []
        self.seeds.append(kwargs.get("seed"))
        return self.env.reset(**kwargs)

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        routers = sum(info["decisions"].values())
        self._steps.append({"reward": reward, "latency": info["latency"], "throughput": info["throughput"],
                            "backlog_flits": info["backlog_flits"], "uniform": info["pattern"] == "uniform",
                            "val": info["decisions"]["val"] / routers})
        if terminated or truncated:
            self.episodes.append(summarise(self._steps))
        return obs, reward, terminated, truncated, info


def _mean(values) -> float:
    values = list(values)
    return float(np.mean(values)) if values else float("nan")


def summarise(steps: list[dict]) -> dict:
    return {"return": float(sum(s["reward"] for s in steps)),
            "latency": _mean(s["latency"] for s in steps if s["latency"] is not None),
            "throughput": _mean(s["throughput"] for s in steps),
            "backlog_flits": _mean(s["backlog_flits"] for s in steps),
            "val_uniform": _mean(s["val"] for s in steps if s["uniform"]),
            "val_adversarial": _mean(s["val"] for s in steps if not s["uniform"])}


def row(topology: str, policy: str, episodes: list[dict], note: str = "") -> dict:
    def mean(key, digits):
        return round(float(np.nanmean([e[key] for e in episodes])), digits)

    return {"topology": topology, "policy": policy, "episodes": len(episodes),
            "mean_return": mean("return", 1), "latency": mean("latency", 1),
            "throughput": mean("throughput", 4), "backlog_flits": mean("backlog_flits", 1),
            "val_share_uniform": mean("val_uniform", 3), "val_share_adversarial": mean("val_adversarial", 3),
            "steps_per_s": "", "note": note}


def speed(topology: str, env_kwargs: dict, repeats: int) -> list[dict]:
    """Steps per second of one env per granularity and env-steps per second of the vector
    entry point with 1 and 2 copies, episodes alternating between the four."""
    kwargs = {"topology": topology, **env_kwargs}
    singles = {g: gym.make(ENV_ID, granularity=g, **kwargs) for g in ("router", "group")}
    steps = singles["group"].unwrapped.max_steps
    vectors = {n: gym.make_vec(ENV_ID, num_envs=n, granularity="group", **kwargs) for n in (1, 2)}
    times: dict[str, list[float]] = {f"{g} actions": [] for g in singles}
    times.update({f"make_vec, {n} env{'s' * (n > 1)}": [] for n in vectors})
    try:
        for i in range(repeats):
            for g, env in singles.items():
                env.reset(seed=i)
                env.action_space.seed(i)
                t0 = time.perf_counter()
                for _ in range(steps):
                    env.step(env.action_space.sample())
                times[f"{g} actions"].append(steps / (time.perf_counter() - t0))
            for n, venv in vectors.items():
                venv.reset(seed=[i * 2 + j for j in range(n)])
                venv.action_space.seed(i)
                t0 = time.perf_counter()
                for _ in range(steps):
                    venv.step(venv.action_space.sample())
                times[f"make_vec, {n} env{'s' * (n > 1)}"].append(n * steps / (time.perf_counter() - t0))
    finally:
        for venv in vectors.values():
            venv.close()
    return [{"topology": topology, "policy": f"speed ({name})", "episodes": repeats,
             "steps_per_s": round(float(np.median(t)), 2), "note": "random actions, median; env-steps/s"}
            for name, t in times.items()]


def play(env: EpisodeFigures, policy, episodes: int) -> list[dict]:
    for i in range(episodes):
        obs, _ = env.reset(seed=EVAL_SEED + i)
        done = False
        while not done:
            obs, _, terminated, truncated, _ = env.step(policy(obs))
            done = terminated or truncated
    return env.episodes


def evaluate_baseline(topology: str, decision: str, env_kwargs: dict, episodes: int) -> list[dict]:
    env = EpisodeFigures(gym.make(ENV_ID, topology=topology, granularity="group",
                                  decisions=noc.UGAL_DECISIONS, **env_kwargs))
    action = env.unwrapped.constant_action(decision)
    return play(env, lambda _obs: action, episodes)


def train_ppo(topology: str, env_kwargs: dict, budget: int, seed: int, settings: dict, path: Path):
    """PPO's training episodes (figures and reset seeds); the final model is saved to ``path``."""
    import agents

    collected: list[EpisodeFigures] = []

    def wrap(env):
        collected.append(EpisodeFigures(env))
        return collected[-1]

    agents.train(ENV_ID, "ppo", budget, seed=seed, wrap=wrap, config={**settings, "save_path": str(path)},
                 env_kwargs={"topology": topology, "granularity": "group", **env_kwargs})
    return [e for w in collected for e in w.episodes], [s for w in collected for s in w.seeds]


def evaluate_ppo(topology: str, path: Path, env_kwargs: dict, episodes: int) -> list[dict]:
    """The final policy, deterministic, with the observation statistics it trained with."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

    kwargs = {"topology": topology, "granularity": "group", **env_kwargs}
    model = PPO.load(str(path), device="cpu")
    stats = Path(f"{path}.vecnormalize.pkl")
    norm = VecNormalize.load(str(stats), DummyVecEnv([lambda: gym.make(ENV_ID, **kwargs)])) \
        if stats.exists() else None
    env = EpisodeFigures(gym.make(ENV_ID, **kwargs))

    def policy(obs):
        action, _ = model.predict(norm.normalize_obs(obs) if norm is not None else obs, deterministic=True)
        return action

    return play(env, policy, episodes)


def parse_settings(items: list[str]) -> dict:
    settings = dict(PPO_SETTINGS)
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--ppo takes KEY=VALUE, got {item!r}")
        settings[key] = value
    import agents

    agents.agent_config("ppo", settings)  # one line naming a bad setting
    return settings


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="8-step episodes, 2 evaluation episodes, PPO 3 episodes")
    p.add_argument("--out", type=Path, default=OUT, help="output folder (default benchmarks/out/)")
    p.add_argument("--topology", choices=(*TOPOLOGIES, "both"), default="both",
                   help="the network(s) (default both)")
    p.add_argument("--episodes", type=int, default=None, help="evaluation episodes per policy (default 5)")
    p.add_argument("--budget", type=int, default=None, help="PPO training episodes per topology (default 120)")
    p.add_argument("--repeats", type=int, default=None, help="episodes per speed measurement (default 3)")
    p.add_argument("--seed", type=int, default=0, help="PPO's seed (default 0)")
    p.add_argument("--ppo", nargs="*", default=[], metavar="KEY=VALUE", help="PPO settings over PPO_SETTINGS")
    args = p.parse_args(argv)
    env_kwargs = {"max_steps": 8} if args.quick else {}

    def chosen(value, quick, full):
        return value if value is not None else quick if args.quick else full

    episodes, budget = chosen(args.episodes, 2, 5), chosen(args.budget, 3, 120)
    repeats = chosen(args.repeats, 1, 3)
    for name, value in (("--episodes", episodes), ("--budget", budget), ("--repeats", repeats)):
        if value < 1:
            print(f"bench_noc_adaptive: {name} must be at least 1, got {value}", file=sys.stderr)
            return 2
    try:
        settings = parse_settings(args.ppo)
    except (ValueError, TypeError) as e:
        print(f"bench_noc_adaptive: {e}", file=sys.stderr)
        return 2
    topologies = list(TOPOLOGIES) if args.topology == "both" else [args.topology]
    args.out.mkdir(parents=True, exist_ok=True)
    info = machine_info()
    print(f"# {info['cpu']}, {info['usable_cpus']} usable CPUs, load {info['loadavg_start']}, "
          f"commit {info.get('git_commit', '?')}; PPO settings {settings}")
    rows = []
    for topology in topologies:
        rows += speed(topology, env_kwargs, repeats)
        for name, decision in BASELINES.items():
            rows.append(row(topology, name, evaluate_baseline(topology, decision, env_kwargs, episodes),
                            f"every router {decision}"))
        print(f"{topology}: speed and baselines done", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "ppo"
            t0 = time.perf_counter()
            training, seeds = train_ppo(topology, env_kwargs, budget, args.seed, settings, path)
            seconds = time.perf_counter() - t0
            held_out = set(range(EVAL_SEED, EVAL_SEED + episodes))
            if held_out & set(seeds):
                print(f"bench_noc_adaptive: PPO trained on an evaluation seed ({sorted(held_out & set(seeds))})",
                      file=sys.stderr)
                return 1
            rows.append(row(topology, "PPO (training)", training[-max(1, len(training) // 5):],
                            f"last 20% of {budget} training episodes, stochastic ({seconds:.0f} s)"))
            rows.append(row(topology, "PPO", evaluate_ppo(topology, path, env_kwargs, episodes),
                            f"final policy after {budget} episodes, deterministic"))
        print(f"{topology}: PPO done ({seconds:.0f} s)", flush=True)
    path = write_csv(args.out / "bench_noc_adaptive.csv", rows, FIELDS)
    print(f"\n{'topology':<13} {'policy':<26} {'eps':>4} {'return':>10} {'latency':>8} {'thru':>7} "
          f"{'backlog':>8} {'val:u':>6} {'val:a':>6} {'steps/s':>8}  note")
    for r in rows:
        print(f"{r['topology']:<13} {r['policy']:<26} {r['episodes']:>4} {r.get('mean_return', ''):>10} "
              f"{r.get('latency', ''):>8} {r.get('throughput', ''):>7} {r.get('backlog_flits', ''):>8} "
              f"{r.get('val_share_uniform', ''):>6} {r.get('val_share_adversarial', ''):>6} "
              f"{r['steps_per_s']:>8}  {r['note']}")
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
