"""The tabular NAS benchmark: every architecture of every space trained once.

``data/nas_table.csv`` is written by ``scripts/build_nas_table.py``; one row
per (space, architecture), columns (``COLUMNS``):

=================  ==========================================================
space              search space name (``archgym.nas.SPACES``)
arch_id            position of the canonical encoding in ``space.enumerate()``
encoding           the canonical MultiDiscrete encoding, space-separated ints
arch               readable form (``Arch.describe()``), e.g. ``mlp 64-32 relu``
metric             ``accuracy`` or ``r2``
seed, epochs       the training seed and epochs (the space's protocol)
train_metric,      the metric after training on the train, valid and test
valid_metric,      splits (valid is the search signal, test is held out)
test_metric
final_loss         mean training loss over the last epoch
params, macs       exact parameter count and MACs per inference
train_time_s       wall time of the training run on the machine that built
                   the table (not deterministic; for speed statistics only)
latency_<p>,       cycles (int) and energy (nJ) on platform p, for every
energy_<p>         platform of ``archgym.nas.cost.PLATFORMS``
=================  ==========================================================

Floats are written with ``repr`` (they round-trip exactly).  Loading checks
the header, every value and that each space present is complete (every
architecture exactly once, encoding canonical and matching arch_id and
arch, params and MACs equal to the exact formulas): a corrupt or stale file
is a ValueError that names the file and line.
"""

from __future__ import annotations

import csv
import functools
import math
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from archgym.nas.cost import PLATFORMS, layer_shapes, params_macs
from archgym.nas.data import load_task
from archgym.nas.spaces import SPACES, get_space

TABLE_FILE = "nas_table.csv"
BASE_COLUMNS = ("space", "arch_id", "encoding", "arch", "metric", "seed", "epochs",
                "train_metric", "valid_metric", "test_metric", "final_loss",
                "params", "macs", "train_time_s")
COLUMNS = BASE_COLUMNS + tuple(f"{kind}_{p}" for p in PLATFORMS for kind in ("latency", "energy"))
REBUILD = "rebuild it with `python scripts/build_nas_table.py`"


@dataclass(frozen=True)
class SpaceTable:
    """The table rows of one space, as arrays indexed by arch_id."""

    space: str
    seed: int
    epochs: int
    metrics: dict  # split -> float64 array
    final_loss: np.ndarray
    params: np.ndarray  # int64
    macs: np.ndarray  # int64
    train_time: np.ndarray
    latency: dict  # platform -> int64 array (cycles)
    energy: dict  # platform -> float64 array (nJ)

    def __len__(self) -> int:
        return len(self.params)

    def row(self, arch_id: int) -> dict:
        """One architecture's figures as Python numbers."""
        i = int(arch_id)
        out = {f"{s}_metric": float(a[i]) for s, a in self.metrics.items()}
        out.update(final_loss=float(self.final_loss[i]), params=int(self.params[i]),
                   macs=int(self.macs[i]), train_time=float(self.train_time[i]),
                   seed=self.seed, epochs=self.epochs)
        for p in self.latency:
            out[f"latency_{p}"] = int(self.latency[p][i])
            out[f"energy_{p}"] = float(self.energy[p][i])
        return out


def default_path() -> Path:
    return Path(str(resources.files("archgym.nas") / "data" / TABLE_FILE))


def load_table(space, path=None) -> SpaceTable:
    """The table of ``space`` from ``path`` (default: the shipped CSV)."""
    sp = get_space(space)
    p = Path(path) if path is not None else default_path()
    try:
        st = os.stat(p)
    except OSError as exc:
        raise ValueError(f"NAS table {p} cannot be read ({exc.strerror}); {REBUILD}") from exc
    tables = _load(str(p.resolve()), st.st_mtime_ns, st.st_size)
    if sp.name not in tables:
        raise ValueError(f"NAS table {p} has no rows for space {sp.name!r} "
                         f"(it has: {', '.join(sorted(tables)) or 'none'}); {REBUILD}")
    return tables[sp.name]


def _number(text: str, kind, what: str):
    try:
        value = kind(text)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be {'an integer' if kind is int else 'a number'}, got {text!r}") from None
    if kind is float and not math.isfinite(value):
        raise ValueError(f"{what} must be finite, got {text!r}")
    return value


