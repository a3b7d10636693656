"""`edge door` end to end, as staff and members use it: the real CLI as subprocesses (`edge members keygen/push/
status/command`, `edge door --simulate`), a pty RDM6300 reader, the relay seen through the pin bridge, a real
Mosquitto that is stopped and restarted, and a door process that is killed with SIGKILL."""

from __future__ import annotations

import datetime as dt
import json
import signal
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from edge.contract import Kind, Reason
from edge.hardware.sim.serial_devices import Rdm6300Sim
from tests.door_site import Site
from tests.door_support import (
    EXPIRED,
    NEVER,
    PREFIX,
    RESIDENT,
    SUSPENDED,
    UNKNOWN,
    WIEGAND_RESIDENT,
    counter,
    door_config,
    envelopes,
    events,
    signed_command,
    wait_counter,
    wait_events,
)
from tests.rig.fixtures import run_edge
from tests.rig.mqtt import Recorder, publish
from tests.rig.servers import Mosquitto
from tests.rig.waiting import wait_until


@pytest.fixture
def site(tmp_path: Path, mosquitto: Mosquitto, reader: Rdm6300Sim) -> Iterator[Site]:
    site = Site(tmp_path, mosquitto, reader)
    yield site
    site.close()


@pytest.fixture
def recorder(mosquitto: Mosquitto) -> Iterator[Recorder]:
    # A persistent session: what the door publishes while the recorder is cut off is queued for it.
    recorder = Recorder(mosquitto.port, f"{PREFIX}/#", client_id="door-test-recorder", clean=False)
    yield recorder
    recorder.close()


def applied(recorder: Recorder, version: int) -> bool:
    return recorder.wait_for(lambda ms: any(s.members_version == version for s in events(recorder, Kind.DOOR_STATE)))


def states_at(recorder: Recorder, version: int) -> int:
    """How many door states reported this member snapshot version."""
    return len([s for s in events(recorder, Kind.DOOR_STATE) if s.members_version == version])


def badge(site: Site, card: str) -> None:
    site.reader.send_card(card)
    time.sleep(0.3)  # the card is taken away: longer than the reader's re-arm time


def wait_access(recorder: Recorder, count: int, timeout: float = 30) -> list[Any]:
    wait_events(recorder, Kind.DOOR_ACCESS, count, timeout)
    return events(recorder, Kind.DOOR_ACCESS)


# -- decisions ------------------------------------------------------------------------------------------------


def test_cards_get_the_rules_reasons_and_a_grant_moves_the_relay(site: Site, recorder: Recorder) -> None:
    version = site.push()
    site.start_door()
    assert applied(recorder, version)
    assert site.relay_locked()
    cards = {UNKNOWN: "unknown_badge", SUSPENDED: "suspended", EXPIRED: "expired", NEVER: "outside_schedule"}
    for card in cards:
        badge(site, card)
    assert site.relay_locked()
    site.reader.send_card(RESIDENT)
    wait_until(lambda: not site.relay_locked(), what="the relay to unlock")
    wait_until(site.relay_locked, what="the relay to lock again after unlock_s")
    site.wiegand(*WIEGAND_RESIDENT)
    wait_until(lambda: not site.relay_locked(), what="the relay to unlock for the Wiegand card")
    accesses = wait_access(recorder, 6)
    assert [a.reason for a in accesses] == [*cards.values(), Reason.GRANTED, Reason.GRANTED]
    assert [a.reader for a in accesses] == ["inside"] * 5 + ["outside"]
    assert [a.member for a in accesses] == [None, "M-3", "M-4", "M-2", "M-1", "M-1"]
    assert all(a.latency_ms > 0 for a in accesses)
    assert wait_counter(recorder, "access.granted", 2)
    for reason in ("unknown_badge", "suspended", "expired", "outside_schedule"):
        assert counter(recorder, f"access.denied.{reason}") == 1
    assert site.stop_door() == 0
    everything = b"".join(m.payload for m in recorder.messages) + site.log.read_bytes()
    for card in (*cards, RESIDENT, "0C0D80"):
        assert card.encode() not in everything and card.lower().encode() not in everything


