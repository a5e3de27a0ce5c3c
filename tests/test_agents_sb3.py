"""The stable-baselines3 agents: PPO, A2C, DQN (flattened MultiDiscrete) and MaskablePPO."""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np
import pytest
from agent_helpers import MaskCheck

import agents
import archgym  # noqa: F401  (registers the environments)
from agents import sb3

# Tiny budgets: a NoCRouting-v0 episode sweeps 6 rates, a HWResource-v0 one 52 layers.
RUNS = [(agent, env_id, budget)
        for agent in ("ppo", "a2c", "dqn")
        for env_id, budget in (("HWResource-v0", 2), ("NoCRouting-v0", 1), ("Quant-v0", 3),
                               ("NAS-v0", 5), ("SparseFormat-v0", 5))]
RUNS.append(("maskable_ppo", "NAS-Sequential-v0", 5))


@pytest.mark.parametrize("agent,env_id,budget", RUNS, ids=[f"{a}-{e}" for a, e, _ in RUNS])
def test_agent_spends_its_budget_and_replays(agent, env_id, budget):
    result = agents.train(env_id, agent, budget=budget, seed=0)
    assert result.samples == budget and len(result.history) == budget
    space = gym.make(env_id).action_space
    assert all(space.contains(np.asarray(a, dtype=space.dtype)) for a in result.best_actions)
    result.validate()


def test_dqn_records_multidiscrete_actions_of_the_env():
    import torch

    threads = torch.get_num_threads()
    result = agents.train("SparseFormat-v0", "dqn", budget=5, seed=1)
    assert torch.get_num_threads() == threads  # the run's one-thread setting is undone
    (action,) = result.best_actions  # one-step env: one action, in the env's own space
    assert isinstance(action, list) and len(action) == 4
    assert gym.spaces.MultiDiscrete([9, 9, 3, 3]).contains(np.array(action))


def test_maskable_ppo_never_takes_a_masked_action():
    # 40 episodes of ~4 steps: beyond one 64-step rollout, so the trained policy acts too.
    masked, plain = MaskCheck(gym.make("NAS-Sequential-v0")), MaskCheck(gym.make("NAS-Sequential-v0"))
    result = agents.train(masked, "maskable_ppo", budget=40, seed=0)
    agents.train(plain, "ppo", budget=40, seed=0)
    assert result.samples == 40
    assert sum((~m).any() for m, _ in masked.seen) > 20  # many states do mask some choices
    assert all(m[a] for m, a in masked.seen)
    assert any(not m[a] for m, a in plain.seen)  # without masks the same budget hits them


@pytest.mark.parametrize("agent,env_id,words", [
    ("dqn", "Quant-OneShot-v0", "joint actions"),
    ("maskable_ppo", "NoCRouting-v0", "action masks"),
    ("maskable_ppo", "HWResource-v0", "Discrete action space"),
])
def test_refusals_are_explained(agent, env_id, words):
    with pytest.raises(ValueError, match=f"cannot run on {env_id}: .*{words}"):
        agents.train(env_id, agent, budget=2, seed=0)


class _DictObs(gym.Env):
    observation_space = gym.spaces.Dict({"x": gym.spaces.Box(0.0, 1.0, (1,), np.float32)})
    action_space = gym.spaces.Discrete(2)


def test_supports_refuses_dict_observations_and_shifted_spaces():
    assert "flat observation space" in sb3.supports(_DictObs())
    env = _DictObs()
    env.observation_space = gym.spaces.Box(0.0, 1.0, (1,), np.float32)
    assert sb3.supports(env) is None
    env.action_space = gym.spaces.Discrete(2, start=1)
    assert "start at 0" in sb3.supports(env)


def test_configs_reject_bad_values_and_parse_cli_text():
    with pytest.raises(ValueError, match="no setting n_step"):
        agents.agent_config("ppo", {"n_step": 8})
    with pytest.raises(ValueError, match="learning_rate must be"):
        agents.agent_config("a2c", {"learning_rate": -1.0})
    with pytest.raises(ValueError, match="gamma must be"):
        agents.agent_config("dqn", {"gamma": float("nan")})
    with pytest.raises(ValueError, match="net_arch must be"):
        agents.agent_config("ppo", {"net_arch": (64, 0)})
    cfg = agents.agent_config("maskable_ppo", {"net_arch": "512,512,512", "n_steps": "16"})
    assert cfg.net_arch == (512, 512, 512) and cfg.n_steps == 16  # ConfuciuX's baseline MLP


def test_tensorboard_logs_go_to_the_session_logdir(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    # 140 one-step episodes: two 64-step PPO rollouts; the first one's update is logged.
    agents.train("NAS-v0", "ppo", budget=140, seed=0, logdir=tmp_path)
    (run,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    events = EventAccumulator(str(run))
    events.Reload()
    assert "rollout/ep_rew_mean" in events.Tags()["scalars"]
    assert "train/loss" in events.Tags()["scalars"]


def test_ppo_normalises_observations_and_saves_what_it_learnt(tmp_path):
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

    path = tmp_path / "ppo"
    # 70 one-step episodes: one 64-step rollout and its update
    agents.train("NAS-v0", "ppo", budget=70, seed=0,
                 config={"normalize_obs": True, "n_steps": 64, "save_path": str(path)})
    model = PPO.load(str(path), device="cpu")
    norm = VecNormalize.load(f"{path}.vecnormalize.pkl", DummyVecEnv([lambda: gym.make("NAS-v0")]))
    assert norm.norm_obs and norm.obs_rms.count > 64  # every observation of the run updated the statistics
    obs, _ = gym.make("NAS-v0").reset(seed=0)
    action, _ = model.predict(norm.normalize_obs(obs), deterministic=True)
    assert model.action_space.contains(action)
    agents.train("NAS-v0", "ppo", budget=3, seed=0, config={"normalize_reward": False})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ppo.vecnormalize.pkl", "ppo.zip"]  # nothing else
    with pytest.raises(TypeError, match="normalize_obs must be True or False"):
        agents.agent_config("ppo", {"normalize_obs": 1})


def test_dqn_explores_on_the_budget_of_samples(monkeypatch):
    cfg = dataclasses.replace(sb3.DQNConfig(), exploration_fraction=0.5)
    session = agents.Session("NAS-v0", None, budget=20, seed=0)
    models, learn = [], sb3._learn

    def keep_model(session_, algo, env, config, setup=None, **kwargs):
        def setup_and_keep(model):
            setup(model)
            models.append(model)
        learn(session_, algo, env, config, setup=setup_and_keep, **kwargs)

    monkeypatch.setattr(sb3, "_learn", keep_model)
    sb3.run_dqn(session, cfg)
    (model,) = models
    assert session.samples == 20
    # SB3's own progress (the argument) is ignored: epsilon follows the samples spent,
    # all 20 here, so it has reached its final value although few timesteps were taken.
    assert model.exploration_schedule(1.0) == pytest.approx(cfg.exploration_final_eps)
    assert model.exploration_rate == pytest.approx(cfg.exploration_final_eps)
