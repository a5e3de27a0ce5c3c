"""The BookSim-compatible front end (``python -m archgym.noc.booksim`` / ``archgym-booksim``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import archgym
from archgym import noc
from archgym.noc import booksim


BASE_ROW = {"avg_packet_latency": 33.3564, "avg_network_latency": 33.3564, "avg_hops": 6.2527,
            "accepted_flit_rate": 0.0197396}  # curves.csv: uniform, dor, ps 1, 4 VCs, 0.02


@pytest.fixture
def base_cfg(reference_dir) -> Path:
    path = reference_dir / "booksim" / "booksim_base.cfg"
    assert path.is_file(), f"reference data incomplete: {path} is missing"
    return path


def _write(tmp_path: Path, text: str, name: str = "net.cfg") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _run_main(capsys, args):
    code = booksim.main(args)
    out, err = capsys.readouterr()
    return code, out, err


# ------------------------------------------------------------------ syntax
def test_parse_statements_comments_and_lines():
    text = ("// a comment line\n"
            "topology = mesh;   // trailing comment\n"
            "k=4; num_vcs =\n  2;\n"
            "injection_rate = .25; latency_thres = 5e2;\n"
            "internal_speedup = 1.0;\n"
            "injection_rate_uses_flits = {1};\n"
            "routing_function = dim_order\n")  # the last ';' may be left out
    items = booksim.parse_text(text)
    assert [(k, v) for k, v, _ in items] == [
        ("topology", "mesh"), ("k", 4), ("num_vcs", 2), ("injection_rate", 0.25),
        ("latency_thres", 500.0), ("internal_speedup", 1.0), ("injection_rate_uses_flits", 1),
        ("routing_function", "dim_order")]
    assert [line for _, _, line in items] == [2, 3, 3, 5, 5, 6, 7, 8]
    assert isinstance(items[1][1], int) and isinstance(items[3][1], float)


@pytest.mark.parametrize("text, line, words", [
    ("k = 8\nn = 2;", 1, ["missing ';'", "'k'"]),
    ("k = 8;\n\nrouting_function dor;", 3, ["expected 'key = value;'"]),
    ("k = ;", 1, ["missing value", "'k"]),
    ("traffic = hot spot;", 1, ["traffic", "hot spot"]),
    ("injection_rate = {0.1, 0.2};", 1, ["injection_rate", "one class"]),
])
def test_parse_errors_name_the_line_and_key(text, line, words):
    with pytest.raises(booksim.ConfigError) as e:
        booksim.parse_text(text, source="x.cfg")
    assert f"x.cfg:line {line}:" in str(e.value)
    for word in words:
        assert word in str(e.value)


def test_overrides_apply_in_order(tmp_path):
    cfg = _write(tmp_path, "routing_function = dor; k = 8; injection_rate = 0.02;\n")
    other = _write(tmp_path, "k = 6; // second file\n", "other.cfg")
    settings = booksim.load([cfg, "injection_rate=0.1", "k = 4;", "injection_rate=0.3"])
    assert settings["injection_rate"] == 0.3 and settings["k"] == 4
    assert booksim.load([cfg, "k=4", other])["k"] == 6  # a later file overrides too
    assert booksim.load([cfg])["injection_rate"] == 0.02


def test_absent_keys_take_booksim_defaults(tmp_path):
    cfg = _write(tmp_path, "routing_function = dim_order;")
    config = booksim.to_noc_config(booksim.load([cfg, "num_vcs=8"]))
    # BookSim's built-in defaults, not archgym's reference configuration
    assert (config.topology, config.k, config.num_vcs, config.vc_buf_size) == ("torus", 8, 8, 8)
    assert (config.vc_allocator, config.sw_allocator) == ("islip", "islip")
    assert (config.credit_delay, config.routing_delay, config.st_final_delay) == (0, 1, 1)
    assert config.injection_rate == 0.1 and config.injection_rate_uses_flits is False
    assert (config.warmup_periods, config.sample_period, config.max_samples) == (3, 1000, 10)
    assert config.seed == 0 and config.latency_thres == 500.0


def test_error_from_an_absent_key_says_it_is_booksims_default(tmp_path):
    # BookSim's default of 16 VCs is beyond the core's limit (archgym.noc.MAX_VCS)
    with pytest.raises(booksim.ConfigError) as e:
        booksim.to_noc_config(booksim.load([_write(tmp_path, "routing_function = dor;")]))
    assert "num_vcs" in str(e.value) and "BookSim's default num_vcs = 16" in str(e.value)


def test_base_config_maps_every_key(base_cfg):
    config = booksim.to_noc_config(booksim.load([str(base_cfg)]))
    assert config == noc.NocConfig(
        topology="mesh", k=8, num_vcs=4, vc_buf_size=8, routing_function="dor", traffic="uniform",
        packet_size=1, injection_rate=0.02, injection_rate_uses_flits=True,
        injection_process="bernoulli", routing_delay=1, vc_alloc_delay=1, sw_alloc_delay=1,
        st_final_delay=1, credit_delay=1, vc_allocator="separable_input_first",
        sw_allocator="separable_input_first", warmup_periods=3, sample_period=1000,
        max_samples=10, latency_thres=500.0, seed=42)


def test_keys_are_the_core_fields():
    """The front end passes BookSim keys to the NocConfig fields of the same names, whose
    types and accepted values come from the core (archgym.noc.CONFIG_FIELDS)."""
    fields = {f["name"] for f in noc.CONFIG_FIELDS}
    assert set(booksim.MAPPED) <= fields and set(booksim.EXTENSIONS) <= fields
    assert set(booksim.MAPPED) <= set(booksim.BOOKSIM_DEFAULTS)
    assert not set(booksim.EXTENSIONS) & set(booksim.BOOKSIM_DEFAULTS)


def test_booksim_names(base_cfg):
    def load(*overrides):
        return booksim.to_noc_config(booksim.load([str(base_cfg), *overrides]))

    for name in ("dor", "dim_order", "xy_yx", "adaptive_xy_yx", "min_adapt", "romm", "valiant"):
        assert load(f"routing_function={name}").routing_function == name
    for name in ("uniform", "transpose", "bitcomp", "bitrev", "shuffle", "tornado", "neighbor"):
        assert load(f"traffic={name}").traffic == name
    islip = load("vc_allocator=islip", "sw_allocator=islip")
    assert (islip.vc_allocator, islip.sw_allocator) == ("islip", "islip")
    assert load("injection_process=on_off").injection_process == "on_off"
    # defaults of BookSim that are the only behaviour modelled are accepted when stated
    assert load("router=iq", "arb_type=round_robin", "speculative=0", "internal_speedup=1",
                "warmup_thres=0.05", "priority=none", "deadlock_warn_timeout=512").k == 8


def test_parameterised_hotspot_and_on_off(base_cfg):
    def load(*overrides):
        return booksim.to_noc_config(booksim.load([str(base_cfg), *overrides]))

    config = load("traffic = hotspot({3, 12},{2});")  # BookSim repeats the last rate
    assert (config.traffic, config.hotspot_nodes, config.hotspot_rates) == ("hotspot", (3, 12), (2.0, 2.0))
    assert load("traffic=hotspot({27})").hotspot_nodes == (27,)
    assert load("traffic=hotspot").hotspot_nodes == ()  # the core's default: the centre node
    config = load("injection_process=on_off", "burst_alpha=0.2", "burst_beta=0.1")
    assert (config.injection_process, config.burst_alpha, config.burst_beta) == ("on_off", 0.2, 0.1)
    for bad, words in (("traffic=randperm(3)", ["only hotspot takes parameters"]),
                       ("traffic=hotspot({-1})", ["negative (random) hotspot nodes"]),
                       ("traffic=hotspot({99})", ["hotspot_nodes", "63"]),
                       ("burst_r1=0.5", ["burst_r1 = 0.5", "burst_r1 = -1.0"])):
        with pytest.raises(booksim.ConfigError) as e:
            load(bad)
        assert all(w in str(e.value) for w in words), str(e.value)


@pytest.mark.parametrize("override, words", [
    ("bogus_key=1", ["unknown key 'bogus_key'", "accepted keys:", "routing_function", "vc_buf_size"]),
    ("routing_function=planar_adapt", ["unknown routing_function 'planar_adapt'", "accepted:", "min_adapt", "valiant"]),
    ("traffic=diagonal", ["unknown traffic 'diagonal'", "accepted:", "shuffle", "bitrev"]),
    ("topology=fly", ["unknown topology 'fly'", "accepted:", "mesh"]),
    ("vc_allocator=wavefront", ["unknown vc_allocator 'wavefront'", "separable_input_first", "islip"]),
    ("injection_process=batch", ["unknown injection_process 'batch'", "bernoulli", "on_off"]),
    ("n=4", ["n must be an integer between 1 and 3", "got 4"]),
    ("alloc_iters=2", ["alloc_iters = 2", "default alloc_iters = 1"]),
    ("sim_type=throughput", ["sim_type = throughput", "sim_type = latency"]),
    ("router=event", ["router = event", "router = iq"]),
    ("seed=time", ["seed = time", "integer seed"]),
    ("k=eight", ["k must be an integer", "'eight'"]),
    ("injection_rate_uses_flits=2", ["injection_rate_uses_flits must be 0 or 1"]),
])
def test_errors_name_the_key_and_list_accepted(capsys, base_cfg, override, words):
    code, out, err = _run_main(capsys, [str(base_cfg), override])
    assert code == 1 and out == ""
    assert err.startswith("archgym-booksim: error: ") and err.count("\n") == 1
    for word in words:
        assert word in err


def test_routing_function_is_required(capsys, tmp_path):
    code, _, err = _run_main(capsys, [_write(tmp_path, "topology = mesh;")])
    assert code == 1 and "routing_function is required" in err and "dor" in err


def test_missing_file_and_no_file(capsys, tmp_path):
    code, _, err = _run_main(capsys, [str(tmp_path / "nope.cfg")])
    assert code == 1 and "cannot read configuration file" in err and "nope.cfg" in err
    code, _, err = _run_main(capsys, ["k=8"])
    assert code == 1 and "configuration file is required" in err


def test_simulator_range_errors_are_config_errors(capsys, base_cfg):
    code, _, err = _run_main(capsys, [str(base_cfg), "injection_rate=1.5"])
    assert code == 1 and "injection_rate" in err
    code, _, err = _run_main(capsys, [str(base_cfg), "k=1"])
    assert code == 1 and "k" in err


def test_help(capsys):
    code, out, _ = _run_main(capsys, ["--help"])
    assert code == 0 and out.startswith("usage: archgym-booksim")


# ------------------------------------------------------------ end to end
def test_base_config_matches_booksim_reference_row(capsys, base_cfg):
    code, out, err = _run_main(capsys, [str(base_cfg)])
    assert code == 0, err
    lines = out.strip().splitlines()
    result = json.loads(lines[-1])
    assert result["status"] == "ok"
    for key, expected in BASE_ROW.items():
        assert result[key] == pytest.approx(expected, rel=0.10), key
    # BookSim's summary lines, with the same figures as the JSON
    text = "\n".join(lines[:-1])
    assert f"Time taken is {result['total_cycles']} cycles" in text
    for label, key in (("Packet latency", "avg_packet_latency"), ("Network latency", "avg_network_latency"),
                       ("Flit latency", "avg_flit_latency"), ("Hops", "avg_hops"),
                       ("Accepted flit rate", "accepted_flit_rate"),
                       ("Injected flit rate", "injected_flit_rate")):
        assert f"{label} average = {result[key]:g} (1 samples)" in text
    # the front end is measure() of the mapped configuration, nothing more
    expected = noc.measure(booksim.to_noc_config(booksim.load([str(base_cfg)])))
    assert result == json.loads(booksim.json_line(dict(expected)))


def test_unstable_run(capsys, base_cfg):
    # BookSim aborts uniform/dor at 0.46 ("Simulation unstable"); well past it here.
    code, out, _ = _run_main(capsys, [str(base_cfg), "injection_rate=0.6"])
    assert code == 0
    lines = out.strip().splitlines()
    assert "Simulation unstable, ending ..." in lines
    assert json.loads(lines[-1])["status"] == "unstable"


def test_command_line_one_process(base_cfg, tmp_path):
    def run(*args):
        return subprocess.run([sys.executable, "-m", "archgym.noc.booksim", *args], capture_output=True,
                              text=True, cwd=tmp_path, timeout=120, check=False,
                              env={"PYTHONPATH": str(Path(archgym.__file__).resolve().parents[1]),
                                   "PATH": "/usr/bin:/bin"})

    done = run(str(base_cfg), "traffic=neighbor", "injection_rate=0.05")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    # neighbor: 1 link per dimension, or 7 back from x (y) = 7: 3.5 links + 1 router on average
    assert result["status"] == "ok" and result["avg_hops"] == pytest.approx(4.5, abs=0.1)
    bad = run(str(base_cfg), "rooting_function=dor")
    assert bad.returncode == 1 and "unknown key 'rooting_function'" in bad.stderr
    assert "Traceback" not in bad.stderr and bad.stdout == ""
