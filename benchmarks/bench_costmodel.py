#!/usr/bin/env python
"""Speed of archgym's MAESTRO-style cost model and of the HWResource environments.

    python benchmarks/bench_costmodel.py [--quick] [--out DIR]

Measures (see benchmarks/README.md):

1. one ``costmodel.evaluate`` call (one layer, Python API) at the five points
   of tests/data/reference/maestro/timing.txt, against the real MAESTRO run the
   ConfuciuX way (one process per layer + CSV parse);
2. ``evaluate_batch`` over whole action grids in one call (MobileNet-V2
   52 layers x 144 actions; ResNet-50 all layers x 144 actions x 3 dataflows);
3. one full MobileNet-V2 evaluation (52 rows, P=64, B=4, dla) in one call;
4. HWResource-v0 episodes per second (gym.make, and gym.make_vec with the
   vector entry point, 16 and 64 environments), random actions pre-sampled.

Writes ``bench_costmodel.csv`` (one row per measurement), ``bench_costmodel.json``
(machine, MAESTRO reference, results) and, if matplotlib is installed,
``bench_costmodel.png`` into ``--out`` (default benchmarks/out/).

Times are medians over repeats (the machine may be shared and noisy);
``ratio_vs_maestro`` = MAESTRO's time per item / ours (a speed-up: > 1 is faster).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import gc
import json
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import _common  # benchmarks/_common.py
import gymnasium as gym

import archgym
from archgym import costmodel as cm
from archgym import workloads

DEFAULT_TIMING = _common.REFERENCE / "maestro" / "timing.txt"

#: The single-layer points of timing.txt: ResNet-50 layer 2 (K64 C64 Y56 X56 R3 S3).
RESNET50_L2 = (64, 64, 56, 56, 3, 3)
SINGLE_POINTS = (("dla", 64, 4), ("shi", 64, 4), ("eye", 64, 4), ("dla", 1, 1), ("eye", 128, 12))
#: ConfuciuX's action levels.
PE_LEVELS = np.array([1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128], dtype=np.int64)
TILE_LEVELS = np.arange(1, 13, dtype=np.int64)
#: The full MobileNet-V2 runs of timing.txt: (dataflow, fixed P=64,B=4 or random P,B).
FULL_RUNS = tuple((df, kind) for df in ("dla", "shi", "eye") for kind in ("fixed", "random"))

GOAL_BATCH_SPEEDUP = 10_000  # per evaluation, batched, vs one MAESTRO call
GOAL_EPISODES_PER_S = 500  # HWResource-v0 through gym.make


# ------------------------------------------------------------------ reference
@dataclass
class MaestroReference:
    source: str
    single_ms: dict  # (df, P, B) -> ConfuciuX-style median ms per call
    bare_ms: dict  # (df, P, B) -> bare process median ms
    full_s: dict  # (df, "fixed"|"random") -> full MobileNet-V2 median s
    total_runtime: dict  # df -> sum of MobileNet-V2 runtimes at P=64, B=4

    @property
    def per_call_s(self) -> float:
        """The headline per-MAESTRO-call time: dla P=64 B=4 (timing.txt's ~16 ms)."""
        return self.single_ms[("dla", 64, 4)] / 1e3


_SINGLE_RE = re.compile(
    r"Per-invocation, layer \S+ K\d+ C\d+ Y\d+ X\d+ R\d+ S\d+, df=(\w+) P=(\d+) B=(\d+), N=\d+: "
    r"ConfuciuX-style[^:]*median ([\d.]+) ms.*?bare process only[^:]*median ([\d.]+) ms")
_FULL_RE = re.compile(r"Full MobileNet-V2 \(52 layers[^)]*\), df=(\w+), (fixed|random)[^:]*: "
                      r"median ([\d.]+) s")
_TOTAL_RE = re.compile(r"df=(\w+): median [\d.]+ s[^\n]*?total reward -(\d+)")


def load_reference(path: Path) -> MaestroReference:
    """Parse timing.txt; ValueError naming what it lacks."""
    text = path.read_text()
    single, bare = {}, {}
    for df, p, b, ms, bare_ms in _SINGLE_RE.findall(text):
        single[(df, int(p), int(b))] = float(ms)
        bare[(df, int(p), int(b))] = float(bare_ms)
    full = {(df, kind): float(s) for df, kind, s in _FULL_RE.findall(text)}
    totals = {df: int(v) for df, v in _TOTAL_RE.findall(text)}
    missing = ([k for k in SINGLE_POINTS if k not in single] + [k for k in FULL_RUNS if k not in full]
               + [df for df in ("dla", "shi", "eye") if df not in totals])
    if missing:
        raise ValueError(f"{path} lacks these MAESTRO timings: {missing}")
    return MaestroReference(str(path), single, bare, full, totals)


# ------------------------------------------------------------------ machine
def machine_info() -> dict:
    info = {**_common.machine_info(), "gymnasium": gym.__version__,
            "archgym": getattr(archgym, "__version__", "?")}
    sim = Path(archgym._sim.__file__).resolve()
    info["sim_module"] = str(sim)
    cache = sim.parent / "CMakeCache.txt"
    if cache.is_file():  # a development build: record its flags
        entries = dict(re.findall(r"^(CMAKE_BUILD_TYPE|CMAKE_CXX_FLAGS(?:_\w+)?):\w+=(.*)$",
                                  cache.read_text(), re.MULTILINE))
        btype = entries.get("CMAKE_BUILD_TYPE", "")
        info["build"] = f"{btype or 'default'}: " + " ".join(
            f for f in (entries.get("CMAKE_CXX_FLAGS", ""),
                        entries.get(f"CMAKE_CXX_FLAGS_{btype.upper()}", "")) if f).strip()
    return info


# ------------------------------------------------------------------ timing
@contextlib.contextmanager
def no_gc():
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass
class Result:
    name: str
    description: str
    n: int  # items per timed unit (rows, or episodes)
    unit: str  # what an item is
    samples: np.ndarray  # seconds per timed unit, one per repeat
    maestro_s: float | None = None  # MAESTRO seconds per item
    maestro_what: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def median_s(self) -> float:
        return float(np.median(self.samples))

    @property
    def p10_s(self) -> float:
        return float(np.percentile(self.samples, 10))

    @property
    def p90_s(self) -> float:
        return float(np.percentile(self.samples, 90))

    @property
    def per_item_s(self) -> float:
        return self.median_s / self.n

    @property
    def ratio(self) -> float | None:
        return None if self.maestro_s is None else self.maestro_s / self.per_item_s

    def record(self) -> dict:
        """The measurement with numbers as numbers (for the JSON sidecar)."""
        return {"name": self.name, "n": self.n, "median_s": self.median_s, "p10_s": self.p10_s,
                "p90_s": self.p90_s, "per_item_us": self.per_item_s * 1e6,
                "ratio_vs_maestro": self.ratio, "repeats": len(self.samples), "unit": self.unit,
                "items_per_s": 1.0 / self.per_item_s, "maestro_s_per_item": self.maestro_s,
                "maestro_ref": self.maestro_what, "description": self.description, **self.extra}

    def row(self) -> dict:
        """The CSV row (6 significant digits)."""
        return {"name": self.name, "n": self.n, "median_s": f"{self.median_s:.6g}",
                "p10_s": f"{self.p10_s:.6g}", "p90_s": f"{self.p90_s:.6g}",
                "per_item_us": f"{self.per_item_s * 1e6:.6g}",
                "ratio_vs_maestro": "" if self.ratio is None else f"{self.ratio:.6g}",
                "repeats": len(self.samples), "unit": self.unit,
                "items_per_s": f"{1.0 / self.per_item_s:.6g}",
                "maestro_s_per_item": "" if self.maestro_s is None else f"{self.maestro_s:.6g}",
                "maestro_ref": self.maestro_what, "description": self.description}


def time_calls(fn, repeats: int, warmup: int = 3) -> np.ndarray:
    """Seconds of each of `repeats` calls of fn() (gc off, after warm-up)."""
    for _ in range(warmup):
        fn()
    out = np.empty(repeats)
    clock = time.perf_counter_ns
    with no_gc():
        for i in range(repeats):
            t0 = clock()
            fn()
            out[i] = clock() - t0
    return out * 1e-9


# ------------------------------------------------------------------ inputs
def grid(workload: str, dataflows: tuple[str, ...]):
    """evaluate_batch inputs for every (layer, PE level, tile level, dataflow).

    Depthwise layers (T = 2) use dpt whatever the dataflow, as ConfuciuX does;
    Y, X are the table's input sizes (stride 1, no padding, as ConfuciuX).
    """
    w = workloads.load(workload)
    K, C, Y, X, R, S, T = w.layers.T
    named = {"type": np.where(T == 2, cm.LAYER_TYPES.index("DSCONV"), cm.LAYER_TYPES.index("CONV")),
             "K": K, "C": C, "R": R, "S": S, "Y": Y, "X": X}
    rows = np.stack([named[f] if f in named else np.full_like(K, cm.LAYER_DEFAULTS[f])
                     for f in cm.LAYER_FIELDS], axis=1)
    L, D = len(rows), len(dataflows)
    li, pi, ti, di = (a.ravel() for a in np.meshgrid(np.arange(L), np.arange(12), np.arange(12),
                                                      np.arange(D), indexing="ij"))
    n = li.size
    hw = np.tile(np.array(cm.Hardware().row(), dtype=np.int64), (n, 1))
    hw[:, 0] = PE_LEVELS[pi]
    df_index = np.where(T[li] == 2, D, di).astype(np.int32)
    dfs = [cm.DATAFLOWS[d] for d in dataflows] + [cm.DATAFLOWS["dpt"]]
    consts = {"KTileSz": TILE_LEVELS[ti], "ClusterSz": PE_LEVELS[pi], "CTileSz": 1}
    kwargs = {"layers": np.ascontiguousarray(rows[li]), "dataflows": dfs, "hardware": hw,
              "constants": consts, "df_index": df_index}
    return kwargs, L, int(np.count_nonzero(T == 2))


# ------------------------------------------------------------------ benchmarks
def bench_single(ref: MaestroReference, calls: int) -> list[Result]:
    layer = cm.Layer(*RESNET50_L2)
    out = []
    for df, p, b in SINGLE_POINTS:
        dataflow, hw, consts = cm.DATAFLOWS[df], cm.Hardware(num_pes=p), cm.confuciux_constants(p, b)
        samples = time_calls(lambda d=dataflow, h=hw, c=consts: cm.evaluate(layer, d, h, constants=c),
                             calls, 20)
        out.append(Result(f"single/evaluate/{df}_P{p}_B{b}",
                          f"costmodel.evaluate, ResNet-50 layer 2, {df} P={p} B={b}", 1, "eval",
                          samples, ref.single_ms[(df, p, b)] / 1e3,
                          f"timing.txt ConfuciuX-style median {df} P={p} B={b}",
                          {"runtime": cm.evaluate(layer, dataflow, hw, constants=consts)["runtime"],
                           "maestro_bare_process_s": ref.bare_ms[(df, p, b)] / 1e3}))
    # The same row prepared once (how much of a call is the conversion of the inputs).
    df, p, b = SINGLE_POINTS[0]
    evaluator, inputs = prepared_rows([layer], df, p, b)
    samples = time_calls(lambda: evaluator.run(inputs), calls, 20)
    out.append(Result(f"single/core_1row/{df}_P{p}_B{b}",
                      "costmodel.BatchEvaluator.run, 1 prepared row (no input conversion)", 1,
                      "eval", samples, ref.single_ms[(df, p, b)] / 1e3,
                      f"timing.txt ConfuciuX-style median {df} P={p} B={b}"))
    return out


def prepared_rows(layers, df, p, b):
    """A BatchEvaluator of dataflow df and its inputs for these layers at P = p, B = b."""
    evaluator = cm.BatchEvaluator(cm.DATAFLOWS[df])
    fields = [lay.fields() for lay in layers]
    columns = {name: np.array([f[name] for f in fields]) for name in cm.LAYER_FIELDS}
    return evaluator, evaluator.prepare(columns, cm.Hardware(num_pes=p),
                                        cm.confuciux_constants(pes=p, tile=b))


def bench_batches(ref: MaestroReference, reps_small: int, reps_large: int) -> list[Result]:
    """Whole action grids in one call, on one thread and on every core (threads=0)."""
    out = []
    per_call = ref.per_call_s
    what = "timing.txt ConfuciuX-style median dla P=64 B=4 (per MAESTRO call)"
    cores = os.cpu_count() or 1
    grids = [("mobilenet_v2", ("dla",), reps_small), ("resnet50", ("dla", "shi", "eye"), reps_large)]
    for workload, dataflows, reps in grids:
        kw, L, ndw = grid(workload, dataflows)
        n = len(kw["df_index"])
        for threads, label in ((1, "1 thread"), (0, f"all {cores} cores")):
            samples = time_calls(lambda: cm.evaluate_batch(**kw, threads=threads), reps)
            out.append(Result(f"batch/{workload}_grid_{'_'.join(dataflows)}_threads{threads}",
                              f"evaluate_batch, {workload} {L} layers x 144 actions x "
                              f"{'/'.join(dataflows)} ({ndw} depthwise -> dpt), one call, {label}",
                              n, "eval", samples, per_call, what))
    return out


def bench_full_mobilenet(ref: MaestroReference, reps: int) -> tuple[list[Result], dict]:
    w = workloads.load("mobilenet_v2")
    layers = [cm.Layer.from_row(r) for r in w.layers]
    df_index = np.array([lay.depthwise for lay in layers], dtype=np.int32)
    dfs = [cm.DATAFLOWS["dla"], cm.DATAFLOWS["dpt"]]
    consts = cm.confuciux_constants(64, 4)
    hw = cm.Hardware(num_pes=64)
    rows = np.array([lay.row() for lay in layers], dtype=np.int64)

    def run():
        return cm.evaluate_batch(rows, dfs, hw, consts, df_index=df_index)

    samples = time_calls(run, reps)
    total = int(run()["runtime"].sum())
    expected = ref.total_runtime.get("dla")
    check = {"sum_runtime": total, "expected_sum_runtime": expected, "ok": total == expected}
    res = Result("full/mobilenet_v2_dla_P64_B4",
                 f"evaluate_batch, all {len(layers)} MobileNet-V2 layers, dla P=64 B=4 "
                 "(depthwise -> dpt), one call", 1, "network", samples,
                 ref.full_s[("dla", "fixed")],
                 "timing.txt full MobileNet-V2 dla fixed P=64,B=4 (52 MAESTRO processes)",
                 {"rows": len(layers), "sum_runtime": total})
    return [res], check


def _episodes(env, actions: np.ndarray) -> int:
    steps = 0
    for ep_actions in actions:
        env.reset()
        for a in ep_actions:
            _, _, terminated, truncated, _ = env.step(a)
            steps += 1
            if terminated or truncated:
                break
    return steps


def bench_episodes(ref: MaestroReference, reps: int, episodes: int, vec_cycles=(4, 2),
                   seed: int = 0) -> list[Result]:
    out = []
    rng = np.random.default_rng(seed)
    what = "timing.txt full MobileNet-V2 dla random P,B per layer (52 MAESTRO processes)"
    for label, make in (("gym.make", lambda: gym.make("HWResource-v0")),
                        ("unwrapped", lambda: gym.make("HWResource-v0").unwrapped)):
        env = make()
        env.reset(seed=seed)
        nvec = env.action_space.nvec
        L = env.unwrapped.setup.num_layers
        # Uniform MultiDiscrete actions, as action_space.sample(), drawn before timing.
        all_actions = rng.integers(0, nvec, size=(reps + 1, episodes, L, len(nvec)))
        _episodes(env, all_actions[0])  # warm-up
        samples, steps = np.empty(reps), 0
        for r in range(reps):
            t0 = time.perf_counter_ns()
            steps += _episodes(env, all_actions[r + 1])
            samples[r] = (time.perf_counter_ns() - t0) * 1e-9
        env.close()
        desc = ('gym.make("HWResource-v0") (with its wrappers)' if label == "gym.make" else
                'gym.make("HWResource-v0").unwrapped (no wrappers)')
        out.append(Result(f"episodes/HWResource-v0/{label}",
                          f"{desc}: full episodes, random actions pre-sampled", episodes,
                          "episode", samples, ref.full_s[("dla", "random")], what,
                          {"mean_episode_length": steps / (reps * episodes)}))
    for num_envs, cycles in zip((16, 64), vec_cycles):
        vec = gym.make_vec("HWResource-v0", num_envs=num_envs,
                           vectorization_mode="vector_entry_point")
        vec.reset(seed=seed)
        nvec = vec.single_action_space.nvec
        L = vec.unwrapped.setup.num_layers if hasattr(vec, "unwrapped") else 52
        steps = cycles * (L + 1)  # L evaluating steps + 1 autoreset step per episode
        all_actions = rng.integers(0, nvec, size=(reps + 1, steps, num_envs, len(nvec)))
        counts = np.zeros(reps + 1, dtype=np.int64)
        samples = np.empty(reps)
        for r in range(reps + 1):  # r = 0 is the warm-up
            t0 = time.perf_counter_ns()
            for a in all_actions[r]:
                _, _, terminated, truncated, _ = vec.step(a)
                counts[r] += np.count_nonzero(terminated | truncated)
            if r:
                samples[r - 1] = (time.perf_counter_ns() - t0) * 1e-9
        vec.close()
        per_rep = int(np.median(counts[1:]))
        if np.any(counts[1:] != per_rep):  # early (budget) terminations: per-repeat rate
            samples = samples * per_rep / np.maximum(counts[1:], 1)
        out.append(Result(f"episodes/HWResource-v0/make_vec_{num_envs}",
                          f'gym.make_vec("HWResource-v0", num_envs={num_envs}, '
                          'vectorization_mode="vector_entry_point"), random actions pre-sampled',
                          per_rep, "episode", samples, ref.full_s[("dla", "random")], what,
                          {"vector_steps_per_repeat": steps}))
    return out


# ------------------------------------------------------------------ output
def _fmt_s(s: float) -> str:
    if s >= 1:
        return f"{s:.3f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.3f} ms"
    return f"{s * 1e6:.2f} us"


def _table_rows(results: list[Result]) -> list[list[str]]:
    rows = []
    for r in results:
        ratio = "" if r.ratio is None else f"{r.ratio:,.0f}x"
        rate = 1.0 / r.per_item_s
        rows.append([r.name, f"{r.n}", _fmt_s(r.median_s), _fmt_s(r.p10_s), _fmt_s(r.p90_s),
                     f"{r.per_item_s * 1e6:,.2f}", f"{rate:,.0f} {r.unit}/s", ratio])
    return rows


HEADERS = ["measurement", "n", "median", "p10", "p90", "us/item", "rate", "vs MAESTRO"]


def print_table(results: list[Result], title: str) -> None:
    rows = _table_rows(results)
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(HEADERS)]
        print(title)
        line = "  ".join(h.ljust(w) if i == 0 else h.rjust(w)
                         for i, (h, w) in enumerate(zip(HEADERS, widths)))
        print(line)
        print("-" * len(line))
        for r in rows:
            print("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                            for i, (c, w) in enumerate(zip(r, widths))))
        return
    table = Table(title=title, title_justify="left")
    for i, h in enumerate(HEADERS):
        table.add_column(h, justify="left" if i == 0 else "right", no_wrap=True)
    for r in rows:
        table.add_row(*r)
    console = Console()
    if not console.is_terminal:  # piped to a file: do not squeeze into 80 columns
        console = Console(width=160)
    console.print(table)


def write_plot(results: list[Result], path: Path) -> str | None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    rs = [r for r in results if r.ratio is not None]
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(rs) + 1.5))
    y = np.arange(len(rs))[::-1]
    ax.barh(y, [r.ratio for r in rs], color="tab:blue")
    ax.set_yticks(y, [r.name for r in rs], fontsize=8)
    ax.set_xscale("log")
    ax.axvline(1, color="k", lw=0.8)
    ax.axvline(GOAL_BATCH_SPEEDUP, color="tab:red", ls="--", lw=0.8, label="10,000x goal (batch)")
    for yi, r in zip(y, rs):
        ax.text(r.ratio, yi, f" {r.ratio:,.0f}x", va="center", fontsize=7)
    ax.set_xlabel("speed-up vs MAESTRO run the ConfuciuX way (median per item)")
    ax.set_title("archgym cost model vs MAESTRO")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return str(path)


