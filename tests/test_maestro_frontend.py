"""The MAESTRO-compatible front end (``python -m archgym.costmodel.maestro``).

* Every row of the four MAESTRO reference CSVs, rebuilt as the mapping file
  ConfuciuX writes (tests/data/reference/maestro/README.md), goes through the text
  path (parse -> evaluate -> columns) and through ``evaluate_batch`` ->
  ``columns``; every MAESTRO column is compared (ints exactly, floats to 1e-5
  relative, nan == nan), and the printed strings must equal the reference's.
* The command line end to end: CSV name rule, raw header, row text, append
  mode, unknown flags, HW file, 2020 preset, multi-layer energy carry-over,
  degenerate rows.
* Errors: exit code 1 and a message with the line number, never a traceback.
"""

from __future__ import annotations

import csv
import math
import os
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from conftest import REFERENCE_DIR

from archgym import costmodel as cm
from archgym.costmodel import maestro

DATAFLOW_DIR = Path(__file__).resolve().parents[1] / "src" / "archgym" / "costmodel" / "dataflows"
REFERENCE_FILES = {  # file -> preset
    "confuciux_grid_mobilenet_v2.csv": "maestro2021",
    "confuciux_grid_mobilenet_v2_maestro2020.csv": "maestro2020",
    "bandwidth_sweep_mobilenet_v2.csv": "maestro2021",
    "mobilenet_v2_full_P64_B4.csv": "maestro2021",
}
E_MAC = 0.00023  # HEAD's MAC energy; the L2 and L1 terms are 18.61 and 1.68 times it

# The flags ConfuciuX passes to MAESTRO HEAD (README "Invocation"), minus the mapping and P.
CONFUCIUX_FLAGS = [
    "--full_buffer=false", "--noc_bw_cstr=81920000", "--noc_hops=1", "--noc_hop_latency=1",
    "--noc_mc_support=true", "--num_simd_lanes=1", "--l1_size_cstr=819200000",
    "--l2_size_cstr=819200000", "--print_res=false", "--print_res_csv_file=true",
    "--print_log_file=false", "--print_design_space=false", "--msg_print_lv=0",
]


# ----------------------------------------------------------------- helpers
@lru_cache(maxsize=None)
def dataflow_text(name: str) -> str:
    return (DATAFLOW_DIR / f"{name}.m").read_text()


def mapping_text(row: dict) -> str:
    """The mapping file ConfuciuX writes for one reference row (README "Mapping file")."""
    kind = row["layer_type"]
    return (f"Constant KTileSz {row['B']};\n"
            f"Constant CTileSz 1;\n"
            f"Constant ClusterSz {row['P']};\n"
            f"Network 0 {{\n"
            f"Layer {kind} {{\n"
            f"Type: {kind}\n"
            f"Dimensions {{ K: {row['K']}, C: {row['C']}, Y: {row['Y']}, X: {row['X']}, "
            f"R: {row['R']}, S: {row['S']} }}\n"
            + dataflow_text(row["dataflow"]) + "}\n}\n")


def layer_block(name: str, kind: str, dims: str, dataflow: str | None) -> str:
    body = f"Layer {name} {{\nType: {kind}\nDimensions {{ {dims} }}\n"
    return body + (dataflow_text(dataflow) if dataflow else "") + "}\n"


def confuciux_constants(pes: int, tile: int) -> str:
    return f"Constant KTileSz {tile};\nConstant CTileSz 1;\nConstant ClusterSz {pes};\n"


@lru_cache(maxsize=None)
def _read_reference(path: Path) -> tuple[list[str], list[dict]]:
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames), list(reader)


@pytest.fixture
def maestro_ref(reference_dir) -> Path:
    path = reference_dir / "maestro"
    assert path.is_dir(), f"{path} is missing"
    return path


def maestro_columns(fieldnames: list[str]) -> list[str]:
    """The reference's MAESTRO columns: everything from 'Neural Network Name' on."""
    return fieldnames[fieldnames.index("Neural Network Name"):]


def same_value(name: str, ours, ref: str) -> bool:
    if name in maestro.INT_COLUMNS:
        return isinstance(ours, int) and ours == int(ref)
    if isinstance(ours, str):
        return ours == ref
    expected = float(ref)
    if math.isnan(expected) or math.isnan(ours):
        return math.isnan(expected) and math.isnan(ours)
    return math.isclose(ours, expected, rel_tol=1e-5)


