#!/usr/bin/env python
"""Build the tabular NAS benchmark (and its datasets) that ship with archgym.nas.

    python scripts/build_nas_table.py                  # train every architecture, write the CSV
    python scripts/build_nas_table.py --jobs 2         # the same over 2 processes (same results)
    python scripts/build_nas_table.py --only digits-cnn --out /tmp/t.csv
    python scripts/build_nas_table.py --check 5        # retrain 5 architectures per space, compare
    python scripts/build_nas_table.py --data           # rewrite nas_data.npz from scikit-learn
    python scripts/build_nas_table.py --quick --out /tmp/t.csv   # smoke run: 2 architectures per space

Writes ``src/archgym/nas/data/nas_table.csv``: every architecture of every
search space (``archgym.nas.SPACES``: 1,608 in all) trained once with the
space's fixed protocol and seed (``archgym.nas.trainer``), with its exact
parameters and MACs and its latency and energy on every platform
(``archgym.nas.cost``).  The format is documented in
``archgym.nas.table`` and docs/nas.md.  Measured on the 2-core development
machine while other work ran: the four original spaces (588) in 4 min 22 s
in one process; fashion-cnn (1,020) in 52 min with ``--only fashion-cnn``
and 2 to 6 processes, at a load average of 13 to 24.  The script prints the
time per space.  It is resumable: see :func:`build_table`.

Training is deterministic for a seed: rebuilding on the same numpy/BLAS
reproduces every metric exactly (``--check`` verifies a sample); only the
``train_time_s`` column (wall time) changes.

``--data`` needs scikit-learn (``pip install scikit-learn``); it writes
``src/archgym/nas/data/nas_data.npz``: digits (uint8 pixels), archgym.quant's
3,000 shipped Fashion-MNIST images at 14x14 (uint8), diabetes (raw
features), make_friedman1(n_samples=1000, noise=1.0, random_state=0), and
each task's train/valid/test indices (``archgym.nas.data.split_indices``).
The table needs only numpy and archgym.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

#: The shipped files this script rewrites: the repository's copy (commit them).
DATA_DIR = Path(__file__).resolve().parent.parent / "src" / "archgym" / "nas" / "data"
#: Architectures per space of a --quick run.
QUICK_ARCHITECTURES = 2


def fashion_14x14():
    """archgym.quant's shipped Fashion-MNIST images (calibration, then test), each 2x2
    block averaged and rounded: uint8 (3000, 196) pixels and int64 labels."""
    import numpy as np

    from archgym.quant import data

    parts = [data.load_split("fashion_mnist", split, n) for split, n in
             (("calibration", data.FASHION_CALIBRATION), ("test", data.FASHION_SHIPPED_TEST))]
    images = np.concatenate([p[0] for p in parts]).astype(np.int64).reshape(-1, 14, 2, 14, 2)
    small = (images.sum(axis=(2, 4)) + 2) // 4
    return small.reshape(-1, 196).astype(np.uint8), np.concatenate([p[1] for p in parts]).astype(np.int64)


def build_data(out: Path) -> None:
    import numpy as np

    try:
        from sklearn.datasets import load_diabetes, load_digits, make_friedman1
    except ImportError:
        sys.exit("--data needs scikit-learn: pip install scikit-learn")
    from archgym.nas.data import TASKS, split_indices

    arrays = {}
    digits = load_digits()
    arrays["digits_x"] = digits.data.astype(np.uint8)
    arrays["digits_y"] = digits.target.astype(np.int64)
    diabetes = load_diabetes(scaled=False)
    arrays["diabetes_x"] = diabetes.data.astype(np.float64)
    arrays["diabetes_y"] = diabetes.target.astype(np.float64)
    x, y = make_friedman1(n_samples=1000, n_features=10, noise=1.0, random_state=0)
    arrays["friedman1_x"], arrays["friedman1_y"] = x, y
    arrays["fashion_x"], arrays["fashion_y"] = fashion_14x14()
    for task in TASKS:
        for split, idx in split_indices(len(arrays[f"{task}_y"])).items():
            arrays[f"{task}_{split}"] = idx.astype(np.int64)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **arrays)
    print(f"wrote {out} ({out.stat().st_size} bytes)")


def _work(job):
    from archgym.nas.measure import measure

    space, enc = job
    return measure(space, enc)


def build_table(spaces: list[str], out: Path, jobs: int, limit: int | None = None) -> None:
    """Train the spaces and write ``out`` (rows of other spaces already there are kept).

    Resumable: each finished architecture is appended at once to
    ``<out>.<space>.partial`` (one CSV row, flushed), and a rerun of the same
    command skips the architectures found there; ``out`` is replaced atomically
    at the end and the partial files are then removed.  A crash or Ctrl-C loses
    at most the architectures being trained."""
    import csv

    from archgym.nas.spaces import get_space
    from archgym.nas.table import COLUMNS, format_row, write_table

    records = []
    t_all = time.perf_counter()
    pool = None
    if jobs > 1:
        import multiprocessing as mp

        pool = mp.get_context("spawn").Pool(jobs)
    partials = []
    try:
        for name in spaces:
            sp = get_space(name)
            t0 = time.perf_counter()
            partial = out.with_name(f"{out.name}.{name}.partial")
            partials.append(partial)
            done = {}
            if partial.exists():
                with open(partial, newline="", encoding="utf-8") as f:
                    rows = csv.DictReader(f, fieldnames=COLUMNS)  # a line cut by a crash is skipped
                    done = {int(r["arch_id"]): r for r in rows if None not in r.values()}
            todo = [(name, e) for i, e in enumerate(sp.enumerate()[:limit]) if i not in done]
            print(f"{name}: {len(done)} architectures already in {partial}, {len(todo)} to train", flush=True)
            partial.parent.mkdir(parents=True, exist_ok=True)
            with open(partial, "a", newline="", encoding="utf-8") as f:
                writer = csv.writer(f, lineterminator="\n")
                mapper = pool.imap(_work, todo) if pool else map(_work, todo)
                for i, rec in enumerate(mapper, 1):
                    writer.writerow(format_row(rec))
                    f.flush()
                    done[rec["arch_id"]] = rec
                    if i % 20 == 0 or i == len(todo):
                        print(f"  {name}: {i}/{len(todo)}  {time.perf_counter() - t0:6.1f} s", flush=True)
            records += [done[i] for i in sorted(done)]
            print(f"{name}: {len(todo)} architectures trained in {time.perf_counter() - t0:.1f} s", flush=True)
    finally:
        if pool:
            pool.close()
            pool.join()
    if out.exists():  # keep the rows of the spaces not rebuilt (--only)
        with open(out, newline="", encoding="utf-8") as f:
            kept = [r for r in csv.DictReader(f) if r.get("space") not in spaces]
        records = kept + records
    out.parent.mkdir(parents=True, exist_ok=True)
    write_table(out, records)
    for partial in partials:
        partial.unlink()
    print(f"wrote {out}: {len(records)} rows in {time.perf_counter() - t_all:.1f} s")


def check_table(spaces: list[str], per_space: int, path: Path | None) -> int:
    import numpy as np

    from archgym.nas.measure import measure
    from archgym.nas.spaces import get_space
    from archgym.nas.table import load_table

    bad = 0
    for name in spaces:
        sp = get_space(name)
        table = load_table(name, path)
        rng = np.random.default_rng(123)
        for i in sorted(rng.choice(len(sp), size=min(per_space, len(sp)), replace=False).tolist()):
            rec = measure(name, sp.enumerate()[i])
            row = table.row(i)
            same = all(rec[f"{s}_metric"] == row[f"{s}_metric"] for s in ("train", "valid", "test"))
            bad += not same
            print(f"{name} #{i} {rec['arch']}: valid {rec['valid_metric']:.4f} vs table "
                  f"{row['valid_metric']:.4f}, test {rec['test_metric']:.4f} vs {row['test_metric']:.4f}"
                  f"  {'same' if same else 'DIFFERENT'}")
    print(f"{bad} of the retrained architectures differ from the table")
    return 1 if bad else 0


def main(argv=None) -> int:
    from archgym.nas.spaces import SPACES

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", action="store_true", help="rewrite nas_data.npz from scikit-learn")
    ap.add_argument("--only", action="append", choices=list(SPACES), help="build only this space (repeatable)")
    ap.add_argument("--out", type=Path, default=None, help="output file (default: the shipped file)")
    ap.add_argument("--jobs", type=int, default=1, help="processes (default 1)")
    ap.add_argument("--check", type=int, metavar="N", default=0,
                    help="retrain N architectures per space and compare with the table at --out")
    ap.add_argument("--quick", action="store_true",
                    help=f"smoke run: only the first {QUICK_ARCHITECTURES} architectures of each space "
                         "(a partial table, so --out is required)")
    args = ap.parse_args(argv)
    if args.quick and args.out is None:
        ap.error("--quick writes a partial table: give --out (the shipped table is never partial)")
    spaces = args.only or list(SPACES)
    if args.data:
        build_data(args.out or DATA_DIR / "nas_data.npz")
        return 0
    if args.check:
        return check_table(spaces, args.check, args.out)
    if args.jobs > 1:
        # One BLAS thread per process: the processes already fill the cores.
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        os.environ.setdefault("OMP_NUM_THREADS", "1")
    build_table(spaces, args.out or DATA_DIR / "nas_table.csv", args.jobs,
                QUICK_ARCHITECTURES if args.quick else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
