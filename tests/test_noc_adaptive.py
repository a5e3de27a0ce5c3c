"""NoCAdaptive-v0 and the core's per-router ugal decisions on a dragonflynew and a flatfly.

The shared checks (Gymnasium's and SB3's checkers, fuzzing, replay) run on the
registered id and its flatfly variant in tests/test_all_envs.py; here: the core hook
is exact (the default rule is BookSim's ugal, a router set to minimal routes as `min`
does on a dragonfly and as `ran_min` on a flatfly, one set to Valiant as `valiant`
on a flatfly), the env's spaces, reward and phases, and its refusals.
"""

from __future__ import annotations

import dataclasses
import re
import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import archgym  # noqa: F401  (registers the environments)
from archgym import noc
from archgym.envs.noc_adaptive import NoCAdaptiveEnv

SMALL = {"cycles_per_step": 200, "warmup_cycles": 200, "max_steps": 4}
ROUTERS = 36  # dragonflynew k = 2


def _config(routing: str, traffic: str, **kw) -> noc.NocConfig:
    return noc.NocConfig(topology="dragonflynew", k=2, n=1, routing_function=routing, num_vcs=3,
                         vc_buf_size=64, traffic=traffic, traffic_radix=72, injection_rate=0.2,
                         seed=5, **kw)


def _run(config: noc.NocConfig, decision: str | None = None, cycles: int = 1500) -> dict:
    net = noc.Network(config, record=True)
    if decision is not None:
        net.set_ugal_decisions(np.full(ROUTERS, noc.UGAL_DECISIONS.index(decision)))
    out = net.run(cycles)
    return {"delivered": out["delivered_packets"], **net.delivered()}


def _flatfly(routing: str, traffic: str, rate: float = 0.4, **kw) -> noc.NocConfig:
    """BookSim's flatflyconfig shape (4 x 4 routers of 4 nodes), 4 VCs as the oracle's curves."""
    return noc.NocConfig(topology="flatfly", k=4, n=2, c=4, routing_function=routing, num_vcs=4,
                         traffic=traffic, injection_rate=rate, seed=5, **kw)


def _same(a: dict, b: dict) -> bool:
    return a["delivered"] == b["delivered"] and all(np.array_equal(a[key], b[key]) for key in
                                                    ("src", "dst", "ctime", "itime", "atime", "hops"))


# ------------------------------------------------------------------ the core hook
def test_decision_names_come_from_the_core():
    assert noc.UGAL_DECISIONS == ("ugal_l", "min", "val", "ugal_g")
    assert noc.DRAGONFLY_PORT_CLASSES == ("local", "global")


@pytest.mark.parametrize("traffic", ["uniform", "tornado"])
def test_ugal_l_everywhere_is_booksims_ugal(traffic):
    assert _same(_run(_config("ugal", traffic)), _run(_config("ugal", traffic), "ugal_l"))


def test_minimal_everywhere_is_the_min_routing():
    # tornado over all 72 nodes sends no packet within its group, where min and ugal's
    # minimal paths use different VC classes; every other hop takes the same path on
    # VCs renamed one up (0, 1 -> 1, 2), and a minimal router draws no random number.
    assert _same(_run(_config("min", "tornado")), _run(_config("ugal", "tornado"), "min"))


def test_rules_differ_where_they_should():
    runs = {d: _run(_config("ugal", "tornado"), d) for d in noc.UGAL_DECISIONS}
    hops = {d: float(np.mean(r["hops"])) for d, r in runs.items()}
    assert hops["min"] < hops["ugal_l"] < hops["val"]          # Valiant paths are longer
    assert hops["min"] < hops["ugal_g"] < hops["val"]
    assert max(runs["min"]["hops"]) <= 4                       # local, global, local + ejection
    assert runs["val"]["delivered"] > runs["min"]["delivered"]  # tornado saturates minimal paths


def test_credits_in_use_per_port_class():
    net = noc.Network(_config("ugal", "uniform"))
    assert net.dragonfly_class_ports() == (3, 2)
    assert np.array_equal(net.dragonfly_credits_in_use(), np.zeros((ROUTERS, 2), np.int32))
    net.run(300)
    used = net.dragonfly_credits_in_use()
    free = net.credits()  # [routers, ports, V]: ports = 2 nodes, 3 local, 2 global
    assert np.array_equal(used[:, 0], (64 - free[:, 2:5]).sum(axis=(1, 2)))
    assert np.array_equal(used[:, 1], (64 - free[:, 5:7]).sum(axis=(1, 2)))
    assert used.sum() > 0


