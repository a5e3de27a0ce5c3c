"""Every registered env pickles (and deep-copies) to an env that continues exactly as the original."""

from __future__ import annotations

import copy
import pickle

import gymnasium as gym
import numpy as np
import pytest

import archgym  # noqa: F401  (registers the environments)

IDS = sorted(i for i, spec in gym.registry.items()
             if isinstance(spec.entry_point, str) and spec.entry_point.startswith("archgym."))


def continue_with(env, actions):
    out = []
    for a in actions:
        obs, reward, terminated, truncated, info = env.step(a)
        out.append((obs.tolist(), reward, terminated, truncated, sorted(info)))
        if terminated or truncated:
            obs, info = env.reset()
            out.append((obs.tolist(), sorted(info)))
    return out


@pytest.mark.parametrize("env_id", IDS)
def test_round_trip_continues_the_episode(env_id):
    env = gym.make(env_id)
    env.action_space.seed(7)
    actions = [env.action_space.sample() for _ in range(4)]
    env.reset(seed=11)
    for a in actions[:2]:  # mid-episode (or a new one after a one-step episode)
        if env.step(a)[2:4] != (False, False):
            env.reset()
    clone, deep = pickle.loads(pickle.dumps(env)), copy.deepcopy(env)
    assert clone.unwrapped.spec.id == env_id
    expected = continue_with(env, actions[2:])
    assert continue_with(clone, actions[2:]) == expected
    assert continue_with(deep, actions[2:]) == expected


def test_a_fresh_env_pickles_and_resets_alike():
    env = gym.make("HWResource-v0").unwrapped
    clone = pickle.loads(pickle.dumps(env))
    a, b = env.reset(seed=3)[0], clone.reset(seed=3)[0]
    np.testing.assert_array_equal(a, b)


def test_unseeded_reset_round_trips():
    """An episode begun without a seed continues identically too (the generator's state is kept)."""
    env = gym.make("NoCRouting-Persistent-v0", max_steps=4, cycles_per_step=100, warmup_cycles=100)
    env.reset()
    env.step(1)
    clone = pickle.loads(pickle.dumps(env))
    assert continue_with(clone, [2, 0]) == continue_with(env, [2, 0])
