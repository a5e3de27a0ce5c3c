"""Datasets of designs in Farama's Minari format: ``archgym collect`` and a recording hook.

    archgym collect ENV --episodes N [--agent random|sobol|AGENT] --dataset-id ID --out ROOT
                        [--seed S] [--env KEY=VALUE ...] [--num-envs K]

Every episode is stored as Minari stores offline-RL data (the field's standard,
``pip install "archgym[datasets]"``): observations (one more than the steps: the
reset's first), actions, rewards, terminations, truncations and ``infos``, one array
per figure the env reports.  The dataset lands in ``ROOT/ID`` and loads back with
``minari.MinariDataset(ROOT/ID/data)``, :func:`load`, or ``minari.load_dataset(ID)``
with ``MINARI_DATASETS_PATH=ROOT``; ``dataset.recover_environment()`` makes the env
(id and arguments) again.  An existing dataset is never overwritten.

**Infos.**  ``infos[KEY]`` has one row per observation: row 0 (the reset) holds NaN
(or "" for text), row t the figure the env's info gave at step t.  Every numeric
scalar (int, float, bool) is stored as float64 (exact for integers below 2^53),
every string as text; lists and dicts (``per_layer``) are left out, and a step
whose info lacks a key has NaN (or "") there.

**Agents.**  ``random`` (uniform actions) and ``sobol`` (each episode's design is
the next point of a scrambled Sobol sequence, scipy.stats.qmc, over the design's
choices: one coordinate per step and action dimension, the steps being the env's
``max_episode_steps`` or the length of an episode of the lowest actions; steps
beyond it are random) use the env's **batch API** where it has one: an env
registered with a ``vector_entry_point`` (HWResource: one costmodel.BatchEvaluator
call per step for ``--num-envs`` designs) is stepped as
``gym.make_vec(..., vectorization_mode="vector_entry_point")``.  Such episodes carry
no reset seed (the copies share the vector env's generator); the envs with a
vector entry point do not draw at reset unless asked (HWResource's ``shuffle``).
Any other agent of ``archgym list --agents`` runs as ``archgym train`` runs it,
through the recording hook, which lets any agent run record its episodes:
``agents.train(..., wrap=recording.wrap)`` with a :class:`Recording`.  Its
episodes keep their reset seeds, so each replays exactly.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import shutil
import sys
import warnings
from pathlib import Path

import gymnasium as gym
import numpy as np

from agents.base import random_action

#: The agents ``collect`` runs itself (open-loop designs, batched where the env can).
DESIGN_AGENTS = ("random", "sobol")


def _minari():
    try:
        import minari
    except ImportError:
        raise ImportError('datasets need minari with its HDF5 storage: pip install "archgym[datasets]"') from None
    return minari


# ----------------------------------------------------------------- episodes
def _figure(value):
    """A recordable figure: float for numbers (bool and int included), str for text, else None."""
    if isinstance(value, (str, np.str_)):
        return str(value)
    if isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating)):
        return float(value)
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "biuf":
        return float(value)
    return None


def info_columns(step_infos: list[dict]) -> dict[str, np.ndarray]:
    """Minari ``infos`` for one episode from its step infos (see the module docstring)."""
    kinds: dict[str, type] = {}
    for info in step_infos:
        for key, value in info.items():
            v = _figure(value)
            if v is not None and not key.startswith("_"):
                kinds.setdefault(key, type(v))
    out = {}
    for key, kind in kinds.items():
        if kind is str:
            col = [""] + [str(info[key]) if isinstance(_figure(info.get(key)), str) else ""
                          for info in step_infos]
            out[key] = np.array(col, dtype=object)
        else:
            col = [math.nan] + [v if isinstance(v := _figure(info.get(key)), float) else math.nan
                                for info in step_infos]
            out[key] = np.array(col, dtype=np.float64)
    return out


class _Episode:
    """One episode being recorded."""

    def __init__(self, obs, seed: int | None):
        self.seed = seed
        self.observations = [np.asarray(obs)]
        self.actions, self.rewards, self.terminations, self.truncations, self.infos = [], [], [], [], []

    def add(self, action, obs, reward, terminated, truncated, info) -> None:
        self.actions.append(np.asarray(action))
        self.observations.append(np.asarray(obs))
        self.rewards.append(float(reward))
        self.terminations.append(bool(terminated))
        self.truncations.append(bool(truncated))
        self.infos.append(info)

    def buffer(self, episode_id: int):
        from minari.data_collector.episode_buffer import EpisodeBuffer

        return EpisodeBuffer(id=episode_id, seed=self.seed, observations=np.stack(self.observations),
                             actions=np.stack(self.actions), rewards=np.array(self.rewards),
                             terminations=np.array(self.terminations), truncations=np.array(self.truncations),
                             infos=info_columns(self.infos))


class Recording:
    """Episodes recorded from one or more envs, written with :meth:`save`.

    The recording hook of any agent run: ``agents.train(..., wrap=recording.wrap)``
    records every complete episode the agent's session plays (at most ``limit``).
    """

    def __init__(self, limit: int | None = None):
        self.limit = limit
        self.episodes: list[_Episode] = []

    @property
    def full(self) -> bool:
        return self.limit is not None and len(self.episodes) >= self.limit

    def wrap(self, env: gym.Env) -> gym.Env:
        return EpisodeRecorder(env, self)

    def save(self, dataset_id: str, root: str | Path, env_id: str, env_kwargs: dict | None = None,
             algorithm: str | None = None, description: str | None = None):
        """Write the episodes as the Minari dataset ``root/dataset_id``; returns it."""
        return write_dataset(dataset_id, root, self.episodes, env_id, env_kwargs, algorithm, description)


class EpisodeRecorder(gym.Wrapper):
    """Adds every complete episode of the env it wraps to a :class:`Recording`."""

    def __init__(self, env: gym.Env, recording: Recording):
        super().__init__(env)
        self.recording = recording
        self._live: _Episode | None = None

    def reset(self, *, seed=None, options=None):
        obs, info = self.env.reset(seed=seed, options=options)
        # Episodes reset with options are not recorded: Minari keeps only plain option values.
        self._live = None if self.recording.full or options else _Episode(obs, seed)
        return obs, info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        if self._live is not None:
            self._live.add(action, obs, reward, terminated, truncated, info)
            if terminated or truncated:
                self.recording.episodes.append(self._live)
                self._live = None
        return obs, reward, terminated, truncated, info


# ------------------------------------------------------------------ storage
@contextlib.contextmanager
def _datasets_root(root: Path):
    """Minari finds datasets under $MINARI_DATASETS_PATH: point it at ``root`` for a while."""
    old = os.environ.get("MINARI_DATASETS_PATH")
    os.environ["MINARI_DATASETS_PATH"] = str(root)
    try:
        yield
    finally:
        if old is None:
            del os.environ["MINARI_DATASETS_PATH"]
        else:
            os.environ["MINARI_DATASETS_PATH"] = old


def check_dataset_id(dataset_id: str, root: str | Path) -> Path:
    """``root/dataset_id`` after checking the id's form and that no dataset is there yet."""
    from minari.dataset.minari_dataset import parse_dataset_id

    _minari()
    try:
        parse_dataset_id(dataset_id)
    except ValueError:
        raise ValueError(f"dataset id {dataset_id!r} must look like [NAMESPACE/]NAME-vVERSION, "
                         "e.g. hwresource/random-v0") from None
    path = Path(root) / dataset_id
    if path.exists():
        raise ValueError(f"{path} exists already; choose another --dataset-id or --out "
                         "(a dataset is never overwritten)")
    return path


