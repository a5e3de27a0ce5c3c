"""Tabular Q-learning, SARSA and Expected SARSA (Kao et al., NOCS 2019).

The NOCS'19 paper learns which routing algorithm a network-on-chip should use
at each injection rate with three tabular methods; the state is the
observation (NoCRouting-v0: the injection rate), the action a Discrete
choice.  The table's rows are indexed by the observation rounded to
``decimals`` places, grown as new observations appear.

One episode plays the env with an epsilon-greedy policy (ties between equal
Q values broken at random) and updates after every step, with
``target = r`` at a terminal step and otherwise

- Q-learning:      ``r + gamma * max_a Q(s', a)``
- SARSA:           ``r + gamma * Q(s', a')``, a' the next action actually taken
- Expected SARSA:  ``r + gamma * sum_a pi(a | s') Q(s', a)``, pi epsilon-greedy

and ``Q(s, a) += alpha * (target - Q(s, a))``.

Settings of the original (its public code): 15 episodes (the caller's
budget), alpha 0.01, epsilon = 1 / (episode + 1).  Deviation: the original
tied the discount factor to the epsilon schedule; here ``gamma`` is a constant
of its own.  NoCRouting-v0 is a contextual bandit (the next rate follows
whatever the action), so ``gamma=0`` is the exact setting for it, and then the
three methods make the same updates; a positive gamma (default 0.9) keeps them
distinct, as in the paper's comparison.

After training, ``session.extras`` holds the table (JSON-able):
``states`` (the rounded observations, as lists), ``q_values`` (one row of
action values per state), ``visits`` (updates per state and action),
``greedy_actions`` (the greedy policy, lowest action on ties) and
``decimals``.  :func:`evaluate_greedy` plays that policy on any env, e.g. to
read the per-state regret NoCRouting-v0 reports.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import gymnasium as gym
import numpy as np

from agents.base import Session, check_number, figures

#: Observations with more values than this are taken as too continuous for a table.
MAX_OBS_VALUES = 8
EPSILON_SCHEDULES = ("inverse", "constant")


def supports(env: gym.Env) -> str | None:
    if not isinstance(env.action_space, gym.spaces.Discrete):
        return f"needs a Discrete action space (one table column per action), got {env.action_space}"
    obs = env.observation_space
    if isinstance(obs, (gym.spaces.Discrete, gym.spaces.MultiDiscrete, gym.spaces.MultiBinary)):
        return None
    if isinstance(obs, gym.spaces.Box):
        if obs.shape is not None and int(np.prod(obs.shape)) <= MAX_OBS_VALUES:
            return None
        return (f"needs an observation with few distinct values to index a table; {obs} has "
                f"{int(np.prod(obs.shape))} continuous values (at most {MAX_OBS_VALUES} allowed)")
    return f"needs a Discrete, MultiDiscrete, MultiBinary or small Box observation space, got {obs}"


@dataclasses.dataclass
class Config:
    """Tabular TD settings; the defaults are NOCS'19's except gamma (see the module docstring)."""

    #: Step size of the updates.
    alpha: float = 0.01
    #: Discount factor (a constant; the original tied it to epsilon).
    gamma: float = 0.9
    #: "inverse": epsilon = 1 / (episode + 1), episode counted from 0 (NOCS'19);
    #: "constant": epsilon = ``epsilon`` throughout.
    epsilon_schedule: str = "inverse"
    #: Exploration rate of the "constant" schedule.
    epsilon: float = 0.1
    #: Initial value of every table entry.
    q_init: float = 0.0
    #: Observations are rounded to this many decimals to index the table.
    decimals: int = 6
    #: The run stops with an error when it has seen more distinct observations than
    #: this (the observation is then not a small finite state).
    max_states: int = 10_000

    def __post_init__(self):
        check_number("alpha", self.alpha, 0.0, 1.0, low_open=True)
        check_number("gamma", self.gamma, 0.0, 1.0)
        check_number("epsilon", self.epsilon, 0.0, 1.0)
        check_number("q_init", self.q_init)
        check_number("decimals", self.decimals, 0, 15, integer=True)
        check_number("max_states", self.max_states, 1, integer=True)
        if self.epsilon_schedule not in EPSILON_SCHEDULES:
            raise ValueError(f"unknown epsilon_schedule {self.epsilon_schedule!r}; "
                             f"allowed: {', '.join(EPSILON_SCHEDULES)}")


def state_key(obs, decimals: int) -> tuple:
    """The table key of an observation: its values rounded to ``decimals`` places."""
    return tuple(np.round(np.asarray(obs, dtype=np.float64).ravel(), decimals).tolist())


class QTable:
    """Action values per observed state; rows are added as new states appear."""

    def __init__(self, n_actions: int, config: Config):
        self.n_actions, self.config = n_actions, config
        self.index: dict[tuple, int] = {}
        self.q: list[np.ndarray] = []
        self.visits: list[np.ndarray] = []

    def row(self, obs) -> int:
        key = state_key(obs, self.config.decimals)
        if key not in self.index:
            if len(self.index) >= self.config.max_states:
                raise ValueError(f"more than max_states={self.config.max_states} distinct "
                                 "observations: this env's observation is not a small finite "
                                 "state; raise max_states or lower decimals")
            self.index[key] = len(self.q)
            self.q.append(np.full(self.n_actions, float(self.config.q_init)))
            self.visits.append(np.zeros(self.n_actions, dtype=np.int64))
        return self.index[key]

    def to_extras(self, start: int) -> dict:
        return {"states": [list(key) for key in self.index],
                "q_values": [q.tolist() for q in self.q],
                "visits": [v.tolist() for v in self.visits],
                "greedy_actions": [start + int(np.argmax(q)) for q in self.q],
                "decimals": self.config.decimals}


def _epsilon(config: Config, episode: int) -> float:
    return 1.0 / (episode + 1) if config.epsilon_schedule == "inverse" else config.epsilon


def _choose(q: np.ndarray, epsilon: float, rng: np.random.Generator) -> int:
    """Epsilon-greedy, ties between the highest values broken at random."""
    if rng.random() < epsilon:
        return int(rng.integers(len(q)))
    return int(rng.choice(np.flatnonzero(q == q.max())))


def _train(session: Session, config: Config, method: str) -> None:
    env, rng = session.env, session.rng
    start = int(env.action_space.start)
    table = QTable(int(env.action_space.n), config)
    alpha, gamma = config.alpha, config.gamma
    while not session.exhausted:
        epsilon = _epsilon(config, session.samples)
        obs, _ = env.reset()
        s = table.row(obs)
        a = _choose(table.q[s], epsilon, rng)
        while True:
            obs, reward, terminated, truncated, _ = env.step(start + a)
            target = float(reward)
            if not terminated:  # bootstrap (also at a truncation: the state goes on)
                s2 = table.row(obs)
                q2 = table.q[s2]
                if method == "sarsa":
                    a2 = _choose(q2, epsilon, rng)
                    target += gamma * q2[a2]
                elif method == "q_learning":
                    target += gamma * q2.max()
                else:  # expected SARSA under the epsilon-greedy policy
                    target += gamma * (epsilon * q2.mean() + (1.0 - epsilon) * q2.max())
            table.q[s][a] += alpha * (target - table.q[s][a])
            table.visits[s][a] += 1
            if terminated or truncated:
                break
            if method != "sarsa":  # SARSA chose a2 before the update, the others after it
                a2 = _choose(table.q[s2], epsilon, rng)
            s, a = s2, a2
    session.extras.update(table.to_extras(start))


def run_q_learning(session: Session, config: Config) -> None:
    _train(session, config, "q_learning")


def run_sarsa(session: Session, config: Config) -> None:
    _train(session, config, "sarsa")


def run_expected_sarsa(session: Session, config: Config) -> None:
    _train(session, config, "expected_sarsa")


# ------------------------------------------------------------- evaluation
def greedy_policy(extras: dict):
    """The greedy policy of a trained table (``session.extras`` or ``RunResult.extras``):
    ``policy(obs) -> action``; raises ValueError on a state the table never saw."""
    try:
        decimals = extras["decimals"]
        actions = {tuple(s): a for s, a in zip(extras["states"], extras["greedy_actions"], strict=True)}
    except (KeyError, TypeError) as e:
        raise ValueError(f"not a tabular agent's extras (needs states, greedy_actions and "
                         f"decimals): {e}") from None

    def policy(obs) -> int:
        key = state_key(obs, decimals)
        if key not in actions:
            raise ValueError(f"state {list(key)} was never visited in training; "
                             f"known states: {[list(k) for k in actions]}")
        return int(actions[key])

    return policy


def evaluate_greedy(env: gym.Env, extras: dict, seed: int | None = None) -> list[dict[str, Any]]:
    """Play one episode of ``env`` with the greedy policy of ``extras`` (not recorded,
    no budget): per step ``{"obs", "action", "reward", "info"}``, ``info`` being the
    JSON-able figures of the step's info (on NoCRouting-v0 they include ``rate``,
    ``latency``, ``best_action`` and ``regret``)."""
    policy = greedy_policy(extras)
    obs, _ = env.reset(seed=seed)
    steps = []
    while True:
        action = policy(obs)
        next_obs, reward, terminated, truncated, info = env.step(action)
        steps.append({"obs": np.asarray(obs).ravel().tolist(), "action": action,
                      "reward": float(reward), "info": figures(info)})
        if terminated or truncated:
            return steps
        obs = next_obs
