"""Random probes of repeated directives and strides: the real MAESTRO against archgym-maestro.

Developer tool (docs/design/costmodel.md §2.5, §20.1); the project, its tests and CI never run
MAESTRO.  Each probe is one CONV layer (random sizes, stride 1 to 3) with a random dataflow of
one or two levels, each level mapping every dimension and holding one or two spatial maps, in
which one or two dimensions get extra directives of any kind, size and offset (the level's
spatial maps stay at most two); it runs at a random PE count through both programs.  It prints
how many probes fall in each class: archgym writes MAESTRO's CSV byte for byte (exact), both
fail (MAESTRO crashes or stops, archgym exits 1 with one line), archgym refuses where MAESTRO
answers (refused), archgym answers where MAESTRO fails (archgym answers), or the rows differ
(differ).  --show prints the mapping of every probe outside the first two classes.
--narrow runs instead a fixed sweep of directives on X or Y narrower than their window
(§20.1): R = S of 2 to 7, strides 1 to 3, spatial and temporal maps at the top and inside.

    python probe_repeats.py /path/to/maestro build/dev/archgym-maestro --seed 10 --count 400
    python probe_repeats.py /path/to/maestro build/dev/archgym-maestro --narrow
"""

from __future__ import annotations

import argparse
import random
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

FLAGS = ["--print_res=false", "--print_res_csv_file=true", "--print_log_file=false"]
DIMS = ["K", "C", "R", "S", "Y", "X"]
WINDOW = {"Y": "R", "X": "S"}


def run(exe: str, text: str, pes: int) -> tuple[int, str | None, str]:
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "f.m").write_text(text)
        proc = subprocess.run([exe, "--Mapping_file=f.m", f"--num_pes={pes}", *FLAGS], cwd=d,
                              capture_output=True, text=True)
        csv = Path(d) / "f.csv"
        return proc.returncode, csv.read_text() if csv.exists() else None, proc.stderr


def directive(rng: random.Random, var: str, size: dict[str, int], spatial: bool) -> str:
    kind = "SpatialMap" if spatial else "TemporalMap"
    if var in ("R", "S"):  # MAESTRO HEAD: a TemporalMap on R or S is (Sz, Sz)
        m = rng.randint(1, size[var]) if spatial else size[var]
        o = m if not spatial else rng.randint(1, m)
    elif var in WINDOW:
        m = rng.choice([size[WINDOW[var]], size[WINDOW[var]] + 1, rng.randint(1, size[var])])
        o = rng.randint(1, max(1, min(m, 3)))
    else:
        m = rng.choice([1, 2, 3, 4])
        o = rng.randint(1, m)
    return f"{kind}({m},{o}) {var}"


def level(rng: random.Random, dims: list[str], size: dict[str, int]) -> list[str]:
    spatial = set(rng.sample(dims, rng.choice([1, 1, 2]) if len(dims) > 1 else 1))
    return [directive(rng, v, size, v in spatial) for v in rng.sample(dims, len(dims))]


def probe(rng: random.Random, repeats: bool = True, strides=(1, 1, 2, 3)) -> tuple[str, int]:
    size = {"K": rng.choice([4, 8, 16]), "C": rng.choice([1, 3, 4, 8]),
            "R": rng.choice([1, 2, 3, 5]), "Y": rng.choice([8, 12, 15])}
    size.update(S=rng.choice([1, size["R"]]), X=rng.choice([size["Y"], 10]))
    stride = rng.choice(strides)
    levels = [level(rng, DIMS, size)]
    if rng.random() < 0.5:
        levels.append(level(rng, rng.sample(DIMS, rng.randint(2, 6)), size))
    for _ in range(rng.choice([1, 1, 2]) if repeats else 0):
        lv = rng.choice(levels)
        var = rng.choice([d.split()[-1] for d in lv])
        n_spatial = sum(d.startswith("Spatial") for d in lv)
        lv.insert(rng.randint(0, len(lv)),
                  directive(rng, var, size, n_spatial < 2 and rng.random() < 0.4))
    body = levels[0] + ([f"Cluster({rng.choice([2, 3, 4])},P)"] + levels[1]
                        if len(levels) == 2 else [])
    dims = ", ".join(f"{v}: {size[v]}" for v in DIMS)
    text = (f"Network N {{\nLayer L {{\nType: CONV\nStride {{ X: {stride}, Y: {stride} }}\n"
            f"Dimensions {{ {dims} }}\nDataflow {{\n" + "".join(d + ";\n" for d in body)
            + "}\n}\n}\n")
    return text, rng.choice([4, 16, 64, 256])