# ------------------------------------------------------------------ main
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats (< 20 s)")
    ap.add_argument("--out", type=Path, default=_common.OUT, help="output folder (default: %(default)s)")
    ap.add_argument("--maestro-timing", type=Path, default=DEFAULT_TIMING,
                    help="MAESTRO timing.txt to compare with (default: %(default)s)")
    ap.add_argument("--no-plot", action="store_true", help="do not write the PNG")
    args = ap.parse_args(argv)

    if args.quick:
        cfg = {"calls": 1000, "reps_small": 15, "reps_large": 7, "reps_full": 1000,
               "ep_reps": 5, "episodes": 60, "vec_cycles": (4, 2)}
    else:
        cfg = {"calls": 10000, "reps_small": 101, "reps_large": 41, "reps_full": 5000,
               "ep_reps": 11, "episodes": 300, "vec_cycles": (12, 4)}

    t_start = time.perf_counter()
    machine = machine_info()
    ref = load_reference(args.maestro_timing)
    print(f"archgym cost-model benchmark ({'quick' if args.quick else 'full'} run), "
          f"{machine['date']}")
    print(f"machine: {machine['cpu']}; {machine['logical_cpus']} logical CPUs "
          f"({machine['usable_cpus']} usable); {machine['python']}; numpy {machine['numpy']}; "
          f"gymnasium {machine['gymnasium']}; {machine['platform']}")
    if "build" in machine:
        print(f"core build: {machine['build']} ({machine['sim_module']})")
    print(f"MAESTRO reference: {ref.source}")
    print(f"  per call (dla P=64 B=4, ConfuciuX-style): {ref.per_call_s * 1e3:.2f} ms; "
          f"full MobileNet-V2 dla P=64 B=4: {ref.full_s[('dla', 'fixed')]:.3f} s, "
          f"random P,B: {ref.full_s[('dla', 'random')]:.3f} s")
    print()

    results: list[Result] = []
    sections = []
    for title, fn in (("1. single evaluation (ResNet-50 layer 2, one costmodel.evaluate call)",
                       lambda: bench_single(ref, cfg["calls"])),
                      ("2. batched throughput (one evaluate_batch call)",
                       lambda: bench_batches(ref, cfg["reps_small"], cfg["reps_large"])),
                      ("3. full MobileNet-V2 evaluation (52 rows, one call)",
                       lambda: bench_full_mobilenet(ref, cfg["reps_full"])),
                      ("4. HWResource-v0 episodes (random actions)",
                       lambda: bench_episodes(ref, cfg["ep_reps"], cfg["episodes"],
                                              cfg["vec_cycles"]))):
        got = fn()
        check = None
        if isinstance(got, tuple):
            got, check = got
        results += got
        sections.append(title)
        print_table(got, title)
        if check is not None:
            verdict = "OK" if check["ok"] else "MISMATCH"
            print(f"   check: sum of runtimes {check['sum_runtime']} vs MAESTRO "
                  f"{check['expected_sum_runtime']}: {verdict}")
        for r in got:
            if "mean_episode_length" in r.extra:
                print(f"   {r.name}: mean episode length {r.extra['mean_episode_length']:.1f} steps")
        print()

    by_name = {r.name: r for r in results}
    batch = by_name["batch/mobilenet_v2_grid_dla_threads0"]
    eps = by_name["episodes/HWResource-v0/gym.make"]
    goals = {
        "batch_speedup": {"goal": GOAL_BATCH_SPEEDUP, "measured": batch.ratio,
                          "met": bool(batch.ratio >= GOAL_BATCH_SPEEDUP)},
        "episodes_per_s": {"goal": GOAL_EPISODES_PER_S, "measured": 1.0 / eps.per_item_s,
                           "met": bool(1.0 / eps.per_item_s >= GOAL_EPISODES_PER_S)},
    }
    print("goals:")
    print(f"  batched evaluation (all cores) >= {GOAL_BATCH_SPEEDUP:,}x faster than one MAESTRO call: "
          f"{batch.ratio:,.0f}x ({batch.per_item_s * 1e6:.2f} us/row vs "
          f"{ref.per_call_s * 1e3:.2f} ms) -> {'met' if goals['batch_speedup']['met'] else 'NOT met'}")
    print(f"  HWResource-v0 >= {GOAL_EPISODES_PER_S} episodes/s through gym.make: "
          f"{1.0 / eps.per_item_s:,.0f} episodes/s -> "
          f"{'met' if goals['episodes_per_s']['met'] else 'NOT met'}")

    args.out.mkdir(parents=True, exist_ok=True)
    csv_path = args.out / "bench_costmodel.csv"
    with csv_path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(results[0].row()))
        writer.writeheader()
        for r in results:
            writer.writerow(r.row())
    png = None if args.no_plot else write_plot(results, args.out / "bench_costmodel.png")
    machine["loadavg_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    elapsed = time.perf_counter() - t_start
    meta = {
        "command": "python benchmarks/bench_costmodel.py" + (" --quick" if args.quick else ""),
        "mode": "quick" if args.quick else "full",
        "config": cfg,
        "elapsed_s": round(elapsed, 2),
        "machine": machine,
        "maestro_reference": {
            "source": ref.source,
            "confuciux_style_ms": {f"{d} P={p} B={b}": v for (d, p, b), v in ref.single_ms.items()},
            "bare_process_ms": {f"{d} P={p} B={b}": v for (d, p, b), v in ref.bare_ms.items()},
            "full_mobilenet_v2_s": {f"{d} {k}": v for (d, k), v in ref.full_s.items()},
        },
        "ratio_definition": "ratio_vs_maestro = MAESTRO seconds per item / archgym seconds per "
                            "item (median); > 1 means archgym is faster",
        "goals": goals,
        "results": [r.record() for r in results],
        "csv": str(csv_path), "png": png,
    }
    (args.out / "bench_costmodel.json").write_text(json.dumps(meta, indent=2, default=str) + "\n")
    print(f"\nwrote {csv_path}, {args.out / 'bench_costmodel.json'}"
          + (f", {png}" if png else " (no PNG: matplotlib not installed)" if not args.no_plot
             else ""))
    print(f"total {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
