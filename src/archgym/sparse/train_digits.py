"""Regenerate ``data/mlp_digits.npz``: a small MLP trained on scikit-learn's digits.

    python -m archgym.sparse.train_digits            # rewrite src/archgym/sparse/data/mlp_digits.npz
    python -m archgym.sparse.train_digits --out F    # write somewhere else
    python -m archgym.sparse.train_digits --check    # exit 1 if the shipped file differs

The pruned-weight workloads of :mod:`archgym.sparse.matrices` (``pruned/mlp_digits_*``)
and the layers of ``SparseFormat-Network-v0`` are magnitude-pruned copies of these weights.

The model is a 64-256-128-10 multilayer perceptron with ReLU (weights stored
``(out, in)``, so a layer computes ``W @ x + b`` on column vectors), trained in float64
with plain NumPy (mini-batch Adam, softmax cross-entropy, He initialisation) on the 8x8
digits images of ``sklearn.datasets.load_digits`` (bundled with scikit-learn: nothing is
downloaded), pixels scaled by 1/16.  Everything random is drawn from
``np.random.default_rng(SEED)``; the split is 1,437 training / 360 test images.

The file holds the float32 weights and biases, the 360 held-out test images (uint8
pixels 0..16, one row per image) and their labels, and the training settings and
accuracies.  Only this script needs scikit-learn; loading the shipped file needs numpy.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

SEED = 20210318
SIZES = (64, 256, 128, 10)
EPOCHS = 40
BATCH = 32
LEARNING_RATE = 1e-3
N_TEST = 360
DEFAULT_OUT = Path(__file__).resolve().parent / "data" / "mlp_digits.npz"
#: --check tolerance on weights: BLAS builds may order float64 sums differently.
CHECK_ATOL = 1e-4


def _forward(params, x):
    """Activations of every layer for inputs x (batch, 64): list [x, h1, h2, logits]."""
    acts = [x]
    for i, (w, b) in enumerate(params):
        z = acts[-1] @ w.T + b
        acts.append(np.maximum(z, 0.0) if i < len(params) - 1 else z)
    return acts


def train(seed: int = SEED, epochs: int = EPOCHS) -> dict[str, np.ndarray]:
    """Train the MLP and return the arrays of the shipped file."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:  # pragma: no cover - exercised only without scikit-learn
        raise ImportError("regenerating the digits MLP needs scikit-learn (pip install scikit-learn); "
                          "loading the shipped weights does not") from exc
    images, labels = load_digits(return_X_y=True)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(labels))
    test, tr = order[:N_TEST], order[N_TEST:]
    x_all = images / 16.0
    params = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        params.append([rng.normal(0.0, np.sqrt(2.0 / fan_in), (fan_out, fan_in)), np.zeros(fan_out)])
    m = [[np.zeros_like(p) for p in layer] for layer in params]
    v = [[np.zeros_like(p) for p in layer] for layer in params]
    beta1, beta2, eps, t = 0.9, 0.999, 1e-8, 0
    for _ in range(epochs):
        perm = tr[rng.permutation(len(tr))]
        for start in range(0, len(perm), BATCH):
            idx = perm[start:start + BATCH]
            acts = _forward(params, x_all[idx])
            logits = acts[-1]
            p = np.exp(logits - logits.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            grad = p
            grad[np.arange(len(idx)), labels[idx]] -= 1.0
            grad /= len(idx)
            t += 1
            for i in range(len(params) - 1, -1, -1):
                w, b = params[i]
                gw, gb = grad.T @ acts[i], grad.sum(axis=0)
                if i > 0:
                    grad = (grad @ w) * (acts[i] > 0)
                for j, g in enumerate((gw, gb)):
                    m[i][j] = beta1 * m[i][j] + (1 - beta1) * g
                    v[i][j] = beta2 * v[i][j] + (1 - beta2) * g * g
                    mhat = m[i][j] / (1 - beta1 ** t)
                    vhat = v[i][j] / (1 - beta2 ** t)
                    params[i][j] = params[i][j] - LEARNING_RATE * mhat / (np.sqrt(vhat) + eps)
    out: dict[str, np.ndarray] = {}
    for i, (w, b) in enumerate(params, start=1):
        out[f"W{i}"] = w.astype(np.float32)
        out[f"b{i}"] = b.astype(np.float32)
    shipped = [(out[f"W{i}"].astype(np.float64), out[f"b{i}"].astype(np.float64)) for i in (1, 2, 3)]

    def accuracy(rows):
        return float((_forward(shipped, x_all[rows])[-1].argmax(axis=1) == labels[rows]).mean())

    out["test_images"] = images[test].astype(np.uint8)
    out["test_labels"] = labels[test].astype(np.uint8)
    out["train_accuracy"] = np.float64(accuracy(tr))
    out["test_accuracy"] = np.float64(accuracy(test))
    out["seed"] = np.int64(seed)
    out["epochs"] = np.int64(epochs)
    out["sizes"] = np.array(SIZES, dtype=np.int64)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output .npz (default: the shipped file)")
    parser.add_argument("--check", action="store_true", help="compare with the shipped file instead of writing")
    args = parser.parse_args(argv)
    arrays = train()
    if args.check:
        with np.load(args.out) as shipped:
            worst = max(float(np.max(np.abs(arrays[k].astype(np.float64) - shipped[k]))) for k in arrays)
        ok = worst <= CHECK_ATOL
        print(f"{args.out}: max abs difference {worst:.3g} ({'ok' if ok else 'STALE'}, tolerance {CHECK_ATOL})")
        return 0 if ok else 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **arrays)
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes): train accuracy "
          f"{float(arrays['train_accuracy']):.4f}, test accuracy {float(arrays['test_accuracy']):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
