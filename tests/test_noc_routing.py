"""NoCRouting environments: contextual bandit, oracle, persistent and per-router variants."""

from __future__ import annotations

import dataclasses
import itertools
import math

import gymnasium as gym
import numpy as np
import pytest

import archgym  # noqa: F401  (registers the environments)
from archgym import noc
from archgym.envs import noc_routing as nr
from archgym.noc.booksim import read_network_file
from conftest import REFERENCE_DIR

# Short measurements keep these tables to a fraction of a second; the
# registered ids use BookSim's full procedure.
FAST = {"warmup_periods": 1, "sample_period": 500, "max_samples": 6}


def _episode(env, policy):
    obs, info = env.reset(seed=0)
    steps = [(obs, None, False, info)]
    done = False
    while not done:
        obs, reward, terminated, truncated, info = env.step(policy(len(steps) - 1, obs))
        assert truncated is False
        steps.append((obs, reward, terminated, info))
        done = terminated
    return steps


# ------------------------------------------------------- contextual bandit
def test_registered_default_is_the_paper_setting():
    env = gym.make("NoCRouting-v0").unwrapped
    assert env.base.k == 8 and env.patterns == ("shuffle",) and env.base.packet_size == 1
    assert env.routings == ("dor", "random_min", "west_first_oblivious", "west_first")
    assert env.action_space == gym.spaces.Discrete(4)
    assert env.observation_space.shape == (1,) and env.observation_space.dtype == np.float32
    # BookSim's measurement procedure, not a shortened one
    assert (env.base.warmup_periods, env.base.sample_period, env.base.max_samples) == (3, 1000, 10)
    assert env.base.latency_thres == 500.0 and env.latency_cap == 500.0


def test_one_step_per_rate_in_order_whatever_the_action():
    rates = (0.05, 0.15, 0.25)
    env = nr.NoCRoutingEnv(rates=rates, **FAST)
    for policy in (lambda t, o: 0, lambda t, o: 3 - t, lambda t, o: t % 2):
        steps = _episode(env, policy)
        assert len(steps) == len(rates) + 1  # reset + one step per rate
        assert [float(s[0][0]) for s in steps[:-1]] == pytest.approx(list(rates))
        assert [s[3]["state"] for s in steps] == [0, 0, 1, 2]
        assert [s[3]["rate"] for s in steps[1:]] == list(rates)
        assert [s[2] for s in steps[1:]] == [False, False, True]
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)


def test_reward_is_minus_capped_latency_of_measure():
    env = nr.NoCRoutingEnv(rates=(0.05, 0.2, 0.45), **FAST)
    env.reset(seed=0)
    for t in range(3):
        action = t % env.action_space.n
        _, reward, _, _, info = env.step(action)
        config = env.point_config(t, action)
        assert config.traffic == "shuffle" and config.injection_rate == (0.05, 0.2, 0.45)[t]
        assert config.routing_function == env.routings[action] and config.seed == 42
        expected = noc.measure(config)  # same config and seed -> bit-identical
        for key in ("avg_packet_latency", "avg_network_latency", "accepted_flit_rate", "status",
                    "total_cycles"):
            value = expected[key]
            assert info[key] == (None if isinstance(value, float) and math.isnan(value) else value), key
        if expected["status"] == "unstable":
            assert reward == -env.latency_cap and info["latency"] == env.latency_cap
        else:
            assert reward == -min(expected["avg_packet_latency"], env.latency_cap)
    # 0.45 is far past shuffle's saturation (~0.22-0.27): unstable, capped, finite
    assert info["status"] == "unstable" and reward == -500.0


def test_oracle_minimises_latency_and_has_zero_regret():
    env = nr.NoCRoutingEnv(rates=(0.05, 0.15, 0.2, 0.25, 0.3), **FAST)
    table = env.latency_table()
    assert table.shape == (1, 5, 4) and np.all(np.isfinite(table))
    assert np.all(table <= env.latency_cap) and np.all(table > 0)
    oracle = env.oracle_table()
    for s in range(env.num_states):
        best = env.best_action(s)
        assert best == oracle[0, s]
        assert table[0, s, best] == table[0, s].min()
        assert all(env.regret(s, a) == table[0, s, a] - table[0, s].min() >= 0 for a in range(4))
    # the oracle policy: regret 0 at every step, return = -sum of per-state minima
    steps = _episode(env, lambda t, obs: env.best_action(obs))
    assert all(s[3]["regret"] == 0.0 and s[3]["best_action"] == env.best_action(s[3]["state"])
               for s in steps[1:])
    assert sum(s[1] for s in steps[1:]) == pytest.approx(-table[0].min(axis=1).sum())
    # the routings differ somewhere in this sweep (otherwise the task is empty)
    assert np.ptp(table[0], axis=1).max() > 1.0
    # a fixed action's regret is what info reports
    steps = _episode(env, lambda t, obs: 0)
    assert [s[3]["regret"] for s in steps[1:]] == [env.regret(s, 0) for s in range(5)]


