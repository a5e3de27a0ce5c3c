"""MAESTRO-style data-centric dataflow cost model (Python face of ``archgym._sim``).

A *dataflow* is a list of directives, ``TemporalMap(size, offset) D`` and
``SpatialMap(size, offset) D`` over the dimensions K, C, R, S, Y, X, N (and the
output extents Y', X'), cut into cluster levels by ``Cluster(n)``.  Sizes and
offsets are integers, ``Sz(D)`` (the layer's size of D) or named constants
bound at evaluation time.  The engine in ``csrc/costmodel`` reproduces MAESTRO
(Kwon et al., MICRO 2019) exactly; see ``docs/costmodel.md``.

    >>> from archgym import costmodel as cm
    >>> layer = cm.Layer(K=64, C=64, Y=56, X=56, R=3, S=3)
    >>> r = cm.evaluate(layer, cm.DATAFLOWS["dla"], cm.Hardware(num_pes=64),
    ...                 constants=cm.confuciux_constants(pes=64, tile=4))
    >>> r["runtime"], r["macs"]

Quirk compatibility: ``compat=True`` (the default) reproduces MAESTRO's output
L1 tile counted in input coordinates (R*S times the output tile for dla) and its
energy column, which drops the L1 term for multi-level dataflows.
``compat=False`` counts the output L1 tile in output coordinates and reports
energy = MAC + L1 + L2 terms.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

import numpy as np

from archgym import _sim

#: The int64 range every integer input must fit: the core's integers are int64.
INT64_MIN, INT64_MAX = int(np.iinfo(np.int64).min), int(np.iinfo(np.int64).max)

_core = _sim.costmodel

# The core's names, defaults and limits (csrc/costmodel/maestro.hpp): one
# definition, read here.
#: The integer and float results, in the order of BatchResult's columns.
INT_FIELDS: tuple[str, ...] = tuple(_core.INT_FIELDS)
FLOAT_FIELDS: tuple[str, ...] = tuple(_core.FLOAT_FIELDS)
#: The constant tables of MAESTRO's releases (``preset=``).
PRESETS: tuple[str, ...] = tuple(_core.PRESETS)
#: The layer dimensions (Y, X are input sizes; N = 0: no batch dimension; G = 0:
#: no groups, G is the group count of an NGCONV layer).
DIMS: tuple[str, ...] = tuple(_core.DIMS)
#: The columns of a batch's layers: "type" (an index into LAYER_TYPES), then
#: DIMS, then "stride_y" and "stride_x".
LAYER_FIELDS: tuple[str, ...] = tuple(_core.LAYER_FIELDS)
#: MAESTRO's layer types: CONV, DSCONV, NGCONV, TRCONV, GEMM.
LAYER_TYPES: tuple[str, ...] = tuple(_core.LAYER_TYPES)
#: The layer fields that may be left out of a batch ("type", N, G, the strides).
LAYER_DEFAULTS: dict[str, int] = dict(_core.LAYER_DEFAULTS)
#: The variables of the (input, filter, output) tensors per layer type.
TENSORS: dict[str, tuple[tuple[str, ...], ...]] = {
    t: tuple(tuple(vs) for vs in three) for t, three in _core.TENSORS.items()}
#: A GEMM's dimension names and the CONV dimensions they are analysed as
#: (M -> Y, N -> K, K -> C, with R = S = X = 1).
GEMM_DIMS: dict[str, str] = dict(_core.GEMM_DIMS)
#: The columns of a batch's hardware.
HARDWARE_FIELDS: tuple[str, ...] = tuple(_core.HARDWARE_FIELDS)
#: Every hardware field's default: ConfuciuX's invocation of MAESTRO.
HARDWARE_DEFAULTS: dict[str, int] = dict(_core.HARDWARE_DEFAULTS)
#: The MAESTRO binary's own defaults when a flag is omitted (archgym-maestro's).
MAESTRO_DEFAULTS: dict[str, int] = dict(_core.MAESTRO_DEFAULTS)
#: The accepted (lowest, highest) value of every layer and hardware field and
#: of a dataflow constant ("constant"); the core rejects values outside.
LIMITS: dict[str, tuple[int, int]] = dict(_core.LIMITS)
_VARS = tuple(_core.VARS)  # K C R S Y X N G Y' X'
_LITERAL, _DIM_SIZE, _PARAM = (_core.EXPR_KINDS.index(k) for k in ("literal", "dim_size", "param"))

# ConfuciuX's invocation of MAESTRO (tests/data/reference/maestro/README.md).
CONFUCIUX_NOC_BW: int = HARDWARE_DEFAULTS["noc_bw"]


#: A mapping or dataflow text that cannot be parsed (a ValueError): its message
#: names the source and the line, its ``line`` attribute the line (or None).
#: Raised by the C++ parser (csrc/costmodel/mapping_file.hpp).
ParseError = _core.ParseError

# ----------------------------------------------------------------- parsing
#: tokenize(text) -> [(token, line)]: MAESTRO's tokenizer.  Separators are
#: space, tab, CR, ``, - > ( ) : ;``; a token starting with ``//`` ends its
#: line.  Braces must stand as tokens of their own.
tokenize = _core.tokenize


@dataclass(frozen=True)
class Directive:
    """One directive; size and offset are ints, ``"Sz(D)"`` or a constant name."""

    kind: str  # "T" (TemporalMap) or "S" (SpatialMap)
    var: str  # K, C, R, S, Y, X, N, Y' or X'
    size: int | str
    offset: int | str

    def __str__(self) -> str:
        name = "SpatialMap" if self.kind == "S" else "TemporalMap"
        return f"{name}({self.size},{self.offset}) {self.var};"


class Dataflow:
    """A dataflow: directive levels (top first) separated by cluster sizes."""

    def __init__(self, levels: Sequence[Sequence[Directive]], clusters: Sequence[int | str] = (),
                 name: str = "", params: Sequence[str] | None = None):
        """params: the order of the constants' values per evaluation (default:
        order of first use); it must name every constant the directives use."""
        self.levels = tuple(tuple(level) for level in levels)
        self.clusters = tuple(clusters)
        self.name = name
        used: list[str] = []
        for e in self._exprs():
            if isinstance(e, str) and not e.startswith("Sz(") and e not in used:
                used.append(e)
        if params is not None and set(used) - set(params):
            raise ValueError(f"dataflow {name!r} uses constants {sorted(set(used) - set(params))} "
                             f"missing from params {tuple(params)}")
        self.params: tuple[str, ...] = tuple(used if params is None else params)
        self.spec = _core.DataflowSpec(
            [[(d.kind == "S", _var_index(d.var), self._expr(d.size), self._expr(d.offset))
              for d in level] for level in self.levels],
            [self._expr(c) for c in self.clusters], len(self.params))

    def with_params(self, params: Sequence[str]) -> "Dataflow":
        """The same dataflow with its constants' values taken in the order ``params``."""
        return Dataflow(self.levels, self.clusters, self.name, params)

    @classmethod
    def parse(cls, text: str, name: str = "", source: str = "",
              dims: Mapping[str, str] | None = None) -> "Dataflow":
        """Parse ``Dataflow { ... }`` or a bare list of directives.

        dims: the layer type's dimension names -> the engine's, for a dataflow written
        in a GEMM's names M, N, K (``dims=GEMM_DIMS``), as MAESTRO's front end renames them.
        """
        levels, clusters = _core.parse_dataflow(text, source, list((dims or {}).items()))
        levels = [[Directive(*directive) for directive in level] for level in levels]
        return cls(levels, clusters, name)

    def _exprs(self):
        for level in self.levels:
            for d in level:
                yield d.size
                yield d.offset
        yield from self.clusters

    def _expr(self, e: int | str) -> tuple[int, int]:
        if isinstance(e, (int, np.integer)) and not isinstance(e, bool):
            return (_LITERAL, int(e))  # the core checks its range
        if isinstance(e, str) and e.startswith("Sz("):
            return (_DIM_SIZE, DIMS.index(e[3:-1]))
        if isinstance(e, str):
            return (_PARAM, self.params.index(e))
        raise ValueError(f"a directive size must be an int, 'Sz(D)' or a constant name, got {e!r}")

    def __str__(self) -> str:
        lines = ["Dataflow {"]
        for i, level in enumerate(self.levels):
            if i:
                lines.append(f"  Cluster({self.clusters[i - 1]}, P);")
            lines += [f"  {d}" for d in level]
        return "\n".join(lines + ["}"])

    def __repr__(self) -> str:
        return f"Dataflow(name={self.name!r}, levels={len(self.levels)}, params={self.params})"


