"""Quant-v0 and Quant-OneShot-v0: budget, action wall, penalty and reward recomputed independently."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import archgym  # noqa: F401  (registers the environments)
from archgym import quant as q
from archgym.envs.quant import QuantEnv, QuantOneShotEnv
from archgym.quant.data import fashion_mnist_available

from conftest import in_ci

L = 5


def play(env, actions):
    obs, info = env.reset(seed=0)
    out = []
    for act in actions:
        step = env.step(act)
        out.append(step)
        if step[2]:
            break
    return out


def cost_of(model, objective, preset, design, w, a):
    hw = q.HardwareCost(model, preset, design)
    return float(hw.objective(objective, w, a)[0])


def wall(cost, budget, w, a):
    """The documented action wall, written again: rounds over the layers, w then a, one bit at a time."""
    w, a = list(w), list(a)
    fits = lambda: cost(w, a) <= budget * (1 + 1e-9)  # noqa: E731
    while not fits():
        for l in range(len(w)):
            for bits in (w, a):
                if bits[l] > 2:
                    bits[l] -= 1
                    if fits():
                        return w, a
    return w, a


def test_spaces_and_defaults():
    env = gym.make("Quant-v0")
    assert env.action_space == gym.spaces.MultiDiscrete([7, 7])
    assert env.observation_space.shape == (14,) and env.observation_space.dtype == np.float32
    one = gym.make("Quant-OneShot-v0")
    assert one.action_space == gym.spaces.MultiDiscrete([7] * 10)
    u = env.unwrapped
    assert u.setup.budget_fraction == 0.6 and u.setup.objective == "latency"
    assert u.setup.hw.design == "bitserial" and u.setup.hw.preset.name == "edge"
    assert len(u.setup.labels) == 540  # the whole held-out digits split


def test_reward_is_the_formula_of_the_measured_accuracy():
    env = QuantEnv(budget=1.0)  # W8A8 fits: no wall
    steps = play(env, [[6, 6]] * L)
    assert [s[1] for s in steps[:-1]] == [0.0] * (L - 1)
    _, reward, term, trunc, info = steps[-1]
    assert term and not trunc
    model = q.load_model("digits_cnn")
    acc = 100 * model.accuracy([8] * L, [8] * L)
    fl = 100 * model.float_accuracy()
    assert info["accuracy"] == pytest.approx(acc, abs=1e-12)
    assert info["float_accuracy"] == pytest.approx(fl, abs=1e-12)
    assert reward == pytest.approx(0.1 * (acc - fl), abs=1e-12)
    assert info["wbits"] == [8] * L and info["abits"] == [8] * L
    assert info["cost"] == pytest.approx(info["cost_w8a8"])


@pytest.mark.parametrize("objective, preset, design", [("latency", "edge", "bitserial"),
                                                        ("energy", "edge", "bitfused"),
                                                        ("size", "cloud", "bitserial")])
def test_budget_and_action_wall(objective, preset, design):
    env = QuantEnv(objective=objective, preset=preset, accelerator=design, budget=0.6)
    model = q.load_model("digits_cnn")
    cost = lambda w, a: cost_of(model, objective, preset, design, w, a)  # noqa: E731
    cost8 = cost([8] * L, [8] * L)
    assert env.setup.cost_w8a8 == pytest.approx(cost8, rel=1e-12)
    assert env.setup.budget == pytest.approx(0.6 * cost8, rel=1e-12)
    rng = np.random.default_rng(0)
    for _ in range(6):
        acts = rng.integers(0, 7, (L, 2))
        *_, (obs, reward, term, _, info) = play(env, acts)
        chosen_w, chosen_a = list(acts[:, 0] + 2), list(acts[:, 1] + 2)
        assert info["chosen_wbits"] == chosen_w and info["chosen_abits"] == chosen_a
        w, a = wall(cost, env.setup.budget, chosen_w, chosen_a)
        assert (info["wbits"], info["abits"]) == (w, a)
        assert info["cost"] == pytest.approx(cost(w, a), rel=1e-12)
        assert info["cost"] <= info["budget"] * (1 + 1e-9)
        acc = 100 * model.accuracy(w, a)
        assert reward == pytest.approx(0.1 * (acc - 100 * model.float_accuracy()), abs=1e-12)
        if cost(chosen_w, chosen_a) <= env.setup.budget:
            assert (w, a) == (chosen_w, chosen_a)


def test_terminate_mode_penalty():
    env = QuantEnv(over_budget="terminate", budget=0.6)
    model = q.load_model("digits_cnn")
    cost = lambda w, a: cost_of(model, "latency", "edge", "bitserial", w, a)  # noqa: E731
    steps = play(env, [[6, 6]] * L)
    _, reward, term, _, info = steps[-1]
    t = len(steps)
    assert term and info["reason"] == "budget exceeded"
    bound = cost([8] * t + [2] * (L - t), [8] * t + [2] * (L - t))
    assert info["lower_bound"] == pytest.approx(bound, rel=1e-12)
    assert bound > env.setup.budget
    # every earlier step's lower bound was within budget
    for k in range(1, t):
        assert cost([8] * k + [2] * (L - k), [8] * k + [2] * (L - k)) <= env.setup.budget
    fl = 100 * model.float_accuracy()
    assert reward == pytest.approx(-0.1 * fl - 1 - (bound - env.setup.budget) / env.setup.budget, rel=1e-12)
    assert reward < -0.1 * fl  # below any feasible reward
    # a cheap design is evaluated normally
    _, reward, term, _, info = play(env, [[2, 2]] * L)[-1]
    assert "reason" not in info and info["cost"] <= info["budget"]


def test_observation_features():
    env = QuantEnv()
    obs, _ = env.reset(seed=1)
    assert env.observation_space.contains(obs)
    assert obs[0] == 1.0 and obs[9] == 0.0 and obs[11] == 0.0 and obs[12] == 0.0
    obs, *_ = env.step([3, 5])
    assert obs[1] == 0.0 and obs[0] == 1.0  # layer 1 is a conv
    assert obs[9] == pytest.approx(0.25)
    assert obs[11] == pytest.approx(3 / 6) and obs[12] == pytest.approx(5 / 6)
    obs, *_ = env.step([0, 0])
    assert obs[1] == 1.0  # layer 2 is depthwise
    feats = env.setup.features
    assert feats[:, 10].sum() == pytest.approx(1.0, abs=1e-6)  # W8A8 cost shares
    assert (feats >= 0).all() and (feats <= 1).all()


def test_one_shot_matches_sequential():
    seq, one = QuantEnv(), QuantOneShotEnv()
    rng = np.random.default_rng(2)
    actions = rng.integers(0, 7, (8, 2 * L))
    for act in actions:
        one.reset(seed=0)
        _, r1, term, _, i1 = one.step(act)
        assert term
        _, r2, _, _, i2 = play(seq, act.reshape(L, 2))[-1]
        assert r1 == r2
        assert i1["wbits"] == i2["wbits"] and i1["chosen_wbits"] == list(act[0::2] + 2)
        assert i1["chosen_abits"] == list(act[1::2] + 2)
    rewards, acc, costs = one.evaluate_batch(actions)
    for k, act in enumerate(actions):
        one.reset()
        _, r, *_, info = one.step(act)
        assert rewards[k] == pytest.approx(r, abs=1e-12) and acc[k] == pytest.approx(info["accuracy"])
        assert costs[k] == pytest.approx(info["cost"], rel=1e-12)


def test_fix_first_last():
    env = QuantEnv(fix_first_last=True, budget=0.8)
    *_, (_, _, _, _, info) = play(env, [[0, 0]] * L)
    assert info["wbits"][0] == info["wbits"][-1] == 8
    assert info["abits"][0] == info["abits"][-1] == 8


def test_bad_arguments():
    for kwargs, msg in [({"model": "vgg"}, "unknown model"), ({"objective": "area"}, "unknown objective"),
                        ({"accelerator": "gpu"}, "unknown accelerator"), ({"preset": "phone"}, "unknown preset"),
                        ({"budget": 0}, "budget must be"), ({"budget": 1.5}, "budget must be"),
                        ({"budget": 0.01}, "cannot be met"), ({"over_budget": "ignore"}, "over_budget"),
                        ({"reward_scale": -1}, "reward_scale"), ({"eval_images": 0}, "eval_images"),
                        ({"eval_images": 10**6}, "eval_images"), ({"render_mode": "human"}, "render_mode")]:
        with pytest.raises(ValueError, match=msg):
            QuantEnv(**kwargs)


def test_step_after_end_and_render():
    env = QuantEnv(render_mode="ansi")
    play(env, [[1, 1]] * L)
    with pytest.raises(RuntimeError, match="reset"):
        env.step([0, 0])
    text = env.render()
    assert "accuracy" in text and "digits_cnn" in text


def test_fashion_env():
    if not fashion_mnist_available():
        if in_ci():
            pytest.fail("CI=true but Fashion-MNIST is missing: apt-get install -y dataset-fashion-mnist")
        pytest.skip("Fashion-MNIST not installed")
    env = gym.make("Quant-FashionMNIST-v0")
    assert len(env.unwrapped.setup.labels) == 2000
    *_, (_, reward, term, _, info) = play(env, [[6, 6]] * L)
    assert term and info["eval_images"] == 2000 and info["float_accuracy"] > 85
    full = QuantEnv(model="fashion_lenet", eval_images=None, budget=1.0)
    assert len(full.setup.labels) == 10000


def test_fashion_ids_run_from_the_shipped_subset(tmp_path):
    """After pip install alone (no Debian package) the Fashion-MNIST ids give the same episode as with it."""
    import os
    import subprocess
    import sys

    code = ("import archgym, gymnasium as gym\n"
            "for env_id in ('Quant-FashionMNIST-v0', 'Quant-OneShot-FashionMNIST-v0'):\n"
            "    env = gym.make(env_id)\n"
            "    env.reset(seed=0)\n"
            "    while True:\n"
            "        _, r, term, trunc, info = env.step([3] * env.action_space.shape[0])\n"
            "        if term or trunc:\n"
            "            break\n"
            "    print(env_id, repr(r), info['eval_images'], repr(info['float_accuracy']))\n")
    env = dict(os.environ, ARCHGYM_FASHION_MNIST_DIR=str(tmp_path))  # an empty folder: no Debian files
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 2 and all(" 2000 " in line for line in lines)
    if fashion_mnist_available():  # the same numbers from the Debian package's files
        expected = []
        for env_id in ("Quant-FashionMNIST-v0", "Quant-OneShot-FashionMNIST-v0"):
            env = gym.make(env_id)
            env.reset(seed=0)
            while True:
                _, r, term, trunc, info = env.step([3] * env.action_space.shape[0])
                if term or trunc:
                    break
            expected.append(f"{env_id} {r!r} {info['eval_images']} {info['float_accuracy']!r}")
        assert lines == expected


def test_shipped_fashion_subset_is_the_debian_packages_first_images():
    from archgym.quant import data

    if not fashion_mnist_available():
        if in_ci():
            pytest.fail("CI=true but Fashion-MNIST is missing: apt-get install -y dataset-fashion-mnist")
        pytest.skip("Fashion-MNIST not installed")
    shipped = data._fashion_shipped()
    for split in ("calibration", "test"):
        images, labels = data._fashion(split)
        n = len(shipped[split][1])
        np.testing.assert_array_equal(shipped[split][0], images[:n])
        np.testing.assert_array_equal(shipped[split][1], labels[:n])
