"""The architecture rules of pyproject.toml's [tool.importlinter] contracts hold.

The same check as CI's ``lint-imports`` (run from the repository root), here so
that a local test run catches a broken rule too.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib

from conftest import REPO_ROOT

PYPROJECT = REPO_ROOT / "pyproject.toml"


def test_the_import_contracts_are_the_four_rules():
    contracts = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]["contracts"]
    assert [c["id"] for c in contracts] == ["archgym-light", "agents-public-api", "private-modules",
                                            "archgym-layers"]


def test_lint_imports_keeps_every_contract():
    code = ("from importlinter.cli import lint_imports\n"
            f"raise SystemExit(lint_imports(config_filename={str(PYPROJECT)!r}, no_cache=True, no_logo=True))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "4 kept, 0 broken" in proc.stdout
