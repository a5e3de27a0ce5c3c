"""The deeper Fashion-MNIST model (fashion_dscnn: 12 depthwise-separable layers) on the core:
its shape, bit-exactness against the numpy reference, every integer layer against torch's
convolutions, its float path against torch, and its env ids.

Runs from the images shipped with the package (no Debian package needed), except the float
accuracy over the 10,000 test images.
"""

from __future__ import annotations

import os

import gymnasium as gym
import numpy as np
import pytest

import archgym  # noqa: F401  (registers the environments)
from archgym import quant as q
from archgym.quant import reference as ref
from archgym.quant.data import fashion_mnist_available

from conftest import in_ci
from test_quant_core import _assert_exact

NAME = "fashion_dscnn"


@pytest.fixture(scope="module")
def model():
    return q.load_model(NAME)


@pytest.fixture(scope="module")
def images(model):
    return model.split("test")[0][:12]  # the shipped test images


def test_shape_is_depthwise_separable(model):
    kinds = [(s.kind, s.kernel, s.stride) for s in model.layers]
    assert len(kinds) == 12
    assert kinds[0] == ("conv", 3, 2) and kinds[-1] == ("linear", 1, 1)
    blocks = kinds[1:-1]
    assert [k for k, *_ in blocks[0::2]] == ["dwconv"] * 5
    assert blocks[1::2] == [("conv", 1, 1)] * 5  # pointwise
    assert [s for _, _, s in blocks[0::2]] == [1, 2, 1, 2, 1]
    g = model.geometry
    assert list(g["out_h"]) == [14, 14, 14, 7, 7, 7, 7, 4, 4, 4, 1, 1]
    assert int(model.num_weights.sum()) == 9888
    path = q.models.model_path(NAME)
    assert os.path.getsize(path) < 100_000


def test_bit_exact_against_numpy_reference(model, images):
    rng = np.random.default_rng(7)
    L = model.num_layers
    for b in (8, 4, 2):
        _assert_exact(model, images, np.full(L, b), np.full(L, b))
    for _ in range(6):
        _assert_exact(model, images, rng.integers(1, 9, L), rng.integers(1, 9, L))
    w = np.where(rng.random(L) < 0.4, 32, rng.integers(1, 9, L))
    _assert_exact(model, images, w, np.where(rng.random(L) < 0.4, 32, rng.integers(1, 9, L)))


def _torch_layer(torch, spec, x, w):
    """sum_k w x of one layer with torch's own conv/linear (float64: exact on these integers)."""
    if spec.kind == "linear":
        return torch.nn.functional.linear(x.reshape(len(x), -1), w)
    groups = spec.in_channels if spec.kind == "dwconv" else 1
    return torch.nn.functional.conv2d(x, w, stride=spec.stride, padding=spec.padding, groups=groups)


