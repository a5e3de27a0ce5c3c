"""NAS search spaces: a MultiDiscrete encoding, its decoding and canonical form.

Every space is a tuple of *components*, each a choice among a few options;
an architecture is encoded as one 0-based index per component (a Gymnasium
``MultiDiscrete(space.nvec)`` action).  Some components only matter for some
architectures (the width of a third hidden layer when the depth is 1); such a
component is *inactive* and is ignored: the *canonical* encoding sets every
inactive component to 0, so that each architecture has exactly one canonical
encoding, and every encoding decodes to the architecture of its canonical
form.  A component only ever depends on an earlier one, so the components can
also be chosen one at a time, in order, skipping the inactive ones
(``NAS-Sequential-v0``).

The spaces (``SPACES``):

``digits-mlp`` (168 architectures)
    depth (hidden layers) 1, 2, 3; width of hidden layer i in 16, 32, 64, 128
    (active when depth >= i); activation relu or tanh (all hidden layers).
    Input 64 pixels, output 10 logits.
``digits-cnn`` (84 architectures)
    convolutions 1 or 2; channels of conv i in 4, 8, 16 and kernel 3 or 5
    (conv 2 active when convolutions = 2); head hidden width 0 (none) or 32.
    Every conv is stride 1 with "same" zero padding, followed by ReLU; a 2x2
    max-pool (stride 2) follows the last conv (8x8 -> 4x4); then the flattened
    features feed the head: an optional ReLU hidden layer and a linear layer
    to 10 logits.
``fashion-cnn`` (1,020 architectures)
    convolutions 1, 2 or 3; pool ``first`` (one 2x2 max-pool, after the
    first conv: the others run on the 7x7 map) or ``each`` (after every
    conv: 14 -> 7 -> 3 -> 1, a pool dropping an odd last row and column);
    active with 2 or 3 convs; channels of conv i in 2, 4, 8 and kernel 3 or
    5 (active when there are at least i convs); head hidden width 0 or 32.
    Convs and head as digits-cnn; inputs are 14x14 Fashion-MNIST images.
``diabetes-mlp``, ``friedman1-mlp`` (168 architectures each)
    as digits-mlp with widths 8, 16, 32, 64; 10 inputs, 1 output (regression).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

FAMILIES = ("mlp", "cnn")
ACTIVATIONS = ("relu", "tanh")
#: Where a CNN max-pools (2x2, stride 2): once after its last conv, once after
#: its first conv, or after each conv.  With one conv all three are the same.
POOLS = ("end", "first", "each")


@dataclass(frozen=True)
class TrainConfig:
    """The fixed training protocol of a space (see :mod:`archgym.nas.trainer`)."""

    epochs: int
    batch_size: int
    lr: float
    seed: int = 0


@dataclass(frozen=True)
class Arch:
    """A decoded architecture.

    ``convs``: (channels, kernel) per conv layer (CNN only); ``hidden``: the
    widths of the hidden linear layers (MLP: 1..3 of them; CNN: the head's, 0
    or 1); ``activation`` of the hidden linear layers (convs always use ReLU);
    ``pool`` (CNN): a 2x2 max-pool after the last conv only (``"end"``), after
    the first only (``"first"``) or after every conv (``"each"``).
    """

    family: str
    hidden: tuple[int, ...]
    activation: str = "relu"
    convs: tuple[tuple[int, int], ...] = ()
    pool: str = "end"

    def pools_after(self, i: int) -> bool:
        """Whether a 2x2 max-pool follows conv i (0-based)."""
        return {"end": i == len(self.convs) - 1, "first": i == 0, "each": True}[self.pool]

    def describe(self) -> str:
        """A short readable form, e.g. ``mlp 64-32 relu``, ``cnn c8k3-c16k5 h32`` or
        ``cnn c8k3-c16k5 h32 pool-first``."""
        if self.family == "mlp":
            return f"mlp {'-'.join(map(str, self.hidden))} {self.activation}"
        convs = "-".join(f"c{c}k{k}" for c, k in self.convs)
        pool = f" pool-{self.pool}" if self.pool != "end" and len(self.convs) > 1 else ""
        return f"cnn {convs} h{self.hidden[0] if self.hidden else 0}{pool}"


@dataclass(frozen=True)
class SearchSpace:
    """A named search space over one task.

    ``components[k]`` names component k, ``choices[k]`` its options and
    ``requires[k]`` is None (always active) or (j, m): active only when
    component j's index is >= m (always j < k).
    """

    name: str
    task: str
    family: str
    components: tuple[str, ...]
    choices: tuple[tuple, ...]
    requires: tuple[tuple[int, int] | None, ...]
    train: TrainConfig

    @property
    def nvec(self) -> np.ndarray:
        """The MultiDiscrete sizes, one per component."""
        return np.array([len(c) for c in self.choices], dtype=np.int64)

    def check(self, encoding) -> tuple[int, ...]:
        """The encoding as a tuple of ints, or a ValueError saying what is allowed."""
        arr = np.asarray(encoding) if not isinstance(encoding, (str, bytes)) else None
        if arr is None or arr.dtype.kind not in "iuf" or arr.dtype == bool:
            raise ValueError(f"{self.name}: an encoding is {len(self.choices)} integers "
                             f"({', '.join(self.components)}), got {encoding!r}")
        if arr.shape != (len(self.choices),):
            raise ValueError(f"{self.name}: an encoding has shape ({len(self.choices)},) "
                             f"({', '.join(self.components)}), got shape {arr.shape}")
        values = arr.tolist()
        if arr.dtype.kind == "f" and not all(math.isfinite(v) and v == int(v) for v in values):
            raise ValueError(f"{self.name}: an encoding holds integers, got {encoding!r}")
        values = tuple(int(v) for v in values)
        for name, v, n in zip(self.components, values, self.nvec.tolist()):
            if not 0 <= v < n:
                raise ValueError(f"{self.name}: {name} index {v} out of range [0, {n - 1}]")
        return values

    def active(self, k: int, prefix) -> bool:
        """Whether component k matters, given the indices of the components before it."""
        req = self.requires[k]
        return req is None or int(prefix[req[0]]) >= req[1]

    def canonical(self, encoding) -> tuple[int, ...]:
        """The canonical encoding: every inactive component set to 0."""
        values = list(self.check(encoding))
        for k in range(len(values)):
            if not self.active(k, values):
                values[k] = 0
        return tuple(values)

    def decode(self, encoding) -> Arch:
        """The architecture an encoding stands for (inactive components ignored)."""
        v = dict(zip(self.components, self.canonical(encoding)))
        opt = {name: self.choices[k][v[name]] for k, name in enumerate(self.components)}
        if self.family == "mlp":
            depth = opt["depth"]
            return Arch("mlp", tuple(opt[f"width{i}"] for i in range(1, depth + 1)), opt["activation"])
        convs = tuple((opt[f"channels{i}"], opt[f"kernel{i}"]) for i in range(1, opt["convs"] + 1))
        return Arch("cnn", (opt["hidden"],) if opt["hidden"] else (), "relu", convs, opt.get("pool", "end"))

    def encode(self, arch: Arch) -> tuple[int, ...]:
        """The canonical encoding of an architecture of this space."""
        want = arch.describe()
        for enc in self.enumerate():
            if self.decode(enc).describe() == want:
                return enc
        raise ValueError(f"{want!r} is not an architecture of space {self.name}")

    def enumerate(self) -> list[tuple[int, ...]]:
        """Every canonical encoding, in lexicographic order (the index is the arch id)."""
        return _enumerate(self)

    def index(self, encoding) -> int:
        """The arch id: the position of the canonical encoding in :meth:`enumerate`."""
        return _index_map(self)[self.canonical(encoding)]

    def __len__(self) -> int:
        return len(self.enumerate())


_ENUM: dict[str, list[tuple[int, ...]]] = {}
_INDEX: dict[str, dict[tuple[int, ...], int]] = {}


def _enumerate(space: SearchSpace) -> list[tuple[int, ...]]:
    if space.name not in _ENUM:
        seen = sorted({space.canonical(e) for e in itertools.product(*(range(n) for n in space.nvec.tolist()))})
        _ENUM[space.name] = seen
    return _ENUM[space.name]


def _index_map(space: SearchSpace) -> dict[tuple[int, ...], int]:
    if space.name not in _INDEX:
        _INDEX[space.name] = {e: i for i, e in enumerate(_enumerate(space))}
    return _INDEX[space.name]


def _mlp_space(name: str, task: str, widths: tuple[int, ...], train: TrainConfig) -> SearchSpace:
    return SearchSpace(
        name=name, task=task, family="mlp",
        components=("depth", "width1", "width2", "width3", "activation"),
        choices=((1, 2, 3), widths, widths, widths, ACTIVATIONS),
        requires=(None, None, (0, 1), (0, 2), None),
        train=train)


#: The search spaces by name.
SPACES: dict[str, SearchSpace] = {
    "digits-mlp": _mlp_space("digits-mlp", "digits", (16, 32, 64, 128),
                             TrainConfig(epochs=30, batch_size=32, lr=2e-3)),
    "digits-cnn": SearchSpace(
        name="digits-cnn", task="digits", family="cnn",
        components=("convs", "channels1", "kernel1", "channels2", "kernel2", "hidden"),
        choices=((1, 2), (4, 8, 16), (3, 5), (4, 8, 16), (3, 5), (0, 32)),
        requires=(None, None, None, (0, 1), (0, 1), None),
        train=TrainConfig(epochs=15, batch_size=32, lr=2e-3)),
    "fashion-cnn": SearchSpace(
        name="fashion-cnn", task="fashion", family="cnn",
        components=("convs", "pool", "channels1", "kernel1", "channels2", "kernel2",
                    "channels3", "kernel3", "hidden"),
        choices=((1, 2, 3), POOLS[1:], (2, 4, 8), (3, 5), (2, 4, 8), (3, 5), (2, 4, 8), (3, 5), (0, 32)),
        requires=(None, (0, 1), None, None, (0, 1), (0, 1), (0, 2), (0, 2), None),
        train=TrainConfig(epochs=1, batch_size=32, lr=3e-3)),
    "diabetes-mlp": _mlp_space("diabetes-mlp", "diabetes", (8, 16, 32, 64),
                               TrainConfig(epochs=100, batch_size=32, lr=1e-3)),
    "friedman1-mlp": _mlp_space("friedman1-mlp", "friedman1", (8, 16, 32, 64),
                                TrainConfig(epochs=100, batch_size=32, lr=2e-3)),
}


#: The spaces under archgym's unified workload names (``archgym.workloads.names("nas")``):
#: "nas/" + the space's name with "_" for "-", e.g. "nas/digits_mlp" for "digits-mlp".
WORKLOAD_NAMES = {f"nas/{name.replace('-', '_')}": name for name in SPACES}


def get_space(name) -> SearchSpace:
    """The space called ``name`` (or its unified name, e.g. "nas/digits_mlp"), or a ValueError listing them."""
    if isinstance(name, SearchSpace):
        return name
    name = WORKLOAD_NAMES.get(name, name)
    if name not in SPACES:
        raise ValueError(f"unknown search space {name!r}; allowed: {', '.join([*SPACES, *WORKLOAD_NAMES])}")
    return SPACES[name]
