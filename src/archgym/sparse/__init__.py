"""Sparse formats and a sparse-accelerator cost model: the ``sparse`` core's Python side.

* :mod:`archgym.sparse.model`: the Python face of the C++ core
  (``csrc/sparse``): nine formats with real encoders and decoders, exact
  storage, conversions with their work counted, and the cost of ``C = A @ B``
  under each dataflow and conversion site (after Qin et al., IPDPS 2021).
* :mod:`archgym.sparse.matrices`: the named matrix suites.
* ``python -m archgym.sparse FILE.mtx``: the command-line report.

Design document: ``docs/design/sparse.md``; user guide: ``docs/sparse.md``.

    >>> import numpy as np
    >>> from archgym import sparse
    >>> A = np.array([[0, 2, 0], [1, 0, 0]], dtype=np.float32)
    >>> sparse.storage(A, "csr")["total_bytes"]
"""

from archgym.sparse.model import (
    ACCELERATOR_FIELDS,
    ARRAYS,
    CONVERSION_SITES,
    DATAFLOW_ORDERS,
    DATAFLOWS,
    FEATURE_NAMES,
    FORMATS,
    GRID_FIELDS,
    OPS,
    ORDERS,
    SW_KINDS,
    TRAVERSABLE,
    UNIT_AREA_UM2,
    WORK_FIELDS,
    Accelerator,
    Encoded,
    IllegalAction,
    Precision,
    Problem,
    conversion_unit_area,
    conversion_work,
    convert,
    cost,
    decode,
    encode,
    features,
    legal,
    load_sw_conversion,
    storage,
    storage_table,
)

__all__ = [
    "ACCELERATOR_FIELDS", "ARRAYS", "Accelerator", "CONVERSION_SITES", "DATAFLOWS", "DATAFLOW_ORDERS", "Encoded",
    "FEATURE_NAMES", "FORMATS", "GRID_FIELDS", "IllegalAction", "OPS", "ORDERS", "Precision",
    "Problem", "SW_KINDS", "TRAVERSABLE", "UNIT_AREA_UM2", "WORK_FIELDS", "conversion_unit_area",
    "conversion_work", "convert", "cost",
    "decode", "encode", "features", "legal", "load_sw_conversion", "storage", "storage_table",
]
