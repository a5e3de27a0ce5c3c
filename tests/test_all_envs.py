"""Tests that every environment registered by archgym must pass.

The ids are discovered from ``gymnasium.registry`` (every spec whose entry
point lives in the ``archgym`` package), so a new environment is covered as soon
as it is registered; nothing here names a particular environment except
:data:`VARIANTS`, the arguments that change an id's spaces and simulator (the
NoC envs' topologies), each run through the same tests as an id.

- Gymnasium's and Stable-Baselines3's environment checkers, with their
  warnings treated as failures (both report most problems only as warnings).
- A hypothesis fuzz test: random valid action sequences never raise and return
  well-formed steps; invalid actions raise a ValueError/TypeError/IndexError
  with a message and leave the environment usable after a reset.
- A replay test: same seed and same actions give identical trajectories.
- ``gym.make("archgym:<id>")`` works in a fresh interpreter; ``import
  archgym``, and making and stepping an env of each class, import no optional
  dependency (agents, torch, scipy, ...; scipy only where the sparse extra is
  the env's data).
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.utils.env_checker import check_env as gym_check_env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import archgym  # noqa: F401  (registers the environments)
from conftest import REFERENCE_DIR

# Steps per drawn action sequence.  Small: some cores are slow per step.
MAX_STEPS = 12

FUZZ_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Exceptions an environment may raise for an action outside its action space.
INVALID_ACTION_ERRORS = (ValueError, TypeError, IndexError)

# SB3 checker warnings that are advice, not incompatibilities.
SB3_ADVICE = ("We recommend you to use a symmetric and normalized Box action space",)


def _entry_module(spec: gym.envs.registration.EnvSpec) -> str:
    entry = spec.entry_point
    if isinstance(entry, str):
        return entry.split(":", 1)[0]
    return getattr(entry, "__module__", "") or ""


def archgym_env_ids() -> list[str]:
    """Sorted ids of every registered environment implemented in archgym."""
    return sorted(
        env_id
        for env_id, spec in gym.registry.items()
        if _entry_module(spec) == "archgym" or _entry_module(spec).startswith("archgym.")
    )


ENV_IDS = archgym_env_ids()

#: A small anynet (BookSim's graph format): a root router and four leaves of three nodes.
ANYNET = str(REFERENCE_DIR / "booksim" / "topologies" / "tree_anynet")
_NOC_STEPS = {"cycles_per_step": 100, "warmup_cycles": 100, "max_steps": 8}
#: Registered ids with arguments that change their spaces and simulator, each a case of every
#: shared test below (the ids' own defaults are cases too): the NoC envs on every topology
#: of the core besides the registered 2-D mesh, network-wide and per router.
VARIANTS: list[tuple[str, dict]] = [
    ("NoCRouting-v0", {"topology": "torus", "k": 4, "rates": (0.1, 0.3)}),
    ("NoCRouting-v0", {"topology": "fly", "k": 4, "n": 2, "rates": (0.1, 0.3)}),
    ("NoCRouting-v0", {"topology": "anynet", "network_file": ANYNET, "rates": (0.1, 0.3)}),
    ("NoCRouting-Persistent-v0", {"topology": "torus", "k": 4, **_NOC_STEPS}),
    ("NoCRouting-Persistent-v0", {"topology": "fly", "k": 4, "n": 2, **_NOC_STEPS}),
    ("NoCRouting-Persistent-v0", {"topology": "anynet", "network_file": ANYNET, **_NOC_STEPS}),
    ("NoCRouting-PerRouter-v0", {"topology": "torus", "k": 4, **_NOC_STEPS}),
    ("NoCRouting-Persistent-v0", {"topology": "mesh", "k": 3, "n": 3, **_NOC_STEPS}),
    ("NoCAdaptive-v0", {"topology": "flatfly", **_NOC_STEPS}),
]

CASES = [pytest.param((env_id, {}), id=env_id) for env_id in ENV_IDS] + [
    pytest.param((env_id, kwargs), id=f"{env_id}-{kwargs['topology']}") for env_id, kwargs in VARIANTS]

per_env = pytest.mark.parametrize("case", CASES)  # the Fashion-MNIST ids too: their data ships


def make(case: tuple[str, dict]) -> gym.Env:
    env_id, kwargs = case
    return gym.make(env_id, **kwargs)


def test_archgym_registers_environments():
    # Without this, every per-environment test below would be collected with
    # an empty parameter set and skipped: a vacuous pass.
    assert ENV_IDS, (
        "`import archgym` registered no environment whose entry point is in the "
        "archgym package; the shared environment tests would check nothing"
    )


# --------------------------------------------------------------------------
# helpers


_ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")


def _strict(fn, *args, allowed: tuple[str, ...] = (), **kwargs) -> None:
    """Call fn and fail on any warning it emits (except those matching `allowed`)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn(*args, **kwargs)
    messages = [_ANSI_COLOUR.sub("", str(w.message)) for w in caught]
    problems = [m for m in messages if not any(a in m for a in allowed)]
    assert not problems, f"{fn.__module__}.{fn.__qualname__} warned:\n" + "\n".join(problems)


