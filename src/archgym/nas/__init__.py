"""Hardware-aware neural architecture search on real data (the core of NAS-v0).

Search spaces with a MultiDiscrete encoding (:mod:`~archgym.nas.spaces`),
offline datasets (:mod:`~archgym.nas.data`), a deterministic numpy trainer
(:mod:`~archgym.nas.trainer`), exact parameters/MACs and latency/energy from
the MAESTRO-style cost model (:mod:`~archgym.nas.cost`), and the shipped
tabular benchmark (:mod:`~archgym.nas.table`)::

    from archgym import nas
    space = nas.get_space("digits-mlp")
    arch = space.decode([1, 3, 1, 0, 0])            # mlp 128-32 relu
    nas.load_table("digits-mlp").row(space.index([1, 3, 1, 0, 0]))
    nas.measure("digits-mlp", [1, 3, 1, 0, 0])      # really trains it (~0.3 s)

Needs numpy and the compiled core only (no torch, scipy or scikit-learn).
See docs/nas.md.
"""

from archgym.nas.cost import (
    PLATFORMS,
    LayerShape,
    Platform,
    get_platform,
    hardware_cost,
    hardware_costs,
    layer_shapes,
    params_macs,
)
from archgym.nas.data import SPLITS, TASKS, Task, load_task
from archgym.nas.measure import COST_FIGURES, measure, shapes_of, space_figures
from archgym.nas.spaces import SPACES, WORKLOAD_NAMES, Arch, SearchSpace, TrainConfig, get_space
from archgym.nas.table import COLUMNS, SpaceTable, load_table
from archgym.nas.trainer import TrainResult, train

__all__ = [
    "COLUMNS",
    "COST_FIGURES",
    "PLATFORMS",
    "SPACES",
    "SPLITS",
    "TASKS",
    "Arch",
    "LayerShape",
    "Platform",
    "SearchSpace",
    "SpaceTable",
    "Task",
    "TrainConfig",
    "TrainResult",
    "WORKLOAD_NAMES",
    "get_platform",
    "get_space",
    "hardware_cost",
    "hardware_costs",
    "layer_shapes",
    "load_table",
    "load_task",
    "measure",
    "params_macs",
    "shapes_of",
    "space_figures",
    "train",
]
