"""Quantizable models: the weight-file format, calibration and evaluation on the core.

A model file (``.npz``, written by ``scripts/train_quant_models.py``) holds

=====================  ==========================================================
``format``             ``"archgym-quant-model/1"``
``name``, ``dataset``  the model's name and the dataset it reads (see :mod:`.data`)
``arch``               JSON list, one dict per quantizable layer: ``kind`` (conv,
                       dwconv, linear), ``in_channels``, ``out_channels``,
                       ``kernel``, ``stride``, ``padding``, ``relu`` (bool),
                       ``pool`` (null, "max", "avg"), ``pool_size``
``input_shape``        (C, H, W)
``input_full_scale``   the pixel value that means 1.0 (digits 16, Fashion 255)
``num_classes``        10
``w<i>``, ``b<i>``     float32 weights in torch's layout (conv (out, in, k, k),
                       depthwise (out, 1, k, k), linear (out, in)) and biases
=====================  ==========================================================

A linear layer flattens its input in (C, H, W) order, as ``torch.nn.Flatten``.
Every layer but the last has a ReLU; the last gives the logits.  A file that
cannot be read, or whose contents do not fit together, raises ``ValueError``
naming the file and the problem.
"""

from __future__ import annotations

import functools
import json
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from archgym import _sim
from archgym.quant import data as qdata

_core = _sim.quant

FORMAT = "archgym-quant-model/1"
#: The bits that mean "float" (weights or activations not quantized); integer bits are 1..MAX_INT_BITS.
FLOAT_BITS: int = _core.FLOAT_BITS
MAX_INT_BITS: int = _core.MAX_INT_BITS
#: Shipped models: name -> file in archgym/quant/data.
MODELS = {"digits_cnn": "digits_cnn.npz", "fashion_lenet": "fashion_lenet.npz", "fashion_dscnn": "fashion_dscnn.npz"}
#: Layer kinds and poolings as the core names them (a model file writes no pooling as null).
KINDS: tuple[str, ...] = tuple(_core.LAYER_KINDS)
POOLS: tuple[str | None, ...] = tuple(None if p == "none" else p for p in _core.POOLS)
CALIBRATIONS = ("mse", "max")
#: MSE calibration: candidate clips are max * k / 100 for these k.
MSE_CANDIDATES = np.arange(10, 101)
#: MSE calibration: at most this many values (evenly spaced order statistics) per layer.
MSE_SAMPLES = 16384


@dataclass(frozen=True)
class LayerSpec:
    """One quantizable layer (a conv/dwconv/linear with its ReLU and pooling)."""

    kind: str
    in_channels: int
    out_channels: int
    kernel: int = 1
    stride: int = 1
    padding: int = 0
    relu: bool = True
    pool: str | None = None
    pool_size: int = 1

    def core_fields(self) -> dict:
        """The layer as the core takes it: {name: value} for the core's LAYER_FIELDS."""
        fields = {name: getattr(self, name) for name in _core.LAYER_FIELDS}
        fields["pool"] = "none" if self.pool is None else self.pool
        return fields

    def weight_shape(self) -> tuple[int, ...]:
        if self.kind == "linear":
            return (self.out_channels, self.in_channels)
        cin = 1 if self.kind == "dwconv" else self.in_channels
        return (self.out_channels, cin, self.kernel, self.kernel)


def _layer_from_dict(i: int, d) -> LayerSpec:
    if not isinstance(d, dict):
        raise ValueError(f"arch[{i}] must be an object, got {type(d).__name__}")
    if d.get("kind") not in KINDS:
        raise ValueError(f"arch[{i}].kind must be one of {', '.join(KINDS)}, got {d.get('kind')!r}")
    if d.get("pool") not in POOLS:
        raise ValueError(f"arch[{i}].pool must be null, 'max' or 'avg', got {d.get('pool')!r}")
    ints = {}
    for key, default in (("in_channels", None), ("out_channels", None), ("kernel", 1), ("stride", 1),
                         ("padding", 0), ("pool_size", 1)):
        v = d.get(key, default)
        # Any int up to the core's MAX_DIM crosses the binding; the core checks each field's range.
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= _core.MAX_DIM:
            raise ValueError(f"arch[{i}].{key} must be an integer in 0..{_core.MAX_DIM}, got {v!r}")
        ints[key] = v
    relu = d.get("relu", True)
    if not isinstance(relu, bool):
        raise ValueError(f"arch[{i}].relu must be true or false, got {relu!r}")
    return LayerSpec(kind=d["kind"], relu=relu, pool=d["pool"], **ints)


@dataclass(frozen=True)
class ModelFile:
    """The validated contents of a model file."""

    name: str
    dataset: str
    layers: tuple[LayerSpec, ...]
    input_shape: tuple[int, int, int]
    full_scale: int
    num_classes: int
    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    torch_float_accuracy: float
    path: str = ""


