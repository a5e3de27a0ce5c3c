"""Rules every archgym environment shares, defined once.

- the action check (:func:`check_action`), the render-mode and name checks, and
  the refusal to step a finished episode;
- the budget rule: a design is over its budget only beyond a relative margin
  (:data:`BUDGET_RTOL`, :func:`exceeds`), and an over-budget design's reward
  lies below every feasible reward (:func:`infeasible_reward`);
- the objective every env reports in its final ``info`` (:data:`OBJECTIVE_SENSES`);
- pickling by replay (:class:`ReplayPickle`) and drawing with matplotlib
  (:func:`figure_rgb`).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence

import numpy as np

#: ``info["objective_sense"]``: whether a lower ("min") or a higher ("max")
#: ``info["objective"]`` is the better design.
OBJECTIVE_SENSES = ("min", "max")

#: Sums of the same costs in another order differ in the last bits, so a design
#: exceeds its budget only beyond this relative margin (the designs whose cost
#: defines a budget are feasible).
BUDGET_RTOL = 1e-9


def exceeds(used, budget):
    """Whether ``used`` is over ``budget`` (by more than the relative :data:`BUDGET_RTOL`).

    Elementwise when ``used`` or ``budget`` is an array.
    """
    return used > budget * (1.0 + BUDGET_RTOL)


def infeasible_reward(used, budget, floor=-1.0):
    """The reward of a design over its budget: ``floor - (used - budget) / budget``.

    ``floor`` lies at or below every feasible reward of the env (-1 where
    feasible rewards are >= -1), so every over-budget design scores below every
    feasible one, the more so the larger its relative overshoot.
    """
    return floor - (used - budget) / budget


def check_action(action, nvec: np.ndarray) -> list[int]:
    """The action as a list of ints, or a ValueError that says what is allowed."""
    arr = np.asarray(action) if not isinstance(action, (str, bytes)) else None
    if arr is None or arr.dtype.kind not in "iuf":
        raise ValueError(f"action must be {len(nvec)} integers, got {action!r}")
    if arr.shape != nvec.shape:
        raise ValueError(f"action must have shape {nvec.shape}, got shape {arr.shape}")
    values = arr.tolist()
    if arr.dtype.kind == "f" and not all(math.isfinite(v) and v == int(v) for v in values):
        raise ValueError(f"action must hold integers, got {values}")
    values = [int(v) for v in values]
    if any(not 0 <= v < n for v, n in zip(values, nvec.tolist())):
        raise ValueError(f"action {values} out of range: component i must be in "
                         f"[0, {nvec.tolist()}[i] - 1]")
    return values


def check_name(kind: str, value, allowed: Collection[str]) -> str:
    """``value`` if it is one of the ``allowed`` names, else a ValueError listing them."""
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"unknown {kind} {value!r}; allowed: {', '.join(allowed)}")
    return value


def check_render_mode(render_mode, render_modes: Sequence[str]) -> str | None:
    """``render_mode`` if it is None or one of the env's ``metadata["render_modes"]``, else a ValueError."""
    if render_mode is not None and render_mode not in render_modes:
        allowed = ", ".join(["None"] + [repr(m) for m in render_modes])
        raise ValueError(f"unknown render_mode {render_mode!r}; allowed: {allowed}")
    return render_mode


def check_running(done: bool) -> None:
    """A RuntimeError when ``step()`` is called on an episode that has ended."""
    if done:
        raise RuntimeError("step() called after the episode ended; call reset()")


class ReplayPickle:
    """Pickling (and ``copy.deepcopy``) by replay, for envs that hold compiled-core objects.

    The pickle holds the constructor's arguments, ``spec``, and the current
    episode: the state of ``np_random`` (and its seed) right after the last ``reset``, that
    reset's options and the actions stepped since.  Unpickling builds the env
    again and replays the episode, so the copy continues exactly as the
    original would (the cores are deterministic given the seeds).  An env
    calls :meth:`_record_reset` in ``reset`` right after ``super().reset(seed=seed)``
    and :meth:`_record_step` once an action is accepted.
    """

    def __new__(cls, *args, **kwargs):
        env = super().__new__(cls)
        env._init_args = (args, kwargs)
        env._episode = None
        return env

    def _record_reset(self, options) -> None:
        self._episode = (self.np_random.bit_generator.state, self._np_random_seed, options, [])

    def _record_step(self, action) -> None:
        self._episode[3].append(np.array(action, copy=True) if isinstance(action, np.ndarray) else action)

    def __getstate__(self):
        return {"init": self._init_args, "spec": self.spec, "episode": self._episode}

    def __setstate__(self, state):
        args, kwargs = state["init"]
        self.__init__(*args, **kwargs)
        self._init_args, self.spec = (args, kwargs), state["spec"]
        if state["episode"] is not None:
            rng_state, seed, options, actions = state["episode"]
            self._np_random = np.random.Generator(getattr(np.random, rng_state["bit_generator"])())
            self._np_random.bit_generator.state = rng_state
            self._np_random_seed = seed
            self.reset(options=options)
            for action in actions:
                self.step(action)


def figure_rgb(draw, width: float = 6.4, height: float = 4.0, dpi: int = 80) -> np.ndarray:
    """An RGB image (H x W x 3 uint8) of what ``draw(figure)`` puts on a matplotlib Figure.

    Drawn off-screen with matplotlib's Agg canvas (no pyplot, no window, no
    global state); matplotlib is imported only here (``pip install matplotlib``).
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ModuleNotFoundError("render_mode='rgb_array' needs matplotlib (pip install matplotlib)",
                                  name="matplotlib") from exc
    fig = Figure(figsize=(width, height), dpi=dpi)
    canvas = FigureCanvasAgg(fig)
    draw(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()
