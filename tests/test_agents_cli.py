"""`archgym train`, `archgym replay` and `archgym list`: outputs, parsing, errors, lazy imports, plugins."""

from __future__ import annotations

import csv
import importlib.metadata
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

import agents
import agents.cli
import archgym.cli
from agents.base import RunResult
from agents.cli import parse_assignments
from archgym.cli import COMMANDS, LISTS, env_ids, main, plugins
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
    assert f"best score (max:metric): {result.best_score:.6g}" in out
    assert f"metric={result.best_info['metric']:.6g}" in out
    assert "5 samples" in out and "result.json" in out


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
    assert capsys.readouterr().out.startswith("ok: random on NAS-v0")


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
def test_list_keeps_the_env_ids_and_lists_agents_on_request(capsys):
    assert run("list") == 0
    assert capsys.readouterr().out.split() == env_ids()
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
    assert declared[COMMANDS] == {"train": "agents.cli:train_command", "replay": "agents.cli:replay_command",
                                  "sweep": "agents.cli:sweep_command", "collect": "agents.collect:collect_command"}
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
    assert sorted(plugins(COMMANDS)) == ["collect", "replay", "sweep", "train"]
    assert list(plugins(LISTS)) == ["agents"]
    monkeypatch.setattr(archgym.cli, "_SOURCE_PYPROJECT", REPO_ROOT / "no-such-pyproject.toml")
    assert plugins(COMMANDS) == {}


def test_without_the_plugins_the_commands_say_how_to_get_them(monkeypatch, capsys):
    monkeypatch.setattr(archgym.cli, "plugins", lambda group: {})
    assert run("train", "NAS-v0", "--agent", "random", "--budget", 1) == 2
    err = capsys.readouterr().err
    assert "unknown command 'train'; allowed: list, demo;" in err
    assert 'pip install "archgym[agents]"' in err and COMMANDS in err
    assert run("list", "--agents") == 2
    err = capsys.readouterr().err
    assert "unrecognized arguments: --agents" in err and LISTS in err
    assert run("list") == 0
    assert capsys.readouterr().out.split() == env_ids()


def test_help_lists_the_plugin_commands(capsys):
    assert run("--help") == 0
    out = capsys.readouterr().out
    for name in ("train", "replay", "sweep"):
        assert f"from agents.cli: see archgym {name} --help" in out
    assert run("train", "--help") == 0
    assert capsys.readouterr().out.startswith("usage: archgym train")
