"""The door's member snapshot floor: the oldest snapshot it may still apply, kept in its own small file.

A door refuses a snapshot older than the one it applied (`not_newer`): otherwise anyone who can publish on
`P/members` could re-send last month's genuine snapshot and re-admit a revoked member. The stored snapshot alone
cannot carry that memory: a corrupt or deleted snapshot file would leave the door with no version at all, and the
next retained snapshot, however old, would be applied. The floor therefore lives in a file of its own, written
(atomically, fsynced) each time a snapshot is applied, and an installer can set a minimum for a new door
(`access.min_snapshot_version`). The floor admits any newer version, and at its own version only the very
snapshot it was raised by (by SHA-256), so a door whose snapshot file was lost takes the same snapshot back from
the broker, and nothing older.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from edge.errors import PayloadError
from edge.files import write_atomic

FLOOR_KIND = "edge-members-floor/1"
_DIGEST = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class VersionFloor:
    """The oldest snapshot a door applies: any version above `version`, or at `version` the snapshot whose digest
    (hex SHA-256 of its signed bytes) is `digest` (any snapshot of that version when None: an installer's minimum)."""

    version: int
    digest: str | None = None

    def admits(self, version: int, digest: str) -> bool:
        """Whether a verified snapshot of this version and digest may be applied."""
        if version != self.version:
            return version > self.version
        return self.digest is None or digest == self.digest

    def check(self, version: int, digest: str) -> None:
        """Raise PayloadError `not_newer` (a rollback) when the floor does not admit this snapshot."""
        if not self.admits(version, digest):
            older = "older than" if version < self.version else "another snapshot with the same version as"
            raise PayloadError("not_newer", f"version {version} is {older} this door's floor {self.version}")

    def raised_to(self, other: VersionFloor | None) -> VersionFloor:
        """The higher of two floors; at equal versions the one naming its snapshot."""
        if other is None or other.version < self.version:
            return self
        if other.version > self.version or self.digest is None:
            return other
        return self


def starting_floor(saved: VersionFloor | None, minimum: int) -> VersionFloor | None:
    """The floor a door starts from: its saved floor raised to the installer's minimum (0: none); None when neither
    is there (the stored snapshot then raises it, if the door has one)."""
    return VersionFloor(minimum).raised_to(saved) if minimum else saved


class FloorState(StrEnum):
    """What a door found in its floor file at start."""

    OK = "ok"
    MISSING = "missing"
    CORRUPT = "corrupt"  # unparsable, a wrong check, or unreadable: the door says so and falls back


def load_floor(path: Path) -> tuple[VersionFloor | None, FloorState]:
    """The floor saved in `path`, and whether it was there and whole."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, FloorState.MISSING
    except OSError:
        return None, FloorState.CORRUPT
    try:
        data = json.loads(raw)
        version, digest = data["version"], data["digest"]
        valid = (
            isinstance(version, int)
            and not isinstance(version, bool)
            and version >= 0
            and (digest is None or (isinstance(digest, str) and _DIGEST.match(digest) is not None))
            and data.get("check") == _check(version, digest)
        )
    except (ValueError, KeyError, TypeError):
        valid = False
    if not valid:
        return None, FloorState.CORRUPT
    return VersionFloor(version, digest), FloorState.OK


def save_floor(path: Path, floor: VersionFloor) -> None:
    """Write the floor atomically and durably (fsync); StoreError when it cannot be written."""
    data = {"check": _check(floor.version, floor.digest), "digest": floor.digest, "version": floor.version}
    write_atomic(path, json.dumps(data, sort_keys=True).encode("ascii") + b"\n")


def _check(version: int, digest: str | None) -> str:
    """A checksum over the fields: a flipped bit in the version must read as corrupt, not as another floor."""
    return hashlib.sha256(f"{FLOOR_KIND}\n{version}\n{digest}".encode("ascii")).hexdigest()[:16]
