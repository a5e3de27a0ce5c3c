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

import dataclasses
from collections.abc import Sequence

import numpy as np

from archgym import _sim

_core = _sim.noc

#: The configuration fields, as the C++ core defines them (``csrc/noc/config.cpp``),
#: in order: dicts with ``name``, ``type``, ``default``, ``min``, ``max``,
#: ``min_exclusive`` (numbers and number tuples), ``choices`` (names),
#: ``accepted`` (the text the error messages use) and ``doc``.
#: :class:`NocConfig` is generated from this table.
CONFIG_FIELDS: tuple[dict, ...] = _core.CONFIG_FIELDS
#: Routing functions accepted as ``routing_function`` (BookSim names first).
ROUTING_FUNCTIONS: tuple[str, ...] = _core.ROUTING_FUNCTIONS
#: The fewest VCs of each routing function per topology (a topology that is
#: absent: the routing does not run there), from the core's routing registry.
ROUTING_MIN_VCS: dict[str, dict[str, int]] = _core.ROUTING_MIN_VCS
#: The routings that give each destination class VCs of its own (BookSim's
#: non-interfering ``*_ni`` one class per node, ``dim_order_pni`` one per
#: coordinate value, k classes): their ROUTING_MIN_VCS counts VCs per class.
ROUTING_VC_CLASSES: dict[str, str] = _core.ROUTING_VC_CLASSES
#: Traffic patterns (BookSim definitions; ``randperm`` is a random permutation drawn from
#: ``perm_seed``, independent of ``seed``).
TRAFFIC_PATTERNS: tuple[str, ...] = _core.TRAFFIC_PATTERNS
#: Routings that may be mixed per router (Network.set_routing with an int array
#: of indices into this tuple).  In per-router mode every router keeps VC 0
#: (on a torus VCs 0-1, dateline classes) as a dimension-order XY escape channel
#: and takes the adaptive VCs 1..V-1 only when they are empty, along minimal
#: ports: ``dor`` = the XY port, ``min_adapt`` = the XY port and a packet on the
#: escape VC stays there, ``duato`` = the less loaded productive port first,
#: ``random_min`` = a random productive port.  By Duato's theorem any mixture,
#: and any change of mixture between calls, is deadlock-free.  The VCs they need
#: per topology: :data:`PER_ROUTER_MIN_VCS`.  (Network-wide ``dor`` and
#: ``min_adapt`` are BookSim's, which share the adaptive VCs; see docs/noc.md.)
ROUTINGS_PER_ROUTER: tuple[str, ...] = _core.ROUTINGS_PER_ROUTER
PER_ROUTER_MIN_VCS: dict[str, dict[str, int]] = _core.PER_ROUTER_MIN_VCS
#: ugal's decision rules on a dragonflynew or a flatfly, one per source router
#: (Network.set_ugal_decisions, docs/design/noc.md §15c, §15b): ``ugal_l`` (BookSim's ugal,
#: the default), ``min`` (minimal), ``val`` (Valiant: through an intermediate router),
#: ``ugal_g`` (UGAL's rule on the queues along the paths: a dragonfly's global channels
#: out of the source group, every channel of a flatfly path).
UGAL_DECISIONS: tuple[str, ...] = _core.UGAL_DECISIONS
#: The port classes of Network.dragonfly_credits_in_use's columns (local, global channels).
DRAGONFLY_PORT_CLASSES: tuple[str, ...] = _core.DRAGONFLY_PORT_CLASSES
#: The port classes of Network.flatfly_credits_in_use's columns (row, column channels).
FLATFLY_PORT_CLASSES: tuple[str, ...] = _core.FLATFLY_PORT_CLASSES
#: The largest k of a dragonflynew (k nodes per router, 2k routers per group).
MAX_DRAGONFLY_K: int = _core.MAX_DRAGONFLY_K
TOPOLOGIES: tuple[str, ...] = _core.TOPOLOGIES
ALLOCATORS: tuple[str, ...] = _core.ALLOCATORS
INJECTION_PROCESSES: tuple[str, ...] = _core.INJECTION_PROCESSES
MAX_K: int = _core.MAX_K
MAX_NODES: int = _core.MAX_NODES
MAX_VCS: int = _core.MAX_VCS


def check_routing(routing: str, topology: str, num_vcs: int, field: str = "routing_function",
                  k: int = 8, n: int = 2) -> None:
    """Raise ValueError unless ``routing`` runs on the k-ary n-cube ``topology`` with ``num_vcs`` VCs."""
    _core.check_routing(routing, topology, num_vcs, field, n=n, k=k)