def _int_values(low: int, high: int, dtype: np.dtype) -> st.SearchStrategy[int]:
    info = np.iinfo(dtype)
    return st.integers(max(int(low), int(info.min)), min(int(high), int(info.max)))


def _float_values(low: float, high: float, dtype: np.dtype) -> st.SearchStrategy[float]:
    width = 32 if np.dtype(dtype) == np.float32 else 64
    return st.floats(
        min_value=None if math.isinf(low) else float(low),
        max_value=None if math.isinf(high) else float(high),
        allow_nan=False,
        allow_infinity=False,
        width=width,
    )


def _elementwise(space, element) -> st.SearchStrategy[np.ndarray]:
    """An array of space.shape/space.dtype, element i drawn from element(i)."""
    n = int(np.prod(space.shape))
    return st.tuples(*(element(i) for i in range(n))).map(
        lambda values: np.array(values, dtype=space.dtype).reshape(space.shape)
    )


def valid_actions(space: spaces.Space) -> st.SearchStrategy[Any]:
    """Hypothesis strategy for members of `space`, drawn from its bounds."""
    if isinstance(space, spaces.Discrete):
        start = int(space.start)
        return st.integers(start, start + int(space.n) - 1)
    if isinstance(space, spaces.MultiDiscrete):
        lo = space.start.ravel()
        hi = (space.start + space.nvec - 1).ravel()
        return _elementwise(space, lambda i: _int_values(lo[i], hi[i], space.dtype))
    if isinstance(space, spaces.MultiBinary):
        return _elementwise(space, lambda i: st.integers(0, 1))
    if isinstance(space, spaces.Box):
        lo, hi = space.low.ravel(), space.high.ravel()
        if np.issubdtype(space.dtype, np.integer):
            return _elementwise(space, lambda i: _int_values(lo[i], hi[i], space.dtype))
        return _elementwise(space, lambda i: _float_values(lo[i], hi[i], space.dtype))
    if isinstance(space, spaces.Dict):
        return st.fixed_dictionaries({k: valid_actions(s) for k, s in space.spaces.items()})
    if isinstance(space, spaces.Tuple):
        return st.tuples(*(valid_actions(s) for s in space.spaces))

    # Any other space: let the space sample itself, seeded by hypothesis.
    def sample(seed: int) -> Any:
        space.seed(seed)
        return space.sample()

    return st.integers(0, 2**32 - 1).map(sample)


