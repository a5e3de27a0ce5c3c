"""The BookSim-compatible front end (``python -m archgym.noc.booksim`` / ``archgym-booksim``)."""

from __future__ import annotations

import csv
import json
import re
import signal
import subprocess
import sys
import time
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


def test_booksims_default_of_16_vcs_runs(tmp_path):
    config = booksim.to_noc_config(booksim.load([_write(tmp_path, "routing_function = dim_order;")]))
    assert config.num_vcs == 16 <= noc.MAX_VCS


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
    for name in ("uniform", "transpose", "bitcomp", "bitrev", "shuffle", "tornado", "neighbor",
                 "diagonal", "asymmetric", "taper64", "badperm_yarc"):
        assert load(f"traffic={name}").traffic == name
    islip = load("vc_allocator=islip", "sw_allocator=islip")
    assert (islip.vc_allocator, islip.sw_allocator) == ("islip", "islip")
    assert load("injection_process=on_off").injection_process == "on_off"
    # defaults of BookSim that are the only behaviour modelled are accepted when stated
    assert load("router=iq", "arb_type=round_robin", "speculative=0", "internal_speedup=1.0",
                "warmup_thres=0.05", "priority=none", "deadlock_warn_timeout=512").k == 8


def test_router_options_as_booksim_reads_them(base_cfg):
    def load(*overrides):
        return booksim.to_noc_config(booksim.load([str(base_cfg), *overrides]))

    # speculative: any integer, on when positive (BookSim: -1 runs as 0, 2 and 3 as 1)
    assert [load(f"speculative={v}").speculative for v in (-1, 0, 1, 3)] == [False, False, True, True]
    c = load("input_speedup=2", "output_speedup=3", "hold_switch_for_packet=1", "internal_speedup=1.5")
    assert (c.input_speedup, c.output_speedup, c.hold_switch_for_packet) == (2, 3, True)
    assert c.internal_speedup == 1.5
    # internal_speedup below 1 skips router steps (BookSim's runs are unstable); longer
    # pipeline stages are not modelled with it
    with pytest.raises(booksim.ConfigError, match="internal_speedup must be .*got 0.5"):
        load("internal_speedup=0.5")
    with pytest.raises(booksim.ConfigError, match="st_final_delay must be at most 1 with internal_speedup"):
        load("internal_speedup=2.0", "st_final_delay=2")
    # BookSim runs its allocation delays only at 1 (0: its error, more: its assertion)
    for key in booksim.BOOKSIM_UNIT_DELAYS:
        for value in (0, 2):
            with pytest.raises(booksim.ConfigError, match=f"{key} = {value}: BookSim runs only {key} = 1"):
                load(f"{key}={value}")
    # alloc_iters is read by the iterative allocators only (BookSim ignores it elsewhere)
    assert load("alloc_iters=0").alloc_iters == 1
    assert load("vc_allocator=pim", "alloc_iters=3").alloc_iters == 3
    for name in ("separable_output_first", "wavefront", "pim", "select", "loa", "max_size"):
        assert load(f"vc_allocator={name}", f"sw_allocator={name}").sw_allocator == name
    for name in ("none", "class", "age", "network_age", "local_age", "queue_length", "hop_count",
                 "sequence"):
        assert load(f"priority={name}").priority == name
    with pytest.raises(booksim.ConfigError, match="priority.*accepted.*hop_count"):
        load("priority=oldest")
    # arb_type: not read by BookSim's input-queued router (same runs with any string)
    assert load("arb_type=matrix") == load("arb_type=anything") == load()
    # output_buffer_size: no effect at output_speedup 1 (BookSim's runs are the same);
    # with more, archgym's output queues are BookSim's unbounded -1 only
    assert load("output_buffer_size=1") == load()
    assert load("output_speedup=2", "output_buffer_size=-1").output_speedup == 2
    with pytest.raises(booksim.ConfigError, match="output_buffer_size = 4 with output_speedup = 2"):
        load("output_speedup=2", "output_buffer_size=4")
    with pytest.raises(booksim.ConfigError, match="output_buffer_size must be -1"):
        load("output_buffer_size=0")
    # speculation's keys: any value without speculation (BookSim ignores them), else passed on
    assert load("spec_sw_allocator=foo", "spec_check_elig=0", "spec_mask_by_reqs=1") == load()
    spec = load("speculative=1", "spec_sw_allocator=islip", "spec_check_cred=0", "spec_mask_by_reqs=1")
    assert (spec.speculative, spec.spec_sw_allocator, spec.spec_check_elig, spec.spec_check_cred,
            spec.spec_mask_by_reqs) == (True, "islip", True, False, True)
    assert load("speculative=1").spec_sw_allocator == "prio"
    with pytest.raises(booksim.ConfigError, match="unknown spec_sw_allocator 'foo'; accepted: prio"):
        load("speculative=1", "spec_sw_allocator=foo")
    with pytest.raises(booksim.ConfigError, match="BookSim reads spec_check_cred as an integer"):
        load("spec_check_cred=1.0")
    # vct: BookSim's runs are the same with any integer (docs/design/noc.md §5b)
    assert load("vct=1") == load("vct=2") == load()
    with pytest.raises(booksim.ConfigError, match="BookSim reads vct as an integer"):
        load("vct=1.0")


