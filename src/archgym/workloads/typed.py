"""Layer tables with MAESTRO's layer types: transformers as GEMMs, grouped and transposed convs.

A *typed* table names each layer's type and dimensions as MAESTRO's mapping-file
language does (``Type: GEMM`` with ``Dimensions { M, N, K }``, ``NGCONV`` with ``G``,
``TRCONV``, ``Stride { X, Y }``).  One row is a :class:`TypedLayer`; the CSV columns
are :data:`COLUMNS`:

==========  ============================================================================
type        used columns (others empty)
==========  ============================================================================
``CONV``    K (output channels), C (input channels), Y, X (INPUT size), R, S, stride, pad
``DSCONV``  C (channels), Y, X, R, S, stride, pad: one R x S filter per channel
``NGCONV``  G groups, each a CONV with K outputs and C inputs (K, C are PER GROUP, as
            MAESTRO counts them: G*K*C*R*S*Y'*X' MACs), Y, X, R, S, stride, pad
``TRCONV``  the dimensions of the strided CONV it transposes (MAESTRO counts
            K*C*R*S*Y'*X' MACs): Y, X are the transposed conv's OUTPUT size, its input
            is Y' x X' = ((Y - R) // stride + 1) squared; pad must be 0
``GEMM``    (M x K) @ (K x N) = (M x N), MAESTRO's names; G (default 1) independent
            GEMMs of that shape (the heads of multi-head attention)
==========  ============================================================================

``repeat`` (>= 1) says how many identical layers in a row the line stands for (the
12 identical encoder layers of BERT-base are one line each with repeat 12).  The
conventions of NGCONV and TRCONV are the real MAESTRO's, observed with its binary
(tests/data/reference/maestro/layer_types/).

Generators (facts of the papers, no code copied):

* :func:`bert_base`: Devlin et al., NAACL 2019: L = 12 layers, H = 768, A = 12 heads,
  feed-forward 4H = 3072, 110M parameters; ``seq_len`` tokens (default 128).
* :func:`gpt2_small`: Radford et al. 2019, the smallest model ("equivalent to the
  original GPT": Radford et al. 2018, 12 layers, 768 wide, 12 heads, 3072 feed-forward),
  vocabulary 50,257, context 1024 (default ``seq_len``); the language-model head is the
  transposed token embedding (tied weights).
* :func:`vit_b16`: Dosovitskiy et al., ICLR 2021, Table 1 ViT-Base: 12 layers, hidden
  768, MLP 3072, 12 heads, 86M parameters; 16 x 16 patches of a 224 x 224 RGB image:
  196 patches + the class token = 197 tokens; 1000-class head on the class token.
* :func:`resnext50_32x4d`: Xie et al., CVPR 2017, Table 1 (the rows of
  :func:`archgym.workloads.architectures.resnext50_32x4d`, grouped convs as NGCONV).
* :func:`unet`: Ronneberger et al., MICCAI 2015, Fig. 1: 572 x 572 x 1 input, unpadded
  3 x 3 convs, 2 x 2 max pooling, 2 x 2 up-convolutions (stride 2) halving the channels,
  a final 1 x 1 conv to 2 classes on 388 x 388: 23 conv layers.

A transformer layer is eight GEMMs: the Q, K, V and output projections (M = tokens,
N = K = hidden), the attention scores Q K^T (G = heads, M = N = tokens, K = head
width), the context A V (G = heads, M = tokens, N = head width, K = tokens) and the two
MLP GEMMs (hidden -> 4 hidden -> hidden).  Embedding look-ups, softmax, LayerNorm,
biases and activations are not GEMMs and are left out.

The cost engine (:mod:`archgym.costmodel`) takes every one of these types natively;
:func:`to_workload` turns a typed table into a :class:`Workload` whose ``type`` column keeps
them, and ``workloads.load("typed/<model>")`` returns that table.
"""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path
from typing import NamedTuple

import numpy as np

from archgym.workloads import MAX_REPEAT, Workload, load
from archgym.workloads.architectures import Layer as CorrectedLayer
from archgym.workloads.architectures import resnext50_32x4d as _resnext50_rows

#: The columns of a typed table, in file order.
COLUMNS = ("layer", "type", "G", "K", "C", "Y", "X", "R", "S", "M", "N", "stride", "pad", "repeat")
#: MAESTRO's layer types, and the dimension columns each one uses.
TYPE_DIMS = {
    "CONV": ("K", "C", "Y", "X", "R", "S"),
    "DSCONV": ("C", "Y", "X", "R", "S"),
    "NGCONV": ("G", "K", "C", "Y", "X", "R", "S"),
    "TRCONV": ("K", "C", "Y", "X", "R", "S"),
    "GEMM": ("G", "M", "N", "K"),
}
_DIM_COLUMNS = ("G", "K", "C", "Y", "X", "R", "S", "M", "N")
_CONV_TYPES = ("CONV", "DSCONV", "NGCONV", "TRCONV")


