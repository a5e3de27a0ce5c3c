"""Tests of the sparse core (archgym.sparse over archgym._sim.sparse).

Every expected value is computed here from the dense matrix with a few lines of
numpy/Python that do not use the core (brute force), or taken from scipy.sparse:

  1. Round trips: decode(encode(A)) == A for every format, float32 and int8,
     from dense and from scipy input; conversions between every pair land on
     the canonical encoding; arrays match scipy's / numpy's layouts.
  2. Exact storage against docs/design/sparse.md §2's formulas counted on the data, and CSR /
     CSC / COO bytes against scipy's nbytes at matching dtypes.
  3. Conversion work: convert() reports what conversion_work() predicts, legs
     add up through CSR.
  4. Exact counts of the cost model (MACs, intersection steps by a literal
     two-pointer merge, merges, nnz(C)) on random matrices and on scipy's
     PROPACK matrices (illc1850, mhd1280b; skipped if scipy's file is absent).
  5. Cost composition, legality, the calibrated software conversion.
  6. Input validation and a fuzz of malformed encodings (never a crash).
  7. The command line.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sps
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import archgym
from archgym import sparse as S

FORMATS = S.FORMATS
SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


# ----------------------------------------------------------------- helpers
def make_matrix(rng: np.random.Generator, m: int, n: int, density: float, dtype=np.float32):
    mask = rng.random((m, n)) < density
    if dtype == np.int8:
        vals = rng.integers(-128, 128, size=(m, n)).astype(np.int8)
        vals[vals == 0] = 1
    else:
        vals = rng.standard_normal((m, n)).astype(np.float32)
        vals[vals == 0] = 1.0
    return np.where(mask, vals, 0).astype(dtype)


@st.composite
def matrices(draw, max_dim: int = 12, dtypes=(np.float32, np.int8)):
    m = draw(st.integers(1, max_dim))
    n = draw(st.integers(1, max_dim))
    density = draw(st.sampled_from([0.0, 0.05, 0.2, 0.5, 0.9, 1.0]))
    seed = draw(st.integers(0, 2**32 - 1))
    dtype = draw(st.sampled_from(dtypes))
    return make_matrix(np.random.default_rng(seed), m, n, density, dtype)


precisions = st.builds(
    S.Precision,
    value_bits=st.sampled_from([8, 16, 32]),
    index_bits=st.sampled_from([None, 16, 32]),
    pointer_bits=st.sampled_from([16, 32]),
    rlc_run_bits=st.integers(2, 8),
    bcsr_block=st.tuples(st.integers(1, 5), st.integers(1, 5)),
)


def ibits(n: int, prec: S.Precision) -> int:
    return prec.index_bits or max(1, (n - 1).bit_length())


def rlc_fillers(A: np.ndarray, r: int) -> int:
    pos = np.flatnonzero(A.ravel() != 0)
    gaps = np.diff(np.concatenate([[-1], pos])) - 1
    return int(np.sum(gaps >> r))


def block_count(A: np.ndarray, r: int, c: int) -> tuple[int, int, int]:
    m, n = A.shape
    nbr, nbc = -(-m // r), -(-n // c)
    pad = np.zeros((nbr * r, nbc * c), dtype=bool)
    pad[:m, :n] = A != 0
    return int(pad.reshape(nbr, r, nbc, c).any(axis=(1, 3)).sum()), nbr, nbc


def diagonals(A: np.ndarray) -> np.ndarray:
    i, j = np.nonzero(A)
    return np.unique(j - i)


def brute_storage(A: np.ndarray, fmt: str, prec: S.Precision) -> tuple[int, int]:
    """(metadata_bits, payload_bits) from docs/design/sparse.md §2's formulas, counted on A."""
    m, n = A.shape
    nnz = int(np.count_nonzero(A))
    b, p = prec.value_bits, prec.pointer_bits
    if fmt == "dense":
        return 0, m * n * b
    if fmt == "bitmap":
        return m * n, nnz * b
    if fmt == "rlc":
        e = nnz + rlc_fillers(A, prec.rlc_run_bits)
        return e * prec.rlc_run_bits, e * b
    if fmt == "coo":
        return nnz * (ibits(m, prec) + ibits(n, prec)), nnz * b
    if fmt == "csr":
        return nnz * ibits(n, prec) + (m + 1) * p, nnz * b
    if fmt == "csc":
        return nnz * ibits(m, prec) + (n + 1) * p, nnz * b
    if fmt == "ell":
        k = int((A != 0).sum(axis=1).max())
        return m * k * ibits(n, prec), m * k * b
    if fmt == "bcsr":
        r, c = prec.bcsr_block
        nnzb, nbr, nbc = block_count(A, r, c)
        return nnzb * ibits(nbc, prec) + (nbr + 1) * p, nnzb * r * c * b
    if fmt == "dia":
        nd = len(diagonals(A))
        return nd * ibits(m + n - 1, prec), nd * min(m, n) * b
    raise AssertionError(fmt)


def rlc_decode(runs, values, shape) -> np.ndarray:
    out = np.zeros(shape[0] * shape[1], dtype=values.dtype)
    pos = -1
    for run, v in zip(runs.tolist(), values.tolist()):
        pos += run + 1
        out[pos] = v
    return out.reshape(shape)


def assert_same_encoding(x: S.Encoded, y: S.Encoded) -> None:
    assert x.fmt == y.fmt and x.shape == y.shape and x.nnz == y.nnz
    assert set(x.arrays) == set(y.arrays)
    for name in x.arrays:
        a, b = x.arrays[name], y.arrays[name]
        assert a.dtype == b.dtype and a.shape == b.shape, name
        assert np.array_equal(a, b), name


# ----------------------------------------------------------------- 1. round trips
@SETTINGS
@given(A=matrices(), prec=precisions)
def test_roundtrip_every_format(A, prec):
    for fmt in FORMATS:
        enc = S.encode(A, fmt, prec)
        assert enc.nnz == np.count_nonzero(A)
        out = S.decode(enc)
        assert out.dtype == A.dtype and out.shape == A.shape
        assert np.array_equal(out, A), fmt
        # scipy input gives the identical encoding
        assert_same_encoding(S.encode(sps.csr_matrix(A), fmt, prec), enc)


@SETTINGS
@given(A=matrices(max_dim=9), prec=precisions)
def test_every_conversion_lands_on_the_canonical_encoding(A, prec):
    encs = {f: S.encode(A, f, prec) for f in FORMATS}
    for f in FORMATS:
        for g in FORMATS:
            out, work = S.convert(encs[f], g)
            assert_same_encoding(out, encs[g])
            assert work == S.conversion_work(A, f, g, prec)
            assert set(work) == set(S.WORK_FIELDS)
            if f == g:
                assert all(v == 0 for v in work.values())