def test_table_is_measured_once_and_reproducible():
    kwargs = dict(rates=(0.1, 0.2), routings=("dor", "odd_even"), **FAST)
    first = nr.precompute(**kwargs)
    configs = [nr.NoCRoutingEnv(**kwargs).point_config(s, a) for s in range(2) for a in range(2)]
    assert all((c, None) in nr._CACHE for c in configs)
    nr.clear_cache()
    assert np.array_equal(nr.precompute(**kwargs), first)  # recomputed, same seed -> same table


def test_fixed_horizon_point_is_one_run_from_an_empty_network():
    env = nr.NoCRoutingEnv(rates=(0.1, 0.45), horizon=1500)
    assert env.latency_cap == 1500.0  # the horizon: no delivered packet reaches it
    env.reset(seed=0)
    for t, action in enumerate((0, 1)):
        _, reward, _, _, info = env.step(action)
        run = noc.Network(env.point_config(t, action)).run(1500)  # no warm-up, no drain
        assert info["avg_packet_latency"] == run["avg_latency"] == -reward == info["latency"]
        assert info["delivered_packets"] == run["delivered_packets"] > 0
        assert info["backlog_flits"] == run["backlog_flits"] and info["total_cycles"] == 1500
        assert info["status"] == "ok" and "sample_periods" not in info
    # past saturation the run's latency is many times zero-load's and grows with the horizon
    assert reward < -10 * env.latency_table()[0, 0, 0]
    longer = nr.NoCRoutingEnv(rates=(0.1, 0.45), horizon=3000).latency_table()
    assert longer[0, 1, 1] > 1.5 * -reward
    # a fixed run and a steady-state measurement of one config are cached apart
    config = env.point_config(1, 1)
    assert nr.measure_points([config])[0]["status"] == "unstable"
    assert nr.measure_points([config], horizon=1500)[0]["status"] == "ok"


def test_nocs19_variant_is_the_papers_regime():
    env = gym.make("NoCRouting-NOCS19-v0").unwrapped
    assert env.base.k == 8 and env.patterns == ("shuffle",) and env.base.packet_size == 1
    assert env.routings == nr.DEFAULT_ROUTINGS
    assert env.rates == (0.1, 0.2, 0.3, 0.4, 0.5, 0.6)
    assert env.horizon == 20_000 and env.latency_cap == 20_000.0
    table = env.latency_table()[0]
    # 0.1: every routing near zero load, within a cycle of each other
    assert table[0].max() - table[0].min() < 1.0 and table[0].max() < 40
    # 0.3 to 0.6: all four saturate (the paper's regime), latency uncapped past 500
    assert np.all(table[2:] > 300) and table[2:].max() > 2000
    assert all(env.figures(s, a)["backlog_flits"] > 0 for s in range(2, 6) for a in range(4))


def test_multi_pattern_variant():
    env = gym.make("NoCRouting-MultiPattern-v0", rates=(0.05, 0.1), **FAST).unwrapped
    P, R = len(env.patterns), len(env.rates)
    assert env.patterns == nr.MULTI_PATTERNS and env.observation_space.shape == (1 + P,)
    seen = set()
    for seed in range(12):
        obs, info = env.reset(seed=seed)
        p = env.patterns.index(info["pattern"])
        seen.add(p)
        assert obs[1 + p] == 1.0 and obs[1:].sum() == 1.0 and info["state"] == p * R
        assert env.state_index(obs) == p * R
    assert len(seen) > 1  # the pattern is drawn per episode
    assert env.oracle_table().shape == (P, R)


# ------------------------------------------------------------- persistent
def _persistent(**kwargs):
    return nr.NoCRoutingPersistentEnv(**{"cycles_per_step": 300, "warmup_cycles": 300, **kwargs})


def _reward_from_info(env, info):
    latency_term = env.latency_cap if info["latency"] is None else min(info["latency"], env.latency_cap)
    if info["latency"] is None and info["backlog_flits"] + info["in_network_flits"] == 0:
        latency_term = 0.0
    backlog_term = min(info["backlog_flits"] / (env.network.nodes * info["rate"]), env.latency_cap)
    return -(latency_term + env.backlog_weight * backlog_term)


