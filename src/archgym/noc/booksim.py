"""``archgym-booksim``: run BookSim2 configuration files on archgym's NoC core.

People who drive BookSim2 today switch by changing one command::

    booksim mesh88.cfg injection_rate=0.1 traffic=transpose        # before
    python -m archgym.noc.booksim mesh88.cfg injection_rate=0.1 traffic=transpose
    archgym-booksim mesh88.cfg injection_rate=0.1 traffic=transpose

The configuration is BookSim's: ``key = value;`` statements, ``//`` comments,
then ``key=value`` arguments that override the file (arguments are applied in
order, so a later one wins; several files may be given, as BookSim allows).
A key that is absent takes *BookSim's* built-in default (``topology = torus``,
``num_vcs = 16``, ``islip`` allocators, ``credit_delay = 0``,
``injection_rate_uses_flits = 0``, ``seed = 0``...), not the values of the
reference configuration, so a file means what it meant to BookSim.

The run is a BookSim-style measurement by :func:`archgym.noc.measure`:
``sim_type = latency`` (warm-up, sample periods until latency and accepted
rate converge, the ``latency_thres`` abort, drain) or ``sim_type =
throughput`` (no abort, sample periods until the accepted rate converges, no
drain of the measured packets).  The output is BookSim's summary block
(``Packet latency average = ...``, ``Time taken is N cycles``) followed by one
line of JSON with every figure (``avg_packet_latency``, ``avg_network_latency``,
``avg_hops``, ``accepted_flit_rate``, ``status``, ...).  ``status`` is ``ok``,
``saturated`` (completed, but did not converge or accepted < 95% of offered) or
``unstable`` (BookSim's "Simulation unstable" abort).

Errors (unknown key, unsupported value, syntax) are lines on stderr, one per
problem and all at once (the network first), each naming the key and what is
accepted; the exit code is then 1 (BookSim exits with 255 even on success; we
exit 0 on any completed measurement, including ``unstable``, and 130 after
Ctrl-C).  See ``docs/booksim.md``.

Python use::

    from archgym.noc import booksim
    settings = booksim.load(["mesh88.cfg", "injection_rate=0.1"])
    config = booksim.to_noc_config(settings)      # an archgym.noc.NocConfig
    result = booksim.run(settings)                # measure()'s dict
"""

from __future__ import annotations

import json
import math
import re
import sys
import threading
import time
from pathlib import Path

PROG = "archgym-booksim"


class ConfigError(ValueError):
    """A configuration that cannot be parsed or run; the message names the key or line."""

    def __init__(self, message: str, line: int | None = None, source: str = ""):
        where = f"{source}:" if source else ""
        where += f"line {line}: " if line is not None else ("" if not where else " ")
        super().__init__(where + message)
        self.line = line


# ----------------------------------------------------------------- syntax
# BookSim's lexical rules: a name starts with a letter, '_' or '-' and continues
# with letters, digits, '_', '-', '.'; numbers are integers or decimals (with an
# optional exponent); '//' starts a comment that runs to the end of the line.
_NAME = re.compile(r"[A-Za-z_\-][A-Za-z0-9_\-.]*\Z")
_INT = re.compile(r"-?[0-9]+\Z")
_FLOAT = re.compile(r"-?(?:[0-9]*\.[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+)\Z")

# A pattern with parameters, as BookSim's traffic takes them: hotspot({3,12},{2,1}).
_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\((.*)\)\Z", re.DOTALL)

Value = int | float | str


#: The deepest brace nesting read (BookSim's values nest two or three deep).
MAX_NESTING = 16
_INT64 = 2**63


def _nesting(text: str) -> int:
    depth = deepest = 0
    for ch in text:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        deepest = max(deepest, depth)
    return deepest


def _value(text: str, key: str, line: int | None, source: str) -> Value:
    text = text.strip()
    if _nesting(text) > MAX_NESTING:
        raise ConfigError(f"the value of '{key}' nests braces more than {MAX_NESTING} deep",
                          line, source)
    while len(text) >= 2 and text[0] == "{" and text[-1] == "}":  # {v}: a one-class vector
        items = [t for t in booksim_list(text) if t.strip()]
        if len(items) != 1:
            raise ConfigError(f"{key} = {_short(text)}: per-class vectors need several traffic "
                              "classes; archgym runs one class, so give a single value", line, source)
        text = items[0].strip()
    if _INT.match(text):
        if len(text.lstrip("-")) > 19 or not -_INT64 <= int(text) < _INT64:
            raise ConfigError(f"the value of '{key}' does not fit in a 64-bit integer: "
                              f"{_short(text)}", line, source)
        return int(text)
    if _FLOAT.match(text):
        return float(text)
    if _NAME.match(text):
        return text
    if _CALL.match(text):
        return re.sub(r"\s+", "", text)
    if not text:
        raise ConfigError(f"missing value after '{key} ='", line, source)
    if "=" in text or "\n" in text:
        raise ConfigError(f"missing ';' after the value of '{key}'", line, source)
    raise ConfigError(f"cannot read the value of '{key}': {_short(text)!r} (expected a number "
                      "or a name such as mesh, dor, uniform)", line, source)


def _short(text: str, limit: int = 60) -> str:
    """``text`` cut to ``limit`` characters for an error message."""
    return text if len(text) <= limit else text[:limit] + "..."


