"""rgb_array rendering: HWResource's per-layer allocation bars and the NoC heatmap (matplotlib, Agg)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

import archgym  # noqa: F401  (registers the environments)


def _is_image(img):
    return isinstance(img, np.ndarray) and img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3


def test_hwresource_bars_follow_the_assignment():
    env = gym.make("HWResource-v0", render_mode="rgb_array")
    env.reset(seed=0)
    empty = env.render()
    env.step([11, 11])
    one = env.render()
    env.step([0, 0])
    two = env.render()
    assert _is_image(empty) and one.shape == empty.shape == two.shape
    assert empty.shape[0] >= 240 and empty.shape[1] >= 400
    assert not np.array_equal(empty, one) and not np.array_equal(one, two)
    assert len(np.unique(one.reshape(-1, 3), axis=0)) > 10  # bars, axes and text, not a blank canvas


def test_hwresource_same_state_same_picture():
    pictures = []
    for _ in range(2):
        env = gym.make("HWResource-v0", render_mode="rgb_array")
        env.reset(seed=0)
        env.step([3, 4])
        pictures.append(env.render())
    np.testing.assert_array_equal(*pictures)


def test_noc_heatmap_changes_with_the_state():
    env = gym.make("NoCRouting-Persistent-v0", k=4, render_mode="rgb_array", rate_range=(0.05, 0.3),
                   cycles_per_step=300, warmup_cycles=300, max_steps=30)
    env.reset(seed=1)
    pictures = [env.render()]
    for action in (0, 1, 2):
        env.step(action)
        pictures.append(env.render())
    assert all(_is_image(p) and p.shape == pictures[0].shape for p in pictures)
    assert len({p.tobytes() for p in pictures}) == len(pictures)


def test_noc_heatmap_has_a_colour_bar_beside_the_mesh():
    """The figure is wider than the square mesh: the labelled colour bar sits on its right."""
    env = gym.make("NoCRouting-v0", rates=(0.1,), render_mode="rgb_array")
    env.reset(seed=0)
    env.step(0)
    img = env.render()
    assert _is_image(img) and img.shape[1] > img.shape[0]
    right = img[:, int(img.shape[1] * 0.8):]
    assert len(np.unique(right.reshape(-1, 3), axis=0)) > 20  # the colour ramp and its labels