def test_every_integer_layer_against_torch(model, images):
    """Layer by layer: torch's convolution of the core's integer input with the integer weights,
    + the integer bias, ReLU, pooling sum, then the documented requantization, equals the core's
    next integer input (and the last layer's accumulators)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    L = model.num_layers
    mf = model.file
    for _ in range(3):
        wb, ab = rng.integers(2, 9, L), rng.integers(2, 9, L)
        core = model.forward(images, wb, ab, trace=True)
        for l, spec in enumerate(mf.layers):
            g = {k: int(v[l]) for k, v in model.geometry.items()}
            x = torch.from_numpy(core["trace"][l].reshape(len(images), g["in_c"], g["in_h"], g["in_w"]))
            qw, s_w = ref.quantize_weights(mf.weights[l], int(wb[l]))
            prod = s_w * model.act_ranges[l, ab[l] - 1] / (2 ** int(ab[l]) - 1)
            bq = np.clip(np.rint(mf.biases[l] / prod), -ref.BIAS_LIMIT, ref.BIAS_LIMIT)
            w = torch.from_numpy(qw.astype(np.float64).reshape(spec.weight_shape()))
            bias = torch.from_numpy(bq)
            v = _torch_layer(torch, spec, x, w) + (bias if spec.kind == "linear" else bias[:, None, None])
            if spec.relu:
                v = torch.relu(v)
            if spec.pool == "avg":
                v = torch.nn.functional.avg_pool2d(v, spec.pool_size, divisor_override=1)  # the sum
            v = v.numpy().reshape(len(images), spec.out_channels, -1)
            if l == L - 1:
                np.testing.assert_array_equal(core["acc"], v.reshape(len(images), -1))
                continue
            a = int(ab[l + 1])
            s_next = model.act_ranges[l + 1, a - 1] / (2 ** a - 1)
            div = spec.pool_size ** 2 if spec.pool == "avg" else 1
            m0, sh = ref.fixed_point(prod / (s_next * div))
            got = ref.requantize(v.astype(np.int64), m0[None, :, None], sh[None, :, None], 2 ** a - 1)
            np.testing.assert_array_equal(got.reshape(len(images), -1), core["trace"][l + 1],
                                          err_msg=f"layer {l} ({spec.kind}), w={wb}, a={ab}")


def test_float_path_against_torch(model, images):
    """All-float configuration: the core's logits equal torch's float64 forward of the file's weights."""
    torch = pytest.importorskip("torch")
    f = np.full(model.num_layers, q.FLOAT_BITS)
    logits = model.forward(images, f, f)["logits"]
    x = torch.from_numpy(images.reshape(-1, 1, 28, 28).astype(np.float64) / 255.0)
    for spec, w, b in zip(model.file.layers, model.file.weights, model.file.biases):
        bias = torch.from_numpy(b.astype(np.float64))
        x = _torch_layer(torch, spec, x, torch.from_numpy(w.astype(np.float64))) + \
            (bias if spec.kind == "linear" else bias[:, None, None])
        if spec.relu:
            x = torch.relu(x)
        if spec.pool == "avg":
            x = torch.nn.functional.avg_pool2d(x, spec.pool_size)
    np.testing.assert_allclose(logits, x.numpy(), rtol=1e-9, atol=1e-9)


def test_float_accuracy_is_the_trained_one(model):
    if not fashion_mnist_available():
        if in_ci():
            pytest.fail("CI=true but Fashion-MNIST is missing: apt-get install -y dataset-fashion-mnist")
        pytest.skip("Fashion-MNIST not installed (apt-get install -y dataset-fashion-mnist)")
    fl = model.float_accuracy()
    assert fl >= 0.85
    assert abs(fl - model.file.torch_float_accuracy) <= 0.0005  # the same 10,000 images, float64 vs float32


def test_one_2bit_layer_moves_accuracy(model):
    """Why this model: at W8A8 it keeps its float accuracy, all-2-bit collapses, and a single
    2-bit layer costs anywhere from a little to tens of points depending on the layer."""
    images, labels = model.split("test")
    images, labels = images[:500], labels[:500]
    L = model.num_layers
    eight = np.full((1, L), 8)
    w = np.repeat(eight, L + 2, axis=0)
    for l in range(L):
        w[l, l] = 2
    w[L] = 2  # all 2-bit
    correct = model.correct(w, np.repeat(eight, L + 2, axis=0), images=images, labels=labels)
    acc = 100.0 * correct / len(labels)
    fl = 100.0 * model.correct(np.full(L, 32), np.full(L, 32), images=images, labels=labels)[0] / len(labels)
    assert abs(acc[L + 1] - fl) <= 1.0
    assert acc[L] < 30.0
    drops = fl - acc[:L]
    assert drops.max() > 10.0 and drops.min() < 3.0


@pytest.mark.parametrize("env_id", ["Quant-FashionDSCNN-v0", "Quant-OneShot-FashionDSCNN-v0"])
def test_env_ids(env_id):
    env = gym.make(env_id, eval_images=200, budget=1.0)
    env.reset(seed=0)
    n = len(env.action_space.nvec)
    assert n == (2 if "OneShot" not in env_id else 24)
    done, info = False, {}
    while not done:
        _, reward, done, _, info = env.step(np.full(n, 6))  # 8 bits
    assert info["wbits"] == info["abits"] == [8] * 12  # budget 1.0: the wall keeps W8A8
    assert info["feasible"] and info["eval_images"] == 200
    assert reward == pytest.approx(0.1 * (info["accuracy"] - info["float_accuracy"]))
