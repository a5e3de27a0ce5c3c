"""Analytic cost of a quantized model on a bit-flexible accelerator (docs/quant.md, "Cost model").

Two designs share one dataflow: each layer's 8-bit schedule (cycles at one
MAC per PE per cycle and its L1/L2 buffer accesses) comes from archgym's
MAESTRO-style engine (:mod:`archgym.costmodel`, NVDLA-like ``dla`` for conv
and linear layers, ``dpt`` for depthwise), evaluated once per model and
preset.  The core (``csrc/quant/cost.cpp``) then scales it by the bits:

* ``bitserial`` (BISMO-like): a w x a-bit MAC is w * a one-bit operations,
  compute cycles = ceil(cycles8 * w * a / 64);
* ``bitfused`` (BitFusion-like): bits rounded up to 2, 4, 8 (16, 32),
  compute cycles = ceil(cycles8 * r(w) * r(a) / 64);

plus a roofline on DRAM traffic (weights at w bits, input at a bits, output
at the next layer's bits, logits at 32) and an energy model (MAC, L1, L2,
DRAM per bit).  Everything is labelled analytic: not measured on hardware.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass

import numpy as np

from archgym import _sim
from archgym import costmodel as cm

_core = _sim.quant

DESIGNS = {"bitserial": 0, "bitfused": 1}
OBJECTIVES = ("latency", "energy", "size")


@dataclass(frozen=True)
class AcceleratorPreset:
    """Constants of an accelerator (illustrative, order-of-magnitude; see docs/quant.md)."""

    name: str
    pes: int                    # 8-bit-MAC equivalents (bit-serial: pes * 64 one-bit ops per cycle)
    tile: int                   # ConfuciuX K-tile constant for the dla dataflow
    freq_hz: float
    dram_bits_per_cycle: int
    e_bitop_pj: float           # bit-serial: one 1x1-bit AND + popcount-add
    e_brick_pj: float           # bit-fused: one 2x2-bit BitBrick
    e_l1_pj_per_bit: float
    e_l2_pj_per_bit: float
    e_dram_pj_per_bit: float

    def core_fields(self) -> dict[str, float]:
        """The constants the core takes: {name: value} for its COST_PRESET_FIELDS."""
        return {name: float(getattr(self, name)) for name in _core.COST_PRESET_FIELDS}


PRESETS = {
    # BISMO on a Zynq-7020 scale: 8x8 DPUs x 64-bit = 4096 one-bit ops/cycle (= 64 8-bit MACs),
    # 200 MHz, a 64-bit DDR port (1.6 GB/s), LPDDR-class DRAM energy.
    "edge": AcceleratorPreset("edge", pes=64, tile=4, freq_hz=200e6, dram_bits_per_cycle=64,
                              e_bitop_pj=0.005, e_brick_pj=0.02, e_l1_pj_per_bit=0.02,
                              e_l2_pj_per_bit=0.1, e_dram_pj_per_bit=20.0),
    # A datacenter-FPGA / ASIC scale: 1024 8-bit-MAC equivalents, 500 MHz, 32 GB/s HBM-class memory.
    "cloud": AcceleratorPreset("cloud", pes=1024, tile=4, freq_hz=500e6, dram_bits_per_cycle=512,
                               e_bitop_pj=0.004, e_brick_pj=0.016, e_l1_pj_per_bit=0.02,
                               e_l2_pj_per_bit=0.15, e_dram_pj_per_bit=4.0),
}
#: Columns of :func:`cost_layers`, in the core's order (its COST_LAYER_FIELDS).
COST_COLUMNS: tuple[str, ...] = tuple(_core.COST_LAYER_FIELDS)


def _maestro_layer(spec, conv_h: int, conv_w: int) -> tuple[cm.Layer, str]:
    """The layer as the MAESTRO-style engine sees it (stride-aware: the stride-1 layer
    with the same output size, as HWResource's stride_aware) and its dataflow."""
    if spec.kind == "linear":
        return cm.Layer(K=spec.out_channels, C=spec.in_channels, Y=1, X=1, R=1, S=1), "dla"
    k = spec.kernel
    y = conv_h + k - 1  # conv output rows + k - 1
    x = conv_w + k - 1
    if spec.kind == "dwconv":
        return cm.Layer(K=spec.out_channels, C=spec.in_channels, Y=y, X=x, R=k, S=k, depthwise=True), "dpt"
    return cm.Layer(K=spec.out_channels, C=spec.in_channels, Y=y, X=x, R=k, S=k), "dla"


def cost_layers(model, preset: AcceleratorPreset) -> np.ndarray:
    """int64 (L, 11) rows of COST_COLUMNS for a model on a preset (MAESTRO evaluated at 8 bits)."""
    rows = []
    hw = cm.Hardware(num_pes=preset.pes)
    consts = cm.confuciux_constants(pes=preset.pes, tile=preset.tile)
    g = model.geometry
    for l, spec in enumerate(model.layers):
        layer, df = _maestro_layer(spec, int(g["conv_h"][l]), int(g["conv_w"][l]))
        r = cm.evaluate(layer, cm.DATAFLOWS[df], hw, consts)
        row = {"macs": model.macs[l], "weights": model.num_weights[l], "in_elems": model.in_elems[l],
               "out_elems": model.out_elems[l], "cycles8": r["runtime"], "l1_in": r["input_l1_read"],
               "l1_w": r["filter_l1_read"], "l1_out": r["output_l1_read"] + r["output_l1_write"],
               "l2_in": r["input_l2_read"], "l2_w": r["filter_l2_read"], "l2_out": r["output_l2_write"]}
        rows.append([row[name] for name in COST_COLUMNS])
    return np.array(rows, dtype=np.int64)


@functools.lru_cache(maxsize=32)
def _cached_layers(model, preset_name: str) -> np.ndarray:
    return cost_layers(model, PRESETS[preset_name])


class HardwareCost:
    """Latency, energy and model size of bit configurations of a model on an accelerator."""

    def __init__(self, model, preset: str | AcceleratorPreset = "edge", design: str = "bitserial"):
        if isinstance(preset, str):
            if preset not in PRESETS:
                raise ValueError(f"unknown preset {preset!r}; allowed: {', '.join(PRESETS)}")
            self.preset = PRESETS[preset]
            self.layers = _cached_layers(model, preset)
        elif isinstance(preset, AcceleratorPreset):
            self.preset = preset
            self.layers = cost_layers(model, preset)
        else:
            raise ValueError(f"preset must be a name ({', '.join(PRESETS)}) or an AcceleratorPreset")
        if design not in DESIGNS:
            raise ValueError(f"unknown design {design!r}; allowed: {', '.join(DESIGNS)}")
        self.design = design
        self.model = model
        self.num_layers = model.num_layers
        self.core = _core.CostModel(self.layers, self.preset.core_fields(), DESIGNS[design])

    def __repr__(self) -> str:
        return f"HardwareCost({self.model.name!r}, preset={self.preset.name!r}, design={self.design!r})"

    def per_layer(self, wbits, abits) -> dict[str, np.ndarray]:
        """Per-layer arrays (m, L): cycles, energy_pj, size_bits, dram_bits (configs as rows)."""
        w = np.ascontiguousarray(np.atleast_2d(np.asarray(wbits, dtype=np.int64)))
        a = np.ascontiguousarray(np.atleast_2d(np.asarray(abits, dtype=np.int64)))
        if w.shape != a.shape or w.ndim != 2 or w.shape[1] != self.num_layers:
            raise ValueError(f"wbits and abits must have shape (m, {self.num_layers}) or ({self.num_layers},), "
                             f"got {w.shape} and {a.shape}")
        cycles, energy, size, dram = self.core.evaluate(w, a)
        return {"cycles": cycles, "energy_pj": energy, "size_bits": size, "dram_bits": dram}

    def evaluate(self, wbits, abits) -> dict:
        """Totals of one configuration: cycles (int), latency_s, energy_j, size_bytes,
        dram_bytes, and the per-layer cycles and energy."""
        p = self.per_layer(wbits, abits)
        if p["cycles"].shape[0] != 1:
            raise ValueError("evaluate takes one configuration; use evaluate_batch for several")
        cycles = int(p["cycles"][0].sum())
        return {"cycles": cycles, "latency_s": cycles / self.preset.freq_hz,
                "energy_j": float(p["energy_pj"][0].sum()) * 1e-12,
                "size_bytes": int(p["size_bits"][0].sum()) / 8.0,
                "dram_bytes": int(p["dram_bits"][0].sum()) / 8.0,
                "layer_cycles": p["cycles"][0].tolist(), "layer_energy_j": (p["energy_pj"][0] * 1e-12).tolist()}

    def evaluate_batch(self, wbits, abits) -> dict[str, np.ndarray]:
        """Totals of m configurations (rows): cycles, latency_s, energy_j, size_bytes."""
        p = self.per_layer(wbits, abits)
        cycles = p["cycles"].sum(axis=1)
        return {"cycles": cycles, "latency_s": cycles / self.preset.freq_hz,
                "energy_j": p["energy_pj"].sum(axis=1) * 1e-12,
                "size_bytes": p["size_bits"].sum(axis=1) / 8.0}

    def objective(self, name: str, wbits, abits) -> np.ndarray:
        """The objective (latency_s, energy_j or size_bytes) of m configurations."""
        key = {"latency": "latency_s", "energy": "energy_j", "size": "size_bytes"}.get(name)
        if key is None:
            raise ValueError(f"unknown objective {name!r}; allowed: {', '.join(OBJECTIVES)}")
        return self.evaluate_batch(wbits, abits)[key]

    def describe(self) -> dict:
        return {"preset": asdict(self.preset), "design": self.design}