def _var_index(var: str) -> int:
    if var not in _VARS:
        raise ValueError(f"unknown dimension {var!r}; allowed: {', '.join(_VARS)}")
    return _VARS.index(var)


#: The constants of ConfuciuX's dataflows, in the order the presets take them.
CONFUCIUX_CONSTANTS = ("KTileSz", "ClusterSz", "CTileSz")


def _load_presets() -> dict[str, Dataflow]:
    folder = resources.files("archgym.costmodel") / "dataflows"
    return {name: Dataflow.parse((folder / f"{name}.m").read_text(), name=name, source=f"{name}.m",
                                 dims=GEMM_DIMS if name == "gemm" else None
                                 ).with_params(CONFUCIUX_CONSTANTS)
            for name in ("dla", "shi", "eye", "dpt", "gemm")}


#: The four ConfuciuX dataflows (NVDLA-, ShiDianNao-, Eyeriss-like, depthwise) and
#: archgym's GEMM preset (MAESTRO's GEMM example, written in GEMM names M, N, K).
DATAFLOWS: dict[str, Dataflow] = _load_presets()


def confuciux_constants(pes, tile) -> dict[str, object]:
    """The constants ConfuciuX writes into its mapping files."""
    return {"KTileSz": tile, "ClusterSz": pes, "CTileSz": 1}


