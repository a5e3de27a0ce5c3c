"""NAS: hardware-aware neural architecture search with accuracy measured on real data."""

from __future__ import annotations

import math
import numbers
from collections import OrderedDict
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from archgym.envs._common import (ReplayPickle, check_action, check_name, check_render_mode, check_running,
                                  exceeds, infeasible_reward)
from archgym.nas import cost as nascost
from archgym.nas.data import load_task
from archgym.nas.measure import COST_FIGURES, space_figures
from archgym.nas.spaces import SPACES, SearchSpace, get_space
from archgym.nas.table import SpaceTable, load_table
from archgym.nas.trainer import TrainResult, train

MODES = ("tabular", "live")
#: A budget may constrain any cost figure of an architecture.
CONSTRAINTS = COST_FIGURES
METRIC_SPLITS = ("valid", "test")
#: Observation: budget quantile, log-budget position, constraint one-hot, platform one-hot.
CONTEXT_SIZE = 2 + len(CONSTRAINTS) + len(nascost.PLATFORMS)
#: Live mode: trained results kept per process (training is deterministic, so
#: this changes only the speed); oldest dropped beyond this many.
LIVE_CACHE_SIZE = 4096
_LIVE_CACHE: OrderedDict = OrderedDict()


def feasible_reward(metric: float) -> float:
    """Reward of a design within budget: the metric, floored at -1 (only R^2 can go below)."""
    return max(float(metric), -1.0)


def clear_live_cache() -> None:
    """Forget every live training result of this process."""
    _LIVE_CACHE.clear()


def _train_live(space: SearchSpace, enc: tuple[int, ...], seed: int, epochs: int, cache: bool) -> TrainResult:
    key = (space.name, enc, seed, epochs)
    if cache and key in _LIVE_CACHE:
        _LIVE_CACHE.move_to_end(key)
        return _LIVE_CACHE[key]
    task = load_task(space.task)
    result = train(space.decode(enc), task, space.train, seed=seed, epochs=epochs)
    if cache:
        _LIVE_CACHE[key] = result
        while len(_LIVE_CACHE) > LIVE_CACHE_SIZE:
            _LIVE_CACHE.popitem(last=False)
    return result


