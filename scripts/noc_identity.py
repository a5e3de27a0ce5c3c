"""The NoC core's results on varied configurations, for changes that must not alter them.

    python scripts/noc_identity.py --out before/                          # write every result
    python scripts/noc_identity.py --out after/ --compare before/noc_identity.json

A tool for work on the cycle loop (src/archgym/csrc/noc/network.cpp): write the
results before a change, then compare after it; every result must be equal as
text (the floats exactly).  It covers every topology, 1 to 32 VCs (the four mask
widths), every allocator, the router options (speculation, speedups, held
switches, wait_for_tail_credit, priorities, delays), on/off injection, packet
sizes 1 to 8, loads low and past saturation, measure() in both sim_types, and a
persistent Network under per-router routing.  Short runs: about a minute.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from archgym import noc

SHORT = dict(sample_period=300, warmup_periods=1, max_samples=4)
TRIANGLE = dict(anynet_nodes=(0, 0, 0, 1, 1, 1, 2, 2, 2),
                anynet_channels=(0, 1, 1, 0, 2, 1, 1, 0, 1, 1, 2, 1, 2, 0, 1, 2, 1, 1))

#: name -> NocConfig keyword arguments (SHORT unless they say otherwise).
MEASURED = {
    "mesh 8x8 0.1": dict(injection_rate=0.1),
    "mesh 8x8 0.3": dict(injection_rate=0.3),
    "mesh 16x16 0.1": dict(k=16, injection_rate=0.1, max_samples=3),
    "mesh 8x8 4-flit 0.2": dict(packet_size=4, injection_rate=0.2),
    "mesh 8x8 saturated 0.5": dict(injection_rate=0.5),
    "mesh 8x8 8-flit 0.35": dict(packet_size=8, injection_rate=0.35),
    "mesh 2 VCs buf 4 0.3": dict(num_vcs=2, vc_buf_size=4, injection_rate=0.3),
    "mesh 8 VCs buf 16 xy_yx 0.4": dict(num_vcs=8, vc_buf_size=16, routing_function="xy_yx",
                                        injection_rate=0.4),
    "mesh 16 VCs min_adapt 0.35": dict(num_vcs=16, routing_function="min_adapt",
                                       injection_rate=0.35, packet_size=2),
    "mesh 32 VCs romm transpose 0.2": dict(num_vcs=32, vc_buf_size=2, routing_function="romm",
                                           traffic="transpose", injection_rate=0.2),
    "mesh 3-D k4 8 VCs 0.3": dict(n=3, k=4, num_vcs=8, injection_rate=0.3),
    "ring mesh n1 k8 0.2": dict(n=1, k=8, num_vcs=2, injection_rate=0.2),
    "torus 8x8 dim_order 0.3": dict(topology="torus", routing_function="dim_order",
                                    injection_rate=0.3, packet_size=2),
    "torus 3-D k4 min_adapt": dict(topology="torus", n=3, k=4, routing_function="min_adapt",
                                   num_vcs=4, injection_rate=0.25),
    "fly 4-ary 2 dest_tag 0.4": dict(topology="fly", k=4, n=2, routing_function="dest_tag",
                                     num_vcs=2, injection_rate=0.4),
    "flatfly k4 c4 ran_min 0.3": dict(topology="flatfly", k=4, n=2, c=4, routing_function="ran_min",
                                      injection_rate=0.3),
    "flatfly k4 c16 16 VCs 0.2": dict(topology="flatfly", k=4, n=2, c=16, num_vcs=16,
                                      routing_function="ran_min", injection_rate=0.2,
                                      max_samples=3),
    "cmesh k4 dor 0.2": dict(topology="cmesh", k=4, n=2, c=4, injection_rate=0.2),
    "fattree 4-ary 3 nca 0.3": dict(topology="fattree", k=4, n=3, routing_function="nca",
                                    injection_rate=0.3),
    "dragonfly k2 min 0.1": dict(topology="dragonflynew", k=2, n=1, routing_function="min",
                                 num_vcs=2, vc_buf_size=64, injection_rate=0.1,
                                 sample_period=400, max_samples=2),
    "anynet triangle min 0.3": dict(topology="anynet", routing_function="min", num_vcs=2,
                                    injection_rate=0.3, **TRIANGLE),
    "islip 0.35": dict(vc_allocator="islip", sw_allocator="islip", injection_rate=0.35),
    "islip 2 iters 4-flit": dict(vc_allocator="islip", sw_allocator="islip", alloc_iters=2,
                                 packet_size=4, injection_rate=0.3),
    "separable_output_first 0.35": dict(vc_allocator="separable_output_first",
                                        sw_allocator="separable_output_first", injection_rate=0.35),
    "wavefront 0.35": dict(vc_allocator="wavefront", sw_allocator="wavefront", injection_rate=0.35),
    "pim 2 iters 0.35": dict(vc_allocator="pim", sw_allocator="pim", alloc_iters=2,
                             injection_rate=0.35),
    "loa 0.35": dict(vc_allocator="loa", sw_allocator="loa", injection_rate=0.35),
    "max_size 0.35": dict(vc_allocator="max_size", sw_allocator="max_size", injection_rate=0.35),
    "select 0.35": dict(vc_allocator="select", sw_allocator="select", injection_rate=0.35),
    "speculative 4-flit 0.3": dict(speculative=True, packet_size=4, injection_rate=0.3),
    "speculative vc_alloc_delay 2": dict(speculative=True, vc_alloc_delay=2, injection_rate=0.3),
    "input_speedup 2 0.4": dict(input_speedup=2, injection_rate=0.4),
    "output_speedup 2 0.4": dict(output_speedup=2, injection_rate=0.4),
    "internal_speedup 1.5 0.4": dict(internal_speedup=1.5, injection_rate=0.4),
    "hold_switch 8-flit 0.3": dict(hold_switch_for_packet=True, packet_size=8, injection_rate=0.3),
    "wait_for_tail_credit 4-flit": dict(wait_for_tail_credit=True, packet_size=4,
                                        injection_rate=0.25),
    "priority age": dict(priority="age", injection_rate=0.4, packet_size=2),
    "priority network_age islip": dict(priority="network_age", vc_allocator="islip",
                                       sw_allocator="islip", injection_rate=0.4),
    "priority local_age": dict(priority="local_age", injection_rate=0.4),
    "priority queue_length": dict(priority="queue_length", injection_rate=0.4),
    "priority hop_count": dict(priority="hop_count", injection_rate=0.4),
    "priority sequence": dict(priority="sequence", injection_rate=0.4, packet_size=4),
    "on/off 4-flit": dict(injection_process="on_off", burst_alpha=0.2, burst_beta=0.4,
                          packet_size=4, injection_rate=0.2),
    "delays 0 2 3": dict(routing_delay=0, vc_alloc_delay=2, sw_alloc_delay=3, st_final_delay=2,
                         credit_delay=2, injection_rate=0.25),
    "routing_delay 3 link 2": dict(routing_delay=3, link_latency=2, injection_rate=0.2),
    "throughput 0.3": dict(sim_type="throughput", injection_rate=0.3),
    "hotspot 0.05": dict(traffic="hotspot", hotspot_nodes=(0, 27), injection_rate=0.05),
    "tornado valiant 0.2": dict(traffic="tornado", routing_function="valiant", injection_rate=0.2),
}


def measured(name: str) -> dict:
    r = noc.measure(noc.NocConfig(**{**SHORT, **MEASURED[name]}))
    return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in dict(r).items()}


def persistent() -> dict:
    """A Network advanced in steps: per-router routing, then a rate and routing change."""
    net = noc.Network(noc.NocConfig(injection_rate=0.3, packet_size=2, num_vcs=4), record=True)
    out = {}
    routers = noc.network_shape(net.config)["routers"]
    per_router = np.arange(routers) % len(noc.ROUTINGS_PER_ROUTER)
    for step, change in enumerate([None, per_router, "xy_yx", None]):
        if change is not None:
            net.set_routing(change)
        if step == 3:
            net.set_injection_rate(0.45)
        stats = net.run(700)
        out[f"run {step}"] = {k: (v.tolist() if isinstance(v, np.ndarray) else v)
                              for k, v in stats.items()}
        out[f"credits {step}"] = np.asarray(net.credits()).tolist()
        out[f"occupancy {step}"] = np.asarray(net.occupancy()).tolist()
        out[f"counters {step}"] = dict(net.counters())
        out[f"delivered {step}"] = {k: np.asarray(v).tolist() for k, v in net.delivered().items()}
    return out


def results(quick: bool = False) -> dict[str, str]:
    """Every result as canonical JSON text (NaN kept as NaN); quick: the first four only."""
    names = list(MEASURED)[:4] if quick else MEASURED
    out = {name: json.dumps(measured(name), sort_keys=True) for name in names}
    out["persistent network"] = json.dumps(persistent(), sort_keys=True, default=str)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "benchmarks" / "out",
                    help="folder to write noc_identity.json into (default: %(default)s)")
    ap.add_argument("--compare", help="an earlier noc_identity.json: exit 1 unless every result equals it")
    ap.add_argument("--quick", action="store_true", help="the first four configurations only")
    args = ap.parse_args(argv)
    got = results(args.quick)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "noc_identity.json"
    with open(path, "w") as fh:
        json.dump(got, fh, indent=0, sort_keys=True)
    print(f"{len(got)} results written to {path}")
    if not args.compare:
        return 0
    with open(args.compare) as fh:
        before = json.load(fh)
    differ = sorted(k for k in before.keys() | got.keys() if before.get(k) != got.get(k))
    for k in differ:
        print(f"DIFFERENT: {k}")
    print(f"{len(got) - len(differ)} of {len(got)} identical")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
