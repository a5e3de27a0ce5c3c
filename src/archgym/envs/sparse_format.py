"""SparseFormat: pick compression formats, dataflow and conversion site for C = A x B."""

from __future__ import annotations

import functools
import itertools
import zlib
from dataclasses import dataclass, field, fields

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from archgym import sparse as core
from archgym.envs._common import ReplayPickle, check_action, check_name, check_render_mode, check_running
from archgym.sparse import matrices

FORMATS: tuple[str, ...] = tuple(core.FORMATS)
DATAFLOWS: tuple[str, ...] = tuple(core.DATAFLOWS)
CONVERSION_SITES: tuple[str, ...] = tuple(core.CONVERSION_SITES)
OPS: tuple[str, ...] = tuple(core.OPS)
#: The documented baseline: A and B in CSR, Gustavson (row-wise) dataflow, any
#: conversion done in software on the host.  Its reward is exactly 1.0.
BASELINE = ("csr", "csr", "gustavson", "software")
BASELINE_ACTION = np.array([FORMATS.index(BASELINE[0]), FORMATS.index(BASELINE[1]),
                            DATAFLOWS.index(BASELINE[2]), CONVERSION_SITES.index(BASELINE[3])], dtype=np.int64)
NVEC = np.array([len(FORMATS), len(FORMATS), len(DATAFLOWS), len(CONVERSION_SITES)], dtype=np.int64)
#: Columns of the dense operand B of an SpMM workload (K x SPMM_COLS).
SPMM_COLS = 64
#: The stored format B has by default: the host keeps dense operands dense.
NATURAL_STORED_B = {"spmv": "dense", "spmm": "dense", "spgemm": "csr"}
#: Reward of an action the core cannot evaluate even with an implicit software
#: conversion (never seen with the shipped core; documented for safety): no speed-up.
INFEASIBLE_REWARD = 0.0

#: The default suite: a mix of real and synthetic operations that step quickly.
DEFAULT_SUITE = (
    "spmv:propack/illc1850",
    "spmm:propack/illc1850",
    "spgemm:propack/mhd1280b",
    "spgemm:networkx/les_miserables",
    "spmm:networkx/karate",
    "spmm:pruned/mlp_digits_fc1_90",
    "spmm:pruned/mlp_digits_fc2_2of4",
    "spmm:pruned/mlp_digits_fc2_70",
    "spmv:synthetic/banded_1024_8",
    "spgemm:synthetic/uniform_1024_0.001",
    "spmm:synthetic/powerlaw_1024_0.01",
    "spgemm:synthetic/block_512_4_0.1",
    "spmm:synthetic/uniform_64x4096_0.01",
    "spmv:synthetic/uniform_1024_0.5",
)
#: Named suites ("suite" argument); the benchmark uses their union.
SUITES = {
    "default": DEFAULT_SUITE,
    "pruned": tuple(f"spmm:pruned/mlp_digits_{layer}_{level}" for layer in ("fc1", "fc2")
                    for level in ("50", "70", "90", "95", "2of4")),
    "scientific": ("spmv:propack/illc1850", "spmm:propack/illc1850", "spgemm:propack/illc1850",
                   "spmv:propack/mhd1280b", "spmm:propack/mhd1280b", "spgemm:propack/mhd1280b",
                   "spgemm:networkx/karate", "spgemm:networkx/les_miserables",
                   "spgemm:networkx/davis_southern_women_biadjacency",
                   "spmv:synthetic/banded_4096_2", "spgemm:synthetic/banded_1024_8",
                   "spgemm:synthetic/powerlaw_4096_0.001_a1.5"),
    # pyamg's finite-element matrices: SpMV (a solver's smoother) and SpGEMM (a
    # multigrid Galerkin product) on each.
    "fem": tuple(f"{op}:pyamg/{m}" for m in matrices.PYAMG_EXAMPLES for op in ("spmv", "spgemm")),
}


# ------------------------------------------------------------------ helpers
def _require_scipy(what: str) -> None:
    try:
        import scipy.sparse  # noqa: F401
    except ImportError as exc:
        raise ModuleNotFoundError(f"{what} needs scipy (pip install scipy)", name="scipy") from exc


def _config(cls, value, what: str):
    """An instance of the dataclass cls from None (defaults), an instance, or a dict of its fields."""
    if value is None:
        return cls()
    if isinstance(value, cls):
        return value
    if isinstance(value, dict):
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValueError(f"unknown {what} field(s) {unknown}; allowed: {', '.join(sorted(known))}")
        return cls(**value)
    raise ValueError(f"{what} must be an archgym.sparse.{cls.__name__}, a dict of its fields or None, "
                     f"got {type(value).__name__}")


def _accelerator(value) -> core.Accelerator:
    return _config(core.Accelerator, value, "accelerator")


def _precision(value) -> core.Precision:
    return _config(core.Precision, value, "precision")


def _check_format(name: str, value, allow_random: bool = False) -> str:
    return check_name(name, value, FORMATS + (("random",) if allow_random else ()))


def _squash(x: np.ndarray) -> np.ndarray:
    """Signed log scale: sign(x) log2(1 + |x|) / 32, in [-1, 1] for |x| < 2^32."""
    x = np.nan_to_num(np.asarray(x, dtype=np.float64), nan=0.0, posinf=2.0 ** 32, neginf=-2.0 ** 32)
    return np.clip(np.sign(x) * np.log2(1.0 + np.abs(x)) / 32.0, -1.0, 1.0)


#: How each of the core's structure features enters the observation (by name):
#: "log" = log2(1 + x) / 32 (counts), "ratio" = x (already in [0, 1]),
#: "cv" = x / (1 + x) (non-negative, unbounded), "div32" = x / 32, "div12" = x / 12.
#: A feature the core adds later gets the signed log scale.
FEATURE_SCALING = {
    "rows": "log", "cols": "log", "nnz": "log", "density": "ratio", "row_nnz_mean": "log",
    "row_nnz_cv": "cv", "row_nnz_max": "log", "col_nnz_mean": "log", "col_nnz_cv": "cv",
    "col_nnz_max": "log", "empty_row_frac": "ratio", "empty_col_frac": "ratio",
    "block_fill_4x4": "ratio", "bandwidth": "ratio", "diag_fill": "ratio", "ell_fill": "ratio",
    "rlc4_fillers_per_nnz": "cv", "log2_rows": "div32", "log2_cols": "div32", "log10_density": "div12",
}