def booksim_list(text: str) -> list[str]:
    """BookSim's list syntax: ``{a,b,{c,d}}`` -> ``["a", "b", "{c,d}"]``.

    Text that does not start with ``{`` is a one-item list.  Inside the outer
    braces, items end at a comma or closing brace outside nested braces; the
    outer braces need not be balanced, and text after the last such delimiter
    is dropped (so ``{0,5},{3,1}`` is ``["0", "5"]``), as BookSim reads it.
    """
    if not text:
        return []
    if text[0] != "{":
        return [text]
    items, depth, start = [], 0, 1
    for pos in range(1, len(text)):
        ch = text[pos]
        if ch == "{":
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
        elif ch in ",}" and not depth:
            if pos > start:
                items.append(text[start:pos])
            start = pos + 1
    return items


def _strip_comments(text: str) -> str:
    """Remove ``//`` comments (to the end of the line), keeping the newlines."""
    return "\n".join(line.split("//", 1)[0] for line in text.split("\n"))


def parse_text(text: str, source: str = "") -> list[tuple[str, Value, int]]:
    """Parse BookSim configuration text into ``(key, value, line)`` in file order.

    Statements are ``key = value;``; the final ``;`` of the text may be left
    out.  Values are ints, floats or names; ``{v}`` is the single value ``v``.
    """
    body = _strip_comments(text)
    out: list[tuple[str, Value, int]] = []
    line = 1
    parts = body.split(";")
    for part in parts:
        stripped = part.strip()
        start_line = line + part[: len(part) - len(part.lstrip())].count("\n")
        line += part.count("\n")
        if not stripped:
            continue
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or not _NAME.match(key):
            raise ConfigError(f"expected 'key = value;', got {stripped!r}", start_line, source)
        out.append((key, _value(value, key, start_line, source), start_line))
    return out


def parse_override(arg: str) -> tuple[str, Value]:
    """One command-line override ``key=value`` (``key = value;`` also works)."""
    items = parse_text(arg, source=f"argument {arg!r}")
    if len(items) != 1:
        raise ConfigError(f"expected one 'key=value' in argument {arg!r}")
    key, value, _ = items[0]
    return key, value


