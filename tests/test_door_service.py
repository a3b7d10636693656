"""`DoorService` in-process: MockFactory pins for the door and a Wiegand reader, a real Mosquitto, signed snapshots.

The daemon runs on a `ScaledClock` (door timings pass 20 times faster); the readers run on real time, as in
production. Nothing here asserts how long anything takes: only what the relay, the events and the counters show.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from gpiozero import OutputDevice
from gpiozero.pins.mock import MockFactory

from edge.access.rules import Direction
from edge.clock import ManualClock, ScaledClock
from edge.config import load_config
from edge.contract import Alarm, DoorMode, DoorState, Kind, Reason, decode
from edge.daemons.launch import Launch
from edge.daemons.runtime import run_service
from edge.door.service import DoorService
from edge.door.sim import SimulatedDoor
from tests.door_service import FULL_DOOR, LOCK_SENSOR, SPEED, START, WIEGAND, Door, FailingPin
from tests.door_support import (
    EXPIRED,
    MEMBER_FILE,
    NEVER,
    RESIDENT,
    STAFF,
    SUSPENDED,
    UNKNOWN,
    WIEGAND_RESIDENT,
    WIEGAND_UNKNOWN,
    counter,
    door_config,
    events,
    make_site,
    signed_command,
    signed_snapshot,
    wait_counter,
    wait_events,
)
from tests.presence_support import retained_now
from tests.rig.mqtt import Recorder, first_deliveries, publish
from tests.rig.servers import Mosquitto
from tests.rig.waiting import wait_until


@pytest.fixture
def recorder(mosquitto: Mosquitto) -> Iterator[Recorder]:
    recorder = Recorder(mosquitto.port, "edge/lyon/#")
    yield recorder
    recorder.close()


@pytest.fixture
def door(tmp_path: Path, mosquitto: Mosquitto, request: pytest.FixtureRequest) -> Iterator[Door]:
    options = getattr(request, "param", {})
    door = Door(tmp_path, mosquitto.port, **options)
    try:
        door.start()
        yield door
    finally:
        door.close()


def runs(values: list[bool]) -> list[bool]:
    """Consecutive repeats collapsed: the sequence of distinct relay states."""
    return [v for i, v in enumerate(values) if i == 0 or values[i - 1] != v]


# -- grants and the relay ----------------------------------------------------------------------------------


def test_a_grant_unlocks_the_relay_for_unlock_s_then_locks_it(door: Door, recorder: Recorder) -> None:
    assert door.sim.relay_locked
    door.badge(WIEGAND_RESIDENT)
    wait_until(lambda: runs(door.history()) == [True, False, True], what="unlock then relock")
    wait_events(recorder, Kind.DOOR_ACCESS, 1)
    (access,) = events(recorder, Kind.DOOR_ACCESS)
    assert (access.granted, access.reason, access.member, access.reader) == (True, Reason.GRANTED, "M-1", "outside")
    assert access.latency_ms > 0
    # The pin itself (active-low board, fail-safe lock on NC: locked is HIGH): unclaimed low, then claimed
    # straight into locked, unlocked for the grant, locked again.
    door.factory.pin(5).assert_states([False, True, False, True])


def test_an_unknown_card_is_denied_and_never_moves_the_relay(door: Door, recorder: Recorder) -> None:
    door.badge(WIEGAND_UNKNOWN)
    wait_events(recorder, Kind.DOOR_ACCESS, 1)
    (access,) = events(recorder, Kind.DOOR_ACCESS)
    assert (access.granted, access.reason, access.member) == (False, Reason.UNKNOWN_BADGE, None)
    assert runs(door.history()) == [True]
    assert wait_counter(recorder, "access.denied.unknown_badge")


@pytest.mark.parametrize("door", [{"unlock_s": 60}], indirect=True)
def test_the_door_closing_after_opening_relocks_early(door: Door, recorder: Recorder) -> None:
    door.badge(WIEGAND_RESIDENT)
    wait_until(lambda: not door.sim.relay_locked, what="unlock")
    door.sim.open_door()
    door.handled()
    assert not door.sim.relay_locked  # still within the 60 s window
    door.sim.close_door()
    door.handled()
    assert door.sim.relay_locked  # at once, not 60 s later
    assert runs(door.history()) == [True, False, True]
    states = events(recorder, Kind.DOOR_STATE)
    recorder.wait_for(lambda ms: any(s.open for s in events(recorder, Kind.DOOR_STATE)))
    assert all(s.mode == DoorMode.NORMAL for s in states)


def test_a_door_held_open_raises_held_open_and_closing_clears_it(door: Door, recorder: Recorder) -> None:
    door.badge(WIEGAND_RESIDENT)
    wait_until(lambda: not door.sim.relay_locked, what="unlock")
    door.sim.open_door()
    assert recorder.wait_for(lambda ms: any(a.alarm == Alarm.HELD_OPEN for a in events(recorder, Kind.DOOR_ALARM)))
    door.sim.close_door()
    assert wait_events(recorder, Kind.DOOR_ALARM, 2)
    assert [(a.alarm, a.active) for a in events(recorder, Kind.DOOR_ALARM)] == [
        (Alarm.HELD_OPEN, True),
        (Alarm.HELD_OPEN, False),
    ]
    assert door.sim.relay_locked


def test_opening_without_a_grant_raises_forced_open_until_closed(door: Door, recorder: Recorder) -> None:
    door.sim.open_door()
    assert wait_events(recorder, Kind.DOOR_ALARM, 1)
    door.sim.close_door()
    assert wait_events(recorder, Kind.DOOR_ALARM, 2)
    assert [(a.alarm, a.active) for a in events(recorder, Kind.DOOR_ALARM)] == [
        (Alarm.FORCED_OPEN, True),
        (Alarm.FORCED_OPEN, False),
    ]
    assert runs(door.history()) == [True]
    assert wait_counter(recorder, "door.front.forced_open")


@pytest.mark.parametrize("door", [{"unlock_s": 60}], indirect=True)
def test_the_exit_button_unlocks_and_excuses_the_opening(door: Door, recorder: Recorder) -> None:
    door.sim.set_exit_button(True)
    door.handled()
    assert not door.sim.relay_locked
    door.sim.set_exit_button(False)
    door.sim.open_door()
    door.sim.close_door()
    door.handled()
    assert door.sim.relay_locked
    assert wait_counter(recorder, "door.front.opened_exit_request")
    assert events(recorder, Kind.DOOR_ALARM) == []
    assert counter(recorder, "door.front.forced_open") == 0


@pytest.mark.parametrize("door", [{"door": FULL_DOOR.format(unlock_s=3) + LOCK_SENSOR}], indirect=True)
def test_a_lock_sensor_disagreeing_beyond_its_grace_raises_lock_fault(door: Door, recorder: Recorder) -> None:
    door.sim.set_lock_sensor(False)  # the magnet lost its bond while the relay says locked
    assert wait_events(recorder, Kind.DOOR_ALARM, 1)
    door.sim.set_lock_sensor(True)
    assert wait_events(recorder, Kind.DOOR_ALARM, 2)
    assert [(a.alarm, a.active) for a in events(recorder, Kind.DOOR_ALARM)] == [
        (Alarm.LOCK_FAULT, True),
        (Alarm.LOCK_FAULT, False),
    ]


@pytest.mark.parametrize("door", [{"unlock_s": 20}], indirect=True)
def test_a_grant_the_member_never_used_is_counted(door: Door, recorder: Recorder) -> None:
    door.badge(WIEGAND_RESIDENT)
    # Failed once beside two CPU hogs (issue 12): the wait says what the relay and the door did if it fails again.
    wait_until(
        lambda: runs(door.history()) == [True, False, True],
        what="unlock then relock",
        info=lambda: f"relay levels {door.history()}, decisions {events(recorder, Kind.DOOR_ACCESS)}",
    )
    assert wait_counter(recorder, "door.front.granted_not_opened")
    door.badge(WIEGAND_RESIDENT)  # this time the member goes through
    wait_until(lambda: not door.sim.relay_locked, what="unlock")
    door.sim.open_door()
    door.sim.close_door()
    assert wait_counter(recorder, "access.granted", 2)
    assert counter(recorder, "door.front.granted_not_opened") == 1


# -- stopping, failures ------------------------------------------------------------------------------------


@pytest.mark.parametrize("door", [{"unlock_s": 60}], indirect=True)
def test_stopping_during_an_unlock_locks_the_relay(door: Door) -> None:
    door.badge(WIEGAND_RESIDENT)
    wait_until(lambda: not door.sim.relay_locked, what="unlock")
    door.service.stop()
    assert door.history()[-1] is True
    door.badge(WIEGAND_RESIDENT)  # a late card: the relay is released and stays locked
    time.sleep(0.1)
    assert door.history()[-1] is True


def test_sigterm_during_an_unlock_locks_the_relay(tmp_path: Path, mosquitto: Mosquitto) -> None:
    door = Door(tmp_path, mosquitto.port, unlock_s=60)
    unlocked = threading.Event()

    def badge_then_terminate() -> None:
        try:
            wait_until(lambda: door.service.readers and door.service.readers[0].running, what="reader started")
            door.badge(WIEGAND_RESIDENT)
            wait_until(lambda: not door.sim.relay_locked, what="unlock")
            unlocked.set()
        finally:
            os.kill(os.getpid(), signal.SIGTERM)  # handled by run_service: this test process is not terminated

    worker = threading.Thread(target=badge_then_terminate, daemon=True)
    worker.start()
    try:
        assert run_service("edge door", door.service, tick=0.05) == 0
        worker.join(10)
        assert unlocked.is_set()
        assert runs(door.history()) == [True, False, True]
        assert door.factory.pin(5).function == "input"  # locked, then released
    finally:
        door.close()


def test_a_relay_write_that_fails_leaves_the_door_locked_and_running(tmp_path: Path, mosquitto: Mosquitto) -> None:
    recorder = Recorder(mosquitto.port, "edge/lyon/#")
    door = Door(tmp_path, mosquitto.port, pin_class=FailingPin, unlock_s=60)
    try:
        door.start()
        FailingPin.fail_next_write = True  # the unlock write fails
        door.badge(WIEGAND_RESIDENT)
        assert wait_counter(recorder, "door.front.relay_errors")
        assert door.sim.relay_locked
        assert door.service.alive()
        door.badge(WIEGAND_RESIDENT)  # the next grant works again
        wait_until(lambda: not door.sim.relay_locked, what="unlock after the failure")
        assert wait_events(recorder, Kind.DOOR_ACCESS, 2)
        first, second = events(recorder, Kind.DOOR_ACCESS)[:2]
        # The member did not get in the first time: the event says so rather than "granted".
        assert (first.granted, first.reason, first.member) == (False, Reason.DOOR_FAULT, "M-1")
        assert (second.granted, second.reason) == (True, Reason.GRANTED)
        assert door.service.counters.get("access.denied.door_fault") == 1
    finally:
        FailingPin.fail_next_write = False
        door.close()
        recorder.close()


def test_a_failure_while_starting_leaves_the_doors_already_claimed_locked(tmp_path: Path, mosquitto: Mosquitto) -> None:
    make_site(tmp_path)
    path = door_config(tmp_path, mosquitto.port)
    path.write_text(path.read_text() + "  - name: back\n    relay: {pin: 6, lock_type: fail_secure}\n")
    config = load_config(path)
    factory = MockFactory()
    squatter = OutputDevice(6, pin_factory=factory)  # the back door's relay pin is taken: claiming it fails
    service = DoorService(Launch(config, ScaledClock(START, SPEED), pin_factory=factory))
    try:
        with pytest.raises(Exception, match="GPIO6"):
            service.start()
        assert SimulatedDoor(config.doors[0], factory).relay_history()[-1] is True
        assert factory.pin(5).function == "input"  # locked, then released
    finally:
        squatter.close()
        service.stop()
        factory.close()


# -- readers -----------------------------------------------------------------------------------------------


def test_a_reader_that_fails_raises_reader_fault_and_clears_it_when_back(tmp_path: Path, mosquitto: Mosquitto) -> None:
    from edge.hardware.sim.serial_devices import Rdm6300Sim

    recorder = Recorder(mosquitto.port, "edge/lyon/#")
    reader = Rdm6300Sim()
    readers = WIEGAND + f"      - reader: {{name: inside, type: rdm6300, port: {reader.path}, reopen_max_s: 0.5}}\n"
    door = Door(tmp_path, mosquitto.port, readers=readers)
    try:
        door.start()
        reader.unplug()
        assert wait_events(recorder, Kind.DOOR_ALARM, 1)
        assert wait_counter(recorder, "reader.inside.down")
        reader.replug()
        assert wait_events(recorder, Kind.DOOR_ALARM, 2)
        assert [(a.alarm, a.active) for a in events(recorder, Kind.DOOR_ALARM)] == [
            (Alarm.READER_FAULT, True),
            (Alarm.READER_FAULT, False),
        ]
        door.badge(WIEGAND_RESIDENT)  # the other reader worked throughout
        assert wait_events(recorder, Kind.DOOR_ACCESS, 1)
    finally:
        door.close()
        reader.close()
        recorder.close()


# -- rules, snapshots, commands, modes ---------------------------------------------------------------------


@pytest.mark.parametrize("door", [{"readers": ""}], indirect=True)
def test_every_decision_reason_reaches_the_access_topic_and_the_counters(door: Door, recorder: Recorder) -> None:
    cards = {RESIDENT: "granted", NEVER: "outside_schedule", SUSPENDED: "suspended", EXPIRED: "expired"}
    cards |= {UNKNOWN: "unknown_badge", STAFF: "granted"}
    for card in cards:
        door.present(card)
    assert wait_events(recorder, Kind.DOOR_ACCESS, len(cards))
    assert [a.reason for a in events(recorder, Kind.DOOR_ACCESS)] == list(cards.values())
    assert wait_counter(recorder, "access.granted", 2)
    for reason in ("outside_schedule", "suspended", "expired", "unknown_badge"):
        assert counter(recorder, f"access.denied.{reason}") == 1


@pytest.mark.parametrize("door", [{"snapshot_version": None}], indirect=True)
def test_a_snapshot_on_the_broker_is_applied_and_reported_in_the_state(
    door: Door, recorder: Recorder, mosquitto: Mosquitto
) -> None:
    door.badge(WIEGAND_RESIDENT)
    assert wait_events(recorder, Kind.DOOR_ACCESS, 1)
    publish(mosquitto.port, "edge/lyon/members", signed_snapshot(door.folder, 7), retain=True)
    assert recorder.wait_for(lambda ms: any(s.members_version == 7 for s in events(recorder, Kind.DOOR_STATE)))
    door.badge(WIEGAND_RESIDENT)
    assert wait_events(recorder, Kind.DOOR_ACCESS, 2)
    assert [a.reason for a in events(recorder, Kind.DOOR_ACCESS)] == [Reason.UNKNOWN_BADGE, Reason.GRANTED]
    state = next(s for s in events(recorder, Kind.DOOR_STATE) if s.members_version == 7)
    assert state.members_applied_at is not None
    assert (door.config.state_dir / "members.snapshot").exists()


def test_older_forged_foreign_and_wrongly_signed_snapshots_are_refused_and_counted(
    door: Door, recorder: Recorder, mosquitto: Mosquitto
) -> None:
    publish(mosquitto.port, "edge/lyon/members", signed_snapshot(door.folder, 5), retain=True)
    assert recorder.wait_for(lambda ms: any(s.members_version == 5 for s in events(recorder, Kind.DOOR_STATE)))
    # Only the latest pending snapshot is verified: wait for each verdict before sending the next.
    publish(mosquitto.port, "edge/lyon/members", signed_snapshot(door.folder, 3), retain=True)  # a rollback
    assert wait_counter(recorder, "snapshot_refused.not_newer")
    forged = signed_snapshot(door.folder, 9).replace(b'"suspended":true', b'"suspended":false')
    publish(mosquitto.port, "edge/lyon/members", forged, retain=True)
    assert wait_counter(recorder, "snapshot_refused.forged")
    other_site = (door.folder / "members.yaml").read_text().replace("site: lyon", "site: paris")
    publish(mosquitto.port, "edge/lyon/members", signed_snapshot(door.folder, 11, other_site), retain=True)
    assert wait_counter(recorder, "snapshot_refused.wrong_site")
    by_command_key = signed_snapshot(door.folder, 12, key="command")
    publish(mosquitto.port, "edge/lyon/members", by_command_key, retain=True)
    assert wait_counter(recorder, "snapshot_refused.unknown_key")
    assert counter(recorder, "members_version") == 5


def test_lockdown_relocks_admits_only_staff_and_survives_a_restart(
    tmp_path: Path, mosquitto: Mosquitto, recorder: Recorder
) -> None:
    door = Door(tmp_path, mosquitto.port, readers="")
    try:
        door.start()
        raw = signed_command(tmp_path, "lockdown", now=door.clock.now())
        assert door.service.commands.on_command("front", raw, retained=False) == "lockdown"
        assert door.service.loop.mode("front") == DoorMode.LOCKDOWN
    finally:
        door.close()
    door = Door(tmp_path, mosquitto.port, readers="", snapshot_version=None)  # same state folder: restarted
    try:
        door.start()
        assert door.service.loop.mode("front") == DoorMode.LOCKDOWN
        assert (door.present(RESIDENT).reason, door.present(STAFF).reason) == (Reason.LOCKDOWN, Reason.GRANTED)
    finally:
        door.close()


def test_commands_are_refused_while_the_clock_is_untrusted(tmp_path: Path, mosquitto: Mosquitto) -> None:
    synced = [False]
    access = "  snapshot_keys: [keys/snapshot-signing.pub]\n  command_keys: [keys/command-signing.pub]\n"
    door = Door(tmp_path, mosquitto.port, readers="", clock_sync=lambda: synced[0], access=access)
    try:
        door.start()
        assert door.service.commands.on_command("front", signed_command(tmp_path, "unlock_once", now=door.clock.now()),
                                       retained=False) is None  # fmt: skip
        assert door.service.counters.get("command_refused.clock_untrusted") == 1
        synced[0] = True
        door.service.refresh()  # reads the clock's trust at once
        assert door.service.commands.on_command("front", signed_command(tmp_path, "unlock_once", now=door.clock.now()),
                                       retained=False) == "unlock_once"  # fmt: skip
        assert not door.sim.relay_locked
    finally:
        door.close()


def test_without_command_keys_every_command_is_refused(tmp_path: Path, mosquitto: Mosquitto) -> None:
    access = "  snapshot_keys: [keys/snapshot-signing.pub]\n  clock_trust: rtc\n"
    door = Door(tmp_path, mosquitto.port, readers="", access=access)
    try:
        door.start()
        raw = signed_command(tmp_path, "unlock_once", now=door.clock.now())
        assert door.service.commands.on_command("front", raw, retained=False) is None
        assert door.service.counters.get("command_refused.disabled") == 1
        assert door.sim.relay_locked
    finally:
        door.close()


def test_a_snapshot_key_does_not_sign_commands(door: Door) -> None:
    raw = signed_command(door.folder, "unlock_once", now=door.clock.now(), key="snapshot")
    assert door.service.commands.on_command("front", raw, retained=False) is None
    assert door.service.counters.get("command_refused.unknown_key") == 1
    assert door.sim.relay_locked


@pytest.mark.parametrize(
    ("issued_s", "obeyed"),
    [(29, True), (31, False), (-59, True), (-61, False)],  # valid_for_s 30 + the default skew of 30 s
)
def test_the_door_applies_its_configured_command_skew_30_s_by_default(door: Door, issued_s: int, obeyed: bool) -> None:
    assert door.service.access.command_max_skew_s == 30
    # The door's clock stands still while the command is judged, an hour after the start: the replay guard of a door
    # started without one refuses commands issued before its start.
    now = START + dt.timedelta(hours=1)
    door.service.commands.clock = ManualClock(now)
    raw = signed_command(door.folder, "normal", now=now + dt.timedelta(seconds=issued_s))
    assert (door.service.commands.on_command("front", raw, retained=False) is not None) is obeyed
    assert door.service.counters.get("command_refused.stale") == (0 if obeyed else 1)


UNLOCKED_SCHEDULE = '    unlocked_schedule:\n      - {days: [thu], start: "08:00", end: "12:00"}\n'


@pytest.mark.parametrize("door", [{"door": UNLOCKED_SCHEDULE, "readers": ""}], indirect=True)
def test_the_unlocked_schedule_unlocks_and_is_suspended_on_a_closed_day(door: Door, recorder: Recorder) -> None:
    assert not door.sim.relay_locked  # Thursday 10:00 in Paris: reception hours
    closed = door.clock.now().astimezone(door.config.tz).date().isoformat()
    members = (
        (door.folder / "members.yaml")
        .read_text()
        .replace("members:", f"closures:\n  - {{name: Strike, date: {closed}, open_to: [staff]}}\nmembers:")
    )
    door.service.snapshots.apply(signed_snapshot(door.folder, 2, members))
    assert door.sim.relay_locked
    assert door.service.loop.mode("front") == DoorMode.NORMAL


def test_losing_clock_trust_ends_the_unlocked_schedule(tmp_path: Path, mosquitto: Mosquitto) -> None:
    synced = [True]
    access = "  snapshot_keys: [keys/snapshot-signing.pub]\n  clock_trust: ntp\n"
    door = Door(
        tmp_path, mosquitto.port, door=UNLOCKED_SCHEDULE, readers="", access=access, clock_sync=lambda: synced[0]
    )
    try:
        door.start()
        assert not door.sim.relay_locked
        synced[0] = False  # e.g. NTP lost for hours: the kernel marks the clock unsynchronised
        door.service.refresh()
        wait_until(lambda: door.sim.relay_locked, what="the schedule to end")
        synced[0] = True
        door.service.refresh()
        wait_until(lambda: not door.sim.relay_locked, what="the schedule to hold the door unlocked again")
    finally:
        door.close()


def test_after_a_burst_of_inputs_from_several_threads_the_retained_state_is_the_door_as_it_is(
    door: Door, recorder: Recorder, mosquitto: Mosquitto
) -> None:
    # Badges from one thread, the contact from another (MockFactory calls back on the thread that drives the pin):
    # every input makes a door state; the last one stored must be the last one that happened.
    def badges() -> None:
        for _ in range(15):
            door.present(RESIDENT)

    presenter = threading.Thread(target=badges)
    presenter.start()
    for _ in range(15):
        door.sim.open_door()
        door.sim.close_door()
    door.sim.open_door()
    presenter.join(30)
    wait_until(lambda: door.sim.relay_locked, what="the last unlock window to end")
    assert door.service.writer.wait_idle(10) and door.service.bus.wait_drained(10)
    (retained,) = retained_now(mosquitto.port, "edge/lyon/door/front/state", expect=1)
    state = decode(Kind.DOOR_STATE, retained.payload).body
    assert isinstance(state, DoorState) and (state.open, state.locked) == (True, True)
    stored = [decode(Kind.DOOR_STATE, m.payload) for m in first_deliveries(list(recorder.messages))
              if m.topic.endswith("/state")]  # fmt: skip
    assert [e.envelope.seq for e in stored] == sorted(e.envelope.seq for e in stored)
    assert stored[-1].body == state


def test_stopping_with_the_door_unlocked_and_open_leaves_a_retained_state_that_says_locked(
    door: Door, mosquitto: Mosquitto
) -> None:
    door.badge(WIEGAND_RESIDENT)
    wait_until(lambda: not door.sim.relay_locked, what="unlock")
    door.sim.open_door()
    door.handled()
    door.service.stop()
    (retained,) = retained_now(mosquitto.port, "edge/lyon/door/front/state", expect=1)
    state = decode(Kind.DOOR_STATE, retained.payload).body
    assert isinstance(state, DoorState) and (state.locked, state.open) == (True, True)


PASSBACK_READERS = (
    "      - {direction: in, reader: {name: outside, type: wiegand, d0_pin: 20, d1_pin: 21}}\n"
    "      - {direction: out, reader: {name: exit, type: wiegand, d0_pin: 12, d1_pin: 13}}\n"
)


@pytest.mark.parametrize(
    "door", [{"readers": PASSBACK_READERS, "door": FULL_DOOR.format(unlock_s=3) + "    anti_passback: true\n"}],
    indirect=True,
)  # fmt: skip
def test_anti_passback_refuses_a_second_entry_until_the_member_badges_out(door: Door) -> None:
    reasons = [
        door.present(RESIDENT, reader, direction).reason
        for reader, direction in (
            ("outside", Direction.IN),
            ("outside", Direction.IN),  # the badge handed back through the door
            ("exit", Direction.OUT),
            ("outside", Direction.IN),
        )
    ]
    assert reasons == [Reason.GRANTED, Reason.PASSBACK, Reason.GRANTED, Reason.GRANTED]


# -- Home Assistant ----------------------------------------------------------------------------------------


def test_home_assistant_discovery_announces_the_node_and_the_door_retained(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    access = (
        "  snapshot_keys: [keys/snapshot-signing.pub]\n  clock_trust: rtc\n"
        "  home_assistant: true\n  discovery_prefix: ha\n"
    )
    # a contact, a lock sensor and a reader: every alarm can be raised
    door = Door(tmp_path, mosquitto.port, door=FULL_DOOR.format(unlock_s=3) + LOCK_SENSOR, access=access)
    expected = 1 + 2 + len(Alarm)  # node, lock, open/closed, one problem sensor per alarm
    try:
        door.start()
        retained = retained_now(mosquitto.port, "ha/#", expect=expected)
    finally:
        door.close()
    configs = {m.topic: json.loads(m.payload) for m in retained}
    assert len(configs) == expected
    assert all(topic.startswith("ha/") and topic.endswith("/config") for topic in configs)
    lock = next(c for c in configs.values() if c.get("device_class") == "lock")
    assert lock["state_topic"] == door.service.bus.topics.door_state("front")
    problems = [c for c in configs.values() if c.get("device_class") == "problem"]
    assert {c["state_topic"] for c in problems} == {door.service.bus.topics.door_alarm("front")}


def test_home_assistant_discovery_is_off_by_default_on_a_door(tmp_path: Path, mosquitto: Mosquitto) -> None:
    door = Door(tmp_path, mosquitto.port, readers="")
    try:
        door.start()
        door.service.bus.wait_connected(10)
        # what it would announce, were it on: without a lock sensor or a reader, no alarm that could never come
        names = [json.loads(payload)["name"] for _, payload in door.service.discovery()]
        assert names == [
            "Online",
            "Door front lock",
            "Door front open",
            "Door front held open",
            "Door front forced open",
        ]
        assert retained_now(mosquitto.port, "homeassistant/#", expect=1, timeout=1) == []
    finally:
        door.close()


# -- state kept across restarts --------------------------------------------------------------------------------

SEATS_FILE = (
    MEMBER_FILE.replace("members:\n", "accounts:\n  ACME: {seats: 1}\nmembers:\n").replace(
        "plan: resident, badges", "plan: resident, account: ACME, badges", 1
    )
    + '  - {id: M-9, name: Eve Acme, plan: resident, account: ACME, badges: ["9900AABBCC"]}\n'
)


def test_a_restart_in_the_day_does_not_give_an_account_its_seats_back(tmp_path: Path, mosquitto: Mosquitto) -> None:
    def badge(door: Door, uid: str) -> Reason:
        return door.present(uid).reason

    first = Door(tmp_path, mosquitto.port, readers="")
    try:
        first.start()
        assert first.service.snapshots.apply(signed_snapshot(tmp_path, 2, SEATS_FILE))
        assert badge(first, RESIDENT) == Reason.GRANTED  # M-1 takes ACME's only seat today
    finally:
        first.close()
    second = Door(tmp_path, mosquitto.port, readers="", snapshot_version=None)  # restarted: same state folder
    try:
        second.start()
        assert second.service.snapshots.members.version == 2
        assert badge(second, "9900AABBCC") == Reason.SEAT_LIMIT  # Eve: the seat is still taken
        assert badge(second, RESIDENT) == Reason.GRANTED  # Ann comes and goes freely
    finally:
        second.close()
