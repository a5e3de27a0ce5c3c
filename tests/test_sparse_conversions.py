"""The typed conversion kernels (csrc/sparse/compressed.hpp) against scipy.sparse.

archgym.sparse.convert takes the typed kernels when the source's index arrays are
in the unsigned containers its own encodings use (DIA: signed offsets), and the
general path (formats.cpp) otherwise.  Here every kernel's result is compared,
array for array, with scipy's conversion of the same matrix and with the general
path (the same encoding with int64 index arrays), on random matrices with empty
rows and columns, all-zero, 1 x 1 and rectangular ones; a source the kernels
refuse gets the general path's message.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.sparse as sps
from hypothesis import given, settings
from hypothesis import strategies as st

from archgym import sparse as S
from test_sparse_core import assert_same_encoding as assert_same

SHAPES = [(1, 1), (1, 7), (7, 1), (5, 5), (6, 9), (13, 4), (17, 17)]
DENSITIES = [0.0, 0.1, 0.4, 1.0]
BLOCKS = [(1, 1), (2, 2), (4, 4), (2, 3), (3, 5)]
# (index_bits, pointer_bits): as scipy's int32, the smallest containers, mixed
WIDTHS = {"32": (32, 32), "auto": (None, 16), "16-64": (16, 64)}


def random_matrix(rng: np.random.Generator, m: int, n: int, density: float) -> np.ndarray:
    vals = rng.standard_normal((m, n)).astype(np.float32)
    vals[vals == 0] = 1.0
    A = np.where(rng.random((m, n)) < density, vals, 0).astype(np.float32)
    if m > 2:
        A[m // 2] = 0  # an empty row (and, for wide matrices, empty columns)
    return A


def cases():
    rng = np.random.default_rng(7)
    for m, n in SHAPES:
        for d in DENSITIES:
            yield random_matrix(rng, m, n, d)
    yield np.eye(6, 9, k=2, dtype=np.float32)
    yield np.full((4, 6), -2.5, dtype=np.float32)


def general(enc: S.Encoded) -> S.Encoded:
    """The same encoding with int64 index arrays, which the typed kernels do not take."""
    arrays = {k: (v.astype(np.int64) if v.dtype.kind == "u" else v) for k, v in enc.arrays.items()}
    return S.Encoded(enc.fmt, enc.shape, arrays, enc.precision, nnz=enc.nnz)


def assert_csr_is_scipys(enc: S.Encoded, A: np.ndarray) -> None:
    ref = sps.csr_matrix(A)
    assert np.array_equal(enc.arrays["indptr"], ref.indptr)
    assert np.array_equal(enc.arrays["indices"], ref.indices)
    assert np.array_equal(enc.arrays["values"], ref.data)


def scipy_bsr(A: np.ndarray, r: int, c: int):
    """scipy's BSR of A padded to whole blocks, sorted, without all-zero blocks."""
    pad = np.pad(A, ((0, -A.shape[0] % r), (0, -A.shape[1] % c)))
    bsr = sps.csr_matrix(pad).tobsr((r, c))
    bsr.sort_indices()
    keep = np.abs(bsr.data).sum(axis=(1, 2)) > 0
    kept = [keep[bsr.indptr[R]:bsr.indptr[R + 1]].sum() for R in range(len(bsr.indptr) - 1)]
    return bsr.data[keep], bsr.indices[keep], np.concatenate([[0], np.cumsum(kept)])