def _scale_features(f: np.ndarray) -> np.ndarray:
    """The core's features (FEATURE_NAMES order) scaled into [-1, 1] per FEATURE_SCALING."""
    f = np.nan_to_num(np.asarray(f, dtype=np.float64))
    out = np.empty_like(f)
    for i, name in enumerate(core.FEATURE_NAMES):
        kind, x = FEATURE_SCALING.get(name, "signed_log"), f[i]
        if kind == "log":
            out[i] = _squash(x)
        elif kind == "ratio":
            out[i] = x
        elif kind == "cv":
            out[i] = x / (1.0 + abs(x))
        elif kind == "div32":
            out[i] = x / 32.0
        elif kind == "div12":
            out[i] = x / 12.0
        else:
            out[i] = _squash(x)
    return np.clip(out, -1.0, 1.0)


def _one_hot(i: int, n: int) -> np.ndarray:
    v = np.zeros(n)
    v[i] = 1.0
    return v


# ----------------------------------------------------------------- workloads
@dataclass(frozen=True, eq=False)
class SparseWorkload:
    """One operation C = A x B: A (M x K) and B (K x N) as csr_matrix, and their stored formats.

    ``stored_a``/``stored_b`` are the formats the operands are held in before the
    accelerator runs (what the environment observes as "current formats").  ``c``
    (optional, csr_matrix M x N) is the output as it is written, which
    ``evaluate(..., fmt_c=...)`` charges in the chosen format.
    """

    name: str
    op: str
    a: object
    b: object
    stored_a: str = "csr"
    stored_b: str = "csr"
    c: object = None
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self):
        check_name("op", self.op, OPS)
        _check_format("stored_a", self.stored_a)
        _check_format("stored_b", self.stored_b)
        if self.a.shape[1] != self.b.shape[0]:
            raise ValueError(f"{self.name}: A is {self.a.shape}, B is {self.b.shape}; A's columns must equal B's rows")
        if self.op == "spmv" and self.b.shape[1] != 1:
            raise ValueError(f"{self.name}: spmv needs B with one column, got {self.b.shape}")

    @property
    def dims(self) -> tuple[int, int, int]:
        """(M, K, N) of C (M x N) = A (M x K) x B (K x N)."""
        return int(self.a.shape[0]), int(self.a.shape[1]), int(self.b.shape[1])

    def problem(self, precision) -> core.Problem:
        """The core's per-operand statistics for this operation (cached per precision)."""
        key = ("problem", precision)
        if key not in self._cache:
            self._cache[key] = core.Problem(self.a, self.b, self.op, precision, self.c)
        return self._cache[key]

    def static_features(self) -> np.ndarray:
        """op one-hot, log dims, the core's features of A and of B (observation, cached)."""
        if "features" not in self._cache:
            self._cache["features"] = np.concatenate([
                _one_hot(OPS.index(self.op), len(OPS)), _squash(np.array(self.dims, dtype=np.float64)),
                _scale_features(core.features(self.a)), _scale_features(core.features(self.b))])
        return self._cache["features"]


def _dense_operand(rows: int, cols: int, spec: str):
    """A dense K x cols operand (all entries non-zero), seeded by the spec's name."""
    sp = matrices._sp()
    rng = np.random.default_rng(zlib.crc32(spec.encode()))
    return sp.csr_matrix(matrices._values(rng, rows * cols).reshape(rows, cols))


@functools.lru_cache(maxsize=256)
def make_workload(spec: str, spmm_cols: int = SPMM_COLS) -> SparseWorkload:
    """``"<op>:<matrix>"`` (or the unified name ``"<op>/<matrix>"``) -> SparseWorkload (cached).

    B is, for ``spmv``, a dense K-vector; for ``spmm``, a dense K x ``spmm_cols`` matrix
    (both stored "dense", values seeded by the spec); for ``spgemm``, A itself when A
    is square and A^T otherwise (stored "csr").  A is stored "csr".
    """
    _require_scipy("the SparseFormat workloads")
    if not isinstance(spec, str) or not (":" in spec or "/" in spec):
        raise ValueError(f"a workload is '<op>:<matrix>' or '<op>/<matrix>' with op in {', '.join(OPS)} "
                         f"(e.g. 'spmm:propack/illc1850' or 'spmm/propack/illc1850'), got {spec!r}")
    op, name = spec.split(":" if ":" in spec else "/", 1)
    spec = f"{op}:{name}"  # the unified name "<op>/<matrix>" is the same workload
    if op not in OPS:
        raise ValueError(f"unknown op {op!r} in workload {spec!r}; allowed: {', '.join(OPS)}")
    if isinstance(spmm_cols, bool) or not isinstance(spmm_cols, (int, np.integer)) or not 1 <= spmm_cols <= 4096:
        raise ValueError(f"spmm_cols must be an integer in [1, 4096], got {spmm_cols!r}")
    a = matrices.load_matrix(name)
    m, k = a.shape
    if op == "spmv":
        b = _dense_operand(k, 1, spec)
    elif op == "spmm":
        b = _dense_operand(k, int(spmm_cols), spec)
    else:
        b = a.copy() if m == k else matrices._canonical(a.T)
    return SparseWorkload(name=spec, op=op, a=a, b=b, stored_a="csr", stored_b=NATURAL_STORED_B[op])


def _as_workload(w, spmm_cols: int = SPMM_COLS) -> SparseWorkload:
    if isinstance(w, SparseWorkload):
        return w
    if isinstance(w, str):
        return make_workload(w, spmm_cols)
    raise ValueError(f"a workload is '<op>:<matrix>' or a SparseWorkload, got {type(w).__name__}")


