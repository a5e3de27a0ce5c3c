"""The on-disk cache of NoC measurements: each process start reuses the latency tables measured before.

The NoCRouting envs look every (pattern, rate, routing) point up in a table
measured with :func:`archgym.noc.measure_many`; this module keeps each
measured point in a per-user cache folder, so only the first process that
needs a point pays for it (SubprocVecEnv workers and Ray tasks included).

* Where: ``$ARCHGYM_CACHE_DIR`` if set, else the user's cache folder for
  archgym (platformdirs: ``$XDG_CACHE_HOME/archgym`` or ``~/.cache/archgym`` on
  Linux, ``~/Library/Caches/archgym`` on macOS), in a subfolder
  ``noc-<archgym version>``.  :func:`cache_dir` gives the folder.
* Key: a point's file is named by the SHA-256 of its whole
  :class:`archgym.noc.NocConfig` (every field, seed included), the package
  version and the size and modification time of the compiled core, so a
  rebuilt core never reads older results.
* Concurrency: a point is written to a temporary file in the same folder and
  renamed into place (atomic on POSIX and Windows), so a reader sees a whole
  file or none; processes that measure the same point at once write the
  same result.  An unreadable file counts as missing; a folder that cannot be
  written to gives one warning and the envs run from memory.
* Clearing: :func:`clear` (or ``archgym.envs.noc_routing.clear_cache(disk=True)``)
  deletes the folder of this version; deleting the whole archgym cache
  folder by hand is safe too.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import platformdirs

import archgym

#: The environment variable that moves the cache (to a folder of your choice).
ENV_VAR = "ARCHGYM_CACHE_DIR"
_warned = False


def cache_dir() -> Path:
    """The folder holding this version's NoC measurements (not created until a point is stored)."""
    root = os.environ.get(ENV_VAR) or platformdirs.user_cache_dir("archgym", appauthor=False)
    return Path(root) / f"noc-{archgym.__version__}"


def _core_stamp() -> str:
    origin = importlib.util.find_spec("archgym._sim").origin
    st = os.stat(origin)
    return f"{st.st_size}:{st.st_mtime_ns}"


def _path(config, horizon: int | None) -> Path:
    fields = json.dumps(dataclasses.asdict(config), sort_keys=True)
    run = "steady" if horizon is None else f"horizon={horizon}"
    key = hashlib.sha256(f"{archgym.__version__}|{_core_stamp()}|{run}|{fields}".encode()).hexdigest()
    return cache_dir() / f"{key}.json"


def load(config, horizon: int | None = None) -> dict | None:
    """The stored measurement of a NocConfig (steady state, or a run of ``horizon`` cycles), or None."""
    with contextlib.suppress(OSError, ValueError):
        data = json.loads(_path(config, horizon).read_text())
        if isinstance(data, dict):
            return data
    return None


def store(config, figures: dict, horizon: int | None = None) -> None:
    """Store a measurement atomically; warn once (and go on) if the folder is not writable."""
    global _warned
    path = _path(config, horizon)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(figures, f)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError as exc:
        if not _warned:
            _warned = True
            warnings.warn(f"cannot write the NoC cache in {path.parent} ({exc}); measuring in memory only "
                          f"(set {ENV_VAR} to a writable folder)", RuntimeWarning, stacklevel=3)


def clear() -> None:
    """Delete this version's stored measurements."""
    shutil.rmtree(cache_dir(), ignore_errors=True)