def out_of_range_actions(space: spaces.Space, data: st.DataObject) -> Any | None:
    """Draw an action of the right shape and dtype with one element out of range.

    None when the space has no integer range to leave (Box, Dict, ...).
    """
    if isinstance(space, spaces.Discrete):
        start, n = int(space.start), int(space.n)
        info = np.iinfo(space.dtype)
        return data.draw(st.integers(int(info.min), start - 1) | st.integers(start + n, int(info.max)))
    if isinstance(space, spaces.MultiDiscrete):
        lo = space.start.ravel()
        hi = (space.start + space.nvec - 1).ravel()
        info = np.iinfo(space.dtype)
    elif isinstance(space, spaces.MultiBinary):
        lo = np.zeros(int(np.prod(space.shape)), dtype=np.int64)
        hi = np.ones_like(lo)
        info = np.iinfo(space.dtype)
    else:
        return None
    action = np.array(data.draw(valid_actions(space)), dtype=space.dtype).ravel()
    index = data.draw(st.integers(0, action.size - 1), label="index")
    choices = []
    if lo[index] > info.min:
        choices.append(st.integers(int(info.min), int(lo[index]) - 1))
    if hi[index] < info.max:
        choices.append(st.integers(int(hi[index]) + 1, int(info.max)))
    action[index] = data.draw(st.one_of(*choices), label="bad value")
    return action.reshape(space.shape)


def invalid_actions(space: spaces.Space, valid: Any) -> dict[str, Any]:
    """Malformed actions (other than out-of-range values) for `space`, by name."""
    cases: dict[str, Any] = {"None": None, "string": "not-an-action"}
    if isinstance(space, spaces.Discrete):
        cases.update(
            {
                "numeric string": str(int(valid)),
                "non-integer float": float(valid) + 0.5,
                "NaN": float("nan"),
                "wrong shape": np.array([valid, valid], dtype=space.dtype),
            }
        )
    elif isinstance(space, (spaces.MultiDiscrete, spaces.MultiBinary, spaces.Box)):
        valid = np.asarray(valid, dtype=space.dtype)
        flat = valid.ravel()
        cases["wrong shape (one element too many)"] = np.append(flat, flat[:1])
        cases["wrong shape (one element too few)"] = flat[:-1].copy()
        cases["wrong shape (extra leading axis)"] = valid[np.newaxis].copy()
        if flat.size > 1:
            cases["wrong shape (scalar)"] = flat[0].item()
        nan = valid.astype(np.float64)
        nan.flat[0] = np.nan
        cases["NaN"] = nan
        if not isinstance(space, spaces.Box) or np.issubdtype(space.dtype, np.integer):
            cases["non-integer float array"] = valid.astype(np.float64) + 0.5
    return cases


INVALID_KINDS = [
    "None",
    "string",
    "numeric string",
    "non-integer float",
    "non-integer float array",
    "NaN",
    "wrong shape",
    "wrong shape (one element too many)",
    "wrong shape (one element too few)",
    "wrong shape (extra leading axis)",
    "wrong shape (scalar)",
]


def assert_same(a: Any, b: Any, where: str = "value") -> None:
    """Recursive, numpy-aware exact equality (NaN equals NaN), with a path in the message."""
    if isinstance(a, Mapping) or isinstance(b, Mapping):
        assert isinstance(a, Mapping) and isinstance(b, Mapping), f"{where}: {a!r} != {b!r}"
        assert set(a) == set(b), f"{where}: keys differ: {sorted(map(str, set(a) ^ set(b)))}"
        for key in a:
            assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray), f"{where}: {a!r} != {b!r}"
        assert a.dtype == b.dtype and a.shape == b.shape, f"{where}: {a!r} != {b!r}"
        if a.dtype == object:
            for i, (x, y) in enumerate(zip(a.ravel(), b.ravel())):
                assert_same(x, y, f"{where}.flat[{i}]")
        else:
            equal_nan = a.dtype.kind in "fc"
            assert np.array_equal(a, b, equal_nan=equal_nan), f"{where}: {a!r} != {b!r}"
    elif isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), f"{where}: {a!r} != {b!r}"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    else:
        assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
        both_nan = isinstance(a, (float, np.floating)) and math.isnan(a) and math.isnan(b)
        assert both_nan or a == b, f"{where}: {a!r} != {b!r}"