class Settings(dict):
    """{key: value} in the order given, and where each key was last set (for messages)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.where: dict[str, str] = {}
        self.folder: dict[str, Path] = {}  # the folder of the file that set the key


def _read_config(arg: str) -> str:
    try:
        data = Path(arg).read_bytes()
    except OSError as e:
        raise ConfigError(f"cannot read configuration file {arg!r}: {e.strerror or e}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"configuration file {arg!r} is not UTF-8 text (byte {e.start}); "
                          "BookSim configurations are plain text") from None


def load(args: list[str]) -> Settings:
    """Settings from BookSim-style arguments: config files and ``key=value``, in order.

    Later settings override earlier ones (like BookSim).  Returns {key: value}
    for the keys that were given (unknown keys included: :func:`to_noc_config`
    reports every problem at once); absent keys keep BookSim's defaults
    (:data:`BOOKSIM_DEFAULTS`) in :func:`to_noc_config`.
    """
    settings = Settings()
    for arg in args:
        if "=" in arg:
            key, value = parse_override(arg)
            settings[key] = value
            settings.where[key] = f"argument {arg!r}"
            continue
        for key, value, line in parse_text(_read_config(arg), source=arg):
            settings[key] = value
            settings.where[key] = f"{arg}:line {line}"
            settings.folder[key] = Path(arg).parent
    return settings


# ----------------------------------------------------------------- keys
#: BookSim2's built-in defaults (booksim_config.cpp at the reference commit) for
#: the keys archgym understands.  A key left out of the file takes this value.
BOOKSIM_DEFAULTS: dict[str, Value] = {
    "topology": "torus", "k": 8, "n": 2, "routing_function": "none",
    "num_vcs": 16, "vc_buf_size": 8, "wait_for_tail_credit": 0,
    "vc_allocator": "islip", "sw_allocator": "islip", "alloc_iters": 1,
    "credit_delay": 0, "routing_delay": 1, "vc_alloc_delay": 1, "sw_alloc_delay": 1,
    "st_final_delay": 1, "input_speedup": 1, "output_speedup": 1, "internal_speedup": 1.0,
    "speculative": 0, "hold_switch_for_packet": 0, "priority": "none",
    "traffic": "uniform", "packet_size": 1, "injection_rate_uses_flits": 0,
    "injection_rate": 0.1, "injection_process": "bernoulli", "sim_type": "latency",
    "warmup_periods": 3, "sample_period": 1000, "max_samples": 10, "latency_thres": 500.0,
    "stopping_thres": 0.05, "acc_stopping_thres": 0.05, "seed": 0,
    "burst_alpha": 0.5, "burst_beta": 0.5, "perm_seed": 0, "burst_r1": -1.0,
    "c": 1, "x": 8, "y": 8, "xr": 1, "yr": 1,
}

#: BookSim keys passed to the simulator, each as the NocConfig field of the same
#: name (its type and accepted values: archgym.noc.CONFIG_FIELDS).
MAPPED: tuple[str, ...] = (
    "topology", "k", "n", "c", "routing_function", "num_vcs", "vc_buf_size", "wait_for_tail_credit",
    "vc_allocator", "sw_allocator", "alloc_iters", "input_speedup", "output_speedup",
    "internal_speedup", "hold_switch_for_packet", "priority", "credit_delay", "routing_delay",
    "vc_alloc_delay", "sw_alloc_delay",
    "st_final_delay", "traffic", "packet_size", "injection_rate", "injection_rate_uses_flits",
    "injection_process", "burst_alpha", "burst_beta", "warmup_periods", "sample_period",
    "max_samples", "latency_thres", "stopping_thres", "acc_stopping_thres", "seed", "perm_seed",
    "sim_type",
)

#: archgym extensions (NocConfig fields that are not BookSim keys); absent, they
#: take NocConfig's default.
EXTENSIONS: tuple[str, ...] = ("link_latency",)

#: Keys accepted only at one value (BookSim's default, the only behaviour modelled).
#: The network's shape comes first: a configuration of another network is
#: reported as such before its other keys.
FIXED: dict[str, Value] = {
    "router": "iq", "subnets": 1,
    "output_delay": 0, "st_prepare_delay": 0,
    "use_read_write": 0, "classes": 1,
    "include_queuing": 1, "warmup_thres": 0.05, "acc_warmup_thres": 0.05, "use_noc_latency": 1,
    "sim_count": 1, "vc_busy_when_full": 0,
    "vc_prioritize_empty": 0, "noq": 0, "buffer_policy": "private", "buf_size": -1,
    "measure_stats": 1, "print_activity": 0, "print_csv_results": 0, "viewer_trace": 0,
    "sim_power": 0, "watch_file": "", "stats_out": "",
}

#: Speculation's allocator and checks, with BookSim's defaults: read (by BookSim as by
#: archgym) only with speculative > 0, and then passed as the NocConfig fields of the
#: same name; otherwise any value of the key's literal kind, as BookSim
#: (docs/design/noc.md §5b).
SPECULATION: dict[str, Value] = {
    "spec_sw_allocator": "prio", "spec_check_elig": 1, "spec_check_cred": 1,
    "spec_mask_by_reqs": 0,
}

#: Keys BookSim reads whose value changes nothing in its input-queued router: any
#: value of the default's literal kind.  vct (virtual cut-through): the oracle's
#: output is the same with vct = 0, 1 or 2 on meshes and tori, 1- to 8-flit packets,
#: buffers shorter than a packet, speculation, held switches and speedups
#: (tests/data/reference/booksim/no_effect.csv; docs/design/noc.md §5b).
NO_EFFECT: dict[str, Value] = {"vct": 0}

#: Patterns archgym's core defines on coordinates, so on any k, and BookSim on the
#: bits of the node id, so only on a power-of-2 number of nodes (bitrev and
#: shuffle: the core refuses them too).
BIT_PERMUTATIONS = ("transpose", "bitcomp")

#: BookSim keys that set NocConfig fields through another key (burst_r1: the rate of
#: an on/off source while on, see _on_off; network_file: anynet's graph, see
#: read_network_file; speculative: any integer, on when positive, as BookSim reads it;
#: x, y, xr, yr: a flatfly's or cmesh's layout, see _concentration_layout).
DERIVED: tuple[str, ...] = ("burst_r1", "network_file", "speculative", "output_buffer_size",
                            "x", "y", "xr", "yr")

#: The allocators that iterate (alloc_iters); BookSim reads alloc_iters, any integer,
#: only for them.
ITERATIVE_ALLOCATORS = ("islip", "pim", "select")

#: Allocation delays BookSim runs only at 1: at 0 it stops ("VC allocator cannot have
#: zero delay"), above 1 it fails an assertion (`time >= 0`) on the first packet
#: (acceptance.csv).  archgym's core simulates other values (NocConfig).
BOOKSIM_UNIT_DELAYS = ("vc_alloc_delay", "sw_alloc_delay")

#: BookSim's routing functions that archgym refuses, and why.
BOOKSIM_REFUSED_ROUTINGS: dict[str, str] = {
    "valiant_ni": "BookSim's valiant_ni_torus fails an assertion on every torus within archgym's "
                  "limits (tried with up to 32 VCs), and it has no mesh version",
}

#: Keys accepted with any value and ignored: deadlock_warn_timeout only changes
#: BookSim's warnings; watch_out is where BookSim prints the events of watched
#: packets, and nothing is watched (watch_file and watch_packets are refused), so
#: BookSim prints nothing there either (fattree_config sets watch_out = -).
#: The read/write request classes' sizes and VC ranges are read only with
#: use_read_write = 1, which is refused (flatflyconfig sets them with use_read_write = 0).
#: arb_type names an arbiter that BookSim's input-queued router does not read (its
#: runs are the same with round_robin, matrix or any string).  batch_size is read only
#: by sim_type = batch, which is refused (cmeshconfig sets it under sim_type = latency).
IGNORED = frozenset({"deadlock_warn_timeout", "watch_out", "arb_type", "batch_size"} | {
    f"{kind}_{field}" for kind in ("read_request", "write_request", "read_reply", "write_reply")
    for field in ("size", "begin_vc", "end_vc")})

#: BookSim replaces a hotspot node of -1 by a random node drawn when the
#: traffic is set up, before and whatever ``seed`` or ``perm_seed``: the i-th -1
#: (i = 0, 1) becomes BOOKSIM_RANDOM_HOTSPOT_DRAWS[i] mod (number of nodes).
#: Measured with the oracle on 9 to 1,024 nodes (tests/data/reference/booksim/
#: traffic/README.md); a third -1 is refused.
BOOKSIM_RANDOM_HOTSPOT_DRAWS = (512263819, 254049029)


def accepted_keys() -> list[str]:
    return sorted(set(MAPPED) | set(EXTENSIONS) | set(DERIVED) | set(FIXED)
                  | set(SPECULATION) | set(NO_EFFECT) | IGNORED)


def _known(key: str) -> bool:
    return key in accepted_keys()


def _same(a: Value, b: Value) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    return a == b


def _literal_problem(key: str, value: Value, kind: type) -> str | None:
    """BookSim's reader is typed: each key takes one kind of literal, and an integer
    literal for a decimal key (internal_speedup = 2), a decimal literal for an integer key
    (k = 4.0) or a number for a name key (traffic = 5) is its parse error ("Unknown integer
    field"), as the oracle's runs show (acceptance.csv).  The message, or None."""
    if kind is float and isinstance(value, int):
        return f"{key} = {value}: BookSim reads {key} as a decimal number: write {value}.0"
    if kind in (int, bool) and isinstance(value, float):
        return (f"{key} = {value}: BookSim reads {key} as an integer"
                + (f": write {int(value)}" if value.is_integer() else ""))
    if kind is str and isinstance(value, (int, float)):
        return f"{key} = {value}: BookSim reads {key} as a name, not a number"
    return None


def _typed(key: str, value: Value, kind: type):
    problem = _literal_problem(key, value, kind)
    if problem:
        raise ConfigError(problem)
    if kind is int or kind is bool:
        if not isinstance(value, int):
            raise ConfigError(f"{key} must be an integer, got {value!r}")
        if kind is bool:
            if value not in (0, 1):
                raise ConfigError(f"{key} must be 0 or 1, got {value}")
            return bool(value)
        return value
    if kind is float:
        if isinstance(value, str):
            raise ConfigError(f"{key} must be a number, got {value!r}")
        return float(value)
    return value


def _check_field(key: str, value, field: dict) -> None:
    """The core's limits for one field (archgym.noc.CONFIG_FIELDS), before the full check."""
    if field["choices"] is not None:
        if value not in field["choices"]:
            raise ConfigError(f"unknown {key} '{value}'; accepted: " + ", ".join(field["choices"]))
        return
    if field["min"] is None or isinstance(value, (bool, tuple)):
        return
    low, high = field["min"], field["max"]
    if not (low <= value <= high) or (field["min_exclusive"] and value <= low) or value != value:
        raise ConfigError(f"{key} must be {field['accepted']} (got {value})")


def _integer_param(text: str, what: str, truncate: bool = False) -> int:
    """A BookSim integer parameter; ``truncate``: a decimal is cut to its integer part, as BookSim's
    reading of hotspot rates does (1.5 -> 1)."""
    text = text.strip()
    if _INT.match(text) and len(text) <= 19:
        return int(text)
    if truncate and _FLOAT.match(text):
        return int(float(text))
    raise ConfigError(f"{what} must be integers, got {_short(text)!r}")


#: Patterns whose parameters BookSim reads and ignores (the oracle's destinations of
#: ``transpose(5)``, ``bitrev(3)``, ``shuffle(2)``, ``uniform(4)``... are the plain pattern's).
PARAMETERS_IGNORED = ("uniform", "transpose", "bitcomp", "bitrev", "shuffle", "diagonal",
                      "asymmetric")
#: Patterns whose first parameter is the radix of the digits they shift (NocConfig's
#: traffic_radix); BookSim ignores any further parameter.
RADIX_PATTERNS = ("tornado", "neighbor")


def _traffic(value: str, nodes: int) -> tuple[str, dict]:
    """BookSim's ``traffic`` value -> (pattern name, extra NocConfig fields).

    ``hotspot(P)``: the items of the BookSim list P are the parameters; the first
    is the list of nodes, the second the list of their relative rates (integers,
    the last one repeated for the remaining nodes; default 1 each).  So
    ``hotspot({{0,27},{3,1}})`` sends 3/4 of the packets to node 0, while
    ``hotspot({0,27,36,63})`` is node 0 (rate 27).  A node of -1 (and no
    parameter at all) is BookSim's random node.  ``randperm(s)`` is the
    permutation of perm_seed s.  ``tornado(r)`` and ``neighbor(r)`` shift the
    n low radix-r digits of the node id (r >= 1; the core bounds it: r <= k on a
    cube, r <= the node count on a dragonflynew; r = k: the coordinates, the plain
    pattern; BookSim reads the leading integer of the parameter text, so
    ``tornado(4,1)`` is ``tornado(4)``); the parameters of PARAMETERS_IGNORED
    are ignored, as BookSim does.  Other patterns take no parameters here.
    """
    call = _CALL.match("hotspot()" if value == "hotspot" else value)
    if not call:
        return value, {}
    name, params = call.group(1), booksim_list(call.group(2))
    if name in PARAMETERS_IGNORED:
        return name, {}
    if name in RADIX_PATTERNS:
        if not params:
            return name, {}
        # BookSim reads the text of the parameter list as a number: its leading integer
        # (tornado(4,1) and tornado(4) are the same)
        lead = re.match(r"\s*(-?[0-9]{1,9})", params[0])
        if not lead:
            raise ConfigError(f"traffic = {_short(value)}: {name}'s parameter is its radix, an "
                              "integer")
        radix = int(lead.group(1))
        if radix < 1:
            raise ConfigError(f"traffic = {_short(value)}: {name}'s radix must be at least 1 "
                              f"(got {radix})")
        # its largest value (k on a cube, the node count on a dragonfly) is the core's rule
        return name, {"traffic_radix": radix}
    if name == "randperm":
        if len(params) != 1:
            raise ConfigError(f"traffic = {_short(value)}: randperm takes one parameter, the "
                              "permutation seed (perm_seed), e.g. randperm(3)")
        seed = _integer_param(params[0], "randperm's seed")
        if seed < 0:
            raise ConfigError(f"traffic = {_short(value)}: the permutation seed must be >= 0")
        return name, {"perm_seed": seed}
    if name != "hotspot":
        raise ConfigError(f"traffic = {_short(value)}: archgym reads parameters only for "
                          "hotspot({{nodes},{rates}}), randperm(seed), tornado(radix), "
                          "neighbor(radix) and the patterns that ignore them ("
                          + ", ".join(PARAMETERS_IGNORED) + f"); give the plain name {name}")
    if not params:
        params = ["-1"]
    hot = [_integer_param(t, "hotspot nodes") for t in booksim_list(params[0])]
    if hot.count(-1) > len(BOOKSIM_RANDOM_HOTSPOT_DRAWS):
        raise ConfigError(f"traffic = {_short(value)}: at most {len(BOOKSIM_RANDOM_HOTSPOT_DRAWS)} "
                          "random (-1) hotspot nodes are modelled; give node ids")
    draws = iter(BOOKSIM_RANDOM_HOTSPOT_DRAWS)
    hot = [next(draws) % nodes if h == -1 else h for h in hot]
    bad = [h for h in hot if not 0 <= h < nodes]
    if bad or not hot:
        raise ConfigError(f"traffic = {_short(value)}: hotspot nodes must be node ids from 0 to "
                          f"{nodes - 1} (or -1, a random node); got {bad or 'none'}")
    extra = {"hotspot_nodes": tuple(hot)}
    if len(params) >= 2:
        rates = [_integer_param(t, "hotspot rates", truncate=True) for t in booksim_list(params[1])]
        if rates:
            rates += [rates[-1]] * (len(hot) - len(rates))
            if min(rates[: len(hot)]) <= 0:
                raise ConfigError(f"traffic = {_short(value)}: hotspot rates must be positive "
                                  "integers (BookSim reads 1.5 as 1)")
            extra["hotspot_rates"] = tuple(float(r) for r in rates[: len(hot)])
    return name, extra


def _on_off(settings: dict) -> dict:
    """BookSim's on/off source: burst_alpha, burst_beta and the rate while on, burst_r1, with
    injection_rate = burst_r1 * alpha / (alpha + beta) packets per cycle.  Exactly one of
    the three is -1 and follows from the rate (BookSim refuses the run otherwise; by
    default burst_r1).  Returns the burst_alpha and burst_beta to simulate (the core
    derives the rate while on); BookSim's defaults for a Bernoulli source, which ignores
    them; when a value is not a number, the others (to_noc_config reports it)."""
    def get(key):
        return settings.get(key, BOOKSIM_DEFAULTS[key])

    if get("injection_process") != "on_off":
        return {key: BOOKSIM_DEFAULTS[key] for key in ("burst_alpha", "burst_beta")}
    burst = {key: get(key) for key in ("burst_alpha", "burst_beta", "burst_r1")}
    numbers = [get(k) for k in ("injection_rate", "packet_size", *burst)]
    if not all(isinstance(v, (int, float)) for v in numbers) or get("packet_size") < 1:
        # nothing follows from these; to_noc_config reports the values (not a -1 here)
        return {k: BOOKSIM_DEFAULTS[k] for k in ("burst_alpha", "burst_beta") if burst[k] == -1}
    unknown = [key for key, v in burst.items() if v == -1]
    if len(unknown) != 1:
        raise ConfigError("injection_process = on_off: exactly one of burst_alpha, burst_beta "
                          "and burst_r1 must be -1, the one that follows from injection_rate "
                          "(as BookSim requires); got " + ", ".join(f"{k} = {v}" for k, v in burst.items()))
    rate = get("injection_rate") / (get("packet_size") if get("injection_rate_uses_flits") == 1 else 1)
    alpha, beta, r1 = (float(v) for v in burst.values())
    if unknown == ["burst_r1"]:
        return {"burst_alpha": alpha, "burst_beta": beta}
    if not 0 < r1 <= 1 or r1 <= rate:
        raise ConfigError(f"burst_r1 = {r1}: the rate of an on/off source while on must be in (0, 1] "
                          f"and above its packet rate {rate:g}")
    derived = ({"burst_alpha": rate * beta / (r1 - rate), "burst_beta": beta}
               if unknown == ["burst_alpha"]
               else {"burst_alpha": alpha, "burst_beta": alpha * (r1 - rate) / rate if rate > 0 else math.inf})
    key = unknown[0]
    if not 0 < derived[key] <= 1:
        raise ConfigError(f"{key} that follows from injection_rate and burst_r1 is {derived[key]:g}; "
                          "it must be in (0, 1]")
    return derived


def read_network_file(path: Path) -> dict:
    """anynet's graph from BookSim's network file -> NocConfig's anynet fields.

    Each line describes one router: ``router R`` then what it connects to,
    ``node N`` or ``router S``, each optionally followed by the channel's
    latency in cycles (default 1).  A router-to-router connection goes both
    ways; the latency given on R's line is that of the channel R -> S (S -> R
    takes 1 cycle unless S's line says otherwise).  Node and router ids are
    0, 1, ... without gaps; a node hangs on one router, with 1-cycle channels.
    """
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"cannot read network_file {str(path)!r}: {e.strerror or e}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"network_file {str(path)!r} is not UTF-8 text (byte {e.start})") from None
    node_router: dict[int, int] = {}
    latency: dict[tuple[int, int], int] = {}
    explicit: set[tuple[int, int]] = set()
    for number, line in enumerate(text.splitlines(), 1):
        tokens = line.split()
        if not tokens:
            continue
        where = f"network_file {path.name}, line {number}"

        def ident(pos: int) -> int:
            if pos >= len(tokens) or not _INT.match(tokens[pos]) or not 0 <= int(tokens[pos]) < 2**31:
                raise ConfigError(f"{where}: expected an id (0, 1, ...) after "
                                  f"'{tokens[pos - 1]}'")
            return int(tokens[pos])

        if tokens[0].lower() != "router":
            raise ConfigError(f"{where}: a line starts with 'router R', got {_short(line.strip())!r}")
        here, pos = ident(1), 2
        while pos < len(tokens):
            kind = tokens[pos].lower()
            if kind not in ("node", "router"):
                raise ConfigError(f"{where}: expected 'node N' or 'router R [latency]', got "
                                  f"{tokens[pos]!r}")
            other, pos = ident(pos + 1), pos + 2
            lat = 1
            if pos < len(tokens) and _INT.match(tokens[pos]):
                lat, pos = int(tokens[pos]), pos + 1
            if kind == "node":
                if lat != 1:
                    raise ConfigError(f"{where}: node {other} has latency {lat}; archgym models "
                                      "1-cycle node channels only")
                if node_router.get(other, here) != here:
                    raise ConfigError(f"{where}: node {other} is already on router "
                                      f"{node_router[other]} (a node hangs on one router)")
                node_router[other] = here
                continue
            if other == here:
                raise ConfigError(f"{where}: router {here} is connected to itself")
            latency[(here, other)] = lat
            explicit.add((here, other))
            if (other, here) not in explicit:
                latency[(other, here)] = 1
    if not node_router:
        raise ConfigError(f"network_file {path.name}: no nodes")
    if sorted(node_router) != list(range(len(node_router))):
        missing = sorted(set(range(max(node_router) + 1)) - set(node_router))
        raise ConfigError(f"network_file {path.name}: node ids must be 0 to "
                          f"{len(node_router) - 1} without gaps (missing {missing[0]})")
    return {"anynet_nodes": tuple(node_router[v] for v in range(len(node_router))),
            "anynet_channels": tuple(x for (a, b), lat in sorted(latency.items())
                                     for x in (a, b, lat))}


def _network_file(settings: dict) -> dict:
    """anynet: the graph of ``network_file`` (relative to the working directory, as
    BookSim reads it, or else to the folder of the configuration that names it)."""
    if "network_file" not in settings:
        raise ConfigError("topology = anynet needs network_file, the file that lists its routers "
                          "and nodes")
    name = Path(str(settings["network_file"]))
    folder = getattr(settings, "folder", {}).get("network_file")
    if not name.exists() and not name.is_absolute() and folder is not None:
        name = folder / name
    return read_network_file(name)


def _concentration_layout(settings: dict) -> list[str]:
    """A flatfly's or cmesh's x, y (routers per side) and xr, yr (nodes per router side):
    archgym models BookSim's flatfly with x = y = k and xr = yr, c = xr * yr (BookSim asserts
    the last two; its channels span xr nodes per router, docs/design/noc.md §15b).  On a
    cmesh BookSim asserts x = y, xr = yr and c = xr * yr, and its channels do not depend
    on x (§15d); the core asks c = 4."""
    topology = settings.get("topology")
    if topology not in ("flatfly", "cmesh"):
        return []  # BookSim reads them on its NoC topologies only
    get = {key: settings.get(key, BOOKSIM_DEFAULTS[key]) for key in ("k", "c", "x", "y", "xr", "yr")}
    if not all(isinstance(v, int) for v in get.values()):
        return [f"{topology}: k, c, x, y, xr and yr must be integers"]
    if topology == "cmesh" and get["x"] != get["y"]:
        return [f"cmesh: x and y must be equal, as BookSim asserts (x = {get['x']}, "
                f"y = {get['y']})"]
    if topology == "flatfly" and (get["x"] != get["k"] or get["y"] != get["k"]):
        return [f"flatfly: archgym models x = y = k (the routers' grid; x = {get['x']}, "
                f"y = {get['y']}, k = {get['k']}; BookSim's default x = y = 8)"]
    if get["xr"] != get["yr"] or get["xr"] * get["yr"] != get["c"]:
        return [f"{topology}: xr and yr must be equal and xr * yr = c, as BookSim asserts "
                f"(xr = {get['xr']}, yr = {get['yr']}, c = {get['c']})"]
    return []


def _network_problems(settings: dict) -> dict[str, str]:
    """The network itself: a topology or shape archgym does not simulate, by key."""
    from archgym import noc

    problems = {}
    topology = settings.get("topology", BOOKSIM_DEFAULTS["topology"])
    if topology not in noc.TOPOLOGIES:
        problems["topology"] = (f"topology = {topology} is not modelled; archgym simulates "
                                "BookSim's " + ", ".join(noc.TOPOLOGIES))
    n_field = next(f for f in noc.CONFIG_FIELDS if f["name"] == "n")
    try:
        _check_field("n", _typed("n", settings.get("n", BOOKSIM_DEFAULTS["n"]), int), n_field)
    except ConfigError as e:
        problems["n"] = f"archgym simulates k-ary n-cubes: {e}"
    return problems


def _output_buffer_problems(settings: dict) -> list[str]:
    """output_buffer_size: the flits an output port may queue behind its channel, -1
    unbounded (BookSim's default, archgym's queues).  Only output_speedup > 1 queues
    more than one flit, so with output_speedup = 1 any positive size is the same run
    (as BookSim: docs/design/noc.md §5b)."""
    size = settings.get("output_buffer_size", -1)
    speedup = settings.get("output_speedup", BOOKSIM_DEFAULTS["output_speedup"])
    if not isinstance(size, int) or size == 0 or size < -1:
        return [f"output_buffer_size must be -1 (unbounded) or a positive integer, got {size!r}"]
    if size != -1 and speedup != 1:
        return [f"output_buffer_size = {size} with output_speedup = {speedup} is not modelled; "
                "archgym's output queues are unbounded: give output_buffer_size = -1, or "
                "output_speedup = 1 (where the size has no effect)"]
    return []


def to_noc_config(settings: dict[str, Value]):
    """An :class:`archgym.noc.NocConfig` for BookSim settings (absent keys: BookSim defaults).

    Raises :class:`ConfigError` listing every problem found, one per line: the
    network (topology, n) first, then features held at a value other than the
    one modelled, unknown keys, and the values of the keys; a rule between
    keys is checked once each key is right.
    """
    from archgym import noc

    where = getattr(settings, "where", {})
    network = _network_problems(settings)
    problems = list(network.values()) + _concentration_layout(settings)
    speculative = settings.get("speculative", 0)  # any integer, on when positive (BookSim's reading)
    speculating = isinstance(speculative, int) and speculative > 0
    for key, expected in (FIXED | SPECULATION | NO_EFFECT).items():  # BookSim types every key it reads
        if key not in settings:
            continue
        if problem := _literal_problem(key, settings[key], type(expected)):
            problems.append(problem)
        elif key in FIXED and not _same(settings[key], expected):
            problems.append(f"{key} = {settings[key]} is not modelled; archgym accepts only "
                            f"BookSim's default {key} = {expected if expected != '' else '(empty)'}")
    unknown = [k for k in settings if not _known(k)]
    if unknown:
        problems.append("unknown key" + ("s " if len(unknown) > 1 else " ")
                        + ", ".join(f"'{k}' ({where.get(k, 'settings')})" for k in unknown)
                        + "; accepted keys: " + ", ".join(accepted_keys()))
    for key in ("seed", "perm_seed"):
        if isinstance(settings.get(key), str):
            problems.append(f"{key} = {settings[key]}: archgym runs are reproducible, give an "
                            f"integer {key} ('time' is not supported)")
    try:
        settings_in = {**settings, **_on_off(settings)}
    except ConfigError as e:
        problems.append(str(e))
        settings_in = {**settings, "burst_alpha": BOOKSIM_DEFAULTS["burst_alpha"],
                       "burst_beta": BOOKSIM_DEFAULTS["burst_beta"]}
    fields_meta = {f["name"]: f for f in noc.CONFIG_FIELDS}
    fields = {}
    if settings.get("topology") == "anynet":
        try:
            fields.update(_network_file(settings))
        except ConfigError as e:
            problems.append(str(e))
    elif "network_file" in settings:
        problems.append("network_file describes an anynet; topology = "
                        f"{settings.get('topology', BOOKSIM_DEFAULTS['topology'])}")
    if isinstance(speculative, int):
        fields["speculative"] = speculating
    else:
        problems.append(f"speculative must be an integer, got {speculative!r}")
    for key in SPECULATION if speculating else ():
        try:
            value = _typed(key, settings.get(key, SPECULATION[key]), fields_meta[key]["type"])
            _check_field(key, value, fields_meta[key])
            fields[key] = value
        except ConfigError as e:
            if key not in settings or not _literal_problem(key, settings[key], type(SPECULATION[key])):
                problems.append(str(e))  # (a literal's problem is reported above)
    problems += _output_buffer_problems(settings)
    allocators = {settings.get(key, BOOKSIM_DEFAULTS[key]) for key in ("vc_allocator", "sw_allocator")}
    for key in MAPPED + tuple(k for k in EXTENSIONS if k in settings):
        if key in ("seed", "perm_seed") and isinstance(settings.get(key), str):
            continue
        if key in network:
            continue  # reported first
        try:
            if key in settings and (problem := _literal_problem(key, settings[key], fields_meta[key]["type"])):
                raise ConfigError(problem)  # as written (an on/off source derives burst_alpha, burst_beta)
            value = _typed(key, settings_in.get(key, BOOKSIM_DEFAULTS.get(key)), fields_meta[key]["type"])
            if key in BOOKSIM_UNIT_DELAYS and value != 1:
                raise ConfigError(f"{key} = {value}: BookSim runs only {key} = 1 ("
                                  + ("0 is its error 'allocator cannot have zero delay')" if value == 0
                                     else "longer ones fail its assertion time >= 0)"))
            if key == "routing_function":
                if value in BOOKSIM_REFUSED_ROUTINGS:
                    raise ConfigError(f"routing_function = {value}: "
                                      f"{BOOKSIM_REFUSED_ROUTINGS[value]}; accepted: "
                                      + ", ".join(noc.ROUTING_FUNCTIONS))
                if value == "none":
                    raise ConfigError("routing_function is required (BookSim's default 'none' "
                                      "names no function); accepted: "
                                      + ", ".join(noc.ROUTING_FUNCTIONS))
            if key == "alloc_iters" and not allocators & set(ITERATIVE_ALLOCATORS):
                continue  # read by the iterative allocators only
            if key == "traffic":
                k = fields.get("k", BOOKSIM_DEFAULTS["k"])
                try:  # the shape keys' own problems are reported with them
                    nodes = noc.shape_nodes(fields.get("topology", BOOKSIM_DEFAULTS["topology"]), k,
                                            fields.get("n", BOOKSIM_DEFAULTS["n"]), fields.get("c", 1))
                except (TypeError, ValueError):
                    nodes = 64
                nodes = len(fields.get("anynet_nodes", ())) or nodes
                value, extra = _traffic(value, nodes)
                if value in BIT_PERMUTATIONS and nodes & (nodes - 1):
                    raise ConfigError(f"traffic = {value} is a bit permutation: BookSim needs a "
                                      f"power-of-2 number of nodes (k = {k}: {nodes} nodes)")
                fields.update(extra)
            _check_field(key, value, fields_meta[key])
            if key == "perm_seed" and "perm_seed" in fields:  # randperm(s) wins over perm_seed
                continue
            fields[key] = value
        except ConfigError as e:
            message = str(e)
            if key not in settings and key in BOOKSIM_DEFAULTS:
                message += (f"; the configuration does not set {key}, so it takes BookSim's "
                            f"default {key} = {BOOKSIM_DEFAULTS[key]}: set it explicitly")
            problems.append(message)
    if problems:
        raise ConfigError("\n".join(problems))
    try:
        return noc.NocConfig(**fields)
    except ValueError as e:
        # traffic_radix is the parameter of tornado(r) / neighbor(r): name what the user wrote
        where = f"traffic = {_short(settings['traffic'])}: " if "traffic_radix" in str(e) else ""
        raise ConfigError(where + str(e)) from None


def run(settings: dict[str, Value]) -> dict:
    """Measure the configuration like BookSim's run of its ``sim_type``.

    The simulation runs in a worker thread so that Ctrl-C (KeyboardInterrupt in
    the main thread) reaches it: the core's run loop polls a cancellation flag
    (every ``kCancelPollCycles`` = 16 cycles) and stops; KeyboardInterrupt is then
    raised here.
    """
    from archgym import noc
    from archgym.noc import model

    config = to_noc_config(settings)
    outcome: dict = {}
    done = threading.Event()

    def work():
        try:
            outcome["result"] = dict(noc.measure(config))
        except BaseException as e:  # handed to the main thread
            outcome["error"] = e
        done.set()

    model._core.set_cancelled(False)
    threading.Thread(target=work, name="archgym-booksim", daemon=True).start()
    try:
        while not done.wait(0.05):
            pass
    except KeyboardInterrupt:
        model._core.set_cancelled(True)
        done.wait()
        model._core.set_cancelled(False)
        outcome.clear()  # the worker's Cancelled and its frames
        raise
    error = outcome.pop("error", None)
    if isinstance(error, (TypeError, ValueError)):
        raise ConfigError(str(error)) from None
    if error is not None:
        raise error
    return outcome["result"]


# ----------------------------------------------------------------- output
def _g(x) -> str:
    """A number as C++ ``<<`` prints it (6 significant digits, %g)."""
    if x is None:
        return "-nan"
    x = float(x)
    if math.isnan(x):
        return "-nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:g}"


def summary(result: dict, packet_size: int) -> str:
    """BookSim's end-of-run summary lines for one measurement (no JSON)."""
    lines = []
    if result.get("status") == "unstable":
        lines.append("Simulation unstable, ending ...")
        return "\n".join(lines)
    if "total_cycles" in result and result["total_cycles"] is not None:
        lines.append(f"Time taken is {int(result['total_cycles'])} cycles")
    lines += ["====== Overall Traffic Statistics ======", "====== Traffic class 0 ======"]

    def row(label, key, scale=1.0):
        if key in result and result[key] is not None:
            lines.append(f"{label} average = {_g(float(result[key]) * scale)} (1 samples)")

    row("Packet latency", "avg_packet_latency")
    row("Network latency", "avg_network_latency")
    row("Flit latency", "avg_flit_latency")
    row("Injected packet rate", "injected_flit_rate", 1.0 / packet_size)
    row("Accepted packet rate", "accepted_flit_rate", 1.0 / packet_size)
    row("Injected flit rate", "injected_flit_rate")
    row("Accepted flit rate", "accepted_flit_rate")
    lines.append(f"Injected packet size average = {packet_size} (1 samples)")
    lines.append(f"Accepted packet size average = {packet_size} (1 samples)")
    row("Hops", "avg_hops")
    return "\n".join(lines)


def _jsonable(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item") and not hasattr(value, "__len__"):  # numpy scalar
        return _jsonable(value.item())
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def json_line(result: dict) -> str:
    """The final line: one JSON object with every figure (non-finite numbers as null)."""
    return json.dumps(_jsonable(result), sort_keys=False)


USAGE = f"""usage: {PROG} CONFIG [CONFIG ...] [key=value ...]

Runs a BookSim2 configuration (key = value; lines, // comments) on archgym's
cycle-level NoC simulator and prints BookSim's summary figures, then one line
of JSON.  Arguments are applied in order: key=value overrides what came before.
Absent keys take BookSim's defaults.  See docs/booksim.md for the keys.
"""


def main(argv: list[str] | None = None) -> int:
    """Run like the BookSim binary; returns the exit code (0 done, 1 error, 130 Ctrl-C)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help") for a in args):
        print(USAGE, end="")
        return 0
    for a in args:
        if a.startswith("-") and "=" not in a:
            print(f"{PROG}: warning: ignoring option {a} (BookSim ignores dashed arguments)",
                  file=sys.stderr)
    args = [a for a in args if not (a.startswith("-") and "=" not in a)]
    if not any("=" not in a for a in args):
        print(f"{PROG}: error: a configuration file is required\n{USAGE}", file=sys.stderr, end="")
        return 1
    try:
        settings = load(args)
        config = to_noc_config(settings)
        start = time.perf_counter()
        result = run(settings)
        elapsed = time.perf_counter() - start
    except ConfigError as e:
        for line in str(e).splitlines():
            print(f"{PROG}: error: {line}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    print(summary(result, config.packet_size))
    print(f"Total run time {elapsed:g}")
    print(json_line(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
