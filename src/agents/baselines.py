"""Search baselines with the same sample budget as the learning agents.

- ``random``: every step's action drawn uniformly (among the valid ones where
  the env exposes ``info["action_mask"]``).
- ``sa``: simulated annealing over designs (a design is the action sequence of
  one episode; its length is learned by playing a random one first).  A
  neighbour re-draws one gene (one component of one step's action) to another
  value; a worse neighbour is accepted with probability exp(delta / T), where
  the temperature falls geometrically over the budget and is measured in units
  of the first feasible design's |fitness|, so the same settings fit returns of
  any scale.  Every evaluated design costs one sample.
- ``tpe``: the Tree-structured Parzen Estimator of optuna (Bergstra et al.,
  NIPS 2011) as a black-box optimiser of designs, define-by-run: each step's
  action is suggested while the episode plays, so episodes of any length work.
- ``gp_bo``: Gaussian-process Bayesian optimisation, optuna's GPSampler (Matern
  5/2 kernel with a length scale per parameter, log expected improvement), the
  GP-based BO baseline ConfuciuX (MICRO 2020) compared against, on the same
  define-by-run loop as ``tpe``.  As in ConfuciuX's public code (bayes_opt over
  one real number per choice, truncated to the choice's index), each action
  component is relaxed to a real x in [0, n) and choice ``min(floor(x), n - 1)``
  is taken: the GP then optimises its acquisition by L-BFGS over all
  dimensions at once.  optuna's integer and categorical parameters are searched
  one dimension at a time, about ten times slower per trial on HWResource's 104
  parameters.

The design helpers (:class:`agents.ga.Designs`, :func:`agents.ga.evaluate`,
:func:`agents.ga.fitness_function`) are the GA's, so the search agents
read designs and rank them the same way.
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np

from agents.base import Session, check_fitness, check_number, random_action

# The search baselines run where the GA runs (one-dimensional Discrete/MultiDiscrete designs).
from agents.ga import Designs, evaluate, fitness_function, supports  # noqa: F401 (supports: registry)


# -------------------------------------------------------------------- random
@dataclasses.dataclass
class RandomConfig:
    """Random search has no settings."""


def run_random(session: Session, config: RandomConfig) -> None:
    space = session.env.action_space
    while not session.exhausted:
        session.rollout(lambda _t, _obs, info: random_action(space, session.rng, info))


# ------------------------------------------------------- simulated annealing
@dataclasses.dataclass
class SAConfig:
    """Simulated annealing settings."""

    #: Temperature at the first move and at the last one, as fractions of the first
    #: feasible design's |fitness| (a move that loses t_start * |f0| is accepted with
    #: probability 1/e at the start); the schedule is geometric in between.
    t_start: float = 0.1
    t_end: float = 0.001
    #: How designs are ranked: "return" (the episode return), "min:KEY" / "max:KEY" on
    #: the final info (infeasible designs rank last), or "session" (the run's score).
    fitness: str = "return"

    def __post_init__(self):
        check_number("t_start", self.t_start, 0.0, low_open=True)
        check_number("t_end", self.t_end, 0.0, self.t_start, low_open=True)
        check_fitness(self.fitness)


def temperature(config: SAConfig, move: int, moves: int) -> float:
    """Relative temperature of move ``move`` (0-based) of ``moves``: geometric from
    t_start to t_end."""
    progress = move / (moves - 1) if moves > 1 else 0.0
    return config.t_start * (config.t_end / config.t_start) ** min(progress, 1.0)


def neighbour(design: np.ndarray, n: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A copy of ``design`` (steps x dimensions of choice indices, ``n`` choices per
    dimension) with one gene re-drawn to a different choice; an unchanged copy when no
    dimension has two choices."""
    child = design.copy()
    dims = np.flatnonzero(n > 1)
    if len(child) == 0 or len(dims) == 0:
        return child
    step, dim = int(rng.integers(len(child))), int(rng.choice(dims))
    child[step, dim] = (child[step, dim] + rng.integers(1, n[dim])) % n[dim]
    return child


def run_sa(session: Session, config: SAConfig) -> None:
    score = fitness_function(config.fitness, session)

    def fitness(ret, info):  # a design whose fitness is not a number ranks with the infeasible
        f = score(ret, info)
        return -math.inf if math.isnan(f) else f

    designs, rng = Designs(session.env.action_space), session.rng
    ret, info, played = session.play([])
    current, f_current = designs.design(played), fitness(ret, info)
    scale = (abs(f_current) or 1.0) if math.isfinite(f_current) else None  # None until feasible
    moves = session.budget - 1
    for move in range(moves):
        if session.exhausted:
            break
        f, _, candidate = evaluate(session, designs, neighbour(current, designs.n, rng), fitness)
        if scale is None and math.isfinite(f):
            scale = abs(f) or 1.0
        if f >= f_current:  # always true while nothing feasible was found (f_current = -inf)
            accept = True
        else:  # Metropolis rule; an infeasible design (-inf) is never accepted
            t = temperature(config, move, moves) * scale
            accept = bool(rng.random() < math.exp((f - f_current) / t))
        if accept:
            current, f_current = candidate, f


