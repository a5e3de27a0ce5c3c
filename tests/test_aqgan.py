"""AQGAN (agents.aqgan): stratified data, conditioning measured through the env, the tuning flow, the agent.

Every accuracy here is measured by the env (Quant-OneShot-v0 on the digits
CNN), never taken from the generator.  Training is tiny (seconds).
"""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest

import agents
import archgym  # noqa: F401  (registers the environments)
from archgym import quant as q

torch = pytest.importorskip("torch")

from agents.aqgan import AQGAN, Config, stratified_data, tune

GENES, LEVELS = 10, 7


@pytest.fixture(scope="module")
def env():
    """Budget 1.0: no action wall, so evaluate_batch measures exactly the actions given."""
    e = gym.make("Quant-OneShot-v0", budget=1.0).unwrapped
    yield e
    e.close()


def measure(env, actions) -> np.ndarray:
    _, acc, _ = env.evaluate_batch(actions)
    return acc


@pytest.fixture(scope="module")
def data(env):
    return stratified_data(lambda a: (a, measure(env, a)), 400, GENES, LEVELS, np.random.default_rng(0))


@pytest.fixture(scope="module")
def gan(data):
    torch.set_num_threads(1)
    model = AQGAN(GENES, LEVELS, Config(iterations=400, predictor_steps=300), seed=0)
    model.fit(*data)
    return model


def terciles(env, acc):
    """Shares of accuracies in the thirds between the all-2-bit accuracy and the float accuracy."""
    low = measure(env, np.zeros((1, GENES), dtype=np.int64))[0]
    edges = np.linspace(low, env.reset(seed=0)[1]["float_accuracy"], 4)
    which = np.clip(np.digitize(acc, edges) - 1, 0, 2)
    return np.bincount(which, minlength=3) / len(acc)


def test_stratified_sampler_covers_the_accuracy_range_where_uniform_does_not(env, data):
    acts, acc = data
    assert acts.shape == (400, GENES) and acc.shape == (400,)
    assert np.array_equal(acc, measure(env, acts))  # the accuracies are the env's
    shares = terciles(env, acc)
    assert shares.min() > 0.15, shares
    uniform = np.random.default_rng(0).integers(0, LEVELS, (400, GENES))
    u_shares = terciles(env, measure(env, uniform))
    assert u_shares[0] < 0.08 and u_shares[2] > 0.6, u_shares  # uniform piles up near float accuracy


def test_higher_target_gives_higher_measured_accuracy(env, gan):
    low = measure(env, gan.generate(40.0, 100, seed=1))
    high = measure(env, gan.generate(90.0, 100, seed=1))
    assert high.mean() - low.mean() > 25.0, (low.mean(), high.mean())
    mid = measure(env, gan.generate(65.0, 100, seed=1))
    assert low.mean() < mid.mean() < high.mean()


def test_tune_picks_the_cheapest_measured_design_meeting_target_and_budget():
    acc = np.array([95.0, 91.0, 89.0, 92.0, 93.0])
    cost = np.array([5.0, 3.0, 1.0, 3.0, 9.0])
    assert tune(acc, cost, 90.0) == 3  # cost 3 twice: the more accurate one
    assert tune(acc, cost, 94.0) == 0
    assert tune(acc, cost, 94.0, budget=4.0) is None
    assert tune(acc, cost, 80.0, budget=0.5) is None
    assert tune(acc, cost, 80.0) == 2
    with pytest.raises(ValueError, match="1-D of one length"):
        tune(acc, cost[:3], 90.0)