def test_with_the_broker_down_the_door_keeps_deciding_and_every_event_arrives_after(
    site: Site, recorder: Recorder, mosquitto: Mosquitto
) -> None:
    version = site.push()
    site.start_door()
    assert applied(recorder, version)
    mosquitto.stop()
    cards = [UNKNOWN, RESIDENT, SUSPENDED, UNKNOWN, RESIDENT, EXPIRED]
    unlocks = 0
    for card in cards:
        site.reader.send_card(card)
        if card == RESIDENT:
            wait_until(lambda: not site.relay_locked(), what="the relay to unlock with the broker down")
            wait_until(site.relay_locked, what="the relay to lock again")
            unlocks += 1
        else:
            time.sleep(0.3)
    assert unlocks == 2
    time.sleep(1.0)  # a while longer without the broker
    mosquitto.start()
    accesses = wait_access(recorder, len(cards), timeout=60)
    assert [a.reason for a in accesses] == [
        "unknown_badge",
        "granted",
        "suspended",
        "unknown_badge",
        "granted",
        "expired",
    ]
    seqs = [e.seq for e in envelopes(recorder, "/access")]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(cards)
    assert site.stop_door() == 0


def test_a_pushed_snapshot_revokes_a_badge_and_status_shows_the_version(site: Site, recorder: Recorder) -> None:
    first = site.push()
    site.start_door()
    assert applied(recorder, first)
    badge(site, RESIDENT)
    assert site.members("suspend", "M-1", "--members", str(site.folder / "members.yaml")).returncode == 0
    second = site.push()
    assert applied(recorder, second)
    late = Recorder(site.broker.port, f"{PREFIX}/door/front/state")  # what a dashboard connecting now sees
    try:
        assert late.wait_for(lambda ms: bool(ms))
        (retained,) = late.messages
        state = events(late, Kind.DOOR_STATE)[0]
    finally:
        late.close()
    assert retained.retain and state.members_version == second and state.members_applied_at is not None
    time.sleep(0.3)
    badge(site, RESIDENT)
    accesses = wait_access(recorder, 2)
    assert [a.reason for a in accesses] == ["granted", "suspended"]
    status = site.members(
        "status", "-c", str(site.folder / "staff.yaml"), "--members", str(site.folder / "members.yaml"), "--json"
    )
    assert status.returncode == 0, status.stdout + status.stderr
    report = json.loads(status.stdout)
    (door,) = report["doors"]
    assert (door["door"], door["members_version"], door["status"]) == ("front", second, "current")
    assert door["members_applied_at"] is not None
    assert site.stop_door() == 0


@pytest.mark.parametrize("damage", ["deleted", "corrupted"])
def test_losing_the_stored_snapshot_does_not_let_an_older_genuine_one_back(
    site: Site, recorder: Recorder, mosquitto: Mosquitto, damage: str
) -> None:
    state = site.config.parent / "state/door-1"
    first = site.push()
    site.start_door()
    assert applied(recorder, first)
    older = (state / "members.snapshot").read_bytes()  # v1, signed, exactly as the broker retained it
    assert site.members("suspend", "M-1", "--members", str(site.folder / "members.yaml")).returncode == 0
    second = site.push()  # M-1 revoked
    assert applied(recorder, second)
    newer = (state / "members.snapshot").read_bytes()
    assert site.stop_door() == 0
    if damage == "deleted":
        (state / "members.snapshot").unlink()
    else:
        (state / "members.snapshot").write_bytes(b"\x00\x13 worn-out SD card sector")
    # Anyone with publish rights on members puts the old genuine snapshot back as the retained one.
    publish(mosquitto.port, f"{PREFIX}/members", older, retain=True)
    site.start_door()
    assert wait_counter(recorder, "snapshot_refused.not_newer")
    assert counter(recorder, "members_floor") == second
    badge(site, RESIDENT)
    assert [(a.reason, a.granted) for a in wait_access(recorder, 1)] == [("unknown_badge", False)]
    assert site.relay_locked()
    # The genuine current snapshot comes back (a staff push, or the broker's copy restored): the door takes it.
    seen = len([s for s in events(recorder, Kind.DOOR_STATE) if s.members_version == second])
    publish(mosquitto.port, f"{PREFIX}/members", newer, retain=True)
    recorder.wait_for(
        lambda ms: len([s for s in events(recorder, Kind.DOOR_STATE) if s.members_version == second]) > seen
    )
    time.sleep(0.3)  # the card is taken away before it is shown again
    badge(site, RESIDENT)
    assert [a.reason for a in wait_access(recorder, 2)] == ["unknown_badge", "suspended"]
    assert site.relay_locked()
    assert "member snapshot refused: not_newer" in site.log.read_text()
    assert site.stop_door() == 0


