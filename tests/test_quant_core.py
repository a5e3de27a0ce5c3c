"""The quantized-inference core (archgym._sim.quant) and archgym.quant: real accuracies,
bit-exactness against the numpy reference, the cost model's formulas, malformed input.

No torch here: this file also runs against the sanitizer build.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from archgym import quant as q
from archgym.quant import models as qm
from archgym.quant.data import fashion_mnist_available

from conftest import in_ci

L = 5  # both shipped models have five quantizable layers


@pytest.fixture(scope="module")
def digits():
    return q.load_model("digits_cnn")


@pytest.fixture(scope="module")
def fashion():
    if not fashion_mnist_available():
        if in_ci():
            pytest.fail("CI=true but Fashion-MNIST is missing: apt-get install -y dataset-fashion-mnist")
        pytest.skip("Fashion-MNIST not installed (apt-get install -y dataset-fashion-mnist)")
    return q.load_model("fashion_lenet")


def uniform(model, b):
    return np.full(model.num_layers, b), np.full(model.num_layers, b)


# ------------------------------------------------------------------ data and splits
def test_digits_splits_are_disjoint_and_sized():
    test_x, test_y = q.load_split("digits", "test")
    train_x, _ = q.load_split("digits", "train")
    cal_x, _ = q.load_split("digits", "calibration")
    assert (len(test_x), len(train_x), len(cal_x)) == (540, 1257, 256)
    assert test_x.dtype == np.uint8 and test_x.shape[1] == 64 and test_x.max() <= 16
    f = np.load(os.path.join(os.path.dirname(q.__file__), "data", "digits.npz"))
    assert not np.intersect1d(f["test"], f["train"]).size
    assert not np.intersect1d(f["test"], f["calibration"]).size
    assert np.isin(f["calibration"], f["train"]).all()
    assert sorted(np.unique(test_y)) == list(range(10))


# ------------------------------------------------------------------ real accuracies
def test_digits_float_accuracy_is_real(digits):
    acc = digits.float_accuracy()
    assert acc >= 0.95
    # The core's float64 path reproduces the accuracy torch measured when training.
    assert abs(acc - digits.file.torch_float_accuracy) <= 0.005


def test_digits_uniform_precisions(digits):
    fl = digits.float_accuracy()
    acc = {b: digits.accuracy(*uniform(digits, b)) for b in (8, 6, 4, 3, 2)}
    assert abs(acc[8] - fl) <= 0.01  # W8A8 within one point
    assert acc[6] >= fl - 0.02
    assert acc[4] >= 0.90
    assert acc[8] >= acc[4] >= acc[2]
    assert acc[2] < 0.35 and fl - acc[2] > 0.60  # W2A2 collapses (chance: 10%)


def test_fashion_uniform_precisions(fashion):
    fl = fashion.float_accuracy()
    assert fl >= 0.85
    assert abs(fl - fashion.file.torch_float_accuracy) <= 0.005
    w8 = fashion.accuracy(*uniform(fashion, 8))
    w2 = fashion.accuracy(*uniform(fashion, 2))
    assert abs(w8 - fl) <= 0.01
    assert w2 < 0.2  # chance is 10%


# ------------------------------------------------------------------ bit-exactness
def _assert_exact(model, images, w, a):
    core = model.forward(images, w, a, trace=True)
    ref = q.reference_forward(model, images, w, a, trace=True)
    integer = (np.asarray(w) <= 8).all() and (np.asarray(a) <= 8).all()
    if integer:
        assert core["acc"] is not None and ref["acc"] is not None
        np.testing.assert_array_equal(core["acc"], ref["acc"])
        np.testing.assert_array_equal(core["logits"], ref["logits"])
        for l, (x, y) in enumerate(zip(core["trace"], ref["trace"])):
            np.testing.assert_array_equal(x, y, err_msg=f"layer {l} input, w={w}, a={a}")
    else:
        np.testing.assert_allclose(core["logits"], ref["logits"], rtol=1e-9, atol=1e-9)
        for x, y in zip(core["trace"], ref["trace"]):
            np.testing.assert_allclose(x, y, rtol=1e-9, atol=1e-9)


def test_bit_exact_against_numpy_reference(digits):
    images, _ = digits.split("test")
    rng = np.random.default_rng(1)
    for b in (8, 4, 2, 1):
        _assert_exact(digits, images[:64], *uniform(digits, b))
    for _ in range(40):
        _assert_exact(digits, images[:48], rng.integers(1, 9, L), rng.integers(1, 9, L))


def test_float_layers_agree_with_reference(digits):
    images, _ = digits.split("test")
    rng = np.random.default_rng(2)
    _assert_exact(digits, images[:32], *uniform(digits, 32))
    for _ in range(10):
        w = np.where(rng.random(L) < 0.4, 32, rng.integers(1, 9, L))
        a = np.where(rng.random(L) < 0.4, 32, rng.integers(1, 9, L))
        _assert_exact(digits, images[:32], w, a)


def test_fashion_bit_exact(fashion):
    images, _ = fashion.split("test")
    rng = np.random.default_rng(3)
    for _ in range(5):
        _assert_exact(fashion, images[:16], rng.integers(1, 9, L), rng.integers(1, 9, L))


def _synthetic_file(rng, pool_last_conv="avg") -> qm.ModelFile:
    """Every layer kind, stride 2, padding, both poolings, a dead channel and a huge bias."""
    arch = [
        qm.LayerSpec("conv", 2, 6, kernel=3, stride=1, padding=1, relu=True, pool="max", pool_size=2),
        qm.LayerSpec("dwconv", 6, 6, kernel=3, stride=2, padding=1, relu=True),
        qm.LayerSpec("conv", 6, 5, kernel=1, stride=1, padding=0, relu=True, pool=pool_last_conv, pool_size=2),
        qm.LayerSpec("linear", 5 * 1 * 1, 7, relu=True),
        qm.LayerSpec("linear", 7, 3, relu=False),
    ]
    weights = [rng.normal(0, 0.5, s.weight_shape()).astype(np.float32) for s in arch]
    biases = [rng.normal(0, 0.2, (s.out_channels,)).astype(np.float32) for s in arch]
    weights[2][1] = 0.0  # an all-zero output channel
    biases[3][0] = 5e5  # saturates the quantized bias
    return qm.ModelFile(name="synthetic", dataset="digits", layers=tuple(arch), input_shape=(2, 9, 9),
                        full_scale=255, num_classes=3, weights=tuple(weights), biases=tuple(biases),
                        torch_float_accuracy=float("nan"))


def test_bit_exact_on_synthetic_model():
    rng = np.random.default_rng(4)
    mf = _synthetic_file(rng)
    calib = rng.integers(0, 256, (40, 2 * 9 * 9), dtype=np.uint8)
    model = qm.QuantModel(mf, "mse", calibration_images=calib)
    images = rng.integers(0, 256, (30, 2 * 9 * 9), dtype=np.uint8)
    for _ in range(30):
        _assert_exact(model, images, rng.integers(1, 9, L), rng.integers(1, 9, L))
    _assert_exact(model, images, [32, 3, 32, 8, 2], [5, 32, 4, 32, 8])


def test_quantized_weights_match_reference(digits):
    for l, w in enumerate(digits.file.weights):
        for b in range(1, 9):
            cq, cs = digits.core.quant_weights(l, b)
            rq, rs = q.quantize_weights(w.reshape(len(w), -1), b)
            np.testing.assert_array_equal(cq, rq)
            np.testing.assert_array_equal(cs, rs)
            qmax = 2 ** (b - 1) - 1 if b > 1 else 1
            assert np.abs(cq).max() <= qmax


def test_fixed_point_edges():
    m0, shift = q.fixed_point(np.array([1.0, 0.5, 1e-20, 3e9, 0.999999999999]))
    assert ((m0 >= 2 ** 30) & (m0 < 2 ** 31)).all()
    np.testing.assert_allclose(m0 * 2.0 ** -shift.astype(float), [1.0, 0.5, 1e-20, 3e9, 0.999999999999],
                               rtol=1e-9)


def test_batch_and_threads_do_not_change_results(digits):
    images, labels = digits.split("test")
    rng = np.random.default_rng(5)
    w = rng.integers(2, 9, (7, L))
    a = rng.integers(2, 9, (7, L))
    batch = digits.correct(w, a)
    single = [digits.correct(w[i], a[i], threads=1)[0] for i in range(7)]
    np.testing.assert_array_equal(batch, single)
    np.testing.assert_array_equal(digits.correct(w, a, threads=2), batch)
    pred = digits.predict(images, w[0], a[0])
    assert (pred == labels).sum() == batch[0]


# ------------------------------------------------------------------ malformed input
@pytest.mark.parametrize("bits", [0, 9, 16, 33, -1])
def test_bits_out_of_range(digits, bits):
    w, a = uniform(digits, 8)
    w[2] = bits
    with pytest.raises(ValueError, match=r"wbits\[2\] must be in 1..8 or 32"):
        digits.accuracy(w, a)
    with pytest.raises(ValueError, match=r"abits\[2\] must be in 1..8 or 32"):
        digits.accuracy(a, w)
    # straight to the core: the same check
    images, labels = digits.split("test")
    with pytest.raises(ValueError, match="1..8 or 32"):
        digits.core.correct(images, labels, w[None, :].astype(np.int64), a[None, :].astype(np.int64))


def test_wrong_layer_count_and_types(digits):
    with pytest.raises(ValueError, match="one entry per layer"):
        digits.accuracy([8] * 4, [8] * 5)
    with pytest.raises(ValueError, match="one entry per layer"):
        digits.core.forward(digits.split("test")[0], np.full(6, 8), np.full(5, 8))
    with pytest.raises(ValueError, match="integers"):
        digits.accuracy([8.5] * 5, [8] * 5)
    with pytest.raises(ValueError, match="integers"):
        digits.accuracy(["8"] * 5, [8] * 5)
    with pytest.raises(ValueError, match="uint8"):
        digits.forward(np.zeros((2, 64), dtype=np.float32), [8] * 5, [8] * 5)
    with pytest.raises(ValueError, match="rows of 64"):
        digits.forward(np.zeros((2, 63), dtype=np.uint8), [8] * 5, [8] * 5)
    images, labels = digits.split("test")
    bad = labels.copy()
    bad[3] = 10
    with pytest.raises(ValueError, match=r"labels\[3\] must be in 0..9"):
        digits.correct([8] * 5, [8] * 5, images=images, labels=bad)
    with pytest.raises(ValueError, match="threads"):
        digits.core.forward(images, np.full(5, 8), np.full(5, 8), -1)


def _write(path, arrays):
    np.savez(path, **arrays)
    return path


def _arrays():
    with np.load(qm.model_path("digits_cnn")) as f:
        return {k: f[k] for k in f.files}


def test_corrupt_weight_files(tmp_path):
    good = qm.model_path("digits_cnn").read_bytes()
    cases = {
        "truncated": good[: len(good) // 2],
        "garbage": b"not a zip file at all",
        "empty": b"",
    }
    # a flipped byte inside a stored (compressed) member: CRC or zlib error
    flipped = bytearray(good)
    flipped[len(good) // 2] ^= 0xFF
    cases["bit flip"] = bytes(flipped)
    for name, blob in cases.items():
        p = tmp_path / f"{name.replace(' ', '_')}.npz"
        p.write_bytes(blob)
        with pytest.raises(ValueError, match=str(p.name)):
            qm.read_model_file(p)


@pytest.mark.parametrize("edit, message", [
    (lambda a: a.update(format=np.array("something-else/9")), "format must be"),
    (lambda a: a.pop("w3"), "missing entry 'w3'"),
    (lambda a: a.update(w1=a["w1"][:, :, :2]), "w1 has shape"),
    (lambda a: a.update(w0=a["w0"].astype(np.float64)), "w0 must be float32"),
    (lambda a: a["w2"].__setitem__((0, 0, 0, 0), np.nan), "NaN"),
    (lambda a: a.update(arch=np.array("[{")), "arch is not valid JSON"),
    (lambda a: a.update(arch=np.array(json.dumps(json.loads(str(a["arch"]))[:4]))), "do not match"),
    (lambda a: a.update(num_classes=np.array(7)), "num_classes"),
    (lambda a: a.update(dataset=np.array("imagenet")), "dataset must be"),
    (lambda a: a.update(w4=np.full((10, 64), 1e30, dtype=np.float32)), r"\|w\| <= 1e6"),
])
def test_mismatched_weight_files(tmp_path, edit, message):
    arrays = _arrays()
    edit(arrays)
    p = _write(tmp_path / "bad.npz", arrays)
    with pytest.raises(ValueError, match=message):
        q.load_model(str(p))


def test_arch_that_does_not_chain(tmp_path):
    arrays = _arrays()
    arch = json.loads(str(arrays["arch"]))
    arch[3]["relu"] = False  # a hidden layer without ReLU
    arrays["arch"] = np.array(json.dumps(arch))
    with pytest.raises(ValueError, match="must have a ReLU"):
        q.load_model(str(_write(tmp_path / "x.npz", arrays)))


def test_unknown_model_names():
    with pytest.raises(ValueError, match="unknown model"):
        q.load_model("resnet")
    with pytest.raises(ValueError, match="unknown calibration"):
        q.load_model("digits_cnn", calibration="kl")


def test_fashion_beyond_the_shipped_images_names_the_package(tmp_path):
    """Without the Debian package the shipped subset serves the default ids; more images need the package."""
    code = ("import archgym, gymnasium as gym\n"
            "from archgym.quant import DatasetNotInstalledError\n"
            "gym.make('Quant-FashionMNIST-v0').reset(seed=0)\n"
            "try:\n    gym.make('Quant-FashionMNIST-v0', eval_images=None)\n"
            "except DatasetNotInstalledError as e:\n    print('ERR', e)\n")
    env = dict(os.environ, ARCHGYM_FASHION_MNIST_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "ERR" in out.stdout and "dataset-fashion-mnist" in out.stdout and "10,000 images" in out.stdout


def test_corrupt_fashion_files_are_value_errors(tmp_path):
    import gzip
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                 "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        with gzip.open(tmp_path / name, "wb") as f:
            f.write(b"\x00\x00\x08\x03" + b"\x00" * 10)  # wrong magic for labels, truncated images
    code = ("from archgym.quant import load_split\n"
            "try:\n    load_split('fashion_mnist', 'test')\n"
            "except ValueError as e:\n    print('ERR', e)\n")
    env = dict(os.environ, ARCHGYM_FASHION_MNIST_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert "ERR" in out.stdout and "not a valid Fashion-MNIST IDX file" in out.stdout, out.stdout + out.stderr


def test_core_model_rejects_bad_configs():
    core = q.models._core
    w = [np.zeros(9, np.float32)]
    b = [np.zeros(1, np.float32)]
    r = np.ones((1, 8))
    ok = dict(kind="conv", in_channels=1, out_channels=1, kernel=3, stride=1, padding=1, relu=False, pool="none",
              pool_size=1)
    core.Model((1, 4, 4), 16, [ok], w, b, r)  # valid
    for change, msg in [(dict(padding=3), "padding"), (dict(kernel=9, padding=0), "larger"),
                        (dict(kind="conv3d"), "kind"), (dict(relu=True), "no ReLU"),
                        (dict(in_channels=2), "input channels"), (dict(pool="min"), "pool"),
                        (dict(dilation=2), "unknown field 'dilation'")]:
        layer = ok | change
        with pytest.raises(ValueError, match=msg):
            core.Model((1, 4, 4), 16, [layer], w, b, r)
    with pytest.raises(ValueError, match="act_ranges"):
        core.Model((1, 4, 4), 16, [ok], w, b, np.zeros((1, 8)))
    with pytest.raises(ValueError, match="expects 9 weights"):
        core.Model((1, 4, 4), 16, [ok], [np.zeros(8, np.float32)], b, r)
    with pytest.raises(ValueError, match="full_scale"):
        core.Model((1, 4, 4), 0, [ok], w, b, r)


# ------------------------------------------------------------------ cost model
@pytest.fixture(scope="module", params=[("edge", "bitserial"), ("edge", "bitfused"), ("cloud", "bitserial")])
def hw(request, digits):
    return q.HardwareCost(digits, preset=request.param[0], design=request.param[1])


def _expected_layer(hw, l, w, a, a_out):
    """The documented formulas, recomputed from the cost rows and the preset."""
    row = dict(zip(q.cost.COST_COLUMNS, hw.layers[l].tolist()))
    p = hw.preset
    r = (lambda b: 2 if b <= 2 else 4 if b <= 4 else 8 if b <= 8 else 16 if b <= 16 else 32)
    fw, fa = (r(w), r(a)) if hw.design == "bitfused" else (w, a)
    compute = -(-row["cycles8"] * fw * fa // 64)
    dram = row["weights"] * w + row["in_elems"] * a + row["out_elems"] * a_out
    memory = -(-dram // p.dram_bits_per_cycle)
    e_mac = (fw // 2) * (fa // 2) * p.e_brick_pj if hw.design == "bitfused" else w * a * p.e_bitop_pj
    energy = (row["macs"] * e_mac
              + (row["l1_in"] * a + row["l1_w"] * w + row["l1_out"] * 32) * p.e_l1_pj_per_bit
              + (row["l2_in"] * a + row["l2_w"] * w + row["l2_out"] * a_out) * p.e_l2_pj_per_bit
              + dram * p.e_dram_pj_per_bit)
    return max(compute, memory), energy, row["weights"] * w


def test_cost_matches_documented_formulas(hw):
    rng = np.random.default_rng(6)
    for _ in range(20):
        w = rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 32], L)
        a = rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 32], L)
        per = hw.per_layer(w, a)
        for l in range(L):
            cycles, energy, size = _expected_layer(hw, l, int(w[l]), int(a[l]), int(a[l + 1]) if l + 1 < L else 32)
            assert per["cycles"][0, l] == cycles
            assert per["energy_pj"][0, l] == pytest.approx(energy, rel=1e-12)
            assert per["size_bits"][0, l] == size
        tot = hw.evaluate(w, a)
        assert tot["cycles"] == per["cycles"].sum()
        assert tot["size_bytes"] == per["size_bits"].sum() / 8


def test_every_preset_field_reaches_the_core(digits):
    """A distinctive value per preset field: two fields swapped on the way to the core change a figure."""
    preset = q.AcceleratorPreset("distinct", pes=64, tile=4, freq_hz=3.3e8, dram_bits_per_cycle=96,
                                 e_bitop_pj=0.011, e_brick_pj=0.037, e_l1_pj_per_bit=0.053,
                                 e_l2_pj_per_bit=0.13, e_dram_pj_per_bit=7.7)
    assert set(preset.core_fields()) == set(q.models._core.COST_PRESET_FIELDS)
    rng = np.random.default_rng(12)
    for design in q.DESIGNS:
        hw = q.HardwareCost(digits, preset, design)
        for _ in range(10):
            w, a = rng.integers(1, 9, L), rng.integers(1, 9, L)
            per = hw.per_layer(w, a)
            for l in range(L):
                cycles, energy, size = _expected_layer(hw, l, int(w[l]), int(a[l]), int(a[l + 1]) if l + 1 < L else 32)
                assert (per["cycles"][0, l], per["size_bits"][0, l]) == (cycles, size)
                assert per["energy_pj"][0, l] == pytest.approx(energy, rel=1e-12)
    core = q.models._core
    with pytest.raises(ValueError, match="missing 'e_l2_pj_per_bit'"):
        core.CostModel(hw.layers, {k: v for k, v in preset.core_fields().items() if k != "e_l2_pj_per_bit"}, 0)
    with pytest.raises(ValueError, match="unknown fields"):
        core.CostModel(hw.layers, preset.core_fields() | {"e_l3_pj_per_bit": 1.0}, 0)


def test_cost_columns_are_named_by_the_core(digits):
    hw = q.HardwareCost(digits, "edge")
    assert q.cost.COST_COLUMNS == tuple(q.models._core.COST_LAYER_FIELDS)
    col = {name: hw.layers[:, i] for i, name in enumerate(q.cost.COST_COLUMNS)}
    np.testing.assert_array_equal(col["macs"], digits.macs)
    np.testing.assert_array_equal(col["weights"], digits.num_weights)
    np.testing.assert_array_equal(col["in_elems"], digits.in_elems)
    np.testing.assert_array_equal(col["out_elems"], digits.out_elems)


def test_layer_fields_and_geometry_cross_by_name():
    """A non-square input and distinct kernel, stride, padding and pooling: a field read under
    another name would change the geometry."""
    core = q.models._core
    conv = q.LayerSpec("conv", 2, 3, kernel=3, stride=2, padding=1, relu=True, pool="avg", pool_size=2)
    fc = q.LayerSpec("linear", 3 * 2 * 3, 4, relu=False)
    assert set(conv.core_fields()) == set(core.LAYER_FIELDS)
    weights = [np.ones(int(np.prod(s.weight_shape())), np.float32) for s in (conv, fc)]
    biases = [np.zeros(s.out_channels, np.float32) for s in (conv, fc)]
    m = core.Model((2, 9, 11), 16, [conv.core_fields(), fc.core_fields()], weights, biases, np.ones((2, 8)))
    g = m.geometry()
    assert tuple(g) == tuple(core.GEOMETRY_FIELDS)
    # conv: padded 11 x 13, (11 - 3) // 2 + 1 = 5 rows, (13 - 3) // 2 + 1 = 6 columns, pooled 2 x 3
    assert {k: v.tolist() for k, v in g.items()} == {
        "in_c": [2, 18], "in_h": [9, 1], "in_w": [11, 1], "out_c": [3, 4], "conv_h": [5, 1], "conv_w": [6, 1],
        "out_h": [2, 1], "out_w": [3, 1], "fan_in": [18, 18]}


def test_cost_rows_come_from_the_dataflow_model(digits):
    from archgym import costmodel as cm
    hw = q.HardwareCost(digits, "edge")
    spec = digits.layers[1]  # conv 16->32 3x3 pad 1 on 4x4
    r = cm.evaluate(cm.Layer(K=32, C=16, Y=6, X=6, R=3, S=3), cm.DATAFLOWS["dla"], cm.Hardware(num_pes=64),
                    cm.confuciux_constants(pes=64, tile=4))
    assert spec.kind == "conv" and hw.layers[1, 4] == r["runtime"]
    assert hw.layers[1, 0] == r["macs"] == 16 * 32 * 9 * 16


def test_bit_serial_cost_is_monotone_in_bits(digits):
    hw = q.HardwareCost(digits, "edge", "bitserial")
    for key in ("cycles", "energy_pj", "size_bits"):
        for l in range(L):
            for which in (0, 1):
                vals = []
                for b in range(1, 9):
                    w, a = np.full(L, 5), np.full(L, 5)
                    (w if which == 0 else a)[l] = b
                    vals.append(hw.per_layer(w, a)[key].sum())
                assert all(x <= y for x, y in zip(vals, vals[1:])), (key, l, which, vals)
    # strictly: compute-bound conv layers get faster with every bit removed
    c = [hw.per_layer(np.full(L, b), np.full(L, b))["cycles"][0, 1] for b in range(1, 9)]
    assert all(x < y for x, y in zip(c, c[1:]))


def test_bit_fused_rounds_up_to_2_4_8(digits):
    hw = q.HardwareCost(digits, "edge", "bitfused")
    assert [q.models._core.fused_bits(b) for b in (1, 2, 3, 4, 5, 7, 8, 16, 32)] == [2, 2, 4, 4, 8, 8, 8, 16, 32]
    comp = lambda b: hw.core.layer(1, b, b, b)["compute_cycles"]  # noqa: E731
    assert comp(1) == comp(2) and comp(3) == comp(4) and comp(5) == comp(6) == comp(7) == comp(8)
    assert comp(2) < comp(4) < comp(8)
    serial = q.HardwareCost(digits, "edge", "bitserial")
    # at 2, 4 and 8 bits the two designs compute equally fast
    for b in (2, 4, 8):
        assert comp(b) == serial.core.layer(1, b, b, b)["compute_cycles"]
    assert serial.core.layer(1, 3, 3, 3)["compute_cycles"] < comp(3)


def test_roofline(digits):
    hw = q.HardwareCost(digits, "edge", "bitserial")
    seen = set()
    for l in range(L):
        for b in (1, 8):
            c = hw.core.layer(l, b, b, b)
            assert c["cycles"] == max(c["compute_cycles"], c["memory_cycles"])
            seen.add(c["compute_cycles"] >= c["memory_cycles"])
    assert seen == {True, False}  # both sides of the roofline occur
    fc = hw.core.layer(3, 8, 8, 8)  # linear 128->64: weight-bound
    assert fc["memory_cycles"] > fc["compute_cycles"]
    assert fc["dram_bits"] == 128 * 64 * 8 + 128 * 8 + 64 * 8


def test_cost_rejects_bad_input(digits):
    hw = q.HardwareCost(digits)
    with pytest.raises(ValueError, match="1..8 or 32"):
        hw.evaluate([9] * 5, [8] * 5)
    with pytest.raises(ValueError, match="shape"):
        hw.evaluate([8] * 4, [8] * 4)
    with pytest.raises(ValueError, match="unknown preset"):
        q.HardwareCost(digits, "phone")
    with pytest.raises(ValueError, match="unknown design"):
        q.HardwareCost(digits, "edge", "analog")
    with pytest.raises(ValueError, match="11 columns"):
        q.models._core.CostModel(np.zeros((2, 3), np.int64), q.PRESETS["edge"].core_fields(), 0)
    with pytest.raises(ValueError, match="every count"):
        q.models._core.CostModel(-np.ones((2, 11), np.int64), q.PRESETS["edge"].core_fields(), 0)


def test_import_of_quant_does_not_need_torch_or_sklearn():
    code = ("import sys, archgym.quant as q, archgym.envs.quant\n"
            "m = q.load_model(); m.accuracy([8]*5, [8]*5)\n"
            "bad = [k for k in sys.modules if k.split('.')[0] in ('torch', 'sklearn')]\n"
            "assert not bad, bad\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr


def test_model_file_round_trip(tmp_path):
    """A model file written with np.savez loads to the same core results."""
    arrays = _arrays()
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    p = tmp_path / "copy.npz"
    p.write_bytes(buf.getvalue())
    assert zipfile.is_zipfile(p)
    a = q.load_model(str(p))
    b = q.load_model("digits_cnn")
    np.testing.assert_array_equal(a.act_ranges, b.act_ranges)
    assert a.accuracy([4] * 5, [4] * 5) == b.accuracy([4] * 5, [4] * 5)
