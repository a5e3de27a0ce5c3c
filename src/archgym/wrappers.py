"""Gymnasium wrappers that make archgym's environments fit common RL libraries.

:class:`FlatActions` shows a ``MultiDiscrete`` action space as one
``Discrete`` space of all joint actions, for algorithms that take only
``Discrete`` actions, such as stable-baselines3's DQN::

    import gymnasium as gym
    import archgym
    from archgym.wrappers import FlatActions

    env = FlatActions(gym.make("SparseFormat-v0"))   # MultiDiscrete([9, 9, 3, 3]) -> Discrete(729)

The wrapped env records nothing new: its ``info`` is the env's own, and
:meth:`FlatActions.reverse_action` maps an env action back to its index.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

__all__ = ["FlatActions"]


class FlatActions(gym.ActionWrapper):
    """A MultiDiscrete env seen through one Discrete space of all joint actions.

    Index i is the joint action ``np.unravel_index(i, nvec)`` (row-major: the last
    component varies fastest), plus the space's ``start``.  The joint space
    must be small enough for the algorithm (DQN's Q-network has one output per
    joint action): ``HWResource-v0`` has 144, ``SparseFormat-v0`` 729,
    ``Quant-v0`` 49, ``NAS-v0`` 384; ``NoCRouting-PerRouter-v0``'s 4^64 cannot be
    flattened usefully.  A Discrete space (the other NoCRouting ids) is passed
    through as ``Discrete(n)`` from 0, so every family can be wrapped alike.
    """

    def __init__(self, env: gym.Env):
        super().__init__(env)
        space = env.action_space
        self.discrete = isinstance(space, gym.spaces.Discrete)
        if self.discrete:
            self.nvec, self.start, self.dtype = np.array([space.n]), np.array([space.start]), space.dtype
        elif isinstance(space, gym.spaces.MultiDiscrete) and space.nvec.ndim == 1:
            self.nvec, self.start, self.dtype = space.nvec, space.start, space.dtype
        else:
            raise ValueError(f"FlatActions needs a Discrete or one-dimensional MultiDiscrete space, got {space}")
        self.action_space = gym.spaces.Discrete(int(np.prod(self.nvec)))

    def action(self, index):
        if not self.action_space.contains(index):
            raise ValueError(f"flat action {index!r} out of range: must be in "
                             f"[0, {self.action_space.n - 1}]")
        joint = (self.start + np.array(np.unravel_index(int(index), self.nvec))).astype(self.dtype)
        return joint[0] if self.discrete else joint

    def reverse_action(self, action) -> int:
        return int(np.ravel_multi_index(np.reshape(np.asarray(action) - self.start, -1), self.nvec))