def test_booksim_list_syntax():
    assert booksim.booksim_list("{0,27,36,63}") == ["0", "27", "36", "63"]
    assert booksim.booksim_list("{{0,27},{3,1}}") == ["{0,27}", "{3,1}"]
    assert booksim.booksim_list("{0,5},{3,1}") == ["0", "5"]  # text after the list is dropped
    assert booksim.booksim_list("3") == ["3"] and booksim.booksim_list("") == []


def test_hotspot_reads_as_booksim(base_cfg):
    """BookSim's hotspot parameters, as the oracle showed (pair_stats of the real BookSim2)."""
    def hot(traffic, *more):
        c = booksim.to_noc_config(booksim.load([str(base_cfg), f"traffic={traffic}", *more]))
        return c.traffic, c.hotspot_nodes, c.hotspot_rates

    assert hot("hotspot({0,27,36,63})") == ("hotspot", (0,), (27.0,))  # node 0, rate 27
    assert hot("hotspot({{0,27,36,63}})") == ("hotspot", (0, 27, 36, 63), ())
    assert hot("hotspot({{0,27},{3,1}})") == ("hotspot", (0, 27), (3.0, 1.0))
    assert hot("hotspot({{3,12,5},{2}})") == ("hotspot", (3, 12, 5), (2.0, 2.0, 2.0))  # last rate repeats
    assert hot("hotspot({{0,5},{1.5,1}})")[2] == (1.0, 1.0)  # rates are read as integers
    assert hot("hotspot({0,5},{3,1})") == ("hotspot", (0,), (5.0,))
    assert hot("hotspot(27)") == ("hotspot", (27,), ())
    # a random node (-1, or no parameter): BookSim's start-up draws, whatever the seeds
    assert hot("hotspot")[1] == hot("hotspot()")[1] == hot("hotspot({-1})", "seed=7")[1] == (11,)
    assert hot("hotspot({{-1,-1}})")[1] == (11, 5)
    assert hot("hotspot", "k=4")[1] == (11,) and hot("hotspot", "k=3")[1] == (1,)
    for bad, words in (("hotspot({99})", ["0 to 63", "99"]),
                       ("hotspot({{0,5},{0,1}})", ["rates must be positive"]),
                       ("hotspot({{-1,-1,-1}})", ["at most 2 random"]),
                       ("hotspot({a})", ["hotspot nodes must be integers"]),
                       ("tornado(9)", ["traffic = tornado(9): traffic_radix must be at most k",
                                       "k = 8, got 9"]),
                       ("taper64(1)", ["parameters only for hotspot", "taper64"])):
        with pytest.raises(booksim.ConfigError) as e:
            hot(bad)
        assert all(w in str(e.value) for w in words), str(e.value)


