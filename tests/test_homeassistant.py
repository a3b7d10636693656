"""Home Assistant discovery: payloads as Home Assistant's MQTT discovery documents them, templates rendered against
real contract payloads, and retained configs delivered by a real broker."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
from hypothesis import given
from hypothesis import strategies as st

from edge import __version__
from edge.bus import Bus
from edge.config import parse_config
from edge.contract import (
    Alarm,
    Body,
    DeskOccupancy,
    DeskState,
    DoorAlarm,
    DoorMode,
    DoorState,
    Envelope,
    Event,
    NodeStatus,
    Topics,
    ZoneOccupancy,
    encode,
)
from edge.contract.homeassistant import Announcement, Discovery
from tests.rig.mqtt import Recorder
from tests.rig.servers import Mosquitto

DISCOVERY = Discovery(Topics(site="lyon"), "pi-desks")
# Home Assistant's own entity id check (homeassistant.core.valid_entity_id): a domain and an object id of a-z, 0-9
# and underscores, no leading, trailing or double underscore.
VALID_ENTITY_ID = re.compile(r"^(?!.+__)(?!_)[\da-z_]+(?<!_)\.(?!_)[\da-z_]+(?<!_)$")
names = st.from_regex(r"^[a-z0-9][a-z0-9_-]{0,47}$", fullmatch=True)  # edge's Name
TEMPLATES = jinja2.Environment(undefined=jinja2.StrictUndefined)
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def everything(
    discovery: Discovery = DISCOVERY, desk: str = "d-01", zone: str = "z", door: str = "front"
) -> list[Announcement]:
    return [discovery.node_entity(), discovery.desk(desk, zone), *discovery.zone(zone), *discovery.door(door)]


def config(announcement: Announcement) -> dict[str, Any]:
    return json.loads(announcement.payload)  # type: ignore[no-any-return]


def render(template: str, body: Body) -> str:
    """A template rendered as Home Assistant does for a message: `value_json` is the decoded payload."""
    payload = encode(Event(Envelope(id="e1", ts=NOW, node="pi-desks", seq=1), body))
    return TEMPLATES.from_string(template).render(value_json=json.loads(payload)).strip()


def test_every_entity_names_its_default_entity_id_and_no_longer_sends_object_id() -> None:
    for announcement in everything():
        payload = config(announcement)
        component = announcement.topic.split("/")[1]
        assert "object_id" not in payload  # deprecated in 2025.10, ignored from 2026.4
        assert VALID_ENTITY_ID.match(payload["default_entity_id"]), payload["default_entity_id"]
        assert payload["default_entity_id"].split(".")[0] == component


def test_the_default_entity_id_is_the_one_object_id_gave_so_existing_entities_keep_their_ids() -> None:
    desk = config(DISCOVERY.desk("d-01", "open-space"))
    assert desk["unique_id"] == "edge_lyon_pi_desks_desk_d_01"
    assert desk["default_entity_id"] == "binary_sensor.edge_lyon_pi_desks_desk_d_01"


@given(site=names, node=names, desk=names, zone=names, door=names)
def test_any_valid_names_give_valid_and_distinct_entity_ids(
    site: str, node: str, desk: str, zone: str, door: str
) -> None:
    announcements = everything(Discovery(Topics(site=site), node), desk, zone, door)
    ids = [config(a)["default_entity_id"] for a in announcements]
    assert all(VALID_ENTITY_ID.match(i) for i in ids), ids
    assert len(set(ids)) == len(ids)
    assert len({config(a)["unique_id"] for a in announcements}) == len(announcements)
    for announcement in announcements:  # discovery topic levels: only [a-zA-Z0-9_-]
        assert all(re.fullmatch(r"[a-zA-Z0-9_-]+", level) for level in announcement.topic.split("/")[1:])


def test_every_entity_belongs_to_the_node_as_a_named_device_and_says_edge_sent_it() -> None:
    devices = [config(a)["device"] for a in everything()]
    assert all(d == devices[0] for d in devices)
    assert devices[0]["identifiers"] == ["edge_lyon_pi_desks"]
    assert devices[0]["name"] == "edge lyon pi-desks"  # Home Assistant wants a device name
    assert devices[0]["sw_version"] == __version__
    assert all(config(a)["origin"] == {"name": "edge", "sw_version": __version__} for a in everything())


def test_every_entity_but_the_nodes_connectivity_is_unavailable_while_the_node_is_offline() -> None:
    node_status = "edge/lyon/node/pi-desks/status"
    for announcement in everything()[1:]:
        payload = config(announcement)
        assert payload["availability_mode"] == "all"
        first = payload["availability"][0]
        assert first["topic"] == node_status
        assert render(first["value_template"], NodeStatus(state="online", version="1")) == first["payload_available"]
        offline = NodeStatus(state="offline", version="1")
        assert render(first["value_template"], offline) == first["payload_not_available"]


def test_the_node_is_a_diagnostic_connectivity_sensor_that_shows_off_while_offline() -> None:
    payload = config(DISCOVERY.node_entity())
    assert (payload["device_class"], payload["entity_category"]) == ("connectivity", "diagnostic")
    assert "availability" not in payload  # unavailable would hide the very thing it reports
    template = payload["value_template"]
    assert render(template, NodeStatus(state="online", version="1")) == "ON"
    assert render(template, NodeStatus(state="offline", version="1")) == "OFF"


def test_a_desk_is_an_occupancy_sensor_on_its_contract_topic_and_unknown_is_unavailable_not_free() -> None:
    payload = config(DISCOVERY.desk("d-01", "open-space"))
    assert (payload["device_class"], payload["state_topic"]) == ("occupancy", "edge/lyon/desk/d-01/occupancy")
    desk_availability = payload["availability"][1]
    assert desk_availability["topic"] == payload["state_topic"]
    verdicts = {}
    for state in DeskState:
        body = DeskOccupancy(desk="d-01", zone="open-space", state=state, since=NOW)
        verdicts[state] = (render(payload["value_template"], body), render(desk_availability["value_template"], body))
    assert verdicts == {
        DeskState.OCCUPIED: ("ON", "online"),
        DeskState.VACANT: ("OFF", "online"),
        DeskState.UNKNOWN: ("OFF", "offline"),  # unavailable: never shown as free
    }
    body = DeskOccupancy(desk="d-01", zone="open-space", state=DeskState.VACANT, since=NOW)
    attributes = json.loads(render(payload["json_attributes_template"], body))
    assert attributes == {"zone": "open-space", "since": "2026-11-26T09:00:00.000Z"}


def test_a_zone_is_three_counts_of_desks() -> None:
    body = ZoneOccupancy(zone="z", occupied=3, vacant=2, unknown=1, total=6)
    got = {}
    for announcement in DISCOVERY.zone("z"):
        payload = config(announcement)
        assert (payload["unit_of_measurement"], payload["state_class"]) == ("desks", "measurement")
        assert payload["state_topic"] == "edge/lyon/zone/z/occupancy"
        got[payload["name"]] = render(payload["value_template"], body)
    assert got == {"Zone z occupied": "3", "Zone z vacant": "2", "Zone z unknown": "1"}


def door_state(*, locked: bool, open: bool | None) -> DoorState:
    return DoorState(door="front", locked=locked, open=open, mode=DoorMode.NORMAL, members_version=3)


def test_a_door_shows_its_lock_and_contact_as_home_assistant_reads_them() -> None:
    by_class = {config(a)["device_class"]: config(a) for a in DISCOVERY.door("front")[:2]}
    lock, contact = by_class["lock"], by_class["door"]
    assert lock["state_topic"] == contact["state_topic"] == "edge/lyon/door/front/state"
    # device class lock: on means unlocked; door: on means open; no reading leaves the state as it was
    assert render(lock["value_template"], door_state(locked=True, open=False)) == "OFF"
    assert render(lock["value_template"], door_state(locked=False, open=False)) == "ON"
    assert render(contact["value_template"], door_state(locked=True, open=True)) == "ON"
    assert render(contact["value_template"], door_state(locked=True, open=False)) == "OFF"
    assert render(contact["value_template"], door_state(locked=True, open=None)) == ""


def test_each_problem_sensor_follows_its_own_alarm_and_ignores_the_others() -> None:
    problems = {config(a)["name"]: config(a) for a in DISCOVERY.door("front") if config(a)["device_class"] == "problem"}
    assert set(problems) == {
        "Door front held open",
        "Door front forced open",
        "Door front lock fault",
        "Door front reader fault",
    }
    held = problems["Door front held open"]
    assert held["state_topic"] == "edge/lyon/door/front/alarm"
    assert render(held["value_template"], DoorAlarm(door="front", alarm=Alarm.HELD_OPEN, active=True)) == "ON"
    assert render(held["value_template"], DoorAlarm(door="front", alarm=Alarm.HELD_OPEN, active=False)) == "OFF"
    assert render(held["value_template"], DoorAlarm(door="front", alarm=Alarm.LOCK_FAULT, active=True)) == ""


def test_a_door_announces_only_what_its_hardware_can_report() -> None:
    bare = [config(a)["name"] for a in DISCOVERY.door("front", contact=False, lock_sensor=False, readers=False)]
    assert bare == ["Door front lock"]  # no open/closed, held/forced open, lock or reader fault that never comes
    contact_only = [config(a)["name"] for a in DISCOVERY.door("front", lock_sensor=False, readers=False)]
    assert contact_only == ["Door front lock", "Door front open", "Door front held open", "Door front forced open"]


def test_discovery_topics_are_unique_and_well_formed() -> None:
    topics = [a.topic for a in everything()]
    assert len(set(topics)) == len(topics)
    for topic in topics:
        parts = topic.split("/")
        assert parts[0] == "homeassistant" and parts[-1] == "config" and len(parts) == 5
        assert parts[1] in {"binary_sensor", "sensor"}
        assert parts[2] == "edge_lyon_pi_desks"  # the node's own level: what the broker's ACL lets it write


def test_announcements_are_retained_and_republished_after_a_broker_restart(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    config = parse_config(
        f"site: lyon\nnode: pi-desks\nstate_dir: {tmp_path}\nmqtt:\n  host: 127.0.0.1\n  port: {mosquitto.port}\n"
        "  reconnect_min_s: 0.2\n  reconnect_max_s: 1\n"
    )
    bus = Bus(config, "presence")
    announcement = DISCOVERY.desk("d-01", "open-space")
    bus.announce([(announcement.topic, announcement.payload)])
    watcher = Recorder(mosquitto.port, "homeassistant/#")  # sees the announcement published, live
    bus.start()
    assert bus.wait_connected(10)
    assert watcher.wait_for(lambda ms: any(m.topic == announcement.topic for m in ms))
    watcher.close()
    first = Recorder(mosquitto.port, "homeassistant/#")  # a newcomer gets it from the broker's retained store
    assert first.wait_for(lambda ms: any(m.retain and m.topic == announcement.topic for m in ms))
    first.close()
    mosquitto.kill()  # a crash loses retained messages that were not saved yet; the bus announces again
    (mosquitto.workdir / "mosquitto.db").unlink(missing_ok=True)
    mosquitto.start()
    second = Recorder(mosquitto.port, "homeassistant/#")
    assert second.wait_for(lambda ms: any(m.topic == announcement.topic for m in ms), timeout=20)
    second.close()
    bus.stop()
