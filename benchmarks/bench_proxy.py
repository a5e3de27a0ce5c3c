#!/usr/bin/env python
"""Proxy models (agents.proxy): error on held-out designs and search speed-up over the real core.

    python benchmarks/bench_proxy.py [--quick] [--out DIR] [--seed S]

For HWResource-v0 (``reward_mode="plain"``: the return is -total cycles / reference
for a feasible design) and SparseFormat-v0 (the return is the speed-up over CSR +
Gustavson; 14 workloads):

1. dataset: random designs recorded with ``agents.collect.collect`` (HWResource
   through its batch API) into a temporary folder under --out;
2. proxy: ``agents.proxy.fit`` (HistGradientBoostingRegressor; of the log of the
   speed-up for SparseFormat, whose speed-ups span orders of magnitude), 20% of the
   episodes held out: RMSE of the predicted return, RMSE relative to the mean
   |return| (ArchGym reports 0.61% for its DRAM proxy) and mean relative error;
3. search, the same number of designs both ways:
   * HWResource: random search of 50,000 designs (2,000 with --quick) on the proxy
     (one batched predict) plus the 10 best validated on the real env, against
     random search of as many designs on the real core (its batch API, 256 copies);
   * SparseFormat: for each workload, the proxy scores all 729 actions and the 3
     best are validated, against all 729 actions played on the real env (the exact
     optimum).
   Speed-up = real search time / (proxy search + validation time); end to end it
   also charges the proxy the dataset and the training.  Quality: the best design
   each way, validated on the real core.

Prints a table and writes ``bench_proxy.csv``.  Runs single-threaded (OMP_NUM_THREADS=1).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before scikit-learn's OpenMP starts

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402
from _common import OUT, machine_info, write_csv  # noqa: E402  (benchmarks/_common.py)

import archgym  # noqa: E402, F401  (registers the ids)
from agents import collect  # noqa: E402
from agents import proxy as P  # noqa: E402

HW_KWARGS = {"reward_mode": "plain"}


def real_random_search(env_id: str, kwargs: dict, count: int, seed: int, num_envs: int = 256):
    """Random search of ``count`` designs on the real core's batch API: (best return, its design)."""
    env = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs)
    rng = np.random.default_rng(seed)
    nvec = env.single_action_space.nvec
    env.reset(seed=seed)
    returns, plays = np.zeros(num_envs), [[] for _ in range(num_envs)]
    fresh = np.zeros(num_envs, dtype=bool)
    best, best_design, done = -np.inf, None, 0
    while done < count:
        actions = rng.integers(0, nvec, size=(num_envs, len(nvec)))
        _, reward, terminated, truncated, _ = env.step(actions)
        for i in np.flatnonzero(~fresh):
            returns[i] += reward[i]
            plays[i].append(actions[i])
        ended = (terminated | truncated) & ~fresh
        for i in np.flatnonzero(ended):
            done += 1
            if returns[i] > best and done <= count:
                best, best_design = returns[i], np.array(plays[i])
            returns[i], plays[i] = 0.0, []
        fresh = ended
    env.close()
    return best, best_design


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def hwresource(root: Path, episodes: int, designs: int, seed: int) -> dict:
    env_id = "HWResource-v0"
    _, t_collect = timed(collect.collect, env_id, episodes, "random", dataset_id="hw/random-v0", root=root,
                         seed=seed, env_kwargs=HW_KWARGS, num_envs=256)
    (proxy, errors), t_fit = timed(P.fit, collect.load("hw/random-v0", root), seed=seed)
    (found, predicted), t_search = timed(proxy.search, designs, 10, np.random.default_rng([seed, 5]))
    checked, t_validate = timed(proxy.validate, found)
    best_proxy = max(checked, key=lambda r: r[0])
    (best_real, real_design), t_real = timed(real_random_search, env_id, HW_KWARGS, designs, seed)
    real_return, real_info = proxy.play(real_design)
    assert real_return == best_real
    return {"env": env_id, "episodes": episodes, "designs_searched": designs, **errors,
            "collect_s": t_collect, "fit_s": t_fit, "proxy_search_s": t_search + t_validate,
            "real_search_s": t_real,
            "speedup_search": t_real / (t_search + t_validate),
            "speedup_end_to_end": t_real / (t_collect + t_fit + t_search + t_validate),
            "best_proxy_validated": best_proxy[0], "best_real": best_real,
            "best_proxy_total_cycles": best_proxy[1].get("total_cycles"),
            "best_real_total_cycles": real_info.get("total_cycles")}