# ----------------------------------------------------------------- inputs
def _fits_int64(name: str, value: int) -> int:
    if not INT64_MIN <= value <= INT64_MAX:
        raise ValueError(f"{name} = {value} does not fit 64 bits (allowed: -2^63 .. 2^63 - 1)")
    return value


def as_int(name: str, value) -> int:
    """An exact integer that fits int64 from an int-like value; anything else is a ValueError."""
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be an integer, got a bool")
    if isinstance(value, (int, np.integer)):
        return _fits_int64(name, int(value))
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value) or not float(value).is_integer():
            raise ValueError(f"{name} must be an integer, got {value!r}")
        return _fits_int64(name, int(value))
    raise ValueError(f"{name} must be an integer, got {type(value).__name__} {value!r}")


def as_int_array(name: str, values) -> np.ndarray:
    """An int64 array from int-like values, rejecting NaN, inf, fractions and values beyond int64."""
    arr = np.asarray(values)
    if arr.dtype == object and all(isinstance(v, int) and not isinstance(v, bool) for v in arr.flat):
        for v in arr.flat:  # Python ints numpy could not hold in 64 bits
            _fits_int64(name, v)
    if arr.dtype == bool or arr.dtype.kind not in "iuf":
        raise ValueError(f"{name} must hold integers, got dtype {arr.dtype}")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise ValueError(f"{name} must hold integers (no NaN, inf or fractions)")
        # float64(2^63 - 1) rounds to 2^63, so every float below 2^63 converts exactly.
        if arr.size and not (np.all(arr >= INT64_MIN) and np.all(arr < 2.0**63)):
            raise ValueError(f"{name} holds a value that does not fit 64 bits (allowed: -2^63 .. 2^63 - 1)")
    if arr.dtype.kind == "u" and arr.size and arr.max() > INT64_MAX:
        _fits_int64(name, int(arr.max()))
    return np.ascontiguousarray(arr, dtype=np.int64)


