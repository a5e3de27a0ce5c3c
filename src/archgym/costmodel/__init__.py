"""MAESTRO's data-centric dataflow cost model: the ``costmodel`` core's Python side.

* :mod:`archgym.costmodel.model`: the Python face of the C++ engine
  (``csrc/costmodel``): layers, hardware, dataflows, ``evaluate`` and
  ``evaluate_batch``.
* :mod:`archgym.costmodel.maestro`: the MAESTRO drop-in front end
  (``archgym-maestro``).
* ``dataflows/``: ConfuciuX's four dataflows, loaded as :data:`DATAFLOWS`.

Design document: ``docs/design/costmodel.md``; user guide: ``docs/costmodel.md``.

    >>> from archgym import costmodel as cm
    >>> layer = cm.Layer(K=64, C=64, Y=56, X=56, R=3, S=3)
    >>> r = cm.evaluate(layer, cm.DATAFLOWS["dla"], cm.Hardware(num_pes=64),
    ...                 constants=cm.confuciux_constants(pes=64, tile=4))
"""

from archgym.costmodel.model import (
    CONFUCIUX_CONSTANTS,
    CONFUCIUX_NOC_BW,
    DATAFLOWS,
    DIMS,
    FLOAT_FIELDS,
    INT_FIELDS,
    PRESETS,
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
    "BatchResult", "CONFUCIUX_CONSTANTS", "CONFUCIUX_NOC_BW", "DATAFLOWS", "DIMS", "Dataflow",
    "Directive", "FLOAT_FIELDS", "Hardware", "INT_FIELDS", "Layer", "PRESETS", "ParseError",
    "as_int", "as_int_array", "confuciux_constants", "evaluate", "evaluate_batch", "tokenize",
]
