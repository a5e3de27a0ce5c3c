"""Tests of archgym.workloads.typed (layer tables with MAESTRO's layer types), the Workload
that keeps those types for the engine, the HWResource variants on them, and their evaluation
against the real MAESTRO's rows for GEMM, NGCONV and TRCONV
(tests/data/reference/maestro/layer_types).

The expected parameter and MAC counts are computed here from the papers' hyper-parameters with
closed formulas, independently of the generators' row-by-row construction.
"""

from __future__ import annotations

import csv
import re

import gymnasium as gym
import numpy as np
import pytest

import archgym
from archgym import costmodel as cm
from archgym import workloads
from archgym.costmodel import maestro
from archgym.envs.hw_resource import PE_LEVELS, TILE_LEVELS, HWResourceEnv
from archgym.workloads import generate, typed
from archgym.workloads.typed import TypedLayer, to_workload

ATTENTION = ("attn_scores", "attn_context")  # GEMMs of two activations: no parameters


def transformer_macs(layers: int, tokens: int, hidden: int, mlp: int) -> int:
    """Q, K, V, O projections + Q K^T and A V over all heads + the two MLP GEMMs."""
    return layers * (4 * tokens * hidden**2 + 2 * tokens**2 * hidden + 2 * tokens * hidden * mlp)


def layer_params(hidden: int, mlp: int) -> int:
    """Weights and biases of one transformer layer, with its two LayerNorms."""
    return 4 * (hidden * hidden + hidden) + hidden * mlp + mlp + mlp * hidden + hidden + 2 * 2 * hidden


def table_params(rows: list[TypedLayer], skip: tuple[str, ...] = ()) -> int:
    """Weights and biases of the parameter GEMMs of a typed table (attention has none)."""
    return sum(r.repeat * r.G * (r.K * r.N + r.N) for r in rows
               if r.type == "GEMM" and r.layer not in ATTENTION + skip)


def layer_norms(rows: list[TypedLayer], hidden: int) -> int:
    """The two LayerNorms (gain and bias) of every transformer layer of a table."""
    return rows[0 if rows[0].layer == "q_proj" else 1].repeat * 2 * 2 * hidden


# ----------------------------------------------------------- the papers' numbers
@pytest.mark.parametrize("seq_len", [1, 128, 384, 512])
def test_bert_base_macs_and_parameters(seq_len):
    rows = typed.bert_base(seq_len)
    assert [r.layer for r in rows] == ["q_proj", "k_proj", "v_proj", *ATTENTION, "out_proj",
                                       "mlp_up", "mlp_down", "pooler"]
    assert sum(r.macs() for r in rows) == transformer_macs(12, seq_len, 768, 3072) + 768 * 768
    embeddings = (30522 + 512 + 2) * 768 + 2 * 768  # word, position, segment; LayerNorm
    total = embeddings + table_params(rows) + layer_norms(rows, 768)
    assert total == embeddings + 12 * layer_params(768, 3072) + 768 * 768 + 768 == 109_482_240
    assert abs(total - 110e6) / 110e6 < 0.01  # "110M" (Devlin et al., Table / Section 3)
    heads = {r.layer: r for r in rows if r.layer in ATTENTION}
    assert (heads["attn_scores"].G, heads["attn_scores"].M, heads["attn_scores"].N,
            heads["attn_scores"].K) == (12, seq_len, seq_len, 64)
    assert (heads["attn_context"].M, heads["attn_context"].N, heads["attn_context"].K) == (seq_len, 64, seq_len)


def test_gpt2_small_macs_and_parameters():
    rows = typed.gpt2_small()
    assert sum(r.macs() for r in rows) == transformer_macs(12, 1024, 768, 3072) + 1024 * 50257 * 768
    embeddings = 50257 * 768 + 1024 * 768  # token (tied to the LM head) and position
    total = embeddings + table_params(rows, skip=("lm_head",)) + layer_norms(rows, 768) + 2 * 768
    assert total == 124_439_808  # the released checkpoint's count (the paper rounds to 117M)
    assert rows[-1] == TypedLayer("lm_head", "GEMM", G=1, M=1024, N=50257, K=768)


