"""REINFORCE with ConfuciuX's LSTM policy (Kao, Jeong and Krishna, MICRO 2020).

The policy reads one observation per step and emits one categorical choice
per action dimension (PEs and buffer level on HWResource).  Its shape follows
the authors' public code (maestro-project/confuciux, ``src/ConfX/rl_confx.py``):

- three encoders of width 10: Linear(7) over the layer dims, Linear(2) over
  the previous action and Linear(1) over the progress (the layer index), the
  parts the env names ``layer_dims``, ``previous_action`` and ``progress`` in
  its ``observation_layout`` attribute (HWResource: ``obs[0:7]``, ``obs[8:10]``,
  ``obs[7]``);
- their concatenation (30) -> three Linear(128) + ReLU -> LSTMCell(128), whose
  state runs through the steps of an episode and restarts each episode;
- one head per action dimension with n choices: Linear(128 -> n) + ReLU +
  Linear(n -> n), a softmax over the n logits.

On any other flat observation (``encoders="flat"``, or ``"auto"`` when the
env's ``observation_layout`` does not name those parts) one Linear(obs -> 30)
replaces the three encoders.  Where the env lists the valid choices in
``info["action_mask"]`` (Discrete spaces, e.g. NAS-Sequential-v0) the invalid
ones get probability 0.

Training, as the original: one update per episode on the summed
-log pi(a_t) * A_t, with the rewards standardised, discounted (gamma 0.9) and
the returns standardised over the episode; Adam (lr 1e-3); gradient norms
clipped at 100 (whole policy) and 10 (LSTM); the learning rate multiplied by
0.8 every 100 episodes once an episode has been feasible.  Standardising over
one episode cancels a reward given only at the last step (every return is the
same number times a power of gamma), so on such episodes, and on one-step
envs, ``normalize="auto"`` uses a running baseline instead (see
:class:`RunningBaseline`).
"""

from __future__ import annotations

import dataclasses
import math

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from agents.base import Session, check_number, is_feasible


@dataclasses.dataclass
class Config:
    """REINFORCE settings; the defaults are ConfuciuX's."""

    #: Adam learning rate.
    lr: float = 1e-3
    #: Discount factor of the returns.
    gamma: float = 0.9
    #: "confuciux": the dims / previous-action / progress encoders on the parts of the
    #: observation the env's ``observation_layout`` names (HWResource's 11 values);
    #: "flat": one encoder over the whole observation; "auto": the former when the env
    #: names those parts.
    encoders: str = "auto"
    #: Width of each of the three encoders (their concatenation is 3x this).
    embed: int = 10
    #: Width of the three hidden layers and of the LSTM cell.
    hidden: int = 128
    #: Advantages: "episode" standardises the returns within the episode (ConfuciuX);
    #: "running" subtracts a running mean of past returns at the same step and divides
    #: by a running deviation; "auto": "episode" when more than one step of the
    #: episode was rewarded, "running" otherwise.
    normalize: str = "auto"
    #: Standardise the rewards over the episode before discounting (as the original
    #: does; applies to the "episode" normalisation).
    standardize_rewards: bool = True
    #: Decay of the running baseline's averages (normalize="running").
    baseline_decay: float = 0.9
    #: Gradient-norm clipping of the whole policy and, after it, of the LSTM cell.
    max_grad_norm: float = 100.0
    max_grad_norm_lstm: float = 10.0
    #: Learning-rate decay: x lr_decay every lr_decay_every episodes once an episode
    #: was feasible, never below min_lr.
    lr_decay: float = 0.8
    lr_decay_every: int = 100
    min_lr: float = 1e-6
    #: torch intra-op threads while training (restored afterwards): a policy that sees one
    #: observation at a time gains nothing from more, and loses much on a busy machine.
    threads: int = 1

    def __post_init__(self):
        for name in ("lr", "max_grad_norm", "max_grad_norm_lstm"):
            check_number(name, getattr(self, name), 0.0, low_open=True)
        check_number("min_lr", self.min_lr, 0.0)
        for name in ("gamma", "lr_decay", "baseline_decay"):
            check_number(name, getattr(self, name), 0.0, 1.0)
        for name in ("embed", "hidden", "lr_decay_every", "threads"):
            check_number(name, getattr(self, name), 1, integer=True)
        if self.encoders not in ENCODERS:
            raise ValueError(f"unknown encoders {self.encoders!r}; allowed: {', '.join(ENCODERS)}")
        if self.normalize not in NORMALIZE:
            raise ValueError(f"unknown normalize {self.normalize!r}; allowed: {', '.join(NORMALIZE)}")
        if self.standardize_rewards not in (True, False):
            raise ValueError(f"standardize_rewards must be True or False, got {self.standardize_rewards!r}")


ENCODERS = ("auto", "confuciux", "flat")
NORMALIZE = ("auto", "episode", "running")
#: The parts of an observation ConfuciuX's encoders read, by their names in the env's
#: ``observation_layout`` (a dict of slices; HWResource's: 7 layer dims, progress, previous action).
CONFUCIUX_PARTS = ("layer_dims", "progress", "previous_action")
#: Added to a standard deviation before dividing by it (the original's 2**-12).
EPS = 2.0 ** -12


