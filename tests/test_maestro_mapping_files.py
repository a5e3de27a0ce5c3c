"""Mapping files through archgym-maestro against the real MAESTRO.

The reference (tests/data/reference/maestro/mapping_outputs/, made by its
regenerate.sh with the real MAESTRO) holds MAESTRO's CSV for each mapping file
under five hardware settings, and MAESTRO's exit status: MAESTRO's 21 shipped
mapping files (../mapping_files/) and our own small files for what those do not
cover (../mapping_files/archgym/: GEMM, NGCONV, TRCONV, strides, repeated
directives).

Where MAESTRO writes a CSV, archgym must write the same bytes: the header and
every layer's row, padding included.  Where MAESTRO fails (a crash, a division
by zero or its own refusal), archgym must refuse with one line naming the layer,
exit 1 and write nothing.

Repeated directives for one dimension in one level (docs/design/costmodel.md
§2.5): Resnet50_rs.m one layer per file (../mapping_files/rs_layers/) and
archgym's probes (archgym/ag_repeat*.m) are held to the same rule.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from conftest import REFERENCE_DIR

from archgym.costmodel import maestro

DATA = REFERENCE_DIR / "maestro"
RUNS = list(csv.DictReader((DATA / "mapping_outputs" / "runs.csv").open()))


def run_archgym(mapping_file: str, flags: str, capsys) -> tuple[int, str, list[str]]:
    """archgym-maestro on one mapping file in the current folder: exit code, stderr, CSV lines."""
    shutil.copy(DATA / "mapping_files" / mapping_file, ".")
    name = Path(mapping_file).name
    rc = maestro.main([f"--Mapping_file={name}", *flags.split(), "--print_res=false"])
    out = Path(maestro.csv_name(name))
    return rc, capsys.readouterr().err, out.read_text().splitlines() if out.exists() else []


def case_id(run: dict) -> str:
    return f"{run['setting']}-{Path(run['file']).stem}"


@pytest.mark.parametrize("run", RUNS, ids=case_id)
def test_mapping_file_matches_maestro(run, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # MAESTRO writes its CSV into the working folder
    rc, err, got = run_archgym(run["file"], run["flags"], capsys)
    if run["exit_status"] != "0":  # MAESTRO wrote nothing
        assert rc == 1 and got == [], f"MAESTRO fails (exit {run['exit_status']}), archgym answers"
        assert err.count("\n") == 1 and " layer " in err, err
        return
    assert rc == 0, err
    expected = (DATA / "mapping_outputs" / run["setting"]
                / f"{Path(run['file']).stem}.csv").read_text().splitlines()
    assert got[0] == expected[0]  # the header, byte for byte
    assert len(got) == len(expected)
    wrong = [e.split(",")[1] for g, e in zip(got[1:], expected[1:]) if g != e]
    assert not wrong, f"{len(wrong)} of {len(expected) - 1} layers differ: {', '.join(wrong)}"


def test_header_is_maestros():
    """The header archgym writes is the one every MAESTRO CSV of the reference has."""
    headers = {p.read_text().splitlines()[0] for p in (DATA / "mapping_outputs").glob("*/*.csv")}
    assert headers == {maestro.raw_header()}
    assert maestro.raw_header().split(",")[14] == "  L2 SRAM Size Req (Bytes)"


def test_every_layer_type_through_the_batch_api():
    """The layers of the reference files, given to BatchEvaluator as named columns (type,
    G, strides), give the rows MAESTRO printed; Layer.gemm builds a GEMM by its names."""
    hw = maestro.cm.Hardware(**{**maestro.cm.MAESTRO_DEFAULTS, "num_pes": 256})
    for name in ("archgym/ag_gemm.m", "archgym/ag_ngconv.m", "archgym/ag_trconv.m",
                 "archgym/ag_stride_yxp.m", "archgym/ag_repeat_output_k.m",
                 "rs_layers/rs_01_CONV1.m"):
        expected = (DATA / "mapping_outputs" / "P256"
                    / f"{Path(name).stem}.csv").read_text().splitlines()[1:]
        prev_l1 = 0.0
        for ml, line in zip(layers_of(name), expected, strict=True):
            ev = maestro.cm.BatchEvaluator([ml.dataflow])
            cols = {f: [v, v] for f, v in ml.layer.fields().items()}  # two identical rows
            res = ev.evaluate(cols, hw, {k: ml.constants[k] for k in ev.constants})
            row = res.row(1)
            got = maestro.format_row(maestro.columns(row, hw, "maestro2021", ml.name, ml.network,
                                                     prev_l1))
            assert got == line, (name, ml.name)
            prev_l1 = row["energy_l1"]
    gemm = maestro.cm.Layer.gemm(M=64, N=96, K=48)
    assert (gemm.type, gemm.Y, gemm.K, gemm.C, gemm.X, gemm.R, gemm.S) == ("GEMM", 64, 96, 48,
                                                                           1, 1, 1)
    assert layers_of("archgym/ag_gemm.m")[0].layer == gemm


def layers_of(name: str):
    return maestro.parse_mapping((DATA / "mapping_files" / name).read_text())


def test_repeated_directives_in_resnet50_rs():
    """Resnet50_rs.m maps S twice in its inner level.  Run one layer at a time,
    MAESTRO answers the 48 1x1 layers (S of size 1: the repeat changes nothing)
    and CONV1 (7x7, stride 2: SpatialMap(1,1) S then TemporalMap(7,7) S under an
    X map narrower than S), and crashes on the 3x3 layers and FC1000 (7x7):
    archgym answers exactly those 49 (checked row by row above) and refuses the
    other 17, naming the directive that leaves no output."""
    runs = [r for r in RUNS if r["file"].startswith("rs_layers/") and r["setting"] == "P256"]
    ok = {r["file"] for r in runs if r["exit_status"] == "0"}
    assert (len(runs), len(ok)) == (66, 49)
    one_by_one = [f for f in ok if "R: 1, S: 1" in (DATA / "mapping_files" / f).read_text()]
    assert len(one_by_one) == 48 and ok - set(one_by_one) == {"rs_layers/rs_01_CONV1.m"}
    crash = next(r for r in runs if r["exit_status"] != "0")
    with pytest.raises(ValueError, match=r"SpatialMap\(1,1\) X leaves an output tile X' of "):
        maestro.run_mapping(DATA / "mapping_files" / crash["file"],
                            maestro.cm.Hardware(**{**maestro.cm.MAESTRO_DEFAULTS, "num_pes": 256}))

