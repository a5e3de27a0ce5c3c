#!/usr/bin/env python
"""Train the models that ship with archgym.quant (Quant-v0), with fixed seeds.

    python scripts/train_quant_models.py                 # both models, rewrite src/archgym/quant/data/
    python scripts/train_quant_models.py --only digits   # or --only fashion, --only dscnn
    python scripts/train_quant_models.py --quick --out DIR   # the digits model only (under a minute)
    python scripts/train_quant_models.py --out DIR       # write somewhere else
    python scripts/train_quant_models.py --check         # retrain into a temp dir, compare, exit 1 if different

Writes into ``src/archgym/quant/data/``:

``digits.npz``
    scikit-learn's digits (1,797 8x8 images, uint8 pixels 0..16) and its fixed
    split: ``test`` (540 images, the held-out evaluation split, never used for
    training or calibration), ``train`` (the other 1,257) and ``calibration``
    (the first 256 of ``train``).  Shipped so that the package never needs
    scikit-learn at run time.
``digits_cnn.npz``
    the default model: conv 1->16 3x3 + ReLU + maxpool 2, conv 16->32 3x3 +
    ReLU, depthwise 3x3 + ReLU + avgpool 2, linear 128->64 + ReLU, linear
    64->10 (five quantizable layers), trained 40 epochs with Adam and a cosine
    schedule on ``train``.
``fashion_lenet.npz``
    a LeNet-style CNN for Fashion-MNIST (conv 1->6 5x5 + ReLU + maxpool 2,
    conv 6->16 5x5 + ReLU + maxpool 2, linear 256->120, 120->84, 84->10),
    trained 8 epochs on the 60,000 training images of the Debian package
    ``dataset-fashion-mnist`` (``apt-get install -y dataset-fashion-mnist``).
    The images are not shipped: the package reads them from
    /usr/share/datasets/fashion-mnist/ at run time (held-out split = the
    10,000 official test images; calibration = the first 1,000 training images).

``fashion_dscnn.npz``
    a deeper Fashion-MNIST CNN in the efficient-model style (MobileNet-like):
    a 3x3 stride-2 stem conv 1->8, five depthwise-separable blocks (depthwise
    3x3 + pointwise 1x1, each followed by ReLU; channels 8->16->32->32->64->64,
    stride 2 in the depthwise convs of blocks 2 and 4), a 4x4 global average
    pool and a linear 64->10: twelve quantizable layers, about 10,000
    weights.  Trained with batch normalisation after every conv, folded into
    the conv's weights and bias before saving (the file holds plain
    conv/dwconv/linear layers); DSCNN_EPOCHS epochs on the 60,000 training
    images of the Debian package, one CPU thread (5 to 10 minutes on a
    loaded 2-core machine; ``--check`` reproduced it bit for bit).

Model files hold the float32 weights (``w0``, ``b0``, ...: torch's layouts,
conv (out, in/groups, kh, kw), linear (out, in)), the architecture as JSON
(``arch``), the input description and the float accuracy torch measured on
the held-out split; :mod:`archgym.quant.models` documents and validates the
format.

Determinism: every random choice comes from fixed seeds (numpy's
``default_rng`` for the split, ``torch.manual_seed`` for initialisation and
batch order), torch runs on one CPU thread with
``torch.use_deterministic_algorithms(True)``.  On the same torch build and
CPU the files come out bit-for-bit identical; another torch version or CPU
may change the last bits of the float32 weights (``--check`` compares with a
tolerance and the accuracies exactly).

This script needs torch and scikit-learn; archgym itself needs neither.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

#: The shipped files this script rewrites: the repository's copy (commit them).
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "src" / "archgym" / "quant" / "data"
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
FORMAT = "archgym-quant-model/1"

DIGITS_SEED = 1
DIGITS_TEST = 540
DIGITS_CALIBRATION = 256
DIGITS_EPOCHS = 40
DIGITS_BATCH = 32
DIGITS_LR = 3e-3

FASHION_SEED = 0
FASHION_EPOCHS = 8
FASHION_BATCH = 64
FASHION_LR = 2e-3

DSCNN_SEED = 2
DSCNN_EPOCHS = 6
DSCNN_BATCH = 128
DSCNN_LR = 4e-3

#: Architectures as archgym.quant reads them (one dict per quantizable layer).
DIGITS_ARCH = [
    dict(kind="conv", in_channels=1, out_channels=16, kernel=3, stride=1, padding=1, relu=True, pool="max", pool_size=2),
    dict(kind="conv", in_channels=16, out_channels=32, kernel=3, stride=1, padding=1, relu=True, pool=None, pool_size=1),
    dict(kind="dwconv", in_channels=32, out_channels=32, kernel=3, stride=1, padding=1, relu=True, pool="avg", pool_size=2),
    dict(kind="linear", in_channels=128, out_channels=64, kernel=1, stride=1, padding=0, relu=True, pool=None, pool_size=1),
    dict(kind="linear", in_channels=64, out_channels=10, kernel=1, stride=1, padding=0, relu=False, pool=None, pool_size=1),
]
LENET_ARCH = [
    dict(kind="conv", in_channels=1, out_channels=6, kernel=5, stride=1, padding=0, relu=True, pool="max", pool_size=2),
    dict(kind="conv", in_channels=6, out_channels=16, kernel=5, stride=1, padding=0, relu=True, pool="max", pool_size=2),
    dict(kind="linear", in_channels=256, out_channels=120, kernel=1, stride=1, padding=0, relu=True, pool=None, pool_size=1),
    dict(kind="linear", in_channels=120, out_channels=84, kernel=1, stride=1, padding=0, relu=True, pool=None, pool_size=1),
    dict(kind="linear", in_channels=84, out_channels=10, kernel=1, stride=1, padding=0, relu=False, pool=None, pool_size=1),
]



def _layer(kind, cin, cout, kernel=1, stride=1, padding=0, relu=True, pool=None, pool_size=1):
    return dict(kind=kind, in_channels=cin, out_channels=cout, kernel=kernel, stride=stride, padding=padding,
                relu=relu, pool=pool, pool_size=pool_size)


def _separable(cin, cout, stride, pool=None, pool_size=1):
    """A depthwise-separable block: depthwise 3x3 (stride) + ReLU, pointwise 1x1 + ReLU."""
    return [_layer("dwconv", cin, cin, 3, stride, 1), _layer("conv", cin, cout, pool=pool, pool_size=pool_size)]


DSCNN_ARCH = [
    _layer("conv", 1, 8, 3, 2, 1),               # 28x28 -> 14x14
    *_separable(8, 16, 1),                       # 14x14
    *_separable(16, 32, 2),                      # -> 7x7
    *_separable(32, 32, 1),
    *_separable(32, 64, 2),                      # -> 4x4
    *_separable(64, 64, 1, pool="avg", pool_size=4),  # global average pool -> 64
    _layer("linear", 64, 10, relu=False),
]


def _torch():
    import torch

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    return torch


def build_torch_model(arch, batchnorm: bool = False):
    """The torch Sequential for an architecture list (same layer order as the file);
    batchnorm: a BatchNorm2d after every conv (which then has no bias), for training."""
    torch = _torch()
    nn = torch.nn
    mods = []
    for i, layer in enumerate(arch):
        if layer["kind"] == "linear":
            if i == 0 or arch[i - 1]["kind"] != "linear":
                mods.append(nn.Flatten())
            mods.append(nn.Linear(layer["in_channels"], layer["out_channels"]))
        else:
            groups = layer["in_channels"] if layer["kind"] == "dwconv" else 1
            mods.append(nn.Conv2d(layer["in_channels"], layer["out_channels"], layer["kernel"],
                                  stride=layer["stride"], padding=layer["padding"], groups=groups,
                                  bias=not batchnorm))
            if batchnorm:
                mods.append(nn.BatchNorm2d(layer["out_channels"]))
        if layer["relu"]:
            mods.append(nn.ReLU())
        if layer["pool"] == "max":
            mods.append(nn.MaxPool2d(layer["pool_size"]))
        elif layer["pool"] == "avg":
            mods.append(nn.AvgPool2d(layer["pool_size"]))
    return nn.Sequential(*mods)


def _weights(model):
    """w<i>, b<i> of the quantizable layers; a BatchNorm2d after a conv is folded into it
    (w * gamma / sqrt(var + eps), beta + (b - mean) * gamma / sqrt(var + eps), in float64)."""
    torch = _torch()
    out = {}
    mods = list(model)
    i = 0
    for j, m in enumerate(mods):
        if not isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
            continue
        w = m.weight.detach().numpy().astype(np.float64)
        b = np.zeros(w.shape[0]) if m.bias is None else m.bias.detach().numpy().astype(np.float64)
        bn = mods[j + 1] if j + 1 < len(mods) else None
        if isinstance(bn, torch.nn.BatchNorm2d):
            g = bn.weight.detach().numpy().astype(np.float64) / np.sqrt(bn.running_var.numpy() + bn.eps)
            w = w * g[:, None, None, None]
            b = bn.bias.detach().numpy().astype(np.float64) + (b - bn.running_mean.numpy()) * g
        out[f"w{i}"] = w.astype(np.float32)
        out[f"b{i}"] = b.astype(np.float32)
        i += 1
    return out


def plain_model(arch, weights):
    """The torch model (no batch norm) holding a file's weights: what archgym.quant runs in float."""
    torch = _torch()
    model = build_torch_model(arch)
    layers = [m for m in model if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    with torch.no_grad():
        for i, m in enumerate(layers):
            m.weight.copy_(torch.from_numpy(weights[f"w{i}"]))
            m.bias.copy_(torch.from_numpy(weights[f"b{i}"]))
    return model.eval()


def train_model(arch, x_train, y_train, *, seed, epochs, batch, lr, batchnorm=False, log=print):
    """Adam + cosine schedule, cross-entropy; x in [0, 1] float32 (N, C, H, W)."""
    torch = _torch()
    torch.manual_seed(seed)
    model = build_torch_model(arch, batchnorm)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    gen = torch.Generator().manual_seed(seed)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train.astype(np.int64))
    n = len(yt)
    for epoch in range(epochs):
        t0 = time.perf_counter()
        perm = torch.randperm(n, generator=gen)
        total = 0.0
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        sched.step()
        log(f"  epoch {epoch + 1}/{epochs}: loss {total / n:.4f} ({time.perf_counter() - t0:.1f} s)")
    model.eval()
    return model


