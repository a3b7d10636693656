"""Home Assistant MQTT discovery: what a space that runs Home Assistant sees without writing YAML.

Discovery configs are retained on `{discovery_prefix}/{component}/{node_id}/{object}/config`, `node_id` being
`edge_{site}_{node}` (the broker's ACL lets each node write under its own). Every payload carries a `unique_id`,
a `default_entity_id` (`<domain>.<slug>`: `object_id` was deprecated in Home Assistant 2025.10 and is no longer
honoured from 2026.4), the node as its `device` and edge as its `origin`. Every entity but the node's own
connectivity sensor is unavailable while its node is offline; desks are also unavailable while their state is
`unknown`, so Home Assistant never shows an unknown desk as free. A door announces only what its hardware can
report: no open/closed sensor and no held-open or forced-open alarm without a contact, no lock fault without a
lock sensor, no reader fault without a reader.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from edge import __version__
from edge.contract.payloads import Alarm
from edge.contract.topics import Topics

_NOT_SLUG = re.compile(r"[^a-z0-9]+")
# What each alarm needs to ever be raised: a contact for held/forced open, a lock sensor, a reader.
_ALARM_NEEDS = {
    Alarm.HELD_OPEN: "contact",
    Alarm.FORCED_OPEN: "contact",
    Alarm.LOCK_FAULT: "lock_sensor",
    Alarm.READER_FAULT: "readers",
}


def slug(text: str) -> str:
    """Text as Home Assistant accepts it in an entity id: a-z and 0-9 runs joined by single underscores."""
    return _NOT_SLUG.sub("_", text.lower()).strip("_")


@dataclass(frozen=True)
class Announcement:
    """One retained discovery message."""

    topic: str
    payload: bytes


class Discovery:
    """Builds discovery messages for one node's desks, zones and doors."""

    def __init__(self, topics: Topics, node: str, prefix: str = "homeassistant") -> None:
        self.topics = topics
        self.node_name = node
        self.prefix = prefix
        self._uid = f"edge_{topics.site}_{node}".replace("-", "_")

    def _device(self) -> dict[str, Any]:
        return {
            "identifiers": [self._uid],
            "name": f"edge {self.topics.site} {self.node_name}",
            "manufacturer": "edge",
            "model": "Raspberry Pi node",
            "sw_version": __version__,
        }

    def _node_availability(self) -> dict[str, Any]:
        return {
            "topic": self.topics.node_status(self.node_name),
            "value_template": "{{ value_json.state }}",
            "payload_available": "online",
            "payload_not_available": "offline",
        }

    def _message(
        self, component: str, object_id: str, config: dict[str, Any], *, follows_node: bool = True
    ) -> Announcement:
        unique = f"{self._uid}_{object_id}".replace("-", "_")
        body: dict[str, Any] = {
            "unique_id": unique,
            "default_entity_id": f"{component}.{slug(unique)}",
            "device": self._device(),
            "origin": {"name": "edge", "sw_version": __version__},
        }
        availability = [self._node_availability()] if follows_node else []
        availability += config.pop("availability", [])
        if availability:
            body["availability"] = availability
            body["availability_mode"] = "all"
        body.update(config)
        topic = f"{self.prefix}/{component}/{self._uid}/{object_id.replace('-', '_')}/config"
        return Announcement(topic, json.dumps(body, separators=(",", ":")).encode())

    def node_entity(self) -> Announcement:
        """The node's connectivity: on while online, off when its status (or its last will) says offline."""
        status = self.topics.node_status(self.node_name)
        return self._message(
            "binary_sensor",
            "online",
            {
                "name": "Online",
                "device_class": "connectivity",
                "entity_category": "diagnostic",
                "state_topic": status,
                "value_template": "{{ 'ON' if value_json.state == 'online' else 'OFF' }}",
                "json_attributes_topic": status,
            },
            follows_node=False,  # unavailable while offline would hide exactly what this entity is for
        )

    def desk(self, desk: str, zone: str) -> Announcement:
        """A desk as an occupancy binary sensor; unavailable while unknown."""
        topic = self.topics.desk_occupancy(desk)
        return self._message(
            "binary_sensor",
            f"desk_{desk}",
            {
                "name": f"Desk {desk}",
                "device_class": "occupancy",
                "state_topic": topic,
                "value_template": "{{ 'ON' if value_json.state == 'occupied' else 'OFF' }}",
                "availability": [
                    {
                        "topic": topic,
                        "value_template": "{{ 'offline' if value_json.state == 'unknown' else 'online' }}",
                        "payload_available": "online",
                        "payload_not_available": "offline",
                    }
                ],
                "json_attributes_topic": topic,
                "json_attributes_template": "{{ {'zone': value_json.zone, 'since': value_json.since} | tojson }}",
            },
        )

    def zone(self, zone: str) -> list[Announcement]:
        """A zone as sensors: occupied, vacant and unknown desk counts."""
        topic = self.topics.zone_occupancy(zone)
        return [
            self._message(
                "sensor",
                f"zone_{zone}_{field}",
                {
                    "name": f"Zone {zone} {field}",
                    "state_topic": topic,
                    "value_template": f"{{{{ value_json.{field} }}}}",
                    "unit_of_measurement": "desks",
                    "state_class": "measurement",
                },
            )
            for field in ("occupied", "vacant", "unknown")
        ]

    def door(
        self, door: str, *, contact: bool = True, lock_sensor: bool = True, readers: bool = True
    ) -> list[Announcement]:
        """A door: lock state, open/closed (with a contact), and a problem sensor per alarm its hardware can raise."""
        state = self.topics.door_state(door)
        alarm = self.topics.door_alarm(door)
        out = [
            self._message(
                "binary_sensor",
                f"door_{door}_lock",
                {
                    "name": f"Door {door} lock",
                    "device_class": "lock",  # on = unlocked
                    "state_topic": state,
                    "value_template": "{{ 'OFF' if value_json.locked else 'ON' }}",
                    "json_attributes_topic": state,
                },
            )
        ]
        if contact:
            out.append(
                self._message(
                    "binary_sensor",
                    f"door_{door}_open",
                    {
                        "name": f"Door {door} open",
                        "device_class": "door",
                        "state_topic": state,
                        "value_template": "{% if value_json.open is not none %}"
                        "{{ 'ON' if value_json.open else 'OFF' }}{% endif %}",
                    },
                )
            )
        hardware = {"contact": contact, "lock_sensor": lock_sensor, "readers": readers}
        for kind in Alarm:
            if not hardware[_ALARM_NEEDS[kind]]:
                continue
            out.append(
                self._message(
                    "binary_sensor",
                    f"door_{door}_{kind.value}",
                    {
                        "name": f"Door {door} {kind.value.replace('_', ' ')}",
                        "device_class": "problem",
                        "state_topic": alarm,
                        # Empty output for other alarms: Home Assistant ignores it and keeps the state.
                        "value_template": f"{{% if value_json.alarm == '{kind.value}' %}}"
                        "{{ 'ON' if value_json.active else 'OFF' }}{% endif %}",
                    },
                )
            )
        return out
