"""The agents' common interface: budget counting, best-design bookkeeping, the run record."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest

import agents
import archgym  # noqa: F401  (registers the environments)
from agents.base import BudgetExhausted, RunResult, Session, parse_score


class _Countdown(gym.Env):
    """Episodes of ``length`` steps; reward = action; the final info reports the sum."""

    observation_space = gym.spaces.Box(0.0, 1.0, (1,), np.float32)
    action_space = gym.spaces.Discrete(3)

    def __init__(self, length: int = 3):
        self.length = length

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t, self.total = 0, 0
        return np.zeros(1, np.float32), {}

    def step(self, action):
        self.t += 1
        self.total += int(action)
        done = self.t == self.length
        info = {"total": self.total, "noise": float(self.np_random.random())}
        if done and self.total == 0:
            info["reason"] = "all zero"
        return np.zeros(1, np.float32), float(action), done, False, info


gym.register("Countdown-test-v0", entry_point=_Countdown)


def test_recorder_counts_complete_episodes_and_keeps_the_best():
    s = Session("Countdown-test-v0", None, budget=4, seed=0)
    designs = [[0, 0, 0], [1, 2, 0], [2, 2, 2], [1, 1, 1]]
    for d in designs:
        s.evaluate(d)
    assert s.exhausted and s.samples == 4
    best = s.env.best
    assert best["actions"] == [2, 2, 2] and best["return"] == 6.0 and best["info"]["total"] == 6
    assert [r["return"] for r in s.env.history] == [0.0, 3.0, 6.0, 3.0]
    assert [r["best_score"] for r in s.env.history] == [0.0, 3.0, 6.0, 6.0]
    with pytest.raises(BudgetExhausted):
        s.evaluate([1, 1, 1])
    assert s.samples == 4


def test_episodes_after_the_budget_are_not_recorded():
    s = Session("Countdown-test-v0", None, budget=1, seed=0)
    s.evaluate([0, 1, 0])
    env = s.env
    env.reset()  # an SB3-style autoreset after the budget: played, not counted
    for _ in range(3):
        env.step(2)
    assert s.samples == 1 and len(env.history) == 1 and env.best["return"] == 1.0


def test_partial_episode_is_not_a_sample():
    s = Session("Countdown-test-v0", None, budget=2, seed=0)
    s.env.reset()
    s.env.step(1)
    assert s.samples == 0 and s.env.best is None


def test_score_specs():
    assert parse_score("return")(3.0, {}) == 3.0
    assert parse_score("min:total")(0.0, {"total": 5}) == -5.0
    assert parse_score("max:total")(0.0, {"total": 5}) == 5.0
    assert parse_score("max:total")(0.0, {"total": 5, "reason": "over"}) == -math.inf
    assert parse_score("max:total")(0.0, {"total": 5, "feasible": False}) == -math.inf
    for bad in ("best", "min:", "median:total"):
        with pytest.raises(ValueError, match="allowed"):
            parse_score(bad)
    with pytest.raises(KeyError, match="no 'cycles'"):
        parse_score("min:cycles")(0.0, {"total": 1})


def test_score_ranks_the_reported_design_not_the_return():
    s = Session("Countdown-test-v0", None, budget=3, seed=0, score="min:total")
    for d in ([0, 0, 0], [2, 2, 2], [1, 0, 0]):  # the first is infeasible ("reason")
        s.evaluate(d)
    assert s.env.best["actions"] == [1, 0, 0]
    assert [r["score"] for r in s.env.history] == [-math.inf, -6.0, -1.0]


def test_play_grows_a_design_to_the_episode_length():
    s = Session("Countdown-test-v0", {"length": 5}, budget=2, seed=0)
    _, _, played = s.play([])
    assert len(played) == 5
    _, _, again = s.play(played[:2])
    assert again[:2] == played[:2] and len(again) == 5


def test_result_replays_and_detects_tampering(tmp_path):
    result = agents.train("HWResource-AlexNet-v0", "random", budget=6, seed=3,
                          env_kwargs={"reward_mode": "plain"}, score="min:total_cycles")
    assert result.samples == 6 and len(result.history) == 6
    assert result.best_score == -result.best_info["total_cycles"]
    path = result.save_json(tmp_path / "r.json")
    loaded = RunResult.load_json(path)
    assert loaded == result
    loaded.validate()
    data = json.loads(path.read_text())
    first = data["best_actions"][0]
    data["best_actions"][0] = [(first[0] + 1) % 12, first[1]]
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="differ|return"):
        RunResult.load_json(path).validate()
    csv_lines = result.save_history_csv(tmp_path / "h.csv").read_text().splitlines()
    assert csv_lines[0] == "sample,return,score,best_score" and len(csv_lines) == 7


def test_replay_uses_the_recorded_reset_seed():
    # The env's info carries a draw from its own RNG: the replay must see the same one.
    result = agents.train("Countdown-test-v0", "random", budget=5, seed=1)
    _, figs = result.replay()
    assert figs["noise"] == result.best_info["noise"]
    result.validate()


def test_same_seed_same_history_other_seed_differs():
    a = agents.train("NAS-v0", "random", budget=8, seed=5)
    b = agents.train("NAS-v0", "random", budget=8, seed=5)
    c = agents.train("NAS-v0", "random", budget=8, seed=6)
    assert a.history == b.history and a.best_actions == b.best_actions
    assert a.history != c.history


def test_a_made_env_can_be_passed_and_replays_from_its_spec():
    env = gym.make("HWResource-VGG16-v0", reward_mode="plain")
    result = agents.train(env, "random", budget=3, seed=0)
    assert result.env_id == "HWResource-VGG16-v0" and result.env_kwargs["reward_mode"] == "plain"
    result.validate()


def test_bad_input_is_refused_clearly():
    with pytest.raises(ValueError, match="unknown agent 'nope'.*random"):
        agents.train("NAS-v0", "nope", budget=3)
    for budget in (0, -2, 2.5):
        with pytest.raises(ValueError, match="positive integer"):
            agents.train("NAS-v0", "random", budget=budget)
    with pytest.raises(ValueError, match="has no setting lr"):
        agents.train("NAS-v0", "random", budget=3, config={"lr": 1})
    with pytest.raises(gym.error.Error):
        agents.train("NoSuchEnv-v0", "random", budget=3)


def test_box_action_env_is_refused_by_search_agents():
    with pytest.raises(ValueError, match="cannot run on Pendulum-v1.*Discrete"):
        agents.train("Pendulum-v1", "random", budget=2)


def test_import_agents_is_light():
    code = ("import sys, agents; heavy = [m for m in ('torch', 'stable_baselines3', 'optuna', 'ray') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
