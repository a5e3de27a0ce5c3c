"""Conditional NAS GAN: architectures generated for a platform's constraint and a target accuracy.

After "Conditional Neural Architecture Search" (Kao, Ramamurthy, Williams,
Krishna, arXiv:2006.03969).  Its method section and code are not public, so
the design below is ours, faithful to the abstract: a GAN conditioned on
platform constraints generates architectures, with no new search per
platform.  See docs/nas_gan.md for the measured results.

**Condition.**  A vector with one (value, present) pair per figure of
``CONDITION_KEYS`` = latency, energy, params, macs (NAS-v0's constraints) and
accuracy (the env's metric: accuracy, or R^2 on the regression spaces).  A cost
is given as its position on a log scale between the smallest and largest
figure of a reference range, ``(log v - log lo) / (log hi - log lo)``;
accuracy as ``(a - lo) / (hi - lo)``.  The ranges are the training records'
own unless the caller passes others (the position of a budget in a
*platform's* range is what NAS-v0's observation carries, so a range computed
for another platform transfers the condition to it).  A figure that is not
given has value 0 and present 0.

**Training.**  On real (architecture, cost, accuracy) records: each record's
condition is its own figures.  Two augmentations:

* *budget slack*: a cost condition is the record's own position plus a uniform
  draw in ``[0, budget_slack]``, so the condition is an upper bound the
  record meets ("fits under this budget"), not an equality; generating at a
  budget then aims below it;
* *condition dropout*: each figure is hidden (present = 0) with probability
  ``condition_dropout``, so one generator serves any subset of the figures
  (at generation time only the env's constraint and the target accuracy are
  given).

**Networks.**  Generator: MLP(noise, condition) -> one logit vector per
component of the search space; each is sampled with the straight-through
Gumbel-softmax (Jang et al. 2017; ``torch.nn.functional.gumbel_softmax``,
hard one-hot forward, soft gradient backward).  A component that the
architecture does not use (the width of a third layer of a depth-1 MLP) is
zeroed, through a mask computed from the one-hot of the component it depends
on, so real and generated designs look the same to the critic.  Critic:
MLP(one-hot design, condition) -> score, no batch norm.  Loss: WGAN-GP
(Gulrajani et al. 2017; gradient-penalty weight 10 and Adam beta2 0.9 as
there; 2 critic steps per generator step and lr 1e-3 instead of 5 and 1e-4,
which trained too slowly for "well under a minute").

**Auxiliary loss** (as in AC-GAN, Odena et al. 2017, with a regressor in place
of the classifier).  The adversarial loss alone follows the budget only
weakly on 168 records (docs/nas_gan.md: with ``aux_weight=0`` 35% of the
designs generated for the tightest budget are feasible, against 58% with it
and 27% for uniform random ones).  So a predictor MLP(one-hot design) -> the five figures'
positions is first fitted to the records (MSE), then frozen, and the
generator's loss adds ``aux_weight`` times, over the figures present in the
condition, ``relu(predicted cost - budget)^2`` (budgets are limits) and
``accuracy_weight * (predicted accuracy - target)^2`` (the target is a wish).

**As an agent** (``run``), on the one-step NAS envs (NAS-v0, NAS-CNN-v0,
NAS-Fashion-v0, NAS-Regression-v0, NAS-Friedman1-v0, NAS-Live-v0, NAS-Conditional-v0):

1. training records: ``train_fraction`` of the budget evaluates distinct
   architectures drawn uniformly through ``session.env`` (each one a recorded
   sample).  With ``table=True`` the records are instead read from the shipped
   tabular benchmark (``archgym/nas/data/nas_table.csv``: every architecture's
   valid metric and its costs on the env's platform).  **Reading the table is
   not counted as evaluations**: it holds the accuracy of every architecture
   of the space, so this mode measures the generator, not the search cost;
2. the GAN is fitted (torch, seeded from the session seed);
3. each further episode reads the budget from the reset info (it changes per
   episode on NAS-Conditional-v0) and asks the generator for ``candidates``
   designs conditioned on that budget (in the env's constraint) and a target
   accuracy: the ``target_quantile`` of the metric among the training records
   that fit the budget (if none fits, the metric of the cheapest record).  The most frequent
   proposal not yet evaluated under this budget is evaluated.  When every
   proposal has been evaluated, a uniformly drawn unevaluated architecture is
   (counted in ``session.extras["nas_gan"]["fallback"]``).

The Recorder keeps the best design.  Also usable on its own
(:class:`ConditionalNASGAN`: ``fit``, ``generate``, ``save``, ``load``), as the
benchmark ``benchmarks/bench_nas_gan.py`` does.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import math
import numbers
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

from agents.base import Session
from archgym import nas

#: Cost figures a condition may hold (what a NAS-v0 budget may constrain), then the target metric.
COST_KEYS = nas.COST_FIGURES
CONDITION_KEYS = COST_KEYS + ("accuracy",)


@dataclasses.dataclass
class Config:
    """Hyperparameters of the conditional NAS GAN (defaults: ours, except the WGAN-GP ones)."""

    # --- training records
    table: bool = False
    """Train on the shipped table's records (not counted as evaluations) instead of evaluating."""
    train_fraction: float = 0.5
    """Share of the sample budget spent evaluating uniformly drawn architectures to train on."""
    # --- the GAN
    noise_dim: int = 8
    """Size of the generator's Gaussian noise input."""
    hidden: int = 64
    """Width of the two hidden layers of the generator and of the critic."""
    iterations: int = 500
    """Generator updates (each after ``critic_steps`` critic updates)."""
    critic_steps: int = 2
    """Critic updates per generator update (WGAN-GP used 5; 2 trains faster here)."""
    batch_size: int = 64
    """Records per update (drawn with replacement)."""
    lr: float = 1e-3
    """Adam learning rate of both networks (WGAN-GP used 1e-4; 1e-3 trains faster here)."""
    beta1: float = 0.5
    """Adam beta1 (WGAN-GP: 0 or 0.5)."""
    beta2: float = 0.9
    """Adam beta2 (WGAN-GP: 0.9)."""
    gp_weight: float = 10.0
    """Gradient-penalty weight (WGAN-GP: 10)."""
    tau: float = 1.0
    """Gumbel-softmax temperature of the generator's samples."""
    budget_slack: float = 0.1
    """Largest margin added to a record's cost position in its training condition (0: equality)."""
    condition_dropout: float = 0.3
    """Probability that a figure of a training condition is hidden."""
    aux_weight: float = 50.0
    """Weight of the auxiliary loss: a predictor of the figures (trained on the records) must find
    the generated design within the condition's budgets and near its target accuracy."""
    accuracy_weight: float = 0.2
    """Weight of the accuracy term relative to the cost terms in the auxiliary loss (budgets are
    limits, the target accuracy a wish)."""
    predictor_steps: int = 300
    """Full-batch Adam steps (lr 1e-3) training the figure predictor before the GAN."""
    # --- proposals (agent)
    candidates: int = 256
    """Designs generated per episode; the most frequent unevaluated one is evaluated."""
    target_quantile: float = 1.0
    """Target accuracy: this quantile of the metric among training records that fit the budget."""


