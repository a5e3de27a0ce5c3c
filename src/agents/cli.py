"""The agent commands of the ``archgym`` CLI: ``train``, ``sweep``, ``replay`` and ``list --agents``.

They reach ``archgym``'s CLI as plugins: pyproject.toml registers
:func:`train_command`, :func:`replay_command` and :func:`sweep_command` under the
``archgym.commands`` entry-point group and :func:`list_agents` under
``archgym.lists`` (``archgym demo`` is :mod:`agents.demo`); ``archgym.cli`` finds
them there and imports this module only to run one (so ``archgym list`` stays
light, and ``archgym`` never imports ``agents``).  Each returns the process exit code: 0 on success, 1 when a
replay does not match or a sweep run failed, 2 for bad input (the message says
what is allowed) or a missing optional dependency (the message says which extra
to install); an interrupted train or sweep (Ctrl-C, SIGTERM) keeps what it has and
exits with 128 + the signal's number (130, 143), without a traceback.

Results go to stdout; progress and diagnostics go through :mod:`logging` (stderr).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

log = logging.getLogger(__name__)


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """argparse's help with "(default: X)" after each option that has a default
    (options without one, or flags that are off unless given, show none)."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)

#: What ``archgym train`` writes into --out (tensorboard/: learning agents only).
TRAIN_OUTPUTS = ("result.json", "history.csv", "convergence.png", "tensorboard")

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
def _summary(result, env, out: Path, max_figures: int = 12) -> str:
    from agents.base import best_text, design_text, objective_text

    figures = [(k, v) for k, v in result.best_info.items()
               if isinstance(v, (int, float)) and not isinstance(v, bool)]
    shown = ", ".join(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}"
                      for k, v in figures[:max_figures])
    more = f" (+{len(figures) - max_figures} more in result.json)" if len(figures) > max_figures else ""
    stopped = f" (interrupted: {result.samples} of {result.budget})" if result.interrupted else ""
    best = best_text(result.score, result.best_score)
    if result.score == "return" and objective_text(result.best_info):
        best += f", its {objective_text(result.best_info)}"
    files = ", ".join(name for name in TRAIN_OUTPUTS if (out / name).exists())
    return "\n".join([
        f"{result.agent} on {result.env_id} {result.env_kwargs or ''}".rstrip()
        + f", seed {result.seed}: {result.samples} samples{stopped} in {result.wall_time_s:.2f} s",
        best,
        f"best design: {design_text(env, result.best_actions)}",
        f"its figures: {shown}{more}",
        f"wrote {out}/: {files}"])


class ProgressLog:
    """An ``on_episode`` callback that logs the run's progress every ``every_s`` seconds
    (and at its last sample): the progress bar's stand-in when stderr is not a terminal."""

    def __init__(self, label: str, budget: int, score: str, every_s: float):
        self.label, self.budget, self.score, self.every_s = label, budget, score, every_s
        self._last = time.monotonic()

    def __call__(self, row: dict) -> None:
        from agents.base import best_text

        now = time.monotonic()
        if now - self._last >= self.every_s or row["sample"] == self.budget:
            self._last = now
            log.info("%s: %d/%d samples, %s", self.label, row["sample"], self.budget,
                     best_text(self.score, row["best_score"]))


@contextlib.contextmanager
def interruptible():
    """While the block runs, SIGTERM raises KeyboardInterrupt as Ctrl-C (SIGINT) does, so
    both end a run the same way; yields a list receiving the signals' numbers."""
    received: list[int] = []

    def handler(signum, _frame):
        received.append(signum)
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _signal_exit(received: list[int]) -> int:
    """The exit code of a run ended by a signal: 128 + its number (130 for Ctrl-C)."""
    return 128 + (received[-1] if received else signal.SIGINT)


def _holds_results(out: Path) -> list[str]:
    return [name for name in TRAIN_OUTPUTS if (out / name).exists()] if out.is_dir() else []


def _commit(staging: Path, out: Path) -> None:
    """Move the finished outputs from ``staging`` into ``out`` (each an ``os.replace``),
    and remove what a previous run (``--force``) left that this run does not write."""
    for name in TRAIN_OUTPUTS:
        new, old = staging / name, out / name
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old)
        elif not new.exists():
            old.unlink(missing_ok=True)
        if new.exists():
            os.replace(new, old)
    staging.rmdir()


