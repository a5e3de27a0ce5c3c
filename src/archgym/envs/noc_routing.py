"""NoCRouting: choose the routing algorithm of a network-on-chip (any topology of archgym's
NoC core: mesh, torus, fly, anynet, ...), on a cycle-level simulator."""

from __future__ import annotations

import math
import numbers
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from archgym import noc
from archgym.envs import noc_cache
from archgym.envs._common import ReplayPickle, check_action, check_name, check_render_mode, check_running, figure_rgb
from archgym.noc.booksim import read_network_file

#: The paper's four network-wide algorithms (Kao et al., NOCS 2019) and the
#: routing function of archgym's core that stands for each (see the docstring
#: of :class:`NoCRoutingEnv` for what each one does).
PAPER_ROUTINGS: dict[str, str] = {
    "xy": "dor",
    "random_oblivious": "random_min",
    "turn_model_oblivious": "west_first_oblivious",
    "turn_model_adaptive": "west_first",
}
#: The default action set: the routing functions above, in that order.
DEFAULT_ROUTINGS: tuple[str, ...] = tuple(PAPER_ROUTINGS.values())
#: The default injection-rate sweep (flits/node/cycle): from low load past the
#: saturation of every action on 8x8 shuffle (DOR saturates near 0.22).
DEFAULT_RATES: tuple[float, ...] = (0.05, 0.10, 0.15, 0.20, 0.25, 0.30)
#: Network-wide actions of the persistent variant: routings whose turns all lie
#: in the west-first turn set (on every VC), so switching between them while
#: packets are in flight cannot close a cycle of channel dependencies.
SWITCHABLE_ROUTINGS: tuple[str, ...] = ("dor", "west_first_oblivious", "west_first")
#: Patterns of the multi-pattern variant.
MULTI_PATTERNS: tuple[str, ...] = ("uniform", "transpose", "shuffle", "bitrev")
#: Phases of the persistent variants draw their pattern from these.
PHASE_PATTERNS: tuple[str, ...] = ("uniform", "transpose", "bitcomp", "shuffle", "bitrev",
                                   "tornado")
#: Directions of link_utilisation's 4 columns and buffer_occupancy's 5 columns.
OUT_PORTS = ("+x", "-x", "+y", "-y")
IN_PORTS = ("from +x", "from -x", "from +y", "from -y", "injection")


