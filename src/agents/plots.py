"""Convergence plots: the best score found so far against the samples spent.

x is the number of samples (complete episodes, i.e. designs evaluated), y the
best score after that many samples, drawn in the units of the figure the score
ranks by: with ``score="min:total_cycles"`` the y axis is total cycles (lower is
better), with ``"max:accuracy"`` it is accuracy, with ``"return"`` the episode
return.  Infeasible samples (score -inf) leave gaps.

- :func:`plot_run`: one run, each sample's score as a dot and the best so far.
- :func:`plot_convergence`: many runs grouped (e.g. by agent): the median over
  the runs of a group (seeds) and its interquartile band.

Figures are drawn on :class:`matplotlib.figure.Figure` with the Agg canvas, never
through pyplot, so they need no display and change no global matplotlib state.
Pass ``ax`` to draw into an Axes of your own figure (e.g. one panel per env).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from agents.base import SENSE_TEXT, RunResult, atomic_write, score_figure


def score_axis(score: str) -> tuple[float, str]:
    """(sign, axis label) turning scores of ``score`` into the units of the figure it ranks by."""
    sign, key, sense = score_figure(score)
    return sign, f"{key} ({SENSE_TEXT[sense]})"


def _display(values, sign: float) -> np.ndarray:
    """Scores -> figure units; infeasible (non-finite) become NaN so they are not drawn."""
    y = sign * np.asarray(values, dtype=float)
    y[~np.isfinite(y)] = np.nan
    return y


def convergence_band(curves: Sequence[Sequence[float]], band: tuple[float, float] = (25, 75)):
    """Median and ``band`` percentiles over ``curves`` (best-so-far scores, higher is better).

    Returns (x, low, median, high) with x = 1..longest curve.  At each x the
    statistics use the runs that reached x.  An infeasible score (-inf) counts as
    the worst value, so a percentile is -inf while too few runs have found a
    feasible design.
    """
    if not curves:
        raise ValueError("convergence_band needs at least one curve")
    length = max(len(c) for c in curves)
    if length == 0:
        raise ValueError("convergence_band needs curves with at least one sample")
    table = np.full((len(curves), length), np.nan)
    for i, curve in enumerate(curves):
        table[i, :len(curve)] = curve
    with np.errstate(invalid="ignore"):
        low, mid, high = np.nanpercentile(table, [band[0], 50, band[1]], axis=0)
    # Interpolating between -inf and a finite value gives NaN; the percentile is -inf there.
    for stat in (low, mid, high):
        stat[np.isnan(stat)] = -np.inf
    return np.arange(1, length + 1), low, mid, high


def curves_by(runs: Iterable[RunResult], key: str | Callable[[RunResult], str] = "agent"
              ) -> dict[str, list[np.ndarray]]:
    """Best-so-far curves of ``runs`` grouped by an attribute name or a function of the run."""
    label = (lambda r: str(getattr(r, key))) if isinstance(key, str) else key
    groups: dict[str, list[np.ndarray]] = {}
    for run in runs:
        groups.setdefault(label(run), []).append(run.best_so_far())
    return groups


def _label_axes(ax, ylabel: str) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.set_xlabel("samples (designs evaluated)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")


def _new_axes():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.5), layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _save(fig, path: str | Path) -> Path:
    return atomic_write(path, lambda f: fig.savefig(f, format=Path(path).suffix.lstrip(".") or "png", dpi=120), binary=True)


def plot_convergence(groups: Mapping[str, Sequence[Sequence[float]]], path: str | Path | None = None,
                     *, score: str = "return", title: str | None = None, ax=None,
                     band: tuple[float, float] = (25, 75)):
    """One line per group: the median best-so-far over its runs, with the ``band`` shaded.

    ``groups`` maps a label (e.g. an agent) to its runs' best-so-far curves (see
    :func:`curves_by`); ``score`` is the runs' score spec (it sets the y units).
    Draws into ``ax`` if given, else on a new figure saved to ``path``; returns
    the path written, or ``ax``.
    """
    if not groups:
        raise ValueError("plot_convergence needs at least one group of runs")
    if ax is None and path is None:
        raise ValueError("plot_convergence needs a path to write to or an ax to draw into")
    sign, ylabel = score_axis(score)
    fig, target = _new_axes() if ax is None else (None, ax)
    for label, curves in groups.items():
        x, low, mid, high = convergence_band(curves, band)
        line, = target.plot(x, _display(mid, sign), drawstyle="steps-post",
                            label=f"{label} (n={len(curves)})")
        if len(curves) > 1:
            target.fill_between(x, _display(low, sign), _display(high, sign), step="post",
                                color=line.get_color(), alpha=0.2, linewidth=0)
    _label_axes(target, f"best {ylabel}")
    note = f"median, {band[0]:g}-{band[1]:g}th percentile band over seeds"
    target.set_title(f"{title}\n{note}" if title else note, fontsize="medium")
    return target if fig is None else _save(fig, path)


def plot_run(result: RunResult, path: str | Path, title: str | None = None) -> Path:
    """One run: each sample's score (dots) and the best so far (line), saved to ``path``."""
    if not result.history:
        raise ValueError("the run has no samples to plot")
    sign, ylabel = score_axis(result.score)
    fig, ax = _new_axes()
    x = [row["sample"] for row in result.history]
    ax.plot(x, _display([row["score"] for row in result.history], sign), ".", alpha=0.35,
            label="sample")
    ax.plot(x, _display(result.best_so_far(), sign), drawstyle="steps-post", label="best so far")
    _label_axes(ax, ylabel)
    ax.set_title(title or f"{result.agent} on {result.env_id}, seed {result.seed}", fontsize="medium")
    return _save(fig, path)