def resolve_suite(suite, spmm_cols: int = SPMM_COLS) -> tuple[SparseWorkload, ...]:
    """Workloads of a suite: a name in SUITES, one spec, or a sequence of specs/workloads.

    The named suites leave out matrices whose source is missing here (e.g. networkx
    not installed); an explicit list raises for them.
    """
    named = isinstance(suite, str) and suite in SUITES
    items = SUITES[suite] if named else ((suite,) if isinstance(suite, (str, SparseWorkload)) else suite)
    try:
        items = tuple(items)
    except TypeError:
        raise ValueError(f"suite must be one of {', '.join(SUITES)}, a workload spec or a sequence of "
                         f"them, got {suite!r}") from None
    out = []
    for item in items:
        if named and not matrices.is_available(item.split(":", 1)[1]):
            continue  # a named suite skips what this machine lacks (e.g. networkx)
        out.append(_as_workload(item, spmm_cols))
    if not out:
        raise ValueError(f"suite {suite!r} has no workload available here")
    return tuple(out)


# ------------------------------------------------------------- evaluation
def evaluate(workload: SparseWorkload, action, accelerator, precision,
             stored_a: str | None = None, stored_b: str | None = None,
             fmt_c: str | None = None) -> dict:
    """Figures of one action (indices or names) on a workload, implicit conversions charged.

    A legal action runs as given.  An action the core calls illegal with conversion
    "none" (an operand's chosen format differs from its stored one, the dataflow needs
    another layout, or C is written in a format other than dense) runs with the
    conversion done in software on the host: the implicit conversion is charged
    (``implicit_conversion`` True, ``reason`` says why).  ``fmt_c``: the format the
    workload's output ``c`` is written in (the core charges its encoding and its
    bytes); None counts C as the op's own output.  ``cycles`` is None (and ``reason``
    set) if even an implicit conversion cannot make the action legal.
    """
    fa, fb, df, cv = _names(action)
    sa = workload.stored_a if stored_a is None else stored_a
    sb = workload.stored_b if stored_b is None else stored_b
    out = {"fmt_a": fa, "fmt_b": fb, "dataflow": df, "conversion": cv, "stored_a": sa, "stored_b": sb,
           "legal": True, "implicit_conversion": False, "applied_conversion": cv}
    problem = workload.problem(precision)
    try:
        try:
            figures = problem.cost(fa, fb, df, cv, accelerator, sa, sb, fmt_c)
        except core.IllegalAction as exc:  # the core says why; "none" becomes implicit software
            out.update(legal=False, applied_conversion=None)
            if cv != "none":
                raise
            figures = problem.cost(fa, fb, df, "software", accelerator, sa, sb, fmt_c)
            out.update(implicit_conversion=True, applied_conversion="software",
                       reason=f"implicit software conversion ({exc})")
    except ValueError as exc:  # e.g. a fixed index width too narrow for a format's indices
        out.update(cycles=None, reason=str(exc))
        return out
    out.update({k: (v.item() if isinstance(v, np.generic) else v) for k, v in figures.items() if k != "legal"})
    return out


def _names(action) -> tuple[str, str, str, str]:
    if len(action) == 4 and all(isinstance(a, str) for a in action):
        fa, fb, df, cv = action
        _check_format("fmt_a", fa)
        _check_format("fmt_b", fb)
        check_name("dataflow", df, DATAFLOWS)
        check_name("conversion site", cv, CONVERSION_SITES)
        return fa, fb, df, cv
    a = check_action(action, NVEC)
    return FORMATS[a[0]], FORMATS[a[1]], DATAFLOWS[a[2]], CONVERSION_SITES[a[3]]


def _baseline(workload: SparseWorkload, accelerator, precision, stored_a: str, stored_b: str) -> dict:
    key = ("baseline", accelerator, precision, stored_a, stored_b)
    if key not in workload._cache:
        figures = evaluate(workload, BASELINE, accelerator, precision, stored_a, stored_b)
        if figures["cycles"] is None:
            raise ValueError(f"the baseline {BASELINE} is not evaluable on {workload.name}: {figures['reason']}")
        workload._cache[key] = figures
    return workload._cache[key]


def speedup(baseline_cycles: int, cycles: int) -> float:
    """baseline / cycles (1.0 when both are 0)."""
    if cycles <= 0:
        return 1.0 if baseline_cycles <= 0 else float(baseline_cycles)
    return baseline_cycles / cycles


def all_actions() -> np.ndarray:
    """Every action of the MultiDiscrete space, (729, 4) int64, in row-major order."""
    return np.array(list(itertools.product(*(range(n) for n in NVEC.tolist()))), dtype=np.int64)


def oracle(workload, accelerator=None, precision=None, stored_a: str | None = None,
           stored_b: str | None = None, spmm_cols: int = SPMM_COLS):
    """Exhaustive search: ``(best_action, best_cycles, table)`` for one workload.

    Every action of the space is evaluated (illegal ones with their implicit software
    conversion charged, as the environment does).  The best is the fewest cycles,
    then the least energy, then the lowest action index.  ``table`` maps column names
    to arrays over the 729 actions: ``action`` (729, 4), ``fmt_a``, ``fmt_b``,
    ``dataflow``, ``conversion``, ``legal`` (as given), ``applied_conversion``,
    ``cycles`` (-1 where not evaluable), ``conversion_cycles``, ``bytes``,
    ``energy_pj``, ``reward`` (speed-up over the baseline).  The regret of an action is
    ``best_cycles / cycles`` below 1 or, in reward terms, ``table['reward'].max() - reward``.
    """
    w = _as_workload(workload, spmm_cols)
    acc, prec = _accelerator(accelerator), _precision(precision)
    sa = w.stored_a if stored_a is None else _check_format("stored_a", stored_a)
    sb = w.stored_b if stored_b is None else _check_format("stored_b", stored_b)
    key = ("oracle", acc, prec, sa, sb)
    if key not in w._cache:
        w._cache[key] = _oracle_table(w, acc, prec, sa, sb)
    table = w._cache[key]
    best = int(table["_best"])
    return table["action"][best].copy(), int(table["cycles"][best]), \
        {k: v.copy() for k, v in table.items() if not k.startswith("_")}