def write_dataset(dataset_id: str, root: str | Path, episodes: list, env_id: str,
                  env_kwargs: dict | None = None, algorithm: str | None = None,
                  description: str | None = None):
    """Write recorded episodes as the Minari dataset ``root/dataset_id``; returns it.

    The env spec stored with it is ``env_id`` with ``env_kwargs``, so
    ``dataset.recover_environment()`` makes the same env.  On any failure the
    partial dataset folder is removed (nothing else under ``root`` is touched).
    """
    minari = _minari()
    path = check_dataset_id(dataset_id, root)
    if not episodes:
        raise ValueError("no complete episode was recorded")
    env = gym.make(env_id, **(env_kwargs or {}))
    spec = env.spec  # the id with every argument, registered defaults included
    try:
        with _datasets_root(Path(root)), warnings.catch_warnings():
            # Minari recommends an author, an e-mail and a code link; a local dataset has none to give.
            warnings.filterwarnings("ignore", message="`(author|author_email|code_permalink|description)` is set to None")
            try:
                return minari.create_dataset_from_buffers(
                    dataset_id, [ep.buffer(i) for i, ep in enumerate(episodes)], env=spec, eval_env=spec,
                    observation_space=env.observation_space, action_space=env.action_space,
                    algorithm_name=algorithm, description=description, data_format="hdf5")
            except BaseException:
                shutil.rmtree(path, ignore_errors=True)
                raise
    finally:
        env.close()


def load(dataset_id: str, root: str | Path):
    """The Minari dataset ``root/dataset_id``."""
    minari = _minari()
    data = Path(root) / dataset_id / "data"
    if not data.is_dir():
        raise ValueError(f"no Minari dataset at {data.parent}")
    return minari.MinariDataset(data)