def compare(rows: list[dict], ours: list[dict], names: list[str]) -> list[str]:
    """Every column of every row; returns readable mismatches (empty = all equal)."""
    problems = []
    for i, (ref, got) in enumerate(zip(rows, ours, strict=True)):
        assert list(got) == names, "column names or order differ from the reference"
        for name in names:
            if not same_value(name, got[name], ref[name]):
                problems.append(f"row {i} ({ref['dataflow']} layer {ref['layer_idx']} "
                                f"P={ref['P']} B={ref['B']}): {name}: {got[name]!r} vs {ref[name]}")
            elif maestro.format_value(got[name]) != ref[name]:
                problems.append(f"row {i}: {name} printed {maestro.format_value(got[name])!r}, "
                                f"MAESTRO printed {ref[name]!r}")
    return problems


def run_cli(*args: str) -> int:
    return maestro.main(list(args))


# ----------------------------------------------------------------- reference rows
@pytest.mark.parametrize("filename", REFERENCE_FILES)
def test_reference_rows_through_mapping_text(maestro_ref, filename):
    """Every row: mapping text -> parse -> evaluate -> columns == MAESTRO's CSV row."""
    preset = REFERENCE_FILES[filename]
    fieldnames, rows = _read_reference(maestro_ref / filename)
    names = maestro_columns(fieldnames)
    ours = []
    for row in rows:
        hw = cm.Hardware(num_pes=int(row["P"]), noc_bw=int(row["noc_bw_cstr"]))
        (columns,) = maestro.run_mapping(mapping_text(row), hw, preset=preset)
        ours.append(columns)
    problems = compare(rows, ours, names)
    assert not problems, f"{len(problems)} mismatches in {len(rows)} rows:\n" + \
        "\n".join(problems[:20])


@pytest.mark.parametrize("filename", REFERENCE_FILES)
def test_reference_rows_through_batch(maestro_ref, filename):
    """Every row again, evaluated in batches (one per dataflow) and passed to columns()."""
    preset = REFERENCE_FILES[filename]
    fieldnames, rows = _read_reference(maestro_ref / filename)
    names = maestro_columns(fieldnames)
    ours: list[dict | None] = [None] * len(rows)
    for df_name in sorted({row["dataflow"] for row in rows}):
        idx = [i for i, row in enumerate(rows) if row["dataflow"] == df_name]
        sel = [rows[i] for i in idx]
        layers = np.array([[int(r["layer_type"] == "DSCONV"), int(r["K"]), int(r["C"]), int(r["R"]),
                            int(r["S"]), int(r["Y"]), int(r["X"]), 0, 0, 1, 1] for r in sel])
        hw = np.array([[int(r["P"]), 1, int(r["noc_bw_cstr"]), 1, 1, 70_000] for r in sel])
        consts = {"KTileSz": [int(r["B"]) for r in sel], "ClusterSz": [int(r["P"]) for r in sel],
                  "CTileSz": 1}
        dataflow = cm.Dataflow.parse(dataflow_text(df_name), name=df_name)
        batch = cm.evaluate_batch(layers, dataflow, hw, consts, preset=preset)
        for j, i in enumerate(idx):
            hardware = cm.Hardware(num_pes=int(rows[i]["P"]), noc_bw=int(rows[i]["noc_bw_cstr"]))
            ours[i] = maestro.columns(batch.row(j), hardware, preset, rows[i]["layer_type"], "0")
    problems = compare(rows, ours, names)
    assert not problems, f"{len(problems)} mismatches in {len(rows)} rows:\n" + \
        "\n".join(problems[:20])


def test_column_tables_match_reference_headers(maestro_ref):
    for filename, preset in REFERENCE_FILES.items():
        fieldnames, _ = _read_reference(maestro_ref / filename)
        assert list(maestro.COLUMNS[preset]) == maestro_columns(fieldnames), filename


# ----------------------------------------------------------------- command line
def oracle_header() -> str:
    """The header line of a CSV the real MAESTRO (HEAD) wrote, byte for byte."""
    path = REFERENCE_DIR / "maestro" / "mapping_outputs" / "P64" / "vgg16_nlr.csv"
    return path.read_text().splitlines()[0]


def padded(values: list[str], names: list[str]) -> str:
    """A CSV line as MAESTRO writes it: one space before each field from "input l1 write" on."""
    start = names.index("input l1 write")
    return ",".join((" " if i >= start else "") + v for i, v in enumerate(values))


