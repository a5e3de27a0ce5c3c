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

The run is a BookSim-style latency measurement by :func:`archgym.noc.measure`
(warm-up, sample periods until latency and accepted rate converge, the
``latency_thres`` abort, drain).  The output is BookSim's summary block
(``Packet latency average = ...``, ``Time taken is N cycles``) followed by one
line of JSON with every figure (``avg_packet_latency``, ``avg_network_latency``,
``avg_hops``, ``accepted_flit_rate``, ``status``, ...).  ``status`` is ``ok``,
``saturated`` (completed, but did not converge or accepted < 95% of offered) or
``unstable`` (BookSim's "Simulation unstable" abort).

Errors (unknown key, unsupported value, syntax) are one line on stderr that
names the key and lists what is accepted; the exit code is then 1 (BookSim
exits with 255 even on success; we exit 0 on any completed measurement,
including ``unstable``).  See ``docs/booksim.md``.

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


def _value(text: str, key: str, line: int | None, source: str) -> Value:
    text = text.strip()
    if len(text) >= 2 and text[0] == "{" and text[-1] == "}":
        items = [t.strip() for t in text[1:-1].split(",") if t.strip()]
        if len(items) != 1:
            raise ConfigError(f"{key} = {text}: per-class vectors need several traffic classes; "
                              "archgym runs one class, so give a single value", line, source)
        return _value(items[0], key, line, source)
    if _INT.match(text):
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
    raise ConfigError(f"cannot read the value of '{key}': {text!r} (expected a number or a "
                      "name such as mesh, dor, uniform)", line, source)


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


def load(args: list[str]) -> dict[str, Value]:
    """Settings from BookSim-style arguments: config files and ``key=value``, in order.

    Later settings override earlier ones (like BookSim).  Returns {key: value}
    for the keys that were given; absent keys keep BookSim's defaults
    (:data:`BOOKSIM_DEFAULTS`) in :func:`to_noc_config`.
    """
    settings: dict[str, Value] = {}
    for arg in args:
        if "=" in arg:
            key, value = parse_override(arg)
            _check_key(key, f"argument {arg!r}")
            settings[key] = value
            continue
        path = Path(arg)
        try:
            text = path.read_text()
        except OSError as e:
            raise ConfigError(f"cannot read configuration file {arg!r}: {e.strerror or e}") from None
        for key, value, line in parse_text(text, source=str(path)):
            _check_key(key, f"{path}:line {line}")
            settings[key] = value
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
    "traffic": "uniform", "packet_size": 1, "injection_rate_uses_flits": 0,
    "injection_rate": 0.1, "injection_process": "bernoulli", "sim_type": "latency",
    "warmup_periods": 3, "sample_period": 1000, "max_samples": 10, "latency_thres": 500.0,
    "stopping_thres": 0.05, "acc_stopping_thres": 0.05, "seed": 0,
    "burst_alpha": 0.5, "burst_beta": 0.5,
}

#: BookSim keys passed to the simulator, each as the NocConfig field of the same
#: name (its type and accepted values: archgym.noc.CONFIG_FIELDS).
MAPPED: tuple[str, ...] = (
    "topology", "k", "n", "routing_function", "num_vcs", "vc_buf_size", "wait_for_tail_credit",
    "vc_allocator",
    "sw_allocator", "credit_delay", "routing_delay", "vc_alloc_delay", "sw_alloc_delay",
    "st_final_delay", "traffic", "packet_size", "injection_rate", "injection_rate_uses_flits",
    "injection_process", "burst_alpha", "burst_beta", "warmup_periods", "sample_period",
    "max_samples", "latency_thres", "stopping_thres", "acc_stopping_thres", "seed",
)

#: archgym extensions (NocConfig fields that are not BookSim keys); absent, they
#: take NocConfig's default.
EXTENSIONS: tuple[str, ...] = ("link_latency",)

#: Keys accepted only at one value (BookSim's default, the only behaviour modelled).
FIXED: dict[str, Value] = {
    "alloc_iters": 1, "input_speedup": 1,
    "output_speedup": 1, "internal_speedup": 1.0, "sim_type": "latency", "router": "iq",
    "arb_type": "round_robin", "output_delay": 0, "st_prepare_delay": 0, "speculative": 0,
    "vct": 0, "hold_switch_for_packet": 0, "use_read_write": 0, "classes": 1,
    "include_queuing": 1, "warmup_thres": 0.05, "acc_warmup_thres": 0.05, "use_noc_latency": 1,
    "priority": "none", "subnets": 1, "c": 1, "sim_count": 1, "vc_busy_when_full": 0,
    "vc_prioritize_empty": 0, "noq": 0, "buffer_policy": "private", "buf_size": -1,
    "burst_r1": -1.0, "perm_seed": 0,
    "measure_stats": 1, "print_activity": 0, "print_csv_results": 0, "viewer_trace": 0,
    "sim_power": 0, "watch_file": "", "watch_out": "", "stats_out": "",
}

#: Keys accepted with any value and ignored (they only change BookSim's warnings).
IGNORED = frozenset({"deadlock_warn_timeout"})