# ---------------------------------------------------------------- collection
def design_steps(env: gym.Env) -> int:
    """Steps of a design: the spec's ``max_episode_steps``, or an episode of the lowest actions."""
    if env.spec is not None and env.spec.max_episode_steps:
        return int(env.spec.max_episode_steps)
    space = env.action_space
    lowest = space.start if isinstance(space, gym.spaces.Discrete) else np.asarray(space.start)
    env.reset(seed=0)
    for t in range(1, 100_000):
        _, _, terminated, truncated, _ = env.step(lowest)
        if terminated or truncated:
            return t
    raise ValueError("an episode of the lowest actions did not end within 100,000 steps")


class _Designs:
    """The actions of each new episode: uniform (random) or the next Sobol point (sobol)."""

    def __init__(self, agent: str, space: gym.Space, steps: int, rng: np.random.Generator):
        self.space, self.rng, self.agent = space, rng, agent
        discrete = isinstance(space, gym.spaces.Discrete)
        self.n = np.array([space.n] if discrete else space.nvec, dtype=np.int64)
        self.start = np.array([space.start] if discrete else space.start, dtype=np.int64)
        self.discrete, self.steps = discrete, steps
        if agent == "sobol":
            from scipy.stats import qmc

            self.sobol = qmc.Sobol(d=steps * len(self.n), scramble=True, seed=rng)

    def new(self) -> np.ndarray | None:
        """(steps, dims) choice indices of the next design; None for random."""
        if self.agent != "sobol":
            return None
        point = self.sobol.random(1).reshape(self.steps, len(self.n))
        return np.minimum((point * self.n).astype(np.int64), self.n - 1)

    def action(self, design: np.ndarray | None, t: int):
        if design is None or t >= len(design):
            return random_action(self.space, self.rng, {})
        a = design[t] + self.start
        return int(a[0]) if self.discrete else a


def _collect_single(env_id, env_kwargs, episodes, designs_of, seed) -> list[_Episode]:
    recording = Recording(limit=episodes)
    env = recording.wrap(gym.make(env_id, **env_kwargs))
    designs = designs_of(env.unwrapped)
    seeds = np.random.default_rng([seed, 1])
    try:
        while not recording.full:
            env.reset(seed=int(seeds.integers(2**31 - 1)))
            design, t, done = designs.new(), 0, False
            while not done:
                _, _, terminated, truncated, _ = env.step(designs.action(design, t))
                t, done = t + 1, terminated or truncated
    finally:
        env.close()
    return recording.episodes


def _sub_info(info: dict, i: int, n: int) -> dict:
    """Sub-env i's entries of a vector env's info (arrays with a ``_KEY`` mask)."""
    out = {}
    for key, value in info.items():
        if key.startswith("_"):
            continue
        mask = info.get("_" + key)
        if mask is not None and not mask[i]:
            continue
        out[key] = value[i] if isinstance(value, np.ndarray) and value.shape[:1] == (n,) else value
    return out


def _collect_vector(env_id, env_kwargs, episodes, designs_of, seed, num_envs) -> list[_Episode]:
    env = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **env_kwargs)
    n = num_envs
    try:
        designs = designs_of(gym.make(env_id, **env_kwargs))
        obs, _ = env.reset(seed=seed)
        started = min(n, episodes)
        live = [_Episode(obs[i], None) if i < started else None for i in range(n)]
        plans = [designs.new() for _ in range(n)]
        steps = np.zeros(n, dtype=np.int64)
        fresh = np.zeros(n, dtype=bool)  # reset by this step (NEXT_STEP autoreset): action ignored
        done: list[_Episode] = []
        while len(done) < episodes:
            actions = np.stack([np.asarray(designs.action(plans[i], int(steps[i]))) for i in range(n)])
            obs, reward, terminated, truncated, info = env.step(actions)
            for i in range(n):
                if fresh[i]:
                    fresh[i] = False
                    if started < episodes:
                        live[i], plans[i], steps[i] = _Episode(obs[i], None), designs.new(), 0
                        started += 1
                    continue
                if live[i] is None:
                    continue
                live[i].add(actions[i], obs[i], reward[i], terminated[i], truncated[i], _sub_info(info, i, n))
                steps[i] += 1
                if terminated[i] or truncated[i]:
                    done.append(live[i])
                    live[i], fresh[i] = None, True
    finally:
        env.close()
    return done[:episodes]


def has_batch_api(env_id: str) -> bool:
    """Whether ``env_id`` is registered with a vector entry point (a batch API)."""
    return gym.spec(env_id).vector_entry_point is not None


