"""Search baselines with the same sample budget as the learning agents.

- ``random``: every step's action drawn uniformly (among the valid ones where
  the env exposes ``info["action_mask"]``).
"""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np

from agents.base import Session, random_action


def supports(env: gym.Env) -> str | None:
    if isinstance(env.action_space, (gym.spaces.Discrete, gym.spaces.MultiDiscrete)):
        return None
    return f"needs a Discrete or MultiDiscrete action space, got {env.action_space}"


@dataclasses.dataclass
class RandomConfig:
    """Random search has no settings."""


def run_random(session: Session, config: RandomConfig) -> None:
    space = session.env.action_space
    while not session.exhausted:
        session.rollout(lambda _t, _obs, info: random_action(space, session.rng, info))