# ----------------------------------------------------------------------- TPE
@dataclasses.dataclass
class TPEConfig:
    """TPE (optuna) settings."""

    #: Random designs before TPE starts modelling (optuna's default).
    n_startup_trials: int = 10
    #: True: every choice is categorical (no order assumed); False: choice indices are
    #: ordinal integers (suits levels such as HWResource's PE and buffer levels).
    categorical: bool = True
    #: How designs are ranked: "return", "min:KEY" / "max:KEY" or "session" (see SAConfig).
    fitness: str = "return"

    def __post_init__(self):
        check_number("n_startup_trials", self.n_startup_trials, 1, integer=True)
        if not isinstance(self.categorical, bool):
            raise TypeError(f"categorical must be True or False, got {self.categorical!r}")
        check_fitness(self.fitness)


#: What optuna is told for an infeasible design: TPE ranks trials, so any finite value
#: below every feasible fitness works.
WORST_VALUE = -np.finfo(np.float64).max


def run_tpe(session: Session, config: TPEConfig) -> None:
    import optuna

    sampler = optuna.samplers.TPESampler(n_startup_trials=config.n_startup_trials, seed=session.seed)
    kind = "categorical" if config.categorical else "int"
    _optimise(session, sampler, kind, config.fitness, _finite)


@dataclasses.dataclass
class GPConfig:
    """GP-based Bayesian optimisation (optuna's GPSampler) settings."""

    #: Random designs before the GP starts modelling (optuna's default, and ConfuciuX's).
    n_startup_trials: int = 10
    #: How designs are ranked: "return", "min:KEY" / "max:KEY" or "session" (see SAConfig).
    fitness: str = "return"

    def __post_init__(self):
        check_number("n_startup_trials", self.n_startup_trials, 1, integer=True)
        check_fitness(self.fitness)


def run_gp_bo(session: Session, config: GPConfig) -> None:
    """The GP regresses on the fitness values themselves (TPE only ranks them), so a design
    whose fitness is not finite (infeasible: -inf; NaN) is told as the worst finite fitness
    seen so far, or as a failed trial, which the GP ignores, while none is known.  The
    objective is deterministic (archgym's envs replay exactly), so the GP models no
    observation noise.  Parameters outside the search space all trials share (masked
    steps, episodes of another length) are drawn at random."""
    import optuna

    with warnings.catch_warnings():  # deterministic_objective is marked experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.GPSampler(n_startup_trials=config.n_startup_trials,
                                            seed=session.seed, deterministic_objective=True,
                                            warn_independent_sampling=False)
    worst = math.inf

    def value(f: float) -> float | None:
        nonlocal worst
        if math.isfinite(f):
            worst = min(worst, f)
            return f
        return worst if math.isfinite(worst) else None

    _optimise(session, sampler, "real", config.fitness, value)


def _optimise(session: Session, sampler, kind: str, fitness_spec: str, value) -> None:
    """optuna's ask-and-tell loop, one trial per episode, parameters of ``kind`` (see
    :func:`_suggest_action`); ``value(fitness)`` is what the study is told (None: the
    trial failed)."""
    import optuna

    fitness = fitness_function(fitness_spec, session)
    designs = Designs(session.env.action_space)
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        study = optuna.create_study(direction="maximize", sampler=sampler)  # in memory
        while not session.exhausted:
            trial = study.ask()

            def policy(step, _obs, info, trial=trial):
                return _suggest_action(trial, step, designs, info, kind)

            ret, info, _ = session.rollout(policy)
            told = value(fitness(ret, info))
            if told is None:
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
            else:
                study.tell(trial, told)
    finally:
        optuna.logging.set_verbosity(verbosity)


def _finite(f: float) -> float:
    """A fitness optuna accepts: -inf (infeasible) and NaN become WORST_VALUE."""
    if f == math.inf:
        return -WORST_VALUE
    return f if math.isfinite(f) else WORST_VALUE


def _suggest_action(trial, step: int, designs: Designs, info: dict, kind: str):
    """Step ``step``'s action from the trial: one parameter per action component, of
    ``kind`` "categorical" (no order), "int" (the choice index) or "real" (x in [0, n),
    choice ``min(floor(x), n - 1)``).

    On a Discrete space with ``info["action_mask"]`` only the valid choices are offered;
    the parameter's name includes the mask, since optuna needs a fixed set of choices
    per name.
    """
    def suggest(name, choices):
        if kind == "categorical":
            return trial.suggest_categorical(name, choices)
        if kind == "int":
            return choices[trial.suggest_int(name, 0, len(choices) - 1)]
        x = trial.suggest_float(name, 0.0, float(len(choices)))
        return choices[min(int(x), len(choices) - 1)]

    if designs.discrete:
        mask = info.get("action_mask")
        if mask is None:
            return int(designs.start[0]) + suggest(f"step{step}", list(range(int(designs.n[0]))))
        mask = np.asarray(mask, dtype=bool)
        name = f"step{step}_mask" + "".join("1" if m else "0" for m in mask)
        return int(designs.start[0]) + suggest(name, [int(i) for i in np.flatnonzero(mask)])
    return designs.start + np.array([suggest(f"step{step}_{i}", list(range(int(n))))
                                     for i, n in enumerate(designs.n)], dtype=np.int64)