def test_tornado_and_neighbor_take_a_radix(base_cfg):
    """tornado(r) / neighbor(r) shift the n low radix-r digits of the node id; further
    parameters, and those of the bit permutations, are ignored (the oracle's pair_sent
    destinations, tests/data/reference/booksim/traffic/README.md)."""
    def dest(traffic, *more):
        return noc.traffic_destinations(booksim.to_noc_config(booksim.load(
            [str(base_cfg), f"traffic={traffic}", *more]))).tolist()

    assert dest("tornado(2)", "k=4") == [0, 1, 2, 3] * 4
    assert dest("neighbor(2)", "k=4") == [3, 2, 1, 0] * 4
    assert dest("tornado(1)", "k=4") == [0] * 16
    assert dest("tornado(3)")[:12] == dest("neighbor(3)")[:12] == [4, 5, 3, 7, 8, 6, 1, 2, 0, 4, 5, 3]
    assert dest("tornado(4)", "k=4") == dest("tornado(4,1,5)", "k=4") == dest("tornado", "k=4")
    assert dest("tornado(4)", "k=4")[:4] == [5, 6, 7, 4]
    assert dest("tornado(8,1)") == dest("tornado()") == dest("tornado")
    assert dest("transpose(5)") == dest("transpose") and dest("bitrev(3)") == dest("bitrev")


def test_tornado_radix_on_a_dragonfly_is_up_to_its_node_count(base_cfg):
    """BookSim's tornado(r) on a dragonflynew needs r^n x xr = the node count (72 at k = 2:
    tornado(72) shifts the node id by 35); the core's check bounds r by the node count, and
    the front end asks it instead of bounding r by k."""
    dfly = ["topology=dragonflynew", "k=2", "n=1", "routing_function=min", "num_vcs=2"]

    def load(traffic):
        return booksim.to_noc_config(booksim.load([str(base_cfg), *dfly, f"traffic={traffic}"]))

    c = load("tornado(72)")
    assert (c.traffic, c.traffic_radix) == ("tornado", 72)
    assert noc.traffic_destinations(c).tolist() == [(v + 35) % 72 for v in range(72)]
    with pytest.raises(booksim.ConfigError, match=r"^traffic = tornado\(73\): traffic_radix must "
                                                  r"be at most the 72 nodes of this dragonflynew"):
        load("tornado(73)")


@pytest.mark.parametrize("network, nodes", [
    (["topology=dragonflynew", "k=2", "n=1", "routing_function=min", "num_vcs=2"], 72),
    (["topology=cmesh", "k=4", "n=2", "c=4", "x=4", "y=4", "xr=2", "yr=2",
      "routing_function=dor_no_express"], 64),
    (["topology=fly", "k=2", "n=4", "routing_function=dest_tag"], 16),
])
def test_hotspot_node_ids_run_to_the_network_node_count(base_cfg, network, nodes):
    """hotspot({v}) takes every node id of the network (the core's shape_nodes: a
    dragonflynew's k 2k (2k^2 + 1), not k^n = 2) and refuses the next one."""
    def load(hot):
        return booksim.to_noc_config(booksim.load([str(base_cfg), *network, f"traffic=hotspot({{{hot}}})"]))

    assert load(nodes - 1).hotspot_nodes == (nodes - 1,)
    with pytest.raises(booksim.ConfigError, match=f"hotspot nodes must be node ids from 0 to {nodes - 1}"):
        load(nodes)


def test_shape_nodes_is_the_node_count_of_the_network():
    for topology, k, n, c, routing, vcs in [("mesh", 8, 2, 1, "dor", 2), ("torus", 3, 4, 1, "dim_order", 2),
                                           ("fly", 2, 4, 1, "dest_tag", 2), ("fattree", 4, 3, 1, "nca", 4),
                                           ("flatfly", 4, 2, 4, "ran_min", 4), ("cmesh", 4, 2, 4, "dor", 4),
                                           ("dragonflynew", 3, 1, 1, "min", 2)]:
        config = noc.NocConfig(topology=topology, k=k, n=n, c=c, routing_function=routing, num_vcs=vcs)
        assert noc.shape_nodes(topology, k, n, c) == noc.network_shape(config)["nodes"], topology
    with pytest.raises(ValueError, match=r"^k must be an integer between 2 and 32 \(got 33\)$"):
        noc.shape_nodes("mesh", 33, 2)


