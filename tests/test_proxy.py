"""Proxy models (agents.proxy): trained on a Minari dataset, searched, validated on the real core."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import agents
from agents import collect
from agents import proxy as P

pytest.importorskip("minari")
pytest.importorskip("sklearn")

HW = {"reward_mode": "plain"}


@pytest.fixture(scope="module")
def hw_proxy(tmp_path_factory):
    root = tmp_path_factory.mktemp("datasets")
    collect.collect("HWResource-v0", 300, "random", dataset_id="hw-v0", root=root, seed=0,
                    env_kwargs=HW, num_envs=64)
    dataset = collect.load("hw-v0", root)
    proxy, errors = P.fit(dataset, seed=0, max_iter=100)
    return proxy, errors, dataset


def test_fit_reports_held_out_error_and_ranks_designs(hw_proxy):
    proxy, errors, dataset = hw_proxy
    assert errors["held_out"] == 60 and errors["rmse"] > 0
    firsts, designs, returns, _, _ = P.designs_of(dataset)
    assert designs.shape == (300, 52, 2) and proxy.steps == 52 and len(proxy.starts) == 1
    # Fresh designs the proxy never saw: its predictions order them like the real core.
    rng = np.random.default_rng(7)
    fresh = proxy.random_designs(40, rng)
    real = np.array([proxy.play(d)[0] for d in fresh])
    predicted = proxy.predict(np.repeat(proxy.starts, 40, axis=0), fresh)
    assert np.corrcoef(real, predicted)[0, 1] > 0.5
    assert proxy.env_id == "HWResource-v0" and proxy.env_kwargs == HW


def test_search_on_the_proxy_and_validate_on_the_core(hw_proxy):
    proxy, _, _ = hw_proxy
    found, predicted = proxy.search(500, 5, np.random.default_rng(1))
    assert found.shape == (5, 52, 2) and np.all(np.diff(predicted) <= 0)
    checked = proxy.validate(found)
    env = gym.make("HWResource-v0", **HW)
    for design, (ret, info) in zip(found, checked):
        env.reset(seed=0)
        total = sum(env.step(a)[1] for a in design)
        assert ret == total and info["total_cycles"] > 0
    # The proxy's pick beats the median random design on the real core.
    randoms = [proxy.play(d)[0] for d in proxy.random_designs(15, np.random.default_rng(2))]
    assert max(r for r, _ in checked) > np.median(randoms)


def test_proxy_env_has_the_real_spaces_and_runs_an_agent(hw_proxy):
    proxy, _, _ = hw_proxy
    env = gym.make(P.PROXY_ID, proxy=proxy)
    real = gym.make("HWResource-v0", **HW)
    assert env.observation_space == real.observation_space and env.action_space == real.action_space
    obs, _ = env.reset(seed=0)
    assert np.array_equal(obs, real.reset(seed=0)[0])
    design = proxy.random_designs(1, np.random.default_rng(3))[0]
    for t, a in enumerate(design):
        obs, reward, terminated, truncated, info = env.step(a)
        assert env.observation_space.contains(obs) and terminated == (t == 51) and not truncated
    assert reward == info["proxy_return"] == pytest.approx(proxy.predict(proxy.starts, design[None])[0])
    with pytest.raises(ValueError, match="is not in"):
        env.reset()
        env.step(np.array([12, 0]))
    result = agents.train(env, "ga", budget=30, seed=0, config={"population": 10, "parents": 4})
    assert result.samples == 30
    best = np.asarray(result.best_actions)
    ret, info = proxy.play(best)  # the GA's best proxy design, on the real core
    assert np.isfinite(ret) and "reason" not in info


def test_sparse_proxy_resets_the_real_env_to_each_start(tmp_path):
    collect.collect("SparseFormat-v0", 40, "random", dataset_id="sp-v0", root=tmp_path, seed=0)
    proxy, errors = P.fit(collect.load("sp-v0", tmp_path), seed=0, max_iter=20, log_target=True)
    assert proxy.steps == 1 and len(proxy.starts) > 3 and errors["held_out"] == 8
    assert all(seed is not None for seed in proxy.start_seeds)
    env = gym.make("SparseFormat-v0")
    for s in range(len(proxy.starts)):
        ret, info = proxy.play(np.zeros((1, 4), dtype=np.int64), s, env)  # checks the start
        assert ret == info["speedup"] > 0
    assert np.all(proxy.predict(proxy.starts, np.zeros((len(proxy.starts), 1, 4))) > 0)


def test_fit_refuses_bad_settings(hw_proxy):
    _, _, dataset = hw_proxy
    with pytest.raises(ValueError, match="held_out must be"):
        P.fit(dataset, held_out=1.0)
    with pytest.raises(ValueError, match="log_target needs positive returns"):
        P.fit(dataset, log_target=True, max_iter=5)
    with pytest.raises(ValueError, match="proxy must be"):
        P.ProxyEnv(proxy=None)
