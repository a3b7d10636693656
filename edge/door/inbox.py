"""What other threads post to the door loop (edge.door.loop), and how a caller waits for the loop's answer.

Inputs are named tuples (immutable, built on every badge and pin edge without a dataclass's machinery); the loop
tells them apart by type, never by comparing them (a named tuple equals any tuple holding the same values).
"""

from __future__ import annotations

import threading
from typing import Any, NamedTuple

from edge.access.commands import Action
from edge.access.index import SnapshotIndex
from edge.access.rules import Direction
from edge.door.unit import MembersInfo


class Badge(NamedTuple):
    """A badge read at a door's reader; `at` is when the frame was complete, in the readers' monotonic clock."""

    door: str
    reader: str
    direction: Direction
    token: str
    at: float


class ContactChanged(NamedTuple):
    """The door contact now reads closed (True) or open."""

    door: str
    closed: bool


class ExitRequested(NamedTuple):
    """The request-to-exit input was pressed."""

    door: str


class LockSensed(NamedTuple):
    """The lock sensor now reads locked (True) or not."""

    door: str
    locked: bool


class ReaderStatus(NamedTuple):
    """A reader of the door stopped (`ok` False) or resumed answering."""

    door: str
    reader: str
    ok: bool


class ReadInputs(NamedTuple):
    """Read the door's contact and lock sensor now (at start: a change before this input is not lost)."""

    door: str


class Obey(NamedTuple):
    """A verified staff command to carry out (its mode already stored by the command handler)."""

    door: str
    action: Action


class SnapshotApplied(NamedTuple):
    """A verified member snapshot, stored and admitted by the floor: decide with it from now on."""

    snapshot: SnapshotIndex
    members: MembersInfo


class Refresh(NamedTuple):
    """The clock's trust was read again: judge every unlocked schedule now."""


Input = (
    Badge | ContactChanged | ExitRequested | LockSensed | ReaderStatus | ReadInputs | Obey | SnapshotApplied | Refresh
)


class Reply:
    """The loop's answer to one input, for a caller that waits for it (None when the input was not handled)."""

    def __init__(self) -> None:
        self.value: Any = None
        self._done = threading.Event()

    def set(self, value: Any) -> None:
        """Give the answer (called once, by the loop)."""
        self.value = value
        self._done.set()

    def wait(self, timeout: float) -> bool:
        """Wait for the answer; False on timeout."""
        return self._done.wait(timeout)
