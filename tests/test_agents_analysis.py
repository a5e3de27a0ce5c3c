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


def test_samples_to_match_on_median_curves():
    from agents.analysis import samples_to_match

    # ref's median curve: [-50, -20, -10]; base's: [-90, -60, -40, -30] -> final -30,
    # reached by base at sample 4 and by ref at sample 2: speed-up 2.
    runs = [_run("ref", 0, [-50, -20, -10, -10]), _run("ref", 1, [-50, -20, -10, -10]),
            _run("base", 0, [-90, -60, -40, -30]), _run("base", 1, [-90, -60, -40, -30]),
            _run("worse", 0, [-5, -5, -5, -5])]
    rows = {r["agent"]: r for r in samples_to_match(runs, "ref")}
    assert rows["base"]["final_median"] == -30 and rows["base"]["samples"] == 4
    assert rows["base"]["reference_samples"] == 2 and rows["base"]["speedup"] == 2.0
    assert rows["ref"]["speedup"] == 1.0 and rows["ref"]["samples"] == 3
    assert rows["worse"]["reference_samples"] == math.inf and rows["worse"]["speedup"] == 0.0


def test_bootstrap_intervals_bracket_the_figures():
    from agents.analysis import bootstrap_intervals, samples_to_match

    # base's seeds all give speed-up 2 against every resample of ref (identical curves),
    # so its interval is exactly [2, 2]; its best scores -30, -20, -10 give a median
    # interval inside [-30, -10].  A single-run agent has no interval.
    ref = [_run("ref", s, [-50, -20, -10, -10]) for s in range(3)]
    base = [_run("base", s, [-90, -60, -40, -30 + 10 * s]) for s in range(3)]
    rows = {r["agent"]: r for r in bootstrap_intervals(ref + base + [_run("one", 0, [-1, -1, -1, -1])],
                                                       "ref", n_resamples=200)}
    assert rows["ref"]["speedup_low"] == rows["ref"]["speedup_high"] == 1.0
    assert -30 <= rows["base"]["best_low"] <= -20 <= rows["base"]["best_high"] <= -10
    speed = {r["agent"]: r["speedup"] for r in samples_to_match(ref + base, "ref")}
    assert rows["base"]["speedup_low"] <= speed["base"] <= rows["base"]["speedup_high"]
    assert math.isnan(rows["one"]["best_low"]) and math.isnan(rows["one"]["speedup_high"])
    same = [_run("ref", s, [-50, -20, -10, -10]) for s in range(3)] + \
        [_run("flat", s, [-90, -60, -40, -30]) for s in range(3)]
    flat = {r["agent"]: r for r in bootstrap_intervals(same, "ref", n_resamples=200)}["flat"]
    assert flat["speedup_low"] == flat["speedup_high"] == 2.0
    assert flat["best_low"] == flat["best_high"] == -30.0