def assert_well_formed_step(env: gym.Env, step: tuple, what: str) -> None:
    assert isinstance(step, tuple) and len(step) == 5, f"{what}: step returned {step!r}"
    obs, reward, terminated, truncated, info = step
    assert env.observation_space.contains(obs), f"{what}: observation {obs!r} not in {env.observation_space}"
    assert isinstance(reward, (float, np.floating)), f"{what}: reward {reward!r} is a {type(reward).__name__}, not a float"
    assert math.isfinite(reward), f"{what}: reward {reward!r} is not finite"
    assert isinstance(terminated, (bool, np.bool_)), f"{what}: terminated is {terminated!r}"
    assert isinstance(truncated, (bool, np.bool_)), f"{what}: truncated is {truncated!r}"
    assert isinstance(info, dict), f"{what}: info is a {type(info).__name__}, not a dict"


def assert_well_formed_reset(env: gym.Env, result: tuple, what: str) -> None:
    assert isinstance(result, tuple) and len(result) == 2, f"{what}: reset returned {result!r}"
    obs, info = result
    assert env.observation_space.contains(obs), f"{what}: observation {obs!r} not in {env.observation_space}"
    assert isinstance(info, dict), f"{what}: info is a {type(info).__name__}, not a dict"


def run_actions(env: gym.Env, seed: int, actions: list) -> list[tuple]:
    """Reset with `seed`, play `actions` (resetting unseeded when an episode ends).

    Returns the trajectory: the reset result, then every step result and every
    later reset result, each checked for well-formedness.
    """
    result = env.reset(seed=seed)
    assert_well_formed_reset(env, result, f"reset(seed={seed})")
    trajectory = [result]
    for t, action in enumerate(actions):
        step = env.step(action)
        assert_well_formed_step(env, step, f"step {t} with action {action!r}")
        trajectory.append(step)
        if step[2] or step[3]:
            result = env.reset()
            assert_well_formed_reset(env, result, f"reset() after step {t}")
            trajectory.append(result)
    return trajectory


# --------------------------------------------------------------------------
# checkers


@per_env
def test_gymnasium_env_checker(case):
    with make(case) as env:
        _strict(gym_check_env, env.unwrapped, skip_render_check=False)


@per_env
def test_sb3_env_checker(case):
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    with make(case) as env:
        supported = (spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary, spaces.Box)
        if not isinstance(env.action_space, supported):
            pytest.skip(f"Stable-Baselines3 does not support {type(env.action_space).__name__} actions")
        _strict(sb3_check_env, env, warn=True, allowed=SB3_ADVICE)


# --------------------------------------------------------------------------
# fuzzing


@per_env
@FUZZ_SETTINGS
@given(data=st.data())
def test_random_valid_actions(case, data):
    with make(case) as env:
        seed = data.draw(st.integers(0, 2**31 - 1), label="seed")
        actions = data.draw(st.lists(valid_actions(env.action_space), min_size=1, max_size=MAX_STEPS), label="actions")
        run_actions(env, seed, actions)


def _assert_rejected(env: gym.Env, action: Any, kind: str) -> None:
    expected = "a ValueError, TypeError or IndexError with a message"
    try:
        env.step(action)
    except INVALID_ACTION_ERRORS as exc:
        assert str(exc).strip(), f"{kind} action {action!r}: {type(exc).__name__} with an empty message"
    except Exception as exc:  # noqa: BLE001  (any other type is the failure being reported)
        pytest.fail(f"{kind} action {action!r} raised {type(exc).__name__}: {exc}; expected {expected}")
    else:
        pytest.fail(f"{kind} action {action!r} was accepted; expected {expected}")


def _assert_usable_after_reset(case: tuple[str, dict], env: gym.Env, seed: int, action: Any) -> None:
    """After the rejected action, reset(seed) + a valid step matches a fresh env."""
    with make(case) as fresh:
        expected = run_actions(fresh, seed, [action])
    assert_same(run_actions(env, seed, [action]), expected, "trajectory after a rejected action")