def _grid(w: SparseWorkload, acc, prec, sa: str, sb: str, fmt_c: str | None = None) -> dict[str, np.ndarray]:
    """Figures of all 729 actions, flattened in :func:`all_actions` order, implicit
    conversions charged (an illegal "none" takes the "software" entry); ``ok`` marks
    the evaluable ones.  One C++ call (``Problem.cost_grid``)."""
    g = w.problem(prec).cost_grid(acc, sa, sb, fmt_c)
    none, soft = CONVERSION_SITES.index("none"), CONVERSION_SITES.index("software")
    legal = g["legal"]
    take_soft = ~legal.copy()
    take_soft[..., [i for i in range(len(CONVERSION_SITES)) if i != none]] = False
    out = {}
    for key, v in g.items():
        if key == "legal":
            continue
        v = v.copy()
        v[..., none] = np.where(take_soft[..., none], v[..., soft], v[..., none])
        out[key] = v.reshape(-1)
    ok = legal.copy()
    ok[..., none] |= legal[..., soft]
    out["ok"] = ok.reshape(-1)
    out["legal"] = legal.reshape(-1)
    out["implicit"] = (take_soft & legal[..., [soft]]).reshape(-1)
    return out


def _oracle_table(w: SparseWorkload, acc, prec, sa: str, sb: str) -> dict:
    actions = all_actions()
    g = _grid(w, acc, prec, sa, sb)
    base = _baseline(w, acc, prec, sa, sb)["cycles"]
    ok = g["ok"]
    cycles = np.where(ok, g["cycles"], -1).astype(np.int64)
    energy = np.where(ok, g["energy_pj"], np.inf)
    conv = np.array(CONVERSION_SITES)[actions[:, 3]]
    applied = np.where(g["implicit"], "software", conv)
    table = {
        "action": actions,
        "fmt_a": np.array(FORMATS)[actions[:, 0]], "fmt_b": np.array(FORMATS)[actions[:, 1]],
        "dataflow": np.array(DATAFLOWS)[actions[:, 2]], "conversion": conv,
        "legal": g["legal"].astype(bool),
        "applied_conversion": np.where(ok, applied, ""),
        "cycles": cycles,
        "conversion_cycles": np.where(ok, g["conversion_cycles"], -1).astype(np.int64),
        "bytes": np.where(ok, g["bytes"], -1).astype(np.int64),
        "energy_pj": energy,
        "reward": np.array([INFEASIBLE_REWARD if c < 0 else speedup(base, int(c)) for c in cycles.tolist()]),
    }
    idx = np.flatnonzero(ok)
    order = np.lexsort((idx, energy[idx], cycles[idx]))
    table["_best"] = np.int64(idx[order[0]])
    return table


# ------------------------------------------------------------ observation
#: The accelerator fields (of the core's ACCELERATOR_FIELDS) the observation shows.
HW_FIELDS = ("macs_per_cycle", "bandwidth_bytes_per_cycle", "buffer_bytes", "conversion_lanes",
             "frequency_ghz", "compares_per_cycle", "merges_per_cycle", "scan_elems_per_cycle")


def _hardware_features(acc) -> np.ndarray:
    return _squash(np.array([float(getattr(acc, f)) for f in HW_FIELDS]))


def observation_size() -> int:
    return len(OPS) + 3 + 2 * len(core.FEATURE_NAMES) + 2 * len(FORMATS) + len(HW_FIELDS)


def observation_names() -> list[str]:
    """Names of the observation's components, in order."""
    names = [f"op={o}" for o in OPS] + ["log M", "log K", "log N"]
    for operand in ("A", "B"):
        names += [f"{operand}.{f}" for f in core.FEATURE_NAMES]
    names += [f"stored A={f}" for f in FORMATS] + [f"stored B={f}" for f in FORMATS]
    return names + [f"log {f}" for f in HW_FIELDS]


