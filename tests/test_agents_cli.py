"""`archgym train`, `archgym replay`, `archgym list` and `archgym demo`: outputs, parsing, errors,
results that are never lost, lazy imports, plugins."""

from __future__ import annotations

import csv
import errno
import importlib.metadata
import json
import logging
import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import pytest

import agents
import agents.cli
import agents.demo
import archgym
import archgym.cli
from agents.base import (
    RunResult,
    atomic_write,
    best_text,
    design_text,
    format_figure,
    objective_text,
    score_text,
)
from agents.cli import parse_assignments
from archgym.cli import COMMANDS, LISTS, env_description, env_ids, main, plugins
from conftest import REPO_ROOT

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run(*argv) -> int:
    """main(argv) as an exit code, whether it returns or exits (argparse errors)."""
    try:
        return main([str(a) for a in argv])
    except SystemExit as exc:
        return exc.code


def train(out: Path, *extra, budget=5, seed=1, env_id="NAS-v0", agent="random") -> int:
    return run("train", env_id, "--agent", agent, "--budget", budget, "--seed", seed, "--out", out,
               "--no-progress", *extra)



@pytest.fixture(scope="module")
def nas_run(tmp_path_factory) -> Path:
    """One `archgym train NAS-v0 --agent random --budget 5 --seed 1`, shared by the read-only tests."""
    out = tmp_path_factory.mktemp("train") / "nas"
    assert train(out) == 0
    return out