def test_persistent_queues_carry_over_above_saturation():
    # transpose with DOR saturates at 0.14 flits/node/cycle: at 0.4 the source queues grow
    env = _persistent(routings=("dor",), patterns=("transpose",), rate_range=(0.4, 0.4),
                      phase_steps=(100, 100), max_steps=8)
    env.reset(seed=1)
    backlog, cycles = [], []
    for _ in range(6):
        _, reward, terminated, truncated, info = env.step(0)
        backlog.append(info["backlog_flits"])
        cycles.append(info["cycle"])
        assert reward == pytest.approx(_reward_from_info(env, info))
        assert not terminated and not truncated
    assert all(b > a for a, b in itertools.pairwise(backlog)), backlog
    assert cycles == [600 + 300 * i for i in range(6)]  # warm-up + steps, never restarted
    assert info["throughput"] < 0.4 * 0.8 and info["backlog_term"] > 0
    # below saturation the backlog stays small
    env = _persistent(routings=("dor",), patterns=("transpose",), rate_range=(0.05, 0.05), max_steps=8)
    env.reset(seed=1)
    for _ in range(6):
        _, reward, _, _, info = env.step(0)
        assert reward == pytest.approx(_reward_from_info(env, info))
    assert info["backlog_flits"] < 64 and info["throughput"] == pytest.approx(0.05, rel=0.3)


def test_persistent_phases_change_and_are_seeded():
    env = _persistent(phase_steps=(1, 2), max_steps=12)

    def schedule(seed):
        env.reset(seed=seed)
        out = []
        for t in range(12):
            _, reward, terminated, truncated, info = env.step(t % env.action_space.n)
            assert reward == pytest.approx(_reward_from_info(env, info))
            out.append((info["phase"], info["pattern"], info["rate"]))
        assert truncated and not terminated  # max_steps reached
        return out

    first = schedule(3)
    phases = [p for p, _, _ in first]
    assert phases[0] == 0 and phases[-1] >= 5 and phases == sorted(phases)
    for (p0, pat0, r0), (p1, pat1, r1) in itertools.pairwise(first):
        if p0 == p1:
            assert (pat0, r0) == (pat1, r1)  # a phase holds its pattern and rate
    assert len({(pat, r) for _, pat, r in first}) > 1
    assert all(0.02 <= r <= 0.32 for _, _, r in first)
    assert schedule(3) == first and schedule(4) != first


def test_persistent_observation():
    env = gym.make("NoCRouting-Persistent-v0").unwrapped
    n = env.k * env.k
    obs, _ = env.reset(seed=0)
    assert obs.shape == (9 * n + 4,) and obs.dtype == np.float32
    obs, _, _, _, info = env.step(0)
    link, occ, tail = obs[:4 * n].reshape(n, 4), obs[4 * n:9 * n].reshape(n, 5), obs[9 * n:]
    assert link.max() > 0 and occ.max() > 0
    k = env.k
    west_edge = np.arange(0, n, k)  # x = 0 routers have no -x link
    assert np.all(link[west_edge, 1] == 0) and np.all(link[np.arange(k - 1, n, k), 0] == 0)
    assert tail[1] == pytest.approx(info["throughput"], abs=1e-6)
    if info["latency"] is not None:
        assert tail[0] == pytest.approx(min(info["latency"] / env.latency_cap, 1.0), abs=1e-6)


@pytest.mark.parametrize("cycles_per_step, rate_range", [
    (1, (0.05, 0.3)),     # one cycle per step: most steps deliver nothing while flits are in flight
    (1, (0.6, 0.9)),      # saturating: source queues grow
    (3, (0.02, 0.02)),    # light load: steps with an empty network too
    (50, (0.4, 0.9)),
])
def test_persistent_reward_and_observation_share_the_latency_term(cycles_per_step, rate_range):
    """One rule for the latency term, in the reward and in the observation, over many steps:
    the capped latency of the packets delivered in the step, latency_cap if none was delivered
    while flits were queued or in the network, 0 if the network was empty."""
    env = _persistent(cycles_per_step=cycles_per_step, rate_range=rate_range, warmup_cycles=5,
                      phase_steps=(20, 40), max_steps=300)
    n = env.k * env.k
    env.reset(seed=0)
    cases = set()
    for t in range(300):
        obs, reward, terminated, truncated, info = env.step(t % env.action_space.n)
        waiting = info["backlog_flits"] + info["in_network_flits"]
        if info["delivered_packets"]:
            expected, case = min(info["latency"], env.latency_cap), "delivered"
        else:
            expected, case = (env.latency_cap, "waiting") if waiting else (0.0, "empty")
        cases.add(case)
        assert info["latency_term"] == expected, (t, info)
        assert obs[9 * n] == np.float32(expected / env.latency_cap), (t, info)
        assert reward == -(expected + env.backlog_weight * info["backlog_term"])
        assert not terminated
    assert truncated
    if cycles_per_step == 1:  # flits in flight, none delivered: the case that used to disagree
        assert "waiting" in cases and "delivered" in cases