# ----------------------------------------------------------------- the env
class SparseFormatEnv(ReplayPickle, gym.Env):
    """Choose the formats of A and B, the dataflow and the conversion site for one C = A x B.

    ## Description
    Qin et al., "Extending Sparse Tensor Accelerators to Support Multiple Compression
    Formats" (IPDPS 2021, arXiv:2103.10452): the most compact format and the fastest
    dataflow depend on the operands' dimensions and sparsity, and converting between
    formats in software can cost as much as the computation.  Each episode is one
    sparse operation (SpMV, SpMM or SpGEMM) drawn from a suite of named matrices
    (:mod:`archgym.sparse.matrices`); the agent picks how the accelerator runs it and
    the compiled sparse core (:mod:`archgym.sparse`) gives the exact counts and the
    modelled cycles, bytes and energy.

    ## Action Space
    ``MultiDiscrete([9, 9, 3, 3])``: the format of A and of B (dense, bitmap, rlc, coo,
    csr, csc, ell, bcsr, dia), the dataflow (inner, outer, gustavson) and where format
    conversion happens (none, software on the host, hardware conversion unit).

    **Illegal combinations are charged their implicit conversion, never masked:** when
    the core calls an action illegal with conversion "none" (a chosen format differs
    from the stored one, or the dataflow needs another layout), the conversion happens
    anyway, in software on the host, and its cycles are charged (``info["implicit_conversion"]``
    is True, ``info["reason"]`` says why).  Every action of the space is therefore
    valid and never raises.  ``action_masks()`` exists for sb3-contrib's MaskablePPO
    and returns all True (a factorised MultiDiscrete mask could not express the joint
    legality anyway); :meth:`legal_actions` gives the as-specified legality of all
    729 actions.

    ## Observation Space
    ``Box(-1, 1, (D,), float32)`` with D = 3 + 3 + 2 F + 18 + 8 = 72 (F = 20, the
    core's ``len(FEATURE_NAMES)``): the op one-hot; log2(1 + M, K, N) / 32; for A
    then B the core's structure features (:func:`archgym.sparse.features`: dims,
    nnz, density, row/column nnz mean, CV and max, empty rows/columns, 4x4 block
    fill, bandwidth, diagonal and ELL fill, RLC fillers, log dims, log10 density),
    each scaled into [-1, 1] as ``FEATURE_SCALING`` says (counts log2(1 + x) / 32,
    ratios as they are, CVs x / (1 + x), log2 dims / 32, log10 density / 12); the
    one-hot stored formats of A and B; log2(1 + x) / 32 of the accelerator's
    MACs/cycle, bandwidth (B/cycle), buffer (B), conversion-unit lanes, clock (GHz),
    comparators, mergers and buffer scan rate per cycle.  :func:`observation_names` lists them.

    ## Rewards
    The speed-up over the baseline, ``baseline_cycles / cycles`` (higher is better).
    The baseline is CSR for A and B with the Gustavson dataflow and conversion in
    software (``BASELINE``), from the same stored formats; the baseline action gets
    exactly 1.0.  (If an action could not be evaluated even with an implicit
    conversion the reward would be 0.0 with ``info["reason"]``; the shipped core has
    no such action.)

    ## Starting State
    A workload drawn uniformly from the suite with ``np_random``; its stored formats
    are the workload's own (A in CSR, dense B dense, sparse B CSR) unless
    ``stored_a``/``stored_b`` say otherwise ("random": drawn uniformly from the 9
    formats).  ``reset(options={"workload": i or spec, "stored_a": f, "stored_b": f})``
    picks them.

    ## Episode End
    After one step (terminated).  Never truncates.

    ## Arguments
    ``suite``: "default", "pruned", "scientific", "fem" (see ``SUITES``), one workload spec
    ``"<op>:<matrix>"`` (e.g. ``"spgemm:propack/mhd1280b"``) or a sequence of specs /
    :class:`SparseWorkload`; the named suites skip matrices whose source is missing
    here.  ``stored_a``, ``stored_b``: None (the workload's), a format, or "random".
    ``accelerator`` (:class:`archgym.sparse.Accelerator` or a dict of its fields),
    ``precision`` (:class:`archgym.sparse.Precision` or a dict), ``spmm_cols`` (N of
    SpMM, default 64), ``render_mode`` ("ansi").

    ``info`` holds the workload (``workload``, ``op``, ``dims``, stored formats), the
    action's names and ``applied_conversion``, the core's figures (``cycles``,
    ``compute_cycles``, ``memory_cycles``, ``conversion_cycles``, ``spill_cycles``,
    ``bytes``, ``energy_pj``, ``macs``, ``intersections``, ``merges``), ``time_us``,
    ``baseline_cycles``, ``baseline_energy_pj`` and ``speedup``; ``objective``
    (the design's ``cycles``, None if it could not be evaluated),
    ``objective_sense`` ("min") and ``feasible``.  On one workload and stored
    formats (the same reset seed or ``reset(options=...)``) the reward orders
    designs exactly as their cycles do.
    :func:`oracle` gives the best action of a workload, so regret is measurable.

    ## Version History
    * v0 (revised, conversion unit): the hardware unit's cycles come from its
      micro-architecture (``conversion_lanes``, ``conversion_banks``;
      docs/design/sparse.md §9) instead of a free elements/cycle throughput, and
      software conversion is timed on archgym's compiled converters instead of
      scipy (no 30-240 us per-call overhead).  Rewards of actions that convert, and
      the baseline's where it converts, change; the observation keeps its size
      (the unit's lanes replace its throughput, the same value at the defaults).
    * v0 (revised): ``info`` has ``objective``, ``objective_sense`` and
      ``feasible``; the env pickles.
    * v0: initial version.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(self, suite="default", stored_a: str | None = None, stored_b: str | None = None,
                 accelerator=None, precision=None, spmm_cols: int = SPMM_COLS, render_mode: str | None = None):
        _require_scipy("SparseFormat-v0")
        check_render_mode(render_mode, self.metadata["render_modes"])
        self.stored_a = None if stored_a is None else _check_format("stored_a", stored_a, allow_random=True)
        self.stored_b = None if stored_b is None else _check_format("stored_b", stored_b, allow_random=True)
        self.accelerator = _accelerator(accelerator)
        self.precision = _precision(precision)
        self.suite = resolve_suite(suite, spmm_cols)
        if self.precision != core.Precision():
            # A narrow fixed index width can make a format unable to hold an operand:
            # refuse here if even the baseline cannot run, rather than in step().
            for w in self.suite:
                _baseline(w, self.accelerator, self.precision, w.stored_a, w.stored_b)
        self.render_mode = render_mode
        self.action_space = spaces.MultiDiscrete(NVEC)
        self.observation_space = spaces.Box(-1.0, 1.0, (observation_size(),), dtype=np.float32)
        self._hw = _hardware_features(self.accelerator)
        self._workload = self.suite[0]
        self._stored = (self._workload.stored_a, self._workload.stored_b)
        self._done, self._last = True, None

    # -- episode
    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._record_reset(options)
        options = dict(options or {})
        unknown = sorted(set(options) - {"workload", "stored_a", "stored_b"})
        if unknown:
            raise ValueError(f"unknown reset option(s) {unknown}; allowed: workload, stored_a, stored_b")
        choice = options.get("workload")
        if choice is None:
            self._workload = self.suite[int(self.np_random.integers(len(self.suite)))]
        else:
            self._workload = self._pick(choice)
        sa = options.get("stored_a", self.stored_a)
        sb = options.get("stored_b", self.stored_b)
        self._stored = (self._stored_format("stored_a", sa, self._workload.stored_a),
                        self._stored_format("stored_b", sb, self._workload.stored_b))
        self._done, self._last = False, None
        return self._obs(), {"workload": self._workload.name, "stored_a": self._stored[0],
                             "stored_b": self._stored[1]}

    def _pick(self, choice) -> SparseWorkload:
        if isinstance(choice, (int, np.integer)) and not isinstance(choice, bool):
            if not 0 <= choice < len(self.suite):
                raise ValueError(f"workload index {choice} out of range [0, {len(self.suite) - 1}]")
            return self.suite[int(choice)]
        for w in self.suite:
            if w.name == choice or w is choice:
                return w
        return _as_workload(choice)

    def _stored_format(self, name, value, default):
        if value is None:
            return default
        if _check_format(name, value, allow_random=True) == "random":
            return FORMATS[int(self.np_random.integers(len(FORMATS)))]
        return value

    def step(self, action):
        check_running(self._done)
        a = check_action(action, NVEC)
        self._record_step(action)
        w, (sa, sb) = self._workload, self._stored
        info = self._figures(w, a, sa, sb)
        base = _baseline(w, self.accelerator, self.precision, sa, sb)
        if info["cycles"] is None:
            reward = INFEASIBLE_REWARD
        else:
            reward = speedup(base["cycles"], info["cycles"])
            info["time_us"] = info["cycles"] / (self.accelerator.frequency_ghz * 1e3)
        info.update(baseline_cycles=base["cycles"], baseline_energy_pj=base["energy_pj"], speedup=float(reward),
                    objective=info["cycles"], objective_sense="min", feasible=info["cycles"] is not None)
        self._done, self._last = True, info
        return self._obs(), float(reward), True, False, info

    def _figures(self, w, a, sa, sb) -> dict:
        info = {"workload": w.name, "op": w.op, "dims": w.dims}
        info.update(evaluate(w, a, self.accelerator, self.precision, sa, sb))
        return info

    def _obs(self) -> np.ndarray:
        w, (sa, sb) = self._workload, self._stored
        obs = np.concatenate([w.static_features(), _one_hot(FORMATS.index(sa), len(FORMATS)),
                              _one_hot(FORMATS.index(sb), len(FORMATS)), self._hw])
        return np.clip(obs, -1.0, 1.0).astype(np.float32)

    # -- helpers for agents and tools
    def action_masks(self) -> np.ndarray:
        """Flat MultiDiscrete mask for sb3-contrib's MaskablePPO: all True (see Action Space)."""
        return np.ones(int(NVEC.sum()), dtype=bool)

    def legal_actions(self) -> np.ndarray:
        """(9, 9, 3, 3) bool: which actions the core calls legal as given (no implicit conversion)."""
        w, (sa, sb) = self._workload, self._stored
        out = np.zeros(tuple(NVEC.tolist()), dtype=bool)
        for a in all_actions():
            fa, fb, df, cv = _names(a)
            out[tuple(a)] = core.legal(w.op, fa, fb, df, cv, sa, sb)[0]
        return out

    def oracle(self):
        """:func:`oracle` for the current episode's workload and stored formats."""
        w, (sa, sb) = self._workload, self._stored
        return oracle(w, self.accelerator, self.precision, sa, sb)

    @property
    def workload(self) -> SparseWorkload:
        return self._workload

    def render(self):
        if self.render_mode != "ansi":
            return None
        w, (sa, sb) = self._workload, self._stored
        m, k, n = w.dims
        lines = [(f"{w.name}: {w.op} C({m}x{n}) = A({m}x{k}, nnz {w.a.nnz:,}, stored {sa}) "
                  f"x B({k}x{n}, nnz {w.b.nnz:,}, stored {sb})")]
        if self._last is None:
            lines.append("(no action yet)")
        else:
            i = self._last
            if i["cycles"] is None:
                lines.append(f"{i['fmt_a']}/{i['fmt_b']} {i['dataflow']} {i['conversion']}: {i['reason']}")
            else:
                lines.append(f"{i['fmt_a']}/{i['fmt_b']} {i['dataflow']}, conversion {i['applied_conversion']}"
                             f"{' (implicit)' if i['implicit_conversion'] else ''}: {i['cycles']:,} cycles "
                             f"(conversion {i['conversion_cycles']:,}), {i['bytes']:,} B, "
                             f"{i['energy_pj']:.4g} pJ; baseline {i['baseline_cycles']:,} cycles; "
                             f"speed-up {i['speedup']:.3f}x")
        return "\n".join(lines)