@dataclass(frozen=True)
class Layer:
    """One layer of one of MAESTRO's types (:data:`LAYER_TYPES`).

    Y, X are input sizes; N = 0: no batch dimension.  ``depthwise=True`` is
    ``type="DSCONV"``.  A grouped convolution (NGCONV) has G groups of K output
    and C input channels each; a transposed one (TRCONV) is analysed as the
    CONV of the same dimensions; a GEMM is best made with :meth:`gemm`.
    stride_y, stride_x: MAESTRO's ``Stride { Y: .., X: .. }``.
    """

    K: int
    C: int
    Y: int
    X: int
    R: int
    S: int
    depthwise: bool = False
    N: int = LAYER_DEFAULTS["N"]
    type: str = "CONV"
    G: int = LAYER_DEFAULTS["G"]
    stride_y: int = LAYER_DEFAULTS["stride_y"]
    stride_x: int = LAYER_DEFAULTS["stride_x"]

    def __post_init__(self):
        if self.type not in LAYER_TYPES:
            raise ValueError(f"layer type must be one of {', '.join(LAYER_TYPES)}, "
                             f"got {self.type!r}")
        if self.depthwise and self.type not in ("CONV", "DSCONV"):
            raise ValueError(f"depthwise=True means type DSCONV, not {self.type}")
        if self.depthwise or self.type == "DSCONV":
            object.__setattr__(self, "type", "DSCONV")
            object.__setattr__(self, "depthwise", True)

    @classmethod
    def gemm(cls, M: int, N: int, K: int) -> "Layer":
        """The GEMM (M x K) x (K x N), in the CONV dimensions of :data:`GEMM_DIMS`."""
        dims = {"R": 1, "S": 1, "X": 1}
        dims.update((GEMM_DIMS[name], value) for name, value in (("M", M), ("N", N), ("K", K)))
        return cls(**dims, type="GEMM")

    @classmethod
    def from_row(cls, row) -> "Layer":
        """From a ConfuciuX table row (K, C, Y, X, R, S, T); T = 2 marks depthwise."""
        k, c, y, x, r, s, t = (as_int(n, v) for n, v in zip("KCYXRST", row))
        if t not in (1, 2):
            raise ValueError(f"T must be 1 (CONV) or 2 (depthwise), got {t}")
        return cls(k, c, y, x, r, s, depthwise=t == 2)

    def fields(self) -> dict[str, int]:
        """The layer as the core's named fields (:data:`LAYER_FIELDS`)."""
        out = {"type": LAYER_TYPES.index(self.type)}
        out.update((f, as_int(f, getattr(self, f))) for f in LAYER_FIELDS if f != "type")
        return out

    def row(self) -> list[int]:
        """The values of :data:`LAYER_FIELDS`, in that order."""
        fields = self.fields()
        return [fields[f] for f in LAYER_FIELDS]


@dataclass(frozen=True)
class Hardware:
    """Hardware configuration; defaults are ConfuciuX's MAESTRO invocation.

    The fields before l1_size are :data:`HARDWARE_FIELDS`, with the core's
    defaults (:data:`HARDWARE_DEFAULTS`).
    """

    num_pes: int = HARDWARE_DEFAULTS["num_pes"]
    simd_lanes: int = HARDWARE_DEFAULTS["simd_lanes"]
    noc_bw: int = HARDWARE_DEFAULTS["noc_bw"]
    noc_hops: int = HARDWARE_DEFAULTS["noc_hops"]
    noc_hop_latency: int = HARDWARE_DEFAULTS["noc_hop_latency"]
    offchip_bw: int = HARDWARE_DEFAULTS["offchip_bw"]
    l1_size: int = 819_200_000  # limits, checked by callers that want them
    l2_size: int = 819_200_000

    def fields(self) -> dict[str, int]:
        """The core's named hardware fields (:data:`HARDWARE_FIELDS`)."""
        return {f: as_int(f, getattr(self, f)) for f in HARDWARE_FIELDS}

    def row(self) -> list[int]:
        """The values of :data:`HARDWARE_FIELDS`, in that order."""
        return list(self.fields().values())