# -- commands -------------------------------------------------------------------------------------------------


def test_only_a_valid_signed_command_unlocks_once(site: Site, recorder: Recorder, mosquitto: Mosquitto) -> None:
    site.push()
    site.start_door()
    wait_until(lambda: counter(recorder, "members_version") > 0, what="the snapshot")
    topic = f"{PREFIX}/door/front/command"
    now = dt.datetime.now(dt.UTC)
    tampered = signed_command(site.folder, "unlock_once", now=now)
    tampered = tampered.replace(b"unlock_once", b"unlocked")  # a different action under the same signature
    refusals = {
        "forged": tampered,
        "stale": signed_command(site.folder, "unlock_once", now=now - dt.timedelta(minutes=10)),
        "wrong_door": signed_command(site.folder, "unlock_once", now=now, door="back"),
        "unknown_key": signed_command(site.folder, "unlock_once", now=now, key="snapshot"),
        "not_json": b"open sesame",
    }
    for payload in refusals.values():
        publish(mosquitto.port, topic, payload)
    retained = signed_command(site.folder, "unlock_once", now=now)
    publish(mosquitto.port, topic, retained, retain=True)
    for reason in (*refusals, "retained"):
        assert wait_counter(recorder, f"command_refused.{reason}"), reason
    assert site.relay_locked()

    result = site.command("unlock_once")
    assert result.returncode == 0, result.stderr
    wait_until(lambda: not site.relay_locked(), what="unlock_once to unlock")
    wait_until(site.relay_locked, what="the relay to lock again")
    sent = [m.payload for m in recorder.messages if m.topic == topic and not m.retain and b"unlock_once" in m.payload]
    publish(mosquitto.port, topic, sent[-1])  # the valid command, captured and replayed
    assert wait_counter(recorder, "command_refused.replayed")
    assert counter(recorder, "command_obeyed.unlock_once") == 1
    unlocked_states = [s for s in events(recorder, Kind.DOOR_STATE) if not s.locked]
    assert len(unlocked_states) == 1  # one unlock in all: the valid command
    publish(mosquitto.port, topic, b"", retain=True)  # clear the retained command
    assert site.stop_door() == 0


def test_a_retained_command_does_not_act_when_the_door_restarts(
    site: Site, recorder: Recorder, mosquitto: Mosquitto
) -> None:
    site.start_door()
    publish(mosquitto.port, f"{PREFIX}/door/front/command",
            signed_command(site.folder, "unlock_once", now=dt.datetime.now(dt.UTC)), retain=True)  # fmt: skip
    assert wait_counter(recorder, "command_refused.retained")
    assert site.stop_door() == 0
    site.start_door()  # the broker delivers the retained command again at subscription: refused again
    wait_until(lambda: site.log.read_text().count("command refused (retained)") == 2, what="the second refusal")
    assert site.relay_locked()
    assert counter(recorder, "command_obeyed.unlock_once") == 0
    assert site.stop_door() == 0


# -- restarts, kills ------------------------------------------------------------------------------------------


