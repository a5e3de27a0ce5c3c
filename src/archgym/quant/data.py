"""The labelled images the quantization models are calibrated and evaluated on.

Two datasets, both real and offline:

``digits``
    scikit-learn's 8x8 digits (1,797 images, 10 classes, integer pixels 0..16),
    shipped in ``data/digits.npz`` with its fixed split (made by
    ``scripts/train_quant_models.py``): ``train`` (1,257 images, used to train
    the model), ``calibration`` (256 of the training images: activation
    ranges) and ``test`` (540 images, the held-out evaluation split, never
    used for training or calibration).
``fashion_mnist``
    Fashion-MNIST (Xiao, Rasul and Vollgraf 2017, MIT licence; 28x28, pixels
    0..255): ``train`` = the 60,000 training images, ``calibration`` = the
    first 1,000 of them, ``test`` = the 10,000 official test images (held
    out).  The package ships ``data/fashion_mnist_subset.npz`` (made by
    ``scripts/make_fashion_subset.py``): the calibration split and the first
    :data:`FASHION_SHIPPED_TEST` test images, which is what the Quant
    environments use by default.  The whole dataset is read, when present,
    from the Debian package ``dataset-fashion-mnist``
    (/usr/share/datasets/fashion-mnist/, or the folder named by
    ``$ARCHGYM_FASHION_MNIST_DIR``); without it, asking for the training
    split or for more test images than are shipped raises
    :class:`DatasetNotInstalledError`.  Both sources give the same images.

:func:`load_split` returns ``(images, labels)``: uint8 pixels, one row of
C*H*W values per image, and int64 labels; ``count`` asks for the first
``count`` images only.
"""

from __future__ import annotations

import functools
import gzip
import os
import zipfile
from importlib import resources
from pathlib import Path

import numpy as np

DATASETS = ("digits", "fashion_mnist")
SPLITS = ("train", "calibration", "test")
FASHION_DEFAULT_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_PACKAGE = "dataset-fashion-mnist"
FASHION_CALIBRATION = 1000
#: How many of Fashion-MNIST's test images the package ships (the first ones).
FASHION_SHIPPED_TEST = 2000
FASHION_SHIPPED = "fashion_mnist_subset.npz"
#: Images per split of each dataset (Fashion-MNIST's whole splits, whichever source serves them).
_FASHION_SIZES = {"train": 60000, "calibration": FASHION_CALIBRATION, "test": 10000}
_FASHION_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", 60000),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", 10000),
}


class DatasetNotInstalledError(FileNotFoundError):
    """A dataset that lives in a system package which is not installed."""


def fashion_mnist_dir() -> Path:
    """Where Fashion-MNIST is read from ($ARCHGYM_FASHION_MNIST_DIR or the Debian package's folder)."""
    return Path(os.environ.get("ARCHGYM_FASHION_MNIST_DIR", FASHION_DEFAULT_DIR))


def fashion_mnist_available() -> bool:
    folder = fashion_mnist_dir()
    return all((folder / f).is_file() for files in _FASHION_FILES.values() for f in files[:2])


def _missing_fashion(what: str) -> DatasetNotInstalledError:
    return DatasetNotInstalledError(
        f"{what} needs the whole Fashion-MNIST (the package ships its {FASHION_CALIBRATION:,} calibration "
        f"images and the first {FASHION_SHIPPED_TEST:,} test images), not found in {fashion_mnist_dir()}: "
        f"install the Debian package {FASHION_PACKAGE} (apt-get install -y {FASHION_PACKAGE}), or point "
        "$ARCHGYM_FASHION_MNIST_DIR at a folder holding its four .gz files")


def _read_idx(path: Path, magic: int, count: int | None) -> np.ndarray:
    """The first `count` items (all if None) of an IDX file (gzip), validated."""
    try:
        with gzip.open(path, "rb") as f:
            head = f.read(4)
            if len(head) != 4 or int.from_bytes(head, "big") != magic:
                raise ValueError(f"bad magic number (expected {magic})")
            ndim = magic & 0xFF
            dims = [int.from_bytes(f.read(4), "big") for _ in range(ndim)]
            n = dims[0] if count is None else count
            if n > dims[0]:
                raise ValueError(f"holds {dims[0]} items, {n} needed")
            item = int(np.prod(dims[1:], dtype=np.int64)) if ndim > 1 else 1
            data = f.read(n * item)
            if len(data) != n * item:
                raise ValueError("truncated")
    except (OSError, EOFError, ValueError) as exc:
        raise ValueError(f"{path}: not a valid Fashion-MNIST IDX file ({exc})") from exc
    return np.frombuffer(data, dtype=np.uint8).reshape([n] + dims[1:])


