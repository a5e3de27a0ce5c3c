"""The ``archgym`` command line: ``archgym list`` and ``archgym demo``.

``archgym demo`` is the README's main job: on the embedded MobileNet-V2 table
(ConfuciuX's) it runs HWResource-v0 for each dataflow with a uniform design
(64 PEs, tile 4 on every layer) and a seeded random search, and prints a table
of total latency, area and feasibility.
"""

from __future__ import annotations

import argparse
import sys
import time

import gymnasium as gym
import numpy as np

import archgym  # noqa: F401  (registers the environments)
from archgym.envs.hw_resource import PE_LEVELS, TILE_LEVELS


def _archgym_ids() -> list[str]:
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="archgym", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the registered environment ids")
    p_demo = sub.add_parser("demo", help="a short HWResource-v0 demo on MobileNet-V2")
    p_demo.add_argument("--samples", type=int, default=300, help="random-search episodes")
    p_demo.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.command == "list":
        print("\n".join(_archgym_ids()))
        return 0
    if args.samples < 1:
        parser.error("--samples must be at least 1")
    return demo(args.samples, args.seed)


if __name__ == "__main__":
    sys.exit(main())
