"""``archgym demo``, the README's main job: a hand-made design against real searches.

On HWResource-v0 (MobileNet-V2, ConfuciuX's table of 52 layers) and for each of
MAESTRO's dataflows it evaluates a uniform design (64 PEs and a tile of 4 on
every layer), the best of ``samples`` random designs and a genetic algorithm
(ConfuciuX's baseline search, :mod:`agents.ga`) given the same ``samples``, all
ranked by total cycles, and prints a table of total cycles and area.  It needs
numpy and gymnasium only (no torch), so it runs after a plain ``pip install .``.
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np

import agents
from agents.base import format_figure
from agents.cli import HelpFormatter

ENV_ID = "HWResource-v0"
DATAFLOWS = ("dla", "shi", "eye")
SCORE = "min:total_cycles"
#: A small population, so that a short run still breeds a few generations.
GA_CONFIG = {"population": 10, "parents": 3, "fitness": SCORE}
UNIFORM = "uniform 64 PEs, tile 4"

def intro(samples: int) -> str:
    """What the demo shows (printed first)."""
    return f"""\
archgym demo: {ENV_ID}, MobileNet-V2 (52 layers, ConfuciuX's table)

An agent designs a DNN accelerator layer by layer: each layer gets a number of
PEs and a tile size.  archgym's MAESTRO cost model gives each layer's cycles and
area, and the whole design must fit an area budget (halfway between the
smallest and the largest design: mul = 0.5).  The figure of merit is the total
cycles over the 52 layers, lower is better.  For each of MAESTRO's dataflows:
  {UNIFORM:<24}the same choice on every layer, made by hand
  {f'best of {samples} random':<24}the fastest feasible one of {samples} random designs
  {f'ga, {samples} samples':<24}the genetic algorithm (ConfuciuX's baseline search)
  {'':<24}after {samples} designs evaluated, ranked by total cycles
"""

AREA_NOTE = """\
Area is MAESTRO's area figure in its own units, not um^2: ConfuciuX runs MAESTRO
with a NoC bandwidth of 81,920,000, and the bus term of MAESTRO's area model is
then over 99.999 % of the total (docs/design/costmodel.md, section 7).  Compare
areas with each other and with the budget only."""


def uniform_action(env: gym.Env, pes: int = 64, tile: int = 4) -> np.ndarray:
    """The action giving a layer ``pes`` PEs and a tile of ``tile``, found by its effect: the
    step's info reports the layer's "pes" and "tile" (the env's public interface)."""
    for action in np.ndindex(*env.action_space.nvec):
        env.reset(seed=0)
        info = env.step(np.array(action))[4]
        if (info["pes"], info["tile"]) == (pes, tile):
            return np.array(action)
    raise ValueError(f"{env.spec.id} has no action giving {pes} PEs and a tile of {tile}")


def uniform_info(dataflow: str) -> dict:
    """The final info of the uniform design on every layer."""
    env = gym.make(ENV_ID, dataflow=dataflow)
    try:
        action = uniform_action(env)
        env.reset(seed=0)
        done, info = False, {}
        while not done:
            _, _, terminated, truncated, info = env.step(action)
            done = terminated or truncated
        return info
    finally:
        env.close()


def demo(samples: int, seed: int) -> int:
    print(intro(samples))
    header = f"{'dataflow':<10}{'design':<24}{'total cycles':>14}{'total area':>12}  feasible"
    print(header)
    print("-" * len(header))
    beaten = []
    for dataflow in DATAFLOWS:
        uniform = uniform_info(dataflow)
        start = time.perf_counter()
        searches = [(f"best of {samples} random", agents.train(ENV_ID, "random", samples, seed,
                                                               env_kwargs={"dataflow": dataflow},
                                                               score=SCORE)),
                    (f"ga, {samples} samples", agents.train(ENV_ID, "ga", samples, seed,
                                                            env_kwargs={"dataflow": dataflow},
                                                            config=GA_CONFIG, score=SCORE))]
        rate = 2 * samples / (time.perf_counter() - start)
        rows = [(UNIFORM, uniform)] + [(name, run.best_info if np.isfinite(run.best_score) else None)
                                       for name, run in searches]
        for name, info in rows:
            if info is None:
                print(f"{dataflow:<10}{name:<24}{'(no feasible design)':>26}")
                continue
            feasible = "yes" if "reason" not in info else "no"
            print(f"{dataflow:<10}{name:<24}{format_figure(info['total_cycles']):>14}"
                  f"{format_figure(info['total_area']):>12}  {feasible}")
        print(f"{'':<10}(area budget {format_figure(uniform['budget'])}; {rate:,.0f} designs/s)")
        ga = rows[-1][1]
        if ga is not None and ga["total_cycles"] < uniform["total_cycles"]:
            beaten.append(dataflow)
    print()
    print(AREA_NOTE)
    print()
    if beaten:
        print(f"The GA beat the uniform design on {', '.join(beaten)} after {samples} samples.")
    if len(beaten) < len(DATAFLOWS):
        print(f"Where the uniform design wins, it is a strong hand-made baseline: 64 PEs on every\n"
              f"layer spends almost the whole area budget, evenly (compare its total area with the\n"
              f"budget), while random per-layer choices over 52 layers rarely do, and a search\n"
              f"needs more than {samples} samples to find better.  Give it more with\n"
              f"--samples, or train ConfuciuX's RL+GA search (needs the agents extra):\n"
              f"  archgym train {ENV_ID} --agent reinforce_ga --budget 1000 --score {SCORE}")
    return 0


def demo_command(argv: list[str]) -> int:
    """``archgym demo ARGV``."""
    p = argparse.ArgumentParser(prog="archgym demo", formatter_class=HelpFormatter,
                                description=__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, default=300,
                   help="designs the random search and the GA each evaluate per dataflow")
    p.add_argument("--seed", type=int, default=0, help="seed of both searches")
    args = p.parse_args(argv)
    if args.samples < 1:
        p.error("--samples must be at least 1")
    return demo(args.samples, args.seed)
