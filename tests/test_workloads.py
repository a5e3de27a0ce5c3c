"""Tests of archgym.workloads: shipped tables, the corrected generator and load_csv; and of
archgym.catalog, every env family's workloads under one naming scheme.

Expectations are derived independently of the package where possible: the shipped CSVs
are re-read with the csv module, and MACs are recomputed here from the rows.
"""

from __future__ import annotations

import ast
import csv
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from archgym import workloads
from archgym.catalog import KINDS, workload_names
from archgym.workloads import Workload, generate, list_workloads, load, load_csv

PKG_DIR = Path(workloads.__file__).resolve().parent
CONFUCIUX_DIR = PKG_DIR / "confuciux"
CORRECTED_DIR = PKG_DIR / "corrected"

MODELS = ("alexnet", "densenet", "googlenet", "mnasnet", "mobilenet_v2", "resnet18",
          "resnet50", "resnext50_32x4d", "shufflenet_v2", "squeezenet", "vgg16",
          "wide_resnet50")

TYPED_MODELS = ("bert_base", "gpt2_small", "resnext50_32x4d", "unet", "vit_b16")

# Layer counts of the ConfuciuX tables (hw_resource spec / ConfuciuX paper's models).
CONFUCIUX_COUNTS = {"mobilenet_v2": 52, "mnasnet": 52, "shufflenet_v2": 56, "resnet50": 53,
                    "resnet18": 20, "vgg16": 13, "alexnet": 5, "googlenet": 59,
                    "densenet": 160, "squeezenet": 26}


def read_rows(path: Path) -> tuple[list[str], list[list[int]]]:
    """Header and integer rows of a CSV, read with the csv module only."""
    with open(path, newline="") as f:
        header, *rows = list(csv.reader(f))
    return header, [[int(v) for v in row] for row in rows]


def row_macs(row: dict[str, int]) -> int:
    """MACs of one layer: Y' = (Y + 2p - R)//s + 1; depthwise rows (K=1) do C*Y'X'RS."""
    s, p, g = row.get("stride", 1), row.get("pad", 0), row.get("groups", 1)
    y = (row["Y"] + 2 * p - row["R"]) // s + 1
    x = (row["X"] + 2 * p - row["S"]) // s + 1
    per_output = row["C"] if row["T"] == 2 else row["K"] * row["C"] // g
    return per_output * y * x * row["R"] * row["S"]


def csv_macs(path: Path) -> int:
    header, rows = read_rows(path)
    return sum(row_macs(dict(zip(header, r))) for r in rows)


def is_fc(row) -> bool:
    """A fully connected layer of a corrected table: 1x1 kernel on a 1x1 input."""
    return row[2] == row[3] == row[4] == row[5] == 1


# --------------------------------------------------------------------- shipped data sets


def test_confuciux_set_and_license_shipped():
    names = sorted(p.stem for p in CONFUCIUX_DIR.glob("*.csv"))
    assert names == sorted(MODELS + ("example",))
    assert "MIT License" in (CONFUCIUX_DIR / "LICENSE").read_text()
    assert "Georgia Tech Synergy Lab" in (CONFUCIUX_DIR / "LICENSE").read_text()


def test_confuciux_files_are_verbatim_copies(reference_dir):
    """The shipped tables are byte-identical to tests/data/reference/confuciux (conftest fixture)."""
    ref = reference_dir / "confuciux"
    ref_names = sorted(p.name for p in (ref / "model").glob("*.csv"))
    assert ref_names == sorted(p.name for p in CONFUCIUX_DIR.glob("*.csv"))
    for name in ref_names:
        assert (CONFUCIUX_DIR / name).read_bytes() == (ref / "model" / name).read_bytes()
    assert (CONFUCIUX_DIR / "LICENSE").read_bytes() == (ref / "LICENSE").read_bytes()


