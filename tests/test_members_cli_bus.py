"""`edge members push/status/command` as the real CLI against a real Mosquitto."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from edge.access.commands import ReplayGuard, verify_command
from edge.access.snapshot import apply_snapshot
from edge.config.keyfiles import load_trusted_keys
from edge.contract import DoorMode, DoorState, Envelope, Event, NodeStatus, Topics, badge_token, encode
from edge.contract.limits import largest_payload
from edge.errors import PayloadError
from edge.staff.keygen import generate_site_keys
from edge.staff.keys import load_badge_key
from tests.rig.fixtures import run_edge
from tests.rig.mqtt import Recorder, publish
from tests.rig.process import EdgeProcess
from tests.rig.servers import Mosquitto, free_port

TOPICS = Topics("lyon")
MEMBER_FILE = """\
site: lyon
timezone: Europe/Paris
plans:
  resident: {schedule: always}
  flex: {schedule: [{days: mon-fri, from: "08:00", to: "19:00"}]}
members:
  - {id: M-1, name: Ann Resident, plan: resident, badges: ["04:A2:3B:11:9C:80:00"]}
  - {id: M-2, name: Ben Flex, plan: flex, badges: ["5B00A1C2D3", "0A1B2C3D4E"]}
  - {id: M-3, name: Cat Gone, plan: resident, badges: ["7E00112233"], suspended: true}
"""
UIDS = ("04A23B119C8000", "04:A2:3B:11:9C:80:00", "5B00A1C2D3", "0A1B2C3D4E", "7E00112233")


@pytest.fixture
def staff(tmp_path: Path, mosquitto: Mosquitto) -> Path:
    """A staff folder: member file, keys and a staff node config pointing at the test broker."""
    (tmp_path / "members.yaml").write_text(MEMBER_FILE)
    generate_site_keys(tmp_path / "keys")
    write_config(tmp_path, mosquitto.port)
    return tmp_path


def write_config(folder: Path, port: int, mqtt_extra: str = "") -> None:
    """The staff machine's node config."""
    (folder / "staff.yaml").write_text(
        f"site: lyon\nnode: staff-laptop\nmqtt:\n  host: 127.0.0.1\n  port: {port}\n{mqtt_extra}"
    )


