"""Search baselines: random, simulated annealing, TPE and GP-based BO (optuna)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from agent_helpers import MaskCheck

import agents
import archgym  # noqa: F401  (registers the environments)
from agents import baselines

#: The toy's optimum: the action of each of its 3 steps.
TARGET = np.array([[3, 0], [1, 2], [0, 3]])


class _Target(gym.Env):
    """3 steps of MultiDiscrete([4, 4]); reward -|action - TARGET[t]|_1, so the optimum
    (return 0) is one design among 4**6 = 4096.  The final info reports the total
    ``cost`` (= -return) and is infeasible when the cost exceeds 8."""

    observation_space = gym.spaces.Box(0.0, 1.0, (1,), np.float32)
    action_space = gym.spaces.MultiDiscrete([4, 4])

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t, self.cost = 0, 0
        return np.zeros(1, np.float32), {}

    def step(self, action):
        distance = int(np.abs(np.asarray(action) - TARGET[self.t]).sum())
        self.cost += distance
        self.t += 1
        done = self.t == len(TARGET)
        info = {"cost": self.cost, "feasible": self.cost <= 8} if done else {}
        return np.full(1, self.t / 3, np.float32), -float(distance), done, False, info


gym.register("SearchTarget-test-v0", entry_point=_Target)

REAL_ENVS = [("HWResource-v0", 3), ("NoCRouting-v0", 1), ("Quant-v0", 4), ("NAS-v0", 12),
             ("NAS-Sequential-v0", 12), ("SparseFormat-v0", 12)]


@pytest.mark.parametrize("agent", ["sa", "tpe", "gp_bo"])
@pytest.mark.parametrize("env_id,budget", REAL_ENVS, ids=[e for e, _ in REAL_ENVS])
def test_search_spends_its_budget_and_replays(agent, env_id, budget):
    result = agents.train(env_id, agent, budget=budget, seed=0)
    assert result.samples == budget and len(result.history) == budget
    result.validate()


@pytest.mark.parametrize("fitness", ["return", "min:cost"])
@pytest.mark.parametrize("agent", ["sa", "tpe"])
def test_search_finds_the_toy_optimum_that_random_misses(agent, fitness):
    # With "min:cost" many early designs are infeasible (-inf), which both must survive.
    for seed in (0, 1):
        found = agents.train("SearchTarget-test-v0", agent, budget=150, seed=seed,
                             score=fitness, config={"fitness": fitness})
        assert found.best_return == 0.0 and found.best_info["cost"] == 0
        if fitness != "return":
            assert any(row["score"] == -np.inf for row in found.history)
        found.validate()
        lucky = agents.train("SearchTarget-test-v0", "random", budget=150, seed=seed)
        assert lucky.best_return < 0.0


@pytest.mark.parametrize("agent", ["sa", "tpe"])
def test_same_seed_same_history(agent):
    runs = [agents.train("SearchTarget-test-v0", agent, budget=30, seed=s) for s in (7, 7, 8)]
    assert runs[0].history == runs[1].history and runs[0].best_actions == runs[1].best_actions
    assert runs[0].history != runs[2].history


def test_session_fitness_ranks_by_the_run_score():
    result = agents.train("SearchTarget-test-v0", "sa", budget=40, seed=0, score="min:cost",
                          config={"fitness": "session"})
    assert result.best_score == -result.best_info["cost"]
    assert result.best_score == max(row["score"] for row in result.history)


def test_neighbour_redraws_exactly_one_gene():
    rng = np.random.default_rng(0)
    n = np.array([1, 5, 3])  # the first dimension has one choice: it never changes
    design = np.array([[0, 4, 2], [0, 0, 0]])
    for _ in range(200):
        child = baselines.neighbour(design, n, rng)
        changed = np.argwhere(child != design)
        assert len(changed) == 1 and changed[0][1] in (1, 2)
        assert (child >= 0).all() and (child < n).all()
    assert (baselines.neighbour(design[:, :1], n[:1], rng) == design[:, :1]).all()


def test_temperature_falls_geometrically():
    cfg = baselines.SAConfig(t_start=0.5, t_end=0.005)
    temps = [baselines.temperature(cfg, k, 5) for k in range(5)]
    assert temps[0] == pytest.approx(0.5) and temps[-1] == pytest.approx(0.005)
    np.testing.assert_allclose(np.array(temps[1:]) / temps[:-1], 0.01 ** 0.25)


def test_tpe_offers_only_unmasked_choices():
    env = MaskCheck(gym.make("NAS-Sequential-v0"))
    agents.train(env, "tpe", budget=25, seed=0)
    assert any((~m).any() for m, _ in env.seen)
    assert all(m[a] for m, a in env.seen)


def test_tpe_is_silent_and_writes_nothing(tmp_path, monkeypatch, capfd):
    import optuna

    monkeypatch.chdir(tmp_path)
    verbosity = optuna.logging.get_verbosity()
    agents.train("SearchTarget-test-v0", "tpe", budget=15, seed=0, config={"categorical": False})
    out, err = capfd.readouterr()
    assert out == "" and "Trial" not in err
    assert list(tmp_path.iterdir()) == []
    assert optuna.logging.get_verbosity() == verbosity


@pytest.mark.parametrize("agent,overrides,words", [
    ("sa", {"t_start": 0.0}, "t_start must be"),
    ("sa", {"t_end": 0.5}, r"t_end must be a finite number in \(0, 0.1\]"),
    ("sa", {"fitness": "cost"}, "unknown score"),
    ("tpe", {"n_startup_trials": 0}, "n_startup_trials must be"),
    ("tpe", {"fitness": "max:"}, "unknown score"),
    ("tpe", {"samples": 3}, "no setting samples"),
    ("gp_bo", {"n_startup_trials": 0}, "n_startup_trials must be"),
    ("gp_bo", {"categorical": True}, "no setting categorical"),
])
def test_bad_settings_are_refused(agent, overrides, words):
    with pytest.raises(ValueError, match=words):
        agents.agent_config(agent, overrides)


class _BoxActions(gym.Env):
    observation_space = gym.spaces.Box(0.0, 1.0, (1,), np.float32)
    action_space = gym.spaces.Box(0.0, 1.0, (2,), np.float32)


gym.register("SearchBox-test-v0", entry_point=_BoxActions)


@pytest.mark.parametrize("agent", ["sa", "tpe", "gp_bo"])
def test_box_actions_are_refused(agent):
    with pytest.raises(ValueError, match="cannot run on SearchBox-test-v0: .*Discrete or MultiDiscrete"):
        agents.train("SearchBox-test-v0", agent, budget=2, seed=0)


def test_gp_bo_finds_the_toy_optimum_and_survives_infeasible_designs():
    # Under "min:cost" the early designs are often infeasible (-inf), told to the GP as the
    # worst feasible one; 20 GP trials after 10 random ones find the optimum among 4096
    # designs, where random search at the same budget stays 3 away.
    found = agents.train("SearchTarget-test-v0", "gp_bo", budget=30, seed=0, score="min:cost",
                         config={"fitness": "min:cost"})
    assert found.best_info["cost"] == 0 and any(row["score"] == -np.inf for row in found.history)
    found.validate()
    lucky = agents.train("SearchTarget-test-v0", "random", budget=30, seed=0, score="min:cost")
    assert lucky.best_info["cost"] == 3
    runs = [agents.train("SearchTarget-test-v0", "gp_bo", budget=12, seed=s) for s in (7, 7, 8)]
    assert runs[0].history == runs[1].history and runs[0].history != runs[2].history


def test_gp_bo_relaxes_each_choice_to_equal_intervals():
    class Fixed:  # a trial that suggests the same real number for every parameter
        def __init__(self, x):
            self.x = x

        def suggest_float(self, name, low, high):
            assert (low, high) == (0.0, 4.0) or (low, high) == (0.0, 2.0)
            return min(self.x, high)

    designs = baselines.Designs(gym.spaces.MultiDiscrete([4, 2], start=[0, 3]))
    picks = [baselines._suggest_action(Fixed(x), 0, designs, {}, "real").tolist()
             for x in (0.0, 0.999, 1.0, 2.5, 3.999, 4.0)]
    assert picks == [[0, 3], [0, 3], [1, 4], [2, 4], [3, 4], [3, 4]]
