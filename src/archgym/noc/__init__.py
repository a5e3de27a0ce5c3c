"""A cycle-level network-on-chip simulator after BookSim2: the ``noc`` core's Python side.

* :mod:`archgym.noc.model`: the Python face of the C++ simulator
  (``csrc/noc``): :class:`NocConfig`, :func:`measure`, :func:`measure_many`
  and the persistent :class:`Network`.
* :mod:`archgym.noc.booksim`: the BookSim2 drop-in front end
  (``archgym-booksim``).

Design document: ``docs/design/noc.md``; user guides: ``docs/noc.md`` and
``docs/booksim.md``.

    >>> from archgym import noc
    >>> r = noc.measure(noc.NocConfig(traffic="transpose", injection_rate=0.1))
"""

from archgym.noc.model import (
    ALLOCATORS,
    CONFIG_FIELDS,
    DRAGONFLY_PORT_CLASSES,
    FLATFLY_PORT_CLASSES,
    INJECTION_PROCESSES,
    MAX_DRAGONFLY_K,
    MAX_K,
    MAX_NODES,
    MAX_VCS,
    PER_ROUTER_MIN_VCS,
    ROUTING_FUNCTIONS,
    ROUTING_MIN_VCS,
    ROUTING_VC_CLASSES,
    ROUTINGS_PER_ROUTER,
    TOPOLOGIES,
    TRAFFIC_PATTERNS,
    UGAL_DECISIONS,
    Network,
    NocConfig,
    check_routing,
    check_traffic,
    measure,
    measure_many,
    network_shape,
    routings_on,
    shape_nodes,
    traffic_destinations,
)

__all__ = [
    "ALLOCATORS", "CONFIG_FIELDS", "INJECTION_PROCESSES", "MAX_K", "MAX_NODES", "MAX_VCS",
    "PER_ROUTER_MIN_VCS", "ROUTINGS_PER_ROUTER", "ROUTING_FUNCTIONS", "ROUTING_MIN_VCS", "ROUTING_VC_CLASSES", "TOPOLOGIES", "TRAFFIC_PATTERNS", "Network", "NocConfig",
    "DRAGONFLY_PORT_CLASSES", "FLATFLY_PORT_CLASSES", "MAX_DRAGONFLY_K", "UGAL_DECISIONS",
    "check_routing", "check_traffic", "measure", "measure_many", "network_shape", "routings_on",
    "shape_nodes", "traffic_destinations",
]
