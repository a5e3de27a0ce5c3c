"""Shared pytest configuration for archgym's tests.

Reference data (outputs of the real MAESTRO and BookSim2, and ConfuciuX's data
files) is committed under ``tests/data/reference/`` (each folder's README says
which tool and commit produced it, the exact command, and the licence).  Tests
reach it through :data:`REFERENCE_DIR`, the ``reference_dir`` fixture or
:func:`require_reference`.  Missing reference data is a failure, never a skip:
a fresh clone runs every fidelity test.

Keep this file light: the sanitizer run imports it too (no torch here).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
REFERENCE_DIR = REPO_ROOT / "tests" / "data" / "reference"


def in_ci() -> bool:
    """True when the environment says this is a CI run (CI=true, as CI sets it)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no", "off")


def require_reference(*parts: str) -> Path:
    """Return ``REFERENCE_DIR / parts``; fail (never skip) when it is missing."""
    path = REFERENCE_DIR.joinpath(*parts)
    if not path.exists():
        pytest.fail(f"reference data missing: {path} (it is committed under tests/data/reference)",
                    pytrace=False)
    return path


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """``tests/data/reference`` (the committed outputs of the real tools)."""
    return require_reference()


_CACHE_ENV = "ARCHGYM_CACHE_DIR"  # archgym.envs.noc_cache.ENV_VAR (not imported: this file stays light)


def pytest_configure(config):
    """The run's NoC measurements go to a temporary cache folder, never the user's."""
    if _CACHE_ENV not in os.environ:
        os.environ[_CACHE_ENV] = config._archgym_cache = tempfile.mkdtemp(prefix="archgym-test-cache-")


def pytest_unconfigure(config):
    folder = getattr(config, "_archgym_cache", None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        del os.environ[_CACHE_ENV]


#: Skip reasons that mean "data or a package is missing on this machine".
_MISSING = re.compile(r"not found|not installed|missing", re.IGNORECASE)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under ``CI=true`` a test skipped for missing data or a missing package fails.

    CI installs everything the tests need, so such a skip there means a fidelity
    check silently vanished.
    """
    outcome = yield
    report = outcome.get_result()
    if report.skipped and in_ci():
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        if _MISSING.search(reason):
            report.outcome = "failed"
            report.longrepr = f"skipped for missing data under CI=true: {reason}"
