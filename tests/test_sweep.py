"""agents.sweep: spec checking and grid expansion (no Ray), convergence plots, and real
sweeps on one local Ray instance shared by the module."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import agents
import agents.sweep
from agents.base import RunResult
from agents.plots import convergence_band, curves_by, plot_convergence, score_axis
from agents.sweep import (
    SpecError,
    SweepError,
    check_cells,
    expand_grid,
    load_spec,
    run_sweep,
    saved_runs,
    submission_order,
)
from archgym.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def spec(**changes) -> dict:
    base = {"budget": 5, "seeds": 2, "envs": ["NAS-v0"], "agents": ["random"]}
    base.update(changes)
    return base


def read_csv(path: Path) -> list[dict]:
    with path.open() as f:
        return list(csv.DictReader(f))


# --------------------------------------------------------------- the grid
def test_grid_is_the_product_with_kwargs_layered():
    cells = expand_grid(spec(
        seeds=[3, 7], score="max:metric", env_kwargs={"platform": "edge", "constraint": "latency"},
        envs=["NAS-v0", {"id": "NAS-v0", "kwargs": {"constraint": "energy"}, "score": "return"}],
        agents=["random", {"name": "random", "label": "random-cloud",
                           "env_kwargs": {"platform": "cloud"}}]))
    assert len(cells) == 2 * 2 * 2
    assert [(c.env, c.agent, c.seed) for c in cells[:4]] == [
        ("NAS-v0", "random", 3), ("NAS-v0", "random", 7),
        ("NAS-v0", "random-cloud", 3), ("NAS-v0", "random-cloud", 7)]
    by_key = {(c.env, c.agent, c.seed): c for c in cells}
    # top-level env_kwargs, then the env's kwargs, then the agent's env_kwargs
    assert by_key["NAS-v0", "random", 3].env_kwargs == {"platform": "edge", "constraint": "latency"}
    assert by_key["NAS-v0", "random-cloud", 3].env_kwargs == {"platform": "cloud", "constraint": "latency"}
    energy = "NAS-v0[constraint=energy]"
    assert by_key[energy, "random-cloud", 7].env_kwargs == {"platform": "cloud", "constraint": "energy"}
    assert by_key[energy, "random", 7].score == "return"  # the env's score wins
    assert by_key["NAS-v0", "random", 7].score == "max:metric"
    assert all(c.agent_name == "random" and c.budget == 5 and c.env_id == "NAS-v0" for c in cells)
    ids = [c.run_id for c in cells]
    assert len(set(ids)) == len(ids)
    assert all("/" not in i and "[" not in i and "," not in i for i in ids)
    assert load_spec(spec(seeds=3))["seeds"] == [0, 1, 2]


def test_runs_are_submitted_seed_by_seed_skipping_the_done_ones():
    cells = expand_grid(spec(seeds=[3, 7], envs=["NAS-v0", "NAS-Live-v0"], agents=["random", "ga"]))
    order = submission_order(cells, done={0: None})
    assert [(cells[i].seed, cells[i].env, cells[i].agent) for i in order] == [
        (3, "NAS-v0", "ga"), (3, "NAS-Live-v0", "random"), (3, "NAS-Live-v0", "ga"),
        (7, "NAS-v0", "random"), (7, "NAS-v0", "ga"), (7, "NAS-Live-v0", "random"), (7, "NAS-Live-v0", "ga")]


def test_spec_loads_from_yaml(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("budget: 4\nseeds: [1]\nscore: max:metric\nenvs: [NAS-v0]\n"
                    "agents:\n  - name: random\n    label: rs\n")
    (cell,) = expand_grid(path)
    assert (cell.env_id, cell.agent, cell.agent_name, cell.seed, cell.budget, cell.score) == \
        ("NAS-v0", "rs", "random", 1, 4, "max:metric")


@pytest.mark.parametrize("changes, message", [
    ({"agents": ["nope"]}, "unknown agent 'nope'; allowed:"),
    ({"envs": ["NAS-v9"]}, "unknown env id 'NAS-v9'; did you mean"),
    ({"budget": 0}, "budget must be an integer number of samples >= 1, got 0"),
    ({"budget": "5"}, "budget must be an integer"),
    ({"budget": True}, "budget must be an integer"),
    ({"seeds": []}, "seeds must be a count >= 1 or a non-empty list"),
    ({"seeds": [1, 1]}, "seeds repeat"),
    ({"seeds": [-1]}, "seeds must be"),
    ({"score": "lowest"}, "unknown score 'lowest'"),
    ({"epochs": 3}, "unknown sweep spec key(s) epochs; allowed:"),
    ({"envs": []}, "envs must be a non-empty list"),
    ({"envs": [{"kwargs": {}}]}, "each env must be a name or a mapping with a 'id' entry"),
    ({"envs": [{"id": "NAS-v0", "kwarg": {}}]}, "env 'NAS-v0': unknown key(s) kwarg; allowed: id,"),
    ({"envs": [{"id": "NAS-v0", "kwargs": [1]}]}, "kwargs must be a mapping"),
    ({"agents": [{"name": "random", "settings": {}}]}, "unknown key(s) settings"),
    ({"agents": [{"name": "random", "config": {"lr": 1}}]}, "agent 'random' has no setting lr"),
    ({"agents": ["random", "random"]}, "agent label(s) 'random' repeat"),
    ({"envs": ["NAS-v0", {"id": "NAS-v0"}]}, "env label(s) 'NAS-v0' repeat"),
])
def test_bad_specs_are_rejected_with_what_is_allowed(changes, message):
    with pytest.raises(ValueError) as info:
        expand_grid(spec(**changes))
    assert message in str(info.value)


def test_spec_needs_its_keys_and_valid_yaml(tmp_path):
    with pytest.raises(SpecError, match="the sweep spec needs seeds, envs"):
        load_spec({"budget": 3, "agents": ["random"]})
    bad = tmp_path / "bad.yaml"
    bad.write_text("envs: [NAS-v0\n")
    with pytest.raises(SpecError, match="not valid YAML"):
        load_spec(bad)
    bad.write_text("- just\n- a list\n")
    with pytest.raises(SpecError, match="a sweep spec is a mapping"):
        load_spec(bad)
    with pytest.raises(SpecError, match="cannot read the sweep spec"):
        load_spec(tmp_path / "missing.yaml")


def test_check_cells_makes_each_env_and_asks_each_agent(monkeypatch):
    check_cells(expand_grid(spec()))
    with pytest.raises(SpecError, match=r"cannot make NAS-v0 with \{'platform': 'mars'\}"):
        check_cells(expand_grid(spec(env_kwargs={"platform": "mars"})))
    import agents.baselines

    monkeypatch.setattr(agents.baselines, "supports", lambda env: "it needs a mask")
    with pytest.raises(SpecError, match="agent 'random' cannot run on NAS-v0 {}: it needs a mask"):
        check_cells(expand_grid(spec()))


def test_examples_are_valid_specs():
    for path in sorted(EXAMPLES.glob("sweep_*.yaml")):
        try:
            cells = expand_grid(path)
        except SpecError as exc:
            if "cannot be loaded" in str(exc):
                pytest.skip(f"{path.name}: an agent's module is not there yet ({exc})")
            raise
        assert cells, path


def test_sweep_cli_rejects_a_bad_spec_before_starting_ray(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text("budget: 0\nseeds: 1\nenvs: [NAS-v0]\nagents: [random]\n")
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--no-progress"]) == 2
    assert "budget must be an integer number of samples >= 1" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------ plots
def test_convergence_band_is_median_and_quartiles_over_runs():
    curves = [[1.0, 2.0, 4.0], [0.0, 3.0, 3.0], [2.0, 2.0, 5.0], [1.0, 1.0]]
    x, low, mid, high = convergence_band(curves)
    np.testing.assert_array_equal(x, [1, 2, 3])
    np.testing.assert_allclose(mid, [1.0, 2.0, 4.0])  # at x=3 only the 3 runs that got there
    np.testing.assert_allclose(low, [0.75, 1.75, 3.5])
    np.testing.assert_allclose(high, [1.25, 2.25, 4.5])


def test_convergence_band_counts_infeasible_as_worst():
    _, low, mid, high = convergence_band([[-np.inf, -np.inf, 1.0], [-np.inf, 2.0, 2.0], [0.0, 0.0, 0.0]])
    assert np.isneginf(mid[0]) and mid[1] == 0.0 and mid[2] == 1.0
    assert np.isneginf(low[1]) and high[1] == 1.0
    with pytest.raises(ValueError, match="at least one curve"):
        convergence_band([])


def test_score_axis_shows_the_figure_in_its_own_units():
    assert score_axis("min:total_cycles") == (-1.0, "total_cycles (lower is better)")
    assert score_axis("max:accuracy") == (1.0, "accuracy (higher is better)")
    assert score_axis("return")[0] == 1.0
    with pytest.raises(ValueError, match="unknown score"):
        score_axis("fastest")


def test_plot_convergence_writes_a_png_and_draws_into_axes(tmp_path):
    runs = [agents.train("NAS-v0", "random", 4, seed, score="max:metric") for seed in range(3)]
    groups = curves_by(runs)
    assert list(groups) == ["random"] and len(groups["random"]) == 3
    path = plot_convergence(groups, tmp_path / "c.png", score="max:metric", title="NAS")
    assert path.read_bytes().startswith(PNG_SIGNATURE)

    from matplotlib.figure import Figure
    ax = Figure().add_subplot()
    assert plot_convergence(groups, score="max:metric", ax=ax) is ax
    (line,) = ax.get_lines()
    _, _, mid, _ = convergence_band(groups["random"])
    drawn = np.where(np.isfinite(mid), mid, np.nan)  # infeasible: a gap
    np.testing.assert_allclose(line.get_ydata(), drawn)  # max:KEY is drawn as is
    ax = Figure().add_subplot()
    plot_convergence(groups, score="min:latency", ax=ax)
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), -drawn)  # min:KEY in KEY's units
    with pytest.raises(ValueError, match="a path to write to or an ax"):
        plot_convergence(groups)


# ------------------------------------------------------------------- Ray
@pytest.fixture(scope="module")
def ray_session():
    """One local Ray instance for the module (start-up costs seconds); run_sweep reuses it."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING", log_to_driver=False)
    yield ray
    ray.shutdown()