def test_deadlock_ends_the_episode_with_the_documented_penalty():
    # Valiant on a mesh can deadlock (BookSim's too: transpose/valiant >= 0.21)
    env = _persistent(routings=("valiant",), patterns=("transpose",), rate_range=(0.3, 0.3),
                      cycles_per_step=500, max_steps=40)
    env.reset(seed=0)
    for _ in range(40):
        _, reward, terminated, truncated, info = env.step(0)
        if terminated or truncated:
            break
    assert terminated and not truncated
    assert info["status"] == "deadlock" and info["reason"] == "deadlock"
    assert reward == -(1 + env.backlog_weight) * env.latency_cap
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)


def test_switching_the_default_routings_never_deadlocks():
    # every default network-wide action turns within the west-first turn set
    assert nr.SWITCHABLE_ROUTINGS == gym.make("NoCRouting-Persistent-v0").unwrapped.routings
    for seed in range(3):
        env = _persistent(patterns=("uniform", "transpose"), rate_range=(0.3, 0.45), max_steps=30)
        env.reset(seed=seed)
        for t in range(30):
            _, _, terminated, _, info = env.step((t * 7 + seed) % 3)
            assert not terminated and info["status"] == "ok"


def test_per_router_action_space():
    env = gym.make("NoCRouting-PerRouter-v0").unwrapped
    n = env.k * env.k
    assert isinstance(env.action_space, gym.spaces.MultiDiscrete)
    assert env.action_space.nvec.tolist() == [len(noc.ROUTINGS_PER_ROUTER)] * n
    env.reset(seed=0)
    action = np.arange(n) % len(noc.ROUTINGS_PER_ROUTER)
    _, reward, _, _, info = env.step(action)
    assert info["routing"] == [noc.ROUTINGS_PER_ROUTER[i] for i in action]
    assert math.isfinite(reward) and reward == pytest.approx(_reward_from_info(env, info))
    with pytest.raises(ValueError, match="shape"):
        env.step(action[:-1])
    with pytest.raises(ValueError, match="out of range"):
        env.step(np.full(n, len(noc.ROUTINGS_PER_ROUTER)))


def test_per_router_routings_subset():
    """routings= names the per-router choices; action i picks routings[i] at that router."""
    env = gym.make("NoCRouting-PerRouter-v0", k=4, routings=("duato", "dor"), max_steps=2).unwrapped
    assert env.action_space.nvec.tolist() == [2] * 16
    env.reset(seed=0)
    action = np.arange(16) % 2
    info = env.step(action)[4]
    assert info["routing"] == ["duato", "dor"] * 8


@pytest.mark.parametrize("routings, words", [
    (("west_first",), ["per-router routing", "'west_first'", "allowed: dor, min_adapt"]),
    ((), ["per-router routing", "non-empty", "dor"]),
    ("", ["per-router routing", "''"]),
    (("dor", "dor"), ["twice"]),
])
def test_per_router_unknown_or_empty_routings_are_one_line_errors(routings, words):
    with pytest.raises(ValueError) as e:
        gym.make("NoCRouting-PerRouter-v0", routings=routings)
    message = str(e.value)
    assert "\n" not in message and all(w in message for w in words), message