@functools.lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int, size: int) -> dict[str, SpaceTable]:
    rows: dict[str, dict[int, dict]] = {}
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None or tuple(header) != COLUMNS:
                raise ValueError(f"NAS table {path}: line 1: the header must be {','.join(COLUMNS)}, "
                                 f"got {','.join(header or [])!r}; {REBUILD}")
            for line_no, fields in enumerate(reader, start=2):
                try:
                    space, arch_id, values = _parse_row(fields)
                except ValueError as exc:
                    raise ValueError(f"NAS table {path}: line {line_no}: {exc}") from None
                if arch_id in rows.setdefault(space, {}):
                    raise ValueError(f"NAS table {path}: line {line_no}: duplicate row for "
                                     f"{space} arch_id {arch_id}")
                rows[space][arch_id] = values
    except UnicodeDecodeError as exc:
        raise ValueError(f"NAS table {path} is not UTF-8 text: {exc}") from None
    out = {}
    for space, by_id in rows.items():
        n = len(get_space(space))
        if len(by_id) != n:
            missing = sorted(set(range(n)) - set(by_id))[:5]
            raise ValueError(f"NAS table {path}: space {space} has {len(by_id)} of its {n} "
                             f"architectures (missing arch_id {missing}...); {REBUILD}")
        ordered = [by_id[i] for i in range(n)]
        seeds = {r["seed"] for r in ordered}
        epochs = {r["epochs"] for r in ordered}
        if len(seeds) != 1 or len(epochs) != 1:
            raise ValueError(f"NAS table {path}: space {space} mixes seeds {sorted(seeds)} "
                             f"or epochs {sorted(epochs)}; {REBUILD}")
        out[space] = SpaceTable(
            space=space, seed=seeds.pop(), epochs=epochs.pop(),
            metrics={s: _frozen(np.array([r[f"{s}_metric"] for r in ordered]))
                     for s in ("train", "valid", "test")},
            final_loss=_frozen(np.array([r["final_loss"] for r in ordered])),
            params=_frozen(np.array([r["params"] for r in ordered], dtype=np.int64)),
            macs=_frozen(np.array([r["macs"] for r in ordered], dtype=np.int64)),
            train_time=_frozen(np.array([r["train_time_s"] for r in ordered])),
            latency={p: _frozen(np.array([r[f"latency_{p}"] for r in ordered], dtype=np.int64))
                     for p in PLATFORMS},
            energy={p: _frozen(np.array([r[f"energy_{p}"] for r in ordered])) for p in PLATFORMS})
    return out


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def _parse_row(fields: list[str]) -> tuple[str, int, dict]:
    if len(fields) != len(COLUMNS):
        raise ValueError(f"expected {len(COLUMNS)} fields, got {len(fields)}")
    raw = dict(zip(COLUMNS, fields))
    sp = get_space(raw["space"])
    try:
        enc = tuple(int(t) for t in raw["encoding"].split())
    except ValueError:
        raise ValueError(f"encoding must be space-separated integers, got {raw['encoding']!r}") from None
    if sp.canonical(enc) != enc:
        raise ValueError(f"encoding {enc} is not canonical (expected {sp.canonical(enc)})")
    arch_id = _number(raw["arch_id"], int, "arch_id")
    if sp.index(enc) != arch_id:
        raise ValueError(f"arch_id {arch_id} does not match encoding {enc} (its id is {sp.index(enc)})")
    arch = sp.decode(enc)
    if raw["arch"] != arch.describe():
        raise ValueError(f"arch {raw['arch']!r} does not match encoding {enc} ({arch.describe()!r})")
    task = load_task(sp.task)
    if raw["metric"] != task.metric_name:
        raise ValueError(f"metric must be {task.metric_name!r} for space {sp.name}, got {raw['metric']!r}")
    values: dict = {"seed": _number(raw["seed"], int, "seed"), "epochs": _number(raw["epochs"], int, "epochs")}
    if values["epochs"] < 1:
        raise ValueError(f"epochs must be >= 1, got {values['epochs']}")
    for split in ("train", "valid", "test"):
        v = _number(raw[f"{split}_metric"], float, f"{split}_metric")
        low = 0.0 if task.kind == "classification" else -math.inf
        if not low <= v <= 1.0:
            raise ValueError(f"{split}_metric {v} is not a valid {task.metric_name}")
        values[f"{split}_metric"] = v
    values["final_loss"] = _number(raw["final_loss"], float, "final_loss")
    values["train_time_s"] = _number(raw["train_time_s"], float, "train_time_s")
    if values["final_loss"] < 0 or values["train_time_s"] < 0:
        raise ValueError("final_loss and train_time_s must be >= 0")
    params, macs = params_macs(layer_shapes(arch, task.input_shape, task.num_outputs))
    for name, exact in (("params", params), ("macs", macs)):
        v = _number(raw[name], int, name)
        if v != exact:
            raise ValueError(f"{name} {v} of {arch.describe()} should be {exact}")
        values[name] = v
    for p in PLATFORMS:
        lat = _number(raw[f"latency_{p}"], int, f"latency_{p}")
        en = _number(raw[f"energy_{p}"], float, f"energy_{p}")
        if lat <= 0 or en <= 0:
            raise ValueError(f"latency_{p} and energy_{p} must be > 0")
        values[f"latency_{p}"], values[f"energy_{p}"] = lat, en
    return sp.name, arch_id, values


def format_row(record: dict) -> list[str]:
    """A record's fields as the table writes them (floats with ``repr``; strings as they are)."""
    return [repr(float(v)) if isinstance(v, (float, np.floating)) else str(v)
            for v in (record[c] for c in COLUMNS)]


def write_table(path, records: list[dict]) -> None:
    """Write rows (dicts with every column of ``COLUMNS``) as the CSV format above.

    The file is replaced atomically (written beside it, then renamed): a crash
    leaves the previous table intact."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(COLUMNS)
        for r in records:
            w.writerow(format_row(r))
    os.replace(tmp, path)


__all__ = [
    "BASE_COLUMNS",
    "COLUMNS",
    "SPACES",
    "TABLE_FILE",
    "SpaceTable",
    "default_path",
    "format_row",
    "load_table",
    "write_table",
]