@pytest.mark.parametrize("widths", WIDTHS)
@pytest.mark.parametrize("block", BLOCKS, ids=str)
def test_csr_bcsr_both_ways_match_scipy_and_the_general_path(widths, block):
    index_bits, pointer_bits = WIDTHS[widths]
    prec = S.Precision(index_bits=index_bits, pointer_bits=pointer_bits, bcsr_block=block)
    for A in cases():
        csr = S.encode(A, "csr", prec)
        bcsr, work = S.convert(csr, "bcsr")
        assert_same(bcsr, S.encode(A, "bcsr", prec))
        ref_general, work_general = S.convert(general(csr), "bcsr")
        assert_same(bcsr, ref_general)
        assert work == work_general == S.conversion_work(A, "csr", "bcsr", prec)
        data, indices, indptr = scipy_bsr(A, *block)
        assert np.array_equal(bcsr.arrays["values"], data)
        assert np.array_equal(bcsr.arrays["indices"], indices)
        assert np.array_equal(bcsr.arrays["indptr"], indptr)

        back, work = S.convert(bcsr, "csr")
        assert_same(back, csr)
        assert_csr_is_scipys(back, A)
        ref_general, work_general = S.convert(general(bcsr), "csr")
        assert_same(back, ref_general)
        assert work == work_general == S.conversion_work(A, "bcsr", "csr", prec)


@pytest.mark.parametrize("block", [(1, 1), (2, 4)], ids=str)
def test_csr_to_bcsr_block_columns_over_many_bitmap_words(block):
    """Block rows whose block columns span several 64-bit words of the bitmap, with
    0, 1, a few and many (more than the kernel takes without a loop) set per word,
    and the last bit of a word (block column 63) set."""
    rng = np.random.default_rng(11)
    prec = S.Precision(index_bits=32, pointer_bits=32, bcsr_block=block)
    for density in (0.02, 0.1, 0.6):
        A = random_matrix(rng, 8, 64 * 5 * block[1], density)
        A[0, 63 * block[1]] = 3.0  # block column 63
        A[1, 64 * block[1]:70 * block[1]] = 1.5  # a word's first six bits
        bcsr, _ = S.convert(S.encode(A, "csr", prec), "bcsr")
        data, indices, indptr = scipy_bsr(A, *block)
        assert np.array_equal(bcsr.arrays["values"], data)
        assert np.array_equal(bcsr.arrays["indices"], indices)
        assert np.array_equal(bcsr.arrays["indptr"], indptr)


@pytest.mark.parametrize("widths", WIDTHS)
def test_dia_to_csr_matches_scipy(widths):
    index_bits, pointer_bits = WIDTHS[widths]
    prec = S.Precision(index_bits=index_bits, pointer_bits=pointer_bits)
    for A in cases():
        dia = S.encode(A, "dia", prec)
        csr, work = S.convert(dia, "csr")
        assert_same(csr, S.encode(A, "csr", prec))
        ref = sps.csr_matrix(A).todia().tocsr()  # scipy's own DIA -> CSR, canonicalised
        ref.eliminate_zeros()
        ref.sort_indices()
        assert np.array_equal(csr.arrays["indptr"], ref.indptr)
        assert np.array_equal(csr.arrays["indices"], ref.indices)
        assert np.array_equal(csr.arrays["values"], ref.data)
        assert work == S.conversion_work(A, "dia", "csr", prec)
        # int64 offsets take the same kernel, uint8 ones (all offsets >= 0) the general path
        wide = S.Encoded("dia", A.shape, dict(dia.arrays, offsets=dia.arrays["offsets"].astype(np.int64)),
                         prec, nnz=dia.nnz)
        assert_same(S.convert(wide, "csr")[0], csr)
        if dia.arrays["offsets"].min(initial=0) >= 0:
            unsigned = S.Encoded("dia", A.shape, dict(dia.arrays, offsets=dia.arrays["offsets"].astype(np.uint8)),
                                 prec, nnz=dia.nnz)
            assert_same(S.convert(unsigned, "csr")[0], csr)


