#!/usr/bin/env python
"""Malformed MatrixMarket files against ``python -m archgym.sparse``: crashes, hangs, tracebacks.

    python benchmarks/fuzz_sparse_cli.py [--count N] [--seed S] [--quick] [--out DIR]
                                         [--module MODULE] [--keep]

Generates ``--count`` malformed files (default 2,562) from six small valid seed files
(coordinate real/integer/pattern, symmetric and skew-symmetric, array general and
symmetric), each with one to three random mutations: a token replaced by a hostile
value (0, -1, 2^31, 2^32, 2^63, 2^64, 10^9, 1e400, nan, garbage), a line deleted,
duplicated or given a token more or less, the size line rewritten, header words
swapped, random bytes inserted, or the file cut short.  Every file runs through the
CLI's ``main`` in a forked child (the same code path as ``python -m archgym.sparse
FILE``, without paying an interpreter start per file), with a 60 s alarm and a 4 GB
address-space limit.  Each outcome is one of: ``rejected`` (exit 1, one line on
stderr, nothing on stdout), ``accepted`` (exit 0: the mutation left a valid file),
``traceback`` or ``unclear`` (exit 1 otherwise), ``signal`` (the child died of a
signal: SIGSEGV, SIGFPE, ...), ``hang`` (the alarm) or ``other`` (another exit code).
Prints the counts and the largest peak memory of a child, and writes
``fuzz_sparse_cli.csv`` (one row per file) to ``--out``.

``--module`` names the module whose ``main(argv)`` is run (default
``archgym.sparse.__main__``): point it at a copy of an older CLI to measure before
and after.  ``--keep`` keeps the corpus (``--out``/fuzz_sparse_corpus).
"""

from __future__ import annotations

import argparse
import importlib
import os
import resource
import signal
import sys
import tempfile
import traceback
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # the children are forked: no BLAS threads

import numpy as np  # noqa: E402
from _common import OUT, write_csv  # noqa: E402  (benchmarks/_common.py)

SEEDS = {
    "coord_real": "%%MatrixMarket matrix coordinate real general\n% a comment\n4 5 6\n"
                  "1 1 1.5\n2 3 -2.0\n3 5 4e-3\n4 2 7\n4 4 1\n1 5 0.25\n",
    "coord_int_sym": "%%MatrixMarket matrix coordinate integer symmetric\n4 4 5\n"
                     "1 1 3\n2 1 -4\n3 3 9\n4 2 1\n4 4 2\n",
    "coord_pattern": "%%MatrixMarket matrix coordinate pattern general\n3 3 4\n1 1\n2 3\n3 1\n3 3\n",
    "coord_skew": "%%MatrixMarket matrix coordinate real skew-symmetric\n3 3 2\n2 1 1.0\n3 2 -0.5\n",
    "array_real": "%%MatrixMarket matrix array real general\n3 2\n1.0\n0\n2.5\n0\n-1\n3\n",
    "array_sym": "%%MatrixMarket matrix array real symmetric\n3 3\n1\n2\n3\n4\n5\n6\n",
}
HOSTILE = ["0", "-1", "1e400", "-1e400", "nan", "inf", str(2**31), str(2**32), str(2**63),
           str(2**63 - 1), str(2**64), str(10**9), "1000000000000", "99999999999999999999999",
           "abc", "1.5", "-0", "0x10", "+", ".", "1e-400", "", "%", "4294967297"]
HEADER_WORDS = ["coordinate", "array", "real", "integer", "pattern", "complex", "double",
                "general", "symmetric", "skew-symmetric", "hermitian", "matrix", "vector", "MATRIX"]


