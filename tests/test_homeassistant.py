"""Home Assistant discovery: retained configs that point at the contract's topics, delivered by a real broker."""

from __future__ import annotations

import json
from pathlib import Path

from edge.bus import Bus
from edge.config import parse_config
from edge.contract import Topics
from edge.contract.homeassistant import Discovery
from tests.rig.mqtt import Recorder
from tests.rig.servers import Mosquitto

DISCOVERY = Discovery(Topics(site="lyon"), "pi-desks")


def test_a_desk_is_an_occupancy_sensor_on_its_contract_topic() -> None:
    config = json.loads(DISCOVERY.desk("d-01", "open-space").payload)
    assert config["device_class"] == "occupancy"
    assert config["state_topic"] == "edge/lyon/desk/d-01/occupancy"
    assert config["availability_mode"] == "all"


def test_an_unknown_desk_is_unavailable_not_vacant() -> None:
    config = json.loads(DISCOVERY.desk("d-01", "open-space").payload)
    desk_availability = config["availability"][1]
    assert "unknown" in desk_availability["value_template"]
    assert desk_availability["payload_not_available"] == "offline"


def test_every_entity_follows_the_node_availability() -> None:
    announcements = [DISCOVERY.node_entity(), DISCOVERY.desk("d", "z"), *DISCOVERY.zone("z"), *DISCOVERY.door("front")]
    for announcement in announcements:
        config = json.loads(announcement.payload)
        assert config["availability"][0]["topic"] == "edge/lyon/node/pi-desks/status"


def test_discovery_topics_are_unique_and_well_formed() -> None:
    announcements = [DISCOVERY.node_entity(), DISCOVERY.desk("d", "z"), *DISCOVERY.zone("z"), *DISCOVERY.door("front")]
    topics = [a.topic for a in announcements]
    assert len(set(topics)) == len(topics)
    for topic in topics:
        parts = topic.split("/")
        assert parts[0] == "homeassistant" and parts[-1] == "config" and len(parts) == 5
        assert parts[1] in {"binary_sensor", "sensor"}


def test_door_alarm_sensors_exist_for_every_alarm() -> None:
    names = {json.loads(a.payload)["name"] for a in DISCOVERY.door("front")}
    assert {
        "Door front held open",
        "Door front forced open",
        "Door front lock fault",
        "Door front reader fault",
    } <= names


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
