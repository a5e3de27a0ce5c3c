"""``archgym-maestro``: a drop-in command line for the MAESTRO binary.

Tools that drive MAESTRO (ConfuciuX, ArchGym's MaestroGym, GAMMA) run one
process per mapping file and read back the CSV it writes.  This module accepts
the same flags and mapping files and writes the same CSV, computed by our own
cost model (:mod:`archgym.costmodel`), so switching is a change of one path::

    python -m archgym.costmodel.maestro --Mapping_file=layer.m --num_pes=64 \\
        --noc_bw_cstr=81920000 --print_res=false --print_res_csv_file=true

Pieces, in reading order:

* :func:`parse_mapping` reads a mapping file (``Constant``, ``Network``,
  ``Layer``, ``Type``, ``Dimensions``, ``Dataflow``; ``//`` comments) into
  :class:`MappingLayer` objects.  The tokenizer and the dataflow grammar are
  the ones of :mod:`archgym.costmodel`.
* :func:`run_mapping` evaluates every layer and returns one dict of MAESTRO
  columns per layer, built by :func:`columns`.
* :func:`format_value`, :func:`raw_header` and :func:`csv_name` reproduce
  MAESTRO's CSV: C++ default float output (``%g``, ``inf``, ``-nan``), the raw
  header with leading spaces, and the output file name.
* :func:`main` is the command line.

The CSV name rule (MAESTRO's, applied literally): take the ``--Mapping_file``
string, remove up to two leading ``dir/`` parts (everything up to and including
the first ``/``, twice), cut the rest at its first ``.``, add ``.csv``; the
result is relative to the current directory.  So ``foo.m`` -> ``foo.csv``,
``data/mapping/foo.m`` -> ``foo.csv``, ``a/b/c/foo.m`` -> ``c/foo.csv`` and
``./x/foo.m`` -> ``foo.csv``.  Rows are appended; the header is written only
when the file is new or empty.

``--compat=true`` (the default) keeps MAESTRO's reporting quirks, including the
energy of multi-layer files: a layer whose dataflow has more than one cluster
level reports its own L2 energy plus the *previous* layer's L1 energy term
(0 for the first layer).  ``--compat=false`` reports corrected values (see
``docs/maestro.md``).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from archgym import costmodel as cm
from archgym.costmodel.model import Dataflow, ParseError, _parse_dataflow_body, _Tokens, tokenize

PROG = "archgym-maestro"
LAYER_TYPES = ("CONV", "DSCONV")

# ----------------------------------------------------------------- columns
_TENSOR_COLUMNS = tuple(
    f"{tensor} {what}" for tensor in ("input", "filter", "output")
    for what in ("l1 read", "l1 write", "l2 read", "l2 write", "reuse factor"))
_DELAY_COLUMNS = tuple(
    f"{kind} Delay ({stat})" for kind in ("Ingress", "Egress", "Compute")
    for stat in ("Min", "Max", "Avg"))
_TAIL_COLUMNS = (
    "Multicasting Factor (Weight)", "Multicasting Factor (Input)",
    "Num Total Input Pixels", "Num Total Weight Pixels", "Ops/J", "Num MACs",
    "PE power", "L1 power", "L2 power", "NOC power",
    *_TENSOR_COLUMNS, *_DELAY_COLUMNS,
    "Avg number of utilized PEs", "Arithmetic Intensity")
_HEAD_COLUMNS = (
    "Neural Network Name", "Layer Number", "NumPEs", "Runtime (Cycles)",
    "Activity count-based Energy (nJ)", "Throughput (MACs/Cycle)",
    "Throughput Per Energy (GMACs/s*J)", "Area", "Power")

#: Column names (without MAESTRO's leading spaces) per preset, in CSV order.
#: MAESTRO's raw header calls "Compute Delay (Max)" "Compute Delay (Min)".
COLUMNS: dict[str, tuple[str, ...]] = {
    "maestro2021": (*_HEAD_COLUMNS, "NoC BW Req (Elements/cycle)", "Avg BW Req", "Peak BW Req",
                    "Vector Width", "Offchip BW Req (Elements/cycle)", "L2 SRAM Size Req (Bytes)",
                    "L1 SRAM Size Req (Bytes)", *_TAIL_COLUMNS),
    "maestro2020": (*_HEAD_COLUMNS, "NoC BW (Elements/cycle)", "Avg BW Req", "Peak BW Req",
                    "Vector Width", "L2 SRAM Size (Bytes)", "L1 SRAM Size (Bytes)",
                    *_TAIL_COLUMNS),
}

#: Columns printed as exact integers; every other numeric column is a float.
INT_COLUMNS = frozenset((
    "NumPEs", "Runtime (Cycles)", "NoC BW Req (Elements/cycle)", "NoC BW (Elements/cycle)",
    "Peak BW Req", "Vector Width", "Offchip BW Req (Elements/cycle)",
    "L2 SRAM Size Req (Bytes)", "L1 SRAM Size Req (Bytes)",
    "L2 SRAM Size (Bytes)", "L1 SRAM Size (Bytes)",
    "Num Total Input Pixels", "Num Total Weight Pixels", "Num MACs",
    *(c for c in _TENSOR_COLUMNS if not c.endswith("reuse factor")), *_DELAY_COLUMNS))

# Raw header spacing.  Confirmed from ConfuciuX: " Runtime (Cycles)" (one space)
# and "  L2 SRAM Size Req (Bytes)" (two).  The rest is our guess: no space
# before the first column, two before the L1/L2 size columns, one elsewhere.
_TWO_SPACES = frozenset(("L2 SRAM Size Req (Bytes)", "L1 SRAM Size Req (Bytes)",
                         "L2 SRAM Size (Bytes)", "L1 SRAM Size (Bytes)"))


def raw_header(preset: str = "maestro2021") -> str:
    """MAESTRO's CSV header line (no newline), with its leading spaces."""
    names = []
    for i, name in enumerate(_columns_of(preset)):
        if name == "Compute Delay (Max)":
            name = "Compute Delay (Min)"  # MAESTRO's label for the max column
        spaces = 0 if i == 0 else 2 if name in _TWO_SPACES else 1
        names.append(" " * spaces + name)
    return ",".join(names)


