"""`archgym collect` and the recording hook: Minari datasets that load back and replay exactly."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest

import agents
from agents import collect
from archgym.cli import main

minari = pytest.importorskip("minari")


def run(*argv) -> int:
    try:
        return main([str(a) for a in argv])
    except SystemExit as exc:
        return exc.code


def episode(dataset, i):
    return next(iter(dataset.iterate_episodes([i])))


def assert_replays(env_id: str, env_kwargs: dict, ep, seed) -> None:
    """Every step of a recorded episode reproduces on a fresh env: observation, reward, figures."""
    for column in ep.infos.values():  # row 0 is the reset's: no figures
        assert column[0] == b"" if isinstance(column[0], bytes) else math.isnan(column[0])
    env = gym.make(env_id, **env_kwargs)
    obs, _ = env.reset(seed=seed)
    assert np.array_equal(obs, ep.observations[0])
    for t, action in enumerate(ep.actions):
        obs, reward, terminated, truncated, info = env.step(action)
        assert np.array_equal(obs, ep.observations[t + 1])
        assert reward == ep.rewards[t]
        assert (terminated, truncated) == (ep.terminations[t], ep.truncations[t])
        for key, column in ep.infos.items():
            recorded = column[t + 1]
            if isinstance(recorded, bytes):
                assert recorded.decode() == str(info.get(key, "")), key
            elif math.isnan(recorded):
                assert key not in info, key
            else:
                assert recorded == float(info[key]), key
    env.close()


def test_collect_hwresource_through_the_batch_api(tmp_path):
    kwargs = {"reward_mode": "plain", "mul": 0.3}
    dataset = collect.collect("HWResource-v0", 10, "random", dataset_id="hw/random-v0", root=tmp_path,
                              seed=1, env_kwargs=kwargs, num_envs=4)
    loaded = minari.MinariDataset(tmp_path / "hw" / "random-v0" / "data")
    assert loaded.total_episodes == dataset.total_episodes == 10
    assert loaded.recover_environment().spec.kwargs == kwargs
    lengths = [len(episode(loaded, i).actions) for i in range(10)]
    assert loaded.total_steps == sum(lengths) and max(lengths) == 52
    assert min(lengths) < 52  # mul 0.3: some random designs exceed the budget and end early
    for i in (0, int(np.argmin(lengths)), 9):
        ep = episode(loaded, i)
        assert set(ep.infos) >= {"cycles", "area", "used"}
        assert_replays("HWResource-v0", kwargs, ep, seed=0)


def test_collect_sobol_sparse_keeps_seeds_and_replays(tmp_path):
    assert run("collect", "SparseFormat-v0", "--episodes", 6, "--agent", "sobol", "--dataset-id",
               "sparse-v1", "--out", tmp_path, "--seed", 3) == 0
    dataset = collect.load("sparse-v1", tmp_path)
    assert dataset.total_episodes == dataset.total_steps == 6
    actions = np.stack([episode(dataset, i).actions[0] for i in range(6)])
    assert len({tuple(a) for a in actions}) == 6  # Sobol points, all different
    meta = list(dataset.storage.get_episode_metadata(range(6)))
    for i in (0, 5):
        ep = episode(dataset, i)
        assert ep.infos["speedup"][1] == ep.rewards[0] and ep.infos["workload"][1] != b""
        assert_replays("SparseFormat-v0", {}, ep, seed=int(meta[i]["seed"]))


def test_any_agent_run_records_its_episodes(tmp_path):
    recording = collect.Recording(limit=12)
    result = agents.train("NAS-v0", "ga", budget=12, seed=0, wrap=recording.wrap,
                          config={"population": 6, "parents": 2})
    assert len(recording.episodes) == result.samples == 12
    dataset = recording.save("nas/ga-v0", tmp_path, "NAS-v0", algorithm="ga")
    assert dataset.total_episodes == 12
    best = episode(dataset, [ep.seed for ep in recording.episodes].index(result.best_reset_seed))
    assert sum(best.rewards) == pytest.approx(result.best_return)
    meta = next(iter(dataset.storage.get_episode_metadata([0])))
    assert_replays("NAS-v0", {}, episode(dataset, 0), seed=int(meta["seed"]))


def test_collect_refuses_an_existing_dataset_and_bad_input(tmp_path, capsys):
    args = ["collect", "SparseFormat-v0", "--episodes", 2, "--dataset-id", "s-v0", "--out", tmp_path]
    assert run(*args) == 0
    before = sorted(p.stat().st_mtime_ns for p in tmp_path.rglob("*"))
    capsys.readouterr()
    assert run(*args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "exists already" in err
    assert sorted(p.stat().st_mtime_ns for p in tmp_path.rglob("*")) == before
    for extra, message in [(["--dataset-id", "no version"], "must look like"),
                           (["--dataset-id", "o-v0", "--episodes", 0], "episodes must be"),
                           (["--dataset-id", "o-v0", "--agent", "nope"], "unknown agent"),
                           (["--dataset-id", "o-v0", "--seed", 2**63], "does not fit 64 bits")]:
        assert run(*args, *extra) == 2  # argparse: the last value of an option wins
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "o-v0").exists()
    assert run("collect", "Nope-v0", "--episodes", 1, "--dataset-id", "x-v0", "--out", tmp_path) == 2
    assert "unknown environment" in capsys.readouterr().err
