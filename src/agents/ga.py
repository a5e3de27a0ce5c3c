"""Genetic algorithms over designs, and ConfuciuX's REINFORCE + GA fine-tuning.

A *design* is the action sequence of one episode, stored as an integer array
of shape (steps, action dimensions) holding each choice's index (action minus
the space's ``start``).  Its length is learned from the env: the first design
is ``session.play([])`` (random actions to the end of the episode); when an
episode runs longer than a design, :meth:`Session.play` extends it with
random actions and the design keeps them.  Every evaluated design costs one
sample.

``ga`` (the GA baseline of ConfuciuX, ``src/Other_Opts/other_opt_env.py`` in
maestro-project/confuciux): a random population of 50; each generation keeps
the 10 fittest as parents (truncation selection and elitism) and breeds 40
children: the first half of the genes from parent ``k mod 10``, the rest from
a random parent, then each gene reset to a random choice with probability 0.05.
Deviation: parents are not re-evaluated (the original re-ran all 50 designs
every generation), so a generation costs 40 samples, not 50.

``reinforce_ga`` (ConfuciuX, MICRO 2020, ``src/ConfX/main.py`` and
``ga_confx.py``): REINFORCE (:mod:`agents.reinforce`, default settings) for
2/3 of the budget, then a GA fine-tunes the best design found.  The population
is 20 copies of it; each generation keeps the 8 fittest as parents, the fittest
survives unchanged, and child i is parent ``i mod 8`` with one gene moved by
``int(U(-mul, mul) * max(1, n / 2))`` choices (n = that dimension's choices;
the original divided by 2 in integers, the same for its 12 levels), clipped to
the valid choices, then with probability 0.2 a "self-crossover" that swaps one
dimension's values between two steps.  A child that is infeasible while its
parent is feasible is replaced by the parent.

Deviations from the original: it moved raw PE counts and tile sizes (clipped
to [1, 128] and [1, 12], leaving the 12 levels); here genes are level indices,
so a move is in levels and clipped to the levels.  It checked the budget per
layer before evaluating, for free; here feasibility is known only by
evaluating the child, which costs a sample.  It counted a GA generation of 20
evaluations as one "epoch" of the budget; here every evaluation is one sample.
Note that int() truncates: with mul = 0.5 a dimension of 4 or fewer choices
never moves (on NAS-v0 only the self-crossover varies a design, and a one-step
design has nothing to swap, so the GA phase re-evaluates the RL best).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import gymnasium as gym
import numpy as np

from agents.base import Session, check_fitness, check_number, is_feasible, parse_score


def supports(env: gym.Env) -> str | None:
    space = env.action_space
    if isinstance(space, gym.spaces.MultiDiscrete) and space.nvec.ndim != 1:
        return f"needs a one-dimensional MultiDiscrete action space, got {space}"
    if isinstance(space, (gym.spaces.Discrete, gym.spaces.MultiDiscrete)):
        return None
    return f"needs a Discrete or MultiDiscrete action space, got {space}"


def supports_hybrid(env: gym.Env) -> str | None:
    from agents import reinforce

    return reinforce.supports(env) or supports(env)


@dataclasses.dataclass
class Config:
    """GA baseline settings; the defaults are ConfuciuX's baseline GA."""

    #: Designs per generation (the initial ones are random).
    population: int = 50
    #: The fittest designs kept each generation; they breed the other population - parents.
    parents: int = 10
    #: Probability that a child's gene is reset to a random choice.
    mutation_rate: float = 0.05
    #: "middle": first half of the genes from one parent, the rest from the other
    #: (the original); "uniform": each gene from either parent.
    crossover: str = "middle"
    #: How designs are ranked: "return" (the episode return), "min:KEY" / "max:KEY"
    #: on the final info (infeasible designs rank last), or "session" (the run's score).
    fitness: str = "return"

    def __post_init__(self):
        check_number("population", self.population, 2, integer=True)
        check_number("parents", self.parents, 1, integer=True)
        if self.parents >= self.population:
            raise ValueError(f"parents must be fewer than population ({self.population}), "
                             f"got {self.parents}")
        check_number("mutation_rate", self.mutation_rate, 0, 1)
        if self.crossover not in CROSSOVERS:
            raise ValueError(f"unknown crossover {self.crossover!r}; allowed: {', '.join(CROSSOVERS)}")
        check_fitness(self.fitness)


CROSSOVERS = ("middle", "uniform")


@dataclasses.dataclass
class HybridConfig:
    """ConfuciuX's REINFORCE + GA settings (the RL phase uses agents.reinforce's defaults)."""

    #: Share of the budget given to REINFORCE (the rest fine-tunes with the GA).
    rl_fraction: float = 2 / 3
    #: GA population and parents per generation.
    population: int = 20
    parents: int = 8
    #: Mutation range a: a gene moves by int(U(-a, a) * max(1, n / 2)) choices
    #: (ConfuciuX uses the budget's mul, 0.5 by default).
    mul: float = 0.5
    #: Probability of the self-crossover (a swap of one dimension between two steps).
    self_crossover: float = 0.2
    #: How the GA ranks designs; "session" (default) is the run's score, e.g.
    #: "min:total_cycles" ranks by total latency as ConfuciuX's GA does.
    fitness: str = "session"

    def __post_init__(self):
        check_number("rl_fraction", self.rl_fraction, 0, 1)
        check_number("population", self.population, 2, integer=True)
        check_number("parents", self.parents, 1, integer=True)
        if self.parents > self.population:
            raise ValueError(f"parents must be at most population ({self.population}), "
                             f"got {self.parents}")
        check_number("mul", self.mul, 0, 1, low_open=True)
        check_number("self_crossover", self.self_crossover, 0, 1)
        check_fitness(self.fitness)