class TypedLayer(NamedTuple):
    """One row of a typed table; a dimension the type does not use is None."""

    layer: str
    type: str
    G: int | None = None
    K: int | None = None
    C: int | None = None
    Y: int | None = None
    X: int | None = None
    R: int | None = None
    S: int | None = None
    M: int | None = None
    N: int | None = None
    stride: int = 1
    pad: int = 0
    repeat: int = 1

    def macs(self) -> int:
        """Multiply-accumulates of the row, times its repeat count."""
        if self.type == "GEMM":
            return self.repeat * self.G * self.M * self.N * self.K
        out_y = (self.Y + 2 * self.pad - self.R) // self.stride + 1
        out_x = (self.X + 2 * self.pad - self.S) // self.stride + 1
        if self.type == "DSCONV":
            per_output = self.C
        elif self.type == "NGCONV":
            per_output = self.G * self.K * self.C
        else:  # CONV, and TRCONV as MAESTRO counts it
            per_output = self.K * self.C
        return self.repeat * per_output * out_y * out_x * self.R * self.S


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check(row: TypedLayer, origin: str = "typed table") -> TypedLayer:
    """Return ``row`` if it is a valid typed layer, else raise one ValueError saying why."""
    where = f"{origin}: layer {row.layer!r}"
    if row.type not in TYPE_DIMS:
        raise ValueError(f"{where}: type {row.type!r} is not allowed; allowed: {', '.join(TYPE_DIMS)}")
    used = TYPE_DIMS[row.type]
    for d in _DIM_COLUMNS:
        value = getattr(row, d)
        if d in used and not (_is_int(value) and 1 <= value < 2**63):
            raise ValueError(f"{where}: {row.type} needs {d} >= 1 (and below 2**63), got {value!r}")
        if d not in used and value is not None:
            raise ValueError(f"{where}: {row.type} has no dimension {d} (uses {', '.join(used)}); "
                             "leave it empty")
    for name, low, high in (("stride", 1, 2**63 - 1), ("pad", 0, 2**63 - 1), ("repeat", 1, MAX_REPEAT)):
        value = getattr(row, name)
        if not (_is_int(value) and low <= value <= high):
            raise ValueError(f"{where}: {name} must be an integer in [{low}, {high}], got {value!r}")
    if row.type == "GEMM" and row.repeat * row.G > MAX_REPEAT:
        raise ValueError(f"{where}: repeat x G = {row.repeat * row.G} is more than {MAX_REPEAT} "
                         "identical GEMM layers")
    if row.type in _CONV_TYPES and (row.R > row.Y + 2 * row.pad or row.S > row.X + 2 * row.pad):
        raise ValueError(f"{where}: the {row.R}x{row.S} kernel is larger than the padded "
                         f"{row.Y}x{row.X} input")
    if row.type == "GEMM" and (row.stride, row.pad) != (1, 0):
        raise ValueError(f"{where}: a GEMM has no stride or padding (stride 1, pad 0)")
    return row


# ----------------------------------------------------------------------------- workload


def to_workload(rows: list[TypedLayer], name: str, source: str = "", uri: str = "") -> Workload:
    """The typed rows as a :class:`Workload` whose rows keep their MAESTRO type.

    Each row becomes one row of the same type (``Workload.type``), its stride, padding
    and repeat kept; the engine evaluates it as MAESTRO evaluates that layer type
    (docs/design/costmodel.md §14.1, §20):

    * CONV, DSCONV, TRCONV: the same dimensions (a DSCONV has K = 1, T = 2, groups C).
    * NGCONV: K, C over all groups (G times the per-group K, C) with groups = G: ONE
      row, which the environment gives the engine as G groups of K / G, C / G.
    * GEMM (M, N, K): the engine's names Y = M, K = N, C = K, X = R = S = 1.  MAESTRO's
      GEMM has no G: a row with G > 1 (the heads of attention) stands for G GEMM
      layers, so its repeat is multiplied by G.

    A row with repeat r stands for r identical layers: the HWResource environment counts
    its cycles, energy, area, power and MACs r times (r copies with the same action).
    """
    out: list[tuple[int, ...]] = []  # K, C, Y, X, R, S, T, stride, pad, groups, repeat
    for row in rows:
        check(row, name)
        if row.type == "GEMM":
            out.append((row.N, row.K, row.M, 1, 1, 1, 1, 1, 0, 1, row.repeat * row.G))
        elif row.type == "DSCONV":
            out.append((1, row.C, row.Y, row.X, row.R, row.S, 2, row.stride, row.pad, row.C, row.repeat))
        else:
            g = row.G or 1  # CONV, TRCONV: one group
            out.append((g * row.K, g * row.C, row.Y, row.X, row.R, row.S, 1, row.stride, row.pad, g,
                        row.repeat))
    table = np.array(out, dtype=np.int64)
    return Workload(name=name, layers=table[:, :7], stride=table[:, 7], pad=table[:, 8],
                    groups=table[:, 9], repeat=table[:, 10], type=[row.type for row in rows],
                    source=source, uri=uri)


