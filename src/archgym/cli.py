"""The ``archgym`` command line: list, and the commands other packages add (demo, train, sweep, replay).

Other packages add commands as plugins, through two entry-point groups:
``archgym.commands`` (``NAME = "module:function"``: ``archgym NAME ARGS...``
calls ``function(ARGS)``, which returns the exit code) and ``archgym.lists``
(``archgym list --NAME`` calls ``function()``).  archgym's reference agents
register ``demo``, ``train``, ``sweep``, ``replay`` and ``list --agents`` there
(pyproject.toml, ``agents.cli`` and ``agents.demo``).  A plugin is imported
only when its command runs, so ``archgym list`` needs neither the agents extra
nor torch nor ray, and archgym never imports ``agents``.  ``archgym demo``
(the README's main job) needs only the ``agents`` package that ``pip install .``
installs beside archgym, not its extra.

Diagnostics and progress go through :mod:`logging` to stderr (configured here,
at INFO, when the command line runs); results go to stdout.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import inspect
import logging
import sys
import tomllib
from pathlib import Path

import gymnasium as gym

import archgym  # registers the environments


def env_ids() -> list[str]:
    """Every registered environment id implemented in archgym, sorted."""
    return sorted(i for i, spec in gym.registry.items()
                  if isinstance(spec.entry_point, str) and spec.entry_point.startswith("archgym."))


def _plain(value) -> str:
    if isinstance(value, (tuple, list)):
        return ",".join(map(str, value))
    return str(value)


def env_description(env_id: str) -> str:
    """One line about ``env_id``: the first sentence of its env class's docstring, then
    the keyword arguments its registration sets, e.g. "[workload=resnet50]"."""
    spec = gym.registry[env_id]
    module, _, name = spec.entry_point.partition(":")
    doc = inspect.getdoc(getattr(importlib.import_module(module), name)) or ""
    sentence = " ".join(doc.split("\n\n")[0].split()).split(". ")[0].rstrip(".")
    kwargs = " ".join(f"{k}={_plain(v)}" for k, v in spec.kwargs.items())
    return f"{sentence} [{kwargs}]" if kwargs else sentence


#: archgym's own commands; entry-point groups of the commands and of the ``list --NAME``
#: lists other packages add.
OWN_COMMANDS = ("list",)
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
                "entry-point groups: archgym's reference agents add demo, train, replay, sweep, collect and "
                'list --agents once archgym is installed (pip install "archgym[agents]", '
                "or pip install -e . in a checkout)")


def _parser(commands: dict, lists: dict) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="archgym", description=__doc__.splitlines()[0],
                                     epilog=f"Plugins: {_PLUGIN_HINT}.")
    parser.add_argument("--version", action="version", version=f"archgym {archgym.__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p_list = sub.add_parser("list", help="list the registered environment ids, each with a line about it")
    p_list.set_defaults(lists=[])
    for name, ep in lists.items():
        p_list.add_argument(f"--{name}", action="append_const", const=name, dest="lists",
                            help=f"list the {name} instead (from {_provider(ep)})")
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
    # Diagnostics to stderr: archgym's and the plugins' at INFO, other libraries' from WARNING
    # (basicConfig does nothing when the caller, or pytest, has set up logging already).
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        datefmt="%H:%M:%S")
    for name in {"archgym", *(_provider(ep).partition(".")[0] for ep in commands.values())}:
        logging.getLogger(name).setLevel(logging.INFO)
    if argv and argv[0] in commands:
        return _load(argv[0], commands[argv[0]])(argv[1:])
    parser = _parser(commands, lists)
    if argv and not argv[0].startswith("-") and argv[0] not in OWN_COMMANDS:
        parser.error(f"unknown command {argv[0]!r}; allowed: {', '.join([*OWN_COMMANDS, *commands])}; "
                     + _PLUGIN_HINT)
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}; " + _PLUGIN_HINT)
    if not args.lists:
        ids = env_ids()
        width = max(map(len, ids))
        for env_id in ids:
            print(f"{env_id:<{width}}  {env_description(env_id)}")
        return 0
    return max(_load(f"list --{name}", lists[name])() for name in args.lists)


if __name__ == "__main__":
    sys.exit(main())
