"""The MatrixMarket reader of ``python -m archgym.sparse`` (archgym.sparse.matrices.read_matrix_market).

It validates every line itself (scipy's reader crashed the process with SIGSEGV or
SIGFPE on some malformed files and allocated a declared 10^9 x 10^9 before refusing
it): valid files read the same as scipy.io.mmread, malformed ones are one clear line
and exit status 1, never a signal.  ``benchmarks/fuzz_sparse_cli.py`` runs the same
kind of corpus at scale.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import archgym
from archgym.sparse import __main__ as cli
from archgym.sparse import matrices

scipy_io = pytest.importorskip("scipy.io")
sps = pytest.importorskip("scipy.sparse")


def _write(tmp_path: Path, text: str | bytes, name: str = "m.mtx") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


# ------------------------------------------------------------ valid files: as scipy reads them
@pytest.mark.parametrize("kind", ["general", "symmetric", "skew-symmetric", "integer", "pattern",
                                  "array", "array-symmetric"])
def test_valid_files_read_as_scipy_reads_them(tmp_path, kind):
    rng = np.random.default_rng(3)
    dense = np.where(rng.random((7, 7)) < 0.3, rng.normal(size=(7, 7)).round(3), 0.0)
    kwargs = {}
    if kind in ("symmetric", "array-symmetric"):
        dense = dense + dense.T
        kwargs["symmetry"] = "symmetric"
    elif kind == "skew-symmetric":
        dense = dense - dense.T
        kwargs["symmetry"] = "skew-symmetric"
    elif kind == "integer":
        dense = (dense * 1000).astype(np.int64)
        kwargs["field"] = "integer"
    elif kind == "pattern":
        kwargs["field"] = "pattern"
    path = tmp_path / "a.mtx"
    data = dense if kind.startswith("array") else sps.coo_matrix(dense)
    scipy_io.mmwrite(str(path), data, **kwargs)
    a, layout = matrices.read_matrix_market(path)
    want = scipy_io.mmread(str(path))
    assert layout == ("array" if kind.startswith("array") else "coordinate")
    got = a if layout == "array" else a.toarray()
    want = want if isinstance(want, np.ndarray) else want.toarray()
    assert got.dtype == want.dtype
    assert np.array_equal(got, want)


def test_comments_blank_lines_and_duplicates(tmp_path):
    path = _write(tmp_path, "%%MatrixMarket matrix coordinate real general\n% one\n\n2 3 3\n"
                            "% between\n1 1 1.5\n\n2 3 -2\n1 1 0.5\n")
    a, layout = matrices.read_matrix_market(path)
    assert layout == "coordinate" and a.shape == (2, 3)
    assert np.array_equal(a.toarray(), [[2.0, 0, 0], [0, 0, -2.0]])  # duplicates summed


# ------------------------------------------------------------ malformed files: one line each
BIG = str(2**63)
MALFORMED = [
    ("", "line 1: the header must be"),
    ("%%MatrixMarket matrix coordinate real\n1 1 0\n", "the header must be"),
    ("%%MatrixMarket matrix coordinate complex general\n2 2 1\n1 1 1 2\n", "complex"),
    ("%%MatrixMarket matrix array pattern general\n2 2\n", "pattern matrix must use the coordinate"),
    ("%%MatrixMarket matrix coordinate real general\n", "line 2: missing the size line"),
    ("%%MatrixMarket matrix coordinate real general\n3 x 1\n1 1 1.0\n", "size line must be 3"),
    ("%%MatrixMarket matrix coordinate real general\n0 3 0\n", "rows 0 out of range"),
    ("%%MatrixMarket matrix coordinate real general\n1000000000 1000000000 1\n1 1 1\n",
     "rows 1000000000 out of range"),
    (f"%%MatrixMarket matrix coordinate real general\n{BIG} 3 1\n1 1 1\n", f"rows {BIG} out of range"),
    (f"%%MatrixMarket matrix coordinate real general\n3 3 {BIG}\n1 1 1\n", f"{BIG} entries declared"),
    ("%%MatrixMarket matrix coordinate real general\n2 2 5\n", "holds at most 4"),
    ("%%MatrixMarket matrix coordinate real general\n3 3 2\n1 1 1.0\n", "ends after 1 of the 2"),
    ("%%MatrixMarket matrix coordinate real general\n3 3 1\n1 1 1.0\n2 2 1\n", "more entries than"),
    ("%%MatrixMarket matrix coordinate real general\n3 3 1\n5 1 1.0\n", "index (5, 1) out of range"),
    ("%%MatrixMarket matrix coordinate real general\n3 3 1\n0 1 1.0\n", "index (0, 1) out of range"),
    (f"%%MatrixMarket matrix coordinate real general\n3 3 1\n{BIG} 1 1.0\n", "out of range"),
    ("%%MatrixMarket matrix coordinate real general\n3 3 1\n-1 1 1.0\n", "positive integers"),
    ("%%MatrixMarket matrix coordinate real general\n3 3 1\n1 1\n", "3 token(s), got 2"),
    ("%%MatrixMarket matrix coordinate real general\n2 2 1\n1 1 nan\n", "not finite"),
    ("%%MatrixMarket matrix coordinate real general\n2 2 1\n1 1 1e400\n", "not finite"),
    ("%%MatrixMarket matrix coordinate real general\n2 2 1\n1 1 0x10\n", "must be a real number"),
    (f"%%MatrixMarket matrix coordinate integer general\n2 2 1\n1 1 {BIG}\n", "does not fit 64 bits"),
    (f"%%MatrixMarket matrix coordinate integer general\n2 2 1\n1 1 -{2**63 + 1}\n", "does not fit 64 bits"),
    ("%%MatrixMarket matrix coordinate integer general\n2 2 1\n1 1 1.5\n", "must be an integer"),
    ("%%MatrixMarket matrix coordinate real symmetric\n2 3 1\n1 1 1\n", "must be square"),
    ("%%MatrixMarket matrix coordinate real symmetric\n2 2 1\n1 2 1\n", "on or below the diagonal"),
    ("%%MatrixMarket matrix coordinate real skew-symmetric\n2 2 1\n1 1 1\n", "strictly below"),
    ("%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n", "ends after 3 of the 4"),
    ("%%MatrixMarket matrix array real general\n2 0\n", "columns 0 out of range"),
    ("%%MatrixMarket matrix array real general\n100000 100000\n1\n", "files may hold at most"),
    (b"%%MatrixMarket matrix coordinate real general\n2 2 1\n1 1 \xff\n", "not ASCII"),
]


@pytest.mark.parametrize("content, message", MALFORMED)
def test_malformed_files_are_one_clear_error(tmp_path, capsys, content, message):
    path = _write(tmp_path, content)
    with pytest.raises(matrices.MatrixMarketError, match=None) as err:
        matrices.read_matrix_market(path)
    assert message in str(err.value)
    assert cli.main([str(path)]) == 1
    out, errtext = capsys.readouterr()
    assert out == "" and errtext.count("\n") == 1
    assert errtext.startswith(f"python -m archgym.sparse: error: {path} is not a valid MatrixMarket file: line ")


# ---------------------------------------------------------------- fuzz: in process, then the CLI
SEED = ("%%MatrixMarket matrix coordinate integer symmetric\n% comment\n4 4 5\n"
        "1 1 3\n2 1 -4\n3 3 9\n4 2 1\n4 4 2\n")
HOSTILE = ["0", "-1", "1e400", "nan", str(2**31), str(2**63), str(2**64), str(10**9), "abc",
           "1.5", "", "%", "array", "real", "pattern", "complex", "general", "skew-symmetric"]


@st.composite
def mutated(draw) -> bytes:
    """SEED with a few lines' tokens replaced, lines dropped or duplicated, or bytes cut."""
    lines = SEED.splitlines()
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["token", "drop", "dup", "cut", "extra"]))
        tokens = lines[i].split() or [""]
        if kind == "token":
            tokens[draw(st.integers(0, len(tokens) - 1))] = draw(st.sampled_from(HOSTILE))
            lines[i] = " ".join(tokens)
        elif kind == "drop":
            del lines[i]
        elif kind == "dup":
            lines.insert(i, lines[i])
        elif kind == "extra":
            lines[i] = " ".join(tokens + [draw(st.sampled_from(HOSTILE))])
        else:
            lines = "\n".join(lines)[:draw(st.integers(0, len(SEED)))].splitlines()
        if not lines:
            break
    return ("\n".join(lines) + "\n").encode() + draw(st.binary(max_size=3))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=mutated())
