"""Sample-efficiency figures over many run records (the reproductions' tables).

ConfuciuX compares methods by the samples each needs to reach a design within
a tolerance of the best one found; :func:`sample_efficiency` computes that per
(group, agent) over seeds, from :class:`~agents.base.RunResult` records whose
scores are "higher is better" (e.g. ``min:total_cycles`` gives -cycles).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable

import numpy as np

from agents.base import RunResult


def samples_to_reach(best_so_far: np.ndarray, target: float) -> float:
    """1-based sample at which ``best_so_far`` first reaches ``target``; inf if never."""
    hit = np.flatnonzero(np.asarray(best_so_far, dtype=float) >= target)
    return float(hit[0] + 1) if hit.size else math.inf


def within(best: float, tolerance: float) -> float:
    """The score that is ``tolerance`` (relative) worse than ``best``."""
    return best - tolerance * abs(best)


def sample_efficiency(results: Iterable[RunResult], tolerance: float = 0.05,
                      group: Callable[[RunResult], str] = lambda r: r.env_id,
                      reference: str | None = None) -> list[dict]:
    """One row per (group, agent): the best score over seeds, and samples to within ``tolerance``.

    The target of a group is ``tolerance`` worse than the best score ANY run of
    that group found.  ``median_samples`` is the median over seeds of the samples
    to reach it (inf where fewer than half the seeds reached it); ``ratio`` is
    ``median_samples / median_samples(reference agent)`` when ``reference`` is given.
    """
    runs: dict[str, dict[str, list[RunResult]]] = defaultdict(lambda: defaultdict(list))
    for r in results:
        runs[group(r)][r.agent].append(r)
    rows = []
    for g, by_agent in runs.items():
        best_any = max(r.best_score for rs in by_agent.values() for r in rs)
        target = within(best_any, tolerance)
        medians = {}
        for agent, rs in by_agent.items():
            reach = [samples_to_reach(r.best_so_far(), target) for r in rs]
            medians[agent] = float(np.median(reach))
            scores = [r.best_score for r in rs]
            rows.append({"group": g, "agent": agent, "seeds": len(rs), "best_any": best_any,
                         "target": target, "best_median": float(np.median(scores)),
                         "best_of_seeds": max(scores), "reached": int(np.isfinite(reach).sum()),
                         "median_samples": medians[agent], "samples_per_seed": reach})
        for row in rows:
            if row["group"] == g:
                ref = medians.get(reference) if reference else None
                row["ratio"] = row["median_samples"] / ref if ref else math.nan
    return rows


def median_curve(results: Iterable[RunResult]) -> np.ndarray:
    """Median over runs of the best score after each sample (runs of equal length)."""
    return np.median(np.stack([r.best_so_far() for r in results]), axis=0)


def samples_to_match(results: Iterable[RunResult], reference: str,
                     group: Callable[[RunResult], str] = lambda r: r.env_id) -> list[dict]:
    """ConfuciuX-style convergence speed-up, on median best-so-far curves over seeds.

    For each (group, agent): the agent's final median score, the samples the
    agent's median curve needs to first reach it, the samples ``reference``'s
    median curve needs to reach the same score (inf if it never does), and
    their ratio (> 1: the reference gets there in fewer samples).
    """
    runs: dict[str, dict[str, list[RunResult]]] = defaultdict(lambda: defaultdict(list))
    for r in results:
        runs[group(r)][r.agent].append(r)
    rows = []
    for g, by_agent in runs.items():
        ref_curves = _curves(by_agent[reference])
        for agent, rs in by_agent.items():
            final, own, ref = speedup(_curves(rs), ref_curves)
            rows.append({"group": g, "agent": agent, "final_median": final, "samples": own,
                         "reference_samples": ref, "speedup": own / ref})
    return rows


def _curves(results: Iterable[RunResult]) -> np.ndarray:
    return np.stack([r.best_so_far() for r in results])


def speedup(curves: np.ndarray, reference_curves: np.ndarray) -> tuple[float, float, float]:
    """(final, own, ref) of :func:`samples_to_match` for one agent: the final score of the
    median of ``curves`` (runs x samples), the samples that median needs to reach it and
    the samples the median of ``reference_curves`` needs (inf if never); speed-up = own / ref."""
    curve, ref_curve = np.median(curves, axis=0), np.median(reference_curves, axis=0)
    final = float(curve[-1])
    return final, samples_to_reach(curve, final), samples_to_reach(ref_curve, final)


def bootstrap_intervals(results: Iterable[RunResult], reference: str,
                        group: Callable[[RunResult], str] = lambda r: r.env_id,
                        confidence: float = 0.95, n_resamples: int = 2000,
                        seed: int = 0) -> list[dict]:
    """Percentile bootstrap intervals (scipy.stats.bootstrap) over seeds, per (group, agent).

    ``best_low``/``best_high``: the median over seeds of the best score.
    ``speedup_low``/``speedup_high``: :func:`samples_to_match`'s speed-up, with the
    agent's runs and the reference's resampled independently (a resample in which
    the reference never reaches the agent's final score counts as speed-up 0: the
    agent is ahead).  The reference's own row is 1 by definition.  NaN where a
    group and agent have fewer than 2 runs.  The percentile method, since with few
    seeds many resamples tie (BCa is then undefined).
    """
    from scipy.stats import bootstrap

    runs: dict[str, dict[str, list[RunResult]]] = defaultdict(lambda: defaultdict(list))
    for r in results:
        runs[group(r)][r.agent].append(r)
    rng = np.random.default_rng(seed)
    options = {"confidence_level": confidence, "n_resamples": n_resamples, "method": "percentile"}

    def interval(data, statistic, **kwargs) -> tuple[float, float]:
        if min(len(d) for d in data) < 2:
            return math.nan, math.nan
        ci = bootstrap(data, statistic, random_state=rng, **options, **kwargs).confidence_interval
        return float(ci.low), float(ci.high)

    rows = []
    for g, by_agent in runs.items():
        ref_curves = _curves(by_agent[reference])
        for agent, rs in by_agent.items():
            curves = _curves(rs)
            best = interval((curves[:, -1],), np.median)
            if agent == reference:
                ratio = (1.0, 1.0)
            else:
                def ratio_of(i, j):
                    _, own, ref = speedup(curves[i.astype(int)], ref_curves[j.astype(int)])
                    return own / ref
                ratio = interval((np.arange(len(curves)), np.arange(len(ref_curves))), ratio_of,
                                 vectorized=False, paired=False)
            rows.append({"group": g, "agent": agent, "best_low": best[0], "best_high": best[1],
                         "speedup_low": ratio[0], "speedup_high": ratio[1]})
    return rows
