"""AQGAN: a conditional GAN of per-layer bit configurations, conditioned on a target accuracy.

Kao, Ramamurthy and Krishna, "Generative Design of Hardware-aware DNNs"
(arXiv:2006.03968).  The paper's method section and code are not public; this
design is ours, faithful to its abstract (docs/aqgan.md):

1. **Data**: (bit configuration, measured accuracy) pairs from
   Quant-OneShot-v0, sampled so accuracies from near chance to the float
   accuracy are covered evenly (:func:`stratified_data`).
2. **GAN**: a generator G(noise, target accuracy) -> one categorical per gene
   (w_0, a_0, w_1, a_1, ... over the 7 levels 2..8 bits), trained as a
   conditional WGAN-GP (Gulrajani et al. 2017) against a critic conditioned
   the same way.  Discrete outputs use the straight-through Gumbel-softmax
   (Jang et al. 2017): the critic sees one-hot genes, gradients flow through
   the softmax.  An auxiliary accuracy predictor, fitted to the measured data,
   adds ``aux_weight * (predicted - target)^2`` to the generator's loss.
3. **Hardware tuning** (:func:`tune`): for a target, generate K proposals,
   measure them, keep those meeting the target, pick the cheapest within the
   hardware budget.  The generator knows nothing of the hardware, so a new
   preset or budget needs no retraining.

The agent (:func:`run`) spends ``data_fraction`` of the session's budget on
training data through ``session.env`` (one configuration = one recorded
episode), trains the GAN, then spends the rest on proposals for
``target_accuracy``.  :class:`AQGAN` is the reusable part (fit once, serve many
targets and presets; save/load to a path the caller names).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
import numpy as np

from agents.base import Session


@dataclasses.dataclass
class Config:
    """AQGAN's settings (accuracies in percent)."""

    #: The accuracy the agent's proposals aim at, in (0, 100].
    target_accuracy: float = 90.0
    #: Share of the session's budget spent on training data (the rest on proposals).
    data_fraction: float = 0.6
    #: Share of the training data drawn first with the mean bit-width uniform (see stratified_data).
    pilot_fraction: float = 0.25
    #: Standard deviation (in bits) of each gene around the drawn mean bit-width.
    spread: float = 1.0
    #: Proposals generated per round (K of the tuning flow).
    proposals: int = 64
    #: Generator noise size and hidden width of the three networks (two hidden layers each).
    noise_dim: int = 16
    hidden: int = 128
    #: Generator updates; the critic gets critic_steps updates before each.
    iterations: int = 1000
    critic_steps: int = 2
    batch_size: int = 64
    #: Adam settings.  WGAN-GP (Gulrajani et al. 2017) used lr 1e-4, betas (0, 0.9), 5 critic
    #: steps, lambda 10; here lr 3e-4 with 2 critic steps gave a lower target error in half
    #: the time on the digits CNN (docs/aqgan.md).
    lr: float = 3e-4
    beta1: float = 0.0
    beta2: float = 0.9
    gp_weight: float = 10.0
    #: Weight of the accuracy-predictor term in the generator's loss (0 = plain conditional WGAN-GP).
    aux_weight: float = 5.0
    #: Adam steps fitting the accuracy predictor before the GAN trains.
    predictor_steps: int = 500
    #: Gumbel-softmax temperature during training.
    temperature: float = 1.0
    #: Softmax temperature when generating (1: the trained distribution; 0: the most likely level per gene).
    sample_temperature: float = 1.0
    #: If not empty, the trained model is saved to this file (nothing is written otherwise).
    save_path: str = ""


