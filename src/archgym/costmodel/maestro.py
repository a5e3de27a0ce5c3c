"""``archgym-maestro``: a drop-in command line for the MAESTRO binary.

Tools that drive MAESTRO (ConfuciuX, ArchGym's MaestroGym, GAMMA) run one
process per mapping file and read back the CSV it writes.  This module accepts
the same flags and mapping files and writes the same CSV, computed by our own
cost model (:mod:`archgym.costmodel`), so switching is a change of one path::

    python -m archgym.costmodel.maestro --Mapping_file=layer.m --num_pes=64 \\
        --noc_bw_cstr=81920000 --print_res=false --print_res_csv_file=true

Pieces, in reading order:

* :func:`check_text` refuses what MAESTRO misreads (invisible characters,
  negative numbers, numbers beyond 64 bits); :func:`parse_mapping` reads a
  mapping file (``Constant``, ``Network``, ``Layer``, ``Type``, ``Stride``,
  ``Dimensions``, ``Dataflow``; ``//`` comments) into :class:`MappingLayer`
  objects, for every layer type (a GEMM's M, N, K renamed to the engine's
  dimensions).  The tokenizer and the dataflow grammar are the ones of
  :mod:`archgym.costmodel`; MAESTRO's rules are docs/design/costmodel.md §19-§20.
* :func:`run_mapping` evaluates every layer and returns one dict of MAESTRO
  columns per layer, built by :func:`columns`.
* :func:`format_value`, :func:`format_row`, :func:`raw_header` and
  :func:`csv_name` reproduce MAESTRO's CSV: C++ default float output (``%g``,
  ``inf``, ``-nan``), the field padding, the raw header byte for byte, and the
  output file name.
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
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from archgym import costmodel as cm
from archgym.costmodel.model import Dataflow, ParseError, _parse_dataflow_body, _Tokens, tokenize

PROG = "archgym-maestro"

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

#: MAESTRO HEAD's CSV header line, byte for byte (read from the real MAESTRO's
#: output, tests/data/reference/maestro/mapping_outputs/): its spacing is
#: irregular and its clients (ConfuciuX) index columns by these raw names.
RAW_HEADER_2021 = (
    "Neural Network Name, Layer Number, NumPEs, Runtime (Cycles), Activity count-based Energy "
    "(nJ), Throughput (MACs/Cycle), Throughput Per Energy (GMACs/s*J), Area, Power, NoC BW Req "
    "(Elements/cycle), Avg BW Req, Peak BW Req, Vector Width, Offchip BW Req (Elements/cycle),  "
    "L2 SRAM Size Req (Bytes), L1 SRAM Size Req (Bytes), Multicasting Factor (Weight), "
    "Multicasting Factor (Input), Num Total Input Pixels, Num Total Weight Pixels, Ops/J, "
    "Num MACs, PE power, L1 power, L2 power, NOC power, input l1 read, input l1 write, input l2 "
    "read, input l2 write, input reuse factor,filter l1 read, filter l1 write, filter l2 read, "
    "filter l2 write, filter reuse factor,output l1 read, output l1 write, output l2 read, output "
    "l2 write, output reuse factor,Ingress Delay (Min), Ingress Delay (Max), Ingress Delay (Avg), "
    "Egress Delay (Min), Egress Delay (Max),  Egress Delay (Avg),Compute Delay (Min), Compute "
    "Delay (Min), Compute Delay (Avg),Avg number of utilized PEs, Arithmetic Intensity")

#: The 2020 release's names for columns HEAD renamed; its header is assumed to
#: space every column as HEAD does.
_NAMES_2020 = {"NoC BW (Elements/cycle)": "NoC BW Req (Elements/cycle)",
               "L2 SRAM Size (Bytes)": "L2 SRAM Size Req (Bytes)",
               "L1 SRAM Size (Bytes)": "L1 SRAM Size Req (Bytes)"}

#: MAESTRO writes the data fields from this column on with one leading space.
PADDED_FROM = "input l1 write"


def raw_header(preset: str = "maestro2021") -> str:
    """MAESTRO's CSV header line (no newline), with its leading spaces."""
    if _columns_of(preset) == COLUMNS["maestro2021"]:
        return RAW_HEADER_2021
    raw = dict(zip(COLUMNS["maestro2021"], RAW_HEADER_2021.split(",")))
    out = []
    for name in _columns_of(preset):
        head = raw[_NAMES_2020.get(name, name)]
        out.append(head if name not in _NAMES_2020 else head.replace(_NAMES_2020[name], name))
    return ",".join(out)


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
    """A :func:`columns` dict as one CSV line (no newline), padded as MAESTRO pads it."""
    fields, pad = [], ""
    for name, value in row.items():
        pad = " " if name == PADDED_FROM else pad
        fields.append(pad + format_value(value))
    return ",".join(fields)


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
    #: Dimensions declared again after their first declaration: MAESTRO analyses
    #: the first value but multiplies the pixel counts by every later one.
    repeated: list[tuple[str, int]] = field(default_factory=list)