def accuracy(model, x, y) -> float:
    torch = _torch()
    with torch.no_grad():
        pred = model(torch.from_numpy(x)).argmax(1).numpy()
    return float((pred == y).mean())


def _save_model(path: Path, name: str, dataset: str, arch, input_shape, full_scale, weights,
                acc, settings) -> None:
    np.savez_compressed(
        path, format=np.array(FORMAT), name=np.array(name), dataset=np.array(dataset),
        arch=np.array(json.dumps(arch)), input_shape=np.array(input_shape, dtype=np.int64),
        input_full_scale=np.array(full_scale, dtype=np.int64), num_classes=np.array(10, dtype=np.int64),
        torch_float_accuracy=np.array(acc, dtype=np.float64), settings=np.array(json.dumps(settings)),
        **weights)


# ------------------------------------------------------------------ digits
def digits(out: Path, log=print) -> dict:
    from sklearn.datasets import load_digits

    images, labels = load_digits(return_X_y=True)
    images = images.astype(np.uint8)  # integer pixels 0..16
    labels = labels.astype(np.uint8)
    order = np.random.default_rng(DIGITS_SEED).permutation(len(labels))
    test, train = np.sort(order[:DIGITS_TEST]), order[DIGITS_TEST:]
    calibration = np.sort(train[:DIGITS_CALIBRATION])
    train = np.sort(train)
    np.savez_compressed(out / "digits.npz", images=images, labels=labels,
                        train=train.astype(np.int64), calibration=calibration.astype(np.int64),
                        test=test.astype(np.int64), full_scale=np.array(16, dtype=np.int64),
                        seed=np.array(DIGITS_SEED, dtype=np.int64))
    x = (images.astype(np.float32) / 16.0).reshape(-1, 1, 8, 8)
    log(f"digits: {len(train)} train, {len(calibration)} calibration (of train), {len(test)} test")
    model = train_model(DIGITS_ARCH, x[train], labels[train], seed=DIGITS_SEED, epochs=DIGITS_EPOCHS,
                        batch=DIGITS_BATCH, lr=DIGITS_LR, log=log)
    acc = accuracy(model, x[test], labels[test])
    log(f"digits CNN: float accuracy on the held-out split {100 * acc:.2f}%")
    settings = dict(seed=DIGITS_SEED, epochs=DIGITS_EPOCHS, batch=DIGITS_BATCH, lr=DIGITS_LR,
                    optimizer="Adam+cosine", torch=_torch().__version__)
    _save_model(out / "digits_cnn.npz", "digits_cnn", "digits", DIGITS_ARCH, (1, 8, 8), 16,
                _weights(model), acc, settings)
    return {"digits_cnn": acc}