@pytest.mark.parametrize("name", MODELS + ("example",))
def test_confuciux_tables_load_exactly(name):
    header, rows = read_rows(CONFUCIUX_DIR / f"{name}.csv")
    assert header == list("KCYXRST")
    w = load(name)
    assert w is load(f"confuciux/{name}")  # cached, same object
    assert w.name == name and w.uri == f"workload://confuciux/{name}"
    assert "2885eef6a14b57c1dd993036d3784d5c6c063191" in w.source
    assert w.layers.dtype == np.int64 and w.layers.shape == (len(rows), 7)
    assert w.layers.tolist() == rows
    assert w.num_layers == len(w) == len(rows)
    assert w.stride.tolist() == [1] * len(rows) and w.pad.tolist() == [0] * len(rows)
    assert w.depthwise.tolist() == [r[6] == 2 for r in rows]
    assert w.max_dims.tolist() == [max(r[i] for r in rows) for i in range(7)]
    if name in CONFUCIUX_COUNTS:
        assert w.num_layers == CONFUCIUX_COUNTS[name]


def test_confuciux_depthwise_counts_and_first_rows():
    assert int(load("mobilenet_v2").depthwise.sum()) == 17
    assert int(load("mnasnet").depthwise.sum()) == 17
    assert load("mobilenet_v2").layers[:3].tolist() == [
        [32, 3, 224, 224, 3, 3, 1], [1, 32, 112, 112, 3, 3, 2], [16, 32, 112, 112, 1, 1, 1]]
    assert load("resnet50").layers[:4].tolist() == [
        [64, 3, 224, 224, 7, 7, 1], [64, 64, 56, 56, 1, 1, 1], [64, 64, 56, 56, 3, 3, 1],
        [256, 64, 56, 56, 1, 1, 1]]
    # depthwise rows default to groups = C
    w = load("mobilenet_v2")
    assert w.groups[1] == 32 and w.groups[0] == 1


def test_corrected_first_rows_have_stride_pad_groups():
    _, rows = read_rows(CORRECTED_DIR / "mobilenet_v2.csv")
    assert rows[:3] == [[32, 3, 224, 224, 3, 3, 1, 2, 1, 1],
                        [1, 32, 112, 112, 3, 3, 2, 1, 1, 32],
                        [16, 32, 112, 112, 1, 1, 1, 1, 0, 1]]
    assert rows[-1] == [1000, 1280, 1, 1, 1, 1, 1, 1, 0, 1]  # classifier as 1x1 conv
    w = load("corrected/resnet50")
    assert w.layers[:4].tolist() == load("resnet50").layers[:4].tolist()
    assert w.stride[:4].tolist() == [2, 1, 1, 1] and w.pad[:4].tolist() == [3, 0, 1, 0]
    assert w.output_sizes[0].tolist() == [112, 112]
    x = load("corrected/resnext50_32x4d")
    assert x.groups[2] == 32 and x.layers[2].tolist() == [128, 128, 56, 56, 3, 3, 1]


def test_corrected_layer_counts():
    counts = {n: load(f"corrected/{n}").num_layers for n in MODELS + ("densenet121",)}
    # DenseNet-121/-161 are named after their conv + FC count.
    assert counts == {"alexnet": 8, "densenet": 161, "densenet121": 121, "googlenet": 58,
                      "mnasnet": 53, "mobilenet_v2": 53, "resnet18": 21, "resnet50": 54,
                      "resnext50_32x4d": 54, "shufflenet_v2": 57, "squeezenet": 26,
                      "vgg16": 16, "wide_resnet50": 54}


@pytest.mark.parametrize("name", [m for m in MODELS if m != "googlenet"])
def test_confuciux_is_corrected_without_fc_stride_pad_groups(name):
    """ConfuciuX rows == corrected rows minus FC layers, first 7 columns, in order."""
    _, corrected = read_rows(CORRECTED_DIR / f"{name}.csv")
    _, confuciux = read_rows(CONFUCIUX_DIR / f"{name}.csv")
    assert [r[:7] for r in corrected if not is_fc(r)] == confuciux


