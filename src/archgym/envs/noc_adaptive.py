"""NoCAdaptive: adaptive (minimal / non-minimal) routing on a dragonfly, decided by a policy."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import replace

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from archgym import noc
from archgym.envs._common import ReplayPickle, check_action, check_name, check_render_mode, check_running
from archgym.envs.noc_routing import _check_int, _check_pair, _check_rate, _check_steps, _clean, _field_int

#: The traffic of the phases: uniform random and BookSim's tornado over all N nodes
#: (``traffic_radix = N``: node v sends to v + ceil(N/2) - 1 mod N), which sends the nodes of
#: each group to the one or two groups half way round, over one or two global channels.
ADAPTIVE_PATTERNS: tuple[str, ...] = ("uniform", "tornado")
#: The default actions: the two paths a packet can take out of its source router.
DEFAULT_DECISIONS: tuple[str, ...] = ("min", "val")
#: Per-router observation features, in order (see the docstring).
ROUTER_FEATURES: tuple[str, ...] = ("local_credits", "global_credits", "backlog", "latency")
#: The rule of every router during the warm-up (BookSim's ugal).
WARMUP_DECISION = "ugal_l"


def _check_positive(name: str, value, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) \
            or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be a finite number {'>= 0' if allow_zero else '> 0'}, got {value!r}")
    return float(value)


class NoCAdaptiveEnv(ReplayPickle, gym.Env):
    """Choose, per router of a dragonfly, between minimal and non-minimal (Valiant) paths.

    ## Description
    Adaptive routing on BookSim's ``dragonflynew`` (Kim et al., ISCA 2008;
    docs/design/noc.md §15c), simulated cycle by cycle by archgym's NoC core:
    k nodes per router, 2k routers per group joined all-to-all by 10-cycle
    local channels, 2k^2 + 1 groups joined pairwise by 100-cycle global
    channels (k = 2: 72 nodes, 36 routers, 9 groups).  The network routes
    with ``ugal`` (3 VCs); the packets a router injects take the path its
    *decision rule* gives, which the agent sets per router (or per group)
    every step.  The rules (:data:`archgym.noc.UGAL_DECISIONS`):

    * ``min``: the minimal path (at most local, global, local);
    * ``val``: Valiant, through an intermediate router drawn at random (its
      group uniform over all groups; a packet whose drawn group is its
      source's or destination's goes minimally);
    * ``ugal_l``: BookSim's ugal, UGAL with local information: Valiant when
      the credits in use on the source router's minimal output port exceed
      2 x those on its port toward the intermediate group + 30;
    * ``ugal_g``: the same rule on the two global channels the paths take
      out of the source group, each read at the router that owns it (the
      global-information variant).

    A persistent network advances ``cycles_per_step`` cycles per step;
    queues and packets in flight carry over.  The traffic changes phase
    during the episode, alternating between the patterns of ``patterns``
    (default uniform and the adversarial tornado over all nodes, see
    :data:`ADAPTIVE_PATTERNS`), the first drawn at random, each phase with a
    rate drawn uniformly from ``rate_range`` and a length drawn uniformly
    from ``phase_steps`` (all from ``np_random``).  The observation does
    not name the phase: the agent infers it from congestion.  Under
    uniform traffic minimal paths are best; under tornado the minimal global
    channels saturate (at 1/5 flit/node/cycle for k = 2) and Valiant paths
    carry the load.

    Baselines are constant actions in the same env: all ``min`` (MIN), all
    ``val`` (VAL); with ``decisions=archgym.noc.UGAL_DECISIONS`` also all
    ``ugal_l`` (UGAL-L) and all ``ugal_g`` (UGAL-G).
    :meth:`constant_action` builds them.

    ## Action Space
    ``MultiDiscrete([len(decisions)] * U)``, U = the routers (default,
    ``granularity="router"``, the default: 36 for k = 2) or the groups
    (``granularity="group"``: 9 for k = 2; every router of a group takes
    its group's value; fewer choices to learn, the benchmark's PPO setting).  Value i is
    ``decisions[i]``, by default ``("min", "val")``.  Router r is router
    r mod 2k of group r // 2k; node v is on router v // k.  The decision
    applies to the packets that leave their source router during the step.

    ## Observation Space
    ``Box(0, 1, (4 R + 3,), float32)`` for the R routers: per router, in
    the order of :data:`ROUTER_FEATURES`, the credits in use at the end of
    the step on its local output ports and on its global output ports (each
    a fraction of the class's ports x VCs x ``vc_buf_size``), the backlog of
    its k nodes (flits created and not yet injected, divided by k x
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
    The routings cannot deadlock (ugal's VC classes: every rule uses them).

    ## Starting State
    A fresh network (seeded from ``np_random``) runs ``warmup_cycles`` in
    the first phase with every router on ``ugal_l``; the observation is
    that warm-up's.

    ## Episode End
    Truncates after ``max_steps`` steps; never terminates.

    ## Arguments
    ``k`` (2; 2 to :data:`archgym.noc.MAX_DRAGONFLY_K`), ``granularity``
    ("router" or "group"), ``decisions`` (names of
    :data:`archgym.noc.UGAL_DECISIONS`, default :data:`DEFAULT_DECISIONS`),
    ``patterns`` (:data:`ADAPTIVE_PATTERNS`; one or more of uniform,
    tornado, neighbor, randperm, diagonal, asymmetric, hotspot, with
    ``traffic_radix`` = N), ``rate_range`` ((0.1, 0.25) flits/node/cycle),
    ``phase_steps`` ((4, 10), inclusive), ``cycles_per_step`` (500),
    ``warmup_cycles`` (1000), ``max_steps`` (32), ``backlog_weight`` (1.0),
    ``latency_cap`` (1000.0), ``vc_buf_size`` (256, BookSim's dragonfly
    example: a VC keeps a 100-cycle global channel busy), ``packet_size`` (1),
    ``render_mode`` ("ansi").  A bad argument raises one ValueError line.

    ``info``: ``latency`` (L, None if nothing was delivered),
    ``delivered_packets``, ``throughput`` (accepted flit rate),
    ``injected_flit_rate``, ``backlog_flits``, ``in_network_flits``,
    ``latency_term``, ``backlog_term``, ``pattern``, ``rate``, ``phase``
    (index of the phase in the episode), ``cycle``, ``decisions`` (how many
    routers took each rule, by name).

    ## Version History
    * v0: initial version.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(self, k: int = 2, granularity: str = "router",
                 decisions: Sequence[str] = DEFAULT_DECISIONS,
                 patterns: Sequence[str] = ADAPTIVE_PATTERNS,
                 rate_range: tuple[float, float] = (0.1, 0.25),
                 phase_steps: tuple[int, int] = (4, 10), cycles_per_step: int = 500,
                 warmup_cycles: int = 1000, max_steps: int = 32, backlog_weight: float = 1.0,
                 latency_cap: float = 1000.0, vc_buf_size: int = 256, packet_size: int = 1,
                 render_mode: str | None = None):
        self.render_mode = check_render_mode(render_mode, self.metadata["render_modes"])
        self.k = _check_int("k", k, 2, noc.MAX_DRAGONFLY_K)
        self.granularity = check_name("granularity", granularity, ("router", "group"))
        self.decisions = self._names("decision", decisions, noc.UGAL_DECISIONS)
        self.patterns = self._names("pattern", patterns, noc.TRAFFIC_PATTERNS)
        self.rate_range = _check_pair("rate_range", rate_range, _check_rate)
        self.phase_steps = _check_pair("phase_steps", phase_steps, _check_steps, "min, max")
        self.cycles_per_step = _check_int("cycles_per_step", cycles_per_step, 1)
        self.warmup_cycles = _check_int("warmup_cycles", warmup_cycles, 0)
        self.max_steps = _check_int("max_steps", max_steps, 1)
        self.backlog_weight = _check_positive("backlog_weight", backlog_weight, allow_zero=True)
        self.latency_cap = _check_positive("latency_cap", latency_cap)
        nodes = noc.shape_nodes("dragonflynew", self.k, 1)
        self.base = noc.NocConfig(
            topology="dragonflynew", k=self.k, n=1, routing_function="ugal", num_vcs=3,
            vc_buf_size=_field_int("vc_buf_size", vc_buf_size),
            packet_size=_field_int("packet_size", packet_size), traffic=self.patterns[0],
            traffic_radix=nodes, injection_rate=self.rate_range[0])
        for pattern in self.patterns:  # the core's reason for a pattern a dragonfly lacks
            noc.check_traffic(pattern, self.k, n=1, topology="dragonflynew")
        shape = noc.network_shape(self.base)
        self.nodes, self.routers = shape["nodes"], shape["routers"]
        self.group_size = 2 * self.k
        units = self.routers if self.granularity == "router" else self.routers // self.group_size
        self.action_space = spaces.MultiDiscrete(np.full(units, len(self.decisions), dtype=np.int64))
        size = len(ROUTER_FEATURES) * self.routers + 3
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

    def _obs(self, out: dict) -> np.ndarray:
        net, k, V, B = self._net, self.k, self.base.num_vcs, self.base.vc_buf_size
        capacity = np.array(net.dragonfly_class_ports(), dtype=np.float64) * V * B
        credits = net.dragonfly_credits_in_use() / capacity
        backlog = net.backlog_per_node().reshape(self.routers, k).sum(axis=1) / (k * max(int(out["cycles"]), 1))
        rec = net.delivered()
        router = rec["src"] // k
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
        out = self._last
        credits = self._net.dragonfly_credits_in_use()
        lines = [f"NoCAdaptive dragonflynew k={self.k}, cycle {int(self._net.cycle)}, phase {self._phase}: "
                 f"{self._pattern} at {self._rate:.3f} flits/node/cycle",
                 f"latency {float(out['avg_latency']):.1f} cycles, accepted "
                 f"{float(out['accepted_flit_rate']):.3f} flits/node/cycle, backlog "
                 f"{int(out['backlog_flits'])} flits",
                 "credits in use per group (local/global, summed over its routers):"]
        per_group = credits.reshape(-1, self.group_size, 2).sum(axis=1)
        lines.append("  ".join(f"g{g}:{lg}/{gg}" for g, (lg, gg) in enumerate(per_group.tolist())))
        return "\n".join(lines)
