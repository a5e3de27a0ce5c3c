"""``python -m archgym.maestro``: the ``archgym-maestro`` command, run from Python.

The same C++ code as the native executable (csrc/costmodel/maestro_main.cpp),
through :func:`archgym.costmodel.maestro.main`; the Python API is
:mod:`archgym.costmodel.maestro`.

    python -m archgym.maestro --Mapping_file=layer.m --num_pes=64 \\
        --print_res=false --print_res_csv_file=true
"""

import sys

from archgym.costmodel.maestro import main

if __name__ == "__main__":
    sys.exit(main())
