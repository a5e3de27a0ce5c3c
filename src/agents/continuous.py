"""stable-baselines3 SAC, TD3 and DDPG on discrete design spaces, through a continuous action wrapper.

These algorithms act in a continuous Box space.  ConfuciuX (Kao, Jeong and
Krishna, MICRO 2020, Section VI; public code github.com/maestro-project/confuciux,
``src/Other_RLs/main.py``) compared its REINFORCE agent with stable-baselines'
SAC, TD3 and DDPG run exactly this way: the env's two per-layer choices (PE
level, buffer level, 12 levels each) became a Box action, the policy's output
in [-1, 1] was rescaled to [0, 1] and scaled to a level index by truncation,
``int(u * 12)`` clipped to 0..11.  The same MlpPolicy of (512, 512, 512) was
used (set ``net_arch``), with Ornstein-Uhlenbeck exploration noise of sigma 0.05
for DDPG and Gaussian noise of sigma 0.05 for TD3 (our defaults), rewards
normalised by VecNormalize (``normalize_reward``, on by default).

:class:`BoxActions` is that mapping, for any one-dimensional MultiDiscrete (or
Discrete) space.  Component i of a Box action ``a`` in [-1, 1]^n selects choice

    k_i = min(floor((a_i + 1) / 2 * nvec_i), nvec_i - 1)

(plus the space's ``start``), computed in float64 from the given value: choice k
covers [-1 + 2k/nvec_i, -1 + 2(k+1)/nvec_i), equal widths, and the last one
also takes a_i = 1.  With 12 choices, -1 selects 0, 0 selects 6 and 1 selects 11.
The mapping assumes the choices of a dimension are ordered (neighbouring
indices are similar designs), as HWResource's PE and buffer levels and Quant's
bit widths are; on unordered choices (sparse formats, routing algorithms) it
still runs, but imposes an order the env does not have.

The wrapper sits outside the recorder (as :class:`agents.sb3.FlatActions`
does for DQN), so the recorded actions are the env's own MultiDiscrete ones
and replay exactly.  Training, the budget of samples and the shared settings
(learning rate, gamma, net_arch, reward normalisation, threads) are
:mod:`agents.sb3`'s.
"""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np

from agents import sb3
from agents.base import Session, check_number


# ------------------------------------------------------------------ wrapper
class BoxActions(gym.ActionWrapper):
    """A Discrete or one-dimensional MultiDiscrete env seen through Box(-1, 1, (n,)).

    See the module's docstring for the mapping.  An action that is not a
    finite vector of n values in [-1, 1] is refused with a ValueError.
    """

    def __init__(self, env: gym.Env):
        super().__init__(env)
        space = env.action_space
        if isinstance(space, gym.spaces.Discrete):
            self.discrete, nvec, start = True, [space.n], [space.start]
        elif isinstance(space, gym.spaces.MultiDiscrete) and space.nvec.ndim == 1:
            self.discrete, nvec, start = False, space.nvec, space.start
        else:
            raise ValueError(f"BoxActions needs a Discrete or one-dimensional MultiDiscrete "
                             f"space, got {space}")
        self.nvec = np.asarray(nvec, dtype=np.int64)
        self.start = np.asarray(start, dtype=np.int64)
        self.dtype = space.dtype
        self.action_space = gym.spaces.Box(-1.0, 1.0, (len(self.nvec),), np.float32)

    def action(self, action):
        a = np.asarray(action, dtype=np.float64)
        if a.shape != self.action_space.shape or not np.all(np.isfinite(a)) or np.any(np.abs(a) > 1.0):
            raise ValueError(f"continuous action {action!r} out of range: must be "
                             f"{len(self.nvec)} finite values in [-1, 1]")
        index = np.minimum(np.floor((a + 1.0) / 2.0 * self.nvec), self.nvec - 1).astype(np.int64)
        choice = self.start + index
        return int(choice[0]) if self.discrete else choice.astype(self.dtype)


