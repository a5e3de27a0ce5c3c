"""MAESTRO's data-centric dataflow cost model: the ``costmodel`` core's Python side.

* :mod:`archgym.costmodel.model`: the Python face of the C++ engine
  (``csrc/costmodel``): layers, hardware, dataflows, ``evaluate``,
  ``evaluate_batch`` and :class:`BatchEvaluator`.
* :mod:`archgym.costmodel.maestro`: the MAESTRO drop-in front end
  (``archgym-maestro``).
* ``dataflows/``: ConfuciuX's four dataflows and a GEMM preset, loaded as :data:`DATAFLOWS`.

Design document: ``docs/design/costmodel.md``; user guide: ``docs/costmodel.md``.

    >>> from archgym import costmodel as cm
    >>> layer = cm.Layer(K=64, C=64, Y=56, X=56, R=3, S=3)
    >>> r = cm.evaluate(layer, cm.DATAFLOWS["dla"], cm.Hardware(num_pes=64),
    ...                 constants=cm.confuciux_constants(pes=64, tile=4))

Many rows at once (the fast path, e.g. of the HWResource environment):
:class:`BatchEvaluator` takes named columns, a mapping from the names in
:data:`LAYER_FIELDS`, :data:`HARDWARE_FIELDS` and the dataflows' constants to a
scalar or an int array per row, and returns a :class:`BatchResult` of column
arrays (:data:`INT_FIELDS`, :data:`FLOAT_FIELDS`):

    >>> ev = cm.BatchEvaluator([cm.DATAFLOWS["dla"]])
    >>> res = ev.evaluate(layers={"K": [64, 128], "C": 64, "Y": 56, "X": 56, "R": 3, "S": 3},
    ...                   hardware={"num_pes": 64},
    ...                   constants=cm.confuciux_constants(pes=64, tile=4))
    >>> res["runtime"]  # one value per row

The field names, the defaults (:data:`LAYER_DEFAULTS`, :data:`HARDWARE_DEFAULTS`)
and the accepted ranges (:data:`LIMITS`) come from the C++ core.
"""

from archgym.costmodel.model import (
    CONFUCIUX_CONSTANTS,
    CONFUCIUX_NOC_BW,
    DATAFLOWS,
    DIMS,
    FLOAT_FIELDS,
    GEMM_DIMS,
    HARDWARE_DEFAULTS,
    HARDWARE_FIELDS,
    INT_FIELDS,
    LAYER_DEFAULTS,
    LAYER_FIELDS,
    LAYER_TYPES,
    LIMITS,
    MAESTRO_DEFAULTS,
    PRESETS,
    TENSORS,
    BatchEvaluator,
    BatchInputs,
    BatchResult,
    Dataflow,
    Directive,
    Hardware,
    Layer,
    ParseError,
    as_int,
    as_int_array,
    confuciux_constants,
    evaluate,
    evaluate_batch,
    tokenize,
)

__all__ = [
    "BatchEvaluator", "BatchInputs", "BatchResult", "CONFUCIUX_CONSTANTS", "CONFUCIUX_NOC_BW",
    "DATAFLOWS", "DIMS", "Dataflow", "Directive", "FLOAT_FIELDS", "GEMM_DIMS",
    "HARDWARE_DEFAULTS", "HARDWARE_FIELDS", "Hardware", "INT_FIELDS", "LAYER_DEFAULTS",
    "LAYER_FIELDS", "LAYER_TYPES", "LIMITS", "Layer", "MAESTRO_DEFAULTS", "PRESETS", "ParseError",
    "TENSORS", "as_int", "as_int_array", "confuciux_constants", "evaluate", "evaluate_batch",
    "tokenize",
]
