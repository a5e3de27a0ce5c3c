"""Helpers shared by the agents' tests."""

from __future__ import annotations

import gymnasium as gym
import numpy as np


class MaskCheck(gym.Wrapper):
    """Remembers (mask, action) for every step the agent takes."""

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        self.mask, self.seen = info["action_mask"], getattr(self, "seen", [])
        return obs, info

    def step(self, action):
        self.seen.append((np.array(self.mask), int(action)))
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.mask = info["action_mask"]
        return obs, reward, terminated, truncated, info
