"""Cycle-level network-on-chip simulator (Python face of ``archgym._sim.noc``).

A k x k mesh or torus of 5-port input-queued virtual-channel routers with
credit-based flow control, modelled cycle by cycle after BookSim2's ``iq``
router (see ``docs/noc.md``).  Configuration keys carry BookSim's names.

Two ways to run it:

* :func:`measure` (and :func:`measure_many`, several configurations over
  threads): BookSim's latency-mode measurement -- warm-up periods, sample
  periods until latency and accepted rate are stable, an "unstable" abort past
  ``latency_thres``, drain -- returning BookSim's summary figures.
* :class:`Network`: a persistent network advanced ``run(cycles)`` at a time;
  queues carry over, and injection rate, traffic pattern and routing (network
  wide or per router) can change between calls.

    >>> from archgym import noc
    >>> r = noc.measure(noc.NocConfig(traffic="transpose", injection_rate=0.1))
    >>> r["avg_packet_latency"], r["status"]
    >>> net = noc.Network(noc.NocConfig(routing_function="duato"))
    >>> stats = net.run(1000)            # stats["link_utilisation"].shape == (64, 4)
    >>> net.set_routing(np.zeros(64, dtype=np.int32))   # per router, see ROUTINGS_PER_ROUTER

Port numbering (arrays indexed by port): 0 = +x (east, to node n+1),
1 = -x (west), 2 = +y (north, to node n+k), 3 = -y (south), 4 = local
(injection for input ports, ejection for output ports).  Node id = x + k*y.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from numbers import Integral, Real

import numpy as np

from archgym import _sim

_core = _sim.noc

#: Routing functions accepted as ``routing_function`` (BookSim names first).
ROUTING_FUNCTIONS: tuple[str, ...] = tuple(_core.ROUTING_FUNCTIONS)
#: Traffic patterns (BookSim definitions; ``randperm`` is a seeded random permutation).
TRAFFIC_PATTERNS: tuple[str, ...] = tuple(_core.TRAFFIC_PATTERNS)
#: Routings that may be mixed per router (Network.set_routing with an int array
#: of indices into this tuple).  In per-router mode every router keeps VC 0
#: (on a torus VCs 0-1, dateline classes) as a dimension-order XY escape channel
#: and takes the adaptive VCs 1..V-1 only when they are empty, along minimal
#: ports: ``dor`` = the XY port, ``min_adapt`` = the XY port and a packet on the
#: escape VC stays there, ``duato`` = the less loaded productive port first,
#: ``random_min`` = a random productive port.  By Duato's theorem any mixture,
#: and any change of mixture between calls, is deadlock-free.  Needs >= 2 VCs
#: (mesh) or >= 3 (torus).  (Network-wide ``dor`` and ``min_adapt`` are
#: BookSim's, which share the adaptive VCs; see docs/noc.md.)
ROUTINGS_PER_ROUTER: tuple[str, ...] = tuple(_core.ROUTINGS_PER_ROUTER)
TOPOLOGIES = ("mesh", "torus")
ALLOCATORS = ("separable_input_first", "islip")
INJECTION_PROCESSES = ("bernoulli", "on_off")
MAX_K: int = _core.MAX_K
MAX_VCS: int = _core.MAX_VCS

# Minimum VCs per routing on (mesh, torus); None = not available there.
_MIN_VCS = {
    "dor": (1, 2), "yx": (1, 2), "xy_yx": (2, 4), "adaptive_xy_yx": (2, 4),
    "min_adapt": (2, 3), "duato": (2, 3), "random_min": (2, 3),
    "romm": (2, None), "valiant": (2, None),
}
_TURN_MODELS = ("west_first", "north_last", "negative_first", "odd_even")
for _name in _TURN_MODELS:
    _MIN_VCS[_name] = (1, None)
    _MIN_VCS[_name + "_oblivious"] = (1, None)


def _choice(field: str, value, accepted: Sequence[str]) -> None:
    if not isinstance(value, str) or value not in accepted:
        raise ValueError(f"{field} {value!r} is unknown; accepted: {', '.join(accepted)}")


def _int(field: str, value, lo: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f"{field} must be an integer between {lo} and {hi} (got {value!r})")
    if not lo <= value <= hi:
        raise ValueError(f"{field} must be between {lo} and {hi} (got {value})")


def _real(field: str, value, lo: float, hi: float, lo_open: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ValueError(f"{field} must be a finite number in [{lo}, {hi}] (got {value!r})")
    if value < lo or value > hi or (lo_open and value <= lo):
        bracket = "(" if lo_open else "["
        raise ValueError(f"{field} must be in {bracket}{lo}, {hi}] (got {value})")


def check_routing(routing: str, topology: str, num_vcs: int, field: str = "routing_function") -> None:
    """Raise ValueError unless ``routing`` runs on ``topology`` with ``num_vcs`` VCs."""
    _choice(field, routing, ROUTING_FUNCTIONS)
    need = _MIN_VCS[routing][topology == "torus"]
    if need is None:
        raise ValueError(f"{field} {routing!r} is only available on a mesh; on a torus use one of: "
                         "dor, yx, xy_yx, adaptive_xy_yx, min_adapt, duato, random_min")
    if num_vcs < need:
        raise ValueError(f"{field} {routing!r} needs at least {need} VCs on a {topology} "
                         f"(num_vcs = {num_vcs})")


def check_traffic(pattern: str, k: int) -> None:
    """Raise ValueError unless ``pattern`` is known and defined for radix ``k``."""
    _choice("traffic", pattern, TRAFFIC_PATTERNS)
    if pattern in ("bitrev", "shuffle") and k & (k - 1):
        raise ValueError(f"traffic {pattern!r} needs k to be a power of 2 (k = {k})")


@dataclass(frozen=True)
class NocConfig:
    """One simulation's configuration; BookSim's key names and defaults (booksim_base.cfg).

    Beyond BookSim's keys: ``hotspot_nodes`` (node ids; empty = the centre node
    (k/2, k/2)) and ``hotspot_rates`` (relative weights, > 0, one per node;
    empty = equal) for ``traffic="hotspot"``, where every packet goes to a
    hotspot node chosen with those weights (BookSim's definition);
    ``burst_alpha`` (P(off -> on) per cycle) and ``burst_beta`` (P(on -> off))
    for ``injection_process="on_off"``, a two-state Markov source whose rate
    while on is set so that the mean rate is ``injection_rate``;
    ``watchdog_cycles``: no flit moved for this many cycles while flits are in
    the network = deadlock; ``max_drain_periods``: cap on the drain of
    :func:`measure`, in sample periods.
    """

    topology: str = "mesh"
    k: int = 8
    num_vcs: int = 4
    vc_buf_size: int = 8
    routing_function: str = "dor"
    traffic: str = "uniform"
    packet_size: int = 1
    injection_rate: float = 0.02
    injection_rate_uses_flits: bool = True
    injection_process: str = "bernoulli"
    burst_alpha: float = 0.5
    burst_beta: float = 0.5
    routing_delay: int = 1
    vc_alloc_delay: int = 1
    sw_alloc_delay: int = 1
    st_final_delay: int = 1
    credit_delay: int = 1
    link_latency: int = 1
    vc_allocator: str = "separable_input_first"
    sw_allocator: str = "separable_input_first"
    warmup_periods: int = 3
    sample_period: int = 1000
    max_samples: int = 10
    latency_thres: float = 500.0
    stopping_thres: float = 0.05
    acc_stopping_thres: float = 0.05
    seed: int = 42
    hotspot_nodes: tuple = ()
    hotspot_rates: tuple = ()
    watchdog_cycles: int = 1000
    max_drain_periods: int = 100

    def __post_init__(self):
        # Tuples (hashable, frozen) even when lists are passed.
        object.__setattr__(self, "hotspot_nodes", tuple(self.hotspot_nodes))
        object.__setattr__(self, "hotspot_rates", tuple(self.hotspot_rates))
        _choice("topology", self.topology, TOPOLOGIES)
        _int("k", self.k, 2, MAX_K)
        _int("num_vcs", self.num_vcs, 1, MAX_VCS)
        _int("vc_buf_size", self.vc_buf_size, 1, 64)
        check_routing(self.routing_function, self.topology, self.num_vcs)
        check_traffic(self.traffic, self.k)
        _int("packet_size", self.packet_size, 1, 256)
        _real("injection_rate", self.injection_rate, 0.0, 1.0)
        if not isinstance(self.injection_rate_uses_flits, (bool, np.bool_)):
            raise ValueError("injection_rate_uses_flits must be a bool")
        _choice("injection_process", self.injection_process, INJECTION_PROCESSES)
        _real("burst_alpha", self.burst_alpha, 0.0, 1.0, lo_open=True)
        _real("burst_beta", self.burst_beta, 0.0, 1.0, lo_open=True)
        for name in ("routing_delay", "vc_alloc_delay", "credit_delay"):
            _int(name, getattr(self, name), 0, 16)
        for name in ("sw_alloc_delay", "st_final_delay", "link_latency"):
            _int(name, getattr(self, name), 1, 16)
        _choice("vc_allocator", self.vc_allocator, ALLOCATORS)
        _choice("sw_allocator", self.sw_allocator, ALLOCATORS)
        _int("warmup_periods", self.warmup_periods, 1, 1000)
        _int("sample_period", self.sample_period, 1, 10_000_000)
        _int("max_samples", self.max_samples, self.warmup_periods + 1, 100_000)
        _real("latency_thres", self.latency_thres, 0.0, 1e12, lo_open=True)
        _real("stopping_thres", self.stopping_thres, 0.0, 1e6)
        _real("acc_stopping_thres", self.acc_stopping_thres, 0.0, 1e6)
        _int("seed", self.seed, 0, 2**64 - 1)
        n = self.k * self.k
        for h in self.hotspot_nodes:
            _int("hotspot_nodes", h, 0, n - 1)
        if self.hotspot_rates and len(self.hotspot_rates) != len(self.hotspot_nodes):
            raise ValueError("hotspot_rates must be empty or have one weight per hotspot node "
                             f"({len(self.hotspot_nodes)} nodes, {len(self.hotspot_rates)} rates)")
        for w in self.hotspot_rates:
            _real("hotspot_rates", w, 0.0, 1e12, lo_open=True)
        _int("watchdog_cycles", self.watchdog_cycles, 200, 100_000_000)
        _int("max_drain_periods", self.max_drain_periods, 1, 1_000_000)
        _core.validate(self._core())  # the C++ checks (on/off rate limit, ...)

    def _core(self):
        c = _core.Config()
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "hotspot_nodes":
                value = [int(v) for v in value]
            elif f.name == "hotspot_rates":
                value = [float(v) for v in value]
            elif isinstance(value, (bool, np.bool_)):
                value = bool(value)
            elif isinstance(value, Integral):
                value = int(value)
            elif isinstance(value, Real):
                value = float(value)
            setattr(c, f.name, value)
        return c


def measure(config: NocConfig) -> dict:
    """BookSim's latency-mode measurement of one configuration.

    Returns ``avg_packet_latency`` (tail ejection - creation, queueing
    included), ``avg_network_latency`` (tail ejection - head injection),
    ``avg_flit_latency``, ``avg_hops`` (routers traversed), ``accepted_flit_rate``
    and ``injected_flit_rate`` (flits/node/cycle over the measurement window),
    ``status`` ("ok": converged and accepted >= 0.95 x offered; "saturated":
    completed without converging in max_samples periods or accepting less;
    "unstable": aborted past latency_thres, a deadlock or the drain cap, with
    the figures of the last sample and avg_hops NaN), ``sample_periods`` (warm-up
    included), ``total_cycles``; plus ``booksim_result``, ``deadlock`` (the
    watchdog fired), ``measured_packets``, ``period_latency`` and
    ``period_accepted`` (per sample period).
    """
    if not isinstance(config, NocConfig):
        raise ValueError("measure() needs a NocConfig")
    return _core.measure(config._core())


def measure_many(configs: Sequence[NocConfig], threads: int = 0) -> list[dict]:
    """:func:`measure` for each config, run over ``threads`` threads (0 = one per core) in C++."""
    configs = list(configs)
    for i, c in enumerate(configs):
        if not isinstance(c, NocConfig):
            raise ValueError(f"configs[{i}] is not a NocConfig")
    _int("threads", threads, 0, 4096)
    return _core.measure_many([c._core() for c in configs], threads)


def traffic_destinations(config: NocConfig) -> np.ndarray:
    """Destination of every node under ``config.traffic`` (int32 [k*k]); -1 where it is random
    (uniform, hotspot).  ``randperm`` gives the permutation of ``config.seed``."""
    return _core.Network(config._core()).destinations()


class Network:
    """A persistent network: ``run(cycles)`` advances it; state carries over between calls.

    Attributes read after a call: :attr:`cycle`; methods :meth:`counters`
    (monotonic totals for invariant checks), :meth:`credits`, :meth:`occupancy`,
    :meth:`backlog_per_node`, :meth:`delivered` (per-packet records of the last
    call, when ``record=True``).
    """

    def __init__(self, config: NocConfig, record: bool = False):
        if not isinstance(config, NocConfig):
            raise ValueError("Network() needs a NocConfig")
        self.config = config
        self._net = _core.Network(config._core())
        self._net.set_record(bool(record))
        self._n = config.k * config.k
        self._routing: str | np.ndarray = config.routing_function

    @property
    def cycle(self) -> int:
        """Cycles simulated so far."""
        return self._net.cycle

    @property
    def deadlocked(self) -> bool:
        """True once the watchdog has fired (sticky)."""
        return self._net.deadlocked

    @property
    def routing(self) -> str | np.ndarray:
        """The current routing: a name, or the per-router index array."""
        return self._routing

    def run(self, cycles: int) -> dict:
        """Advance ``cycles`` cycles (GIL released) and return the statistics of these cycles.

        Keys: ``cycles``; ``delivered_packets``, ``delivered_flits``; ``avg_latency``,
        ``avg_network_latency``, ``avg_hops`` of the packets delivered in the call
        (NaN if none); ``latencies`` (int32, one per delivered packet);
        ``accepted_flit_rate``, ``injected_flit_rate`` (flits/node/cycle);
        ``backlog_flits`` (created, not yet injected: source queues),
        ``in_network_flits`` (injected, not yet ejected), at the end of the call;
        ``link_utilisation`` float32 [k*k, 4] (flits sent per cycle on output
        ports 0..3; 0 for links off the mesh edge); ``buffer_occupancy`` float32
        [k*k, 5] (mean occupancy of input ports 0..4 as a fraction of V*B);
        ``status`` "ok" or "deadlock" (the watchdog fired; sticky).
        """
        _int("cycles", cycles, 0, 2**40)
        return self._net.run(int(cycles))

    def set_injection_rate(self, rate: float) -> None:
        _real("injection_rate", rate, 0.0, 1.0)
        self._net.set_injection_rate(float(rate))

    def set_traffic(self, pattern: str) -> None:
        check_traffic(pattern, self.config.k)
        self._net.set_traffic(pattern)

    def set_routing(self, routing: str | np.ndarray) -> None:
        """A routing name (network wide; packets in flight keep the routing they started
        with), or an int array [k*k] of indices into :data:`ROUTINGS_PER_ROUTER`
        (each router routes every head flit with its own algorithm)."""
        if isinstance(routing, str):
            check_routing(routing, self.config.topology, self.config.num_vcs, "routing")
            self._net.set_routing(routing)
            self._routing = routing
            return
        arr = np.asarray(routing)
        if arr.dtype.kind not in "iu" or arr.shape != (self._n,):
            raise ValueError(f"set_routing needs a routing name or an integer array of shape "
                             f"({self._n},) indexing ROUTINGS_PER_ROUTER {ROUTINGS_PER_ROUTER}; "
                             f"got dtype {arr.dtype}, shape {arr.shape}")
        if arr.size and (arr.min() < 0 or arr.max() >= len(ROUTINGS_PER_ROUTER)):
            raise ValueError(f"per-router routing indices must be between 0 and "
                             f"{len(ROUTINGS_PER_ROUTER) - 1} ({', '.join(ROUTINGS_PER_ROUTER)})")
        check_routing("min_adapt", self.config.topology, self.config.num_vcs, "per-router routing")
        arr = np.ascontiguousarray(arr, dtype=np.int32)
        self._net.set_routing_per_router(arr)
        self._routing = arr.copy()

    def send(self, src: int, dst: int) -> None:
        """Queue one packet from ``src`` to ``dst``, created now (whatever the traffic pattern)."""
        _int("src", src, 0, self._n - 1)
        _int("dst", dst, 0, self._n - 1)
        self._net.send(int(src), int(dst))

    def set_generation(self, on: bool) -> None:
        """Stop or resume random packet generation (queued and in-flight packets continue)."""
        self._net.set_generation(bool(on))

    def counters(self) -> dict:
        """Monotonic totals: created/injected/ejected flits, backlog_flits, in_network_flits,
        buffered_flits, flit_latency_sum, in_network_integral, ... (see docs/noc.md)."""
        return self._net.counters()

    def credits(self) -> np.ndarray:
        """Free credits per output VC, int32 [k*k, 5, V]."""
        return self._net.credits()

    def occupancy(self) -> np.ndarray:
        """Flits buffered now per input port, int32 [k*k, 5]."""
        return self._net.occupancy()

    def backlog_per_node(self) -> np.ndarray:
        """Flits created but not yet injected, per node (int64 [k*k])."""
        return self._net.backlog_per_node()

    def delivered(self) -> dict:
        """Per-packet records of the last run() (needs record=True): src, dst, ctime, itime,
        atime, hops arrays."""
        return self._net.delivered()