def check_config(config: Config) -> None:
    """Raise ValueError naming the first bad setting and what is allowed."""
    def number(name):
        v = getattr(config, name)
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
            raise ValueError(f"config {name} must be a finite number, got {v!r}")
        return float(v)

    if not 0.0 < number("target_accuracy") <= 100.0:
        raise ValueError(f"config target_accuracy must be in (0, 100] percent, got {config.target_accuracy!r}")
    for name in ("data_fraction", "pilot_fraction"):
        if not 0.0 < number(name) < 1.0:
            raise ValueError(f"config {name} must be in (0, 1), got {getattr(config, name)!r}")
    for name in ("spread", "lr", "temperature"):
        if number(name) <= 0.0:
            raise ValueError(f"config {name} must be positive, got {getattr(config, name)!r}")
    for name in ("beta1", "beta2"):
        if not 0.0 <= number(name) < 1.0:
            raise ValueError(f"config {name} must be in [0, 1), got {getattr(config, name)!r}")
    for name in ("gp_weight", "aux_weight", "sample_temperature"):
        if number(name) < 0.0:
            raise ValueError(f"config {name} must be >= 0, got {getattr(config, name)!r}")
    for name in ("proposals", "noise_dim", "hidden", "iterations", "critic_steps", "batch_size"):
        v = getattr(config, name)
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
            raise ValueError(f"config {name} must be an integer >= 1, got {v!r}")
    v = config.predictor_steps
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 0:
        raise ValueError(f"config predictor_steps must be an integer >= 0, got {v!r}")


def supports(env: gym.Env) -> str | None:
    # A one-shot bit-configuration env: one action is the whole (w_0, a_0, w_1, a_1, ...) vector,
    # which the env's documented decode(action) -> (wbits, abits) reads (Quant-OneShot-v0).
    if isinstance(env.action_space, gym.spaces.MultiDiscrete) and callable(getattr(env.unwrapped, "decode", None)):
        return None
    return "AQGAN generates whole bit configurations: it needs a Quant-OneShot env (one step, all layers)"


# ------------------------------------------------------------- training data
def mean_bits_configs(mean_levels: np.ndarray, genes: int, levels: int, spread: float,
                      rng: np.random.Generator) -> np.ndarray:
    """One configuration per mean: each gene ``rint(mean + N(0, spread))`` clipped to 0..levels-1."""
    noise = rng.normal(0.0, spread, (len(mean_levels), genes))
    return np.clip(np.rint(np.asarray(mean_levels)[:, None] + noise), 0, levels - 1).astype(np.int64)


def stratified_data(evaluate: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]], n: int, genes: int,
                    levels: int, rng: np.random.Generator, spread: float = 1.0,
                    pilot_fraction: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """``n`` measured configurations whose accuracies spread evenly from near chance to float.

    Uniform bits put most configurations near the float accuracy on the digits
    CNN (and near chance on deeper models): accuracy is a steep, model-specific
    function of the mean bit-width.  So: a pilot (``pilot_fraction`` of ``n``)
    draws the mean bit-width uniformly over the levels and each gene around it;
    the rest draw the mean bit-width from a mixture of bins weighted so that the
    pilot's accuracies, reweighted, are as flat as possible (:func:`flat_mixture`).

    ``evaluate(actions) -> (evaluated actions, accuracies)``, accuracy NaN where
    none was measured.  Returns all ``n`` rows (evaluated actions, accuracies).
    """
    n_pilot = max(1, min(n, round(pilot_fraction * n)))
    top = levels - 1
    means = rng.uniform(0.0, top, n_pilot)
    acts, accs = evaluate(mean_bits_configs(means, genes, levels, spread, rng))
    rest = n - n_pilot
    if rest > 0:
        edges = np.linspace(0.0, top, MEAN_BINS + 1)
        weights = flat_mixture(np.clip(np.digitize(means, edges) - 1, 0, MEAN_BINS - 1), accs, MEAN_BINS)
        bins = rng.choice(MEAN_BINS, size=rest, p=weights)
        rest_means = rng.uniform(edges[bins], edges[bins + 1])
        more_acts, more_accs = evaluate(mean_bits_configs(rest_means, genes, levels, spread, rng))
        acts, accs = np.concatenate([acts, more_acts]), np.concatenate([accs, more_accs])
    return acts, accs


