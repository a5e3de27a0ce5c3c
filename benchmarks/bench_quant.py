#!/usr/bin/env python
"""Quant benchmark: accuracy and cost of uniform precisions, random-search Pareto fronts, speed.

    python benchmarks/bench_quant.py [--quick] [--out DIR] [--no-plot] [--no-torch]

``--quick``: the digits CNN only (Fashion-MNIST's 10,000 held-out images take
minutes), a smaller random search and fewer timing repeats.

1. Uniform W8A8, W6A6, W4A4, W3A3, W2A2 (and float) on each model: accuracy on
   the whole held-out split, latency / energy / size on the edge preset, both
   accelerator designs (bit-serial and bit-fused).
2. Random search (bits uniform in 2..8 per layer, fixed seed): accuracy vs
   latency (edge, bit-serial) and its Pareto front, per model.
3. Speed: one configuration on the whole held-out split (ms per 100 images,
   one thread and all cores), configurations per second in batch (core), and
   the same fake-quantized evaluation written in torch (torch is imported here
   only).

Writes ``bench_quant.csv`` (one row per measurement), ``bench_quant.json``
(machine, settings, all rows, the Pareto fronts) and, if matplotlib is
installed, ``bench_quant.png`` into --out (default benchmarks/out/).
Fashion-MNIST rows need the Debian package dataset-fashion-mnist; without it
they are skipped (and said so).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from _common import OUT, median_time  # benchmarks/_common.py

from archgym import quant as q

UNIFORM = (32, 8, 6, 4, 3, 2)


def pareto(acc: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Indices of the non-dominated points (higher accuracy, lower cost), by cost."""
    order = np.lexsort((-acc, cost))
    front, best = [], -np.inf
    for i in order:
        if acc[i] > best:
            front.append(i)
            best = acc[i]
    return np.array(front, dtype=np.int64)


# ---------------------------------------------------------------- torch reference
def torch_evaluator(model):
    """A torch float32 fake-quantized forward of the same scheme (same weights, ranges, bits)."""
    import torch
    import torch.nn.functional as F

    # One thread: like for like with the core's single-thread row, and torch's
    # intra-op threads spin badly when the machine's cores are shared.
    torch.set_num_threads(1)
    mf = model.file
    images, labels = model.split("test")
    x0 = torch.from_numpy(images.reshape((-1,) + mf.input_shape).astype(np.float32) / mf.full_scale)
    y = torch.from_numpy(np.array(labels))
    weights = [torch.from_numpy(w) for w in mf.weights]
    biases = [torch.from_numpy(b) for b in mf.biases]
    ranges = model.act_ranges

    def qw(w, b):
        flat = w.reshape(len(w), -1)
        if b == 1:
            s = flat.abs().mean(1, keepdim=True)
            return (torch.where(flat < 0, -1.0, 1.0) * s).reshape(w.shape)
        qmax = 2 ** (b - 1) - 1
        s = flat.abs().amax(1, keepdim=True).clamp_min(1e-30) / qmax
        return (torch.clamp(torch.round(flat / s), -qmax, qmax) * s).reshape(w.shape)

    def qa(x, l, a):
        qmax = 2 ** a - 1
        s = float(ranges[l, a - 1]) / qmax
        return torch.clamp(torch.round(x / s), 0, qmax) * s

    @torch.no_grad()
    def correct(wbits, abits) -> int:
        x = x0
        for l, spec in enumerate(mf.layers):
            x = qa(x, l, int(abits[l]))
            w = qw(weights[l], int(wbits[l]))
            if spec.kind == "linear":
                x = F.linear(x.flatten(1), w, biases[l])
            else:
                groups = spec.in_channels if spec.kind == "dwconv" else 1
                x = F.conv2d(x, w, biases[l], stride=spec.stride, padding=spec.padding, groups=groups)
            if spec.relu:
                x = F.relu(x)
            if spec.pool == "max":
                x = F.max_pool2d(x, spec.pool_size)
            elif spec.pool == "avg":
                x = F.avg_pool2d(x, spec.pool_size)
        return int((x.argmax(1) == y).sum())

    return correct, torch.__version__


