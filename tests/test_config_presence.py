"""The presence section: valid configs load, bad ones are refused with the key path of each problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.config import parse_config
from edge.config.desks import Ld2410SensorConfig, PirSensorConfig, SeatSensorConfig
from edge.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "nodes" / "desks-open-space.yaml"

BASE = """
site: s
node: n
presence:
  zones:
    - name: east
  desks:
{desks}
"""

ONE_DESK = """
    - name: d1
      zone: east
      sensors:
        - {type: seat, pin: 17}
"""


def _parse(desks: str = ONE_DESK, extra: str = ""):
    return parse_config(BASE.format(desks=desks.strip("\n")) + extra, check_secrets=False)


def _issues(desks: str, extra: str = "") -> list[str]:
    with pytest.raises(ConfigError) as caught:
        _parse(desks, extra)
    return caught.value.issues


def test_the_example_config_is_valid():
    config = parse_config(EXAMPLE.read_text(), check_secrets=False)
    assert config.presence is not None
    assert len(config.presence.desks) == 7


def test_presence_is_optional():
    assert parse_config("site: s\nnode: n\n").presence is None


def test_defaults():
    presence = _parse().presence
    assert presence is not None
    assert (presence.heartbeat_s, presence.home_assistant, presence.discovery_prefix) == (60.0, False, "homeassistant")
    (sensor,) = presence.desks[0].sensors
    assert isinstance(sensor, SeatSensorConfig)
    assert (sensor.pull, sensor.active_high, sensor.bounce_s) == ("up", False, 0.05)


def test_sensor_types_are_told_apart_by_type():
    desks = """
    - name: d1
      zone: east
      sensors:
        - {type: pir, pin: 4}
        - {type: seat, pin: 5}
        - {type: ld2410, port: /dev/ttyAMA0}
"""
    presence = _parse(desks).presence
    assert presence is not None
    kinds = [type(s) for s in presence.desks[0].sensors]
    assert kinds == [PirSensorConfig, SeatSensorConfig, Ld2410SensorConfig]
    radar = presence.desks[0].sensors[2]
    assert isinstance(radar, Ld2410SensorConfig)
    assert (radar.baudrate, radar.max_distance_cm, radar.min_energy) == (256_000, 150, 10)


@pytest.mark.parametrize(
    ("pull", "active", "expected"),
    [("up", None, False), ("down", None, True), ("up", "high", True), ("none", "low", False)],
)
def test_seat_active_level(pull, active, expected):
    sensor = SeatSensorConfig(type="seat", pin=4, pull=pull, active=active)
    assert sensor.active_high is expected


def test_sensor_names_default_to_the_type_numbered_when_repeated():
    desks = """
    - name: d1
      zone: east
      sensors:
        - {type: seat, pin: 4}
        - {type: seat, pin: 5, name: footrest}
        - {type: pir, pin: 6}
        - {type: seat, pin: 7}
"""
    presence = _parse(desks).presence
    assert presence is not None
    assert presence.desks[0].sensor_names() == ["seat-1", "footrest", "pir", "seat-3"]


BAD = {
    "a desk in an undefined zone": (
        ONE_DESK.replace("zone: east", "zone: west"),
        "presence.desks[0].zone: zone west is not defined (zones: east)",
    ),
    "two desks with one name": (
        ONE_DESK + ONE_DESK.replace("pin: 17", "pin: 18"),
        "presence.desks[1].name: desk d1 is defined twice",
    ),
    "two sensors of a desk with one name": (
        ONE_DESK + "        - {type: pir, pin: 18, name: seat}\n",
        "presence.desks[0].sensors[1].name: desk d1 already has a sensor named seat",
    ),
    "a pin used by two desks": (
        ONE_DESK + ONE_DESK.replace("d1", "d2"),
        "presence.desks[1].sensors[0].pin: GPIO 17 is already used by presence.desks[0].sensors[0].pin",
    ),
    "a serial port used by two radars": (
        """
    - name: d1
      zone: east
      sensors:
        - {type: ld2410, port: /dev/ttyAMA0}
        - {type: ld2410, port: /dev/ttyAMA0, name: other}