def sparse(root: Path, episodes: int, seed: int) -> dict:
    env_id = "SparseFormat-v0"
    _, t_collect = timed(collect.collect, env_id, episodes, "random", dataset_id="sparse/random-v0",
                         root=root, seed=seed)
    (proxy, errors), t_fit = timed(P.fit, collect.load("sparse/random-v0", root), seed=seed, log_target=True)
    every = np.array(np.unravel_index(np.arange(int(np.prod(proxy.choices))), proxy.choices)).T[:, None, :]
    t_proxy = t_real = 0.0
    found, optimum = [], []
    env = gym.make(env_id)
    for s in range(len(proxy.starts)):
        start = time.perf_counter()
        predicted = proxy.predict(np.repeat(proxy.starts[s][None], len(every), axis=0), every)
        top = every[np.argsort(-predicted, kind="stable")[:3]]
        found.append(max(proxy.play(d, s, env)[0] for d in top))
        t_proxy += time.perf_counter() - start
        start = time.perf_counter()
        optimum.append(max(proxy.play(d, s, env)[0] for d in every))
        t_real += time.perf_counter() - start
    env.close()
    found, optimum = np.array(found), np.array(optimum)
    return {"env": env_id, "episodes": episodes, "designs_searched": len(every) * len(proxy.starts), **errors,
            "collect_s": t_collect, "fit_s": t_fit, "proxy_search_s": t_proxy, "real_search_s": t_real,
            "speedup_search": t_real / t_proxy, "speedup_end_to_end": t_real / (t_collect + t_fit + t_proxy),
            "best_proxy_validated": float(found.mean()), "best_real": float(optimum.mean()),
            "workloads_at_optimum": int(np.sum(found == optimum)), "workloads": len(optimum)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small datasets and searches (under a minute)")
    ap.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    ap.add_argument("--out", type=Path, default=OUT, help=f"output folder (default {OUT})")
    args = ap.parse_args(argv)
    hw_episodes, hw_designs, sp_episodes = (500, 2000, 300) if args.quick else (5000, 50000, 3000)
    args.out.mkdir(parents=True, exist_ok=True)
    print(machine_info())
    with tempfile.TemporaryDirectory(dir=args.out) as root:
        rows = [hwresource(Path(root), hw_episodes, hw_designs, args.seed),
                sparse(Path(root), sp_episodes, args.seed)]
    for r in rows:
        print(f"\n{r['env']}: dataset {r['episodes']} random episodes ({r['collect_s']:.1f} s), "
              f"proxy trained in {r['fit_s']:.1f} s")
        print(f"  held-out error ({r['held_out']} designs): RMSE {r['rmse']:.4g} "
              f"({r['nrmse_percent']:.2f}% of mean |return|), mean relative error "
              f"{r['mean_relative_error_percent']:.2f}%")
        print(f"  search over {r['designs_searched']:,} designs: proxy {r['proxy_search_s']:.2f} s "
              f"(validation included), real core {r['real_search_s']:.2f} s: speed-up "
              f"{r['speedup_search']:.1f}x ({r['speedup_end_to_end']:.2f}x with dataset and training)")
        if r["env"] == "HWResource-v0":
            print(f"  best validated design: proxy return {r['best_proxy_validated']:.5f} "
                  f"({r['best_proxy_total_cycles']:,} cycles), real search {r['best_real']:.5f} "
                  f"({r['best_real_total_cycles']:,} cycles)")
        else:
            print(f"  mean best speed-up over the workloads: proxy top-3 validated "
                  f"{r['best_proxy_validated']:.4f}, exact optimum {r['best_real']:.4f}; "
                  f"{r['workloads_at_optimum']} of {r['workloads']} workloads at the optimum")
    path = write_csv(args.out / "bench_proxy.csv", rows, fields=sorted({k for r in rows for k in r}))
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
