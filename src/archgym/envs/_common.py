"""Rules every archgym environment shares, defined once.

- the action check (:func:`check_action`), the render-mode and name checks, and
  the refusal to step a finished episode;
- the budget rule: a design is over its budget only beyond a relative margin
  (:data:`BUDGET_RTOL`, :func:`exceeds`), and an over-budget design's reward
  lies below every feasible reward (:func:`infeasible_reward`).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence

import numpy as np

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
        raise ValueError(f"action must hold integers, got {action!r}")
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
