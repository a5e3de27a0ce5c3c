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
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

import numpy as np

from archgym import _sim

_core = _sim.costmodel

INT_FIELDS: tuple[str, ...] = tuple(_core.INT_FIELDS)
FLOAT_FIELDS: tuple[str, ...] = tuple(_core.FLOAT_FIELDS)
PRESETS = {"maestro2020": 0, "maestro2021": 1}
DIMS = ("K", "C", "R", "S", "Y", "X", "N")
_VARS = tuple(_core.VARS)  # K C R S Y X N Y' X'
_LITERAL, _DIM_SIZE, _PARAM = 0, 1, 2

# ConfuciuX's invocation of MAESTRO (tests/data/reference/maestro/README.md).
CONFUCIUX_NOC_BW = 81_920_000


class ParseError(ValueError):
    """A mapping or dataflow text that cannot be parsed; says the line and what was expected."""

    def __init__(self, message: str, line: int | None = None, source: str = ""):
        where = f"{source}:" if source else ""
        where += f"line {line}: " if line is not None else ""
        super().__init__(where + message)
        self.line = line


# ----------------------------------------------------------------- parsing
_SPLIT = re.compile(r"[ \t,\->():;]+")


def tokenize(text: str) -> list[tuple[str, int]]:
    """Split MAESTRO text into (token, line) pairs.

    Separators are space, tab, ``, - > ( ) : ;``; a token starting with ``//``
    ends its line.  Braces must stand as tokens of their own.
    """
    tokens = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        for tok in _SPLIT.split(line):
            if not tok:
                continue
            if tok.startswith("//"):
                break
            tokens.append((tok, lineno))
    return tokens


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


class _Tokens:
    """A cursor over tokens with errors that name the line."""

    def __init__(self, tokens: list[tuple[str, int]], source: str = ""):
        self.tokens, self.pos, self.source = tokens, 0, source

    def peek(self) -> str | None:
        return self.tokens[self.pos][0] if self.pos < len(self.tokens) else None

    def line(self) -> int | None:
        if not self.tokens:
            return None
        return self.tokens[min(self.pos, len(self.tokens) - 1)][1]

    def next(self, expected: str) -> str:
        if self.pos >= len(self.tokens):
            raise ParseError(f"unexpected end of text, expected {expected}", self.line(), self.source)
        tok = self.tokens[self.pos][0]
        self.pos += 1
        return tok

    def expect(self, literal: str) -> None:
        tok = self.next(f"'{literal}'")
        if tok != literal:
            raise self.error(f"expected '{literal}', found '{tok}'", back=1)

    def error(self, message: str, back: int = 0) -> ParseError:
        pos = max(0, min(self.pos - back, len(self.tokens) - 1))
        line = self.tokens[pos][1] if self.tokens else None
        return ParseError(message, line, self.source)


def _parse_expr(tk: _Tokens, what: str) -> int | str:
    tok = tk.next(what)
    if tok == "Sz":
        dim = tk.next("a dimension name after Sz")
        if dim not in DIMS:
            raise tk.error(f"Sz() takes one of {', '.join(DIMS)}, found '{dim}'", back=1)
        return f"Sz({dim})"
    if re.fullmatch(r"\d+", tok):
        return int(tok)
    if re.fullmatch(r"[A-Za-z_]\w*", tok):
        return tok
    raise tk.error(f"expected {what} (an integer, Sz(D) or a constant name), found '{tok}'", back=1)