def test_randperm_is_drawn_from_perm_seed(base_cfg):
    def dest(*more):
        return noc.traffic_destinations(
            booksim.to_noc_config(booksim.load([str(base_cfg), "traffic=randperm", *more]))).tolist()

    assert sorted(dest()) == list(range(64))
    assert dest("seed=1") == dest("seed=2")  # the simulation seed does not change it
    assert dest("perm_seed=1") != dest("perm_seed=2")
    assert dest("traffic=randperm(3)") == dest("perm_seed=3") == dest("traffic=randperm(3)", "perm_seed=1")


@pytest.mark.parametrize("pattern", ["transpose", "bitcomp", "bitrev", "shuffle"])
def test_bit_permutations_need_a_power_of_2(base_cfg, pattern):
    """BookSim refuses its bit permutations on 36 nodes ("require the number of nodes to be a
    power of two")."""
    with pytest.raises(booksim.ConfigError, match="power.of.2"):
        booksim.to_noc_config(booksim.load([str(base_cfg), f"traffic={pattern}", "k=6"]))


def test_on_off_keys(base_cfg):
    config = booksim.to_noc_config(booksim.load([str(base_cfg), "injection_process=on_off",
                                                 "burst_alpha=0.2", "burst_beta=0.1"]))
    assert (config.injection_process, config.burst_alpha, config.burst_beta) == ("on_off", 0.2, 0.1)

    def on_off(*more):
        c = booksim.to_noc_config(booksim.load([str(base_cfg), "injection_process=on_off",
                                                "injection_rate=0.2", *more]))
        return pytest.approx((c.burst_alpha, c.burst_beta))

    # exactly one of alpha, beta, r1 is -1 and follows from rate = r1 * alpha / (alpha + beta)
    assert on_off("burst_alpha=-1.0", "burst_beta=0.2", "burst_r1=0.5") == (0.2 * 0.2 / 0.3, 0.2)
    assert on_off("burst_beta=-1.0", "burst_alpha=0.3", "burst_r1=0.5") == (0.3, 0.3 * 0.3 / 0.2)
    assert on_off("packet_size=4", "burst_alpha=-1.0", "burst_beta=0.2", "burst_r1=0.5") == (
        0.05 * 0.2 / 0.45, 0.2)  # rates per packet
    for bad, words in ((["burst_r1=0.5"], ["exactly one of burst_alpha, burst_beta and burst_r1"]),
                       (["burst_alpha=-1.0", "burst_beta=-1.0"], ["exactly one"]),
                       (["burst_alpha=-1.0", "burst_r1=0.1"], ["burst_r1 = 0.1", "above its packet rate"]),
                       (["burst_beta=-1.0", "burst_alpha=0.9", "burst_r1=0.5"], ["burst_beta", "1.35", "(0, 1]"]),
                       (["burst_beta=-1.0", "burst_r1=0.5", "injection_rate=0.0"], ["burst_beta", "inf"]),
                       (["burst_beta=-1.0", "burst_r1=0.5", "packet_size=0"], ["packet_size must be"])):
        with pytest.raises(booksim.ConfigError) as e:
            on_off(*bad)
        assert all(w in str(e.value) for w in words) and "\n" not in str(e.value), str(e.value)
    # a Bernoulli source ignores them, as BookSim
    assert booksim.to_noc_config(booksim.load([str(base_cfg), "burst_alpha=-1.0"])).burst_alpha == 0.5


def test_every_problem_at_once_network_first(capsys, tmp_path):
    cfg = _write(tmp_path, "topology = qtree; k = 4; n = 2; subnets = 2; xx = 4; xrr = 2;\n"
                           "routing_function = nca_qtree; num_vcs = 40;\n")
    code, out, err = _run_main(capsys, [cfg])
    lines = err.splitlines()
    assert code == 1 and out == "" and len(lines) == 5, err
    assert all(line.startswith("archgym-booksim: error: ") for line in lines)
    assert "topology = qtree is not modelled" in lines[0]
    assert "subnets = 2 is not modelled" in lines[1]
    assert "unknown keys 'xx'" in lines[2] and "'xrr'" in lines[2] and "line 1" in lines[2]
    assert "nca_qtree" in lines[3] and "num_vcs" in lines[4]


