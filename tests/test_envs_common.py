"""The rules every environment shares (archgym.envs._common), at their boundaries."""

from __future__ import annotations

import math

import numpy as np
import pytest

from archgym.envs._common import (BUDGET_RTOL, check_action, check_name, check_render_mode, check_running,
                                  exceeds, infeasible_reward)


@pytest.mark.parametrize("budget", [1.0, 3.7e-3, 1.25e9])
def test_over_budget_only_beyond_the_relative_tolerance(budget):
    limit = budget * (1.0 + BUDGET_RTOL)
    assert limit > budget  # the tolerance is not lost to rounding at these magnitudes
    assert not exceeds(budget, budget)
    assert not exceeds(limit, budget)
    assert exceeds(math.nextafter(limit, math.inf), budget)
    assert exceeds(budget * 1.001, budget)
    assert not exceeds(0.0, budget)


def test_over_budget_is_elementwise():
    budget = 2.0
    limit = budget * (1.0 + BUDGET_RTOL)
    used = np.array([0.5, budget, limit, np.nextafter(limit, np.inf), 3.0])
    np.testing.assert_array_equal(exceeds(used, budget), [False, False, False, True, True])


def test_infeasible_reward_is_below_the_floor_by_the_relative_overshoot():
    assert infeasible_reward(1.5, 1.0) == -1.5
    assert infeasible_reward(3.0, 2.0, floor=-7.0) == -7.5
    just_over = math.nextafter(1.0 + BUDGET_RTOL, math.inf)
    assert infeasible_reward(just_over, 1.0) < -1.0
    np.testing.assert_array_equal(infeasible_reward(np.array([2.0, 4.0]), 2.0), [-1.0, -2.0])


def test_check_action_accepts_integers_in_range_and_names_the_problem_otherwise():
    nvec = np.array([3, 2])
    assert check_action([2, 1], nvec) == [2, 1]
    assert check_action(np.array([0.0, 1.0]), nvec) == [0, 1]
    for bad, message in [([3, 0], "out of range"), ([0], "shape"), ([0.5, 0], "integers"),
                         ("ab", "2 integers"), ([0, -1], "out of range")]:
        with pytest.raises(ValueError, match=message):
            check_action(bad, nvec)


def test_name_render_mode_and_finished_episode_checks():
    assert check_name("objective", "energy", ("latency", "energy")) == "energy"
    with pytest.raises(ValueError, match="unknown objective 'edp'; allowed: latency, energy"):
        check_name("objective", "edp", ("latency", "energy"))
    with pytest.raises(ValueError, match="unknown objective 3"):
        check_name("objective", 3, ("latency", "energy"))
    assert check_render_mode(None, ["ansi"]) is None
    assert check_render_mode("ansi", ["ansi"]) == "ansi"
    with pytest.raises(ValueError, match="unknown render_mode 'human'; allowed: None, 'ansi'"):
        check_render_mode("human", ["ansi"])
    with pytest.raises(ValueError, match="allowed: None$"):
        check_render_mode("ansi", [])
    check_running(False)
    with pytest.raises(RuntimeError, match="call reset"):
        check_running(True)
