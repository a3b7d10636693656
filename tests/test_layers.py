"""The pure modules stay pure: the door's rules, the checks of what it receives and its state machine import nothing
that reaches a file, a pin, a socket or a thread (docs/architecture.md, Layers), so a newcomer finds every rule
there and no I/O beside it. (`edge/access/ed25519.py` is the one exception: it binds the system's libcrypto.)"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.rig.fixtures import REPO

PURE = [
    "edge/access/rules.py",
    "edge/access/index.py",
    "edge/access/tracking.py",
    "edge/access/commands.py",
    "edge/access/signed.py",
    "edge/access/snapshot.py",
    "edge/door/controller.py",
    "edge/door/lock_wiring.py",
    "edge/schedule.py",
]
IO = ("os", "io", "pathlib", "shutil", "tempfile", "sqlite3", "socket", "threading", "subprocess", "ctypes", "time")
IO += ("gpiozero", "serial", "paho", "yaml", "edge.bus", "edge.files", "edge.hardware", "edge.daemons", "edge.config")
IO += ("edge.door.hardware", "edge.door.relay", "edge.door.inputs", "edge.door.feedback", "edge.door.store")
IO += ("edge.door.loop", "edge.door.unit", "edge.door.writer", "edge.door.service", "edge.door.persistence")


def imports(path: Path) -> set[str]:
    """Every module a file imports, by its full dotted name."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", PURE)
def test_a_pure_module_imports_no_io(module: str) -> None:
    found = {name for name in imports(REPO / module) if any(name == m or name.startswith(m + ".") for m in IO)}
    assert found == set(), f"{module} imports {sorted(found)}"
