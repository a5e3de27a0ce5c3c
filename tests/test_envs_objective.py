"""Every env's final info carries the design's objective, and the default return ranks designs by it.

For each family, random designs are played from one reset seed (same workload,
traffic or budget); for every pair of feasible designs, the order of their
returns is the order of their objectives (the sense applied), ties included.
"""

from __future__ import annotations

import itertools

import gymnasium as gym
import numpy as np
import pytest

import archgym  # noqa: F401  (registers the environments)

CASES = [
    ("HWResource-v0", {}, 12),
    ("HWResource-DataflowChoice-v0", {"workload": "alexnet"}, 12),
    ("NoCRouting-v0", {"rates": (0.1, 0.3)}, 10),
    ("NoCRouting-Persistent-v0", {"max_steps": 3, "cycles_per_step": 200, "warmup_cycles": 200}, 8),
    ("NoCRouting-PerRouter-v0", {"k": 4, "max_steps": 3, "cycles_per_step": 200, "warmup_cycles": 200}, 8),
    ("NoCAdaptive-v0", {"max_steps": 3, "cycles_per_step": 200, "warmup_cycles": 200}, 8),
    ("SparseFormat-v0", {}, 20),
    ("SparseFormat-Network-v0", {}, 10),
    ("Quant-v0", {}, 10),
    ("Quant-OneShot-v0", {"over_budget": "terminate"}, 20),
    ("NAS-v0", {}, 20),
    ("NAS-Sequential-v0", {}, 20),
]


def play(env, seed):
    env.reset(seed=0)
    env.action_space.seed(seed)
    total = 0.0
    while True:
        _, reward, terminated, truncated, info = env.step(env.action_space.sample())
        total += reward
        if terminated or truncated:
            return total, info


@pytest.mark.parametrize("env_id, kwargs, n", CASES, ids=[c[0] for c in CASES])
def test_return_orders_feasible_designs_as_the_objective(env_id, kwargs, n):
    env = gym.make(env_id, **kwargs)
    designs = [play(env, seed) for seed in range(n)]
    senses = {info["objective_sense"] for _, info in designs}
    assert len(senses) == 1 and senses <= {"min", "max"}
    sign = 1.0 if senses == {"max"} else -1.0
    feasible = [(ret, sign * info["objective"]) for ret, info in designs if info["feasible"]]
    assert len(feasible) >= 4
    assert len({f for _, f in feasible}) >= 3  # the designs differ, so the test can fail
    for (r1, f1), (r2, f2) in itertools.combinations(feasible, 2):
        assert np.sign(r1 - r2) == np.sign(f1 - f2), (r1, f1, r2, f2)


def test_hwresource_objective_is_the_total_of_the_objective_figure():
    env = gym.make("HWResource-Energy-v0")
    _, info = play(env, 3)
    assert info["objective"] == pytest.approx(info["total_energy"], rel=1e-12)
    assert info["objective_sense"] == "min"


def test_confuciux_variant_keeps_the_papers_shaped_reward():
    """HWResource-ConfuciuX-v0's rewards are >= 0 on a feasible design; the default's are <= 0."""
    actions = [(2, 3)] * 52
    returns = {}
    for env_id in ("HWResource-v0", "HWResource-ConfuciuX-v0"):
        env = gym.make(env_id)
        env.reset(seed=0)
        rewards = [env.step(a)[1] for a in actions]
        returns[env_id] = rewards
    assert all(r == 0.0 for r in returns["HWResource-v0"][:-1]) and returns["HWResource-v0"][-1] < 0
    assert all(r >= 0.0 for r in returns["HWResource-ConfuciuX-v0"])
    assert gym.spec("HWResource-ConfuciuX-v0").kwargs == {"reward_mode": "confuciux"}


def test_quant_names_its_cost_figure_apart_from_the_objective():
    env = gym.make("Quant-Size-v0")
    _, info = play(env, 0)
    assert info["cost_figure"] == "size" and info["objective"] == info["accuracy"]
    assert info["objective_sense"] == "max" and info["feasible"] is True
