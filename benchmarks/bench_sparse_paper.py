#!/usr/bin/env python
"""The SparseFormat paper's claims on archgym's sparse core, and SparseFormat env speed.

    python benchmarks/bench_sparse_paper.py [--quick] [--out DIR] [--no-plot]

Qin et al., "Extending Sparse Tensor Accelerators to Support Multiple Compression
Formats" (IPDPS 2021) claim that (1) a hardware format-conversion unit gives about 4x
over converting in software and (2) fixed-format accelerators lose against choosing the
formats per workload.  Over the whole workload suite of ``archgym.envs.sparse_format``
(every spec in ``SUITES``, available matrices only), with the exhaustive oracle table of
all 729 actions per workload:

(a) hardware vs software conversion, for three storage scenarios (where the operands
    sit before the accelerator runs): the workload's own storage (A in CSR, dense B
    dense, sparse B CSR), "coo" (A, and a sparse B, in COO, as MatrixMarket files
    and most producers hand them over) and "dense" (both dense, as a DNN framework
    holds pruned weights).  Per workload: ``unit_speedup`` = fewest cycles with
    conversion in {none, software} (a design without a conversion unit) / fewest
    with {none, hardware}; ``same_plan_speedup``: the formats and dataflow that are
    best with the unit, run with software and with hardware conversion (cycles_sw /
    cycles_hw), the paper's per-plan comparison; ``all_plans_geomean_speedup``: the
    same ratio over every plan that converts something, and
    ``conversion_only_geomean_speedup`` the ratio of the conversion cycles alone.
    Geomeans over workloads.
(a') the paper's comparison, on the plans that must convert (conversion "none" is
    illegal: a stored format differs from the one computed on, or the dataflow cannot
    walk it): the same plan's cycles with conversion on the host (archgym's compiled
    converters, ``sw_conversion.json``) against the hardware unit (lanes and banks,
    docs/design/sparse.md §9), geomean per workload then over workloads, for the
    total cycles and for the conversion cycles alone; the same over the unit's width
    (``UNIT_LANES``, banks = 2 x lanes) with the break-even width and the unit's area;
    and SparseFormat-Network-v0, where every compressed layer output must be encoded:
    the best policy (dynamic programming over all 9^5 actions per layer) with
    conversion sites {none, software} against {none, hardware}.
(b) fixed-format accelerators: a design supporting only the format set F (A and B
    both in F; any dataflow) against the per-workload best over all 81 format pairs:
    loss = best_F / best_all (>= 1), for every one- and two-format design, with the
    geomean and the worst case over the suite.  Headline setting "offline": the
    operands are already stored in the formats computed on (converted once,
    offline, not charged; a conversion a dataflow still forces uses the unit) -- a
    fixed-format accelerator's data is kept in its format.  Also "runtime-<scenario>":
    from the scenario's storage, with every conversion charged as the env does.
(c) environment speed: SparseFormat-v0 and SparseFormat-Network-v0 episodes per
    second (gym.make, random actions pre-sampled), and the oracle's time per workload.

Writes ``bench_sparse_paper_conversion.csv``, ``bench_sparse_paper_must_convert.csv``,
``bench_sparse_paper_breakeven.csv``, ``bench_sparse_paper_network.csv``, ``bench_sparse_paper_fixed.csv``,
``bench_sparse_paper_speed.csv``, ``bench_sparse_paper.json`` (machine, summary) and,
if matplotlib is installed, ``bench_sparse_paper.png`` into ``--out`` (default
benchmarks/out/).
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

import _common  # benchmarks/_common.py
import gymnasium as gym

import archgym
from archgym import sparse
from archgym.envs import sparse_format as S
from archgym.sparse import matrices

#: Where the operands sit before the accelerator runs: the workload's own storage
#: (A CSR; B dense for SpMV/SpMM, CSR for SpGEMM), COO (a sparse operand as
#: MatrixMarket files and most producers hand it over) and dense (as a DNN framework
#: holds pruned weights: a dense tensor with zeros).
SCENARIOS = ("own", "coo", "dense")


def bootstrap_geomean_ci(x, n: int = 2000, seed: int = 0) -> tuple[float, float]:
    """95% percentile-bootstrap interval of the geomean, resampling the items (workloads)."""
    logs = np.log(np.asarray(x, dtype=np.float64))
    if not len(logs):
        return float("nan"), float("nan")
    means = np.random.default_rng(seed).choice(logs, size=(n, len(logs))).mean(axis=1)
    return float(np.exp(np.percentile(means, 2.5))), float(np.exp(np.percentile(means, 97.5)))


def geomean(x) -> float:
    x = np.asarray(x, dtype=np.float64)
    return float(np.exp(np.mean(np.log(x)))) if len(x) else float("nan")


def machine_info() -> dict:
    info = {**_common.machine_info(), "gymnasium": gym.__version__,
            "archgym": getattr(archgym, "__version__", "?")}
    return info


def suite_specs() -> list[str]:
    specs = []
    for suite in S.SUITES.values():
        for spec in suite:
            if spec not in specs and matrices.is_available(spec.split(":", 1)[1]):
                specs.append(spec)
    return specs


def stored_for(w: S.SparseWorkload, scenario: str) -> tuple[str, str]:
    if scenario == "own":
        return w.stored_a, w.stored_b
    if scenario == "dense":
        return "dense", "dense"
    return "coo", ("coo" if w.stored_b != "dense" else "dense")


# ------------------------------------------------------------ (a) conversion
def conversion_rows(specs, tables) -> list[dict]:
    rows = []
    for spec in specs:
        w = S.make_workload(spec)
        for scenario in SCENARIOS:
            t = tables[spec, scenario]
            cyc, conv = t["cycles"].astype(np.float64), t["conversion"]
            cyc = np.where(cyc < 0, np.inf, cyc)
            sw_mask, hw_mask = conv != "hardware", conv != "software"
            i_sw = int(np.flatnonzero(sw_mask)[np.argmin(cyc[sw_mask])])
            i_hw = int(np.flatnonzero(hw_mask)[np.argmin(cyc[hw_mask])])
            # The plan that is best with a unit, with software conversion instead.
            plan = t["action"][i_hw].copy()
            plan_hw = plan.copy()
            plan_hw[3] = S.CONVERSION_SITES.index("hardware")
            plan_sw = plan.copy()
            plan_sw[3] = S.CONVERSION_SITES.index("software")
            idx = {tuple(a): i for i, a in enumerate(t["action"].tolist())}
            c_plan_hw, c_plan_sw = cyc[idx[tuple(plan_hw)]], cyc[idx[tuple(plan_sw)]]
            sa, sb = stored_for(w, scenario)
            # Every plan (formats, dataflow) that converts: software vs hardware cycles.
            site = t["action"][:, 3]
            sw_i = np.flatnonzero(site == S.CONVERSION_SITES.index("software"))
            hw_i = sw_i + 1  # the same plan with conversion "hardware" is the next action
            assert np.all(t["action"][hw_i, :3] == t["action"][sw_i, :3])
            conv_sw = t["conversion_cycles"][sw_i]
            plans = (conv_sw > 0) & (cyc[sw_i] < np.inf) & (cyc[hw_i] < np.inf)
            all_plans = cyc[sw_i][plans] / cyc[hw_i][plans]
            conv_only = conv_sw[plans] / np.maximum(t["conversion_cycles"][hw_i][plans], 1)
            rows.append({
                "workload": spec, "scenario": scenario, "stored_a": sa, "stored_b": sb,
                "M": w.dims[0], "K": w.dims[1], "N": w.dims[2], "nnz_a": int(w.a.nnz), "nnz_b": int(w.b.nnz),
                "best_sw_cycles": int(cyc[i_sw]), "best_sw_action": "/".join(_names(t, i_sw)),
                "best_hw_cycles": int(cyc[i_hw]), "best_hw_action": "/".join(_names(t, i_hw)),
                "unit_speedup": cyc[i_sw] / cyc[i_hw],
                "plan_sw_cycles": int(c_plan_sw), "plan_hw_cycles": int(c_plan_hw),
                "plan_conversion_sw": int(t["conversion_cycles"][idx[tuple(plan_sw)]]),
                "plan_conversion_hw": int(t["conversion_cycles"][idx[tuple(plan_hw)]]),
                "same_plan_speedup": c_plan_sw / c_plan_hw,
                "converting_plans": int(plans.sum()),
                "all_plans_geomean_speedup": geomean(all_plans),
                "all_plans_median_speedup": float(np.median(all_plans)) if len(all_plans) else float("nan"),
                "conversion_only_geomean_speedup": geomean(conv_only),
                "baseline_cycles": int(cyc[idx[tuple(S.BASELINE_ACTION.tolist())]]),
                "oracle_cycles": int(cyc.min()), "oracle_action": "/".join(_names(t, int(np.argmin(cyc)))),
            })
    return rows


# ------------------------------------------------------------ (a') must-convert plans
#: Unit widths of the break-even curve (banks = 2 x lanes, as the default 16 / 32).
UNIT_LANES = (1, 2, 4, 8, 16, 32, 64)
NONE, SW, HW = (sparse.CONVERSION_SITES.index(s) for s in ("none", "software", "hardware"))


def unit(lanes: int) -> sparse.Accelerator:
    return sparse.Accelerator(conversion_lanes=lanes, conversion_banks=2 * lanes)


def must_convert(problem: sparse.Problem, acc: sparse.Accelerator, sa: str, sb: str) -> dict[str, np.ndarray]:
    """Cycles and conversion cycles, software and hardware, of every plan whose "none" is illegal."""
    g = problem.cost_grid(acc, sa, sb)
    plans = ~g["legal"][..., NONE] & g["legal"][..., SW] & g["legal"][..., HW]
    return {"sw": g["cycles"][..., SW][plans].astype(np.float64), "hw": g["cycles"][..., HW][plans].astype(np.float64),
            "conv_sw": g["conversion_cycles"][..., SW][plans].astype(np.float64),
            "conv_hw": g["conversion_cycles"][..., HW][plans].astype(np.float64)}


def must_convert_rows(specs) -> tuple[list[dict], list[dict]]:
    """Per workload and scenario at the default unit; and the break-even curve over UNIT_LANES."""
    rows, curve = [], []
    per_lanes = {lanes: {sc: [] for sc in SCENARIOS} for lanes in UNIT_LANES}
    for spec in specs:
        w = S.make_workload(spec)
        problem = w.problem(sparse.Precision())
        for scenario in SCENARIOS:
            sa, sb = stored_for(w, scenario)
            for lanes in UNIT_LANES:
                m = must_convert(problem, unit(lanes), sa, sb)
                if not len(m["sw"]):
                    continue
                per_lanes[lanes][scenario].append((geomean(m["sw"] / m["hw"]),
                                                   geomean(m["conv_sw"] / np.maximum(m["conv_hw"], 1))))
            m = must_convert(problem, sparse.Accelerator(), sa, sb)
            if not len(m["sw"]):
                continue
            ratio = m["sw"] / m["hw"]
            rows.append({"workload": spec, "scenario": scenario, "stored_a": sa, "stored_b": sb,
                         "plans": len(ratio), "geomean_speedup": geomean(ratio),
                         "median_speedup": float(np.median(ratio)), "min_speedup": float(ratio.min()),
                         "max_speedup": float(ratio.max()),
                         "conversion_only_geomean": geomean(m["conv_sw"] / np.maximum(m["conv_hw"], 1)),
                         "conversion_share_sw": float(np.median(m["conv_sw"] / m["sw"]))})
    for lanes in UNIT_LANES:
        area = sparse.conversion_unit_area(unit(lanes))["total_um2"]
        for scenario in SCENARIOS:
            vals = per_lanes[lanes][scenario]
            curve.append({"lanes": lanes, "banks": 2 * lanes, "scenario": scenario, "area_mm2": area / 1e6,
                          "workloads": len(vals), "geomean_speedup": geomean([v[0] for v in vals]),
                          "conversion_only_geomean": geomean([v[1] for v in vals])})
    return rows, curve


def break_even(curve: list[dict], scenario: str, key: str = "geomean_speedup", at: float = 1.0) -> int | None:
    """The narrowest unit whose geomean speed-up over software is >= ``at`` (None if none is)."""
    return next((r["lanes"] for r in curve if r["scenario"] == scenario and r[key] >= at), None)


def network_rows(networks=("mlp_digits_90", "mlp_digits_2of4", "mlp_digits_50")) -> list[dict]:
    """SparseFormat-Network-v0's best policy with a unit against without one (per network)."""
    out = []
    nf = len(S.FORMATS)
    site_of_flat = S.all_actions()[:, 3].repeat(nf)  # flat action = base action * 9 + output format
    out_of_flat = np.tile(np.arange(nf), len(S.all_actions()))
    for net in networks:
        _, best, table = S.network_oracle(net)
        res = {"network": net, "best_cycles": best}
        # "compressed": every layer writes its output in a format other than dense, so
        # each layer must encode it (the workload where conversion cannot be avoided).
        for outputs, allowed_out in (("", out_of_flat >= 0), ("compressed_", out_of_flat != S.FORMATS.index("dense"))):
            for name, banned in (("without_unit", HW), ("with_unit", SW)):
                keep = (site_of_flat != banned) & allowed_out
                to_go = np.zeros(nf)
                for cost in reversed(table["cost"]):
                    total = np.where(keep[None, :], cost + to_go[np.arange(cost.shape[1]) % nf][None, :], np.inf)
                    to_go = total.min(axis=1)
                res[f"{outputs}{name}_cycles"] = int(to_go[S.FORMATS.index("dense")])
            res[f"{outputs}unit_speedup"] = res[f"{outputs}without_unit_cycles"] / res[f"{outputs}with_unit_cycles"]
        out.append(res)
    return out