def collect(env_id: str, episodes: int, agent: str = "random", *, dataset_id: str, root: str | Path,
            seed: int = 0, env_kwargs: dict | None = None, num_envs: int = 64, config: dict | None = None):
    """Record ``episodes`` episodes of ``agent`` on ``env_id`` as the Minari dataset ``root/dataset_id``.

    ``random`` and ``sobol`` use the env's batch API when it has one (``num_envs``
    copies); any other agent runs through :func:`agents.train` with ``config`` and
    the recording hook.  Returns the dataset (a ``minari.MinariDataset``).
    """
    import agents

    if isinstance(episodes, bool) or not isinstance(episodes, int) or not 1 <= episodes <= 10_000_000:
        raise ValueError(f"episodes must be an integer in [1, 10000000], got {episodes!r}")
    if isinstance(num_envs, bool) or not isinstance(num_envs, int) or not 1 <= num_envs <= 65_536:
        raise ValueError(f"num_envs must be an integer in [1, 65536], got {num_envs!r}")
    if agent not in DESIGN_AGENTS and agent not in agents.AGENTS:
        raise ValueError(f"unknown agent {agent!r}; allowed: {', '.join(DESIGN_AGENTS + tuple(agents.AGENTS))}")
    check_dataset_id(dataset_id, root)
    env_kwargs = dict(env_kwargs or {})
    if agent in DESIGN_AGENTS:
        rng = np.random.default_rng([seed, 2])

        def designs_of(env):
            return _Designs(agent, env.action_space, design_steps(env) if agent == "sobol" else 0, rng)

        if has_batch_api(env_id):
            recorded = _collect_vector(env_id, env_kwargs, episodes, designs_of, seed, num_envs)
            how = f"{agent} designs through the batch API ({num_envs} copies)"
        else:
            recorded = _collect_single(env_id, env_kwargs, episodes, designs_of, seed)
            how = f"{agent} designs"
    else:
        recording = Recording(limit=episodes)
        agents.train(env_id, agent, episodes, seed, env_kwargs=env_kwargs, config=config, wrap=recording.wrap)
        recorded, how = recording.episodes, f"agent {agent} (agents.train, seed {seed})"
    description = f"{len(recorded)} episodes of {env_id} {env_kwargs or ''}: {how}, seed {seed}"
    return write_dataset(dataset_id, root, recorded, env_id, env_kwargs, agent, description)


# ---------------------------------------------------------------------- CLI
def collect_command(argv: list[str]) -> int:
    """``archgym collect``: 0 on success, 2 for bad input or a missing extra (one line)."""
    from agents.cli import parse_assignments

    ap = argparse.ArgumentParser(
        prog="archgym collect",
        description="Record episodes of an environment as a Minari dataset (ROOT/ID) for offline RL "
                    "and proxy models.")
    ap.add_argument("env", help="environment id (archgym list)")
    ap.add_argument("--episodes", type=int, required=True, help="complete episodes to record")
    ap.add_argument("--agent", default="random",
                    help="random, sobol (batched where the env has a batch API) or any agent of "
                         "`archgym list --agents` (default: random)")
    ap.add_argument("--dataset-id", required=True, help="[NAMESPACE/]NAME-vVERSION, e.g. hwresource/random-v0")
    ap.add_argument("--out", required=True, type=Path, help="datasets root folder (MINARI_DATASETS_PATH)")
    ap.add_argument("--seed", type=int, default=0, help="seed (default: 0)")
    ap.add_argument("--env", action="append", dest="env_args", metavar="KEY=VALUE",
                    help="environment argument (repeatable)")
    ap.add_argument("--set", action="append", metavar="KEY=VALUE", help="agent setting (repeatable)")
    ap.add_argument("--num-envs", type=int, default=64,
                    help="copies stepped together through the batch API (default: 64)")
    args = ap.parse_args(argv)
    try:
        if not -(2**63) <= args.seed < 2**63:
            raise ValueError(f"--seed {args.seed} does not fit 64 bits")
        if args.env not in gym.registry:
            import archgym  # noqa: F401  (registers the ids)
        if args.env not in gym.registry:
            raise ValueError(f"unknown environment {args.env!r}; see `archgym list`")
        dataset = collect(args.env, args.episodes, args.agent, dataset_id=args.dataset_id, root=args.out,
                          seed=args.seed, env_kwargs=parse_assignments(args.env_args, "--env", True),
                          num_envs=args.num_envs, config=parse_assignments(args.set, "--set", True))
    except (ValueError, ImportError, OSError) as e:
        print(f"archgym collect: error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {args.out / args.dataset_id}: {dataset.total_episodes} episodes, {dataset.total_steps} steps")
    return 0