@pytest.mark.parametrize("content, words", [
    (b"k = 8;\nrouting_function = dor;\n// caf\xe9\n", ["not UTF-8"]),
    (b"routing_function = dor; traffic = " + b"{" * 10_000 + b"uniform" + b"}" * 10_000 + b";",
     ["nests braces"]),
    (b"routing_function = dor; seed = 9223372036854775808;", ["seed", "64-bit"]),
    (b"routing_function = dor; k = " + b"9" * 5000 + b";", ["'k'", "64-bit"]),
    (b"routing_function = dor; injection_rate = nan;", ["injection_rate must be a number"]),
    (b"routing_function = dor; injection_rate = 1e999;", ["injection_rate", "inf"]),
])
def test_malformed_configs_get_one_line(capsys, tmp_path, content, words):
    path = tmp_path / "bad.cfg"
    path.write_bytes(content)
    code, out, err = _run_main(capsys, [str(path), "num_vcs=4"])
    assert code == 1 and out == "" and err.count("\n") == 1, err
    assert err.startswith("archgym-booksim: error: ") and "Traceback" not in err
    for word in words:
        assert word in err


_INTERRUPTIBLE_RUN = """
import signal
import sys
signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal, even if started with SIGINT ignored
from archgym import noc
from archgym.noc import booksim
print("ready", file=sys.stderr, flush=True)
code = booksim.main(sys.argv[1:])
assert not noc.model._core.cancelled()  # the flag is cleared for the next run
assert noc.measure(noc.NocConfig())["status"] == "ok"
sys.exit(code)
"""