@per_env
@FUZZ_SETTINGS
@given(data=st.data())
def test_out_of_range_actions_raise(case, data):
    with make(case) as env:
        bad = out_of_range_actions(env.action_space, data)
        if bad is None:
            pytest.skip(f"{type(env.action_space).__name__} actions have no integer range")
        seed = data.draw(st.integers(0, 2**31 - 1), label="seed")
        env.reset(seed=seed)
        _assert_rejected(env, bad, "out-of-range")
        _assert_usable_after_reset(case, env, seed, data.draw(valid_actions(env.action_space), label="valid"))


@per_env
@pytest.mark.parametrize("kind", INVALID_KINDS)
def test_malformed_actions_raise(case, kind):
    with make(case) as env:
        env.action_space.seed(0)
        valid = env.action_space.sample()
        cases = invalid_actions(env.action_space, valid)
        if kind not in cases:
            pytest.skip(f"not applicable to {env.action_space}")
        env.reset(seed=0)
        _assert_rejected(env, cases[kind], kind)
        _assert_usable_after_reset(case, env, 0, valid)


# --------------------------------------------------------------------------
# replay


@per_env
@FUZZ_SETTINGS
@given(data=st.data())
def test_replay_is_deterministic(case, data):
    with make(case) as first, make(case) as second:
        seed = data.draw(st.integers(0, 2**31 - 1), label="seed")
        actions = data.draw(st.lists(valid_actions(first.action_space), min_size=1, max_size=MAX_STEPS), label="actions")
        assert_same(run_actions(first, seed, actions), run_actions(second, seed, actions), "trajectory")


# --------------------------------------------------------------------------
# fresh interpreters


def _run_python(code: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result


@pytest.mark.skipif(not ENV_IDS, reason="no archgym environment registered")
def test_make_with_module_prefix_in_fresh_interpreter():
    env_id = ENV_IDS[0]
    _run_python(
        f"""
        import sys
        import gymnasium as gym
        assert "archgym" not in sys.modules, "archgym was imported before gym.make"
        env = gym.make("archgym:{env_id}")
        env.reset(seed=0)
        env.action_space.seed(0)
        env.step(env.action_space.sample())
        env.close()
        """
    )


#: Optional dependencies that ``import archgym`` never imports (the import-linter contract
#: "archgym-light" in pyproject.toml checks the import statements; these tests a real interpreter).
HEAVY = ("agents", "torch", "stable_baselines3", "ray", "sklearn", "scipy", "networkx", "matplotlib")
#: What making, resetting and stepping an env of a module may import beyond that, by design:
#: the sparse extra (SparseFormat's suites and networks are scipy matrices).
MAY_IMPORT_WHEN_MADE = {"archgym.envs.sparse_format": ("scipy", "networkx")}

#: Code printing which of HEAVY a fresh interpreter has imported, space-separated.
_PRINT_HEAVY = f"print(*sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))"


def test_import_archgym_imports_no_optional_dependency():
    result = _run_python(
        f"""
        import sys
        import archgym
        {_PRINT_HEAVY}
        """
    )
    assert result.stdout.split() == []


def _one_id_per_entry_point() -> dict[str, list[str]]:
    """Env module -> the first id of each of its env classes."""
    first: dict[str, str] = {}
    for env_id in ENV_IDS:
        first.setdefault(gym.spec(env_id).entry_point, env_id)
    by_module: dict[str, list[str]] = {}
    for entry, env_id in first.items():
        by_module.setdefault(entry.split(":", 1)[0], []).append(env_id)
    return by_module


@pytest.mark.parametrize("module, env_ids", sorted(_one_id_per_entry_point().items()))
def test_making_an_env_imports_no_optional_dependency(module, env_ids):
    result = _run_python(
        f"""
        import sys
        import gymnasium as gym
        import archgym
        for env_id in {env_ids!r}:
            env = gym.make(env_id)
            env.reset(seed=0)
            env.action_space.seed(0)
            env.step(env.action_space.sample())
            env.close()
        {_PRINT_HEAVY}
        """
    )
    loaded = result.stdout.split()
    assert set(loaded) <= set(MAY_IMPORT_WHEN_MADE.get(module, ())), f"{env_ids} imported {loaded}"
