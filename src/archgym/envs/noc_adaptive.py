"""NoCAdaptive: adaptive (minimal / non-minimal) routing on a dragonfly or a flattened butterfly, decided by a policy."""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, replace

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from archgym import noc
from archgym.envs._common import ReplayPickle, check_action, check_name, check_render_mode, check_running
from archgym.envs.noc_routing import _check_int, _check_pair, _check_rate, _check_steps, _clean, _field_int


@dataclass(frozen=True)
class Topology:
    """A network the env runs, with its defaults: ``k`` (dragonflynew: nodes per router;
    flatfly: routers per row and column), ``c`` nodes per router (flatfly), the VCs ugal
    runs with, ``vc_buf_size``, the traffic ``patterns`` and ``rate_range`` of its phases,
    the routers of a group (``granularity="group"``) and the two classes of its output ports."""
    name: str
    k: int
    max_k: int
    num_vcs: int
    vc_buf_size: int
    patterns: tuple[str, ...]
    rate_range: tuple[float, float]
    port_classes: tuple[str, ...]
    group: str  # what a group of routers is called
    c: int = 1

    def group_size(self, k: int) -> int:
        return 2 * k if self.name == "dragonflynew" else k  # a dragonfly's group; a flatfly's row

    @property
    def router_features(self) -> tuple[str, ...]:
        """Per-router observation features, in order (see the env's docstring)."""
        return tuple(f"{c}_credits" for c in self.port_classes) + ("backlog", "latency")


#: The networks, by BookSim's names.  dragonflynew k = 2 (72 nodes, 36 routers, 9 groups),
#: 3 VCs (BookSim's ugal asserts it), 256-flit buffers (BookSim's dragonfly example: a VC keeps
#: a 100-cycle global channel busy); traffic uniform and BookSim's tornado over all N nodes
#: (``traffic_radix = N``: v sends to v + ceil(N/2) - 1 mod N, to the one or two groups half
#: way round, over one or two global channels).  flatfly: BookSim's flatflyconfig shape
#: (k = 4: 4 x 4 routers of c = 4 nodes, 64 nodes), 4 VCs and 8-flit buffers (the settings
#: of the oracle's curves, tests/data/reference/booksim/topologies_more.csv); traffic uniform
#: and asymmetric (v sends to v mod N/2 or that + N/2: within a column of routers, half to its
#: own router, half to the router two rows away, over one channel), which saturates minimal
#: routing at 0.46 flits/node/cycle in BookSim and Valiant's at 0.65, while uniform saturates
#: Valiant at 0.35 and minimal at 0.65.
TOPOLOGIES: dict[str, Topology] = {
    "dragonflynew": Topology("dragonflynew", k=2, max_k=noc.MAX_DRAGONFLY_K, num_vcs=3, vc_buf_size=256,
                             patterns=("uniform", "tornado"), rate_range=(0.1, 0.25),
                             port_classes=noc.DRAGONFLY_PORT_CLASSES, group="group"),
    "flatfly": Topology("flatfly", k=4, max_k=noc.MAX_K, num_vcs=4, vc_buf_size=8, c=4,
                        patterns=("uniform", "asymmetric"), rate_range=(0.3, 0.6),
                        port_classes=noc.FLATFLY_PORT_CLASSES, group="row"),
}
#: The default actions: the two paths a packet can take out of its source router.
DEFAULT_DECISIONS: tuple[str, ...] = ("min", "val")
#: The rule of every router during the warm-up (BookSim's ugal).
WARMUP_DECISION = "ugal_l"


def _check_positive(name: str, value, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) \
            or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be a finite number {'>= 0' if allow_zero else '> 0'}, got {value!r}")
    return float(value)