def find_row(rows, **match) -> dict:
    return next(r for r in rows if all(r[k] == str(v) for k, v in match.items()))


def test_cli_reference_invocation(maestro_ref, tmp_path, monkeypatch, capsys):
    fieldnames, rows = _read_reference(maestro_ref / "confuciux_grid_mobilenet_v2.csv")
    names = maestro_columns(fieldnames)
    ref = find_row(rows, layer_idx=0, dataflow="eye", P=48, B=7)
    (tmp_path / "data" / "mapping").mkdir(parents=True)
    (tmp_path / "data" / "mapping" / "confx.layer.m").write_text(mapping_text(ref))
    monkeypatch.chdir(tmp_path)
    argv = ["--Mapping_file=data/mapping/confx.layer.m", "--num_pes=48", *CONFUCIUX_FLAGS]

    assert run_cli(*argv) == 0
    out = tmp_path / "confx.csv"  # two leading dirs dropped, cut at the first '.'
    lines = out.read_text().splitlines()
    assert lines[0] == oracle_header()
    assert lines[0].count("Compute Delay (Min)") == 2
    assert " Runtime (Cycles)," in lines[0] and ",  L2 SRAM Size Req (Bytes)," in lines[0]
    assert lines[1] == padded([ref[name] for name in names], names)
    assert len(lines) == 2
    assert capsys.readouterr().out == ""  # --print_res=false prints nothing

    # append mode: a second run adds a row and no second header
    assert run_cli(*argv) == 0
    lines = out.read_text().splitlines()
    assert len(lines) == 3 and lines[2] == lines[1]
    assert sum(line.startswith("Neural Network Name") for line in lines) == 1


def test_cli_maestro2020_names(maestro_ref, tmp_path, monkeypatch):
    fieldnames, rows = _read_reference(maestro_ref / "confuciux_grid_mobilenet_v2_maestro2020.csv")
    names = maestro_columns(fieldnames)
    ref = find_row(rows, layer_idx=1, dataflow="dpt", P=12, B=5)
    (tmp_path / "dw.m").write_text(mapping_text(ref))
    monkeypatch.chdir(tmp_path)
    flags = [f.replace("_cstr", "") for f in CONFUCIUX_FLAGS]  # --noc_bw, --l1_size, --l2_size
    assert run_cli("--Mapping_file=dw.m", "--num_pes=12", "--preset=maestro2020", *flags) == 0
    lines = (tmp_path / "dw.csv").read_text().splitlines()
    assert [h.strip() for h in lines[0].split(",")] == [
        "Compute Delay (Min)" if n == "Compute Delay (Max)" else n for n in names]
    assert "Offchip" not in lines[0] and " NoC BW (Elements/cycle)" in lines[0]
    assert lines[1] == padded([ref[name] for name in names], names)


def test_cli_2020_names_default_to_2021_columns(tmp_path, monkeypatch):
    (tmp_path / "x.m").write_text(confuciux_constants(8, 2) + "Network 0 {\n"
                                  + layer_block("L", "CONV", "K: 8, C: 4, Y: 6, X: 6, R: 3, S: 3",
                                                "dla") + "}\n")
    monkeypatch.chdir(tmp_path)
    assert run_cli("--Mapping_file=x.m", "--num_pes=8", "--noc_bw=64", "--l1_size=100",
                   "--l2_size=1000", "--print_res=false") == 0
    header, row = (tmp_path / "x.csv").read_text().splitlines()
    assert "Offchip BW Req (Elements/cycle)" in header
    values = dict(zip(maestro.COLUMNS["maestro2021"], row.split(",")))
    hw = cm.Hardware(num_pes=8, noc_bw=64)
    (direct,) = maestro.run_mapping(tmp_path / "x.m", hw)
    assert values["Area"] == maestro.format_value(direct["Area"])  # noc_bw reached the model


def test_csv_name_rule():
    assert maestro.csv_name("foo.m") == "foo.csv"
    assert maestro.csv_name("data/mapping/foo.m") == "foo.csv"
    assert maestro.csv_name("a/b/c/foo.m") == "c/foo.csv"
    assert maestro.csv_name("./x/foo.m") == "foo.csv"
    assert maestro.csv_name("dir/foo.bar.m") == "foo.csv"
    assert maestro.csv_name("foo") == "foo.csv"