# ------------------------------------------------------------------ the flatfly hook
FLATFLY_ROUTERS = 16


def _run_flatfly(config: noc.NocConfig, decision: str | None = None, cycles: int = 1500) -> dict:
    net = noc.Network(config, record=True)
    if decision is not None:
        net.set_ugal_decisions(np.full(FLATFLY_ROUTERS, noc.UGAL_DECISIONS.index(decision)))
    out = net.run(cycles)
    return {"delivered": out["delivered_packets"], **net.delivered()}


@pytest.mark.parametrize("traffic", ["uniform", "asymmetric"])
@pytest.mark.parametrize("decision, routing", [("ugal_l", "ugal"), ("min", "ran_min"), ("val", "valiant")])
def test_flatfly_rules_are_the_cores_routings(decision, routing, traffic):
    """Every router on a rule routes exactly as the flatfly routing it names (same packets,
    same times, same hops), at a load where the rules' paths differ."""
    assert _same(_run_flatfly(_flatfly(routing, traffic)), _run_flatfly(_flatfly("ugal", traffic), decision))


def test_flatfly_rules_differ_where_they_should():
    runs = {d: _run_flatfly(_flatfly("ugal", "asymmetric", rate=0.5), d) for d in noc.UGAL_DECISIONS}
    hops = {d: float(np.mean(r["hops"])) for d, r in runs.items()}
    # asymmetric traffic stays in a column: a minimal path is 0 or 1 channel (hops 1-2),
    # Valiant's through any router about 2.5; the UGALs divert some packets at 0.5
    assert hops["min"] < hops["ugal_l"] < hops["val"]
    assert hops["min"] < hops["ugal_g"] < hops["val"]
    assert max(runs["min"]["hops"]) <= 2
    assert runs["val"]["delivered"] > runs["min"]["delivered"]  # 0.5 saturates the minimal channel
    uniform = {d: _run_flatfly(_flatfly("ugal", "uniform", rate=0.5), d) for d in ("min", "val")}
    assert uniform["min"]["delivered"] > uniform["val"]["delivered"]  # Valiant saturates at 0.35


def test_flatfly_credits_in_use_per_port_class():
    net = noc.Network(_flatfly("ugal", "uniform", vc_buf_size=8))
    assert net.flatfly_class_ports() == (3, 3) and noc.FLATFLY_PORT_CLASSES == ("row", "column")
    net.run(300)
    used = net.flatfly_credits_in_use()
    free = net.credits()  # [routers, ports, V]: ports = 4 nodes, 3 row, 3 column
    assert np.array_equal(used[:, 0], (8 - free[:, 4:7]).sum(axis=(1, 2)))
    assert np.array_equal(used[:, 1], (8 - free[:, 7:10]).sum(axis=(1, 2)))
    assert used[:, 0].sum() > 0 and used[:, 1].sum() > 0
    with pytest.raises(ValueError, match="not flatfly"):
        noc.Network(_config("ugal", "uniform")).flatfly_credits_in_use()