# ------------------------------------------------------------------ fashion
def _read_idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _fashion_data(log=print):
    """(x_train, y_train, x_test, y_test) of the Debian package's files, x in [0, 1] (N, 1, 28, 28)."""
    if not FASHION_DIR.is_dir():
        raise SystemExit(f"{FASHION_DIR} not found: apt-get install -y dataset-fashion-mnist")
    xtr = _read_idx(FASHION_DIR / "train-images-idx3-ubyte.gz")
    ytr = _read_idx(FASHION_DIR / "train-labels-idx1-ubyte.gz")
    xte = _read_idx(FASHION_DIR / "t10k-images-idx3-ubyte.gz")
    yte = _read_idx(FASHION_DIR / "t10k-labels-idx1-ubyte.gz")
    f = lambda a: (a.astype(np.float32) / 255.0).reshape(-1, 1, 28, 28)  # noqa: E731
    log(f"fashion-mnist: {len(ytr)} train, {len(yte)} test")
    return f(xtr), ytr, f(xte), yte


def fashion(out: Path, log=print) -> dict:
    xtr, ytr, xte, yte = _fashion_data(log)
    model = train_model(LENET_ARCH, xtr, ytr, seed=FASHION_SEED, epochs=FASHION_EPOCHS,
                        batch=FASHION_BATCH, lr=FASHION_LR, log=log)
    acc = accuracy(model, xte, yte)
    log(f"fashion LeNet: float accuracy on the test split {100 * acc:.2f}%")
    settings = dict(seed=FASHION_SEED, epochs=FASHION_EPOCHS, batch=FASHION_BATCH, lr=FASHION_LR,
                    optimizer="Adam+cosine", torch=_torch().__version__)
    _save_model(out / "fashion_lenet.npz", "fashion_lenet", "fashion_mnist", LENET_ARCH, (1, 28, 28),
                255, _weights(model), acc, settings)
    return {"fashion_lenet": acc}


