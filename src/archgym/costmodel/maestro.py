"""``archgym-maestro`` from Python: a drop-in command line for the MAESTRO binary.

Tools that drive MAESTRO (ConfuciuX, ArchGym's MaestroGym, GAMMA) run one
process per mapping file and read back the CSV it writes.  ``archgym-maestro``
accepts the same flags and mapping files and writes the same CSV, computed by
our own cost model (:mod:`archgym.costmodel`), so switching is a change of one
path.  It is a native executable (``csrc/costmodel/maestro_main.cpp``, installed
by ``pip install .`` beside the environment's other commands); this module is
a thin wrapper over the same C++ code (``csrc/costmodel/mapping_file.hpp`` and
``maestro_cli.hpp``): the mapping-file parser, MAESTRO's flags and defaults,
the CSV writer and the error messages live there once.

    python -m archgym.costmodel.maestro --Mapping_file=layer.m --num_pes=64 \\
        --noc_bw_cstr=81920000 --print_res=false --print_res_csv_file=true

* :func:`parse_mapping` reads a mapping file into :class:`MappingLayer` objects;
  :func:`run_mapping` evaluates every layer into one dict of MAESTRO columns.
* :func:`columns`, :func:`format_value`, :func:`format_row`, :func:`raw_header`
  and :func:`csv_name` are MAESTRO's CSV: its columns, C++ default float output
  (``%g``, ``inf``, ``-nan``), the field padding, the raw header byte for byte
  and the output file name (MAESTRO's rules: docs/design/costmodel.md §19-§20,
  docs/maestro.md).
* :func:`main` is the command line: the executable's ``main``, run in-process.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from archgym import _sim
from archgym import costmodel as cm
from archgym.costmodel.model import Dataflow, Directive

_core = _sim.costmodel

PROG = "archgym-maestro"

#: Column names (without MAESTRO's leading spaces) per preset, in CSV order.
COLUMNS: dict[str, tuple[str, ...]] = {p: tuple(names) for p, names in _core.CSV_COLUMNS.items()}
#: Columns printed as exact integers; every other numeric column is a float.
INT_COLUMNS = frozenset(_core.CSV_INT_COLUMNS)

#: c_div(a, b): a / b with C semantics: x/0 = +-inf, 0/0 = nan.
c_div = _core.c_div
#: csv_name(mapping_file): the CSV MAESTRO writes for a mapping path: remove up to
#: two leading ``dir/`` parts, cut the rest at its first ``.``, add ``.csv``.
csv_name = _core.csv_name


def raw_header(preset: str = "maestro2021") -> str:
    """MAESTRO's CSV header line (no newline), with its leading spaces."""
    return _core.csv_header(preset)


def format_value(value: int | float | str) -> str:
    """A value as MAESTRO prints it: ints exact, floats like C++ ``<<`` (``%g``)."""
    return _core.format_value(value)


def format_row(row: dict) -> str:
    """A :func:`columns` dict as one CSV line (no newline), padded as MAESTRO pads it."""
    return _core.format_row(list(row), list(row.values()))


def columns(result_row: dict, hardware: cm.Hardware, preset: str, layer_name, network_name,
            prev_l1_energy: float = 0.0, compat: bool = True) -> dict[str, int | float | str]:
    """One CSV row as {column name without leading spaces: value}, in CSV order.

    result_row: one layer's result from :func:`archgym.costmodel.evaluate` (or
    ``BatchResult.row``).  prev_l1_energy: the previous layer's ``energy_l1``
    in the same mapping file (0 for the first layer).  With ``compat`` the
    energy is MAESTRO's: the L2 term plus, for a one-level dataflow (or a
    degenerate row), this layer's L1 term, otherwise the previous layer's.
    Without ``compat`` it is the core's full energy (MAC + L1 + L2).
    """
    values = _core.csv_row([result_row[f] for f in cm.INT_FIELDS],
                           [result_row[f] for f in cm.FLOAT_FIELDS], hardware.row(), preset,
                           str(layer_name), str(network_name), prev_l1_energy, compat)
    return dict(zip(COLUMNS[preset], values))


@dataclass
class MappingLayer:
    """One ``Layer`` block of a mapping file, ready to evaluate."""

    network: str
    name: str
    layer: cm.Layer
    dataflow: Dataflow
    constants: dict[str, int] = field(default_factory=dict)  # declared before the layer
    line: int = 0  # line of the Layer keyword
    #: False for a later layer that declares N when the file's first layer does not:
    #: MAESTRO (and :func:`run_mapping`) then keep N in the loops but out of the
    #: tensors, which an evaluation of ``layer`` alone does not (docs/design/costmodel.md §19).
    batch_in_tensors: bool = True


def _mapping_bytes(text_or_path) -> tuple[bytes, str]:
    """(bytes, source): a ``str`` containing ``{`` is mapping text, anything else a path."""
    if isinstance(text_or_path, str) and "{" in text_or_path:
        return text_or_path.encode("utf-8", "surrogatepass"), ""
    return Path(text_or_path).read_bytes(), str(text_or_path)


def parse_mapping(text: str, source: str = "") -> list[MappingLayer]:
    """Parse a MAESTRO mapping file's text into its layers (in file order).

    Raises :class:`archgym.costmodel.ParseError` naming ``source``, the line and
    what was expected.
    """
    layers = []
    for network, name, line, row, levels, clusters, constants, batch in _core.parse_mapping(
            text.encode("utf-8", "surrogatepass"), source):
        fields = dict(zip(cm.LAYER_FIELDS, row))
        fields["type"] = cm.LAYER_TYPES[fields["type"]]
        dataflow = Dataflow([[Directive(*d) for d in level] for level in levels], clusters, name)
        layers.append(MappingLayer(network, name, cm.Layer(**fields), dataflow, dict(constants),
                                   line, batch))
    return layers


def run_mapping(text_or_path, hardware: cm.Hardware = cm.Hardware(),
                preset: str = "maestro2021", compat: bool = True) -> list[dict]:
    """Evaluate a mapping (its text, or a path to it); one :func:`columns` dict per layer.

    A ``str`` containing ``{`` is taken as mapping text, anything else as a path.
    Errors from the cost model are ValueErrors naming the file, line and layer.
    """
    data, source = _mapping_bytes(text_or_path)
    rows = _core.run_mapping(data, source, hardware.row(), preset, compat)
    return [dict(zip(COLUMNS[preset], row)) for row in rows]


def main(argv: list[str] | None = None) -> int:
    """Run like the MAESTRO binary (the ``archgym-maestro`` executable's code);
    returns the exit code (0 ok, 1 error)."""
    code, out, err = _core.maestro_main(list(sys.argv[1:] if argv is None else argv))
    sys.stdout.write(out)
    sys.stderr.write(err)
    return code


if __name__ == "__main__":
    sys.exit(main())
