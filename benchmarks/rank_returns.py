#!/usr/bin/env python
"""Does the episode return rank designs the way their objective does?  Spearman per mission id.

    python benchmarks/rank_returns.py            # every registered id, 200 random feasible designs each
    python benchmarks/rank_returns.py --quick    # one id per family, 20 designs (smoke run)
        [--designs N] [--ids ID ...] [--seed S] [--out DIR]

For each id, random designs are played (the action space sampled, seeded, on
episodes that all start from the same reset seed, so every design meets the
same workload, traffic or budget); those whose final ``info["feasible"]`` is
True are kept, up to ``--designs`` of them (at most 20 times as many are
drawn).  The score is Spearman's rank correlation between the episode return
and the objective turned into a "higher is better" figure (``objective``, or
``-objective`` when ``objective_sense`` is "min"): 1.0 means the return orders
the designs exactly as their objective does.

"before" replays the same designs on the id as it behaved before issue 14: the
HWResource ids then defaulted to ConfuciuX's shaped reward
(``reward_mode="confuciux"``, now the id HWResource-ConfuciuX-v0); every other
id's return is unchanged, so its two columns agree.

Writes ``rank_returns.csv`` (one row per id) to --out (default benchmarks/out/).
"""

from __future__ import annotations

import argparse
import math
import time

import gymnasium as gym
import numpy as np
from scipy.stats import spearmanr

from _common import OUT, write_csv  # benchmarks/_common.py

import archgym  # noqa: F401  (registers the ids)

#: The keyword arguments that give an id its behaviour from before issue 14.
BEFORE = {"HWResource": {"reward_mode": "confuciux"}}
QUICK_IDS = ("HWResource-v0", "NoCRouting-v0", "SparseFormat-v0", "SparseFormat-Network-v0", "Quant-v0",
             "Quant-OneShot-v0", "NAS-v0", "NAS-Sequential-v0")
RESET_SEED = 0


def mission_ids() -> list[str]:
    """Every registered archgym id."""
    return sorted(i for i, spec in gym.registry.items()
                  if isinstance(spec.entry_point, str) and spec.entry_point.startswith("archgym."))


def play(env: gym.Env, actions=None, rng_seed: int = 0):
    """One episode from RESET_SEED: (actions, return, final info); random actions unless given."""
    env.reset(seed=RESET_SEED)
    env.action_space.seed(rng_seed)
    played, total, t = [], 0.0, 0
    while True:
        a = env.action_space.sample() if actions is None else actions[t]
        _, reward, terminated, truncated, info = env.step(a)
        played.append(a)
        total += reward
        t += 1
        if terminated or truncated:
            return played, total, info


def higher_is_better(info: dict) -> float:
    return info["objective"] if info["objective_sense"] == "max" else -info["objective"]


def rho(returns, figures) -> float:
    if len(returns) < 3 or np.ptp(returns) == 0 or np.ptp(figures) == 0:
        return math.nan
    return float(spearmanr(returns, figures).statistic)


def measure(env_id: str, designs: int, seed: int) -> dict:
    start = time.perf_counter()
    after = gym.make(env_id)
    kept, tried = [], 0
    while len(kept) < designs and tried < 20 * designs:
        actions, ret, info = play(after, rng_seed=seed + tried)
        tried += 1
        if info["feasible"]:
            kept.append((actions, ret, higher_is_better(info)))
    figures = [f for _, _, f in kept]
    row = {"id": env_id, "feasible": len(kept), "tried": tried,
           "after": rho([r for _, r, _ in kept], figures)}
    before_kwargs = BEFORE.get(env_id.split("-")[0], {})
    if before_kwargs and (after.spec.kwargs or {}).get("reward_mode") != "confuciux":
        before = gym.make(env_id, **before_kwargs)
        row["before"] = rho([play(before, actions)[1] for actions, _, _ in kept], figures)
    else:
        row["before"] = row["after"]
    row["seconds"] = round(time.perf_counter() - start, 2)
    return row


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="one id per family, 20 designs")
    ap.add_argument("--designs", type=int, default=None, help="feasible designs per id (default 200; 20 with --quick)")
    ap.add_argument("--ids", nargs="+", default=None, help="these ids only (default: every registered one)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the first design's actions")
    ap.add_argument("--out", default=str(OUT), help="folder for rank_returns.csv")
    args = ap.parse_args(argv)
    designs = args.designs or (20 if args.quick else 200)
    ids = args.ids or (list(QUICK_IDS) if args.quick else mission_ids())
    rows = []
    print(f"{'id':32} {'feasible/tried':>15} {'before':>8} {'after':>8}  (Spearman(return, objective))")
    for env_id in ids:
        row = measure(env_id, designs, args.seed)
        rows.append(row)
        print(f"{env_id:32} {row['feasible']:>7}/{row['tried']:<7} {row['before']:>8.3f} {row['after']:>8.3f}"
              f"  {row['seconds']:.1f} s", flush=True)
    from pathlib import Path

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"wrote {write_csv(out / 'rank_returns.csv', rows, ['id', 'feasible', 'tried', 'before', 'after', 'seconds'])}")


if __name__ == "__main__":
    main()