def test_googlenet_differences():
    """ConfuciuX GoogLeNet = torchvision's: 3x3 instead of 5x5, plus 2 aux-head convs."""
    _, corrected = read_rows(CORRECTED_DIR / "googlenet.csv")
    _, confuciux = read_rows(CONFUCIUX_DIR / "googlenet.csv")
    aux = [r for r in confuciux if r[2] == 4]
    assert aux == [[128, 512, 4, 4, 1, 1, 1], [128, 528, 4, 4, 1, 1, 1]]
    as_tv = [r[:4] + [3, 3, 1] if r[4] == 5 else r[:7] for r in corrected if not is_fc(r)]
    assert sum(r[4] == 5 for r in corrected) == 9
    assert as_tv == [r for r in confuciux if r[2] != 4]


def test_resnext_and_wide_resnet_confuciux_tables_identical():
    # groups are not recorded by ConfuciuX, so the two networks' tables coincide
    assert (CONFUCIUX_DIR / "resnext50_32x4d.csv").read_bytes() == \
        (CONFUCIUX_DIR / "wide_resnet50.csv").read_bytes()


# Published MAC counts at 224x224 (one multiply-add = one MAC):
# - MobileNet-V2 1.0: 300M multiply-adds, Sandler et al., CVPR 2018, Table 4.
# - ShuffleNet-V2 1.0x: 146M FLOPs (= multiply-adds), Ma et al., ECCV 2018, Table 8.
# - The others: torchvision model documentation (pytorch.org/vision, "GFLOPS" of each
#   weights entry, which counts multiply-adds): resnet50 4.09 (v1.5), resnet18 1.81,
#   resnext50_32x4d 4.23, wide_resnet50_2 11.40, vgg16 15.47, alexnet 0.71,
#   squeezenet1_0 0.82, mnasnet1_0 0.31, densenet161 7.73, densenet121 2.83.
PUBLISHED_MACS = {
    "mobilenet_v2": 300e6, "shufflenet_v2": 146e6, "resnet50": 4.09e9, "resnet18": 1.81e9,
    "resnext50_32x4d": 4.23e9, "wide_resnet50": 11.40e9, "vgg16": 15.47e9,
    "alexnet": 0.71e9, "squeezenet": 0.82e9, "mnasnet": 0.31e9, "densenet": 7.73e9,
    "densenet121": 2.83e9,
}


@pytest.mark.parametrize("name", sorted(PUBLISHED_MACS))
def test_corrected_macs_match_published(name):
    macs = csv_macs(CORRECTED_DIR / f"{name}.csv")
    assert macs == pytest.approx(PUBLISHED_MACS[name], rel=0.02)
    assert load(f"corrected/{name}").macs() == macs


def test_googlenet_inception_macs_match_paper_table1():
    # Szegedy et al., CVPR 2015, Table 1 "ops" of inception 3a, 3b, 4a, 4b, 4c, 4d, 4e.
    paper = [128e6, 304e6, 73e6, 88e6, 100e6, 119e6, 170e6]
    header, rows = read_rows(CORRECTED_DIR / "googlenet.csv")
    per_module = [sum(row_macs(dict(zip(header, r))) for r in rows[3 + 6 * i: 9 + 6 * i])
                  for i in range(7)]
    assert per_module == pytest.approx(paper, rel=0.02)


def test_confuciux_macs_use_stride_one_no_padding():
    # ConfuciuX reading: Y' = Y - R + 1; e.g. AlexNet conv1 (stride 4) is over-counted.
    w = load("alexnet")
    assert w.macs() == csv_macs(CONFUCIUX_DIR / "alexnet.csv")
    assert w.output_sizes[0].tolist() == [214, 214]


# ----------------------------------------------------------------------------- the API


def test_list_workloads_sorted_uris():
    uris = list_workloads()
    assert uris == sorted(uris)
    expected = [f"workload://confuciux/{m}" for m in MODELS + ("example",)]
    expected += [f"workload://corrected/{m}" for m in MODELS + ("densenet121",)]
    expected += [f"workload://typed/{m}" for m in TYPED_MODELS]
    assert uris == sorted(expected)