def test_sweep_on_ray_gathers_every_run(ray_session, tmp_path):
    out = tmp_path / "sweep"
    lines = []
    the_spec = spec(name="tiny", score="max:metric",
                    agents=["random", {"name": "random", "label": "random-cloud",
                                       "env_kwargs": {"platform": "cloud"}}])
    results = run_sweep(the_spec, out, progress=False, log=lines.append)
    assert len(results) == 4
    assert sum("best metric" in line and "(higher is better)" in line for line in lines) == 4

    rows = read_csv(out / "results.csv")
    assert len(rows) == 4
    assert sorted((r["agent"], r["seed"]) for r in rows) == [
        ("random", "0"), ("random", "1"), ("random-cloud", "0"), ("random-cloud", "1")]
    assert all(r["error"] == "" and r["samples"] == "5" and r["budget"] == "5" for r in rows)
    for row, result in zip(rows, results):
        assert float(row["best_score"]) == result.best_score
        assert float(row["info.metric"]) == result.best_info["metric"]
        assert json.loads(row["env_kwargs"]) == result.env_kwargs
    assert {r["info.platform"] for r in rows if r["agent"] == "random-cloud"} == {"cloud"}

    saved = sorted((out / "runs").glob("*.json"))
    assert [p.name for p in saved] == ["NAS-v0__random-cloud__s0.json", "NAS-v0__random-cloud__s1.json",
                                       "NAS-v0__random__s0.json", "NAS-v0__random__s1.json"]
    for path in saved:
        RunResult.load_json(path).validate()
    for result in results:
        # the same seed through agents.train directly gives the same run
        direct = agents.train(result.env_id, result.agent, result.budget, result.seed,
                              env_kwargs=result.env_kwargs, score=result.score)
        assert (direct.best_score, direct.history) == (result.best_score, result.history)

    history = read_csv(out / "histories.csv")
    assert len(history) == 4 * 5
    for run_id in {h["run_id"] for h in history}:
        best = [float(h["best_score"]) for h in history if h["run_id"] == run_id]
        assert best == sorted(best)  # best so far never gets worse
    assert (out / "convergence_NAS-v0.png").read_bytes().startswith(PNG_SIGNATURE)
    assert json.loads((out / "spec.json").read_text())["seeds"] == [0, 1]


