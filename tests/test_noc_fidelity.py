"""Fidelity of archgym.noc against the real BookSim2 (tests/data/reference/booksim).

A subset of the comparison that benchmarks/bench_noc.py runs in full (every
curve): latency at low and mid load for every routing and pattern, packet
sizes 1 and 4, 4 and 2 VCs, both allocators; the saturation point of a few
curves; instability where BookSim aborted.  Same configuration and seed value
as BookSim, different random streams, so the figures differ by seed noise only.
Tolerances are those of issue 3 (10% latency at stable points below 90% of
saturation, last stable rate within 0.02) plus a mean-error bound.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict

import pytest

from archgym import noc


def load(reference_dir, name: str, allocator: str) -> dict:
    curves = defaultdict(list)
    with open(reference_dir / "booksim" / name, newline="") as fh:
        for r in csv.DictReader(fh):
            key = (allocator, r["pattern"], r["routing"], int(r["packet_size"]), int(r["num_vcs"]))
            curves[key].append((float(r["injection_rate"]), r["status"],
                                float(r["avg_packet_latency"]) if r["avg_packet_latency"] else math.nan))
    for pts in curves.values():
        pts.sort()
    return curves


@pytest.fixture(scope="module")
def curves(reference_dir):
    out = load(reference_dir, "curves.csv", "separable_input_first")
    out.update(load(reference_dir, "curves_islip.csv", "islip"))
    return out


def config(key, rate) -> noc.NocConfig:
    alloc, pattern, routing, ps, vcs = key
    return noc.NocConfig(traffic=pattern, routing_function=routing, packet_size=ps, num_vcs=vcs,
                         injection_rate=rate, vc_allocator=alloc, sw_allocator=alloc)


def last_stable(points) -> float:
    return max(rate for rate, status, _ in points if status == "ok")


SEP = "separable_input_first"
LATENCY_CURVES = (
    [(SEP, "uniform", r, 1, 4) for r in ("dor", "min_adapt", "xy_yx", "adaptive_xy_yx", "romm",
                                         "valiant")]
    + [(SEP, "transpose", r, 1, 4) for r in ("dor", "adaptive_xy_yx", "romm")]
    + [(SEP, "bitrev", "xy_yx", 4, 4), (SEP, "shuffle", "min_adapt", 4, 2),
       (SEP, "shuffle", "dor", 1, 2), (SEP, "transpose", "valiant", 4, 2),
       ("islip", "uniform", "min_adapt", 1, 4), ("islip", "bitrev", "romm", 1, 4)]
)


def _assert_latencies_match(jobs, configs, mean_below):
    """Each (key, rate, BookSim's latency) job, run as its config, is stable and within 10%
    of BookSim; the mean error is below ``mean_below``."""
    ours = noc.measure_many(configs, threads=2)
    errors = []
    for (key, rate, ref), o in zip(jobs, ours):
        err = abs(o["avg_packet_latency"] - ref) / ref
        errors.append(err)
        assert o["status"] == "ok", (key, rate, o["status"])
        assert err <= 0.10, (key, rate, ref, o["avg_packet_latency"])
    assert sum(errors) / len(errors) < mean_below


def test_latency_at_low_and_mid_load(curves):
    """Packet latency within 10% at 0.02 and ~50% / ~80% of saturation; mean error < 2%."""
    jobs = []
    for key in LATENCY_CURVES:
        pts = [p for p in curves[key] if p[1] == "ok"]
        sat = last_stable(curves[key])
        for frac in (0.0, 0.5, 0.8):
            rate, _, lat = min(pts, key=lambda p: abs(p[0] - max(0.02, frac * sat)))
            jobs.append((key, rate, lat))
    _assert_latencies_match(jobs, [config(k, rate) for k, rate, _ in jobs], mean_below=0.02)


@pytest.mark.parametrize("key", [(SEP, "transpose", "dor", 1, 4), (SEP, "uniform", "romm", 1, 4),
                                 ("islip", "uniform", "min_adapt", 1, 4)])
def test_saturation_rate_within_0_02(curves, key):
    """Our last stable rate over the reference's rates near saturation is within 0.02 of BookSim's."""
    ref_sat = last_stable(curves[key])
    rates = [r for r, _, _ in curves[key] if ref_sat - 0.045 <= r <= ref_sat + 0.045]
    ours = noc.measure_many([config(key, r) for r in rates], threads=2)
    ok = [r for r, o in zip(rates, ours) if o["status"] == "ok"]
    assert ok, (key, [o["status"] for o in ours])
    assert abs(max(ok) - ref_sat) <= 0.02 + 1e-9, (key, ref_sat, dict(zip(rates, ok)))


def test_unstable_where_booksim_aborted(curves):
    cases = [((SEP, "uniform", "dor", 1, 4), 0.46), ((SEP, "transpose", "valiant", 1, 4), 0.22),
             ((SEP, "shuffle", "dor", 1, 2), 0.2), ((SEP, "bitrev", "romm", 1, 4), 0.26)]
    for key, rate in cases:
        assert {r: s for r, s, _ in curves[key]}[rate] == "unstable"
    ours = noc.measure_many([config(k, r) for k, r in cases], threads=2)
    assert [o["status"] for o in ours] == ["unstable"] * len(cases)


def test_hops_and_zero_load_match_reference(reference_dir):
    """avg_hops at 0.02 (routers traversed) from saturation.csv, for every curve of uniform ps1."""
    with open(reference_dir / "booksim" / "saturation.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["pattern"] in ("transpose", "bitrev", "shuffle")
                and r["packet_size"] == "1" and r["num_vcs"] == "4"
                and r["allocator"] == SEP and r["routing"] != "valiant"]
    ours = noc.measure_many([config((SEP, r["pattern"], r["routing"], 1, 4), 0.02) for r in rows],
                            threads=2)
    for r, o in zip(rows, ours):
        # the mean over ~1,300 sampled packets: a few hundredths of sampling noise
        assert o["avg_hops"] == pytest.approx(float(r["hops_at_0.02"]), abs=0.1), r
        assert o["avg_packet_latency"] == pytest.approx(float(r["latency_at_0.02"]), rel=0.02), r


# ----------------------------------------------------------------- k-ary n-cubes
# cubes.csv: the real BookSim2 on tori, rings, lines and 3-D networks
# (tests/data/reference/booksim/regenerate_cubes.py; docs/design/noc.md §14).
CUBE_KEY = ("topology", "k", "n", "pattern", "routing", "packet_size", "num_vcs", "options")


def read_curves(path) -> dict[tuple, list[tuple[float, str, float]]]:
    """A curves file (cubes.csv, topologies.csv): per CUBE_KEY, its (rate, status,
    latency) points in rate order."""
    curves = defaultdict(list)
    with open(path, newline="") as fh:
        for r in csv.DictReader(fh):
            curves[tuple(r[f] for f in CUBE_KEY)].append(
                (float(r["injection_rate"]), r["status"],
                 float(r["avg_packet_latency"]) if r["avg_packet_latency"] else math.nan))
    for pts in curves.values():
        pts.sort()
    return curves


@pytest.fixture(scope="module")
def cubes(reference_dir):
    return read_curves(reference_dir / "booksim" / "cubes.csv")


def cube_config(key, rate) -> noc.NocConfig:
    topology, k, n, pattern, routing, ps, vcs, options = key
    types = {f["name"]: f["type"] for f in noc.CONFIG_FIELDS}
    extra = {name: types[name](value) if types[name] in (str, float) else types[name](int(value))
             for name, value in (o.split("=") for o in options.split())}
    return noc.NocConfig(topology=topology, k=int(k), n=int(n), traffic=pattern,
                         routing_function=routing, packet_size=int(ps), num_vcs=int(vcs),
                         injection_rate=rate, **extra)


def test_cube_latency_within_10_percent(cubes):
    """Every curve: latency at 0.02 and near 70% of BookSim's last stable rate within 10%."""
    jobs = []
    for key, pts in cubes.items():
        sat = last_stable(pts)
        ok = [p for p in pts if p[1] == "ok" and p[0] <= 0.9 * sat]
        for frac in (0.0, 0.7):
            rate, _, lat = min(ok, key=lambda p: abs(p[0] - max(0.02, frac * sat)))
            if (key, rate, lat) not in jobs:
                jobs.append((key, rate, lat))
    _assert_latencies_match(jobs, [cube_config(k, rate) for k, rate, _ in jobs], mean_below=0.03)


# Curves whose saturation archgym does not reproduce (docs/design/noc.md §14): romm_ni on a
# 2x2 mesh, BookSim's last stable rate 0.84 (0.85 saturated, 0.86 unstable), archgym's 0.86+.
SATURATION_MISSES = {("mesh", "2", "2", "uniform", "romm_ni", "1", "8", "sample_period=10000")}


def test_cube_saturation_within_0_02(cubes):
    """Every curve: ok 0.02 below BookSim's last stable rate, not ok past 0.02 above it.
    BookSim's last stable rate ignores `ok` points whose latency is past half of latency_thres:
    those converged by chance at the abort threshold (the 8x8 torus, 4-flit packets,
    wait_for_tail_credit: ok at 0.32 with 459 cycles; 0.30 gives 123 there and 122 here)."""
    jobs = []
    for key, pts in cubes.items():
        if key in SATURATION_MISSES:
            continue
        sat = max(r for r, s, lat in pts if s == "ok" and lat <= 250)
        below = max(r for r, s, _ in pts if s == "ok" and r <= sat - 0.02 + 1e-9)
        above = [r for r, s, _ in pts if s != "ok" and r >= sat + 0.02 - 1e-9]
        jobs.append((key, below, True))
        if above:
            jobs.append((key, min(above), False))
    ours = noc.measure_many([cube_config(k, rate) for k, rate, _ in jobs], threads=2)
    for (key, rate, stable), o in zip(jobs, ours):
        assert (o["status"] == "ok") == stable, (key, rate, o["status"])


def test_cube_verdicts_as_booksim(reference_dir):
    """archgym runs the routing/topology/VC combinations BookSim runs and refuses the others."""
    with open(reference_dir / "booksim" / "cubes_verdicts.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) >= 40
    for r in rows:
        try:
            noc.NocConfig(topology=r["topology"], k=int(r["k"]), n=int(r["n"]),
                          routing_function=r["routing"], num_vcs=int(r["num_vcs"]))
            verdict = "ok"
        except ValueError:
            verdict = "error"
        assert verdict == r["verdict"], r
