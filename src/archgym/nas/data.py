"""The real, offline datasets NAS-v0 trains and evaluates on.

All four ship in ``data/nas_data.npz`` (about 550 kB), written from
scikit-learn and archgym.quant's Fashion-MNIST subset by
``scripts/build_nas_table.py --data``, so that archgym never needs
scikit-learn at run time:

``digits`` (classification, 10 classes)
    scikit-learn's 8x8 handwritten digits: 1,797 images, integer pixels
    0..16, stored as uint8 (1797, 64).  Inputs are pixels / 16.
``fashion`` (classification, 10 classes)
    3,000 Fashion-MNIST images (Xiao, Rasul and Vollgraf 2017, MIT licence):
    the 1,000 calibration and 2,000 test images archgym.quant ships
    (``archgym/quant/data/fashion_mnist_subset.npz``), in that order, each
    shrunk to 14x14 by averaging 2x2 blocks and rounding
    (``(sum + 2) // 4``), stored as uint8 (3000, 196).  Inputs are
    pixels / 255.
``diabetes`` (regression)
    scikit-learn's diabetes data (Efron et al. 2004): 442 patients, 10 raw
    (unscaled) baseline variables, target = disease progression one year later.
``friedman1`` (regression)
    ``make_friedman1(n_samples=1000, n_features=10, noise=1.0,
    random_state=0)``: y = 10 sin(pi x1 x2) + 20 (x3 - 0.5)^2 + 10 x4 + 5 x5
    + N(0, 1) noise, x uniform on [0, 1]^10 (5 features are irrelevant).
    Synthetic, but the standard regression benchmark of the NAS and
    hyper-parameter literature.

Splits: one random permutation per task (``numpy.random.default_rng(0)``)
cut 60 % / 20 % / 20 % into ``train`` (the only split ever trained on),
``valid`` (the search signal: the environments' reward) and ``test``
(held out, reported in ``info``; use it for final numbers only).
Regression inputs and targets are standardised with the mean and standard
deviation of ``train``; R^2 is invariant to that affine map, so it equals
R^2 in the original units.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

import numpy as np

TASKS = ("digits", "fashion", "diabetes", "friedman1")
SPLITS = ("train", "valid", "test")
#: Fractions of train and valid (test gets the rest).
SPLIT_FRACTIONS = (0.6, 0.2)
DATA_FILE = "nas_data.npz"
#: The image tasks: (side of the square image, full-scale pixel value).
IMAGES = {"digits": (8, 16.0), "fashion": (14, 255.0)}


@dataclass(frozen=True)
class Task:
    """One dataset, preprocessed and split.

    ``x[split]`` is float64 (n, features) (digits, fashion: (n, side, side, 1)
    images in [0, 1], NHWC); ``y[split]`` is int64 class labels (classification) or
    float64 standardised targets (regression).
    """

    name: str
    kind: str  # "classification" or "regression"
    x: dict
    y: dict
    num_outputs: int  # classes, or 1 for regression

    @property
    def metric_name(self) -> str:
        return "accuracy" if self.kind == "classification" else "r2"

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x["train"].shape[1:])

    def sizes(self) -> dict[str, int]:
        return {s: int(self.x[s].shape[0]) for s in SPLITS}


def split_indices(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """The documented split of n samples: a default_rng(seed) permutation cut 60/20/20."""
    perm = np.random.default_rng(seed).permutation(n)
    n_train = int(round(SPLIT_FRACTIONS[0] * n))
    n_valid = int(round(SPLIT_FRACTIONS[1] * n))
    return {"train": np.sort(perm[:n_train]), "valid": np.sort(perm[n_train:n_train + n_valid]),
            "test": np.sort(perm[n_train + n_valid:])}


def _data_path():
    return resources.files("archgym.nas") / "data" / DATA_FILE


@functools.cache
def _raw() -> dict[str, np.ndarray]:
    path = _data_path()
    try:
        with resources.as_file(path) as p, np.load(p, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read the NAS datasets {path}: {exc}; regenerate it with "
                         "`python scripts/build_nas_table.py --data` (needs scikit-learn)") from exc


def _require(raw: dict, key: str) -> np.ndarray:
    if key not in raw:
        raise ValueError(f"{DATA_FILE} has no array {key!r}; regenerate it with "
                         "`python scripts/build_nas_table.py --data`")
    return raw[key]


@functools.cache
def load_task(name: str) -> Task:
    """The task ``name`` (one of :data:`TASKS`), preprocessed and split."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; allowed: {', '.join(TASKS)}")
    raw = _raw()
    x_all = _require(raw, f"{name}_x")
    y_all = _require(raw, f"{name}_y")
    idx = {s: _require(raw, f"{name}_{s}") for s in SPLITS}
    n = x_all.shape[0]
    if y_all.shape != (n,) or sorted(np.concatenate(list(idx.values())).tolist()) != list(range(n)):
        raise ValueError(f"{DATA_FILE}: task {name!r} is inconsistent (labels or split indices "
                         "do not cover the samples exactly once)")
    if name in IMAGES:
        side, scale = IMAGES[name]
        x = x_all.astype(np.float64).reshape(n, side, side, 1) / scale
        xs = {s: x[i] for s, i in idx.items()}
        ys = {s: y_all[i].astype(np.int64) for s, i in idx.items()}
        return Task(name, "classification", _frozen(xs), _frozen(ys), 10)
    x = x_all.astype(np.float64)
    y = y_all.astype(np.float64)
    tr = idx["train"]
    mx, sx = x[tr].mean(axis=0), x[tr].std(axis=0)
    my, sy = y[tr].mean(), y[tr].std()
    sx[sx == 0] = 1.0
    xs = {s: (x[i] - mx) / sx for s, i in idx.items()}
    ys = {s: (y[i] - my) / sy for s, i in idx.items()}
    return Task(name, "regression", _frozen(xs), _frozen(ys), 1)


def _frozen(arrays: dict) -> dict:
    """The arrays made read-only (a Task is cached and shared)."""
    for a in arrays.values():
        a.flags.writeable = False
    return arrays
