"""Named sparse matrices (archgym.sparse.matrices): real ones, pruned weights, generators."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

sp = pytest.importorskip("scipy.sparse")

from archgym.sparse import matrices as M


def _require(name: str) -> None:
    if not M.is_available(name):
        pytest.skip(f"{name} is not available here (source missing)")


def _canonical(a) -> None:
    assert isinstance(a, sp.csr_matrix)
    assert a.dtype == np.float32
    assert a.has_canonical_format
    assert np.all(a.data != 0), "stored zeros"


# ---------------------------------------------------------------- real ones
@pytest.mark.parametrize("name, shape, nnz", [
    ("propack/illc1850", (1850, 712), 8636),
    ("propack/mhd1280b", (1280, 1280), 22778),
    ("networkx/karate", (34, 34), 156),
    ("networkx/les_miserables", (77, 77), 508),
    ("networkx/florentine_families", (15, 15), 40),
    ("networkx/davis_southern_women", (32, 32), 178),
    ("networkx/davis_southern_women_biadjacency", (18, 14), 89),
])
def test_real_matrices_shape_and_nnz(name, shape, nnz):
    _require(name)
    a = M.load_matrix(name)
    _canonical(a)
    assert a.shape == shape
    assert a.nnz == nnz
    assert M.describe(name)["nnz"] == nnz


def test_illc1850_values_match_scipy_file():
    _require("propack/illc1850")
    path = M._propack_file()
    with np.load(path, allow_pickle=True) as data:
        ref = data["A_real"].item().toarray().astype(np.float32)
    np.testing.assert_array_equal(M.load_matrix("propack/illc1850").toarray(), ref)


def test_graphs_are_symmetric_and_weighted():
    _require("networkx/karate")
    import networkx as nx

    a = M.load_matrix("networkx/karate")
    assert (a != a.T).nnz == 0
    g = nx.karate_club_graph()
    assert a[0, 1] == g[0][1]["weight"]
    assert a.diagonal().sum() == 0


def test_propack_absent_is_skipped_cleanly(monkeypatch):
    monkeypatch.setattr(M, "_propack_file", lambda: None)
    M._cached.cache_clear()
    try:
        assert not any(n.startswith("propack/") for n in M.list_matrices())
        assert "propack/illc1850" in M.list_matrices(available_only=False)
        with pytest.raises(M.MatrixUnavailable, match="propack_test_data"):
            M.load_matrix("propack/illc1850")
    finally:
        M._cached.cache_clear()


# ----------------------------------------------------------- pruned weights
LAYER_SHAPES = {"fc1": (256, 64), "fc2": (128, 256), "fc3": (10, 128)}


@pytest.mark.parametrize("layer", list(LAYER_SHAPES))
@pytest.mark.parametrize("level", [50, 60, 70, 80, 90, 95, 0, 33, 99])
def test_pruning_level_is_exact(layer, level):
    a = M.load_matrix(f"pruned/mlp_digits_{layer}_{level}")
    _canonical(a)
    assert a.shape == LAYER_SHAPES[layer]
    size = a.shape[0] * a.shape[1]
    assert size - a.nnz == round(level / 100 * size)
    # The survivors are the largest magnitudes of the trained weights.
    dense = M._mlp()[f"W{layer[-1]}"]
    kept = np.abs(dense[a.toarray() != 0])
    dropped = np.abs(dense[a.toarray() == 0])
    if len(kept) and len(dropped):
        assert kept.min() >= dropped.max()
    np.testing.assert_array_equal(a.toarray()[a.toarray() != 0], dense[a.toarray() != 0])


@pytest.mark.parametrize("layer", list(LAYER_SHAPES))
def test_two_of_four_pattern(layer):
    a = M.load_matrix(f"pruned/mlp_digits_{layer}_2of4").toarray()
    groups = (a != 0).reshape(a.shape[0], -1, 4)
    assert np.all(groups.sum(axis=2) == 2)
    dense = M._mlp()[f"W{layer[-1]}"].reshape(a.shape[0], -1, 4)
    mags = np.sort(np.abs(dense), axis=2)
    kept = np.where(groups, np.abs(dense), np.inf).min(axis=2)
    assert np.all(kept >= mags[:, :, 1])  # each kept one is among the top 2 of its group


def test_prune_functions_reject_bad_input():
    with pytest.raises(ValueError, match="percent"):
        M.prune_magnitude(np.ones((4, 4)), 100)
    with pytest.raises(ValueError, match="percent"):
        M.prune_magnitude(np.ones((4, 4)), 0.5)
    with pytest.raises(ValueError, match="multiple"):
        M.prune_n_of_m(np.ones((4, 6)), 2, 4)


def test_trained_model_is_accurate_and_pruning_hurts_gracefully():
    dense = M.load_network("mlp_digits_0", batch=360)
    assert dense.accuracy() >= 0.95
    assert float(M._mlp()["test_accuracy"]) == pytest.approx(dense.accuracy())
    assert M.load_network("mlp_digits_2of4", batch=360).accuracy() >= 0.9
    net = M.load_network("mlp_digits_90", batch=16)
    acts = net.activations()
    assert [x.shape for x in acts] == [(64, 16), (256, 16), (128, 16)]
    assert all(x.dtype == np.float32 for x in acts)
    assert all(np.all(x >= 0) for x in acts)
    assert 0.2 < (acts[0] == 0).mean() < 0.8  # the digits images are about half zeros
    with pytest.raises(ValueError, match="unknown network"):
        M.load_network("resnet")
    with pytest.raises(ValueError, match="batch"):
        M.load_network("mlp_digits_90", batch=0)


def test_shipped_weights_are_small():
    assert M.MLP_FILE.stat().st_size < 400_000


def test_training_script_reproduces_shipped_weights():
    pytest.importorskip("sklearn")
    result = subprocess.run([sys.executable, "-m", "archgym.sparse.train_digits", "--check"],
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


# ---------------------------------------------------------------- generators
@pytest.mark.parametrize("name", [
    "synthetic/uniform_1024_0.01", "synthetic/uniform_64x4096_0.01_s7", "synthetic/powerlaw_1024_0.01",
    "synthetic/powerlaw_500x300_0.05_a1.5_s2", "synthetic/banded_300_4", "synthetic/block_256_8_0.1_s1",
])
def test_generators_deterministic_per_seed(name):
    M._cached.cache_clear()
    a = M.load_matrix(name)
    M._cached.cache_clear()
    b = M.load_matrix(name)
    _canonical(a)
    assert (a != b).nnz == 0 and a.shape == b.shape


def test_generators_differ_across_seeds():
    assert (M.uniform(200, 100, 0.05, seed=0) != M.uniform(200, 100, 0.05, seed=1)).nnz > 0
    assert (M.powerlaw(200, 100, 0.05, seed=0) != M.powerlaw(200, 100, 0.05, seed=1)).nnz > 0


@pytest.mark.parametrize("m, n, d", [(1024, 1024, 0.01), (64, 4096, 0.003), (4096, 64, 0.5), (10, 10, 1.0)])
def test_uniform_and_powerlaw_exact_counts(m, n, d):
    assert M.uniform(m, n, d).nnz == round(d * m * n)
    p = M.powerlaw(m, n, d, alpha=1.2)
    assert p.nnz == round(d * m * n)
    assert p.getnnz(axis=1).max() <= n


def test_powerlaw_rows_are_skewed():
    p = M.powerlaw(2048, 2048, 0.005, alpha=1.0, seed=3)
    u = M.uniform(2048, 2048, 0.005, seed=3)
    cv = lambda a: a.getnnz(axis=1).std() / a.getnnz(axis=1).mean()
    assert cv(p) > 3 * cv(u)


def test_banded_and_block_structure():
    b = M.load_matrix("synthetic/banded_100_3")
    r, c = b.nonzero()
    assert np.abs(r - c).max() == 3
    assert b.nnz == 100 * 7 - 2 * (1 + 2 + 3)
    k = M.load_matrix("synthetic/block_64_8_0.25").toarray() != 0
    blocks = k.reshape(8, 8, 8, 8).swapaxes(1, 2).reshape(64, 64)
    assert set(blocks.sum(axis=1).tolist()) <= {0, 64}  # every block empty or full
    assert (blocks.sum(axis=1) == 64).sum() == 16


def test_aliases_and_uri_prefix():
    a = M.load_matrix("banded")
    assert (a != M.load_matrix("synthetic/banded")).nnz == 0
    assert (a != M.load_matrix("matrix://synthetic/banded_1024_8")).nnz == 0


def test_load_returns_an_independent_copy():
    a = M.load_matrix("networkx/florentine_families") if M.is_available("networkx/karate") \
        else M.load_matrix("synthetic/uniform_50_0.1")
    a.data[:] = 7
    b = M.load_matrix("networkx/florentine_families") if M.is_available("networkx/karate") \
        else M.load_matrix("synthetic/uniform_50_0.1")
    assert not np.all(b.data == 7)


# ---------------------------------------------------------------- bad names
@pytest.mark.parametrize("name", [
    "foo", "propack/nope", "pruned/mlp_digits_fc4_90", "pruned/mlp_digits_fc1_100",
    "synthetic/uniform_1024_1.5", "synthetic/uniform_1024_0", "synthetic/uniform_0_0.1",
    "synthetic/uniform_2000000_0.01", "synthetic/uniform_100000_0.1", "synthetic/banded_10_10",
    "synthetic/block_100_7_0.1", "synthetic/gaussian_10", "",
])
def test_unknown_names_raise_value_error_listing_names(name):
    with pytest.raises(ValueError, match="available: .*propack/illc1850"):
        M.load_matrix(name)


def test_non_string_name_and_bad_family():
    with pytest.raises(ValueError, match="string"):
        M.load_matrix(42)
    with pytest.raises(ValueError, match="unknown family"):
        M.list_matrices("suitesparse")


def test_listing():
    names = M.list_matrices()
    assert names == sorted(names)
    assert "synthetic/uniform_1024_0.01" in names
    assert "pruned/mlp_digits_fc1_2of4" in names
    assert all(n.startswith("pruned/") for n in M.list_matrices("pruned"))


def test_import_archgym_does_not_import_scipy_or_networkx():
    code = ("import sys, archgym, archgym.sparse.matrices\n"
            "bad = [m for m in ('scipy', 'networkx', 'sklearn') if m in sys.modules]\n"
            "assert not bad, bad\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
