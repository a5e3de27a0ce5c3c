"""Hardware cost of NAS architectures: exact parameters and MACs, and latency and
energy on an accelerator from the MAESTRO-style cost model (:mod:`archgym.costmodel`).

Every convolution and every linear layer becomes one cost-model layer row
(type, K, C, R, S, Y, X, N):

* a conv with C input and K output channels, kernel k, stride 1 and "same"
  padding on an HxW map is the row (0, K, C, k, k, H + k - 1, W + k - 1, 0):
  the cost model has no padding, so its input is the padded map, whose
  valid output is exactly HxW;
* a linear layer with C inputs and K outputs is a 1x1 convolution on a 1x1
  input: (0, K, C, 1, 1, 1, 1, 0).

Activations and max-pooling are element-wise and not charged (MAESTRO
models CONV layers only).  The layers run one after the other on the whole
accelerator, so latency (cycles) and energy (nJ) are sums over the layers;
the cost-model MACs equal :func:`params_macs`'s exact count (tested).

All layers use the NVDLA-like ``dla`` dataflow (C spatially inside a cluster
of ``cluster_size`` PEs, K over the ``num_pes / cluster_size`` clusters in
tiles of ``k_tile``) with ``compat=False`` (energy = MAC + L1 + L2 terms)
and the ``maestro2021`` constants.  Platforms (``PLATFORMS``):

========  =====  =======  ======  ======  ========  =======
name      PEs    cluster  K-tile  NoC bw  off-chip  clock
========  =====  =======  ======  ======  ========  =======
edge      32     8        1       16      8         200 MHz
cloud     256    16       1       256     64        1 GHz
========  =====  =======  ======  ======  ========  =======

(bandwidths in words per cycle; the clock only converts cycles to seconds).
The figures are analytic (a model), not measured on hardware.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from archgym import costmodel as cm
from archgym.nas.spaces import Arch

DATAFLOW = "dla"
PRESET = "maestro2021"
COMPAT = False


@dataclass(frozen=True)
class Platform:
    """An accelerator configuration for the cost model."""

    name: str
    num_pes: int
    cluster_size: int
    k_tile: int
    noc_bw: int
    offchip_bw: int
    clock_hz: float
    description: str = ""

    @property
    def hardware(self) -> cm.Hardware:
        return cm.Hardware(num_pes=self.num_pes, noc_bw=self.noc_bw, offchip_bw=self.offchip_bw)

    @property
    def constants(self) -> dict[str, int]:
        return {"KTileSz": self.k_tile, "ClusterSz": self.cluster_size, "CTileSz": 1}


#: The accelerator presets.
PLATFORMS: dict[str, Platform] = {
    "edge": Platform("edge", num_pes=32, cluster_size=8, k_tile=1, noc_bw=16, offchip_bw=8,
                     clock_hz=200e6, description="small edge accelerator: 32 PEs, narrow NoC"),
    "cloud": Platform("cloud", num_pes=256, cluster_size=16, k_tile=1, noc_bw=256, offchip_bw=64,
                      clock_hz=1e9, description="datacenter accelerator: 256 PEs, wide NoC"),
}


def get_platform(name) -> Platform:
    """The platform called ``name`` (or a :class:`Platform` as it is)."""
    if isinstance(name, Platform):
        return name
    if name not in PLATFORMS:
        raise ValueError(f"unknown platform {name!r}; allowed: {', '.join(PLATFORMS)}")
    return PLATFORMS[name]


@dataclass(frozen=True)
class LayerShape:
    """One costed layer: kind ("conv" or "linear"), channels, kernel, output map size."""

    kind: str
    cin: int
    cout: int
    kernel: int = 1
    height: int = 1  # output map size (= input size: stride 1, same padding)
    width: int = 1

    @property
    def params(self) -> int:
        return self.cout * self.cin * self.kernel * self.kernel + self.cout

    @property
    def macs(self) -> int:
        return self.cout * self.cin * self.kernel * self.kernel * self.height * self.width

    def layer(self) -> cm.Layer:
        """The layer as the cost model sees it (a CONV; a linear layer is a 1x1 one)."""
        k = self.kernel
        return cm.Layer(K=self.cout, C=self.cin, Y=self.height + k - 1, X=self.width + k - 1, R=k, S=k)


def layer_shapes(arch: Arch, input_shape: tuple[int, ...], num_outputs: int) -> list[LayerShape]:
    """The conv and linear layers of ``arch`` in network order."""
    out: list[LayerShape] = []
    if arch.family == "cnn":
        h, w, c = input_shape
        for i, (ch, k) in enumerate(arch.convs):
            out.append(LayerShape("conv", c, ch, k, h, w))
            c = ch
            if arch.pools_after(i):
                h, w = h // 2, w // 2  # the 2x2 max-pool (an odd last row/column dropped)
        width = h * w * c
    else:
        width = int(np.prod(input_shape))
    for units in arch.hidden:
        out.append(LayerShape("linear", width, units))
        width = units
    out.append(LayerShape("linear", width, num_outputs))
    return out


def params_macs(shapes: list[LayerShape]) -> tuple[int, int]:
    """Exact parameter count (weights + biases) and MACs per inference of one input."""
    return sum(s.params for s in shapes), sum(s.macs for s in shapes)


def hardware_costs(shape_lists: list[list[LayerShape]], platform) -> list[dict]:
    """Cost of many architectures in one batch call of the cost model.

    Returns, per architecture, ``latency`` (cycles, int), ``latency_s``,
    ``energy`` (nJ; summed with math.fsum, so independent of grouping),
    ``macs_costmodel`` and ``per_layer`` [(cycles, energy), ...].
    """
    p = get_platform(platform)
    layers = [s.layer() for shapes in shape_lists for s in shapes]
    res = cm.evaluate_batch(layers, cm.DATAFLOWS[DATAFLOW], p.hardware, constants=p.constants,
                            preset=PRESET, compat=COMPAT, threads=1)
    cycles, energy, macs = res["runtime"].tolist(), res["energy"].tolist(), res["macs"].tolist()
    out, i = [], 0
    for shapes in shape_lists:
        j = i + len(shapes)
        lat = int(sum(cycles[i:j]))
        out.append({"latency": lat, "latency_s": lat / p.clock_hz, "energy": math.fsum(energy[i:j]),
                    "macs_costmodel": int(sum(macs[i:j])),
                    "per_layer": list(zip(cycles[i:j], energy[i:j]))})
        i = j
    return out


def hardware_cost(shapes: list[LayerShape], platform) -> dict:
    """Cost of one architecture (see :func:`hardware_costs`)."""
    return hardware_costs([shapes], platform)[0]
