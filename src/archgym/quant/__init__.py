"""Mixed-precision quantized inference on real data, and its cost on bit-flexible accelerators.

The Python face of the ``archgym._sim.quant`` core (``csrc/quant``)::

    from archgym import quant
    m = quant.load_model("digits_cnn")            # the default model (scikit-learn digits)
    m.accuracy(wbits=[8] * 5, abits=[8] * 5)      # measured on the held-out split
    hw = quant.HardwareCost(m, preset="edge", design="bitserial")
    hw.evaluate([4] * 5, [4] * 5)["latency_s"]

See docs/quant.md for the arithmetic, the calibration, the cost model and the
models and splits.  Nothing here imports torch.
"""

from archgym.quant.cost import DESIGNS, OBJECTIVES, PRESETS, AcceleratorPreset, HardwareCost
from archgym.quant.data import DatasetNotInstalledError, fashion_mnist_available, load_split, split_size
from archgym.quant.models import (FLOAT_BITS, KINDS, MAX_INT_BITS, MODELS, WORKLOAD_NAMES, LayerSpec, ModelFile,
                                  QuantModel, calibrate, load_model, read_model_file)
from archgym.quant.reference import fixed_point, quantize_weights, reference_forward

__all__ = [
    "AcceleratorPreset", "DESIGNS", "DatasetNotInstalledError", "FLOAT_BITS", "HardwareCost", "KINDS", "LayerSpec",
    "MAX_INT_BITS", "MODELS", "ModelFile", "OBJECTIVES", "PRESETS", "QuantModel", "WORKLOAD_NAMES", "calibrate",
    "fashion_mnist_available", "fixed_point", "load_model", "load_split", "quantize_weights", "read_model_file",
    "reference_forward", "split_size",
]
