"""The one interface every agent shares: a budgeted session in, a result record out.

An agent is a module with a ``Config`` dataclass (its hyperparameters, with
defaults) and a function ``run(session, config)`` that interacts with
``session.env`` -- a plain Gymnasium env -- until ``session.exhausted``.

The budget counts **samples**: one sample is one complete episode, i.e. one
design evaluated end to end (a full-model evaluation on HWResource, one
routing sweep over the injection rates on NoCRouting-v0, one configuration on
the one-shot envs).  :class:`Recorder` wraps the env, counts the samples,
remembers every episode's actions and reset seed, and keeps the best one, so
the :class:`RunResult` can be saved, reloaded and replayed on a fresh env to
validate it.  Episodes begun after the budget is spent are not recorded.

The best episode is chosen by a *score*, which is the episode return unless
the caller names a physical figure, e.g. ``"min:total_cycles"`` (the lowest
total latency among feasible episodes; an episode that ends with
``info["reason"]`` or ``info["feasible"] == False`` is infeasible and scores
``-inf``).  Agents optimise the env's reward; the score only decides which
design is reported, so agents trained on different reward modes compare on
the same figure.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import numbers
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import gymnasium as gym
import numpy as np


class BudgetExhausted(RuntimeError):
    """Raised by :meth:`Session.rollout` when no sample is left."""


class Interrupted(KeyboardInterrupt):
    """A run stopped by Ctrl-C (or a signal turned into one) after at least one sample;
    ``result`` is what it had: a :class:`RunResult` marked ``interrupted``."""

    def __init__(self, result: RunResult):
        super().__init__(f"interrupted after {result.samples} of {result.budget} samples")
        self.result = result


# ------------------------------------------------------------------- files
def atomic_write(path: str | Path, write: Callable[[IO], None], binary: bool = False) -> Path:
    """Write ``path`` through ``write(file)`` into a temporary file beside it, then rename
    that over ``path`` (``os.replace``): a reader, a crash or a full disk leaves the old
    file or the new one, never a part of either."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("xb" if binary else "x", **({} if binary else {"newline": ""})) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


# ------------------------------------------------------------------- scores
def is_feasible(info: dict) -> bool:
    """Whether an episode's final info reports a feasible design: no ``info["reason"]``
    (an exceeded budget) and not ``info["feasible"] == False``."""
    return not info.get("reason") and info.get("feasible", True) is not False


def parse_score(spec: str) -> Callable[[float, dict], float]:
    """``"return"``, ``"min:KEY"`` or ``"max:KEY"`` -> score(episode_return, final_info)."""
    if spec == "return":
        return lambda ret, info: float(ret)
    sense, _, key = spec.partition(":")
    if sense not in ("min", "max") or not key:
        raise ValueError(f"unknown score {spec!r}; allowed: 'return', 'min:KEY' or 'max:KEY' "
                         "where KEY is a numeric entry of the final step's info")
    sign = -1.0 if sense == "min" else 1.0

    def score(ret: float, info: dict) -> float:
        if not is_feasible(info):
            return -math.inf
        if key not in info:
            raise KeyError(f"score {spec!r}: the final info has no {key!r}; it has {sorted(info)}")
        return sign * float(info[key])

    return score


#: SI prefixes of :func:`format_figure`, by power of 1000.
_PREFIXES = {1: "k", 2: "M", 3: "G", 4: "T", 5: "P", 6: "E"}


