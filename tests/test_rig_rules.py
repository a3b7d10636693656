"""Rules of the test suite itself: what tests share lives in support modules and the rig, never in another test module
(importing one runs its tests' module-level setup twice and makes a fixture's scope a surprise)."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def test_module_imports(source: str) -> list[str]:
    """The test modules (tests/test_*.py) a Python source imports, as dotted names."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("tests.test_")]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level == 0 and module.startswith("tests.test_"):
                found.append(module)
            elif (node.level == 0 and module == "tests") or (node.level == 1 and not module):
                found += [f"tests.{a.name}" for a in node.names if a.name.startswith("test_")]
            elif node.level == 1 and module.startswith("test_"):
                found.append(f"tests.{module}")
    return found


test_module_imports.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


def test_the_checker_sees_every_way_of_importing_a_test_module() -> None:
    source = """
import tests.test_a
from tests.test_b import X
from tests import test_c, support
from . import test_d
from .test_e import Y
from tests.report_support import DAY
from tests.rig.fixtures import REPO
"""
    assert test_module_imports(source) == [f"tests.test_{m}" for m in "abcde"]


def test_no_module_of_the_suite_imports_a_test_module() -> None:
    offenders = {
        str(path.relative_to(TESTS)): imported
        for path in sorted(TESTS.rglob("*.py"))
        if (imported := test_module_imports(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}, "move what they share into tests/*_support.py or tests/rig/"