def test_a_door_restarted_offline_decides_with_its_last_snapshot(
    site: Site, recorder: Recorder, mosquitto: Mosquitto
) -> None:
    version = site.push()
    site.start_door()
    assert applied(recorder, version)
    assert site.stop_door() == 0
    mosquitto.stop()
    site.start_door()
    badge(site, SUSPENDED)
    site.reader.send_card(RESIDENT)
    wait_until(lambda: not site.relay_locked(), what="a member admitted by the stored snapshot")
    mosquitto.start()
    accesses = wait_access(recorder, 2, timeout=60)
    assert [(a.reason, a.member) for a in accesses] == [("suspended", "M-3"), ("granted", "M-1")]
    assert site.stop_door() == 0


def test_sigterm_during_an_unlock_exits_cleanly_and_reports_the_door_locked(site: Site, recorder: Recorder) -> None:
    site.push()
    site.start_door()
    wait_until(lambda: counter(recorder, "members_version") > 0, what="the snapshot")
    site.reader.send_card(RESIDENT)
    wait_until(lambda: not site.relay_locked(), what="unlock")
    assert site.stop_door() == 0
    delivered = recorder.wait_for(lambda ms: events(recorder, Kind.DOOR_STATE)[-1].locked, timeout=10)
    # The grant's own "unlocked" state may be superseded by the final one when SIGTERM races it; its access
    # event never is.
    assert [a.reason for a in wait_access(recorder, 1)] == ["granted"]
    if not delivered:  # a very busy machine: the bus's stop timeout passed; the event waits in the outbox
        with sqlite3.connect(site.config.parent / "state/door-1/outbox-door.sqlite3") as db:
            rows = db.execute("SELECT payload FROM outbox WHERE topic LIKE '%/state' ORDER BY seq").fetchall()
        assert rows and json.loads(rows[-1][0])["locked"] is True
    assert recorder.wait_for(
        lambda ms: (
            json.loads([m for m in ms if m.topic.endswith("/node/door-1/status")][-1].payload)["state"] == "offline"
        )
    )


def test_kill_9_loses_no_stored_event_and_the_door_restarts_locked(
    site: Site, recorder: Recorder, mosquitto: Mosquitto
) -> None:
    version = site.push()
    site.start_door()
    assert applied(recorder, version)
    mosquitto.stop()
    cards = [UNKNOWN, SUSPENDED, EXPIRED, NEVER]
    for card in cards:
        badge(site, card)
    site.reader.send_card(RESIDENT)
    wait_until(lambda: not site.relay_locked(), what="unlock")
    time.sleep(0.2)  # the access event is stored right after the relay moved
    assert site.kill_door() == -signal.SIGKILL
    site.start_door()
    assert site.relay_locked()  # the first level a restarted door drives is the locked one
    mosquitto.start()
    accesses = wait_access(recorder, len(cards) + 1, timeout=60)
    assert [a.reason for a in accesses] == ["unknown_badge", "suspended", "expired", "outside_schedule", "granted"]
    seqs = [e.seq for e in envelopes(recorder, "/access")]
    assert seqs == sorted(seqs)
    assert site.stop_door() == 0


# -- refusing to start ----------------------------------------------------------------------------------------


def test_a_key_that_is_not_a_public_key_exits_2_naming_its_key_path(tmp_path: Path) -> None:
    run_edge("members", "keygen", "--dir", str(tmp_path / "keys"))
    (tmp_path / "keys/snapshot-signing.pub").write_text("not a key\n")
    config = door_config(tmp_path, 1)
    result = run_edge("door", "-c", str(config), "--simulate", str(tmp_path / "sim"))
    assert result.returncode == 2
    assert "access.snapshot_keys[0]: " in result.stderr and "not an Ed25519 PEM public key" in result.stderr


def test_a_config_without_doors_exits_2(tmp_path: Path) -> None:
    (tmp_path / "n.yaml").write_text("site: lyon\nnode: n\n")
    result = run_edge("door", "-c", str(tmp_path / "n.yaml"))
    assert result.returncode == 2 and "no `doors` section" in result.stderr
