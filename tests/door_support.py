"""What the door daemon tests share: a site's keys and member file, node configs, signed snapshots and commands,
and reading the door's events off a real broker."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from edge.access.commands import Action
from edge.contract import Kind, decode
from edge.staff.command import make_command, sign_command
from edge.staff.keygen import generate_site_keys
from edge.staff.keys import load_badge_key, load_signing_key
from edge.staff.memberfile import parse_member_file
from edge.staff.snapshot import build_snapshot, sign_snapshot
from tests.rig.mqtt import Recorder, first_deliveries
from tests.rig.mqtt import wait_counter as rig_wait_counter

SITE = "lyon"
PREFIX = f"edge/{SITE}"

# Badges: RDM6300 tags are 5 bytes; a Wiegand 26-bit card is facility (1 byte) + card number (2 bytes).
RESIDENT = "0A1B2C3D4E"
NEVER = "00DEADBEEF"  # a plan whose schedule is empty: always outside_schedule
SUSPENDED = "7E00112233"
EXPIRED = "5B00A1C2D3"
STAFF = "1122334455"
UNKNOWN = "6677889900"
WIEGAND_RESIDENT = (12, 3456)  # uid 0C0D80
WIEGAND_UNKNOWN = (99, 4242)

MEMBER_FILE = f"""\
site: {SITE}
timezone: Europe/Paris
plans:
  resident: {{schedule: always}}
  never: {{schedule: []}}
  staff: {{schedule: always}}
members:
  - {{id: M-1, name: Ann Resident, plan: resident, badges: ["{RESIDENT}", "0C0D80"]}}
  - {{id: M-2, name: Ben Never, plan: never, badges: ["{NEVER}"]}}
  - {{id: M-3, name: Cat Suspended, plan: resident, badges: ["{SUSPENDED}"], suspended: true}}
  - {{id: M-4, name: Dan Gone, plan: resident, badges: ["{EXPIRED}"], valid_until: 2020-01-31}}
  - {{id: S-1, name: Front Desk, plan: staff, staff: true, badges: ["{STAFF}"]}}
"""


def make_site(folder: Path) -> Path:
    """Keys (`edge members keygen`'s layout) and the member file in `folder`; returns the keys folder."""
    keys = folder / "keys"
    if not keys.exists():
        generate_site_keys(keys)
    (folder / "members.yaml").write_text(MEMBER_FILE)
    return keys


def door_config(
    folder: Path,
    port: int,
    *,
    node: str = "door-1",
    readers: str = "",
    door: str = "",
    access: str = "",
    status_interval_s: float = 0.2,
) -> Path:
    """A door node config in `folder` (keys from `make_site`); `door` adds keys to the door, `readers` its readers."""
    access = access or (
        "  snapshot_keys: [keys/snapshot-signing.pub]\n  command_keys: [keys/command-signing.pub]\n  clock_trust: rtc\n"
    )
    path = folder / f"{node}.yaml"
    path.write_text(
        f"""site: {SITE}
node: {node}
timezone: Europe/Paris
state_dir: {folder / "state" / node}
badge_key_file: keys/badge.key
status_interval_s: {status_interval_s}
mqtt: {{host: 127.0.0.1, port: {port}, reconnect_min_s: 0.2, reconnect_max_s: 1}}
access:
{access}doors:
  - name: front
    relay: {{pin: 5, lock_type: fail_safe}}
{door}{"    readers:" + chr(10) + readers if readers else ""}"""
    )
    return path


def signed_snapshot(folder: Path, version: int, member_file: str = MEMBER_FILE, key: str = "snapshot") -> bytes:
    """A snapshot of `member_file` signed with the site's snapshot key (or `key`-signing.key), as `edge members
    push` makes it."""
    members = parse_member_file(member_file)
    payload = build_snapshot(
        members,
        version=version,
        badge_key=load_badge_key(folder / "keys/badge.key"),
        created_at=dt.datetime.now(dt.UTC),
    )
    return sign_snapshot(payload, load_signing_key(folder / f"keys/{key}-signing.key"))


def signed_command(
    folder: Path, action: str, *, now: dt.datetime, door: str = "front", site: str = SITE, key: str = "command"
) -> bytes:
    """A command signed with the site's command key (or `key`-signing.key)."""
    command = make_command(site, door, Action(action), now=now)
    return sign_command(command, load_signing_key(folder / f"keys/{key}-signing.key"))


SUFFIXES = {Kind.DOOR_ACCESS: "/access", Kind.DOOR_ALARM: "/alarm", Kind.DOOR_STATE: "/state"}


def events(recorder: Recorder, kind: Kind) -> list[Any]:
    """Bodies of every event of `kind` the recorder has seen, in arrival order (a QoS 1 duplicate twice)."""
    suffix = SUFFIXES[kind]
    return [decode(kind, m.payload).body for m in list(recorder.messages) if m.topic.endswith(suffix) and m.payload]


def event_ids(recorder: Recorder, kind: Kind) -> set[str]:
    """The distinct ids of the `kind` events the recorder has seen."""
    suffix = SUFFIXES[kind]
    return {m.event_id for m in list(recorder.messages) if m.topic.endswith(suffix) and m.event_id is not None}


def wait_events(recorder: Recorder, kind: Kind, count: int, timeout: float = 20) -> bool:
    """Wait until `count` distinct events of `kind` arrived: a QoS 1 duplicate does not count twice."""
    return recorder.wait_for(lambda _ms: len(event_ids(recorder, kind)) >= count, timeout)


def events_since(recorder: Recorder, kind: Kind, seen: set[str]) -> list[Any]:
    """Bodies of the `kind` events whose id is not in `seen`, each once, in the order they first arrived."""
    suffix = SUFFIXES[kind]
    mine = [m for m in first_deliveries(list(recorder.messages)) if m.topic.endswith(suffix) and m.payload]
    return [decode(kind, m.payload).body for m in mine if m.event_id not in seen]


def envelopes(recorder: Recorder, suffix: str) -> list[Any]:
    """Envelopes (id, seq, ts) of the events whose topic ends with `suffix`."""
    kind = {"/access": Kind.DOOR_ACCESS, "/alarm": Kind.DOOR_ALARM, "/state": Kind.DOOR_STATE}[suffix]
    return [decode(kind, m.payload).envelope for m in list(recorder.messages) if m.topic.endswith(suffix)]


def last_status(recorder: Recorder, node: str = "door-1") -> dict[str, Any] | None:
    """The last node status payload seen (as JSON), or None."""
    topic = f"{PREFIX}/node/{node}/status"
    found = [m for m in list(recorder.messages) if m.topic == topic and m.payload]
    return json.loads(found[-1].payload) if found else None


def counter(recorder: Recorder, name: str, node: str = "door-1") -> int:
    """A counter from the last node status seen (0 when absent)."""
    status = last_status(recorder, node)
    return int(status["counters"].get(name, 0)) if status else 0


def wait_counter(recorder: Recorder, name: str, at_least: int = 1, node: str = "door-1", timeout: float = 30) -> bool:
    """Wait until the door node's latest status shows counter `name` >= `at_least` (fails the test otherwise)."""
    return bool(rig_wait_counter(recorder, node, name, lambda v: v >= at_least, timeout))