def check_traffic(pattern: str, k: int, n: int = 2, topology: str = "mesh", c: int = 1) -> None:
    """Raise ValueError unless ``pattern`` is known and defined for radix ``k``, ``n``
    dimensions (fly: stages), ``c`` nodes per router (a flatfly's; a cmesh has 4) and
    ``topology`` (an anynet takes the patterns defined by node id)."""
    _core.check_traffic(pattern, k, n=n, topology=topology, c=c)


def routings_on(topology: str, num_vcs: int, k: int = 8, n: int = 2,
                per_router: bool = False, c: int = 1) -> tuple[str, ...]:
    """The routing set of a network: the routings (in :data:`ROUTING_FUNCTIONS` order) that
    run on ``topology`` with radix ``k``, ``n`` dimensions (fly: stages), ``c`` nodes per
    router (flatfly, cmesh) and ``num_vcs`` VCs;
    with ``per_router``, those of :data:`ROUTINGS_PER_ROUTER` that may be mixed per router
    there (none off the k-ary n-cubes).  The core's routing check decides, so a NocConfig
    accepts exactly these (and :class:`Network` switches between them)."""
    return _core.routings_on(topology, num_vcs, k=k, n=n, per_router=per_router, c=c)


def shape_nodes(topology: str, k: int, n: int, c: int = 1) -> int:
    """The nodes of a ``topology`` network of radix ``k``, ``n`` dimensions (fly: stages;
    fat tree: levels) and ``c`` nodes per router (flatfly, cmesh), before the rest of a
    configuration exists: c k^2 (flatfly, cmesh), k 2k (2k^2 + 1) (dragonflynew), else k^n
    (an anynet's come from its graph).  ValueError for a k, n or c out of range."""
    return _core.shape_nodes(topology, k, n, c)


def network_shape(config: NocConfig) -> dict:
    """``nodes``, ``routers``, ``ports`` (per router, the most any router has; the columns of
    ``buffer_occupancy``) and ``link_ports`` (the columns of ``link_utilisation``) of
    ``config``'s network: a k-ary n-cube has k^n routers of 2n + 1 ports (2n links), a
    k-ary n-fly n k^(n-1) routers of k ports, an anynet what its graph says."""
    if not isinstance(config, NocConfig):
        raise ValueError("network_shape() needs a NocConfig")
    return dict(_core.network_shape(config._core()))


# ----------------------------------------------------------------- NocConfig
_FIELD_NAMES = tuple(f["name"] for f in CONFIG_FIELDS)


def _to_core(config) -> _core.Config:
    """The C++ Config of these field values (wrong types rejected, field by field)."""
    return _core.Config(**{name: getattr(config, name) for name in _FIELD_NAMES})


def _post_init(self) -> None:
    core = _to_core(self)
    _core.validate(core)  # the limits, names and rules between fields
    for name in _FIELD_NAMES:  # keep the values as C++ holds them (tuples for lists)
        value = getattr(core, name)
        object.__setattr__(self, name, tuple(value) if isinstance(value, list) else value)


def _doc() -> str:
    lines = ["One simulation's configuration; BookSim's key names and defaults (booksim_base.cfg).",
             "",
             "Generated from the C++ definition of the fields (CONFIG_FIELDS); the core",
             "validates every value and raises ValueError naming the field.  Fields",
             "(default; accepted values; meaning):", ""]
    for f in CONFIG_FIELDS:
        lines.append(f"* ``{f['name']}`` ({f['default']!r}; {f['accepted']}): {f['doc']}")
    return "\n".join(lines)


NocConfig = dataclasses.make_dataclass(
    "NocConfig",
    [(f["name"], f["type"], dataclasses.field(default=f["default"])) for f in CONFIG_FIELDS],
    namespace={"__post_init__": _post_init, "_core": _to_core, "__doc__": _doc(),
               "__module__": __name__},
    frozen=True)


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
    return _core.measure_many([c._core() for c in configs], threads)