@functools.lru_cache(maxsize=8)
def _fashion(split: str) -> tuple[np.ndarray, np.ndarray]:
    """A whole split from the Debian package's files."""
    folder = fashion_mnist_dir()
    part = "train" if split in ("train", "calibration") else "test"
    img_file, lab_file, _ = _FASHION_FILES[part]
    count = FASHION_CALIBRATION if split == "calibration" else None
    images = _read_idx(folder / img_file, 2051, count)
    labels = _read_idx(folder / lab_file, 2049, count)
    if images.shape[1:] != (28, 28) or len(images) != len(labels):
        raise ValueError(f"{folder}: Fashion-MNIST files have unexpected shapes "
                         f"{images.shape} and {labels.shape}")
    if labels.max(initial=0) > 9:
        raise ValueError(f"{folder / lab_file}: labels must be 0..9")
    images = np.ascontiguousarray(images.reshape(len(images), -1))
    labels = labels.astype(np.int64)
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


@functools.lru_cache(maxsize=1)
def _fashion_shipped() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The shipped subset: {"calibration": ..., "test": ...} as (images, labels), read-only."""
    path = resources.files("archgym.quant") / "data" / FASHION_SHIPPED
    try:
        with resources.as_file(path) as p, np.load(p, allow_pickle=False) as f:
            out = {split: (np.ascontiguousarray(f[f"{split}_images"]), f[f"{split}_labels"].astype(np.int64))
                   for split in ("calibration", "test")}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path}: not a valid Fashion-MNIST subset ({exc}); regenerate it with "
                         "scripts/make_fashion_subset.py") from exc
    for split, n in (("calibration", FASHION_CALIBRATION), ("test", FASHION_SHIPPED_TEST)):
        images, labels = out[split]
        if images.dtype != np.uint8 or images.shape != (n, 784) or labels.shape != (n,) or labels.max() > 9:
            raise ValueError(f"{path}: the {split} split must be {n} uint8 images of 784 pixels, labels 0..9")
        images.setflags(write=False)
        labels.setflags(write=False)
    return out


def split_size(dataset: str, split: str) -> int:
    """How many images a dataset's split holds (whichever source serves it)."""
    _check(dataset, split)
    return len(_digits_file()[split]) if dataset == "digits" else _FASHION_SIZES[split]


@functools.lru_cache(maxsize=1)
def _digits_file() -> dict[str, np.ndarray]:
    path = resources.files("archgym.quant") / "data" / "digits.npz"
    try:
        with resources.as_file(path) as p, np.load(p, allow_pickle=False) as f:
            arrays = {k: f[k] for k in ("images", "labels", "train", "calibration", "test", "full_scale")}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path}: not a valid digits file ({exc}); regenerate it with "
                         "scripts/train_quant_models.py") from exc
    images, labels = arrays["images"], arrays["labels"]
    if images.dtype != np.uint8 or images.ndim != 2 or images.shape[1] != 64 or len(labels) != len(images):
        raise ValueError(f"{path}: images must be uint8 (n, 64) with one label each")
    for split in SPLITS:
        idx = arrays[split]
        if idx.dtype.kind not in "iu" or idx.min(initial=0) < 0 or idx.max(initial=0) >= len(images):
            raise ValueError(f"{path}: split {split!r} holds invalid indices")
    if np.intersect1d(arrays["test"], arrays["train"]).size or \
            np.intersect1d(arrays["test"], arrays["calibration"]).size:
        raise ValueError(f"{path}: the test split overlaps the training or calibration split")
    return arrays


def _digits(split: str) -> tuple[np.ndarray, np.ndarray]:
    f = _digits_file()
    idx = f[split]
    images = np.ascontiguousarray(f["images"][idx])
    labels = f["labels"][idx].astype(np.int64)
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def _check(dataset: str, split: str) -> None:
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; allowed: {', '.join(DATASETS)}")
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; allowed: {', '.join(SPLITS)}")


def load_split(dataset: str, split: str, count: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (n, C*H*W), labels int64 (n,)) of a dataset's split, or of its first
    ``count`` images (read-only arrays)."""
    _check(dataset, split)
    size = split_size(dataset, split)
    if count is not None and (isinstance(count, bool) or not isinstance(count, (int, np.integer))
                              or not 1 <= count <= size):
        raise ValueError(f"count must be None (the whole split) or an integer in 1..{size}, got {count!r}")
    n = size if count is None else int(count)
    if dataset == "digits":
        images, labels = _digits(split)
    elif fashion_mnist_available():
        images, labels = _fashion(split)
    elif split in ("calibration", "test") and n <= len(_fashion_shipped()[split][1]):
        images, labels = _fashion_shipped()[split]
    else:
        raise _missing_fashion(f"Fashion-MNIST's {split} split ({n:,} images)")
    return images[:n], labels[:n]


def full_scale(dataset: str) -> int:
    """The pixel value that means 1.0 (the models see pixel / full_scale)."""
    return {"digits": 16, "fashion_mnist": 255}[dataset]
