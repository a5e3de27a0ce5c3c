"""The hardware conversion unit (docs/design/sparse.md §9), the software kinds, the
network env's output-encoding charge and the pyamg matrix set.

The unit's cycle counts are checked against hand computations on small matrices:
each expected number is worked out in the comment above it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from archgym import sparse as S
from archgym.envs import sparse_format as E
from archgym.sparse import matrices

# 3 x 4, nnz 5.  Column counts 2, 1, 2, 0; row counts 2, 1, 2.
A = np.array([[1, 0, 2, 0],
              [0, 0, 3, 0],
              [4, 5, 0, 0]], dtype=np.float32)


def hw(fmt_a, dataflow, lanes, banks, stored_a="csr"):
    """Conversion cycles on the unit; B = A^T stored and computed CSR (never converted here)."""
    acc = S.Accelerator(conversion_lanes=lanes, conversion_banks=banks)
    return S.Problem(A, A.T.copy(), "spgemm").cost(fmt_a, "csr", dataflow, "hardware", acc,
                                                   stored_a, "csr")["conversion_cycles"]


def test_transpose_two_passes_and_bank_conflicts():
    # outer reads A by columns: csr -> csc.  s = min(L, B) slots per cycle.
    # L = B = 2: column counters 0, 2 share bank 0 (2 + 2 = 4 updates), 1, 3 bank 1 (1).
    # count: max(ceil(5 / 2), 4) = 4; prefix over N + 1 = 5 pointers: ceil(5 / 2) = 3;
    # scatter: reads S(csr) = 5 + 3 + 1 = 9 -> ceil(9 / 2) = 5, writes ceil(5 / 2) = 3, hot 4 -> 5.
    assert hw("csr", "outer", 2, 2) == 4 + 3 + 5
    # B = 4 banks: one column per bank, hot = 2.  count max(3, 2) = 3, prefix 3, scatter 5.
    assert hw("csr", "outer", 2, 4) == 3 + 3 + 5
    # L = 1, B = 1: everything serial.  count max(5, 5) = 5, prefix 5, scatter max(9, 5, 5) = 9.
    assert hw("csr", "outer", 1, 1) == 5 + 5 + 9
    # L = 8, B = 1: one bank caps the stream at 1 slot per cycle: the same as L = 1.
    assert hw("csr", "outer", 8, 1) == 19


def test_reverse_transpose_uses_row_counters():
    # stored csc, gustavson reads A by rows: csc -> csr with the M = 3 row counters 2, 1, 2.
    # L = B = 2: rows 0, 2 in bank 0 (4 updates), row 1 in bank 1.
    # count max(ceil(5 / 2), 4) = 4; prefix over M + 1 = 4: 2; scatter: S(csc) = 5 + 4 + 1 = 10 -> 5.
    assert hw("csr", "gustavson", 2, 2, stored_a="csc") == 4 + 2 + 5


def test_one_pass_leg_streams_reads_and_writes_together():
    # stored coo, computed csr (gustavson): coo -> csr reads S(coo) = 5, writes 5 + 3 + 1 = 9.
    assert hw("csr", "gustavson", 2, 2, stored_a="coo") == max(3, 5)   # s = 2
    assert hw("csr", "gustavson", 4, 2, stored_a="coo") == 5           # banks cap s at 2
    assert hw("csr", "gustavson", 4, 8, stored_a="coo") == max(2, 3)   # s = 4


def test_two_pass_leg_counts_then_fills():
    # csr -> ell: reads nnz + 2 (M + 1) = 13, of which the fill pass reads S(csr) = 9 and the
    # count pass the other 4 pointers; writes M K_max = 3 * 2 = 6.
    # L = B = 2: ceil(4 / 2) + max(ceil(9 / 2), ceil(6 / 2)) = 2 + 5.
    assert hw("ell", "gustavson", 2, 2) == 7


def test_conversion_path_through_csr_adds_its_legs():
    # stored coo, computed csc (outer): coo -> csr (5 cycles at L = B = 2) then the transpose (12).
    assert hw("csc", "outer", 2, 2, stored_a="coo") == 5 + 12


def test_unit_area_from_cited_figures():
    a = S.UNIT_AREA_UM2
    got = S.conversion_unit_area(S.Accelerator(conversion_lanes=4, conversion_banks=8))
    lane = 2 * a["adder_32b"] + 96 * a["flipflop"]
    bank = 1024 * 32 * a["sram_bitcell"] / 0.5
    assert got["lanes_um2"] == pytest.approx(4 * lane)
    assert got["banks_um2"] == pytest.approx(8 * bank)
    assert got["crossbar_um2"] == pytest.approx(2 * 8 * 3 * 32 * a["mux2"])
    assert got["total_um2"] == pytest.approx(got["lanes_um2"] + got["banks_um2"] + got["crossbar_um2"])
    # one lane has no crossbar
    assert S.conversion_unit_area(S.Accelerator(conversion_lanes=1, conversion_banks=1))["crossbar_um2"] == 0


@pytest.mark.parametrize("kwargs, match", [
    ({"conversion_lanes": 2.5}, "conversion_lanes must be a whole number"),
    ({"conversion_lanes": 5000}, "conversion_lanes must be a whole number in 1..4096"),
    ({"conversion_banks": 12}, "conversion_banks must be a power of two"),
    ({"conversion_banks": 8192}, "conversion_banks must be a power of two in 1..4096"),
    ({"conversion_lanes": 0}, "conversion_lanes must be a finite number > 0"),
])
def test_bad_unit(kwargs, match):
    with pytest.raises(ValueError, match=match):
        S.Accelerator(**kwargs)


def test_every_software_kind_prices_its_own_leg():
    """A kind set to 1 s (all others 0) costs exactly 1 s on the plan whose only leg it names."""
    assert len(S.SW_KINDS) == 30
    M = np.kron(np.eye(4, dtype=np.float32), np.ones((2, 2), np.float32))[:6, :]  # 6 x 8
    p = S.Problem(M, np.ones((8, 3), np.float32), "spmm")
    zero = {k: (0.0, 0.0, 0.0) for k in S.SW_KINDS}
    for kind in S.SW_KINDS:
        src, dst = kind.split("->")
        acc = S.Accelerator(sw_conversion={**zero, kind: (1.0, 0.0, 0.0)})
        # gustavson walks A by rows: every format but csc, which goes on to csr (another kind)
        r = p.cost(dst, "dense", "gustavson", "software", acc, src, "dense")
        assert r["conversion_seconds"] == 1.0, kind


def test_calibration_covers_every_kind():
    consts = S.load_sw_conversion()
    assert set(consts) == set(S.SW_KINDS)


# ------------------------------------------------ the network env's output encoding
def test_network_output_encoding_is_charged_to_the_unit():
    env = E.SparseFormatNetworkEnv()
    env.reset(seed=0)
    c = env.setup.layers[0].c
    m, n = c.shape
    # W0 stored csr, X0 stored dense, computed csr x dense gustavson: no input leg.
    # The output leg dense -> csr on the unit (16 lanes, 32 banks, s = 16) is one pass:
    # reads m n, writes nnz + m + 1.
    act = [E.FORMATS.index("csr"), E.FORMATS.index("dense"), E.DATAFLOWS.index("gustavson"),
           E.CONVERSION_SITES.index("hardware"), E.FORMATS.index("csr")]
    _, _, _, _, info = env.step(act)
    assert info["conversion_cycles"] == max(math.ceil(m * n / 16), math.ceil((c.nnz + m + 1) / 16))
    assert info["conversion_legs"] == 1 and not info["implicit_conversion"]
    assert info["bytes_c"] == S.storage(c, "csr")["total_bytes"]


def test_network_output_encoding_under_none_is_implicit_software():
    env = E.SparseFormatNetworkEnv()
    env.reset(seed=0)
    base = [E.FORMATS.index("csr"), E.FORMATS.index("dense"), E.DATAFLOWS.index("gustavson"),
            E.CONVERSION_SITES.index("none")]
    _, _, _, _, info = env.step(base + [E.FORMATS.index("dense")])  # dense out: nothing to encode
    assert info["legal"] and info["conversion_cycles"] == 0 and info["conversion_legs"] == 0
    env.reset(seed=0)
    _, _, _, _, info = env.step(base + [E.FORMATS.index("bitmap")])
    assert not info["legal"] and info["implicit_conversion"] and info["applied_conversion"] == "software"
    assert "C is written as bitmap" in info["reason"]
    c = env.setup.layers[0].c
    w = S.conversion_work(c, "dense", "bitmap")
    f, per_el, per_nnz = S.load_sw_conversion()["dense->bitmap"]
    assert info["conversion_seconds"] == pytest.approx(
        f + per_el * (w["elements_scanned"] + w["elements_written"]) + per_nnz * w["nnz_moved"], rel=1e-12)
    assert info["bytes_c"] == S.storage(c, "dense")["total_bytes"]  # the host encodes C


def test_network_baseline_pays_every_output_encoding():
    """The baseline writes CSR outputs in software: every layer now has conversion cycles."""
    env = E.SparseFormatNetworkEnv()
    best_actions, best_cycles, _ = env.oracle()
    base = E._net_baseline(env.setup, env.accelerator, env.precision)
    assert all(r["conversion_cycles"] > 0 for r in base)
    assert best_cycles <= env.baseline_total_cycles


# ------------------------------------------------------------ the pyamg matrix set
def test_pyamg_matrices_are_named_and_load_offline():
    pytest.importorskip("pyamg")
    names = matrices.list_matrices("pyamg")
    assert names == sorted(f"pyamg/{k}" for k in matrices.PYAMG_EXAMPLES)
    assert len(names) == 8
    a = matrices.load_matrix("matrix://pyamg/airfoil")
    assert a.shape == (260, 260) and a.nnz == 1682 and a.dtype == np.float32
    h = matrices.describe("pyamg/helmholtz_2d")  # complex: the modulus keeps the pattern
    assert h["shape"] == (2880, 2880) and h["nnz"] == 52016
    assert matrices.describe("pyamg/bar")["nnz"] == 23402
    suite = E.resolve_suite("fem")
    assert len(suite) == 16 and {w.op for w in suite} == {"spmv", "spgemm"}
    with pytest.raises(ValueError, match="unknown matrix"):
        matrices.load_matrix("pyamg/nope")
