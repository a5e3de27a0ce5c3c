"""SAC, TD3 and DDPG through the continuous action wrapper (agents.continuous.BoxActions)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import agents
import archgym  # noqa: F401  (registers the environments)
from agents import continuous


class _Choices(gym.Env):
    """One step; the action is echoed in the info (spaces set per test)."""

    observation_space = gym.spaces.Box(0.0, 1.0, (1,), np.float32)

    def __init__(self, action_space):
        self.action_space = action_space

    def reset(self, *, seed=None, options=None):
        return np.zeros(1, np.float32), {}

    def step(self, action):
        return np.zeros(1, np.float32), 0.0, True, False, {"action": action}


def test_box_action_maps_to_equal_bins_boundaries_included():
    env = continuous.BoxActions(_Choices(gym.spaces.MultiDiscrete([4, 2])))
    assert env.action_space == gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
    # 4 choices: bins [-1, -0.5), [-0.5, 0), [0, 0.5), [0.5, 1]; 2 choices: [-1, 0), [0, 1].
    below = np.nextafter(np.float32(0.5), np.float32(0.0))  # the float32 just below 0.5
    cases = {(-1.0, -1.0): [0, 0], (-0.5, 0.0): [1, 1], (-0.5000001, -1e-7): [0, 0],
             (0.0, 1.0): [2, 1], (0.5, 0.25): [3, 1], (below, -0.25): [2, 0],
             (1.0, 0.9999999): [3, 1]}
    for box, choice in cases.items():
        mapped = env.action(np.array(box, dtype=np.float32))  # SB3 hands float32 actions
        assert mapped.tolist() == choice, box
        assert mapped.dtype == np.int64
    assert env.action([-1.0, 1.0]).tolist() == [0, 1]  # float64 and lists too


def test_twelve_levels_as_confuciux_ran_them():
    # ConfuciuX: u = (a + 1) / 2 in [0, 1], level = int(u * 12) clipped to 0..11.
    env = continuous.BoxActions(gym.make("HWResource-v0"))
    grid = np.linspace(-1.0, 1.0, 241)
    levels = [env.action(np.array([a, -a])).tolist() for a in grid]
    assert levels[0] == [0, 11] and levels[120] == [6, 6] and levels[-1] == [11, 0]
    assert [lv[0] for lv in levels] == [min(int((a + 1) / 2 * 12), 11) for a in grid]
    assert sorted({lv[0] for lv in levels}) == list(range(12))


def test_discrete_and_shifted_spaces_keep_their_start():
    env = continuous.BoxActions(_Choices(gym.spaces.Discrete(3, start=5)))
    assert env.action_space.shape == (1,)
    assert [env.action(np.array([a])) for a in (-1.0, -0.34, -0.33, 0.33, 0.34, 1.0)] == [5, 5, 6, 6, 7, 7]
    assert isinstance(env.action(np.array([0.0])), int)
    env = continuous.BoxActions(_Choices(gym.spaces.MultiDiscrete([2, 3], start=[-1, 10])))
    assert env.action(np.array([-1.0, 1.0])).tolist() == [-1, 12]


@pytest.mark.parametrize("bad", [[0.0, np.nan], [0.0, 1.0001], [-1.5, 0.0], [0.0], [0.0, 0.0, 0.0]])
def test_bad_continuous_actions_are_refused(bad):
    env = continuous.BoxActions(_Choices(gym.spaces.MultiDiscrete([4, 2])))
    with pytest.raises(ValueError, match=r"must be 2 finite values in \[-1, 1\]"):
        env.action(np.array(bad))


def test_wrapper_refuses_spaces_it_cannot_map():
    with pytest.raises(ValueError, match="Discrete or one-dimensional MultiDiscrete"):
        continuous.BoxActions(_Choices(gym.spaces.Box(0.0, 1.0, (2,))))
    with pytest.raises(ValueError, match="one-dimensional MultiDiscrete"):
        continuous.BoxActions(_Choices(gym.spaces.MultiDiscrete([[2, 2], [2, 2]])))


# Tiny budgets: HWResource-v0's 52-step episodes (156 steps: past learning_starts, so the
# networks are updated), Quant-v0's few-step ones, one-step NAS-v0.
RUNS = [(agent, env_id, budget) for agent in ("sac", "td3", "ddpg")
        for env_id, budget in (("HWResource-v0", 3), ("Quant-v0", 3), ("NAS-v0", 5))]


@pytest.mark.parametrize("agent,env_id,budget", RUNS, ids=[f"{a}-{e}" for a, e, _ in RUNS])
def test_agent_spends_its_budget_and_records_the_envs_actions(agent, env_id, budget):
    result = agents.train(env_id, agent, budget=budget, seed=0)
    assert result.samples == budget and len(result.history) == budget
    space = gym.make(env_id).action_space
    assert all(isinstance(a, list) and space.contains(np.asarray(a, dtype=space.dtype))
               for a in result.best_actions)  # the env's MultiDiscrete, not the Box
    result.validate()


def test_same_seed_same_history():
    runs = [agents.train("NAS-v0", "td3", budget=6, seed=s, config={"learning_starts": 2})
            for s in (3, 3, 4)]
    assert runs[0].history == runs[1].history and runs[0].best_actions == runs[1].best_actions
    assert runs[0].history != runs[2].history


@pytest.mark.parametrize("agent", ["sac", "td3", "ddpg"])
def test_masked_envs_are_refused(agent):
    with pytest.raises(ValueError, match="cannot run on NAS-Sequential-v0: .*action masks"):
        agents.train("NAS-Sequential-v0", agent, budget=2, seed=0)


@pytest.mark.parametrize("agent,overrides,words", [
    ("sac", {"tau": 0.0}, "tau must be"),
    ("td3", {"action_sigma": -0.1}, "action_sigma must be"),
    ("ddpg", {"learning_starts": -1}, "learning_starts must be"),
    ("td3", {"policy_delay": 0}, "policy_delay must be"),
    ("sac", {"net_arch": "512,512,512"}, None),
])
def test_configs_check_and_parse(agent, overrides, words):
    if words is None:
        assert agents.agent_config(agent, overrides).net_arch == (512, 512, 512)
        return
    with pytest.raises(ValueError, match=words):
        agents.agent_config(agent, overrides)