def read_model_file(path) -> ModelFile:
    """Read and validate a model file; any problem is a ValueError naming the file."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except FileNotFoundError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise ValueError(f"{path}: not a readable model file ({type(exc).__name__}: {exc})") from exc
    try:
        return _parse(arrays, str(path))
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc


def _scalar(arrays, key, kind):
    if key not in arrays:
        raise ValueError(f"missing entry {key!r}")
    a = arrays[key]
    if a.shape != () or a.dtype.kind not in kind:
        raise ValueError(f"entry {key!r} must be a scalar of kind {kind!r}")
    return a.item()


def _parse(arrays: dict, path: str) -> ModelFile:
    fmt = _scalar(arrays, "format", "U")
    if fmt != FORMAT:
        raise ValueError(f"format must be {FORMAT!r}, got {fmt!r}")
    try:
        arch = json.loads(_scalar(arrays, "arch", "U"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"arch is not valid JSON ({exc})") from exc
    if not isinstance(arch, list) or not arch:
        raise ValueError("arch must be a non-empty list of layers")
    layers = tuple(_layer_from_dict(i, d) for i, d in enumerate(arch))
    dataset = _scalar(arrays, "dataset", "U")
    if dataset not in qdata.DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(qdata.DATASETS)}, got {dataset!r}")
    shape = arrays.get("input_shape")
    if shape is None or shape.shape != (3,) or shape.dtype.kind not in "iu" or (shape < 1).any():
        raise ValueError("input_shape must hold three positive integers (C, H, W)")
    full_scale = _scalar(arrays, "input_full_scale", "iu")
    num_classes = _scalar(arrays, "num_classes", "iu")
    weights, biases = [], []
    for i, layer in enumerate(layers):
        for key, want in ((f"w{i}", layer.weight_shape()), (f"b{i}", (layer.out_channels,))):
            if key not in arrays:
                raise ValueError(f"missing entry {key!r} (the arch has {len(layers)} layers)")
            a = arrays[key]
            if a.dtype != np.float32:
                raise ValueError(f"{key} must be float32, got {a.dtype}")
            if a.shape != want:
                raise ValueError(f"{key} has shape {a.shape}, the arch says {want}")
            if not np.isfinite(a).all():
                raise ValueError(f"{key} holds NaN or infinite values")
            (weights if key[0] == "w" else biases).append(np.ascontiguousarray(a))
    extra = [k for k in arrays if k[0] in "wb" and k[1:].isdigit() and int(k[1:]) >= len(layers)]
    if extra:
        raise ValueError(f"entries {sorted(extra)} do not match the {len(layers)}-layer arch")
    if layers[-1].out_channels != num_classes:
        raise ValueError(f"the last layer has {layers[-1].out_channels} outputs, num_classes is {num_classes}")
    acc = float(arrays["torch_float_accuracy"]) if "torch_float_accuracy" in arrays else float("nan")
    return ModelFile(name=_scalar(arrays, "name", "U"), dataset=dataset, layers=layers,
                     input_shape=tuple(int(v) for v in shape), full_scale=int(full_scale),
                     num_classes=int(num_classes), weights=tuple(weights), biases=tuple(biases),
                     torch_float_accuracy=acc, path=path)


def _core_model(mf: ModelFile, act_ranges: np.ndarray):
    try:
        return _core.Model(mf.input_shape, mf.full_scale, [l.core_fields() for l in mf.layers],
                           [w.ravel() for w in mf.weights], [b.ravel() for b in mf.biases],
                           np.ascontiguousarray(act_ranges, dtype=np.float64))
    except ValueError as exc:
        raise ValueError(f"{mf.path or mf.name}: {exc}") from exc


# ------------------------------------------------------------- calibration
def mse_clip(values: np.ndarray) -> np.ndarray:
    """Clip ranges (8,) for 1..8 unsigned bits minimising the quantization MSE of `values`.

    Candidates are max * k / 100 for k = 10..100; among equal errors the larger
    clip wins.  At most MSE_SAMPLES evenly spaced order statistics are used.
    An all-zero (or empty) input gets range 1.
    """
    v = np.sort(np.asarray(values, dtype=np.float64).ravel())
    if v.size == 0 or not v[-1] > 0:
        return np.ones(MAX_INT_BITS)
    if v.size > MSE_SAMPLES:
        v = v[np.linspace(0, v.size - 1, MSE_SAMPLES).round().astype(np.int64)]
    top = v[-1]
    clips = top * MSE_CANDIDATES[::-1] / 100.0  # largest first: ties keep the larger clip
    out = np.empty(MAX_INT_BITS)
    for a in range(1, MAX_INT_BITS + 1):
        qmax = 2.0 ** a - 1
        best, best_err = clips[0], np.inf
        for c in clips:
            s = c / qmax
            err = np.mean((v - np.clip(np.rint(v / s), 0, qmax) * s) ** 2)
            if err < best_err:
                best, best_err = c, err
        out[a - 1] = best
    return out


def calibrate(trace: list[np.ndarray], method: str = "mse") -> np.ndarray:
    """Activation ranges (L, 8) from float layer inputs recorded on calibration images."""
    if method not in CALIBRATIONS:
        raise ValueError(f"unknown calibration {method!r}; allowed: {', '.join(CALIBRATIONS)}")
    ranges = np.ones((len(trace), MAX_INT_BITS))
    for l, x in enumerate(trace):
        if method == "max":
            top = float(np.max(x, initial=0.0))
            ranges[l] = top if top > 0 else 1.0
        else:
            ranges[l] = mse_clip(x)
    return np.clip(ranges, 1e-12, 1e12)


# ------------------------------------------------------------------- model
class QuantModel:
    """A model on the core: float weights, calibrated activation ranges, data splits.

    Bits are per layer: weights and activations in 1..8, or 32 (float).
    ``abits[l]`` is the precision of layer l's *input* (layer 0: the image).
    """

    def __init__(self, mf: ModelFile, calibration: str = "mse",
                 calibration_images: np.ndarray | None = None):
        self.file = mf
        self.name, self.dataset = mf.name, mf.dataset
        self.layers = mf.layers
        self.num_layers = len(mf.layers)
        self.calibration = calibration
        probe = _core_model(mf, np.ones((self.num_layers, MAX_INT_BITS)))
        if calibration_images is None:
            calibration_images, _ = qdata.load_split(mf.dataset, "calibration")
        calibration_images = self._images(calibration_images, probe)
        float_bits = np.full(self.num_layers, FLOAT_BITS, dtype=np.int64)
        *_, trace = probe.forward(calibration_images, float_bits, float_bits, 0, True)
        #: float64 (L, 8): clip range of layer l's input at 1..8 bits.
        self.act_ranges = calibrate(trace, calibration)
        self.core = _core_model(mf, self.act_ranges)
        #: {name: int64 (L,)}: in_c, in_h, in_w, out_c, conv_h, conv_w (before pooling),
        #: out_h, out_w (after pooling), fan_in (the core's GEOMETRY_FIELDS).
        self.geometry = g = self.core.geometry()
        self.macs = g["out_c"] * g["conv_h"] * g["conv_w"] * g["fan_in"]
        self.num_weights = np.array([w.size for w in mf.weights], dtype=np.int64)
        self.in_elems = g["in_c"] * g["in_h"] * g["in_w"]
        self.out_elems = g["out_c"] * g["out_h"] * g["out_w"]
        self._splits: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def __repr__(self) -> str:
        return f"QuantModel({self.name!r}, {self.num_layers} layers, dataset={self.dataset!r})"

    @staticmethod
    def _images(images, core) -> np.ndarray:
        arr = np.asarray(images)
        if arr.dtype != np.uint8:
            raise ValueError(f"images must be uint8 pixels, got dtype {arr.dtype}")
        if arr.ndim < 1 or arr.size % core.input_size or (arr.ndim > 1 and arr[0].size != core.input_size):
            raise ValueError(f"images must hold rows of {core.input_size} pixels (C*H*W), got shape {arr.shape}")
        return np.ascontiguousarray(arr.reshape(-1, core.input_size))

    def split(self, name: str = "test") -> tuple[np.ndarray, np.ndarray]:
        """(images, labels) of the model's dataset split (cached)."""
        if name not in self._splits:
            self._splits[name] = qdata.load_split(self.dataset, name)
        return self._splits[name]

    def bits(self, wbits, abits) -> tuple[np.ndarray, np.ndarray]:
        """Validated (wbits, abits) int64 vectors (one entry per layer, 1..8 or 32)."""
        out = []
        for name, b in (("wbits", wbits), ("abits", abits)):
            arr = np.asarray(b)
            if arr.ndim == 0:
                arr = np.full(self.num_layers, arr)
            if arr.dtype == bool or arr.dtype.kind not in "iuf":
                raise ValueError(f"{name} must hold integers, got dtype {arr.dtype}")
            if arr.shape != (self.num_layers,):
                raise ValueError(f"{name} must have one entry per layer ({self.num_layers}), got shape {arr.shape}")
            if arr.dtype.kind == "f" and not (np.isfinite(arr).all() and (arr == np.round(arr)).all()):
                raise ValueError(f"{name} must hold integers")
            arr = np.ascontiguousarray(arr.astype(np.int64))
            _core.check_bits(name, arr)
            out.append(arr)
        return out[0], out[1]

    def forward(self, images, wbits, abits, threads: int = 0, trace: bool = False) -> dict:
        """logits (n, classes), acc (int64 last-layer accumulators, or None if it ran in float),
        and with trace=True every layer's input (float64, integers where quantized)."""
        w, a = self.bits(wbits, abits)
        logits, acc, last_int, layers = self.core.forward(self._images(images, self.core), w, a, threads, trace)
        return {"logits": logits, "acc": acc if last_int else None, "trace": layers if trace else None}

    def predict(self, images, wbits, abits, threads: int = 0) -> np.ndarray:
        return self.forward(images, wbits, abits, threads)["logits"].argmax(axis=1)

    def correct(self, wbits, abits, split: str = "test", images=None, labels=None,
                threads: int = 0) -> np.ndarray:
        """Correct predictions of m configurations: wbits/abits of shape (m, L) (or (L,))."""
        if images is None:
            images, labels = self.split(split)
        w, a = np.atleast_2d(np.asarray(wbits)), np.atleast_2d(np.asarray(abits))
        for name, arr in (("wbits", w), ("abits", a)):
            if arr.ndim != 2 or arr.shape[1] != self.num_layers:
                raise ValueError(f"{name} must have one entry per layer ({self.num_layers}) per configuration, "
                                 f"got shape {np.shape(wbits if name == 'wbits' else abits)}")
        if a.shape != w.shape:
            raise ValueError(f"wbits and abits must have the same shape, got {w.shape} and {a.shape}")
        rows = [self.bits(wr, ar) for wr, ar in zip(w, a)]
        ws = np.array([r[0] for r in rows], dtype=np.int64).reshape(-1, self.num_layers)
        as_ = np.array([r[1] for r in rows], dtype=np.int64).reshape(-1, self.num_layers)
        lab = np.ascontiguousarray(np.asarray(labels, dtype=np.int64))
        return self.core.correct(self._images(images, self.core), lab, ws, as_, threads)

    def accuracy(self, wbits, abits, split: str = "test", threads: int = 0) -> float:
        """Top-1 accuracy (fraction) of one configuration on a split."""
        images, labels = self.split(split)
        return float(self.correct(wbits, abits, images=images, labels=labels, threads=threads)[0]) / len(labels)

    def float_accuracy(self, split: str = "test") -> float:
        f = np.full(self.num_layers, FLOAT_BITS)
        return self.accuracy(f, f, split)

    def layer_table(self) -> list[dict]:
        """Per-layer description (kind, channels, kernel, stride, weights, MACs, feature map)."""
        rows = []
        for l, spec in enumerate(self.layers):
            g = {name: int(v[l]) for name, v in self.geometry.items()}
            rows.append(dict(index=l, kind=spec.kind, in_channels=spec.in_channels,
                             out_channels=spec.out_channels, kernel=spec.kernel, stride=spec.stride,
                             padding=spec.padding, pool=spec.pool, pool_size=spec.pool_size,
                             in_h=g["in_h"], in_w=g["in_w"], out_h=g["out_h"], out_w=g["out_w"],
                             weights=int(self.num_weights[l]), macs=int(self.macs[l])))
        return rows