def test_load_name_forms():
    a = load("mobilenet_v2")
    assert load("confuciux/mobilenet_v2") is a
    assert load("workload://confuciux/mobilenet_v2") is a
    c = load("corrected/mobilenet_v2")
    assert c.uri == "workload://corrected/mobilenet_v2" and c.num_layers == 53
    assert load("workload://corrected/mobilenet_v2") is c


@pytest.mark.parametrize("bad", ["mobilenet_v3", "foo/mobilenet_v2", "corrected/example",
                                 "workload://nope", ""])
def test_load_unknown_lists_available(bad):
    with pytest.raises(ValueError, match="available") as info:
        load(bad)
    assert "confuciux/mobilenet_v2" in str(info.value)


def test_workload_is_immutable():
    w = load("resnet18")
    with pytest.raises(ValueError):
        w.layers[0, 0] = 5
    with pytest.raises(AttributeError):
        w.name = "x"


def test_workload_constructor_defaults_and_checks():
    w = Workload("t", [[1, 8, 5, 5, 3, 3, 2], [4, 8, 3, 3, 3, 3, 1]])
    assert w.stride.tolist() == [1, 1] and w.pad.tolist() == [0, 0]
    assert w.groups.tolist() == [8, 1]
    assert w.macs() == 8 * 3 * 3 * 9 + 4 * 8 * 1 * 1 * 9
    with pytest.raises(ValueError, match="shape"):
        Workload("t", np.zeros((2, 6), np.int64))
    with pytest.raises(ValueError, match="length"):
        Workload("t", [[1, 1, 1, 1, 1, 1, 1]], stride=[1, 1])


def test_load_csv_valid(tmp_path):
    p = tmp_path / "net.csv"
    p.write_text("K,C,Y,X,R,S,T,stride,pad,groups\n"
                 "64,3,224,224,7,7,1,2,3,1\n"
                 "\n"
                 "1,64,56,56,3,3,2,1,1,64\n"
                 " 128 , 64 ,56,56,3,3,1,2,1,2\n")
    w = load_csv(p)
    assert w.name == "net" and w.uri == p.resolve().as_uri() and w.source == str(p)
    assert w.layers.tolist() == [[64, 3, 224, 224, 7, 7, 1], [1, 64, 56, 56, 3, 3, 2],
                                 [128, 64, 56, 56, 3, 3, 1]]
    assert w.stride.tolist() == [2, 1, 2] and w.pad.tolist() == [3, 1, 1]
    assert w.groups.tolist() == [1, 64, 2]
    assert w.depthwise.tolist() == [False, True, False]
    # columns in any order, optional columns absent
    q = tmp_path / "other.csv"
    q.write_text("T,S,R,X,Y,C,K\n1,3,3,56,56,32,64\n")
    assert load_csv(q).layers.tolist() == [[64, 32, 56, 56, 3, 3, 1]]
    # the shipped ConfuciuX file loads the same through load_csv
    assert load_csv(CONFUCIUX_DIR / "vgg16.csv").layers.tolist() == load("vgg16").layers.tolist()


HEADER = "K,C,Y,X,R,S,T\n"
GOOD = "64,32,56,56,3,3,1\n"