def test_unknown_flag_warns(tmp_path, monkeypatch, capsys):
    (tmp_path / "x.m").write_text(confuciux_constants(4, 1) + "Network 0 {\n"
                                  + layer_block("L", "CONV", "K: 4, C: 4, Y: 5, X: 5, R: 1, S: 1",
                                                "shi") + "}\n")
    monkeypatch.chdir(tmp_path)
    assert run_cli("--Mapping_file=x.m", "--num_pes=4", "--made_up_flag=3", "--print_res=true") == 0
    captured = capsys.readouterr()
    assert "--made_up_flag" in captured.err and "warning" in captured.err
    assert "runtime" in captured.out  # --print_res=true prints a summary
    assert (tmp_path / "x.csv").exists()


def test_hw_file(tmp_path, monkeypatch):
    mapping = confuciux_constants(16, 2) + "Network 0 {\n" + layer_block(
        "L", "CONV", "K: 16, C: 8, Y: 10, X: 10, R: 3, S: 3", "eye") + "}\n"
    (tmp_path / "x.m").write_text(mapping)
    (tmp_path / "hw.m").write_text("num_pes: 16\nl1_size_cstr: 100\nl2_size_cstr: 3000\n"
                                   "noc_bw_cstr: 8\noffchip_bw_cstr: 50\n")
    monkeypatch.chdir(tmp_path)
    assert run_cli("--Mapping_file=x.m", "--HW_file=hw.m", "--print_res=false") == 0
    row = (tmp_path / "x.csv").read_text().splitlines()[1].split(",")
    unset = cm.MAESTRO_DEFAULTS  # flags not given take MAESTRO's defaults
    (want,) = maestro.run_mapping(mapping, cm.Hardware(**{**unset, "num_pes": 16, "noc_bw": 8,
                                                          "offchip_bw": 50}))
    assert row == maestro.format_row(want).split(",")
    # a command-line flag wins over the HW file
    assert run_cli("--Mapping_file=x.m", "--HW_file=hw.m", "--noc_bw_cstr=2",
                   "--print_res=false") == 0
    row = (tmp_path / "x.csv").read_text().splitlines()[2].split(",")
    (want,) = maestro.run_mapping(mapping, cm.Hardware(**{**unset, "num_pes": 16, "noc_bw": 2,
                                                          "offchip_bw": 50}))
    assert row == maestro.format_row(want).split(",")


def _energy_terms(row: dict) -> tuple[float, float]:
    """(L2 term, L1 term) of MAESTRO's energy, from the printed access counts."""
    l2 = sum(row[f"{t} l2 {op}"] for t in ("input", "filter") for op in ("read", "write"))
    l2 += row["output l2 write"]
    l1 = sum(row[f"{t} l1 {op}"] for t in ("input", "filter", "output") for op in ("read", "write"))
    return E_MAC * 18.61 * l2, E_MAC * 1.68 * l1