#: Bins of the mean bit-width (stratified_data) and of accuracy (flat_mixture).
MEAN_BINS, ACCURACY_BINS = 12, 10


def flat_mixture(bins: np.ndarray, accs: np.ndarray, n_bins: int) -> np.ndarray:
    """Weights over mean-bit-width bins that make the pilot's accuracy histogram flattest.

    ``H[k, b]`` = share of bin b's pilot configurations in accuracy bin k
    (``ACCURACY_BINS`` equal bins between the lowest and highest measured
    accuracy); the weights are the non-negative least-squares solution of
    ``H w = 1 / ACCURACY_BINS`` (scipy.optimize.nnls), normalised.  Bins without
    a pilot sample get weight 0; uniform weights if nothing was measured.
    """
    from scipy.optimize import nnls

    ok = np.isfinite(accs)
    if ok.sum() < 2 or np.ptp(accs[ok]) == 0:
        return np.full(n_bins, 1.0 / n_bins)
    edges = np.linspace(accs[ok].min(), accs[ok].max(), ACCURACY_BINS + 1)
    k = np.clip(np.digitize(accs[ok], edges) - 1, 0, ACCURACY_BINS - 1)
    H = np.zeros((ACCURACY_BINS, n_bins))
    np.add.at(H, (k, bins[ok]), 1.0)
    H /= np.maximum(H.sum(axis=0), 1.0)
    w, _ = nnls(H, np.full(ACCURACY_BINS, 1.0 / ACCURACY_BINS))
    return w / w.sum() if w.sum() > 0 else np.full(n_bins, 1.0 / n_bins)


# ------------------------------------------------------------------ the GAN
def _mlp(n_in: int, hidden: int, n_out: int):
    from torch import nn

    return nn.Sequential(nn.Linear(n_in, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden),
                         nn.LeakyReLU(0.2), nn.Linear(hidden, n_out))


