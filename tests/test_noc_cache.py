"""The NoC envs' on-disk cache of measurements (archgym.envs.noc_cache)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from archgym import noc
from archgym.envs import noc_cache
from archgym.envs import noc_routing as nr

FAST = {"rates": (0.1, 0.3), "warmup_periods": 1, "sample_period": 300, "max_samples": 4, "seed": 9}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(noc_cache.ENV_VAR, str(tmp_path / "cache"))
    nr.clear_cache()
    yield noc_cache.cache_dir()
    nr.clear_cache()


def _forbid_measuring(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("measured although the disk cache holds every point")
    monkeypatch.setattr(noc, "measure_many", refuse)


def test_second_start_reads_the_disk(cache, monkeypatch):
    first = nr.NoCRoutingEnv(**FAST).latency_table()
    files = sorted(cache.glob("*.json"))
    assert cache.parent.name == "cache" and cache.name.startswith("noc-")
    assert len(files) == first.size == 2 * 4  # one file per (rate, routing) point
    nr.clear_cache()  # a new process: nothing in memory
    _forbid_measuring(monkeypatch)
    np.testing.assert_array_equal(nr.NoCRoutingEnv(**FAST).latency_table(), first)


def test_key_covers_every_config_field(cache):
    base = nr.NoCRoutingEnv(**FAST).point_config(0, 0)
    other = nr.NoCRoutingEnv(**{**FAST, "seed": 10}).point_config(0, 0)
    assert noc_cache._path(base, None) != noc_cache._path(other, None)
    assert noc_cache._path(base, None) == noc_cache._path(nr.NoCRoutingEnv(**FAST).point_config(0, 0), None)
    # a fixed-horizon run of the same network is another measurement
    assert noc_cache._path(base, None) != noc_cache._path(base, 20_000)
    assert noc_cache._path(base, 20_000) != noc_cache._path(base, 10_000)


def test_a_damaged_file_is_measured_again(cache):
    first = nr.NoCRoutingEnv(**FAST).latency_table()
    victim = sorted(cache.glob("*.json"))[0]
    victim.write_text('{"avg_packet_lat')  # a torn write from some other tool
    nr.clear_cache()
    np.testing.assert_array_equal(nr.NoCRoutingEnv(**FAST).latency_table(), first)
    json.loads(victim.read_text())  # rewritten whole


def test_an_unwritable_folder_warns_and_runs_from_memory(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(noc_cache.ENV_VAR, str(blocker))
    monkeypatch.setattr(noc_cache, "_warned", False)
    nr.clear_cache()
    with pytest.warns(RuntimeWarning, match="cannot write the NoC cache"):
        table = nr.NoCRoutingEnv(**FAST).latency_table()
    assert table.shape == (1, 2, 4)
    nr.clear_cache()


def test_clear_deletes_the_stored_points(cache):
    nr.NoCRoutingEnv(**FAST).latency_table()
    assert any(cache.glob("*.json"))
    nr.clear_cache(disk=True)
    assert not cache.exists()


def test_concurrent_processes_leave_whole_files(cache):
    code = textwrap.dedent(f"""
        from archgym.envs import noc_routing as nr
        print(nr.NoCRoutingEnv(**{FAST!r}).latency_table().tolist())
    """)
    env = {**os.environ, noc_cache.ENV_VAR: str(cache.parent)}
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
             for _ in range(3)]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs) and len(set(outs)) == 1
    files = sorted(cache.glob("*"))
    assert len(files) == 8 and all(f.suffix == ".json" for f in files)  # no temporary file left
    assert all(isinstance(json.loads(f.read_text()), dict) for f in files)
