"""Sparse formats and a sparse-accelerator cost model (Python face of ``archgym._sim.sparse``).

Nine formats (after Qin et al., "Extending Sparse Tensor Accelerators to Support
Multiple Compression Formats", IPDPS 2021, and ``docs/design/sparse.md``)
with real encoders and decoders on float32 and int8 values, exact storage in bits
and bytes, conversions between every pair with their work counted, and a cost
model for ``C = A @ B`` (SpMV, SpMM, SpGEMM) on an accelerator with inner-product,
outer-product or Gustavson dataflow and format conversion in software (timed on
archgym's own compiled converters on this machine) or in a hardware conversion unit
with lanes and SRAM banks (``docs/design/sparse.md`` §9).  ``docs/sparse.md`` states
every rule and constant.

    >>> import numpy as np
    >>> from archgym import sparse
    >>> A = np.array([[0, 2, 0], [1, 0, 0]], dtype=np.float32)
    >>> sparse.storage(A, "csr")["total_bytes"]          # 2*4 + 2*2/8 + 3*4 bits, rounded up
    >>> enc = sparse.encode(A, "rlc"); (sparse.decode(enc) == A).all()
    >>> p = sparse.Problem(A, A.T.copy(), "spgemm")
    >>> p.cost("csr", "csc", "inner", "software")["cycles"]

``import archgym.sparse`` needs only numpy and the compiled core; scipy is
imported lazily, by the functions given scipy matrices.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np

from archgym import _sim

_core = _sim.sparse

FORMATS: tuple[str, ...] = tuple(_core.FORMATS)
DATAFLOWS: tuple[str, ...] = ("inner", "outer", "gustavson")
CONVERSION_SITES: tuple[str, ...] = ("none", "software", "hardware")
OPS: tuple[str, ...] = ("spmv", "spmm", "spgemm")
FEATURE_NAMES: tuple[str, ...] = tuple(_core.FEATURE_NAMES)
#: Kinds of software conversion: one per direct leg ("from->to"), each calibrated on archgym's
#: compiled converter of that leg (``sw_conversion.json``).
SW_KINDS: tuple[str, ...] = tuple(_core.SW_KINDS)
#: Work counters of a conversion (see docs/sparse.md "Conversion work").
WORK_FIELDS: tuple[str, ...] = tuple(_core.WORK_FIELDS)
#: The accelerator's scalar fields, named as the core names them.
ACCELERATOR_FIELDS: tuple[str, ...] = tuple(_core.ACCELERATOR_FIELDS)
#: Columns of ``Problem.cost_grid``'s integer array.
GRID_FIELDS: tuple[str, ...] = tuple(_core.GRID_FIELDS)
#: The arrays of each format, as in ``Encoded.arrays``.
ARRAYS: dict[str, tuple[str, ...]] = {
    "dense": ("values",), "bitmap": ("mask", "values"), "rlc": ("runs", "values"),
    "coo": ("row", "col", "values"), "csr": ("indptr", "indices", "values"),
    "csc": ("indptr", "indices", "values"), "ell": ("indices", "values"),
    "bcsr": ("indptr", "indices", "values"), "dia": ("offsets", "values"),
}
#: Orders in which a dataflow walks an operand, and the formats that can be
#: walked that way without conversion.
ORDERS: tuple[str, ...] = ("row", "row_indexed", "column")
TRAVERSABLE: dict[str, tuple[str, ...]] = {
    o: tuple(f for i, f in enumerate(FORMATS) if _core.traversable(i, k))
    for k, o in enumerate(ORDERS)
}
#: (order of A, order of B) each dataflow needs.
DATAFLOW_ORDERS: dict[str, tuple[str, str]] = {
    "inner": ("row", "column"), "outer": ("column", "row"), "gustavson": ("row", "row_indexed"),
}
MAX_DIM: int = int(_core.MAX_DIM)

_FMT = {f: i for i, f in enumerate(FORMATS)}
_DF = {d: i for i, d in enumerate(DATAFLOWS)}
_SITE = {s: i for i, s in enumerate(CONVERSION_SITES)}
_OP = {o: i for i, o in enumerate(OPS)}
_EMPTY_I = np.zeros(0, dtype=np.int64)
_EMPTY_U8 = np.zeros(0, dtype=np.uint8)


class IllegalAction(ValueError):
    """A (formats, dataflow, conversion site) choice the accelerator cannot run; says why."""


def _code(table: Mapping[str, int], name: Any, what: str) -> int:
    try:
        return table[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown {what} {name!r}; expected one of {', '.join(table)}") from None


def _integer(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if not -(1 << 63) <= int(value) < 1 << 63:
        raise ValueError(f"{name} = {value} does not fit 64 bits (allowed: -2^63 .. 2^63 - 1)")
    return int(value)


# ----------------------------------------------------------------- precision
@dataclass(frozen=True)
class Precision:
    """Bit widths used by the storage rules and the encoders.

    value_bits    bits per stored value (1..64; storage accounting, the arrays keep
                  their float32/int8 dtype).
    index_bits    bits per index; ``None`` = max(1, ceil(log2 dim)) per rank (row
                  indices use the rows, column indices the columns, BCSR block
                  columns ceil(cols / c), DIA offsets rows + cols - 1).  A fixed
                  width too small for a dimension raises ValueError.
    pointer_bits  bits per CSR/CSC/BCSR pointer (must hold nnz, resp. nnzb).
    rlc_run_bits  r of RLC-r (2..8).
    bcsr_block    (r, c) of BCSR (1..65536 each).
    """

    value_bits: int = _core.PRECISION_DEFAULTS["value_bits"]
    index_bits: int | None = _core.PRECISION_DEFAULTS["index_bits"]
    pointer_bits: int = _core.PRECISION_DEFAULTS["pointer_bits"]
    rlc_run_bits: int = _core.PRECISION_DEFAULTS["rlc_run_bits"]
    bcsr_block: tuple[int, int] = _core.PRECISION_DEFAULTS["bcsr_block"]

    def __post_init__(self) -> None:
        # Types here; the ranges are the core's (Precision.validate).
        try:
            r, c = self.bcsr_block
        except (TypeError, ValueError):
            raise ValueError(f"bcsr_block must be a pair (r, c), got {self.bcsr_block!r}") from None
        object.__setattr__(self, "bcsr_block", (_integer("bcsr_block[0]", r), _integer("bcsr_block[1]", c)))
        object.__setattr__(self, "_core", _core.Precision(
            value_bits=_integer("value_bits", self.value_bits),
            index_bits=None if self.index_bits is None else _integer("index_bits", self.index_bits),
            pointer_bits=_integer("pointer_bits", self.pointer_bits),
            rlc_run_bits=_integer("rlc_run_bits", self.rlc_run_bits),
            block_rows=self.bcsr_block[0], block_cols=self.bcsr_block[1]))


_DEFAULT_PRECISION = Precision()


def _precision(p: Precision | None) -> Precision:
    if p is None:
        return _DEFAULT_PRECISION
    if not isinstance(p, Precision):
        raise ValueError(f"precision must be an archgym.sparse.Precision, got {type(p).__name__}")
    return p


# ----------------------------------------------------------------- inputs
def _is_scipy_sparse(a: Any) -> bool:
    mod = sys.modules.get("scipy.sparse")
    return mod is not None and mod.issparse(a)


def _check_shape(shape: tuple[int, ...]) -> tuple[int, int]:
    if len(shape) != 2:
        raise ValueError(f"a matrix must be 2-D, got shape {shape}")
    m, n = int(shape[0]), int(shape[1])
    if m < 1 or n < 1:
        raise ValueError(f"matrix dimensions must be >= 1, got {m} x {n}")
    if m > MAX_DIM or n > MAX_DIM:
        raise ValueError(f"matrix dimensions must be <= {MAX_DIM} (2^26), got {m} x {n}")
    return m, n


def _check_numeric(dtype: np.dtype, what: str = "matrix") -> None:
    if dtype.kind not in "biuf":
        raise ValueError(f"{what} values must be real numbers (bool, int or float), got dtype {dtype}")


def _scipy_csr(a: Any):
    """Canonical scipy CSR copy: duplicates summed, explicit zeros removed, sorted."""
    import scipy.sparse as sps

    _check_shape(a.shape)
    _check_numeric(a.dtype)
    m = sps.csr_matrix(a, copy=True)
    if m.dtype.kind == "f" and not np.isfinite(m.data).all():
        raise ValueError("values must be finite (found NaN or infinity)")
    m.sum_duplicates()
    m.eliminate_zeros()
    m.sort_indices()
    return m


def _pattern(a: Any, *, vector_ok: bool = False) -> tuple[int, int, np.ndarray, np.ndarray]:
    """(rows, cols, indptr, indices) of the nonzero pattern of a matrix-like input."""
    if isinstance(a, Encoded):
        ptr, idx, _ = _to_csr_arrays(a)
        return a.shape[0], a.shape[1], ptr, idx
    if _is_scipy_sparse(a):
        m = _scipy_csr(a)
        return m.shape[0], m.shape[1], m.indptr.astype(np.int64), m.indices.astype(np.int64)
    arr = np.asarray(a)
    if vector_ok and arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    _check_numeric(arr.dtype)
    rows, cols = _check_shape(arr.shape)
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise ValueError("values must be finite (found NaN or infinity)")
    r, c = np.nonzero(arr)
    indptr = np.zeros(rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(r, minlength=rows), out=indptr[1:])
    return rows, cols, indptr, c.astype(np.int64)


def _values(x: np.ndarray) -> np.ndarray:
    """Values as float32 or int8, exactly; anything else raises ValueError."""
    x = np.asarray(x)
    _check_numeric(x.dtype)
    if x.dtype == np.float32 or x.dtype == np.int8:
        return x
    if x.dtype == np.bool_:
        return x.astype(np.int8)
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        raise ValueError("values must be finite (found NaN or infinity)")
    if x.dtype.kind in "iu" and (x.size == 0 or (x.min() >= -128 and x.max() <= 127)):
        return x.astype(np.int8)
    f = x.astype(np.float32)
    if not np.array_equal(f.astype(x.dtype), x):
        raise ValueError(f"{x.dtype} values are not exactly representable in float32 (or int8): "
                         "cast the matrix to float32 first")
    return f


#: The core's typed functions by value dtype: ``_TYPED[np.dtype("float32")]["convert"]`` is
#: ``convert_f32`` (looked up once: the conversions are called in tight loops).
_TYPED: dict[np.dtype, dict[str, Any]] = {
    np.dtype(t): {f: getattr(_core, f"{f}_{suffix}")
                  for f in ("convert", "decode", "to_csr", "encode_csr", "encode_dense")}
    for t, suffix in ((np.float32, "f32"), (np.int8, "i8"))
}


# ----------------------------------------------------------------- encodings
class Encoded:
    """A matrix encoded in one format.

    ``fmt``, ``shape``, ``nnz``, ``precision`` and ``arrays`` (NumPy arrays named by
    :data:`ARRAYS`; index arrays in the smallest unsigned dtype holding their bit
    width, DIA offsets signed).  The storage rules count bit-packed widths, the
    arrays are byte-aligned containers.
    """

    __slots__ = ("fmt", "shape", "arrays", "nnz", "precision")

    @classmethod
    def _of_core(cls, fmt: str, shape: tuple[int, int], arrays: dict[str, np.ndarray],
                 precision: Precision, nnz: int) -> Encoded:
        """An encoding the core just made (checked names and types: no checks here)."""
        enc = object.__new__(cls)
        enc.fmt, enc.shape, enc.arrays, enc.precision, enc.nnz = fmt, shape, arrays, precision, nnz
        return enc

    def __init__(self, fmt: str, shape: tuple[int, int], arrays: dict[str, np.ndarray],
                 precision: Precision = _DEFAULT_PRECISION, nnz: int | None = None):
        _code(_FMT, fmt, "format")
        self.fmt = fmt
        self.shape = (int(shape[0]), int(shape[1]))
        self.arrays = dict(arrays)
        self.precision = _precision(precision)
        self.nnz = int(np.count_nonzero(self.arrays["values"])) if nnz is None else int(nnz)

    @property
    def dtype(self) -> np.dtype:
        return self.arrays["values"].dtype

    def storage(self) -> dict[str, int]:
        """Exact storage of this encoding (same as ``storage(self, self.fmt, self.precision)``)."""
        return storage(self, self.fmt, self.precision)

    def __repr__(self) -> str:
        return f"Encoded(fmt={self.fmt!r}, shape={self.shape}, nnz={self.nnz}, dtype={self.dtype})"


def _ints(f: str, name: str, x: np.ndarray) -> np.ndarray:
    """An index array of format f as the core reads it: contiguous, 1-D, integer."""
    x = np.ascontiguousarray(x)
    if x.dtype.kind not in "iu":
        raise ValueError(f"{f} array {name!r} must hold integers, got {x.dtype}")
    return x if x.ndim == 1 else x.reshape(-1)


def _parts(enc: Encoded) -> tuple:
    """The core's arguments for an encoding: (format code, rows, cols, a, b, mask, values
    (1-D), K of ELL, precision); the typed core functions are ``_TYPED[values.dtype]``."""
    if not isinstance(enc, Encoded):
        raise ValueError(f"expected an archgym.sparse.Encoded, got {type(enc).__name__}")
    f = enc.fmt
    arr = enc.arrays
    try:
        vals = np.ascontiguousarray(arr["values"])
        if vals.dtype not in _TYPED:
            raise ValueError(f"encoded values must be float32 or int8, got {vals.dtype}")
        a = b = _EMPTY_I
        mask = _EMPTY_U8
        k = 0
        if f in ("csr", "csc", "bcsr"):
            a, b = _ints(f, "indptr", arr["indptr"]), _ints(f, "indices", arr["indices"])
            if f == "bcsr" and vals.ndim == 3 and vals.shape[1:] != enc.precision.bcsr_block:
                raise ValueError(f"bcsr values have blocks {vals.shape[1:]} but the precision says "
                                 f"{enc.precision.bcsr_block}")
        elif f == "coo":
            a, b = _ints(f, "row", arr["row"]), _ints(f, "col", arr["col"])
        elif f == "bitmap":
            mask = np.ascontiguousarray(arr["mask"]).reshape(-1)
            if mask.dtype != np.uint8:
                raise ValueError("bitmap mask must be uint8")
        elif f == "rlc":
            a = _ints(f, "runs", arr["runs"])
        elif f == "ell":
            ind = np.asarray(arr["indices"])
            if ind.ndim != 2 or ind.shape[0] != enc.shape[0]:
                raise ValueError("ell indices must be a (rows, K) array")
            k = int(ind.shape[1])
            a = _ints(f, "indices", ind)
        elif f == "dia":
            a = _ints(f, "offsets", arr["offsets"])
    except KeyError:
        missing = [n for n in ARRAYS[f] if n not in arr]
        raise ValueError(f"{f} encoding is missing array(s) {', '.join(missing)}") from None
    return (_FMT[f], enc.shape[0], enc.shape[1], a, b, mask,
            vals if vals.ndim == 1 else vals.reshape(-1), k, enc.precision._core)


def _to_csr_arrays(enc: Encoded) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    parts = _parts(enc)
    return _TYPED[parts[6].dtype]["to_csr"](*parts)


def encode(A: Any, fmt: str, precision: Precision | None = None) -> Encoded:
    """Encode a matrix (2-D NumPy array, scipy sparse matrix or :class:`Encoded`) in ``fmt``.

    Values must be float32 or int8, or exactly representable in one of them
    (bool and small ints become int8, other numbers float32); NaN/inf raise.
    """
    code = _code(_FMT, fmt, "format")
    if isinstance(A, Encoded):
        prec = A.precision if precision is None else _precision(precision)
        return convert(A, fmt)[0] if A.precision == prec else _encode_from_encoded(A, fmt, prec)
    prec = _precision(precision)
    if _is_scipy_sparse(A):
        m = _scipy_csr(A)
        vals = _values(m.data)
        arrays = _TYPED[vals.dtype]["encode_csr"](
            m.shape[0], m.shape[1], m.indptr, m.indices, np.ascontiguousarray(vals), code,
            prec._core)
        return Encoded(fmt, m.shape, arrays, prec, nnz=int(vals.size))
    arr = np.asarray(A)
    _check_numeric(arr.dtype)
    _check_shape(arr.shape)
    vals = np.ascontiguousarray(_values(arr))
    arrays = _TYPED[vals.dtype]["encode_dense"](vals, code, prec._core)
    return Encoded(fmt, arr.shape, arrays, prec)


def _encode_from_encoded(enc: Encoded, fmt: str, prec: Precision) -> Encoded:
    ptr, idx, vals = _to_csr_arrays(enc)
    arrays = _TYPED[vals.dtype]["encode_csr"](
        enc.shape[0], enc.shape[1], ptr, idx, vals, _FMT[fmt], prec._core)
    return Encoded(fmt, enc.shape, arrays, prec, nnz=int(vals.size))


def decode(enc: Encoded) -> np.ndarray:
    """The dense matrix an encoding holds (validates the encoding: malformed -> ValueError)."""
    parts = _parts(enc)
    return _TYPED[parts[6].dtype]["decode"](*parts)


def convert(enc: Encoded, to_fmt: str) -> tuple[Encoded, dict[str, int]]:
    """Convert an encoding to ``to_fmt`` (same precision); returns (encoding, work).

    Direct legs: dense <-> any and CSR <-> any (so COO<->CSR, CSR<->CSC,
    Bitmap<->CSR); every other pair goes through CSR and its work is the sum of
    both legs.  ``work`` holds :data:`WORK_FIELDS` (docs/sparse.md).  Like
    scipy's ``tocoo``/``tocsr``, CSR <-> COO share the column indices and the
    values with ``enc`` (the same arrays) where their dtypes already match.
    """
    to = _code(_FMT, to_fmt, "format")
    parts = _parts(enc)
    arrays, nnz, work = _TYPED[parts[6].dtype]["convert"](*parts, to)
    # The core names a source array the conversion leaves unchanged (CSR <-> COO: the
    # column indices and the values) instead of copying it; the result shares it.
    for name, a in arrays.items():
        if type(a) is str:
            arrays[name] = np.ascontiguousarray(enc.arrays[a]).reshape(-1)
    return Encoded._of_core(to_fmt, enc.shape, arrays, enc.precision, nnz), work


# ----------------------------------------------------------------- storage, features
def _stats(A: Any, prec: Precision, vector_ok: bool = False):
    rows, cols, ptr, idx = _pattern(A, vector_ok=vector_ok)
    return _core.Stats(rows, cols, ptr, idx, prec._core)


def _storage_dict(meta: int, payload: int) -> dict[str, int]:
    mb, pb = -(-meta // 8), -(-payload // 8)
    return {"metadata_bits": meta, "payload_bits": payload, "total_bits": meta + payload,
            "metadata_bytes": mb, "payload_bytes": pb, "total_bytes": mb + pb}


def storage(A: Any, fmt: str, precision: Precision | None = None) -> dict[str, int]:
    """Exact storage of ``A`` in ``fmt``: metadata and payload, bits and bytes.

    Counted on the real data (RLC fillers, ELL K_max, BCSR nonzero blocks, DIA
    diagonals).  Bytes are the bit counts rounded up to whole bytes, metadata
    and payload separately; ``total_bytes`` is their sum.  At value/index/pointer
    bits of 32 the CSR/CSC/COO byte counts equal scipy's ``nbytes`` sums at
    float32/int32.
    """
    code = _code(_FMT, fmt, "format")
    prec = _precision(precision)
    meta, payload = _stats(A, prec).storage(code)
    return _storage_dict(meta, payload)


def storage_table(A: Any, precision: Precision | None = None) -> dict[str, dict[str, int]]:
    """:func:`storage` for every format (the statistics are computed once)."""
    prec = _precision(precision)
    st = _stats(A, prec)
    return {f: _storage_dict(*st.storage(i)) for i, f in enumerate(FORMATS)}


def conversion_work(A: Any, from_fmt: str, to_fmt: str,
                    precision: Precision | None = None) -> dict[str, int]:
    """The work :func:`convert` reports for ``from_fmt -> to_fmt``, without converting."""
    a, b = _code(_FMT, from_fmt, "format"), _code(_FMT, to_fmt, "format")
    return _stats(A, _precision(precision)).work(a, b)


def features(A: Any) -> np.ndarray:
    """float32 structure features, in the order of :data:`FEATURE_NAMES`.

    rows, cols, nnz, density, row-nnz mean/CV/max, col-nnz mean/CV/max, fraction of
    empty rows and columns, 4x4 block fill (nnz / (16 * nonzero 4x4 blocks)),
    bandwidth (max |i - j| / max(rows, cols)), diagonal fill (nnz / (ndiag *
    min(rows, cols))), ELL fill (nnz / (rows * K_max)), RLC-4 fillers per
    nonzero, log2 rows, log2 cols, log10 density (density floored at 1e-12).
    CV = population standard deviation / mean (0 when the mean is 0).
    """
    return _stats(A, _DEFAULT_PRECISION, vector_ok=True).features()


# ----------------------------------------------------------------- accelerator
def load_sw_conversion(path: str | None = None) -> dict[str, tuple[float, float, float]]:
    """Software-conversion constants: kind (a direct leg, :data:`SW_KINDS`) -> (fixed_s,
    per_element_s, per_nnz_s).

    Read from ``archgym/sparse/sw_conversion.json`` (written by
    ``benchmarks/calibrate_sparse_sw.py``) unless ``path`` is given; every kind must be there.
    """
    if path is None:
        text = resources.files("archgym.sparse").joinpath("sw_conversion.json").read_text()
    else:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    data = json.loads(text)
    kinds = data["kinds"]
    missing = [k for k in SW_KINDS if k not in kinds]
    if missing:
        raise ValueError(f"software conversion constants lack kind(s) {', '.join(missing)}: "
                         "rerun benchmarks/calibrate_sparse_sw.py")
    out = {}
    for k in SW_KINDS:
        c = kinds[k]
        out[k] = (float(c["fixed_s"]), float(c["per_element_s"]), float(c["per_nnz_s"]))
    return out


_SW_DEFAULT: dict[str, tuple[float, float, float]] | None = None


def _sw_default() -> dict[str, tuple[float, float, float]]:
    global _SW_DEFAULT
    if _SW_DEFAULT is None:
        _SW_DEFAULT = load_sw_conversion()
    return _SW_DEFAULT


@dataclass(frozen=True)
class Accelerator:
    """The modelled accelerator (defaults and their sources: docs/sparse.md).

    Throughputs (> 0): ``macs_per_cycle`` MAC lanes; ``bandwidth_bytes_per_cycle``
    off-chip bandwidth; ``buffer_bytes`` on-chip buffer; ``conversion_lanes`` (a whole
    number) and ``conversion_banks`` (a power of two up to 4096) the hardware
    conversion unit's lanes and SRAM banks (docs/design/sparse.md §9: a stream moves
    min(lanes, banks) slots per cycle, a transpose takes two passes and its counter
    updates queue on the banks); ``frequency_ghz``; ``compares_per_cycle`` index comparators (inner-product
    intersection); ``merges_per_cycle`` merger throughput; ``scan_elems_per_cycle``
    buffer slots the PE array reads per cycle.
    Energies (>= 0): per effectual MAC (fp32, Horowitz ISSCC 2014: 3.7 + 0.9 pJ),
    per index comparison or merge step (32-bit add, 0.1 pJ), per buffer slot read
    (SRAM, 5 pJ), per DRAM byte (160 pJ = 640 pJ per 32-bit word), per element
    through the conversion unit (10 pJ = one SRAM read + write), host power
    during software conversion (15 W).  ``spill_penalty`` multiplies the cycles of
    spilled traffic.  ``sw_conversion``: kind -> (fixed_s, per_element_s,
    per_nnz_s); ``None`` loads the calibration in ``sw_conversion.json``.
    """

    macs_per_cycle: float = _core.ACCELERATOR_DEFAULTS["macs_per_cycle"]
    bandwidth_bytes_per_cycle: float = _core.ACCELERATOR_DEFAULTS["bandwidth_bytes_per_cycle"]
    buffer_bytes: float = _core.ACCELERATOR_DEFAULTS["buffer_bytes"]
    conversion_lanes: float = _core.ACCELERATOR_DEFAULTS["conversion_lanes"]
    conversion_banks: float = _core.ACCELERATOR_DEFAULTS["conversion_banks"]
    frequency_ghz: float = _core.ACCELERATOR_DEFAULTS["frequency_ghz"]
    compares_per_cycle: float = _core.ACCELERATOR_DEFAULTS["compares_per_cycle"]
    merges_per_cycle: float = _core.ACCELERATOR_DEFAULTS["merges_per_cycle"]
    scan_elems_per_cycle: float = _core.ACCELERATOR_DEFAULTS["scan_elems_per_cycle"]
    energy_mac_pj: float = _core.ACCELERATOR_DEFAULTS["energy_mac_pj"]
    energy_compare_pj: float = _core.ACCELERATOR_DEFAULTS["energy_compare_pj"]
    energy_buffer_pj: float = _core.ACCELERATOR_DEFAULTS["energy_buffer_pj"]
    energy_dram_byte_pj: float = _core.ACCELERATOR_DEFAULTS["energy_dram_byte_pj"]
    energy_convert_pj: float = _core.ACCELERATOR_DEFAULTS["energy_convert_pj"]
    host_power_w: float = _core.ACCELERATOR_DEFAULTS["host_power_w"]
    spill_penalty: float = _core.ACCELERATOR_DEFAULTS["spill_penalty"]
    sw_conversion: Mapping[str, tuple[float, float, float]] | None = field(
        default=None, hash=False)

    def __post_init__(self) -> None:
        # Types here; the bounds (> 0, >= 0, finite) are the core's (Accelerator::validate).
        params = {}
        for name in ACCELERATOR_FIELDS:
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
                raise ValueError(f"{name} must be a number, got {v!r}")
            params[name] = float(v)
        sw = dict(_sw_default())
        if self.sw_conversion is not None:
            for k, c in dict(self.sw_conversion).items():
                if k not in sw:
                    raise ValueError(f"unknown software conversion kind {k!r}; "
                                     f"expected one of {', '.join(SW_KINDS)}")
                try:
                    sw[k] = tuple(float(x) for x in c)
                    if len(sw[k]) != 3:
                        raise ValueError
                except (TypeError, ValueError):
                    raise ValueError(f"sw_conversion[{k!r}] must be (fixed_s, per_element_s, "
                                     "per_nnz_s)") from None
        table = np.array([sw[k] for k in SW_KINDS], dtype=np.float64)
        object.__setattr__(self, "_core", _core.Accelerator(params, table))


#: Area figures of the conversion unit (45 nm; docs/design/sparse.md §9 cites each).
UNIT_AREA_UM2 = {
    "adder_32b": 137.0,       # 32-bit integer adder (Horowitz, ISSCC 2014)
    "flipflop": 4.522,        # DFF_X1 (Nangate 45 nm Open Cell Library)
    "mux2": 1.862,            # MUX2_X1 (Nangate 45 nm Open Cell Library)
    "sram_bitcell": 0.346,    # 6T SRAM cell (Intel 45 nm, Mistry et al., IEDM 2007)
}
#: Fraction of an SRAM bank's area that is bit cells (an assumption; the rest is
#: decoders, sense amplifiers and wiring).
SRAM_ARRAY_EFFICIENCY = 0.5
#: 32-bit words per bank: the counters of a 4096-wide transpose fit in 4 banks.
UNIT_BANK_WORDS = 1024


def conversion_unit_area(accel: Accelerator | None = None) -> dict[str, float]:
    """Area in um^2 of the hardware conversion unit (docs/design/sparse.md §9), by part.

    Per lane: an address adder and an index comparator (32-bit adders) and three
    32-bit pipeline registers.  Per bank: ``UNIT_BANK_WORDS`` 32-bit words of SRAM at
    ``SRAM_ARRAY_EFFICIENCY``.  Crossbar: a (lanes:1) 32-bit multiplexer tree per bank,
    one for reads and one for writes.
    """
    acc = _accel(accel)
    lanes, banks = int(acc.conversion_lanes), int(acc.conversion_banks)
    a = UNIT_AREA_UM2
    lane = 2 * a["adder_32b"] + 3 * 32 * a["flipflop"]
    bank = UNIT_BANK_WORDS * 32 * a["sram_bitcell"] / SRAM_ARRAY_EFFICIENCY
    crossbar = 2 * banks * (lanes - 1) * 32 * a["mux2"]
    out = {"lanes_um2": lanes * lane, "banks_um2": banks * bank, "crossbar_um2": crossbar}
    out["total_um2"] = sum(out.values())
    return out


_DEFAULT_ACCEL: Accelerator | None = None


def _accel(a: Accelerator | None) -> Accelerator:
    global _DEFAULT_ACCEL
    if a is None:
        if _DEFAULT_ACCEL is None:
            _DEFAULT_ACCEL = Accelerator()
        return _DEFAULT_ACCEL
    if not isinstance(a, Accelerator):
        raise ValueError(f"accel must be an archgym.sparse.Accelerator, got {type(a).__name__}")
    return a


# ----------------------------------------------------------------- cost model
def legal(op: str, fmt_a: str, fmt_b: str, dataflow: str, conversion: str,
          stored_a: str = "csr", stored_b: str = "csr") -> tuple[bool, str]:
    """(True, "") if the action can run, else (False, reason).  Cheap (no matrix needed).

    Only ``conversion="none"`` can be illegal: it needs each operand stored in
    the format it is computed on, and that format traversable in the order the
    dataflow reads the operand (:data:`DATAFLOW_ORDERS`, :data:`TRAVERSABLE`).
    Every op accepts every format.
    """
    _code(_OP, op, "op")
    reason = _core.legality(_code(_FMT, fmt_a, "format"), _code(_FMT, fmt_b, "format"),
                            _code(_DF, dataflow, "dataflow"),
                            _code(_SITE, conversion, "conversion site"),
                            _code(_FMT, stored_a, "format"), _code(_FMT, stored_b, "format"))
    return (not reason, reason)


def _fmt_c(fmt_c: str | None) -> int | None:
    return None if fmt_c is None else _code(_FMT, fmt_c, "format")


class Problem:
    """One ``C = A @ B`` with its statistics computed once (C++ side).

    ``A``: 2-D array or scipy sparse matrix.  ``B``: for ``spmv`` a vector (1-D, or
    one column); for ``spmm`` a (usually dense) 2-D array; for ``spgemm`` a sparse
    matrix.  ``C`` (optional, M x N): the output as it is written (e.g. after a
    bias and ReLU), which ``cost(fmt_c=...)`` charges at its exact storage in
    ``fmt_c``.  Every :meth:`cost` call is then O(1).
    """

    def __init__(self, A: Any, B: Any, op: str, precision: Precision | None = None, C: Any = None):
        opc = _code(_OP, op, "op")
        self.op = op
        self.precision = _precision(precision)
        ra, ca, pa, ia = _pattern(A)
        if op == "spmv":
            b = B if _is_scipy_sparse(B) or isinstance(B, Encoded) else np.asarray(B)
            if not (isinstance(b, np.ndarray) and b.ndim == 1) and (
                    len(getattr(b, "shape", ())) != 2 or b.shape[1] != 1):
                raise ValueError(f"spmv needs B to be a vector, got shape {getattr(b, 'shape', None)}")
            rb, cb, pb, ib = _pattern(b, vector_ok=True)
        else:
            rb, cb, pb, ib = _pattern(B)
        if ca != rb:
            raise ValueError(f"A is {ra} x {ca} but B has {rb} rows: A's columns must equal B's rows")
        self.shape_a = (ra, ca)
        self.shape_b = (rb, cb)
        self._p = _core.Problem(ra, ca, pa, ia, rb, cb, pb, ib, opc, self.precision._core,
                                None if C is None else _pattern(C))

    # exact counts
    @property
    def macs(self) -> int:
        """Effectual MACs: sum over k of nnz(A[:, k]) * nnz(B[k, :])."""
        return self._p.macs

    @property
    def intersections(self) -> int:
        """Inner-product index comparisons (two-pointer steps over all fiber pairs)."""
        return self._p.intersections

    @property
    def merges(self) -> dict[str, int]:
        """Merge work of the outer-product and Gustavson dataflows."""
        return {"outer": self._p.merges_outer, "gustavson": self._p.merges_gustavson}

    @property
    def nnz_c(self) -> int:
        """Structural nonzeros of C (spgemm; computed symbolically)."""
        return self._p.nnz_c

    def storage_bytes(self, operand: str, fmt: str) -> int:
        """Storage bytes (metadata + payload) of operand "A" or "B" in ``fmt``."""
        if operand not in ("A", "B"):
            raise ValueError(f"operand must be 'A' or 'B', got {operand!r}")
        return self._p.storage_bytes(0 if operand == "A" else 1, _code(_FMT, fmt, "format"))

    def legal(self, fmt_a: str, fmt_b: str, dataflow: str, conversion: str,
              stored_a: str = "csr", stored_b: str = "csr") -> tuple[bool, str]:
        return legal(self.op, fmt_a, fmt_b, dataflow, conversion, stored_a, stored_b)

    def cost(self, fmt_a: str, fmt_b: str, dataflow: str, conversion: str,
             accel: Accelerator | None = None, stored_a: str = "csr",
             stored_b: str = "csr", fmt_c: str | None = None) -> dict[str, Any]:
        """Modelled cost of computing on (fmt_a, fmt_b) with ``dataflow``; see :func:`cost`.

        ``fmt_c``: the format C is written in, charged at the exact storage of the
        ``C`` this Problem was built with; None counts C as the op's own output
        (docs/sparse.md, "Output bytes").
        """
        r = self._p.cost(_code(_FMT, fmt_a, "format"), _code(_FMT, fmt_b, "format"),
                         _code(_DF, dataflow, "dataflow"),
                         _code(_SITE, conversion, "conversion site"),
                         _code(_FMT, stored_a, "format"), _code(_FMT, stored_b, "format"),
                         _accel(accel)._core, _fmt_c(fmt_c))
        if isinstance(r, str):
            raise IllegalAction(r)
        return r

    def cost_grid(self, accel: Accelerator | None = None, stored_a: str = "csr",
                  stored_b: str = "csr", fmt_c: str | None = None) -> dict[str, np.ndarray]:
        """Every (fmt_a, fmt_b, dataflow, conversion) at once, in one C++ call.

        Returns arrays of shape (9, 9, 3, 3) indexed by (FORMATS, FORMATS,
        DATAFLOWS, CONVERSION_SITES): ``legal`` (bool), ``energy_pj`` and each
        field of :data:`GRID_FIELDS` (0 where illegal).  ``fmt_c`` as in :meth:`cost`.
        """
        ints, energy = self._p.cost_grid(_accel(accel)._core, _code(_FMT, stored_a, "format"),
                                         _code(_FMT, stored_b, "format"), _fmt_c(fmt_c))
        out = {name: ints[..., i] for i, name in enumerate(GRID_FIELDS)}
        out["legal"] = out["legal"].astype(bool)
        out["energy_pj"] = energy
        return out


def cost(A: Any, B: Any, op: str, fmt_a: str, fmt_b: str, dataflow: str, conversion: str,
         accel: Accelerator | None = None, precision: Precision | None = None,
         stored_a: str = "csr", stored_b: str = "csr", C: Any = None,
         fmt_c: str | None = None) -> dict[str, Any]:
    """Modelled cost of ``C = A @ B`` on the accelerator (docs/sparse.md "Cost model").

    ``stored_*``: the format each operand sits in; ``fmt_*``: the format the
    accelerator computes on; ``conversion``: where stored -> computed conversion
    (and any the dataflow forces: an operand whose format cannot be walked in
    the dataflow's order is converted to CSR or CSC) happens.  Illegal choices
    raise :class:`IllegalAction`.  ``C`` and ``fmt_c``: the output as written and
    its format (see :class:`Problem`); by default C is the op's own output.
    Returns cycles (total, compute, memory, conversion, spill), bytes,
    energy_pj, the exact macs / intersections / merges, ``legal`` (True) and
    details.  For many calls on one matrix build a :class:`Problem` once.
    """
    return Problem(A, B, op, precision, C).cost(fmt_a, fmt_b, dataflow, conversion, accel,
                                                stored_a, stored_b, fmt_c)


__all__ = [
    "ACCELERATOR_FIELDS", "ARRAYS", "Accelerator", "CONVERSION_SITES", "DATAFLOWS", "DATAFLOW_ORDERS", "Encoded",
    "FEATURE_NAMES", "FORMATS", "GRID_FIELDS", "IllegalAction", "OPS", "ORDERS", "Precision",
    "Problem", "SW_KINDS", "TRAVERSABLE", "UNIT_AREA_UM2", "WORK_FIELDS", "conversion_unit_area",
    "conversion_work", "convert", "cost",
    "decode", "encode", "features", "legal", "load_sw_conversion", "storage", "storage_table",
]
