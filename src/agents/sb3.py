"""stable-baselines3 PPO, A2C and DQN, and sb3-contrib's MaskablePPO, on a budget of samples.

The model trains on ``session.env`` itself (the recorded env), wrapped for
SB3 in a Monitor and a DummyVecEnv, plus VecNormalize for the rewards when
``normalize_reward`` is set (HWResource's ConfuciuX rewards run to 1e8;
normalising outside the recorder leaves the recorded returns untouched).  A
callback stops training as soon as the budget of samples (complete episodes)
is spent; ``total_timesteps`` is only a bound that is never reached.

Wrappers that change the action space sit *outside* the recorder, so the
recorded actions stay in the env's own space and replay:

- DQN needs a Discrete space: a MultiDiscrete space with at most
  :data:`MAX_FLAT_ACTIONS` joint actions is flattened
  (:class:`archgym.wrappers.FlatActions`, row-major, numpy's ``unravel_index``).  DQN's epsilon schedule is measured in
  samples of the budget (SB3's counts timesteps of ``total_timesteps``).
- MaskablePPO reads the valid actions from the latest ``info["action_mask"]``
  (:class:`LastInfo` + sb3-contrib's ``ActionMasker``).

Defaults suit short episodes and small budgets (one-step envs such as
NAS-v0 and SparseFormat-v0 up to HWResource's 52 steps per episode): a PPO
rollout of 64 steps, minibatches of 32.  A budget smaller than one rollout
still runs (its episodes are played and recorded; no update happens).
ConfuciuX's stable-baselines comparisons used MlpPolicy with
``net_arch=(512, 512, 512)``; set that field to reproduce them.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import gymnasium as gym
import numpy as np

from agents.base import Session, check_number
from archgym.wrappers import FlatActions

#: DQN flattens a MultiDiscrete space only up to this many joint actions.
MAX_FLAT_ACTIONS = 4096
#: ``total_timesteps`` given to SB3: steps per sample it would take to reach it.
_STEPS_BOUND_PER_SAMPLE = 10**6
_OBS_SPACES = (gym.spaces.Box, gym.spaces.Discrete, gym.spaces.MultiDiscrete, gym.spaces.MultiBinary)


# ------------------------------------------------------------------ supports
def _nonzero_start(space: gym.Space) -> bool:
    return isinstance(space, (gym.spaces.Discrete, gym.spaces.MultiDiscrete)) and bool(np.any(space.start))


def supports(env: gym.Env) -> str | None:
    """PPO and A2C: a flat observation space (SB3's MlpPolicy) and a Discrete,
    MultiDiscrete, MultiBinary or Box action space."""
    if not isinstance(env.observation_space, _OBS_SPACES):
        return ("needs a flat observation space (Box, Discrete, MultiDiscrete or MultiBinary) for "
                f"SB3's MlpPolicy, got {env.observation_space}")
    space = env.action_space
    if not isinstance(space, (gym.spaces.Discrete, gym.spaces.MultiDiscrete, gym.spaces.MultiBinary,
                              gym.spaces.Box)):
        return f"needs a Discrete, MultiDiscrete, MultiBinary or Box action space, got {space}"
    if _nonzero_start(space):
        return f"SB3 needs discrete actions that start at 0, got {space}"
    return None


def supports_dqn(env: gym.Env) -> str | None:
    """DQN: as PPO, with a Discrete action space or a MultiDiscrete one of at most
    MAX_FLAT_ACTIONS joint actions."""
    reason = supports(env)
    if reason is not None:
        return reason
    space = env.action_space
    if isinstance(space, gym.spaces.Discrete):
        return None
    if not isinstance(space, gym.spaces.MultiDiscrete) or space.nvec.ndim != 1:
        return f"needs a Discrete or one-dimensional MultiDiscrete action space, got {space}"
    joint = math.prod(int(n) for n in space.nvec)
    if joint > MAX_FLAT_ACTIONS:
        return (f"DQN flattens MultiDiscrete actions into one Discrete space, but {space} has "
                f"{joint:.4g} joint actions (at most {MAX_FLAT_ACTIONS})")
    return None


def supports_maskable(env: gym.Env) -> str | None:
    """MaskablePPO: as PPO, with a Discrete action space and action masks."""
    reason = supports(env)
    if reason is not None:
        return reason
    if not isinstance(env.action_space, gym.spaces.Discrete):
        return f"needs a Discrete action space with action masks, got {env.action_space}"
    # Checked without starting an episode: archgym's masked envs document action_masks()
    # (sb3-contrib's convention) next to info["action_mask"], which the run reads.
    if not callable(getattr(env.unwrapped, "action_masks", None)):
        return ("needs an env that exposes action masks (info['action_mask'] and "
                "action_masks(), e.g. NAS-Sequential-v0); this one has none")
    return None


# ------------------------------------------------------------------ wrappers
class LastInfo(gym.Wrapper):
    """Remembers the info of the latest reset or step (for ``info["action_mask"]``)."""

    def reset(self, **kwargs):
        obs, self.last_info = self.env.reset(**kwargs)
        return obs, self.last_info

    def step(self, action):
        obs, reward, terminated, truncated, self.last_info = self.env.step(action)
        return obs, reward, terminated, truncated, self.last_info


def info_action_mask(env: LastInfo) -> np.ndarray:
    """The valid actions of the current state, from the latest info."""
    mask = getattr(env, "last_info", {}).get("action_mask")
    if mask is None:
        raise ValueError("MaskablePPO needs info['action_mask'] after every reset and step; "
                         "this env's latest info has none")
    return np.asarray(mask, dtype=bool)


# ------------------------------------------------------------------- configs
@dataclasses.dataclass
class _Common:
    #: Optimiser learning rate.
    learning_rate: float = 3e-4
    #: Discount factor.
    gamma: float = 0.99
    #: Hidden layers of the MlpPolicy (of the actor and of the critic alike);
    #: ConfuciuX's baselines used (512, 512, 512).
    net_arch: tuple = (64, 64)
    #: Normalise the rewards with a running deviation of the discounted return
    #: (SB3's VecNormalize; the recorded returns are the env's own).
    normalize_reward: bool = True
    #: Normalise the observations with their running mean and deviation (SB3's VecNormalize).
    normalize_obs: bool = False
    #: If not empty, the trained model is saved to this file (SB3's zip; nothing is written
    #: otherwise), and the VecNormalize statistics, if any, to ``<save_path>.vecnormalize.pkl``
    #: (SB3's ``VecNormalize.load`` reads them back).
    save_path: str = ""
    #: Torch device.
    device: str = "cpu"
    #: CPU threads torch may use during the run (0: leave torch's setting).  These
    #: networks are tiny: one thread is fastest, much faster on a busy machine.
    torch_threads: int = 1
    #: SB3's verbosity (0: silent).
    verbose: int = 0

    def __post_init__(self):
        check_number("learning_rate", self.learning_rate, 0.0, low_open=True)
        check_number("gamma", self.gamma, 0.0, 1.0)
        if not isinstance(self.net_arch, (tuple, list)) or any(
                isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in self.net_arch):
            raise ValueError(f"net_arch must be a tuple of positive layer widths, got {self.net_arch!r}")
        self.net_arch = tuple(self.net_arch)
        check_number("verbose", self.verbose, 0, 2, integer=True)
        check_number("torch_threads", self.torch_threads, 0, integer=True)
        for name in ("normalize_reward", "normalize_obs"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if not isinstance(self.save_path, str):
            raise TypeError(f"save_path must be a file name (a string), got {self.save_path!r}")


@dataclasses.dataclass
class PPOConfig(_Common):
    """PPO settings (SB3's defaults except the rollout sizes, for short budgets)."""

    #: Environment steps per rollout (one update each).
    n_steps: int = 64
    #: Minibatch size (a divisor of n_steps avoids a truncated minibatch).
    batch_size: int = 32
    #: Passes over each rollout.
    n_epochs: int = 10
    gae_lambda: float = 0.95
    clip_range: float = 0.2
    #: Entropy bonus (keeps exploring on small budgets).
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5

    def __post_init__(self):
        super().__post_init__()
        check_number("n_steps", self.n_steps, 2, integer=True)
        check_number("batch_size", self.batch_size, 2, integer=True)
        check_number("n_epochs", self.n_epochs, 1, integer=True)
        check_number("gae_lambda", self.gae_lambda, 0.0, 1.0)
        check_number("clip_range", self.clip_range, 0.0, low_open=True)
        for name in ("ent_coef", "vf_coef"):
            check_number(name, getattr(self, name), 0.0)
        check_number("max_grad_norm", self.max_grad_norm, 0.0, low_open=True)


@dataclasses.dataclass
class MaskablePPOConfig(PPOConfig):
    """MaskablePPO settings (the same as PPO's)."""


@dataclasses.dataclass
class A2CConfig(_Common):
    """A2C settings (SB3's defaults, with an entropy bonus)."""

    learning_rate: float = 7e-4
    #: Environment steps per update.
    n_steps: int = 5
    gae_lambda: float = 1.0
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5

    def __post_init__(self):
        super().__post_init__()
        check_number("n_steps", self.n_steps, 1, integer=True)
        check_number("gae_lambda", self.gae_lambda, 0.0, 1.0)
        for name in ("ent_coef", "vf_coef"):
            check_number(name, getattr(self, name), 0.0)
        check_number("max_grad_norm", self.max_grad_norm, 0.0, low_open=True)


@dataclasses.dataclass
class _ReplayBuffer(_Common):
    """The replay-buffer settings of SB3's off-policy algorithms (DQN here; SAC, TD3 and
    DDPG in :mod:`agents.continuous`), scaled down from SB3's for budgets of hundreds to
    thousands of samples."""

    learning_rate: float = 1e-3
    buffer_size: int = 50_000
    #: Environment steps of random actions before learning starts.
    learning_starts: int = 64
    batch_size: int = 64
    #: One round of gradient_steps gradient steps every train_freq environment steps.
    train_freq: int = 4
    gradient_steps: int = 1

    def __post_init__(self):
        super().__post_init__()
        for name in ("buffer_size", "batch_size", "train_freq", "gradient_steps"):
            check_number(name, getattr(self, name), 1, integer=True)
        check_number("learning_starts", self.learning_starts, 0, integer=True)


#: :class:`_ReplayBuffer`'s settings, given to SB3 under their own names.
REPLAY_FIELDS = ("buffer_size", "learning_starts", "batch_size", "train_freq", "gradient_steps")


@dataclasses.dataclass
class DQNConfig(_ReplayBuffer):
    """DQN settings, scaled down from SB3's for budgets of hundreds to thousands of samples."""

    #: Environment steps between target-network copies.
    target_update_interval: int = 100
    #: Epsilon falls linearly from exploration_initial_eps to exploration_final_eps over
    #: this fraction of the budget's samples, then stays.
    exploration_fraction: float = 0.5
    exploration_initial_eps: float = 1.0
    exploration_final_eps: float = 0.05
    max_grad_norm: float = 10.0

    def __post_init__(self):
        super().__post_init__()
        check_number("target_update_interval", self.target_update_interval, 1, integer=True)
        check_number("exploration_fraction", self.exploration_fraction, 0.0, 1.0, low_open=True)
        check_number("exploration_initial_eps", self.exploration_initial_eps, 0.0, 1.0)
        check_number("exploration_final_eps", self.exploration_final_eps, 0.0, 1.0)
        check_number("max_grad_norm", self.max_grad_norm, 0.0, low_open=True)


# ---------------------------------------------------------------- training
def _learn(session: Session, algo, env: gym.Env, config: _Common, setup=None, **kwargs: Any) -> None:
    """Train ``algo`` (an SB3 class) on ``env`` (session.env, maybe wrapped) until the
    budget of samples is spent."""
    import torch
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

    class StopAtBudget(BaseCallback):
        def _on_step(self) -> bool:
            return not session.exhausted

    threads = torch.get_num_threads()
    if config.torch_threads:
        torch.set_num_threads(config.torch_threads)
    try:
        venv = DummyVecEnv([lambda: Monitor(env)])
        if config.normalize_reward or config.normalize_obs:
            venv = VecNormalize(venv, norm_obs=config.normalize_obs, norm_reward=config.normalize_reward,
                                gamma=config.gamma)
        model = algo("MlpPolicy", venv, learning_rate=config.learning_rate, gamma=config.gamma,
                     policy_kwargs={"net_arch": list(config.net_arch)}, seed=session.seed,
                     device=config.device, verbose=config.verbose,
                     tensorboard_log=str(session.logdir) if session.logdir is not None else None,
                     **kwargs)
        if setup is not None:
            setup(model)
        model.learn(total_timesteps=session.budget * _STEPS_BOUND_PER_SAMPLE, callback=StopAtBudget())
        if config.save_path:
            model.save(config.save_path)
            if isinstance(venv, VecNormalize):
                venv.save(f"{config.save_path}.vecnormalize.pkl")
    finally:
        torch.set_num_threads(threads)


def _fields(config, names: tuple[str, ...]) -> dict:
    return {name: getattr(config, name) for name in names}


_PPO_FIELDS = ("n_steps", "batch_size", "n_epochs", "gae_lambda", "clip_range", "ent_coef", "vf_coef",
               "max_grad_norm")


def run_ppo(session: Session, config: PPOConfig) -> None:
    from stable_baselines3 import PPO

    _learn(session, PPO, session.env, config, **_fields(config, _PPO_FIELDS))


def run_maskable_ppo(session: Session, config: MaskablePPOConfig) -> None:
    from sb3_contrib import MaskablePPO
    from sb3_contrib.common.wrappers import ActionMasker

    reason = supports_maskable(session.env)  # also when called directly
    if reason is not None:
        raise ValueError(f"MaskablePPO cannot run on {session.env_id}: {reason}")
    env = ActionMasker(LastInfo(session.env), info_action_mask)
    _learn(session, MaskablePPO, env, config, **_fields(config, _PPO_FIELDS))


def run_a2c(session: Session, config: A2CConfig) -> None:
    from stable_baselines3 import A2C

    _learn(session, A2C, session.env, config, **_fields(
        config, ("n_steps", "gae_lambda", "ent_coef", "vf_coef", "max_grad_norm")))


def run_dqn(session: Session, config: DQNConfig) -> None:
    from stable_baselines3 import DQN
    from stable_baselines3.common.utils import LinearSchedule

    env = session.env
    reason = supports_dqn(env)  # also when called directly, not through agents.train
    if reason is not None:
        raise ValueError(f"DQN cannot run on {session.env_id}: {reason}")
    if isinstance(env.action_space, gym.spaces.MultiDiscrete):
        env = FlatActions(env)  # outside the recorder: recorded actions stay MultiDiscrete
    epsilon = LinearSchedule(config.exploration_initial_eps, config.exploration_final_eps,
                             config.exploration_fraction)

    def explore_by_samples(model) -> None:
        # SB3 schedules epsilon over total_timesteps, which is only a bound here.
        model.exploration_schedule = lambda _progress: epsilon(1.0 - session.samples / session.budget)

    _learn(session, DQN, env, config, setup=explore_by_samples, **_fields(
        config, (*REPLAY_FIELDS, "target_update_interval", "max_grad_norm")))