#: Integer fields (each must be >= 1) and the allowed range of each float field.
_INT_FIELDS = ("noise_dim", "hidden", "iterations", "critic_steps", "batch_size", "predictor_steps",
               "candidates")
_FLOAT_RULES = {
    "train_fraction": (lambda v: 0 < v < 1, "in (0, 1)"),
    "lr": (lambda v: v > 0, "> 0"),
    "beta1": (lambda v: 0 <= v < 1, "in [0, 1)"),
    "beta2": (lambda v: 0 <= v < 1, "in [0, 1)"),
    "gp_weight": (lambda v: v >= 0, ">= 0"),
    "tau": (lambda v: v > 0, "> 0"),
    "budget_slack": (lambda v: v >= 0, ">= 0"),
    "condition_dropout": (lambda v: 0 <= v < 1, "in [0, 1)"),
    "aux_weight": (lambda v: v >= 0, ">= 0"),
    "accuracy_weight": (lambda v: v >= 0, ">= 0"),
    "target_quantile": (lambda v: 0 <= v <= 1, "in [0, 1]"),
}


def check_config(config: Config) -> Config:
    """Return ``config`` or raise ValueError naming the bad field and what it allows."""
    if not isinstance(config, Config):
        raise ValueError(f"expected an agents.nas_gan.Config, got {type(config).__name__}")
    if not isinstance(config.table, (bool, np.bool_)):
        raise ValueError(f"config table must be True or False, got {config.table!r}")
    for name in _INT_FIELDS:
        v = getattr(config, name)
        if not isinstance(v, numbers.Integral) or isinstance(v, (bool, np.bool_)) or v < 1:
            raise ValueError(f"config {name} must be an integer >= 1, got {v!r}")
    for name, (ok, allowed) in _FLOAT_RULES.items():
        v = getattr(config, name)
        if not isinstance(v, numbers.Real) or isinstance(v, (bool, np.bool_)) \
                or not math.isfinite(v) or not ok(v):
            raise ValueError(f"config {name} must be a finite number {allowed}, got {v!r}")
    return config