def _columns_of(preset: str) -> tuple[str, ...]:
    if preset not in COLUMNS:
        raise ValueError(f"unknown preset {preset!r}; allowed: {', '.join(COLUMNS)}")
    return COLUMNS[preset]


def c_div(a: float, b: float) -> float:
    """a / b with C semantics: x/0 = +-inf, 0/0 = nan (never ZeroDivisionError)."""
    a, b = float(a), float(b)
    if b != 0:
        return a / b
    if a == 0 or math.isnan(a):
        return math.nan
    return math.copysign(math.inf, a) * math.copysign(1.0, b)


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
    r = result_row
    if compat:
        energy = r["energy_l2"] + (r["energy_l1"] if r["single_entry"] else prev_l1_energy)
    else:
        energy = r["energy"]
    macs, runtime = r["macs"], r["runtime"]
    # MAESTRO prints Ops/J = 0 for a degenerate row (no top case processed).
    ops_per_joule = 0.0 if r["degenerate"] else c_div(macs, energy) * 1e9

    values: dict[str, int | float | str] = {
        "Neural Network Name": network_name,
        "Layer Number": layer_name,
        "NumPEs": hardware.num_pes,
        "Runtime (Cycles)": runtime,
        "Activity count-based Energy (nJ)": energy,
        "Throughput (MACs/Cycle)": c_div(macs, runtime),
        "Throughput Per Energy (GMACs/s*J)": c_div(c_div(macs, runtime), energy) * 1e9,
        "Area": r["area"],
        "Power": r["power"],
        "NoC BW Req (Elements/cycle)": r["peak_bw"],  # HEAD prints Peak here
        "NoC BW (Elements/cycle)": hardware.noc_bw,  # 2020 prints the configured value
        "Avg BW Req": r["avg_bw"],
        "Peak BW Req": r["peak_bw"],
        "Vector Width": hardware.simd_lanes,
        "Offchip BW Req (Elements/cycle)": r["offchip_bw"],
        "L2 SRAM Size Req (Bytes)": r["l2_size"],
        "L1 SRAM Size Req (Bytes)": r["l1_size"],
        "L2 SRAM Size (Bytes)": r["l2_size"],
        "L1 SRAM Size (Bytes)": r["l1_size"],
        "Multicasting Factor (Weight)": c_div(r["filter_l1_write"], r["filter_l2_read"]),
        "Multicasting Factor (Input)": c_div(r["input_l1_write"], r["input_l2_read"]),
        "Num Total Input Pixels": r["input_pixels"],
        "Num Total Weight Pixels": r["weight_pixels"],
        "Ops/J": ops_per_joule,
        "Num MACs": macs,
        "PE power": r["pe_power"],
        "L1 power": r["l1_power"],
        "L2 power": r["l2_power"],
        "NOC power": r["noc_power"],
        "Avg number of utilized PEs": r["avg_active"],
        "Arithmetic Intensity": r["arith_intensity"],
    }
    for tensor in ("input", "filter", "output"):
        for level in ("l1", "l2"):
            for op in ("read", "write"):
                values[f"{tensor} {level} {op}"] = r[f"{tensor}_{level}_{op}"]
        values[f"{tensor} reuse factor"] = c_div(r[f"{tensor}_l1_read"], r[f"{tensor}_l1_write"])
    for kind in ("Ingress", "Egress", "Compute"):
        for stat in ("Min", "Max", "Avg"):
            values[f"{kind} Delay ({stat})"] = r[f"{kind.lower()}_{stat.lower()}"]

    out = {}
    for name in _columns_of(preset):
        value = values[name]
        if name in INT_COLUMNS:
            value = int(value)
        elif not isinstance(value, str):
            value = float(value)
        out[name] = value
    return out


