"""Regenerate the shipped corrected layer tables (``corrected/*.csv``).

    python -m archgym.workloads.generate            # rewrite src/archgym/workloads/corrected
    python -m archgym.workloads.generate --out DIR  # write somewhere else
    python -m archgym.workloads.generate --check    # exit 1 if the shipped files are stale

Each file has the header ``K,C,Y,X,R,S,T,stride,pad,groups`` and one row per layer of
:data:`archgym.workloads.architectures.ARCHITECTURES`, LF line endings.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from archgym.workloads.architectures import ARCHITECTURES, COLUMNS, Layer

DEFAULT_OUT = Path(__file__).resolve().parent / "corrected"


def to_csv(layers: list[Layer]) -> str:
    """The text of one corrected table."""
    lines = [",".join(COLUMNS)] + [",".join(str(v) for v in layer) for layer in layers]
    return "\n".join(lines) + "\n"


def tables() -> dict[str, str]:
    """File name -> CSV text, for every architecture."""
    return {f"{name}.csv": to_csv(gen()) for name, gen in sorted(ARCHITECTURES.items())}


def generate(out_dir: str | Path = DEFAULT_OUT) -> list[Path]:
    """Write every corrected table into ``out_dir`` (created if needed); return the paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for file_name, text in tables().items():
        path = out_dir / file_name
        path.write_text(text, encoding="utf-8", newline="\n")
        paths.append(path)
    return paths


def check(out_dir: str | Path = DEFAULT_OUT) -> list[str]:
    """Names of the files in ``out_dir`` that are missing or differ from the generator."""
    out_dir = Path(out_dir)
    stale = []
    for file_name, text in tables().items():
        path = out_dir / file_name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(file_name)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m archgym.workloads.generate", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    parser.add_argument("--check", action="store_true", help="only compare, write nothing")
    args = parser.parse_args(argv)
    if args.check:
        stale = check(args.out)
        for file_name in stale:
            print(f"stale or missing: {args.out / file_name}")
        return 1 if stale else 0
    for path in generate(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