def _names(t, i) -> tuple[str, str, str, str]:
    return str(t["fmt_a"][i]), str(t["fmt_b"][i]), str(t["dataflow"][i]), str(t["conversion"][i])


# ------------------------------------------------------------ (b) fixed formats
def runtime_pair_costs(t) -> np.ndarray:
    """(9, 9) fewest cycles per (format of A, format of B) from an oracle table (any dataflow/site)."""
    cyc = np.where(t["cycles"] < 0, np.inf, t["cycles"].astype(np.float64))
    return cyc.reshape(len(S.FORMATS), len(S.FORMATS), -1).min(axis=2)


def offline_pair_costs(spec: str) -> np.ndarray:
    """(9, 9) fewest cycles per format pair with the operands already stored in it.

    The conversion to the design's formats is done once, offline, and not charged;
    a conversion the dataflow still forces (e.g. COO cannot be walked row-indexed)
    uses the hardware unit.  Any dataflow.
    """
    w = S.make_workload(spec)
    problem = w.problem(sparse.Precision())
    acc = sparse.Accelerator()
    out = np.full((len(S.FORMATS), len(S.FORMATS)), np.inf)
    sites = [sparse.CONVERSION_SITES.index("none"), sparse.CONVERSION_SITES.index("hardware")]
    for i, fa in enumerate(S.FORMATS):
        for j, fb in enumerate(S.FORMATS):
            g = problem.cost_grid(acc, fa, fb)
            cyc = np.where(g["legal"][i, j][:, sites], g["cycles"][i, j][:, sites], np.inf)
            out[i, j] = cyc.min()
    return out


