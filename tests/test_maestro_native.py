"""The native ``archgym-maestro`` executable (csrc/costmodel/maestro_main.cpp).

``pip install .`` puts it beside the environment's other commands; it is a
plain C++ program (no Python) running the same C++ front end as
``archgym.costmodel.maestro.main``.  Here it runs as MAESTRO's clients run
MAESTRO, one process per mapping file, on every run of the reference
(tests/data/reference/maestro/mapping_outputs/): the same CSV bytes as the
real MAESTRO where it writes one, one error line and exit 1 where it fails;
and bad input gets the same one line as the in-process ``main``.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import REFERENCE_DIR

from archgym.costmodel import maestro

DATA = REFERENCE_DIR / "maestro"
RUNS = list(csv.DictReader((DATA / "mapping_outputs" / "runs.csv").open()))


@pytest.fixture(scope="module")
def exe() -> str:
    path = shutil.which("archgym-maestro")
    if path is None:
        pytest.skip("archgym-maestro not found on PATH (`pip install .` installs it)")
    return path


def run(exe: str, args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([exe, *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_native_and_python_free(exe):
    binary = Path(exe).read_bytes()
    assert binary[:4] == b"\x7fELF"  # a compiled program, not a Python script
    assert b"libpython" not in binary  # and it does not load Python


def test_every_reference_run(exe, tmp_path):
    """All runs of the reference, one process each, as MAESTRO's clients call it."""
    wrong = []
    for i, r in enumerate(RUNS):
        folder = tmp_path / str(i)
        folder.mkdir()
        name = Path(r["file"]).name
        shutil.copy(DATA / "mapping_files" / r["file"], folder / name)
        proc = run(exe, [f"--Mapping_file={name}", *r["flags"].split(), "--print_res=false"],
                   folder)
        out = folder / maestro.csv_name(name)
        if r["exit_status"] != "0":  # one line, nothing written
            ok = proc.returncode == 1 and not out.exists() and proc.stderr.count("\n") == 1 \
                and " layer " in proc.stderr
        else:
            expected = DATA / "mapping_outputs" / r["setting"] / f"{Path(name).stem}.csv"
            ok = proc.returncode == 0 and out.read_bytes() == expected.read_bytes()
        if not ok:
            wrong.append(f"{r['setting']}/{r['file']}: exit {proc.returncode} {proc.stderr}")
    assert not wrong, f"{len(wrong)} of {len(RUNS)} runs differ:\n" + "\n".join(wrong[:10])


BAD = {  # mapping text -> words of the one error line
    "\ufeffNetwork 0 {\n}\n": "U+FEFF",
    "Network 0 {\nLayer L {\nType: CONV\nDimensions { K: -64 }\n}\n}\n": "negative number -64",
    "Network 0 {\nLayer L {\nType: CONV\nDimensions { K: 9223372036854775808 }\n}\n}\n":
        "does not fit 64 bits",
    "Network 0 {\nLayer L {\nType: CONV3D\n}\n}\n": "unknown layer type 'CONV3D'",
    "Network 0 {\nLayer L {\n": "unexpected end of text",
}


@pytest.mark.parametrize("text", BAD, ids=["bom", "negative", "beyond-64-bits", "type", "unclosed"])
def test_bad_input_one_line(exe, tmp_path, monkeypatch, capsys, text):
    (tmp_path / "bad.m").write_bytes(text.encode())
    proc = run(exe, ["--Mapping_file=bad.m"], tmp_path)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and BAD[text] in proc.stderr, proc.stderr
    assert proc.stderr.startswith("archgym-maestro: error: bad.m:line ")
    assert not (tmp_path / "bad.csv").exists()
    monkeypatch.chdir(tmp_path)  # the in-process main says the same
    assert maestro.main(["--Mapping_file=bad.m"]) == 1
    assert capsys.readouterr().err == proc.stderr


def test_help_and_summary(exe, tmp_path):
    proc = run(exe, ["--help"], tmp_path)
    assert proc.returncode == 0 and "--Mapping_file" in proc.stdout and "--noc_hop_latency" in proc.stdout
    shutil.copy(DATA / "mapping_files" / "archgym" / "ag_gemm.m", tmp_path)
    proc = run(exe, ["--Mapping_file=ag_gemm.m", "--num_pes=64"], tmp_path)  # --print_res defaults to true
    assert proc.returncode == 0 and "runtime" in proc.stdout
    header, *rows = (tmp_path / "ag_gemm.csv").read_text().splitlines()
    assert header == maestro.raw_header() and rows
