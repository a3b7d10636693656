"""Bad input on every topic `edge door` subscribes to (P/members, P/door/{door}/command): oversized, non-JSON,
wrong-type, unknown-version and binary payloads are refused and counted, the relay never moves, and the daemon
keeps deciding and obeying afterwards."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.contract import Kind, Reason
from edge.hardware.sim.serial_devices import Rdm6300Sim
from tests.door_site import Site
from tests.door_support import PREFIX, RESIDENT, UNKNOWN, events, last_status, signed_command, signed_snapshot
from tests.fault_support import bad_payloads
from tests.rig.mqtt import Recorder, publish
from tests.rig.servers import Mosquitto
from tests.rig.waiting import wait_until

# Long fault runs (every kind of bad payload against a running door): CI runs them, `-m "not slow"` does not.
pytestmark = pytest.mark.slow


@pytest.fixture
def site(tmp_path: Path, mosquitto: Mosquitto, reader: Rdm6300Sim) -> Iterator[Site]:
    site = Site(tmp_path, mosquitto, reader)
    yield site
    site.close()


@pytest.fixture
def recorder(mosquitto: Mosquitto) -> Iterator[Recorder]:
    recorder = Recorder(mosquitto.port, f"{PREFIX}/#")
    yield recorder
    recorder.close()


def refused(recorder: Recorder, prefix: str) -> int:
    """The sum of the last node status' counters starting with `prefix`."""
    status = last_status(recorder)
    return sum(v for k, v in status["counters"].items() if k.startswith(prefix)) if status else 0


def wait_refused(recorder: Recorder, prefix: str, at_least: int) -> bool:
    """Wait until the counters starting with `prefix` add up to `at_least`."""
    return recorder.wait_for(lambda ms: refused(recorder, prefix) >= at_least, 20)


def relay_history_locked(site: Site, seconds: float) -> bool:
    """The relay reads locked at every look during `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not site.relay_locked():
            return False
        time.sleep(0.05)
    return True


def test_bad_payloads_on_members_and_command_topics_are_counted_and_the_door_keeps_working(
    site: Site, recorder: Recorder, mosquitto: Mosquitto
) -> None:
    version = site.push()
    site.start_door()
    assert recorder.wait_for(lambda ms: any(s.members_version == version for s in events(recorder, Kind.DOOR_STATE)))
    now = dt.datetime.now(dt.UTC)
    members_bad = bad_payloads(signed_snapshot(site.folder, version + 1))
    command_bad = bad_payloads(signed_command(site.folder, "unlock_once", now=now))
    # One at a time: the door verifies only the latest pending snapshot, so a burst would be coalesced.
    for topic, bad in ((f"{PREFIX}/members", members_bad), (f"{PREFIX}/door/front/command", command_bad)):
        prefix = "snapshot_refused." if topic.endswith("members") else "command_refused."
        for name, payload in bad.items():
            publish(mosquitto.port, topic, payload)
            target = refused(recorder, prefix) + 1
            counted = wait_refused(recorder, prefix, target)
            assert counted, (topic, name, last_status(recorder))
    assert relay_history_locked(site, 1.0)
    assert site.daemon.alive()
    counters = last_status(recorder)["counters"]  # type: ignore[index]
    assert counters["members_version"] == version  # nothing bad replaced the applied snapshot
    assert counters.get("snapshot_errors", 0) == 0  # refused by the rules, not by a crash in the applier
    # Still deciding, still taking a good snapshot and a good command.
    site.reader.send_card(UNKNOWN)
    time.sleep(0.3)
    site.reader.send_card(RESIDENT)
    wait_until(lambda: not site.relay_locked(), what="the relay to unlock for a member after the garbage")
    wait_until(site.relay_locked, what="the relay to lock again")
    newer = site.push()
    assert recorder.wait_for(lambda ms: any(s.members_version == newer for s in events(recorder, Kind.DOOR_STATE)))
    assert site.command("unlock_once").returncode == 0
    wait_until(lambda: not site.relay_locked(), what="the relay to unlock for a good command after the garbage")
    accesses = events(recorder, Kind.DOOR_ACCESS)
    assert [a.reason for a in accesses] == [Reason.UNKNOWN_BADGE, Reason.GRANTED]
    assert site.stop_door() == 0
    log = site.log.read_text()
    assert "Traceback" not in log