# ------------------------------------------------------------------- designs
class Designs:
    """Converts between designs (arrays of choice indices) and an env's actions."""

    def __init__(self, space: gym.Space):
        self.discrete = isinstance(space, gym.spaces.Discrete)
        if self.discrete:
            self.n = np.array([space.n], dtype=np.int64)
            self.start = np.array([space.start], dtype=np.int64)
        else:
            self.n = np.asarray(space.nvec, dtype=np.int64)
            self.start = np.asarray(space.start, dtype=np.int64)

    def actions(self, design: np.ndarray) -> list:
        acts = design + self.start
        return [int(a[0]) for a in acts] if self.discrete else list(acts)

    def design(self, actions: list) -> np.ndarray:
        return np.asarray(actions, dtype=np.int64).reshape(len(actions), -1) - self.start

    def pad(self, design: np.ndarray, steps: int, rng: np.random.Generator) -> np.ndarray:
        """``design`` extended to ``steps`` steps with random choices."""
        extra = steps - len(design)
        if extra <= 0:
            return design
        return np.concatenate([design, rng.integers(0, self.n, size=(extra, len(self.n)))])


def fitness_function(spec: str, session: Session) -> Callable[[float, dict], float]:
    """fitness(episode return, final info); "session" means the session's score."""
    return parse_score(session.env.score_spec if spec == "session" else spec)


def evaluate(session: Session, designs: Designs, design: np.ndarray,
             fitness: Callable) -> tuple[float, dict, np.ndarray]:
    """Play a design (one sample): (fitness, final info, the design as played, extended with
    random steps if the episode ran longer, its unplayed tail kept if it ended earlier)."""
    ret, info, played = session.play(designs.actions(design))
    played = designs.design(played)
    return fitness(ret, info), info, np.concatenate([played, design[len(played):]])


def _fittest(population: list, k: int) -> list:
    """The k entries with the highest fitness (entry[0]); ties keep their order."""
    order = sorted(range(len(population)), key=lambda i: -population[i][0])
    return [population[i] for i in order[:k]]


# ------------------------------------------------------------------ baseline
def run(session: Session, config: Config) -> None:
    fitness = fitness_function(config.fitness, session)
    designs, rng = Designs(session.env.action_space), session.rng
    population = []  # (fitness, design)
    while len(population) < config.population and not session.exhausted:
        ret, info, played = session.play([])
        population.append((fitness(ret, info), designs.design(played)))
    while not session.exhausted:
        parents = _fittest(population, config.parents)
        population = list(parents)
        for k in range(config.population - config.parents):
            if session.exhausted:
                break
            a, b = parents[k % len(parents)][1], parents[int(rng.integers(len(parents)))][1]
            steps = max(len(a), len(b))
            a, b = designs.pad(a, steps, rng), designs.pad(b, steps, rng)
            child = _crossover(a, b, config.crossover, rng)
            child = _mutate(child, designs.n, config.mutation_rate, rng)
            f, _, child = evaluate(session, designs, child, fitness)
            population.append((f, child))


def _crossover(a: np.ndarray, b: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
    flat_a, flat_b = a.reshape(-1), b.reshape(-1)
    if kind == "middle":
        half = len(flat_a) // 2
        child = np.concatenate([flat_a[:half], flat_b[half:]])
    else:
        child = np.where(rng.random(len(flat_a)) < 0.5, flat_a, flat_b)
    return child.reshape(a.shape)


def _mutate(design: np.ndarray, n: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    reset = rng.random(design.shape) < rate
    return np.where(reset, rng.integers(0, n, size=design.shape), design)


# ------------------------------------------------------------ ConfuciuX hybrid
def run_hybrid(session: Session, config: HybridConfig) -> None:
    from agents import reinforce

    rl_samples = max(1, math.floor(session.budget * config.rl_fraction + 1e-9))
    reinforce.train(session, reinforce.Config(), samples=rl_samples)
    session.extras["rl_samples"] = session.samples
    session.extras["rl_best_score"] = session.env.best["score"]
    fine_tune(session, config)


def fine_tune(session: Session, config: HybridConfig) -> None:
    """ConfuciuX's GA, started from the session's best design so far, until the budget is spent."""
    fitness = fitness_function(config.fitness, session)
    designs, rng = Designs(session.env.action_space), session.rng
    best = session.env.best
    start = (fitness(best["return"], best["info"]), is_feasible(best["info"]),
             designs.design(best["actions"]))
    population = [start] * config.population  # (fitness, feasible, design); entries never mutate
    while not session.exhausted:
        parents = _fittest(population, config.parents)
        population = [parents[0]]  # elitism
        for i in range(1, config.population):
            if session.exhausted:
                break
            parent = parents[i % len(parents)]
            child = _move_one_gene(parent[2], designs.n, config.mul, rng)
            if rng.random() < config.self_crossover:
                child = _self_crossover(child, rng)
            f, info, child = evaluate(session, designs, child, fitness)
            feasible = is_feasible(info)
            population.append(parent if parent[1] and not feasible else (f, feasible, child))


def _move_one_gene(design: np.ndarray, n: np.ndarray, mul: float, rng: np.random.Generator) -> np.ndarray:
    child = design.copy()
    step, dim = int(rng.integers(len(child))), int(rng.integers(len(n)))
    move = int(rng.uniform(-mul, mul) * max(1.0, n[dim] / 2))  # int() truncates toward 0
    child[step, dim] = min(max(child[step, dim] + move, 0), int(n[dim]) - 1)
    return child


def _self_crossover(design: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    child = design.copy()
    i, j = (int(s) for s in rng.integers(len(child), size=2))
    dim = int(rng.integers(child.shape[1]))
    child[i, dim], child[j, dim] = design[j, dim], design[i, dim]
    return child