def test_multi_layer_file_energy_and_dataflow_reuse(tmp_path, monkeypatch):
    """Layers A, B and D are dla; C is DSCONV with dpt (one level)."""
    dims_a = "K: 32, C: 16, Y: 20, X: 20, R: 3, S: 3"
    dims_b = "K: 24, C: 32, Y: 18, X: 18, R: 1, S: 1"
    dims_c = "K: 1, C: 24, Y: 18, X: 18, R: 3, S: 3"
    dims_d = "K: 40, C: 24, Y: 16, X: 16, R: 1, S: 1"
    text = (confuciux_constants(16, 3) + "// four layers\nNetwork net {\n"
            + layer_block("A", "CONV", dims_a, "dla") + layer_block("B", "CONV", dims_b, "dla")
            + layer_block("C", "DSCONV", dims_c, "dpt") + layer_block("D", "CONV", dims_d, "dla")
            + "}\n")
    (tmp_path / "net.m").write_text(text)
    monkeypatch.chdir(tmp_path)
    assert run_cli("--Mapping_file=net.m", "--num_pes=16", *CONFUCIUX_FLAGS) == 0
    lines = (tmp_path / "net.csv").read_text().splitlines()
    assert len(lines) == 5 and [line.split(",")[:2] for line in lines[1:]] == \
        [["net", "A"], ["net", "B"], ["net", "C"], ["net", "D"]]

    hw = cm.Hardware(num_pes=16)
    a, b, c, d = maestro.run_mapping(text, hw)
    assert [maestro.format_row(r) for r in (a, b, c, d)] == lines[1:]
    energy = "Activity count-based Energy (nJ)"
    (l2_a, l1_a), (l2_b, _), (l2_c, l1_c), (l2_d, _) = map(_energy_terms, (a, b, c, d))
    assert a[energy] == pytest.approx(l2_a, rel=1e-12)  # first two-level layer: no L1 term
    assert b[energy] == pytest.approx(l2_b + l1_a, rel=1e-12)  # carries A's L1 term
    assert c[energy] == pytest.approx(l2_c + l1_c, rel=1e-12)  # one level: its own L1 term
    assert d[energy] == pytest.approx(l2_d + l1_c, rel=1e-12)  # carries C's L1 term

    # B alone, with its dataflow written out, gives the same row except the energy terms
    alone_text = confuciux_constants(16, 3) + "Network net {\n" + layer_block(
        "B", "CONV", dims_b, "dla") + "}\n"
    (alone,) = maestro.run_mapping(alone_text, hw)
    energy_columns = {energy, "Throughput Per Energy (GMACs/s*J)", "Ops/J"}
    assert {k: v for k, v in alone.items() if k not in energy_columns} == \
        {k: v for k, v in b.items() if k not in energy_columns}
    assert alone[energy] == pytest.approx(l2_b, rel=1e-12)

    # --compat=false: every layer reports MAC + L1 + L2 energy of its own
    monkeypatch.chdir(tmp_path)
    for row in maestro.run_mapping(text, hw, compat=False):
        l2, l1 = _energy_terms(row)
        assert row[energy] == pytest.approx(E_MAC * row["Num MACs"] + l2 + l1, rel=1e-9)


def test_compat_false_corrects_output_l1_tile():
    text = confuciux_constants(64, 4) + "Network 0 {\n" + layer_block(
        "L", "CONV", "K: 64, C: 64, Y: 56, X: 56, R: 3, S: 3", "dla") + "}\n"
    (quirk,) = maestro.run_mapping(text, cm.Hardware(num_pes=64))
    (fixed,) = maestro.run_mapping(text, cm.Hardware(num_pes=64), compat=False)
    assert fixed["L1 SRAM Size Req (Bytes)"] < quirk["L1 SRAM Size Req (Bytes)"]
    assert fixed["Runtime (Cycles)"] == quirk["Runtime (Cycles)"]


def test_degenerate_row_printing():
    """eye with P <= Y <= P+R-2: no top case runs (docs/design/costmodel.md §7); MAESTRO's printing rules."""
    text = confuciux_constants(12, 4) + "Network 0 {\n" + layer_block(
        "L", "CONV", "K: 16, C: 16, Y: 13, X: 13, R: 3, S: 3", "eye") + "}\n"
    (row,) = maestro.run_mapping(text, cm.Hardware(num_pes=12))
    printed = {k: maestro.format_value(v) for k, v in row.items()}
    assert row["Runtime (Cycles)"] == 0 and row["Num MACs"] == 0
    assert printed["Throughput (MACs/Cycle)"] == "-nan"
    assert printed["Throughput Per Energy (GMACs/s*J)"] == "-nan"
    assert row["Activity count-based Energy (nJ)"] < 0
    assert printed["Ops/J"] == "-0"  # 0 MACs over a negative energy (as the real MAESTRO)
    assert printed["Avg BW Req"] == "-nan"
    for kind in ("Ingress", "Egress", "Compute"):
        assert printed[f"{kind} Delay (Min)"] == printed[f"{kind} Delay (Avg)"] == \
            "-9223372036854775808"
        assert printed[f"{kind} Delay (Max)"] == "0"
    assert printed["Avg number of utilized PEs"] == "0"
    assert printed["Arithmetic Intensity"] == "0"


def test_degenerate_row_refused_without_compat(tmp_path, monkeypatch, capsys):
    """MAESTRO prints the degenerate row (runtime 0, negative energy: checked with the real
    MAESTRO); compat keeps it, --compat=false refuses it with one line naming the layer."""
    text = confuciux_constants(12, 4) + "Network 0 {\n" + layer_block(
        "L", "CONV", "K: 16, C: 16, Y: 13, X: 13, R: 3, S: 3", "eye") + "}\n"
    (row,) = maestro.run_mapping(text, cm.Hardware(num_pes=12))
    assert row["Activity count-based Energy (nJ)"] < 0
    (tmp_path / "d.m").write_text(text)
    monkeypatch.chdir(tmp_path)
    assert run_cli("--Mapping_file=d.m", "--num_pes=12", "--compat=false") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "layer L" in err and "computes nothing" in err
    assert not (tmp_path / "d.csv").exists()


