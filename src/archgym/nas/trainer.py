"""Plain-numpy training of the NAS architectures, deterministic for a seed.

The protocol (the same for the shipped table and for live mode):

* float64 throughout; inputs as in :mod:`archgym.nas.data`.
* Layers: dense ``x @ W + b``; convolution stride 1 with "same" zero padding
  as one matrix product over im2col patches (NHWC; W is (k*k*C, K), rows
  ordered kernel row, kernel column, input channel);
  2x2 max-pool stride 2 (the gradient goes to the first maximum of a window;
  an odd last row or column is dropped, as PyTorch's ``MaxPool2d`` does);
  ReLU or tanh.
* Initialisation from ``numpy.random.default_rng(seed)``, layer by layer in
  network order: weights uniform in +-sqrt(6 / fan_in) before a ReLU (He),
  +-sqrt(6 / (fan_in + fan_out)) before a tanh and for the output layer
  (Glorot); biases 0.
* Loss: mean softmax cross-entropy (classification), mean squared error on
  the standardised target (regression).
* Adam (beta1 0.9, beta2 0.999, eps 1e-8, no weight decay) at the space's
  learning rate, mini-batches of the space's batch size, ``epochs`` passes;
  each epoch visits ``train`` in a fresh permutation drawn from the same
  generator after the initialisation (the last batch may be smaller).
* Metrics after the last epoch, on every split: accuracy (fraction of argmax
  predictions equal to the label) or R^2 = 1 - SS_res / SS_tot.

Same seed, same architecture, same numpy/BLAS: bit-identical results (every
operation is a fixed sequence of numpy calls; matrix products do not depend
on timing).  Another BLAS build or CPU can change the last bits of float64
sums, which can move a metric by one held-out example at most in practice.

Threads: the matrices are small (a batch of 32 rows), and a multi-threaded
BLAS on them is no faster on an idle machine and up to 10x slower on a busy
one (measured here: 0.75 s vs 8.9 s for ``mlp 128-128-128``).  When
``threadpoolctl`` is installed (scikit-learn brings it), training runs with
one BLAS thread; without it, set ``OPENBLAS_NUM_THREADS=1`` before starting
Python when running several trainings (or environments) in parallel.  The
thread count does not change the results (each output element of a matrix
product is computed by one thread in a fixed order).
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

import numpy as np

from archgym.nas.data import SPLITS, Task
from archgym.nas.spaces import Arch, TrainConfig


# ----------------------------------------------------------------- layers
class _Dense:
    def __init__(self, fan_in: int, fan_out: int, limit: float, rng: np.random.Generator):
        self.W = rng.uniform(-limit, limit, size=(fan_in, fan_out))
        self.b = np.zeros(fan_out)

    def params(self):
        return [self.W, self.b]

    def forward(self, x, keep: bool):
        if keep:
            self.x = x
        return x @ self.W + self.b

    def backward(self, d, need_dx: bool):
        grads = [self.x.T @ d, d.sum(axis=0)]
        return (d @ self.W.T if need_dx else None), grads


class _Conv:
    """Stride-1 'same' convolution over NHWC inputs, as one im2col matrix product."""

    def __init__(self, cin: int, cout: int, k: int, limit: float, rng: np.random.Generator):
        self.k = k
        self.W = rng.uniform(-limit, limit, size=(k * k * cin, cout))  # rows ordered (di, dj, c)
        self.b = np.zeros(cout)

    def params(self):
        return [self.W, self.b]

    def forward(self, x, keep: bool):
        n, h, w, c = x.shape
        k, p = self.k, self.k // 2
        xp = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))
        cols = np.concatenate([xp[:, di:di + h, dj:dj + w, :] for di in range(k) for dj in range(k)],
                              axis=3).reshape(n * h * w, k * k * c)
        if keep:
            self.cols, self.shape = cols, x.shape
        return (cols @ self.W + self.b).reshape(n, h, w, -1)

    def backward(self, d, need_dx: bool):
        n, h, w, c = self.shape
        d2 = d.reshape(n * h * w, -1)
        grads = [self.cols.T @ d2, d2.sum(axis=0)]
        if not need_dx:
            return None, grads
        k, p = self.k, self.k // 2
        dcols = (d2 @ self.W.T).reshape(n, h, w, k * k, c)
        dxp = np.zeros((n, h + 2 * p, w + 2 * p, c))
        for di in range(k):
            for dj in range(k):
                dxp[:, di:di + h, dj:dj + w, :] += dcols[:, :, :, di * k + dj, :]
        return dxp[:, p:p + h, p:p + w, :], grads


class _MaxPool2:
    def params(self):
        return []

    def forward(self, x, keep: bool):
        n, h, w, c = x.shape
        h2, w2 = h // 2, w // 2
        x = x[:, :2 * h2, :2 * w2, :]  # an odd last row or column is dropped
        win = x.reshape(n, h2, 2, w2, 2, c).transpose(0, 1, 3, 5, 2, 4).reshape(n, h2, w2, c, 4)
        arg = win.argmax(axis=-1)
        if keep:
            self.arg, self.shape = arg, (n, h, w, c)
        return np.take_along_axis(win, arg[..., None], axis=-1)[..., 0]

    def backward(self, d, need_dx: bool):
        n, h, w, c = self.shape
        h2, w2 = h // 2, w // 2
        win = np.zeros((n, h2, w2, c, 4))
        np.put_along_axis(win, self.arg[..., None], d[..., None], axis=-1)
        dx = np.zeros((n, h, w, c))
        dx[:, :2 * h2, :2 * w2, :] = win.reshape(n, h2, w2, c, 2, 2).transpose(0, 1, 4, 2, 5, 3).reshape(
            n, 2 * h2, 2 * w2, c)
        return dx, []


class _Flatten:
    def params(self):
        return []

    def forward(self, x, keep: bool):
        if keep:
            self.shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, d, need_dx: bool):
        return d.reshape(self.shape), []


class _Act:
    def __init__(self, kind: str):
        self.kind = kind

    def params(self):
        return []

    def forward(self, x, keep: bool):
        y = np.maximum(x, 0.0) if self.kind == "relu" else np.tanh(x)
        if keep:
            self.y = y
        return y

    def backward(self, d, need_dx: bool):
        if self.kind == "relu":
            return d * (self.y > 0), []
        return d * (1.0 - self.y * self.y), []


def _he(fan_in: int) -> float:
    return float(np.sqrt(6.0 / fan_in))


def _glorot(fan_in: int, fan_out: int) -> float:
    return float(np.sqrt(6.0 / (fan_in + fan_out)))


def build_network(arch: Arch, input_shape: tuple[int, ...], num_outputs: int,
                  seed: int) -> tuple[list, np.random.Generator]:
    """The layers of ``arch``, initialised from ``default_rng(seed)`` (and that generator)."""
    rng = np.random.default_rng(seed)
    layers: list = []
    if arch.family == "cnn":
        h, w, c = input_shape
        for i, (ch, k) in enumerate(arch.convs):
            layers += [_Conv(c, ch, k, _he(c * k * k), rng), _Act("relu")]
            c = ch
            if arch.pools_after(i):
                layers.append(_MaxPool2())
                h, w = h // 2, w // 2
        layers.append(_Flatten())
        width = h * w * c
    else:
        width = int(np.prod(input_shape))
        if len(input_shape) > 1:
            layers.append(_Flatten())
    for units in arch.hidden:
        limit = _he(width) if arch.activation == "relu" else _glorot(width, units)
        layers += [_Dense(width, units, limit, rng), _Act(arch.activation)]
        width = units
    layers.append(_Dense(width, num_outputs, _glorot(width, num_outputs), rng))
    return layers, rng


def _forward(layers, x, keep: bool):
    for layer in layers:
        x = layer.forward(x, keep)
    return x


def predict(layers, x: np.ndarray, batch: int = 512) -> np.ndarray:
    """Network outputs (logits or standardised predictions) for x, in batches."""
    return np.concatenate([_forward(layers, x[i:i + batch], False) for i in range(0, len(x), batch)])


def metric(kind: str, out: np.ndarray, y: np.ndarray) -> float:
    """Accuracy (classification) or R^2 (regression) of outputs against targets."""
    if kind == "classification":
        return float(np.mean(out.argmax(axis=1) == y))
    pred = out[:, 0]
    ss_res = float(np.sum((y - pred) ** 2))
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    return 1.0 - ss_res / ss_tot


def single_thread_blas():
    """A context that limits BLAS to one thread (if threadpoolctl is installed)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


