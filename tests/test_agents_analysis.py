"""Sample-efficiency figures computed from run records (agents.analysis)."""

from __future__ import annotations

import math

import numpy as np

from agents.analysis import sample_efficiency, samples_to_reach, within
from agents.base import RunResult


def _run(agent: str, seed: int, best_so_far: list[float], env_id: str = "E-v0") -> RunResult:
    history = [{"sample": i + 1, "return": b, "score": b, "best_score": b}
               for i, b in enumerate(best_so_far)]
    return RunResult(env_id=env_id, env_kwargs={}, agent=agent, config={}, seed=seed,
                     budget=len(best_so_far), samples=len(best_so_far), score="return",
                     best_score=max(best_so_far), best_return=max(best_so_far), best_actions=[],
                     best_reset_seed=0, best_info={}, history=history, wall_time_s=0.0)


def test_samples_to_reach():
    assert samples_to_reach(np.array([-10.0, -5.0, -1.0]), -5.0) == 2
    assert samples_to_reach(np.array([-10.0, -5.0]), -4.0) == math.inf
    assert within(-100.0, 0.05) == -105.0 and within(100.0, 0.05) == 95.0


def test_sample_efficiency_against_a_hand_computed_table():
    # Best any = -100, so the 5% target is -105.
    runs = [_run("fast", 0, [-200, -104, -100]), _run("fast", 1, [-105, -105, -105]),
            _run("slow", 0, [-300, -200, -106]), _run("slow", 1, [-300, -150, -104])]
    rows = {r["agent"]: r for r in sample_efficiency(runs, 0.05, reference="fast")}
    assert rows["fast"]["target"] == -105.0
    assert rows["fast"]["samples_per_seed"] == [2.0, 1.0]
    assert rows["fast"]["median_samples"] == 1.5 and rows["fast"]["ratio"] == 1.0
    assert rows["slow"]["samples_per_seed"] == [math.inf, 3.0] and rows["slow"]["reached"] == 1
    assert rows["slow"]["median_samples"] == math.inf and rows["slow"]["ratio"] == math.inf
    assert rows["slow"]["best_median"] == -105.0 and rows["slow"]["best_of_seeds"] == -104.0


def test_groups_are_separate():
    runs = [_run("a", 0, [-10, -1], "X-v0"), _run("a", 0, [-1000, -900], "Y-v0")]
    rows = {r["group"]: r for r in sample_efficiency(runs)}
    assert rows["X-v0"]["best_any"] == -1 and rows["Y-v0"]["best_any"] == -900
    assert rows["Y-v0"]["median_samples"] == 2.0