def push(folder: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run `edge members push` from the staff folder."""
    return run_edge(
        "members", "push", "--members", str(folder / "members.yaml"), "-c", str(folder / "staff.yaml"),
        "--signing-key", str(folder / "keys/snapshot-signing.key"), "--badge-key", str(folder / "keys/badge.key"),
        *extra,
    )  # fmt: skip


def pushed_version(result: subprocess.CompletedProcess[str]) -> int:
    """The version `push` printed."""
    assert result.returncode == 0, result.stderr
    return int(result.stdout.split("version ", 1)[1].split()[0])


def retained_snapshot(port: int) -> bytes | None:
    """What a door subscribing now would receive on P/members."""
    recorder = Recorder(port, "#")
    try:
        # Retained messages are queued at subscription, so they arrive before a probe published afterwards.
        publish(port, "probe/end", b"")
        recorder.wait_count(1, topic_part="probe/end")
        messages = [m for m in recorder.messages if m.topic == TOPICS.members()]
    finally:
        recorder.close()
    assert all(m.retain for m in messages)
    return messages[-1].payload if messages else None


def door_state(door: str, version: int | None, node: str, applied: dt.datetime | None = None) -> bytes:
    """A door's state as the door daemon publishes it."""
    now = dt.datetime.now(dt.UTC)
    body = DoorState(
        door=door,
        locked=True,
        open=False,
        mode=DoorMode.NORMAL,
        members_version=version,
        members_applied_at=applied or (now if version is not None else None),
    )
    return encode(Event(Envelope(id=f"{door}-{version}", ts=now, node=node, seq=3), body))


# --- push -------------------------------------------------------------------------------------------------


def test_push_publishes_a_retained_signed_snapshot_that_a_door_accepts(staff: Path, mosquitto: Mosquitto) -> None:
    result = push(staff)
    version = pushed_version(result)
    raw = retained_snapshot(mosquitto.port)
    assert raw is not None
    trusted = load_trusted_keys([staff / "keys/snapshot-signing.pub"])
    index = apply_snapshot(raw, trusted, site="lyon", applied_version=version - 1)
    assert index.version == version and index.member_count == 3
    badge_key = load_badge_key(staff / "keys/badge.key")
    assert index.by_token[badge_token(badge_key, "5b:00:a1:c2:d3")].id == "M-2"
    assert index.by_token[badge_token(badge_key, "7E00112233")].suspended
    for text in (raw.decode("ascii").lower(), result.stdout.lower(), result.stderr.lower()):
        for uid in UIDS:
            assert uid.lower() not in text
    assert "Ann Resident" not in raw.decode("ascii") and "Ben Flex" not in raw.decode("ascii")
    record = json.loads((staff / "members.yaml.pushed.json").read_text())
    assert record["version"] == version and record["topic"] == "edge/lyon/members"


def test_versions_increase_across_pushes_and_a_door_takes_each(staff: Path, mosquitto: Mosquitto) -> None:
    trusted = load_trusted_keys([staff / "keys/snapshot-signing.pub"])
    first = pushed_version(push(staff))
    second = pushed_version(push(staff))
    assert second > first
    raw = retained_snapshot(mosquitto.port)
    assert raw is not None
    assert apply_snapshot(raw, trusted, site="lyon", applied_version=first).version == second


def test_a_push_after_the_clock_went_back_still_increases_the_version(staff: Path) -> None:
    first = pushed_version(push(staff))
    record = staff / "members.yaml.pushed.json"
    ahead = json.loads(record.read_text())
    ahead["version"] = first + 10**9  # as if the last push happened with a clock 11 days ahead
    record.write_text(json.dumps(ahead))
    assert pushed_version(push(staff)) == first + 10**9 + 1


def test_a_newer_snapshot_retained_on_the_broker_raises_the_version(staff: Path, mosquitto: Mosquitto) -> None:
    elsewhere = 5 * 10**12
    publish(mosquitto.port, TOPICS.members(), json.dumps({"payload": {"version": elsewhere}}).encode(), retain=True)
    assert pushed_version(push(staff)) == elsewhere + 1


def test_an_invalid_member_file_exits_2_and_publishes_nothing(staff: Path, mosquitto: Mosquitto) -> None:
    recorder = Recorder(mosquitto.port, "#")
    try:
        (staff / "members.yaml").write_text(MEMBER_FILE.replace("plan: flex, badges", "plan: gold, badges"))
        result = push(staff)
        publish(mosquitto.port, "probe/after-push", b"x")
        recorder.wait_count(1, topic_part="probe/after-push")
        topics = [m.topic for m in recorder.messages]
    finally:
        recorder.close()
    assert result.returncode == 2
    assert "members[1].plan: unknown plan 'gold'" in result.stderr
    assert topics == ["probe/after-push"]
    assert retained_snapshot(mosquitto.port) is None
    assert not (staff / "members.yaml.pushed.json").exists()


@pytest.mark.parametrize(
    ("case", "change", "message"),
    [
        ("another site", lambda s: s.joinpath("members.yaml").write_text(MEMBER_FILE.replace("lyon", "paris")), "site"),
        ("readable key", lambda s: os.chmod(s / "keys/snapshot-signing.key", 0o644), "chmod 600"),
        ("missing badge key", lambda s: s.joinpath("keys/badge.key").unlink(), "badge.key: cannot read"),
    ],
)
def test_push_refuses_what_staff_must_fix(
    staff: Path, mosquitto: Mosquitto, case: str, change: Callable[[Path], object], message: str
) -> None:
    change(staff)
    result = push(staff)
    assert result.returncode == 2 and message in result.stderr
    assert retained_snapshot(mosquitto.port) is None


def test_push_to_an_unreachable_broker_exits_1_and_records_nothing(staff: Path) -> None:
    write_config(staff, free_port())
    result = push(staff, "--timeout", "2")
    assert result.returncode == 1 and "cannot connect to the broker" in result.stderr
    assert not (staff / "members.yaml.pushed.json").exists()


def test_a_push_the_broker_refuses_exits_1_and_records_nothing(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path / "broker")
    passwords, acl = tmp_path / "broker" / "passwd", tmp_path / "broker" / "acl"
    passwords.write_text("")
    subprocess.run(["mosquitto_passwd", "-b", str(passwords), "staff", "secret"], check=True)
    acl.write_text("user staff\ntopic read edge/lyon/#\ntopic write edge/lyon/door/+/command\n")
    broker.extra = f"allow_anonymous false\npassword_file {passwords}\nacl_file {acl}"
    broker.start()
    try:
        (tmp_path / "members.yaml").write_text(MEMBER_FILE)
        generate_site_keys(tmp_path / "keys")
        (tmp_path / "pw").write_text("secret\n")
        write_config(tmp_path, broker.port, f"  username: staff\n  password_file: {tmp_path / 'pw'}\n")
        result = push(tmp_path)
    finally:
        broker.kill()
    assert result.returncode == 1
    assert "refused the message on edge/lyon/members: Not authorized" in result.stderr
    assert not (tmp_path / "members.yaml.pushed.json").exists()


def test_a_snapshot_larger_than_the_broker_accepts_is_refused_with_the_reason(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path / "broker", extra="max_packet_size 512")  # announced to MQTT 5 clients at CONNACK
    broker.start()
    try:
        (tmp_path / "members.yaml").write_text(MEMBER_FILE)
        generate_site_keys(tmp_path / "keys")
        write_config(tmp_path, broker.port)
        result = push(tmp_path, "--timeout", "5")
    finally:
        broker.kill()
    assert result.returncode == 1
    assert f"accepts at most {largest_payload(TOPICS.members(), 512):,} there" in result.stderr
    assert not (tmp_path / "members.yaml.pushed.json").exists()


# --- status -----------------------------------------------------------------------------------------------


def status(folder: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run `edge members status`."""
    return run_edge("members", "status", "-c", str(folder / "staff.yaml"), *extra)


def test_status_shows_each_doors_version_and_marks_the_doors_behind(staff: Path, mosquitto: Mosquitto) -> None:
    old = pushed_version(push(staff))
    new = pushed_version(push(staff))
    publish(mosquitto.port, TOPICS.door_state("front"), door_state("front", new, "pi-front"), retain=True)
    publish(mosquitto.port, TOPICS.door_state("back"), door_state("back", old, "pi-back"), retain=True)
    publish(mosquitto.port, TOPICS.door_state("garage"), door_state("garage", None, "pi-garage"), retain=True)
    offline = NodeStatus(state="offline", version="0.1.0", counters={"snapshot_refused.unknown_key": 2})
    envelope = Envelope(id="s", ts=dt.datetime.now(dt.UTC), node="pi-back", seq=0)
    publish(mosquitto.port, TOPICS.node_status("pi-back"), encode(Event(envelope, offline)), retain=True)

    result = status(staff, "--json", "--members", str(staff / "members.yaml"))
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    doors = {d["door"]: d for d in report["doors"]}
    assert report["pushed"]["version"] == new and report["all_current"] is False
    assert (doors["front"]["status"], doors["front"]["members_version"]) == ("current", new)
    assert (doors["back"]["status"], doors["back"]["node_state"]) == ("behind", "offline")
    assert doors["garage"]["status"] == "behind" and doors["garage"]["members_version"] is None
    assert doors["back"]["lag_s"] >= 0 and doors["front"]["lag_s"] >= 0

    text = status(staff)
    back = next(line for line in text.stdout.splitlines() if line.startswith("back "))
    assert back.split()[-1] == "BEHIND" and "pi-back (offline)" in back
    assert "2 of 3 doors behind: back, garage" in text.stdout
    assert "door back: node pi-back has refused snapshots since it started: unknown_key (2)" in text.stdout


def test_status_waits_for_the_doors_to_catch_up(staff: Path, mosquitto: Mosquitto, tmp_path: Path) -> None:
    version = pushed_version(push(staff))
    publish(mosquitto.port, TOPICS.door_state("front"), door_state("front", version, "pi-front"), retain=True)
    publish(mosquitto.port, TOPICS.door_state("back"), door_state("back", version - 1, "pi-back"), retain=True)
    command = ("members", "status", "-c", str(staff / "staff.yaml"), "--wait", "60")
    with EdgeProcess(*command, log=tmp_path / "status.log") as watcher:
        # Whether the watcher sees the old state first or only the new one, it must end once both are current.
        publish(mosquitto.port, TOPICS.door_state("back"), door_state("back", version, "pi-back"), retain=True)
        assert watcher.wait(60) == 0, watcher.tail()
    assert "all 2 doors applied the last pushed snapshot" in watcher.output()


def test_status_without_any_push_says_so(staff: Path) -> None:
    result = status(staff)
    assert result.returncode == 1
    assert "the broker holds no member snapshot" in result.stdout
    assert "no door has reported its state" in result.stdout


# --- command ----------------------------------------------------------------------------------------------


def command(folder: Path, action: str, door: str = "front", *extra: str) -> subprocess.CompletedProcess[str]:
    """Run `edge members command`."""
    return run_edge(
        "members", "command", action, "--door", door, "-c", str(folder / "staff.yaml"),
        "--signing-key", str(folder / "keys/command-signing.key"), *extra,
    )  # fmt: skip


@pytest.mark.parametrize("action", ["unlock_once", "lockdown", "normal", "unlocked"])
def test_a_command_is_published_not_retained_and_signed_for_that_door(
    staff: Path, mosquitto: Mosquitto, action: str
) -> None:
    publish(mosquitto.port, TOPICS.door_state("front"), door_state("front", 1, "pi-front"), retain=True)
    recorder = Recorder(mosquitto.port, TOPICS.door_command("front"))
    try:
        result = command(staff, action)
        (message,) = recorder.wait_count(1)
    finally:
        recorder.close()
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr
    assert message.retain is False
    trusted = load_trusted_keys([staff / "keys/command-signing.pub"])
    now = dt.datetime.now(dt.UTC)
    check = {"retained": False, "trusted": trusted, "site": "lyon", "now": now, "max_skew_s": 30.0}
    verified = verify_command(message.payload, door="front", guard=ReplayGuard(), **check)
    assert verified.action == action
    with pytest.raises(PayloadError) as other_door:
        verify_command(message.payload, door="back", guard=ReplayGuard(), **check)
    assert other_door.value.reason == "wrong_door"
    assert retained_snapshot(mosquitto.port) is None  # nothing else was published retained


def test_a_command_to_a_door_never_seen_warns(staff: Path) -> None:
    result = command(staff, "lockdown", "frnt")
    assert result.returncode == 0
    assert "door frnt has never reported its state on this broker" in result.stderr


@pytest.mark.parametrize(
    ("door", "extra", "message"),
    [("Front Door", (), "--door: 'Front Door' is not a door name"), ("front", ("--valid-for", "900"), "1-300")],
)
def test_a_bad_command_exits_2(staff: Path, door: str, extra: tuple[str, ...], message: str) -> None:
    result = command(staff, "unlock_once", door, *extra)
    assert result.returncode == 2 and message in result.stderr
