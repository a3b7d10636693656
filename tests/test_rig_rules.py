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


# Where a test may start a process with its own subprocess.Popen, and why; everything else uses the rig's EdgeProcess
# (an edge CLI or rig program) or a server of tests/rig/servers.py, stopped by its own PID even when the test fails.
OWN_POPEN = {
    "rig/process.py": "EdgeProcess itself",
    "rig/servers.py": "the real servers (Mosquitto, VictoriaMetrics, InfluxDB)",
    "test_daemon_runtime.py": "a ready/stopped handshake over a pipe, a thousand signals in one run",
    "deploy_support.py": "the broker as deployed, run inside a Debian root",
    "test_deploy_ansible.py": "influxd as deployed, run inside a Debian root",
    "test_deploy_arm64.py": "the door inside the arm64 root under qemu",
    "test_deploy_central.py": "VictoriaMetrics and vmauth run from the units the play wrote",
}


def popen_calls(source: str) -> int:
    """How many `subprocess.Popen(...)` / `Popen(...)` calls a Python source makes."""
    count = 0
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            count += name == "Popen"
    return count


def test_the_popen_checker_counts_calls_not_annotations() -> None:
    source = """
import subprocess
from subprocess import Popen
proc: subprocess.Popen[bytes] | None = None
a = subprocess.Popen(["true"])
b = Popen(["true"])
"""
    assert popen_calls(source) == 2


def test_processes_are_started_through_the_rig() -> None:
    offenders = [
        str(path.relative_to(TESTS))
        for path in sorted(TESTS.rglob("*.py"))
        if str(path.relative_to(TESTS)) not in OWN_POPEN and popen_calls(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], "start edge processes with tests/rig/process.EdgeProcess"