def test_tuning_flow_on_two_presets_without_retraining(env, gan):
    hardware = [q.HardwareCost(q.load_model("digits_cnn"), preset=p, design=d)
                for p, d in (("edge", "bitserial"), ("cloud", "bitfused"))]
    differ = 0
    for k, target in enumerate((85.0, 90.0, 93.0)):
        props = gan.generate(target, 100, seed=k)
        acc = measure(env, props)  # measured once: accuracy does not depend on the hardware
        w, a = props[:, 0::2] + 2, props[:, 1::2] + 2
        costs, picks = [], []
        for hw in hardware:
            cost = hw.objective("latency", w, a)
            budget = 0.5 * float(hw.objective("latency", [8] * 5, [8] * 5)[0])
            i = tune(acc, cost, target, budget)
            assert i is not None
            ok = (acc >= target) & (cost <= budget)
            assert acc[i] >= target and cost[i] <= budget
            assert cost[i] == cost[ok].min()  # the cheapest of the measured qualifying proposals
            costs.append(cost)
            picks.append(i)
        if not np.array_equal(props[picks[0]], props[picks[1]]):
            differ += 1
            # each preset's pick is strictly cheaper on its own hardware than the other's
            assert costs[0][picks[0]] < costs[0][picks[1]] or costs[1][picks[1]] < costs[1][picks[0]]
    assert differ >= 1


def test_save_and_load_give_the_same_generator(gan, tmp_path):
    path = gan.save(tmp_path / "aqgan.pt")
    loaded = AQGAN.load(path)
    assert np.array_equal(loaded.generate(70.0, 50, seed=3), gan.generate(70.0, 50, seed=3))
    probe = np.random.default_rng(0).integers(0, LEVELS, (20, GENES))
    assert np.allclose(loaded.predict(probe), gan.predict(probe))
    (tmp_path / "junk.pt").write_bytes(b"not a model")
    with pytest.raises(ValueError, match="AQGAN model file"):
        AQGAN.load(tmp_path / "junk.pt")
    torch.save({"format": "something else"}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not an AQGAN model file"):
        AQGAN.load(tmp_path / "other.pt")


def test_generate_rejects_bad_input(gan):
    for bad in (0.0, 101.0, math.nan, "90"):
        with pytest.raises(ValueError, match="target accuracy"):
            gan.generate(bad, 5)
    with pytest.raises(ValueError, match="n must be"):
        gan.generate(90.0, 0)
    with pytest.raises(ValueError, match="shape"):
        AQGAN(GENES, LEVELS).fit(np.zeros((4, 3), dtype=np.int64), np.ones(4))
    with pytest.raises(ValueError, match="finite"):
        AQGAN(GENES, LEVELS).fit(np.zeros((4, GENES), dtype=np.int64), [1.0, 2.0, math.nan, 3.0])


TINY = {"iterations": 40, "predictor_steps": 40, "proposals": 16, "target_accuracy": 85.0}


def test_agent_runs_through_train_and_replays(tmp_path):
    result = agents.train("Quant-OneShot-v0", "aqgan", budget=50, seed=4, config=TINY)
    assert result.samples == 50 and len(result.history) == 50
    result.validate()
    info = result.extras["aqgan"]
    assert info["data_samples"] == 30 and info["proposals"] == 20
    if info["pick"] is not None:
        assert info["pick"]["accuracy"] >= 85.0
    again = agents.train("Quant-OneShot-v0", "aqgan", budget=50, seed=4, config=TINY)
    assert [r["return"] for r in again.history] == [r["return"] for r in result.history]
    assert not any(tmp_path.iterdir())  # nothing saved unless save_path is given
    saved = tmp_path / "g.pt"
    agents.train("Quant-OneShot-v0", "aqgan", budget=20, seed=0, config=dict(TINY, save_path=str(saved)))
    assert AQGAN.load(saved).trained


@pytest.mark.parametrize("bad", [{"target_accuracy": 0.0}, {"target_accuracy": 100.5},
                                 {"target_accuracy": math.nan}, {"proposals": 0},
                                 {"data_fraction": 1.0}, {"iterations": -1}])
def test_bad_config_is_refused(bad):
    key = next(iter(bad))
    with pytest.raises(ValueError, match=key):
        agents.train("Quant-OneShot-v0", "aqgan", budget=10, seed=0, config=bad)


def test_refuses_the_sequential_env():
    reason = agents.get("aqgan").why_not(gym.make("Quant-v0"))
    assert "Quant-OneShot" in reason
    with pytest.raises(ValueError, match="cannot run on Quant-v0"):
        agents.train("Quant-v0", "aqgan", budget=5, seed=0)