# --------------------------------------------------------------------- set-up
@dataclass
class _Setup:
    """Everything fixed for an environment: space, mode, platform, constraint, table."""

    space: SearchSpace
    mode: str
    platform: nascost.Platform
    constraint: str
    budget_arg: object  # None, "random" or a number
    metric_split: str
    train_seed: object  # int or "random"
    epochs: int
    cache: bool
    table: SpaceTable | None
    figures: dict = field(default_factory=dict)  # constraint figures of every arch (cost model)
    sorted_used: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self):
        self.figures = space_figures(self.space.name, self.platform.name) \
            if self.platform == nascost.PLATFORMS.get(self.platform.name) \
            else _custom_figures(self.space, self.platform)
        self.sorted_used = np.sort(self.figures[self.constraint].astype(np.float64))
        self.metric_name = load_task(self.space.task).metric_name

    def default_budget(self) -> float:
        """The lower median of the constraint over every architecture of the space."""
        return float(self.sorted_used[(len(self.sorted_used) - 1) // 2])

    def context(self, budget: float) -> np.ndarray:
        """The observation's context: where the budget sits, which constraint and platform."""
        s = self.sorted_used
        obs = np.zeros(CONTEXT_SIZE, dtype=np.float32)
        obs[0] = np.count_nonzero(~exceeds(s, budget)) / len(s)
        lo, hi = math.log(s[0]), math.log(s[-1])
        obs[1] = min(max((math.log(budget) - lo) / (hi - lo), 0.0), 1.0) if hi > lo else 1.0
        obs[2 + CONSTRAINTS.index(self.constraint)] = 1.0
        names = list(nascost.PLATFORMS)
        if self.platform == nascost.PLATFORMS.get(self.platform.name):
            obs[2 + len(CONSTRAINTS) + names.index(self.platform.name)] = 1.0
        return obs

    def evaluate(self, enc: tuple[int, ...], seed: int) -> dict:
        """Metric, size and cost figures of a canonical encoding (tabular lookup or live training)."""
        sp, p = self.space, self.platform
        arch_id = sp.index(enc)
        out = {"arch": sp.decode(enc).describe(), "encoding": list(enc), "arch_id": arch_id,
               "space": sp.name, "mode": self.mode, "platform": p.name, "metric_name": self.metric_name}
        if self.mode == "tabular":
            row = self.table.row(arch_id)
            out.update({f"{s}_metric": row[f"{s}_metric"] for s in ("train", "valid", "test")})
            out.update(params=row["params"], macs=row["macs"], train_time=row["train_time"],
                       seed=row["seed"], epochs=row["epochs"])
            if p == nascost.PLATFORMS.get(p.name):
                out.update(latency=row[f"latency_{p.name}"], energy=row[f"energy_{p.name}"])
        else:
            r = _train_live(sp, enc, seed, self.epochs, self.cache)
            out.update({f"{s}_metric": v for s, v in r.metrics.items()})
            out.update(params=int(self.figures["params"][arch_id]), macs=int(self.figures["macs"][arch_id]),
                       train_time=r.train_time, seed=r.seed, epochs=r.epochs)
        if "latency" not in out:
            out.update(latency=int(self.figures["latency"][arch_id]), energy=float(self.figures["energy"][arch_id]))
        out["latency_s"] = out["latency"] / p.clock_hz
        out["metric"] = out[f"{self.metric_split}_metric"]
        return out


def _custom_figures(space: SearchSpace, platform: nascost.Platform) -> dict:
    from archgym.nas.measure import shapes_of

    shape_lists = [shapes_of(space, e) for e in space.enumerate()]
    costs = nascost.hardware_costs(shape_lists, platform)
    pm = np.array([nascost.params_macs(s) for s in shape_lists], dtype=np.int64)
    return {"latency": np.array([c["latency"] for c in costs], dtype=np.int64),
            "energy": np.array([c["energy"] for c in costs]), "params": pm[:, 0], "macs": pm[:, 1]}


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def make_setup(space="digits-mlp", mode="tabular", platform="edge", constraint="latency", budget=None,
               metric_split="valid", train_seed=None, epochs=None, cache=True, table=None) -> _Setup:
    """Validate the arguments and build the fixed part of an environment."""
    if not isinstance(space, str):
        raise ValueError(f"space must be a name ({', '.join(SPACES)}), got {space!r}")
    sp = get_space(space)
    for name, value, allowed in (("mode", mode, MODES), ("constraint", constraint, CONSTRAINTS),
                                 ("metric_split", metric_split, METRIC_SPLITS)):
        check_name(name, value, allowed)
    plat = nascost.get_platform(platform) if isinstance(platform, (str, nascost.Platform)) else None
    if plat is None:
        raise ValueError(f"platform must be a name ({', '.join(nascost.PLATFORMS)}) or an "
                         f"archgym.nas.Platform, got {platform!r}")
    if budget is not None and not (isinstance(budget, str) and budget == "random"):
        if not _is_number(budget) or not math.isfinite(float(budget)) or float(budget) <= 0:
            raise ValueError(f"budget must be a finite number > 0, None (the median over the space) "
                             f"or 'random', got {budget!r}")
        budget = float(budget)
    if not isinstance(cache, (bool, np.bool_)):
        raise ValueError(f"cache must be a bool, got {cache!r}")
    if train_seed is not None and not (isinstance(train_seed, str) and train_seed == "random"):
        if not isinstance(train_seed, (int, np.integer)) or isinstance(train_seed, (bool, np.bool_)) \
                or train_seed < 0:
            raise ValueError(f"train_seed must be None (the protocol's seed), an int >= 0 or 'random', "
                             f"got {train_seed!r}")
    if epochs is not None and (not isinstance(epochs, (int, np.integer)) or isinstance(epochs, (bool, np.bool_))
                               or epochs < 1):
        raise ValueError(f"epochs must be None (the protocol's) or an int >= 1, got {epochs!r}")
    tab = None
    if mode == "tabular":
        tab = load_table(sp, table)
        if train_seed is not None and (isinstance(train_seed, str) or train_seed != tab.seed):
            raise ValueError(f"tabular mode has only the table's training seed {tab.seed}, "
                             f"got train_seed={train_seed!r}; use mode='live' for other seeds")
        if epochs is not None and epochs != tab.epochs:
            raise ValueError(f"tabular mode has only the table's {tab.epochs} epochs, got epochs={epochs}; "
                             "use mode='live' for other epochs")
        seed, n_epochs = tab.seed, tab.epochs
    else:
        if table is not None:
            raise ValueError("table is only used in tabular mode; live mode trains every architecture")
        seed = sp.train.seed if train_seed is None else train_seed
        n_epochs = sp.train.epochs if epochs is None else int(epochs)
    return _Setup(space=sp, mode=mode, platform=plat, constraint=constraint, budget_arg=budget,
                  metric_split=metric_split, train_seed=seed if seed == "random" else int(seed),
                  epochs=n_epochs, cache=bool(cache), table=tab)


# ----------------------------------------------------------------- single env
class NASEnv(ReplayPickle, gym.Env):
    """Choose a neural architecture; its accuracy is measured on real data and its
    latency and energy come from the accelerator cost model, under a constraint.

    ## Description
    Hardware-aware NAS in the spirit of Conditional NAS (Kao, Ramamurthy,
    Williams and Krishna, arXiv:2006.03969) and tabular NAS benchmarks
    (NAS-Bench-201, HW-NAS-Bench): an architecture from a small search space
    (:mod:`archgym.nas.spaces`) is trained with a fixed numpy protocol
    (:mod:`archgym.nas.trainer`) on an offline dataset: scikit-learn's digits
    or 14x14 Fashion-MNIST (classification), diabetes (real regression) or
    Friedman #1 (synthetic regression); its metric is measured on a split
    never trained on.  Its
    exact parameter count and MACs, and its latency (cycles) and energy (nJ)
    on an accelerator preset (``edge``: 32 PEs, ``cloud``: 256 PEs; every
    conv and linear layer costed by the MAESTRO-style model with the dla
    dataflow, :mod:`archgym.nas.cost`) decide whether it meets a budget.

    ``mode="tabular"`` looks the result up in the shipped table
    (``archgym/nas/data/nas_table.csv``, every architecture trained once by
    ``scripts/build_nas_table.py``): microseconds per step.
    ``mode="live"`` really trains the architecture with the same trainer and
    seed (0.1 s to 1 s per digits MLP, up to ~7 s per digits CNN, 0.6 s to
    ~10 s per Fashion-MNIST CNN on one core); with the protocol's seed and
    epochs it reproduces the table.
    Live results are memoised per process (``cache=True``; training is
    deterministic, so this changes only the speed).

    ## Action Space
    ``MultiDiscrete(space.nvec)``: one index per component of the space, e.g.
    ``digits-mlp``: ``[3, 4, 4, 4, 2]`` = depth (1, 2, 3), width of hidden
    layers 1..3 (16, 32, 64, 128), activation (relu, tanh).  Components an
    architecture does not use (widths of layers beyond its depth; the second
    conv of a one-conv CNN) are ignored; ``info["encoding"]`` is the canonical
    form with those set to 0.  See docs/nas.md for every space.

    ## Observation Space
    ``Box(0, 1, (8,), float32)``, the task context (constant unless
    ``budget="random"``): the fraction of the space's architectures within the
    budget, the budget's position between the space's smallest and largest
    figure on a log scale, a one-hot of the constraint (latency, energy,
    params, macs) and of the platform (edge, cloud; zeros for a custom one).

    ## Rewards
    Within the budget: the metric (accuracy in [0, 1], or R^2 floored at -1)
    on ``metric_split`` (default ``"valid"``: the test split is reported in
    ``info`` but not optimised).  Over the budget (by more than a relative
    1e-9): ``-1 - (used - budget) / budget``, below every feasible reward,
    with ``info["reason"]``.  Higher is better.

    ## Starting State
    No architecture; with ``budget="random"`` the budget is the constraint
    figure of an architecture of the space drawn uniformly by ``np_random``
    (so at least one architecture is feasible).

    ## Episode End
    One step: the episode terminates after the architecture is evaluated.

    ## Arguments
    ``space`` ("digits-mlp", "digits-cnn", "fashion-cnn", "diabetes-mlp", "friedman1-mlp"),
    ``mode`` ("tabular", "live"), ``platform`` ("edge", "cloud" or an
    :class:`archgym.nas.Platform`), ``constraint`` ("latency" in cycles,
    "energy" in nJ, "params", "macs"), ``budget`` (a number > 0; None: the
    lower median of the constraint over the space, so about half of it is
    feasible; "random": drawn per episode), ``metric_split`` ("valid",
    "test"), ``train_seed`` and ``epochs`` (live mode: None = the protocol's,
    which the table used; ``train_seed="random"`` draws one per episode),
    ``cache`` (live memoisation), ``table`` (path of another table CSV),
    ``render_mode`` ("ansi").

    ``info`` has ``metric`` (on ``metric_split``), ``train_metric``,
    ``valid_metric``, ``test_metric``, ``metric_name``, ``params``, ``macs``,
    ``latency`` (cycles), ``latency_s``, ``energy`` (nJ), ``constraint``,
    ``budget``, ``used``, ``feasible``, ``arch``, ``encoding``, ``arch_id``,
    ``space``, ``mode``, ``platform``, ``seed``, ``epochs``,
    ``train_time`` (seconds; the table's recorded time in tabular mode), and
    ``objective`` (the metric on ``metric_split``: the reward of a design
    within the budget, unfloored) with ``objective_sense`` ("max").
    The reset info has the task context: ``budget``, ``constraint``,
    ``platform``, ``space`` and ``mode``; the attribute ``search_space`` is
    the :class:`archgym.nas.SearchSpace` searched.

    ## Version History
    * v0 (revised): ``info`` has ``objective`` and ``objective_sense``; the
      env pickles.
    * v0: initial version.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(self, space="digits-mlp", mode="tabular", platform="edge", constraint="latency",
                 budget=None, metric_split="valid", train_seed=None, epochs=None, cache=True,
                 table=None, render_mode: str | None = None):
        check_render_mode(render_mode, self.metadata["render_modes"])
        self.setup = make_setup(space, mode, platform, constraint, budget, metric_split,
                                train_seed, epochs, cache, table)
        self.render_mode = render_mode
        #: The architectures searched (public: what agents read, with the reset info's task context).
        self.search_space: SearchSpace = self.setup.space
        self._nvec = self.setup.space.nvec
        self.action_space = spaces.MultiDiscrete(self._nvec)
        self.observation_space = spaces.Box(0.0, 1.0, (self._obs_size(),), dtype=np.float32)
        self._budget = self._draw_budget(None)
        self._last: dict | None = None
        self._done = True

    def _obs_size(self) -> int:
        return CONTEXT_SIZE

    def _draw_budget(self, rng) -> float:
        s = self.setup
        if s.budget_arg == "random":
            return float(s.sorted_used[int(rng.integers(len(s.sorted_used)))]) if rng is not None \
                else s.default_budget()
        return s.default_budget() if s.budget_arg is None else float(s.budget_arg)

    def _begin(self, seed):
        gym.Env.reset(self, seed=seed)
        self._record_reset(None)
        self._budget = self._draw_budget(self.np_random)
        s = self.setup
        self._seed = int(self.np_random.integers(2**31)) if s.train_seed == "random" else s.train_seed
        self._last, self._done = None, False
        return {"budget": self._budget, "constraint": s.constraint, "platform": s.platform.name,
                "space": s.space.name, "mode": s.mode}

    def reset(self, *, seed=None, options=None):
        info = self._begin(seed)
        return self._obs(), info

    def _finish(self, enc: tuple[int, ...]) -> tuple[float, dict]:
        s = self.setup
        info = s.evaluate(enc, self._seed)
        used = info[s.constraint]
        over = exceeds(used, self._budget)
        info.update(constraint=s.constraint, budget=self._budget, used=used, feasible=not over,
                    objective=info["metric"], objective_sense="max")
        if over:
            reward = infeasible_reward(used, self._budget)
            info["reason"] = f"{s.constraint} {used:g} exceeds the budget {self._budget:g}"
        else:
            reward = feasible_reward(info["metric"])
        self._last, self._done = info, True
        return float(reward), info

    def step(self, action):
        check_running(self._done)
        enc = self.setup.space.canonical(check_action(action, self._nvec))
        self._record_step(action)
        reward, info = self._finish(enc)
        return self._obs(), reward, True, False, info

    def _obs(self) -> np.ndarray:
        return self.setup.context(self._budget)

    def render(self):
        if self.render_mode != "ansi":
            return None
        s = self.setup
        head = (f"NAS {s.space.name} ({s.mode}) on {s.platform.name}: {s.constraint} <= {self._budget:g}")
        if self._last is None:
            return head + "\n(no architecture yet)"
        r = self._last
        return "\n".join([
            head,
            f"arch {r['arch']}  encoding {r['encoding']}",
            f"{r['metric_name']}: valid {r['valid_metric']:.4f}  test {r['test_metric']:.4f}",
            (f"params {r['params']}  MACs {r['macs']}  latency {r['latency']} cycles "
             f"({r['latency_s'] * 1e6:.3g} us)  energy {r['energy']:.4g} nJ"),
            "feasible" if r["feasible"] else f"infeasible: {r['reason']}",
        ])


# ------------------------------------------------------------- sequential env
class NASSequentialEnv(NASEnv):
    """The same search, one component per step (for policies that emit a sequence).

    ## Description
    As :class:`NASEnv` (same spaces, table, live mode, cost and constraint),
    but the architecture is chosen one component at a time in the space's
    order (e.g. depth, width1, width2, width3, activation), skipping the
    components the choices so far make irrelevant (a depth-1 MLP is never
    asked for width2 or width3), as in the controller of Zoph and Le (2017).

    ## Action Space
    ``Discrete(max(space.nvec))``: the index of the current component's
    option.  An index at or beyond the component's option count wraps around
    (index mod count); the observation's mask (and :meth:`action_masks`, as
    sb3-contrib's MaskablePPO reads it) marks the options that do not wrap.

    ## Observation Space
    ``Box(0, 1, (8 + sum(nvec) + len(nvec) + 1 + max(nvec),), float32)``: the
    task context of :class:`NASEnv`, then the choices made so far (one-hot
    per component, zeros where not chosen or skipped), a one-hot of the
    component to choose next (the last slot means "done"), and the mask of
    valid options for it.

    ## Rewards
    0 for every step but the last; the last step's reward is :class:`NASEnv`'s.

    ## Starting State
    Nothing chosen; the first component is next.

    ## Episode End
    Terminates after the last active component (3 to 5 steps on the MLP
    spaces, 4 or 6 on the CNN space).

    ## Arguments
    Those of :class:`NASEnv`.  Intermediate steps' ``info`` has
    ``component``, ``choice`` and ``action_mask``; the last step's has
    :class:`NASEnv`'s figures too (``objective`` included).

    ## Version History
    * v0 (revised): the last step's ``info`` has ``objective`` and
      ``objective_sense``; the env pickles.
    * v0: initial version.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._max = int(self._nvec.max())
        self.action_space = spaces.Discrete(self._max)
        self._k = 0
        self._choice = [0] * len(self._nvec)

    def _obs_size(self) -> int:
        n = self._nvec
        return CONTEXT_SIZE + int(n.sum()) + len(n) + 1 + int(n.max())

    def reset(self, *, seed=None, options=None):
        info = self._begin(seed)
        self._choice = [0] * len(self._nvec)
        self._k = 0
        info["action_mask"] = self.action_masks()
        return self._obs(), info

    def action_masks(self) -> np.ndarray:
        """Options of the current component that do not wrap around (all False when done)."""
        mask = np.zeros(self._max, dtype=bool)
        if self._k < len(self._nvec):
            mask[: self._nvec[self._k]] = True
        return mask

    def step(self, action):
        check_running(self._done)
        a = check_action(np.reshape(action, (1,)) if _is_scalar_like(action) else action,
                         np.array([self._max], dtype=np.int64))[0]
        self._record_step(action)
        sp, k = self.setup.space, self._k
        choice = a % int(self._nvec[k])
        self._choice[k] = choice
        self._k = k + 1
        while self._k < len(self._nvec) and not sp.active(self._k, self._choice):
            self._k += 1
        info = {"component": sp.components[k], "choice": choice}
        if self._k < len(self._nvec):
            info["action_mask"] = self.action_masks()
            return self._obs(), 0.0, False, False, info
        reward, figures = self._finish(sp.canonical(self._choice))
        info.update(figures)
        info["action_mask"] = self.action_masks()
        return self._obs(), reward, True, False, info

    def _obs(self) -> np.ndarray:
        n = self._nvec
        obs = np.zeros(self.observation_space.shape, dtype=np.float32)
        obs[:CONTEXT_SIZE] = self.setup.context(self._budget)
        offsets = CONTEXT_SIZE + np.concatenate([[0], np.cumsum(n)[:-1]])
        for j in range(min(self._k, len(n))):
            if self.setup.space.active(j, self._choice):
                obs[offsets[j] + self._choice[j]] = 1.0
        base = CONTEXT_SIZE + int(n.sum())
        obs[base + min(self._k, len(n))] = 1.0
        obs[base + len(n) + 1:] = self.action_masks()
        return obs


def _is_scalar_like(action) -> bool:
    """A 0-d int/float value (Python or numpy), which Discrete actions are."""
    if isinstance(action, (str, bytes)) or action is None:
        return False
    arr = np.asarray(action)
    return arr.ndim == 0 and arr.dtype.kind in "iuf"