# ----------------------------------------------------------------------------- CSV


def to_csv(rows: list[TypedLayer]) -> str:
    """The text of a typed table (header :data:`COLUMNS`, empty cells for unused dims)."""
    lines = [",".join(COLUMNS)]
    lines += [",".join("" if v is None else str(v) for v in row) for row in rows]
    return "\n".join(lines) + "\n"


def parse_csv(text: str, origin: str) -> list[TypedLayer]:
    """Read a typed table; a problem raises ValueError naming ``origin`` and the line.

    Empty cells are unused dimensions; an empty stride, pad or repeat means 1, 0 or 1.
    """
    reader = csv.reader(io.StringIO(text))
    header = [cell.strip() for cell in next(reader, [])]
    if header != list(COLUMNS):
        raise ValueError(f"{origin}: line 1: the header must be {','.join(COLUMNS)}")
    rows = []
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(COLUMNS):
            raise ValueError(f"{origin}: line {line}: expected {len(COLUMNS)} values, got {len(cells)}")
        values: dict[str, object] = {"layer": cells[0].strip(), "type": cells[1].strip()}
        for column, cell in zip(COLUMNS[2:], cells[2:]):
            cell = cell.strip()
            if cell and not cell.isdigit():
                raise ValueError(f"{origin}: line {line}: column {column}: {cell!r} is not a "
                                 "non-negative integer")
            if cell:
                values[column] = int(cell)
        rows.append(check(TypedLayer(**values), f"{origin}: line {line}"))
    if not rows:
        raise ValueError(f"{origin}: no layer rows after the header")
    return rows


