"""Static checks are part of the test suite: ruff (lint and format) and mypy --strict stay clean."""

from __future__ import annotations

import subprocess
import sys

from tests.rig.fixtures import REPO

PATHS = ["edge", "tests", "benchmarks"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing() -> None:
    result = run("ruff", "check", *PATHS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_code_is_ruff_formatted() -> None:
    result = run("ruff", "format", "--check", *PATHS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean() -> None:
    result = run("mypy", "edge")
    assert result.returncode == 0, result.stdout + result.stderr