# -------------------------------------------------------------- bad input
@pytest.mark.parametrize("cls, kwargs, words", [
    (nr.NoCRoutingEnv, {"traffic": "zigzag"}, ["traffic pattern", "'zigzag'", "shuffle"]),
    (nr.NoCRoutingEnv, {"traffic": ("uniform", "zigzag")}, ["'zigzag'"]),
    (nr.NoCRoutingEnv, {"routings": ("dor", "spiral")}, ["routing", "'spiral'", "odd_even"]),
    (nr.NoCRoutingEnv, {"rates": (0.1, 1.5)}, ["rates", "1.5", "(0, 1]"]),
    (nr.NoCRoutingEnv, {"rates": (-0.1,)}, ["rates", "-0.1"]),
    (nr.NoCRoutingEnv, {"rates": ()}, ["rates"]),
    (nr.NoCRoutingEnv, {"k": 1}, ["k must be", "between 2 and", "1"]),
    (nr.NoCRoutingEnv, {"latency_cap": float("inf")}, ["latency_cap"]),
    (nr.NoCRoutingEnv, {"render_mode": "human"}, ["render_mode", "'human'"]),
    (nr.NoCRoutingEnv, {"config_overrides": {"traffic": "uniform"}}, ["traffic"]),
    (nr.NoCRoutingEnv, {"horizon": 0}, ["horizon", "[1, 1000000]", "0"]),
    (nr.NoCRoutingEnv, {"horizon": 2.5}, ["horizon", "2.5"]),
    (nr.NoCRoutingEnv, {"horizon": True}, ["horizon"]),
    (nr.NoCRoutingEnv, {"horizon": nr.MAX_HORIZON + 1}, ["horizon", "1000001"]),
    (nr.NoCRoutingPersistentEnv, {"patterns": ("uniform", "zigzag")}, ["'zigzag'"]),
    (nr.NoCRoutingPersistentEnv, {"routings": ("spiral",)}, ["'spiral'"]),
    (nr.NoCRoutingPersistentEnv, {"rate_range": (0.1, 1.2)}, ["rate_range", "1.2"]),
    (nr.NoCRoutingPersistentEnv, {"rate_range": (0.3, 0.1)}, ["rate_range", "low <= high"]),
    (nr.NoCRoutingPersistentEnv, {"k": 1}, ["k must be"]),
    (nr.NoCRoutingPersistentEnv, {"phase_steps": (0, 3)}, ["phase_steps"]),
])
def test_bad_arguments_raise_value_error_with_the_name(cls, kwargs, words):
    with pytest.raises(ValueError) as e:
        cls(**kwargs)
    for word in words:
        assert word in str(e.value)


def test_bad_actions():
    env = nr.NoCRoutingEnv(rates=(0.1,), **FAST)
    env.reset(seed=0)
    for bad in (4, -1, 1.5, "1", None, np.array([0, 1])):
        with pytest.raises((ValueError, TypeError)):
            env.step(bad)
    env.step(np.int64(2))  # numpy integers are fine


# -------------------------------------------------------------- rendering
def test_render_ansi_and_rgb_array():
    for env in (nr.NoCRoutingEnv(rates=(0.1, 0.2), render_cycles=500, render_mode="ansi", **FAST),
                _persistent(render_mode="ansi")):
        env.reset(seed=0)
        env.step(1)
        text = env.render()
        assert isinstance(text, str) and "8x8 mesh" in text
        assert text.count("\no >") == 8 and text.count("\n^") == 7  # 8 router rows, links between
    for env in (nr.NoCRoutingEnv(rates=(0.1, 0.2), render_cycles=500, render_mode="rgb_array", **FAST),
                _persistent(render_mode="rgb_array")):
        env.reset(seed=0)
        env.step(1)
        img = env.render()
        assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
        assert img.shape[0] > 300 and img.shape[1] > 300 and len(np.unique(img.reshape(-1, 3), axis=0)) > 5
    assert nr.NoCRoutingEnv(rates=(0.1,), **FAST).render() is None


def test_heatmap_colours_follow_link_load():
    k = 2
    link = np.zeros((4, 4), dtype=np.float32)
    link[0, 0] = 1.0  # router 0 -> +x saturated
    link[0, 2] = 0.5  # router 0 -> +y (north) half loaded; everything else idle
    img = nr.mesh_rgb(k, link)
    r0, c0 = nr.MARGIN + nr.PITCH, nr.MARGIN  # router 0 is at the bottom left
    mid_r, mid_c = r0 + nr.ROUTER // 2, c0 + nr.ROUTER // 2
    east = img[mid_r - 3, c0 + nr.ROUTER + 5]  # upper bar: 0 -> 1 (+x)
    west = img[mid_r + 3, c0 + nr.ROUTER + 5]  # lower bar: 1 -> 0 (-x)
    north = img[r0 - 5, mid_c - 3]  # left bar above router 0: 0 -> 2 (+y)
    south = img[r0 - 5, mid_c + 3]  # right bar: 2 -> 0 (-y)
    assert east.tolist() == nr._colour(1.0).tolist() == [210, 40, 30]
    assert west.tolist() == south.tolist() == nr._colour(0.0).tolist() == [40, 44, 110]
    assert north.tolist() == nr._colour(0.5).tolist()
    assert nr.mesh_ansi(k, link).splitlines() == ["o >0<0 o", "^5v0   ^0v0", "o >#<0 o"]