# ------------------------------------------------------------------- train
def test_train_writes_result_history_and_plot(nas_run):
    assert sorted(p.name for p in nas_run.iterdir()) == ["convergence.png", "history.csv", "result.json"]
    result = RunResult.load_json(nas_run / "result.json")
    assert (result.env_id, result.agent, result.seed, result.budget, result.samples) == \
        ("NAS-v0", "random", 1, 5, 5)
    result.validate()
    # The same run through the Python API gives the same record.
    direct = agents.train("NAS-v0", "random", 5, 1)
    assert (direct.best_score, direct.best_actions, direct.history) == \
        (result.best_score, result.best_actions, result.history)

    with (nas_run / "history.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [int(r["sample"]) for r in rows] == [1, 2, 3, 4, 5]
    scores = np.array([float(r["score"]) for r in rows])
    best = np.array([float(r["best_score"]) for r in rows])
    np.testing.assert_array_equal(best, np.maximum.accumulate(scores))
    assert best[-1] == result.best_score

    png = (nas_run / "convergence.png").read_bytes()
    assert png.startswith(PNG_SIGNATURE) and len(png) > 2000


def test_train_prints_a_summary(tmp_path, capsys):
    assert train(tmp_path / "out", "--score", "max:metric", seed=3) == 0
    out = capsys.readouterr().out
    result = RunResult.load_json(tmp_path / "out" / "result.json")
    assert result.score == "max:metric"
    # the figure the score ranks by, in its own units and with its sense, not the signed score
    assert f"best metric {format_figure(result.best_score)} (higher is better)" in out
    assert f"best design: {result.best_actions[0]}" in out  # the design, not the last step's figures
    assert f"metric={result.best_info['metric']:.6g}" in out
    assert "5 samples" in out and "result.json" in out


def test_a_minimised_figure_prints_as_itself_not_negated(tmp_path, capsys):
    assert train(tmp_path / "out", "--score", "min:latency") == 0
    result = RunResult.load_json(tmp_path / "out" / "result.json")
    latency = result.best_info["latency"]
    assert result.best_score == -latency
    assert f"best latency {format_figure(latency)} (lower is better)" in capsys.readouterr().out


def test_figures_read_as_numbers_with_si_prefixes():
    assert format_figure(23_857_644) == "23.86 M"
    assert format_figure(4.19e14) == "419 T"
    assert format_figure(-49_240_700) == "-49.24 M"
    assert format_figure(999_999) == "1 M"
    assert format_figure(1234) == "1.234 k"
    assert format_figure(0.963788) == "0.9638"
    assert format_figure(2.2e-6) == "2.2e-06"
    assert format_figure(440) == "440"
    assert score_text("min:total_cycles", -23_857_644) == "total cycles 23.86 M (lower is better)"
    assert score_text("max:accuracy", 0.5) == "accuracy 0.5 (higher is better)"
    assert score_text("return", -3.0) == "return -3 (higher is better)"
    assert best_text("min:total_cycles", -23_857_644) == "best total cycles 23.86 M (lower is better)"
    assert best_text("min:total_cycles", -float("inf")) == "no feasible design"


def test_the_envs_objective_is_read_when_the_info_has_it(tmp_path, monkeypatch, capsys):
    assert objective_text({"objective": 23_857_644.0, "objective_sense": "min"}) == \
        "objective 23.86 M (lower is better)"
    assert objective_text({"objective": 0.97, "objective_sense": "max"}) == "objective 0.97 (higher is better)"
    assert objective_text({"objective": "latency"}) is None  # no sense: not the standard entry
    assert objective_text({}) is None

    from archgym.envs.nas import NASEnv

    step = NASEnv.step

    def with_objective(self, action):
        obs, reward, terminated, truncated, info = step(self, action)
        return obs, reward, terminated, truncated, {**info, "objective": info["latency"],
                                                    "objective_sense": "min"}

    monkeypatch.setattr(NASEnv, "step", with_objective)
    assert train(tmp_path / "out") == 0
    result = RunResult.load_json(tmp_path / "out" / "result.json")
    out = capsys.readouterr().out
    assert (f"best return {format_figure(result.best_return)} (higher is better), its objective "
            f"{format_figure(result.best_info['latency'])} (lower is better)") in out


def test_design_text_decodes_where_the_env_can_and_folds_repeats():
    import gymnasium as gym

    env = gym.make("HWResource-v0")
    assert design_text(env, [[9, 3]] * 52) == "52 steps: [9, 3] x52"
    assert design_text(env, [[9, 3], [9, 3], [1, 2]]) == "3 steps: [9, 3] x2; [1, 2]"
    quant = gym.make("Quant-OneShot-v0")  # has decode(action) -> (weight bits, activation bits)
    action = [0] * int(quant.action_space.shape[0])
    assert design_text(quant, [action]) == str(quant.unwrapped.decode(action))
    assert len(design_text(env, [[i % 12, 0] for i in range(52)], max_chars=60)) == 60


def test_progress_is_logged_periodically_when_stderr_is_not_a_terminal(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="agents.cli")
    assert run("train", "NAS-v0", "--agent", "random", "--budget", 5, "--out", tmp_path / "o",
               "--score", "max:metric", "--log-every", 1e-9) == 0  # stderr is pytest's: no terminal
    result = RunResult.load_json(tmp_path / "o" / "result.json")
    lines = [r.getMessage() for r in caplog.records if r.name == "agents.cli"]
    assert [line.split(": ")[1].split(",")[0] for line in lines] == [f"{k}/5 samples" for k in range(1, 6)]
    assert all(line.startswith("random on NAS-v0: ") for line in lines)
    assert lines[-1].endswith(f"best metric {format_figure(result.best_score)} (higher is better)")
    caplog.clear()
    assert run("train", "NAS-v0", "--agent", "random", "--budget", 5, "--out", tmp_path / "p",
               "--no-progress") == 0
    assert not [r for r in caplog.records if r.name == "agents.cli"]


# ------------------------------------------------ results are never lost
def snapshot(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() if p.is_file() else None
            for p in sorted(folder.rglob("*"))}


def test_train_refuses_a_folder_holding_results_unless_forced(nas_run, tmp_path, capsys):
    out = tmp_path / "again"
    assert train(out, seed=1) == 0
    before = snapshot(out)
    assert train(out, seed=2) == 2
    err = capsys.readouterr().err
    assert f"{out} already holds results (result.json, history.csv, convergence.png)" in err
    assert "--force" in err
    assert snapshot(out) == before  # nothing touched

    assert train(out, "--force", seed=2) == 0
    assert RunResult.load_json(out / "result.json").seed == 2
    assert sorted(snapshot(out)) == ["convergence.png", "history.csv", "result.json"]


def test_force_removes_what_the_previous_run_wrote_and_this_one_does_not(tmp_path):
    out = tmp_path / "out"
    (out / "tensorboard").mkdir(parents=True)  # as a learning agent's run leaves it
    (out / "tensorboard" / "events.out.tfevents.1").write_bytes(b"old")
    (out / "notes.txt").write_text("mine")  # not a result: kept
    assert train(out, "--force") == 0
    assert sorted(snapshot(out)) == ["convergence.png", "history.csv", "notes.txt", "result.json"]


def test_a_folder_without_results_is_used_as_is(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert train(out) == 0
    assert (out / "notes.txt").read_text() == "mine" and (out / "result.json").is_file()


def test_train_checks_the_folder_is_writable_before_training(tmp_path, monkeypatch, capsys):
    def must_not_train(*_args, **_kwargs):
        raise AssertionError("trained although the results could not be written")

    monkeypatch.setattr(agents, "train", must_not_train)
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a folder")
    assert train(blocker / "out") == 2  # cannot be created (as a read-only folder cannot be written)
    assert "cannot write to --out" in capsys.readouterr().err
    assert train(blocker) == 2
    assert "exists and is not a folder" in capsys.readouterr().err
    assert blocker.read_text() == "a file, not a folder"


def test_a_failed_write_keeps_the_earlier_results_whole(tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    assert train(out, seed=1) == 0
    before = snapshot(out)

    import agents.plots

    def disk_full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(agents.plots, "plot_run", disk_full)  # after result.json and history.csv
    assert train(out, "--force", seed=2) == 2
    assert "cannot write the results" in capsys.readouterr().err
    assert snapshot(out) == before  # neither a mix of old and new files, nor a temporary one

    new = tmp_path / "new"
    assert train(new, seed=2) == 2
    assert not new.exists()  # the folder this run made is gone with its staging


def test_a_signal_before_the_first_sample_leaves_nothing(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.Popen(  # NAS-Live-v0 trains a network per sample: the first takes a while
        [sys.executable, "-m", "archgym", "train", "NAS-Live-v0", "--agent", "random", "--budget", "5",
         "--out", str(out), "--no-progress"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        while not (out.is_dir() and any(out.iterdir())):  # the staging folder: training begins
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.005)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "nothing saved" in stderr and stdout == ""
    assert not out.exists()  # the folder this run made is gone


def test_python_m_archgym_exits_130_when_the_handled_signal_came_inside_a_string_exec(tmp_path):
    # CPython 3.11 marks a KeyboardInterrupt raised inside exec("...") as unhandled even when the
    # caller catches it; under `python -m` the process then died by SIGINT (-2), not with 130.
    (tmp_path / "probe_main.py").write_text(
        "import runpy, signal\n"
        "import archgym.cli\n"
        "def main():\n"
        "    try:\n"
        "        exec('import os, signal\\nos.kill(os.getpid(), signal.SIGINT)\\nwhile True: pass')\n"
        "    except KeyboardInterrupt:\n"
        "        return 130\n"
        "archgym.cli.main = main\n"
        "runpy.run_module('archgym', run_name='__main__', alter_sys=True)\n")
    proc = subprocess.run([sys.executable, "-m", "probe_main"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert proc.returncode == 130, proc.stderr


def test_atomic_write_leaves_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("old")

    def fails(f):
        f.write("half of the new")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError):
        atomic_write(path, fails)
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["table.csv"]
    atomic_write(path, lambda f: f.write("new"))
    assert path.read_text() == "new" and os.listdir(tmp_path) == ["table.csv"]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_saves_the_run_so_far_marked_interrupted(tmp_path, sig):
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "archgym", "train", "NAS-v0", "--agent", "random", "--budget", "10000000",
         "--score", "max:metric", "--out", str(out), "--log-every", "0.05"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in proc.stderr:  # the first progress line: samples are done
            if "samples, best" in line:
                break
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 128 + sig, stderr
    assert "Traceback" not in stderr
    assert "interrupted after" in stderr and str(out) in stderr
    result = RunResult.load_json(out / "result.json")
    assert result.interrupted and 0 < result.samples < result.budget
    assert result.samples == len(result.history)
    assert f"{result.samples} samples (interrupted: {result.samples} of 10000000)" in stdout
    with (out / "history.csv").open() as f:
        assert len(list(csv.DictReader(f))) == result.samples
    assert sorted(os.listdir(out)) == ["convergence.png", "history.csv", "result.json"]
    result.validate()


def test_train_default_out_dir_is_the_only_thing_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run("train", "NAS-v0", "--agent", "random", "--budget", 2, "--seed", 4, "--no-progress") == 0
    assert [p.relative_to(tmp_path).as_posix() for p in sorted(tmp_path.rglob("*"))] == [
        "runs", "runs/NAS-v0-random-s4", "runs/NAS-v0-random-s4/convergence.png",
        "runs/NAS-v0-random-s4/history.csv", "runs/NAS-v0-random-s4/result.json"]


def test_assignments_parse_json_values_for_env_and_text_for_set():
    items = ["workload=resnet50", "mul=0.5", "layers=[1, 2]", "shuffle=true", "name=a=b"]
    assert parse_assignments(items, "--env", as_json=True) == \
        {"workload": "resnet50", "mul": 0.5, "layers": [1, 2], "shuffle": True, "name": "a=b"}
    assert parse_assignments(["lr=1e-3", "hidden=64"], "--set", as_json=False) == \
        {"lr": "1e-3", "hidden": "64"}
    for bad in ("noequals", "=3"):
        with pytest.raises(ValueError, match="expects KEY=VALUE"):
            parse_assignments([bad], "--env", as_json=True)


def test_train_passes_env_kwargs_to_the_env(tmp_path):
    out = tmp_path / "hw"
    assert train(out, "--env", "workload=resnet18", "--env", "mul=0.25", "--score", "min:total_cycles",
                 env_id="HWResource-v0", budget=2) == 0
    result = RunResult.load_json(out / "result.json")
    assert result.env_kwargs["workload"] == "resnet18" and result.env_kwargs["mul"] == 0.25
    assert len(result.history) == 2
    if np.isfinite(result.best_score):  # a feasible design: 20 ResNet-18 layers, 2 actions each
        assert len(result.best_actions) == 20
        assert result.best_score == -result.best_info["total_cycles"]
    result.validate()


def test_train_set_reaches_the_agent_config(tmp_path):
    pytest.importorskip("agents.ga")
    out = tmp_path / "ga"
    assert train(out, "--set", "population=4", "--set", "parents=2", agent="ga", budget=6) == 0
    result = RunResult.load_json(out / "result.json")
    assert (result.config["population"], result.config["parents"]) == (4, 2)
    assert result.samples == 6


@pytest.mark.parametrize("argv, message", [
    (["NAS-v0", "--agent", "nope", "--budget", "3"], "unknown agent 'nope'; allowed: reinforce"),
    (["NAS-v9", "--agent", "random", "--budget", "3"], "unknown env id 'NAS-v9'; did you mean"),
    (["NAS-v0", "--agent", "random", "--budget", "0"], "--budget must be at least 1 sample"),
    (["NAS-v0", "--agent", "random", "--budget", "3", "--set", "foo=1"],
     "agent 'random' has no setting foo"),
    (["NAS-v0", "--agent", "random", "--budget", "3", "--env", "bogus=1"],
     "cannot make NAS-v0 with {'bogus': 1}"),
    (["NAS-v0", "--agent", "random", "--budget", "3", "--env", "platform=mars"], "cannot make NAS-v0"),
    (["NAS-v0", "--agent", "random", "--budget", "3", "--env", "noequals"], "--env expects KEY=VALUE"),
    (["NAS-v0", "--agent", "random", "--budget", "3", "--score", "best"], "unknown score 'best'"),
])
def test_train_rejects_bad_input_before_running(tmp_path, capsys, argv, message):
    out = tmp_path / "out"
    assert run("train", *argv, "--out", out, "--no-progress") == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_train_requires_agent_and_budget(tmp_path, capsys):
    assert run("train", "NAS-v0", "--budget", 3) == 2
    assert "--agent" in capsys.readouterr().err
    assert run("train", "NAS-v0", "--agent", "random") == 2
    assert "--budget" in capsys.readouterr().err


def test_learning_agent_writes_tensorboard_events(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("agents.reinforce")
    out = tmp_path / "rl"
    assert train(out, agent="reinforce", budget=4) == 0
    assert list((out / "tensorboard").rglob("events.out.tfevents*")), "no TensorBoard events written"
    RunResult.load_json(out / "result.json").validate()


# ------------------------------------------------------------------ replay
def test_replay_accepts_a_saved_result(nas_run, capsys):
    assert run("replay", nas_run / "result.json") == 0
    result = RunResult.load_json(nas_run / "result.json")
    assert capsys.readouterr().out == f"ok: random on NAS-v0, {best_text('return', result.best_score)}: replays exactly\n"


def test_replay_detects_tampering(nas_run, tmp_path, capsys):
    data = json.loads((nas_run / "result.json").read_text())
    design = data["best_actions"][0]
    design[0] = (design[0] + 1) % 3  # another architecture: other figures
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(data))
    assert run("replay", tampered) == 1
    assert "mismatch" in capsys.readouterr().out

    data = json.loads((nas_run / "result.json").read_text())
    data["best_return"] += 1.0
    tampered.write_text(json.dumps(data))
    assert run("replay", tampered) == 1
    assert "replayed return" in capsys.readouterr().out


def test_replay_reports_unreadable_files(tmp_path, capsys):
    assert run("replay", tmp_path / "missing.json") == 2
    assert "cannot load" in capsys.readouterr().err
    (tmp_path / "other.json").write_text('{"a": 1}')
    assert run("replay", tmp_path / "other.json") == 2
    assert "not an archgym run record" in capsys.readouterr().err


def test_console_entry_point_replays(nas_run):
    """`python -m archgym` (what the console script calls) in a fresh interpreter."""
    proc = subprocess.run([sys.executable, "-m", "archgym", "replay", str(nas_run / "result.json")],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ok:")


# -------------------------------------------------------------------- list
def test_list_gives_each_env_id_a_line_and_lists_agents_on_request(capsys):
    assert run("list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == env_ids()
    described = dict(line.split(None, 1) for line in lines)
    assert described["HWResource-ResNet50-v0"] == (
        "Assign PEs and a buffer (K-tile) size to each layer of a DNN under a budget [workload=resnet50]")
    assert described["HWResource-v0"] == \
        "Assign PEs and a buffer (K-tile) size to each layer of a DNN under a budget"
    assert described["NoCRouting-MultiPattern-v0"].endswith("[traffic=uniform,transpose,shuffle,bitrev]")
    assert all(described[i] == env_description(i) for i in env_ids())
    assert run("list", "--agents") == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(agents.AGENTS)
    for line, spec in zip(lines, agents.AGENTS.values()):
        assert line.endswith(spec.summary)


# ---------------------------------------------------------- lazy imports
def test_list_and_train_import_only_what_they_need(tmp_path):
    code = (
        "import sys\n"
        "from archgym.cli import main\n"
        "assert main(['list']) == 0\n"
        "heavy = lambda: sorted(m for m in ('agents', 'torch', 'ray') if m in sys.modules)\n"
        "print('after list:', heavy())\n"
        f"assert main(['train', 'NAS-v0', '--agent', 'random', '--budget', '2', '--out', {str(tmp_path)!r}, "
        "'--no-progress']) == 0\n"
        "print('after train:', heavy())\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "after list: []" in proc.stdout
    assert "after train: ['agents']" in proc.stdout  # neither torch nor ray for a random search


@pytest.mark.parametrize("missing, extra", [("torch", "agents"), ("ray", "sweep"), ("yaml", "agents")])
def test_missing_extra_gives_the_install_command(monkeypatch, capsys, missing, extra):
    import agents.cli

    def fail(*_args, **_kwargs):
        raise ModuleNotFoundError(f"No module named {missing!r}", name=missing)

    monkeypatch.setattr(agents.cli, "train", fail)
    assert run("train", "NAS-v0", "--agent", "random", "--budget", 1) == 2
    assert f'pip install "archgym[{extra}]"' in capsys.readouterr().err


def test_unrelated_missing_module_is_not_blamed_on_the_extras(monkeypatch):
    import agents.cli

    def fail(*_args, **_kwargs):
        raise ModuleNotFoundError("No module named 'notapackage'", name="notapackage")

    monkeypatch.setattr(agents.cli, "train", fail)
    with pytest.raises(ModuleNotFoundError, match="notapackage"):
        run("train", "NAS-v0", "--agent", "random", "--budget", 1)


# ----------------------------------------------------------------- plugins
def test_agent_commands_are_the_entry_points_pyproject_declares():
    declared = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["entry-points"]
    assert declared[COMMANDS] == {"demo": "agents.demo:demo_command", "train": "agents.cli:train_command",
                                  "replay": "agents.cli:replay_command", "sweep": "agents.cli:sweep_command",
                                  "collect": "agents.collect:collect_command"}
    assert declared[LISTS] == {"agents": "agents.cli:list_agents"}
    for group in (COMMANDS, LISTS):  # installed (CI) or read from the checkout (PYTHONPATH=src)
        found = {name: ep.value for name, ep in plugins(group).items()}
        assert found.items() >= declared[group].items()
    assert plugins(COMMANDS)["train"].load() is agents.cli.train_command
    assert plugins(LISTS)["agents"].load() is agents.cli.list_agents


def test_an_uninstalled_checkout_reads_the_entry_points_from_pyproject(monkeypatch):
    def not_installed(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", not_installed)
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group: [])
    monkeypatch.setattr(archgym.cli, "_SOURCE_PYPROJECT", REPO_ROOT / "pyproject.toml")
    assert sorted(plugins(COMMANDS)) == ["collect", "demo", "replay", "sweep", "train"]
    assert list(plugins(LISTS)) == ["agents"]
    monkeypatch.setattr(archgym.cli, "_SOURCE_PYPROJECT", REPO_ROOT / "no-such-pyproject.toml")
    assert plugins(COMMANDS) == {}


def test_without_the_plugins_the_commands_say_how_to_get_them(monkeypatch, capsys):
    monkeypatch.setattr(archgym.cli, "plugins", lambda group: {})
    assert run("train", "NAS-v0", "--agent", "random", "--budget", 1) == 2
    err = capsys.readouterr().err
    assert "unknown command 'train'; allowed: list;" in err
    assert 'pip install "archgym[agents]"' in err and COMMANDS in err
    assert run("list", "--agents") == 2
    err = capsys.readouterr().err
    assert "unrecognized arguments: --agents" in err and LISTS in err
    assert run("list") == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()] == env_ids()


def test_help_lists_the_plugin_commands_and_the_defaults(capsys):
    assert run("--help") == 0
    out = capsys.readouterr().out
    for name in ("train", "replay", "sweep"):
        assert f"from agents.cli: see archgym {name} --help" in out
    assert "from agents.demo: see archgym demo --help" in out
    assert run("train", "--help") == 0
    out = " ".join(capsys.readouterr().out.split())
    assert out.startswith("usage: archgym train")
    assert "(default: 0)" in out and "(default: return)" in out and "(default: 10.0)" in out
    assert "(default: None)" not in out and "(default: False)" not in out
    assert run("demo", "--help") == 0
    assert "(default: 300)" in " ".join(capsys.readouterr().out.split())


def test_version(capsys):
    assert run("--version") == 0
    assert capsys.readouterr().out == f"archgym {archgym.__version__}\n"


# -------------------------------------------------------------------- demo
def test_demo_explains_itself_and_compares_the_uniform_design_with_an_agent(capsys):
    assert run("demo", "--samples", 12) == 0
    out = capsys.readouterr().out
    assert out.startswith("archgym demo: HWResource-v0, MobileNet-V2")
    assert "um^2" not in out.replace("not um^2", "")  # MAESTRO's area has units of its own
    assert "Area is MAESTRO's area figure in its own units" in out
    for dataflow in ("dla", "shi", "eye"):
        rows = [line for line in out.splitlines() if line.startswith(dataflow)]
        assert [line[10:34].strip() for line in rows] == \
            ["uniform 64 PEs, tile 4", "best of 12 random", "ga, 12 samples"]
        ga = agents.train("HWResource-v0", "ga", 12, 0, env_kwargs={"dataflow": dataflow},
                          config=agents.demo.GA_CONFIG, score="min:total_cycles")
        assert format_figure(-ga.best_score) in rows[2]  # the agent's own best, as the demo ran it
    assert run("demo", "--samples", 0) == 2
