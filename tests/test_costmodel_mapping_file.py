"""The C++ mapping-file parser and CSV writer (csrc/costmodel/mapping_file.cpp,
maestro_cli.cpp), in the core tests that CI also runs under ASan and UBSan.

* Every mapping file of the reference at one hardware setting (256 PEs): the
  CSV text equals the real MAESTRO's (tests/data/reference/maestro/
  mapping_outputs/P256), or the run is refused where MAESTRO fails.
* Damaged files (every cut of a file, random byte changes, bytes that are not
  UTF-8): a ParseError or ValueError naming the line, never a crash; the
  sanitizers check the memory accesses of those paths.
"""

from __future__ import annotations

import csv
import random
import re
from pathlib import Path

import pytest
from conftest import REFERENCE_DIR

from archgym import _sim
from archgym import costmodel as cm
from archgym.costmodel import maestro

DATA = REFERENCE_DIR / "maestro"
P256 = [r for r in csv.DictReader((DATA / "mapping_outputs" / "runs.csv").open())
        if r["setting"] == "P256"]
HW = cm.Hardware(**{**cm.MAESTRO_DEFAULTS, "num_pes": 256})


@pytest.mark.parametrize("run", P256, ids=lambda r: Path(r["file"]).stem)
def test_reference_file_at_256_pes(run):
    path = DATA / "mapping_files" / run["file"]
    if run["exit_status"] != "0":  # MAESTRO fails: archgym refuses
        with pytest.raises(ValueError, match=" layer "):
            maestro.run_mapping(path, HW)
        return
    lines = [maestro.raw_header()] + [maestro.format_row(r) for r in maestro.run_mapping(path, HW)]
    expected = (DATA / "mapping_outputs" / "P256" / f"{path.stem}.csv").read_text()
    assert "\n".join(lines) + "\n" == expected


def _survives(data: bytes) -> None:
    """Parsing and evaluating damaged bytes ends in a result or a ValueError."""
    try:
        _sim.costmodel.run_mapping(data, "damaged.m", HW.row(), "maestro2021", True)
    except cm.ParseError as e:
        assert "damaged.m:" in str(e)
    except ValueError:
        pass


def test_every_cut_of_a_file():
    data = (DATA / "mapping_files" / "archgym" / "ag_ngconv.m").read_bytes()
    for cut in range(0, len(data), 3):
        _survives(data[:cut])


def test_random_byte_changes():
    data = bytearray((DATA / "mapping_files" / "archgym" / "ag_stride_eye.m").read_bytes())
    rng = random.Random(0)
    for _ in range(300):
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            damaged[rng.randrange(len(damaged))] = rng.choice(b"{}();:,-/ 0123456789KCRSYX\n\xff\xc3")
        _survives(bytes(damaged))


@pytest.mark.parametrize("data, words", [
    (b"Network 0 {\xff\n}", "line 1: byte 0xff is not UTF-8 text"),
    (b"Network 0 {\n\xc3", "line 2: byte 0xc3 is not UTF-8 text"),  # cut inside a character
    (b"Network 0 {\n\xc0\xaf", "line 2: byte 0xc0"),  # an overlong '/'
    (b"Network 0 {\n\xed\xa0\x80", "line 2: byte 0xed"),  # a surrogate
    (b"Network 0 {\n\x00}", "line 2: invisible character U+0000"),
    ("Network 0 {\n\u2028}".encode(), "line 2: invisible character U+2028"),
])
def test_bytes_that_are_not_text(data, words):
    with pytest.raises(cm.ParseError, match=re.escape(words)):
        _sim.costmodel.parse_mapping(data, "x.m")


def test_dataflow_parse_errors_name_the_line():
    with pytest.raises(cm.ParseError) as info:
        cm.Dataflow.parse("Dataflow {\n TemporalMap(1,1) K;\n SpatialMap(1,1)\n")
    assert info.value.line == 3 and "unexpected end of text" in str(info.value)