def format_value(value) -> str:
    """A value as MAESTRO prints it: ints exact, floats like C++ ``<<`` (``%g``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "-nan"  # every NaN here comes from 0/0, which x86 prints as -nan
    return "%g" % value


def format_row(row: dict) -> str:
    """A :func:`columns` dict as one CSV line (no newline)."""
    return ",".join(format_value(v) for v in row.values())


def csv_name(mapping_file: str) -> str:
    """The CSV MAESTRO writes for a mapping path (see the module docstring)."""
    name = str(mapping_file)
    for _ in range(2):
        cut = name.find("/")
        if cut < 0:
            break
        name = name[cut + 1:]
    return name.split(".", 1)[0] + ".csv"


# ----------------------------------------------------------------- mapping files
@dataclass
class MappingLayer:
    """One ``Layer`` block of a mapping file, ready to evaluate."""

    network: str
    name: str
    layer: cm.Layer
    dataflow: Dataflow
    constants: dict[str, int] = field(default_factory=dict)
    line: int = 0  # line of the Layer keyword


def _last_line(tk: _Tokens) -> int | None:
    """Line of the token just consumed."""
    return tk.tokens[tk.pos - 1][1] if tk.pos > 0 else tk.line()


def _value(tk: _Tokens, what: str, constants: dict[str, int]) -> int:
    """An integer or a declared constant's value."""
    tok = tk.next(what)
    if tok.isdigit():
        return int(tok)
    if tok in constants:
        return constants[tok]
    raise tk.error(f"expected {what} (an integer or a declared Constant), found '{tok}'", back=1)


def _parse_dimensions(tk: _Tokens, constants: dict[str, int]) -> dict[str, int]:
    """``{ K: 64, C: 3, ... }`` after the word Dimensions."""
    tk.expect("{")
    dims: dict[str, int] = {}
    while True:
        dim = tk.next("a dimension name or '}'")
        if dim == "}":
            return dims
        if dim not in cm.DIMS:
            raise tk.error(f"unknown dimension '{dim}'; allowed: {', '.join(cm.DIMS)}", back=1)
        if dim in dims:
            raise tk.error(f"dimension {dim} is declared twice", back=1)
        dims[dim] = _value(tk, f"a size for dimension {dim}", constants)
        if dims[dim] <= 0:
            raise tk.error(f"dimension {dim} must be > 0, found {dims[dim]}", back=1)


def _parse_stride(tk: _Tokens, constants: dict[str, int]) -> None:
    """``Stride { X: 1, Y: 1 }``: accepted only with stride 1 (not modelled)."""
    tk.expect("{")
    while True:
        dim = tk.next("X, Y or '}'")
        if dim == "}":
            return
        if _value(tk, f"a stride for {dim}", constants) != 1:
            raise tk.error("only stride 1 is supported (the cost model does not model stride)",
                           back=1)


def _parse_dataflow(tk: _Tokens, constants: dict[str, int], layer_name: str) -> Dataflow:
    """``{ directives }`` after the word Dataflow."""
    line = _last_line(tk)
    tk.expect("{")
    levels, clusters = _parse_dataflow_body(tk)
    try:
        dataflow = Dataflow(levels, clusters, name=layer_name)
    except ValueError as e:  # e.g. a dimension mapped twice, a size of 0
        raise ParseError(f"bad Dataflow: {e}", line, tk.source) from None
    for name in dataflow.params:
        if name not in constants:
            raise ParseError(f"the Dataflow uses '{name}', which is not a declared Constant",
                             line, tk.source)
    return dataflow