#: The shipped models under archgym's unified workload names (``archgym.workloads.names("quant")``):
#: "quant/<model>", e.g. "quant/digits_cnn".
WORKLOAD_NAMES = {f"quant/{name}": name for name in MODELS}


def model_path(name: str) -> Path:
    name = WORKLOAD_NAMES.get(name, name)
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; allowed: {', '.join(MODELS)} (or a path to a .npz file)")
    return Path(str(resources.files("archgym.quant") / "data" / MODELS[name]))


@functools.lru_cache(maxsize=16)
def _load_cached(path: str, calibration: str) -> QuantModel:
    return QuantModel(read_model_file(path), calibration)


def load_model(name: str = "digits_cnn", calibration: str = "mse") -> QuantModel:
    """A shipped model by name (``digits_cnn``, ``fashion_lenet``, ``fashion_dscnn``, or the unified
    ``quant/digits_cnn``, ...)
    or a model file path.

    Cached per (file, calibration): the returned object is shared, treat it as read-only.
    Fashion-MNIST models raise :class:`archgym.quant.data.DatasetNotInstalledError`
    when the Debian package ``dataset-fashion-mnist`` is missing.
    """
    if calibration not in CALIBRATIONS:
        raise ValueError(f"unknown calibration {calibration!r}; allowed: {', '.join(CALIBRATIONS)}")
    name = WORKLOAD_NAMES.get(name, name)
    path = model_path(name) if name in MODELS else Path(name)
    if name not in MODELS and not path.is_file():
        raise ValueError(f"unknown model {name!r}: neither a shipped model ({', '.join(MODELS)}) nor a file")
    return _load_cached(str(path), calibration)
