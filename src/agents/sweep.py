"""Sweeps: a grid of runs (envs x agents x seeds) on Ray, gathered into one table.

A spec (a dict, or a YAML file of the same shape)::

    name: confuciux-mobilenet          # optional, for titles
    budget: 500                        # samples per run (>= 1)
    seeds: 5                           # a count (seeds 0..4) or a list of seeds
    score: min:total_cycles            # how each run's best design is ranked
    env_kwargs: {reward_mode: plain}   # optional, for every env
    envs:
      - HWResource-v0                  # an id ...
      - id: HWResource-v0              # ... or a mapping
        kwargs: {workload: resnet50}
        label: resnet50                # optional; default "ID[k=v,...]"
        score: min:total_cycles        # optional, overrides the top-level score
    agents:
      - random                         # a name ...
      - name: reinforce_ga             # ... or a mapping
        config: {}                     # overrides of the agent's Config
        env_kwargs: {reward_mode: confuciux}   # this agent's env settings
        label: reinforce_ga            # optional; needed to run one agent twice

The grid is the product envs x agents x seeds.  A run's env kwargs are the
top-level ``env_kwargs``, then the env's ``kwargs``, then the agent's
``env_kwargs`` (later ones win), so an agent can be trained on its own reward
(ConfuciuX's REINFORCE on ``reward_mode=confuciux``) while the search
baselines see ``plain``; all runs of an env are still ranked by the same score.

:func:`run_sweep` checks the whole spec (agent names and settings, env ids,
that every env can be made and every agent supports it) before starting Ray,
runs each cell as a Ray task (one CPU each), streams a line per finished run
and writes, under ``out_dir``:

- ``spec.json``: the checked spec, with defaults filled in;
- ``runs/RUN_ID.json``: each run's :class:`~agents.base.RunResult`
  (``runs/RUN_ID.error.txt`` with the traceback for a failed run);
- ``results.csv``: one row per run (failed runs too, with their error),
  rewritten as each run finishes;
- ``histories.csv``: long format, one row per (run, sample);
- ``convergence_ENV.png``: per env, median best score over seeds per agent.

Every file is written atomically (a temporary file renamed over it), so an
interrupted sweep (Ctrl-C; SIGTERM too under ``archgym sweep``) leaves whole
files: the finished runs and their tables.  **Resuming**: rerun with the same
``out_dir`` and the runs already saved in ``runs/`` are kept, not run again;
only the rest (failed runs included) run.  A saved run whose settings differ
from its cell in the spec is an error (another spec wants another ``out_dir``).
Ray's task fault tolerance reruns a run whose worker or node died (up to
:data:`RETRIES` times, elsewhere in the cluster if need be), so losing a node
loses no run.

Ray: without ``address`` a local instance is started with ``num_cpus`` CPUs
(default: all) and no dashboard, and shut down at the end; with ``address`` the
sweep joins that cluster, whose nodes must have archgym and its agents extra
installed.  A Ray session already open in this process is reused (and left
open).  Ray writes its own files, outside ``out_dir``: the local instance's
session folder (logs, sockets, the workers' output) under its temp dir,
``/tmp/ray/session_*``, and since Ray 2.59 the token of a local cluster in
``~/.ray/auth_token``.  This module does not move Ray's temp dir: Unix socket
paths are limited to about 100 characters, so a deep ``_temp_dir`` breaks Ray.
"""

from __future__ import annotations

import csv
import dataclasses
import difflib
import json
import logging
import re
import signal
import threading
import time
import traceback
from collections.abc import Callable
from itertools import product
from pathlib import Path

import gymnasium as gym

import archgym  # noqa: F401  (registers the environments)
from agents import agent_config, get, parse_score, train
from agents.base import RunResult, atomic_write, best_text

logger = logging.getLogger(__name__)

#: How often Ray reruns a run whose worker process or node died (not a run that raised).
RETRIES = 3