def mutate(text: str, rng: np.random.Generator) -> bytes:
    """One to three random mutations of a MatrixMarket text (see the module docstring)."""
    lines = text.splitlines()
    data = None
    for _ in range(int(rng.integers(1, 4))):
        kind = int(rng.integers(8))
        if kind == 0:  # a token replaced by a hostile value
            i = int(rng.integers(1, len(lines))) if len(lines) > 1 else 0
            tokens = lines[i].split() or [""]
            tokens[int(rng.integers(len(tokens)))] = HOSTILE[int(rng.integers(len(HOSTILE)))]
            lines[i] = " ".join(tokens)
        elif kind == 1 and len(lines) > 1:  # a line deleted
            del lines[int(rng.integers(1, len(lines)))]
        elif kind == 2:  # a line duplicated
            i = int(rng.integers(len(lines)))
            lines.insert(i, lines[i])
        elif kind == 3:  # a token more or less
            i = int(rng.integers(len(lines)))
            tokens = lines[i].split()
            if tokens and rng.random() < 0.5:
                tokens.pop()
            else:
                tokens.append(HOSTILE[int(rng.integers(len(HOSTILE)))])
            lines[i] = " ".join(tokens)
        elif kind == 4:  # the size line rewritten
            i = next((k for k, line in enumerate(lines) if k and not line.startswith("%")), None)
            if i is not None:
                n = len(lines[i].split())
                lines[i] = " ".join(HOSTILE[int(rng.integers(len(HOSTILE)))] if rng.random() < 0.5
                                    else str(int(rng.integers(0, 8))) for _ in range(n))
        elif kind == 5:  # a header word swapped
            tokens = lines[0].split()
            if len(tokens) > 1:
                tokens[int(rng.integers(1, len(tokens)))] = HEADER_WORDS[int(rng.integers(len(HEADER_WORDS)))]
                lines[0] = " ".join(tokens)
        elif kind == 6:  # random bytes inserted
            data = ("\n".join(lines) + "\n").encode()
            at = int(rng.integers(len(data) + 1))
            data = data[:at] + rng.integers(0, 256, int(rng.integers(1, 8)), dtype=np.uint8).tobytes() + data[at:]
            lines = data.decode("latin-1").splitlines()
        else:  # cut short
            data = ("\n".join(lines) + "\n").encode()
            lines = data[:int(rng.integers(len(data)))].decode("latin-1").splitlines() or [""]
    return ("\n".join(lines) + "\n").encode("latin-1")


def run_one(main, path: str, workdir: Path) -> tuple[str, int, str]:
    """(outcome, peak child memory in KB, first stderr line) of ``main([path])`` in a forked child."""
    out_path, err_path = workdir / "stdout", workdir / "stderr"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        pid = os.fork()
        if pid == 0:  # the child: the CLI as `python -m archgym.sparse FILE` runs it
            os.dup2(out.fileno(), 1)
            os.dup2(err.fileno(), 2)
            resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
            signal.alarm(60)
            try:
                code = main([path])
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else 1
            except BaseException:
                traceback.print_exc()
                code = 1
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        _, status, usage = os.wait4(pid, 0)
    stdout, stderr = out_path.read_bytes(), err_path.read_text("utf-8", "replace")
    first = stderr.splitlines()[0] if stderr else ""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        return ("hang" if sig == signal.SIGALRM else "signal"), usage.ru_maxrss, signal.Signals(sig).name
    code = os.WEXITSTATUS(status)
    if code == 0:
        return "accepted", usage.ru_maxrss, ""
    if code != 1:
        return "other", usage.ru_maxrss, first
    if "Traceback" in stderr:
        return "traceback", usage.ru_maxrss, first
    if len(stderr.splitlines()) == 1 and not stdout:
        return "rejected", usage.ru_maxrss, first
    return "unclear", usage.ru_maxrss, first


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=2562, help="malformed files to try (default 2562)")
    ap.add_argument("--seed", type=int, default=0, help="corpus seed (default 0)")
    ap.add_argument("--quick", action="store_true", help="100 files")
    ap.add_argument("--module", default="archgym.sparse.__main__",
                    help="module whose main(argv) is the CLI under test (default archgym.sparse.__main__)")
    ap.add_argument("--out", type=Path, default=OUT, help=f"output folder (default {OUT})")
    ap.add_argument("--keep", action="store_true", help="keep the corpus in OUT/fuzz_sparse_corpus")
    args = ap.parse_args(argv)
    if not 1 <= args.count <= 1_000_000:
        ap.error(f"--count must be in [1, 1000000], got {args.count}")
    count = 100 if args.quick else args.count
    cli = importlib.import_module(args.module).main
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    names = sorted(SEEDS)
    rows, counts, peak = [], {}, 0
    with tempfile.TemporaryDirectory() as tmp:
        corpus = args.out / "fuzz_sparse_corpus" if args.keep else Path(tmp)
        corpus.mkdir(exist_ok=True)
        for k in range(count):
            seed_name = names[k % len(names)]
            path = corpus / f"{k:05d}_{seed_name}.mtx"
            path.write_bytes(mutate(SEEDS[seed_name], rng))
            outcome, rss, message = run_one(cli, str(path), Path(tmp))
            counts[outcome] = counts.get(outcome, 0) + 1
            peak = max(peak, rss)
            rows.append({"file": path.name, "outcome": outcome, "peak_kb": rss, "message": message[:200]})
            if outcome in ("signal", "hang", "traceback", "other", "unclear"):
                print(f"{path.name}: {outcome} {message}")
    write_csv(args.out / "fuzz_sparse_cli.csv", rows)
    print(f"{count} mutated files through {args.module}.main: "
          + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print(f"largest peak memory of a child: {peak / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