# ---------------------------------------------------------------- sections
def uniform_rows(model, rows):
    L = model.num_layers
    _, labels = model.split("test")
    for design in ("bitserial", "bitfused"):
        hw = q.HardwareCost(model, "edge", design)
        base = hw.evaluate([8] * L, [8] * L)
        for b in UNIFORM:
            acc = model.accuracy([b] * L, [b] * L)
            c = hw.evaluate([b] * L, [b] * L)
            rows.append(dict(section="uniform", model=model.name, config=f"W{b}A{b}" if b < 32 else "float",
                             design=design, preset="edge", accuracy=acc, images=len(labels),
                             latency_s=c["latency_s"], energy_j=c["energy_j"], size_bytes=c["size_bytes"],
                             latency_vs_w8a8=c["latency_s"] / base["latency_s"],
                             energy_vs_w8a8=c["energy_j"] / base["energy_j"]))


def random_search(model, n: int, seed: int = 0):
    L = model.num_layers
    rng = np.random.default_rng(seed)
    w = rng.integers(2, 9, (n, L))
    a = rng.integers(2, 9, (n, L))
    _, labels = model.split("test")
    t = time.perf_counter()
    acc = model.correct(w, a) / len(labels)
    elapsed = time.perf_counter() - t
    hw = q.HardwareCost(model, "edge", "bitserial")
    lat = hw.objective("latency", w, a)
    base = float(hw.objective("latency", [8] * L, [8] * L)[0])
    front = pareto(acc, lat)
    return dict(w=w, a=a, acc=acc, lat=lat, base=base, front=front, seconds=elapsed)


