"""The conditional NAS GAN (agents.nas_gan): conditioning measured through NAS-v0, the agent
contract, persistence and bad input."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest

import agents
import archgym  # noqa: F401  (registers the envs)
from agents.nas_gan import ConditionalNASGAN, Config, table_records
from archgym import nas

pytest.importorskip("torch")  # agents.nas_gan imports torch only when a GAN is built

SPACE = "digits-mlp"


@pytest.fixture(scope="module")
def records():
    return table_records(SPACE, "edge")


@pytest.fixture(scope="module")
def gan(records):
    model = ConditionalNASGAN(SPACE, Config(), seed=0)
    model.fit(records)
    return model


def measure(designs, budget):
    """Mean latency, feasible fraction and mean valid accuracy of designs, each stepped through
    NAS-v0 with the given latency budget."""
    env = gym.make("NAS-v0", budget=float(budget))
    lat, feas, acc = [], [], []
    for d in designs:
        env.reset(seed=0)
        info = env.step(d)[4]
        lat.append(info["latency"])
        feas.append(info["feasible"])
        acc.append(info["valid_metric"])
    env.close()
    return float(np.mean(lat)), float(np.mean(feas)), float(np.mean(acc))


def test_tighter_budgets_give_cheaper_designs_and_beat_random_on_feasibility(gan, records):
    lat = np.array([r["latency"] for r in records], dtype=float)
    acc = np.array([r["metric"] for r in records])
    target = float(np.median(acc))
    budgets = [float(np.percentile(lat, q)) for q in (10, 50, 90)]
    results = [measure(gan.generate({"latency": b, "accuracy": target}, 400, seed=1), b) for b in budgets]
    mean_lat = [r[0] for r in results]
    assert mean_lat[0] < mean_lat[1] < mean_lat[2], mean_lat
    # uniform random encodings (what random search draws) at the mid budget
    rng = np.random.default_rng(0)
    uniform = rng.integers(0, nas.get_space(SPACE).nvec, size=(400, 5))
    _, random_feasible, _ = measure(uniform, budgets[1])
    gan_feasible = results[1][1]
    assert gan_feasible > random_feasible + 0.15, (gan_feasible, random_feasible)


def test_higher_target_accuracy_gives_higher_measured_accuracy(gan, records):
    acc = np.array([r["metric"] for r in records])
    budget = float(np.percentile([r["latency"] for r in records], 90))
    low = measure(gan.generate({"latency": budget, "accuracy": float(acc.min())}, 400, seed=2), budget)[2]
    high = measure(gan.generate({"latency": budget, "accuracy": float(acc.max())}, 400, seed=2), budget)[2]
    assert high > low + 0.001, (low, high)


def test_generate_is_canonical_seeded_and_survives_save_load(gan, tmp_path):
    space = nas.get_space(SPACE)
    designs = gan.generate({"energy": 100.0, "accuracy": 0.97}, 50, seed=5)
    assert designs.shape == (50, 5)
    assert all(space.canonical(d) == tuple(d) for d in designs.tolist())
    assert np.array_equal(designs, gan.generate({"energy": 100.0, "accuracy": 0.97}, 50, seed=5))
    path = gan.save(tmp_path / "gan.pt")
    again = ConditionalNASGAN.load(path)
    assert again.ranges == gan.ranges
    assert np.array_equal(designs, again.generate({"energy": 100.0, "accuracy": 0.97}, 50, seed=5))
    # a budget given on another platform's scale: the cloud range maps the cloud budget
    cloud = nas.space_figures(SPACE, "cloud")["latency"]
    cheap_cloud = gan.generate({"latency": float(np.percentile(cloud, 10))}, 200, seed=1,
                               ranges={"latency": (float(cloud.min()), float(cloud.max()))})
    ids = [space.index(d) for d in cheap_cloud]
    assert np.mean(cloud[ids]) < np.median(cloud)


def test_bad_generator_input_is_a_clear_error(gan, tmp_path):
    with pytest.raises(ValueError, match="unknown condition"):
        gan.generate({"lateness": 10.0}, 5)
    with pytest.raises(ValueError, match="finite"):
        gan.generate({"latency": math.nan}, 5)
    with pytest.raises(ValueError, match="> 0"):
        gan.generate({"latency": -3.0}, 5)
    with pytest.raises(ValueError, match="n must be"):
        gan.generate({"latency": 500.0}, 0)
    with pytest.raises(ValueError, match="range latency"):
        gan.generate({"latency": 500.0}, 5, ranges={"latency": (10.0, 1.0)})
    with pytest.raises(RuntimeError, match="not fitted"):
        ConditionalNASGAN(SPACE).generate({"latency": 500.0}, 5)
    with pytest.raises(ValueError, match="at least 2 records"):
        ConditionalNASGAN(SPACE).fit([])
    bad = tmp_path / "not_a_gan.pt"
    bad.write_text("hello")
    with pytest.raises(ValueError, match="not a saved ConditionalNASGAN"):
        ConditionalNASGAN.load(bad)


@pytest.mark.parametrize("env_id", ["NAS-v0", "NAS-Conditional-v0"])
def test_agent_runs_through_train_and_replays(env_id):
    config = {"iterations": 40, "predictor_steps": 100, "candidates": 64}
    result = agents.train(env_id, "nas_gan", budget=12, seed=1, config=config)
    assert result.samples == 12 == len(result.history)
    result.validate()
    extras = result.extras["nas_gan"]
    # half of the 12 samples train the GAN, the rest are its proposals (or random fall-backs)
    assert extras["training_records"] == 6
    assert extras["generated"] + extras["fallback"] == 6
    assert extras["generated"] > 0
    again = agents.train(env_id, "nas_gan", budget=12, seed=1, config=config)
    assert [h["return"] for h in again.history] == [h["return"] for h in result.history]


def test_agent_proposals_follow_the_budget():
    """With the table as training data every sample is a proposal: under a tight budget they
    are mostly feasible, far more often than uniform random designs (about 1 in 4 here)."""
    config = {"table": True, "iterations": 300}
    result = agents.train("NAS-v0", "nas_gan", budget=10, seed=0, env_kwargs={"budget": 440.0},
                          config=config)
    assert result.extras["nas_gan"]["training_records"] == 168
    feasible = np.mean([h["return"] >= 0 for h in result.history])  # infeasible: below -1
    assert feasible >= 0.6, result.history
    result.validate()


def test_bad_config_and_unsupported_env_are_clear_errors():
    with pytest.raises(ValueError, match="no setting"):
        agents.train("NAS-v0", "nas_gan", budget=4, config={"learning_rate": 1e-3})
    with pytest.raises(ValueError, match="train_fraction must be a finite number in"):
        agents.train("NAS-v0", "nas_gan", budget=4, config={"train_fraction": 1.5})
    with pytest.raises(ValueError, match="lr must be a finite number"):
        agents.train("NAS-v0", "nas_gan", budget=4, config={"lr": math.nan})
    with pytest.raises(ValueError, match="iterations must be an integer"):
        agents.train("NAS-v0", "nas_gan", budget=4, config={"iterations": 0})
    with pytest.raises(ValueError, match="cannot run on NAS-Sequential-v0"):
        agents.train("NAS-Sequential-v0", "nas_gan", budget=4)
    with pytest.raises(ValueError, match="table has costs for the platforms"):
        table_records(SPACE, "phone")