def test_failed_run_is_recorded_and_the_cli_exits_non_zero(ray_session, tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text("budget: 3\nseeds: 1\nscore: max:metric\n"
                    "envs:\n  - NAS-v0\n  - {id: NAS-v0, label: broken, score: 'max:no_such_key'}\n"
                    "agents: [random]\n")
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--no-progress"]) == 1
    captured = capsys.readouterr()
    assert "1 of 2 runs failed" in captured.err and "no_such_key" in captured.err
    rows = {r["env"]: r for r in read_csv(out / "results.csv")}
    assert rows["NAS-v0"]["error"] == "" and float(rows["NAS-v0"]["best_score"]) > 0
    assert rows["broken"]["error"].startswith("KeyError") and rows["broken"]["best_score"] == ""
    assert "no_such_key" in (out / "runs" / "broken__random__s0.error.txt").read_text()
    RunResult.load_json(out / "runs" / "NAS-v0__random__s0.json").validate()
    assert len(read_csv(out / "histories.csv")) == 3  # the good run's samples only

    with pytest.raises(SweepError) as info:
        run_sweep(path, tmp_path / "api", progress=False, log=None)
    assert len(info.value.results) == 1 and list(info.value.failures) == ["broken__random__s0"]

    # A rerun keeps the finished run and tries the failed one again.
    good = (out / "runs" / "NAS-v0__random__s0.json").stat().st_mtime_ns
    assert main(["sweep", str(path), "--out", str(out), "--no-progress"]) == 1
    assert (out / "runs" / "NAS-v0__random__s0.json").stat().st_mtime_ns == good
    assert len(read_csv(out / "results.csv")) == 2


def test_a_rerun_keeps_the_finished_runs_and_runs_only_the_rest(ray_session, tmp_path, monkeypatch):
    out = tmp_path / "sweep"
    first = run_sweep(spec(score="max:metric"), out, progress=False, log=None)
    saved = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in (out / "runs").iterdir()}
    assert sorted(saved) == ["NAS-v0__random__s0.json", "NAS-v0__random__s1.json"]

    lines = []
    more = run_sweep(spec(score="max:metric", seeds=3), out, progress=False, log=lines.append)
    assert lines[0] == f"{out}: kept 2 finished run(s); running the other 1"
    assert [line.split(":")[0] for line in lines if line.startswith("[")] == ["[3/3] NAS-v0 | random | seed 2"]
    for name, (data, mtime) in saved.items():  # untouched
        path = out / "runs" / name
        assert (path.read_bytes(), path.stat().st_mtime_ns) == (data, mtime)
    assert [(r.seed, r.best_score, r.history) for r in more[:2]] == \
        [(r.seed, r.best_score, r.history) for r in first]
    assert [row["seed"] for row in read_csv(out / "results.csv")] == ["0", "1", "2"]
    assert len(read_csv(out / "histories.csv")) == 3 * 5

    # All finished: nothing runs, Ray is not even needed; a lost run is run again alike.
    with monkeypatch.context() as m:
        m.setattr(agents.sweep, "start_ray", lambda *_args: pytest.fail("Ray started for nothing"))
        again = run_sweep(spec(score="max:metric", seeds=3), out, progress=False, log=None)
    assert [r.to_dict() for r in again] == [r.to_dict() for r in more]
    (out / "runs" / "NAS-v0__random__s1.json").unlink()
    again = run_sweep(spec(score="max:metric", seeds=3), out, progress=False, log=None)
    assert again[1].history == more[1].history