def layer_text(r: int, stride: int, dims: str, body: list[str]) -> str:
    return (f"Network N {{\nLayer L {{\nType: CONV\nStride {{ X: {stride}, Y: {stride} }}\n"
            f"Dimensions {{ {dims} }}\nDataflow {{\n" + "".join(d + "\n" for d in body)
            + "}\n}\n}\n")


def narrow_probes():
    """(mapping text, PEs) of the --narrow sweep."""
    rs_top = ["TemporalMap(2,2) K;", "TemporalMap(4,4) C;", "TemporalMap(Sz(R),Sz(R)) R;",
              "SpatialMap(Sz(R),1) Y;", "TemporalMap(Sz(S),1) X;", "Cluster(3,P);"]
    for r in (2, 3, 4, 5, 7):  # inside an RS-like inner level
        for stride in (1, 2, 3):
            for m in range(1, r + 2):
                for o in (1, 2):
                    for inner in ([f"SpatialMap({m},{o}) X;", "TemporalMap(Sz(S),Sz(S)) S;"],
                                  [f"TemporalMap({m},{o}) X;", "SpatialMap(Sz(S),Sz(S)) S;"]):
                        dims = f"K: 64, C: 3, R: {r}, S: {r}, Y: 30, X: 30"
                        yield layer_text(r, stride, dims, rs_top + inner), 256
    for r in (2, 3, 5):  # at the top level
        for stride in (2, 3):
            for m in range(1, r + 1):
                for o in (1, 2):
                    fixed = ["TemporalMap(Sz(R),Sz(R)) R;", "TemporalMap(Sz(S),Sz(S)) S;"]
                    for body in (
                            ["SpatialMap(1,1) K;", *fixed, "TemporalMap(Sz(R),1) Y;",
                             f"TemporalMap({m},{o}) X;", "TemporalMap(2,2) C;"],
                            ["SpatialMap(1,1) K;", *fixed, f"TemporalMap({m},{o}) Y;",
                             "TemporalMap(Sz(S),1) X;", "TemporalMap(2,2) C;"],
                            ["TemporalMap(2,2) K;", *fixed, "TemporalMap(Sz(R),1) Y;",
                             f"SpatialMap({m},{o}) X;", "TemporalMap(2,2) C;"],
                            ["TemporalMap(2,2) K;", *fixed, f"SpatialMap({m},{o}) X;",
                             "TemporalMap(Sz(R),1) Y;", "TemporalMap(2,2) C;", "Cluster(4,P);",
                             "SpatialMap(1,1) K;", "TemporalMap(Sz(S),1) X;"]):
                        for pes in (16, 64):
                            dims = f"K: 8, C: 4, R: {r}, S: {r}, Y: 20, X: 20"
                            yield layer_text(r, stride, dims, body), pes


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("maestro", help="the real MAESTRO binary")
    p.add_argument("archgym", help="the archgym-maestro binary")
    p.add_argument("--seed", type=int, default=10)
    p.add_argument("--count", type=int, default=400)
    p.add_argument("--no-repeats", action="store_true",
                   help="the same probes without the extra directives (a baseline)")
    p.add_argument("--strides", default="1,1,2,3",
                   help="the strides to draw from (comma-separated, repeats weigh)")
    p.add_argument("--narrow", action="store_true",
                   help="the fixed sweep of directives narrower than their window instead")
    p.add_argument("--show", action="store_true", help="print the probes outside exact/both fail")
    args = p.parse_args(argv)
    rng = random.Random(args.seed)
    maestro, archgym = str(Path(args.maestro).resolve()), str(Path(args.archgym).resolve())
    classes = Counter()
    strides = [int(s) for s in args.strides.split(",")]
    probes = (narrow_probes() if args.narrow else
              (probe(rng, not args.no_repeats, strides) for _ in range(args.count)))
    for text, pes in probes:
        (ro, oo, _), (ra, oa, ea) = run(maestro, text, pes), run(archgym, text, pes)
        both_fail = oo is None and oa is None and ra == 1 and ea.count("\n") == 1
        name = ("exact" if oo is not None and oo == oa else "both fail" if both_fail else
                "differ" if oo is not None and oa is not None else
                "refused" if oo is not None else "archgym answers")
        classes[name] += 1
        if args.show and name not in ("exact", "both fail"):
            print(f"--- {name}, --num_pes={pes}, MAESTRO exit {ro}, archgym: {ea.strip()}")
            if name == "differ":
                hdr = [h.strip() for h in oo.splitlines()[0].split(",")]
                for h, x, y in zip(hdr, oo.splitlines()[1].split(","), oa.splitlines()[1].split(",")):
                    if x != y:
                        print(f"    {h}: MAESTRO {x.strip()}, archgym {y.strip()}")
            print(text)
    for name, n in sorted(classes.items()):
        print(f"{name:16s} {n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
