"""Tabular Q-learning, SARSA and Expected SARSA (NOCS'19) on toy bandits and NoCRouting-v0."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest

import agents
import archgym  # noqa: F401  (registers the environments)
from agents import tabular
from agents.base import RunResult

METHODS = ("q_learning", "sarsa", "expected_sarsa")
#: Reward of action a in state s of the toy bandit; the best actions are 1, 0, 2.
REWARDS = np.array([[-3.0, -1.0, -2.0], [-1.0, -2.0, -3.0], [-2.0, -3.0, -1.0]])
RATES = (0.1, 0.2, 0.3)


class _Bandit(gym.Env):
    """A contextual bandit like NoCRouting-v0: the states (rates) come in order whatever
    the action; reward REWARDS[s, a]; it logs every episode's actions."""

    observation_space = gym.spaces.Box(0.0, 1.0, (1,), np.float32)
    action_space = gym.spaces.Discrete(3)

    def __init__(self):
        self.log: list[list[int]] = []

    def _obs(self):
        return np.array([RATES[min(self.t, 2)]], np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        self.log.append([])
        return self._obs(), {}

    def step(self, action):
        a = int(action)
        self.log[-1].append(a)
        reward = REWARDS[self.t, a]
        info = {"rate": RATES[self.t], "best_action": int(REWARDS[self.t].argmax()),
                "regret": float(REWARDS[self.t].max() - reward)}
        self.t += 1
        return self._obs(), float(reward), self.t == 3, False, info


class _Noise(gym.Env):
    """Continuous random observations: not a small finite state."""

    observation_space = gym.spaces.Box(0.0, 1.0, (1,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return self.np_random.random(1).astype(np.float32), {}

    def step(self, action):
        return self.np_random.random(1).astype(np.float32), 0.0, False, False, {}


gym.register("TabularBandit-test-v0", entry_point=_Bandit)
gym.register("TabularNoise-test-v0", entry_point=_Noise)


@pytest.mark.parametrize("method", METHODS)
def test_greedy_policy_is_optimal_on_a_toy_bandit(method):
    result = agents.train("TabularBandit-test-v0", method, budget=30, seed=0,
                          config={"gamma": 0.0, "alpha": 0.5})
    assert result.samples == 30
    result.validate()
    extras = result.extras
    assert extras["states"] == [[0.1], [0.2], [0.3]]
    assert extras["greedy_actions"] == [1, 0, 2]
    steps = tabular.evaluate_greedy(gym.make("TabularBandit-test-v0"), extras)
    assert [s["action"] for s in steps] == [1, 0, 2]
    assert [s["info"]["regret"] for s in steps] == [0.0, 0.0, 0.0]


def _hand_q(method: str, episodes: list[list[int]], alpha: float, gamma: float, q_init: float):
    """The three update rules written out, replaying the actions the agent took."""
    q = np.full((3, 3), q_init)
    for ep, actions in enumerate(episodes):
        eps = 1.0 / (ep + 1)
        for t, a in enumerate(actions):
            target = REWARDS[t, a]
            if t + 1 < len(actions):
                nxt = q[t + 1]
                target += gamma * {"q_learning": nxt.max(),
                                   "sarsa": nxt[actions[t + 1]],
                                   "expected_sarsa": eps * nxt.mean() + (1 - eps) * nxt.max()}[method]
            q[t, a] += alpha * (target - q[t, a])
    return q


@pytest.mark.parametrize("method", METHODS)
def test_updates_follow_each_methods_rule(method):
    cfg = agents.agent_config(method, {"alpha": 0.5, "gamma": 0.8, "q_init": 1.0})
    session = agents.Session("TabularBandit-test-v0", None, budget=6, seed=3)
    getattr(tabular, f"run_{method}")(session, cfg)
    episodes = session.env.unwrapped.log
    assert len(episodes) == 6
    expected = _hand_q(method, episodes, alpha=0.5, gamma=0.8, q_init=1.0)
    np.testing.assert_allclose(session.extras["q_values"], expected, rtol=0, atol=1e-12)
    visits = np.zeros((3, 3), int)
    for actions in episodes:
        visits[range(3), actions] += 1
    assert session.extras["visits"] == visits.tolist()


def test_the_three_methods_differ_when_gamma_is_positive():
    tables = [agents.train("TabularBandit-test-v0", m, budget=6, seed=3,
                           config={"alpha": 0.5, "gamma": 0.8, "q_init": 1.0}).extras["q_values"]
              for m in METHODS]
    assert tables[0] != tables[1] and tables[1] != tables[2] and tables[0] != tables[2]


def test_noc_routing_run_reports_a_table_per_rate(tmp_path):
    result = agents.train("NoCRouting-v0", "q_learning", budget=2, seed=0)
    assert result.samples == 2
    result.validate()
    env = gym.make("NoCRouting-v0")
    rates = [round(r, 6) for r in env.unwrapped.rates]
    assert result.extras["states"] == [[r] for r in rates]
    assert np.asarray(result.extras["q_values"]).shape == (6, 4)
    loaded = RunResult.load_json(result.save_json(tmp_path / "run.json"))
    assert loaded.extras == json.loads(json.dumps(result.extras))
    steps = tabular.evaluate_greedy(env, loaded.extras)
    assert [s["info"]["rate"] for s in steps] == list(env.unwrapped.rates)
    for step, action in zip(steps, result.extras["greedy_actions"], strict=True):
        assert step["action"] == action
        assert step["info"]["regret"] == env.unwrapped.regret(step["obs"], action) >= 0.0


def test_same_seed_same_run():
    runs = [agents.train("TabularBandit-test-v0", "expected_sarsa", budget=8, seed=s)
            for s in (4, 4, 5)]
    assert runs[0].history == runs[1].history and runs[0].extras == runs[1].extras
    assert runs[0].extras != runs[2].extras


@pytest.mark.parametrize("env_id,words", [("HWResource-v0", "Discrete action space"),
                                          ("NAS-Sequential-v0", "continuous values")])
def test_refusals_are_explained(env_id, words):
    with pytest.raises(ValueError, match=f"cannot run on {env_id}: .*{words}"):
        agents.train(env_id, "sarsa", budget=2, seed=0)


def test_a_continuous_observation_is_stopped_at_max_states():
    with pytest.raises(ValueError, match="more than max_states=5 distinct observations"):
        agents.train("TabularNoise-test-v0", "q_learning", budget=2, seed=0,
                     config={"max_states": 5})


@pytest.mark.parametrize("overrides,words", [
    ({"alpha": 0.0}, "alpha must be"), ({"gamma": 1.5}, "gamma must be"),
    ({"epsilon": float("nan")}, "epsilon must be"), ({"decimals": -1}, "decimals must be"),
    ({"epsilon_schedule": "linear"}, "allowed: inverse, constant"),
])
def test_bad_settings_are_refused(overrides, words):
    with pytest.raises(ValueError, match=words):
        agents.agent_config("q_learning", overrides)


def test_greedy_policy_refuses_unknown_states_and_foreign_extras():
    extras = {"states": [[0.1]], "greedy_actions": [2], "decimals": 6}
    policy = tabular.greedy_policy(extras)
    assert policy(np.array([0.1], np.float32)) == 2
    with pytest.raises(ValueError, match="never visited"):
        policy(np.array([0.2], np.float32))
    with pytest.raises(ValueError, match="not a tabular agent's extras"):
        tabular.greedy_policy({"best": 1})
