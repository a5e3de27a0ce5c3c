"""Measure an architecture: train it, count it, cost it (one record of the table).

``scripts/build_nas_table.py`` writes :func:`measure` records for every
architecture; the live mode of ``NAS-v0`` calls the same function, so a live
result and the table's row come from the same code.
"""

from __future__ import annotations

import functools

import numpy as np

from archgym.nas.cost import (
    PLATFORMS,
    get_platform,
    hardware_costs,
    layer_shapes,
    params_macs,
)
from archgym.nas.data import load_task
from archgym.nas.spaces import get_space
from archgym.nas.trainer import train

#: The cost figures of every architecture (the keys of :func:`space_figures`), any of
#: which a NAS budget may constrain: latency (cycles), energy (nJ), parameters, MACs.
COST_FIGURES = ("latency", "energy", "params", "macs")


def shapes_of(space, encoding):
    """The costed layers of an encoding of ``space``."""
    sp = get_space(space)
    task = load_task(sp.task)
    return layer_shapes(sp.decode(encoding), task.input_shape, task.num_outputs)


def measure(space, encoding, seed: int | None = None, epochs: int | None = None,
            platforms=tuple(PLATFORMS)) -> dict:
    """Train the architecture (space protocol, optional seed/epochs) and return a
    table record: every column of :data:`archgym.nas.table.COLUMNS` for ``platforms``."""
    sp = get_space(space)
    enc = sp.canonical(encoding)
    arch = sp.decode(enc)
    task = load_task(sp.task)
    shapes = layer_shapes(arch, task.input_shape, task.num_outputs)
    params, macs = params_macs(shapes)
    result = train(arch, task, sp.train, seed=seed, epochs=epochs)
    rec = {"space": sp.name, "arch_id": sp.index(enc), "encoding": " ".join(map(str, enc)),
           "arch": arch.describe(), "metric": task.metric_name, "seed": result.seed,
           "epochs": result.epochs, "final_loss": result.final_loss, "params": params, "macs": macs,
           "train_time_s": result.train_time}
    rec.update({f"{s}_metric": v for s, v in result.metrics.items()})
    for p in platforms:
        c = hardware_costs([shapes], p)[0]
        rec[f"latency_{p}"], rec[f"energy_{p}"] = c["latency"], c["energy"]
    return rec


@functools.cache
def space_figures(space: str, platform: str) -> dict[str, np.ndarray]:
    """latency, energy, params and macs of every architecture of a space (by arch_id),
    from the formulas and the cost model: no training, no table."""
    sp = get_space(space)
    shape_lists = [shapes_of(sp, e) for e in sp.enumerate()]
    costs = hardware_costs(shape_lists, get_platform(platform))
    pm = np.array([params_macs(s) for s in shape_lists], dtype=np.int64)
    out = {"latency": np.array([c["latency"] for c in costs], dtype=np.int64),
           "energy": np.array([c["energy"] for c in costs]),
           "params": pm[:, 0].copy(), "macs": pm[:, 1].copy()}
    for a in out.values():
        a.flags.writeable = False
    return out