# ------------------------------------------------------ the network variant
NET_NVEC = np.append(NVEC, len(FORMATS))
BASELINE_NET_ACTION = np.append(BASELINE_ACTION, FORMATS.index("csr"))


@dataclass(frozen=True, eq=False)
class _NetSetup:
    name: str
    layers: tuple[SparseWorkload, ...]  # A = weight (out x in), B = layer input (in x batch),
    # c = the layer's output as the next layer reads it (ReLU'd; the logits last)
    weight_format: str
    input_format: str
    _cache: dict = field(default_factory=dict, repr=False)


@functools.lru_cache(maxsize=32)
def _net_setup(network: str, batch: int, weight_format: str, input_format: str) -> _NetSetup:
    _require_scipy("SparseFormat-Network-v0")
    net = matrices.load_network(network, batch)
    acts = net.activations()
    logits = np.asarray(net.weights[-1] @ acts[-1], dtype=np.float32) + net.biases[-1][:, None]
    layers = []
    for i, (name, w) in enumerate(zip(net.layer_names, net.weights)):
        out = acts[i + 1] if i + 1 < len(acts) else logits
        layers.append(SparseWorkload(name=f"{network}/{name}", op="spmm", a=w, b=matrices._canonical(acts[i]),
                                     stored_a=weight_format, stored_b=input_format, c=matrices._canonical(out)))
    return _NetSetup(network, tuple(layers), weight_format, input_format)


def _layer_figures(setup: _NetSetup, layer: int, action, stored_b: str, acc, prec) -> dict:
    a = [int(v) for v in action]
    w = setup.layers[layer]
    fmt_out = FORMATS[a[4]]
    figures = evaluate(w, a[:4], acc, prec, setup.weight_format, stored_b, fmt_c=fmt_out)
    figures.update(layer=layer, layer_name=w.name, fmt_out=fmt_out, output_bytes=figures.get("bytes_c"))
    return figures


def _net_baseline(setup: _NetSetup, acc, prec) -> list[dict]:
    key = ("baseline", acc, prec)
    if key not in setup._cache:
        rows, stored = [], setup.input_format
        for layer in range(len(setup.layers)):
            rows.append(_layer_figures(setup, layer, BASELINE_NET_ACTION, stored, acc, prec))
            stored = rows[-1]["fmt_out"]
        setup._cache[key] = rows
    return setup._cache[key]