def _parse_dataflow_body(tk: _Tokens) -> tuple[list[list[Directive]], list[int | str]]:
    """Parse directives up to (and including) the closing brace."""
    levels: list[list[Directive]] = [[]]
    clusters: list[int | str] = []
    while True:
        tok = tk.next("a directive or '}'")
        if tok == "}":
            return levels, clusters
        if tok in ("TemporalMap", "SpatialMap"):
            size = _parse_expr(tk, "a directive size")
            offset = _parse_expr(tk, "a directive offset")
            var = tk.next("a dimension name")
            if var not in _VARS:
                raise tk.error(f"a directive maps one of {', '.join(_VARS)}, found '{var}'", back=1)
            levels[-1].append(Directive("S" if tok == "SpatialMap" else "T", var, size, offset))
        elif tok == "Cluster":
            clusters.append(_parse_expr(tk, "a cluster size"))
            if tk.peek() in ("P", "L"):  # the cluster type has no effect
                tk.next("a cluster type")
            levels.append([])
        else:
            raise tk.error(f"expected TemporalMap, SpatialMap, Cluster or '}}', found '{tok}'", back=1)


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
    def parse(cls, text: str, name: str = "", source: str = "") -> "Dataflow":
        """Parse ``Dataflow { ... }`` or a bare list of directives."""
        tk = _Tokens(tokenize(text), source)
        if tk.peek() == "Dataflow":
            tk.next("Dataflow")
            tk.expect("{")
        else:
            tk.tokens.append(("}", tk.tokens[-1][1] if tk.tokens else 1))
        levels, clusters = _parse_dataflow_body(tk)
        if tk.peek() is not None:
            raise tk.error(f"unexpected '{tk.peek()}' after the dataflow")
        return cls(levels, clusters, name)

    def _exprs(self):
        for level in self.levels:
            for d in level:
                yield d.size
                yield d.offset
        yield from self.clusters

    def _expr(self, e: int | str) -> tuple[int, int]:
        if isinstance(e, (int, np.integer)) and not isinstance(e, bool):
            if e < 1:
                raise ValueError(f"directive sizes, offsets and cluster sizes must be >= 1, got {e}")
            return (_LITERAL, int(e))
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
    return {name: Dataflow.parse((folder / f"{name}.m").read_text(), name=name,
                                 source=f"{name}.m").with_params(CONFUCIUX_CONSTANTS)
            for name in ("dla", "shi", "eye", "dpt")}


#: The four ConfuciuX dataflows (NVDLA-, ShiDianNao-, Eyeriss-like, depthwise).
DATAFLOWS: dict[str, Dataflow] = _load_presets()


def confuciux_constants(pes, tile) -> dict[str, object]:
    """The constants ConfuciuX writes into its mapping files."""
    return {"KTileSz": tile, "ClusterSz": pes, "CTileSz": 1}


# ----------------------------------------------------------------- inputs
def as_int(name: str, value) -> int:
    """An exact integer from an int-like value; anything else is a ValueError."""
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be an integer, got a bool")
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value) or not float(value).is_integer():
            raise ValueError(f"{name} must be an integer, got {value!r}")
        return int(value)
    raise ValueError(f"{name} must be an integer, got {type(value).__name__} {value!r}")


def as_int_array(name: str, values) -> np.ndarray:
    """An int64 array from int-like values, rejecting NaN, inf and fractions."""
    arr = np.asarray(values)
    if arr.dtype == bool or arr.dtype.kind not in "iuf":
        raise ValueError(f"{name} must hold integers, got dtype {arr.dtype}")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise ValueError(f"{name} must hold integers (no NaN, inf or fractions)")
    return np.ascontiguousarray(arr, dtype=np.int64)


def _per_row(name: str, values, n: int) -> np.ndarray:
    """A scalar or a length-n vector of ints, as an int64 vector of length n."""
    arr = as_int_array(name, values)
    if arr.ndim > 1 or (arr.ndim == 1 and arr.shape[0] not in (1, n)):
        raise ValueError(f"{name} must be a scalar or have length {n}, got shape {arr.shape}")
    return np.broadcast_to(arr, (n,)).copy()


@dataclass(frozen=True)
class Layer:
    """One CONV or depthwise (DSCONV) layer.  Y, X are input sizes; N = 0: no batch dim."""

    K: int
    C: int
    Y: int
    X: int
    R: int
    S: int
    depthwise: bool = False
    N: int = 0

    @classmethod
    def from_row(cls, row) -> "Layer":
        """From a ConfuciuX table row (K, C, Y, X, R, S, T); T = 2 marks depthwise."""
        k, c, y, x, r, s, t = (as_int(n, v) for n, v in zip("KCYXRST", row))
        if t not in (1, 2):
            raise ValueError(f"T must be 1 (CONV) or 2 (depthwise), got {t}")
        return cls(k, c, y, x, r, s, depthwise=t == 2)

    def row(self) -> list[int]:
        """(type, K, C, R, S, Y, X, N): the core's layer row."""
        vals = [as_int(n, getattr(self, n)) for n in ("K", "C", "R", "S", "Y", "X", "N")]
        return [int(bool(self.depthwise))] + vals