@dataclass(frozen=True)
class TrainResult:
    """Metrics per split after training, the final training loss and the wall time."""

    metrics: dict  # split -> accuracy or R^2
    final_loss: float
    train_time: float  # seconds (wall clock: not deterministic)
    epochs: int
    seed: int


def train(arch: Arch, task: Task, config: TrainConfig, seed: int | None = None,
          epochs: int | None = None) -> TrainResult:
    """Train ``arch`` on ``task.x['train']`` with the documented protocol and measure it."""
    seed = config.seed if seed is None else int(seed)
    epochs = config.epochs if epochs is None else int(epochs)
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    with single_thread_blas():
        return _train(arch, task, config, seed, epochs)


def _train(arch: Arch, task: Task, config: TrainConfig, seed: int, epochs: int) -> TrainResult:
    start = time.perf_counter()
    layers, rng = build_network(arch, task.input_shape, task.num_outputs, seed)
    params = [p for layer in layers for p in layer.params()]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    b1, b2, eps, lr = 0.9, 0.999, 1e-8, config.lr
    x, y = task.x["train"], task.y["train"]
    n, bs = len(x), config.batch_size
    classify = task.kind == "classification"
    first = min(j for j, layer in enumerate(layers) if layer.params())  # no dx below it
    t, loss = 0, float("nan")
    for _ in range(epochs):
        order = rng.permutation(n)
        total = 0.0
        for i in range(0, n, bs):
            idx = order[i:i + bs]
            out = _forward(layers, x[idx], True)
            nb = len(idx)
            if classify:
                z = out - out.max(axis=1, keepdims=True)
                e = np.exp(z)
                s = e.sum(axis=1, keepdims=True)
                yb = y[idx]
                total += float(np.sum(np.log(s[:, 0]) - z[np.arange(nb), yb]))
                d = e / s
                d[np.arange(nb), yb] -= 1.0
                d /= nb
            else:
                diff = out[:, 0] - y[idx]
                total += float(np.sum(diff * diff))
                d = (2.0 / nb) * diff[:, None]
            grads = []
            for j in range(len(layers) - 1, first - 1, -1):
                d, g = layers[j].backward(d, need_dx=j > first)
                grads = g + grads
            t += 1
            c1, c2 = 1.0 - b1 ** t, 1.0 - b2 ** t
            for p, g, mp, vp in zip(params, grads, m, v):
                mp *= b1
                mp += (1.0 - b1) * g
                vp *= b2
                vp += (1.0 - b2) * (g * g)
                p -= lr * (mp / c1) / (np.sqrt(vp / c2) + eps)
        loss = total / n
    elapsed = time.perf_counter() - start
    metrics = {s: metric(task.kind, predict(layers, task.x[s]), task.y[s]) for s in SPLITS}
    return TrainResult(metrics, loss, elapsed, epochs, seed)