# ----------------------------------------------------------------- evaluation
_FIELD_INDEX = {**{k: (0, i) for i, k in enumerate(INT_FIELDS)},
                **{k: (1, i) for i, k in enumerate(FLOAT_FIELDS)}}


@dataclass
class BatchResult(Mapping):
    """Column arrays of a batch evaluation: ``result["runtime"]`` is int64[n]."""

    ints: np.ndarray
    floats: np.ndarray
    _index = _FIELD_INDEX

    def __getitem__(self, key: str) -> np.ndarray:
        which, i = self._index[key]
        return (self.ints if which == 0 else self.floats)[:, i]

    def __iter__(self):
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def row(self, i: int) -> dict:
        out: dict = {k: int(self.ints[i, j]) for j, k in enumerate(INT_FIELDS)}
        out.update({k: float(self.floats[i, j]) for j, k in enumerate(FLOAT_FIELDS)})
        return out


_INT64 = np.iinfo(np.int64)


def _column(what: str, value):
    """A scalar or a 1-D array of exact integers (Python ints and int64 arrays pass as they are)."""
    if type(value) is int and _INT64.min <= value <= _INT64.max:
        return value
    fast = type(value) is np.ndarray and value.dtype == np.int64
    arr = value if fast else as_int_array(what, value)
    if arr.ndim > 1:
        raise ValueError(f"{what} must be a scalar or a 1-D array, got shape {arr.shape}")
    return arr


def _named(what: str, given, fields: Sequence[str], defaults: Mapping[str, int]) -> list:
    """The values of ``fields`` from the mapping ``given`` (or ``defaults``), in order."""
    if not isinstance(given, Mapping):
        raise ValueError(f"{what} must map names ({', '.join(fields)}) to values, "
                         f"got {type(given).__name__}")
    for name in given:
        if name not in fields:
            raise ValueError(f"unknown {what} field {name!r}; allowed: {', '.join(fields)}")
    missing = [f for f in fields if f not in given and f not in defaults]
    if missing:
        raise ValueError(f"{what} needs a value for {', '.join(missing)}")
    return [given[f] if f in given else defaults[f] for f in fields]


@dataclass
class BatchInputs:
    """The core's input arrays for a batch, one row per evaluation.

    Made by :meth:`BatchEvaluator.prepare`.  The columns of ``layers`` are
    :data:`LAYER_FIELDS`, those of ``hardware`` :data:`HARDWARE_FIELDS` and those
    of ``constants`` the evaluator's ``constants``: change a column in place
    through the index of its name, then call :meth:`BatchEvaluator.run`.
    """

    df_index: np.ndarray  # int64 (n,)
    layers: np.ndarray  # int64 (n, len(LAYER_FIELDS))
    hardware: np.ndarray  # int64 (n, len(HARDWARE_FIELDS))
    constants: np.ndarray  # int64 (n, len(BatchEvaluator.constants))

    def take(self, rows) -> "BatchInputs":
        """A copy of the given rows (an int array of row indices)."""
        return BatchInputs(self.df_index[rows], self.layers[rows], self.hardware[rows],
                           self.constants[rows])


