#!/usr/bin/env python
"""Benchmarks of the sparse core (archgym.sparse).

    python benchmarks/bench_sparse_core.py [--quick] [--out DIR] [--no-plot]

1. Compactness map: the most compact format (exact storage, fp32 values,
   ceil(log2 dim) index bits, 32-bit pointers, RLC with the best run width
   r in 2..8, BCSR 4x4) over density 1e-4 .. 1 for uniform random matrices of
   three shapes: square 1024 x 1024, tall 4096 x 64, wide 64 x 4096.
   Writes ``bench_sparse_compactness.csv`` (bits per format per point) and, if
   matplotlib is installed, ``bench_sparse_compactness.png``.
2. Conversions: archgym.sparse.convert (C++, through the Python API, work
   counted) against the equivalent scipy.sparse call on the same matrices,
   median CPU time of alternating runs; ``ratio`` = scipy time / ours (> 1:
   ours is faster).  Writes ``bench_sparse_convert.csv``; the last line printed
   is the geometric mean and the minimum of the ratios.
3. Cost-model speed: Problem construction, ``Problem.cost`` calls per second
   and ``Problem.cost_grid`` evaluations per second (the exhaustive oracle's
   729 actions per call).  Writes ``bench_sparse_costmodel.csv``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import scipy.sparse as sps
from _common import OUT, median_time, write_csv  # benchmarks/_common.py

from archgym import sparse as S

SHAPES = {"square 1024x1024": (1024, 1024), "tall 4096x64": (4096, 64), "wide 64x4096": (64, 4096)}


def random_matrix(m: int, n: int, density: float, rng: np.random.Generator):
    nnz = max(1, int(round(density * m * n)))
    flat = rng.choice(m * n, size=nnz, replace=False) if nnz < m * n else np.arange(m * n)
    r, c = np.divmod(flat, n)
    vals = rng.uniform(0.5, 1.5, size=nnz).astype(np.float32)
    return sps.csr_matrix((vals, (r, c)), shape=(m, n), dtype=np.float32)


# ----------------------------------------------------------------- 1. compactness
def compactness(densities, rng) -> list[dict]:
    rows = []
    for shape_name, (m, n) in SHAPES.items():
        for d in densities:
            A = random_matrix(m, n, d, rng)
            table = S.storage_table(A)
            bits = {f: s["total_bits"] for f, s in table.items()}
            rlc = {r: S.storage(A, "rlc", S.Precision(rlc_run_bits=r))["total_bits"] for r in range(2, 9)}
            best_r = min(rlc, key=rlc.get)
            bits["rlc"] = rlc[best_r]
            winner = min(bits, key=bits.get)
            rows.append({"shape": shape_name, "rows": m, "cols": n, "density": d, "nnz": A.nnz,
                         "winner": winner, "rlc_best_r": best_r,
                         **{f"bits_{f}": bits[f] for f in S.FORMATS}})
    return rows


def regions(rows: list[dict]) -> dict[str, list[tuple[str, float, float]]]:
    """Per shape: consecutive (winner, first density, last density) runs; RLC with its r range."""
    out = {}
    for shape in SHAPES:
        runs: list[list] = []
        for r in (x for x in rows if x["shape"] == shape):
            if runs and runs[-1][0] == r["winner"]:
                runs[-1][2] = r["density"]
                runs[-1][3].add(r["rlc_best_r"])
            else:
                runs.append([r["winner"], r["density"], r["density"], {r["rlc_best_r"]}])
        out[shape] = [(w if w != "rlc" else f"rlc (r={min(rs)}..{max(rs)})", a, b)
                      for w, a, b, rs in runs]
    return out


def plot_compactness(rows, path: Path) -> bool:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    colors = dict(zip(S.FORMATS, plt.get_cmap("tab10").colors))
    fig, axes = plt.subplots(1, len(SHAPES), figsize=(15, 4.5), sharey=False)
    for ax, shape in zip(axes, SHAPES):
        pts = [r for r in rows if r["shape"] == shape]
        d = np.array([r["density"] for r in pts])
        for f in S.FORMATS:
            bpn = np.array([r[f"bits_{f}"] / max(r["nnz"], 1) for r in pts])
            ax.plot(d, bpn, label=f, color=colors[f], lw=1.5)
        for r in pts:
            ax.axvspan(r["density"] / 1.15, r["density"] * 1.15, color=colors[r["winner"]],
                       alpha=0.25, lw=0)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_ylim(10, 1e5)
        ax.set_xlabel("density")
        ax.set_title(f"{shape} (shaded: most compact)")
    axes[0].set_ylabel("bits per nonzero (fp32, RLC best r)")
    axes[-1].legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


# ----------------------------------------------------------------- 2. conversions
CONVERSIONS = {
    # name: (our source fmt, our target fmt, scipy source builder, scipy conversion)
    "coo->csr": ("coo", "csr", lambda m, d: m.tocoo(), lambda s: s.tocsr()),
    "csr->coo": ("csr", "coo", lambda m, d: m, lambda s: s.tocoo()),
    "csr->csc": ("csr", "csc", lambda m, d: m, lambda s: s.tocsc()),
    "csc->csr": ("csc", "csr", lambda m, d: m.tocsc(), lambda s: s.tocsr()),
    "dense->csr": ("dense", "csr", lambda m, d: d, lambda s: sps.csr_matrix(s)),
    "csr->dense": ("csr", "dense", lambda m, d: m, lambda s: s.toarray()),
    "csr->bcsr": ("csr", "bcsr", lambda m, d: m, lambda s: s.tobsr(blocksize=(4, 4))),
    "bcsr->csr": ("bcsr", "csr", lambda m, d: m.tobsr(blocksize=(4, 4)), lambda s: s.tocsr()),
    "csr->dia": ("csr", "dia", lambda m, d: m, lambda s: s.todia()),
    "dia->csr": ("dia", "csr", lambda m, d: m.todia(), lambda s: s.tocsr()),
}


def alternating_cpu_times(ours, theirs, repeats: int) -> tuple[float, float]:
    """Median CPU seconds of the calling thread (both run on it, single-threaded) of
    ``ours()`` and ``theirs()``, run alternately after one warm-up call each: CPU time
    and alternation keep a loaded machine's other jobs out of the ratio."""
    ours(), theirs()
    a, b = [], []
    for _ in range(repeats):
        for fn, out in ((ours, a), (theirs, b)):
            t0 = time.thread_time()
            fn()
            out.append(time.thread_time() - t0)
    return float(np.median(a)), float(np.median(b))


