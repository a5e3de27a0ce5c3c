"""Regenerate the shipped generated layer tables (``corrected/*.csv``, ``typed/*.csv``).

    python -m archgym.workloads.generate                # rewrite src/archgym/workloads/corrected
    python -m archgym.workloads.generate --set typed    # rewrite src/archgym/workloads/typed
    python -m archgym.workloads.generate --out DIR      # write somewhere else
    python -m archgym.workloads.generate --check        # exit 1 if the shipped files are stale

A corrected file has the header ``K,C,Y,X,R,S,T,stride,pad,groups`` and one row per layer
of :data:`archgym.workloads.architectures.ARCHITECTURES`; a typed file has the columns of
:data:`archgym.workloads.typed.COLUMNS` and one row per layer (or repeated layer) of
:data:`archgym.workloads.typed.TYPED_MODELS`.  LF line endings.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from archgym.workloads import typed
from archgym.workloads.architectures import ARCHITECTURES, COLUMNS, Layer

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_OUT = PACKAGE_DIR / "corrected"
GENERATED_SETS = ("corrected", "typed")


def to_csv(layers: list[Layer]) -> str:
    """The text of one corrected table."""
    lines = [",".join(COLUMNS)] + [",".join(str(v) for v in layer) for layer in layers]
    return "\n".join(lines) + "\n"


def tables(set_name: str = "corrected") -> dict[str, str]:
    """File name -> CSV text, for every model of a generated set."""
    if set_name == "typed":
        return {f"{name}.csv": typed.to_csv(gen()) for name, gen in sorted(typed.TYPED_MODELS.items())}
    return {f"{name}.csv": to_csv(gen()) for name, gen in sorted(ARCHITECTURES.items())}


def generate(out_dir: str | Path = DEFAULT_OUT, set_name: str = "corrected") -> list[Path]:
    """Write every table of a set into ``out_dir`` (created if needed); return the paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for file_name, text in tables(set_name).items():
        path = out_dir / file_name
        path.write_text(text, encoding="utf-8", newline="\n")
        paths.append(path)
    return paths


def check(out_dir: str | Path = DEFAULT_OUT, set_name: str = "corrected") -> list[str]:
    """Names of the files in ``out_dir`` that are missing or differ from the generator."""
    out_dir = Path(out_dir)
    stale = []
    for file_name, text in tables(set_name).items():
        path = out_dir / file_name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(file_name)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m archgym.workloads.generate", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--set", choices=GENERATED_SETS, default="corrected", dest="set_name",
                        help="which set to generate (default corrected)")
    parser.add_argument("--out", type=Path, default=None,
                        help="output directory (default: the set's folder in the package)")
    parser.add_argument("--check", action="store_true", help="only compare, write nothing")
    args = parser.parse_args(argv)
    out = args.out or PACKAGE_DIR / args.set_name
    if args.check:
        stale = check(out, args.set_name)
        for file_name in stale:
            print(f"stale or missing: {out / file_name}")
        return 1 if stale else 0
    for path in generate(out, args.set_name):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