# ------------------------------------------------------------------ checks
def _check_int(name: str, value, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low \
            or (high is not None and value > high):
        rng = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be an integer {rng}, got {value!r}")
    return int(value)


#: The highest injection rate the core accepts (flits/node/cycle).
_MAX_RATE = next(f["max"] for f in noc.CONFIG_FIELDS if f["name"] == "injection_rate")


def _check_rate(name: str, value) -> float:
    """An offered rate of the environment: > 0 (the backlog term divides by it), at most the core's."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not math.isfinite(float(value)) or not 0.0 < float(value) <= _MAX_RATE:
        raise ValueError(f"{name} must be a number in (0, {_MAX_RATE:g}] flits/node/cycle, "
                         f"got {value!r}")
    return float(value)


def _check_pair(name: str, value, check, order: str = "low, high") -> tuple:
    """A pair ``order`` (e.g. "min, max"), each item checked by ``check(name + "[]", item)``,
    the first at most the second."""
    if not isinstance(value, Sequence) or len(value) != 2:
        raise ValueError(f"{name} must be ({order}), got {value!r}")
    lo, hi = (check(f"{name}[]", v) for v in value)
    if lo > hi:
        raise ValueError(f"{name} must have {order.replace(', ', ' <= ')}, got {value!r}")
    return lo, hi


def _check_steps(name: str, value) -> int:
    return _check_int(name, value, 1)


def _names(kind: str, value, allowed: Sequence[str]) -> tuple[str, ...]:
    """A name or a non-empty sequence of distinct names, each checked."""
    items = (value,) if isinstance(value, str) else tuple(value) if isinstance(value, Sequence) else None
    if not items:
        raise ValueError(f"{kind} must be a name or a non-empty sequence of names; "
                         f"allowed: {', '.join(allowed)}")
    items = tuple(check_name(kind, v, allowed) for v in items)
    if len(set(items)) != len(items):
        raise ValueError(f"{kind} lists a name twice: {items}")
    return items


def _check_discrete(action, n: int) -> int:
    """A Discrete(n) action as an int, or a ValueError/TypeError saying what is allowed."""
    if isinstance(action, np.ndarray):
        if action.shape != () or action.dtype.kind not in "iu":
            raise ValueError(f"action must be one integer in [0, {n - 1}], got {action!r}")
        action = action.item()
    if isinstance(action, (bool, np.bool_)) or not isinstance(action, (numbers.Integral, np.integer)):
        raise TypeError(f"action must be one integer in [0, {n - 1}], got {action!r}")
    action = int(action)
    if not 0 <= action < n:
        raise ValueError(f"action {action} out of range: must be in [0, {n - 1}]")
    return action


#: config_overrides may not set these: the environment chooses them, or they are its arguments.
_CHOSEN = ("routing_function", "traffic", "injection_rate")
_ARGUMENTS = ("topology", "k", "n", "num_vcs", "vc_buf_size", "packet_size", "seed")
_GRAPH = ("anynet_nodes", "anynet_channels")


def _field_int(name: str, value) -> int:
    """A NocConfig integer field's value, checked against the core's range (CONFIG_FIELDS)."""
    field = next(f for f in noc.CONFIG_FIELDS if f["name"] == name)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) \
            or not field["min"] <= value <= field["max"]:
        raise ValueError(f"{name} must be {field['accepted']} (got {value!r})")
    return int(value)


@dataclass(frozen=True)
class _Network:
    """The network an environment runs: its NocConfig (routing and traffic still to choose),
    its routing set (from the core) and its shape."""

    base: noc.NocConfig
    routings: tuple[str, ...]  # the core's routing set of this network (per router if asked)
    nodes: int
    routers: int
    ports: int       # input ports per router: buffer_occupancy's columns
    link_ports: int  # output ports per router: link_utilisation's columns
    label: str       # "8x8 mesh", "4-ary 2-fly", "anynet of 5 routers and 13 nodes"

    @property
    def grid(self) -> bool:
        """A 2-D mesh or torus, drawn as a grid of routers (the others as a table of ports)."""
        return self.base.topology in ("mesh", "torus") and self.base.n == 2


def _routing_set(topology: str, k: int, n: int, num_vcs: int, per_router: bool,
                 c: int) -> tuple[str, ...]:
    """The core's routing set of the network, or one line saying why it has none."""
    available = noc.routings_on(topology, num_vcs, k=k, n=n, per_router=per_router, c=c)
    if available:
        return available
    table = noc.PER_ROUTER_MIN_VCS if per_router else noc.ROUTING_MIN_VCS
    fewest = min((need[topology] for need in table.values() if topology in need), default=None)
    if fewest is None and per_router:
        where = [t for t in noc.TOPOLOGIES if any(t in need for need in table.values())]
        raise ValueError(f"per_router=True needs a topology with per-router routings ({', '.join(where)}); "
                         f"a {topology} has none")
    if fewest is None:
        raise ValueError(f"no routing runs on a {topology} (the core registers none)")
    raise ValueError(f"no {'per-router ' if per_router else ''}routing runs on this {topology} "
                     f"with num_vcs = {num_vcs} (k = {k}, n = {n}); they need at least {fewest} VCs")


def _network(topology, k, n, network_file, num_vcs, vc_buf_size, packet_size, seed, overrides,
             per_router: bool, routings, default_routings, patterns, default_patterns
             ) -> tuple[_Network, tuple[str, ...], tuple[str, ...]]:
    """The network of an environment's arguments, its routings and its traffic patterns, each
    checked (one clear line for a bad argument).  ``routings`` None: ``default_routings(the
    network's routing set)``; ``patterns`` None: those of ``default_patterns`` defined on the
    network (uniform if none is)."""
    topology = check_name("topology", topology, noc.TOPOLOGIES)
    k, n, num_vcs = _field_int("k", k), _field_int("n", n), _field_int("num_vcs", num_vcs)
    fields = {"topology": topology, "k": k, "n": n, "num_vcs": num_vcs, "vc_buf_size": vc_buf_size,
              "packet_size": packet_size, "seed": seed, "injection_rate_uses_flits": True}
    if topology == "anynet":
        if network_file is None:
            raise ValueError("topology='anynet' needs network_file, a graph in BookSim's anynet format "
                             "(lines 'router R node N router S [latency] ...')")
        if not isinstance(network_file, (str, Path)):
            raise ValueError(f"network_file must be a path, got {network_file!r}")
        fields.update(read_network_file(Path(network_file)))
    elif network_file is not None:
        raise ValueError(f"network_file describes an anynet; topology = {topology!r}")
    for key, value in (overrides or {}).items():
        if key in _CHOSEN:
            raise ValueError(f"config_overrides may not set {key}: the environment chooses it")
        if key in _ARGUMENTS:
            raise ValueError(f"config_overrides may not set {key}: pass it as the argument {key}=")
        if key in _GRAPH:
            raise ValueError(f"config_overrides may not set {key}: an anynet's graph comes from "
                             "network_file=")
        fields[key] = value
    available = _routing_set(topology, k, n, num_vcs, per_router, fields.get("c", 1))
    if routings is None:
        chosen = default_routings(available)
    elif per_router:
        chosen = _names("per-router routing", routings, noc.ROUTINGS_PER_ROUTER)
        for r in chosen:
            if r not in available:
                raise ValueError(f"per-router routing {r!r} does not run on this {topology} "
                                 f"(num_vcs = {num_vcs}); allowed: {', '.join(available)}")
    else:
        chosen = _names("routing", routings, noc.ROUTING_FUNCTIONS)
        for r in chosen:
            if r not in available:  # the core's reason: where it runs, what it needs
                noc.check_routing(r, topology, num_vcs, "routing", k=k, n=n)
                raise ValueError(f"routing {r!r} does not run on this {topology} with c = "  # ugal_pni
                                 f"{fields.get('c', 1)} nodes per router (k = {k}); allowed: "
                                 f"{', '.join(available)}")

    def defined(pattern):
        try:
            noc.check_traffic(pattern, k, n=n, topology=topology, c=fields.get("c", 1))
        except ValueError:
            return False
        return True

    if patterns is None:
        patterns = tuple(p for p in default_patterns if defined(p)) or ("uniform",)
    else:
        patterns = _names("traffic pattern", patterns, noc.TRAFFIC_PATTERNS)
        for pattern in patterns:  # the core's reason (an anynet; k or n it needs)
            noc.check_traffic(pattern, k, n=n, topology=topology, c=fields.get("c", 1))
    # The network starts on a network-wide routing: per router, the first of the network's.
    wide = noc.routings_on(topology, num_vcs, k=k, n=n, c=fields.get("c", 1)) if per_router else chosen
    fields.update(routing_function=chosen[0] if chosen[0] in wide else wide[0], traffic=patterns[0])
    try:
        base = noc.NocConfig(**fields)
    except TypeError as e:
        raise ValueError(f"config_overrides: {e}") from None
    shape = noc.network_shape(base)
    if topology in ("mesh", "torus"):
        label = "x".join([str(k)] * n) + f" {topology}"
    elif topology == "fly":
        label = f"{k}-ary {n}-fly"
    else:
        label = f"{topology} of {shape['routers']} routers and {shape['nodes']} nodes"
    return _Network(base, available, shape["nodes"], shape["routers"], shape["ports"],
                    shape["link_ports"], label), chosen, patterns


def _clean(value):
    """Info values: plain Python numbers, NaN as None (so infos compare equal)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


# ------------------------------------------------------------- result cache
#: Measurements by (config, horizon): horizon None is the steady state (measure()), else a
#: fixed-horizon run (run_fixed()).
_CACHE: dict[tuple[noc.NocConfig, int | None], dict] = {}
_LOCK = threading.Lock()
#: Wall seconds of the last measure_points call that ran the simulator.
LAST_MEASURE_SECONDS = 0.0
#: The longest fixed horizon an environment accepts (cycles).
MAX_HORIZON = 1_000_000


def run_fixed(config: noc.NocConfig, horizon: int) -> dict:
    """The NOCS'19 paper's measurement (gem5 Garnet's synthetic-traffic run): a fresh, empty
    network runs ``horizon`` cycles, with no warm-up and no drain; the figures are those of
    the packets delivered during the run (docs/design/noc.md §10).

    Keys as measure()'s where they mean the same: ``avg_packet_latency`` (None if no packet
    was delivered), ``avg_network_latency``, ``avg_hops``, ``accepted_flit_rate``,
    ``injected_flit_rate``, ``status`` ("ok" or "deadlock"), ``total_cycles``; plus
    ``delivered_packets``, ``backlog_flits`` and ``in_network_flits`` at the end of the run.
    """
    out = noc.Network(config).run(horizon)
    figures = {"avg_packet_latency": out["avg_latency"],
               "avg_network_latency": out["avg_network_latency"], "avg_hops": out["avg_hops"]}
    for key in ("accepted_flit_rate", "injected_flit_rate", "status", "delivered_packets",
                "backlog_flits", "in_network_flits"):
        figures[key] = out[key]
    figures["total_cycles"] = int(horizon)
    return {k: _clean(v) for k, v in figures.items()}


def measure_points(configs: Sequence[noc.NocConfig], threads: int = 0,
                   horizon: int | None = None) -> list[dict]:
    """The figures of every config: measure() (by measure_many) when ``horizon`` is None, else
    run_fixed(config, horizon) (over ``threads`` threads; 0 = one per core).  Each comes from
    this process's memory, else the disk cache (:mod:`archgym.envs.noc_cache`), else it is
    computed and stored in both."""
    global LAST_MEASURE_SECONDS
    keys = [(c, horizon) for c in configs]
    with _LOCK:
        for key in dict.fromkeys(k for k in keys if k not in _CACHE):
            stored = noc_cache.load(*key)
            if stored is not None:
                _CACHE[key] = stored
        missing = list(dict.fromkeys(k for k in keys if k not in _CACHE))
        if missing:
            start = time.perf_counter()
            if horizon is None:
                results = [{k: _clean(v) for k, v in dict(r).items()}
                           for r in noc.measure_many([c for c, _ in missing], threads=threads)]
            else:
                with ThreadPoolExecutor(threads or os.cpu_count() or 1) as pool:
                    results = list(pool.map(lambda key: run_fixed(*key), missing))
            for key, result in zip(missing, results):
                _CACHE[key] = result
                noc_cache.store(key[0], result, horizon)
            LAST_MEASURE_SECONDS = time.perf_counter() - start
        return [_CACHE[k] for k in keys]


def clear_cache(disk: bool = False) -> None:
    """Forget every measurement kept in memory; with ``disk=True`` delete the disk cache too
    (:func:`archgym.envs.noc_cache.clear`).  The next use measures again."""
    with _LOCK:
        _CACHE.clear()
        if disk:
            noc_cache.clear()


def precompute(threads: int = 0, **kwargs) -> np.ndarray:
    """Measure the whole table of a :class:`NoCRoutingEnv` built with ``kwargs``.

    Returns its capped-latency table (patterns x rates x actions).  Later envs
    with the same settings in this process start without waiting.
    """
    env = NoCRoutingEnv(threads=threads, **kwargs)
    return env.latency_table()


# ------------------------------------------------------------------ drawing
def _colour(x: np.ndarray) -> np.ndarray:
    """Load in [0, 1] -> RGB uint8: dark blue (idle), green, yellow, red (saturated)."""
    anchors = np.array([[40, 44, 110], [40, 160, 90], [245, 210, 50], [210, 40, 30]], dtype=np.float64)
    x = np.clip(np.asarray(x, dtype=np.float64), 0.0, 1.0) * (len(anchors) - 1)
    i = np.minimum(x.astype(np.int64), len(anchors) - 2)
    f = (x - i)[..., None]
    return np.round(anchors[i] * (1 - f) + anchors[i + 1] * f).astype(np.uint8)


PITCH, ROUTER, BAR, MARGIN = 48, 18, 6, 16


def mesh_rgb(k: int, link_utilisation: np.ndarray, buffer_occupancy: np.ndarray | None = None) -> np.ndarray:
    """A k x k mesh as an RGB image (uint8, H x W x 3), drawn with numpy only.

    Router (x, y) sits at column x, row k-1-y (north, +y, is up; node 0 at the
    bottom left).  Each link is two parallel bars, one per direction (+x above
    -x, +y left of -y), coloured by utilisation; routers are squares coloured
    by their mean input-buffer occupancy; one scale for both: dark blue 0,
    green, yellow, red 1.  A colour bar from 0 to 1 runs along the bottom.
    """
    link = np.asarray(link_utilisation, dtype=np.float64).reshape(k * k, 4)
    occ = np.zeros(k * k) if buffer_occupancy is None else \
        np.asarray(buffer_occupancy, dtype=np.float64).reshape(k * k, -1).mean(axis=1)
    size = 2 * MARGIN + (k - 1) * PITCH + ROUTER
    height = size + 24
    img = np.full((height, size, 3), 245, dtype=np.uint8)

    def corner(x, y):
        return MARGIN + (k - 1 - y) * PITCH, MARGIN + x * PITCH  # top-left (row, col)

    for n in range(k * k):
        x, y = n % k, n // k
        r0, c0 = corner(x, y)
        mid_r, mid_c = r0 + ROUTER // 2, c0 + ROUTER // 2
        if x + 1 < k:  # +x from n, -x from its east neighbour
            a, b = c0 + ROUTER, c0 + PITCH
            img[mid_r - BAR - 1:mid_r - 1, a:b] = _colour(link[n, 0])
            img[mid_r + 1:mid_r + BAR + 1, a:b] = _colour(link[n + 1, 1])
        if y + 1 < k:  # +y from n (up), -y from its north neighbour
            a, b = r0 - PITCH + ROUTER, r0
            img[a:b, mid_c - BAR - 1:mid_c - 1] = _colour(link[n, 2])
            img[a:b, mid_c + 1:mid_c + BAR + 1] = _colour(link[n + k, 3])
        img[r0:r0 + ROUTER, c0:c0 + ROUTER] = 30
        img[r0 + 2:r0 + ROUTER - 2, c0 + 2:c0 + ROUTER - 2] = _colour(occ[n])
    ramp = _colour(np.linspace(0.0, 1.0, size - 2 * MARGIN))
    img[size + 6:size + 18, MARGIN:size - MARGIN] = ramp[None, :, :]
    return img


def mesh_figure_rgb(k: int, link_utilisation: np.ndarray, buffer_occupancy: np.ndarray | None,
                    title: str) -> np.ndarray:
    """:func:`mesh_rgb`'s heatmap with a title and a labelled colour bar (matplotlib, Agg), as RGB uint8."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import ListedColormap, Normalize

    size = 2 * MARGIN + (k - 1) * PITCH + ROUTER  # the mesh, without mesh_rgb's bare colour ramp
    mesh = mesh_rgb(k, link_utilisation, buffer_occupancy)[:size]
    scale = ScalarMappable(Normalize(0.0, 1.0), ListedColormap(_colour(np.linspace(0.0, 1.0, 256)) / 255.0))

    def draw(fig):
        ax = fig.subplots()
        ax.imshow(mesh)
        ax.set_axis_off()
        ax.set_title(title, fontsize=9)
        fig.colorbar(scale, ax=ax, label="link load (flits/cycle); router: buffer occupancy")

    return figure_rgb(draw, width=6.4, height=5.2)


def _tenths(u: float) -> str:
    """A load in [0, 1] as one character: tenths (0-9), ``#`` from 0.95 (saturated)."""
    return "#" if u >= 0.95 else str(int(min(max(u, 0.0), 0.949) * 10))


def mesh_ansi(k: int, link_utilisation: np.ndarray) -> str:
    """A k x k mesh as text: link loads in tenths of a flit per cycle per direction.

    North (+y) is up: row y = k-1 is printed first, node 0 is at the bottom
    left.  ``o >3<1 o``: the link between two routers carries 0.3 flits/cycle
    toward +x (east) and 0.1 toward -x; between two rows ``^2v0`` gives the
    load toward +y (up, from the router below) and -y (down).  ``#`` means
    >= 0.95 (saturated).
    """
    link = np.asarray(link_utilisation, dtype=np.float64).reshape(k * k, 4)
    d = _tenths
    lines = []
    for y in range(k - 1, -1, -1):
        if y + 1 < k:  # the links between row y+1 (above) and row y
            lines.append("".join(f"^{d(link[x + k * y, 2])}v{d(link[x + k * (y + 1), 3])}".ljust(7)
                                 for x in range(k)).rstrip())
        lines.append("".join("o" + (f" >{d(link[x + k * y, 0])}<{d(link[x + k * y + 1, 1])} "
                                    if x + 1 < k else "") for x in range(k)).rstrip())
    return "\n".join(lines)


def ports_ansi(link_utilisation: np.ndarray) -> str:
    """Any network as text: one line per router, the load of each output port (the columns
    of ``link_utilisation``, in the core's port order) in tenths of a flit per cycle, ``#``
    from 0.95 (saturated)."""
    link = np.asarray(link_utilisation, dtype=np.float64)
    width = len(str(len(link) - 1))
    return "\n".join(f"router {r:>{width}}: " + " ".join(_tenths(u) for u in row)
                     for r, row in enumerate(link))


def ports_figure_rgb(link_utilisation: np.ndarray, buffer_occupancy: np.ndarray, title: str) -> np.ndarray:
    """Any network as a heatmap (matplotlib, Agg), RGB uint8: routers (rows) x output ports
    (link load, flits per cycle), beside each router's mean input-buffer occupancy; the colours
    and the labelled colour bar of :func:`mesh_figure_rgb`."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import ListedColormap, Normalize

    link = np.asarray(link_utilisation, dtype=np.float64)
    occ = np.asarray(buffer_occupancy, dtype=np.float64).mean(axis=1, keepdims=True)
    scale = ScalarMappable(Normalize(0.0, 1.0), ListedColormap(_colour(np.linspace(0.0, 1.0, 256)) / 255.0))

    def draw(fig):
        ports, buffers = fig.subplots(1, 2, width_ratios=[max(link.shape[1], 1), 1])
        ports.imshow(_colour(link), aspect="auto", interpolation="nearest")
        ports.set(xlabel="output port", ylabel="router", title=title)
        ports.title.set_fontsize(9)
        buffers.imshow(_colour(occ), aspect="auto", interpolation="nearest")
        buffers.set(xticks=[], yticks=[], xlabel="buffers")
        fig.colorbar(scale, ax=[ports, buffers], label="link load (flits/cycle); buffer occupancy")

    return figure_rgb(draw, width=6.4, height=5.2)


def _figure(network: _Network, link: np.ndarray, occ: np.ndarray, title: str) -> np.ndarray:
    """The heatmap of a network: the grid of a 2-D mesh or torus (a torus's wrap-around links
    are not drawn), the routers x ports table of any other."""
    if network.grid:
        return mesh_figure_rgb(network.base.k, link, occ, title)
    return ports_figure_rgb(link, occ, title)


def _loads_text(network: _Network, link: np.ndarray) -> str:
    if network.grid:
        return mesh_ansi(network.base.k, link)
    return ports_ansi(link)


# --------------------------------------------------------- contextual bandit
class NoCRoutingEnv(ReplayPickle, gym.Env):
    """Pick the network-wide routing algorithm of a NoC (mesh by default) for each injection rate.

    ## Description
    Kao, Yang, Chen, Ma and Krishna, "Reinforcement learning based
    interconnection routing for adaptive traffic optimization" (NOCS 2019,
    arXiv:1908.04484): an agent chooses which routing algorithm an 8x8 mesh
    uses; the state is the injection rate of shuffle traffic with 1-flit
    packets.  The original ran gem5/Garnet for a fixed 20,000 cycles, so its
    latency past saturation depended on the run length.  Here every (state,
    action) point is a BookSim-style steady-state measurement by archgym's
    cycle-level simulator (:func:`archgym.noc.measure`: warm-up periods,
    sample periods until latency and accepted rate change by less than 5%,
    BookSim's abort past ``latency_thres``, drain), which reproduces BookSim2
    (see ``docs/booksim.md``).

    It is a contextual bandit: an episode sweeps the rates in order, one step
    per rate, and the next state is the next rate whatever the action.

    **Any topology of the core.**  ``topology=`` takes every name of
    :data:`archgym.noc.TOPOLOGIES` (mesh, torus, fly, anynet, ...), with
    ``k`` and ``n`` (fly: k-ary n-fly) or ``network_file`` (anynet: a graph in
    BookSim's format), and BookSim's other topology keys through
    ``config_overrides``.  The actions are that network's routing set, as the
    core defines it (:func:`archgym.noc.routings_on`), so a topology the core
    gains works here unchanged.

    **Measured once, then looked up.**  A measurement of an 8x8 mesh takes
    thousands of simulated cycles, so the environment does not simulate on
    every step: on first use it measures every (pattern, rate, action) point
    with :func:`archgym.noc.measure_many` (in parallel, in C++) and keeps the
    results in memory for the life of the process and on disk, in a per-user
    cache folder that later processes read (:func:`measure_points`,
    :mod:`archgym.envs.noc_cache`: ``$ARCHGYM_CACHE_DIR`` or the user cache
    folder, cleared by ``clear_cache(disk=True)``; :func:`precompute` fills it
    ahead of time).  Every point uses the same seed
    (``seed``, default 42, BookSim's), so the table is reproducible and the
    actions are compared under common random numbers; a step returns exactly
    what ``archgym.noc.measure(env.point_config(state, action))`` returns.
    The reward is therefore deterministic given (state, action): the noise of
    a finite simulation is frozen into the table, as it would be for any
    fixed-seed run (below saturation, differences of a few tenths of a cycle
    between actions are within seed noise).  The first use costs about 1.5 s
    for ``NoCRouting-v0`` (24 points) and 8 s for
    ``NoCRouting-MultiPattern-v0`` (96 points) on 2 cores; later environments
    with the same settings start at once.

    Because the whole table is known, an exhaustive oracle is available:
    :meth:`best_action`, :meth:`oracle_table`, :meth:`regret`, and
    ``info["regret"]`` on every step.

    **The paper's regime** (``NoCRouting-NOCS19-v0``: rates 0.1 to 0.6,
    ``horizon=20000``).  With ``horizon`` set, a point is not a steady-state
    measurement but the paper's Garnet run (:func:`run_fixed`): a fresh
    network runs ``horizon`` cycles from empty, with no warm-up and no drain,
    and its latency is the average of the packets delivered during the run.
    Past saturation that figure grows with the horizon (the source queues
    never stop growing), as it did in the paper; the measurement settings
    below are then unused.  Its first use costs about 20 s (24 points of
    20,000 cycles, most of them saturated) on 2 cores.

    ## Action Space
    ``Discrete(len(routings))``, by default 4, the paper's algorithms:

    * 0 ``dor`` (the paper's "xy"): dimension-order routing, X then Y.
    * 1 ``random_min`` ("random_oblivious"): at every router a random
      productive (minimal) direction on VCs 1..V-1, with VC 0 as a DOR
      escape channel (deadlock-free by Duato's theorem).
    * 2 ``west_first_oblivious`` ("turn_model_oblivious"): Glass and Ni's
      west-first turn model (all westward hops first, no turn into west),
      choosing at random among the minimal ports the model allows.
    * 3 ``west_first`` ("turn_model_adaptive"): the same turn model, choosing
      the allowed minimal port with the most free credits.

    The two turn-model actions share one turn set, so they differ only in
    adaptivity.  Any routing function of :data:`archgym.noc.ROUTING_FUNCTIONS`
    that runs on the network can be offered instead with ``routings=``, e.g.
    ``odd_even`` (Chiu's odd-even turn model, adaptive), ``duato`` (adaptive
    minimal with a DOR escape VC) or BookSim's ``min_adapt``, ``xy_yx``,
    ``romm``.

    On any other network (a torus, n != 2, fly, anynet) the default actions
    are the network's whole routing set, ``archgym.noc.routings_on(topology,
    num_vcs, k, n)`` in :data:`archgym.noc.ROUTING_FUNCTIONS` order: a 4x4
    torus with 4 VCs has 7 (dim_order, yx, min_adapt, duato, random_min,
    dim_order_bal, chaos).  A topology with a single routing (fly:
    ``dest_tag``; anynet: ``min``) is accepted with ``Discrete(1)``: the
    routing is fixed, the regret is 0, and the env serves as that network's
    baseline and latency table in a sweep over topologies; the choice is
    meaningful where the set has two or more (mesh, torus).

    ## Observation Space
    ``Box(0, 1, (1,), float32)``: the injection rate in flits/node/cycle
    (= packets/node/cycle for 1-flit packets), whatever the topology.  With several patterns
    (``traffic=("uniform", "transpose", ...)``) the observation is
    ``Box(0, 1, (1 + P,), float32)``: the rate, then a one-hot pattern id.
    ``info["state"]`` is the state index ``pattern * len(rates) + rate index``
    for tabular agents.

    ## Rewards
    ``-latency``, where latency is the steady-state average packet latency in
    cycles (creation to tail ejection, source queueing included) of the
    (state, action) point, capped at ``latency_cap`` (default
    ``latency_thres`` = 500): ``-min(avg_packet_latency, latency_cap)``.  A
    point that BookSim's procedure declares unstable (``info["status"] ==
    "unstable"``) gets exactly ``-latency_cap``.  ``"saturated"`` points
    (finished but not converged, or accepted < 95% of offered) keep their
    measured, capped latency.  Never -inf.

    With ``horizon`` set, latency is the average over the packets delivered
    in the run, and ``latency_cap`` defaults to ``horizon``, a bound no
    delivered packet reaches (it was created during the run): the latency is
    uncapped, as in the paper.  A run that delivered nothing or deadlocked
    (``info["status"] == "deadlock"``) gets ``-latency_cap``.

    ## Starting State
    The first rate (lowest by default) of the episode's pattern; with several
    patterns the pattern is drawn uniformly from ``np_random`` at reset.

    ## Episode End
    Terminates after the step at the last rate (``len(rates)`` steps).  Never
    truncates.  The observation returned with the last step repeats the last
    state.

    ## Arguments
    ``topology`` (``"mesh"``; any of :data:`archgym.noc.TOPOLOGIES`), ``k``
    (radix, default 8), ``n`` (dimensions, fly: stages; 2), ``network_file``
    (anynet only, required there: the path of a graph in BookSim's anynet
    format), ``traffic`` (a pattern of :data:`archgym.noc.TRAFFIC_PATTERNS`
    or a sequence of them, each defined on the network; default
    ``"shuffle"``, or ``"uniform"`` where shuffle is not defined: an anynet,
    k not a power of 2), ``rates`` (the sweep, each in (0, 1], default
    :data:`DEFAULT_RATES`), ``routings`` (the actions, each running on the
    network; default :data:`DEFAULT_ROUTINGS` on a 2-D mesh, else the
    network's routing set), ``packet_size`` (1), ``num_vcs`` (4),
    ``vc_buf_size`` (8), ``seed`` (the simulator seed of every point, 42),
    the measurement settings ``warmup_periods`` (3), ``sample_period`` (1000),
    ``max_samples`` (10), ``latency_thres`` (500.0), ``latency_cap``
    (default ``latency_thres``, or ``horizon`` when that is set),
    ``horizon`` (None = steady state; else the fixed run's cycles, in
    [1, :data:`MAX_HORIZON`]), ``config_overrides`` (other
    :class:`archgym.noc.NocConfig` fields, e.g. pipeline delays; not the
    ones above, nor the routing, traffic and rate the env chooses),
    ``threads`` (for the first-use table; 0 = all cores) and ``render_mode``
    (``"ansi"``, ``"rgb_array"``).  Shorter measurement settings make the
    first-use table faster and noisier.

    ``info`` on a step: the point's figures from measure()
    (``avg_packet_latency``, ``avg_network_latency``, ``avg_flit_latency``,
    ``avg_hops``, ``accepted_flit_rate``, ``injected_flit_rate``, ``status``,
    ``sample_periods``, ``total_cycles``; NaN values as None; with
    ``horizon``, run_fixed()'s), plus
    ``latency`` (the capped value the reward negates), ``routing``,
    ``pattern``, ``rate``, ``state``, ``best_action``, ``oracle_latency`` and
    ``regret`` (latency - oracle_latency >= 0).

    The last step's ``info`` also has ``objective``, the mean capped latency
    over the episode's steps (cycles; ``objective_sense`` "min": the return is
    -len(rates) times it) and ``feasible`` (True).

    A bad argument (an unknown topology, a routing or pattern not defined
    on the network, a missing or malformed ``network_file``) raises one
    ValueError line saying what is allowed.

    Rendering: ``"ansi"`` prints the state's table row (latency of every
    action) and the network with the link loads of the last (state, action);
    ``"rgb_array"`` draws it as a heatmap with a title and a labelled
    colour bar (matplotlib): a 2-D mesh or torus as its grid of routers
    (:func:`mesh_figure_rgb`; a torus's wrap-around links are not drawn),
    any other network as a table of routers x output ports
    (:func:`ports_figure_rgb`, :func:`ports_ansi`).  Link
    loads are not part of a measurement, so rendering runs a short persistent
    simulation (:class:`archgym.noc.Network`, ``render_cycles`` cycles after
    as many warm-up cycles) of the point, cached per point.

    ## Version History
    * v0 (revised): ``topology``, ``n`` and ``network_file`` run it on any
      topology of the core, with that network's routing set; setting a
      measurement argument or the network through ``config_overrides`` is
      refused (it was overridden without a word); the last step's ``info`` has ``objective``,
      ``objective_sense`` and ``feasible``; the latency table is cached on disk
      (:mod:`archgym.envs.noc_cache`); the heatmap has a title and a labelled
      colour bar; the env pickles.
    * v0: initial version.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}

    def __init__(self, k: int = 8, traffic=None, rates: Sequence[float] = DEFAULT_RATES,
                 routings: Sequence[str] | None = None, packet_size: int = 1,
                 num_vcs: int = 4, vc_buf_size: int = 8, seed: int = 42,
                 warmup_periods: int = 3, sample_period: int = 1000, max_samples: int = 10,
                 latency_thres: float = 500.0, latency_cap: float | None = None,
                 horizon: int | None = None, config_overrides: dict | None = None,
                 threads: int = 0, render_cycles: int = 2000, render_mode: str | None = None,
                 topology: str = "mesh", n: int = 2, network_file: str | Path | None = None):
        check_render_mode(render_mode, self.metadata["render_modes"])
        if isinstance(rates, (str, bytes)) or not isinstance(rates, Sequence) or not rates:
            raise ValueError(f"rates must be a non-empty sequence of numbers in (0, 1], got {rates!r}")
        self.rates = tuple(_check_rate("rates[]", r) for r in rates)
        overrides = dict(config_overrides or {})
        for key in ("warmup_periods", "sample_period", "max_samples", "latency_thres"):
            if key in overrides:
                raise ValueError(f"config_overrides may not set {key}: pass it as the argument {key}=")
        overrides.update(warmup_periods=warmup_periods, sample_period=sample_period,
                         max_samples=max_samples, latency_thres=latency_thres)
        self.network, self.routings, self.patterns = _network(
            topology, k, n, network_file, num_vcs, vc_buf_size, packet_size, seed, overrides,
            per_router=False, routings=routings,
            default_routings=lambda available: DEFAULT_ROUTINGS if topology == "mesh" and n == 2 else available,
            patterns=traffic, default_patterns=("shuffle",))
        self.base = self.network.base
        self.horizon = None if horizon is None else _check_int("horizon", horizon, 1, MAX_HORIZON)
        default_cap = self.base.latency_thres if self.horizon is None else float(self.horizon)
        cap = default_cap if latency_cap is None else latency_cap
        if isinstance(cap, bool) or not isinstance(cap, numbers.Real) or not math.isfinite(cap) \
                or cap <= 0:
            raise ValueError(f"latency_cap must be a positive finite number, got {latency_cap!r}")
        self.latency_cap = float(cap)
        self.threads = _check_int("threads", threads, 0)
        self.render_cycles = _check_int("render_cycles", render_cycles, 1)
        self.render_mode = render_mode
        self.k = self.base.k
        P, R = len(self.patterns), len(self.rates)
        self.num_states = P * R
        self.action_space = spaces.Discrete(len(self.routings))
        self.observation_space = spaces.Box(0.0, 1.0, (1 + (P if P > 1 else 0),), dtype=np.float32)
        self._figures: list[dict] | None = None
        self._latency: np.ndarray | None = None
        self._pattern, self._t, self._done = 0, 0, True
        self._last: tuple[int, int] | None = None
        self._loads: dict[noc.NocConfig, tuple[np.ndarray, np.ndarray]] = {}

    # ------------------------------------------------------------ the table
    def point_config(self, state: int, action: int) -> noc.NocConfig:
        """The NocConfig measured for (state index, action)."""
        state = _check_int("state", state, 0, self.num_states - 1)
        action = _check_int("action", action, 0, len(self.routings) - 1)
        p, r = divmod(state, len(self.rates))
        return replace(self.base, traffic=self.patterns[p], injection_rate=self.rates[r],
                       routing_function=self.routings[action])

    def _table(self) -> list[dict]:
        if self._figures is None:
            A = len(self.routings)
            configs = [self.point_config(s, a) for s in range(self.num_states) for a in range(A)]
            self._figures = measure_points(configs, self.threads, self.horizon)
            lat = np.array([self._capped(f) for f in self._figures], dtype=np.float64)
            self._latency = lat.reshape(len(self.patterns), len(self.rates), A)
        return self._figures

    def _capped(self, figures: dict) -> float:
        latency = figures.get("avg_packet_latency")
        if figures.get("status") in ("unstable", "deadlock") or latency is None \
                or not math.isfinite(latency):
            return self.latency_cap
        return min(float(latency), self.latency_cap)

    def figures(self, state: int, action: int) -> dict:
        """measure()'s (or run_fixed()'s) figures for (state index, action) (NaN as None)."""
        self.point_config(state, action)  # checks both
        return dict(self._table()[state * len(self.routings) + action])

    def latency_table(self) -> np.ndarray:
        """Capped latency (the negated reward) of every point: (patterns, rates, actions)."""
        self._table()
        return self._latency.copy()

    def oracle_table(self) -> np.ndarray:
        """Best action (lowest capped latency; ties -> lowest index) per state: (patterns, rates)."""
        return self.latency_table().argmin(axis=2)

    def state_index(self, state) -> int:
        """A state index from an index or an observation of this environment."""
        if isinstance(state, (numbers.Integral, np.integer)) and not isinstance(state, bool):
            return _check_int("state", int(state), 0, self.num_states - 1)
        obs = np.asarray(state, dtype=np.float64).ravel()
        if obs.shape != self.observation_space.shape:
            raise ValueError(f"state must be a state index in [0, {self.num_states - 1}] or an "
                             f"observation of shape {self.observation_space.shape}, got {state!r}")
        p = int(np.argmax(obs[1:])) if len(self.patterns) > 1 else 0
        r = int(np.argmin(np.abs(np.array(self.rates) - obs[0])))
        if abs(self.rates[r] - obs[0]) > 1e-6:
            raise ValueError(f"rate {obs[0]:g} is not one of this environment's rates {self.rates}")
        return p * len(self.rates) + r

    def best_action(self, state) -> int:
        """The oracle's action for a state (index or observation)."""
        s = self.state_index(state)
        return int(self.oracle_table().reshape(-1)[s])

    def regret(self, state, action) -> float:
        """Capped latency of ``action`` minus the oracle's, in cycles (>= 0)."""
        s = self.state_index(state)
        a = _check_discrete(action, len(self.routings))
        row = self.latency_table().reshape(self.num_states, -1)[s]
        return float(row[a] - row.min())

    # ------------------------------------------------------------ episodes
    def _obs(self) -> np.ndarray:
        obs = np.zeros(self.observation_space.shape, dtype=np.float32)
        obs[0] = self.rates[min(self._t, len(self.rates) - 1)]
        if len(self.patterns) > 1:
            obs[1 + self._pattern] = 1.0
        return obs

    def _state(self) -> int:
        return self._pattern * len(self.rates) + min(self._t, len(self.rates) - 1)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._record_reset(options)
        self._table()
        self._latency_sum = 0.0
        self._pattern = int(self.np_random.integers(len(self.patterns))) if len(self.patterns) > 1 else 0
        self._t, self._done, self._last = 0, False, None
        s = self._state()
        return self._obs(), {"state": s, "pattern": self.patterns[self._pattern],
                             "rate": self.rates[0]}

    def step(self, action):
        check_running(self._done)
        a = _check_discrete(action, len(self.routings))
        self._record_step(action)
        s = self._state()
        figures = self._table()[s * len(self.routings) + a]
        row = self._latency.reshape(self.num_states, -1)[s]
        latency = float(row[a])
        best = int(row.argmin())
        info = dict(figures)
        info.update(latency=latency, routing=self.routings[a], pattern=self.patterns[self._pattern],
                    rate=self.rates[self._t], state=s, best_action=best,
                    oracle_latency=float(row[best]), regret=float(latency - row[best]))
        self._last = (s, a)
        self._t += 1
        self._latency_sum += latency
        self._done = self._t == len(self.rates)
        if self._done:
            info.update(objective=self._latency_sum / self._t, objective_sense="min", feasible=True)
        return self._obs(), -latency, self._done, False, info

    # ------------------------------------------------------------ rendering
    def _point_loads(self, s: int, a: int) -> tuple[np.ndarray, np.ndarray]:
        config = self.point_config(s, a)
        if config not in self._loads:
            net = noc.Network(config)
            net.run(self.render_cycles)  # warm-up
            out = net.run(self.render_cycles)
            self._loads[config] = (np.asarray(out["link_utilisation"], dtype=np.float32),
                                   np.asarray(out["buffer_occupancy"], dtype=np.float32))
        return self._loads[config]

    def render(self):
        if self.render_mode is None:
            return None
        s, a = self._last if self._last is not None else (self._state(), 0)
        link, occ = self._point_loads(s, a)
        p, r = divmod(s, len(self.rates))
        label = self.network.label
        if self.render_mode == "rgb_array":
            return _figure(self.network, link, occ, (
                f"{label}, {self.patterns[p]} at {self.rates[r]:g} flits/node/cycle, "
                f"{self.routings[a]}: {self.latency_table().reshape(self.num_states, -1)[s][a]:.1f} cycles"))
        row = self.latency_table().reshape(self.num_states, -1)[s]
        lines = [(f"NoCRouting {label}, {self.patterns[p]} traffic, rate "
                  f"{self.rates[r]:g} flits/node/cycle (state {s})"),
                 ("  ".join(f"{name}: {lat:.1f}{'*' if i == row.argmin() else ''}"
                            for i, (name, lat) in enumerate(zip(self.routings, row)))
                  + "   (capped latency, cycles; * = oracle)"),
                 f"link loads with {self.routings[a]} (tenths of a flit/cycle):",
                 _loads_text(self.network, link)]
        return "\n".join(lines)


# ---------------------------------------------------------------- persistent
class NoCRoutingPersistentEnv(ReplayPickle, gym.Env):
    """Control the routing of a running NoC (mesh by default) whose traffic changes phase.

    ## Description
    The control problem the NOCS 2019 setting (:class:`NoCRoutingEnv`) leaves
    out: the network keeps running between decisions.  A persistent
    :class:`archgym.noc.Network` (cycle-level, input-queued VC routers,
    credit flow control, unbounded source queues) advances ``cycles_per_step``
    cycles per step; queues, in-flight packets and backlogs carry over.  The
    traffic changes phase during the episode: each phase has a pattern drawn
    from ``patterns`` and a rate drawn uniformly from ``rate_range`` and lasts
    a number of steps drawn uniformly from ``phase_steps`` (all from
    ``np_random``), so a good policy must react to congestion it observes.

    The network is any topology of the core (``topology=``: mesh, torus,
    fly, anynet, ...; see :class:`NoCRoutingEnv`), and the actions are its
    routing set as the core defines it (:func:`archgym.noc.routings_on`);
    the spaces follow its routers and ports (:func:`archgym.noc.network_shape`).

    ``per_router=False`` (``NoCRouting-Persistent-v0``): one routing
    function for the whole network; on a 2-D mesh by default
    :data:`SWITCHABLE_ROUTINGS`, elsewhere the network's whole routing set.
    A topology with a single routing (fly: ``dest_tag``; anynet: ``min``)
    is accepted with ``Discrete(1)``: a fixed-routing run of that network
    under the same phases and reward, the baseline of a sweep over
    topologies; the choice is meaningful on a mesh or torus.
    ``per_router=True`` (``NoCRouting-PerRouter-v0``): every router picks its
    own function among ``routings``, by default all of
    :data:`archgym.noc.ROUTINGS_PER_ROUTER` that run on the network (dor,
    min_adapt, duato, random_min on a 2-D mesh, or a 2-D torus with >= 3
    VCs; dor and min_adapt where n != 2),
    which share VC 0 (a torus: VCs 0-1) along the dimension-order port as an
    escape channel; ``routings`` may name a non-empty subset of them.  Only
    the k-ary n-cubes have per-router routings (a fly or an anynet has one
    routing, with nothing to mix): ``per_router=True`` elsewhere raises one
    line naming the topologies that have them.

    **Deadlock.**  The routing changes while packets are in flight, so the
    union of the old and the new routing's channel dependencies must stay
    acyclic.  The default network-wide actions
    (:data:`SWITCHABLE_ROUTINGS`: ``dor``, ``west_first_oblivious``,
    ``west_first``) all turn within the west-first turn set on every VC, so
    any switching sequence is deadlock-free.  Switching between an
    escape-VC routing (``random_min``, ``duato``) and one that uses the
    adaptive VCs freely (``dor``, turn models), or between different turn
    models, can deadlock (Duato's condition needs atomic use of the adaptive
    VCs); pass such sets with ``routings=`` at your own risk.  In the per-router
    variant every policy keeps VC 0 as the escape channel and takes an
    adaptive VC only when it is empty, so mixtures, and changes of mixture
    while packets are in flight, are deadlock-free (stress-tested in
    tests/test_noc_core.py).  Off the 2-D mesh's default, switching is not
    proven safe: on a torus, BookSim's ``chaos`` (VC 0 alone) deadlocks by
    itself under uniform traffic at 0.45 flits/node/cycle, and it was the
    only routing of the torus set in the deadlocks of a random-switching run
    (tests/test_noc_routing.py); a single routing (fly, anynet) never
    switches.  Should a deadlock occur, the core's
    watchdog detects it (no flit moved for 1000 cycles with flits in flight)
    and the episode ends (see Rewards); it never hangs.

    ## Action Space
    ``Discrete(len(routings))`` (on a 2-D mesh by default 3: dor,
    west_first_oblivious, west_first) or, per router,
    ``MultiDiscrete([len(routings)] * R)`` for the network's R routers
    (default 4 choices; on a k x k grid router id x + k*y).  The action applies to packets routed from the
    start of the step; a packet keeps the network-wide routing it was injected
    with, while per-router choices apply at each router a head flit reaches.

    ## Observation Space
    ``Box(0, 1, (R (L + P) + 4,), float32)`` for the network's R routers of
    L output link ports and P input ports (:func:`archgym.noc.network_shape`:
    ``routers``, ``link_ports``, ``ports``), all measured over the last step:
    link utilisation (R x L, flits per cycle on each output port), input-buffer
    occupancy (R x P, the fraction of the port's V x B flit slots in use),
    then ``latency_term / latency_cap`` (the reward's latency term, see
    Rewards), the accepted and the injected flit rate (flits/node/cycle) and
    ``min(backlog_flits / (N cycles_per_step), 1)`` for its N nodes.

    The ports: on a k-ary n-cube (R = N = k^n) the outputs are +x, -x, +y,
    -y, ... (L = 2n; 0 where a mesh edge has no link) and the inputs the
    same plus injection (P = 2n + 1): a 2-D k x k mesh or torus gives
    ``9 k^2 + 4``.  A k-ary n-fly has n k^(n-1) routers of k ports
    (L = P = k), its first stage's inputs and last stage's outputs the
    nodes' channels.  An anynet's routers have their nodes' ports first,
    then one per neighbour router in increasing id (BookSim's order); L = P
    = the most any router has, 0 for a port a router lacks.

    ## Rewards
    With L = average latency (cycles, creation to tail ejection) of the
    packets delivered during the step, Q = backlog_flits (flits still waiting
    in the source queues at the end of the step), N = the nodes (k^2 on a
    2-D mesh) and lambda = the
    phase's offered rate (flits/node/cycle)::

        latency_term = min(L, latency_cap)   (latency_cap if nothing was delivered while
                                              flits were queued or in the network at the
                                              end of the step; 0 if it was empty)
        backlog_term = min(Q / (N * lambda), latency_cap)
        reward = -(latency_term + backlog_weight * backlog_term)

    backlog_term is Little's-law estimate of the queueing delay of the
    backlog: the cycles the source queues would take to drain at the offered
    rate.  Without it a policy could look good by delivering few, short
    packets while the rest wait at the sources (the latency of a packet
    counts only once it is delivered).  Defaults: latency_cap 500,
    backlog_weight 1.0, so reward is in [-1000, 0].  A deadlock reported by
    the core (``info["status"] == "deadlock"``) ends the episode with
    ``-(1 + backlog_weight) * latency_cap`` and ``info["reason"] ==
    "deadlock"``.

    The last step's ``info`` has ``objective``, the mean over the episode's
    steps of ``latency_term + backlog_weight * backlog_term`` (cycles; the
    deadlock step counts its penalty), ``objective_sense`` ("min": the
    return is minus the number of steps times it, so over episodes of the
    same length and traffic, i.e. the same reset seed, the return orders
    the routing policies as the objective does) and ``feasible`` (False
    after a deadlock).

    ## Starting State
    A fresh network (seeded from ``np_random``) runs ``warmup_cycles`` in the
    first phase with routing action 0 (``routings[0]`` / every router
    ``ROUTINGS_PER_ROUTER[0]``); the observation is that warm-up's.

    ## Episode End
    Truncates after ``max_steps`` steps; terminates only on a deadlock.

    ## Arguments
    ``topology`` (``"mesh"``), ``k`` (8), ``n`` (2), ``network_file``
    (anynet only, required there), as :class:`NoCRoutingEnv`;
    ``per_router`` (False), ``routings`` (the actions, default
    :data:`SWITCHABLE_ROUTINGS` on a 2-D mesh and the network's routing set
    elsewhere, or per router all of ``ROUTINGS_PER_ROUTER`` that run there),
    ``patterns`` (default those of :data:`PHASE_PATTERNS` defined on the
    network: all six on a 2-D mesh of k a power of 2, uniform alone on an
    anynet), ``rate_range``
    ((0.02, 0.32)), ``phase_steps`` ((4, 12), inclusive), ``cycles_per_step``
    (500), ``warmup_cycles`` (1000), ``max_steps`` (64), ``backlog_weight``
    (1.0), ``latency_cap`` (500.0), ``packet_size`` (1), ``num_vcs`` (4),
    ``vc_buf_size`` (8), ``config_overrides`` (other NocConfig fields),
    ``render_mode`` (``"ansi"``, ``"rgb_array"``: the heatmap of the last
    step's link loads and buffer occupancy, with a title and a labelled
    colour bar; a 2-D mesh or torus as a grid, any other network as a
    table of routers x ports).  A bad argument (an unknown topology, a
    routing or pattern not defined on the network, a missing or malformed
    ``network_file``, ``per_router=True`` on a fly) raises one ValueError line.

    ``info``: ``latency`` (L, None if nothing was delivered),
    ``network_latency``, ``delivered_packets``, ``throughput`` (accepted
    flit rate), ``injected_flit_rate``, ``backlog_flits``,
    ``in_network_flits``, ``status``, ``latency_term``, ``backlog_term``,
    ``pattern``, ``rate``, ``phase`` (index of the phase in the episode),
    ``cycle``, and ``routing`` (the name, or the per-router names).

    ## Version History
    * v0 (revised): ``topology``, ``n`` and ``network_file`` run it on any
      topology of the core (spaces sized by its routers and ports, the
      backlog terms by its nodes); ``routings`` applies per router too (unknown or empty
      lists are refused; they were ignored); the last step's ``info`` has
      ``objective``, ``objective_sense`` and ``feasible``; the heatmap has a
      title and a labelled colour bar; the env pickles.
    * v0: initial version.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}

    def __init__(self, k: int = 8, per_router: bool = False,
                 routings: Sequence[str] | None = None,
                 patterns: Sequence[str] | None = None,
                 rate_range: tuple[float, float] = (0.02, 0.32),
                 phase_steps: tuple[int, int] = (4, 12), cycles_per_step: int = 500,
                 warmup_cycles: int = 1000, max_steps: int = 64, backlog_weight: float = 1.0,
                 latency_cap: float = 500.0, packet_size: int = 1, num_vcs: int = 4,
                 vc_buf_size: int = 8, config_overrides: dict | None = None,
                 render_mode: str | None = None, topology: str = "mesh", n: int = 2,
                 network_file: str | Path | None = None):
        check_render_mode(render_mode, self.metadata["render_modes"])
        self.per_router = bool(per_router)
        self.rate_range = _check_pair("rate_range", rate_range, _check_rate)
        self.phase_steps = _check_pair("phase_steps", phase_steps, _check_steps, "min, max")
        self.cycles_per_step = _check_int("cycles_per_step", cycles_per_step, 1)
        self.warmup_cycles = _check_int("warmup_cycles", warmup_cycles, 0)
        self.max_steps = _check_int("max_steps", max_steps, 2)
        for name, value in (("backlog_weight", backlog_weight), ("latency_cap", latency_cap)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real) \
                    or not math.isfinite(value) or value < 0 or (name == "latency_cap" and value == 0):
                raise ValueError(f"{name} must be a finite number {'> 0' if name == 'latency_cap' else '>= 0'}, "
                                 f"got {value!r}")
        self.backlog_weight, self.latency_cap = float(backlog_weight), float(latency_cap)

        def default_routings(available):
            if self.per_router:
                return available
            return SWITCHABLE_ROUTINGS if topology == "mesh" and n == 2 else available

        self.network, self.routings, self.patterns = _network(
            topology, k, n, network_file, num_vcs, vc_buf_size, packet_size, 0, config_overrides,
            per_router=self.per_router, routings=routings, default_routings=default_routings,
            patterns=patterns, default_patterns=PHASE_PATTERNS)
        if self.per_router:  # the core's per-router codes are indices into ROUTINGS_PER_ROUTER
            self._codes = np.array([noc.ROUTINGS_PER_ROUTER.index(r) for r in self.routings], dtype=np.int32)
        self.base = replace(self.network.base, injection_rate=self.rate_range[0])
        self.render_mode = render_mode
        self.k = self.base.k
        net = self.network
        self.action_space = (spaces.MultiDiscrete(np.full(net.routers, len(self.routings), dtype=np.int64))
                             if self.per_router else spaces.Discrete(len(self.routings)))
        size = net.routers * (net.link_ports + net.ports) + 4
        self.observation_space = spaces.Box(0.0, 1.0, (size,), dtype=np.float32)
        self._net: noc.Network | None = None
        self._last: dict | None = None
        self._done = True
        self._capacity = float(self.base.num_vcs * self.base.vc_buf_size)

    # ------------------------------------------------------------ phases
    def _new_phase(self) -> None:
        self._phase += 1
        self._pattern = self.patterns[int(self.np_random.integers(len(self.patterns)))]
        lo, hi = self.rate_range
        self._rate = float(self.np_random.uniform(lo, hi)) if hi > lo else lo
        self._phase_left = int(self.np_random.integers(self.phase_steps[0], self.phase_steps[1] + 1))
        self._net.set_traffic(self._pattern)
        self._net.set_injection_rate(self._rate)

    def _routing_info(self, action):
        if self.per_router:
            return [self.routings[i] for i in action]
        return self.routings[action]

    # ------------------------------------------------------------ gym API
    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._record_reset(options)
        self._cost_sum = 0.0
        sim_seed = int(self.np_random.integers(2**31 - 1))
        self._net = noc.Network(replace(self.base, seed=sim_seed))
        self._phase = -1
        self._new_phase()
        first = np.zeros(self.network.routers, dtype=np.int64) if self.per_router else 0
        self._set_routing(first)
        self._t, self._done = 0, False
        out = self._net.run(self.warmup_cycles)
        self._last = out
        info = {"pattern": self._pattern, "rate": self._rate, "phase": self._phase,
                "cycle": int(self._net.cycle), "status": out["status"]}
        return self._obs(out), info

    def _set_routing(self, action) -> None:
        if self.per_router:
            self._net.set_routing(self._codes[np.asarray(action, dtype=np.int64)])
        else:
            self._net.set_routing(self.routings[action])

    def step(self, action):
        check_running(self._done)
        if self.per_router:
            a = np.array(check_action(action, self.action_space.nvec), dtype=np.int64)
        else:
            a = _check_discrete(action, len(self.routings))
        self._record_step(action)
        if self._phase_left == 0:
            self._new_phase()
        self._phase_left -= 1
        self._set_routing(a)
        out = self._net.run(self.cycles_per_step)
        self._last = out
        self._t += 1
        info = self._info(out, a)
        deadlock = out["status"] == "deadlock"
        if deadlock:
            reward = -(1.0 + self.backlog_weight) * self.latency_cap
            info["reason"] = "deadlock"
        else:
            reward = -(info["latency_term"] + self.backlog_weight * info["backlog_term"])
        self._done = deadlock or self._t >= self.max_steps
        self._cost_sum -= reward
        if self._done:
            info.update(objective=self._cost_sum / self._t, objective_sense="min", feasible=not deadlock)
        return self._obs(out), float(reward), bool(deadlock), bool(not deadlock and self._done), info

    def _latency_term(self, out: dict) -> float:
        """The latency term of the step (cycles), for the reward and the observation alike:
        the capped average latency of the packets delivered during the step; latency_cap if
        none was delivered while flits were waiting at the sources or in the network; 0 if
        the network was empty."""
        if int(out["delivered_packets"]):
            return min(float(out["avg_latency"]), self.latency_cap)
        waiting = int(out["backlog_flits"]) + int(out["in_network_flits"])
        return self.latency_cap if waiting else 0.0

    def _info(self, out: dict, action) -> dict:
        delivered = int(out["delivered_packets"])
        backlog, in_net = int(out["backlog_flits"]), int(out["in_network_flits"])
        latency = _clean(float(out["avg_latency"])) if delivered else None
        latency_term = self._latency_term(out)
        backlog_term = min(backlog / (self.network.nodes * self._rate), self.latency_cap)
        return {"latency": latency, "network_latency": _clean(float(out["avg_network_latency"])) if delivered else None,
                "delivered_packets": delivered, "throughput": float(out["accepted_flit_rate"]),
                "injected_flit_rate": float(out["injected_flit_rate"]), "backlog_flits": backlog,
                "in_network_flits": in_net, "status": str(out["status"]),
                "latency_term": float(latency_term), "backlog_term": float(backlog_term),
                "pattern": self._pattern, "rate": self._rate, "phase": self._phase,
                "cycle": int(self._net.cycle), "routing": self._routing_info(action)}

    def _obs(self, out: dict) -> np.ndarray:
        link = np.asarray(out["link_utilisation"], dtype=np.float32).ravel()
        occ = np.asarray(out["buffer_occupancy"], dtype=np.float32).ravel()
        tail = np.array([self._latency_term(out) / self.latency_cap, out["accepted_flit_rate"],
                         out["injected_flit_rate"],
                         int(out["backlog_flits"]) / (self.network.nodes * self.cycles_per_step)],
                        dtype=np.float32)
        obs = np.concatenate([link, occ, tail]).astype(np.float32)
        np.clip(np.nan_to_num(obs, nan=0.0), 0.0, 1.0, out=obs)
        return obs

    def render(self):
        if self.render_mode is None or self._last is None:
            return None
        link = np.asarray(self._last["link_utilisation"], dtype=np.float32)
        occ = np.asarray(self._last["buffer_occupancy"], dtype=np.float32)
        out = self._last
        label = self.network.label
        if self.render_mode == "rgb_array":
            return _figure(self.network, link, occ, (
                f"{label}, cycle {int(self._net.cycle)}: {self._pattern} at "
                f"{self._rate:.3f} flits/node/cycle, latency {float(out['avg_latency']):.1f} cycles"))
        ports = ("> +x, < -x, ^ +y, v -y" if self.network.grid
                 else "one column per output port, in the core's port order")
        head = (f"NoCRouting {label}, cycle {int(self._net.cycle)}, phase "
                f"{self._phase}: {self._pattern} at {self._rate:.3f} flits/node/cycle\n"
                f"latency {float(out['avg_latency']):.1f} cycles, accepted "
                f"{float(out['accepted_flit_rate']):.3f} flits/node/cycle, backlog "
                f"{int(out['backlog_flits'])} flits, in network {int(out['in_network_flits'])}\n"
                f"link loads (tenths of a flit/cycle; {ports}, # saturated):")
        return head + "\n" + _loads_text(self.network, link)
