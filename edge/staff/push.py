"""`edge members push`: member file -> signed snapshot -> retained on `P/members`, with a version that only grows.

A door applies a snapshot only if its version is greater than the one it has, so versions must never go back,
even when the staff machine's clock does or a second staff machine pushes too. The version is the largest of:
the current time in milliseconds, the last version pushed from this member file + 1 (kept next to it in
`<members file>.pushed.json`), and the version of the snapshot the broker retains + 1.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge.access.signed import TrustedKeys
from edge.access.snapshot import apply_snapshot
from edge.clock import Clock, parse_rfc3339, rfc3339_ms
from edge.config import NodeConfig
from edge.contract.topics import Topics
from edge.errors import ConfigError
from edge.files import write_atomic
from edge.staff.broker import BrokerLink, BrokerSession
from edge.staff.members import MemberFile
from edge.staff.signing import public_key_of
from edge.staff.snapshot import build_snapshot, sign_snapshot

RECORD_SUFFIX = ".pushed.json"


@dataclass(frozen=True)
class PushRecord:
    """The last snapshot pushed from a member file: version, when, where, how many members, digest of the bytes."""

    site: str
    version: int
    pushed_at: dt.datetime
    topic: str
    members: int
    badges: int
    size: int
    sha256: str

    def to_json(self) -> bytes:
        """The record file's content."""
        data: dict[str, Any] = {**self.__dict__, "pushed_at": rfc3339_ms(self.pushed_at)}
        return json.dumps(data, indent=2).encode("ascii") + b"\n"


def record_path(members_path: Path) -> Path:
    """Where the push record of a member file lives: next to it."""
    return members_path.with_name(members_path.name + RECORD_SUFFIX)


def read_record(path: Path) -> PushRecord | None:
    """The last push record, None when nothing was pushed yet; ConfigError when the file is unreadable."""
    try:
        data = json.loads(path.read_bytes())
        return PushRecord(
            site=str(data["site"]),
            version=_int(data["version"]),
            pushed_at=parse_rfc3339(data["pushed_at"]),
            topic=str(data["topic"]),
            members=_int(data["members"]),
            badges=_int(data["badges"]),
            size=_int(data["size"]),
            sha256=str(data["sha256"]),
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(
            [f"{path}: not a push record ({type(exc).__name__}: {exc}); move it away to push again"]
        ) from None


def next_version(now: dt.datetime, *previous: int | None) -> int:
    """Milliseconds since the epoch, or one more than any previous version if that is larger."""
    candidates = [int(now.timestamp() * 1000)] + [v + 1 for v in previous if v is not None]
    return max(candidates)


def snapshot_version(raw: bytes) -> int | None:
    """The version a signed snapshot claims (signature not checked: only used to keep versions growing)."""
    try:
        version = json.loads(raw)["payload"]["version"]
    except (ValueError, KeyError, TypeError, RecursionError):
        return None
    return version if isinstance(version, int) and not isinstance(version, bool) and version >= 0 else None


def snapshot_created_at(raw: bytes) -> dt.datetime | None:
    """When a signed snapshot says it was built (signature not checked)."""
    try:
        return parse_rfc3339(json.loads(raw)["payload"]["created_at"])
    except (ValueError, KeyError, TypeError, RecursionError):
        return None


def push_snapshot(
    members: MemberFile,
    members_path: Path,
    config: NodeConfig,
    *,
    signing_key: Ed25519PrivateKey,
    badge_key: bytes,
    clock: Clock,
    timeout: float,
    link: BrokerLink | None = None,
) -> PushRecord:
    """Build, sign, self-verify and publish the snapshot (retained, QoS 1, acknowledged), then record the push.

    Publishes through `link` when given (the console's own connection), otherwise through a short session.
    """
    if members.site != config.site:
        raise ConfigError([f"{members_path}: site {members.site!r} is not the staff config's site {config.site!r}"])
    topics = Topics(config.site, config.mqtt.prefix)
    path = record_path(members_path)
    previous = read_record(path)
    with contextlib.ExitStack() as stack:
        session = link if link is not None else stack.enter_context(BrokerSession(config, "push", timeout=timeout))
        retained = session.read_retained([topics.members()])
        on_broker = snapshot_version(retained[-1].payload) if retained else None
        now = clock.now()
        version = next_version(now, previous.version if previous else None, on_broker)
        payload = build_snapshot(members, version=version, badge_key=badge_key, created_at=now)
        raw = sign_snapshot(payload, signing_key)
        # The exact check every door runs: nothing leaves this machine that a door would refuse.
        apply_snapshot(raw, TrustedKeys([public_key_of(signing_key)]), site=members.site, applied_version=None)
        session.publish(topics.members(), raw, retain=True)
    record = PushRecord(
        site=members.site,
        version=version,
        pushed_at=now,
        topic=topics.members(),
        members=len(members.members),
        badges=sum(len(m.badges) for m in members.members),
        size=len(raw),
        sha256=hashlib.sha256(raw).hexdigest(),
    )
    write_atomic(path, record.to_json(), 0o600)
    return record


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{value!r} is not an integer")
    return value
