"""The ``archgym`` command line: list, demo, and the agent commands train, sweep, replay.

``archgym demo`` is the README's main job: on the embedded MobileNet-V2 table
(ConfuciuX's) it runs HWResource-v0 for each dataflow with a uniform design
(64 PEs, tile 4 on every layer) and a seeded random search, and prints a table
of total latency, area and feasibility.

``archgym train``, ``archgym sweep`` and ``archgym replay`` (and ``archgym list
--agents``) run the reference agents: they are parsed here and carried out by
``agents.cli``, which is imported only for them, so ``archgym list`` and
``archgym demo`` need neither the agents extra nor torch nor ray.
"""

from __future__ import annotations

import argparse
import sys
import time

import gymnasium as gym
import numpy as np

import archgym  # noqa: F401  (registers the environments)
from archgym.envs.hw_resource import PE_LEVELS, TILE_LEVELS


def env_ids() -> list[str]:
    """Every registered environment id implemented in archgym, sorted."""
    return sorted(i for i, spec in gym.registry.items()
                  if isinstance(spec.entry_point, str) and spec.entry_point.startswith("archgym."))


def _run_episode(env: gym.Env, actions) -> dict:
    """Play one episode with actions(step) -> action; return the final info."""
    env.reset(seed=0)
    step, done, info = 0, False, {}
    while not done:
        _, _, terminated, truncated, info = env.step(actions(step))
        done, step = terminated or truncated, step + 1
    return info


def demo(samples: int, seed: int) -> int:
    uniform = np.array([np.flatnonzero(PE_LEVELS == 64)[0], np.flatnonzero(TILE_LEVELS == 4)[0]])
    rng = np.random.default_rng(seed)
    print(f"HWResource-v0 on MobileNet-V2 (52 layers, ConfuciuX table), latency objective,\n"
          f"area budget with mul = 0.5; random search: {samples} episodes, seed {seed}.\n")
    header = (f"{'dataflow':<9}{'design':<22}{'total cycles':>14}{'total area (um^2)':>20}"
              f"{'feasible':>10}")
    print(header)
    print("-" * len(header))
    for dataflow in ("dla", "shi", "eye"):
        env = gym.make("HWResource-v0", dataflow=dataflow)
        info = _run_episode(env, lambda _: uniform)
        rows = [("uniform 64 PEs, tile 4", info)]
        best, start = None, time.perf_counter()
        for _ in range(samples):
            info = _run_episode(env, lambda _: rng.integers(0, 12, size=2))
            if "reason" not in info and (best is None or info["total_cycles"] < best["total_cycles"]):
                best = info
        rate = samples / (time.perf_counter() - start)
        rows.append((f"best of {samples} random", best))
        for name, info in rows:
            if info is None:
                print(f"{dataflow:<9}{name:<22}{'(no feasible design)':>44}")
                continue
            feasible = "yes" if "reason" not in info else "no"
            print(f"{dataflow:<9}{name:<22}{info['total_cycles']:>14,}{info['total_area']:>20.4e}"
                  f"{feasible:>10}")
        print(f"{'':<9}({rate:,.0f} episodes/s, budget {info['budget']:.4e} um^2)")
    return 0


#: Third-party modules of the optional extras, and the extra that brings each.
_EXTRAS = {"torch": "agents", "stable_baselines3": "agents", "sb3_contrib": "agents",
           "optuna": "agents", "tqdm": "agents", "rich": "agents", "tensorboard": "agents",
           "matplotlib": "agents", "yaml": "agents", "agents": "agents", "ray": "sweep"}


def _agent_command(args: argparse.Namespace) -> int:
    """Run an agent command; a missing optional dependency becomes an install hint."""
    try:
        from agents import cli

        if args.command == "list":
            return cli.list_agents()
        if args.command == "train":
            return cli.train(args.env_id, args.agent, args.budget, args.seed, env=args.env,
                             settings=args.set, score=args.score, out=args.out,
                             progress=not args.no_progress and sys.stderr.isatty())
        if args.command == "replay":
            return cli.replay(args.result)
        return cli.sweep(args.spec, out=args.out, address=args.address, num_cpus=args.num_cpus,
                         progress=not args.no_progress and sys.stderr.isatty())
    except ModuleNotFoundError as exc:
        extra = _EXTRAS.get((exc.name or "").partition(".")[0])
        if extra is None:
            raise
        print(f"archgym {args.command}: the module {exc.name!r} is missing; this command needs "
              f'the {extra!r} extra: pip install "archgym[{extra}]"', file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="archgym", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_list = sub.add_parser("list", help="list the registered environment ids")
    p_list.add_argument("--agents", action="store_true",
                        help="list the agents (name and summary) instead")
    p_demo = sub.add_parser("demo", help="a short HWResource-v0 demo on MobileNet-V2")
    p_demo.add_argument("--samples", type=int, default=300, help="random-search episodes")
    p_demo.add_argument("--seed", type=int, default=0)

    p_train = sub.add_parser("train", help="run one agent on one env; save result, history, plot")
    p_train.add_argument("env_id", help="a registered env id (see `archgym list`)")
    p_train.add_argument("--agent", required=True, help="agent name (see `archgym list --agents`)")
    p_train.add_argument("--budget", type=int, required=True,
                         help="samples = complete episodes (designs evaluated)")
    p_train.add_argument("--seed", type=int, default=0)
    p_train.add_argument("--env", action="append", metavar="KEY=VALUE",
                         help="env kwarg, VALUE parsed as JSON if possible (repeatable)")
    p_train.add_argument("--set", action="append", metavar="KEY=VALUE",
                         help="agent Config field (repeatable)")
    p_train.add_argument("--score", default="return",
                         help="how the best design is ranked: return, min:KEY or max:KEY "
                              "(KEY from the final info)")
    p_train.add_argument("--out", help="output folder (default runs/ENV-AGENT-sSEED)")
    p_train.add_argument("--no-progress", action="store_true",
                         help="no progress bar (it is shown only when stderr is a terminal)")

    p_replay = sub.add_parser("replay", help="replay a saved result.json and check it matches")
    p_replay.add_argument("result", help="a result.json written by train or sweep")

    p_sweep = sub.add_parser("sweep", help="run a grid of envs x agents x seeds on Ray")
    p_sweep.add_argument("spec", help="the sweep spec (YAML; see agents.sweep)")
    p_sweep.add_argument("--out", help="output folder (default runs/sweep-SPEC)")
    p_sweep.add_argument("--address", help="join this Ray cluster instead of starting one")
    p_sweep.add_argument("--num-cpus", type=int, help="CPUs of the local Ray instance (default all)")
    p_sweep.add_argument("--no-progress", action="store_true",
                         help="no progress bar (it is shown only when stderr is a terminal)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "list" and not args.agents:
        print("\n".join(env_ids()))
        return 0
    if args.command == "demo":
        if args.samples < 1:
            parser.error("--samples must be at least 1")
        return demo(args.samples, args.seed)
    if args.command == "sweep" and args.num_cpus is not None and args.num_cpus < 1:
        parser.error("--num-cpus must be at least 1")
    return _agent_command(args)

if __name__ == "__main__":
    sys.exit(main())
