"""Behavioural tests of HWResourceEnv / HWResourceVectorEnv (archgym.envs.hw_resource).

Every expectation is computed independently of the environment: from the MAESTRO
reference CSVs in ``tests/data/reference/maestro``, from the shipped layer tables
re-read with the csv module, or from ``archgym.costmodel.evaluate`` /
``evaluate_batch`` called directly per layer.  The generic checks (check_env, fuzz,
replay for every registered id) live in tests/test_all_envs.py and are not repeated.
"""

from __future__ import annotations

import csv
import functools
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import archgym  # noqa: F401  (registers the environments)
from archgym import costmodel as cm
from archgym import workloads
from archgym.envs.hw_resource import HWResourceEnv, HWResourceVectorEnv

PE = (1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128)
TILE = tuple(range(1, 13))
TABLES = Path(workloads.__file__).resolve().parent
MAESTRO_REL = 5e-6  # MAESTRO prints floats with 6 significant digits


# ----------------------------------------------------------------- helpers
@functools.cache
def table(name: str) -> tuple[tuple[int, ...], ...]:
    """Rows of a shipped layer table ("confuciux/mobilenet_v2"), read with csv only.

    Each row is (K, C, Y, X, R, S, T, stride, pad) (stride 1, pad 0 when absent).
    """
    with open(TABLES / f"{name}.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f)]
    return tuple(tuple(int(r[c]) for c in "KCYXRST") + (int(r.get("stride", 1)), int(r.get("pad", 0)))
                 for r in rows)


MNV2 = table("confuciux/mobilenet_v2")
L_MNV2 = len(MNV2)


def read_ref(reference_dir: Path, name: str) -> list[dict[str, str]]:
    with open(reference_dir / "maestro" / name, newline="") as f:
        return list(csv.DictReader(f))


@functools.cache
def ev(row: tuple, df: str, p: int, b: int, preset: str = "maestro2021",
       noc_bw: int = cm.CONFUCIUX_NOC_BW) -> dict:
    """costmodel.evaluate of one table row; depthwise rows always use dpt."""
    K, C, Y, X, R, S, T = row[:7]
    layer = cm.Layer(K=K, C=C, Y=Y, X=X, R=R, S=S, depthwise=T == 2)
    dataflow = cm.DATAFLOWS["dpt" if T == 2 else df]
    hw = cm.Hardware(num_pes=p, noc_bw=noc_bw)
    return cm.evaluate(layer, dataflow, hw, cm.confuciux_constants(pes=p, tile=b), preset=preset)


def corner_totals(rows, constraint: str, dfs=("dla",)) -> tuple[float, float]:
    """(min, max) corner totals: all P=1,B=1 (best dataflow) / all P=128,B=12 (worst)."""
    lo = sum(min(ev(r, d, 1, 1)[constraint] for d in dfs) for r in rows)
    hi = sum(max(ev(r, d, 128, 12)[constraint] for d in dfs) for r in rows)
    return lo, hi


def budget_of(rows, constraint: str, mul: float, dfs=("dla",)) -> float:
    lo, hi = corner_totals(rows, constraint, dfs)
    return lo + mul * (hi - lo)


def objective_of(objective: str, cycles, energy) -> float:
    return {"latency": cycles * 1.0, "energy": energy, "edp": cycles * energy}[objective]


def run_episode(env, actions, seed=None):
    """Reset, then step through ``actions`` until termination; list of step tuples."""
    obs0, info0 = env.reset(seed=seed)
    steps = []
    for a in actions:
        obs, r, term, trunc, info = env.step(a)
        assert trunc is False
        steps.append((obs, r, term, info))
        if term:
            break
    return obs0, info0, steps


def random_feasible_actions(rng, n, max_pe_level=9, n_df=None):
    """PE level <= 9 (64 PEs): each layer's area is below the mul=0.5 midpoint of the corners."""
    cols = [rng.integers(0, max_pe_level + 1, n), rng.integers(0, 12, n)]
    if n_df:
        cols.append(rng.integers(0, n_df, n))
    return np.stack(cols, axis=1)


def features(rows) -> np.ndarray:
    dims = np.array([r[:7] for r in rows], dtype=np.float64)
    return 2.0 * dims / dims.max(axis=0) - 1.0


# ------------------------------------------------- 1. reference totals (MAESTRO)
@pytest.mark.parametrize("dataflow, expected_total", [("dla", 23757644), ("shi", 27231956),
                                                      ("eye", 26720468)])
def test_reference_totals_p64_b4(reference_dir, dataflow, expected_total):
    ref = [r for r in read_ref(reference_dir, "mobilenet_v2_full_P64_B4.csv")
           if r["network_dataflow"] == dataflow]
    ref.sort(key=lambda r: int(r["layer_idx"]))
    assert [int(r["layer_idx"]) for r in ref] == list(range(L_MNV2))
    ref_cycles = [int(r["Runtime (Cycles)"]) for r in ref]
    assert sum(ref_cycles) == expected_total  # the README's ConfuciuX sums

    env = gym.make("HWResource-v0", dataflow=dataflow, mul=1.0)
    _, _, steps = run_episode(env, [(PE.index(64), TILE.index(4))] * L_MNV2)
    assert len(steps) == L_MNV2
    info = steps[-1][3]
    assert steps[-1][2] is True and "reason" not in info
    assert info["total_cycles"] == expected_total
    assert info["total_area"] == pytest.approx(sum(float(r["Area"]) for r in ref), rel=1e-5)
    assert info["total_power"] == pytest.approx(sum(float(r["Power"]) for r in ref), rel=1e-5)

    per_layer = info["per_layer"]
    assert [p["layer"] for p in per_layer] == list(range(L_MNV2))
    assert [p["cycles"] for p in per_layer] == ref_cycles
    for p, r in zip(per_layer, ref):
        assert p["dataflow"] == r["dataflow"]  # depthwise rows report dpt
        assert (p["pes"], p["tile"]) == (64, 4)
        assert p["macs"] == int(r["Num MACs"])
        assert p["l1_size"] == int(r["L1 SRAM Size Req (Bytes)"])
        assert p["l2_size"] == int(r["L2 SRAM Size Req (Bytes)"])
        for key, col in (("area", "Area"), ("power", "Power"),
                         ("energy", "Activity count-based Energy (nJ)")):
            assert p[key] == pytest.approx(float(r[col]), rel=MAESTRO_REL), (p["layer"], key)


@pytest.mark.parametrize("preset, ref_name", [
    ("maestro2021", "confuciux_grid_mobilenet_v2.csv"),
    ("maestro2020", "confuciux_grid_mobilenet_v2_maestro2020.csv"),
])
def test_grid_rows_through_dataflow_choice(reference_dir, preset, ref_name):
    """Per-layer figures of random grid rows, reached by stepping the DataflowChoice env."""
    by_layer: dict[int, list[dict]] = {}
    for r in read_ref(reference_dir, ref_name):
        by_layer.setdefault(int(r["layer_idx"]), []).append(r)
    l1_col = "L1 SRAM Size Req (Bytes)" if preset == "maestro2021" else "L1 SRAM Size (Bytes)"
    l2_col = l1_col.replace("L1", "L2")
    env = gym.make("HWResource-DataflowChoice-v0", preset=preset, mul=1.0)
    rng = np.random.default_rng(11)
    for _ in range(4):
        chosen = {i: rows[rng.integers(len(rows))] for i, rows in by_layer.items()}
        actions = []
        for i in range(L_MNV2):
            if i in chosen:
                r = chosen[i]
                df = r["dataflow"]
                actions.append((PE.index(int(r["P"])), TILE.index(int(r["B"])),
                                ("dla", "shi", "eye").index(df) if df != "dpt" else rng.integers(3)))
            else:
                actions.append((0, 0, 0))
        _, _, steps = run_episode(env, actions)
        assert len(steps) == L_MNV2
        for i, r in chosen.items():
            info = steps[i][3]
            assert info["layer"] == i and info["dataflow"] == r["dataflow"]
            assert info["cycles"] == int(r["Runtime (Cycles)"])
            assert info["macs"] == int(r["Num MACs"])
            assert info["l1_size"] == int(r[l1_col]) and info["l2_size"] == int(r[l2_col])
            for key, col in (("area", "Area"), ("power", "Power"),
                             ("energy", "Activity count-based Energy (nJ)")):
                assert info[key] == pytest.approx(float(r[col]), rel=MAESTRO_REL), (i, key, r)


def test_hardware_argument_bandwidth_sweep(reference_dir):
    """hardware=Hardware(noc_bw=...) reaches the core: bandwidth-sweep rows on a user Workload."""
    rows = read_ref(reference_dir, "bandwidth_sweep_mobilenet_v2.csv")
    assert len(rows) == 180
    for r in rows:
        dims = [int(r[c]) for c in "KCYXRST"]
        w = workloads.Workload(name="one", layers=np.array([dims]))
        env = HWResourceEnv(workload=w, dataflow=r["dataflow"], mul=1.0,
                            hardware=cm.Hardware(noc_bw=int(r["noc_bw_cstr"])))
        env.reset()
        *_, info = env.step([PE.index(int(r["P"])), TILE.index(int(r["B"]))])
        assert info["cycles"] == int(r["Runtime (Cycles)"]), r
        assert info["area"] == pytest.approx(float(r["Area"]), rel=MAESTRO_REL)
        assert info["power"] == pytest.approx(float(r["Power"]), rel=MAESTRO_REL)


# ---------------------------------------------------------------- 2. budget
@pytest.mark.parametrize("constraint", ["area", "power"])
@pytest.mark.parametrize("mul", [0.0, 0.5, 1.0])
def test_budget_from_corner_assignments(constraint, mul):
    expected = budget_of(MNV2, constraint, mul)
    env = gym.make("HWResource-v0", constraint=constraint, mul=mul)
    _, info = env.reset(seed=0)
    assert info["budget"] == pytest.approx(expected, rel=1e-12)
    *_, info = env.step([0, 0])
    assert info["budget"] == pytest.approx(expected, rel=1e-12)
    assert info["used"] == pytest.approx(ev(MNV2[0], "dla", 1, 1)[constraint], rel=1e-12)


def test_budget_dataflow_choice_uses_extreme_dataflow_per_corner():
    dfs = ("dla", "shi", "eye")
    expected = budget_of(MNV2, "area", 0.5, dfs)
    _, info = gym.make("HWResource-DataflowChoice-v0").reset(seed=0)
    assert info["budget"] == pytest.approx(expected, rel=1e-12)


# --------------------------------- 3. confuciux rewards (HWResource-ConfuciuX-v0)
@pytest.mark.parametrize("objective", ["latency", "energy", "edp"])
def test_confuciux_rewards_feasible_episode(objective):
    rng = np.random.default_rng({"latency": 1, "energy": 2, "edp": 3}[objective])
    actions = random_feasible_actions(rng, L_MNV2)
    env = gym.make("HWResource-ConfuciuX-v0", objective=objective)
    _, _, steps = run_episode(env, actions, seed=5)
    assert len(steps) == L_MNV2 and steps[-1][2] is True
    assert not any(term for _, _, term, _ in steps[:-1])
    objs, used, total_cycles = [], 0.0, 0
    for t, ((_, reward, _, info), a) in enumerate(zip(steps, actions)):
        # the info figures are those of costmodel.evaluate for this layer and action
        ref = ev(MNV2[t], "dla", PE[a[0]], TILE[a[1]])
        assert info["layer"] == t and (info["pes"], info["tile"]) == (PE[a[0]], TILE[a[1]])
        assert info["cycles"] == ref["runtime"]
        assert info["energy"] == pytest.approx(ref["energy"], rel=1e-12)
        assert info["area"] == pytest.approx(ref["area"], rel=1e-12)
        used += ref["area"]
        total_cycles += ref["runtime"]
        assert info["used"] == pytest.approx(used, rel=1e-12)
        assert info["total_cycles"] == total_cycles
        # r_t = raw_t - min(raw_1..raw_t), raw = -objective
        objs.append(objective_of(objective, info["cycles"], info["energy"]))
        expected = -objs[-1] - min(-o for o in objs)
        assert reward == pytest.approx(expected, rel=1e-12, abs=1e-9 * max(objs)), t
        assert reward >= 0.0
    assert sum(s[1] for s in steps) > 0.0


@pytest.mark.parametrize("constraint", ["area", "power"])
def test_confuciux_budget_exceeded(constraint):
    rng = np.random.default_rng(21)
    small = [(int(rng.integers(0, 5)), int(rng.integers(0, 12))) for _ in range(6)]
    actions = small + [(11, 11)] * (L_MNV2 - len(small))
    budget = budget_of(MNV2, constraint, 0.0)
    # independent: the first step whose running total passes the budget
    used, stop = 0.0, None
    for t, a in enumerate(actions):
        used += ev(MNV2[t], "dla", PE[a[0]], TILE[a[1]])[constraint]
        if used > budget:
            stop = t
            break
    assert stop is not None and stop >= len(small)

    env = gym.make("HWResource-ConfuciuX-v0", constraint=constraint, mul=0.0)
    _, _, steps = run_episode(env, actions, seed=0)
    assert len(steps) == stop + 1
    assert not any(term for _, _, term, _ in steps[:-1])
    assert all("reason" not in s[3] for s in steps[:-1])
    _, reward, term, info = steps[-1]
    assert term is True and info["reason"] == "budget exceeded"
    assert info["budget"] == pytest.approx(budget, rel=1e-12)
    assert info["used"] == pytest.approx(used, rel=1e-12)
    earlier = sum(s[1] for s in steps[:-1])
    assert earlier > 0.0  # otherwise the penalty would be trivially 0
    assert reward == pytest.approx(-earlier * (used - budget) / budget, rel=1e-9)
    assert reward < 0.0
    assert [p["layer"] for p in info["per_layer"]] == list(range(stop + 1))
    with pytest.raises(RuntimeError):
        env.step([0, 0])


def test_small_overshoot_ends_episode():
    """Exceeding the budget by under 1 % (mul=0, one layer at 2 PEs) is caught at the last layer."""
    actions = [(0, 0)] * L_MNV2
    actions[10] = (1, 0)
    budget = budget_of(MNV2, "area", 0.0)
    used = sum(ev(MNV2[t], "dla", PE[a[0]], TILE[a[1]])["area"] for t, a in enumerate(actions))
    assert 0.0 < (used - budget) / budget < 1e-2
    env = gym.make("HWResource-v0", mul=0.0)
    _, _, steps = run_episode(env, actions, seed=0)
    assert len(steps) == L_MNV2
    assert all("reason" not in s[3] for s in steps[:-1])
    assert steps[-1][3]["reason"] == "budget exceeded"
    assert steps[-1][3]["used"] == pytest.approx(used, rel=1e-12)


@pytest.mark.parametrize("mul, action", [(1.0, (11, 11)), (0.0, (0, 0))])
def test_corner_assignment_is_feasible(mul, action):
    """Taking the corner action everywhere uses exactly the budget (min or max), so is feasible."""
    env = gym.make("HWResource-v0", mul=mul)
    _, _, steps = run_episode(env, [action] * L_MNV2, seed=0)
    assert len(steps) == L_MNV2
    info = steps[-1][3]
    assert "reason" not in info and info["feasible"] is True
    assert -1.0 <= steps[-1][1] < 0.0  # the default ("plain") reward of a feasible design


# -------------------------------------------------------------- 4. plain mode
def plain_reference(rows, objective: str) -> float:
    """Sum over layers of the worst objective over all 144 actions (dla / dpt)."""
    layers, df_index, pes, tiles = [], [], [], []
    for r in rows:
        for p in PE:
            for b in TILE:
                K, C, Y, X, R, S, T = r[:7]
                layers.append(cm.Layer(K=K, C=C, Y=Y, X=X, R=R, S=S, depthwise=T == 2))
                df_index.append(1 if T == 2 else 0)
                pes.append(p)
                tiles.append(b)
    n = len(layers)
    hw = np.tile(np.array(cm.Hardware().row(), dtype=np.int64), (n, 1))
    hw[:, cm.HARDWARE_FIELDS.index("num_pes")] = pes
    res = cm.evaluate_batch(layers, [cm.DATAFLOWS["dla"], cm.DATAFLOWS["dpt"]], hw,
                            {"KTileSz": np.array(tiles), "ClusterSz": np.array(pes), "CTileSz": 1},
                            df_index=df_index)
    obj = objective_of(objective, res["runtime"].astype(np.float64), res["energy"])
    return float(obj.reshape(len(rows), 144).max(axis=1).sum())


@pytest.mark.parametrize("objective", ["latency", "edp"])
def test_plain_mode_feasible(objective):
    reference = plain_reference(MNV2, objective)
    rng = np.random.default_rng(31)
    actions = random_feasible_actions(rng, L_MNV2)
    env = gym.make("HWResource-v0", reward_mode="plain", objective=objective)
    _, _, steps = run_episode(env, actions, seed=0)
    assert len(steps) == L_MNV2
    assert all(s[1] == 0.0 for s in steps[:-1])
    total = sum(objective_of(objective, ev(MNV2[t], "dla", PE[a[0]], TILE[a[1]])["runtime"],
                             ev(MNV2[t], "dla", PE[a[0]], TILE[a[1]])["energy"])
                for t, a in enumerate(actions))
    final = steps[-1][1]
    assert final == pytest.approx(-total / reference, rel=1e-9)
    assert -1.0 <= final < 0.0
    assert steps[-1][3]["objective"] == pytest.approx(total, rel=1e-9)


def test_plain_mode_infeasible():
    budget = budget_of(MNV2, "area", 0.0)
    env = gym.make("HWResource-v0", reward_mode="plain", mul=0.0)
    _, _, steps = run_episode(env, [(11, 11)] * L_MNV2, seed=0)
    used, stop = 0.0, None
    for t in range(L_MNV2):
        used += ev(MNV2[t], "dla", 128, 12)["area"]
        if used > budget:
            stop = t
            break
    assert len(steps) == stop + 1
    assert all(s[1] == 0.0 for s in steps[:-1])
    _, reward, term, info = steps[-1]
    assert term and info["reason"] == "budget exceeded"
    assert reward == pytest.approx(-1.0 - (used - budget) / budget, rel=1e-9)
    assert reward < -1.0


# -------------------------------------------------------------- 5. observation
def test_observation_shows_next_layer():
    feats, L = features(MNV2), L_MNV2
    env = gym.make("HWResource-v0")
    rng = np.random.default_rng(41)
    actions = random_feasible_actions(rng, L)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (11,) and obs.dtype == np.float32
    np.testing.assert_allclose(obs[:7], feats[0], atol=1e-6)
    np.testing.assert_allclose(obs[7:], [-1.0, -1.0, -1.0, 0.0], atol=1e-6)
    for t, a in enumerate(actions):
        obs, _, term, _, _info = env.step(a)
        assert obs.shape == (11,) and obs.dtype == np.float32
        assert env.observation_space.contains(obs)
        done = t + 1
        if done < L:
            np.testing.assert_allclose(obs[:7], feats[done], atol=1e-6)
            assert obs[7] == pytest.approx(2.0 * done / L - 1.0, abs=1e-6)
        else:
            assert term
            np.testing.assert_array_equal(obs[:7], -1.0)
        assert obs[8] == pytest.approx(2.0 * PE[a[0]] / 128 - 1.0, abs=1e-6)
        assert obs[9] == pytest.approx(2.0 * TILE[a[1]] / 12 - 1.0, abs=1e-6)
        assert obs[10] == pytest.approx(done / L, abs=1e-6)


def test_observation_lag_shows_assigned_layer():
    feats, L = features(MNV2), L_MNV2
    env = gym.make("HWResource-v0", obs_lag=True)
    obs, _ = env.reset(seed=0)
    np.testing.assert_allclose(obs[:7], feats[0], atol=1e-6)
    for t in range(L):
        a = (t % 10, (3 * t) % 12)
        obs, _, term, _, info = env.step(a)
        assert info["layer"] == t
        np.testing.assert_allclose(obs[:7], feats[t], atol=1e-6)
        assert obs[7] == pytest.approx(2.0 * t / L - 1.0, abs=1e-6)
        assert obs[8] == pytest.approx(2.0 * PE[a[0]] / 128 - 1.0, abs=1e-6)
        assert obs[9] == pytest.approx(2.0 * TILE[a[1]] / 12 - 1.0, abs=1e-6)
        assert obs[10] == pytest.approx((t + 1) / L, abs=1e-6)
        assert env.observation_space.contains(obs)
    assert term


def shuffled_episode(env, seed):
    """(layers in assignment order, the layer each observation announced)."""
    obs, _ = env.reset(seed=seed)
    layers, shown = [], [obs]
    for t in range(L_MNV2):
        obs, _, term, _, info = env.step([t % 8, t % 12])
        layers.append(info["layer"])
        shown.append(obs)
    assert term
    return layers, shown


def test_shuffle_order_is_seeded_permutation():
    feats, L = features(MNV2), L_MNV2
    env = gym.make("HWResource-v0", shuffle=True)
    a1, shown = shuffled_episode(env, 123)
    a2, _ = shuffled_episode(gym.make("HWResource-v0", shuffle=True), 123)
    b, _ = shuffled_episode(env, 124)
    assert sorted(a1) == list(range(L)) and sorted(b) == list(range(L))
    assert a1 == a2
    assert a1 != b
    assert a1 != list(range(L))
    # the observation before each step announces the layer that step assigns
    for t, layer in enumerate(a1):
        np.testing.assert_allclose(shown[t][:7], feats[layer], atol=1e-6)
        assert shown[t][7] == pytest.approx(2.0 * layer / L - 1.0, abs=1e-6)
    # the per-layer figures follow the shuffled layer, not the step index
    env.reset(seed=123)
    *_, info = env.step([9, 3])
    assert info["layer"] == a1[0]
    assert info["cycles"] == ev(MNV2[a1[0]], "dla", 64, 4)["runtime"]


# ------------------------------------------------------ 6. dataflow choice
def test_dataflow_choice_variant():
    env = gym.make("HWResource-DataflowChoice-v0")
    assert isinstance(env.action_space, gym.spaces.MultiDiscrete)
    np.testing.assert_array_equal(env.action_space.nvec, [12, 12, 3])
    rng = np.random.default_rng(51)
    actions = random_feasible_actions(rng, L_MNV2, n_df=3)
    actions[::3, 2] = 1  # plenty of shi
    _, _, steps = run_episode(env, actions, seed=0)
    assert len(steps) == L_MNV2
    seen = set()
    for t, ((_, _, _, info), a) in enumerate(zip(steps, actions)):
        depthwise = MNV2[t][6] == 2
        df = "dpt" if depthwise else ("dla", "shi", "eye")[a[2]]
        assert info["dataflow"] == df
        ref = ev(MNV2[t], df, PE[a[0]], TILE[a[1]])
        assert info["cycles"] == ref["runtime"]
        assert info["energy"] == pytest.approx(ref["energy"], rel=1e-12)
        assert info["area"] == pytest.approx(ref["area"], rel=1e-12)
        seen.add(df)
    assert seen == {"dla", "shi", "eye", "dpt"}


def test_dataflow_choice_shi_differs_from_dla():
    """Choosing shi really changes the cost of a non-depthwise layer."""
    env = gym.make("HWResource-DataflowChoice-v0")
    env.reset(seed=0)
    *_, info = env.step([9, 3, 1])  # layer 0: CONV
    assert info["dataflow"] == "shi"
    assert info["cycles"] == ev(MNV2[0], "shi", 64, 4)["runtime"]
    assert info["cycles"] != ev(MNV2[0], "dla", 64, 4)["runtime"]
    for choice in range(3):  # layer 1 is depthwise: dpt whatever the choice
        env.reset(seed=0)
        env.step([0, 0, 0])
        *_, info = env.step([9, 3, choice])
        assert info["dataflow"] == "dpt"
        assert info["cycles"] == ev(MNV2[1], "dpt", 64, 4)["runtime"]


def test_dataflow_object_argument():
    """A costmodel.Dataflow is accepted and gives the same figures as its name."""
    env = HWResourceEnv(dataflow=cm.DATAFLOWS["eye"])
    env.reset()
    *_, info = env.step([9, 3])
    assert info["cycles"] == ev(MNV2[0], "eye", 64, 4)["runtime"]


# ------------------------------------------------------------ 7. vector env
def _vector_actions(L: int, n_steps: int) -> np.ndarray:
    rng = np.random.default_rng(61)
    acts = np.stack([random_feasible_actions(rng, n_steps) for _ in range(4)])
    acts[2, :, 0] = 11  # copy 2 always takes 128 PEs: it exceeds the budget
    return acts  # (4, n_steps, 2)


@pytest.mark.parametrize("reward_mode, obs_lag", [("confuciux", False), ("confuciux", True),
                                                  ("plain", False)])
def test_vector_env_matches_single_envs(reward_mode, obs_lag):
    n, L = 4, L_MNV2
    n_steps = 2 * L + 6
    acts = _vector_actions(L, n_steps)
    venv = gym.make_vec("HWResource-v0", num_envs=n, vectorization_mode="vector_entry_point",
                        reward_mode=reward_mode, obs_lag=obs_lag)
    assert isinstance(venv.unwrapped, HWResourceVectorEnv)
    singles = [gym.make("HWResource-v0", reward_mode=reward_mode, obs_lag=obs_lag)
               for _ in range(n)]
    vobs, vinfo = venv.reset(seed=0)
    assert vobs.shape == (n, 11) and vobs.dtype == np.float32
    for i, env in enumerate(singles):
        o, info = env.reset(seed=i)
        np.testing.assert_array_equal(vobs[i], o)
        assert vinfo["budget"][i] == pytest.approx(info["budget"], rel=1e-12)
    pending = [False] * n
    terminations = {i: [] for i in range(n)}
    overshoot_steps = []
    for s in range(n_steps):
        vobs, vrew, vterm, vtrunc, vinfo = venv.step(acts[:, s])
        assert not vtrunc.any()
        for i, env in enumerate(singles):
            if pending[i]:  # NEXT_STEP autoreset: reset observation, reward 0, not terminated
                o, _ = env.reset()
                r, term, info = 0.0, False, None
                pending[i] = False
            else:
                o, r, term, trunc, info = env.step(acts[i, s])
                assert not trunc
                pending[i] = term
            np.testing.assert_array_equal(vobs[i], o, err_msg=f"step {s} env {i}")
            assert vrew[i] == pytest.approx(r, rel=1e-12, abs=1e-300), (s, i)
            assert bool(vterm[i]) == term, (s, i)
            if info is not None:
                assert vinfo["cycles"][i] == info["cycles"]
                assert vinfo["area"][i] == pytest.approx(info["area"], rel=1e-12)
                assert vinfo["used"][i] == pytest.approx(info["used"], rel=1e-12)
                over = info.get("reason") == "budget exceeded"
                if over:
                    overshoot_steps.append((s, i))
                assert ("reason" in vinfo and vinfo["reason"][i] == "budget exceeded") == over
            if term:
                terminations[i].append(s)
    # copy 2 ran out of budget (more than once), the others finished their layers
    assert terminations[2] and all(i == 2 for _, i in overshoot_steps)
    assert len(overshoot_steps) >= 2
    assert terminations[0] == [L - 1, 2 * L]
    # at copy 2's budget termination no other copy terminated
    s0 = overshoot_steps[0][0]
    assert all(s0 not in terminations[i] for i in (0, 1, 3))


def vector_shuffled_orders(seed):
    """Layer order of each copy of a shuffled vector env, read back from obs[:, 7]."""
    n, L = 3, L_MNV2
    venv = HWResourceVectorEnv(num_envs=n, shuffle=True)
    obs, _ = venv.reset(seed=seed)
    orders = [[] for _ in range(n)]
    for t in range(L):
        for i in range(n):
            orders[i].append(round((float(obs[i, 7]) + 1.0) * L / 2.0))
        obs, _, term, _, _ = venv.step(np.tile([[t % 8, t % 12]], (n, 1)))
    assert term.all()
    return orders


def test_vector_env_shuffle():
    a, b, c = vector_shuffled_orders(5), vector_shuffled_orders(5), vector_shuffled_orders(6)
    assert a == b and a != c
    for order in a + c:
        assert sorted(order) == list(range(L_MNV2))
    assert a[0] != a[1] and a[0] != list(range(L_MNV2))


def test_vector_env_rejects_bad_actions():
    venv = HWResourceVectorEnv(num_envs=2)
    venv.reset(seed=0)
    with pytest.raises(ValueError, match="shape"):
        venv.step(np.zeros((3, 2), dtype=np.int64))
    with pytest.raises(ValueError, match="range"):
        venv.step(np.array([[0, 0], [12, 0]]))
    with pytest.raises(ValueError, match="num_envs"):
        HWResourceVectorEnv(num_envs=0)


# ------------------------------------------------------------- 8. bad input
@pytest.mark.parametrize("kwargs, match", [
    ({"workload": "no_such_net"}, "workload"),
    ({"workload": 42}, "workload"),
    ({"dataflow": "tpu"}, "dataflow"),
    ({"objective": "throughput"}, "objective"),
    ({"constraint": "energy"}, "constraint"),
    ({"reward_mode": "dense"}, "reward_mode"),
    ({"preset": "maestro2019"}, "preset"),
    ({"render_mode": "human"}, "render_mode"),
    ({"mul": -0.1}, "mul"),
    ({"mul": 1.5}, "mul"),
    ({"mul": float("nan")}, "mul"),
    ({"mul": "0.5"}, "mul"),
    ({"hardware": "str"}, "hardware must be an archgym.costmodel.Hardware or None"),
    ({"hardware": ""}, "hardware must be an archgym.costmodel.Hardware or None"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        HWResourceEnv(**kwargs)
    with pytest.raises(ValueError, match=match):
        HWResourceVectorEnv(num_envs=2, **kwargs)


def test_vector_env_rejects_unknown_render_mode():
    with pytest.raises(ValueError, match="render_mode"):
        HWResourceVectorEnv(num_envs=2, render_mode="human")


def test_numpy_scalar_mul_accepted():
    env = HWResourceEnv(mul=np.float32(0.5))
    assert env.setup.budget == pytest.approx(budget_of(MNV2, "area", 0.5), rel=1e-12)


def test_dataflow_with_unknown_constant_is_rejected():
    df = cm.Dataflow.parse("SpatialMap(Foo,Foo) K; TemporalMap(1,1) C;", name="foo")
    with pytest.raises(ValueError, match="Foo"):
        HWResourceEnv(dataflow=df)


def test_user_workload_csv(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("K,C,Y,X,R,S,T\n16,3,32,32,3,3,1\n8,16,30,30,3,3,3\n")
    with pytest.raises(ValueError, match=r"bad\.csv.*line 3.*T"):
        workloads.load_csv(bad)
    good = tmp_path / "good.csv"
    good.write_text("K,C,Y,X,R,S,T\n16,3,32,32,3,3,1\n1,16,30,30,3,3,2\n8,16,28,28,1,1,1\n")
    w = workloads.load_csv(good)
    env = HWResourceEnv(workload=w, mul=1.0)
    rows = [(16, 3, 32, 32, 3, 3, 1), (1, 16, 30, 30, 3, 3, 2), (8, 16, 28, 28, 1, 1, 1)]
    obs, _ = env.reset(seed=0)
    np.testing.assert_allclose(obs[:7], features(rows)[0], atol=1e-6)
    for t, row in enumerate(rows):
        obs, _, term, _, info = env.step([5, 2])
        assert info["cycles"] == ev(row, "dla", 16, 3)["runtime"]
    assert term and info["total_cycles"] == sum(ev(r, "dla", 16, 3)["runtime"] for r in rows)


@pytest.mark.parametrize("action, match", [
    ([12, 0], "range"),
    ([0, 12], "range"),
    ([-1, 0], "range"),
    ([0, 0, 0], "shape"),
    ([[0, 0]], "shape"),
    ([0], "shape"),
    ([float("nan"), 0], "integer"),
    ([1.5, 0], "integer"),
    ("ab", "integer"),
    (None, "integer"),
    ([True, False], "integer"),
])
def test_bad_actions(action, match):
    env = HWResourceEnv()
    env.reset(seed=0)
    with pytest.raises(ValueError, match=match):
        env.step(action)
    # the failed step changed nothing: the next valid step assigns layer 0
    _obs, _, _, _, info = env.step([9, 3])
    assert info["layer"] == 0 and info["total_cycles"] == info["cycles"]
    assert info["cycles"] == ev(MNV2[0], "dla", 64, 4)["runtime"]


def test_float_integral_action_accepted():
    env = HWResourceEnv()
    env.reset(seed=0)
    *_, info = env.step(np.array([9.0, 3.0]))
    assert (info["pes"], info["tile"]) == (64, 4)


def test_bad_actions_dataflow_choice():
    env = HWResourceEnv(dataflow="choose")
    env.reset(seed=0)
    with pytest.raises(ValueError, match="range"):
        env.step([0, 0, 3])
    with pytest.raises(ValueError, match="shape"):
        env.step([0, 0])


def test_step_after_end_raises():
    env = HWResourceEnv(workload=workloads.Workload(name="one", layers=np.array([[8, 8, 8, 8, 3, 3, 1]])))
    env.reset(seed=0)
    *_, term, _, _ = env.step([0, 0])
    assert term
    with pytest.raises(RuntimeError, match="reset"):
        env.step([0, 0])
    env.reset()
    env.step([0, 0])  # usable again after reset


# ---------------------------------------------------------- 9. stride_aware
def expected_macs(rows, stride_aware: bool) -> list[int]:
    out = []
    for K, C, Y, X, R, S, T, stride, pad in rows:
        if not stride_aware:
            stride, pad = 1, 0
        yo = (Y + 2 * pad - R) // stride + 1
        xo = (X + 2 * pad - S) // stride + 1
        out.append((C if T == 2 else K * C) * yo * xo * R * S)
    return out


@pytest.mark.parametrize("stride_aware", [True, False])
def test_stride_aware_macs_corrected_mobilenet(stride_aware):
    rows = table("corrected/mobilenet_v2")
    assert any(r[7] > 1 for r in rows) and any(r[8] > 0 for r in rows)
    env = gym.make("HWResource-v0", workload="corrected/mobilenet_v2", stride_aware=stride_aware)
    # tile 1 (B = 1): dpt counts MACs exactly; dla is always exact
    _, _, steps = run_episode(env, [(PE.index(32), 0)] * len(rows), seed=0)
    assert len(steps) == len(rows)
    per_layer = steps[-1][3]["per_layer"]
    macs = expected_macs(rows, stride_aware)
    assert [p["macs"] for p in per_layer] == macs
    assert sum(p["macs"] for p in per_layer) == sum(macs)
    if stride_aware:
        assert sum(macs) < sum(expected_macs(rows, False))


@pytest.mark.parametrize("stride_aware", [True, False])
def test_steps_match_costmodel_per_layer(stride_aware):
    """Each step's figures are costmodel.evaluate's for the table's layer (with
    the effective Y, X under stride_aware), the action's PEs, tile and dataflow:
    the environment's prepared rows hold every field under its own name."""
    rows = table("corrected/mobilenet_v2")
    env = HWResourceEnv(workload="corrected/mobilenet_v2", dataflow="choose",
                        stride_aware=stride_aware, mul=1.0)
    env.reset(seed=0)
    rng = np.random.default_rng(5)
    checked = 0
    for K, C, Y, X, R, S, T, stride, pad in rows:
        if stride_aware:
            Y, X = (Y + 2 * pad - R) // stride + R, (X + 2 * pad - S) // stride + S
        action = [int(rng.integers(12)), int(rng.integers(12)), int(rng.integers(3))]
        _, _, terminated, _, info = env.step(action)
        p, b = PE[action[0]], TILE[action[1]]
        dataflow = "dpt" if T == 2 else ("dla", "shi", "eye")[action[2]]
        want = cm.evaluate(cm.Layer(K=K, C=C, Y=Y, X=X, R=R, S=S, depthwise=T == 2),
                           cm.DATAFLOWS[dataflow], cm.Hardware(num_pes=p),
                           cm.confuciux_constants(pes=p, tile=b))
        assert (info["cycles"], info["macs"], info["l1_size"], info["l2_size"]) == \
            (want["runtime"], want["macs"], want["l1_size"], want["l2_size"])
        assert (info["energy"], info["area"], info["power"]) == \
            (want["energy"], want["area"], want["power"])
        checked += 1
        if terminated:
            break
    assert checked == len(rows)


# ------------------------------------------------------------------ 10. render
def test_render_ansi_one_line_per_assigned_layer():
    env = HWResourceEnv(render_mode="ansi", shuffle=True)
    env.reset(seed=3)
    text = env.render()
    assert isinstance(text, str)
    assigned = []
    for t in range(5):
        *_, info = env.step([t, t])
        assigned.append(info)
        text = env.render()
        assert isinstance(text, str)
        records = [line.split() for line in text.splitlines()
                   if line.split() and line.split()[0].isdigit()]
        assert len(records) == t + 1
        for rec, inf in zip(records, assigned):
            assert int(rec[0]) == inf["layer"]
            assert str(inf["cycles"]) in rec
    plain = HWResourceEnv()
    plain.reset(seed=0)
    assert plain.render() is None


def test_observation_layout_names_every_part_of_the_observation():
    env = HWResourceEnv()
    layout = env.observation_layout
    assert layout == {"layer_dims": slice(0, 7), "progress": slice(7, 8), "previous_action": slice(8, 10),
                      "step": slice(10, 11)}
    size = env.observation_space.shape[0]
    parts = np.concatenate([np.arange(size)[part] for part in layout.values()])
    np.testing.assert_array_equal(parts, np.arange(size))  # in order, each value once
    assert HWResourceVectorEnv.observation_layout is layout
    obs, _ = env.reset(seed=0)
    obs, *_ = env.step([11, 3])
    np.testing.assert_allclose(obs[layout["previous_action"]], [2 * 128 / 128 - 1, 2 * 4 / 12 - 1], atol=1e-6)