@pytest.mark.parametrize("shape, density", [((40, 5000), 0.5), ((5000, 40), 0.5), ((2100, 2100), 0.02)])
def test_transposes_with_thousands_of_fibers_match_scipy(shape, density):
    """Thousands of fibers and tens of thousands of entries: many checked runs, many result fibers."""
    m = sps.random(*shape, density=density, format="csr", dtype=np.float32, random_state=5)
    m.data += 0.5  # no stored zeros
    prec = S.Precision(index_bits=32, pointer_bits=32)
    csr = S.encode(m, "csr", prec)
    csc, work = S.convert(csr, "csc")
    ref = m.tocsc()
    assert np.array_equal(csc.arrays["indptr"], ref.indptr)
    assert np.array_equal(csc.arrays["indices"], ref.indices)
    assert np.array_equal(csc.arrays["values"], ref.data)
    assert_same(csc, S.convert(general(csr), "csc")[0])
    assert work == S.convert(general(csr), "csc")[1]
    back, _ = S.convert(csc, "csr")
    assert_same(back, csr)
    assert_same(back, S.convert(general(csc), "csr")[0])


@pytest.mark.parametrize("density", [0.01, 0.05, 0.08, 0.5])
def test_csr_to_dense_on_reused_memory_matches_scipy(density):
    """CSR -> dense zeroes its buffer by calloc when the nonzeros are fewer than one per
    64-byte line (density below 1/16 in float32), else row by row right before each
    row's entries, in memory that may still hold an earlier array's numbers: after
    arrays of the same size full of 7s were freed, the result is still scipy's, its
    empty rows included."""
    A = random_matrix(np.random.default_rng(13), 120, 100, density)  # 48 KB: heap memory
    assert not A[60].any()  # an empty row
    csr = S.encode(A, "csr", S.Precision(index_bits=32, pointer_bits=32))
    for _ in range(4):
        junk = np.full(A.shape, 7.0, dtype=np.float32)
        del junk
        out, _ = S.convert(csr, "dense")
        assert out.nnz == np.count_nonzero(A)
        assert np.array_equal(out.arrays["values"], sps.csr_matrix(A).toarray())


def test_int8_values_take_the_kernels_too():
    rng = np.random.default_rng(3)
    A = np.where(rng.random((9, 11)) < 0.3, rng.integers(1, 100, (9, 11)), 0).astype(np.int8)
    prec = S.Precision(bcsr_block=(2, 4))
    for src, dst in [("csr", "bcsr"), ("bcsr", "csr"), ("dia", "csr")]:
        out, _ = S.convert(S.encode(A, src, prec), dst)
        assert_same(out, S.encode(A, dst, prec))


def refused(enc: S.Encoded, to: str, match: str) -> None:
    """The kernels refuse `enc`; the general path names the fault in one ValueError."""
    with pytest.raises(ValueError, match=match):
        S.convert(enc, to)
    with pytest.raises(ValueError, match=match):
        S.convert(general(enc), to)