def format_figure(value: float) -> str:
    """A figure as a person reads it: 4 significant digits and an SI prefix from 1,000 up,
    e.g. 23,860,000 -> "23.86 M", 0.96379 -> "0.9638", 2.2e-06 -> "2.2e-06"."""
    value = float(value)
    if not math.isfinite(value) or abs(value) < 1000:
        return f"{value:.4g}"
    power = min(int(math.log10(abs(value)) // 3), max(_PREFIXES))
    scaled = float(f"{value / 1000 ** power:.4g}")
    if abs(scaled) >= 1000 and power < max(_PREFIXES):  # 999,999 rounds up to 1000 k: 1 M
        scaled, power = scaled / 1000, power + 1
    return f"{scaled:.4g} {_PREFIXES[power]}"


#: What ``min`` and ``max`` mean for a figure, as the CLI and the plots say it.
SENSE_TEXT = {"min": "lower is better", "max": "higher is better"}


def score_figure(score: str) -> tuple[float, str, str]:
    """(sign, figure, sense) of a score spec: the score is ``sign * figure`` and ``sense``
    is "min" or "max"; ``"min:total_cycles"`` -> (-1.0, "total_cycles", "min")."""
    parse_score(score)  # a clear error for a malformed spec
    if score == "return":
        return 1.0, "return", "max"
    sense, _, key = score.partition(":")
    return (-1.0 if sense == "min" else 1.0), key, sense


def score_text(score: str, value: float) -> str:
    """A score shown as the figure it ranks by, in that figure's units, with its sense:
    ``score_text("min:total_cycles", -23.86e6)`` is "total cycles 23.86 M (lower is better)"."""
    sign, key, sense = score_figure(score)
    return f"{key.replace('_', ' ')} {format_figure(sign * value)} ({SENSE_TEXT[sense]})"


def best_text(score: str, best_score: float) -> str:
    """"best " + :func:`score_text`, or "no feasible design" when none was."""
    return "no feasible design" if best_score == -math.inf else f"best {score_text(score, best_score)}"


def objective_text(info: dict) -> str | None:
    """The env's own figure of merit (final ``info["objective"]`` and ``info["objective_sense"]``)
    as text, e.g. "objective 23.86 M (lower is better)"; None when the env reports none."""
    value, sense = info.get("objective"), info.get("objective_sense")
    if sense not in SENSE_TEXT or isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    return f"objective {format_figure(value)} ({SENSE_TEXT[sense]})"


def design_text(env: gym.Env, actions: list, max_chars: int = 400) -> str:
    """A design (an episode's actions) as text: each step through the env's ``decode(action)``
    where the env has one, runs of equal steps as "STEP x N" (a uniform design of 52 layers
    is one item), cut at ``max_chars``."""
    decode = getattr(env.unwrapped, "decode", None)
    steps = []
    for action in actions:
        try:
            steps.append(str(decode(action) if decode is not None else action))
        except (ValueError, TypeError):
            steps.append(str(action))
    runs: list[list] = []
    for step in steps:
        if runs and runs[-1][0] == step:
            runs[-1][1] += 1
        else:
            runs.append([step, 1])
    text = "; ".join(step if n == 1 else f"{step} x{n}" for step, n in runs)
    if len(steps) > 1:
        text = f"{len(steps)} steps: {text}"
    return text if len(text) <= max_chars else text[:max_chars - 3] + "..."


def jsonable(value: Any, max_list: int = 256) -> Any:
    """``value`` as JSON-able Python data, or ``None`` when it is not a small plain value."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple, np.ndarray)) and len(value) <= max_list:
        items = [jsonable(v, max_list) for v in (value.tolist() if isinstance(value, np.ndarray) else value)]
        if all(v is not None and not isinstance(v, dict) for v in items):
            return items
    return None


def figures(info: dict) -> dict:
    """The JSON-able entries of a final info (physical figures, names, flags)."""
    out = {}
    for key, value in info.items():
        if key.startswith("_"):
            continue
        v = jsonable(value)
        if v is not None:
            out[key] = v
    return out


def _action_to_json(action) -> Any:
    a = np.asarray(action)
    return a.tolist() if a.ndim else int(a)


def random_action(space: gym.Space, rng: np.random.Generator, info: dict):
    """A uniform action of ``space``; honours a flat boolean ``info["action_mask"]`` on Discrete."""
    if isinstance(space, gym.spaces.Discrete):
        mask = info.get("action_mask")
        choices = np.flatnonzero(mask) if mask is not None else np.arange(space.n)
        return int(space.start + rng.choice(choices))
    if isinstance(space, gym.spaces.MultiDiscrete):
        return space.start + rng.integers(0, space.nvec)
    raise ValueError(f"random_action needs a Discrete or MultiDiscrete space, got {space}")


def check_number(name: str, value, low: float = -math.inf, high: float = math.inf, *,
                 integer: bool = False, low_open: bool = False) -> None:
    """Raise ValueError unless ``value`` is a finite number (an int if ``integer``) in
    [low, high] (or (low, high] with ``low_open``); used by the agents' Config checks."""
    kind = numbers.Integral if integer else numbers.Real
    ok = isinstance(value, kind) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < low or (low_open and value == low) or value > high:
        what = "an integer" if integer else "a finite number"
        bounds = ", ".join(f"{b:g}" for b in (low, high) if math.isfinite(b))
        if math.isfinite(low) and math.isfinite(high):
            where = f" in {'(' if low_open else '['}{bounds}]"
        elif math.isfinite(low):
            where = f" {'>' if low_open else '>='} {low:g}"
        elif math.isfinite(high):
            where = f" <= {high:g}"
        else:
            where = ""
        raise ValueError(f"{name} must be {what}{where}, got {value!r}")


def check_fitness(spec) -> None:
    """A fitness setting: "return", "min:KEY", "max:KEY" or "session"."""
    if spec != "session":
        parse_score(spec)  # raises ValueError naming the allowed forms


# ----------------------------------------------------------------- recorder
class Recorder(gym.Wrapper):
    """Counts complete episodes up to ``budget`` and keeps the best one.

    Every reset gets an explicit seed (the caller's, or the next one drawn from
    ``seed``), so each recorded episode can be replayed exactly.
    """

    def __init__(self, env: gym.Env, budget: int, seed: int, score: str = "return",
                 on_episode: Callable[[dict], None] | None = None):
        super().__init__(env)
        if not isinstance(budget, numbers.Integral) or budget < 1:
            raise ValueError(f"budget must be a positive integer number of samples, got {budget!r}")
        self.budget, self.score_spec = int(budget), score
        self._score = parse_score(score)
        self._seeds = np.random.default_rng([int(seed), 0x5EED])
        self._on_episode = on_episode
        self.samples = 0
        self.history: list[dict] = []
        self.best: dict | None = None
        self._live = False

    @property
    def exhausted(self) -> bool:
        return self.samples >= self.budget

    def reset(self, *, seed=None, options=None):
        if seed is None:
            seed = int(self._seeds.integers(2**31 - 1))
        self._episode = {"reset_seed": int(seed), "options": options, "actions": [], "return": 0.0}
        self._live = not self.exhausted
        return self.env.reset(seed=seed, options=options)

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        if self._live:
            ep = self._episode
            ep["actions"].append(_action_to_json(action))
            ep["return"] += float(reward)
            if terminated or truncated:
                self._finish(info)
        return obs, reward, terminated, truncated, info

    def _finish(self, info: dict) -> None:
        self._live = False
        ep = self._episode
        self.samples += 1
        score = self._score(ep["return"], info)
        if self.best is None or score > self.best["score"]:
            self.best = dict(ep, score=score, info=figures(info))
        row = {"sample": self.samples, "return": ep["return"], "score": score,
               "best_score": self.best["score"]}
        self.history.append(row)
        if self._on_episode is not None:
            self._on_episode(row)


# ------------------------------------------------------------------ session
class Session:
    """What an agent's ``run`` gets: the recorded env, the budget, a seed and a log folder.

    ``wrap(env)``, if given, wraps the made env inside the budget's Recorder (the
    recording hook of :class:`agents.collect.Recording`).
    """

    def __init__(self, env: str | gym.Env, env_kwargs: dict | None, budget: int, seed: int,
                 score: str = "return", logdir: str | Path | None = None,
                 on_episode: Callable[[dict], None] | None = None,
                 wrap: Callable[[gym.Env], gym.Env] | None = None):
        if isinstance(env, gym.Env):  # a ready env: its spec says how to rebuild it for replay
            if env.spec is None:
                raise ValueError("an env passed as an object must come from gym.make (it needs a spec)")
            if env_kwargs:
                raise ValueError("env_kwargs only apply to an env id, not to a ready env")
            self.env_id, self.env_kwargs = env.spec.id, dict(env.spec.kwargs)
        else:
            self.env_id, self.env_kwargs = env, dict(env_kwargs or {})
            env = gym.make(self.env_id, **self.env_kwargs)
        self.seed = int(seed)
        self.rng = np.random.default_rng(self.seed)
        self.logdir = Path(logdir) if logdir is not None else None
        if wrap is not None:  # e.g. agents.collect.Recording.wrap: records the episodes played
            env = wrap(env)
        self.env = Recorder(env, budget, self.seed, score, on_episode)
        #: JSON-able extra outputs of the agent (e.g. a learned table), kept in the RunResult.
        self.extras: dict = {}

    @property
    def budget(self) -> int:
        return self.env.budget

    @property
    def samples(self) -> int:
        return self.env.samples

    @property
    def remaining(self) -> int:
        return max(0, self.env.budget - self.env.samples)

    @property
    def exhausted(self) -> bool:
        return self.env.exhausted

    def make_env(self) -> gym.Env:
        """A fresh, unrecorded copy of the env (e.g. for evaluating a policy off-budget)."""
        return gym.make(self.env_id, **self.env_kwargs)

    def rollout(self, policy: Callable[[int, Any, dict], Any]) -> tuple[float, dict, list]:
        """Play one recorded episode; ``policy(step, obs, info) -> action``.

        Returns (episode return, final info, actions taken).  Raises
        :class:`BudgetExhausted` if no sample is left.
        """
        if self.exhausted:
            raise BudgetExhausted(f"the budget of {self.budget} samples is spent")
        obs, info = self.env.reset()
        total, actions, step = 0.0, [], 0
        while True:
            action = policy(step, obs, info)
            obs, reward, terminated, truncated, info = self.env.step(action)
            total += float(reward)
            actions.append(action)
            step += 1
            if terminated or truncated:
                return total, info, actions

    def evaluate(self, design) -> tuple[float, dict]:
        """Play a fixed design: ``design[t]`` is the action at step t."""
        def policy(step, _obs, _info):
            if step >= len(design):
                raise ValueError(f"design has {len(design)} actions but the episode is still "
                                 f"running at step {step}")
            return design[step]
        ret, info, _ = self.rollout(policy)
        return ret, info

    def play(self, genes: list) -> tuple[float, dict, list]:
        """Play a design given as a list of actions, growing it with random actions if the
        episode runs longer; returns (return, final info, the actions actually played).

        Search agents (GA, SA, TPE) start from ``play([])`` to learn the episode's length.
        """
        space = self.env.action_space

        def policy(step, _obs, info):
            return genes[step] if step < len(genes) else random_action(space, self.rng, info)

        return self.rollout(policy)


# ------------------------------------------------------------------- result
@dataclasses.dataclass
class RunResult:
    """A serialisable record of one run: enough to replay and check its best design."""

    env_id: str
    env_kwargs: dict
    agent: str
    config: dict
    seed: int
    budget: int
    samples: int
    score: str
    best_score: float
    best_return: float
    best_actions: list
    best_reset_seed: int
    best_info: dict
    history: list
    wall_time_s: float
    extras: dict = dataclasses.field(default_factory=dict)
    #: The run was stopped (Ctrl-C, SIGTERM) before its budget was spent: ``samples < budget``.
    interrupted: bool = False

    @classmethod
    def from_session(cls, session: Session, agent: str, config: dict, wall_time_s: float,
                     interrupted: bool = False) -> RunResult:
        best = session.env.best
        if best is None:
            raise RuntimeError(f"agent {agent!r} finished without completing a single episode")
        return cls(env_id=session.env_id, env_kwargs=session.env_kwargs, agent=agent, config=config,
                   seed=session.seed, budget=session.budget, samples=session.samples,
                   score=session.env.score_spec, best_score=best["score"], best_return=best["return"],
                   best_actions=best["actions"], best_reset_seed=best["reset_seed"],
                   best_info=best["info"], history=session.env.history, wall_time_s=wall_time_s,
                   extras=session.extras, interrupted=interrupted)

    # ---- persistence
    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def save_json(self, path: str | Path) -> Path:
        text = json.dumps(self.to_dict(), indent=1, allow_nan=True)
        return atomic_write(path, lambda f: f.write(text))

    @classmethod
    def load_json(cls, path: str | Path) -> RunResult:
        data = json.loads(Path(path).read_text())
        names = {f.name for f in dataclasses.fields(cls)}
        missing = names - data.keys() - {"extras", "interrupted"}
        if missing:
            raise ValueError(f"{path}: not an archgym run record (missing {sorted(missing)})")
        return cls(**{k: data[k] for k in names if k in data})

    def save_history_csv(self, path: str | Path) -> Path:
        def write(f):
            writer = csv.DictWriter(f, fieldnames=["sample", "return", "score", "best_score"])
            writer.writeheader()
            writer.writerows(self.history)

        return atomic_write(path, write)

    def best_so_far(self) -> np.ndarray:
        """Best score after each sample (length ``samples``)."""
        return np.array([row["best_score"] for row in self.history], dtype=float)

    # ---- replay
    def replay(self) -> tuple[float, dict]:
        """Play the best design on a fresh env; returns (return, figures of the final info)."""
        env = gym.make(self.env_id, **self.env_kwargs)
        try:
            env.reset(seed=self.best_reset_seed)
            total, info, done = 0.0, {}, False
            for t, action in enumerate(self.best_actions):
                if done:
                    raise ValueError(f"replay ended after {t} of {len(self.best_actions)} actions")
                _, reward, terminated, truncated, info = env.step(np.asarray(action))
                total += float(reward)
                done = terminated or truncated
            if not done:
                raise ValueError(f"replay did not end after the {len(self.best_actions)} recorded actions")
            return total, figures(info)
        finally:
            env.close()

    def validate(self) -> None:
        """Replay the best design and raise ValueError unless return and figures match exactly."""
        ret, figs = self.replay()
        if ret != self.best_return:
            raise ValueError(f"replayed return {ret!r} != recorded {self.best_return!r}")
        diff = {k: (figs.get(k), v) for k, v in self.best_info.items() if figs.get(k) != v}
        if diff:
            raise ValueError(f"replayed figures differ (replayed, recorded): {diff}")