def speed_rows(model, rows, quick: bool, use_torch: bool):
    L = model.num_layers
    images, labels = model.split("test")
    n = len(labels)
    rng = np.random.default_rng(1)
    w1, a1 = rng.integers(2, 9, L), rng.integers(2, 9, L)
    reps = 5 if quick else 20
    for threads in (1, 0):
        t = median_time(lambda: model.correct(w1, a1, threads=threads), reps)
        rows.append(dict(section="speed", model=model.name, config="one config, whole split",
                         threads=threads or os.cpu_count(), seconds=t, images=n, ms_per_100_images=1e3 * t / n * 100,
                         configs_per_s=1.0 / t))
    m = 16 if quick else 64
    wb, ab = rng.integers(2, 9, (m, L)), rng.integers(2, 9, (m, L))
    t = median_time(lambda: model.correct(wb, ab), 1 if quick else 3)
    rows.append(dict(section="speed", model=model.name, config=f"batch of {m} configs", threads=os.cpu_count(),
                     seconds=t, images=n, ms_per_100_images=1e3 * t / m / n * 100, configs_per_s=m / t))
    if use_torch:
        correct, version = torch_evaluator(model)
        agree = [correct(wb[i], ab[i]) - int(model.correct(wb[i], ab[i])[0]) for i in range(min(m, 8))]
        k = 4 if quick else 16
        t = median_time(lambda: [correct(wb[i], ab[i]) for i in range(k)], 1 if quick else 3) / k
        rows.append(dict(section="speed", model=model.name, config="torch fake-quant, one config",
                         threads=1, seconds=t, images=n, ms_per_100_images=1e3 * t / n * 100,
                         configs_per_s=1.0 / t, torch=version,
                         torch_minus_core_correct=json.dumps(agree)))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="digits CNN only, smaller search, fewer repeats (under a minute)")
    ap.add_argument("--out", type=Path, default=OUT, help="output folder (default: %(default)s)")
    ap.add_argument("--no-plot", action="store_true")
    ap.add_argument("--no-torch", action="store_true")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    names = ["digits_cnn"]
    if args.quick:
        print("--quick: digits CNN only")
    elif q.fashion_mnist_available():
        names.append("fashion_lenet")
    else:
        print("Fashion-MNIST not installed (apt-get install -y dataset-fashion-mnist): its rows are skipped")
    rows: list[dict] = []
    searches = {}
    for name in names:
        model = q.load_model(name)
        t0 = time.perf_counter()
        uniform_rows(model, rows)
        n = {"digits_cnn": 300 if args.quick else 2000, "fashion_lenet": 150}[name]
        s = random_search(model, n)
        searches[name] = s
        rows.append(dict(section="random_search", model=name, config=f"{n} random configs (bits 2..8)",
                         design="bitserial", preset="edge", seconds=s["seconds"],
                         configs_per_s=n / s["seconds"], best_accuracy=float(s["acc"].max()),
                         median_accuracy=float(np.median(s["acc"])), p10_accuracy=float(np.quantile(s["acc"], 0.1)),
                         front_size=len(s["front"]),
                         feasible_at_0_6=int((s["lat"] <= 0.6 * s["base"]).sum()),
                         best_accuracy_at_0_6=float(s["acc"][s["lat"] <= 0.6 * s["base"]].max(initial=0))))
        speed_rows(model, rows, args.quick, not args.no_torch)
        print(f"{name}: {time.perf_counter() - t0:.1f} s")

    keys = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    with open(args.out / "bench_quant.csv", "w", newline="") as f:
        wr = csv.DictWriter(f, fieldnames=keys)
        wr.writeheader()
        wr.writerows(rows)
    fronts = {name: [dict(wbits=s["w"][i].tolist(), abits=s["a"][i].tolist(), accuracy=float(s["acc"][i]),
                          latency_vs_w8a8=float(s["lat"][i] / s["base"])) for i in s["front"]]
              for name, s in searches.items()}
    meta = dict(machine=dict(platform=platform.platform(), cpus=os.cpu_count(), python=sys.version.split()[0],
                             numpy=np.__version__), quick=args.quick, rows=rows, pareto_fronts=fronts)
    (args.out / "bench_quant.json").write_text(json.dumps(meta, indent=1, default=float))

    for r in rows:
        if r["section"] == "uniform" and r["design"] == "bitserial":
            print(f"{r['model']:>14} {r['config']:>6}: acc {100 * r['accuracy']:6.2f}%  latency x{r['latency_vs_w8a8']:.3f}"
                  f"  energy x{r['energy_vs_w8a8']:.3f}  size {r['size_bytes']:.0f} B")
    for r in rows:
        if r["section"] == "uniform" and r["design"] == "bitfused":
            print(f"{r['model']:>14} {r['config']:>6} (bit-fused): latency x{r['latency_vs_w8a8']:.3f}"
                  f"  energy x{r['energy_vs_w8a8']:.3f}")
    for r in rows:
        if r["section"] == "random_search":
            print(f"{r['model']:>14} random search: {r['config']}, best {100 * r['best_accuracy']:.2f}%, median "
                  f"{100 * r['median_accuracy']:.2f}%, p10 {100 * r['p10_accuracy']:.2f}%, {r['front_size']} on the "
                  f"front, {r['feasible_at_0_6']} within 0.6 x W8A8 latency (best {100 * r['best_accuracy_at_0_6']:.2f}%)")
    for r in rows:
        if r["section"] == "speed":
            print(f"{r['model']:>14} speed: {r['config']:<30} threads {r['threads']}: {r['configs_per_s']:9.1f} configs/s, "
                  f"{r['ms_per_100_images']:.4f} ms per 100 images")

    if not args.no_plot:
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            print("matplotlib not installed: no PNG")
            return 0
        fig, axes = plt.subplots(1, len(searches), figsize=(6 * len(searches), 4.5), squeeze=False)
        for ax, (name, s) in zip(axes[0], searches.items()):
            rel = s["lat"] / s["base"]
            ax.scatter(rel, 100 * s["acc"], s=6, alpha=0.35, label="random configs (bits 2..8)")
            f = s["front"]
            ax.step(rel[f], 100 * s["acc"][f], where="post", color="C3", label="Pareto front")
            for r in rows:
                if r["section"] == "uniform" and r["model"] == name and r["design"] == "bitserial" \
                        and r["config"] != "float":
                    ax.scatter(r["latency_vs_w8a8"], 100 * r["accuracy"], marker="x", color="k")
                    ax.annotate(r["config"], (r["latency_vs_w8a8"], 100 * r["accuracy"]), fontsize=8)
            ax.axvline(0.6, color="gray", ls="--", lw=0.8, label="budget 0.6 x W8A8")
            ax.set_xlabel("latency / W8A8 latency (edge, bit-serial; analytic)")
            ax.set_ylabel("held-out accuracy (%)")
            ax.set_title(name)
            ax.legend(fontsize=8, loc="lower right")
        fig.tight_layout()
        fig.savefig(args.out / "bench_quant.png", dpi=110)
        print(f"wrote {args.out / 'bench_quant.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
