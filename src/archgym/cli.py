"""The ``archgym`` command line: list, demo, and the commands other packages add (train, sweep, replay).

``archgym demo`` is the README's main job: on the embedded MobileNet-V2 table
(ConfuciuX's) it runs HWResource-v0 for each dataflow with a uniform design
(64 PEs, tile 4 on every layer) and a seeded random search, and prints a table
of total latency, area and feasibility.

Other packages add commands as plugins, through two entry-point groups:
``archgym.commands`` (``NAME = "module:function"``: ``archgym NAME ARGS...``
calls ``function(ARGS)``, which returns the exit code) and ``archgym.lists``
(``archgym list --NAME`` calls ``function()``).  archgym's reference agents
register ``train``, ``sweep``, ``replay`` and ``list --agents`` there
(pyproject.toml, ``agents.cli``).  A plugin is imported only when its command
runs, so ``archgym list`` and ``archgym demo`` need neither the agents extra
nor torch nor ray, and archgym never imports ``agents``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import sys
import time
import tomllib
from pathlib import Path

import gymnasium as gym
import numpy as np

import archgym  # noqa: F401  (registers the environments)
from archgym.envs.hw_resource import PE_LEVELS, TILE_LEVELS


def env_ids() -> list[str]:
    """Every registered environment id implemented in archgym, sorted."""
    return sorted(i for i, spec in gym.registry.items()
                  if isinstance(spec.entry_point, str) and spec.entry_point.startswith("archgym."))


def _run_episode(env: gym.Env, actions) -> dict:
    """Play one episode with actions(step) -> action; return the final info."""
    env.reset(seed=0)
    step, done, info = 0, False, {}
    while not done:
        _, _, terminated, truncated, info = env.step(actions(step))
        done, step = terminated or truncated, step + 1
    return info


def demo(samples: int, seed: int) -> int:
    uniform = np.array([np.flatnonzero(PE_LEVELS == 64)[0], np.flatnonzero(TILE_LEVELS == 4)[0]])
    rng = np.random.default_rng(seed)
    print(f"HWResource-v0 on MobileNet-V2 (52 layers, ConfuciuX table), latency objective,\n"
          f"area budget with mul = 0.5; random search: {samples} episodes, seed {seed}.\n")
    header = (f"{'dataflow':<9}{'design':<22}{'total cycles':>14}{'total area (um^2)':>20}"
              f"{'feasible':>10}")
    print(header)
    print("-" * len(header))
    for dataflow in ("dla", "shi", "eye"):
        env = gym.make("HWResource-v0", dataflow=dataflow)
        info = _run_episode(env, lambda _: uniform)
        rows = [("uniform 64 PEs, tile 4", info)]
        best, start = None, time.perf_counter()
        for _ in range(samples):
            info = _run_episode(env, lambda _: rng.integers(0, 12, size=2))
            if "reason" not in info and (best is None or info["total_cycles"] < best["total_cycles"]):
                best = info
        rate = samples / (time.perf_counter() - start)
        rows.append((f"best of {samples} random", best))
        for name, info in rows:
            if info is None:
                print(f"{dataflow:<9}{name:<22}{'(no feasible design)':>44}")
                continue
            feasible = "yes" if "reason" not in info else "no"
            print(f"{dataflow:<9}{name:<22}{info['total_cycles']:>14,}{info['total_area']:>20.4e}"
                  f"{feasible:>10}")
        print(f"{'':<9}({rate:,.0f} episodes/s, budget {info['budget']:.4e} um^2)")
    return 0


#: archgym's own commands; entry-point groups of the commands and of the ``list --NAME``
#: lists other packages add.
OWN_COMMANDS = ("list", "demo")
COMMANDS, LISTS = "archgym.commands", "archgym.lists"
#: The project file of a source checkout: where the entry points are declared when archgym
#: runs from src/ without being installed (an install records them in its metadata).
_SOURCE_PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def plugins(group: str) -> dict[str, importlib.metadata.EntryPoint]:
    """The entry points of ``group`` by name (none is imported).

    Those of the installed distributions, and, when archgym itself runs from a
    source checkout without being installed, those its pyproject.toml declares.
    """
    found = {}
    try:
        importlib.metadata.distribution("archgym")
    except importlib.metadata.PackageNotFoundError:
        project = tomllib.loads(_SOURCE_PYPROJECT.read_text())["project"] if _SOURCE_PYPROJECT.is_file() else {}
        if project.get("name") == "archgym":
            found = {name: importlib.metadata.EntryPoint(name, value, group)
                     for name, value in project.get("entry-points", {}).get(group, {}).items()}
    found.update((ep.name, ep) for ep in importlib.metadata.entry_points(group=group))
    return found


def _provider(ep: importlib.metadata.EntryPoint) -> str:
    return ep.value.partition(":")[0]


#: How the agents' commands come (said with --help and when a command or list is unknown).
_PLUGIN_HINT = (f"other packages add commands and lists through the {COMMANDS!r} and {LISTS!r} "
                "entry-point groups: archgym's reference agents add train, replay, sweep, collect and "
                'list --agents once archgym is installed (pip install "archgym[agents]", '
                "or pip install -e . in a checkout)")


def _parser(commands: dict, lists: dict) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="archgym", description=__doc__.splitlines()[0],
                                     epilog=f"Plugins: {_PLUGIN_HINT}.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_list = sub.add_parser("list", help="list the registered environment ids")
    p_list.set_defaults(lists=[])
    for name, ep in lists.items():
        p_list.add_argument(f"--{name}", action="append_const", const=name, dest="lists",
                            help=f"list the {name} instead (from {_provider(ep)})")
    p_demo = sub.add_parser("demo", help="a short HWResource-v0 demo on MobileNet-V2")
    p_demo.add_argument("--samples", type=int, default=300, help="random-search episodes")
    p_demo.add_argument("--seed", type=int, default=0)
    for name, ep in commands.items():  # parsed by the plugin: listed here for --help
        sub.add_parser(name, add_help=False, help=f"from {_provider(ep)}: see archgym {name} --help")
    return parser


def _load(kind: str, ep: importlib.metadata.EntryPoint):
    """The plugin's function, or a one-line error naming the package that cannot be imported."""
    try:
        return ep.load()
    except ImportError as exc:
        sys.exit(f"archgym {kind}: cannot load {ep.value} ({exc}); reinstall the package that provides it")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    commands, lists = plugins(COMMANDS), plugins(LISTS)
    if argv and argv[0] in commands:
        return _load(argv[0], commands[argv[0]])(argv[1:])
    parser = _parser(commands, lists)
    if argv and not argv[0].startswith("-") and argv[0] not in OWN_COMMANDS:
        parser.error(f"unknown command {argv[0]!r}; allowed: {', '.join([*OWN_COMMANDS, *commands])}; "
                     + _PLUGIN_HINT)
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}; " + _PLUGIN_HINT)
    if args.command == "list":
        if not args.lists:
            print("\n".join(env_ids()))
            return 0
        return max(_load(f"list --{name}", lists[name])() for name in args.lists)
    if args.samples < 1:
        parser.error("--samples must be at least 1")
    return demo(args.samples, args.seed)


if __name__ == "__main__":
    sys.exit(main())