class AQGAN:
    """Conditional WGAN-GP over ``genes`` categorical genes of ``levels`` levels each.

    ``fit(actions, accuracies)`` trains it on measured data (actions as the
    env's integer vectors, accuracies in percent); ``generate(target, n)``
    returns ``n`` action vectors proposed for a target accuracy;
    ``save(path)`` / ``AQGAN.load(path)`` keep a trained model.
    """

    def __init__(self, genes: int, levels: int = 7, config: Config | None = None, seed: int = 0):
        import torch

        self.config = config if config is not None else Config()
        check_config(self.config)
        if genes < 1 or levels < 2:
            raise ValueError(f"need genes >= 1 and levels >= 2, got {genes} and {levels}")
        self.genes, self.levels, self.seed = int(genes), int(levels), int(seed)
        c = self.config
        torch.manual_seed(self.seed)
        width = self.genes * self.levels
        self.generator = _mlp(c.noise_dim + 1, c.hidden, width)
        self.critic = _mlp(width + 1, c.hidden, 1)
        self.predictor = _mlp(width, c.hidden, 1)
        self._rng = torch.Generator().manual_seed(self.seed)
        #: Mean and standard deviation of the training accuracies (the condition is standardised).
        self.acc_mean, self.acc_std = 0.0, 1.0
        self.trained = False

    # ---- helpers
    def _condition(self, accuracy):
        import torch

        acc = torch.as_tensor(np.asarray(accuracy, dtype=np.float32)).reshape(-1, 1)
        return (acc - self.acc_mean) / self.acc_std

    def _onehot(self, actions):
        import torch
        import torch.nn.functional as F

        return F.one_hot(torch.as_tensor(actions, dtype=torch.int64), self.levels).float().flatten(1)

    def _logits(self, cond, rng=None):
        import torch

        z = torch.randn(len(cond), self.config.noise_dim, generator=rng or self._rng)
        return self.generator(torch.cat([z, cond], 1)).view(len(cond), self.genes, self.levels)

    def _check_actions(self, actions, accuracies=None):
        acts = np.asarray(actions)
        if acts.ndim != 2 or acts.shape[1] != self.genes or not np.issubdtype(acts.dtype, np.integer):
            raise ValueError(f"actions must be an integer array of shape (n, {self.genes}), got "
                             f"{acts.dtype} {acts.shape}")
        if acts.size and (acts.min() < 0 or acts.max() >= self.levels):
            raise ValueError(f"actions must be levels in 0..{self.levels - 1}")
        if accuracies is not None:
            accs = np.asarray(accuracies, dtype=np.float64)
            if accs.shape != (len(acts),) or not np.isfinite(accs).all():
                raise ValueError(f"accuracies must be {len(acts)} finite numbers (percent)")
        return acts

    # ---- training
    def fit(self, actions, accuracies, log: Callable[[str, float, int], None] | None = None) -> dict:
        """Train on measured (actions, accuracies); returns the final losses.

        ``log(tag, value, step)`` (optional) receives the losses, e.g. a
        TensorBoard writer's ``add_scalar``.
        """
        import torch

        acts = self._check_actions(actions, accuracies)
        if len(acts) < 2:
            raise ValueError(f"AQGAN needs at least 2 measured configurations to fit, got {len(acts)}")
        accs = np.asarray(accuracies, dtype=np.float64)
        c = self.config
        torch.manual_seed(self.seed)  # the Gumbel noise of F.gumbel_softmax
        self.acc_mean, self.acc_std = float(accs.mean()), float(max(accs.std(), 1e-6))
        x_all, c_all = self._onehot(acts), self._condition(accs)
        n = len(acts)
        batch = min(c.batch_size, n)

        def draw():
            idx = torch.randint(0, n, (batch,), generator=self._rng)
            return x_all[idx], c_all[idx]

        # 1. the accuracy predictor (the auxiliary head), on the measured data only
        opt_p = torch.optim.Adam(self.predictor.parameters(), lr=1e-3)
        p_loss = torch.tensor(0.0)
        for _ in range(c.predictor_steps):
            x, cond = draw()
            p_loss = ((self.predictor(x) - cond) ** 2).mean()
            opt_p.zero_grad()
            p_loss.backward()
            opt_p.step()
        self.predictor.requires_grad_(False)

        # 2. conditional WGAN-GP with the straight-through Gumbel-softmax generator
        betas = (c.beta1, c.beta2)
        opt_g = torch.optim.Adam(self.generator.parameters(), lr=c.lr, betas=betas)
        opt_d = torch.optim.Adam(self.critic.parameters(), lr=c.lr, betas=betas)
        d_loss = g_loss = aux = torch.tensor(0.0)
        for it in range(c.iterations):
            for _ in range(c.critic_steps):
                x_real, cond = draw()
                with torch.no_grad():
                    x_fake = self._sample_onehot(cond)
                eps = torch.rand(batch, 1, generator=self._rng)
                x_mix = (eps * x_real + (1 - eps) * x_fake).requires_grad_(True)
                grad, = torch.autograd.grad(self.critic(torch.cat([x_mix, cond], 1)).sum(), x_mix,
                                            create_graph=True)
                gp = ((grad.norm(dim=1) - 1) ** 2).mean()
                d_loss = (self.critic(torch.cat([x_fake, cond], 1)).mean()
                          - self.critic(torch.cat([x_real, cond], 1)).mean() + c.gp_weight * gp)
                opt_d.zero_grad()
                d_loss.backward()
                opt_d.step()
            _, cond = draw()
            x_fake = self._sample_onehot(cond)
            aux = ((self.predictor(x_fake) - cond) ** 2).mean()
            g_loss = -self.critic(torch.cat([x_fake, cond], 1)).mean() + c.aux_weight * aux
            opt_g.zero_grad()
            g_loss.backward()
            opt_g.step()
            if log is not None and (it % 50 == 0 or it == c.iterations - 1):
                log("aqgan/critic_loss", d_loss.item(), it)
                log("aqgan/generator_loss", g_loss.item(), it)
                log("aqgan/aux_loss", aux.item(), it)
        self.predictor.requires_grad_(True)
        self.trained = True
        return {"critic_loss": d_loss.item(), "generator_loss": g_loss.item(), "aux_loss": aux.item(),
                "predictor_loss": p_loss.item()}

    def _sample_onehot(self, cond):
        import torch.nn.functional as F

        logits = self._logits(cond)
        return F.gumbel_softmax(logits, tau=self.config.temperature, hard=True).flatten(1)

    # ---- use
    def generate(self, target: float, n: int, seed: int | None = None) -> np.ndarray:
        """``n`` action vectors (levels 0..levels-1) proposed for ``target`` accuracy (percent).

        With ``seed`` the draw depends only on it (and the trained weights);
        without, on the model's own random stream.
        """
        import torch

        if not self.trained:
            raise RuntimeError("AQGAN.generate before fit (or load)")
        if isinstance(target, bool) or not isinstance(target, numbers.Real) or not 0.0 < target <= 100.0:
            raise ValueError(f"target accuracy must be in (0, 100] percent, got {target!r}")
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
            raise ValueError(f"n must be an integer >= 1, got {n!r}")
        rng = torch.Generator().manual_seed(int(seed)) if seed is not None else self._rng
        with torch.no_grad():
            logits = self._logits(self._condition(np.full(n, target)), rng)
            if self.config.sample_temperature == 0:
                picks = logits.argmax(dim=-1)
            else:
                probs = torch.softmax(logits / self.config.sample_temperature, dim=-1)
                picks = torch.multinomial(probs.view(-1, self.levels), 1, generator=rng)
        return picks.view(n, self.genes).numpy().astype(np.int64)

    def predict(self, actions) -> np.ndarray:
        """The auxiliary predictor's accuracy (percent) for action vectors (a surrogate, not a measurement)."""
        import torch

        acts = self._check_actions(actions)
        with torch.no_grad():
            out = self.predictor(self._onehot(acts)).view(-1).numpy()
        return out * self.acc_std + self.acc_mean

    def save(self, path: str | Path) -> Path:
        """Write the trained model to ``path`` (and nowhere else)."""
        import torch

        if not self.trained:
            raise RuntimeError("AQGAN.save before fit")
        path = Path(path)
        torch.save({"format": "archgym-aqgan-1", "genes": self.genes, "levels": self.levels, "seed": self.seed,
                    "config": dataclasses.asdict(self.config), "acc_mean": self.acc_mean,
                    "acc_std": self.acc_std, "generator": self.generator.state_dict(),
                    "critic": self.critic.state_dict(), "predictor": self.predictor.state_dict()}, path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> AQGAN:
        import pickle

        import torch

        try:
            state = torch.load(Path(path), weights_only=True)
        except (OSError, RuntimeError, EOFError, ValueError, pickle.UnpicklingError) as exc:
            raise ValueError(f"{path}: cannot read an AQGAN model file ({exc})") from exc
        if not isinstance(state, dict) or state.get("format") != "archgym-aqgan-1":
            raise ValueError(f"{path}: not an AQGAN model file (format 'archgym-aqgan-1')")
        gan = cls(state["genes"], state["levels"], Config(**state["config"]), state["seed"])
        for name in ("generator", "critic", "predictor"):
            getattr(gan, name).load_state_dict(state[name])
        gan.acc_mean, gan.acc_std, gan.trained = state["acc_mean"], state["acc_std"], True
        return gan


# ------------------------------------------------------------ hardware tuning
def tune(accuracies, costs, target: float, budget: float = math.inf) -> int | None:
    """Index of the cheapest proposal whose MEASURED accuracy >= target and cost <= budget (None if none).

    Ties in cost go to the higher accuracy, then to the earlier proposal.
    """
    accs, costs = np.asarray(accuracies, dtype=float), np.asarray(costs, dtype=float)
    if accs.shape != costs.shape or accs.ndim != 1:
        raise ValueError(f"accuracies and costs must be 1-D of one length, got {accs.shape} and {costs.shape}")
    ok = np.flatnonzero((accs >= target) & (costs <= budget))
    if ok.size == 0:
        return None
    return int(ok[np.lexsort((ok, -accs[ok], costs[ok]))[0]])


# --------------------------------------------------------------------- agent
def _tensorboard(logdir):
    if logdir is None:
        return None, None
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(logdir))
    return writer, writer.add_scalar