def _size_dims(dataflow: Dataflow) -> set[str]:
    """Dimensions D used as Sz(D) in a dataflow."""
    exprs = [e for level in dataflow.levels for d in level for e in (d.size, d.offset)]
    exprs += list(dataflow.clusters)
    return {e[3:-1] for e in exprs if isinstance(e, str) and e.startswith("Sz(")}


def _parse_layer(tk: _Tokens, network: str, constants: dict[str, int],
                 previous: Dataflow | None) -> MappingLayer:
    """``NAME { Type: T  Dimensions {...}  Dataflow {...} }`` after the word Layer."""
    line = _last_line(tk)
    name = tk.next("a layer name")
    tk.expect("{")
    layer_type, dims, dataflow = None, None, None
    while True:
        tok = tk.next("Type, Dimensions, Dataflow or '}'")
        if tok == "}":
            break
        if tok == "Type":
            layer_type = tk.next("a layer type")
            if layer_type not in LAYER_TYPES:
                raise tk.error(f"layer type '{layer_type}' is not supported: only CONV and "
                               "DSCONV layers are", back=1)
        elif tok == "Dimensions":
            dims = _parse_dimensions(tk, constants)
        elif tok == "Stride":
            _parse_stride(tk, constants)
        elif tok == "Dataflow":
            dataflow = _parse_dataflow(tk, constants, name)
        else:
            raise tk.error(f"expected Type, Dimensions, Dataflow or '}}', found '{tok}'", back=1)

    def fail(message: str) -> ParseError:
        return ParseError(f"layer {name}: {message}", line, tk.source)

    if layer_type is None:
        raise fail("no 'Type:' line (CONV or DSCONV)")
    if dims is None:
        raise fail("no Dimensions block")
    required = ("C", "Y", "X", "R", "S") + (("K",) if layer_type == "CONV" else ())
    missing = [d for d in required if d not in dims]
    if missing:
        raise fail(f"Dimensions lacks {', '.join(missing)}")
    dataflow = dataflow or previous
    if dataflow is None:
        raise fail("no Dataflow block (only later layers may reuse the previous one's)")
    undeclared = sorted(_size_dims(dataflow) - set(dims))
    if undeclared:
        raise fail(f"the Dataflow uses Sz({undeclared[0]}), but {undeclared[0]} is not "
                   "declared in Dimensions")
    layer = cm.Layer(K=dims.get("K", 1), C=dims["C"], Y=dims["Y"], X=dims["X"], R=dims["R"],
                     S=dims["S"], N=dims.get("N", 0), depthwise=layer_type == "DSCONV")
    return MappingLayer(network, name, layer, dataflow, dict(constants), line)


def parse_mapping(text: str, source: str = "") -> list[MappingLayer]:
    """Parse a MAESTRO mapping file into its layers (in file order).

    Raises :class:`archgym.costmodel.ParseError` naming ``source``, the line and
    what was expected.
    """
    tk = _Tokens(tokenize(text), source)
    constants: dict[str, int] = {}
    layers: list[MappingLayer] = []
    while tk.peek() is not None:
        tok = tk.next("Constant or Network")
        if tok == "Constant":
            name = tk.next("a constant name")
            value = tk.next(f"a value for constant {name}")
            constants[name] = int(value) if value.isdigit() else 0  # MAESTRO: non-numeric -> 0
        elif tok == "Network":
            network = tk.next("a network name")
            tk.expect("{")
            while (tok := tk.next("Layer or '}'")) != "}":
                if tok != "Layer":
                    raise tk.error(f"expected Layer or '}}', found '{tok}'", back=1)
                previous = layers[-1].dataflow if layers else None
                layers.append(_parse_layer(tk, network, constants, previous))
        else:
            raise tk.error(f"expected Constant or Network, found '{tok}'", back=1)
    if not layers:
        raise ParseError("no Layer found (expected Network NAME { Layer NAME { ... } })",
                         None, source)
    return layers


