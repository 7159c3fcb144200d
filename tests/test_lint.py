"""Lint and layers: `ruff check` passes on the repository, and its banned imports refuse an upward import."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _ruff(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    exe = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert exe, "ruff is a test dependency: pip install -e '.[test]'"
    return subprocess.run([exe, *args], cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=300)


def test_ruff_passes():
    r = _ruff("check", ".", "--output-format", "concise")
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("path, source, banned", [
    ("transforms/probe.py", "from rules import engine\n", "rules"),
    ("rules/probe.py", "from exports.goaml import GoamlConfigError\n", "exports"),
    ("rules/casework/probe.py", "import worlds.evaluate\n", "worlds"),
    ("exports/probe.py", "from flows import cli\n", "flows"),
    ("worlds/probe.py", "import exports\n", "exports"),
])
def test_an_upward_import_is_refused(path, source, banned):
    r = _ruff("check", "--select", "TID251", "--stdin-filename", path, "-", stdin=source)
    assert r.returncode == 1 and f"`{banned}` is banned" in r.stdout, r.stdout + r.stderr


def test_a_downward_import_is_allowed():
    r = _ruff("check", "--select", "TID251", "--stdin-filename", "exports/probe.py", "-",
              stdin="from rules import engine\nfrom transforms import store\n")
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.slow
def test_mypy_passes_on_rules_and_transforms():
    exe = shutil.which("mypy", path=str(Path(sys.executable).parent)) or shutil.which("mypy")
    assert exe, "mypy is a test dependency: pip install -e '.[test]'"
    r = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True, timeout=900)  # files from pyproject [tool.mypy]
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