def run(session: Session, config: Config) -> None:
    """Collect stratified data, train the GAN, then propose designs for ``config.target_accuracy``."""
    import torch

    check_config(config)
    torch.manual_seed(session.seed)
    space = session.env.action_space
    genes, levels = len(space.nvec), int(space.nvec[0])
    seen: set[tuple] = set()  # configurations already played (as proposed)
    costs: list[float] = []  # cost of each played configuration, in play order

    def evaluate(actions):
        """Play each row as one recorded episode: (evaluated actions, accuracies; NaN if none measured)."""
        out_acts, out_accs = [], []
        for row in actions:
            seen.add(tuple(int(v) for v in row))
            _, info = session.evaluate([np.asarray(row)])
            if "accuracy" in info:  # the design the env evaluated (after its action wall)
                out_acts.append(np.ravel(np.column_stack([info["wbits"], info["abits"]])) - 2)
            else:  # over budget with over_budget="terminate": nothing measured
                out_acts.append(np.asarray(row))
            out_accs.append(float(info.get("accuracy", math.nan)))
            costs.append(float(info.get("cost", math.nan)))
        return np.array(out_acts, dtype=np.int64), np.array(out_accs)

    n_data = max(1, int(config.data_fraction * session.budget))
    if session.budget > 1:
        n_data = min(n_data, session.budget - 1)
    acts, accs = stratified_data(evaluate, n_data, genes, levels, session.rng, config.spread,
                                 config.pilot_fraction)
    ok = np.isfinite(accs)
    session.extras["aqgan"] = {"data_samples": int(n_data), "measured_data": int(ok.sum())}
    if ok.sum() < 2:
        return  # nothing to learn from (budget too small)
    writer, log = _tensorboard(session.logdir)
    gan = AQGAN(genes, levels, config, seed=session.seed)
    losses = gan.fit(acts[ok], accs[ok], log=log)
    if writer is not None:
        writer.close()
    if config.save_path:
        gan.save(config.save_path)

    prop_acts, prop_accs = [], []
    while not session.exhausted:
        batch = gan.generate(config.target_accuracy, config.proposals)
        rows = list(dict.fromkeys(tuple(int(v) for v in r) for r in batch))  # unique, in order
        new = [r for r in rows if r not in seen]
        a, acc = evaluate((new or rows)[:session.remaining])  # all known already: spend anyway
        prop_acts.extend(a.tolist())
        prop_accs.extend(acc.tolist())
    # the tuning flow on the measured proposals (the env itself enforces its budget)
    target = config.target_accuracy
    prop_costs = costs[len(costs) - len(prop_accs):]
    pick = tune(np.nan_to_num(prop_accs, nan=-1.0), np.nan_to_num(prop_costs, nan=math.inf), target)
    measured = [a for a in prop_accs if math.isfinite(a)]
    session.extras["aqgan"].update(
        proposals=len(prop_accs), qualifying=int(sum(a >= target for a in measured)),
        mean_abs_error=float(np.mean(np.abs(np.array(measured) - target))) if measured else None,
        pick=None if pick is None else {"action": prop_acts[pick], "accuracy": prop_accs[pick],
                                        "cost": prop_costs[pick]},
        losses=losses)