def dscnn(out: Path, log=print) -> dict:
    xtr, ytr, xte, yte = _fashion_data(log)
    trained = train_model(DSCNN_ARCH, xtr, ytr, seed=DSCNN_SEED, epochs=DSCNN_EPOCHS, batch=DSCNN_BATCH,
                          lr=DSCNN_LR, batchnorm=True, log=log)
    weights = _weights(trained)
    acc = accuracy(plain_model(DSCNN_ARCH, weights), xte, yte)  # the folded weights, as shipped
    log(f"fashion DS-CNN: float accuracy on the test split {100 * acc:.2f}% "
        f"({sum(w.size for k, w in weights.items() if k[0] == 'w'):,} weights)")
    settings = dict(seed=DSCNN_SEED, epochs=DSCNN_EPOCHS, batch=DSCNN_BATCH, lr=DSCNN_LR,
                    optimizer="Adam+cosine", batchnorm="folded", torch=_torch().__version__)
    _save_model(out / "fashion_dscnn.npz", "fashion_dscnn", "fashion_mnist", DSCNN_ARCH, (1, 28, 28),
                255, weights, acc, settings)
    return {"fashion_dscnn": acc}


def _compare(a: Path, b: Path) -> list[str]:
    problems = []
    with np.load(a) as fa, np.load(b) as fb:
        if set(fa.files) != set(fb.files):
            return [f"{a.name}: keys differ"]
        for k in fa.files:
            x, y = fa[k], fb[k]
            if k == "settings":
                continue
            if x.dtype.kind == "f" and x.shape == y.shape:
                if not np.allclose(x, y, atol=1e-4, rtol=0):
                    problems.append(f"{a.name}[{k}] differs (max {np.abs(x - y).max():.3g})")
            elif not np.array_equal(x, y):
                problems.append(f"{a.name}[{k}] differs")
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: %(default)s)")
    ap.add_argument("--only", choices=("digits", "fashion", "dscnn"))
    ap.add_argument("--quick", action="store_true",
                    help="the digits model only (the Fashion-MNIST models take minutes)")
    ap.add_argument("--check", action="store_true",
                    help="retrain into a temporary folder and compare with --out")
    args = ap.parse_args(argv)
    if args.quick:
        if args.only in ("fashion", "dscnn"):
            ap.error(f"--quick trains the digits model only; it cannot be combined with --only {args.only}")
        args.only = "digits"
    jobs = [j for j in (digits, fashion, dscnn) if args.only in (None, j.__name__)]
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            for job in jobs:
                job(Path(tmp))
            problems = []
            for p in sorted(Path(tmp).glob("*.npz")):
                problems += _compare(p, args.out / p.name)
        print("\n".join(problems) if problems else "shipped files reproduced")
        return 1 if problems else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for job in jobs:
        job(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
