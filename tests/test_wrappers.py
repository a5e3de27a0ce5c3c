"""archgym.wrappers: the action-flattening wrapper, and plain SB3 DQN on every family through it."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import archgym  # noqa: F401  (registers the environments)
from archgym.wrappers import FlatActions


def test_flat_actions_roundtrip_covers_the_joint_space():
    env = FlatActions(gym.make("SparseFormat-v0"))
    assert env.action_space == gym.spaces.Discrete(9 * 9 * 3 * 3)
    joint = [tuple(env.action(i).tolist()) for i in range(env.action_space.n)]
    assert joint == list(np.ndindex(9, 9, 3, 3))  # row-major, every joint action once
    assert all(env.reverse_action(np.array(a)) == i for i, a in enumerate(joint))
    with pytest.raises(ValueError, match="out of range"):
        env.action(729)


def test_flat_actions_keeps_the_space_start():
    inner = gym.make("SparseFormat-v0")
    inner.action_space = gym.spaces.MultiDiscrete([2, 3], start=[5, -1])
    env = FlatActions(inner)
    assert [env.action(i).tolist() for i in range(6)] == [[5, -1], [5, 0], [5, 1],
                                                         [6, -1], [6, 0], [6, 1]]
    assert env.reverse_action([6, 0]) == 4


def test_flat_actions_passes_a_discrete_space_through():
    env = FlatActions(gym.make("NoCRouting-v0", rates=(0.1,)))
    assert env.action_space == gym.spaces.Discrete(4)
    assert [int(env.action(i)) for i in range(4)] == [0, 1, 2, 3] and env.reverse_action(2) == 2
    with pytest.raises(ValueError, match="Discrete or one-dimensional MultiDiscrete"):
        FlatActions(_BoxActions())


class _BoxActions(gym.Env):
    observation_space = gym.spaces.Box(0, 1, (1,))
    action_space = gym.spaces.Box(0, 1, (2,))


#: One id per family, as a user would pick it.
FAMILIES = ["HWResource-v0", "NoCRouting-v0", "SparseFormat-v0", "Quant-v0", "NAS-v0"]


@pytest.mark.parametrize("env_id", FAMILIES)
def test_plain_sb3_dqn_learns_and_acts_through_the_wrapper(env_id):
    from stable_baselines3 import DQN

    env = FlatActions(gym.make(env_id))
    model = DQN("MlpPolicy", env, learning_starts=8, batch_size=8, train_freq=4, buffer_size=200,
                policy_kwargs={"net_arch": [16]}, seed=0, device="cpu")
    model.learn(total_timesteps=24)
    obs, _ = env.reset(seed=1)
    action, _ = model.predict(obs, deterministic=True)
    assert env.action_space.contains(action)
    _, reward, _, _, info = env.step(action)
    assert np.isfinite(reward) and isinstance(info, dict)