def test_ctrl_c_stops_the_run(base_cfg):
    """SIGINT (Ctrl-C) cancels the C++ run loop: one line, exit 130, and the next run works.

    In a child process, as a user meets it, with Python's own SIGINT handler: a
    test run started in the background (``cmd &``) inherits SIGINT ignored, and
    Python then leaves it ignored."""
    proc = subprocess.Popen([sys.executable, "-c", _INTERRUPTIBLE_RUN, str(base_cfg), "sample_period=10000000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr.readline() == "ready\n"
        time.sleep(0.5)  # into the run: a 10^7-cycle sample period lasts minutes
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert (proc.returncode, out, err) == (130, "", "archgym-booksim: interrupted\n")


@pytest.mark.parametrize("override, words", [
    ("bogus_key=1", ["unknown key 'bogus_key'", "accepted keys:", "routing_function", "vc_buf_size"]),
    # BookSim's reader is typed (acceptance.csv): a literal of the other kind is refused
    ("internal_speedup=2", ["internal_speedup = 2", "BookSim reads internal_speedup as a decimal",
                            "write 2.0"]),
    ("k=4.0", ["k = 4.0", "BookSim reads k as an integer: write 4"]),
    ("traffic=5", ["traffic = 5", "BookSim reads traffic as a name"]),
    ("routing_function=valiant_ni", ["valiant_ni_torus fails", "accepted:", "dim_order_bal"]),
    ("traffic=tornado(0)", ["tornado's radix must be at least 1 (got 0)"]),
    ("traffic=neighbor(a)", ["neighbor's parameter is its radix"]),
    ("traffic=bad_dragon", ["unknown traffic 'bad_dragon'", "accepted:", "shuffle", "taper64"]),
    ("topology=qtree", ["topology = qtree is not modelled", "mesh, torus, fly, anynet, fattree, flatfly",
                        "cmesh"]),
    ("sw_allocator=prio", ["unknown sw_allocator 'prio'", "separable_output_first", "max_size"]),
    ("speculative=yes", ["speculative must be an integer", "'yes'"]),
    ("input_speedup=0", ["input_speedup must be an integer between 1 and 9", "got 0"]),
    ("injection_process=batch", ["unknown injection_process 'batch'", "bernoulli", "on_off"]),
    ("n=11", ["n must be an integer between 1 and 10", "got 11"]),
    ("internal_speedup=0.99", ["internal_speedup must be", "got 0.99"]),
    ("sim_type=batch", ["unknown sim_type 'batch'", "latency, throughput"]),
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


# ------------------------------------------------------ BookSim's examples
def _booksim_summary(text: str) -> dict:
    """The final summary figures of a BookSim2 output (the last of each label)."""
    import re

    def last(label):
        return float(re.findall(rf"^{label} average = (\S+) \(", text, re.M)[-1])

    return {"avg_packet_latency": last("Packet latency"), "avg_hops": last("Hops"),
            "accepted_flit_rate": last("Accepted flit rate")}


def _assert_matches_booksim(code: int, out: str, err: str, booksim_output: Path) -> None:
    """A run that ended ok, its summary within 10% of BookSim's output."""
    assert code == 0, err
    ours = json.loads(out.strip().splitlines()[-1])
    assert ours["status"] == "ok"
    for key, expected in _booksim_summary(booksim_output.read_text()).items():
        assert ours[key] == pytest.approx(expected, rel=0.10), key


@pytest.mark.parametrize("example", ["torus88", "mesh88_lat", "anynet/anynet_config",
                                     "flatflyconfig", "fattree_config", "cmeshconfig"])
def test_examples_match_booksim(capsys, reference_dir, example):
    """BookSim's examples run unchanged (anynet's names its network_file relative to
    its folder, not to ours); its summary within 10% (tests/data/reference/booksim/example_runs)."""
    folder = reference_dir / "booksim"
    code, out, err = _run_main(capsys, [str(folder / "examples" / example)])
    _assert_matches_booksim(code, out, err, folder / "example_runs" / f"{Path(example).name}.out")


def test_dragonfly_example_matches_booksim(capsys, reference_dir):
    """dragonflyconfig (internal_speedup = 2.0, 1,056 nodes at 0.8 flits/node/cycle) unchanged
    but for 1,000-cycle sample periods (BookSim's own 10,000 take it over an hour): its summary
    within 10% (example_runs/dragonflyconfig_sample_period_1000.out)."""
    folder = reference_dir / "booksim"
    code, out, err = _run_main(capsys, [str(folder / "examples" / "dragonflyconfig"), "sample_period=1000"])
    _assert_matches_booksim(code, out, err, folder / "example_runs" / "dragonflyconfig_sample_period_1000.out")


def test_unstable_example_matches_booksim(capsys, reference_dir):
    """singleconfig (one 10-port fly router of 8 VCs: 80-bit VC masks) at offered load 1.0:
    BookSim aborts after its first sample period; so does archgym, with that period's
    latencies and accepted rate within 10% of BookSim's (example_runs/singleconfig.out)."""
    folder = reference_dir / "booksim"
    code, out, err = _run_main(capsys, [str(folder / "examples" / "singleconfig")])
    assert code == 0, err
    ours = json.loads(out.strip().splitlines()[-1])
    text = (folder / "example_runs" / "singleconfig.out").read_text()
    assert "Simulation unstable" in text
    assert ours["status"] == "unstable" and ours["sample_periods"] == 1
    theirs = {"avg_packet_latency": "Packet latency", "avg_network_latency": "Network latency",
              "accepted_flit_rate": "Accepted flit rate"}
    for key, label in theirs.items():
        expected = float(re.findall(rf"^{label} average ?= (\S+)", text, re.M)[-1])
        assert ours[key] == pytest.approx(expected, rel=0.10), key


@pytest.mark.parametrize("rate", ["0.1", "0.3", "0.4"])
def test_16_vcs_on_a_mesh_match_booksim(capsys, reference_dir, rate):
    """5 ports x 16 VCs: 80-bit VC masks (two words); BookSim's summary within 10%
    (tests/data/reference/booksim/wide_vcs, made by its regenerate.sh)."""
    folder = reference_dir / "booksim"
    code, out, err = _run_main(capsys, [str(folder / "booksim_base.cfg"), "num_vcs=16",
                                        f"injection_rate={rate}"])
    _assert_matches_booksim(code, out, err, folder / "wide_vcs" / f"mesh_16vcs_{rate}.out")


# ------------------------------------------------ traffic features vs BookSim
def _traffic_reference(reference_dir) -> dict[str, list[dict]]:
    """tests/data/reference/booksim/traffic/traffic.csv: case -> rows in rising rate."""
    import csv

    cases: dict[str, list[dict]] = {}
    path = reference_dir / "booksim" / "traffic" / "traffic.csv"
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            cases.setdefault(row["case"], []).append(row)
    return cases


def _last_stable(rows, statuses, booksim_latency: bool = False) -> float:
    """The highest ok rate.  With ``booksim_latency`` (BookSim's own points) an ok point past
    half of latency_thres converged by chance at the edge (neighbor(3) at 0.09: 379 cycles,
    archgym 371 and saturated) and is not counted, as in test_noc_fidelity's cube test."""
    return max((float(r["injection_rate"]) for r, s in zip(rows, statuses) if s == "ok"
                and not (booksim_latency and float(r["avg_packet_latency"]) > 250)), default=0.0)


@pytest.fixture(scope="module")
def traffic_runs(reference_dir):
    """Every reference point run through archgym-booksim's mapping (same arguments)."""
    cases = _traffic_reference(reference_dir)
    base = str(reference_dir / "booksim" / "booksim_base.cfg")
    jobs = [(case, row) for case, rows in cases.items() for row in rows]
    configs = [booksim.to_noc_config(booksim.load(
        [base, *row["overrides"].split(), f"injection_rate={row['injection_rate']}"]))
        for _, row in jobs]
    results = noc.measure_many(configs, threads=2)
    ours: dict[str, list[dict]] = {}
    for (case, _), result in zip(jobs, results):
        ours.setdefault(case, []).append(result)
    return cases, ours


def test_traffic_features_agree_with_booksim(traffic_runs):
    """Each traffic feature: latency within 10% at BookSim's stable points below 90% of its
    last stable rate, the last stable rate within 0.02, and the same verdict (ok or not) at
    every rate but the two around BookSim's saturation (its last stable rate and the next).
    randperm: archgym's permutation of a perm_seed is not BookSim's, so its saturation is
    compared as the mean over the perm_seeds."""
    cases, ours = traffic_runs
    perm = {"booksim": [], "ours": []}
    for case, rows in cases.items():
        theirs_status = [r["status"] for r in rows]
        our_status = [o["status"] for o in ours[case]]
        sat = _last_stable(rows, theirs_status, booksim_latency=True)
        for row, o in zip(rows, ours[case]):
            rate = float(row["injection_rate"])
            if row["status"] == "ok" and rate <= 0.9 * sat:
                ref = float(row["avg_packet_latency"])
                assert o["status"] == "ok", (case, rate)
                assert o["avg_packet_latency"] == pytest.approx(ref, rel=0.10), (case, rate)
        if case.startswith("randperm"):
            perm["booksim"].append(sat)
            perm["ours"].append(_last_stable(rows, our_status))
            continue
        assert abs(_last_stable(rows, our_status) - sat) <= 0.02 + 1e-9, (case, theirs_status, our_status)
        boundary = [float(r["injection_rate"]) for r in rows].index(sat)
        for i, (theirs, mine) in enumerate(zip(theirs_status, our_status)):
            if i not in (boundary, boundary + 1):
                assert (mine == "ok") == (theirs == "ok"), (case, rows[i]["injection_rate"], mine)
    assert len(perm["booksim"]) >= 4
    mean = {who: sum(v) / len(v) for who, v in perm.items()}
    assert abs(mean["ours"] - mean["booksim"]) <= 0.02 + 1e-9, perm


# ------------------------------------------------ sim_type = throughput vs BookSim
def test_throughput_mode_agrees_with_booksim(reference_dir):
    """sim_type = throughput (booksim/throughput/throughput.csv, the oracle below and far past
    saturation): no abort, so every point has figures; the same status and number of sample
    periods, the accepted rate within 3% and the packet latency within 10%."""
    import csv

    base = str(reference_dir / "booksim" / "booksim_base.cfg")
    with open(reference_dir / "booksim" / "throughput" / "throughput.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) >= 10 and any(float(r["avg_packet_latency"]) > 500 for r in rows)
    configs = [booksim.to_noc_config(booksim.load(
        [base, *r["overrides"].split(), f"injection_rate={r['injection_rate']}"])) for r in rows]
    assert all(c.sim_type == "throughput" for c in configs)
    for r, o in zip(rows, noc.measure_many(configs, threads=2)):
        where = (r["case"], r["injection_rate"])
        assert o["status"] == r["status"], where
        assert o["sample_periods"] == int(r["sample_periods"]), where
        assert o["accepted_flit_rate"] == pytest.approx(float(r["accepted_flit_rate"]), rel=0.03), where
        assert o["avg_packet_latency"] == pytest.approx(float(r["avg_packet_latency"]), rel=0.10), where


def test_throughput_mode_is_latency_mode_without_abort_nor_drain(base_cfg):
    """Below saturation both modes measure the same packets' latency; past it latency mode
    aborts (unstable) where throughput mode completes with the accepted rate."""
    def run(*more):
        return noc.measure(booksim.to_noc_config(booksim.load([str(base_cfg), *more])))

    low = [run("injection_rate=0.1", f"sim_type={m}") for m in ("latency", "throughput")]
    assert low[0]["status"] == low[1]["status"] == "ok"
    assert low[1]["avg_packet_latency"] == pytest.approx(low[0]["avg_packet_latency"], rel=0.02)
    high = [run("injection_rate=0.6", f"sim_type={m}") for m in ("latency", "throughput")]
    assert high[0]["status"] == "unstable" and high[0]["booksim_result"] == "aborted_latency_thres"
    assert high[1]["status"] == "saturated" and high[1]["booksim_result"] == "completed_converged"
    assert high[1]["avg_packet_latency"] > 500 and 0.35 < high[1]["accepted_flit_rate"] < 0.5


# ------------------------------------------------------------------ acceptance parity
def test_accepts_exactly_what_booksim_runs(base_cfg, reference_dir):
    """acceptance.csv (regenerate_acceptance.py: the real BookSim2 on 746 k-ary n-cube
    configurations, each routing name x num_vcs x n, the router options, the literal kinds):
    archgym-booksim's configuration check accepts those BookSim ran, refuses with one line
    those it refused or failed an assertion on."""
    with open(reference_dir / "booksim" / "acceptance.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) >= 700
    wrong = []
    for row in rows:
        try:
            booksim.to_noc_config(booksim.load([str(base_cfg), *row["overrides"].split()]))
            ours = "ran"
        except booksim.ConfigError as e:
            ours = "refused"
            assert "\n" not in str(e), (row, str(e))
        own = row["overrides"].split(" ", 4)[-1]  # without the tiny run's keys
        if (ours == "ran") != (row["verdict"] == "ran"):
            wrong.append((own, row["verdict"], row["message"], ours))
    assert not wrong, wrong


def test_settings_without_effect_run_as_booksim(base_cfg, reference_dir):
    """no_effect.csv (regenerate_no_effect.py: the real BookSim2): settings whose variants
    give BookSim the same run (vct; spec_check_elig = 0 against no speculation;
    spec_mask_by_reqs under prio) give archgym the same run too."""
    with open(reference_dir / "booksim" / "no_effect.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) >= 13 and all(r["same"] == "yes" for r in rows)
    short = ["warmup_periods=1", "sample_period=500", "max_samples=3"]
    for row in rows:
        configs = [booksim.to_noc_config(booksim.load([str(base_cfg), *short, *row["base"].split(),
                                                       *variant.split()]))
                   for variant in row["variants"].split("|")]
        if all(c == configs[0] for c in configs):
            continue  # the same configuration (vct)
        runs = [noc.measure(c) for c in configs]
        assert all(r == runs[0] for r in runs), row
