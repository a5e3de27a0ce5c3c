"""archgym-maestro against the real MAESTRO on mapping files: layer runs matched / tried.

Reads the reference made by tests/data/reference/maestro/mapping_outputs/regenerate.sh
(MAESTRO's CSV per mapping file and hardware setting, and its exit status),
runs archgym-maestro on the same files with the same flags, and counts per
file family and setting:

* layer runs tried: the rows MAESTRO wrote; matched: archgym wrote the same
  bytes for that layer (header and padding included);
* files both refuse: MAESTRO failed (no CSV) and archgym exited 1 with one line.

Families are the dataflow part of MAESTRO's file names (kcp_ws, xp_ws, ...),
GEMM for GEMM_Example, rs_layers for Resnet50_rs.m one layer per file, and
archgym's own files (archgym/ag_*.m) by name.
These are the README's figures:

    python benchmarks/maestro_mapping_files.py            # every setting
    python benchmarks/maestro_mapping_files.py --quick    # P64 only
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import os
import shutil
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from archgym.costmodel import maestro

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "reference" / "maestro"


def family(mapping_file: str) -> str:
    """kcp_ws, xp_ws, ... for MAESTRO's files; rs_layers for Resnet50_rs.m cut one layer
    per file; the file's stem for archgym's own."""
    stem = Path(mapping_file).stem
    if mapping_file.startswith("rs_layers/"):
        return "rs_layers"
    if mapping_file.startswith("archgym/"):
        return stem
    if stem.startswith("GEMM"):
        return "GEMM"
    return "_".join(stem.split("_")[1:])


def run_one(run: dict) -> tuple[int, int, bool]:
    """(layer rows matched, rows tried, both refuse) for one row of runs.csv."""
    work = Path(tempfile.mkdtemp())
    name = Path(run["file"]).name
    shutil.copy(DATA / "mapping_files" / run["file"], work / name)
    cwd = os.getcwd()
    err = io.StringIO()
    try:
        os.chdir(work)
        with contextlib.redirect_stderr(err):
            rc = maestro.main([f"--Mapping_file={name}", *run["flags"].split(),
                               "--print_res=false"])
        out = work / maestro.csv_name(name)
        got = out.read_text().splitlines() if out.exists() else []
    finally:
        os.chdir(cwd)
        shutil.rmtree(work)
    if run["exit_status"] != "0":
        return 0, 0, rc == 1 and not got and err.getvalue().count("\n") == 1
    expected = (DATA / "mapping_outputs" / run["setting"]
                / f"{Path(run['file']).stem}.csv").read_text().splitlines()
    if not got or got[0] != expected[0]:
        return 0, len(expected) - 1, False
    matched = sum(g == e for g, e in zip(got[1:], expected[1:]))
    return matched, len(expected) - 1, False


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="only the P64 setting")
    p.add_argument("--out", type=Path, default=None, help="also write the table as CSV here")
    args = p.parse_args(argv)
    runs = list(csv.DictReader((DATA / "mapping_outputs" / "runs.csv").open()))
    if args.quick:
        runs = [r for r in runs if r["setting"] == "P64"]
    settings = sorted({r["setting"] for r in runs})
    table: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    refused = defaultdict(lambda: [0, 0])  # setting -> [both refuse, MAESTRO failed]
    for run in runs:
        matched, tried, both_fail = run_one(run)
        cell = table[family(run["file"])][run["setting"]]
        cell[0] += matched
        cell[1] += tried
        if run["exit_status"] != "0":
            refused[run["setting"]][0] += both_fail
            refused[run["setting"]][1] += 1
    rows = [["family", *settings, "all"]]
    total = defaultdict(lambda: [0, 0])
    for fam in sorted(table):
        cells, m_all, t_all = [], 0, 0
        for s in settings:
            m, t = table[fam][s]
            cells.append(f"{m}/{t}")
            m_all, t_all = m_all + m, t_all + t
            total[s][0] += m
            total[s][1] += t
        rows.append([fam, *cells, f"{m_all}/{t_all}"])
    rows.append(["all layer runs", *(f"{total[s][0]}/{total[s][1]}" for s in settings),
                 f"{sum(v[0] for v in total.values())}/{sum(v[1] for v in total.values())}"])
    rows.append(["files both refuse", *(f"{refused[s][0]}/{refused[s][1]}" for s in settings),
                 f"{sum(v[0] for v in refused.values())}/{sum(v[1] for v in refused.values())}"])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with args.out.open("w", newline="") as f:
            csv.writer(f).writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