# ------------------------------------------------------------- topologies
#: BookSim's anynet format: router 0 joins four leaf routers (2-cycle channels), each with
#: three nodes; node 12 sits on the root.
ANYNET = REFERENCE_DIR / "booksim" / "topologies" / "tree_anynet"
NETWORKS = {
    "torus": {"topology": "torus", "k": 4},
    "fly": {"topology": "fly", "k": 4, "n": 2},
    "anynet": {"topology": "anynet", "network_file": str(ANYNET)},
    "mesh3d": {"topology": "mesh", "k": 3, "n": 3},
}


@pytest.mark.parametrize("topology", noc.TOPOLOGIES)
def test_routing_set_is_the_one_the_core_accepts(topology):
    """routings_on lists exactly the routings a NocConfig of that network accepts."""
    graph = read_network_file(ANYNET) if topology == "anynet" else {}
    # (k, n, VCs) of networks that exist: a flatfly has n = 2, a dragonfly n = 1 and k <= 4
    shapes = {"flatfly": ((4, 2, 4), (3, 2, 2), (8, 2, 1)),
              "dragonflynew": ((2, 1, 3), (3, 1, 2), (4, 1, 1)),
              "cmesh": ((4, 2, 4), (3, 2, 2), (8, 2, 1))}
    for k, n, vcs in shapes.get(topology, ((4, 2, 4), (3, 3, 2), (8, 2, 1))):
        listed = noc.routings_on(topology, vcs, k=k, n=n)
        accepted = []
        for routing in noc.ROUTING_FUNCTIONS:
            try:
                noc.NocConfig(topology=topology, k=k, n=n, num_vcs=vcs, routing_function=routing,
                              **graph, **({"c": 4} if topology == "cmesh" else {}))
            except ValueError:
                continue
            accepted.append(routing)
        assert listed == tuple(accepted), (k, n, vcs)
    if topology in ("fly", "anynet"):
        assert noc.routings_on(topology, 4, k=4) == {"fly": ("dest_tag",), "anynet": ("min",)}[topology]
    per_router = noc.routings_on(topology, 4, k=4, per_router=True)
    assert per_router == (noc.ROUTINGS_PER_ROUTER if topology in ("mesh", "torus") else ())


def test_flatfly_ugal_pni_runs_with_c_equal_to_k():
    """BookSim's ugal_pni asserts k = c: in the routing set of a flatfly of 4 x 4 routers with
    8 VCs only with 4 nodes per router, and an environment refuses it otherwise."""
    assert "ugal_pni" in noc.routings_on("flatfly", 8, k=4, c=4)
    assert "ugal_pni" not in noc.routings_on("flatfly", 8, k=4)
    env = nr.NoCRoutingEnv(topology="flatfly", k=4, num_vcs=8, rates=(0.1,), config_overrides={"c": 4},
                           **FAST)
    assert "ugal_pni" in env.routings
    with pytest.raises(ValueError, match="'ugal_pni' does not run on this flatfly with c = 1"):
        nr.NoCRoutingEnv(topology="flatfly", k=4, num_vcs=8, rates=(0.1,), routings=("ugal", "ugal_pni"),
                         **FAST)


@pytest.mark.parametrize("name", NETWORKS)
def test_envs_take_the_routing_set_and_shape_of_the_topology(name):
    kwargs = NETWORKS[name]
    bandit = nr.NoCRoutingEnv(rates=(0.1,), **FAST, **kwargs)
    base = bandit.base
    routings = noc.routings_on(base.topology, base.num_vcs, k=base.k, n=base.n)
    assert bandit.routings == routings and bandit.action_space == gym.spaces.Discrete(len(routings))
    env = _persistent(max_steps=3, **kwargs)
    assert env.routings == routings
    shape = noc.network_shape(env.base)
    routers, links, ports = shape["routers"], shape["link_ports"], shape["ports"]
    assert (env.network.routers, env.network.nodes) == (routers, shape["nodes"])
    assert env.observation_space.shape == (routers * (links + ports) + 4,)
    env.reset(seed=0)
    obs, reward, _, _, info = env.step(0)
    assert obs.shape == env.observation_space.shape and obs[:routers * links].max() > 0
    assert obs[-3] == pytest.approx(info["throughput"], abs=1e-6)
    assert reward == pytest.approx(_reward_from_info(env, info))
    expected = {"torus": (16, 16, 4, 5), "fly": (8, 16, 4, 4), "anynet": (5, 13, 5, 5),
                "mesh3d": (27, 27, 6, 7)}[name]
    assert (routers, shape["nodes"], links, ports) == expected


