"""Door status: applied snapshot per door against the last push, revocation lag, offline nodes, bad messages."""

from __future__ import annotations

import datetime as dt

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from edge.contract import DoorMode, DoorState, Envelope, Event, NodeStatus, Topics, encode
from edge.staff.broker import Message
from edge.staff.memberfile import parse_member_file
from edge.staff.push import PushRecord
from edge.staff.snapshot import build_snapshot, sign_snapshot
from edge.staff.status import Currency, build_report
from tests.access_support import BADGE_KEY, SITE_YAML

TOPICS = Topics("lyon")
PUSHED_AT = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
NOW = PUSHED_AT + dt.timedelta(minutes=10)
VERSION = 1_795_683_600_000


def snapshot(version: int = VERSION, created: dt.datetime = PUSHED_AT) -> Message:
    """The retained snapshot as the broker delivers it."""
    payload = build_snapshot(parse_member_file(SITE_YAML), version=version, badge_key=BADGE_KEY, created_at=created)
    return Message(TOPICS.members(), sign_snapshot(payload, Ed25519PrivateKey.generate()), True)


def state(door: str, version: int | None, applied_after_s: float | None = None, node: str = "") -> Message:
    """A door's retained state, as the door publishes it."""
    applied = PUSHED_AT + dt.timedelta(seconds=applied_after_s) if applied_after_s is not None else None
    body = DoorState(
        door=door, locked=True, open=False, mode=DoorMode.NORMAL, members_version=version, members_applied_at=applied
    )
    envelope = Envelope(id=f"{door}-1", ts=NOW, node=node or f"pi-{door}", seq=7)
    return Message(TOPICS.door_state(door), encode(Event(envelope, body)), True)


def node_status(node: str, online: bool, counters: dict[str, int] | None = None) -> Message:
    """A node's retained availability and counters."""
    body = NodeStatus(state="online" if online else "offline", version="0.1.0", counters=counters or {})
    envelope = Envelope(id=f"{node}-s", ts=NOW, node=node, seq=7)
    return Message(TOPICS.node_status(node), encode(Event(envelope, body)), True)


def test_a_door_on_the_last_version_is_current_with_the_time_it_took() -> None:
    report = build_report([snapshot(), state("front", VERSION, applied_after_s=2.5)], TOPICS, NOW)
    (front,) = report.doors
    assert (front.currency, front.lag_s, front.node) == (Currency.CURRENT, 2.5, "pi-front")
    assert report.all_current and report.pushed is not None and report.pushed.version == VERSION


def test_a_door_on_an_older_version_is_behind_since_the_push() -> None:
    report = build_report([snapshot(), state("back", VERSION - 1000, applied_after_s=-3600)], TOPICS, NOW)
    (back,) = report.doors
    assert (back.currency, back.lag_s) == (Currency.BEHIND, 600.0)
    assert not report.all_current
    assert back.to_json()["behind"] is True


def test_a_door_without_any_snapshot_is_behind() -> None:
    (door,) = build_report([snapshot(), state("new", None)], TOPICS, NOW).doors
    assert door.currency is Currency.BEHIND and door.members_version is None


def test_doors_are_sorted_and_the_last_message_per_topic_wins() -> None:
    messages = [snapshot(), state("front", VERSION - 1), state("back", VERSION, 1), state("front", VERSION, 4)]
    report = build_report(messages, TOPICS, NOW)
    assert [(d.door, d.currency) for d in report.doors] == [("back", Currency.CURRENT), ("front", Currency.CURRENT)]


def test_a_door_ahead_of_the_broker_is_flagged() -> None:
    (door,) = build_report([snapshot(), state("front", VERSION + 1, 1)], TOPICS, NOW).doors
    assert door.currency is Currency.AHEAD


def test_the_node_of_each_door_says_whether_it_is_online() -> None:
    messages = [snapshot(), state("front", VERSION - 1, node="pi-a"), node_status("pi-a", online=False)]
    (door,) = build_report(messages, TOPICS, NOW).doors
    assert (door.node, door.node_state, door.currency) == ("pi-a", "offline", Currency.BEHIND)


def test_a_door_behind_shows_why_its_node_refused_snapshots() -> None:
    counters = {"snapshot_refused.unknown_key": 3, "snapshot_refused.not_newer": 0, "snapshots_applied": 1}
    messages = [snapshot(), state("front", VERSION - 1, node="pi-a"), node_status("pi-a", True, counters)]
    (door,) = build_report(messages, TOPICS, NOW).doors
    assert door.refusals == (("unknown_key", 3),)
    assert door.to_json()["snapshots_refused"] == {"unknown_key": 3}


def test_without_a_retained_snapshot_the_lag_is_unknown() -> None:
    report = build_report([state("front", VERSION, 1)], TOPICS, NOW)
    assert report.pushed is None and report.doors[0].currency is Currency.UNKNOWN and not report.all_current
    assert "the broker holds no member snapshot: push one (edge members push)" in report.notes


def test_the_push_record_reveals_a_snapshot_the_broker_lost() -> None:
    record = PushRecord("lyon", VERSION + 5, NOW, TOPICS.members(), 1, 1, 100, "00" * 32)
    report = build_report([snapshot(), state("front", VERSION, 1)], TOPICS, NOW, record=record)
    assert report.pushed is not None and report.pushed.version == VERSION + 5
    assert report.doors[0].currency is Currency.BEHIND
    assert any("does not retain the last pushed snapshot" in note for note in report.notes)


def test_malformed_states_are_ignored_and_named() -> None:
    messages = [snapshot(), Message(TOPICS.door_state("x"), b"{not json", True), state("front", VERSION, 1)]
    report = build_report(messages, TOPICS, NOW)
    assert [d.door for d in report.doors] == ["front"]
    assert report.notes == ("ignored a malformed message on edge/lyon/door/x/state: not_json",)


def test_a_cleared_retained_state_removes_the_door() -> None:
    messages = [snapshot(), state("old", VERSION - 1), Message(TOPICS.door_state("old"), b"", True)]
    report = build_report(messages, TOPICS, NOW)
    assert report.doors == () and "no door has reported its state on this broker" in report.notes


def test_other_sites_and_topics_are_ignored() -> None:
    other = Topics("paris")
    messages = [snapshot(), Message(other.door_state("front"), b"{}", True), state("front", VERSION, 1)]
    assert [d.door for d in build_report(messages, TOPICS, NOW).doors] == ["front"]


@given(st.binary(max_size=300), st.sampled_from(["door/front/state", "node/pi-1/status", "members"]))
def test_any_payload_on_a_watched_topic_gives_a_report(payload: bytes, leaf: str) -> None:
    report = build_report([Message(f"edge/lyon/{leaf}", payload, True)], TOPICS, NOW)
    assert isinstance(report.notes, tuple)