def test_malformed_bcsr_and_dia_get_the_general_paths_message():
    A = np.array([[1, 0, 0, 2, 0], [0, 0, 0, 0, 3], [4, 0, 0, 0, 0]], dtype=np.float32)
    prec = S.Precision(bcsr_block=(2, 2))
    bcsr = S.encode(A, "bcsr", prec)
    arrays = {k: v.copy() for k, v in bcsr.arrays.items()}
    arrays["values"][-1, 1, 0] = 9.0  # row 3 of a 3-row matrix: padding
    refused(S.Encoded("bcsr", A.shape, arrays, prec), "csr", "padding")
    arrays = {k: v.copy() for k, v in bcsr.arrays.items()}
    arrays["values"][0] = 0.0
    refused(S.Encoded("bcsr", A.shape, arrays, prec), "csr", "all-zero block")
    arrays = {k: v.copy() for k, v in bcsr.arrays.items()}
    arrays["values"][0, 0, 0] = np.nan
    refused(S.Encoded("bcsr", A.shape, arrays, prec), "csr", "finite")
    arrays = {k: v.copy() for k, v in bcsr.arrays.items()}
    arrays["indices"][:2] = arrays["indices"][1::-1]
    refused(S.Encoded("bcsr", A.shape, arrays, prec), "csr", "sorted and unique")

    dia = S.encode(A, "dia")
    arrays = {k: v.copy() for k, v in dia.arrays.items()}
    arrays["values"][-1] = 0.0
    refused(S.Encoded("dia", A.shape, arrays), "csr", "all-zero diagonal")
    arrays = {k: v.copy() for k, v in dia.arrays.items()}
    arrays["values"][-1, -1] = 5.0  # past the end of the last diagonal
    refused(S.Encoded("dia", A.shape, arrays), "csr", "padding")
    arrays = {k: v.copy() for k, v in dia.arrays.items()}
    arrays["offsets"][0] = -3  # outside a 3-row matrix
    refused(S.Encoded("dia", A.shape, arrays), "csr", "offset out of range")
    arrays = {k: v.copy() for k, v in dia.arrays.items()}
    arrays["offsets"] = arrays["offsets"][::-1].copy()
    refused(S.Encoded("dia", A.shape, arrays), "csr", "sorted and unique")

    csr = S.encode(A, "csr", prec)
    arrays = {k: v.copy() for k, v in csr.arrays.items()}
    arrays["indices"][0] = 7
    refused(S.Encoded("csr", A.shape, arrays, prec), "bcsr", "out of range")


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), shape=st.sampled_from(SHAPES), block=st.sampled_from(BLOCKS))
def test_corrupted_sources_raise_or_convert_like_the_general_path(seed, shape, block):
    """One corrupted element: the kernels and the general path agree (same result or both refuse)."""
    rng = np.random.default_rng(seed)
    A = random_matrix(rng, *shape, 0.4)
    prec = S.Precision(bcsr_block=block)
    for src, dst in [("csr", "bcsr"), ("bcsr", "csr"), ("dia", "csr")]:
        enc = S.encode(A, src, prec)
        arrays = {k: v.copy() for k, v in enc.arrays.items()}
        flat = arrays[rng.choice(sorted(arrays))].reshape(-1)
        if flat.size:
            flat[rng.integers(0, flat.size)] = rng.choice([0, 1, 2, -1, 127]).astype(flat.dtype)
        bad = S.Encoded(src, A.shape, arrays, prec, nnz=enc.nnz)
        try:
            out, _ = S.convert(bad, dst)
        except ValueError as e:
            with pytest.raises(ValueError, match=re.escape(str(e))):
                S.convert(general(bad), dst)
            continue
        assert_same(out, S.convert(general(bad), dst)[0])
        assert np.array_equal(S.decode(out), S.decode(bad))


@pytest.mark.parametrize("to", ["dense", "csc"])
@pytest.mark.parametrize("fault", ["out of range", "unsorted", "duplicate", "nan", "zero"])
def test_a_fault_in_a_late_run_of_a_large_source_is_refused(to, fault):
    """CSR -> dense and CSR -> CSC check the source run by run (about 4,096 entries each)
    right before using the run: a fault in the last row, many runs in, is still found
    and gets the general path's message."""
    rng = np.random.default_rng(11)
    A = random_matrix(rng, 300, 300, 0.3)  # about 27,000 entries: several runs
    A[-1, :10] = 1.0  # the last row's first entries, to corrupt
    csr = S.encode(A, "csr", S.Precision(index_bits=32, pointer_bits=32))
    arrays = {k: v.copy() for k, v in csr.arrays.items()}
    last = int(arrays["indptr"][-2])  # the last row's first entry
    assert last > 4 * 4096
    if fault == "out of range":
        arrays["indices"][-1] = 300
    elif fault == "unsorted":
        arrays["indices"][last], arrays["indices"][last + 1] = 1, 0
    elif fault == "duplicate":
        arrays["indices"][last + 1] = arrays["indices"][last]
    else:
        arrays["values"][last + 1] = np.nan if fault == "nan" else 0.0
    bad = S.Encoded("csr", A.shape, arrays, csr.precision, nnz=csr.nnz)
    with pytest.raises(ValueError) as general_error:
        S.convert(general(bad), to)
    with pytest.raises(ValueError, match=re.escape(str(general_error.value))):
        S.convert(bad, to)
