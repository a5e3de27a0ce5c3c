"""The agent commands of the ``archgym`` CLI: ``train``, ``sweep``, ``replay`` and ``list --agents``.

They reach ``archgym``'s CLI as plugins: pyproject.toml registers
:func:`train_command`, :func:`replay_command` and :func:`sweep_command` under the
``archgym.commands`` entry-point group and :func:`list_agents` under
``archgym.lists``; ``archgym.cli`` finds them there and imports this module only
to run one (so ``archgym list``/``demo`` stay light, and ``archgym`` never
imports ``agents``).  Each returns the process exit code: 0 on success, 1 when a
replay does not match or a sweep run failed, 2 for bad input (the message says
what is allowed) or a missing optional dependency (the message says which extra
to install).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

#: Third-party modules of the optional extras, and the extra that brings each.
_EXTRAS = {"torch": "agents", "stable_baselines3": "agents", "sb3_contrib": "agents",
           "optuna": "agents", "tqdm": "agents", "rich": "agents", "tensorboard": "agents",
           "matplotlib": "agents", "yaml": "agents", "agents": "agents", "ray": "sweep"}


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


# --------------------------------------------------------- command line
def _with_install_hint(command: str, run) -> int:
    """``run()``; a missing optional dependency becomes the command that installs it (exit code 2)."""
    try:
        return run()
    except ModuleNotFoundError as exc:
        extra = _EXTRAS.get((exc.name or "").partition(".")[0])
        if extra is None:
            raise
        print(f"archgym {command}: the module {exc.name!r} is missing; this command needs "
              f'the {extra!r} extra: pip install "archgym[{extra}]"', file=sys.stderr)
        return 2


def _add_progress_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress bar (it is shown only when stderr is a terminal)")


def train_command(argv: list[str]) -> int:
    """``archgym train ARGV``."""
    p = argparse.ArgumentParser(prog="archgym train",
                                description="run one agent on one env; save result, history, plot")
    p.add_argument("env_id", help="a registered env id (see `archgym list`)")
    p.add_argument("--agent", required=True, help="agent name (see `archgym list --agents`)")
    p.add_argument("--budget", type=int, required=True, help="samples = complete episodes (designs evaluated)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--env", action="append", metavar="KEY=VALUE",
                   help="env kwarg, VALUE parsed as JSON if possible (repeatable)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="agent Config field (repeatable)")
    p.add_argument("--score", default="return",
                   help="how the best design is ranked: return, min:KEY or max:KEY (KEY from the final info)")
    p.add_argument("--out", help="output folder (default runs/ENV-AGENT-sSEED)")
    _add_progress_option(p)
    args = p.parse_args(argv)
    progress = not args.no_progress and sys.stderr.isatty()
    return _with_install_hint("train", lambda: train(
        args.env_id, args.agent, args.budget, args.seed, env=args.env, settings=args.set, score=args.score,
        out=args.out, progress=progress))


def replay_command(argv: list[str]) -> int:
    """``archgym replay ARGV``."""
    p = argparse.ArgumentParser(prog="archgym replay", description="replay a saved result.json and check it matches")
    p.add_argument("result", help="a result.json written by train or sweep")
    args = p.parse_args(argv)
    return _with_install_hint("replay", lambda: replay(args.result))


def sweep_command(argv: list[str]) -> int:
    """``archgym sweep ARGV``."""
    p = argparse.ArgumentParser(prog="archgym sweep", description="run a grid of envs x agents x seeds on Ray")
    p.add_argument("spec", help="the sweep spec (YAML; see agents.sweep)")
    p.add_argument("--out", help="output folder (default runs/sweep-SPEC)")
    p.add_argument("--address", help="join this Ray cluster instead of starting one")
    p.add_argument("--num-cpus", type=int, help="CPUs of the local Ray instance (default all)")
    _add_progress_option(p)
    args = p.parse_args(argv)
    if args.num_cpus is not None and args.num_cpus < 1:
        p.error("--num-cpus must be at least 1")
    progress = not args.no_progress and sys.stderr.isatty()
    return _with_install_hint("sweep", lambda: sweep(args.spec, out=args.out, address=args.address,
                                                     num_cpus=args.num_cpus, progress=progress))