def conversions(cases, repeats: int, rng) -> list[dict]:
    prec = S.Precision(index_bits=32, pointer_bits=32)
    rows = []
    for n, d in cases:
        m = random_matrix(n, n, d, rng)
        dense = m.toarray()
        encs = {}
        for name, (src, dst, make, conv) in CONVERSIONS.items():
            if "dia" in name and n > 1024:
                continue
            if src not in encs:
                encs[src] = S.encode(m, src, prec)
            e = encs[src]
            s = make(m, dense)
            ours, theirs = alternating_cpu_times(lambda: S.convert(e, dst), lambda: conv(s), repeats)
            rows.append({"conversion": name, "n": n, "density": d, "nnz": m.nnz,
                         "ours_ms": ours * 1e3, "scipy_ms": theirs * 1e3, "ratio": theirs / ours})
    return rows


# ----------------------------------------------------------------- 3. cost model speed
def costmodel_speed(repeats: int, rng) -> list[dict]:
    rows = []
    A = random_matrix(2048, 2048, 0.005, rng)
    cases = {"spgemm 2048^2 d=0.5% (A @ A)": (A, A, "spgemm"),
             "spmm 2048^2 d=0.5% x dense 2048x16": (A, np.ones((2048, 16), np.float32), "spmm"),
             "spmv 2048^2 d=0.5%": (A, np.ones(2048, np.float32), "spmv")}
    accel = S.Accelerator()
    for name, (a, b, op) in cases.items():
        t_build = median_time(lambda: S.Problem(a, b, op), max(3, repeats // 2))
        p = S.Problem(a, b, op)
        actions = [(fa, fb, df, site) for fa in S.FORMATS for fb in S.FORMATS for df in S.DATAFLOWS
                   for site in ("software", "hardware")]
        n_calls = len(actions)

        def calls():
            for fa, fb, df, site in actions:
                p.cost(fa, fb, df, site, accel)

        t_calls = median_time(calls, repeats)
        t_grid = median_time(lambda: p.cost_grid(accel, "csr", "csr"), repeats * 5)
        rows.append({"case": name, "problem_build_ms": t_build * 1e3,
                     "cost_calls_per_s": n_calls / t_calls,
                     "grid_evals_per_s": 729 / t_grid, "grid_call_us": t_grid * 1e6})
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="archgym sparse-core benchmarks")
    ap.add_argument("--quick", action="store_true", help="fewer points and repeats")
    ap.add_argument("--out", type=Path, default=OUT, help="output folder (default: %(default)s)")
    ap.add_argument("--no-plot", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    repeats = 3 if args.quick else 7

    # log-spaced, plus points around the bitmap/dense crossover (1 - 1/b = 0.969 for fp32)
    densities = np.union1d(np.logspace(-4, 0, 17 if args.quick else 33), [0.95, 0.97, 0.98, 0.99])
    comp = compactness(densities, rng)
    write_csv(args.out / "bench_sparse_compactness.csv", comp)
    print("## 1. Most compact format (fp32, RLC best r in 2..8)")
    for shape, runs in regions(comp).items():
        text = ", ".join(f"{w} {a:.2g}-{b:.2g}" for w, a, b in runs)
        print(f"{shape:>18}: {text}")
    if not args.no_plot:
        png = args.out / "bench_sparse_compactness.png"
        print(f"wrote {png}" if plot_compactness(comp, png) else "(matplotlib not installed: no PNG)")

    cases = ([(1024, 0.01), (2048, 0.01)] if args.quick else
             [(1024, 0.001), (1024, 0.01), (1024, 0.1), (4096, 0.001), (4096, 0.01), (4096, 0.1)])
    conv = conversions(cases, repeats, rng)
    write_csv(args.out / "bench_sparse_convert.csv", conv)
    print("\n## 2. Conversions: ours (C++ via archgym.sparse.convert) vs scipy.sparse, median CPU ms")
    print(f"{'conversion':<12}{'n':>6}{'density':>9}{'ours':>10}{'scipy':>10}{'scipy/ours':>12}")
    for r in conv:
        print(f"{r['conversion']:<12}{r['n']:>6}{r['density']:>9g}{r['ours_ms']:>10.3f}"
              f"{r['scipy_ms']:>10.3f}{r['ratio']:>12.2f}")

    print(f"\n{'conversion':<12}{'min':>8}{'geomean':>9}{'max':>8}   (scipy/ours over the cases)")
    for name in dict.fromkeys(r["conversion"] for r in conv):
        ratio = np.array([r["ratio"] for r in conv if r["conversion"] == name])
        print(f"{name:<12}{ratio.min():>8.2f}{np.exp(np.log(ratio).mean()):>9.2f}{ratio.max():>8.2f}")

    speed = costmodel_speed(repeats, rng)
    write_csv(args.out / "bench_sparse_costmodel.csv", speed)
    print("\n## 3. Cost model speed")
    for r in speed:
        print(f"{r['case']:<38} build {r['problem_build_ms']:8.2f} ms, Problem.cost "
              f"{r['cost_calls_per_s']:>9,.0f}/s, cost_grid {r['grid_evals_per_s']:>11,.0f} evals/s "
              f"({r['grid_call_us']:.0f} us per 729)")
    ratios = np.array([r["ratio"] for r in conv])
    print(f"\nconversions vs scipy: geomean {np.exp(np.log(ratios).mean()):.2f}x over "
          f"{len(ratios)} cases (min {ratios.min():.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