def network_oracle(network: str = "mlp_digits_90", batch: int = 64, weight_format: str = "csr",
                   input_format: str = "dense", accelerator=None, precision=None):
    """Exhaustive best policy of SparseFormat-Network-v0: ``(best_actions, best_cycles, table)``.

    Dynamic programming over the layers with the stored format of the layer's input
    as the state (9 states; every one of the 6,561 actions per layer and state is
    evaluated).  ``best_actions`` is (L, 5) int64, ``best_cycles`` the fewest total
    cycles, ``table["cost"][l]`` the (9 stored, 6561 actions) cycles of layer l and
    ``table["to_go"][l]`` the best cycles from layer l on for each stored input format.
    """
    acc, prec = _accelerator(accelerator), _precision(precision)
    setup = _net_setup(*_net_args(network, batch, weight_format, input_format))
    key = ("oracle", acc, prec)
    if key not in setup._cache:
        setup._cache[key] = _net_oracle(setup, acc, prec)
    best_actions, best, table = setup._cache[key]
    return best_actions.copy(), best, {k: [v.copy() for v in vs] for k, vs in table.items()}


def _net_oracle(setup: _NetSetup, acc, prec):
    L, nf = len(setup.layers), len(FORMATS)
    base_actions = all_actions()
    big = np.iinfo(np.int64).max // 4
    costs = []
    for layer in range(L):
        w = setup.layers[layer]
        cost = np.empty((nf, len(base_actions), nf), dtype=np.int64)
        for s, stored in enumerate(FORMATS):
            for f, fmt_out in enumerate(FORMATS):
                g = _grid(w, acc, prec, setup.weight_format, stored, fmt_out)
                cost[s, :, f] = np.where(g["ok"], g["cycles"], big)
        costs.append(cost.reshape(nf, -1))  # flat action = base action * 9 + output format
    to_go = [None] * (L + 1)
    choice = [None] * L
    to_go[L] = np.zeros(nf, dtype=np.int64)
    for layer in range(L - 1, -1, -1):
        nxt = to_go[layer + 1][np.arange(costs[layer].shape[1]) % nf]  # the output format is the next input's
        total = costs[layer] + nxt[None, :]
        choice[layer] = total.argmin(axis=1)
        to_go[layer] = total.min(axis=1)
    actions, stored = [], FORMATS.index(setup.input_format)
    for layer in range(L):
        flat = int(choice[layer][stored])
        a = np.append(base_actions[flat // nf], flat % nf)
        actions.append(a)
        stored = flat % nf
    table = {"cost": costs, "to_go": to_go[:L]}
    return np.array(actions, dtype=np.int64), int(to_go[0][FORMATS.index(setup.input_format)]), table


def _net_args(network, batch, weight_format, input_format):
    if not isinstance(network, str):
        raise ValueError(f"network must be a name like 'mlp_digits_90', got {network!r}")
    network = network.removeprefix(f"{matrices.NETWORK_FAMILY}/")  # the unified name is the same network
    _check_format("weight_format", weight_format)
    _check_format("input_format", input_format)
    if isinstance(batch, bool) or not isinstance(batch, (int, np.integer)):
        raise ValueError(f"batch must be an integer, got {batch!r}")
    return network, int(batch), weight_format, input_format


class SparseFormatNetworkEnv(ReplayPickle, gym.Env):
    """Choose formats, dataflow, conversion site and output format layer by layer of a network.

    ## Description
    The sequential form of :class:`SparseFormatEnv` (Qin et al., IPDPS 2021,
    arXiv:2103.10452; per-layer choice as in Flexagon, ASPLOS 2023).  The network is
    a magnitude-pruned MLP trained on digits (:func:`archgym.sparse.matrices.load_network`,
    default ``mlp_digits_90``: 90% of every layer's weights zero).  Layer l computes
    ``C_l = W_l X_l`` with A = W_l (out x in, stored in ``weight_format``) and B = X_l
    (in x batch): the digits images for the first layer (stored ``input_format``),
    then the previous layer's ReLU output.  **Each layer's output is written in the
    format the agent picks for it (``fmt_out``), and that is the stored format of the
    next layer's B**: picking the next layer's preferred format now avoids a
    conversion there, at the price of writing this output in that format.

    ## Action Space
    ``MultiDiscrete([9, 9, 3, 3, 9])``: format of A, format of B, dataflow, conversion
    site (as in SparseFormat-v0, with implicit conversions charged the same way), and
    the output format.

    ## Observation Space
    ``Box(-1, 1, (D + 1,), float32)``: SparseFormat-v0's observation of the layer's
    operation (op, dims, features of W_l and X_l, their stored formats, hardware) and
    the layer index / number of layers.  After the last layer the last layer is shown
    with index 1.

    ## Rewards
    Per layer, minus its cycles over the baseline's total:
    ``r_l = -cycles_l / baseline_total_cycles``.  cycles_l is the core's cost of the
    layer's SpMM (conversions of W_l and X_l included) with C_l written in
    ``fmt_out`` (the core's ``fmt_c``): ``max(compute, ceil((bytes A + bytes B +
    bytes C_l) / bandwidth)) + conversion + spill``.  The PE array produces C_l (the
    next layer's input after bias and ReLU) dense; **writing it in any other format
    is a dense -> fmt_out conversion, charged to the layer's conversion site**: the
    hardware unit encodes it on the way out (its cycles added, C_l written at its
    exact size in fmt_out), software has the accelerator write C_l dense and the
    host encode it (its calibrated time added).  Conversion "none" with a
    compressed fmt_out is an implicit software conversion, as for the inputs.  The
    baseline policy runs every
    layer as CSR x CSR, Gustavson, software conversion, CSR output; its return is
    -1 (up to float rounding) and any policy's return is -1 / speed-up.  At the end
    ``info["speedup"] = baseline_total_cycles / total_cycles`` (exactly 1.0 for the
    baseline).  (A layer the core could not evaluate even with an implicit conversion
    would get -1 and be charged the baseline's total cycles, with ``info["reason"]``;
    the shipped core has none.)

    ## Starting State
    The first layer, its input stored in ``input_format``.  Deterministic.

    ## Episode End
    Terminates after the last layer.  Never truncates.

    ## Arguments
    ``network`` ("mlp_digits_<P>" for P in 0..99, or "mlp_digits_2of4"), ``batch``
    (images per inference, 1..360, default 64), ``weight_format`` (default "csr"),
    ``input_format`` (default "dense"), ``accelerator``, ``precision``,
    ``render_mode`` ("ansi").

    ``info`` has the layer's figures (as SparseFormat-v0, with ``bytes``,
    ``bytes_c``, ``memory_cycles``, ``cycles`` and ``energy_pj`` for C_l written in
    ``fmt_out``; plus ``fmt_out`` and ``output_bytes``), the running
    ``total_cycles``/``total_energy_pj``/``total_conversion_cycles`` and
    ``baseline_total_cycles``; the last step adds ``per_layer``, ``speedup``,
    ``objective`` (``total_cycles``, the return being -objective /
    baseline_total_cycles), ``objective_sense`` ("min") and ``feasible``.
    :func:`network_oracle` gives the best policy (dynamic programming over the
    stored input format), so regret is measurable.

    ## Version History
    * v0 (revised, output encoding): each layer's output encoding (dense ->
      ``fmt_out``) is charged to the conversion unit or to the host, as above; it
      was free before (an encoder assumed to keep up with the write path).  Returns,
      the baseline's total cycles and the oracle's best policy change; the hardware
      unit and the software calibration change as in SparseFormat-v0's history.
    * v0 (revised): the last step's ``info`` has ``objective``,
      ``objective_sense`` and ``feasible``; the env pickles.
    * v0: initial version.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(self, network: str = "mlp_digits_90", batch: int = 64, weight_format: str = "csr",
                 input_format: str = "dense", accelerator=None, precision=None,
                 render_mode: str | None = None):
        _require_scipy("SparseFormat-Network-v0")
        check_render_mode(render_mode, self.metadata["render_modes"])
        self.accelerator = _accelerator(accelerator)
        self.precision = _precision(precision)
        self.setup = _net_setup(*_net_args(network, batch, weight_format, input_format))
        self.render_mode = render_mode
        self.action_space = spaces.MultiDiscrete(NET_NVEC)
        self.observation_space = spaces.Box(-1.0, 1.0, (observation_size() + 1,), dtype=np.float32)
        self._hw = _hardware_features(self.accelerator)
        base = _net_baseline(self.setup, self.accelerator, self.precision)
        self.baseline_total_cycles = int(sum(r["cycles"] for r in base))
        self._t, self._stored, self._done = 0, input_format, True
        self._per_layer: list[dict] = []

    @property
    def num_layers(self) -> int:
        return len(self.setup.layers)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        if options:
            raise ValueError(f"SparseFormat-Network-v0 takes no reset options, got {sorted(options)}")
        self._record_reset(options)
        self._feasible = True
        self._t, self._stored, self._done = 0, self.setup.input_format, False
        self._per_layer = []
        self._totals = {"cycles": 0, "energy_pj": 0.0, "conversion_cycles": 0}
        return self._obs(), {"network": self.setup.name, "baseline_total_cycles": self.baseline_total_cycles}

    def step(self, action):
        check_running(self._done)
        a = check_action(action, NET_NVEC)
        self._record_step(action)
        info = _layer_figures(self.setup, self._t, a, self._stored, self.accelerator, self.precision)
        if info["cycles"] is None:  # not reachable with the shipped core; documented penalty
            reward, cycles = -1.0, self.baseline_total_cycles
            self._feasible = False
        else:
            cycles = info["cycles"]
            reward = -cycles / self.baseline_total_cycles
            self._totals["energy_pj"] += info["energy_pj"]
            self._totals["conversion_cycles"] += info["conversion_cycles"]
        self._totals["cycles"] += cycles
        self._per_layer.append(dict(info))
        self._t += 1
        self._stored = info["fmt_out"]
        self._done = self._t == self.num_layers
        info.update({f"total_{k}": v for k, v in self._totals.items()},
                    baseline_total_cycles=self.baseline_total_cycles)
        if self._done:
            info["per_layer"] = self._per_layer
            info["speedup"] = speedup(self.baseline_total_cycles, self._totals["cycles"])
            info.update(objective=self._totals["cycles"], objective_sense="min", feasible=self._feasible)
        return self._obs(), float(reward), self._done, False, info

    def _obs(self) -> np.ndarray:
        t = min(self._t, self.num_layers - 1)
        w = self.setup.layers[t]
        stored = self._stored if self._t < self.num_layers else self._per_layer[-1]["stored_b"]
        obs = np.concatenate([w.static_features(), _one_hot(FORMATS.index(self.setup.weight_format), len(FORMATS)),
                              _one_hot(FORMATS.index(stored), len(FORMATS)), self._hw,
                              [self._t / self.num_layers]])
        return np.clip(obs, -1.0, 1.0).astype(np.float32)

    def action_masks(self) -> np.ndarray:
        """Flat MultiDiscrete mask for sb3-contrib's MaskablePPO: all True (implicit conversions)."""
        return np.ones(int(NET_NVEC.sum()), dtype=bool)

    def oracle(self):
        s = self.setup
        return network_oracle(s.name, s.layers[0].b.shape[1], s.weight_format, s.input_format,
                              self.accelerator, self.precision)

    def render(self):
        if self.render_mode != "ansi":
            return None
        lines = [(f"{self.setup.name}: layer {self._t}/{self.num_layers}, next input stored {self._stored}; "
                  f"baseline {self.baseline_total_cycles:,} cycles"),
                 f"{'layer':>8} {'A':>6} {'B':>6} {'dataflow':>9} {'conv':>8} {'out':>6} {'cycles':>12} {'conv cyc':>10}"]
        for r in self._per_layer:
            lines.append(f"{r['layer_name'].split('/')[-1]:>8} {r['fmt_a']:>6} {r['fmt_b']:>6} {r['dataflow']:>9} "
                         f"{r['applied_conversion']!s:>8} {r['fmt_out']:>6} {r['cycles']!s:>12} "
                         f"{r.get('conversion_cycles', '-')!s:>10}")
        return "\n".join(lines)


__all__ = ["BASELINE", "DATAFLOWS", "DEFAULT_SUITE", "FORMATS", "SUITES", "SparseFormatEnv",
           "SparseFormatNetworkEnv", "SparseWorkload", "all_actions", "evaluate", "make_workload",
           "network_oracle", "observation_names", "oracle", "resolve_suite", "speedup"]