def run_mapping(text_or_path, hardware: cm.Hardware = cm.Hardware(),
                preset: str = "maestro2021", compat: bool = True) -> list[dict]:
    """Evaluate a mapping (its text, or a path to it); one :func:`columns` dict per layer.

    A ``str`` containing ``{`` is taken as mapping text, anything else as a path.
    Errors from the cost model become ValueErrors naming the file, line and layer.
    """
    if isinstance(text_or_path, str) and "{" in text_or_path:
        text, source = text_or_path, ""
    else:
        text, source = Path(text_or_path).read_text(), str(text_or_path)
    rows = []
    prev_l1_energy = 0.0
    for ml in parse_mapping(text, source):
        try:
            result = cm.evaluate(ml.layer, ml.dataflow, hardware, constants=ml.constants,
                                 preset=preset, compat=compat)
        except ValueError as e:
            where = f"{source}:" if source else ""
            raise ValueError(f"{where}line {ml.line}: layer {ml.name}: {e}") from None
        rows.append(columns(result, hardware, preset, ml.name, ml.network, prev_l1_energy,
                            compat=compat))
        prev_l1_energy = result["energy_l1"]
    return rows


# ----------------------------------------------------------------- command line
class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # report through main(), exit code 1, no usage dump
        raise _UsageError(message)


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("true", "1", "yes", "on"):
        return True
    if value in ("false", "0", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got '{text}'")


def _make_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, allow_abbrev=False,
                description="MAESTRO-compatible command line over archgym's cost model.")

    def flag(*names, type=int, **options):  # int flags default to None (= not given)
        if type is _bool:  # "--flag" alone means --flag=true
            options.update(nargs="?", const=True)
        p.add_argument(*names, type=type, **options)

    flag("--Mapping_file", type=str, help="the mapping (.m) file")
    flag("--HW_file", type=str, help="'key: value' lines for num_pes, l1_size_cstr, "
         "l2_size_cstr, noc_bw_cstr, offchip_bw_cstr (command-line flags win)")
    default = cm.HARDWARE_DEFAULTS
    flag("--num_pes", help=f"number of PEs (default {default['num_pes']})")
    flag("--num_simd_lanes", help=f"vector width of a PE (default {default['simd_lanes']})")
    flag("--noc_bw_cstr", "--noc_bw", dest="noc_bw_cstr",
         help=f"NoC bandwidth, elements/cycle (default {default['noc_bw']})")
    flag("--noc_hops", help=f"NoC hops (default {default['noc_hops']})")
    flag("--noc_hop_latency", help=f"cycles per hop (default {default['noc_hop_latency']})")
    flag("--offchip_bw_cstr",
         help=f"off-chip bandwidth, elements/cycle (default {default['offchip_bw']})")
    flag("--l1_size_cstr", "--l1_size", dest="l1_size_cstr",
         help="L1 size limit per PE, bytes (only reported by --print_res)")
    flag("--l2_size_cstr", "--l2_size", dest="l2_size_cstr",
         help="L2 size limit, bytes (only reported by --print_res)")
    flag("--noc_mc_support", type=_bool, default=True, help="accepted; only true is modelled")
    flag("--full_buffer", type=_bool, default=False, help="accepted; only false is modelled")
    flag("--print_res", type=_bool, default=True, help="print a summary per layer")
    flag("--print_res_csv_file", type=_bool, default=True, help="append rows to <name>.csv")
    flag("--print_log_file", type=_bool, default=False, help="accepted and ignored")
    flag("--print_design_space", type=_bool, default=False, help="accepted and ignored")
    flag("--msg_print_lv", help="accepted and ignored")
    flag("--preset", type=str, default="maestro2021",
         help="maestro2021 (HEAD columns and constants) or maestro2020")
    flag("--compat", type=_bool, default=True,
         help="reproduce MAESTRO's quirks (default true); false = corrected L1 tile and energy")
    return p


_HW_KEYS = {"num_pes": "num_pes", "l1_size_cstr": "l1_size_cstr", "l2_size_cstr": "l2_size_cstr",
            "noc_bw_cstr": "noc_bw_cstr", "offchip_bw_cstr": "offchip_bw_cstr",
            "l1_size": "l1_size_cstr", "l2_size": "l2_size_cstr", "noc_bw": "noc_bw_cstr"}