def test_batch_dimension_from_the_first_layer():
    """MAESTRO takes N from the first layer (checked with the real MAESTRO: a later
    layer without N fails, one with N keeps N in its loops but not in its tensors,
    tests/data/reference/maestro/mapping_files/archgym/ag_batch_mixed.m); archgym
    refuses the first and reproduces the second."""
    def layer(name, n):
        return layer_block(name, "CONV", n + "K: 8, C: 8, Y: 10, X: 10, R: 1, S: 1", "dpt")
    text = confuciux_constants(4, 2) + "Network 0 {\n" + layer("A", "N: 2, ") + layer("B", "")
    with pytest.raises(cm.ParseError, match=r"layer B: lacks the batch dimension N"):
        maestro.parse_mapping(text + "}\n")
    text = confuciux_constants(4, 2) + "Network 0 {\n" + layer("A", "") + layer("B", "N: 2, ")
    a, b = maestro.parse_mapping(text + "}\n")
    assert a.batch_in_tensors and not b.batch_in_tensors and b.layer.N == 2


def test_c_division_and_formatting():
    assert maestro.format_value(maestro.c_div(1, 0)) == "inf"
    assert maestro.format_value(maestro.c_div(-1, 0)) == "-inf"
    assert maestro.format_value(maestro.c_div(0, 0)) == "-nan"
    assert maestro.format_value(2.1972e12) == "2.1972e+12"
    assert maestro.format_value(0.3027131) == "0.302713"
    assert maestro.format_value(12.0) == "12"
    assert maestro.format_value(47312641) == "47312641"