@dataclass(frozen=True)
class Hardware:
    """Hardware configuration; defaults are ConfuciuX's MAESTRO invocation."""

    num_pes: int = 64
    simd_lanes: int = 1
    noc_bw: int = CONFUCIUX_NOC_BW
    noc_hops: int = 1
    noc_hop_latency: int = 1
    offchip_bw: int = 70_000
    l1_size: int = 819_200_000  # limits, checked by callers that want them
    l2_size: int = 819_200_000

    def row(self) -> list[int]:
        return [as_int(n, getattr(self, n)) for n in
                ("num_pes", "simd_lanes", "noc_bw", "noc_hops", "noc_hop_latency", "offchip_bw")]


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


def _preset_id(preset: str) -> int:
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; allowed: {', '.join(PRESETS)}")
    return PRESETS[preset]


def evaluate_batch(layers, dataflows: Dataflow | Sequence[Dataflow], hardware,
                   constants: Mapping[str, object] | None = None, df_index=None,
                   preset: str = "maestro2021", compat: bool = True,
                   threads: int = 0) -> BatchResult:
    """Evaluate n rows in one call (the GIL is released while the core runs;
    batches of 1024 rows or more are split over ``threads`` threads, 0 = one per core).

    layers: int array (n, 8) of core rows (type, K, C, R, S, Y, X, N) or a list
        of :class:`Layer`.
    dataflows: one Dataflow, or a list indexed per row by ``df_index``.
    hardware: a :class:`Hardware` for every row, or an int array (n, 6) of
        (num_pes, simd_lanes, noc_bw, noc_hops, noc_hop_latency, offchip_bw).
    constants: name -> scalar or int array (n,) for the dataflows' constants.
    """
    if isinstance(layers, np.ndarray):
        rows = as_int_array("layers", layers)
    elif all(isinstance(lay, Layer) for lay in layers):
        rows = np.array([lay.row() for lay in layers], dtype=np.int64).reshape(-1, 8)
    else:
        raise ValueError("layers must be an int array (n, 8) or a list of Layer")
    if rows.ndim != 2 or rows.shape[1] != 8:
        raise ValueError(f"layers must have 8 columns (type, K, C, R, S, Y, X, N), got shape {rows.shape}")
    n = rows.shape[0]
    if isinstance(dataflows, Dataflow):
        dataflows = [dataflows]
    dataflows = list(dataflows)
    if not dataflows or not all(isinstance(d, Dataflow) for d in dataflows):
        raise ValueError("dataflows must be a Dataflow or a non-empty list of Dataflow")
    idx = np.zeros(n, dtype=np.int32) if df_index is None else \
        _per_row("df_index", df_index, n).astype(np.int32)
    if isinstance(hardware, Hardware):
        hw = np.tile(np.array(hardware.row(), dtype=np.int64), (n, 1))
    else:
        hw = as_int_array("hardware", hardware)
        if hw.shape != (n, 6):
            raise ValueError(f"hardware must be a Hardware or an int array of shape ({n}, 6), "
                             f"got shape {hw.shape}")
    constants = dict(constants or {})
    width = max(len(d.params) for d in dataflows)
    params = np.ones((n, max(width, 1)), dtype=np.int64)
    for k, df in enumerate(dataflows):
        sel = idx == k
        for j, name in enumerate(df.params):
            if name not in constants:
                raise ValueError(f"dataflow {df.name or k} needs a value for constant {name!r}")
            params[sel, j] = _per_row(f"constant {name}", constants[name], n)[sel]
    ints, floats = _core.evaluate_batch([d.spec for d in dataflows], idx, rows, hw, params,
                                        _preset_id(preset), bool(compat), as_int("threads", threads))
    return BatchResult(ints, floats)


def evaluate(layer: Layer, dataflow: Dataflow, hardware: Hardware = Hardware(),
             constants: Mapping[str, object] | None = None, preset: str = "maestro2021",
             compat: bool = True) -> dict:
    """Evaluate one layer; returns a dict of every integer and float field."""
    if not isinstance(layer, Layer):
        raise ValueError(f"layer must be an archgym.costmodel.Layer, got {type(layer).__name__}")
    return evaluate_batch([layer], dataflow, hardware, constants, preset=preset,
                          compat=compat).row(0)