#: The largest number a mapping file may write (a signed 64-bit integer).
_MAX_NUMBER = 2**63 - 1
#: A number directly after '-' (the tokenizer would drop the sign).
_NEGATIVE = re.compile(r"(?:^|[\s:,(])-\s*(\d+)")


def check_text(text: str, source: str = "") -> None:
    """Refuse what MAESTRO misreads: invisible characters (a UTF-8 BOM, zero-width
    or control characters), negative numbers and numbers beyond 64 bits."""
    for lineno, line in enumerate(text.splitlines(), start=1):
        code = line.split("//", 1)[0]
        for ch in line:
            if ch not in "\t" and unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
                raise ParseError(f"invisible character U+{ord(ch):04X} "
                                 f"({unicodedata.name(ch, 'control')}); remove it", lineno, source)
        negative = _NEGATIVE.search(code)
        if negative:
            raise ParseError(f"negative number -{negative.group(1)}; sizes, strides and "
                             "constants must be >= 0", lineno, source)
        for number in re.findall(r"\d+", code):
            if int(number) > _MAX_NUMBER:
                raise ParseError(f"number {number} does not fit 64 bits (the largest is "
                                 f"{_MAX_NUMBER})", lineno, source)


def _last_line(tk: _Tokens) -> int | None:
    """Line of the token just consumed."""
    return tk.tokens[tk.pos - 1][1] if tk.pos > 0 else tk.line()


def _name_before_brace(tk: _Tokens, what: str) -> str:
    """MAESTRO's name of a Network or Layer: the last token before its '{'
    (the tokenizer splits at ``-``, so ``conv1-7x7`` is named ``7x7``)."""
    name = tk.next(what)
    if name == "{":
        raise tk.error(f"expected {what} before '{{'", back=1)
    while tk.peek() not in ("{", None):
        name = tk.next(what)
    tk.expect("{")
    return name


def _value(tk: _Tokens, what: str, constants: dict[str, int]) -> int:
    """An integer or a declared constant's value."""
    tok = tk.next(what)
    if tok.isdigit():
        return int(tok)
    if tok in constants:
        return constants[tok]
    raise tk.error(f"expected {what} (an integer or a declared Constant), found '{tok}'", back=1)


def _dimension_names(layer_type: str) -> dict[str, str]:
    """The names a layer type's Dimensions block uses -> the engine's dimension."""
    if layer_type == "GEMM":
        return dict(cm.GEMM_DIMS)
    names = {d: d for d in cm.DIMS}
    if layer_type != "NGCONV":
        del names["G"]
    return names


def _parse_dimensions(tk: _Tokens, constants: dict[str, int], layer_type: str | None
                      ) -> tuple[dict[str, int], list[tuple[str, int]]]:
    """``{ K: 64, C: 3, ... }`` after the word Dimensions: the dimensions (engine
    names, first declaration) and the repeated declarations."""
    if layer_type is None:
        raise tk.error("the 'Type:' line must come before Dimensions", back=1)
    names = _dimension_names(layer_type)
    tk.expect("{")
    dims: dict[str, int] = {}
    repeated: list[tuple[str, int]] = []
    while True:
        name = tk.next("a dimension name or '}'")
        if name == "}":
            return dims, repeated
        if name not in names:
            raise tk.error(f"unknown dimension '{name}' for a {layer_type} layer; allowed: "
                           f"{', '.join(names)}", back=1)
        value = _value(tk, f"a size for dimension {name}", constants)
        if value <= 0:
            raise tk.error(f"dimension {name} must be > 0, found {value}", back=1)
        if names[name] in dims:
            repeated.append((names[name], value))
        else:
            dims[names[name]] = value


def _parse_stride(tk: _Tokens, constants: dict[str, int]) -> dict[str, int]:
    """``Stride { X: 2, Y: 2 }``: the strides along X and Y."""
    tk.expect("{")
    strides: dict[str, int] = {}
    while True:
        dim = tk.next("X, Y or '}'")
        if dim == "}":
            return strides
        if dim not in ("X", "Y"):
            raise tk.error(f"a Stride names X or Y, found '{dim}'", back=1)
        strides[dim] = _value(tk, f"a stride for {dim}", constants)
        if strides[dim] <= 0:
            raise tk.error(f"the stride of {dim} must be > 0, found {strides[dim]}", back=1)