def train(env_id: str, agent: str, budget: int, seed: int = 0, env: list[str] | None = None,
          settings: list[str] | None = None, score: str = "return", out: str | Path | None = None,
          progress: bool = True, force: bool = False, log_every: float | None = None) -> int:
    """``archgym train``: one run, saved as result.json, history.csv, convergence.png (+ tensorboard/).

    ``out`` must not hold results already unless ``force``; the outputs are written
    into a hidden folder inside ``out`` and moved into place only once all are
    written, so a failure leaves the earlier results whole.  Ctrl-C or SIGTERM
    saves the samples done so far, marked interrupted.  ``progress`` shows a bar;
    ``log_every`` (seconds) logs a progress line that often instead.
    """
    import gymnasium as gym

    import agents
    from agents.plots import plot_run
    from agents.sweep import check_env_id

    # Everything the user typed is checked before the env is built or the agent runs.
    try:
        if budget < 1:
            raise ValueError(f"--budget must be at least 1 sample, got {budget}")
        if log_every is not None and not log_every > 0:
            raise ValueError(f"--log-every must be a positive number of seconds, got {log_every}")
        spec = agents.get(agent)
        check_env_id(env_id)
        env_kwargs = parse_assignments(env, "--env", as_json=True)
        config = parse_assignments(settings, "--set", as_json=False)
        agents.agent_config(agent, config)
        agents.parse_score(score)
    except ValueError as exc:
        return _fail("train", str(exc))
    out = Path(out) if out is not None else Path("runs") / f"{env_id}-{agent}-s{seed}"
    if out.exists() and not out.is_dir():
        return _fail("train", f"--out {out} exists and is not a folder")
    held = _holds_results(out)
    if held and not force:
        return _fail("train", f"{out} already holds results ({', '.join(held)}); choose another "
                              "--out, or pass --force to replace them once this run has finished")
    try:
        made = gym.make(env_id, **env_kwargs)
    except Exception as exc:  # noqa: BLE001  (any constructor error is the user's kwargs)
        return _fail("train", f"cannot make {env_id} with {env_kwargs}: {type(exc).__name__}: {exc}")
    reason = spec.why_not(made)
    if reason is not None:
        made.close()
        return _fail("train", f"agent {agent!r} cannot run on {env_id}: {reason}")

    # Writable? Found out now, not after the training: the outputs are staged in a new folder in out.
    created = [folder for folder in (out, *out.parents) if not folder.exists()]
    try:
        out.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=out, prefix=".archgym-train-", suffix=".tmp"))
    except OSError as exc:
        made.close()
        return _fail("train", f"cannot write to --out {out}: {exc.strerror or exc}")

    logdir = staging / "tensorboard" if spec.learns else None
    on_episode = None if log_every is None else ProgressLog(f"{agent} on {env_id}", budget, score, log_every)
    try:
        with interruptible() as received:
            try:
                result = agents.train(made, agent, budget, seed, config=config, score=score,
                                      logdir=logdir, progress=progress, on_episode=on_episode)
            except agents.Interrupted as stop:
                result = stop.result
    except KeyboardInterrupt:
        _discard(staging, out, created)
        log.warning("interrupted before the first sample ended: nothing saved")
        return _signal_exit(received)
    except BaseException:
        _discard(staging, out, created)
        raise
    try:
        # A signal now is only noted: the outputs are saved whole, then the exit code says it.
        with _deferred_signals() as late:
            result.save_json(staging / "result.json")
            result.save_history_csv(staging / "history.csv")
            plot_run(result, staging / "convergence.png")
            _commit(staging, out)
    except OSError as exc:
        return _fail("train", f"cannot write the results into {out}: {exc}; "
                              "the folder's earlier contents are unchanged")
    finally:
        _discard(staging, out, created)
    received += late
    print(_summary(result, made, out))
    if received or result.interrupted:
        log.warning("interrupted after %d of %d samples; the results so far are saved in %s, "
                    "marked interrupted", result.samples, result.budget, out)
        return _signal_exit(received)
    return 0


def _discard(staging: Path, out: Path, created: list[Path]) -> None:
    """Remove the staging folder, and the folders this run ``created`` (``out`` first, then
    its parents) while they are empty."""
    shutil.rmtree(staging, ignore_errors=True)
    for folder in created:
        try:
            folder.rmdir()
        except OSError:
            break  # not empty: results were saved into it


@contextlib.contextmanager
def _deferred_signals():
    """While the block runs, SIGINT and SIGTERM are noted in the yielded list, not raised."""
    received: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, _frame: received.append(signum))
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


# ------------------------------------------------------------------ replay
def replay(path: str | Path) -> int:
    """``archgym replay``: play a saved run's best design again and compare."""
    from agents.base import RunResult, best_text

    try:
        result = RunResult.load_json(path)
    except (OSError, ValueError, TypeError) as exc:
        return _fail("replay", f"cannot load {path}: {exc}")
    try:
        result.validate()
    except Exception as exc:  # noqa: BLE001  (any failure to replay is a mismatch to report)
        print(f"mismatch: {path}: {type(exc).__name__}: {exc}")
        return 1
    print(f"ok: {result.agent} on {result.env_id}, {best_text(result.score, result.best_score)}: "
          "replays exactly")
    return 0