def read_hw_file(path: str) -> dict[str, int]:
    """``key: value`` lines of a MAESTRO hardware file (unknown keys: a warning)."""
    values = {}
    for lineno, line in enumerate(Path(path).read_text().splitlines(), start=1):
        line = line.split("//", 1)[0].strip()
        if not line:
            continue
        key, sep, value = (part.strip() for part in line.partition(":"))
        if not sep or not value.isdigit():
            raise ParseError("expected 'key: integer'", lineno, path)
        if key not in _HW_KEYS:
            print(f"{PROG}: warning: {path}:{lineno}: ignoring unknown key '{key}'",
                  file=sys.stderr)
            continue
        values[_HW_KEYS[key]] = int(value)
    return values


def _warn_unknown(extras: list[str]) -> None:
    for arg in extras:
        if arg.startswith("-"):
            print(f"{PROG}: warning: ignoring unknown flag {arg.split('=', 1)[0]}",
                  file=sys.stderr)
        # a bare word after an unknown flag is taken as that flag's value


def _summary(row: dict, hw: cm.Hardware, preset: str) -> str:
    suffix = " Req (Bytes)" if preset == "maestro2021" else " (Bytes)"
    l1, l2 = row["L1 SRAM Size" + suffix], row["L2 SRAM Size" + suffix]
    return "\n".join((
        f"Network {row['Neural Network Name']}, layer {row['Layer Number']}:",
        f"  runtime {row['Runtime (Cycles)']} cycles, {row['Num MACs']} MACs, "
        f"throughput {format_value(row['Throughput (MACs/Cycle)'])} MACs/cycle",
        f"  energy {format_value(row['Activity count-based Energy (nJ)'])} nJ, "
        f"area {format_value(row['Area'])}, power {format_value(row['Power'])}",
        f"  L1 {l1} B per PE (limit {hw.l1_size}: {'ok' if l1 <= hw.l1_size else 'EXCEEDED'}), "
        f"L2 {l2} B (limit {hw.l2_size}: {'ok' if l2 <= hw.l2_size else 'EXCEEDED'})",
        f"  NoC BW: peak {row['Peak BW Req']}, average {format_value(row['Avg BW Req'])} "
        f"elements/cycle (given {hw.noc_bw})"))


def main(argv: list[str] | None = None) -> int:
    """Run like the MAESTRO binary; returns the exit code (0 ok, 1 error)."""
    try:
        args, extras = _make_parser().parse_known_args(argv)
    except _UsageError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 1
    except SystemExit as e:  # --help
        return int(e.code or 0)
    _warn_unknown(extras)
    try:
        if args.preset not in COLUMNS:
            raise ValueError(f"--preset must be one of {', '.join(COLUMNS)}, got '{args.preset}'")
        if not args.Mapping_file:
            raise ValueError("--Mapping_file=<file.m> is required")
        if args.full_buffer or not args.noc_mc_support:
            print(f"{PROG}: warning: --full_buffer=true and --noc_mc_support=false are not "
                  "modelled; computing as full_buffer=false, noc_mc_support=true",
                  file=sys.stderr)
        settings = read_hw_file(args.HW_file) if args.HW_file else {}
        settings.update({k: v for k, v in vars(args).items()
                         if k in _HW_KEYS.values() and v is not None})
        defaults = cm.Hardware()
        hw = cm.Hardware(
            num_pes=settings.get("num_pes", defaults.num_pes),
            simd_lanes=(args.num_simd_lanes if args.num_simd_lanes is not None
                        else defaults.simd_lanes),
            noc_bw=settings.get("noc_bw_cstr", defaults.noc_bw),
            noc_hops=args.noc_hops if args.noc_hops is not None else defaults.noc_hops,
            noc_hop_latency=(args.noc_hop_latency if args.noc_hop_latency is not None
                             else defaults.noc_hop_latency),
            offchip_bw=settings.get("offchip_bw_cstr", defaults.offchip_bw),
            l1_size=settings.get("l1_size_cstr", defaults.l1_size),
            l2_size=settings.get("l2_size_cstr", defaults.l2_size))
        rows = run_mapping(Path(args.Mapping_file), hw, args.preset, args.compat)
        if args.print_res:
            for row in rows:
                print(_summary(row, hw, args.preset))
        if args.print_res_csv_file:
            path = csv_name(args.Mapping_file)
            is_new = not os.path.exists(path) or os.path.getsize(path) == 0
            with open(path, "a", newline="") as f:
                if is_new:
                    f.write(raw_header(args.preset) + "\n")
                for row in rows:
                    f.write(format_row(row) + "\n")
    except (ValueError, OSError) as e:  # ParseError is a ValueError
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