def test_node_routers_follow_the_node_grid():
    # flatfly: node v at (v mod 8, v // 8) of the 8 x 8 node grid, on router (x // 2, y // 2)
    routers = noc.Network(_flatfly("ugal", "uniform")).node_routers()
    v = np.arange(64)
    assert np.array_equal(routers, (v % 8) // 2 + 4 * ((v // 8) // 2))
    assert routers[8] == 0  # BookSim's example: node 8 is on router 0
    assert np.array_equal(noc.Network(_config("ugal", "uniform")).node_routers(), np.arange(72) // 2)


def test_bad_decisions_are_refused_with_one_line():
    net = noc.Network(_config("ugal", "uniform"))
    for bad, says in [(np.zeros(5, np.int64), "shape (36,)"), (np.full(ROUTERS, 4), "between 0 and 3"),
                      (np.full(ROUTERS, -1), "between 0 and 3"), (np.zeros(ROUTERS), "integer array")]:
        with pytest.raises(ValueError, match=re.escape(says)) as e:
            net.set_ugal_decisions(bad)
        assert "\n" not in str(e.value)
    mesh = noc.Network(noc.NocConfig(k=4))
    with pytest.raises(ValueError, match="dragonflynew or a flatfly only"):
        mesh.set_ugal_decisions(np.zeros(16, np.int64))


# ------------------------------------------------------------------ the env
def test_env_passes_gymnasiums_checker_per_router_and_per_group():
    for granularity in ("router", "group"):
        check_env(NoCAdaptiveEnv(granularity=granularity, **SMALL), skip_render_check=True)


def test_spaces_follow_the_network():
    env = NoCAdaptiveEnv(**SMALL)
    assert env.action_space.nvec.tolist() == [2] * ROUTERS
    assert env.observation_space.shape == (4 * ROUTERS + 3,)
    group = NoCAdaptiveEnv(granularity="group", decisions=noc.UGAL_DECISIONS, k=3, **SMALL)
    assert group.action_space.nvec.tolist() == [4] * 19  # 2k^2 + 1 groups of 6 routers
    assert group.observation_space.shape == (4 * 114 + 3,)


@pytest.mark.parametrize("topology, pattern, rate, routers", [
    ("dragonflynew", "tornado", 0.2, ROUTERS), ("flatfly", "asymmetric", 0.5, FLATFLY_ROUTERS)])
@pytest.mark.parametrize("decision", ["min", "val"])
def test_constant_actions_are_the_core_rules(topology, pattern, rate, routers, decision):
    """Every step's network is the core's under that rule: all-min (all-val) steps equal a
    network set to min (val) for the whole episode."""
    env = NoCAdaptiveEnv(topology=topology, decisions=noc.UGAL_DECISIONS, patterns=(pattern,),
                         rate_range=(rate, rate), **SMALL)
    env.reset(seed=3)
    delivered = []
    for _ in range(4):
        _, _, _, _, info = env.step(env.constant_action(decision))
        delivered.append(info["delivered_packets"])
        assert info["decisions"] == {d: routers if d == decision else 0 for d in noc.UGAL_DECISIONS}
    net = noc.Network(dataclasses.replace(env.base, seed=env._net.config.seed))
    net.set_traffic(pattern)  # the first phase, as the env sets it
    net.set_injection_rate(rate)
    net.run(200)  # the warm-up under ugal_l (the default rule)
    net.set_ugal_decisions(np.full(routers, noc.UGAL_DECISIONS.index(decision)))
    assert delivered == [net.run(200)["delivered_packets"] for _ in range(4)]


def test_flatfly_spaces_and_defaults():
    env = NoCAdaptiveEnv(topology="flatfly", **SMALL)
    assert env.action_space.nvec.tolist() == [2] * FLATFLY_ROUTERS
    assert env.observation_space.shape == (4 * FLATFLY_ROUTERS + 3,)
    assert env.topology.router_features == ("row_credits", "column_credits", "backlog", "latency")
    assert env.patterns == ("uniform", "asymmetric") and env.rate_range == (0.3, 0.6)
    assert (env.base.k, env.base.c, env.base.num_vcs, env.base.vc_buf_size, env.nodes) == (4, 4, 4, 8, 64)
    rows = NoCAdaptiveEnv(topology="flatfly", granularity="group", **SMALL)
    assert rows.action_space.nvec.tolist() == [2] * 4  # the rows of routers
    rows.reset(seed=0)
    info = rows.step(np.array([0, 1, 1, 1]))[4]  # row 0 minimal, the others Valiant
    assert info["decisions"] == {"ugal_l": 0, "min": 4, "val": 12, "ugal_g": 0}
    obs, *_ = rows.step(np.array([1, 1, 1, 1]))
    assert rows.observation_space.contains(obs) and obs[:-3].reshape(FLATFLY_ROUTERS, 4)[:, :2].sum() > 0


def test_reward_is_minus_latency_and_backlog_terms():
    env = NoCAdaptiveEnv(patterns=("tornado",), rate_range=(0.25, 0.25), **SMALL)
    env.reset(seed=0)
    for _ in range(4):
        _, reward, terminated, truncated, info = env.step(env.constant_action("min"))
        assert reward == pytest.approx(-(info["latency_term"] + info["backlog_term"]))
        assert info["backlog_term"] == pytest.approx(min(info["backlog_flits"] / (72 * 0.25), 1000.0))
        assert not terminated
    assert truncated and info["objective_sense"] == "min" and info["feasible"]


def test_phases_alternate_between_the_patterns():
    env = NoCAdaptiveEnv(phase_steps=(1, 2), **{**SMALL, "max_steps": 12})
    _, info = env.reset(seed=4)
    patterns = [info["pattern"]]
    phases = [0]
    for _ in range(12):
        info = env.step(env.action_space.sample())[4]
        if info["phase"] != phases[-1]:
            phases.append(info["phase"])
            patterns.append(info["pattern"])
    assert len(phases) >= 6 and phases == list(range(len(phases)))
    assert all(a != b for a, b in zip(patterns, patterns[1:]))


def test_same_seed_same_episode():
    def episode(seed):
        env = NoCAdaptiveEnv(**SMALL)
        env.action_space.seed(seed)
        obs, _ = env.reset(seed=seed)
        out = [obs]
        for _ in range(4):
            obs, reward, *_ = env.step(env.action_space.sample())
            out += [obs, reward]
        return out

    a, b, c = episode(1), episode(1), episode(2)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))