class BatchEvaluator:
    """Many evaluations in one call of the C++ core: the cost model's fast path.

    A row is a layer, a hardware configuration, one of ``dataflows``
    (``df_index``) and the values of the dataflows' constants.  Inputs are
    named columns: a mapping from a field name to a scalar (the same for every
    row) or an int array with one value per row.

        >>> ev = BatchEvaluator([DATAFLOWS["dla"], DATAFLOWS["dpt"]])
        >>> res = ev.evaluate(
        ...     layers={"K": [64, 1], "C": [64, 32], "R": 3, "S": 3, "Y": 58, "X": 58,
        ...             "type": [0, 1]},
        ...     hardware={"num_pes": 64},
        ...     constants={"KTileSz": 4, "ClusterSz": 64, "CTileSz": 1},
        ...     df_index=[0, 1])
        >>> res["runtime"]  # int64[2], see INT_FIELDS and FLOAT_FIELDS

    ``layers``: a :class:`Layer`, or names in :data:`LAYER_FIELDS`; "type" (an
    index into :data:`LAYER_TYPES`) and N may be left out (:data:`LAYER_DEFAULTS`).
    ``hardware``: a :class:`Hardware`, or names in :data:`HARDWARE_FIELDS`, the
    rest taking :data:`HARDWARE_DEFAULTS`.  ``constants``: a value for each name
    in :attr:`constants` (others are ignored).  ``df_index``: the dataflow of
    each row (default 0).  The core checks every value (:data:`LIMITS`); a bad
    row raises ValueError naming the row.

    For many small batches that differ in a few columns (an environment's
    step), :meth:`prepare` the arrays once, change columns in place and
    :meth:`run` them: that skips the conversion of every column per call.
    """

    def __init__(self, dataflows: Dataflow | Sequence[Dataflow], preset: str = "maestro2021",
                 compat: bool = True):
        if isinstance(dataflows, Dataflow):
            dataflows = [dataflows]
        dataflows = list(dataflows)
        if not dataflows or not all(isinstance(d, Dataflow) for d in dataflows):
            raise ValueError("dataflows must be a Dataflow or a non-empty list of Dataflow")
        names: list[str] = []
        for df in dataflows:
            names += [p for p in df.params if p not in names]
        self.dataflows: tuple[Dataflow, ...] = tuple(dataflows)
        #: The constants a row gives values for: every dataflow's, in order of first use.
        self.constants: tuple[str, ...] = tuple(names)
        self.preset, self.compat = preset, bool(compat)
        specs = [df.spec if df.params == self.constants else df.with_params(self.constants).spec
                 for df in dataflows]
        self._core = _core.BatchEvaluator(specs, str(preset), self.compat)

    def prepare(self, layers: Layer | Mapping[str, object],
                hardware: Hardware | Mapping[str, object] | None = None,
                constants: Mapping[str, object] | None = None, df_index=0) -> BatchInputs:
        """The core's arrays for these named columns (see the class)."""
        layers = layers.fields() if isinstance(layers, Layer) else layers
        hardware = hardware.fields() if isinstance(hardware, Hardware) else (hardware or {})
        constants = constants or {}
        for name in self.constants:
            if name not in constants:
                user = next(df for df in self.dataflows if name in df.params)
                raise ValueError(f"dataflow {user.name or '(unnamed)'} needs a value for "
                                 f"constant {name!r}")
        # (label, value) of each column of each array, in column order.
        groups = [
            zip([f"layers {f}" for f in LAYER_FIELDS],
                _named("layers", layers, LAYER_FIELDS, LAYER_DEFAULTS)),
            zip([f"hardware {f}" for f in HARDWARE_FIELDS],
                _named("hardware", hardware, HARDWARE_FIELDS, HARDWARE_DEFAULTS)),
            [(f"constant {name}", constants[name]) for name in self.constants],
            [("df_index", df_index)],
        ]
        groups = [[(label, _column(label, value)) for label, value in g] for g in groups]
        vectors = [(label, c) for g in groups for label, c in g
                   if isinstance(c, np.ndarray) and c.ndim]
        n = next((len(c) for _, c in vectors if len(c) != 1), 1)  # the first longer column
        for label, c in vectors:
            if len(c) not in (1, n):
                raise ValueError(f"{label} must be a scalar or have length {n}, "
                                 f"got shape {c.shape}")
        arrays = []
        for g in groups:
            arrays.append(np.empty((n, len(g)), dtype=np.int64))
            for j, (_, c) in enumerate(g):
                arrays[-1][:, j] = c
        layers_, hardware_, constants_, index = arrays
        return BatchInputs(index.reshape(n), layers_, hardware_, constants_)

    def run(self, inputs: BatchInputs, threads: int = 0) -> BatchResult:
        """Evaluate prepared inputs (the GIL is released while the core runs; batches
        of 1024 rows or more are split over ``threads`` threads, 0 = one per core)."""
        return BatchResult(*self._core.evaluate(inputs.df_index, inputs.layers, inputs.hardware,
                                                inputs.constants, as_int("threads", threads)))

    def evaluate(self, layers: Layer | Mapping[str, object],
                 hardware: Hardware | Mapping[str, object] | None = None,
                 constants: Mapping[str, object] | None = None, df_index=0,
                 threads: int = 0) -> BatchResult:
        """Evaluate the rows of these named columns (see the class)."""
        return self.run(self.prepare(layers, hardware, constants, df_index), threads)