def traffic_destinations(config: NocConfig) -> np.ndarray:
    """Destination of every node under ``config.traffic`` (int32 [nodes]); -1 where it is random
    (uniform, hotspot, diagonal, ...).  ``randperm`` gives the permutation of ``config.perm_seed``."""
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
        self._n = network_shape(config)["routers"]
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
        ``link_utilisation`` float32 [routers, link_ports] (flits sent per cycle on
        each output port; a 2-D mesh: [k*k, 4], ports 0..3, 0 for links off the mesh
        edge); ``buffer_occupancy`` float32 [routers, ports] (mean occupancy of each
        input port as a fraction of V*B; a 2-D mesh: [k*k, 5]), shapes by
        :func:`network_shape`;
        ``status`` "ok" or "deadlock" (the watchdog fired; sticky).
        """
        return self._net.run(cycles)

    def set_injection_rate(self, rate: float) -> None:
        self._net.set_injection_rate(rate)

    def set_traffic(self, pattern: str) -> None:
        self._net.set_traffic(pattern)

    def set_routing(self, routing: str | np.ndarray) -> None:
        """A routing name (network wide; packets in flight keep the routing they started
        with), or an int array [routers] of indices into :data:`ROUTINGS_PER_ROUTER`
        (each router routes every head flit with its own algorithm)."""
        if isinstance(routing, str):
            self._net.set_routing(routing)
            self._routing = routing
            return
        arr = np.asarray(routing)
        if arr.dtype.kind not in "iu" or arr.ndim != 1:
            raise ValueError(f"set_routing needs a routing name or an integer array of shape "
                             f"({self._n},) indexing ROUTINGS_PER_ROUTER {ROUTINGS_PER_ROUTER}; "
                             f"got dtype {arr.dtype}, shape {arr.shape}")
        arr = np.ascontiguousarray(arr, dtype=np.int64)
        self._net.set_routing_per_router(arr)
        self._routing = arr.astype(np.int32)

    def set_ugal_decisions(self, decisions: np.ndarray) -> None:
        """A dragonflynew or flatfly routed by ``ugal``: the rule each source router applies to
        the packets it injects from now on, an int array [routers] of indices into
        :data:`UGAL_DECISIONS`."""
        arr = np.asarray(decisions)
        if arr.dtype.kind not in "iu" or arr.shape != (self._n,):
            raise ValueError(f"set_ugal_decisions needs an integer array of shape ({self._n},) "
                             f"indexing UGAL_DECISIONS {UGAL_DECISIONS}; got dtype {arr.dtype}, "
                             f"shape {arr.shape}")
        self._net.set_ugal_decisions(np.ascontiguousarray(arr, dtype=np.int64))

    def dragonfly_credits_in_use(self) -> np.ndarray:
        """A dragonflynew: credits in use now (flits sent and not yet credited back, all VCs)
        per router on its local and its global output ports, int32 [routers, 2]
        (columns :data:`DRAGONFLY_PORT_CLASSES`)."""
        return self._net.dragonfly_credits_in_use()

    def dragonfly_class_ports(self) -> tuple[int, int]:
        """A dragonflynew: the local and the global output ports of each router (2k - 1, k)."""
        return tuple(self._net.dragonfly_class_ports())

    def flatfly_credits_in_use(self) -> np.ndarray:
        """A flatfly: credits in use now (all VCs) per router on its row and its column output
        ports, int32 [routers, 2] (columns :data:`FLATFLY_PORT_CLASSES`)."""
        return self._net.flatfly_credits_in_use()

    def flatfly_class_ports(self) -> tuple[int, int]:
        """A flatfly: the row and the column output ports of each router (k - 1, k - 1)."""
        return tuple(self._net.flatfly_class_ports())

    def node_routers(self) -> np.ndarray:
        """The router each node injects at, int32 [nodes]."""
        return self._net.node_routers()

    def send(self, src: int, dst: int) -> None:
        """Queue one packet from ``src`` to ``dst``, created now (whatever the traffic pattern)."""
        self._net.send(src, dst)

    def set_generation(self, on: bool) -> None:
        """Stop or resume random packet generation (queued and in-flight packets continue)."""
        self._net.set_generation(bool(on))

    def counters(self) -> dict:
        """Monotonic totals: created/injected/ejected flits, backlog_flits, in_network_flits,
        buffered_flits, flit_latency_sum, in_network_integral, ... (see docs/noc.md)."""
        return self._net.counters()

    def credits(self) -> np.ndarray:
        """Free credits per output VC, int32 [routers, ports, V] (a 2-D mesh: [k*k, 5, V])."""
        return self._net.credits()

    def occupancy(self) -> np.ndarray:
        """Flits buffered now per input port, int32 [routers, ports] (a 2-D mesh: [k*k, 5])."""
        return self._net.occupancy()

    def backlog_per_node(self) -> np.ndarray:
        """Flits created but not yet injected, per node (int64 [nodes])."""
        return self._net.backlog_per_node()

    def delivered(self) -> dict:
        """Per-packet records of the last run() (needs record=True): src, dst, ctime, itime,
        atime, hops arrays."""
        return self._net.delivered()
