"""Shared pytest configuration for archgym's tests.

Reference data (outputs of the original simulators that our cores are compared
against) lives outside the repository, in ``../shared/reference/`` beside the
repo root.  Tests reach it through :data:`REFERENCE_DIR`, the
``reference_dir`` fixture or :func:`require_reference`.  On a developer's
machine without that folder such tests are skipped; under ``CI=true`` they fail,
so the comparison against the reference can never silently vanish from CI.

Keep this file light: the sanitizer run imports it too (no torch here).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
REFERENCE_DIR = REPO_ROOT.parent / "shared" / "reference"


def in_ci() -> bool:
    """True when the environment says this is a CI run (CI=true, as CI sets it)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no", "off")


def require_reference(*parts: str) -> Path:
    """Return ``REFERENCE_DIR / parts``.

    When the reference folder itself is absent the test is skipped, or fails
    under ``CI=true``.  When the folder is there but ``parts`` is not, the
    test fails: the reference set is incomplete, which is never a reason to skip.
    """
    if not REFERENCE_DIR.is_dir():
        message = (
            f"reference data not found: {REFERENCE_DIR} "
            f"(the shared/ folder is expected beside the repository, at {REFERENCE_DIR.parent})"
        )
        if in_ci():
            pytest.fail(f"{message}; CI=true, so this is a failure, not a skip", pytrace=False)
        pytest.skip(message)
    path = REFERENCE_DIR.joinpath(*parts)
    if not path.exists():
        pytest.fail(f"reference data incomplete: {path} is missing", pytrace=False)
    return path


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """``../shared/reference`` (skip if absent; fail under CI=true)."""
    return require_reference()