def _finite(value, what: str) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, (bool, np.bool_)) \
            or not math.isfinite(float(value)):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    return float(value)


def table_records(space, platform: str = "edge") -> list[dict]:
    """The tabular benchmark of ``space`` as training records: one dict per architecture with
    ``encoding`` (canonical), ``metric`` (the valid split, the search signal), ``test_metric``,
    ``params``, ``macs`` and ``latency``/``energy`` on ``platform`` (a preset name)."""
    sp = nas.get_space(space)
    tab = nas.load_table(sp)
    if platform not in tab.latency:
        raise ValueError(f"the table has costs for the platforms {', '.join(tab.latency)} only, "
                         f"got {platform!r}")
    return [{"encoding": enc, "metric": float(tab.metrics["valid"][i]),
             "test_metric": float(tab.metrics["test"][i]), "params": int(tab.params[i]),
             "macs": int(tab.macs[i]), "latency": int(tab.latency[platform][i]),
             "energy": float(tab.energy[platform][i])}
            for i, enc in enumerate(sp.enumerate())]


# ------------------------------------------------------------------- the GAN
_NETWORKS = ("generator", "critic", "predictor")


class ConditionalNASGAN:
    """A conditional WGAN-GP over the architectures of one ``archgym.nas`` search space.

    ``fit(records)`` trains on dicts holding ``encoding``, ``metric`` and the cost
    figures of ``COST_KEYS`` (NAS-v0's final ``info`` has them all);
    ``generate({"latency": budget, "accuracy": target}, n)`` returns ``n``
    canonical encodings; ``save(path)`` / ``ConditionalNASGAN.load(path)``.
    """

    def __init__(self, space, config: Config | None = None, seed: int = 0):
        self.space = nas.get_space(space)
        self.config = check_config(config if config is not None else Config())
        self.seed = int(seed)
        self.ranges: dict[str, tuple[float, float]] | None = None
        nvec = self.space.nvec.tolist()
        self._slices = [slice(a, a + n) for a, n in zip(np.cumsum([0, *nvec[:-1]]).tolist(), nvec)]
        width, cond, c = int(sum(nvec)), 2 * len(CONDITION_KEYS), self.config
        with _torch_context(self.seed):
            self.generator = _mlp(c.noise_dim + cond, c.hidden, width)
            self.critic = _mlp(width + cond, c.hidden, 1)
            self.predictor = _mlp(width, c.hidden, len(CONDITION_KEYS))

    # ---- encodings <-> one-hot designs
    def _one_hot(self, encodings: np.ndarray):
        """Canonical encodings (n, components) -> masked one-hot rows (inactive blocks zero)."""
        import torch

        x = torch.zeros(len(encodings), self._slices[-1].stop)
        for k, sl in enumerate(self._slices):
            x[torch.arange(len(encodings)), sl.start + torch.as_tensor(encodings[:, k])] = 1.0
            x[:, sl] *= self._active(x, k)
        return x

    def _active(self, x, k: int):
        """1 where component k is used, from the one-hot of the component it depends on."""
        req = self.space.requires[k]
        if req is None:
            return x.new_ones(len(x), 1)
        j, m = req
        return x[:, self._slices[j]][:, m:].sum(dim=1, keepdim=True)

    def _sample(self, logits):
        """Straight-through Gumbel-softmax per component, inactive components masked."""
        import torch
        import torch.nn.functional as F

        blocks = []
        for k, sl in enumerate(self._slices):
            y = F.gumbel_softmax(logits[:, sl], tau=self.config.tau, hard=True)
            if self.space.requires[k] is not None:
                y = y * self._active(torch.cat(blocks, dim=1), k)
            blocks.append(y)
        return torch.cat(blocks, dim=1)

    def _decode(self, x) -> np.ndarray:
        idx = np.stack([x[:, sl].argmax(dim=1).numpy() for sl in self._slices], axis=1)
        return np.array([self.space.canonical(row) for row in idx], dtype=np.int64)

    # ---- conditions
    def positions(self, figures: dict, ranges: dict | None = None, n: int | None = None) -> np.ndarray:
        """Figures (key -> array of n values, any subset of ``CONDITION_KEYS``) as condition
        rows (n, 2 * len(CONDITION_KEYS)): per key, its normalised position and 1, or 0 and 0.

        ``ranges`` overrides the training ranges of some keys ((lo, hi) per key), e.g. the
        cost range of the space on another platform.  ``n`` is needed only when
        ``figures`` is empty.
        """
        if self.ranges is None:
            raise RuntimeError("the GAN is not fitted yet: call fit(records) or load(path)")
        unknown = sorted(set(figures) - set(CONDITION_KEYS))
        if unknown:
            raise ValueError(f"unknown condition {', '.join(unknown)}; allowed: {', '.join(CONDITION_KEYS)}")
        rng = dict(self.ranges, **_checked_ranges(ranges or {}))
        n = len(next(iter(figures.values()))) if figures else int(n or 0)
        out = np.zeros((n, 2 * len(CONDITION_KEYS)), dtype=np.float32)
        for i, key in enumerate(CONDITION_KEYS):
            if key not in figures:
                continue
            v = np.asarray(figures[key], dtype=np.float64)
            if v.shape != (n,) or not np.all(np.isfinite(v)):
                raise ValueError(f"condition {key} must be {n} finite numbers, got {figures[key]!r}")
            lo, hi = rng[key]
            if key == "accuracy":
                out[:, 2 * i] = (v - lo) / (hi - lo) if hi > lo else 0.5
            else:
                if np.any(v <= 0):
                    raise ValueError(f"condition {key} must be > 0, got {figures[key]!r}")
                out[:, 2 * i] = (np.log(v) - math.log(lo)) / (math.log(hi) - math.log(lo)) \
                    if hi > lo else 0.5
            out[:, 2 * i + 1] = 1.0
        return out

    # ---- training
    def fit(self, records: list[dict], ranges: dict | None = None, writer=None) -> dict:
        """Train on records (dicts with ``encoding``, ``metric`` and every key of ``COST_KEYS``).

        ``ranges`` fixes the normalisation ranges ((lo, hi) per key of
        ``CONDITION_KEYS``; default: the records' min and max).  ``writer``: an
        optional TensorBoard SummaryWriter.  Returns training statistics.
        """
        import torch

        if len(records) < 2:
            raise ValueError(f"fit needs at least 2 records, got {len(records)}")
        missing = [k for k in ("encoding", "metric", *COST_KEYS) if any(k not in r for r in records)]
        if missing:
            raise ValueError(f"every record needs encoding, metric, {', '.join(COST_KEYS)}; "
                             f"some lack {', '.join(missing)}")
        enc = np.array([self.space.canonical(r["encoding"]) for r in records], dtype=np.int64)
        figs = {k: np.array([_finite(r[k], k) for r in records]) for k in COST_KEYS}
        figs["accuracy"] = np.array([_finite(r["metric"], "metric") for r in records])
        if np.any(np.concatenate([figs[k] for k in COST_KEYS]) <= 0):
            raise ValueError(f"record costs ({', '.join(COST_KEYS)}) must be > 0")
        self.ranges = {k: (float(v.min()), float(v.max())) for k, v in figs.items()}
        self.ranges.update(_checked_ranges(ranges or {}))
        pos = torch.as_tensor(self.positions(figs))
        c = self.config
        cost_cols = torch.tensor([2 * i for i in range(len(COST_KEYS))])
        start = time.perf_counter()
        values = pos[:, 0::2]  # every figure's position (no present flags)
        with _torch_context(self.seed + 1):
            real_all = self._one_hot(enc)
            self.predictor.requires_grad_(True)
            opt_p = torch.optim.Adam(self.predictor.parameters(), lr=1e-3)
            for _ in range(c.predictor_steps):
                loss_p = ((self.predictor(real_all) - values) ** 2).mean()
                opt_p.zero_grad()
                loss_p.backward()
                opt_p.step()
            self.predictor.requires_grad_(False)
            opt_g = torch.optim.Adam(self.generator.parameters(), lr=c.lr, betas=(c.beta1, c.beta2))
            opt_d = torch.optim.Adam(self.critic.parameters(), lr=c.lr, betas=(c.beta1, c.beta2))

            def batch():
                idx = torch.randint(len(records), (c.batch_size,))
                cond = pos[idx].clone()
                cond[:, cost_cols] += c.budget_slack * torch.rand(c.batch_size, len(COST_KEYS))
                keep = (torch.rand(c.batch_size, len(CONDITION_KEYS)) >= c.condition_dropout).float()
                cond *= keep.repeat_interleave(2, dim=1)
                return real_all[idx], cond

            def fake(cond):
                z = torch.randn(len(cond), c.noise_dim)
                return self._sample(self.generator(torch.cat([z, cond], dim=1)))

            for it in range(c.iterations):
                for _ in range(c.critic_steps):
                    real, cond = batch()
                    gen = fake(cond).detach()
                    eps = torch.rand(len(real), 1)
                    mix = (eps * real + (1 - eps) * gen).requires_grad_(True)
                    grad, = torch.autograd.grad(self.critic(torch.cat([mix, cond], 1)).sum(), mix,
                                                create_graph=True)
                    gap = self.critic(torch.cat([real, cond], 1)).mean() \
                        - self.critic(torch.cat([gen, cond], 1)).mean()
                    loss_d = -gap + c.gp_weight * ((grad.norm(dim=1) - 1) ** 2).mean()
                    opt_d.zero_grad()
                    loss_d.backward()
                    opt_d.step()
                _, cond = batch()
                x = fake(cond)
                pred, want, present = self.predictor(x), cond[:, 0::2], cond[:, 1::2]
                miss = torch.cat([torch.relu(pred[:, :-1] - want[:, :-1]), pred[:, -1:] - want[:, -1:]], 1)
                weight = torch.tensor([1.0] * len(COST_KEYS) + [c.accuracy_weight])
                aux = (present * weight * miss ** 2).sum(dim=1).mean()
                loss_g = -self.critic(torch.cat([x, cond], 1)).mean() + c.aux_weight * aux
                opt_g.zero_grad()
                loss_g.backward()
                opt_g.step()
                if writer is not None and it % 25 == 0:
                    writer.add_scalar("nas_gan/wasserstein_estimate", gap.item(), it)
                    writer.add_scalar("nas_gan/critic_loss", loss_d.item(), it)
                    writer.add_scalar("nas_gan/generator_loss", loss_g.item(), it)
        return {"records": len(records), "iterations": c.iterations, "predictor_mse": float(loss_p.item()),
                "wasserstein_estimate": float(gap.item()), "auxiliary_loss": float(aux.item()),
                "fit_time_s": time.perf_counter() - start}

    # ---- generation
    def generate(self, condition: dict, n: int, seed: int = 0, ranges: dict | None = None) -> np.ndarray:
        """``n`` canonical encodings (n, components) for ``condition``: key -> one number, keys
        from ``CONDITION_KEYS`` (costs are budgets, accuracy the target).  ``ranges``: see
        :meth:`positions`.  Deterministic for a given ``seed``."""
        import torch

        if not isinstance(n, numbers.Integral) or isinstance(n, (bool, np.bool_)) or n < 1:
            raise ValueError(f"n must be an integer >= 1, got {n!r}")
        if not isinstance(condition, dict):
            raise ValueError(f"condition must be a dict (keys from {', '.join(CONDITION_KEYS)}), "
                             f"got {condition!r}")
        figs = {k: np.full(int(n), _finite(v, f"condition {k}")) for k, v in condition.items()}
        cond = torch.as_tensor(self.positions(figs, ranges, int(n)))
        with _torch_context(int(seed)), torch.no_grad():
            z = torch.randn(int(n), self.config.noise_dim)
            return self._decode(self._sample(self.generator(torch.cat([z, cond], dim=1))))

    def propose(self, condition: dict, n: int, seed: int = 0, ranges: dict | None = None) -> list[tuple]:
        """The distinct designs among ``generate(condition, n, seed, ranges)``, most frequent first."""
        designs = self.generate(condition, n, seed, ranges)
        return [enc for enc, _ in collections.Counter(map(tuple, designs.tolist())).most_common()]

    # ---- persistence
    def save(self, path) -> Path:
        """Write the networks, config, ranges and space to ``path`` (a torch file)."""
        import torch

        if self.ranges is None:
            raise RuntimeError("the GAN is not fitted yet: nothing to save")
        path = Path(path)
        torch.save({"space": self.space.name, "seed": self.seed, "config": dataclasses.asdict(self.config),
                    "ranges": {k: list(v) for k, v in self.ranges.items()},
                    **{name: getattr(self, name).state_dict() for name in _NETWORKS}}, path)
        return path

    @classmethod
    def load(cls, path) -> ConditionalNASGAN:
        """A GAN saved by :meth:`save`."""
        import torch

        try:
            data = torch.load(Path(path), weights_only=True)
            gan = cls(data["space"], Config(**data["config"]), data["seed"])
            for name in _NETWORKS:
                getattr(gan, name).load_state_dict(data[name])
            gan.ranges = {k: (float(lo), float(hi)) for k, (lo, hi) in data["ranges"].items()}
        except (OSError, KeyError, TypeError, RuntimeError) as exc:
            raise ValueError(f"{path} is not a saved ConditionalNASGAN ({exc})") from exc
        return gan