def _rename_gemm_block(tk: _Tokens) -> None:
    """Rename a GEMM's dimension tokens (M, N, K) in the Dataflow block ahead to
    the engine's (GEMM_DIMS), up to its closing brace."""
    depth, i = 0, tk.pos
    while i < len(tk.tokens):
        tok, line = tk.tokens[i]
        depth += (tok == "{") - (tok == "}")
        if tok in cm.GEMM_DIMS:
            tk.tokens[i] = (cm.GEMM_DIMS[tok], line)
        if depth == 0 and tok == "}":
            return
        i += 1


def _parse_dataflow(tk: _Tokens, constants: dict[str, int], layer_name: str,
                    layer_type: str | None) -> Dataflow:
    """``{ directives }`` after the word Dataflow."""
    line = _last_line(tk)
    if layer_type == "GEMM":
        _rename_gemm_block(tk)
    tk.expect("{")
    levels, clusters = _parse_dataflow_body(tk)
    try:
        dataflow = Dataflow(levels, clusters, name=layer_name)
    except ValueError as e:  # e.g. a dimension mapped twice, a size of 0
        raise ParseError(f"layer {layer_name}: bad Dataflow: {e}", line, tk.source) from None
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


#: The dimensions each layer type must declare (engine names).
_REQUIRED = {"CONV": "KCRSYX", "TRCONV": "KCRSYX", "DSCONV": "CRSYX", "NGCONV": "GKCRSYX",
             "GEMM": "YKC"}


def _parse_layer(tk: _Tokens, network: str, constants: dict[str, int]) -> MappingLayer:
    """``NAME { Type: T  Stride {...}  Dimensions {...}  Dataflow {...} }`` after the word Layer."""
    line = _last_line(tk)
    name = _name_before_brace(tk, "a layer name")
    layer_type, dims, strides, dataflow, repeated = None, None, {}, None, []
    while True:
        tok = tk.next("Type, Stride, Dimensions, Dataflow or '}'")
        if tok == "}":
            break
        if tok == "Type":
            layer_type = tk.next("a layer type")
            if layer_type not in cm.LAYER_TYPES:
                raise tk.error(f"unknown layer type '{layer_type}'; allowed: "
                               f"{', '.join(cm.LAYER_TYPES)}", back=1)
        elif tok == "Dimensions":
            dims, repeated = _parse_dimensions(tk, constants, layer_type)
        elif tok == "Stride":
            strides = _parse_stride(tk, constants)
        elif tok == "Dataflow":
            dataflow = _parse_dataflow(tk, constants, name, layer_type)
        else:
            raise tk.error(f"expected Type, Stride, Dimensions, Dataflow or '}}', found '{tok}'",
                           back=1)

    def fail(message: str) -> ParseError:
        return ParseError(f"layer {name}: {message}", line, tk.source)

    if layer_type is None:
        raise fail(f"no 'Type:' line ({', '.join(cm.LAYER_TYPES)})")
    if dims is None:
        raise fail("no Dimensions block")
    names = {engine: written for written, engine in _dimension_names(layer_type).items()}
    missing = [names[d] for d in _REQUIRED[layer_type] if d not in dims]
    if missing:
        raise fail(f"Dimensions lacks {', '.join(missing)}")
    if dataflow is None:  # MAESTRO fails too ("No spatial map in a cluster")
        raise fail("no Dataflow block (every layer needs its own)")
    undeclared = sorted(_size_dims(dataflow) - set(dims))
    if undeclared:
        raise fail(f"the Dataflow uses Sz({names.get(undeclared[0], undeclared[0])}), but it is "
                   "not declared in Dimensions")
    if layer_type == "GEMM":
        dims.update(R=1, S=1, X=1)
    layer = cm.Layer(K=dims.get("K", 1), C=dims["C"], Y=dims["Y"], X=dims["X"], R=dims["R"],
                     S=dims["S"], N=dims.get("N", 0), type=layer_type, G=dims.get("G", 0),
                     stride_y=strides.get("Y", 1), stride_x=strides.get("X", 1))
    return MappingLayer(network, name, layer, dataflow, dict(constants), line, repeated)


def parse_mapping(text: str, source: str = "") -> list[MappingLayer]:
    """Parse a MAESTRO mapping file into its layers (in file order).

    Raises :class:`archgym.costmodel.ParseError` naming ``source``, the line and
    what was expected.
    """
    check_text(text, source)
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
            network = _name_before_brace(tk, "a network name")
            while (tok := tk.next("Layer or '}'")) != "}":
                if tok != "Layer":
                    raise tk.error(f"expected Layer or '}}', found '{tok}'", back=1)
                layers.append(_parse_layer(tk, network, constants))
        else:
            raise tk.error(f"expected Constant or Network, found '{tok}'", back=1)
    if not layers:
        raise ParseError("no Layer found (expected Network NAME { Layer NAME { ... } })",
                         None, source)
    _check_batch_dimension(layers, source)
    return layers