def fixed_format_rows(specs, pair_costs: dict[str, np.ndarray]) -> list[dict]:
    """Every one- and two-format design: geomean and worst loss against the per-workload best."""
    designs = [(f,) for f in S.FORMATS] + list(itertools.combinations(S.FORMATS, 2))
    summary = []
    for d in designs:
        idx = [S.FORMATS.index(f) for f in d]
        losses = np.array([pair_costs[spec][np.ix_(idx, idx)].min() / pair_costs[spec].min() for spec in specs])
        worst = int(np.argmax(losses))
        summary.append({"design": "+".join(d), "formats": len(d), "geomean_loss": geomean(losses),
                        "worst_loss": float(losses[worst]), "worst_workload": specs[worst],
                        "wins": int(np.sum(losses == 1.0))})
    summary.sort(key=lambda r: (r["formats"], r["geomean_loss"]))
    return summary


# ------------------------------------------------------------ (c) speed
def time_episodes(env_id: str, episodes: int, repeats: int) -> dict:
    env = gym.make(env_id)
    env.reset(seed=0)
    env.action_space.seed(0)
    steps_per_episode = getattr(env.unwrapped, "num_layers", 1)
    actions = [[env.action_space.sample() for _ in range(steps_per_episode)] for _ in range(episodes)]
    for a in actions[:5]:  # warm the per-workload caches
        env.reset()
        for x in a:
            env.step(x)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for a in actions:
            env.reset()
            for x in a:
                env.step(x)
        times.append(time.perf_counter() - t0)
    med = float(np.median(times))
    return {"name": f"episodes/{env_id}", "n": episodes, "median_s": med, "p10_s": float(np.percentile(times, 10)),
            "p90_s": float(np.percentile(times, 90)), "per_item_us": med / episodes * 1e6,
            "items_per_s": episodes / med, "steps_per_s": episodes * steps_per_episode / med}