class NoCAdaptiveEnv(ReplayPickle, gym.Env):
    """Choose, per router of a dragonfly or a flattened butterfly, between minimal and non-minimal (Valiant) paths.

    ## Description
    Adaptive routing, simulated cycle by cycle by archgym's NoC core, on
    ``topology`` (:data:`TOPOLOGIES`):

    * ``"dragonflynew"`` (the default): BookSim's dragonfly (Kim et al.,
      ISCA 2008; docs/design/noc.md §15c): k nodes per router, 2k routers
      per group joined all-to-all by 10-cycle local channels, 2k^2 + 1
      groups joined pairwise by 100-cycle global channels (k = 2: 72
      nodes, 36 routers, 9 groups), 3 VCs;
    * ``"flatfly"``: BookSim's on-chip flattened butterfly (Kim et al.,
      MICRO 2007; §15b) in the shape of its example ``flatflyconfig``:
      k x k routers (k = 4) of c = 4 nodes, each joined to every router of
      its row and of its column (channels of 2, 4 and 6 cycles), 4 VCs.

    The network routes with BookSim's ``ugal``; the packets a router
    injects take the path its *decision rule* gives, which the agent sets
    per router (or per group) every step.  The rules
    (:data:`archgym.noc.UGAL_DECISIONS`):

    * ``min``: the minimal path (dragonfly: at most local, global, local;
      flatfly: row then column, as ``ran_min``);
    * ``val``: Valiant, through an intermediate router drawn at random
      (dragonfly: its group uniform over all groups, a packet whose drawn
      group is its source's or destination's goes minimally; flatfly: any
      of the k^2 routers, as ``valiant``);
    * ``ugal_l``: BookSim's ugal, UGAL with local information: Valiant
      through a drawn intermediate when the source router's minimal output
      port is loaded enough more than its port toward the intermediate
      (dragonfly: credits in use q_min > 2 q_nm + 30; flatfly: q_min h_min
      > q_nm h_nm + 2, h the hops of each path);
    * ``ugal_g``: the same rule on queues along the paths (dragonfly: the
      two global channels out of the source group, each read at the router
      that owns it; flatfly: the credits in use summed over every channel
      of each path, Q_min > Q_nm + 2).

    A persistent network advances ``cycles_per_step`` cycles per step;
    queues and packets in flight carry over.  The traffic changes phase
    during the episode, alternating between the patterns of ``patterns``
    (the topology's defaults: uniform and an adversarial pattern, tornado
    over all nodes on the dragonfly, asymmetric on the flatfly; see
    :data:`TOPOLOGIES`), the first drawn at random, each phase with a rate
    drawn uniformly from ``rate_range`` and a length drawn uniformly from
    ``phase_steps`` (all from ``np_random``).  The observation does not
    name the phase: the agent infers it from congestion.  Under uniform
    traffic minimal paths are best; under the adversarial pattern the
    minimal channels saturate (dragonfly k = 2: tornado at 1/5
    flit/node/cycle; flatfly: asymmetric at about 0.46) and Valiant paths
    carry the load.

    Baselines are constant actions in the same env: all ``min`` (MIN), all
    ``val`` (VAL); with ``decisions=archgym.noc.UGAL_DECISIONS`` also all
    ``ugal_l`` (UGAL-L) and all ``ugal_g`` (UGAL-G).
    :meth:`constant_action` builds them.

    ## Action Space
    ``MultiDiscrete([len(decisions)] * U)``, U = the routers (default,
    ``granularity="router"``: 36 on the dragonfly, 16 on the flatfly) or the
    groups (``granularity="group"``: a dragonfly's groups, 9 for k = 2, or
    a flatfly's rows, 4; every router of a group takes its group's value;
    fewer choices to learn, the benchmark's PPO setting).  Value i is
    ``decisions[i]``, by default ``("min", "val")``.  Dragonfly: router r
    is router r mod 2k of group r // 2k.  Flatfly: router r is at column
    r mod k of row r // k.  The decision applies to the packets that leave
    their source router during the step.

    ## Observation Space
    ``Box(0, 1, (4 R + 3,), float32)`` for the R routers: per router, in
    the order of ``TOPOLOGIES[topology].router_features``, the credits in
    use at the end of the step on its output ports of each of the two
    classes (dragonfly: local, global; flatfly: row, column; each a
    fraction of the class's ports x VCs x ``vc_buf_size``), the backlog of
    its nodes (flits created and not yet injected, divided by its nodes x
    ``cycles_per_step``, at most 1) and the mean latency of the packets it
    sourced that were delivered in the step (divided by ``latency_cap``, at
    most 1; 0 if none); then the step's latency term / ``latency_cap`` (see
    Rewards), the accepted and the injected flit rate (flits/node/cycle).

    ## Rewards
    As ``NoCRouting-Persistent-v0``: with L the mean latency (creation to
    tail ejection, cycles) of the packets delivered during the step, Q the
    flits waiting in the source queues at its end, N the nodes and lambda
    the phase's offered rate::

        latency_term = min(L, latency_cap)   (latency_cap if nothing was delivered while
                                              flits were waiting; 0 if the network was empty)
        backlog_term = min(Q / (N * lambda), latency_cap)
        reward = -(latency_term + backlog_weight * backlog_term)

    The last step's ``info`` has ``objective`` (the mean of
    ``latency_term + backlog_weight * backlog_term`` over the episode's
    steps, cycles), ``objective_sense`` ("min") and ``feasible`` (True).
    The routings cannot deadlock (ugal's VC classes: every rule uses them;
    on the flatfly ``min`` uses every VC, as ``ran_min``, and the upper
    class, which every other packet reaches in its last phase, drains).

    ## Starting State
    A fresh network (seeded from ``np_random``) runs ``warmup_cycles`` in
    the first phase with every router on ``ugal_l``; the observation is
    that warm-up's.

    ## Episode End
    Truncates after ``max_steps`` steps; never terminates.

    ## Arguments
    ``topology`` ("dragonflynew" or "flatfly"), ``k`` (the topology's
    default: 2 on the dragonfly, 2 to :data:`archgym.noc.MAX_DRAGONFLY_K`;
    4 on the flatfly, from 2, as far as the core accepts), ``granularity``
    ("router" or "group"), ``decisions`` (names of
    :data:`archgym.noc.UGAL_DECISIONS`, default :data:`DEFAULT_DECISIONS`),
    ``patterns`` (the topology's default; on the dragonfly one or more of
    uniform, tornado, neighbor, randperm, diagonal, asymmetric, hotspot,
    with ``traffic_radix`` = N; on the flatfly the patterns the core defines
    there), ``rate_range`` (the topology's default: (0.1, 0.25) on the
    dragonfly, (0.3, 0.6) on the flatfly, flits/node/cycle),
    ``phase_steps`` ((4, 10), inclusive), ``cycles_per_step`` (500),
    ``warmup_cycles`` (1000), ``max_steps`` (32), ``backlog_weight`` (1.0),
    ``latency_cap`` (1000.0), ``vc_buf_size`` (the topology's default: 256
    on the dragonfly, 8 on the flatfly), ``packet_size`` (1),
    ``render_mode`` ("ansi").  A bad argument raises one ValueError line.

    ``info``: ``latency`` (L, None if nothing was delivered),
    ``delivered_packets``, ``throughput`` (accepted flit rate),
    ``injected_flit_rate``, ``backlog_flits``, ``in_network_flits``,
    ``latency_term``, ``backlog_term``, ``pattern``, ``rate``, ``phase``
    (index of the phase in the episode), ``cycle``, ``decisions`` (how many
    routers took each rule, by name).

    ## Version History
    * v0: initial version (the flatfly added later, as an argument).
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(self, topology: str = "dragonflynew", k: int | None = None, granularity: str = "router",
                 decisions: Sequence[str] = DEFAULT_DECISIONS,
                 patterns: Sequence[str] | None = None,
                 rate_range: tuple[float, float] | None = None,
                 phase_steps: tuple[int, int] = (4, 10), cycles_per_step: int = 500,
                 warmup_cycles: int = 1000, max_steps: int = 32, backlog_weight: float = 1.0,
                 latency_cap: float = 1000.0, vc_buf_size: int | None = None, packet_size: int = 1,
                 render_mode: str | None = None):
        self.render_mode = check_render_mode(render_mode, self.metadata["render_modes"])
        self.topology = TOPOLOGIES[check_name("topology", topology, TOPOLOGIES)]
        top = self.topology
        self.k = _check_int("k", top.k if k is None else k, 2, top.max_k)
        self.granularity = check_name("granularity", granularity, ("router", "group"))
        self.decisions = self._names("decision", decisions, noc.UGAL_DECISIONS)
        self.patterns = self._names("pattern", top.patterns if patterns is None else patterns,
                                    noc.TRAFFIC_PATTERNS)
        self.rate_range = _check_pair("rate_range", top.rate_range if rate_range is None else rate_range,
                                      _check_rate)
        self.phase_steps = _check_pair("phase_steps", phase_steps, _check_steps, "min, max")
        self.cycles_per_step = _check_int("cycles_per_step", cycles_per_step, 1)
        self.warmup_cycles = _check_int("warmup_cycles", warmup_cycles, 0)
        self.max_steps = _check_int("max_steps", max_steps, 1)
        self.backlog_weight = _check_positive("backlog_weight", backlog_weight, allow_zero=True)
        self.latency_cap = _check_positive("latency_cap", latency_cap)
        n = 1 if top.name == "dragonflynew" else 2
        nodes = noc.shape_nodes(top.name, self.k, n, top.c)
        self.base = noc.NocConfig(
            topology=top.name, k=self.k, n=n, c=top.c, routing_function="ugal", num_vcs=top.num_vcs,
            vc_buf_size=_field_int("vc_buf_size", top.vc_buf_size if vc_buf_size is None else vc_buf_size),
            packet_size=_field_int("packet_size", packet_size), traffic=self.patterns[0],
            traffic_radix=nodes if top.name == "dragonflynew" else 0, injection_rate=self.rate_range[0])
        for pattern in self.patterns:  # the core's reason for a pattern the topology lacks
            noc.check_traffic(pattern, self.k, n=n, topology=top.name, c=top.c)
        shape = noc.network_shape(self.base)
        self.nodes, self.routers = shape["nodes"], shape["routers"]
        self.group_size = top.group_size(self.k)
        units = self.routers if self.granularity == "router" else self.routers // self.group_size
        self.action_space = spaces.MultiDiscrete(np.full(units, len(self.decisions), dtype=np.int64))
        size = len(top.router_features) * self.routers + 3
        self.observation_space = spaces.Box(0.0, 1.0, (size,), dtype=np.float32)
        self._codes = np.array([noc.UGAL_DECISIONS.index(d) for d in self.decisions], dtype=np.int64)
        self._net: noc.Network | None = None
        self._last: dict | None = None
        self._done = True

    @staticmethod
    def _names(kind: str, value, allowed: Sequence[str]) -> tuple[str, ...]:
        items = (value,) if isinstance(value, str) else tuple(value) if isinstance(value, Sequence) else ()
        if not items:
            raise ValueError(f"{kind}s must be a non-empty sequence of names; allowed: {', '.join(allowed)}")
        items = tuple(check_name(kind, v, allowed) for v in items)
        if len(set(items)) != len(items):
            raise ValueError(f"{kind}s name one twice: {items}")
        return items

    def constant_action(self, decision: str) -> np.ndarray:
        """The action that gives every router the rule ``decision`` (one of ``decisions``):
        the MIN, VAL, UGAL-L and UGAL-G baselines."""
        index = self.decisions.index(check_name("decision", decision, self.decisions))
        return np.full(self.action_space.shape, index, dtype=np.int64)

    # ------------------------------------------------------------ phases
    def _new_phase(self) -> None:
        self._phase += 1
        if self._phase == 0:
            self._pattern_index = int(self.np_random.integers(len(self.patterns)))
        else:
            self._pattern_index = (self._pattern_index + 1) % len(self.patterns)
        self._pattern = self.patterns[self._pattern_index]
        lo, hi = self.rate_range
        self._rate = float(self.np_random.uniform(lo, hi)) if hi > lo else lo
        self._phase_left = int(self.np_random.integers(self.phase_steps[0], self.phase_steps[1] + 1))
        self._net.set_traffic(self._pattern)
        self._net.set_injection_rate(self._rate)

    # ------------------------------------------------------------ gym API
    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._record_reset(options)
        self._cost_sum = 0.0
        sim_seed = int(self.np_random.integers(2**31 - 1))
        self._net = noc.Network(replace(self.base, seed=sim_seed), record=True)
        self._node_router = self._net.node_routers()
        self._phase = -1
        self._new_phase()
        warm = noc.UGAL_DECISIONS.index(WARMUP_DECISION)
        self._net.set_ugal_decisions(np.full(self.routers, warm, dtype=np.int64))
        self._t, self._done = 0, False
        out = self._net.run(self.warmup_cycles)
        self._last = out
        info = {"pattern": self._pattern, "rate": self._rate, "phase": self._phase,
                "cycle": int(self._net.cycle)}
        return self._obs(out), info

    def _router_codes(self, action: np.ndarray) -> np.ndarray:
        codes = self._codes[action]
        return codes if self.granularity == "router" else np.repeat(codes, self.group_size)

    def step(self, action):
        check_running(self._done)
        a = np.array(check_action(action, self.action_space.nvec), dtype=np.int64)
        self._record_step(action)
        if self._phase_left == 0:
            self._new_phase()
        self._phase_left -= 1
        codes = self._router_codes(a)
        self._net.set_ugal_decisions(codes)
        out = self._net.run(self.cycles_per_step)
        self._last = out
        self._t += 1
        info = self._info(out, codes)
        reward = -(info["latency_term"] + self.backlog_weight * info["backlog_term"])
        self._done = self._t >= self.max_steps
        self._cost_sum -= reward
        if self._done:
            info.update(objective=self._cost_sum / self._t, objective_sense="min", feasible=True)
        return self._obs(out), float(reward), False, bool(self._done), info

    def _latency_term(self, out: dict) -> float:
        if int(out["delivered_packets"]):
            return min(float(out["avg_latency"]), self.latency_cap)
        waiting = int(out["backlog_flits"]) + int(out["in_network_flits"])
        return self.latency_cap if waiting else 0.0

    def _info(self, out: dict, codes: np.ndarray) -> dict:
        delivered = int(out["delivered_packets"])
        backlog = int(out["backlog_flits"])
        counts = np.bincount(codes, minlength=len(noc.UGAL_DECISIONS))
        return {"latency": _clean(float(out["avg_latency"])) if delivered else None,
                "delivered_packets": delivered, "throughput": float(out["accepted_flit_rate"]),
                "injected_flit_rate": float(out["injected_flit_rate"]), "backlog_flits": backlog,
                "in_network_flits": int(out["in_network_flits"]),
                "latency_term": float(self._latency_term(out)),
                "backlog_term": float(min(backlog / (self.nodes * self._rate), self.latency_cap)),
                "pattern": self._pattern, "rate": self._rate, "phase": self._phase,
                "cycle": int(self._net.cycle),
                "decisions": {name: int(counts[i]) for i, name in enumerate(noc.UGAL_DECISIONS)}}

    def _class_credits(self) -> tuple[np.ndarray, np.ndarray]:
        """Credits in use per router on its two port classes [routers, 2], and the ports of each class."""
        net = self._net
        if self.topology.name == "dragonflynew":
            return net.dragonfly_credits_in_use(), np.array(net.dragonfly_class_ports())
        return net.flatfly_credits_in_use(), np.array(net.flatfly_class_ports())

    def _obs(self, out: dict) -> np.ndarray:
        used, ports = self._class_credits()
        credits = used / (ports * self.base.num_vcs * self.base.vc_buf_size)
        per_node = self.nodes // self.routers
        backlog = np.bincount(self._node_router, weights=self._net.backlog_per_node(), minlength=self.routers)
        backlog /= per_node * max(int(out["cycles"]), 1)
        rec = self._net.delivered()
        router = self._node_router[rec["src"]]
        count = np.bincount(router, minlength=self.routers)
        total = np.bincount(router, weights=rec["atime"] - rec["ctime"], minlength=self.routers)
        latency = np.divide(total, count * self.latency_cap, out=np.zeros(self.routers), where=count > 0)
        per_router = np.column_stack([credits, backlog, latency]).ravel()
        tail = [self._latency_term(out) / self.latency_cap, out["accepted_flit_rate"], out["injected_flit_rate"]]
        obs = np.concatenate([per_router, tail]).astype(np.float32)
        np.clip(np.nan_to_num(obs, nan=0.0), 0.0, 1.0, out=obs)
        return obs

    def render(self):
        if self.render_mode is None or self._last is None:
            return None
        out, top = self._last, self.topology
        used, _ = self._class_credits()
        lines = [f"NoCAdaptive {top.name} k={self.k}, cycle {int(self._net.cycle)}, phase {self._phase}: "
                 f"{self._pattern} at {self._rate:.3f} flits/node/cycle",
                 f"latency {float(out['avg_latency']):.1f} cycles, accepted "
                 f"{float(out['accepted_flit_rate']):.3f} flits/node/cycle, backlog "
                 f"{int(out['backlog_flits'])} flits",
                 f"credits in use per {top.group} ({'/'.join(top.port_classes)}, summed over its routers):"]
        per_group = used.reshape(-1, self.group_size, 2).sum(axis=1)
        lines.append("  ".join(f"{top.group[0]}{g}:{a}/{b}" for g, (a, b) in enumerate(per_group.tolist())))
        return "\n".join(lines)


def make_vector(num_envs: int = 1, **kwargs) -> gym.vector.AsyncVectorEnv:
    """NoCAdaptive-v0's vector entry point (``gym.make_vec("NoCAdaptive-v0", num_envs)``):
    ``num_envs`` copies of :class:`NoCAdaptiveEnv` with the same arguments, each in its own
    process (Gymnasium's AsyncVectorEnv: a step simulates thousands of cycles, so copies
    step in parallel on as many cores).  A bad argument raises here, in the caller's process."""
    _check_int("num_envs", num_envs, 1)
    NoCAdaptiveEnv(**kwargs)
    return gym.vector.AsyncVectorEnv([functools.partial(NoCAdaptiveEnv, **kwargs)] * num_envs)