def _matrix_columns(what: str, values, fields: Sequence[str], n: int | None = None) -> dict:
    """The named columns of an int array whose columns are ``fields``, in order."""
    arr = as_int_array(what, values)
    if arr.ndim != 2 or arr.shape[1] != len(fields) or (n is not None and arr.shape[0] != n):
        rows = "n" if n is None else n
        raise ValueError(f"{what} must be an int array ({rows}, {len(fields)}) with {len(fields)} "
                         f"columns ({', '.join(fields)}), got shape {arr.shape}")
    return dict(zip(fields, arr.T))


def evaluate_batch(layers, dataflows: Dataflow | Sequence[Dataflow], hardware,
                   constants: Mapping[str, object] | None = None, df_index=None,
                   preset: str = "maestro2021", compat: bool = True,
                   threads: int = 0) -> BatchResult:
    """Evaluate n rows in one call: :class:`BatchEvaluator` for rows given as arrays.

    layers: a list of :class:`Layer`, or an int array (n, len(LAYER_FIELDS))
        whose columns are :data:`LAYER_FIELDS`.
    dataflows: one Dataflow, or a list indexed per row by ``df_index``.
    hardware: a :class:`Hardware` for every row, or an int array
        (n, len(HARDWARE_FIELDS)) whose columns are :data:`HARDWARE_FIELDS`.
    constants: name -> scalar or int array (n,) for the dataflows' constants.
    """
    evaluator = BatchEvaluator(dataflows, preset, compat)
    if isinstance(layers, np.ndarray):
        rows = layers
    elif all(isinstance(lay, Layer) for lay in layers):
        rows = np.array([lay.row() for lay in layers], dtype=np.int64)
        rows = rows.reshape(-1, len(LAYER_FIELDS))
    else:
        raise ValueError(f"layers must be an int array (n, {len(LAYER_FIELDS)}) or a list of Layer")
    layer_columns = _matrix_columns("layers", rows, LAYER_FIELDS)
    if not isinstance(hardware, Hardware):
        hardware = _matrix_columns("hardware", hardware, HARDWARE_FIELDS, len(rows))
    return evaluator.evaluate(layer_columns, hardware, constants,
                              0 if df_index is None else df_index, threads)


def evaluate(layer: Layer, dataflow: Dataflow, hardware: Hardware = Hardware(),
             constants: Mapping[str, object] | None = None, preset: str = "maestro2021",
             compat: bool = True) -> dict:
    """Evaluate one layer; returns a dict of every integer and float field."""
    if not isinstance(layer, Layer):
        raise ValueError(f"layer must be an archgym.costmodel.Layer, got {type(layer).__name__}")
    return evaluate_batch([layer], dataflow, hardware, constants, preset=preset,
                          compat=compat).row(0)