def _check_batch_dimension(layers: list[MappingLayer], source: str) -> None:
    """MAESTRO takes the tensors' batch dimension N from a file's first layer: a later
    layer without N fails there ("Dimension N not found"), and a later layer with N
    is analysed with N in its loops but not in its tensors (docs/design/costmodel.md
    §19).  archgym refuses both."""
    first_has_n = layers[0].layer.N > 0
    for ml in layers[1:]:
        if (ml.layer.N > 0) != first_has_n:
            raise ParseError(
                f"layer {ml.name}: {'lacks' if first_has_n else 'declares'} the batch "
                f"dimension N, which the file's first layer ({layers[0].name}) "
                f"{'declares' if first_has_n else 'does not'}; MAESTRO takes N from the first "
                "layer (it fails or leaves N out of the tensors), so N must be declared in "
                "every layer or in none", ml.line, source)


def _pixel_factors(ml: MappingLayer) -> tuple[int, int]:
    """(input, weight) pixel-count factors of the repeated declarations."""
    tensors = cm.TENSORS[ml.layer.type]
    f_in = f_w = 1
    for dim, value in ml.repeated:
        f_in *= value if dim in tensors[0] else 1
        f_w *= value if dim in tensors[1] else 1
    return f_in, f_w


def _read_text(path: Path) -> str:
    """A mapping file's text; bytes that are not UTF-8 are an error naming the line."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise ParseError(f"byte 0x{data[e.start]:02x} is not UTF-8 text", line, str(path)) from None


def run_mapping(text_or_path, hardware: cm.Hardware = cm.Hardware(),
                preset: str = "maestro2021", compat: bool = True) -> list[dict]:
    """Evaluate a mapping (its text, or a path to it); one :func:`columns` dict per layer.

    A ``str`` containing ``{`` is taken as mapping text, anything else as a path.
    Errors from the cost model become ValueErrors naming the file, line and layer.
    """
    if isinstance(text_or_path, str) and "{" in text_or_path:
        text, source = text_or_path, ""
    else:
        text, source = _read_text(Path(text_or_path)), str(text_or_path)
    rows = []
    prev_l1_energy = 0.0
    for ml in parse_mapping(text, source):
        try:
            result = cm.evaluate(ml.layer, ml.dataflow, hardware, constants=ml.constants,
                                 preset=preset, compat=compat)
        except ValueError as e:
            where = f"{source}:" if source else ""
            raise ValueError(f"{where}line {ml.line}: layer {ml.name}: {e}") from None
        if result["degenerate"] and not compat:  # MAESTRO prints runtime 0 (§7)
            where = f"{source}:" if source else ""
            raise ValueError(f"{where}line {ml.line}: layer {ml.name}: the mapping computes "
                             "nothing (no top-level case has an output; a window directive's "
                             "edge tile is empty): MAESTRO prints runtime 0 and a negative "
                             "energy here, --compat=false refuses it")
        f_in, f_w = _pixel_factors(ml)
        result["input_pixels"] *= f_in
        result["weight_pixels"] *= f_w
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


def _int64(text: str) -> int:
    """An integer flag value that fits 64 bits."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got '{text}'") from None
    if not -2**63 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"{text} does not fit 64 bits")
    return value


def _make_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, allow_abbrev=False,
                description="MAESTRO-compatible command line over archgym's cost model.")

    def flag(*names, type=_int64, **options):  # int flags default to None (= not given)
        if type is _bool:  # "--flag" alone means --flag=true
            options.update(nargs="?", const=True)
        p.add_argument(*names, type=type, **options)

    flag("--Mapping_file", type=str, help="the mapping (.m) file")
    flag("--HW_file", type=str, help="'key: value' lines for num_pes, l1_size_cstr, "
         "l2_size_cstr, noc_bw_cstr, offchip_bw_cstr (command-line flags win)")
    default = cm.MAESTRO_DEFAULTS  # the MAESTRO binary's own defaults
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
        if int(value) > _MAX_NUMBER:
            raise ParseError(f"number {value} does not fit 64 bits", lineno, path)
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
        given = {"num_pes": settings.get("num_pes"), "simd_lanes": args.num_simd_lanes,
                 "noc_bw": settings.get("noc_bw_cstr"), "noc_hops": args.noc_hops,
                 "noc_hop_latency": args.noc_hop_latency,
                 "offchip_bw": settings.get("offchip_bw_cstr"),
                 "l1_size": settings.get("l1_size_cstr"), "l2_size": settings.get("l2_size_cstr")}
        hw = cm.Hardware(**{**cm.MAESTRO_DEFAULTS,
                            **{k: v for k, v in given.items() if v is not None}})
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
