"""Named sparse matrices for the SparseFormat environments, all available offline.

Every matrix is addressed by a name (``"matrix://"`` prefix optional) and loaded as a
canonical ``scipy.sparse.csr_matrix`` of float32 (sorted indices, no duplicates, no
stored zeros: ``nnz`` counts the non-zeros).  Nothing is downloaded at run time.

* ``propack/illc1850`` (1850 x 712, nnz 8,636) and ``propack/mhd1280b`` (1280 x 1280,
  nnz 22,778): the PROPACK 2.1 test matrices that scipy ships in
  ``scipy/sparse/linalg/tests/propack_test_data.npz``.  mhd1280b is complex; its entries
  are replaced by their modulus (the pattern is kept).  Builds that strip scipy's tests
  lack the file: these names are then left out of :func:`list_matrices` and
  :func:`load_matrix` raises :class:`MatrixUnavailable`.
* ``networkx/karate``, ``networkx/les_miserables``, ``networkx/florentine_families``,
  ``networkx/davis_southern_women`` (symmetric adjacency matrices of networkx's built-in
  graphs, node order as networkx gives it, edge ``weight`` or 1) and
  ``networkx/davis_southern_women_biadjacency`` (18 women x 14 events).  Need networkx.
* ``pyamg/<name>``: the finite-element matrices the pyamg wheel ships
  (``pyamg.gallery.load_example``; :data:`PYAMG_EXAMPLES`: airfoil 260², bar 600²,
  knot 239², recirc_flow 225², unit_cube 125², unit_square 191²,
  local_disc_galerkin_diffusion 966², helmholtz_2d 2880²: pyamg's helmholtz_2D).  It is complex;
  its entries are replaced by their modulus (the pattern is kept).  Need pyamg.
* ``pruned/mlp_digits_fc{1,2,3}_{P}``: the weights ``(out, in)`` of a 64-256-128-10 MLP
  trained on scikit-learn's digits (``data/mlp_digits.npz``, made by
  ``python -m archgym.sparse.train_digits``), magnitude-pruned so that exactly
  ``round(P% * size)`` weights are zero (P an integer 0..99; listed: 50, 60, 70, 80, 90,
  95); ``..._2of4``: in every group of 4 consecutive inputs of a row the 2 largest
  magnitudes are kept (N:M = 2:4 structured sparsity).  Ties are broken by position, so
  the result is deterministic.  :func:`load_network` gives the whole pruned network.
* ``synthetic/...``: seeded generators (default seed 0; ``_s<seed>`` picks another):

  - ``uniform_<M>[x<N>]_<density>``: exactly ``round(density M N)`` non-zeros at
    uniformly random positions;
  - ``powerlaw_<M>[x<N>]_<density>[_a<alpha>]``: the same count, row lengths drawn with
    probability proportional to ``rank^-alpha`` (default alpha 1, rows in random
    order, capped at N), columns uniform within a row;
  - ``banded_<N>_<b>``: N x N, every entry with ``|i - j| <= b``;
  - ``block_<N>_<bs>_<density>``: N x N of dense bs x bs blocks, ``round(density
    (N/bs)^2)`` of them at random block positions.

  Values are uniform in ±[0.1, 1) (never zero).  ``synthetic/<family>`` and the bare
  family name (``"banded"``) give each family's default (see :data:`SYNTHETIC_DEFAULTS`).

Usage::

    from archgym.sparse import matrices
    matrices.list_matrices()                       # the listed names available here
    A = matrices.load_matrix("propack/illc1850")   # scipy.sparse.csr_matrix, float32
    A = matrices.load_matrix("synthetic/uniform_64x4096_0.01_s3")
    matrices.describe("networkx/karate")           # {'name', 'shape', 'nnz', 'density', 'source'}

Needs scipy (imported when a matrix is loaded, never at ``import archgym``); the
``networkx/*`` matrices also need networkx, the ``pyamg/*`` ones pyamg.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "NETWORKS",
    "PYAMG_EXAMPLES",
    "SYNTHETIC_DEFAULTS",
    "MatrixUnavailable",
    "Network",
    "banded",
    "block",
    "describe",
    "list_matrices",
    "load_matrix",
    "load_network",
    "powerlaw",
    "prune_magnitude",
    "prune_n_of_m",
    "uniform",
]

URI_PREFIX = "matrix://"
DATA_DIR = Path(__file__).resolve().parent / "data"
MLP_FILE = DATA_DIR / "mlp_digits.npz"
#: Largest side and largest non-zero count a synthetic name may ask for.
MAX_DIM = 1 << 20
MAX_NNZ = 20_000_000
_INT64 = 1 << 63  # seeds, sizes and file integers are int64

PROPACK = {"illc1850": "A_real", "mhd1280b": "A_complex"}
NX_GRAPHS = {
    "karate": "karate_club_graph",
    "les_miserables": "les_miserables_graph",
    "florentine_families": "florentine_families_graph",
    "davis_southern_women": "davis_southern_women_graph",
}
#: The example matrices of pyamg's wheel (pyamg/gallery/example_data/*.mat): archgym's
#: name (lower case, as every matrix name) -> pyamg's.
PYAMG_EXAMPLES = {name.lower(): name for name in (
    "airfoil", "bar", "knot", "recirc_flow", "unit_cube", "unit_square",
    "local_disc_galerkin_diffusion", "helmholtz_2D")}
PRUNE_LEVELS = (50, 60, 70, 80, 90, 95)
MLP_LAYERS = ("fc1", "fc2", "fc3")
SYNTHETIC_DEFAULTS = {
    "uniform": "synthetic/uniform_1024_0.01",
    "powerlaw": "synthetic/powerlaw_1024_0.01",
    "banded": "synthetic/banded_1024_8",
    "block": "synthetic/block_1024_16_0.05",
}
LISTED_SYNTHETIC = (
    "synthetic/uniform_1024_0.001", "synthetic/uniform_1024_0.01", "synthetic/uniform_1024_0.1",
    "synthetic/uniform_1024_0.5", "synthetic/uniform_64x4096_0.01", "synthetic/uniform_4096x64_0.01",
    "synthetic/powerlaw_1024_0.01", "synthetic/powerlaw_4096_0.001_a1.5", "synthetic/banded_1024_8",
    "synthetic/banded_4096_2", "synthetic/block_1024_16_0.05", "synthetic/block_512_4_0.1",
)


class MatrixUnavailable(LookupError):
    """A known matrix whose source (a scipy data file, networkx) is missing here."""


# ------------------------------------------------------------------ helpers
def _sp():
    try:
        import scipy.sparse as sp
    except ImportError as exc:
        raise ImportError("archgym.sparse.matrices needs scipy to build matrices "
                          "(pip install scipy)") from exc
    return sp


def _canonical(m) -> object:
    """csr_matrix float32, sorted indices, duplicates summed, stored zeros dropped."""
    sp = _sp()
    m = sp.csr_matrix(m, dtype=np.float32)
    m.sum_duplicates()
    m.eliminate_zeros()
    m.sort_indices()
    return m


def _values(rng: np.random.Generator, n: int) -> np.ndarray:
    """n non-zero float32 values, uniform in ±[0.1, 1)."""
    mag = rng.uniform(0.1, 1.0, n)
    sign = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    return (mag * sign).astype(np.float32)


def _check_shape(m: int, n: int) -> None:
    for side, v in (("rows", m), ("columns", n)):
        if not 1 <= v <= MAX_DIM:
            raise ValueError(f"{side} must be in [1, {MAX_DIM}], got {v}")


def _check_density(density: float) -> float:
    d = float(density)
    if not (np.isfinite(d) and 0.0 < d <= 1.0):
        raise ValueError(f"density must be in (0, 1], got {density!r}")
    return d


def _count(m: int, n: int, density: float) -> int:
    nnz = max(1, round(density * m * n))
    if nnz > MAX_NNZ:
        raise ValueError(f"{m} x {n} at density {density} has {nnz:,} non-zeros; at most {MAX_NNZ:,}")
    return nnz


# --------------------------------------------------------------- generators
def uniform(m: int, n: int | None = None, density: float = 0.01, seed: int = 0):
    """m x n with exactly round(density m n) (>= 1) non-zeros at uniform random positions."""
    n = m if n is None else n
    _check_shape(m, n)
    nnz = _count(m, n, _check_density(density))
    rng = np.random.default_rng(seed)
    flat = np.sort(rng.choice(m * n, size=nnz, replace=False))
    return _canonical(_sp().csr_matrix((_values(rng, nnz), (flat // n, flat % n)), shape=(m, n)))


def powerlaw(m: int, n: int | None = None, density: float = 0.01, alpha: float = 1.0, seed: int = 0):
    """Power-law row lengths: P(row of rank r) ~ r^-alpha, exactly round(density m n) non-zeros."""
    n = m if n is None else n
    _check_shape(m, n)
    nnz = _count(m, n, _check_density(density))
    if not (np.isfinite(alpha) and alpha >= 0):
        raise ValueError(f"alpha must be a finite number >= 0, got {alpha!r}")
    rng = np.random.default_rng(seed)
    p = np.arange(1, m + 1, dtype=np.float64) ** -float(alpha)
    p = p[rng.permutation(m)]
    counts = np.zeros(m, dtype=np.int64)
    remaining = nnz
    while remaining:  # rows that overflow N hand their excess to the others
        open_rows = counts < n
        q = np.where(open_rows, p, 0.0)
        counts += rng.multinomial(remaining, q / q.sum())
        remaining = int(np.maximum(counts - n, 0).sum())
        counts = np.minimum(counts, n)
    rows = np.repeat(np.arange(m), counts)
    cols = np.concatenate([rng.choice(n, size=c, replace=False) for c in counts.tolist()]) \
        if nnz else np.zeros(0, dtype=np.int64)
    return _canonical(_sp().csr_matrix((_values(rng, nnz), (rows, cols)), shape=(m, n)))


def banded(n: int, half_bandwidth: int, seed: int = 0):
    """n x n with every entry |i - j| <= half_bandwidth non-zero."""
    _check_shape(n, n)
    if not 0 <= half_bandwidth < n:
        raise ValueError(f"half_bandwidth must be in [0, {n - 1}], got {half_bandwidth}")
    offsets = np.arange(-half_bandwidth, half_bandwidth + 1)
    rows = np.repeat(np.arange(n), len(offsets))
    cols = rows + np.tile(offsets, n)
    keep = (cols >= 0) & (cols < n)
    rows, cols = rows[keep], cols[keep]
    if len(rows) > MAX_NNZ:
        raise ValueError(f"banded {n} with half-bandwidth {half_bandwidth} has {len(rows):,} "
                         f"non-zeros; at most {MAX_NNZ:,}")
    rng = np.random.default_rng(seed)
    return _canonical(_sp().csr_matrix((_values(rng, len(rows)), (rows, cols)), shape=(n, n)))


def block(n: int, block_size: int, density: float, seed: int = 0):
    """n x n made of round(density (n/bs)^2) (>= 1) dense bs x bs blocks at random positions."""
    _check_shape(n, n)
    if not 1 <= block_size <= n or n % block_size:
        raise ValueError(f"block_size must divide n = {n}, got {block_size}")
    nb = n // block_size
    count = _count(nb, nb, _check_density(density))
    if count * block_size * block_size > MAX_NNZ:
        raise ValueError(f"block {n}/{block_size}/{density} has too many non-zeros; at most {MAX_NNZ:,}")
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(nb * nb, size=count, replace=False))
    br, bc = chosen // nb, chosen % nb
    r = np.arange(block_size)
    rows = (br[:, None, None] * block_size + r[None, :, None]).repeat(block_size, axis=2).ravel()
    cols = (bc[:, None, None] * block_size + r[None, None, :]).repeat(block_size, axis=1).ravel()
    return _canonical(_sp().csr_matrix((_values(rng, len(rows)), (rows, cols)), shape=(n, n)))


# ----------------------------------------------------------------- pruning
def prune_magnitude(w: np.ndarray, percent: int) -> np.ndarray:
    """w with exactly round(percent/100 * w.size) smallest-magnitude entries set to zero.

    Ties are broken by position (a stable sort on |w|), so the result is deterministic.
    """
    if isinstance(percent, bool) or not isinstance(percent, (int, np.integer)) or not 0 <= percent <= 99:
        raise ValueError(f"pruning percent must be an integer in [0, 99], got {percent!r}")
    w = np.array(w, dtype=np.float32, copy=True)
    k = round(percent / 100 * w.size)
    order = np.argsort(np.abs(w), axis=None, kind="stable")
    w.flat[order[:k]] = 0.0
    return w


def prune_n_of_m(w: np.ndarray, n: int = 2, m: int = 4) -> np.ndarray:
    """Keep the n largest magnitudes of every m consecutive entries along the last axis."""
    w = np.array(w, dtype=np.float32, copy=True)
    if w.shape[-1] % m:
        raise ValueError(f"the last axis ({w.shape[-1]}) must be a multiple of m = {m}")
    groups = w.reshape(-1, m)
    order = np.argsort(-np.abs(groups), axis=1, kind="stable")  # largest first, ties by position
    np.put_along_axis(groups, order[:, n:], 0.0, axis=1)
    return groups.reshape(w.shape)


@functools.lru_cache(maxsize=1)
def _mlp() -> dict[str, np.ndarray]:
    if not MLP_FILE.is_file():
        raise MatrixUnavailable(f"the digits MLP weights are missing ({MLP_FILE}); "
                                "regenerate them with python -m archgym.sparse.train_digits")
    with np.load(MLP_FILE) as data:
        arrays = {k: data[k] for k in data.files}
    for a in arrays.values():
        a.setflags(write=False)
    return arrays


def _pruned_dense(layer: str, level: str) -> np.ndarray:
    w = _mlp()[f"W{MLP_LAYERS.index(layer) + 1}"]
    if level == "2of4":
        return prune_n_of_m(w, 2, 4)
    return prune_magnitude(w, int(level))


@dataclass(frozen=True, eq=False)
class Network:
    """A pruned MLP: per layer a weight (out, in) csr_matrix and a bias; digits inputs.

    ``inputs`` is (64, batch) float32: held-out digits images as columns, pixels / 16.
    :meth:`activations` gives every layer's input (the previous layer's ReLU output),
    so layer i computes ``weights[i] @ activations()[i] + biases[i]``.
    """

    name: str
    layer_names: tuple[str, ...]
    weights: tuple
    biases: tuple[np.ndarray, ...]
    inputs: np.ndarray
    labels: np.ndarray

    def activations(self) -> list[np.ndarray]:
        acts = [self.inputs]
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            z = np.asarray(w @ acts[-1], dtype=np.float32) + b[:, None]
            if i < len(self.weights) - 1:
                acts.append(np.maximum(z, np.float32(0.0)))
        return acts

    def accuracy(self) -> float:
        """Top-1 accuracy on the held-out digits in ``inputs``."""
        acts = self.activations()
        logits = np.asarray(self.weights[-1] @ acts[-1]) + self.biases[-1][:, None]
        return float((logits.argmax(axis=0) == self.labels).mean())


#: Networks for :func:`load_network`: ``mlp_digits_<P>`` (P an integer 0..99) and
#: ``mlp_digits_2of4``; these are the listed ones.
NETWORKS = tuple(f"mlp_digits_{p}" for p in (0, *PRUNE_LEVELS)) + ("mlp_digits_2of4",)
#: The family of the networks in archgym's unified workload names, as of their layers'
#: matrices: "pruned/mlp_digits_90" is the network "mlp_digits_90".
NETWORK_FAMILY = "pruned"


def load_network(name: str = "mlp_digits_90", batch: int = 64) -> Network:
    """The digits MLP with every layer pruned the same way, and ``batch`` test images.

    ``name``: ``mlp_digits_<P>`` or ``mlp_digits_2of4``, or its unified name ``pruned/mlp_digits_<P>``.
    """
    match = re.fullmatch(rf"(?:{NETWORK_FAMILY}/)?(mlp_digits_(\d{{1,2}}|2of4))", str(name))
    if not match:
        raise ValueError(f"unknown network {name!r}; available: {', '.join(NETWORKS)} "
                         f"(mlp_digits_<P> for any integer P in 0..99; {NETWORK_FAMILY}/ before it is optional)")
    mlp = _mlp()
    n_test = mlp["test_labels"].shape[0]
    if isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or not 1 <= batch <= n_test:
        raise ValueError(f"batch must be an integer in [1, {n_test}], got {batch!r}")
    name, level = match.groups()
    weights = tuple(_canonical(_pruned_dense(layer, level)) for layer in MLP_LAYERS)
    biases = tuple(mlp[f"b{i}"].copy() for i in (1, 2, 3))
    inputs = np.ascontiguousarray((mlp["test_images"][:batch].T / np.float32(16.0)).astype(np.float32))
    return Network(name=str(name), layer_names=MLP_LAYERS, weights=weights, biases=biases,
                   inputs=inputs, labels=mlp["test_labels"][:batch].astype(np.int64))


# ------------------------------------------------------------------- names
def _propack_file() -> Path | None:
    try:
        import scipy
    except ImportError:
        return None
    path = Path(scipy.__file__).resolve().parent / "sparse" / "linalg" / "tests" / "propack_test_data.npz"
    return path if path.is_file() else None


def _has_networkx() -> bool:
    try:
        import networkx  # noqa: F401
    except ImportError:
        return False
    return True


def _has_pyamg() -> bool:
    try:
        import pyamg  # noqa: F401
    except ImportError:
        return False
    return True


def _all_listed() -> list[str]:
    names = [f"propack/{k}" for k in PROPACK] + [f"pyamg/{k}" for k in PYAMG_EXAMPLES]
    names += [f"networkx/{k}" for k in NX_GRAPHS] + ["networkx/davis_southern_women_biadjacency"]
    for layer in MLP_LAYERS:
        names += [f"pruned/mlp_digits_{layer}_{p}" for p in PRUNE_LEVELS] + [f"pruned/mlp_digits_{layer}_2of4"]
    return names + list(LISTED_SYNTHETIC)


def list_matrices(family: str | None = None, available_only: bool = True) -> list[str]:
    """Sorted listed names (``family`` = "propack", "pyamg", "networkx", "pruned" or "synthetic").

    With ``available_only`` (default) names whose source is missing here are left out.
    Synthetic names accept any parameters; only a representative set is listed.
    """
    names = _all_listed()
    if family is not None:
        families = sorted({n.split("/")[0] for n in names})
        if family not in families:
            raise ValueError(f"unknown family {family!r}; available: {', '.join(families)}")
        names = [n for n in names if n.startswith(family + "/")]
    if available_only:
        names = [n for n in names if is_available(n)]
    return sorted(names)


def is_available(name: str) -> bool:
    """Whether ``name`` is known and its source is present (no loading of the matrix)."""
    key = _normalise(name)
    family = key.split("/")[0]
    if family == "propack":
        return _propack_file() is not None
    if family == "networkx":
        return _has_networkx()
    if family == "pyamg":
        return _has_pyamg()
    if family == "pruned":
        return MLP_FILE.is_file()
    return True


def _normalise(name) -> str:
    if not isinstance(name, str):
        raise ValueError(f"a matrix name must be a string, got {type(name).__name__}")
    key = name.removeprefix(URI_PREFIX)
    key = SYNTHETIC_DEFAULTS.get(key, key)
    if key.startswith("synthetic/") and key[len("synthetic/"):] in SYNTHETIC_DEFAULTS:
        key = SYNTHETIC_DEFAULTS[key[len("synthetic/"):]]
    _parse(key)  # raises ValueError for unknown names
    return key


def _unknown(name: str, why: str = "") -> ValueError:
    listed = ", ".join(sorted(_all_listed()))
    return ValueError(f"unknown matrix {name!r}{': ' + why if why else ''}; available: {listed}; "
                      "synthetic/uniform_<M>[x<N>]_<density>[_s<seed>], "
                      "synthetic/powerlaw_<M>[x<N>]_<density>[_a<alpha>][_s<seed>], "
                      "synthetic/banded_<N>_<b>[_s<seed>], synthetic/block_<N>_<bs>_<density>[_s<seed>]")


_NUM = r"(\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)"
_SYN = {
    "uniform": re.compile(rf"uniform_(\d+)(?:x(\d+))?_{_NUM}(?:_s(\d+))?"),
    "powerlaw": re.compile(rf"powerlaw_(\d+)(?:x(\d+))?_{_NUM}(?:_a{_NUM})?(?:_s(\d+))?"),
    "banded": re.compile(r"banded_(\d+)_(\d+)(?:_s(\d+))?"),
    "block": re.compile(rf"block_(\d+)_(\d+)_{_NUM}(?:_s(\d+))?"),
}


def _parse(key: str):
    """(builder, source description) for a normalised name; ValueError if unknown."""
    family, _, rest = key.partition("/")
    if family == "propack" and rest in PROPACK:
        return functools.partial(_load_propack, rest), "scipy sparse/linalg/tests/propack_test_data.npz (PROPACK 2.1)"
    if family == "pyamg" and rest in PYAMG_EXAMPLES:
        return functools.partial(_load_pyamg, rest), f"pyamg.gallery.load_example({rest!r})['A'] (pyamg wheel)"
    if family == "networkx":
        if rest in NX_GRAPHS:
            return functools.partial(_load_graph, rest), f"networkx.{NX_GRAPHS[rest]}() adjacency"
        if rest == "davis_southern_women_biadjacency":
            return _load_davis_biadjacency, "networkx.davis_southern_women_graph() women x events"
    if family == "pruned":
        match = re.fullmatch(r"mlp_digits_(fc[123])_(\d{1,2}|2of4)", rest)
        if match:
            layer, level = match.groups()
            how = "2:4 structured" if level == "2of4" else f"{int(level)}% magnitude"
            return (lambda: _canonical(_pruned_dense(layer, level))), \
                f"digits MLP {layer} weights (archgym.sparse.train_digits), {how} pruning"
    if family == "synthetic":
        for kind, pattern in _SYN.items():
            match = pattern.fullmatch(rest)
            if match:
                return _synthetic(kind, match.groups(), key), f"archgym.sparse.matrices.{kind} (seeded)"
    raise _unknown(key)


def _synthetic(kind: str, groups, key: str):
    try:
        for g in groups:  # seeds, sizes and counts are int64 numbers
            if g and g.isdigit() and int(g) >= _INT64:
                raise ValueError(f"{g} does not fit 64 bits (at most 2^63 - 1)")
        if kind in ("uniform", "powerlaw"):
            m = int(groups[0])
            n = int(groups[1]) if groups[1] else m
            d = float(groups[2])
            _check_shape(m, n)
            _count(m, n, _check_density(d))
            if kind == "uniform":
                seed = int(groups[3] or 0)
                return lambda: uniform(m, n, d, seed)
            alpha = float(groups[3]) if groups[3] else 1.0
            seed = int(groups[4] or 0)
            return lambda: powerlaw(m, n, d, alpha, seed)
        if kind == "banded":
            n, b, seed = int(groups[0]), int(groups[1]), int(groups[2] or 0)
            _check_shape(n, n)
            if b >= n:
                raise ValueError(f"half-bandwidth {b} must be below N = {n}")
            return lambda: banded(n, b, seed)
        n, bs, d, seed = int(groups[0]), int(groups[1]), float(groups[2]), int(groups[3] or 0)
        _check_shape(n, n)
        _check_density(d)
        if bs < 1 or n % bs:
            raise ValueError(f"block size {bs} must divide N = {n}")
        return lambda: block(n, bs, d, seed)
    except ValueError as exc:
        raise _unknown(key, str(exc)) from None


def _load_propack(which: str):
    path = _propack_file()
    if path is None:
        raise MatrixUnavailable(f"propack/{which} needs scipy's propack_test_data.npz, which this "
                                "scipy installation does not include (its tests were stripped)")
    # The file stores scipy sparse matrices as pickled objects; it is scipy's own test data.
    with np.load(path, allow_pickle=True) as data:
        m = data[PROPACK[which]].item()
    m = m.tocsr()
    if np.iscomplexobj(m.data):
        m = m.copy()
        m.data = np.abs(m.data)
    return _canonical(m)


def _load_pyamg(which: str):
    try:
        from pyamg.gallery import load_example
    except ImportError as exc:
        raise MatrixUnavailable("the pyamg/* matrices need pyamg (pip install pyamg)") from exc
    m = load_example(PYAMG_EXAMPLES[which])["A"].tocsr()
    if np.iscomplexobj(m.data):
        m = m.copy()
        m.data = np.abs(m.data)
    return _canonical(m)


def _nx():
    try:
        import networkx as nx
    except ImportError as exc:
        raise MatrixUnavailable("the networkx/* matrices need networkx (pip install networkx)") from exc
    return nx


def _adjacency(graph, rows, cols):
    index_r = {v: i for i, v in enumerate(rows)}
    index_c = {v: i for i, v in enumerate(cols)}
    r, c, v = [], [], []
    for a, b, data in graph.edges(data=True):
        w = float(data.get("weight", 1.0))
        for x, y in ((a, b), (b, a)):
            if x in index_r and y in index_c:
                r.append(index_r[x])
                c.append(index_c[y])
                v.append(w)
    return _canonical(_sp().csr_matrix((np.array(v, dtype=np.float32), (r, c)), shape=(len(rows), len(cols))))


def _load_graph(which: str):
    g = getattr(_nx(), NX_GRAPHS[which])()
    nodes = list(g.nodes())
    return _adjacency(g, nodes, nodes)


def _load_davis_biadjacency():
    g = _nx().davis_southern_women_graph()
    return _adjacency(g, g.graph["top"], g.graph["bottom"])


@functools.lru_cache(maxsize=64)
def _cached(key: str):
    builder, _ = _parse(key)
    m = builder()
    for a in (m.data, m.indices, m.indptr):
        a.setflags(write=False)
    return m


def load_matrix(name: str):
    """The named matrix as a canonical float32 ``scipy.sparse.csr_matrix`` (a fresh copy).

    Raises ValueError for an unknown or malformed name (the message lists the names) and
    :class:`MatrixUnavailable` when the matrix's source is missing on this machine.
    """
    m = _cached(_normalise(name))
    return m.copy()


def describe(name: str) -> dict:
    """Name, shape, nnz, density and source of a matrix (loads it)."""
    key = _normalise(name)
    m = _cached(key)
    return {"name": key, "shape": tuple(int(s) for s in m.shape), "nnz": int(m.nnz),
            "density": m.nnz / (m.shape[0] * m.shape[1]), "source": _parse(key)[1]}


# ------------------------------------------------------------ MatrixMarket files
#: The MatrixMarket header words this reader accepts (NIST's "The Matrix Market Exchange
#: Formats: Initial Design", 1996): formats, fields and symmetries.
MM_FORMATS = ("coordinate", "array")
MM_FIELDS = ("real", "double", "integer", "pattern")
MM_SYMMETRIES = ("general", "symmetric", "skew-symmetric")
_MM_REAL = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|nan|inf|infinity)", re.IGNORECASE)
_MM_INT = re.compile(r"[+-]?\d+")


class MatrixMarketError(ValueError):
    """A MatrixMarket file this reader refuses; the message names the line and the rule."""


def read_matrix_market(path) -> tuple[object, str]:
    """Read a real, integer or pattern MatrixMarket file, validating it completely.

    Returns ``(matrix, layout)``: a ``scipy.sparse.csr_matrix`` and ``"coordinate"``, or
    a dense ``numpy`` array (column-major values, the format's order) and ``"array"``.
    Symmetric and skew-symmetric files store the lower triangle (skew: strictly below
    the diagonal) and are mirrored; duplicate coordinates are summed.  Integer values
    are int64, real ones float64, pattern entries 1.0.

    The file is checked line by line before anything of its declared size is made: the
    header, the size line (rows and columns in [1, ``MAX_DIM`` of the core], at most
    :data:`MAX_NNZ` entries, no more than the matrix can hold), every entry's token
    count, indices in range and values (finite reals; integers below 2^63 in magnitude),
    and the number of entries against the size line.  Anything else raises
    :class:`MatrixMarketError` (a ValueError) with one line naming the line number;
    an unreadable file raises OSError.
    """
    from archgym.sparse.model import MAX_DIM  # the core's limit (model imports the core)

    with open(path, "rb") as f:
        lines = enumerate(f, start=1)

        def fail(lineno, what):
            raise MatrixMarketError(f"line {lineno}: {what}")

        lineno, raw = next(lines, (1, b""))
        words = raw.decode("ascii", "replace").split()
        if len(words) != 5 or words[0] != "%%MatrixMarket" or words[1].lower() != "matrix":
            fail(1, "the header must be '%%MatrixMarket matrix FORMAT FIELD SYMMETRY', "
                    f"got {raw[:80].decode('ascii', 'replace').strip()!r}")
        fmt, field, symmetry = (w.lower() for w in words[2:])
        if field in ("complex", "hermitian") or symmetry == "hermitian":
            fail(1, "complex matrices are not supported (real, integer or pattern only)")
        for name, value, allowed in (("format", fmt, MM_FORMATS), ("field", field, MM_FIELDS),
                                     ("symmetry", symmetry, MM_SYMMETRIES)):
            if value not in allowed:
                fail(1, f"unknown {name} {value!r}; allowed: {', '.join(allowed)}")
        if field == "pattern" and fmt == "array":
            fail(1, "a pattern matrix must use the coordinate format")

        def data_lines():
            """(line number, tokens) of the non-comment, non-blank lines after the header."""
            for n, line in lines:
                if line.startswith(b"%"):
                    continue
                try:
                    tokens = line.decode("ascii").split()
                except UnicodeDecodeError:
                    fail(n, "not ASCII text")
                if tokens:
                    yield n, tokens

        entries = data_lines()
        lineno, size = next(entries, (lineno + 1, None))
        want = 3 if fmt == "coordinate" else 2
        if size is None:
            fail(lineno, "missing the size line")
        if len(size) != want or not all(t.isdigit() for t in size):
            what = "ROWS COLUMNS ENTRIES" if fmt == "coordinate" else "ROWS COLUMNS"
            fail(lineno, f"the size line must be {want} non-negative integers ({what}), got {' '.join(size)!r}")
        m, n = int(size[0]), int(size[1])
        for side, v in (("rows", m), ("columns", n)):
            if not 1 <= v <= MAX_DIM:
                fail(lineno, f"{side} {v} out of range [1, {MAX_DIM}]")
        if symmetry != "general" and m != n:
            fail(lineno, f"a {symmetry} matrix must be square, got {m} x {n}")
        if symmetry == "general":
            capacity = m * n
        else:
            capacity = n * (n + 1) // 2 if symmetry == "symmetric" else n * (n - 1) // 2
        count = int(size[2]) if fmt == "coordinate" else capacity
        if count > min(capacity, MAX_NNZ):
            fail(lineno, f"{count} entries declared; a {symmetry} {m} x {n} matrix holds at most "
                         f"{capacity}, and files may hold at most {MAX_NNZ:,}")

        per_entry = {"coordinate": 2, "array": 0}[fmt] + (field != "pattern")
        number = _MM_INT if field == "integer" else _MM_REAL
        rows, cols, vals = [], [], []
        for lineno, tokens in entries:
            if len(vals) == count:
                fail(lineno, f"more entries than the {count} declared on the size line")
            if len(tokens) != per_entry:
                fail(lineno, f"an entry must have {per_entry} token(s), got {len(tokens)}")
            if fmt == "coordinate":
                i, j = tokens[0], tokens[1]
                if not (i.isdigit() and j.isdigit()):
                    fail(lineno, f"indices must be positive integers, got {i!r} {j!r}")
                i, j = int(i), int(j)
                if not (1 <= i <= m and 1 <= j <= n):
                    fail(lineno, f"index ({i}, {j}) out of range: rows 1..{m}, columns 1..{n}")
                if (symmetry == "symmetric" and i < j) or (symmetry == "skew-symmetric" and i <= j):
                    below = "on or below" if symmetry == "symmetric" else "strictly below"
                    fail(lineno, f"a {symmetry} file stores entries {below} the diagonal, got ({i}, {j})")
                rows.append(i - 1)
                cols.append(j - 1)
            if field == "pattern":
                vals.append(1.0)
                continue
            token = tokens[-1]
            if not number.fullmatch(token):
                kind = "an integer" if field == "integer" else "a real number"
                fail(lineno, f"the value must be {kind}, got {token!r}")
            if field == "integer":
                v = int(token)
                if not -_INT64 <= v < _INT64:
                    fail(lineno, f"the integer {token} does not fit 64 bits (|value| < 2^63)")
            else:
                v = float(token)
                if not np.isfinite(v):
                    fail(lineno, f"the value {token} is not finite")
            vals.append(v)
        if len(vals) != count:
            fail(lineno + 1, f"the file ends after {len(vals)} of the {count} entries declared")

    dtype = np.int64 if field == "integer" else np.float64
    vals = np.array(vals, dtype=dtype)
    if fmt == "array":
        if symmetry == "general":
            return vals.reshape((m, n), order="F"), "array"
        lower = np.tril_indices(n, 0 if symmetry == "symmetric" else -1)
        order = np.lexsort((lower[0], lower[1]))  # column-major order of the lower triangle
        rows, cols = lower[0][order], lower[1][order]
    else:
        rows, cols = np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64)
    if symmetry != "general":
        off = rows != cols
        sign = 1 if symmetry == "symmetric" else -1
        rows, cols = np.concatenate([rows, cols[off]]), np.concatenate([cols, rows[off]])
        vals = np.concatenate([vals, sign * vals[off]])
    if fmt == "array":
        dense = np.zeros((m, n), dtype=dtype)
        dense[rows, cols] = vals
        return dense, "array"
    sp = _sp()
    return sp.csr_matrix((vals, (rows, cols)), shape=(m, n)), "coordinate"
