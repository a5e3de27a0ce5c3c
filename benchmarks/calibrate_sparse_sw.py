#!/usr/bin/env python
"""Calibrate the software-conversion cost of archgym.sparse on its own compiled converters.

    python benchmarks/calibrate_sparse_sw.py [--quick] [--out DIR] [--json PATH]

The host converts with archgym's C++ leg kernels (``src/archgym/csrc/sparse``), so the
cost model's software side is timed on them, not on scipy (whose 30-240 us of Python
overhead per call would set the hardware-vs-software ratio by itself).  Each direct
leg (dense <-> any, CSR <-> any) is one call into the compiled core -- ``encode_dense``
(dense -> f), ``encode_csr`` (CSR -> f), ``to_csr`` (f -> CSR), ``decode`` (f -> dense)
-- with its arguments prepared beforehand, so the time is the kernel's plus one
binding call (~1 us).  Median of ``--repeats`` runs after a warm-up, on uniform random
float32 matrices over sizes and densities.  The work of each leg is archgym's count
(``archgym.sparse.conversion_work``: elements = elements_scanned + elements_written,
nnz = nnz_moved), and each of the cost model's kinds (one per direct leg,
``archgym.sparse.SW_KINDS``) is fitted to

    t = fixed_s + per_element_s * elements + per_nnz_s * nnz

by least squares on the relative error (each row divided by the measured time),
with non-negative coefficients (every subset of the three terms is solved with
numpy.linalg.lstsq and the best non-negative one kept).

Prints the fit and its error per kind, and writes
``src/archgym/sparse/sw_conversion.json`` (the constants the cost model loads)
and ``calibrate_sparse_sw.csv`` (every measurement) into ``--out``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as _dt
import itertools
import json
import sys
from pathlib import Path

import numpy as np

import _common  # benchmarks/_common.py
import scipy.sparse as sps
from _common import median_time

from archgym import _sim
from archgym import sparse as S
from archgym.sparse import model

_core = _sim.sparse
#: The cost model's kinds are its direct legs ("from->to", S.SW_KINDS), each timed on its own kernel.
LEGS = {kind: tuple(kind.split("->")) for kind in S.SW_KINDS}
DIA_MAX_N = 1024  # a random matrix fills every diagonal: DIA is n x (2n - 1)


def leg_call(m, dense: np.ndarray, src: str, dst: str, prec: S.Precision):
    """(fn, args): one call into the compiled leg kernel src -> dst, arguments prepared."""
    code = S.FORMATS.index(dst)
    if src == "dense":
        return _core.encode_dense_f32, (dense, code, prec._core)
    if src == "csr":
        return _core.encode_csr_f32, (m.shape[0], m.shape[1], m.indptr.astype(np.int64),
                                      m.indices.astype(np.int64), m.data, code, prec._core)
    parts = model._parts(S.encode(m, src, prec))
    return (_core.to_csr_f32 if dst == "csr" else _core.decode_f32), parts


def random_matrix(n: int, density: float, rng: np.random.Generator):
    nnz = int(round(density * n * n))
    flat = rng.choice(n * n, size=nnz, replace=False)
    rows, cols = np.divmod(flat, n)
    vals = rng.uniform(0.5, 1.5, size=nnz).astype(np.float32)
    m = sps.csr_matrix((vals, (rows, cols)), shape=(n, n), dtype=np.float32)
    m.sum_duplicates()
    return m


def nnls_fit(x: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, float]:
    """min ||(x @ c - t) / t|| over c >= 0 (x columns: 1, elements, nnz)."""
    w = x / t[:, None]
    best, best_res = np.zeros(x.shape[1]), np.inf
    for k in range(1, x.shape[1] + 1):
        for cols in itertools.combinations(range(x.shape[1]), k):
            c, *_ = np.linalg.lstsq(w[:, cols], np.ones(len(t)), rcond=None)
            if (c < 0).any():
                continue
            full = np.zeros(x.shape[1])
            full[list(cols)] = c
            res = float(np.sum((w @ full - 1.0) ** 2))
            if res < best_res:
                best, best_res = full, res
    return best, best_res


def fit_report(x: np.ndarray, t: np.ndarray) -> dict:
    c, _ = nnls_fit(x, t)
    pred = x @ c
    rel = np.abs(pred - t) / t
    return {"fixed_s": c[0], "per_element_s": c[1], "per_nnz_s": c[2], "n_points": int(len(t)),
            "median_rel_err": float(np.median(rel)), "max_rel_err": float(np.max(rel)),
            "log_rmse": float(np.sqrt(np.mean(np.log(pred / t) ** 2)))}


def machine() -> dict:
    return _common.machine_info()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--quick", action="store_true", help="fewer sizes and repeats (a few seconds)")
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--out", type=Path, default=_common.OUT, help="output folder (default: %(default)s)")
    ap.add_argument("--json", type=Path, default=_common.REPO / "src/archgym/sparse/sw_conversion.json",
                    help="the fitted constants (default: the file the package ships, %(default)s)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.repeats is not None and args.repeats < 1:
        ap.error(f"--repeats must be at least 1, got {args.repeats}")

    sizes = [256, 1024] if args.quick else [256, 512, 1024, 2048]
    densities = [0.001, 0.01, 0.1] if args.quick else [0.001, 0.003, 0.01, 0.03, 0.1, 0.3]
    repeats = args.repeats or (3 if args.quick else 5)
    max_nnz = 2_000_000
    rng = np.random.default_rng(args.seed)
    prec = S.Precision(value_bits=32, index_bits=32, pointer_bits=32, bcsr_block=(4, 4))

    rows = []
    print(f"# archgym's compiled converters on {machine()['cpu']}, median of {repeats}")
    print(f"{'kind':<13}{'n':>6}{'density':>9}{'nnz':>10}{'elements':>12}{'t_us':>10}")
    for n, d in itertools.product(sizes, densities):
        if d * n * n > max_nnz or d * n * n < 10:
            continue
        m = random_matrix(n, d, rng)
        dense = m.toarray()
        for kind, (src, dst) in LEGS.items():
            if "dia" in (src, dst) and n > DIA_MAX_N:
                continue
            fn, fargs = leg_call(m, dense, src, dst, prec)
            t = median_time(lambda: fn(*fargs), repeats)
            w = S.conversion_work(m, src, dst, prec)
            elements = w["elements_scanned"] + w["elements_written"]
            rows.append({"kind": kind, "n": n, "density": d, "nnz": m.nnz, "elements": elements,
                         "nnz_moved": w["nnz_moved"], "t_s": t})
            print(f"{kind:<13}{n:>6}{d:>9g}{m.nnz:>10}{elements:>12}{t * 1e6:>10.1f}")

    kinds = {}
    for kind in LEGS:
        pts = [r for r in rows if r["kind"] == kind]
        x = np.array([[1.0, r["elements"], r["nnz_moved"]] for r in pts])
        t = np.array([r["t_s"] for r in pts])
        kinds[kind] = fit_report(x, t)

    print("\n# fit: t = fixed_s + per_element_s * elements + per_nnz_s * nnz_moved")
    print(f"{'kind':<13}{'fixed_us':>10}{'ns/elem':>10}{'ns/nnz':>10}{'med_err':>9}{'max_err':>9}{'n':>4}")
    for kind, f in kinds.items():
        print(f"{kind:<13}{f['fixed_s'] * 1e6:>10.2f}{f['per_element_s'] * 1e9:>10.3f}"
              f"{f['per_nnz_s'] * 1e9:>10.3f}{f['median_rel_err']:>9.1%}{f['max_rel_err']:>9.1%}"
              f"{f['n_points']:>4}")

    doc = {
        "description": "Software format-conversion time on the host, fitted to the times of "
                       "archgym's compiled conversion legs (one binding call each) measured on "
                       "this machine",
        "command": "python benchmarks/calibrate_sparse_sw.py" + (" --quick" if args.quick else ""),
        "model": "t_s = fixed_s + per_element_s * (elements_scanned + elements_written) "
                 "+ per_nnz_s * nnz_moved, counted by archgym.sparse.conversion_work for the leg; "
                 "one kind per direct leg",
        "fit": "least squares on relative error, coefficients >= 0",
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine(),
        "grid": {"sizes": sizes, "densities": densities, "repeats": repeats,
                 "statistic": "median", "matrices": "uniform random square float32"},
        "kinds": kinds,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(doc, indent=1) + "\n")
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "calibrate_sparse_sw.csv", "w", newline="") as fh:
        wr = csv.DictWriter(fh, fieldnames=list(rows[0]))
        wr.writeheader()
        wr.writerows(rows)
    print(f"\nwrote {args.json} and {args.out / 'calibrate_sparse_sw.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