@pytest.mark.parametrize("name", ["fly", "anynet"])
def test_persistent_observation_is_the_cores_statistics_router_by_router(name):
    """The network the env runs, rebuilt by hand from its seed (a reset draws the simulator's
    seed, then the first phase's pattern, rate and length): the observation is run()'s
    link_utilisation [routers, link_ports] then buffer_occupancy [routers, ports], flattened."""
    env = _persistent(max_steps=3, rate_range=(0.2, 0.3), **NETWORKS[name])
    env.reset(seed=5)
    obs, _, _, _, info = env.step(0)
    rng, _ = gym.utils.seeding.np_random(5)
    net = noc.Network(dataclasses.replace(env.base, seed=int(rng.integers(2**31 - 1))))
    pattern = env.patterns[int(rng.integers(len(env.patterns)))]
    net.set_traffic(pattern)
    net.set_injection_rate(float(rng.uniform(0.2, 0.3)))
    assert pattern == info["pattern"]
    net.run(300)
    out = net.run(300)
    link, occ = out["link_utilisation"], out["buffer_occupancy"]
    assert link.shape == (env.network.routers, env.network.link_ports) and link.max() > 0
    assert occ.shape == (env.network.routers, env.network.ports)
    np.testing.assert_array_equal(obs[:link.size], link.ravel())
    np.testing.assert_array_equal(obs[link.size:link.size + occ.size], occ.ravel())
    assert info["throughput"] == out["accepted_flit_rate"]


@pytest.mark.parametrize("name", ["fly", "anynet"])
def test_oracle_and_regret_on_a_single_routing_topology(name):
    """The exhaustive oracle over a one-routing set: the table is measure()'s, the regret 0."""
    env = nr.NoCRoutingEnv(rates=(0.05, 0.2, 0.5), **FAST, **NETWORKS[name])
    table = env.latency_table()
    assert table.shape == (1, 3, 1) and np.all(table > 0) and np.all(table <= env.latency_cap)
    for s in range(3):
        figures = noc.measure(env.point_config(s, 0))
        assert env.figures(s, 0)["avg_packet_latency"] == (
            None if math.isnan(figures["avg_packet_latency"]) else figures["avg_packet_latency"])
        assert env.best_action(s) == 0 and env.regret(s, 0) == 0.0
    steps = _episode(env, lambda t, obs: 0)
    assert [s[3]["regret"] for s in steps[1:]] == [0.0, 0.0, 0.0]
    assert [s[1] for s in steps[1:]] == [-x for x in table[0, :, 0]]
    assert table[0, 0, 0] < table[0, 1, 0]  # latency grows with the load


def test_oracle_on_a_torus_picks_the_lowest_latency_routing():
    env = nr.NoCRoutingEnv(rates=(0.1, 0.35), **FAST, **NETWORKS["torus"])
    table = env.latency_table()
    assert table.shape == (1, 2, len(env.routings)) and len(env.routings) == 7
    for s in range(2):
        assert table[0, s, env.best_action(s)] == table[0, s].min()
        assert [env.regret(s, a) for a in range(7)] == list(table[0, s] - table[0, s].min())
    assert np.ptp(table[0, 1]) > 1.0  # the routings differ under load


def test_per_router_on_a_torus_and_refused_where_there_is_nothing_to_mix():
    env = _persistent(per_router=True, max_steps=3, **NETWORKS["torus"])
    assert env.routings == noc.ROUTINGS_PER_ROUTER
    assert env.action_space.nvec.tolist() == [4] * 16
    env.reset(seed=0)
    action = np.arange(16) % 4
    _, reward, _, _, info = env.step(action)
    assert info["routing"] == [noc.ROUTINGS_PER_ROUTER[i] for i in action] and info["status"] == "ok"
    assert reward == pytest.approx(_reward_from_info(env, info))
    for name in ("fly", "anynet"):
        with pytest.raises(ValueError) as e:
            _persistent(per_router=True, **NETWORKS[name])
        assert str(e.value) == ("per_router=True needs a topology with per-router routings (mesh, "
                                f"torus); a {NETWORKS[name]['topology']} has none")