def python_dash_m(module: str, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    src = str(Path(maestro.__file__).resolve().parents[2])
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("module", ["archgym.maestro", "archgym.costmodel.maestro"])
def test_python_dash_m_entry_point(module, tmp_path):
    (tmp_path / "bad.m").write_text("Network 0 {\nLayer L {\nType: CONV3D\n}\n}\n")
    proc = python_dash_m(module, tmp_path, "--Mapping_file=bad.m")
    assert proc.returncode == 1
    assert "line 3" in proc.stderr and "unknown layer type 'CONV3D'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_python_dash_m_archgym_maestro_writes_maestros_row(maestro_ref, tmp_path):
    """`python -m archgym.maestro` (the issue's name) runs the executable's code: MAESTRO's row."""
    fieldnames, rows = _read_reference(maestro_ref / "confuciux_grid_mobilenet_v2.csv")
    names = maestro_columns(fieldnames)
    ref = find_row(rows, layer_idx=0, dataflow="eye", P=48, B=7)
    (tmp_path / "confx.m").write_text(mapping_text(ref))
    proc = python_dash_m("archgym.maestro", tmp_path, "--Mapping_file=confx.m", "--num_pes=48",
                         *CONFUCIUX_FLAGS)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    assert (tmp_path / "confx.csv").read_text().splitlines() == [
        oracle_header(), padded([ref[name] for name in names], names)]


# ----------------------------------------------------------------- errors
GOOD_LAYER = layer_block("L", "CONV", "K: 8, C: 8, Y: 8, X: 8, R: 3, S: 3", "dla")
HEADER = confuciux_constants(4, 2)  # 3 lines


@pytest.mark.parametrize("text, line, words", [
    pytest.param(HEADER + "Network 0\n" + GOOD_LAYER + "}\n", 6, "expected Layer",
                 id="missing-brace"),  # MAESTRO's name is the last word before '{': L
    pytest.param(HEADER + "Network 0 {\n" + GOOD_LAYER, 22, "end of text", id="unclosed"),
    pytest.param(HEADER + "Network 0 {\nLayer L {\nType: CONV\n"
                 "Dimensions { K: 8, C: 8, Y: 8, X: 8, R: 1, S: 1 }\n"
                 "Dataflow {\n TemporalMap(1,1) K;\n Bogus(1,1) C;\n}\n}\n}\n", 10, "Bogus",
                 id="bad-token"),
    pytest.param(HEADER + "Network 0 {\nLayer L {\nType: CONV\n"
                 "Dimensions { K: 8, Q: 8 }\n}\n}\n", 7, "unknown dimension 'Q'",
                 id="unknown-dimension"),
    pytest.param(HEADER + "Network 0 {\nLayer L {\nType: CONV\n"
                 "Dimensions { K: 8, C: 8, Y: 8, X: 8, R: 1, S: 1 }\n"
                 "Dataflow { TemporalMap(Sz(N),1) K; TemporalMap(1,1) C; TemporalMap(1,1) Y;\n"
                 " TemporalMap(1,1) X; TemporalMap(1,1) R; TemporalMap(1,1) S; }\n}\n}\n",
                 5, "Sz(N)", id="sz-undeclared"),
    pytest.param(HEADER + "Network 0 {\nLayer L {\nType: CONV3D\n}\n}\n", 6,
                 "unknown layer type 'CONV3D'", id="unknown-type"),
    pytest.param(HEADER + "Network 0 {\nLayer L {\nType: CONV\n" + dataflow_text("dla")
                 + "}\n}\n", 5, "no Dimensions", id="missing-dimensions"),
    pytest.param(HEADER + "Network 0 {\nLayer L {\nType: CONV\n"
                 "Dimensions { K: 8, C: 8, Y: 8, X: 8, R: 1, S: 1 }\n}\n}\n", 5, "no Dataflow",
                 id="first-layer-without-dataflow"),
    pytest.param(HEADER + "Network 0 {\nLayer L {\nType: CONV\n"
                 "Dimensions { K: 8, C: Missing, Y: 8, X: 8, R: 1, S: 1 }\n}\n}\n", 7,
                 "Missing", id="undeclared-constant-in-dimensions"),
    pytest.param("Network 0 {\n" + GOOD_LAYER + "}\n", 5, "KTileSz",
                 id="undeclared-constant-in-dataflow"),
    pytest.param(HEADER + "Network 0 {\nLayer L {\nType: CONV\n"
                 "Dimensions { K: 8, C: 0, Y: 8, X: 8, R: 1, S: 1 }\n}\n}\n", 7, "> 0",
                 id="zero-dimension"),
    pytest.param(HEADER + "Network 0 {\nLayer L {\nType: CONV\nStride { X: 0, Y: 2 }\n}\n}\n",
                 7, "stride of X must be > 0", id="stride-0"),
    pytest.param(HEADER + "Network 0 {\nLayer L {\nType: CONV\n"
                 "Dimensions { K: -64, C: 8, Y: 8, X: 8, R: 1, S: 1 }\n}\n}\n", 7,
                 "negative number -64", id="negative-dimension"),
    pytest.param(HEADER + "Network 0 {\nLayer L {\nType: CONV\n"
                 "Dimensions { K: 9223372036854775808, C: 8 }\n}\n}\n", 7,
                 "9223372036854775808 does not fit 64 bits", id="beyond-64-bits"),
    pytest.param("\ufeff" + HEADER + "Network 0 {\n" + GOOD_LAYER + "}\n", 1,
                 "U+FEFF", id="utf8-bom"),
    pytest.param(HEADER + "Network 0 {\nLayer L\u200b {\n}\n}\n", 5,
                 "U+200B", id="zero-width-space"),
    pytest.param(HEADER + "Network 0 {\nLayer L {\nType: CONV\n"
                 "Dimensions { G: 2, K: 8, C: 8, Y: 8, X: 8, R: 1, S: 1 }\n}\n}\n", 7,
                 "unknown dimension 'G' for a CONV layer", id="groups-in-conv"),
    pytest.param(HEADER + "Network 0 {\nLayer L {\nType: GEMM\n"
                 "Dimensions { M: 8, N: 8 }\nDataflow { SpatialMap(1,1) M; }\n}\n}\n", 5,
                 "Dimensions lacks K", id="gemm-without-k"),
    pytest.param(HEADER + "Network 0 {\nLayer L {\nDimensions { K: 8 }\n}\n}\n", 6,
                 "'Type:' line must come before Dimensions", id="dimensions-before-type"),
])
def test_malformed_mapping(tmp_path, monkeypatch, capsys, text, line, words):
    (tmp_path / "bad.m").write_text(text)
    monkeypatch.chdir(tmp_path)
    assert run_cli("--Mapping_file=bad.m", "--num_pes=4") == 1
    err = capsys.readouterr().err
    assert f"bad.m:line {line}:" in err, err
    assert words in err, err
    assert "Traceback" not in err
    assert not (tmp_path / "bad.csv").exists()
    with pytest.raises(cm.ParseError, match=f"line {line}"):
        maestro.parse_mapping(text, "bad.m")


def test_third_spatial_map_refused(tmp_path, monkeypatch, capsys):
    text = (HEADER + "Network 0 {\nLayer L {\nType: CONV\n"
            "Dimensions { K: 8, C: 8, Y: 8, X: 8, R: 1, S: 1 }\n"
            "Dataflow {\n SpatialMap(1,1) K;\n SpatialMap(2,2) K;\n SpatialMap(1,1) C;\n}\n"
            "}\n}\n")
    (tmp_path / "three.m").write_text(text)
    monkeypatch.chdir(tmp_path)
    assert run_cli("--Mapping_file=three.m") == 1
    err = capsys.readouterr().err
    # MAESTRO stops at a third SpatialMap in a level, a repeated one included (§2.5)
    assert "line 5: layer L: level 0 has 3 SpatialMaps" in err and "Traceback" not in err
    assert "SpatialMap(1,1) K, SpatialMap(2,2) K, SpatialMap(1,1) C" in err
    assert err.count("\n") == 1 and not (tmp_path / "three.csv").exists()


@pytest.mark.parametrize("argv, words", [
    (["--Mapping_file=nothere.m"], "nothere.m"),
    ([], "--Mapping_file"),
    (["--Mapping_file=x.m", "--num_pes=many"], "--num_pes"),
    (["--Mapping_file=x.m", "--num_pes=9223372036854775808"], "does not fit 64 bits"),
    (["--Mapping_file=x.m", "--noc_bw_cstr=-5"], "noc_bw must be in [1, "),
    (["--Mapping_file=x.m", "--print_res=maybe"], "true or false"),
    (["--Mapping_file=x.m", "--preset=maestro2019"], "--preset"),
])
def test_bad_command_lines(tmp_path, monkeypatch, capsys, argv, words):
    (tmp_path / "x.m").write_text(HEADER + "Network 0 {\n" + GOOD_LAYER + "}\n")
    monkeypatch.chdir(tmp_path)
    assert run_cli(*argv) == 1
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def test_core_semantic_error(tmp_path, monkeypatch, capsys):
    """HEAD rejects a TemporalMap on R whose size is not Sz(R); message + exit code 1."""
    text = (HEADER + "Network 0 {\nLayer L {\nType: CONV\n"
            "Dimensions { K: 8, C: 8, Y: 8, X: 8, R: 3, S: 3 }\n"
            "Dataflow { TemporalMap(1,1) K; TemporalMap(1,1) C; TemporalMap(1,1) R;\n"
            " TemporalMap(3,3) S; TemporalMap(3,1) Y; TemporalMap(3,1) X; }\n}\n}\n")
    (tmp_path / "rs.m").write_text(text)
    monkeypatch.chdir(tmp_path)
    assert run_cli("--Mapping_file=rs.m", "--num_pes=4") == 1
    err = capsys.readouterr().err
    assert "TemporalMap on R" in err and "layer L" in err and "line 5" in err
    assert "Traceback" not in err


def test_stride_one_and_hw_file_warning(tmp_path, monkeypatch, capsys):
    """A Stride block of 1s is accepted (same result); an unknown HW-file key warns."""
    dims = "K: 8, C: 8, Y: 9, X: 9, R: 3, S: 3"
    plain = HEADER + "Network 0 {\n" + layer_block("L", "CONV", dims, "eye") + "}\n"
    strided = plain.replace("Type: CONV\n", "Type: CONV\nStride { X: 1, Y: 1 }\n")
    assert "Stride" in strided
    assert maestro.run_mapping(strided) == maestro.run_mapping(plain)
    (tmp_path / "x.m").write_text(strided)
    (tmp_path / "hw.m").write_text("num_pes: 4\nfrequency: 5\n")
    monkeypatch.chdir(tmp_path)
    assert run_cli("--Mapping_file=x.m", "--HW_file=hw.m", "--print_res=false") == 0
    assert "frequency" in capsys.readouterr().err
    (want,) = maestro.run_mapping(strided, cm.Hardware(**{**cm.MAESTRO_DEFAULTS, "num_pes": 4}))
    assert (tmp_path / "x.csv").read_text().splitlines()[1] == maestro.format_row(want)