def accepted_keys() -> list[str]:
    return sorted(set(MAPPED) | set(EXTENSIONS) | set(FIXED) | IGNORED)


def _check_key(key: str, where: str) -> None:
    if key not in MAPPED and key not in EXTENSIONS and key not in FIXED and key not in IGNORED:
        raise ConfigError(f"unknown key '{key}' ({where}); accepted keys: "
                          + ", ".join(accepted_keys()))


def _same(a: Value, b: Value) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    return a == b


def _typed(key: str, value: Value, kind: type):
    if kind is int or kind is bool:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
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
    # strings: BookSim reads a number given for a string key as that number's text
    return str(value)


def _split_params(text: str) -> list[str]:
    """Split ``a,{b,c},d`` at the commas outside braces."""
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
            continue
        depth += {"{": 1, "}": -1}.get(ch, 0)
        cur += ch
    return out + [cur]


def _numbers(text: str, what: str, kind: type) -> tuple:
    items = text[1:-1] if text.startswith("{") and text.endswith("}") else text
    try:
        return tuple(kind(v) for v in items.split(",") if v != "")
    except ValueError:
        raise ConfigError(f"traffic = hotspot(...): {what} must be a list of "
                          f"{'integers' if kind is int else 'numbers'} like {{3,12}}, got {text!r}") from None


def _traffic(value: str) -> tuple[str, dict]:
    """``hotspot({nodes},{rates})`` -> ("hotspot", hotspot_nodes/rates); other names unchanged."""
    call = _CALL.match(value)
    if not call:
        return value, {}
    name, params = call.group(1), _split_params(call.group(2))
    if name != "hotspot":
        raise ConfigError(f"traffic = {value}: only hotspot takes parameters "
                          "(hotspot({nodes},{rates})); give the plain pattern name")
    if len(params) > 2:
        raise ConfigError(f"traffic = {value}: hotspot takes ({{nodes}}) or ({{nodes}},{{rates}})")
    nodes = _numbers(params[0], "the hotspot nodes", int)
    if any(n < 0 for n in nodes):
        raise ConfigError(f"traffic = {value}: negative (random) hotspot nodes are not supported; "
                          "give node ids")
    extra = {"hotspot_nodes": nodes}
    if len(params) == 2:
        rates = _numbers(params[1], "the hotspot rates", float)
        if rates and len(rates) < len(nodes):  # BookSim repeats the last rate
            rates = rates + (rates[-1],) * (len(nodes) - len(rates))
        extra["hotspot_rates"] = rates[: len(nodes)]
    return name, extra


def to_noc_config(settings: dict[str, Value]):
    """An :class:`archgym.noc.NocConfig` for BookSim settings (absent keys: BookSim defaults).

    Raises :class:`ConfigError` naming the key for an unknown key, a key held
    at a value other than the one modelled, or an unsupported name.
    """
    from archgym import noc

    for key in settings:
        _check_key(key, "settings")
    for key, expected in FIXED.items():
        if key in settings and not _same(settings[key], expected):
            raise ConfigError(f"{key} = {settings[key]} is not modelled; archgym accepts only "
                              f"BookSim's default {key} = {expected if expected != '' else '(empty)'}")
    if isinstance(settings.get("seed"), str):
        raise ConfigError(f"seed = {settings['seed']}: archgym runs are reproducible, give an "
                          "integer seed ('time' is not supported)")
    types = {f["name"]: f["type"] for f in noc.CONFIG_FIELDS}
    fields = {}
    for key in MAPPED:
        value = _typed(key, settings.get(key, BOOKSIM_DEFAULTS[key]), types[key])
        if key == "traffic":
            value, extra = _traffic(value)
            fields.update(extra)
        if key == "routing_function":
            if value == "none":
                raise ConfigError("routing_function is required (BookSim's default 'none' "
                                  "names no function); accepted: " + ", ".join(noc.ROUTING_FUNCTIONS))
        fields[key] = value
    for key in EXTENSIONS:
        if key in settings:
            fields[key] = _typed(key, settings[key], types[key])
    try:
        return noc.NocConfig(**fields)
    except ValueError as e:
        message = str(e)
        words = message.split(" ", 2)
        field = words[1] if words[0] == "unknown" and len(words) > 1 else words[0]
        if field in MAPPED and field not in settings:
            message += (f"; the configuration does not set {field}, so it takes BookSim's "
                        f"default {field} = {BOOKSIM_DEFAULTS[field]}: set it explicitly")
        raise ConfigError(message) from None


def run(settings: dict[str, Value]) -> dict:
    """Measure the configuration like BookSim's ``sim_type = latency`` run."""
    from archgym import noc

    config = to_noc_config(settings)
    try:
        return dict(noc.measure(config))
    except (TypeError, ValueError) as e:
        raise ConfigError(str(e)) from None


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
    """Run like the BookSim binary; returns the exit code (0 done, 1 error)."""
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
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 1
    print(summary(result, config.packet_size))
    print(f"Total run time {elapsed:g}")
    print(json_line(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