@pytest.mark.parametrize("kwargs, words", [
    ({"topology": "dragonfly"}, ["unknown topology 'dragonfly'", "mesh, torus, fly, anynet"]),
    ({"topology": "torus", "routings": ("west_first",)}, ["routing 'west_first'", "only available on a mesh",
                                                         "on a torus use one of", "dim_order"]),
    ({"topology": "fly", "routings": ("dor", "dest_tag")}, ["routing 'dor'", "on a fly use one of: dest_tag"]),
    ({"topology": "anynet"}, ["topology='anynet' needs network_file"]),
    ({"topology": "anynet", "network_file": "/no/such/graph"}, ["network_file", "'/no/such/graph'",
                                                                "No such file"]),
    ({"topology": "anynet", "network_file": str(REFERENCE_DIR / "booksim" / "README.md")},
     ["network_file README.md, line 1", "'router R'"]),
    ({"topology": "torus", "network_file": str(ANYNET)}, ["network_file describes an anynet", "'torus'"]),
    ({"topology": "anynet", "network_file": str(ANYNET), "traffic": "transpose"},
     ["'transpose'", "on an anynet use one of: uniform"]),
    ({"topology": "fly", "k": 3, "traffic": "shuffle"}, ["'shuffle' needs k to be a power of 2"]),
    ({"topology": "mesh", "n": 11}, ["n must be an integer between 1 and 10", "11"]),
    ({"topology": "torus", "k": 4, "num_vcs": 1, "routings": ("duato",)}, ["'duato' needs at least"]),
    ({"config_overrides": {"topology": "torus"}}, ["config_overrides may not set topology", "topology="]),
    ({"config_overrides": {"anynet_nodes": (0,)}}, ["anynet_nodes", "network_file="]),
    ({"config_overrides": {"sample_period": 10}}, ["sample_period", "sample_period="]),
])
def test_bad_network_arguments_are_one_line(kwargs, words):
    with pytest.raises(ValueError) as e:
        nr.NoCRoutingEnv(**kwargs)
    message = str(e.value)
    assert "\n" not in message and all(w in message for w in words), message


def test_persistent_defaults_follow_the_network():
    """Patterns: those of PHASE_PATTERNS the network defines; routings: its whole set off the 2-D mesh."""
    assert _persistent(**NETWORKS["anynet"]).patterns == ("uniform",)
    assert _persistent(**NETWORKS["mesh3d"]).patterns == ("uniform", "bitcomp", "tornado")
    assert _persistent(**NETWORKS["fly"]).patterns == nr.PHASE_PATTERNS
    assert _persistent(k=4).routings == nr.SWITCHABLE_ROUTINGS
    assert _persistent(**NETWORKS["mesh3d"]).routings == noc.routings_on("mesh", 4, k=3, n=3)
    with pytest.raises(ValueError, match="no per-router routing runs on this torus with num_vcs = 2"):
        _persistent(per_router=True, num_vcs=2, **NETWORKS["torus"])


def test_torus_deadlocks_come_from_chaos_alone():
    """The docstring's deadlock note: chaos (VC 0 only) deadlocks by itself on a torus; switching
    at random between the rest of the torus set does not."""
    chaos = _persistent(routings=("chaos",), patterns=("uniform",), rate_range=(0.45, 0.45),
                        max_steps=40, **NETWORKS["torus"])
    chaos.reset(seed=0)
    for _ in range(40):
        _, reward, terminated, _, info = chaos.step(0)
        if terminated:
            break
    assert terminated and info["reason"] == "deadlock"
    rest = tuple(r for r in noc.routings_on("torus", 4, k=4) if r != "chaos")
    for seed in range(3):
        env = _persistent(routings=rest, patterns=("uniform", "transpose", "tornado"), rate_range=(0.3, 0.45),
                          phase_steps=(2, 4), cycles_per_step=150, max_steps=30, **NETWORKS["torus"])
        env.reset(seed=seed)
        for t in range(30):
            assert not env.step((t * 5 + seed) % len(rest))[2]


@pytest.mark.parametrize("name", ["fly", "anynet"])
def test_render_any_network_as_a_table_of_ports(name):
    env = _persistent(render_mode="ansi", max_steps=3, **NETWORKS[name])
    env.reset(seed=0)
    env.step(0)
    text = env.render()
    rows = [line for line in text.splitlines() if line.startswith("router")]
    assert env.network.label in text and len(rows) == env.network.routers
    assert all(len(row.split(":")[1].split()) == env.network.link_ports for row in rows)
    img = _persistent(render_mode="rgb_array", max_steps=3, **NETWORKS[name])
    img.reset(seed=0)
    img.step(0)
    picture = img.render()
    assert picture.dtype == np.uint8 and picture.ndim == 3 and len(np.unique(picture.reshape(-1, 3), axis=0)) > 5
    assert nr.ports_ansi(np.array([[0.0, 0.35], [1.0, 0.96]])).splitlines() == ["router 0: 0 3", "router 1: # #"]


def test_ppo_runs_on_a_torus_and_a_fly():
    import agents

    for kwargs in (NETWORKS["torus"], NETWORKS["fly"]):
        result = agents.train("NoCRouting-Persistent-v0", "ppo", budget=2, seed=0,
                              env_kwargs={**kwargs, "cycles_per_step": 100, "warmup_cycles": 100,
                                          "max_steps": 4})
        assert result.samples == 2 and len(result.history) == 2