@SETTINGS
@given(A=matrices(max_dim=10, dtypes=(np.float32,)))
def test_arrays_match_scipy_and_numpy_layouts(A):
    prec = S.Precision(index_bits=32, pointer_bits=32)
    csr, csc, coo = sps.csr_matrix(A), sps.csc_matrix(A), sps.coo_matrix(A)
    e = S.encode(A, "csr", prec).arrays
    assert np.array_equal(e["indptr"], csr.indptr) and np.array_equal(e["indices"], csr.indices)
    assert np.array_equal(e["values"], csr.data)
    e = S.encode(A, "csc", prec).arrays
    assert np.array_equal(e["indptr"], csc.indptr) and np.array_equal(e["indices"], csc.indices)
    e = S.encode(A, "coo", prec).arrays
    order = np.lexsort((coo.col, coo.row))
    assert np.array_equal(e["row"], coo.row[order]) and np.array_equal(e["col"], coo.col[order])
    e = S.encode(A, "bitmap").arrays
    assert np.array_equal(e["mask"], np.packbits((A != 0).ravel()))
    assert np.array_equal(e["values"], A[A != 0])
    for r in range(2, 9):
        e = S.encode(A, "rlc", S.Precision(rlc_run_bits=r)).arrays
        assert len(e["runs"]) == np.count_nonzero(A) + rlc_fillers(A, r)
        assert e["runs"].max(initial=0) <= 2**r - 1
        assert np.array_equal(rlc_decode(e["runs"], e["values"], A.shape), A)
    e = S.encode(A, "ell").arrays
    k = int((A != 0).sum(axis=1).max())
    assert e["values"].shape == (A.shape[0], k)
    for i in range(A.shape[0]):
        nz = np.flatnonzero(A[i])
        assert np.array_equal(e["indices"][i, :len(nz)], nz)
        assert np.array_equal(e["values"][i, :len(nz)], A[i, nz])
        assert not e["values"][i, len(nz):].any() and not e["indices"][i, len(nz):].any()
    e = S.encode(A, "dia").arrays
    assert np.array_equal(e["offsets"], diagonals(A))
    for d, o in enumerate(e["offsets"].tolist()):
        diag = np.diagonal(A, offset=o)
        assert np.array_equal(e["values"][d, :len(diag)], diag)
    r, c = 2, 3
    e = S.encode(A, "bcsr", S.Precision(bcsr_block=(r, c))).arrays
    bsr = sps.csr_matrix(np.pad(A, ((0, -A.shape[0] % r), (0, -A.shape[1] % c)))).tobsr((r, c))
    bsr.sort_indices()
    bsr.eliminate_zeros()
    keep = np.abs(bsr.data).sum(axis=(1, 2)) > 0
    assert np.array_equal(e["values"], bsr.data[keep])
    assert np.array_equal(e["indices"], bsr.indices[keep])


def test_int8_and_widths_pick_containers():
    A = np.array([[0, -3, 0, 7], [5, 0, 0, 0], [0, 0, 0, -128]], dtype=np.int8)
    enc = S.encode(A, "coo", S.Precision(index_bits=None))
    assert enc.arrays["row"].dtype == np.uint8 and enc.arrays["values"].dtype == np.int8
    enc = S.encode(A, "csr", S.Precision(index_bits=32, pointer_bits=64))
    assert enc.arrays["indices"].dtype == np.uint32 and enc.arrays["indptr"].dtype == np.uint64
    enc = S.encode(np.eye(300, dtype=np.float32), "csr", S.Precision(index_bits=None, pointer_bits=16))
    assert enc.arrays["indices"].dtype == np.uint16 and enc.arrays["indptr"].dtype == np.uint16
    # bool and small ints become int8, exact float64 becomes float32
    assert S.encode(A.astype(bool), "csr").dtype == np.int8
    assert S.encode(A.astype(np.int64), "csr").dtype == np.int8
    assert S.encode(A.astype(np.float64) / 2, "csr").dtype == np.float32


def test_negative_zero_is_zero():
    A = np.array([[-0.0, 1.0]], dtype=np.float32)
    for fmt in FORMATS:
        enc = S.encode(A, fmt)
        assert enc.nnz == 1 and np.array_equal(S.decode(enc), A)