def test_vit_b16_tokens_macs_and_parameters():
    rows = typed.vit_b16()
    tokens = (224 // 16) ** 2 + 1
    assert tokens == 197 and {r.M for r in rows if r.repeat == 12} == {197}
    assert rows[0] == TypedLayer("patch_embed", "GEMM", G=1, M=196, N=768, K=3 * 16 * 16)
    macs = sum(r.macs() for r in rows)
    assert macs == 196 * 768 * 768 + transformer_macs(12, 197, 768, 3072) + 768 * 1000
    assert round(macs / 1e9, 1) == 17.6  # DeiT-B = ViT-B/16 at 224: 17.6 GFLOPs (= GMACs)
    extra = 768 + 197 * 768 + 2 * 768  # class token, position embeddings, final LayerNorm
    total = table_params(rows) + layer_norms(rows, 768) + extra
    assert total == 86_567_656 and int(total / 1e6) == 86  # "86M" (Dosovitskiy et al., Table 1)


def test_resnext50_grouped_parameters_and_macs():
    rows = typed.resnext50_32x4d()
    grouped = [r for r in rows if r.type == "NGCONV"]
    assert len(rows) == 54 and len(grouped) == 16
    # 32 groups of width 4, 8, 16, 32 (x 2^stage): K = C = width per group
    assert sorted({(r.G, r.K, r.C) for r in grouped}) == [(32, 4, 4), (32, 8, 8), (32, 16, 16), (32, 32, 32)]
    assert sum(1 for r in rows if r.stride == 2) == 7
    weights = sum((r.G or 1) * r.K * r.C * r.R * r.S for r in rows if r.type != "GEMM")
    batch_norm = sum(2 * (r.G or 1) * r.K for r in rows if r.type != "GEMM")
    fc = 2048 * 1000 + 1000
    assert weights + batch_norm + fc == 25_028_904  # torchvision resnext50_32x4d, "25.0M" (paper)
    macs = sum(r.macs() for r in rows)
    assert macs == workloads.load("corrected/resnext50_32x4d").macs() and round(macs / 1e9, 2) == 4.23


def test_unet_follows_figure_1():
    rows = typed.unet()
    assert len(rows) == 23  # "In total the network has 23 convolutional layers"
    assert [r.layer for r in rows if r.type == "TRCONV"] == [f"up{i}_upconv" for i in (4, 3, 2, 1)]
    assert (rows[0].C, rows[0].Y) == (1, 572) and (rows[-1].K, rows[-1].Y, rows[-1].R) == (2, 388, 1)
    # Independent closed form: a level of two unpadded 3x3 convs on s, widths per level.
    expected, s, c = 0, 572, 1
    for level, k in enumerate((64, 128, 256, 512, 1024)):
        expected += 9 * k * (c * (s - 2) ** 2 + k * (s - 4) ** 2)
        s, c = (s - 4) // 2 if level < 4 else s - 4, k
    for k in (512, 256, 128, 64):
        expected += 4 * k * c * s * s  # 2x2 up-conv on s x s, to 2s x 2s
        s *= 2
        expected += 9 * k * (2 * k * (s - 2) ** 2 + k * (s - 4) ** 2)
        s, c = s - 4, k
    assert s == 388
    expected += 2 * 64 * 388 * 388
    assert sum(r.macs() for r in rows) == expected


@pytest.mark.parametrize("bad", [0, -1, 513, True, 1.5])
def test_bert_sequence_length_checked(bad):
    with pytest.raises(ValueError, match="seq_len must be"):
        typed.bert_base(bad)


# ----------------------------------------------------------- the Workload of a typed table
def test_workloads_keep_types_macs_and_shapes():
    for name, gen in typed.TYPED_MODELS.items():
        rows = gen()
        w = workloads.load(f"typed/{name}")
        assert w.num_layers == len(rows) and w.macs() == sum(r.macs() for r in rows), name
        assert w.type.tolist() == [r.type for r in rows] and not w.type.flags.writeable
        assert w.uri == f"workload://typed/{name}" and "to_workload" in w.source
    gemm = to_workload([TypedLayer("g", "GEMM", G=12, M=128, N=64, K=32, repeat=3)], "g")
    assert gemm.layers.tolist() == [[64, 32, 128, 1, 1, 1, 1]] and gemm.repeat.tolist() == [36]
    ng = to_workload([TypedLayer("n", "NGCONV", G=32, K=4, C=4, Y=56, X=56, R=3, S=3, stride=2, pad=1)], "n")
    assert ng.layers.tolist() == [[128, 128, 56, 56, 3, 3, 1]] and ng.repeat.tolist() == [1]  # one layer
    assert (ng.stride.tolist(), ng.pad.tolist(), ng.groups.tolist(), ng.type.tolist()) == \
        ([2], [1], [32], ["NGCONV"])
    tr = TypedLayer("t", "TRCONV", K=8, C=8, Y=57, X=57, R=3, S=3, stride=2)  # windows overlap
    low = to_workload([tr], "t")
    assert low.layers.tolist() == [[8, 8, 57, 57, 3, 3, 1]] and low.macs() == tr.macs() == 8 * 8 * 9 * 28 * 28
    dw = to_workload([TypedLayer("d", "DSCONV", C=32, Y=112, X=112, R=3, S=3, pad=1)], "d")
    assert dw.layers.tolist() == [[1, 32, 112, 112, 3, 3, 2]] and dw.groups.tolist() == [32]
    assert workloads.load("corrected/vgg16").type.tolist() == ["CONV"] * 16
    assert workloads.LAYER_TYPES == cm.LAYER_TYPES  # one list, the engine's


@pytest.mark.parametrize("kinds,words", [
    (["FC"], "type must hold 1 of CONV, DSCONV, NGCONV, TRCONV, GEMM"),
    (["CONV", "CONV"], "type must hold 1 of"),
    (["DSCONV"], "the DSCONV rows must be those with T = 2"),
])
def test_workload_type_column_checked(kinds, words):
    with pytest.raises(ValueError, match=words):
        workloads.Workload("x", np.array([[1, 1, 1, 1, 1, 1, 1]]), type=kinds)


def test_workload_repeat_column():
    w = workloads.load("typed/bert_base")
    assert w.repeat.tolist() == [12 * g for g in (1, 1, 1, 12, 12, 1, 1, 1)] + [1]
    assert not w.repeat.flags.writeable
    assert workloads.load("corrected/vgg16").repeat.tolist() == [1] * 16
    for bad in (0, workloads.MAX_REPEAT + 1):
        with pytest.raises(ValueError, match=r"repeat must be in \[1, 65536\]"):
            workloads.Workload("x", np.array([[1, 1, 1, 1, 1, 1, 1]]), repeat=np.array([bad]))


@pytest.mark.parametrize("row,words", [
    (TypedLayer("a", "FC", K=1), "type 'FC' is not allowed; allowed: CONV, DSCONV, NGCONV, TRCONV, GEMM"),
    (TypedLayer("a", "GEMM", G=1, M=4, N=4), "GEMM needs K >= 1 (and below 2**63), got None"),
    (TypedLayer("a", "GEMM", G=1, M=4, N=4, K=4, Y=3), "GEMM has no dimension Y"),
    (TypedLayer("a", "CONV", K=1, C=1, Y=2, X=2, R=3, S=3), "kernel is larger"),
    (TypedLayer("a", "GEMM", G=1, M=4, N=4, K=4, stride=2), "a GEMM has no stride"),
    (TypedLayer("a", "CONV", K=1, C=1, Y=2, X=2, R=1, S=1, repeat=0), "repeat must be an integer in [1, 65536]"),
    (TypedLayer("a", "GEMM", G=1, M=2**63, N=4, K=4), "needs M >= 1 (and below 2**63), got 9223372036854775808"),
    (TypedLayer("a", "GEMM", G=4096, M=4, N=4, K=4, repeat=20), "repeat x G = 81920 is more than 65536"),
    (TypedLayer("a", "GEMM", G=True, M=4, N=4, K=4), "GEMM needs G >= 1 (and below 2**63), got True"),
])
def test_invalid_rows_get_one_clear_error(row, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        typed.check(row, "t")


# ----------------------------------------------------------- files
def test_generated_typed_tables_round_trip(tmp_path):
    assert generate.check(generate.PACKAGE_DIR / "typed", "typed") == []
    assert generate.main(["--set", "typed", "--check"]) == 0
    paths = generate.generate(tmp_path, "typed")
    assert sorted(p.stem for p in paths) == sorted(typed.TYPED_MODELS)
    for p in paths:
        rows = typed.parse_csv(p.read_text(), str(p))
        assert rows == typed.TYPED_MODELS[p.stem]()
        with open(p, newline="") as f:
            header, *cells = list(csv.reader(f))
        assert tuple(header) == typed.COLUMNS and len(cells) == len(rows)
    (tmp_path / "unet.csv").write_text("layer,type\n")
    assert generate.check(tmp_path, "typed") == ["unet.csv"]


@pytest.mark.parametrize("text,words", [
    ("K,C\n", "line 1: the header must be layer,type,G"),
    (",".join(typed.COLUMNS) + "\n", "no layer rows"),
    (",".join(typed.COLUMNS) + "\nq,GEMM,1,4,,,,,,4,x,1,0,1\n", "line 2: column N: 'x' is not"),
    (",".join(typed.COLUMNS) + "\nq,GEMM,1,4,,,,,,4,-4,1,0,1\n", "line 2: column N: '-4' is not"),
    (",".join(typed.COLUMNS) + "\nq,GEMM,1,4,,,,,,4,4,1,0\n", "line 2: expected 14 values, got 13"),
    (",".join(typed.COLUMNS) + "\nq,CONV,1,4,4,4,4,1,1,,,1,0,1\n", "CONV has no dimension G"),
    (",".join(typed.COLUMNS) + "\nq,GEMM,1,4,,,,,,99999999999999999999,4,1,0,1\n", "below 2\\*\\*63"),
])
def test_load_csv_errors(tmp_path, text, words):
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(ValueError, match=words) as err:
        typed.load_csv(p)
    assert str(p) in str(err.value) and "\n" not in str(err.value)


def test_load_csv_user_file(tmp_path):
    p = tmp_path / "mine.csv"
    p.write_text(typed.to_csv(typed.bert_base(64)))
    w = typed.load_csv(p)
    assert w.name == "mine" and w.macs() == transformer_macs(12, 64, 768, 3072) + 768 * 768
    p.write_text(",".join(typed.COLUMNS) + "\nq,GEMM,1,4,,,,,,4,4,,,\n")  # stride, pad, repeat: defaults
    assert typed.parse_csv(p.read_text(), "t") == [TypedLayer("q", "GEMM", G=1, M=4, N=4, K=4)]


# ----------------------------------------------------------- environments
NEW_IDS = {"HWResource-BERT-v0": "typed/bert_base", "HWResource-GPT2-v0": "typed/gpt2_small",
           "HWResource-ViT-v0": "typed/vit_b16", "HWResource-ResNeXt50-Grouped-v0": "typed/resnext50_32x4d",
           "HWResource-UNet-v0": "typed/unet"}


def test_registered_variants():
    assert {v[0] for v in archgym.HW_TYPED_MODELS.values()} == {i[11:-3] for i in NEW_IDS}
    for env_id, workload in NEW_IDS.items():
        kwargs = gym.spec(env_id).kwargs
        assert kwargs["workload"] == workload and kwargs["stride_aware"] == "maestro"
        assert kwargs["dataflow"] == ("dla" if workload in ("typed/resnext50_32x4d", "typed/unet") else "gemm")
        env = gym.make(env_id)
        env.reset(seed=0)
        assert env.unwrapped.setup.num_layers == workloads.load(workload).num_layers
        env.close()


@pytest.mark.parametrize("objective", ["latency", "energy", "edp"])
def test_repeat_counts_like_copies_with_the_same_action(objective):
    """A row with repeat r gives the figures of r copies of the row, all given that action."""
    w = workloads.load("typed/vit_b16")
    copies = np.repeat(np.arange(w.num_layers), w.repeat)
    expanded = workloads.Workload("expanded", w.layers[copies], w.stride[copies], w.pad[copies],
                                  w.groups[copies], type=w.type[copies])
    totals = []
    for table in (w, expanded):
        env = HWResourceEnv(workload=table, dataflow="gemm", mul=1.0, objective=objective,
                            reward_mode="plain")
        env.reset(seed=0)
        done = False
        while not done:
            _, reward, done, _, info = env.step([6, 2])
        totals.append({**info, "reward": reward})
        assert env.setup.num_layers == table.num_layers
    assert totals[0]["total_cycles"] == totals[1]["total_cycles"]
    assert sum(r["macs"] for r in totals[0]["per_layer"]) == w.macs()
    for key in ("total_energy", "total_area", "total_power", "budget", "objective", "reward"):
        assert totals[0][key] == pytest.approx(totals[1][key], rel=1e-12), key


def test_unknown_named_dataflow_lists_gemm():
    with pytest.raises(ValueError, match="allowed: dla, shi, eye, gemm, 'choose'"):
        HWResourceEnv(dataflow="tpu")


# ----------------------------------------------------------- the real MAESTRO
REFERENCE_CASES = 51
NATIVE_CASES = {  # the real MAESTRO's cases of a native type -> the typed row
    "gemm_M128_N768_K768": TypedLayer("q_proj", "GEMM", G=1, M=128, N=768, K=768),
    "gemm_M128_N128_K64": TypedLayer("attn_scores", "GEMM", G=1, M=128, N=128, K=64),
    "gemm_M128_N64_K128": TypedLayer("attn_context", "GEMM", G=1, M=128, N=64, K=128),
    "gemm_M128_N768_K3072": TypedLayer("mlp_down", "GEMM", G=1, M=128, N=768, K=3072),
    "gemm_M1_N768_K768": TypedLayer("pooler", "GEMM", G=1, M=1, N=768, K=768),
    "ngconv_G32_K4_C4_Y56": TypedLayer("g1", "NGCONV", G=32, K=4, C=4, Y=56, X=56, R=3, S=3),
    "ngconv_G32_K8_C8_Y28": TypedLayer("g2", "NGCONV", G=32, K=8, C=8, Y=28, X=28, R=3, S=3),
    # ResNeXt-50's stride-2 grouped conv: 56 x 56 padded by 1 is MAESTRO's 58 x 58 input
    "ngconv_G32_K8_C8_Y58_stride2": TypedLayer("g3", "NGCONV", G=32, K=8, C=8, Y=56, X=56, R=3, S=3,
                                               stride=2, pad=1),
    "trconv_K64_C128_R2_Y56_stride2": TypedLayer("up1", "TRCONV", K=64, C=128, Y=56, X=56, R=2, S=2,
                                                 stride=2),
    "trconv_K512_C1024_R2_Y56_stride2": TypedLayer("up4", "TRCONV", K=512, C=1024, Y=56, X=56, R=2,
                                                   S=2, stride=2),
}


def maestro_lines(reference_dir) -> dict[tuple[str, int, int], str]:
    """(case, P, B) -> MAESTRO's CSV row, as it printed it."""
    lines = (reference_dir / "maestro" / "layer_types" / "layer_types.csv").read_text().splitlines()
    out = {}
    for line in lines[1:]:
        case, P, B, row = line.split(",", 3)
        out[(case, int(P), int(B))] = row
    assert len(out) == REFERENCE_CASES
    return out


def test_native_types_match_maestro_on_every_column(reference_dir):
    """Every GEMM, NGCONV and TRCONV case of the real MAESTRO, as the registered typed
    variants evaluate it (their dataflow, stride_aware="maestro", one action), prints
    MAESTRO's row byte for byte, and the step's figures are that row's."""
    matched = 0
    for (case, P, B), real in maestro_lines(reference_dir).items():
        if case not in NATIVE_CASES:
            continue
        row = NATIVE_CASES[case]
        env = HWResourceEnv(workload=to_workload([row], case), mul=1.0, stride_aware="maestro",
                            dataflow="gemm" if row.type == "GEMM" else "dla")
        env.reset(seed=0)
        pe, tile = list(PE_LEVELS).index(P), list(TILE_LEVELS).index(B)
        result = env.setup.evaluate(np.array([0]), np.array([pe]), np.array([tile]), np.array([0]))
        columns = maestro.columns(result.row(0), cm.Hardware(num_pes=P), "maestro2021", "L", "0")
        assert maestro.format_row(columns) == real, (case, P, B)
        info = env.step([pe, tile])[4]
        assert (info["cycles"], info["macs"], info["l1_size"], info["l2_size"]) == (
            columns["Runtime (Cycles)"], columns["Num MACs"], columns["L1 SRAM Size Req (Bytes)"],
            columns["L2 SRAM Size Req (Bytes)"]) == (result["runtime"][0], row.macs(),
                                                     result["l1_size"][0], result["l2_size"][0])
        for key, column in (("energy", "Activity count-based Energy (nJ)"), ("area", "Area"),
                            ("power", "Power")):
            assert info[key] == columns[column], (case, key)
        matched += 1
    assert matched == 3 * len(NATIVE_CASES) == 30


def test_ngconv_is_one_layer_run_group_by_group():
    """A grouped conv is one NGCONV layer on the chosen dataflow with TemporalMap(1,1) G first
    (MAESTRO's ResNeXt mappings); ordinary rows of the same table keep the plain dataflow."""
    rows = [TypedLayer("c", "CONV", K=8, C=8, Y=8, X=8, R=3, S=3),
            TypedLayer("g", "NGCONV", G=4, K=2, C=2, Y=8, X=8, R=3, S=3)]
    env = HWResourceEnv(workload=to_workload(rows, "t"), mul=1.0, stride_aware="maestro")
    env.reset(seed=0)
    infos = [env.step([3, 1])[4] for _ in rows]
    hw, consts = cm.Hardware(num_pes=8), cm.confuciux_constants(pes=8, tile=2)
    dla = cm.DATAFLOWS["dla"]
    want_conv = cm.evaluate(cm.Layer(K=8, C=8, Y=8, X=8, R=3, S=3), dla, hw, consts)
    grouped = cm.Dataflow.parse("TemporalMap(1,1) G;\n" + str(dla)[len("Dataflow {"):-1]
                                ).with_params(cm.CONFUCIUX_CONSTANTS)
    want_ng = cm.evaluate(cm.Layer(K=2, C=2, Y=8, X=8, R=3, S=3, type="NGCONV", G=4), grouped, hw, consts)
    assert [i["cycles"] for i in infos] == [want_conv["runtime"], want_ng["runtime"]]
    assert infos[1]["macs"] == rows[1].macs() == 4 * 2 * 2 * 9 * 36


@pytest.mark.parametrize("bad", ["yes", 2, None])
def test_stride_aware_values_checked(bad):
    with pytest.raises(ValueError, match="stride_aware must be False, True or 'maestro'"):
        HWResourceEnv(stride_aware=bad)


def test_gemm_preset_is_a_named_dataflow():
    df = cm.DATAFLOWS["gemm"]
    assert df.params == cm.CONFUCIUX_CONSTANTS and len(df.levels) == 2
    assert [d.var for d in df.levels[0]] == ["K", "Y", "C"] and [d.kind for d in df.levels[1]] == ["T", "T", "S"]


def test_readme_table_is_the_summary(capsys):
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert typed.main([]) == 0
    printed = capsys.readouterr().out
    for row in typed.summary():
        line = next(ln for ln in readme.splitlines() if f"| `{row['workload']}` |" in ln)
        cells = [c.strip() for c in line.split("|")]
        assert cells[4:7] == [str(row["rows"]), str(row["engine_layers"]), f"{row['gmacs']:.2f}"], line
        env_id = cells[1].strip("`")
        assert gym.spec(env_id).kwargs["workload"] == row["workload"]
        assert cells[7] == f"`{gym.spec(env_id).kwargs['dataflow']}`"
        assert f"| `{row['workload']}` | {row['rows']} | {row['engine_layers']} |" in printed


def test_vector_env_counts_repeat_like_the_single_env():
    venv = gym.make_vec("HWResource-BERT-v0", num_envs=2, vectorization_mode="vector_entry_point")
    single = gym.make("HWResource-BERT-v0")
    venv.reset(seed=0)
    single.reset(seed=0)
    for t in range(9):
        action = np.array([t % 12, (5 * t) % 12])
        _, rewards, _, _, vinfo = venv.step(np.stack([action, action]))
        _, reward, _, _, info = single.step(action)
        assert vinfo["cycles"][0] == vinfo["cycles"][1] == info["cycles"]
        assert vinfo["macs"][0] == info["macs"] and vinfo["area"][0] == pytest.approx(info["area"], rel=1e-12)
        assert rewards[0] == pytest.approx(reward, rel=1e-12)


@pytest.mark.parametrize("repeat,words", [
    ("65537", "line 2: column repeat: 65537 is not allowed, must be at most 65536"),
    ("0", "line 2: column repeat: 0 is not allowed, must be an integer >= 1"),
])
def test_plain_table_repeat_column(tmp_path, repeat, words):
    p = tmp_path / "r.csv"
    p.write_text("K,C,Y,X,R,S,T,repeat\n8,8,4,4,1,1,1,3\n")
    w = workloads.load_csv(p)
    assert w.repeat.tolist() == [3] and w.macs() == 3 * 8 * 8 * 4 * 4
    p.write_text(f"K,C,Y,X,R,S,T,repeat\n8,8,4,4,1,1,1,{repeat}\n")
    with pytest.raises(ValueError, match=words):
        workloads.load_csv(p)
