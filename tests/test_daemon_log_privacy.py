"""Logs outlive the access records' 3 months (the journal keeps what it is given), so at the default log level the
door and badge daemons log no member id, badge token, name or UID: the door, the reader, the reason and the
counters are what a community manager needs; the pseudonymous id belongs in the access event only."""

from __future__ import annotations

import re
import time
from pathlib import Path

from edge.contract import Kind, badge_token
from edge.hardware.sim.serial_devices import Rdm6300Sim
from edge.staff.keys import load_badge_key
from tests.door_site import Site
from tests.door_support import NEVER, RESIDENT, STAFF, SUSPENDED, UNKNOWN, events
from tests.fault_nodes import badge_node
from tests.rig.mqtt import Recorder
from tests.rig.process import EdgeProcess
from tests.rig.servers import Mosquitto

# Every member of tests.door_support.MEMBER_FILE: ids and names.
MEMBER_IDS = ["M-1", "M-2", "M-3", "M-4", "S-1"]
NAMES = ["Ann Resident", "Ben Never", "Cat Suspended", "Dan Gone", "Front Desk"]
DOOR_CARDS = {RESIDENT: "granted", UNKNOWN: "unknown_badge", SUSPENDED: "suspended", NEVER: "outside_schedule"}
DESK_CARDS = [STAFF, RESIDENT, UNKNOWN]


def identifiers(key: bytes, cards: list[str]) -> list[str]:
    """What must not be in a log: member ids, names, and for each card its UID and its token (whole and the 8
    characters the door used to log)."""
    found = [*MEMBER_IDS, *NAMES]
    for card in cards:
        token = badge_token(key, card)
        found += [card, card.lower(), str(int(card, 16)), token, token[:8]]
    return found


def leaks(text: str, key: bytes, cards: list[str]) -> list[str]:
    return [word for word in identifiers(key, cards) if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text)]


def test_door_and_badge_logs_name_no_member_token_or_uid(
    tmp_path: Path, mosquitto: Mosquitto, reader: Rdm6300Sim, desk_reader: Rdm6300Sim
) -> None:
    site = Site(tmp_path, mosquitto, reader)
    key = load_badge_key(tmp_path / "keys/badge.key")
    recorder = Recorder(mosquitto.port, "edge/lyon/#")
    badge_log = tmp_path / "reception.log"
    badge = EdgeProcess("badge", "-c", str(badge_node(tmp_path, mosquitto.port, desk_reader)), log=badge_log).start()
    try:
        version = site.push()
        site.start_door()
        assert recorder.wait_for(
            lambda ms: any(s.members_version == version for s in events(recorder, Kind.DOOR_STATE))
        )
        for card in DOOR_CARDS:
            site.reader.send_card(card)
            time.sleep(0.3)  # the card is taken away: longer than the reader's re-arm time
        for card in DESK_CARDS:
            desk_reader.send_card(card)
            time.sleep(0.3)
        accesses = recorder.wait_events(len(DOOR_CARDS), topic_part="/access")
        scans = recorder.wait_events(len(DESK_CARDS), topic_part="/badge/")
        assert site.stop_door() == 0
        assert badge.stop() == 0
    finally:
        site.close()
        if badge.alive():
            badge.kill9()
    assert len({m.event_id for m in accesses}) == len(DOOR_CARDS) and len({m.event_id for m in scans}) == 3
    door_log, desk_log = site.log.read_text(), badge_log.read_text()
    assert leaks(door_log, key, list(DOOR_CARDS)) == []
    assert leaks(desk_log, key, DESK_CARDS) == []
    # The events carry the pseudonymous ids; the logs say what happened at which door and reader, and why.
    assert '"member": "M-1"' in b"".join(m.payload for m in accesses).decode().replace('":"', '": "')
    for reason in DOOR_CARDS.values():
        assert f"door front: {'granted' if reason == 'granted' else 'denied'} at reader inside ({reason})" in door_log
    assert desk_log.count("scan at reception") == len(DESK_CARDS)
