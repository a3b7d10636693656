"""No raw badge UID leaves the reader: after a busy run of a door node, a badge desk and `edge collector`, no raw
UID, in any spelling, is in any MQTT payload, log line or file the nodes or the broker stored (outboxes, member
snapshot, command guard, collector store, the broker's persistence file)."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest

from edge.contract import Kind
from edge.hardware.sim.serial_devices import Rdm6300Sim
from tests.collector_support import CollectorProcess, collector_yaml
from tests.door_site import Site
from tests.door_support import EXPIRED, NEVER, RESIDENT, STAFF, SUSPENDED, UNKNOWN, events
from tests.fault_nodes import badge_node, count_kind
from tests.fault_support import soak
from tests.rig.mqtt import Recorder
from tests.rig.process import EdgeProcess
from tests.rig.servers import Mosquitto
from tests.rig.waiting import wait_until

# Long fault runs (a busy run of a door, a badge desk and the collector): CI runs them, `-m "not slow"` does not.
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("no_leftover_collectors")]

STRANGERS = soak(40, 400)


def spellings(uid: str) -> list[bytes]:
    """How a UID could leak: hex either case, bare or with separators, decimal (whole and the low 4 bytes, as
    printed on EM4100 cards), and the raw bytes."""
    pairs = [uid[i : i + 2] for i in range(0, len(uid), 2)]
    forms = {uid.upper(), uid.lower(), str(int(uid, 16)), str(int(uid[2:], 16))}
    for sep in (":", "-", " "):
        forms |= {sep.join(pairs).upper(), sep.join(pairs).lower()}
    assert all(len(f) >= 6 for f in forms), forms  # a short spelling would match by chance
    return [f.encode() for f in forms] + [bytes.fromhex(uid)]


def test_no_raw_uid_in_any_payload_log_or_store_after_a_busy_run(
    tmp_path: Path, mosquitto: Mosquitto, door_reader: Rdm6300Sim, desk_reader: Rdm6300Sim
) -> None:
    site = Site(tmp_path, mosquitto, door_reader)
    collector_config = tmp_path / "collector.yaml"
    collector_config.write_text(collector_yaml(mosquitto.port, tmp_path / "collector", site="lyon"))
    recorder = Recorder(mosquitto.port, "#")  # everything on the broker, not only the site's prefix
    collector = CollectorProcess(collector_config, mosquitto.port, site="lyon").start()
    badge_log = tmp_path / "reception.log"
    badge = EdgeProcess("badge", "-c", str(badge_node(tmp_path, mosquitto.port, desk_reader)), log=badge_log).start()
    # Spread-out tags, so that every spelling (even the decimal of the low 4 bytes) is long enough to mean something.
    strangers = [f"{(0x9E3779B97F * n) % 0xFFFFFFFFFB:010X}" for n in range(1, STRANGERS + 1)]
    cards = [RESIDENT, NEVER, SUSPENDED, EXPIRED, STAFF, UNKNOWN, *strangers]
    try:
        version = site.push()
        site.start_door()
        assert recorder.wait_for(
            lambda ms: any(s.members_version == version for s in events(recorder, Kind.DOOR_STATE))
        )
        assert site.command("unlock_once").returncode == 0  # the command guard is written to the state dir
        for door_card, desk_card in zip(cards, itertools.chain(reversed(cards)), strict=True):
            site.reader.send_card(door_card)
            desk_reader.send_card(desk_card)
            time.sleep(0.25)  # longer than the readers' re-arm
        store = tmp_path / "collector" / "collector.sqlite3"
        wait_until(lambda: count_kind(store, "door-1", "door_access") >= len(cards), 30, "every decision stored")
        wait_until(lambda: count_kind(store, "reception", "badge_scan") >= len(cards), 30, "every scan stored")
        assert site.stop_door() == 0
        assert badge.stop() == 0
        assert collector.stop() == 0
    finally:
        site.close()
        if badge.alive():
            badge.kill9()
    mosquitto.stop()  # its persistence file is written at a clean stop: it is scanned too
    recorder.close()
    scanned = [(f"mqtt {m.topic}", m.payload) for m in recorder.messages]
    for path in tmp_path.rglob("*"):
        staff_side = path.name in ("members.yaml", "members.yaml.pushed.json") or path.parent.name == "keys"
        if path.is_file() and not staff_side and path.suffix != ".yaml":
            scanned.append((str(path), path.read_bytes()))
    assert any(w.endswith("members.snapshot") for w, _ in scanned)
    assert any(w.endswith("mosquitto.db") for w, _ in scanned)
    assert len([w for w, _ in scanned if w.startswith("mqtt ")]) >= 2 * len(cards)
    leaks = [
        (where, card, form) for card in cards for form in spellings(card) for where, data in scanned if form in data
    ]
    assert leaks == []