def time_oracles(specs) -> tuple[dict, dict]:
    tables, per = {}, []
    for spec in specs:
        w = S.make_workload(spec)
        for scenario in SCENARIOS:
            sa, sb = stored_for(w, scenario)
            t0 = time.perf_counter()
            _, _, tables[spec, scenario] = S.oracle(spec, stored_a=sa, stored_b=sb)
            per.append(time.perf_counter() - t0)
    med = float(np.median(per))
    return tables, {"name": "oracle/729 actions (first call, incl. core statistics)", "n": len(per),
                    "median_s": med, "p10_s": float(np.percentile(per, 10)), "p90_s": float(np.percentile(per, 90)),
                    "per_item_us": med / 729 * 1e6, "items_per_s": 729 / med, "steps_per_s": float("nan")}


# ------------------------------------------------------------------- output
def write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})


def plot(path: Path, curve: list[dict], fixed_summary: list[dict]) -> bool:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, axes = plt.subplots(1, 2, figsize=(16, 7), gridspec_kw={"width_ratios": [3, 2]})
    ax = axes[0]
    for scenario in SCENARIOS:
        rs = [r for r in curve if r["scenario"] == scenario]
        lanes = [r["lanes"] for r in rs]
        line, = ax.plot(lanes, [r["geomean_speedup"] for r in rs], marker="o", label=f"{scenario} storage: total cycles")
        ax.plot(lanes, [r["conversion_only_geomean"] for r in rs], marker="x", ls=":", color=line.get_color(),
                label=f"{scenario} storage: conversion cycles alone")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.axhline(4.0, color="k", ls="--", lw=1, label="paper: ~4x")
    ax.axhline(1.0, color="grey", lw=0.8, label="break-even")
    ax.set_xlabel("conversion unit lanes (banks = 2 x lanes)")
    ax.set_ylabel("software / hardware cycles, geomean over the plans that must convert")
    ax.set_title("(a) hardware vs software format conversion over the unit's width")
    ax.legend(fontsize=8)
    ax = axes[1]
    top = [r for r in fixed_summary if r["formats"] == 1] + \
          sorted([r for r in fixed_summary if r["formats"] == 2], key=lambda r: r["geomean_loss"])[:8]
    y = np.arange(len(top))
    ax.barh(y - 0.2, [r["geomean_loss"] for r in top], height=0.4, label="geomean loss")
    ax.barh(y + 0.2, [r["worst_loss"] for r in top], height=0.4, label="worst case")
    ax.set_yticks(y, [r["design"] for r in top], fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("cycles of the fixed-format design / per-workload best")
    ax.set_title("(b) fixed-format designs, operands stored in their formats\n(all 1-format, best 8 2-format)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer timing repeats")
    parser.add_argument("--out", type=Path, default=_common.OUT, help="output folder (default: %(default)s)")
    parser.add_argument("--no-plot", action="store_true")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    info = machine_info()
    specs = suite_specs()
    print(f"{len(specs)} workloads; machine: {info['cpu']}, {info['logical_cpus']} CPUs")

    t0 = time.perf_counter()
    tables, oracle_timing = time_oracles(specs)
    print(f"oracle tables: {time.perf_counter() - t0:.1f} s")

    conv = conversion_rows(specs, tables)
    write_csv(args.out / "bench_sparse_paper_conversion.csv", conv)
    print("\n(a) hardware vs software conversion (cycles_sw / cycles_hw)")
    print(f"{'workload':48} {'stored':>10} {'unit':>8} {'same plan':>10}  best plan with unit")
    for r in conv:
        print(f"{r['workload']:48} {r['stored_a'] + '/' + r['stored_b']:>10} {r['unit_speedup']:8.3f} "
              f"{r['same_plan_speedup']:10.3f}  {r['best_hw_action']}")
    summary = {"conversion": {}}
    fmt = lambda x: "n/a" if not np.isfinite(x) else f"{x:.3f}x"
    for scenario in SCENARIOS:
        rs = [r for r in conv if r["scenario"] == scenario]
        needing = [r for r in rs if r["plan_conversion_hw"] > 0]
        plans = [r for r in rs if r["converting_plans"] > 0]
        s = {"workloads": len(rs), "workloads_whose_best_plan_converts": len(needing),
             "geomean_unit_speedup": geomean([r["unit_speedup"] for r in rs]),
             "geomean_same_plan_speedup": geomean([r["same_plan_speedup"] for r in rs]),
             "geomean_same_plan_speedup_where_converting": geomean([r["same_plan_speedup"] for r in needing]),
             "max_same_plan_speedup": max(r["same_plan_speedup"] for r in rs),
             "geomean_all_converting_plans": geomean([r["all_plans_geomean_speedup"] for r in plans]),
             "geomean_conversion_only": geomean([r["conversion_only_geomean_speedup"] for r in plans])}
        summary["conversion"][scenario] = s
        print(f"  {scenario:>5} storage: with vs without a unit {fmt(s['geomean_unit_speedup'])}; best plan sw/hw "
              f"{fmt(s['geomean_same_plan_speedup'])} over all, {fmt(s['geomean_same_plan_speedup_where_converting'])} "
              f"over the {len(needing)} whose best plan converts (max {fmt(s['max_same_plan_speedup'])}); every "
              f"converting plan {fmt(s['geomean_all_converting_plans'])} (conversion time alone "
              f"{fmt(s['geomean_conversion_only'])})")

    must, curve = must_convert_rows(specs)
    write_csv(args.out / "bench_sparse_paper_must_convert.csv", must)
    write_csv(args.out / "bench_sparse_paper_breakeven.csv", curve)
    acc0 = sparse.Accelerator()
    print(f"\n(a') plans that must convert: software (archgym's converters) vs the unit "
          f"({int(acc0.conversion_lanes)} lanes, {int(acc0.conversion_banks)} banks, "
          f"{sparse.conversion_unit_area(acc0)['total_um2'] / 1e6:.3f} mm^2)")
    summary["must_convert"] = {}
    for scenario in SCENARIOS:
        rs = [r for r in must if r["scenario"] == scenario]
        s = {"workloads": len(rs), "plans": sum(r["plans"] for r in rs),
             "geomean_speedup": geomean([r["geomean_speedup"] for r in rs]),
             "ci95": bootstrap_geomean_ci([r["geomean_speedup"] for r in rs]),
             "conversion_only_ci95": bootstrap_geomean_ci([r["conversion_only_geomean"] for r in rs]),
             "min_workload": min((r["geomean_speedup"] for r in rs), default=float("nan")),
             "max_workload": max((r["geomean_speedup"] for r in rs), default=float("nan")),
             "conversion_only_geomean": geomean([r["conversion_only_geomean"] for r in rs]),
             "break_even_lanes": break_even(curve, scenario),
             "break_even_lanes_conversion_only": break_even(curve, scenario, "conversion_only_geomean"),
             "lanes_for_4x": break_even(curve, scenario, at=4.0),
             "lanes_for_4x_conversion_only": break_even(curve, scenario, "conversion_only_geomean", at=4.0),
             "by_suite": {name: geomean([r["geomean_speedup"] for r in rs if r["workload"] in suite])
                          for name, suite in S.SUITES.items()}}
        summary["must_convert"][scenario] = s
        print(f"  {scenario:>5} storage: {s['plans']} plans over {s['workloads']} workloads: sw/hw cycles "
              f"{fmt(s['geomean_speedup'])} geomean (95% CI over workloads {fmt(s['ci95'][0])}..{fmt(s['ci95'][1])}; "
              f"workloads {fmt(s['min_workload'])}..{fmt(s['max_workload'])}), conversion alone "
              f"{fmt(s['conversion_only_geomean'])} ({fmt(s['conversion_only_ci95'][0])}..{fmt(s['conversion_only_ci95'][1])}); break-even at {s['break_even_lanes']} lane(s) "
              f"({s['break_even_lanes_conversion_only']} for the conversion alone); the paper's ~4x needs "
              f"{s['lanes_for_4x']} lane(s) ({s['lanes_for_4x_conversion_only']} for the conversion alone); by suite "
              + ", ".join(f"{k} {fmt(v)}" for k, v in s["by_suite"].items()))
    print(f"  {'lanes':>5} {'area mm2':>9} " + " ".join(f"{sc + ' total':>11} {sc + ' conv':>11}" for sc in SCENARIOS))
    for lanes in UNIT_LANES:
        rs = {r["scenario"]: r for r in curve if r["lanes"] == lanes}
        print(f"  {lanes:>5} {rs['own']['area_mm2']:>9.3f} " + " ".join(
            f"{fmt(rs[sc]['geomean_speedup']):>11} {fmt(rs[sc]['conversion_only_geomean']):>11}" for sc in SCENARIOS))
    summary["break_even_curve"] = curve
    net = network_rows()
    write_csv(args.out / "bench_sparse_paper_network.csv", net)
    summary["network"] = net
    for r in net:
        print(f"  SparseFormat-Network-v0 {r['network']}: best policy without a unit {r['without_unit_cycles']:,} "
              f"cycles, with one {r['with_unit_cycles']:,}: {r['unit_speedup']:.3f}x; every output compressed: "
              f"{r['compressed_without_unit_cycles']:,} vs {r['compressed_with_unit_cycles']:,}: "
              f"{r['compressed_unit_speedup']:.3f}x")

    settings = {"offline": {spec: offline_pair_costs(spec) for spec in specs}}
    for sc in SCENARIOS:
        settings[f"runtime-{sc}"] = {spec: runtime_pair_costs(tables[spec, sc]) for spec in specs}
    fixed_by = {name: fixed_format_rows(specs, costs) for name, costs in settings.items()}
    write_csv(args.out / "bench_sparse_paper_fixed.csv",
              [dict(setting=name, **r) for name, rows in fixed_by.items() for r in rows])
    fixed = fixed_by["offline"]
    print("\n(b) fixed-format designs vs per-workload best formats (operands stored offline in the design's formats)")
    print(f"{'design':16} {'geomean loss':>12} {'worst':>10}  worst workload                              wins")
    for r in [x for x in fixed if x["formats"] == 1] + [x for x in fixed if x["formats"] == 2][:6]:
        print(f"{r['design']:16} {r['geomean_loss']:12.3f} {r['worst_loss']:10.3f}  {r['worst_workload']:42} {r['wins']}")
    summary["fixed"] = {}
    for name, rows in fixed_by.items():
        b1 = min((r for r in rows if r["formats"] == 1), key=lambda r: r["geomean_loss"])
        b2 = min((r for r in rows if r["formats"] == 2), key=lambda r: r["geomean_loss"])
        summary["fixed"][name] = {"best_one_format": b1, "best_two_formats": b2}
        print(f"  {name:>15}: best 1-format {b1['design']} loses {b1['geomean_loss']:.3f}x geomean, "
              f"{b1['worst_loss']:.3f}x worst ({b1['worst_workload']}); best 2-format {b2['design']} "
              f"{b2['geomean_loss']:.3f}x geomean, {b2['worst_loss']:.3f}x worst ({b2['worst_workload']})")
    oracle_formats = sorted({(r["oracle_action"].split("/")[0], r["oracle_action"].split("/")[1]) for r in conv})
    summary["oracle_format_pairs"] = ["/".join(p) for p in oracle_formats]

    print("\n(c) speed")
    episodes = 200 if args.quick else 1000
    repeats = 3 if args.quick else 7
    speed = [time_episodes("SparseFormat-v0", episodes, repeats),
             time_episodes("SparseFormat-Network-v0", episodes // 4, repeats), oracle_timing]
    for r in speed:
        print(f"  {r['name']:55} {r['per_item_us']:10.1f} us/item  {r['items_per_s']:10.1f} items/s  "
              f"{r['steps_per_s']:10.1f} steps/s")
    write_csv(args.out / "bench_sparse_paper_speed.csv", speed)
    summary["speed"] = speed
    info["loadavg_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    (args.out / "bench_sparse_paper.json").write_text(json.dumps(
        {"machine": info, "workloads": specs, "summary": summary}, indent=2, default=float))
    if not args.no_plot and plot(args.out / "bench_sparse_paper.png", curve, fixed):
        print(f"\nwrote {args.out / 'bench_sparse_paper.png'}")
    print(f"wrote {args.out}/bench_sparse_paper_*.csv and bench_sparse_paper.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