def _checked_ranges(ranges: dict) -> dict:
    """Normalisation ranges as {key: (lo, hi)} floats, or a ValueError saying what is wrong."""
    if not isinstance(ranges, dict):
        raise ValueError(f"ranges must be a dict {{key: (lo, hi)}}, got {ranges!r}")
    out = {}
    for key, pair in ranges.items():
        if key not in CONDITION_KEYS:
            raise ValueError(f"unknown range {key!r}; allowed: {', '.join(CONDITION_KEYS)}")
        try:
            lo, hi = (_finite(v, f"range {key}") for v in pair)
        except TypeError:
            raise ValueError(f"range {key} must be a pair (lo, hi), got {pair!r}") from None
        if lo > hi or (key != "accuracy" and lo <= 0):
            raise ValueError(f"range {key} must have {'0 < ' if key != 'accuracy' else ''}lo <= hi, "
                             f"got {pair!r}")
        out[key] = (lo, hi)
    return out


@contextlib.contextmanager
def _torch_context(seed: int):
    """Seeded torch RNG that leaves the global one untouched, and one intra-op thread (these
    tiny networks run many times slower with two threads on a busy machine)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            yield
    finally:
        torch.set_num_threads(threads)


def _mlp(n_in: int, hidden: int, n_out: int):
    from torch import nn

    return nn.Sequential(nn.Linear(n_in, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden),
                         nn.LeakyReLU(0.2), nn.Linear(hidden, n_out))


# ----------------------------------------------------------------- the agent
def supports(env: gym.Env) -> str | None:
    # A one-step NAS env: it names its search space and one action picks a whole architecture.
    searched = isinstance(getattr(env.unwrapped, "search_space", None), nas.SearchSpace)
    if searched and isinstance(env.action_space, gym.spaces.MultiDiscrete):
        return None
    return ("needs a one-step NAS env (NAS-v0, NAS-CNN-v0, NAS-Fashion-v0, NAS-Regression-v0, NAS-Friedman1-v0, "
            f"NAS-Live-v0, NAS-Conditional-v0), got {type(env.unwrapped).__name__}")


def run(session: Session, config: Config) -> None:
    check_config(config)
    _, context = session.env.reset()  # the task's space, platform and constraint; no sample spent
    space = nas.get_space(context["space"])
    all_encodings = space.enumerate()
    evaluated: set = set()  # (canonical encoding, budget)
    extras = session.extras.setdefault("nas_gan", {"generated": 0, "fallback": 0})

    def evaluate(enc) -> dict:
        _, info = session.evaluate([np.asarray(enc)])
        evaluated.add((tuple(info["encoding"]), float(info["budget"])))
        return info

    if config.table:
        records = table_records(space, context["platform"])
    else:
        n_train = min(session.budget, max(2, round(config.train_fraction * session.budget)))
        order = session.rng.permutation(len(all_encodings))[:n_train]
        records = [evaluate(all_encodings[i]) for i in order]
    extras["training_records"] = len(records)
    if session.exhausted:
        return
    gan = ConditionalNASGAN(space, config, seed=session.seed)
    writer = None
    if session.logdir is not None:
        from torch.utils.tensorboard import SummaryWriter
        writer = SummaryWriter(str(session.logdir))
    try:
        extras["fit"] = gan.fit(records, writer=writer)
    finally:
        if writer is not None:
            writer.close()

    def propose(_step, _obs, info):
        constraint, budget = info["constraint"], float(info["budget"])
        fits = [r["metric"] for r in records if r[constraint] <= budget]
        cheapest = min(records, key=lambda r: r[constraint])["metric"]
        target = float(np.quantile(fits, config.target_quantile)) if fits else cheapest
        proposals = gan.propose({constraint: budget, "accuracy": target}, config.candidates,
                                seed=int(session.rng.integers(2**31)))
        for enc in proposals:
            if (enc, budget) not in evaluated:
                extras["generated"] += 1
                return np.asarray(enc)
        left = [e for e in all_encodings if (e, budget) not in evaluated] or all_encodings
        extras["fallback"] += 1
        return np.asarray(left[int(session.rng.integers(len(left)))])

    while not session.exhausted:
        _, info, _ = session.rollout(propose)
        evaluated.add((tuple(info["encoding"]), float(info["budget"])))
