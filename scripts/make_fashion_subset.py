#!/usr/bin/env python
"""Write the Fashion-MNIST subset that ships with archgym.quant (from the Debian package's files).

    python scripts/make_fashion_subset.py            # rewrite src/archgym/quant/data/fashion_mnist_subset.npz
    python scripts/make_fashion_subset.py --quick --out /tmp/subset.npz   # the same, elsewhere (smoke run)

Reads Fashion-MNIST (Xiao, Rasul and Vollgraf 2017, MIT licence) from the
Debian package ``dataset-fashion-mnist`` (``apt-get install -y
dataset-fashion-mnist``; or ``$ARCHGYM_FASHION_MNIST_DIR``) and writes, as a
compressed npz of uint8 arrays, the quantization models' calibration split
(the first 1,000 training images) and the first 2,000 official test images
(``archgym.quant.data.FASHION_CALIBRATION`` and ``FASHION_SHIPPED_TEST``):
``calibration_images`` (1000, 784), ``calibration_labels`` (1000,),
``test_images`` (2000, 784), ``test_labels`` (2000,); about 1.3 MB.  The
output is deterministic (same files, same bytes of arrays).  ``--quick`` is
the same run (it takes a second) into ``--out``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from archgym.quant import data

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "src" / "archgym" / "quant" / "data" / data.FASHION_SHIPPED


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the npz file to write")
    ap.add_argument("--quick", action="store_true", help="smoke run (the same work; give --out)")
    args = ap.parse_args(argv)
    if not data.fashion_mnist_available():
        if args.quick:
            print(f"skipped: Fashion-MNIST is not installed in {data.fashion_mnist_dir()}")
            return
        sys.exit(f"needs Fashion-MNIST in {data.fashion_mnist_dir()}: apt-get install -y {data.FASHION_PACKAGE}")
    arrays = {}
    for split, n in (("calibration", data.FASHION_CALIBRATION), ("test", data.FASHION_SHIPPED_TEST)):
        images, labels = data.load_split("fashion_mnist", split, n)  # the Debian files: available here
        arrays[f"{split}_images"] = np.ascontiguousarray(images[:n], dtype=np.uint8)
        arrays[f"{split}_labels"] = labels[:n].astype(np.uint8)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **arrays)
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