def test_a_saved_run_of_other_settings_is_an_error_not_overwritten(tmp_path):
    cells = expand_grid(spec(score="max:metric"))
    runs = tmp_path / "runs"
    runs.mkdir()
    result = agents.train("NAS-v0", "random", 4, 0, score="max:metric")  # budget 4, the spec says 5
    result.save_json(runs / "NAS-v0__random__s0.json")
    with pytest.raises(SpecError, match=r"holds run NAS-v0__random__s0 made with other settings "
                                        r"\(budget 4, the spec's 5\)"):
        saved_runs(tmp_path, cells)
    with pytest.raises(SpecError, match="holds run NAS-v0__random__s0 made with other settings"):
        run_sweep(spec(score="max:metric"), tmp_path, progress=False, log=None)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["NAS-v0__random__s0.json", "runs"]
    (runs / "NAS-v0__random__s0.json").write_text("{not json")
    with pytest.raises(SpecError, match="cannot read the saved run"):
        saved_runs(tmp_path, cells)
    (runs / "NAS-v0__random__s0.json").unlink()
    assert saved_runs(tmp_path, cells) == {}


def test_sigterm_writes_results_csv_and_a_rerun_finishes_the_sweep(ray_session, tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("budget: 40\nseeds: 4\nscore: min:total_cycles\nenvs: [HWResource-v0]\n"
                    "agents: [random]\n")
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "archgym", "sweep", str(path), "--out", str(out),
                             "--num-cpus", "1", "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, RAY_AUTH_MODE="disabled"))
    try:
        for line in proc.stderr:  # the first finished run
            if "[1/4]" in line:
                break
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert "Traceback" not in stderr and "interrupted: the finished runs are saved" in stderr
    rows = read_csv(out / "results.csv")
    assert 1 <= len(rows) < 4 and all(r["error"] == "" for r in rows)
    finished = sorted(p.name for p in (out / "runs").glob("*.json"))
    assert sorted(f"{r['run_id']}.json" for r in rows) == finished

    results = run_sweep(path, out, progress=False, log=None)  # resumes
    assert [r.seed for r in results] == [0, 1, 2, 3]
    assert len(read_csv(out / "results.csv")) == 4
    for result in results:
        alone = agents.train("HWResource-v0", "random", 40, result.seed, score="min:total_cycles")
        assert (result.best_score, result.history) == (alone.best_score, alone.history)


def test_sweep_refuses_ray_settings_when_ray_is_already_running(ray_session, tmp_path):
    with pytest.raises(ValueError, match="Ray is already initialised"):
        run_sweep(spec(), tmp_path / "x", num_cpus=2, progress=False, log=None)
    assert not (tmp_path / "x").exists()