def action_sizes(space: gym.Space) -> list[int]:
    """The number of choices of each action dimension (one for a Discrete space)."""
    if isinstance(space, gym.spaces.Discrete):
        return [int(space.n)]
    return [int(n) for n in space.nvec]


def confuciux_layout(env: gym.Env) -> dict[str, slice] | None:
    """The slices ConfuciuX's encoders read, from the env's ``observation_layout``; None if it names none."""
    layout = getattr(env.unwrapped, "observation_layout", None) or {}
    if not all(part in layout for part in CONFUCIUX_PARTS):
        return None
    return {part: layout[part] for part in CONFUCIUX_PARTS}


def supports(env: gym.Env) -> str | None:
    space, obs = env.action_space, env.observation_space
    if isinstance(space, gym.spaces.MultiDiscrete) and space.nvec.ndim != 1:
        return f"needs a one-dimensional MultiDiscrete action space, got {space}"
    if not isinstance(space, (gym.spaces.Discrete, gym.spaces.MultiDiscrete)):
        return f"needs a Discrete or MultiDiscrete action space, got {space}"
    if not isinstance(obs, gym.spaces.Box) or len(obs.shape) != 1:
        return f"needs a flat Box observation space, got {obs}"
    return None


# -------------------------------------------------------------------- policy
class Policy(nn.Module):
    """ConfuciuX's actor: encoders -> 3 x FC(128) -> LSTMCell(128) -> one head per dimension."""

    def __init__(self, obs_size: int, sizes: list[int], layout: dict[str, slice] | None, embed: int = 10,
                 hidden: int = 128):
        """``layout``: the slices of :data:`CONFUCIUX_PARTS` (ConfuciuX's encoders), or None (one flat encoder)."""
        super().__init__()
        self.layout = layout
        self.confuciux = layout is not None
        if self.confuciux:
            width = {part: len(range(obs_size)[layout[part]]) for part in CONFUCIUX_PARTS}
            self.dims = nn.Linear(width["layer_dims"], embed)
            self.previous = nn.Linear(width["previous_action"], embed)
            self.progress = nn.Linear(width["progress"], embed)
        else:
            self.flat = nn.Linear(obs_size, 3 * embed)
        self.body = nn.Sequential(nn.Linear(3 * embed, hidden), nn.ReLU(),
                                  nn.Linear(hidden, hidden), nn.ReLU(),
                                  nn.Linear(hidden, hidden), nn.ReLU())
        self.lstm = nn.LSTMCell(hidden, hidden)
        self.heads = nn.ModuleList(nn.Sequential(nn.Linear(hidden, n), nn.ReLU(), nn.Linear(n, n))
                                   for n in sizes)

    def forward(self, obs: torch.Tensor, state=None):
        """Logits of each head for a batch of observations (B, obs_size), and the new LSTM state."""
        if self.confuciux:
            part = self.layout
            x = torch.cat([self.dims(obs[:, part["layer_dims"]]), self.previous(obs[:, part["previous_action"]]),
                           self.progress(obs[:, part["progress"]])], dim=1)
        else:
            x = self.flat(obs)
        h, c = self.lstm(self.body(x), state)
        return [head(h) for head in self.heads], (h, c)


# ------------------------------------------------------------------ training
class RunningBaseline:
    """Advantages from running averages: the return at step t minus the average return
    seen at step t, over a running root-mean-square of those differences."""

    def __init__(self, decay: float):
        self.decay = decay
        self.mean = np.zeros(0)
        self.mean_square = 0.0

    def __call__(self, returns: np.ndarray) -> np.ndarray:
        T, d = len(returns), self.decay
        if len(self.mean) < T:  # steps never seen before start at their first return
            self.mean = np.concatenate([self.mean, returns[len(self.mean):]])
        diff = returns - self.mean[:T]
        self.mean_square = d * self.mean_square + (1 - d) * float(np.mean(diff ** 2))
        self.mean[:T] = d * self.mean[:T] + (1 - d) * returns
        return diff / (math.sqrt(self.mean_square) + EPS)