@pytest.mark.parametrize("text, line, words", [
    (HEADER + GOOD + "64,32,56,56,3,3,3\n", 3, ["column T", "1", "2"]),
    (HEADER + "0,32,56,56,3,3,1\n", 2, ["column K", ">= 1"]),
    (HEADER + GOOD + GOOD + "64,-1,56,56,3,3,1\n", 4, ["column C", ">= 1"]),
    (HEADER + "64,32,56,56,3.0,3,1\n", 2, ["column R", "not an integer"]),
    (HEADER + "64,abc,56,56,3,3,1\n", 2, ["column C", "not an integer"]),
    (HEADER + "64,32,56,56,3,3\n", 2, ["expected 7 values"]),
    (HEADER + "64,32,2,2,3,3,1\n", 2, ["column R", "Y + 2*pad"]),
    (HEADER + "64,32,5,2,3,3,1\n", 2, ["column S", "X + 2*pad"]),
    (HEADER + "4,32,5,5,3,3,2\n", 2, ["column K", "depthwise"]),
    ("K,C,Y,X,R,S,T,pad\n" + "64,32,2,2,3,3,1,-1\n", 2, ["column pad", ">= 0"]),
    ("K,C,Y,X,R,S,T,stride\n" + "64,32,2,2,3,3,1,0\n", 2, ["column stride", ">= 1"]),
    ("K,C,Y,X,R,S,T,groups\n" + "64,32,5,5,3,3,1,3\n", 2, ["column groups", "divide"]),
    ("K,C,Y,X,R,S,T,groups\n" + "1,32,5,5,3,3,2,1\n", 2, ["column groups", "equal C"]),
    ("K,C,Y,X,R,S\n" + "64,32,56,56,3,3\n", 1, ["missing column", "T"]),
    ("K,C,Y,X,R,S,T,strides\n" + "64,32,56,56,3,3,1,1\n", 1, ["unknown column", "strides"]),
    ("K,C,Y,X,R,S,T,K\n" + "64,32,56,56,3,3,1,1\n", 1, ["appears twice"]),
])
def test_load_csv_errors_name_file_line_column(tmp_path, text, line, words):
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(ValueError) as info:
        load_csv(p)
    msg = str(info.value)
    assert str(p) in msg and f"line {line}:" in msg
    for word in words:
        assert word in msg


@pytest.mark.parametrize("text, words", [
    ("", ["empty"]),
    ("\n\n", ["empty"]),
    (HEADER, ["no layer rows"]),
    (HEADER + "\n", ["no layer rows"]),
])
def test_load_csv_empty(tmp_path, text, words):
    p = tmp_path / "empty.csv"
    p.write_text(text)
    with pytest.raises(ValueError) as info:
        load_csv(p)
    assert str(p) in str(info.value)
    for word in words:
        assert word in str(info.value)


def test_load_csv_unreadable(tmp_path):
    with pytest.raises(ValueError, match="cannot read"):
        load_csv(tmp_path / "missing.csv")
    p = tmp_path / "binary.csv"
    p.write_bytes(b"K,C\xff\xfe\x00")
    with pytest.raises(ValueError, match="cannot read"):
        load_csv(p)


# ------------------------------------------------------------------- generator round trip


def test_generator_round_trip(tmp_path):
    paths = generate.generate(tmp_path)
    shipped = sorted(p.name for p in CORRECTED_DIR.glob("*.csv"))
    assert sorted(p.name for p in paths) == shipped
    for name in shipped:
        assert (tmp_path / name).read_bytes() == (CORRECTED_DIR / name).read_bytes()
    assert generate.check(CORRECTED_DIR) == []
    assert generate.main(["--check", "--out", str(tmp_path)]) == 0
    (tmp_path / "vgg16.csv").write_text(HEADER + GOOD)
    assert generate.check(tmp_path) == ["vgg16.csv"]


def test_generated_tables_are_valid_and_consistent(tmp_path):
    for path in sorted(CORRECTED_DIR.glob("*.csv")):
        header, rows = read_rows(path)
        assert header == ["K", "C", "Y", "X", "R", "S", "T", "stride", "pad", "groups"]
        w = load_csv(path)  # passes every validation rule
        # each non-FC layer's input size is a plausible feature-map size of a 224 input
        assert set(w.layers[:, 2].tolist()) <= {224, 112, 56, 55, 54, 28, 27, 14, 13, 7, 6, 1}
        dw = w.depthwise
        assert (w.layers[dw, 0] == 1).all() and (w.groups[dw] == w.layers[dw, 1]).all()


def test_workloads_package_imports_only_stdlib_and_numpy():
    allowed = {"numpy", "archgym"} | set(sys.stdlib_module_names)
    for path in PKG_DIR.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                mods = [node.module or ""] if node.level == 0 else []
            else:
                continue
            for mod in mods:
                assert mod.split(".")[0] in allowed, f"{path.name} imports {mod}"
                if mod.startswith("archgym"):
                    assert mod.startswith("archgym.workloads"), f"{path.name} imports {mod}"


