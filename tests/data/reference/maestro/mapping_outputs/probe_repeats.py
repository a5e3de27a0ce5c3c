"""Random probes of a dimension mapped twice in one level: the real MAESTRO against archgym-maestro.

Developer tool (docs/design/costmodel.md §2.5); the project, its tests and CI never run MAESTRO.
Each probe is one CONV layer with a random dataflow of one or two levels in which a dimension
of size 1 gets a second (1,1) directive, run at a random PE count by both programs.  It prints
how many probes fall in each class: archgym writes MAESTRO's row (exact), archgym refuses where
MAESTRO answers (refused), both fail, archgym answers where MAESTRO fails, or the rows differ
(differ, the one class the rule of §2.2 step 0 must keep empty).

    python probe_repeats.py /path/to/maestro build/dev/archgym-maestro --seed 10 --count 400
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


def run(exe: str, text: str, pes: int) -> tuple[int, str | None]:
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "f.m").write_text(text)
        rc = subprocess.run([exe, "--Mapping_file=f.m", f"--num_pes={pes}", *FLAGS], cwd=d,
                            capture_output=True).returncode
        csv = Path(d) / "f.csv"
        return rc, csv.read_text() if csv.exists() else None


def level(rng: random.Random, dims: list[str], max_spatial: int) -> list[str]:
    out, spatial = [], 0
    for v in rng.sample(dims, len(dims)):
        sp = rng.random() < 0.35 and spatial < max_spatial
        spatial += sp
        kind = "SpatialMap" if sp else "TemporalMap"
        if v in ("R", "S"):
            out.append(f"{kind}(Sz({v}),Sz({v})) {v}")
        elif v in ("Y", "X"):
            out.append(f"{kind}(Sz({'R' if v == 'Y' else 'S'}),1) {v}")
        else:
            m = rng.choice([1, 2, 4])
            out.append(f"{kind}({m},{m}) {v}")
    return out


def probe(rng: random.Random) -> tuple[str, int]:
    size = {"K": rng.choice([4, 8, 16]), "C": rng.choice([1, 4, 8]), "R": rng.choice([1, 3])}
    size.update(S=size["R"], Y=rng.choice([8, 12]))
    size["X"] = size["Y"]
    ones = [v for v in ("R", "S", "C") if size[v] == 1] or ["C"]
    size["C"] = 1 if ones == ["C"] else size["C"]
    var = rng.choice(ones)
    levels = [level(rng, DIMS, 1)]
    if rng.random() < 0.5:
        levels.append(level(rng, rng.sample(DIMS, rng.randint(2, 6)), 2))
    at = rng.randrange(len(levels))
    lv = levels[at]
    if not any(d.endswith(" " + var) for d in lv):
        lv.insert(rng.randint(0, len(lv)), f"TemporalMap(1,1) {var}")
    lv.insert(rng.randint(0, len(lv)), f"{rng.choice(['SpatialMap', 'TemporalMap'])}(1,1) {var}")
    body = levels[0] + ([f"Cluster({rng.choice([2, 3, 4])},P)"] + levels[1]
                        if len(levels) == 2 else [])
    dims = ", ".join(f"{v}: {size[v]}" for v in DIMS)
    text = ("Network N {\nLayer L {\nType: CONV\nStride { X: 1, Y: 1 }\n"
            f"Dimensions {{ {dims} }}\nDataflow {{\n" + "".join(d + ";\n" for d in body)
            + "}\n}\n}\n")
    return text, rng.choice([4, 16, 64])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("maestro", help="the real MAESTRO binary")
    p.add_argument("archgym", help="the archgym-maestro binary")
    p.add_argument("--seed", type=int, default=10)
    p.add_argument("--count", type=int, default=400)
    args = p.parse_args(argv)
    rng = random.Random(args.seed)
    maestro, archgym = str(Path(args.maestro).resolve()), str(Path(args.archgym).resolve())
    classes = Counter()
    for _ in range(args.count):
        text, pes = probe(rng)
        (ro, oo), (ra, oa) = run(maestro, text, pes), run(archgym, text, pes)
        classes["exact" if ro == ra == 0 and oo == oa else "differ" if ro == ra == 0 else
                "both fail" if ro and ra else "refused" if ra else "archgym answers"] += 1
    for name, n in sorted(classes.items()):
        print(f"{name:16s} {n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
