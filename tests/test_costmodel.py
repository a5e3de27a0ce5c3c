"""Tests of archgym.costmodel against computations that do not use the engine.

Every expected value here is derived by hand (or by a few lines of Python in
this file) from the algorithm's design document, docs/design/costmodel.md;
"§n" below refers to its sections.  The comparison with the reference MAESTRO
CSV files lives elsewhere and is deliberately not repeated here.

Sections of this file:
  1. §10 worked examples, number by number.
  2. §8 closed forms for Num MACs and tensor-size / runtime / area invariants
     on random layers.
  3. The maestro2020 and maestro2021 constant presets (§7, §9).
  4. The ``compat`` flag (output L1 tile, energy terms).
  5. Degenerate rows (§7).
  6. Input validation.
  7. A fuzz test over random user dataflows and hardware (also run under
     ASan/UBSan in CI).
  8. The batch API (mixed dataflows, per-row hardware/constants, threads).
  9. Named columns (BatchEvaluator) and the fields, defaults and limits the
     core exports.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
import threading
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archgym import costmodel as cm

# ConfuciuX's action space (tests/data/reference/maestro/README.md).
CONFUCIUX_PES = (1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128)
INT64_MIN = -(2**63)
DATAFLOW_NAMES = ("dla", "shi", "eye", "dpt")

# Constant tables written from §7 (HEAD = maestro2021) and §9 (maestro2020).
SPEC_CONSTANTS = {
    "maestro2021": {"e_mac": 0.00023, "a_mac": 283.0, "p_mac": 1.2223,
                    "unit1": 1.0, "a1": 0.104, "p1": 0.00345,
                    "unit2": 1.0, "a2": 0.104, "p2": 0.00345},
    "maestro2020": {"e_mac": 0.904, "a_mac": 4470.9014, "p_mac": 1.2223,
                    "unit1": 64.0, "a1": 4505.1889, "p1": 0.2208,
                    "unit2": 32768.0, "a2": 4161.536, "p2": 4.0},
}

_HYPO = settings(deadline=None, database=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def hypo(max_examples: int) -> settings:
    """Hypothesis settings: no deadline, no example database in the repository."""
    return settings(_HYPO, max_examples=max_examples)


# ----------------------------------------------------------------- helpers
def run(df: str, layer: cm.Layer, P: int, B: int, preset: str = "maestro2021",
        compat: bool = True, **hw) -> dict:
    """One ConfuciuX-style evaluation (ClusterSz = P, KTileSz = B, CTileSz = 1)."""
    return cm.evaluate(layer, cm.DATAFLOWS[df], cm.Hardware(num_pes=P, **hw),
                       constants=cm.confuciux_constants(pes=P, tile=B), preset=preset,
                       compat=compat)


def tdiv(a: int, b: int) -> int:
    """C++ integer division (truncates toward zero), §0."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def g6(x: float) -> str:
    """C++ default stream output: 6 significant digits (§7 Formatting)."""
    return f"{x:g}"


def in_degenerate_window(df: str, Y: int, X: int, R: int, S: int, P: int) -> bool:
    """The degenerate windows of §7 (eye and shi only)."""
    if df == "eye":
        return P <= Y <= P + R - 2 or S <= X <= 2 * S - 2
    if df == "shi":
        return R <= Y <= 2 * R - 2 or P <= X <= P + S - 2
    return False


def spec_macs(df: str, K: int, C: int, Y: int, X: int, R: int, S: int, P: int, B: int) -> int:
    """Num MACs from the closed forms of §8, stated outside the §7 degenerate windows.

    dla: exact, K·C·Y'·X'·R·S.  eye: K·C·Y·X'·R·S when P does not divide Y' and
    Y > P+R-1, else exact.  shi: K·C·Y·X'·R·S when R does not divide Y' and Y > 2R-1,
    else exact.  dpt (depthwise): with C > B·P, q = ((C-B)÷B + 1)÷P - 1 and
    ρ = C - (q+1)·B·P, (C-B)·Y'·X'·R·S when ρ > B and B does not divide ρ, else
    C·Y'·X'·R·S.
    """
    Yp, Xp = Y - R + 1, X - S + 1
    if df == "dla":  # exact
        return K * C * Yp * Xp * R * S
    if df == "eye":  # over-count: Y rows instead of Y' when P does not divide Y' and Y > P+R-1
        rows = Y if (Yp % P != 0 and Y > P + R - 1) else Yp
        return K * C * rows * Xp * R * S
    if df == "shi":  # over-count: same quirk with S(2R-1, R) over Y
        rows = Y if (Yp % R != 0 and Y > 2 * R - 1) else Yp
        return K * C * rows * Xp * R * S
    if df == "dpt":  # depthwise; under-count (C-B) under the §8 condition
        if C > B * P:
            q = tdiv(tdiv(C - B, B) + 1, P) - 1
            rho = C - (q + 1) * B * P
            if rho > B and rho % B != 0:
                return (C - B) * Yp * Xp * R * S
        return C * Yp * Xp * R * S
    raise AssertionError(df)


def spec_cells(size: int, unit: float) -> float:
    """cells(s, unit) of §7: ceil(s/unit) in floating point, 1 if it is 0 (negative stays)."""
    c = float(math.ceil(size / unit))
    return 1.0 if c == 0 else c


def spec_area_power(preset: str, P: int, vw: int, bw: int, L1: int, L2: int) -> dict:
    """Area and power, written from the §7 text (constants from §7 / §9)."""
    k = SPEC_CONSTANTS[preset]
    c1, c2 = spec_cells(L1, k["unit1"]), spec_cells(L2, k["unit2"])
    beta = 14.662 * P + 28.895                      # bus scaling
    alpha = 1.2886 * P * P + 5.5814 * P - 23.711    # arbiter scaling
    area = (P * (k["a_mac"] * vw + k["a1"] * c1) + k["a2"] * c2 + 101.7938 * beta * bw
            + max(395.473, 395.473 * alpha))
    pe = P * k["p_mac"] * vw
    l1 = P * k["p1"] * c1
    l2 = k["p2"] * c2
    noc = 0.8 * beta / 1000 * bw + max(0.34, 0.34 * alpha / 1000)
    return {"area": area, "pe_power": pe, "l1_power": l1, "l2_power": l2, "noc_power": noc,
            "power": pe + l1 + l2 + noc}


def spec_energy_terms(preset: str, r: dict) -> dict:
    """The §7 energy terms recomputed from the reported counters (Python ints)."""
    e = SPEC_CONSTANTS[preset]["e_mac"]
    l2 = (r["input_l2_read"] + r["input_l2_write"] + r["filter_l2_read"]
          + r["filter_l2_write"] + r["output_l2_write"])  # output L2 read never counts
    l1 = sum(r[f"{t}_l1_{a}"] for t in ("input", "filter", "output") for a in ("read", "write"))
    return {"energy_l2": e * (18.61 * l2), "energy_l1": e * (1.68 * l1),
            "energy_mac": e * r["macs"], "l2": l2, "l1": l1, "e": e}


def close(a: float, b: float, rel: float = 1e-12) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)


def check_area_power(r: dict, preset: str, P: int, vw: int = 1,
                     bw: int = cm.CONFUCIUX_NOC_BW) -> None:
    exp = spec_area_power(preset, P, vw, bw, r["l1_size"], r["l2_size"])
    for key, value in exp.items():
        assert close(r[key], value), (key, r[key], value)


def check_tensor_sizes(r: dict, layer: cm.Layer) -> None:
    """§7: input l2 write = C*Y*X, filter l2 write = filter size, output l2 read = output
    size in output coordinates; §1 Num Total Input/Weight Pixels."""
    K, C, Y, X, R, S = layer.K, layer.C, layer.Y, layer.X, layer.R, layer.S
    Yp, Xp = Y - R + 1, X - S + 1
    weights = C * R * S if layer.depthwise else K * C * R * S
    outputs = C * Yp * Xp if layer.depthwise else K * Yp * Xp
    assert r["input_l2_write"] == C * Y * X == r["input_pixels"]
    assert r["filter_l2_write"] == weights == r["weight_pixels"]
    assert r["output_l2_read"] == outputs
    # §6 step 4 [quirk]: L1 write := L2 read for input and filter.
    assert r["input_l1_write"] == r["input_l2_read"]
    assert r["filter_l1_write"] == r["filter_l2_read"]