def load_csv(path: str | Path, name: str | None = None) -> Workload:
    """A typed table file, as a :class:`Workload` (:func:`to_workload`)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: cannot read typed layer table: {err}") from err
    return to_workload(parse_csv(text, str(path)), name or path.stem, str(path),
                       path.resolve().as_uri())


# ----------------------------------------------------------------------------- generators


def _transformer_layer(tokens: int, hidden: int, heads: int, mlp: int, repeat: int) -> list[TypedLayer]:
    """The eight GEMMs of one transformer layer, repeated ``repeat`` times."""
    width = hidden // heads

    def gemm(name: str, m: int, n: int, k: int, g: int = 1) -> TypedLayer:
        return TypedLayer(name, "GEMM", G=g, M=m, N=n, K=k, repeat=repeat)

    return [
        gemm("q_proj", tokens, hidden, hidden),
        gemm("k_proj", tokens, hidden, hidden),
        gemm("v_proj", tokens, hidden, hidden),
        gemm("attn_scores", tokens, tokens, width, heads),  # Q K^T per head
        gemm("attn_context", tokens, width, tokens, heads),  # softmax(.) V per head
        gemm("out_proj", tokens, hidden, hidden),
        gemm("mlp_up", tokens, mlp, hidden),
        gemm("mlp_down", tokens, hidden, mlp),
    ]


def _check_tokens(seq_len) -> int:
    if not _is_int(seq_len) or seq_len < 1:
        raise ValueError(f"seq_len must be an integer >= 1, got {seq_len!r}")
    return seq_len


def bert_base(seq_len: int = 128) -> list[TypedLayer]:
    """BERT-base (L=12, H=768, A=12, 3072) on ``seq_len`` tokens, with the pooler."""
    if _check_tokens(seq_len) > 512:
        raise ValueError(f"seq_len must be <= 512 (BERT's position embeddings), got {seq_len}")
    rows = _transformer_layer(seq_len, 768, 12, 3072, repeat=12)
    return rows + [TypedLayer("pooler", "GEMM", G=1, M=1, N=768, K=768)]  # on the [CLS] token


def gpt2_small(seq_len: int = 1024) -> list[TypedLayer]:
    """GPT-2 small (12 layers, 768, 12 heads, 3072) on ``seq_len`` tokens, with the LM head."""
    if _check_tokens(seq_len) > 1024:
        raise ValueError(f"seq_len must be <= 1024 (GPT-2's context), got {seq_len}")
    rows = _transformer_layer(seq_len, 768, 12, 3072, repeat=12)
    return rows + [TypedLayer("lm_head", "GEMM", G=1, M=seq_len, N=50257, K=768)]


def vit_b16() -> list[TypedLayer]:
    """ViT-B/16 at 224 x 224: patch embedding, 12 layers on 197 tokens, class head."""
    patches = (224 // 16) ** 2  # 196
    rows = [TypedLayer("patch_embed", "GEMM", G=1, M=patches, N=768, K=3 * 16 * 16)]
    rows += _transformer_layer(patches + 1, 768, 12, 3072, repeat=12)
    return rows + [TypedLayer("head", "GEMM", G=1, M=1, N=1000, K=768)]


def _from_corrected(i: int, row: CorrectedLayer) -> TypedLayer:
    """A row of a corrected table as a typed row (FC -> GEMM, groups -> NGCONV)."""
    name = f"layer{i}"
    if row.Y == row.X == row.R == row.S == 1:
        return TypedLayer(name, "GEMM", G=1, M=1, N=row.K, K=row.C)
    dims = dict(Y=row.Y, X=row.X, R=row.R, S=row.S, stride=row.stride, pad=row.pad)
    if row.T == 2:
        return TypedLayer(name, "DSCONV", C=row.C, **dims)
    if row.groups > 1:
        return TypedLayer(name, "NGCONV", G=row.groups, K=row.K // row.groups,
                          C=row.C // row.groups, **dims)
    return TypedLayer(name, "CONV", K=row.K, C=row.C, **dims)


def resnext50_32x4d() -> list[TypedLayer]:
    """ResNeXt-50 32x4d: 54 rows, the 16 grouped 3x3 convs as NGCONV (G = 32)."""
    return [_from_corrected(i, row) for i, row in enumerate(_resnext50_rows())]


def unet() -> list[TypedLayer]:
    """U-Net (Fig. 1 of the paper): 18 3x3 convs, 4 up-convs (TRCONV 2x2/2), 1x1 output."""
    rows: list[TypedLayer] = []

    def conv(name: str, k: int, c: int, size: int, r: int = 3) -> int:
        rows.append(TypedLayer(name, "CONV", K=k, C=c, Y=size, X=size, R=r, S=r))
        return size - r + 1  # unpadded

    size, c = 572, 1
    skips = []
    for level, k in enumerate((64, 128, 256, 512, 1024), start=1):
        size = conv(f"down{level}_conv1", k, c, size)
        size = conv(f"down{level}_conv2", k, k, size)
        c = k
        if level < 5:
            skips.append(c)
            size //= 2  # 2x2 max pool, stride 2
    for level, k in zip((4, 3, 2, 1), (512, 256, 128, 64)):
        size *= 2  # the up-convolution's output, the TRCONV's Y
        rows.append(TypedLayer(f"up{level}_upconv", "TRCONV", K=k, C=c, Y=size, X=size, R=2, S=2,
                               stride=2))
        size = conv(f"up{level}_conv1", k, k + skips.pop(), size)  # concatenated with the crop
        size = conv(f"up{level}_conv2", k, k, size)
        c = k
    conv("output", 2, c, size, r=1)
    return rows


#: Name -> generator of the shipped typed tables (default sequence lengths).
TYPED_MODELS = {
    "bert_base": bert_base,
    "gpt2_small": gpt2_small,
    "resnext50_32x4d": resnext50_32x4d,
    "unet": unet,
    "vit_b16": vit_b16,
}


def summary() -> list[dict[str, object]]:
    """Per shipped typed table: its name, rows (= HWResource steps), engine layers (rows
    times repeat: a grouped conv is one layer, each attention head one GEMM) and GMACs
    (2 decimals)."""
    out = []
    for name in TYPED_MODELS:
        w = load(f"typed/{name}")
        out.append({"workload": f"typed/{name}", "rows": w.num_layers,
                    "engine_layers": int(w.repeat.sum()), "gmacs": round(w.macs() / 1e9, 2)})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m archgym.workloads.typed",
        description="Print the size of every shipped typed table (the README's table).")
    parser.parse_args(argv)
    print("| workload | rows | engine layers | GMACs |\n|---|---:|---:|---:|")
    for row in summary():
        print(f"| `{row['workload']}` | {row['rows']} | {row['engine_layers']} | {row['gmacs']:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