# ------------------------------------------------------------------- sweep
def sweep(spec_path: str | Path, out: str | Path | None = None, address: str | None = None,
          num_cpus: int | None = None, progress: bool = True) -> int:
    """``archgym sweep``: the grid of a YAML spec on Ray; tables under ``out``.

    Resumes: the runs already saved under ``out`` are kept.  Ctrl-C or SIGTERM
    stops it with the finished runs and their tables written.
    """
    from agents.sweep import SweepError, run_sweep

    out = Path(out) if out is not None else Path("runs") / f"sweep-{Path(spec_path).stem}"
    received: list[int] = []
    try:
        with interruptible() as received:
            run_sweep(spec_path, out, address=address, num_cpus=num_cpus, progress=progress)
    except KeyboardInterrupt:
        log.warning("interrupted: the finished runs are saved in %s (results.csv); run the same "
                    "command again to run the others", out)
        return _signal_exit(received)
    except SweepError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except ValueError as exc:
        return _fail("sweep", str(exc))
    return 0


# --------------------------------------------------------- command line
def _with_install_hint(command: str, run) -> int:
    """``run()``; a missing optional dependency becomes the command that installs it (exit code 2),
    and Ctrl-C before a run has begun (while an env is being made) a line, not a traceback."""
    try:
        return run()
    except KeyboardInterrupt:
        log.warning("archgym %s: interrupted before anything was saved", command)
        return _signal_exit([])
    except ModuleNotFoundError as exc:
        extra = _EXTRAS.get((exc.name or "").partition(".")[0])
        if extra is None:
            raise
        print(f"archgym {command}: the module {exc.name!r} is missing; this command needs "
              f'the {extra!r} extra: pip install "archgym[{extra}]"', file=sys.stderr)
        return 2


#: Seconds between two progress lines when stderr is not a terminal.
LOG_EVERY_S = 10.0


def _add_progress_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress at all (by default a bar when stderr is a terminal, "
                             "else a log line every --log-every seconds)")
    parser.add_argument("--log-every", type=float, default=LOG_EVERY_S, metavar="SECONDS",
                        help="seconds between two progress lines when stderr is not a terminal")


def _progress(args) -> tuple[bool, float | None]:
    """(show a bar, seconds between log lines or None) from the progress options."""
    if args.no_progress:
        return False, None
    return (True, None) if sys.stderr.isatty() else (False, args.log_every)


def train_command(argv: list[str]) -> int:
    """``archgym train ARGV``."""
    p = argparse.ArgumentParser(prog="archgym train", formatter_class=HelpFormatter,
                                description="run one agent on one env; save result, history, plot")
    p.add_argument("env_id", help="a registered env id (see `archgym list`)")
    p.add_argument("--agent", required=True, help="agent name (see `archgym list --agents`)")
    p.add_argument("--budget", type=int, required=True, help="samples = complete episodes (designs evaluated)")
    p.add_argument("--seed", type=int, default=0, help="seed of the agent and of the episodes")
    p.add_argument("--env", action="append", metavar="KEY=VALUE",
                   help="env kwarg, VALUE parsed as JSON if possible (repeatable)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="agent Config field (repeatable)")
    p.add_argument("--score", default="return",
                   help="how the best design is ranked: return, min:KEY or max:KEY (KEY from the final info)")
    p.add_argument("--out", help="output folder (default runs/ENV-AGENT-sSEED)")
    p.add_argument("--force", action="store_true",
                   help="replace the results a previous run left in --out (once this run has finished)")
    _add_progress_options(p)
    args = p.parse_args(argv)
    progress, log_every = _progress(args)
    return _with_install_hint("train", lambda: train(
        args.env_id, args.agent, args.budget, args.seed, env=args.env, settings=args.set, score=args.score,
        out=args.out, progress=progress, force=args.force, log_every=log_every))


def replay_command(argv: list[str]) -> int:
    """``archgym replay ARGV``."""
    p = argparse.ArgumentParser(prog="archgym replay", formatter_class=HelpFormatter,
                                description="replay a saved result.json and check it matches")
    p.add_argument("result", help="a result.json written by train or sweep")
    args = p.parse_args(argv)
    return _with_install_hint("replay", lambda: replay(args.result))


def sweep_command(argv: list[str]) -> int:
    """``archgym sweep ARGV``."""
    p = argparse.ArgumentParser(prog="archgym sweep", formatter_class=HelpFormatter,
                                description="run a grid of envs x agents x seeds on Ray; rerun to resume")
    p.add_argument("spec", help="the sweep spec (YAML; see agents.sweep)")
    p.add_argument("--out", help="output folder (default runs/sweep-SPEC); the runs it holds are kept")
    p.add_argument("--address", help="join this Ray cluster instead of starting one")
    p.add_argument("--num-cpus", type=int, help="CPUs of the local Ray instance (default all)")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar (shown only when stderr is a terminal; a log line per "
                        "finished run is always written)")
    args = p.parse_args(argv)
    if args.num_cpus is not None and args.num_cpus < 1:
        p.error("--num-cpus must be at least 1")
    progress = not args.no_progress and sys.stderr.isatty()
    return _with_install_hint("sweep", lambda: sweep(args.spec, out=args.out, address=args.address,
                                                     num_cpus=args.num_cpus, progress=progress))