def _standardize(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / (x.std() + EPS)


def discounted(rewards: np.ndarray, gamma: float) -> np.ndarray:
    out, running = np.empty_like(rewards), 0.0
    for t in range(len(rewards) - 1, -1, -1):
        running = rewards[t] + gamma * running
        out[t] = running
    return out


def sample_categorical(logits: torch.Tensor) -> tuple[int, torch.Tensor]:
    """A choice drawn from softmax(logits) (one dimension) and its log-probability.

    The same operations, random draws and gradients as ``torch.distributions.Categorical``'s
    ``sample`` and ``log_prob`` (normalised logits, multinomial on their softmax), without
    building a distribution object per step: the choices and the training are the same.
    """
    log_p = logits - logits.logsumexp(-1, keepdim=True)
    with torch.no_grad():
        choice = int(torch.multinomial(log_p.softmax(-1).reshape(1, -1), 1, True))
    return choice, log_p[choice]


class Reinforce:
    """The learner: plays recorded episodes on ``session.env`` and updates after each."""

    def __init__(self, session: Session, config: Config):
        reason = supports(session.env)
        if reason is not None:
            raise ValueError(f"REINFORCE cannot run on {session.env_id}: {reason}")
        self.session, self.config = session, config
        space = session.env.action_space
        self.discrete = isinstance(space, gym.spaces.Discrete)
        self.start = np.asarray(space.start, dtype=np.int64)
        obs_size = int(session.env.observation_space.shape[0])
        layout = None if config.encoders == "flat" else confuciux_layout(session.env)
        if config.encoders == "confuciux" and layout is None:
            raise ValueError(f"the ConfuciuX encoders need an env whose observation_layout names "
                             f"{', '.join(CONFUCIUX_PARTS)} (as HWResource's 11 values do); "
                             f"{session.env_id} names none: use encoders='flat'")
        torch.manual_seed(session.seed)
        self.policy = Policy(obs_size, action_sizes(space), layout, config.embed, config.hidden)
        self.optimizer = torch.optim.Adam(self.policy.parameters(), lr=config.lr)
        self.baseline = RunningBaseline(config.baseline_decay)
        self.episodes = 0
        self.feasible_seen = False
        self.writer = None
        if session.logdir is not None:
            from torch.utils.tensorboard import SummaryWriter
            self.writer = SummaryWriter(str(session.logdir))

    @property
    def lr(self) -> float:
        return self.optimizer.param_groups[0]["lr"]

    def act(self, obs, info: dict, state):
        """Sample an action: (env action, its log-probability, new LSTM state)."""
        x = torch.as_tensor(np.asarray(obs, dtype=np.float32)).reshape(1, -1)
        logits, state = self.policy(x, state)
        mask = info.get("action_mask")
        if self.discrete and mask is not None:
            logits[0] = logits[0].masked_fill(~torch.as_tensor(np.asarray(mask, dtype=bool))[None], -math.inf)
        choice, log_prob = [], 0
        for lg in logits:
            c, lp = sample_categorical(lg[0])
            choice.append(c)
            log_prob = log_prob + lp
        levels = np.array(choice, dtype=np.int64) + self.start
        return (int(levels[0]) if self.discrete else levels), log_prob, state

    def advantages(self, rewards: np.ndarray) -> np.ndarray:
        c = self.config
        mode = c.normalize
        if mode == "auto":
            mode = "episode" if np.count_nonzero(rewards) > 1 else "running"
        if mode == "running":
            return self.baseline(discounted(rewards, c.gamma))
        self.baseline(discounted(rewards, c.gamma))  # keep the running averages current
        if c.standardize_rewards:
            rewards = _standardize(rewards)
        return _standardize(discounted(rewards, c.gamma))

    def episode(self) -> float:
        """Play one recorded episode, update the policy; returns the episode return."""
        env, c = self.session.env, self.config
        obs, info = env.reset()
        state, log_probs, rewards, done = None, [], [], False
        while not done:
            action, log_prob, state = self.act(obs, info, state)
            obs, reward, terminated, truncated, info = env.step(action)
            log_probs.append(log_prob)
            rewards.append(float(reward))
            done = terminated or truncated
        adv = torch.as_tensor(self.advantages(np.array(rewards)), dtype=torch.float32)
        loss = -(torch.stack(log_probs) * adv).sum()
        self.optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(self.policy.parameters(), c.max_grad_norm)
        nn.utils.clip_grad_norm_(self.policy.lstm.parameters(), c.max_grad_norm_lstm)
        self.optimizer.step()

        self.episodes += 1
        self.feasible_seen = self.feasible_seen or is_feasible(info)
        if self.feasible_seen and self.episodes % c.lr_decay_every == 0:
            for group in self.optimizer.param_groups:
                group["lr"] = max(c.min_lr, group["lr"] * c.lr_decay)
        total = float(sum(rewards))
        if self.writer is not None:
            self.writer.add_scalar("reinforce/episode_return", total, self.episodes)
            self.writer.add_scalar("reinforce/loss", loss.item(), self.episodes)
            self.writer.add_scalar("reinforce/lr", self.lr, self.episodes)
        return total

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def train(session: Session, config: Config, samples: int | None = None) -> Reinforce:
    """Train for ``samples`` episodes (None: until the budget is spent); returns the learner."""
    if samples is not None and (isinstance(samples, bool) or not isinstance(samples, int) or samples < 0):
        raise ValueError(f"samples must be a non-negative integer or None, got {samples!r}")
    threads = torch.get_num_threads()
    torch.set_num_threads(config.threads)
    learner = Reinforce(session, config)
    stop = session.budget if samples is None else min(session.budget, session.samples + samples)
    try:
        while session.samples < stop:
            learner.episode()
    finally:
        learner.close()
        torch.set_num_threads(threads)
    return learner


def run(session: Session, config: Config) -> None:
    train(session, config)