""",
        "presence.desks[0].sensors[1].port: serial device /dev/ttyAMA0 is already used by "
        "presence.desks[0].sensors[0].port",
    ),
    "an unknown sensor type": (
        ONE_DESK.replace("type: seat", "type: sonar"),
        "presence.desks[0].sensors[0].type: unknown type 'sonar'",
    ),
    "a sensor without its pin": (ONE_DESK.replace(", pin: 17", ""), "presence.desks[0].sensors[0].pin: required"),
    "a pin that does not exist": (ONE_DESK.replace("pin: 17", "pin: 40"), "presence.desks[0].sensors[0].pin: GPIO 40"),
    "a radar on something that is not a serial port": (
        ONE_DESK.replace("{type: seat, pin: 17}", "{type: ld2410, port: ttyAMA0}"),
        "presence.desks[0].sensors[0].port: must be an absolute device path",
    ),
    "a baud rate the radar does not speak": (
        ONE_DESK.replace("{type: seat, pin: 17}", "{type: ld2410, port: /dev/ttyS0, baudrate: 9601}"),
        "presence.desks[0].sensors[0].baudrate: the LD2410 supports",
    ),
    "a floating seat input without its active level": (
        ONE_DESK.replace("pin: 17", "pin: 17, pull: none"),
        "presence.desks[0].sensors[0]: with pull: none",
    ),
    "a desk without sensors": (
        ONE_DESK.replace("        - {type: seat, pin: 17}\n", "").replace("sensors:", "sensors: []"),
        "presence.desks[0].sensors: a desk needs at least one sensor",
    ),
    "an unknown key in a sensor": (
        ONE_DESK.replace("pin: 17", "pin: 17, debounce: 3"),
        "presence.desks[0].sensors[0].debounce: unknown key",
    ),
    "a negative hysteresis": (
        ONE_DESK + "      hysteresis:\n        seat: {release_s: -1}\n",
        "presence.desks[0].hysteresis.seat.release_s: ",
    ),
    "a hysteresis for an unknown kind": (
        ONE_DESK + "      hysteresis:\n        sonar: {release_s: 1}\n",
        "presence.desks[0].hysteresis.sonar: unknown key",
    ),
    "a PIR on a pin with a fixed pull-up": (
        ONE_DESK.replace("{type: seat, pin: 17}", "{type: pir, pin: 3}"),
        "presence.desks[0].sensors[0].pin: GPIO 3 has a fixed pull-up",
    ),
    "a pulled-down switch on a pin with a fixed pull-up": (
        ONE_DESK.replace("pin: 17", "pin: 2, pull: down"),
        "presence.desks[0].sensors[0].pull: GPIO 2 has a fixed pull-up",
    ),
    "a radar distance beyond its 9 gates": (
        ONE_DESK.replace("{type: seat, pin: 17}", "{type: ld2410, port: /dev/ttyS0, max_distance_cm: 900}"),
        "presence.desks[0].sensors[0].max_distance_cm: ",
    ),
}


@pytest.mark.parametrize(("desks", "expected"), BAD.values(), ids=BAD.keys())
def test_bad_config_names_the_key_path(desks, expected):
    (issue,) = _issues(desks)
    assert issue.startswith(expected)


def test_home_assistant_discovery_takes_a_prefix():
    text = BASE.format(desks=ONE_DESK.strip("\n")).replace(
        "presence:\n", "presence:\n  home_assistant: true\n  discovery_prefix: ha-lyon\n"
    )
    presence = parse_config(text, check_secrets=False).presence
    assert presence is not None
    assert (presence.home_assistant, presence.discovery_prefix) == (True, "ha-lyon")


def test_a_discovery_prefix_that_is_not_one_topic_level_is_refused():
    text = BASE.format(desks=ONE_DESK.strip("\n")).replace("presence:\n", "presence:\n  discovery_prefix: ha/#\n")
    with pytest.raises(ConfigError) as caught:
        parse_config(text, check_secrets=False)
    assert [i.split(":")[0] for i in caught.value.issues] == ["presence.discovery_prefix"]


def test_zero_zones_is_refused():
    with pytest.raises(ConfigError) as caught:
        parse_config("site: s\nnode: n\npresence:\n  zones: []\n  desks: []\n", check_secrets=False)
    assert [i.split(" (")[0] for i in caught.value.issues] == [
        "presence.zones: define at least one zone",
        "presence.desks: define at least one desk",
    ]


def test_a_zone_defined_twice_is_refused():
    text = BASE.format(desks=ONE_DESK.strip("\n")).replace("    - name: east\n", "    - name: east\n    - name: east\n")
    with pytest.raises(ConfigError) as caught:
        parse_config(text, check_secrets=False)
    assert any(i.startswith("presence.zones[1].name: zone east is defined twice") for i in caught.value.issues)


def test_issues_carry_the_line_number():
    (issue,) = _issues(ONE_DESK.replace("zone: east", "zone: west"))
    assert issue.endswith("line 9)")