# ============================================================ 1. §10 examples
def test_worked_example_10_1_dla():
    """§10.1: dla, MobileNet-V2 layer 11 (K32 C144 Y28 X28 R1 S1), P = 16, B = 5."""
    layer = cm.Layer(K=32, C=144, Y=28, X=28, R=1, S=1)
    r = run("dla", layer, P=16, B=5)
    # Top: case 0 costs 6 + 1 = 7, the other 49,391 occurrences 6 each.
    assert r["runtime"] == 7 + 6 * 49_391 == 296_353
    # MACs: Q = 80 on 42,336 occurrences, Q = 32 on the 7,056 K-Edge ones (exact, §8).
    assert r["macs"] == 80 * 42_336 + 32 * 7_056 == 3_612_672 == 32 * 144 * 28 * 28
    assert r["l1_size"] == 2 * 1 + 2 * 5 + 2 * 5 == 22       # inner L1
    assert r["l2_size"] == 2 * 16 + 2 * 80 + 2 * 5 == 202    # case-0 L2
    # Counters.
    assert r["input_l2_read"] == 16 * 49_386 == 790_176
    assert r["filter_l2_read"] == 5_040
    assert r["output_l2_write"] == 5 * 42_336 + 2 * 7_056 == 225_792
    assert r["input_l2_write"] == 112_896 and r["filter_l2_write"] == 4_608
    assert r["output_l2_read"] == 32 * 28 * 28
    assert r["input_l1_write"] == 790_176 and r["filter_l1_write"] == 5_040  # §6 step 4
    for key in ("input_l1_read", "filter_l1_read", "output_l1_read", "output_l1_write"):
        assert r[key] == 3_612_672  # every case processed: sum of o*Q
    # Energy: L2 term only (λ = 0 for a two-level dataflow, §7).
    energy = 0.00023 * 18.61 * (790_176 + 112_896 + 5_040 + 4_608 + 225_792)
    assert close(r["energy"], energy) and g6(r["energy"]) == "4873.17"
    assert r["energy"] == r["energy_l2"]
    # Other columns.
    assert r["peak_bw"] == 96 // 6 == 16
    assert r["offchip_bw"] == max(10 // 6, 192 // 6) // 2 == 16
    assert r["arith_intensity"] == 80 / 16 == 5.0
    assert r["avg_active"] == 16.0
    assert (r["compute_min"], r["compute_max"], r["compute_avg"]) == (6, 6, 6)
    # noc(d) = H = 1 for every 0 < d <= bw, and I, Ω > 0 in every case.
    assert (r["ingress_min"], r["ingress_max"], r["ingress_avg"]) == (1, 1, 1)
    assert (r["egress_min"], r["egress_max"], r["egress_avg"]) == (1, 1, 1)
    area = (16 * (283 + 0.104 * 22) + 0.104 * 202 + 101.7938 * (14.662 * 16 + 28.895) * 8.192e7
            + 395.473 * (1.2886 * 16**2 + 5.5814 * 16 - 23.711))
    assert close(r["area"], area) and g6(r["area"]) == "2.1972e+12"
    assert r["degenerate"] == 0 and r["single_entry"] == 0


def test_worked_example_10_2_shi():
    """§10.2: shi, MobileNet-V2 layer 0 (K32 C3 Y224 X224 R3 S3), P = 8, B = 4."""
    layer = cm.Layer(K=32, C=3, Y=224, X=224, R=3, S=3)
    r = run("shi", layer, P=8, B=4)
    assert r["runtime"] == 110 + 109 * 49_727 == 5_420_353
    assert r["macs"] == 1_776 * (27 * 864 + 648) == 42_581_376 == 32 * 3 * 222 * 222 * 9
    assert r["l1_size"] == 2 * 9 + 2 * 36 + 2 * 36 == 162
    assert r["l2_size"] == 100 + 72 + 192 == 364
    assert r["input_l2_read"] == 50 * (49_728 - 7) == 2_486_050
    assert r["filter_l2_read"] == 36 * (33_152 + 7 + 1) == 1_193_760
    l2_total = (r["input_l2_read"] + r["input_l2_write"] + r["filter_l2_read"]
                + r["filter_l2_write"] + r["output_l2_write"])
    assert l2_total == 8_562_466
    assert r["input_l2_write"] == 3 * 224 * 224 and r["filter_l2_write"] == 32 * 3 * 9
    assert close(r["energy"], 0.00023 * 18.61 * 8_562_466) and g6(r["energy"]) == "36649.9"
    assert r["peak_bw"] == 96 // 109 == 0
    assert r["arith_intensity"] == 864 / 86
    # The inner analysis gives 109 for both G tables, so C = 109 in every top case.
    assert (r["compute_min"], r["compute_max"], r["compute_avg"]) == (109, 109, 109)
    # §6 step 10 with L2size_out = 192 and L2size_in+f = 172: max(., 1, 1) // 2 = 0.
    assert r["offchip_bw"] == max(192 // 109, 172 // 109) // 2 == 0
    assert r["degenerate"] == 0 and r["single_entry"] == 0
    assert r["energy"] == r["energy_l2"]


def test_worked_example_10_3_dpt():
    """§10.3: dpt, MobileNet-V2 layer 1 (C32 Y112 X112 R3 S3, DSCONV), P = 2, B = 10."""
    layer = cm.Layer(K=1, C=32, Y=112, X=112, R=3, S=3, depthwise=True)
    r = run("dpt", layer, P=2, B=10)
    assert r["runtime"] == 91 + 90 * 12_099 + 18 * 12_100 == 1_306_801
    assert r["macs"] == 12_100 * 198 == 2_395_800
    assert r["macs"] * 32 == 22 * (32 * 110 * 110 * 9)  # 22/32 of ideal
    assert r["l1_size"] == 3 * 2 * 90 == 540
    assert r["l2_size"] == 360 + 360 + 40 == 760
    assert (r["compute_min"], r["compute_max"], r["compute_avg"]) == (18, 90, 54)
    assert r["avg_active"] == 1.5
    assert r["input_l2_read"] == 813_120 == r["input_l1_write"]
    assert r["input_l2_write"] == 401_408
    assert r["filter_l2_read"] == 198 == r["filter_l1_write"]
    assert r["filter_l2_write"] == 288
    assert r["output_l2_write"] == 266_200
    for key in ("input_l1_read", "filter_l1_read", "output_l1_read", "output_l1_write"):
        assert r[key] == 2_395_800
    energy = 0.00023 * (18.61 * (813_120 + 401_408 + 198 + 288 + 266_200)
                        + 1.68 * (2_395_800 * 4 + 813_120 + 198))  # λ = 1
    assert close(r["energy"], energy) and g6(r["energy"]) == "10357.3"
    assert r["single_entry"] == 1 and r["degenerate"] == 0


def test_worked_example_10_4_eye():
    """§10.4: eye, MobileNet-V2 layer 0, P = 4, B = 2: 224 counted rows instead of 222."""
    layer = cm.Layer(K=32, C=3, Y=224, X=224, R=3, S=3)
    r = run("eye", layer, P=4, B=2)
    assert 55 * 4 + 4 == 224
    assert r["macs"] == 42_964_992 == 32 * 3 * 224 * 222 * 9
    assert r["macs"] * 222 == 32 * 3 * 222 * 222 * 9 * 224  # ideal * 224/222


# ============================================================ 2. §8 closed forms
@st.composite
def confuciux_layers(draw, depthwise: bool = False):
    """Layers in the bounds of the brief plus a ConfuciuX (P, B) action."""
    R = draw(st.sampled_from((1, 3, 5)))
    S = R if draw(st.booleans()) else draw(st.sampled_from((1, 3, 5)))
    K = 1 if depthwise else draw(st.integers(1, 64))
    C = draw(st.integers(1, 64))
    Y = draw(st.integers(R, 40))
    X = draw(st.integers(S, 40))
    P = draw(st.sampled_from(CONFUCIUX_PES))
    B = draw(st.integers(1, 12))
    return cm.Layer(K=K, C=C, Y=Y, X=X, R=R, S=S, depthwise=depthwise), P, B


@hypo(150)
@given(confuciux_layers())
def test_dla_macs_exact_and_runtime_bound(case):
    layer, P, B = case
    r = run("dla", layer, P, B)
    # §8: dla is exact (never degenerate).
    assert r["macs"] == spec_macs("dla", layer.K, layer.C, layer.Y, layer.X, layer.R, layer.S, P, B)
    assert r["degenerate"] == 0
    # A PE does at most one MAC per cycle with one SIMD lane.
    assert r["runtime"] >= -(-r["macs"] // P)
    check_tensor_sizes(r, layer)


@pytest.mark.parametrize("df", ["shi", "eye"])
@hypo(150)
@given(case=confuciux_layers())
def test_shi_eye_macs_closed_form(df, case):
    layer, P, B = case
    r = run(df, layer, P, B)
    check_tensor_sizes(r, layer)
    if in_degenerate_window(df, layer.Y, layer.X, layer.R, layer.S, P):
        return  # §8's closed forms are stated only outside the windows (see section 5)
    assert r["degenerate"] == 0
    assert r["macs"] == spec_macs(df, layer.K, layer.C, layer.Y, layer.X, layer.R, layer.S, P, B)


@hypo(150)
@given(confuciux_layers(depthwise=True), st.integers(1, 64))
def test_dpt_macs_closed_form(case, other_k):
    layer, P, B = case
    r = run("dpt", layer, P, B)
    check_tensor_sizes(r, layer)
    assert r["degenerate"] == 0
    assert r["macs"] == spec_macs("dpt", 1, layer.C, layer.Y, layer.X, layer.R, layer.S, P, B)
    # §1: K is in no DSCONV tensor, so it cannot change anything.
    r2 = run("dpt", cm.Layer(other_k, layer.C, layer.Y, layer.X, layer.R, layer.S,
                             depthwise=True), P, B)
    assert r2 == r


def test_closed_forms_random_batch():
    """The same closed forms on 8,000 seeded random rows per dataflow, in one batch each."""
    rng = np.random.default_rng(20240601)
    n = 8000
    R = rng.choice([1, 3, 5], n)
    S = np.where(rng.random(n) < 0.5, R, rng.choice([1, 3, 5], n))
    K, C = rng.integers(1, 65, n), rng.integers(1, 65, n)
    Y = R + rng.integers(0, 41 - R)
    X = S + rng.integers(0, 41 - S)
    P = rng.choice(CONFUCIUX_PES, n)
    B = rng.integers(1, 13, n)
    hw = np.stack([P, np.ones(n), np.full(n, cm.CONFUCIUX_NOC_BW), np.ones(n), np.ones(n),
                   np.full(n, 70_000)], axis=1).astype(np.int64)
    consts = {"KTileSz": B, "ClusterSz": P, "CTileSz": 1}
    for df in DATAFLOW_NAMES:
        dw = int(df == "dpt")
        k = np.ones(n, np.int64) if dw else K
        rows = np.stack([np.full(n, dw), k, C, R, S, Y, X, np.zeros(n), np.zeros(n), np.ones(n),
                         np.ones(n)], axis=1).astype(np.int64)
        res = cm.evaluate_batch(rows, cm.DATAFLOWS[df], hw, consts)
        checked = 0
        for i in range(n):
            args = (int(k[i]), int(C[i]), int(Y[i]), int(X[i]), int(R[i]), int(S[i]))
            if in_degenerate_window(df, args[2], args[3], args[4], args[5], int(P[i])):
                continue
            checked += 1
            exp = spec_macs(df, *args, int(P[i]), int(B[i]))
            assert res["macs"][i] == exp, (df, args, int(P[i]), int(B[i]))
            assert res["degenerate"][i] == 0
        assert checked > n // 2
        Yp, Xp = Y - R + 1, X - S + 1
        assert np.array_equal(res["input_l2_write"], C * Y * X)
        assert np.array_equal(res["filter_l2_write"], (1 if dw else K) * C * R * S)
        assert np.array_equal(res["output_l2_read"], (C if dw else K) * Yp * Xp)
        if df == "dla":
            assert np.all(res["runtime"] >= -(-res["macs"] // P))


@hypo(30)
@given(confuciux_layers())
def test_dla_area_power_increase_with_pes(case):
    layer, _, B = case
    n = len(CONFUCIUX_PES)
    res = cm.evaluate_batch([layer] * n, cm.DATAFLOWS["dla"],
                            np.array([[p, 1, cm.CONFUCIUX_NOC_BW, 1, 1, 70_000]
                                      for p in CONFUCIUX_PES]),
                            {"KTileSz": B, "ClusterSz": np.array(CONFUCIUX_PES), "CTileSz": 1})
    assert np.all(np.diff(res["area"]) > 0)
    assert np.all(np.diff(res["power"]) > 0)


# ============================================================ 3. presets
@hypo(100)
@given(st.sampled_from(DATAFLOW_NAMES), confuciux_layers(), confuciux_layers(depthwise=True))
def test_presets_2020_vs_2021(df, case, dw_case):
    layer, P, B = dw_case if df == "dpt" else case
    new = run(df, layer, P, B, preset="maestro2021")
    old = run(df, layer, P, B, preset="maestro2020")
    # §9: runtime, MACs, L1/L2, all counts, BW and delays identical ...
    for key in cm.INT_FIELDS:
        if key != "offchip_bw":  # a HEAD-only column (§9)
            assert new[key] == old[key], key
    for key in ("avg_bw", "avg_active", "arith_intensity"):
        assert new[key] == old[key] or (math.isnan(new[key]) and math.isnan(old[key])), key
    # ... energy scales by exactly 0.904 / 0.00023 ...
    for key in ("energy", "energy_l2", "energy_l1", "energy_mac"):
        if new[key] != 0:
            assert math.isclose(old[key] / new[key], 0.904 / 0.00023, rel_tol=1e-12), key
        else:
            assert old[key] == 0
    # ... and area / power follow each preset's constants.
    check_area_power(new, "maestro2021", P)
    check_area_power(old, "maestro2020", P)


@pytest.mark.parametrize("preset", ["maestro2020", "maestro2021"])
def test_area_power_formula_nondefault_hardware(preset):
    """§7 area/power with SIMD lanes and NoC bandwidth other than ConfuciuX's."""
    layer = cm.Layer(K=24, C=20, Y=17, X=15, R=3, S=3)
    for df in ("dla", "shi", "eye"):
        for P, vw, bw in ((4, 2, 1), (12, 4, 64), (96, 3, 70_000), (1, 1, 5)):
            r = run(df, layer, P, 3, preset=preset, simd_lanes=vw, noc_bw=bw)
            check_area_power(r, preset, P, vw, bw)
            e = spec_energy_terms(preset, r)
            for key in ("energy_l2", "energy_l1", "energy_mac"):
                assert close(r[key], e[key]), key


# ============================================================ 4. compat flag
@hypo(100)
@given(st.sampled_from(("dla", "dpt")), confuciux_layers(), confuciux_layers(depthwise=True))
def test_compat_l1_and_energy(df, case, dw_case):
    layer, P, B = dw_case if df == "dpt" else case
    on = run(df, layer, P, B, compat=True)
    off = run(df, layer, P, B, compat=False)
    R, S = layer.R, layer.S
    # L1 = Σ_t 2·∏ m_v at the innermost level (§7).  dla inner: input C,Y,X = 1·R·S;
    # filter K,C,R,S = B·1·R·S (K inherited as T(B,B)); output K,Y,X = B·R·S in input
    # coordinates (compat) or B·1·1 with m_Y' = m_X' = 1.  dpt (one level): input B·R·S,
    # filter B·R·S, output B·R·S or B.
    inner_in = R * S if df == "dla" else B * R * S
    assert on["l1_size"] == 2 * inner_in + 2 * B * R * S + 2 * B * R * S
    assert off["l1_size"] == 2 * inner_in + 2 * B * R * S + 2 * B
    assert on["l1_size"] - off["l1_size"] == 2 * B * (R * S - 1)
    # Everything else that does not depend on L1 or on the energy formula is unchanged.
    for key in cm.INT_FIELDS:
        if key != "l1_size":
            assert on[key] == off[key], key
    # The energy terms, recomputed from the counters.
    e = spec_energy_terms("maestro2021", on)
    for r in (on, off):
        for key in ("energy_l2", "energy_l1", "energy_mac"):
            assert close(r[key], e[key]), key
    assert close(off["energy"], off["energy_mac"] + off["energy_l1"] + off["energy_l2"])
    if df == "dla":
        assert on["energy"] == on["energy_l2"]  # λ = 0 for a two-level dataflow
    else:
        assert close(on["energy"], on["energy_l2"] + on["energy_l1"])  # λ = 1
    check_area_power(on, "maestro2021", P)
    check_area_power(off, "maestro2021", P)


@pytest.mark.parametrize("df", ["shi", "eye"])
def test_compat_energy_two_level(df):
    layer = cm.Layer(K=40, C=9, Y=30, X=26, R=3, S=3)
    for P, B in ((8, 4), (12, 7), (32, 2)):
        on, off = run(df, layer, P, B), run(df, layer, P, B, compat=False)
        assert on["energy"] == on["energy_l2"]
        assert close(off["energy"], off["energy_mac"] + off["energy_l1"] + off["energy_l2"])
        assert off["energy"] > on["energy"]


# ============================================================ 5. degenerate rows
def _temporal_states(d: int, M: int, O: int) -> int:
    """Number of states of a temporal directive (§4.1)."""
    n = tdiv(d - M, O)
    return 1 + (d > M and n > 0) + (d >= M and n * O + M < d)


def _spatial_states(d: int, M: int, O: int, N: int) -> int:
    """Number of states of a spatial directive (§4.1)."""
    F = M + O * (N - 1)
    q = tdiv(tdiv(d - M, O) + 1, N) - 1
    steady = d > F and q > 0
    edge = d > F and (q + 1) * O * N + F > d and q * O * N + F != d
    return 1 + steady + edge


DEGENERATE_ROWS = [
    # AlexNet / SqueezeNet 13x13, R = S = 3 layers with P = 12 (named in §7).
    ("eye", cm.Layer(384, 192, 13, 13, 3, 3), 12),
    ("eye", cm.Layer(256, 384, 13, 13, 3, 3), 12),
    ("eye", cm.Layer(256, 256, 13, 13, 3, 3), 12),
    ("eye", cm.Layer(256, 64, 13, 13, 3, 3), 12),
    ("shi", cm.Layer(384, 192, 13, 13, 3, 3), 12),
    ("shi", cm.Layer(256, 384, 13, 13, 3, 3), 12),
    ("shi", cm.Layer(256, 256, 13, 13, 3, 3), 12),
    ("shi", cm.Layer(256, 64, 13, 13, 3, 3), 12),
    # Synthetic rows in the windows P <= Y <= P+R-2 (eye) and P <= X <= P+S-2 (shi).
    ("eye", cm.Layer(7, 5, 9, 9, 3, 3), 8),
    ("eye", cm.Layer(3, 11, 7, 20, 5, 5), 4),
    ("eye", cm.Layer(5, 2, 17, 1, 3, 1), 16),
    ("shi", cm.Layer(6, 4, 20, 18, 5, 5), 16),
    ("shi", cm.Layer(9, 3, 8, 25, 1, 3), 24),
]


@pytest.mark.parametrize("df,layer,P", DEGENERATE_ROWS)
def test_degenerate_rows(df, layer, P):
    K, C, Y, X, R, S = layer.K, layer.C, layer.Y, layer.X, layer.R, layer.S
    Yp, Xp = Y - R + 1, X - S + 1
    assert in_degenerate_window(df, Y, X, R, S, P)
    if df == "eye":
        # Exactly one window factor: Y in its window, X not.
        assert not (S <= X <= 2 * S - 2)
        # Top (after §2.2): T(1,1)C · T(B,B)K · S(P+R-1,P)Y · T(2S-1,S)X · R · S, N0 = 1.
        # Every case has Y at Init with init-edge: factor me_Y' = (Y-P) - R + 1 <= 0.
        edge = (Y - P) - R + 1
        out_rows, out_cols = edge, Xp  # temporal X sums exactly to X'
        m = {"C": 1, "Y": P + R - 1, "X": 2 * S - 1, "Yp": P, "Xp": S}
    else:
        assert not (R <= Y <= 2 * R - 2)
        # Top: T(B,B)K · S(2R-1,R)Y · T(P+S-1,P)X · T(1,1)C · R · S, N0 = 1.  X is at Init
        # (init-edge) in every case: me_X' = (X-P) - S + 1 <= 0.  Y counts Y or Y' rows (§8).
        out_cols = (X - P) - S + 1
        out_rows = Y if (Yp % R != 0 and Y > 2 * R - 1) else Yp
        m = {"C": 1, "Y": 2 * R - 1, "X": P + S - 1, "Yp": R, "Xp": P}
    assert out_rows * out_cols < 0
    for B in range(1, 13):
        for compat in (True, False):
            r = run(df, layer, P, B, compat=compat)
            # §7 degenerate-row columns.
            assert r["degenerate"] == 1 and r["single_entry"] == 1
            assert r["runtime"] == 0 and r["macs"] == 0
            for kind in ("ingress", "egress", "compute"):
                assert r[f"{kind}_min"] == INT64_MIN
                assert r[f"{kind}_avg"] == INT64_MIN
                assert r[f"{kind}_max"] == 0
            assert r["avg_active"] == 0.0 and r["arith_intensity"] == 0.0
            assert math.isnan(r["avg_bw"])
            assert r["peak_bw"] == 0 and r["offchip_bw"] == 0
            # No case processed: no input/filter reads (§6 steps 3-4).
            for t in ("input", "filter"):
                assert r[f"{t}_l2_read"] == r[f"{t}_l1_read"] == r[f"{t}_l1_write"] == 0
            check_tensor_sizes(r, layer)
            # Output counters are updated in every case (§6 step 2): K and C sum to K and C
            # through their temporal tiles/occurrences; Q adds C, R, S (m_C = 1).
            assert r["output_l2_write"] == K * C * out_rows * out_cols
            out_macs = K * C * R * S * out_rows * out_cols
            assert r["output_l1_read"] == r["output_l1_write"] == out_macs
            # L1 from the top, with step 1 repeated for every case (§7).
            if df == "eye":
                ncases = (_temporal_states(C, 1, 1) * _temporal_states(K, B, B)
                          * _spatial_states(Y, P + R - 1, P, 1)
                          * _temporal_states(X, 2 * S - 1, S))
            else:
                ncases = (_temporal_states(K, B, B) * _spatial_states(Y, 2 * R - 1, R, 1)
                          * _temporal_states(X, P + S - 1, P) * _temporal_states(C, 1, 1))
            tile_in = m["C"] * m["Y"] * m["X"]
            tile_f = B * m["C"] * R * S
            tile_out = B * (m["Y"] * m["X"] if compat else m["Yp"] * m["Xp"])
            assert r["l1_size"] == ncases * (2 * tile_in + 2 * tile_f) + 2 * tile_out
            # Energy with λ = 1 (§7), from the counters above.
            e = 0.00023
            l2 = C * Y * X + (K * C * R * S) + K * C * out_rows * out_cols
            l1 = 2 * K * C * R * S * out_rows * out_cols
            if compat:
                assert close(r["energy"], e * (18.61 * l2 + 1.68 * l1))
            else:
                assert close(r["energy"], e * (0 + 18.61 * l2 + 1.68 * l1))
            assert math.isfinite(r["energy"])
            if P == 12 and Y == 13:  # §7: "runtime 0, and a negative energy"
                assert r["energy"] < 0
            check_area_power(r, "maestro2021", P)


# ============================================================ 6. validation
def _df(text: str) -> cm.Dataflow:
    return cm.Dataflow.parse(text)


GOOD = cm.Layer(K=8, C=8, Y=10, X=10, R=3, S=3)
DLA = cm.DATAFLOWS["dla"]
DLA_C = cm.confuciux_constants(pes=4, tile=2)


HW4 = cm.Hardware(num_pes=4)


def _eval(layer=GOOD, df=DLA, hw=HW4, constants=DLA_C, **kw):
    return cm.evaluate(layer, df, hw, constants, **kw)


VALIDATION_CASES = {
    "zero K": (lambda: _eval(cm.Layer(0, 8, 10, 10, 3, 3)), r"dimension K"),
    "negative C": (lambda: _eval(cm.Layer(8, -3, 10, 10, 3, 3)), r"dimension C"),
    "zero Y": (lambda: _eval(cm.Layer(8, 8, 0, 10, 1, 3)), r"dimension Y"),
    "negative S": (lambda: _eval(cm.Layer(8, 8, 10, 10, 3, -1)), r"dimension S"),
    "dim above 2**24": (lambda: _eval(cm.Layer(2**24 + 1, 8, 10, 10, 3, 3)), r"dimension K"),
    "negative N": (lambda: _eval(cm.Layer(8, 8, 10, 10, 3, 3, N=-1)), r"dimension N"),
    "R > Y": (lambda: _eval(cm.Layer(8, 8, 4, 10, 5, 3)), r"R .*Y"),
    "S > X": (lambda: _eval(cm.Layer(8, 8, 10, 2, 3, 3)), r"S .*X"),
    "P < cluster product": (
        lambda: _eval(df=_df("SpatialMap(1,1) K; Cluster(8, P); SpatialMap(1,1) C;"),
                      hw=cm.Hardware(num_pes=4), constants={}), r"num_pes.*Cluster"),
    "P < ClusterSz": (lambda: _eval(hw=cm.Hardware(num_pes=2)), r"num_pes.*Cluster"),
    "non-Dataflow": (lambda: _eval(df="dla"), r"Dataflow"),
    "non-Dataflow in list": (lambda: cm.evaluate_batch([GOOD], [DLA, None], cm.Hardware(4),
                                                       DLA_C), r"Dataflow"),
    "non-Layer": (lambda: _eval(layer=(8, 8, 10, 10, 3, 3)), r"Layer"),
    # a repeat is refused where the layer's sizes show it matters (§2.2), at evaluation
    "three SpatialMaps": (lambda: _eval(df=_df("SpatialMap(1,1) K; SpatialMap(1,1) C; "
                                              "SpatialMap(1,1) K;"), constants={}),
                          r"level 0 has 3 SpatialMaps .*at most two"),
    "Y with Y'": (lambda: _eval(df=_df("SpatialMap(1,1) Y; TemporalMap(3,3) Y';"),
                                constants={}), r"level 0 maps both Y' and Y"),
    "17 directives in a level": (
        lambda: _eval(df=_df("SpatialMap(1,1) K; " + "TemporalMap(1,1) C; " * 16), constants={}),
        r"level 0 has 2\d directives .*at most 16"),
    "Y twice under a stride": (
        lambda: _eval(df=_df("SpatialMap(1,1) K; TemporalMap(3,1) Y; TemporalMap(4,2) Y;"),
                      constants={}, layer=cm.Layer(K=4, C=2, R=3, S=3, Y=8, X=8, stride_y=2)),
        r"level 0 maps Y twice \(TemporalMap\(3,1\) Y, TemporalMap\(4,2\) Y\) under a stride of 2"),
    "X' with X in inner level": (
        lambda: _eval(df=_df("TemporalMap(1,1) K; Cluster(2); SpatialMap(1,1) X'; "
                             "TemporalMap(3,1) X;"), constants={}),
        r"level 1 maps both X' and X"),
    "Sz(N) undeclared": (lambda: _eval(df=_df("TemporalMap(Sz(N),Sz(N)) K;"), constants={}),
                         r"Sz\(N\).*N"),
    "maps N undeclared": (lambda: _eval(df=_df("TemporalMap(1,1) N;"), constants={}),
                          r"N.*declare"),
    "missing constant": (lambda: _eval(constants={"KTileSz": 2, "CTileSz": 1}), r"ClusterSz"),
    "unknown constant name in text": (lambda: _eval(df=_df("TemporalMap(Foo,1) K;"),
                                                    constants={}), r"Foo"),
    "constant 0": (lambda: _eval(constants=cm.confuciux_constants(4, 0)), r"constant"),
    "literal 0": (lambda: _df("TemporalMap(0,1) K;"), r">= 1"),
    "NaN dim": (lambda: _eval(cm.Layer(float("nan"), 8, 10, 10, 3, 3)), r"K .*integer"),
    "fractional dim": (lambda: _eval(cm.Layer(8, 8.5, 10, 10, 3, 3)), r"C .*integer"),
    "bool dim": (lambda: _eval(cm.Layer(8, 8, True, 10, 3, 3)), r"Y .*bool"),
    "string dim": (lambda: _eval(cm.Layer(8, 8, 10, "10", 3, 3)), r"X .*integer"),
    "inf dim": (lambda: _eval(cm.Layer(8, 8, 10, 10, float("inf"), 3)), r"R .*integer"),
    "NaN num_pes": (lambda: _eval(hw=cm.Hardware(num_pes=float("nan"))), r"num_pes"),
    "fractional noc_bw": (lambda: _eval(hw=cm.Hardware(num_pes=4, noc_bw=2.5)), r"noc_bw"),
    "bool simd": (lambda: _eval(hw=cm.Hardware(num_pes=4, simd_lanes=True)), r"simd_lanes"),
    "string hops": (lambda: _eval(hw=cm.Hardware(num_pes=4, noc_hops="1")), r"noc_hops"),
    "zero num_pes": (lambda: _eval(hw=cm.Hardware(num_pes=0)), r"num_pes"),
    "zero simd": (lambda: _eval(hw=cm.Hardware(num_pes=4, simd_lanes=0)), r"simd_lanes"),
    "zero noc_bw": (lambda: _eval(hw=cm.Hardware(num_pes=4, noc_bw=0)), r"noc_bw"),
    "negative hop latency": (lambda: _eval(hw=cm.Hardware(num_pes=4, noc_hop_latency=-1)),
                             r"noc_hop_latency"),
    "zero offchip": (lambda: _eval(hw=cm.Hardware(num_pes=4, offchip_bw=0)), r"offchip_bw"),
    "NaN constant": (lambda: _eval(constants=cm.confuciux_constants(4, float("nan"))),
                     r"KTileSz"),
    "fractional constant": (lambda: _eval(constants=cm.confuciux_constants(4, 2.5)), r"KTileSz"),
    "bool constant": (lambda: _eval(constants=cm.confuciux_constants(4, True)), r"KTileSz"),
    "string constant": (lambda: _eval(constants=cm.confuciux_constants(4, "2")), r"KTileSz"),
    "NaN in layers array": (
        lambda: cm.evaluate_batch(np.array([[0, 8, 8, 3, 3, 10, np.nan, 0, 0, 1, 1]]), DLA,
                                  cm.Hardware(4), DLA_C), r"layers"),
    "bool layers array": (
        lambda: cm.evaluate_batch(np.ones((1, 11), dtype=bool), DLA, cm.Hardware(4), DLA_C),
        r"layers"),
    "string hardware array": (
        lambda: cm.evaluate_batch([GOOD], DLA, np.array([["4", "1", "8", "1", "1", "7"]]), DLA_C),
        r"hardware"),
    "layer type 5": (
        lambda: cm.evaluate_batch(np.array([[5, 8, 8, 3, 3, 10, 10, 0, 0, 1, 1]]), DLA,
                                  cm.Hardware(4), DLA_C), r"type"),
    "from_row T=3": (lambda: cm.Layer.from_row([8, 8, 10, 10, 3, 3, 3]), r"T must be"),
    "unknown preset": (lambda: _eval(preset="maestro2019"), r"preset"),
    "layers with 7 columns": (
        lambda: cm.evaluate_batch(np.ones((2, 7), np.int64), DLA, cm.Hardware(4), DLA_C),
        r"11 columns"),
    "df_index out of range": (
        lambda: cm.evaluate_batch([GOOD, GOOD], [DLA], cm.Hardware(4), DLA_C, df_index=[0, 1]),
        r"df_index"),
    "TemporalMap(1,1) R under maestro2021": (
        lambda: _eval(df=_df("TemporalMap(1,1) R; TemporalMap(2,2) K;"), constants={},
                      preset="maestro2021"), r"a TemporalMap on R"),
    "TemporalMap(2,2) S under maestro2021": (
        lambda: _eval(df=_df("TemporalMap(2,2) S;"), constants={}, preset="maestro2021"),
        r"TemporalMap on S"),
    "too large for 64-bit counters": (
        lambda: _eval(cm.Layer(2**24, 2**24, 2**24, 2**24, 1, 1), hw=cm.Hardware(num_pes=4)),
        r"too large"),
    "too large (dpt)": (
        lambda: _eval(cm.Layer(1, 2**24, 2**24, 2**24, 2**24, 2**24, depthwise=True),
                      df=cm.DATAFLOWS["dpt"]), r"too large"),
    "too large (eye, R=S=1)": (
        lambda: _eval(cm.Layer(2**24, 2**24, 2**24, 2**24, 1, 1), df=cm.DATAFLOWS["eye"]),
        r"too large"),
}


@pytest.mark.parametrize("name", list(VALIDATION_CASES))
def test_validation_raises_value_error(name):
    fn, pattern = VALIDATION_CASES[name]
    with pytest.raises(ValueError, match=pattern):
        fn()


def test_unknown_preset_dataflow_lookup_is_keyerror():
    with pytest.raises(KeyError):
        cm.DATAFLOWS["nvdla"]


def test_rs_rule_is_2021_only():
    """§1 / §9: the TemporalMap-on-R/S check is a HEAD rule; the 2020 engine accepts it."""
    df = _df("TemporalMap(1,1) R; TemporalMap(2,2) K;")
    r = _eval(df=df, constants={}, preset="maestro2020")
    assert r["macs"] > 0
    # Sz(R) (size = offset = R) is fine under both.
    ok = _df("TemporalMap(Sz(R),Sz(R)) R; TemporalMap(2,2) K;")
    for preset in ("maestro2020", "maestro2021"):
        assert _eval(df=ok, constants={}, preset=preset)["macs"] > 0


@pytest.mark.parametrize("text,line", [
    ("Dataflow {\n  TemporalMap(1,1) K;\n  TemporalMap(1,1) Q;\n}", 3),
    ("Dataflow {\n  TemporalMap(1,1) K;\n", 2),
    ("Dataflow {\n\n  TemporalMap(Sz(Q),1) K;\n}", 3),
    ("Dataflow {\n  Cluster(2, P);\n  Bogus(1,1) K;\n}", 3),
    ("Dataflow {\n  TemporalMap(1,1) K;\n}\n extra", 4),
    ("Dataflow\n TemporalMap(1,1) K; }", 2),
    ("TemporalMap(1,$) K;", 1),
])
def test_malformed_dataflow_text(text, line):
    with pytest.raises(cm.ParseError, match=rf"line {line}\b") as info:
        cm.Dataflow.parse(text)
    assert isinstance(info.value, ValueError)
    assert info.value.line == line


def test_batch_wrong_shapes_raise_value_error():
    rows = np.array([[0, 8, 8, 3, 3, 10, 10, 0, 0, 1, 1]] * 2, dtype=np.int64)
    hw = np.array([[4, 1, 64, 1, 1, 64]] * 2, dtype=np.int64)
    with pytest.raises(ValueError):
        cm.evaluate_batch(rows, DLA, hw[:, :5], DLA_C)
    with pytest.raises(ValueError):
        cm.evaluate_batch(rows, DLA, hw, DLA_C, df_index=[0, 0, 0])
    with pytest.raises(ValueError):
        cm.evaluate_batch(rows, DLA, hw, {"KTileSz": [1, 2, 3], "ClusterSz": 4, "CTileSz": 1})
    with pytest.raises(ValueError, match="11 columns"):
        cm.evaluate_batch(rows[:, :7], DLA, hw, DLA_C)


@pytest.mark.parametrize("which", ["hardware", "df_index", "constant"])
def test_batch_wrong_shapes_name_the_argument(which):
    rows = np.array([[0, 8, 8, 3, 3, 10, 10, 0, 0, 1, 1]] * 2, dtype=np.int64)
    hw = np.array([[4, 1, 64, 1, 1, 64]] * 2, dtype=np.int64)
    kw = {"layers": rows, "dataflows": DLA, "hardware": hw, "constants": DLA_C}
    if which == "hardware":
        kw["hardware"] = hw[:, :5]
    elif which == "df_index":
        kw["df_index"] = [0, 0, 0]
    else:
        kw["constants"] = {"KTileSz": [1, 2, 3], "ClusterSz": 4, "CTileSz": 1}
    with pytest.raises(ValueError, match=which):
        cm.evaluate_batch(**kw)


def test_batch_transposed_hardware_rejected():
    rows = np.array([[0, 8, 8, 3, 3, 10, 10, 0, 0, 1, 1]] * 2, dtype=np.int64)
    hw = np.array([[4, 1, 64, 1, 1, 64], [2, 1, 64, 1, 1, 64]], dtype=np.int64)
    with pytest.raises(ValueError, match="hardware"):
        cm.evaluate_batch(rows, DLA, hw.T.copy(), {"KTileSz": 2, "ClusterSz": [4, 2],
                                                   "CTileSz": 1})


def test_batch_one_dimensional_layers_rejected():
    with pytest.raises(ValueError, match="layers"):
        cm.evaluate_batch(np.array([0, 8, 8, 3, 3, 10, 10, 0]), DLA, cm.Hardware(4), DLA_C)


# ------------------------------------------- counters close to the int64 limit
def _run_isolated(code: str) -> dict:
    """Run `code` in a child interpreter (a UBSan abort must not kill pytest).

    The child prints one JSON line: {"error": msg} or {"result": {...}}.  A crash
    (e.g. a sanitizer report) is returned as {"crash": stderr}.
    """
    env = dict(os.environ)
    src = str(Path(cm.__file__).resolve().parents[2])
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    prog = textwrap.dedent("""
        import json, math
        from archgym import costmodel as cm
        try:
            r = run()
        except ValueError as e:
            print(json.dumps({"error": str(e)}))
        else:
            print(json.dumps({"result": {k: (v if not isinstance(v, float) or math.isfinite(v)
                                             else repr(v)) for k, v in r.items()}}))
    """)
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code) + prog], check=False,
                          env=env, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        return {"crash": proc.stderr[-3000:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _assert_rejected_or_exact(out: dict, check) -> None:
    assert "crash" not in out, out["crash"]
    if "error" in out:
        assert "too large" in out["error"]
        return
    check(out["result"])


def test_near_limit_counters_dla():
    K, D = 14_927_655, 4096
    out = _run_isolated(f"""
        def run():
            return cm.evaluate(cm.Layer({K}, {D}, {D}, {D}, 3, 3), cm.DATAFLOWS["dla"],
                               cm.Hardware(num_pes=64), cm.confuciux_constants(64, 4))
    """)

    def check(r):
        assert r["macs"] == K * D * (D - 2) ** 2 * 9  # §8, exact
        e = spec_energy_terms("maestro2021", r)
        assert e["l1"] > 0 and r["energy_l1"] > 0
        for key in ("energy_l1", "energy_l2", "energy_mac"):
            assert math.isclose(r[key], e[key], rel_tol=1e-9), key

    _assert_rejected_or_exact(out, check)


def test_near_limit_compute_delay():
    out = _run_isolated("""
        def run():
            df = cm.Dataflow.parse("TemporalMap(649657,649657) K; TemporalMap(92737,92737) C;"
                                   "TemporalMap(42799,42799) Y; TemporalMap(3577,3577) X;")
            return cm.evaluate(cm.Layer(649657, 92737, 42799, 3577, 1, 1), df,
                               cm.Hardware(num_pes=1, simd_lanes=2))
    """)
    pi = 649657 * 92737 * 42799 * 3577
    assert pi == 2**63 - 1

    def check(r):
        # One all-Init case (every directive unrolled): C = ceil(Π / 2), runtime = C + noc(I).
        assert r["compute_max"] == -(-pi // 2)
        assert r["runtime"] >= r["compute_max"]
        assert r["energy_l1"] > 0

    _assert_rejected_or_exact(out, check)


# ============================================================ 7. fuzz
VARS6 = ("K", "C", "R", "S", "Y", "X")
SZ = tuple(f"Sz({d})" for d in VARS6) + ("Sz(N)",)
PARAMS = ("T0", "T1")


@st.composite
def user_dataflow_text(draw):
    def expr():
        kind = draw(st.sampled_from(("lit", "lit", "sz", "param")))
        if kind == "lit":
            return str(draw(st.integers(1, 20)))
        if kind == "sz":
            return draw(st.sampled_from(SZ))
        return draw(st.sampled_from(PARAMS))

    nlev = draw(st.integers(1, 3))
    lines = ["Dataflow {"]
    for lev in range(nlev):
        if lev:
            size = (str(draw(st.integers(1, 8))) if draw(st.booleans())
                    else draw(st.sampled_from(PARAMS)))
            lines.append(f"  Cluster({size}, {draw(st.sampled_from(('P', 'L')))});")
        names = list(draw(st.lists(st.sampled_from(VARS6), unique=True, max_size=6)))
        if draw(st.integers(0, 9)) == 0:  # rarely: output names, N, or a duplicate
            names.append(draw(st.sampled_from(("Y'", "X'", "N", "K"))))
        for v in names:
            kind = draw(st.sampled_from(("TemporalMap", "SpatialMap")))
            lines.append(f"  {kind}({expr()},{expr()}) {v};")
    lines.append("}")
    return "\n".join(lines), nlev


@st.composite
def fuzz_layer(draw):
    Y, X = draw(st.integers(1, 30)), draw(st.integers(1, 30))
    N = 0 if draw(st.integers(0, 4)) else draw(st.integers(1, 3))
    return cm.Layer(K=draw(st.integers(1, 30)), C=draw(st.integers(1, 30)), Y=Y, X=X,
                    R=draw(st.integers(1, Y)), S=draw(st.integers(1, X)),
                    depthwise=draw(st.booleans()), N=N)


fuzz_hardware = st.builds(
    cm.Hardware, num_pes=st.integers(1, 256), simd_lanes=st.integers(1, 4),
    noc_bw=st.integers(1, 100), noc_hops=st.integers(0, 2), noc_hop_latency=st.integers(0, 3),
    offchip_bw=st.integers(1, 1000))

FILLERS = [  # valid preset rows mixed into the fuzz batches
    ("dla", cm.Layer(20, 7, 12, 11, 3, 3), 8, 3),
    ("shi", cm.Layer(9, 4, 16, 15, 3, 1), 12, 5),
    ("eye", cm.Layer(11, 6, 21, 19, 5, 3), 4, 2),
    ("dpt", cm.Layer(1, 13, 9, 9, 3, 3, depthwise=True), 2, 4),
]


def _rows_equal(a: dict, b: dict) -> bool:
    return all(a[k] == b[k] or (isinstance(a[k], float) and math.isnan(a[k]) and math.isnan(b[k]))
               for k in a) and a.keys() == b.keys()


def _check_spec_invariants(r, layer, nlev, preset, compat, hw):
    """What the design document guarantees for any dataflow."""
    for key in cm.FLOAT_FIELDS:
        if key != "arith_intensity":  # Q / 0 = inf is allowed (§6 step 5)
            assert not math.isinf(r[key]), key
    if layer.N == 0:
        check_tensor_sizes(r, layer)
    assert r["input_l1_write"] == r["input_l2_read"]
    assert r["filter_l1_write"] == r["filter_l2_read"]
    assert r["degenerate"] in (0, 1)
    assert r["single_entry"] == int(r["degenerate"] == 1 or nlev == 1)
    if r["degenerate"]:
        assert r["runtime"] == 0 and r["macs"] == 0
        assert r["ingress_min"] == r["compute_avg"] == INT64_MIN and r["compute_max"] == 0
        assert r["avg_active"] == 0.0 and math.isnan(r["avg_bw"])
    e = spec_energy_terms(preset, r)
    for key in ("energy_l2", "energy_l1", "energy_mac"):
        assert close(r[key], e[key]), key
    if compat:
        expected = e["e"] * (18.61 * e["l2"] + (1.68 * e["l1"] if r["single_entry"] else 0.0))
    else:
        expected = e["e"] * (r["macs"] + 18.61 * e["l2"] + 1.68 * e["l1"])
    assert close(r["energy"], expected)
    check_area_power(r, preset, hw.num_pes, hw.simd_lanes, hw.noc_bw)


@hypo(200)
@given(df_text=user_dataflow_text(), layer=fuzz_layer(), hw=fuzz_hardware,
       t0=st.integers(1, 20), t1=st.integers(1, 20),
       preset=st.sampled_from(("maestro2020", "maestro2021")), compat=st.booleans(),
       position=st.integers(0, 12))
def test_fuzz_user_dataflows(df_text, layer, hw, t0, t1, preset, compat, position):
    text, nlev = df_text
    try:
        df = cm.Dataflow.parse(text)
    except ValueError as exc:  # duplicated dimension: a ValueError naming it
        assert "twice" in str(exc), str(exc)
        return
    # The parser round-trips through str().
    assert cm.Dataflow.parse(str(df)).levels == df.levels
    constants = {"T0": t0, "T1": t1}
    try:
        r = cm.evaluate(layer, df, hw, constants, preset=preset, compat=compat)
    except ValueError as exc:
        msg = str(exc)
        assert len(msg) > 10, msg  # a sentence naming the problem
        with pytest.raises(ValueError) as again:  # deterministic errors too
            cm.evaluate(layer, df, hw, constants, preset=preset, compat=compat)
        assert str(again.value) == msg
        return
    # Determinism: alone, again, and inside a batch of other rows.
    assert _rows_equal(r, cm.evaluate(layer, df, hw, constants, preset=preset, compat=compat))
    layers, dfs, hws = [], [], []
    ktile, cluster = [], []
    for i in range(13):
        name, lay, P, B = FILLERS[i % len(FILLERS)]
        layers.append(lay)
        dfs.append(DATAFLOW_NAMES.index(name) + 1)
        hws.append([P, 1 + i % 3, 7 + i, i % 3, i % 4, 50 + i])
        ktile.append(B)
        cluster.append(P)
    layers[position] = layer
    dfs[position] = 0
    hws[position] = list(hw.row())
    batch = cm.evaluate_batch(
        layers, [df] + [cm.DATAFLOWS[n] for n in DATAFLOW_NAMES], np.array(hws),
        {"T0": t0, "T1": t1, "KTileSz": np.array(ktile), "ClusterSz": np.array(cluster),
         "CTileSz": 1}, df_index=dfs, preset=preset, compat=compat)
    assert _rows_equal(batch.row(position), r)
    _check_spec_invariants(r, layer, nlev, preset, compat, hw)


# ============================================================ 8. batch API
USER_DF = cm.Dataflow.parse("""
    Dataflow {
        SpatialMap(T0,T0) K;
        TemporalMap(Sz(R),1) Y';
        TemporalMap(Sz(S),Sz(S)) S;
        Cluster(T1, P);
        SpatialMap(1,1) C;
        TemporalMap(Sz(R),Sz(R)) R;
    }""", name="user")


def _mixed_batch(n: int, seed: int):
    """n rows over [dla, shi, eye, dpt, USER_DF] with per-row hardware and constants."""
    rng = np.random.default_rng(seed)
    dfs = [cm.DATAFLOWS[d] for d in DATAFLOW_NAMES] + [USER_DF]
    idx = rng.integers(0, 5, n)
    R = rng.choice([1, 3, 5], n)
    S = rng.choice([1, 3], n)
    Y = R + rng.integers(0, 30, n)
    X = S + rng.integers(0, 30, n)
    K = np.where(idx == 3, 1, rng.integers(1, 65, n))
    C = rng.integers(1, 65, n)
    typ = (idx == 3).astype(np.int64)
    layers = np.stack([typ, K, C, R, S, Y, X, np.zeros(n), np.zeros(n), np.ones(n), np.ones(n)],
                      axis=1).astype(np.int64)
    cluster = rng.choice(CONFUCIUX_PES, n)
    t1 = rng.integers(1, 9, n)
    need = np.where(idx == 4, t1, cluster)
    pes = need * rng.choice([1, 1, 1, 2, 3], n)
    hw = np.stack([pes, rng.integers(1, 5, n), rng.choice([1, 16, 64, cm.CONFUCIUX_NOC_BW], n),
                   rng.integers(0, 3, n), rng.integers(0, 4, n), rng.integers(1, 70_001, n)],
                  axis=1).astype(np.int64)
    consts = {"KTileSz": rng.integers(1, 13, n), "ClusterSz": cluster, "CTileSz": 1,
              "T0": rng.integers(1, 9, n), "T1": t1}
    return layers, dfs, hw, consts, idx


@pytest.mark.parametrize("preset", ["maestro2020", "maestro2021"])
@pytest.mark.parametrize("compat", [True, False])
def test_batch_matches_single_rows(preset, compat):
    layers, dfs, hw, consts, idx = _mixed_batch(150, seed=7 + compat)
    batch = cm.evaluate_batch(layers, dfs, hw, consts, df_index=idx, preset=preset, compat=compat)
    assert batch.ints.shape == (150, len(cm.INT_FIELDS))
    assert batch.floats.shape == (150, len(cm.FLOAT_FIELDS))
    for i in range(150):
        t, K, C, R, S, Y, X = (int(v) for v in layers[i][:7])
        layer = cm.Layer(K=K, C=C, Y=Y, X=X, R=R, S=S, depthwise=bool(t))
        h = cm.Hardware(*(int(v) for v in hw[i]))
        c = {k: (int(v[i]) if isinstance(v, np.ndarray) else v) for k, v in consts.items()}
        single = cm.evaluate(layer, dfs[idx[i]], h, c, preset=preset, compat=compat)
        assert _rows_equal(batch.row(i), single), i
        assert batch["runtime"][i] == single["runtime"]
    # The same rows as a list of Layer objects give the same arrays.
    as_objects = [cm.Layer(K=int(r[1]), C=int(r[2]), Y=int(r[5]), X=int(r[6]), R=int(r[3]),
                           S=int(r[4]), depthwise=bool(r[0])) for r in layers]
    again = cm.evaluate_batch(as_objects, dfs, hw, consts, df_index=idx, preset=preset,
                              compat=compat)
    np.testing.assert_array_equal(again.ints, batch.ints)
    np.testing.assert_array_equal(again.floats, batch.floats)


def test_batch_error_names_the_row():
    layers, dfs, hw, consts, idx = _mixed_batch(20, seed=3)
    layers[13, 2] = 0  # C = 0
    with pytest.raises(ValueError, match=r"row 13: layer dimension C"):
        cm.evaluate_batch(layers, dfs, hw, consts, df_index=idx)


def test_batch_threads_do_not_change_results():
    """Large batches are split over worker threads; the split must not matter."""
    layers, dfs, hw, consts, idx = _mixed_batch(3000, seed=5)
    ref = cm.evaluate_batch(layers, dfs, hw, consts, df_index=idx, threads=1)
    for threads in (0, 2, 3, 7, 64):
        got = cm.evaluate_batch(layers, dfs, hw, consts, df_index=idx, threads=threads)
        np.testing.assert_array_equal(got.ints, ref.ints)
        np.testing.assert_array_equal(got.floats, ref.floats)
    # The first bad row is the one reported, whichever thread meets it first.
    layers[1900, 5] = layers[1900, 3] - 1  # Y < R
    layers[2999, 2] = 0
    layers[700, 2] = -4
    for threads in (0, 1, 2, 5):
        with pytest.raises(ValueError, match=r"^row 700: layer dimension C"):
            cm.evaluate_batch(layers, dfs, hw, consts, df_index=idx, threads=threads)
    two = {k: (v[:2] if isinstance(v, np.ndarray) else v) for k, v in consts.items()}
    for bad in (-1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="threads"):
            cm.evaluate_batch(layers[:2], dfs, hw[:2], two, df_index=idx[:2], threads=bad)


def test_threads_match_sequential_and_release_gil():
    n = 120_000
    jobs = [_mixed_batch(n, seed=s) for s in (11, 12)]

    def call(job):
        layers, dfs, hw, consts, idx = job
        return cm.evaluate_batch(layers, dfs, hw, consts, df_index=idx, threads=1)

    t0 = time.perf_counter()
    sequential = [call(j) for j in jobs]
    alone = (time.perf_counter() - t0) / 2

    results: list = [None, None]
    done = threading.Event()

    def worker(k):
        results[k] = call(jobs[k])

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(2)]

    def watcher():
        for th in threads:
            th.join()
        done.set()

    for th in threads:
        th.start()
    threading.Thread(target=watcher).start()
    # While the core runs, this (GIL-holding) loop must keep running: record the longest
    # pause between two iterations.  With the GIL held by the core it would be ~`alone`.
    last, max_gap = time.perf_counter(), 0.0
    while not done.is_set():
        now = time.perf_counter()
        max_gap, last = max(max_gap, now - last), now
    for k in range(2):
        np.testing.assert_array_equal(results[k].ints, sequential[k].ints)
        np.testing.assert_array_equal(results[k].floats, sequential[k].floats)
    if alone > 0.2:  # only meaningful when a call is long compared with scheduler noise
        assert max_gap < 0.5 * alone, (max_gap, alone)


# ============================================================ 9. named columns
def _named_rows(n: int, seed: int):
    """Named columns of n random rows over [dla, shi, eye, dpt, USER_DF]; every
    field, N and the NoC and off-chip settings included, varies per row."""
    rng = np.random.default_rng(seed)
    dfs = [cm.DATAFLOWS[d] for d in DATAFLOW_NAMES] + [USER_DF]
    idx = rng.integers(0, 5, n)
    R, S = rng.integers(1, 6, n), rng.integers(1, 4, n)
    dsconv = idx == DATAFLOW_NAMES.index("dpt")
    layers = {"type": np.where(dsconv, cm.LAYER_TYPES.index("DSCONV"), cm.LAYER_TYPES.index("CONV")),
              "K": np.where(dsconv, 1, rng.integers(1, 65, n)), "C": rng.integers(1, 65, n),
              "R": R, "S": S, "Y": R + rng.integers(0, 30, n), "X": S + rng.integers(0, 30, n),
              "N": rng.integers(0, 4, n), "G": np.zeros(n, np.int64),
              "stride_y": np.ones(n, np.int64), "stride_x": np.ones(n, np.int64)}
    cluster = rng.choice(CONFUCIUX_PES, n)
    t1 = rng.integers(1, 9, n)
    pes = np.where(idx == 4, t1, cluster) * rng.choice([1, 1, 2, 3], n)
    hardware = {"num_pes": pes, "simd_lanes": rng.integers(1, 5, n),
                "noc_bw": rng.choice([1, 16, 64, cm.CONFUCIUX_NOC_BW], n),
                "noc_hops": rng.integers(0, 3, n), "noc_hop_latency": rng.integers(0, 4, n),
                "offchip_bw": rng.integers(1, 70_001, n)}
    constants = {"KTileSz": rng.integers(1, 13, n), "ClusterSz": cluster,
                 "CTileSz": rng.integers(1, 3, n), "T0": rng.integers(1, 9, n), "T1": t1}
    return layers, hardware, constants, idx, dfs


@pytest.mark.parametrize("preset", ["maestro2020", "maestro2021"])
def test_named_columns_match_single_rows(preset):
    """BatchEvaluator over named columns equals cm.evaluate of each row's objects.

    The keys come in an order unlike the core's columns, one column is a scalar,
    and USER_DF's constants (T0, T1) sit after the ConfuciuX ones in the union.
    """
    n = 120
    layers, hardware, constants, idx, dfs = _named_rows(n, seed=17)
    hardware["noc_hops"] = 2  # a scalar for every row
    ev = cm.BatchEvaluator(dfs, preset=preset)
    assert ev.constants == ("KTileSz", "ClusterSz", "CTileSz", "T0", "T1")
    res = ev.evaluate(layers=dict(reversed(layers.items())),
                      hardware=dict(reversed(hardware.items())),
                      constants=dict(reversed(constants.items())), df_index=idx)
    for i in range(n):
        dims = {d: int(layers[d][i]) for d in cm.DIMS}
        layer = cm.Layer(**dims, depthwise=cm.LAYER_TYPES[layers["type"][i]] == "DSCONV")
        hw = cm.Hardware(**{f: int(np.broadcast_to(v, n)[i]) for f, v in hardware.items()})
        consts = {k: int(v[i]) for k, v in constants.items()}
        assert _rows_equal(res.row(i), cm.evaluate(layer, dfs[idx[i]], hw, consts, preset=preset)), i
    # The array form of evaluate_batch (columns in LAYER_FIELDS / HARDWARE_FIELDS order).
    rows = np.stack([layers[f] for f in cm.LAYER_FIELDS], axis=1)
    hw_rows = np.stack([np.broadcast_to(hardware[f], n) for f in cm.HARDWARE_FIELDS], axis=1)
    again = cm.evaluate_batch(rows, dfs, hw_rows, constants, df_index=idx, preset=preset)
    np.testing.assert_array_equal(again.ints, res.ints)
    np.testing.assert_array_equal(again.floats, res.floats)


def test_named_columns_reach_the_core_fields_of_that_name():
    """Each named column feeds the core's field of that name: closed forms of §7
    (tensor sizes, PE and NoC power, NoC delay) per row would fail for any other
    column order."""
    layers, hardware, constants, idx, dfs = _named_rows(300, seed=23)
    hardware["noc_bw"] = cm.LIMITS["noc_bw"][1]  # every transfer fits in one NoC cycle
    res = cm.BatchEvaluator(dfs).evaluate(layers, hardware, constants, df_index=idx)
    K, C, R, S, Y, X = (layers[d] for d in "KCRSYX")
    batch = np.maximum(layers["N"], 1)
    conv = layers["type"] == cm.LAYER_TYPES.index("CONV")
    np.testing.assert_array_equal(res["input_pixels"], batch * C * Y * X)
    np.testing.assert_array_equal(res["weight_pixels"], np.where(conv, K, 1) * C * R * S)
    np.testing.assert_array_equal(res["output_l2_read"],
                                  batch * np.where(conv, K, C) * (Y - R + 1) * (X - S + 1))
    P, vw = hardware["num_pes"].astype(np.float64), hardware["simd_lanes"]
    np.testing.assert_array_equal(res["pe_power"], P * 1.2223 * vw)
    beta, alpha = 14.662 * P + 28.895, 1.2886 * P * P + 5.5814 * P - 23.711
    np.testing.assert_allclose(res["noc_power"], 0.8 * beta / 1000 * hardware["noc_bw"]
                               + np.maximum(0.34, 0.34 * alpha / 1000), rtol=1e-12)
    # §6 step 8: with the whole transfer in one cycle, noc(d) = H = hops x latency.
    H = hardware["noc_hops"] * hardware["noc_hop_latency"]
    live = res["degenerate"] == 0
    assert live.sum() > 250
    np.testing.assert_array_equal(res["ingress_max"][live], H[live])


def test_exported_fields_match_the_core():
    assert cm.DIMS == ("K", "C", "R", "S", "Y", "X", "N", "G")
    assert cm.LAYER_FIELDS == ("type", *cm.DIMS, "stride_y", "stride_x")
    assert cm.LAYER_TYPES == ("CONV", "DSCONV", "NGCONV", "TRCONV", "GEMM")
    assert cm.PRESETS == ("maestro2020", "maestro2021")
    assert cm.LAYER_DEFAULTS == {"type": cm.LAYER_TYPES.index("CONV"), "N": 0, "G": 0,
                                 "stride_y": 1, "stride_x": 1}
    assert cm.Layer(1, 1, 1, 1, 1, 1).fields() == {"type": 0, "K": 1, "C": 1, "R": 1, "S": 1,
                                                   "Y": 1, "X": 1, "N": 0, "G": 0,
                                                   "stride_y": 1, "stride_x": 1}
    assert cm.MAESTRO_DEFAULTS == {"num_pes": 7, "simd_lanes": 1, "noc_bw": 2**31 - 1,
                                   "noc_hops": 1, "noc_hop_latency": 0, "offchip_bw": 70_000}
    names = [f.name for f in dataclasses.fields(cm.Hardware)]
    assert tuple(names[:len(cm.HARDWARE_FIELDS)]) == cm.HARDWARE_FIELDS
    assert cm.Hardware().fields() == cm.HARDWARE_DEFAULTS
    assert cm.HARDWARE_DEFAULTS["noc_bw"] == cm.CONFUCIUX_NOC_BW == 81_920_000
    assert set(cm.LIMITS) == {*cm.DIMS, "stride_y", "stride_x", *cm.HARDWARE_FIELDS, "constant"}
    # The core checks each array's width and names its columns in the exported order.
    ev = cm.BatchEvaluator(DLA)
    inputs = ev.prepare(GOOD.fields(), HW4, DLA_C)
    assert inputs.layers.tolist() == [GOOD.row()] and inputs.hardware.tolist() == [HW4.row()]
    for name, fields in (("layers", cm.LAYER_FIELDS), ("hardware", cm.HARDWARE_FIELDS)):
        short = dataclasses.replace(inputs, **{name: getattr(inputs, name)[:, :-1].copy()})
        with pytest.raises(ValueError, match=re.escape(f"{len(fields)} columns ({', '.join(fields)})")):
            ev.run(short)


@pytest.mark.parametrize("field", [*cm.DIMS, *cm.HARDWARE_FIELDS, "constant"])
def test_exported_limits_are_the_core_limits(field):
    lo, hi = cm.LIMITS[field]
    ev = cm.BatchEvaluator(DLA)

    def run(value):
        layers, hardware = GOOD.fields(), HW4.fields()
        constants = cm.confuciux_constants(pes=1, tile=2)  # any num_pes fits the cluster
        if field in cm.DIMS:
            layers[field] = value
        elif field in cm.HARDWARE_FIELDS:
            hardware[field] = value
        else:
            constants["KTileSz"] = value
        return ev.evaluate(layers, hardware, constants)

    what = rf"dimension {field}\b" if field in cm.DIMS else field
    for bad in (lo - 1, hi + 1):
        with pytest.raises(ValueError, match=what):
            run(bad)
    if field not in ("R", "S", "Y", "X", "G"):  # R <= Y, S <= X, G only for NGCONV bind first
        for good in (lo, hi):
            assert run(good)["macs"][0] > 0
    with pytest.raises(ValueError, match=">= 1 and <= " + str(cm.LIMITS["constant"][1])):
        cm.Dataflow.parse(f"TemporalMap({cm.LIMITS['constant'][1] + 1},1) K;")


@pytest.mark.parametrize("kwargs,match", [
    ({"layers": {"K": 4}}, r"layers needs a value for C, R, S, Y, X"),
    ({"layers": {**GOOD.fields(), "Q": 1}}, r"unknown layers field 'Q'"),
    ({"layers": GOOD.fields(), "hardware": {"num_pe": 4}}, r"unknown hardware field 'num_pe'"),
    ({"layers": [GOOD.row()]}, r"layers must map names"),
    ({"layers": {**GOOD.fields(), "K": [8, 8]}, "df_index": [0, 0, 0]}, r"df_index .*length 2"),
    ({"layers": {**GOOD.fields(), "K": [[8]]}}, r"layers K must be a scalar or a 1-D array"),
    ({"layers": {**GOOD.fields(), "C": 2.5}}, r"layers C must hold integers"),
    ({"layers": GOOD.fields(), "constants": {"KTileSz": 2}}, r"needs a value for constant 'ClusterSz'"),
    ({"layers": {**GOOD.fields(), "type": 5}},
     r"layer type must be one of 0 \(CONV\), 1 \(DSCONV\), 2 \(NGCONV\), 3 \(TRCONV\), 4 \(GEMM\)"),
])
def test_named_columns_bad_input(kwargs, match):
    kwargs = {"hardware": HW4, "constants": DLA_C, **kwargs}
    with pytest.raises(ValueError, match=match):
        cm.BatchEvaluator(DLA).evaluate(**kwargs)


def test_prepared_rows_changed_in_place():
    """prepare once, change columns by name, run: the same as a fresh evaluation."""
    ev = cm.BatchEvaluator([DLA, cm.DATAFLOWS["dpt"]])
    inputs = ev.prepare(GOOD.fields(), HW4, DLA_C).take([0, 0])
    depthwise = dataclasses.replace(GOOD, depthwise=True)
    inputs.df_index[1] = 1
    inputs.layers[1, cm.LAYER_FIELDS.index("type")] = depthwise.fields()["type"]
    inputs.hardware[:, cm.HARDWARE_FIELDS.index("num_pes")] = 8
    inputs.constants[:, ev.constants.index("ClusterSz")] = 8
    got = ev.run(inputs)
    for i, (layer, df) in enumerate([(GOOD, DLA), (depthwise, cm.DATAFLOWS["dpt"])]):
        want = cm.evaluate(layer, df, cm.Hardware(num_pes=8), cm.confuciux_constants(8, 2))
        assert _rows_equal(got.row(i), want)
