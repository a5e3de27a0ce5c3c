"""The agent commands of the ``archgym`` CLI: ``train``, ``sweep``, ``replay`` and ``list --agents``.

``archgym.cli`` parses the command line and calls these functions, importing
this module only for these commands (so ``archgym list``/``demo`` stay light).
Each returns the process exit code: 0 on success, 1 when a replay does not
match or a sweep run failed, 2 for bad input (the message says what is allowed).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _fail(command: str, message: str) -> int:
    print(f"archgym {command}: error: {message}", file=sys.stderr)
    return 2


def parse_assignments(items: list[str] | None, option: str, as_json: bool) -> dict:
    """``["KEY=VALUE", ...]`` -> dict; VALUE parsed as JSON when ``as_json`` and possible."""
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"{option} expects KEY=VALUE, got {item!r}")
        if as_json:
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                pass  # not JSON: keep the text (e.g. workload=resnet50)
        out[key] = value
    return out


def list_agents() -> int:
    from agents import AGENTS

    width = max(len(name) for name in AGENTS)
    for name, spec in AGENTS.items():
        print(f"{name:<{width}}  {spec.summary}")
    return 0


# ------------------------------------------------------------------- train
def _summary(result, out: Path, files: list[Path], max_figures: int = 12) -> str:
    figures = [(k, v) for k, v in result.best_info.items()
               if isinstance(v, (int, float)) and not isinstance(v, bool)]
    shown = ", ".join(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}"
                      for k, v in figures[:max_figures])
    more = f" (+{len(figures) - max_figures} more in result.json)" if len(figures) > max_figures else ""
    lines = [f"{result.agent} on {result.env_id} {result.env_kwargs or ''}".rstrip()
             + f", seed {result.seed}: {result.samples} samples in {result.wall_time_s:.2f} s",
             f"best score ({result.score}): {result.best_score:.6g}   return {result.best_return:.6g}",
             f"best design: {shown}{more}",
             f"wrote {out}/: {', '.join(p.name for p in files)}"]
    return "\n".join(lines)


def train(env_id: str, agent: str, budget: int, seed: int = 0, env: list[str] | None = None,
          settings: list[str] | None = None, score: str = "return", out: str | Path | None = None,
          progress: bool = True) -> int:
    """``archgym train``: one run, saved as result.json, history.csv, convergence.png (+ tensorboard/)."""
    import gymnasium as gym

    import agents
    from agents.plots import plot_run
    from agents.sweep import check_env_id

    # Everything the user typed is checked before the env is built or the agent runs.
    try:
        if budget < 1:
            raise ValueError(f"--budget must be at least 1 sample, got {budget}")
        spec = agents.get(agent)
        check_env_id(env_id)
        env_kwargs = parse_assignments(env, "--env", as_json=True)
        config = parse_assignments(settings, "--set", as_json=False)
        agents.agent_config(agent, config)
        agents.parse_score(score)
    except ValueError as exc:
        return _fail("train", str(exc))
    try:
        made = gym.make(env_id, **env_kwargs)
    except Exception as exc:  # noqa: BLE001  (any constructor error is the user's kwargs)
        return _fail("train", f"cannot make {env_id} with {env_kwargs}: {type(exc).__name__}: {exc}")
    reason = spec.why_not(made)
    if reason is not None:
        made.close()
        return _fail("train", f"agent {agent!r} cannot run on {env_id}: {reason}")

    out = Path(out) if out is not None else Path("runs") / f"{env_id}-{agent}-s{seed}"
    out.mkdir(parents=True, exist_ok=True)
    logdir = out / "tensorboard" if agents.get(agent).learns else None
    result = agents.train(made, agent, budget, seed, config=config, score=score, logdir=logdir,
                          progress=progress)
    files = [result.save_json(out / "result.json"), result.save_history_csv(out / "history.csv"),
             plot_run(result, out / "convergence.png")]
    if logdir is not None and logdir.is_dir():
        files.append(logdir)
    print(_summary(result, out, files))
    return 0


# ------------------------------------------------------------------ replay
def replay(path: str | Path) -> int:
    """``archgym replay``: play a saved run's best design again and compare."""
    from agents.base import RunResult

    try:
        result = RunResult.load_json(path)
    except (OSError, ValueError, TypeError) as exc:
        return _fail("replay", f"cannot load {path}: {exc}")
    try:
        result.validate()
    except Exception as exc:  # noqa: BLE001  (any failure to replay is a mismatch to report)
        print(f"mismatch: {path}: {type(exc).__name__}: {exc}")
        return 1
    print(f"ok: {result.agent} on {result.env_id}, best score {result.best_score:.6g} "
          f"({result.score}) replays exactly")
    return 0


# ------------------------------------------------------------------- sweep
def sweep(spec_path: str | Path, out: str | Path | None = None, address: str | None = None,
          num_cpus: int | None = None, progress: bool = True) -> int:
    """``archgym sweep``: the grid of a YAML spec on Ray; tables under ``out``."""
    from agents.sweep import SweepError, run_sweep

    out = Path(out) if out is not None else Path("runs") / f"sweep-{Path(spec_path).stem}"
    try:
        run_sweep(spec_path, out, address=address, num_cpus=num_cpus, progress=progress)
    except SweepError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except ValueError as exc:
        return _fail("sweep", str(exc))
    return 0