_SPEC_KEYS = ("name", "budget", "seeds", "score", "env_kwargs", "envs", "agents")
_ENV_KEYS = ("id", "kwargs", "label", "score")
_AGENT_KEYS = ("name", "config", "env_kwargs", "label")


class SpecError(ValueError):
    """The sweep spec is wrong (the message says what is allowed)."""


class SweepError(RuntimeError):
    """Some runs failed.  Everything was still written; ``results`` holds the
    runs that finished and ``failures`` maps each failed run id to its error."""

    def __init__(self, results: list[RunResult], failures: dict[str, str]):
        self.results, self.failures = results, failures
        listed = "\n".join(f"  {run}: {err}" for run, err in failures.items())
        super().__init__(f"{len(failures)} of {len(results) + len(failures)} runs failed:\n{listed}")


@dataclasses.dataclass(frozen=True)
class Cell:
    """One run of the grid."""

    run_id: str
    env: str           # the env's label (groups the runs of one env)
    env_id: str
    env_kwargs: dict
    agent: str         # the agent's label (groups the runs of one agent setting)
    agent_name: str    # its name in agents.AGENTS
    config: dict
    seed: int
    budget: int
    score: str


# ------------------------------------------------------------------ the spec
def _mapping(value, what: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise SpecError(f"{what} must be a mapping of names to values, got {value!r}")
    return dict(value)


def _entry(item, key: str, allowed: tuple, what: str) -> dict:
    """A list item given as a bare name or as a mapping -> a mapping with ``key``."""
    if isinstance(item, str):
        return {key: item}
    if not isinstance(item, dict) or not isinstance(item.get(key), str):
        raise SpecError(f"each {what} must be a name or a mapping with a {key!r} entry, got {item!r}")
    unknown = sorted(set(item) - set(allowed))
    if unknown:
        raise SpecError(f"{what} {item[key]!r}: unknown key(s) {', '.join(unknown)}; "
                        f"allowed: {', '.join(allowed)}")
    return dict(item)


def _integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _env_label(env_id: str, kwargs: dict) -> str:
    if not kwargs:
        return env_id
    return f"{env_id}[{','.join(f'{k}={v}' for k, v in kwargs.items())}]"


def check_env_id(env_id: str) -> None:
    """Raise ValueError unless ``env_id`` is a registered Gymnasium id (suggesting close ones)."""
    if env_id not in gym.registry:
        close = difflib.get_close_matches(env_id, list(gym.registry), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; `archgym list` shows them"
        raise SpecError(f"unknown env id {env_id!r}{hint}")


def load_spec(spec: dict | str | Path) -> dict:
    """Read (YAML path) and check a sweep spec; returns it normalised, defaults filled in.

    Every error is a ValueError saying what is wrong and what is allowed.
    """
    if isinstance(spec, (str, Path)):
        import yaml

        try:
            spec = yaml.safe_load(Path(spec).read_text())
        except OSError as exc:
            raise SpecError(f"cannot read the sweep spec: {exc}") from None
        except yaml.YAMLError as exc:
            raise SpecError(f"the sweep spec is not valid YAML: {exc}") from None
    if not isinstance(spec, dict):
        raise SpecError(f"a sweep spec is a mapping with keys {', '.join(_SPEC_KEYS)}; got {spec!r}")
    unknown = sorted(set(spec) - set(_SPEC_KEYS))
    if unknown:
        raise SpecError(f"unknown sweep spec key(s) {', '.join(unknown)}; allowed: {', '.join(_SPEC_KEYS)}")
    missing = [k for k in ("budget", "seeds", "envs", "agents") if k not in spec]
    if missing:
        raise SpecError(f"the sweep spec needs {', '.join(missing)}")

    budget = spec["budget"]
    if not _integer(budget) or budget < 1:
        raise SpecError(f"budget must be an integer number of samples >= 1, got {budget!r}")
    seeds = spec["seeds"]
    if _integer(seeds) and seeds >= 1:
        seeds = list(range(seeds))
    elif not (isinstance(seeds, list) and seeds and all(_integer(s) and s >= 0 for s in seeds)):
        raise SpecError(f"seeds must be a count >= 1 or a non-empty list of integers >= 0, got {seeds!r}")
    if len(set(seeds)) != len(seeds):
        raise SpecError(f"seeds repeat: {seeds}")
    score = spec.get("score", "return")
    if not isinstance(score, str):
        raise SpecError(f"score must be a string ('return', 'min:KEY' or 'max:KEY'), got {score!r}")
    parse_score(score)
    env_kwargs = _mapping(spec.get("env_kwargs"), "env_kwargs")
    if not isinstance(spec.get("name", ""), str):
        raise SpecError(f"name must be a string, got {spec['name']!r}")

    if not isinstance(spec["envs"], list) or not spec["envs"]:
        raise SpecError("envs must be a non-empty list of env ids or {id, kwargs, label, score} mappings")
    envs = []
    for item in spec["envs"]:
        env = _entry(item, "id", _ENV_KEYS, "env")
        check_env_id(env["id"])
        env["kwargs"] = _mapping(env.get("kwargs"), f"env {env['id']!r}: kwargs")
        env.setdefault("label", _env_label(env["id"], env["kwargs"]))
        env.setdefault("score", score)
        if not isinstance(env["score"], str):
            raise SpecError(f"env {env['label']!r}: score must be a string, got {env['score']!r}")
        parse_score(env["score"])
        envs.append(env)

    if not isinstance(spec["agents"], list) or not spec["agents"]:
        raise SpecError("agents must be a non-empty list of agent names or "
                        "{name, config, env_kwargs, label} mappings")
    agents = []
    for item in spec["agents"]:
        agent = _entry(item, "name", _AGENT_KEYS, "agent")
        get(agent["name"])  # unknown name -> ValueError listing the agents
        agent["config"] = _mapping(agent.get("config"), f"agent {agent['name']!r}: config")
        agent["env_kwargs"] = _mapping(agent.get("env_kwargs"), f"agent {agent['name']!r}: env_kwargs")
        agent.setdefault("label", agent["name"])
        try:
            agent_config(agent["name"], agent["config"])
        except ImportError as exc:
            raise SpecError(f"agent {agent['name']!r} cannot be loaded ({exc}); "
                            'is the agents extra installed? pip install "archgym[agents]"') from None
        agents.append(agent)

    for what, labels in (("env", [e["label"] for e in envs]), ("agent", [a["label"] for a in agents])):
        repeated = sorted({label for label in labels if labels.count(label) > 1})
        if repeated:
            raise SpecError(f"{what} label(s) {', '.join(map(repr, repeated))} repeat; "
                            f"give each {what} entry its own 'label'")
    return {"name": spec.get("name", ""), "budget": budget, "seeds": seeds, "score": score,
            "env_kwargs": env_kwargs, "envs": envs, "agents": agents}


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._=-]+", "_", text).strip("_")


def expand_grid(spec: dict | str | Path) -> list[Cell]:
    """The runs of a spec (checked with :func:`load_spec`), env by env, agent by agent, seed by seed."""
    spec = load_spec(spec)
    cells = [Cell(run_id=f"{_slug(env['label'])}__{_slug(agent['label'])}__s{seed}",
                  env=env["label"], env_id=env["id"],
                  env_kwargs={**spec["env_kwargs"], **env["kwargs"], **agent["env_kwargs"]},
                  agent=agent["label"], agent_name=agent["name"], config=agent["config"],
                  seed=seed, budget=spec["budget"], score=env["score"])
             for env, agent, seed in product(spec["envs"], spec["agents"], spec["seeds"])]
    ids = [c.run_id for c in cells]
    clash = sorted({i for i in ids if ids.count(i) > 1})
    if clash:
        raise SpecError(f"labels that differ only in punctuation give the same run id {clash[0]!r}; "
                        "choose labels that differ in letters or digits")
    return cells


def check_cells(cells: list[Cell]) -> None:
    """Make every distinct env of ``cells`` once and check its agents support it (ValueError if not)."""
    envs: dict[str, tuple[Cell, set]] = {}
    for cell in cells:
        key = json.dumps([cell.env_id, cell.env_kwargs], sort_keys=True, default=repr)
        envs.setdefault(key, (cell, set()))[1].add(cell.agent_name)
    for cell, names in envs.values():
        try:
            env = gym.make(cell.env_id, **cell.env_kwargs)
        except Exception as exc:  # noqa: BLE001  (any constructor error is the spec's)
            raise SpecError(f"cannot make {cell.env_id} with {cell.env_kwargs}: "
                            f"{type(exc).__name__}: {exc}") from None
        try:
            for name in sorted(names):
                reason = get(name).why_not(env)
                if reason is not None:
                    raise SpecError(f"agent {name!r} cannot run on {cell.env_id} "
                                    f"{cell.env_kwargs}: {reason}")
        finally:
            env.close()


# ------------------------------------------------------------------ running
def run_cell(cell: Cell) -> dict:
    """Run one cell (in a Ray worker): {"result": RunResult dict} or {"error", "traceback"}."""
    try:
        result = train(cell.env_id, cell.agent_name, cell.budget, cell.seed,
                       env_kwargs=cell.env_kwargs, config=cell.config, score=cell.score)
        return {"result": result.to_dict()}
    except Exception as exc:  # noqa: BLE001  (a failed run is recorded, not fatal)
        return {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}


_BASE_COLUMNS = ["run_id", "env", "env_id", "env_kwargs", "agent", "agent_name", "config", "seed",
                 "budget", "score", "samples", "best_score", "best_return", "wall_time_s", "error"]


def results_row(cell: Cell, result: RunResult | None, error: str = "") -> dict:
    """The results.csv row of a run; best_info scalars appear as ``info.KEY`` columns."""
    row = {"run_id": cell.run_id, "env": cell.env, "env_id": cell.env_id,
           "env_kwargs": json.dumps(cell.env_kwargs, sort_keys=True), "agent": cell.agent,
           "agent_name": cell.agent_name, "config": json.dumps(cell.config, sort_keys=True),
           "seed": cell.seed, "budget": cell.budget, "score": cell.score, "error": error}
    if result is not None:
        row.update(samples=result.samples, best_score=result.best_score,
                   best_return=result.best_return, wall_time_s=round(result.wall_time_s, 3))
        row.update({f"info.{k}": v for k, v in result.best_info.items() if not isinstance(v, list)})
    return row


def _write_csv(path: Path, rows: list[dict], first: list[str]) -> None:
    extra = sorted({k for row in rows for k in row} - set(first))

    def write(f):
        writer = csv.DictWriter(f, fieldnames=first + extra)
        writer.writeheader()
        writer.writerows(rows)

    atomic_write(path, write)


def write_results(out_dir: Path, done: list[tuple[Cell, RunResult | None, str]]) -> None:
    """results.csv: one row per finished run."""
    _write_csv(out_dir / "results.csv", [results_row(c, r, e) for c, r, e in done], _BASE_COLUMNS)


def write_tables(out_dir: Path, done: list[tuple[Cell, RunResult | None, str]]) -> None:
    """results.csv, histories.csv and one convergence PNG per env for the finished runs."""
    from agents.plots import plot_convergence

    write_results(out_dir, done)
    history = [{"run_id": c.run_id, "env": c.env, "agent": c.agent, "seed": c.seed, **row}
               for c, r, _ in done if r is not None for row in r.history]
    _write_csv(out_dir / "histories.csv", history,
               ["run_id", "env", "agent", "seed", "sample", "return", "score", "best_score"])
    for env in dict.fromkeys(c.env for c, r, _ in done if r is not None):
        runs = [(c, r) for c, r, _ in done if r is not None and c.env == env]
        groups: dict[str, list] = {}
        for cell, result in runs:
            groups.setdefault(cell.agent, []).append(result.best_so_far())
        plot_convergence(groups, out_dir / f"convergence_{_slug(env)}.png",
                         score=runs[0][0].score, title=env)


def start_ray(address: str | None, num_cpus: int | None) -> bool:
    """Connect to Ray; True if this call started it (so the caller shuts it down)."""
    import ray

    if ray.is_initialized():
        if address is not None or num_cpus is not None:
            raise ValueError("Ray is already initialised in this process; address and num_cpus "
                             "only apply when run_sweep starts Ray itself")
        return False
    if address is not None and num_cpus is not None:
        raise ValueError("num_cpus applies to a local Ray instance only, not with address")
    sigterm = signal.getsignal(signal.SIGTERM)
    if address is not None:
        ray.init(address=address, logging_level="WARNING", log_to_driver=False)
    else:
        ray.init(num_cpus=num_cpus, include_dashboard=False, logging_level="WARNING",
                 log_to_driver=False)
    # ray.init makes SIGTERM exit at once; the caller's handler (archgym sweep's: stop like
    # Ctrl-C, the tables written) comes back.
    if threading.current_thread() is threading.main_thread() and sigterm is not None:
        signal.signal(signal.SIGTERM, sigterm)
    return True


def _finished_line(n: int, total: int, cell: Cell, result: RunResult | None, error: str) -> str:
    head = f"[{n}/{total}] {cell.env} | {cell.agent} | seed {cell.seed}: "
    if result is None:
        return head + f"FAILED {error}"
    return head + (f"{best_text(result.score, result.best_score)} after {result.samples} "
                   f"samples ({result.wall_time_s:.2f} s)")


def _as_json(value):
    return json.loads(json.dumps(value, default=repr))


def _differences(cell: Cell, result: RunResult) -> list[str]:
    """How a saved run's settings differ from its cell's (empty: the cell's run)."""
    config = dataclasses.asdict(agent_config(cell.agent_name, cell.config))
    wanted = {"env_id": cell.env_id, "env_kwargs": cell.env_kwargs, "agent": cell.agent_name,
              "config": config, "seed": cell.seed, "budget": cell.budget, "score": cell.score}
    return [f"{key} {getattr(result, key)!r}, the spec's {value!r}" for key, value in wanted.items()
            if _as_json(getattr(result, key)) != _as_json(value)]


def saved_runs(out_dir: Path, cells: list[Cell]) -> dict[int, RunResult]:
    """The runs of ``cells`` already saved under ``out_dir/runs`` (by index in ``cells``).

    Raises SpecError for a saved run that cannot be read or was made with other settings.
    """
    saved = {}
    for i, cell in enumerate(cells):
        path = out_dir / "runs" / f"{cell.run_id}.json"
        if not path.exists():
            continue
        try:
            result = RunResult.load_json(path)
        except (OSError, ValueError, TypeError) as exc:
            raise SpecError(f"cannot read the saved run {path} ({exc}); delete it to run that "
                            "cell again") from None
        differences = _differences(cell, result)
        if differences:
            raise SpecError(f"{out_dir} holds run {cell.run_id} made with other settings "
                            f"({'; '.join(differences)}); use another --out for this spec, or "
                            f"delete {path} to run that cell again")
        saved[i] = result
    return saved


def submission_order(cells: list[Cell], done) -> list[int]:
    """The indices of the cells not in ``done``, seed by seed (every env and agent with the
    first seed, then the second ...), so that a sweep stopped part-way on few CPUs holds
    every env x agent pair with its first seeds rather than the first pairs with all seeds."""
    return sorted((i for i in range(len(cells)) if i not in done), key=lambda i: (cells[i].seed, i))


def run_sweep(spec: dict | str | Path, out_dir: str | Path, address: str | None = None,
              num_cpus: int | None = None, *, progress: bool = True,
              log: Callable[[str], None] | None = logger.info) -> list[RunResult]:
    """Run every cell of ``spec`` as a Ray task; write the tables under ``out_dir``.

    Cells whose run is already saved under ``out_dir`` are kept, not run again.
    Returns the finished runs in grid order.  If any run failed, everything is
    still written and :class:`SweepError` is raised at the end (it carries the
    finished runs and the errors).  ``progress`` shows a bar on stderr; ``log``
    gets one line per finished run (None: silent).
    """
    spec = load_spec(spec)
    cells = expand_grid(spec)
    check_cells(cells)
    if num_cpus is not None and (not _integer(num_cpus) or num_cpus < 1):
        raise ValueError(f"num_cpus must be an integer >= 1, got {num_cpus!r}")
    out_dir = Path(out_dir)
    done: dict[int, tuple[Cell, RunResult | None, str]] = {
        i: (cells[i], result, "") for i, result in saved_runs(out_dir, cells).items()}
    emit = log or (lambda _line: None)
    if done:
        emit(f"{out_dir}: kept {len(done)} finished run(s); running the other {len(cells) - len(done)}")

    from tqdm.auto import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    start = time.perf_counter()
    todo = submission_order(cells, done)
    started = False
    bar = tqdm(total=len(cells), initial=len(done), desc=spec["name"] or "sweep", unit="run",
               disable=not progress)
    try:
        if todo:
            import ray

            started = start_ray(address, num_cpus)
        (out_dir / "runs").mkdir(parents=True, exist_ok=True)
        atomic_write(out_dir / "spec.json", lambda f: f.write(json.dumps(spec, indent=1, default=repr)))
        if todo:
            task = ray.remote(num_cpus=1, max_retries=RETRIES)(run_cell)
            pending = {task.remote(cells[i]): i for i in todo}
            with logging_redirect_tqdm():  # log lines above the bar, not through it
                while pending:
                    ready, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
                    if not ready:
                        continue  # a timeout lets Ctrl-C and SIGTERM through
                    i = pending.pop(ready[0])
                    done[i] = _collect(ray, ready[0], cells[i], out_dir)
                    write_results(out_dir, [done[j] for j in sorted(done)])
                    bar.update(1)
                    emit(_finished_line(len(done), len(cells), *done[i]))
    finally:
        bar.close()
        if started:
            import ray

            ray.shutdown()
        if out_dir.is_dir():
            write_tables(out_dir, [done[i] for i in sorted(done)])
    emit(f"{len(cells)} runs ({len(todo)} run now) in {time.perf_counter() - start:.1f} s; "
         f"tables in {out_dir}")
    results = [done[i][1] for i in sorted(done) if done[i][1] is not None]
    failures = {done[i][0].run_id: done[i][2] for i in sorted(done) if done[i][1] is None}
    if failures:
        raise SweepError(results, failures)
    return results


def _collect(ray, ref, cell: Cell, out_dir: Path) -> tuple[Cell, RunResult | None, str]:
    """A finished task's outcome, saved under ``out_dir/runs``."""
    try:
        outcome = ray.get(ref)
    except Exception as exc:  # noqa: BLE001  (a worker that crashed RETRIES times fails its run only)
        outcome = {"error": f"{type(exc).__name__}: {exc}", "traceback": str(exc)}
    error_file = out_dir / "runs" / f"{cell.run_id}.error.txt"
    if "result" in outcome:
        result = RunResult(**outcome["result"])
        result.save_json(out_dir / "runs" / f"{cell.run_id}.json")
        error_file.unlink(missing_ok=True)  # an earlier attempt's
        return cell, result, ""
    atomic_write(error_file, lambda f: f.write(outcome["traceback"]))
    return cell, None, outcome["error"].splitlines()[0]