def test_fuzz_reader_and_cli_in_process(tmp_path, capsys, content):
    path = _write(tmp_path, content)
    try:
        a, _ = matrices.read_matrix_market(path)
    except matrices.MatrixMarketError:
        assert cli.main([str(path)]) == 1
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1 and "Traceback" not in err
        return
    # Accepted (the mutation kept the file valid): a symmetric integer matrix, mirrored.
    # (Not compared with scipy.io.mmread here: that reader can crash the process.)
    dense = a.toarray()
    assert a.dtype == np.int64 and np.array_equal(dense, dense.T)


def _cli_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(Path(archgym.__file__).resolve().parent.parent) + os.pathsep + env.get("PYTHONPATH", "")
    return env


# Files that broke the command when scipy read them (measured with scipy 1.17): an array
# file of 0 rows killed the process with SIGFPE (found by benchmarks/fuzz_sparse_cli.py);
# a declared 10^9 x 10^9 made it allocate 7.9 GB for 33 s before refusing the size; and
# values beyond 64 bits.
CRASHERS = [
    "%%MatrixMarket matrix array real general\n0 4\n1.0\n0\n2.5\n0\n-1\n3\n",
    "%%MatrixMarket matrix array real general\n0 1000000000000\n1.0\n0\n9223372036854775807\n",
    "%%MatrixMarket matrix coordinate real general\n1000000000 1000000000 1\n1 1 1\n",
    f"%%MatrixMarket matrix coordinate real general\n4 5 6\n1 1 1.5\n{2**64} 3 -2.0\n",
    f"%%MatrixMarket matrix coordinate integer general\n2 2 1\n1 1 {2**63}\n",
]


@pytest.mark.parametrize("content", CRASHERS)
def test_cli_subprocess_never_crashes(tmp_path, content):
    path = _write(tmp_path, content)
    out = subprocess.run([sys.executable, "-m", "archgym.sparse", str(path)], capture_output=True,
                         text=True, env=_cli_env(), timeout=120)
    assert out.returncode == 1, (out.returncode, out.stderr)  # a signal would be negative
    assert out.stdout == "" and out.stderr.count("\n") == 1, out.stderr
    assert "is not a valid MatrixMarket file: line " in out.stderr
