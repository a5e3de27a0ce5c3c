"""Exact storage and modelled accelerator cost of a MatrixMarket matrix.

    python -m archgym.sparse FILE.mtx [--op spmv|spmm|spgemm] [--n N]
                                      [--value-bits B] [--index-bits I] [--pointer-bits P]
                                      [--stored-a FMT] [--stored-b FMT] [--top K]

Reads FILE with :func:`archgym.sparse.matrices.read_matrix_market` (which checks
every line before anything of the declared size is made), prints a table (storage per format, the K
cheapest (format pair, dataflow, conversion site) choices and the baseline CSR +
Gustavson + software conversion) and, as its last line, one JSON object with the
exact storage of every format (metadata and payload bytes) and the modelled
cycles and energy of every legal choice, the fastest marked ``"best": true``.

Operands: spmv multiplies by a dense all-ones vector of length cols; spmm by a
dense all-ones cols x N matrix (--n, default 16); spgemm computes A @ A for a
square A and A @ A^T otherwise.  A is taken as stored in COO (a coordinate
file) or dense (an array file) unless --stored-a says otherwise; B as dense for
spmv/spmm and like A for spgemm.  A malformed or unreadable file prints what is
wrong and exits with status 1.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from archgym import sparse as S
from archgym.sparse import matrices


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m archgym.sparse",
        description="Exact storage per sparse format and modelled accelerator cost of C = A x B "
                    "for a MatrixMarket matrix A (docs/sparse.md).")
    ap.add_argument("file", help="MatrixMarket file (.mtx)")
    ap.add_argument("--op", choices=S.OPS, default="spmv")
    ap.add_argument("--n", type=int, default=16, help="columns of the dense B of spmm (default 16)")
    ap.add_argument("--value-bits", type=int, default=32)
    ap.add_argument("--index-bits", type=int, default=None,
                    help="bits per index (default: ceil(log2 dim) per rank)")
    ap.add_argument("--pointer-bits", type=int, default=32)
    ap.add_argument("--stored-a", choices=S.FORMATS, default=None,
                    help="format A sits in (default: coo for a coordinate file, dense for an array file)")
    ap.add_argument("--stored-b", choices=S.FORMATS, default=None,
                    help="format B sits in (default: dense for spmv/spmm, A's for spgemm)")
    ap.add_argument("--top", type=int, default=10, help="rows of the cost table (default 10)")
    return ap


class CliError(Exception):
    pass


def read_matrix(path: str):
    """A, and the format it is stored in: ``coo`` for a coordinate file, ``dense`` for an array file."""
    try:
        a, layout = matrices.read_matrix_market(path)
    except ImportError:
        raise CliError("scipy is needed for sparse matrices (pip install scipy)") from None
    except OSError as e:
        raise CliError(f"cannot open {path}: {e.strerror or e}") from None
    except matrices.MatrixMarketError as e:
        raise CliError(f"{path} is not a valid MatrixMarket file: {e}") from None
    return a, "coo" if layout == "coordinate" else "dense"


def run(args: argparse.Namespace) -> dict:
    if args.n < 1:
        raise CliError(f"--n must be >= 1, got {args.n}")
    if args.top < 0:
        raise CliError(f"--top must be >= 0, got {args.top}")
    prec = S.Precision(value_bits=args.value_bits, index_bits=args.index_bits,
                       pointer_bits=args.pointer_bits)
    A, default_stored = read_matrix(args.file)
    stored_a = args.stored_a or default_stored
    rows, cols = A.shape
    if args.op == "spmv":
        B, b_desc = np.ones(cols, dtype=np.float32), f"dense ones vector ({cols})"
        stored_b = args.stored_b or "dense"
    elif args.op == "spmm":
        B, b_desc = np.ones((cols, args.n), dtype=np.float32), f"dense ones {cols} x {args.n}"
        stored_b = args.stored_b or "dense"
    else:
        square = rows == cols
        B = A if square else A.T
        b_desc = "A (C = A @ A)" if square else "A^T (C = A @ A^T)"
        stored_b = args.stored_b or stored_a

    table = S.storage_table(A, prec)
    problem = S.Problem(A, B, args.op, prec)
    accel = S.Accelerator()
    grid = problem.cost_grid(accel, stored_a, stored_b)
    costs = []
    for ia, fa in enumerate(S.FORMATS):
        for ib, fb in enumerate(S.FORMATS):
            for idf, df in enumerate(S.DATAFLOWS):
                for isite, site in enumerate(S.CONVERSION_SITES):
                    if not grid["legal"][ia, ib, idf, isite]:
                        continue
                    costs.append({"fmt_a": fa, "fmt_b": fb, "dataflow": df, "conversion": site,
                                  "cycles": int(grid["cycles"][ia, ib, idf, isite]),
                                  "energy_pj": float(grid["energy_pj"][ia, ib, idf, isite]),
                                  "best": False})
    costs.sort(key=lambda c: (c["cycles"], c["energy_pj"]))
    if costs:
        costs[0]["best"] = True
    baseline = problem.cost("csr", "csr", "gustavson", "software", accel, stored_a, stored_b)
    best = costs[0] if costs else None
    nnz = int(A.nnz) if hasattr(A, "nnz") else int(np.count_nonzero(A))
    return {
        "file": args.file, "shape": [rows, cols], "nnz": nnz, "op": args.op,
        "b": b_desc, "n": args.n if args.op == "spmm" else None,
        "precision": {"value_bits": prec.value_bits, "index_bits": prec.index_bits,
                      "pointer_bits": prec.pointer_bits, "rlc_run_bits": prec.rlc_run_bits,
                      "bcsr_block": list(prec.bcsr_block)},
        "stored_a": stored_a, "stored_b": stored_b,
        "storage": {f: {"metadata_bytes": s["metadata_bytes"], "payload_bytes": s["payload_bytes"],
                        "total_bytes": s["total_bytes"]} for f, s in table.items()},
        "most_compact": min(table, key=lambda f: table[f]["total_bits"]),
        "baseline": {"fmt_a": "csr", "fmt_b": "csr", "dataflow": "gustavson",
                     "conversion": "software", "cycles": baseline["cycles"],
                     "energy_pj": baseline["energy_pj"]},
        "best": best,
        "speedup_over_baseline": (baseline["cycles"] / best["cycles"]) if best and best["cycles"] else None,
        "macs": problem.macs, "costs": costs,
    }


def print_tables(r: dict, top: int) -> None:
    print(f"{r['file']}: {r['shape'][0]} x {r['shape'][1]}, nnz {r['nnz']}, op {r['op']}, "
          f"B = {r['b']}; A stored as {r['stored_a']}, B as {r['stored_b']}")
    p = r["precision"]
    print(f"precision: value {p['value_bits']} bits, index "
          f"{p['index_bits'] if p['index_bits'] else 'ceil(log2 dim)'} bits, pointer "
          f"{p['pointer_bits']} bits, RLC-{p['rlc_run_bits']}, BCSR {p['bcsr_block'][0]}x{p['bcsr_block'][1]}")
    print()
    print(f"{'format':<8}{'metadata B':>14}{'payload B':>14}{'total B':>14}")
    for f, s in r["storage"].items():
        mark = "  <- most compact" if f == r["most_compact"] else ""
        print(f"{f:<8}{s['metadata_bytes']:>14,}{s['payload_bytes']:>14,}{s['total_bytes']:>14,}{mark}")
    print()
    print(f"{len(r['costs'])} legal (fmt_a, fmt_b, dataflow, conversion) choices; "
          f"the {min(top, len(r['costs']))} fastest:")
    print(f"{'fmt_a':<8}{'fmt_b':<8}{'dataflow':<11}{'conversion':<11}{'cycles':>14}{'energy uJ':>12}")
    for c in r["costs"][:top]:
        mark = "  <- best" if c["best"] else ""
        print(f"{c['fmt_a']:<8}{c['fmt_b']:<8}{c['dataflow']:<11}{c['conversion']:<11}"
              f"{c['cycles']:>14,}{c['energy_pj'] / 1e6:>12.3f}{mark}")
    b = r["baseline"]
    print(f"{'csr':<8}{'csr':<8}{'gustavson':<11}{'software':<11}{b['cycles']:>14,}"
          f"{b['energy_pj'] / 1e6:>12.3f}  (baseline)")
    if r["speedup_over_baseline"]:
        print(f"best speedup over the baseline: {r['speedup_over_baseline']:.2f}x")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        result = run(args)
    except (CliError, ValueError, MemoryError) as e:
        print(f"python -m archgym.sparse: error: {e}", file=sys.stderr)
        return 1
    print_tables(result, args.top)
    print(json.dumps(result, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