# ----------------------------------------------------------------- 2. storage
@SETTINGS
@given(A=matrices(), prec=precisions)
def test_storage_matches_the_formulas_counted_on_the_data(A, prec):
    table = S.storage_table(A, prec)
    for fmt in FORMATS:
        meta, payload = brute_storage(A, fmt, prec)
        s = table[fmt]
        assert (s["metadata_bits"], s["payload_bits"]) == (meta, payload), fmt
        assert s["total_bits"] == meta + payload
        assert s["metadata_bytes"] == -(-meta // 8) and s["payload_bytes"] == -(-payload // 8)
        assert s["total_bytes"] == s["metadata_bytes"] + s["payload_bytes"]
        assert S.storage(A, fmt, prec) == s
        assert S.storage(sps.coo_matrix(A), fmt, prec) == s


@pytest.mark.parametrize("seed", range(4))
def test_csr_csc_coo_bytes_equal_scipy(seed):
    rng = np.random.default_rng(seed)
    A = sps.random(200 + seed * 37, 150 + seed * 11, density=0.03 * (seed + 1),
                   format="csr", dtype=np.float32, random_state=rng)
    A.sum_duplicates()
    A.eliminate_zeros()
    for bits, itype, vtype in ((32, np.int32, np.float32), (64, np.int64, np.float64)):
        prec = S.Precision(value_bits=bits, index_bits=bits, pointer_bits=bits)
        csr = sps.csr_matrix(A, dtype=vtype)
        csc, coo = csr.tocsc(), csr.tocoo()
        # scipy's arrays cast to the matching dtypes (scipy picks int32 itself)
        nbytes = lambda *arrays: sum(a.nbytes for a in arrays)  # noqa: E731
        csr_b = nbytes(csr.data, csr.indices.astype(itype), csr.indptr.astype(itype))
        csc_b = nbytes(csc.data, csc.indices.astype(itype), csc.indptr.astype(itype))
        coo_b = nbytes(coo.data, coo.row.astype(itype), coo.col.astype(itype))
        assert csr.data.dtype == vtype
        assert S.storage(A, "csr", prec)["total_bytes"] == csr_b
        assert S.storage(A, "csc", prec)["total_bytes"] == csc_b
        assert S.storage(A, "coo", prec)["total_bytes"] == coo_b
        assert S.storage(A, "csr", prec)["payload_bytes"] == csr.data.nbytes
        if itype == np.int32:  # scipy's own arrays, as it stores them
            assert csr.indices.dtype == np.int32
            assert csr_b == csr.data.nbytes + csr.indices.nbytes + csr.indptr.nbytes
    # byte-aligned widths: the container arrays hold exactly the counted bytes
    prec = S.Precision(value_bits=32, index_bits=32, pointer_bits=32)
    for fmt in ("csr", "csc", "coo"):
        enc = S.encode(A, fmt, prec)
        assert sum(a.nbytes for a in enc.arrays.values()) == enc.storage()["total_bytes"]


def test_spec_compactness_regions_1024_square():
    """The spec's regions for a 1024 x 1024 fp32 uniform matrix (best RLC-r over r)."""
    rng = np.random.default_rng(0)
    n = 1024

    def best(d):
        nnz = int(d * n * n)
        flat = rng.choice(n * n, size=nnz, replace=False)
        A = sps.csr_matrix((np.ones(nnz, np.float32), np.divmod(flat, n)), shape=(n, n))
        t = {f: s["total_bits"] for f, s in S.storage_table(A).items()}
        t["rlc"] = min(S.storage(A, "rlc", S.Precision(rlc_run_bits=r))["total_bits"]
                       for r in range(2, 9))
        return min(t, key=t.get)

    assert best(0.001) == "coo"
    assert best(0.005) == "csr"
    assert best(0.05) == "rlc"
    assert best(0.5) == "bitmap"
    assert best(0.99) == "dense"


# ----------------------------------------------------------------- 3. conversion work
def test_conversion_work_formulas_on_an_example():
    A = np.zeros((6, 5), dtype=np.float32)
    A[0, 1] = A[2, 3] = A[2, 4] = A[5, 0] = 1.0
    nnz, m, n = 4, 6, 5
    w = S.conversion_work(A, "csr", "csc")
    assert w == {"elements_scanned": 2 * nnz + m + 1, "elements_written": nnz + n + 1,
                 "nnz_moved": nnz, "rows_touched": 2 * m + n, "passes": 2}
    w = S.conversion_work(A, "dense", "csr")
    assert w == {"elements_scanned": m * n, "elements_written": nnz + m + 1, "nnz_moved": nnz,
                 "rows_touched": 2 * m, "passes": 1}
    w = S.conversion_work(A, "coo", "csr")
    assert w["elements_scanned"] == nnz and w["passes"] == 1
    # a non-direct pair is the sum of its two legs through CSR
    for f, g in (("coo", "csc"), ("ell", "dia"), ("rlc", "bitmap"), ("bcsr", "coo")):
        a, b = S.conversion_work(A, f, "csr"), S.conversion_work(A, "csr", g)
        assert S.conversion_work(A, f, g) == {k: a[k] + b[k] for k in a}


# ----------------------------------------------------------------- 4. exact counts
def brute_counts(A: np.ndarray, B: np.ndarray, literal_intersections: bool = True) -> dict:
    a, b = (A != 0).astype(np.int64), (B != 0).astype(np.int64)
    ab = (A != 0).astype(np.float64) @ (B != 0).astype(np.float64)  # exact: counts < 2^53
    out = {"macs": int(ab.sum()), "nnz_c": int(np.count_nonzero(ab))}
    colA, rowB = a.sum(axis=0), b.sum(axis=1)
    kne = int(np.count_nonzero((colA > 0) & (rowB > 0)))
    out["merges_outer"] = out["macs"] * (math.ceil(math.log2(kne)) if kne > 1 else 0)
    g = 0
    for i in range(a.shape[0]):
        ks = np.flatnonzero(a[i] & (rowB > 0))
        f, L = len(ks), int(rowB[ks].sum())
        g += L * (math.ceil(math.log2(f)) if f > 1 else 0)
    out["merges_gustavson"] = g
    if literal_intersections:
        rows = [np.flatnonzero(r).tolist() for r in a]
        cols = [np.flatnonzero(c).tolist() for c in b.T]
        steps = 0
        for x in rows:
            for y in cols:
                i = j = 0
                while i < len(x) and j < len(y):
                    steps += 1
                    if x[i] == y[j]:
                        i += 1
                        j += 1
                    elif x[i] < y[j]:
                        i += 1
                    else:
                        j += 1
        out["intersections"] = steps
    return out


def vectorised_intersections(A, B, rows: slice) -> int:
    """Two-pointer steps = |{x in A_i U B_j : x <= min(max A_i, max B_j)}| (row block)."""
    a = (A[rows] != 0)
    b = (B != 0)
    K = a.shape[1]
    lastA = np.where(a.any(1), K - 1 - np.argmax(a[:, ::-1], axis=1), -1)
    lastB = np.where(b.any(0), K - 1 - np.argmax(b[::-1, :], axis=0), -1)
    total = 0
    for i in range(a.shape[0]):
        if lastA[i] < 0:
            continue
        union = np.cumsum(a[i][:, None] | b, axis=0)  # K x N
        m = np.minimum(lastA[i], lastB)
        ok = lastB >= 0
        total += int(union[m[ok], np.flatnonzero(ok)].sum())
    return total


def check_problem(A, B, op):
    p = S.Problem(A, B, op)
    Ad = A.toarray() if sps.issparse(A) else np.asarray(A)
    Bd = B.toarray() if sps.issparse(B) else np.asarray(B)
    if Bd.ndim == 1:
        Bd = Bd.reshape(-1, 1)
    bf = brute_counts(Ad, Bd, literal_intersections=max(Ad.shape + Bd.shape) <= 40)
    assert p.macs == bf["macs"]
    assert p.merges == {"outer": bf["merges_outer"], "gustavson": bf["merges_gustavson"]}
    if op == "spgemm":
        assert p.nnz_c == bf["nnz_c"]
    if "intersections" in bf:
        assert p.intersections == bf["intersections"]
    return p


@SETTINGS
@given(A=matrices(max_dim=10), B=matrices(max_dim=10))
def test_exact_counts_spgemm_random(A, B):
    B = B[: A.shape[1]] if B.shape[0] >= A.shape[1] else np.vstack(
        [B, np.zeros((A.shape[1] - B.shape[0], B.shape[1]), B.dtype)])
    p = check_problem(A, B, "spgemm")
    r = p.cost("csr", "csc", "inner", "hardware")
    assert (r["macs"], r["intersections"], r["merges"]) == (p.macs, p.intersections, 0)


@SETTINGS
@given(A=matrices(max_dim=12), seed=st.integers(0, 1000))
def test_exact_counts_spmv_spmm_random(A, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(A.shape[1]).astype(np.float32) * (rng.random(A.shape[1]) < 0.7)
    check_problem(A, x, "spmv")
    check_problem(A, np.ones((A.shape[1], 3), np.float32), "spmm")


def test_vectorised_intersections_agree_with_literal_merge():
    rng = np.random.default_rng(5)
    A, B = make_matrix(rng, 9, 13, 0.3), make_matrix(rng, 13, 7, 0.4)
    assert vectorised_intersections(A, B, slice(None)) == brute_counts(A, B)["intersections"]


def propack():
    path = Path(scipy.__file__).parent / "sparse/linalg/tests/propack_test_data.npz"
    if not path.exists():
        pytest.skip(f"scipy's PROPACK matrices are not installed ({path})")
    with np.load(path, allow_pickle=True) as d:
        illc = sps.csr_matrix(d["A_real"].item()).astype(np.float32)
        mhd = sps.csr_matrix(abs(d["A_complex"].item())).astype(np.float32)
    return {"illc1850": illc, "mhd1280b": mhd}


@pytest.mark.parametrize("name", ["illc1850", "mhd1280b"])
def test_exact_counts_propack(name):
    A = propack()[name]
    assert A.shape == {"illc1850": (1850, 712), "mhd1280b": (1280, 1280)}[name]
    B = A.T.tocsr() if A.shape[0] != A.shape[1] else A
    p = check_problem(A, B, "spgemm")
    # intersections: the whole problem against the vectorised brute force on a row block
    rows = slice(0, 48)
    sub = S.Problem(A[rows], B, "spgemm")
    assert sub.intersections == vectorised_intersections(A.toarray(), B.toarray(), rows)
    # storage on the real matrix, and its RLC fillers and blocks counted on the data
    Ad = A.toarray()
    for fmt in FORMATS:
        s = S.storage(A, fmt)
        assert (s["metadata_bits"], s["payload_bits"]) == brute_storage(Ad, fmt, S.Precision())
    for fmt in ("csr", "bcsr", "ell", "rlc"):
        assert np.array_equal(S.decode(S.encode(A, fmt)), Ad)
    assert p.cost("csr", "csr", "gustavson", "none")["macs"] == p.macs


# ----------------------------------------------------------------- 5. cost model
def slots(A: np.ndarray, fmt: str, prec=S.Precision()) -> int:
    m, n = A.shape
    nnz = int(np.count_nonzero(A))
    return {
        "dense": m * n, "bitmap": -(-m * n // 64) + nnz, "rlc": nnz + rlc_fillers(A, prec.rlc_run_bits),
        "coo": nnz, "csr": nnz + m + 1, "csc": nnz + n + 1,
        "ell": m * int((A != 0).sum(1).max()),
        "bcsr": (lambda nb: nb[0] * 16 + nb[0] + nb[1] + 1)(block_count(A, 4, 4)),
        "dia": len(diagonals(A)) * (min(m, n) + 1),
    }[fmt]


def sw_seconds(A, path, consts) -> float:
    t = 0.0
    for f, g in path:
        w = S.conversion_work(A, f, g)
        c = consts[f"{f}->{g}"]  # one kind per direct leg
        t += c[0] + c[1] * (w["elements_scanned"] + w["elements_written"]) + c[2] * w["nnz_moved"]
    return t


def unit_cycles(A: np.ndarray, path, lanes: int, banks: int) -> int:
    """The conversion unit's cycles (docs/design/sparse.md §9), recomputed from the work counts."""
    s, total = min(lanes, banks), 0
    up = lambda x: -(-x // s)  # noqa: E731
    for f, g in path:
        w = S.conversion_work(A, f, g)
        src = slots(A, f)
        if {f, g} == {"csr", "csc"}:
            counts = (A != 0).sum(0 if f == "csr" else 1)
            hot = max(int(counts[b::banks].sum()) for b in range(banks))
            nnz = int(np.count_nonzero(A))
            total += max(up(nnz), hot) + up(len(counts) + 1) + max(up(src), up(nnz), hot)
        elif w["passes"] == 2:
            total += up(w["elements_scanned"] - src) + max(up(src), up(w["elements_written"]))
        else:
            total += max(up(w["elements_scanned"]), up(w["elements_written"]))
    return total


def legs(f, g):
    if f == g:
        return []
    if "dense" in (f, g) or "csr" in (f, g):
        return [(f, g)]
    return [(f, "csr"), ("csr", g)]


@pytest.mark.parametrize("op", S.OPS)
def test_cost_composition(op):
    rng = np.random.default_rng(3)
    A = make_matrix(rng, 40, 30, 0.1)
    B = {"spmv": make_matrix(rng, 30, 1, 0.8)[:, 0], "spmm": np.ones((30, 4), np.float32),
         "spgemm": make_matrix(rng, 30, 25, 0.15)}[op]
    Bd = B.reshape(30, -1)
    accel = S.Accelerator(buffer_bytes=512, conversion_lanes=3, conversion_banks=2)
    consts = S.load_sw_conversion()
    p = S.Problem(A, B, op)
    grid = p.cost_grid(accel, "coo", "dense")
    for fa in FORMATS:
        for fb in FORMATS:
            for df in S.DATAFLOWS:
                for site in S.CONVERSION_SITES:
                    ok, why = S.legal(op, fa, fb, df, site, "coo", "dense")
                    idx = (FORMATS.index(fa), FORMATS.index(fb), S.DATAFLOWS.index(df),
                           S.CONVERSION_SITES.index(site))
                    assert grid["legal"][idx] == ok
                    if not ok:
                        assert why
                        with pytest.raises(S.IllegalAction, match="conversion='none'"):
                            p.cost(fa, fb, df, site, accel, "coo", "dense")
                        continue
                    r = p.cost(fa, fb, df, site, accel, "coo", "dense")
                    assert r["legal"] is True and r["cycles"] == grid["cycles"][idx]
                    assert r["energy_pj"] == pytest.approx(grid["energy_pj"][idx])
                    oa, ob = S.DATAFLOW_ORDERS[df]
                    ea = fa if fa in S.TRAVERSABLE[oa] else ("csc" if oa == "column" else "csr")
                    eb = fb if fb in S.TRAVERSABLE[ob] else ("csc" if ob == "column" else "csr")
                    assert (r["effective_fmt_a"], r["effective_fmt_b"]) == (ea, eb)
                    path_a = legs("coo", fa) + legs(fa, ea)
                    path_b = legs("dense", fb) + legs(fb, eb)
                    # memory: software leaves the converted operand in memory,
                    # the hardware unit reads the stored one
                    read_a, read_b = (ea, eb) if site == "software" else ("coo", "dense")
                    assert r["bytes_a"] == S.storage(A, read_a)["total_bytes"]
                    assert r["bytes_b"] == S.storage(Bd, read_b)["total_bytes"]
                    assert r["bytes"] == r["bytes_a"] + r["bytes_b"] + r["bytes_c"]
                    assert r["memory_cycles"] == math.ceil(r["bytes"] / accel.bandwidth_bytes_per_cycle)
                    n_legs = len(path_a) + len(path_b)
                    assert r["conversion_legs"] == n_legs
                    elems = sum(w["elements_scanned"] + w["elements_written"]
                                for M, path in ((A, path_a), (Bd, path_b)) for f, g in path
                                for w in [S.conversion_work(M, f, g)])
                    assert r["converted_elements"] == elems
                    if site == "hardware" or n_legs == 0:
                        assert r["conversion_cycles"] == unit_cycles(A, path_a, 3, 2) + unit_cycles(Bd, path_b, 3, 2)
                    else:
                        t = sw_seconds(A, path_a, consts) + sw_seconds(Bd, path_b, consts)
                        assert r["conversion_seconds"] == pytest.approx(t, rel=1e-12)
                        assert r["conversion_cycles"] == math.ceil(t * 1e9)
                    # compute: exact counts plus the scan of the laid-out operands
                    assert r["macs"] == p.macs
                    assert r["intersections"] == (p.intersections if df == "inner" else 0)
                    assert r["merges"] == p.merges.get(df, 0)
                    if df != "gustavson":
                        assert r["scan_elements"] == slots(A, ea) + slots(Bd, eb)
                    assert r["compute_cycles"] == (
                        math.ceil(r["macs"] / 64) + math.ceil(r["intersections"] / 64)
                        + math.ceil(r["merges"] / 64) + math.ceil(r["scan_elements"] / 64))
                    ba, bb = S.storage(A, ea)["total_bytes"], S.storage(Bd, eb)["total_bytes"]
                    if df == "inner":
                        spill = (math.ceil(bb / 512) - 1) * ba if bb > 512 else 0
                        assert r["spill_bytes"] == spill
                    assert r["spill_cycles"] == math.ceil(r["spill_bytes"] / 64)
                    assert r["cycles"] == (max(r["compute_cycles"], r["memory_cycles"])
                                           + r["conversion_cycles"] + r["spill_cycles"])
                    energy = (r["macs"] * 4.6 + (r["intersections"] + r["merges"]) * 0.1
                              + r["scan_elements"] * 5.0 + (r["bytes"] + r["spill_bytes"]) * 160.0
                              + (r["conversion_seconds"] * 15.0 * 1e12 if site == "software"
                                 else r["converted_elements"] * 10.0))
                    assert r["energy_pj"] == pytest.approx(energy, rel=1e-9)


def test_legality_table():
    assert S.TRAVERSABLE["row"] == tuple(f for f in FORMATS if f != "csc")
    assert set(S.TRAVERSABLE["row_indexed"]) == {"dense", "bitmap", "csr", "ell", "bcsr", "dia"}
    assert set(S.TRAVERSABLE["column"]) == {"dense", "bitmap", "csc", "dia"}
    assert S.legal("spgemm", "csr", "csc", "inner", "none", "csr", "csc") == (True, "")
    assert S.legal("spgemm", "csr", "csr", "gustavson", "none", "csr", "csr") == (True, "")
    assert S.legal("spgemm", "csc", "csr", "outer", "none", "csc", "csr") == (True, "")
    ok, why = S.legal("spgemm", "csr", "csr", "outer", "none", "csr", "csr")
    assert not ok and "column by column" in why and "csc" in why
    ok, why = S.legal("spgemm", "csr", "csr", "inner", "none", "coo", "csr")
    assert not ok and "stored as coo" in why
    ok, why = S.legal("spgemm", "csr", "rlc", "gustavson", "none", "csr", "rlc")
    assert not ok and "random row access" in why
    for site in ("software", "hardware"):
        assert S.legal("spmv", "rlc", "coo", "outer", site, "dense", "ell")[0]
    with pytest.raises(ValueError, match="unknown dataflow"):
        S.legal("spmv", "csr", "csr", "diagonal", "none")
    with pytest.raises(ValueError, match="unknown op"):
        S.legal("gemm", "csr", "csr", "inner", "none")
    assert issubclass(S.IllegalAction, ValueError)


def test_spill_and_buffer():
    rng = np.random.default_rng(1)
    A = make_matrix(rng, 64, 64, 0.2)
    p = S.Problem(A, A, "spgemm")
    big, tiny = S.Accelerator(buffer_bytes=1 << 30), S.Accelerator(buffer_bytes=64)
    for df in S.DATAFLOWS:
        assert p.cost("csr", "csr", df, "software", big)["spill_bytes"] == 0
        r = p.cost("csr", "csr", df, "software", tiny)
        assert r["spill_bytes"] > 0 and r["spill_cycles"] > 0
    r = p.cost("csr", "csr", "outer", "software", tiny)
    pp = math.ceil(p.macs * (32 + 6 + 6) / 8)
    assert r["spill_bytes"] == 2 * (pp - 64)
    slow = S.Accelerator(buffer_bytes=64, spill_penalty=3.0)
    assert p.cost("csr", "csr", "outer", "software", slow)["spill_cycles"] == math.ceil(
        3.0 * r["spill_bytes"] / 64)


def test_problem_and_cost_function_agree():
    rng = np.random.default_rng(2)
    A = make_matrix(rng, 20, 16, 0.2)
    B = make_matrix(rng, 16, 12, 0.3)
    accel = S.Accelerator(macs_per_cycle=8)
    prec = S.Precision(value_bits=16)
    want = S.Problem(A, B, "spgemm", prec).cost("ell", "dia", "outer", "hardware", accel,
                                                "csr", "bitmap")
    assert S.cost(A, B, "spgemm", "ell", "dia", "outer", "hardware", accel, prec,
                  "csr", "bitmap") == want


def test_software_conversion_constants():
    consts = S.load_sw_conversion()
    assert set(consts) == set(S.SW_KINDS)
    doc = json.loads((Path(S.__file__).parent / "sw_conversion.json").read_text())
    for kind, c in doc["kinds"].items():
        assert min(c["fixed_s"], c["per_element_s"], c["per_nnz_s"]) >= 0
        # dense->csc walks a row-major array by columns: its time per element grows with
        # the size (caches), the worst fit of the linear model (60% median error).
        assert c["median_rel_err"] < 0.75, kind
    A = sps.random(300, 300, density=0.05, format="csr", dtype=np.float32, random_state=0)
    p = S.Problem(A, A, "spgemm")
    zero = S.Accelerator(sw_conversion={k: (0.0, 0.0, 0.0) for k in S.SW_KINDS})
    assert p.cost("csc", "csr", "outer", "software", zero)["conversion_cycles"] == 0
    slow = S.Accelerator(sw_conversion={"csr->csc": (1e-3, 0.0, 0.0)})  # A stored csr, read as csc
    assert p.cost("csc", "csr", "outer", "software", slow)["conversion_cycles"] == 1_000_000


# Named fields across the binding: a distinctive value per accelerator field,
# so that two fields swapped on the way to the core change a figure below.
DISTINCT_ACCELERATOR = dict(
    macs_per_cycle=3.0, bandwidth_bytes_per_cycle=5.0, buffer_bytes=300.0, conversion_lanes=7.0,
    conversion_banks=2.0, frequency_ghz=1.3, compares_per_cycle=11.0, merges_per_cycle=13.0, scan_elems_per_cycle=17.0,
    energy_mac_pj=1.9, energy_compare_pj=0.23, energy_buffer_pj=2.9, energy_dram_byte_pj=31.0,
    energy_convert_pj=3.7, host_power_w=4.1, spill_penalty=1.6)


def test_accelerator_fields_and_defaults_are_the_cores():
    core = S.model._core
    names = [f.name for f in dataclasses.fields(S.Accelerator) if f.name != "sw_conversion"]
    assert names == list(S.ACCELERATOR_FIELDS) == list(core.ACCELERATOR_FIELDS)
    assert {n: getattr(S.Accelerator(), n) for n in names} == core.ACCELERATOR_DEFAULTS
    assert {f.name: getattr(S.Precision(), f.name) for f in dataclasses.fields(S.Precision)} == \
        core.PRECISION_DEFAULTS
    with pytest.raises(ValueError, match="unknown accelerator field 'mac_per_cycle'"):
        core.Accelerator({"mac_per_cycle": 1.0}, np.zeros((len(S.SW_KINDS), 3)))


def test_every_accelerator_field_reaches_the_core():
    d = DISTINCT_ACCELERATOR
    assert set(d) == set(S.ACCELERATOR_FIELDS)
    acc = S.Accelerator(**d)
    rng = np.random.default_rng(8)
    A, B = make_matrix(rng, 40, 30, 0.2), make_matrix(rng, 30, 25, 0.2)
    p = S.Problem(A, B, "spgemm")
    path_a = {"inner": [("csr", "coo")], "outer": [("csr", "coo"), ("coo", "csr"), ("csr", "csc")],
              "gustavson": [("csr", "coo")]}
    for df in S.DATAFLOWS:
        for site in ("software", "hardware"):
            r = p.cost("coo", "csc" if df == "inner" else "csr", df, site, acc)
            assert min(r["macs"], r["intersections"] + r["merges"], r["scan_elements"],
                       r["converted_elements"], r["conversion_cycles"]) > 0
            compute = (math.ceil(r["macs"] / d["macs_per_cycle"])
                       + math.ceil(r["intersections"] / d["compares_per_cycle"])
                       + math.ceil(r["merges"] / d["merges_per_cycle"])
                       + math.ceil(r["scan_elements"] / d["scan_elems_per_cycle"]))
            assert r["compute_cycles"] == compute
            assert r["memory_cycles"] == math.ceil(r["bytes"] / d["bandwidth_bytes_per_cycle"])
            assert r["spill_cycles"] == math.ceil(
                d["spill_penalty"] * r["spill_bytes"] / d["bandwidth_bytes_per_cycle"])
            if site == "hardware":
                assert r["conversion_cycles"] == unit_cycles(A, path_a[df], 7, 2) + unit_cycles(
                    B, [("csr", "csc")] if df == "inner" else [], 7, 2)
                conversion_energy = r["converted_elements"] * d["energy_convert_pj"]
            else:
                assert r["conversion_cycles"] == math.ceil(r["conversion_seconds"] * d["frequency_ghz"] * 1e9)
                conversion_energy = r["conversion_seconds"] * d["host_power_w"] * 1e12
            assert r["time_s"] == r["cycles"] / (d["frequency_ghz"] * 1e9)
            energy = (r["macs"] * d["energy_mac_pj"] + (r["intersections"] + r["merges"]) * d["energy_compare_pj"]
                      + r["scan_elements"] * d["energy_buffer_pj"]
                      + (r["bytes"] + r["spill_bytes"]) * d["energy_dram_byte_pj"] + conversion_energy)
            assert r["energy_pj"] == pytest.approx(energy, rel=1e-12)
    # inner keeps B resident: A is re-streamed once per further buffer-sized tile of B
    r = p.cost("csr", "csc", "inner", "software", acc)
    assert r["spill_bytes"] > 0
    assert r["spill_bytes"] == (math.ceil(r["bytes_b"] / d["buffer_bytes"]) - 1) * r["bytes_a"]


def test_every_precision_field_reaches_the_core():
    rng = np.random.default_rng(9)
    A = make_matrix(rng, 20, 30, 0.2)
    prec = S.Precision(value_bits=13, index_bits=11, pointer_bits=7, rlc_run_bits=3, bcsr_block=(2, 5))
    for fmt, s in S.storage_table(A, prec).items():
        assert (s["metadata_bits"], s["payload_bits"]) == brute_storage(A, fmt, prec), fmt


# The output C written in a chosen format (fmt_c): the PE array produces C dense, and
# writing it in another format is a dense -> fmt_c conversion at the action's site; its
# exact storage replaces the op's own output in bytes (docs/sparse.md, "Output bytes").
def test_fmt_c_charges_the_given_output_and_its_encoding():
    rng = np.random.default_rng(10)
    A, B = make_matrix(rng, 30, 20, 0.2), make_matrix(rng, 20, 12, 0.3)
    C = np.maximum(A @ B, 0).astype(np.float32)  # e.g. after a ReLU: not A @ B's pattern
    acc = S.Accelerator(bandwidth_bytes_per_cycle=3.0)
    consts = S.load_sw_conversion()
    p, plain = S.Problem(A, B, "spmm", C=C), S.Problem(A, B, "spmm")
    for site in ("none", "software", "hardware"):
        action = ("csr", "dense", "gustavson", site, acc, "csr", "dense")  # no input conversion
        assert p.cost(*action) == plain.cost(*action)  # no fmt_c: the op's own (dense) output
        base = plain.cost(*action)
        assert base["conversion_cycles"] == 0
        for fmt in FORMATS:
            if site == "none" and fmt != "dense":
                with pytest.raises(S.IllegalAction, match="C is written as " + fmt):
                    p.cost(*action, fmt_c=fmt)
                continue
            r = p.cost(*action, fmt_c=fmt)
            # software: the accelerator writes C dense, the host encodes it
            out = S.storage(C, "dense" if site == "software" else fmt)["total_bytes"]
            assert r["bytes_c"] == out
            assert r["bytes"] == base["bytes_a"] + base["bytes_b"] + out
            assert r["memory_cycles"] == math.ceil(r["bytes"] / 3.0)
            leg = [("dense", fmt)] if fmt != "dense" else []
            assert r["conversion_legs"] == len(leg)
            if site == "hardware":
                assert r["conversion_cycles"] == unit_cycles(C, leg, 16, 32)
            elif leg:
                t = sw_seconds(C, leg, consts)
                assert r["conversion_seconds"] == pytest.approx(t, rel=1e-12)
                assert r["conversion_cycles"] == math.ceil(r["conversion_seconds"] * 1e9)
            assert r["cycles"] == (max(base["compute_cycles"], r["memory_cycles"]) + r["conversion_cycles"]
                                   + base["spill_cycles"])
            grid = p.cost_grid(acc, "csr", "dense", fmt_c=fmt)
            idx = (FORMATS.index("csr"), FORMATS.index("dense"), S.DATAFLOWS.index("gustavson"),
                   S.CONVERSION_SITES.index(site))
            assert grid["legal"][idx] and grid["cycles"][idx] == r["cycles"] and grid["bytes"][idx] == r["bytes"]
    none_idx = (FORMATS.index("csr"), FORMATS.index("dense"), S.DATAFLOWS.index("gustavson"), 0)
    assert not p.cost_grid(acc, "csr", "dense", fmt_c="csr")["legal"][none_idx]
    action = ("csr", "dense", "gustavson", "software", acc, "csr", "dense")
    assert S.cost(A, B, "spmm", "csr", "dense", "gustavson", "software", acc, stored_b="dense", C=C,
                  fmt_c="coo") == p.cost(*action, fmt_c="coo")
    with pytest.raises(ValueError, match="fmt_c needs the output C"):
        plain.cost(*action, fmt_c="csr")
    with pytest.raises(ValueError, match="fmt_c needs the output C"):
        plain.cost_grid(acc, fmt_c="csr")
    with pytest.raises(ValueError, match="C is 30 x 11 but A @ B is 30 x 12"):
        S.Problem(A, B, "spmm", C=C[:, :11])
    with pytest.raises(ValueError, match="unknown format"):
        p.cost(*action, fmt_c="zip")


# ----------------------------------------------------------------- 6. validation
@pytest.mark.parametrize("kwargs", [
    {"value_bits": 0}, {"value_bits": 65}, {"index_bits": 0}, {"pointer_bits": 65},
    {"rlc_run_bits": 1}, {"rlc_run_bits": 9}, {"bcsr_block": (0, 4)}, {"bcsr_block": (4,)},
    {"value_bits": True}, {"value_bits": 3.5},
])
def test_bad_precision(kwargs):
    with pytest.raises(ValueError):
        S.Precision(**kwargs)


@pytest.mark.parametrize("kwargs", [
    {"macs_per_cycle": 0}, {"bandwidth_bytes_per_cycle": -1.0}, {"buffer_bytes": float("nan")},
    {"frequency_ghz": float("inf")}, {"conversion_lanes": True}, {"macs_per_cycle": "8"},
    {"conversion_lanes": 2.5}, {"conversion_lanes": 8192}, {"conversion_banks": 3},
    {"conversion_banks": 8192}, {"conversion_banks": 0},
    {"energy_mac_pj": -1.0}, {"sw_conversion": {"nope": (0, 0, 0)}},
    {"sw_conversion": {"csr->coo": (0, -1.0, 0)}}, {"sw_conversion": {"csr->coo": (1, 2)}},
])
def test_bad_accelerator(kwargs):
    with pytest.raises(ValueError):
        S.Accelerator(**kwargs)


@pytest.mark.parametrize("bad", [
    np.array([[1.0, np.nan]]), np.array([[np.inf, 0.0]]), np.zeros((2, 2, 2)), np.zeros(3),
    np.zeros((0, 4)), np.array([["a", "b"]]), np.array([[1 + 2j]]), np.array([[None]]),
])
def test_bad_matrices(bad):
    with pytest.raises(ValueError):
        S.storage(bad, "csr")
    with pytest.raises(ValueError):
        S.encode(bad, "csr")
    with pytest.raises(ValueError):
        S.Problem(bad, np.ones(2), "spmv")


def test_bad_names_and_shapes():
    A = np.eye(4, dtype=np.float32)
    with pytest.raises(ValueError, match="unknown format"):
        S.storage(A, "csf")
    with pytest.raises(ValueError, match="unknown format"):
        S.encode(A, "CSR")
    with pytest.raises(ValueError, match="unknown conversion site"):
        S.cost(A, A, "spgemm", "csr", "csr", "inner", "gpu")
    with pytest.raises(ValueError, match="columns must equal"):
        S.Problem(A, np.ones((3, 2)), "spmm")
    with pytest.raises(ValueError, match="vector"):
        S.Problem(A, np.ones((4, 2)), "spmv")
    with pytest.raises(ValueError, match="float32"):
        S.encode(np.array([[0.1]]), "csr")  # float64 0.1 is not a float32
    assert S.storage(np.array([[0.1]]), "csr")["payload_bits"] == 32  # the pattern is enough


def test_widths_and_sizes_are_checked():
    A = np.ones((3, 100), dtype=np.float32)
    with pytest.raises(ValueError, match="index_bits=4 cannot address 100 columns"):
        S.storage(A, "csr", S.Precision(index_bits=4))
    with pytest.raises(ValueError, match="index_bits"):
        S.encode(A, "coo", S.Precision(index_bits=4))
    with pytest.raises(ValueError, match="pointer_bits=8 cannot hold nnz=300"):
        S.storage(A, "csr", S.Precision(pointer_bits=8))
    with pytest.raises(ValueError, match="does not fit in 8 bits"):
        S.encode(A, "csr", S.Precision(pointer_bits=8))
    # a big sparse matrix: storage is counted, a dense or DIA encoding is refused
    big = sps.coo_matrix((np.ones(3, np.float32), ([0, 5, 65535], [7, 9, 65535])),
                         shape=(65536, 65536))
    assert S.storage(big, "dense")["payload_bits"] == 65536 * 65536 * 32
    with pytest.raises(ValueError, match="2\\^30 limit"):
        S.encode(big, "dense")
    assert S.encode(big, "coo").nnz == 3
    row = sps.coo_matrix((np.ones(40000, np.float32), (np.zeros(40000, int), np.arange(40000))),
                         shape=(40000, 40000))  # 40000 diagonals of length 40000
    assert S.storage(row, "dia")["payload_bits"] == 40000 * 40000 * 32
    with pytest.raises(ValueError, match="2\\^30 limit"):
        S.encode(row, "dia")
    with pytest.raises(ValueError, match="<= 67108864"):
        S.storage(sps.coo_matrix((2**27, 2), dtype=np.float32), "csr")


def mutate(enc: S.Encoded, rng: np.random.Generator) -> S.Encoded:
    arrays = {k: v.copy() for k, v in enc.arrays.items()}
    name = rng.choice(sorted(arrays))
    a = arrays[name]
    choice = rng.integers(0, 4)
    if a.size and choice == 0:  # change one element
        flat = a.reshape(-1)
        flat[rng.integers(0, flat.size)] = rng.choice([0, 1, -1, 3, 127, 255]).astype(a.dtype)
    elif a.size and choice == 1:  # drop the last element
        arrays[name] = a.reshape(-1)[:-1]
    elif choice == 2:  # append one
        arrays[name] = np.concatenate([a.reshape(-1), np.ones(1, a.dtype)])
    else:  # large values
        flat = a.reshape(-1)
        if flat.size:
            flat[rng.integers(0, flat.size)] = np.iinfo(a.dtype).max if a.dtype.kind in "iu" else 7
    return S.Encoded(enc.fmt, enc.shape, arrays, enc.precision, nnz=enc.nnz)


@settings(max_examples=60, deadline=None)
@given(A=matrices(max_dim=8), seed=st.integers(0, 2**32 - 1))
def test_malformed_encodings_raise_or_decode(A, seed):
    """Random corruption never crashes the core: ValueError, or a valid matrix."""
    rng = np.random.default_rng(seed)
    prec = S.Precision(rlc_run_bits=int(rng.integers(2, 9)), bcsr_block=(2, 3))
    for fmt in FORMATS:
        bad = mutate(S.encode(A, fmt, prec), rng)
        for op in (S.decode, lambda e: S.convert(e, "csc"), lambda e: S.storage(e, "csr")):
            try:
                op(bad)
            except ValueError:
                pass


def test_malformed_encodings_messages():
    A = np.array([[0, 1.5, 0], [2.0, 0, 0]], dtype=np.float32)
    enc = S.encode(A, "csr")
    bad = S.Encoded("csr", (2, 3), dict(enc.arrays, indices=np.array([1, 3], np.uint8)))
    with pytest.raises(ValueError, match="out of range"):
        S.decode(bad)
    bad = S.Encoded("csr", (2, 3), dict(enc.arrays, indptr=np.array([0, 2, 1], np.uint32)))
    with pytest.raises(ValueError, match="non-decreasing"):
        S.decode(bad)
    coo = S.encode(A, "coo")
    swapped = {k: v[::-1].copy() for k, v in coo.arrays.items()}
    with pytest.raises(ValueError, match="canonical order"):
        S.decode(S.Encoded("coo", (2, 3), swapped))
    rlc = S.encode(A, "rlc", S.Precision(rlc_run_bits=2))
    with pytest.raises(ValueError, match="run"):
        S.decode(S.Encoded("rlc", (2, 3), dict(rlc.arrays, runs=np.array([9, 0], np.uint8)),
                           S.Precision(rlc_run_bits=2)))
    with pytest.raises(ValueError, match="float32 or int8"):
        S.decode(S.Encoded("csr", (2, 3), dict(enc.arrays, values=np.array([1.5, 2.0]))))
    with pytest.raises(ValueError, match="missing"):
        S.decode(S.Encoded("csr", (2, 3), {"values": enc.arrays["values"]}))


def test_features():
    rng = np.random.default_rng(4)
    A = make_matrix(rng, 30, 20, 0.15)
    f = dict(zip(S.FEATURE_NAMES, S.features(A).tolist()))
    assert S.features(A).dtype == np.float32 and len(S.FEATURE_NAMES) == len(f)
    nz = A != 0
    r, c = nz.sum(1), nz.sum(0)
    nnzb, _, _ = block_count(A, 4, 4)
    i, j = np.nonzero(A)
    expect = {
        "rows": 30, "cols": 20, "nnz": nz.sum(), "density": nz.mean(),
        "row_nnz_mean": r.mean(), "row_nnz_cv": r.std() / r.mean(), "row_nnz_max": r.max(),
        "col_nnz_mean": c.mean(), "col_nnz_cv": c.std() / c.mean(), "col_nnz_max": c.max(),
        "empty_row_frac": (r == 0).mean(), "empty_col_frac": (c == 0).mean(),
        "block_fill_4x4": nz.sum() / (16 * nnzb), "bandwidth": np.abs(i - j).max() / 30,
        "diag_fill": nz.sum() / (len(diagonals(A)) * 20), "ell_fill": nz.sum() / (30 * r.max()),
        "rlc4_fillers_per_nnz": rlc_fillers(A, 4) / nz.sum(), "log2_rows": np.log2(30),
        "log2_cols": np.log2(20), "log10_density": np.log10(nz.mean()),
    }
    for k, v in expect.items():
        assert f[k] == pytest.approx(float(v), rel=1e-5), k
    assert np.array_equal(S.features(sps.csr_matrix(A)), S.features(A))


def test_import_does_not_need_scipy():
    code = ("import sys; sys.modules['scipy'] = None; import archgym, archgym.sparse as s, numpy as np; "
            "print(s.storage(np.eye(3, dtype=np.float32), 'csr')['total_bytes'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=cli_env())
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(3 * 4 + 3 * 2 // 8 + 1 + 4 * 4)


# ----------------------------------------------------------------- 7. command line
def cli_env() -> dict:
    env = dict(os.environ)
    root = str(Path(archgym.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    return env


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "archgym.sparse", *map(str, args)],
                          capture_output=True, text=True, env=cli_env(), timeout=120)


@pytest.mark.parametrize("op", S.OPS)
def test_cli_reports_storage_and_costs(tmp_path, op):
    rng = np.random.default_rng(7)
    A = sps.csr_matrix(make_matrix(rng, 30, 24, 0.1))
    path = tmp_path / "a.mtx"
    scipy.io.mmwrite(str(path), A)
    out = run_cli(path, "--op", op, "--n", 5, "--value-bits", 16, "--index-bits", 8)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert "most compact" in out.stdout and "baseline" in out.stdout
    r = json.loads(lines[-1])
    prec = S.Precision(value_bits=16, index_bits=8)
    table = S.storage_table(A, prec)
    assert r["storage"] == {f: {k: table[f][k] for k in ("metadata_bytes", "payload_bytes", "total_bytes")}
                            for f in FORMATS}
    assert r["shape"] == [30, 24] and r["nnz"] == A.nnz and r["stored_a"] == "coo"
    best = [c for c in r["costs"] if c["best"]]
    assert len(best) == 1 and best[0] == r["best"]
    assert best[0]["cycles"] == min(c["cycles"] for c in r["costs"])
    B = {"spmv": np.ones(24, np.float32), "spmm": np.ones((24, 5), np.float32),
         "spgemm": A.T.tocsr()}[op]
    p = S.Problem(A, B, op, prec)
    for c in r["costs"][:: max(1, len(r["costs"]) // 25)]:
        want = p.cost(c["fmt_a"], c["fmt_b"], c["dataflow"], c["conversion"],
                      stored_a="coo", stored_b=r["stored_b"])
        assert (c["cycles"], c["energy_pj"]) == (want["cycles"], pytest.approx(want["energy_pj"]))
    assert len(r["costs"]) == sum(
        S.legal(op, fa, fb, df, s, "coo", r["stored_b"])[0]
        for fa in FORMATS for fb in FORMATS for df in S.DATAFLOWS for s in S.CONVERSION_SITES)


@pytest.mark.parametrize("content, message", [
    ("this is not a matrix\n", "not a valid MatrixMarket file"),
    ("%%MatrixMarket matrix coordinate real general\n3 3 2\n1 1 1.0\n", "not a valid MatrixMarket"),
    ("%%MatrixMarket matrix coordinate real general\n3 3 1\n5 1 1.0\n", "not a valid MatrixMarket"),
    ("%%MatrixMarket matrix coordinate real general\n3 x 1\n1 1 1.0\n", "not a valid MatrixMarket"),
    ("%%MatrixMarket matrix coordinate complex general\n2 2 1\n1 1 1.0 2.0\n", "complex"),
    ("%%MatrixMarket matrix coordinate real general\n2 2 1\n1 1 nan\n", "finite"),
    ("", "not a valid MatrixMarket"),
])
def test_cli_malformed_files(tmp_path, content, message):
    path = tmp_path / "bad.mtx"
    path.write_text(content)
    out = run_cli(path)
    assert out.returncode == 1
    assert message in out.stderr, out.stderr
    assert "Traceback" not in out.stderr and out.stdout == ""


def test_cli_missing_file_and_bad_options(tmp_path):
    out = run_cli(tmp_path / "nope.mtx")
    assert out.returncode == 1 and "cannot open" in out.stderr and "Traceback" not in out.stderr
    path = tmp_path / "a.mtx"
    scipy.io.mmwrite(str(path), sps.eye(4, format="coo"))
    out = run_cli(path, "--value-bits", 0)
    assert out.returncode == 1 and "value_bits" in out.stderr
    out = run_cli(path, "--op", "spmm", "--n", 0)
    assert out.returncode == 1 and "--n" in out.stderr