# ------------------------------------------------- every env family's workloads, one scheme
def test_catalog_lists_every_kind_under_one_naming_scheme():
    every = workload_names()
    assert every == sorted(set(every))
    assert set(every) == set().union(*(workload_names(kind) for kind in KINDS))
    for name in every:  # family/name: "/" between parts, "_" (never "-" or ":") inside them
        assert re.fullmatch(r"[a-z0-9_.]+(/[a-z0-9_.]+)+", name), name
    assert workload_names("dnn") == [uri.removeprefix("workload://") for uri in list_workloads()]
    assert {"spmv/synthetic/banded_1024_8", "spgemm/pruned/mlp_digits_fc1_90"} <= set(workload_names("sparse"))
    assert {"pruned/mlp_digits_90", "pruned/mlp_digits_2of4"} <= set(workload_names("sparse_network"))
    assert workload_names("nas") == ["nas/diabetes_mlp", "nas/digits_cnn", "nas/digits_mlp", "nas/fashion_cnn", "nas/friedman1_mlp"]
    assert workload_names("quant") == ["quant/digits_cnn", "quant/fashion_dscnn", "quant/fashion_lenet"]
    with pytest.raises(ValueError, match="unknown workload kind 'cnn'; allowed: None, dnn, sparse"):
        workload_names("cnn")


def test_each_loader_takes_the_catalog_names():
    from archgym import nas, quant
    from archgym.envs.sparse_format import make_workload
    from archgym.quant.models import model_path
    from archgym.sparse.matrices import load_network

    for name in workload_names("dnn"):
        assert load(name).uri == "workload://" + name
    for name in workload_names("nas"):
        assert nas.get_space(name) is nas.SPACES[name.removeprefix("nas/").replace("_", "-")]
    for name in workload_names("quant"):
        assert model_path(name) == model_path(name.removeprefix("quant/"))
    unified, today = make_workload("spmm/synthetic/banded_1024_8"), make_workload("spmm:synthetic/banded_1024_8")
    assert (unified.name, unified.op, (unified.a != today.a).nnz, (unified.b != today.b).nnz) == \
        ("spmm:synthetic/banded_1024_8", "spmm", 0, 0)
    network = load_network("pruned/mlp_digits_2of4", batch=2)
    assert network.name == "mlp_digits_2of4"
    assert all((w != v).nnz == 0 for w, v in zip(network.weights, load_network("mlp_digits_2of4", batch=2).weights))
    with pytest.raises(ValueError, match="unknown search space"):
        nas.get_space("nas/digits-mlp")  # one separator style: the unified name has "_"
    with pytest.raises(ValueError, match="unknown model"):
        quant.load_model("quant/lenet")


def test_envs_take_the_catalog_names():
    import gymnasium as gym

    import archgym  # noqa: F401  (registers the environments)

    def first_step(env_id, **kwargs):
        env = gym.make(env_id, **kwargs)
        env.reset(seed=0)
        out = env.step(env.action_space.sample() * 0)
        env.close()
        return out[1], out[4]

    assert first_step("NAS-v0", space="nas/digits_cnn") == first_step("NAS-v0", space="digits-cnn")
    assert first_step("Quant-OneShot-v0", model="quant/digits_cnn")[0] == first_step("Quant-OneShot-v0")[0]
    for env_id, kwargs, today in [("SparseFormat-v0", {"suite": "spmv/synthetic/banded_1024_8"},
                                   {"suite": "spmv:synthetic/banded_1024_8"}),
                                  ("SparseFormat-Network-v0", {"network": "pruned/mlp_digits_2of4", "batch": 8},
                                   {"network": "mlp_digits_2of4", "batch": 8})]:
        (reward, info), (reward_today, info_today) = first_step(env_id, **kwargs), first_step(env_id, **today)
        assert reward == reward_today and info.keys() == info_today.keys()
        assert all(str(info[k]) == str(info_today[k]) for k in info)