# ------------------------------------------------------------------ supports
def supports(env: gym.Env) -> str | None:
    """SAC, TD3, DDPG: a flat observation space and a Discrete or one-dimensional
    MultiDiscrete action space without action masks (mapped from a Box by BoxActions)."""
    if not isinstance(env.observation_space, sb3._OBS_SPACES):
        return ("needs a flat observation space (Box, Discrete, MultiDiscrete or MultiBinary) for "
                f"SB3's MlpPolicy, got {env.observation_space}")
    space = env.action_space
    if not (isinstance(space, gym.spaces.Discrete)
            or (isinstance(space, gym.spaces.MultiDiscrete) and space.nvec.ndim == 1)):
        return ("maps a continuous action onto a Discrete or one-dimensional MultiDiscrete "
                f"action space, got {space}")
    if callable(getattr(env.unwrapped, "action_masks", None)):
        return "cannot honour action masks (a continuous action maps to any choice); use maskable_ppo"
    return None


# ------------------------------------------------------------------- configs
@dataclasses.dataclass
class _OffPolicy(sb3._ReplayBuffer):
    """Settings shared by SAC, TD3 and DDPG: agents.sb3's replay buffer (as DQN's), learning
    from the 100th step with one gradient step per environment step, and soft target updates."""

    #: Environment steps of uniformly random Box actions before learning starts.
    learning_starts: int = 100
    train_freq: int = 1
    #: Soft update coefficient of the target networks.
    tau: float = 0.005

    def __post_init__(self):
        super().__post_init__()
        check_number("tau", self.tau, 0.0, 1.0, low_open=True)


_OFF_POLICY_FIELDS = (*sb3.REPLAY_FIELDS, "tau")


@dataclasses.dataclass
class SACConfig(_OffPolicy):
    """SAC settings (entropy coefficient learned, SB3's "auto")."""

    learning_rate: float = 3e-4


@dataclasses.dataclass
class TD3Config(_OffPolicy):
    """TD3 settings: Gaussian exploration noise of ConfuciuX's sigma."""

    #: Standard deviation of the Gaussian noise added to every action (in [-1, 1] units).
    action_sigma: float = 0.05
    #: The actor and the targets are updated once per policy_delay critic updates.
    policy_delay: int = 2
    #: Target policy smoothing: noise deviation and its clip.
    target_policy_noise: float = 0.2
    target_noise_clip: float = 0.5

    def __post_init__(self):
        super().__post_init__()
        check_number("action_sigma", self.action_sigma, 0.0)
        check_number("policy_delay", self.policy_delay, 1, integer=True)
        check_number("target_policy_noise", self.target_policy_noise, 0.0)
        check_number("target_noise_clip", self.target_noise_clip, 0.0)


@dataclasses.dataclass
class DDPGConfig(_OffPolicy):
    """DDPG settings: Ornstein-Uhlenbeck exploration noise of ConfuciuX's sigma."""

    #: Standard deviation of the Ornstein-Uhlenbeck noise added to every action.
    action_sigma: float = 0.05

    def __post_init__(self):
        super().__post_init__()
        check_number("action_sigma", self.action_sigma, 0.0)


# ---------------------------------------------------------------- training
def _run(session: Session, algo, config: _OffPolicy, noise=None, **kwargs) -> None:
    """Train ``algo`` through BoxActions; ``noise``: an SB3 action-noise class, given
    zero mean and ``config.action_sigma`` per action component."""
    reason = supports(session.env)  # also when called directly, not through agents.train
    if reason is not None:
        raise ValueError(f"{algo.__name__} cannot run on {session.env_id}: {reason}")
    env = BoxActions(session.env)  # outside the recorder: recorded actions stay the env's
    if noise is not None:
        n = env.action_space.shape[0]
        kwargs["action_noise"] = noise(np.zeros(n), np.full(n, config.action_sigma))
    sb3._learn(session, algo, env, config, **sb3._fields(config, _OFF_POLICY_FIELDS), **kwargs)


def run_sac(session: Session, config: SACConfig) -> None:
    from stable_baselines3 import SAC

    _run(session, SAC, config)


def run_td3(session: Session, config: TD3Config) -> None:
    from stable_baselines3 import TD3
    from stable_baselines3.common.noise import NormalActionNoise

    _run(session, TD3, config, NormalActionNoise, **sb3._fields(
        config, ("policy_delay", "target_policy_noise", "target_noise_clip")))


def run_ddpg(session: Session, config: DDPGConfig) -> None:
    from stable_baselines3 import DDPG
    from stable_baselines3.common.noise import OrnsteinUhlenbeckActionNoise

    _run(session, DDPG, config, OrnsteinUhlenbeckActionNoise)