@pytest.mark.parametrize("kwargs, says", [
    ({"k": 5}, "k must be an integer in [2, 4]"),
    ({"k": 1}, "k must be an integer in [2, 4]"),
    ({"granularity": "node"}, "unknown granularity 'node'; allowed: router, group"),
    ({"decisions": ("min", "ugal")}, "unknown decision 'ugal'"),
    ({"decisions": ()}, "decisions must be a non-empty sequence"),
    ({"decisions": ("min", "min")}, "name one twice"),
    ({"patterns": ("transpose",)}, "not defined on a dragonflynew"),
    ({"rate_range": (0.3, 0.1)}, "low <= high"),
    ({"rate_range": (0.0, 0.1)}, "rate_range"),
    ({"phase_steps": (0, 3)}, "phase_steps"),
    ({"cycles_per_step": 0}, "cycles_per_step"),
    ({"latency_cap": float("nan")}, "latency_cap must be a finite number > 0"),
    ({"backlog_weight": -1}, "backlog_weight"),
    ({"vc_buf_size": 0}, "vc_buf_size"),
    ({"render_mode": "human"}, "unknown render_mode"),
    ({"topology": "fattree"}, "unknown topology 'fattree'; allowed: dragonflynew, flatfly"),
    ({"topology": "flatfly", "k": 3, "patterns": ("uniform", "bitrev")}, "this flatfly has 36)"),
    ({"topology": "flatfly", "k": 1}, "k must be an integer in [2,"),
])
def test_bad_arguments_are_refused_with_one_line(kwargs, says):
    with pytest.raises(ValueError, match=re.escape(says)) as e:
        NoCAdaptiveEnv(**kwargs)
    assert "\n" not in str(e.value)


def test_bad_actions_are_refused_and_the_episode_goes_on():
    env = NoCAdaptiveEnv(**SMALL)
    env.reset(seed=0)
    for bad in (np.full(ROUTERS, 2), np.zeros(5, np.int64), "min", np.full(ROUTERS, 0.5)):
        with pytest.raises(ValueError) as e:
            env.step(bad)
        assert "\n" not in str(e.value)
    env.step(env.constant_action("val"))
    with pytest.raises(ValueError, match="unknown decision 'ugal_g'"):
        env.constant_action("ugal_g")


def test_registered_and_renders():
    env = gym.make("NoCAdaptive-v0", render_mode="ansi", **SMALL)
    env.reset(seed=0)
    env.step(env.action_space.sample())
    text = env.render()
    assert "dragonflynew k=2" in text and "g8:" in text
    flatfly = gym.make("NoCAdaptive-v0", topology="flatfly", render_mode="ansi", **SMALL)
    flatfly.reset(seed=0)
    flatfly.step(flatfly.action_space.sample())
    text = flatfly.render()
    assert "flatfly k=4" in text and "per row (row/column" in text and "r3:" in text


# ------------------------------------------------------------------ the vector entry point
def test_make_vec_steps_copies_in_processes_as_single_envs_would():
    venv = gym.make_vec("NoCAdaptive-v0", num_envs=2, topology="flatfly", **SMALL)
    try:
        assert isinstance(venv, gym.vector.AsyncVectorEnv)
        single = [NoCAdaptiveEnv(topology="flatfly", **SMALL) for _ in range(2)]
        obs, _ = venv.reset(seed=[7, 8])
        expected = [env.reset(seed=seed)[0] for env, seed in zip(single, (7, 8))]
        assert np.array_equal(obs, np.stack(expected))
        actions = np.stack([single[0].constant_action("min"), single[1].constant_action("val")])
        for _ in range(4):
            obs, reward, _, truncated, _ = venv.step(actions)
            steps = [env.step(a) for env, a in zip(single, actions)]
            assert np.array_equal(obs, np.stack([s[0] for s in steps]))
            assert reward.tolist() == [s[1] for s in steps]
        assert truncated.all()
    finally:
        venv.close()


def test_make_vec_refuses_bad_arguments_in_the_callers_process():
    with pytest.raises(ValueError, match=re.escape("num_envs must be an integer >= 1, got 0")):
        gym.make_vec("NoCAdaptive-v0", num_envs=0)
    with pytest.raises(ValueError, match="unknown topology 'torus'"):
        gym.make_vec("NoCAdaptive-v0", num_envs=2, topology="torus")
