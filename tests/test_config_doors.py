"""The `doors:` config section: defaults, refused values with their key paths, cross-checks."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from edge.config import load_config, parse_config
from edge.config.access import AccessConfig
from edge.config.doors import DoorConfig
from edge.errors import ConfigError
from edge.schedule import NEVER, Window
from tests.rig.fixtures import run_edge

ROOT = Path(__file__).resolve().parents[1]
HEAD = "site: hub\nnode: door-pi\nbadge_key_file: badge.key\naccess:\n  snapshot_keys: [staff.pub]\ndoors:\n"


def doors(yaml_body: str) -> tuple[DoorConfig, ...]:
    return parse_config(HEAD + textwrap.dedent(yaml_body), check_secrets=False).doors


def issues(yaml_body: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        doors(yaml_body)
    return [issue.split(" (<config>")[0] for issue in caught.value.issues]


def test_a_minimal_door_gets_safe_defaults() -> None:
    (door,) = doors(
        """
        - name: front
          relay: {pin: 17, lock_type: fail_secure}
        """
    )
    assert (door.unlock_s, door.held_open_s, door.mode) == (5.0, 30.0, "normal")
    assert door.relay.active_high is False  # most Pi relay boards are active-low
    assert door.relay.wired_to is None
    assert (door.contact, door.rex, door.lock_sensor, door.feedback, door.unlocked_schedule) == (None,) * 4 + (NEVER,)


def test_a_full_door_parses() -> None:
    (door,) = doors(
        """
        - name: front
          relay: {pin: 17, active_high: true, lock_type: fail_safe, wired_to: nc}
          unlock_s: 7
          held_open_s: 20
          contact: {pin: 27, closed_when: high, pull_up: null, debounce_s: 0.02}
          rex: {pin: 22, unlocks: false}
          lock_sensor: {pin: 23, locked_when: high, pull_up: false, grace_s: 1.5}
          feedback: {led: {pin: 5}, buzzer: {pin: 6, active_high: false}}
          mode: lockdown
          unlocked_schedule:
            - {days: [mon, tue, wed, thu, fri], start: 08:30, end: 18:00}
            - {days: [sat], start: "22:00", end: "24:00"}
        """
    )
    assert door.contact is not None and door.contact.closed_when == "high" and door.contact.pull_up is None
    assert door.rex is not None and door.rex.unlocks is False
    assert door.lock_sensor is not None and door.lock_sensor.grace_s == 1.5
    assert door.feedback is not None and door.feedback.buzzer is not None and not door.feedback.buzzer.active_high
    # unquoted 18:00 is a YAML base-60 number; 24:00 is midnight at the end of the day
    assert door.unlocked_schedule.windows == (
        Window(frozenset(range(5)), 510, 1080),
        Window(frozenset({5}), 1320, 1440),
    )


def test_the_unlocked_schedule_takes_the_one_schedule_syntax() -> None:
    (door,) = doors(
        """
        - name: front
          relay: {pin: 17, lock_type: fail_secure}
          unlocked_schedule: ["mon-fri 08:30-12:00,14:00-18:00", "fri-sun 22:00-02:00", "closed 2026-12-25"]
        """
    )
    assert str(door.unlocked_schedule) == "mon-fri 08:30-12:00,14:00-18:00; fri-sun 22:00-02:00; closed 2026-12-25"


REFUSED = [
    ("relay: {pin: 17}", "doors[0].relay.lock_type: required key is missing"),
    ("relay: {pin: 17, lock_type: maglock}", "doors[0].relay.lock_type: Input should be 'fail_safe' or 'fail_secure'"),
    ("relay: {pin: 17, lock_type: fail_safe, wired_to: com}", "doors[0].relay.wired_to: Input should be 'nc' or 'no'"),
    ("relay: {pin: 40, lock_type: fail_safe}", "doors[0].relay.pin: GPIO 40 does not exist"),
    ("relay: {pin: 17, lock_type: fail_safe, polarity: low}", "doors[0].relay.polarity: unknown key"),
    ("unlock_s: 2", "doors[0].unlock_s: Input should be greater than or equal to 3"),
    ("held_open_s: 0", "doors[0].held_open_s: Input should be greater than or equal to 5"),
    ("contact: {pin: 27, closed_when: shut}", "doors[0].contact.closed_when: Input should be 'low' or 'high'"),
    ("contact: {pin: 27, debounce_s: 2}", "doors[0].contact.debounce_s: Input should be less than or equal to 1"),
    ("rex: {pressed_when: low}", "doors[0].rex.pin: required key is missing"),
    ("lock_sensor: {pin: 23, grace_s: 0}", "doors[0].lock_sensor.grace_s: Input should be greater than 0"),
    ("feedback: {}", "doors[0].feedback: give led, buzzer or both"),
    ("mode: open", "doors[0].mode: Input should be 'normal', 'lockdown' or 'unlocked'"),
    ("unlocked_schedule: [{days: [], start: '08:00', end: '18:00'}]", "doors[0].unlocked_schedule[0].days: no day"),
    (
        "unlocked_schedule: [{days: [monday], start: '08:00', end: '18:00'}]",
        'doors[0].unlocked_schedule[0].days: "monday": unknown day "monday" (write it "mon")',
    ),
    (
        "unlocked_schedule: [{days: [mon], start: '25:00', end: '18:00'}]",
        'doors[0].unlocked_schedule[0].start: "25:00": not a time of day',
    ),
    (
        "unlocked_schedule: [{days: [mon], start: 08:00, end: 1500}]",
        "doors[0].unlocked_schedule[0].end: 1500 is not a time of day",
    ),
    (
        "unlocked_schedule: ['mon-fri 08:00-18:00', 'mon-fryday 08:00-18:00']",
        'doors[0].unlocked_schedule[1]: "mon-fryday": unknown day "fryday"; write days as mon, tue, ... or a range',
    ),
    (
        "unlocked_schedule: [{days: [mon, tue], start: '00:00', end: '00:00'}]",
        'doors[0].unlocked_schedule[0]: "00:00-00:00": opens and closes at the same time; write 00:00-24:00',
    ),
]


@pytest.mark.parametrize("line, expected", REFUSED, ids=[expected for _, expected in REFUSED])
def test_a_bad_value_is_refused_with_its_key_path(line: str, expected: str) -> None:
    body = "- name: front\n  relay: {pin: 17, lock_type: fail_secure}\n"
    if line.startswith("relay:"):
        body = "- name: front\n"
    found = issues(body + "  " + line + "\n")
    assert any(issue.startswith(expected) for issue in found), found


def test_door_names_are_unique() -> None:
    found = issues(
        """
        - name: front
          relay: {pin: 17, lock_type: fail_secure}
        - name: back
          relay: {pin: 18, lock_type: fail_secure}
        - name: front
          relay: {pin: 19, lock_type: fail_secure}
        """
    )
    assert found == ["doors[2].name: door 'front' is already defined at doors[0]"]


def test_a_door_name_must_be_topic_safe() -> None:
    found = issues("- name: Front Door\n  relay: {pin: 17, lock_type: fail_secure}\n")
    assert found[0].startswith("doors[0].name: must be 1-48 characters")


@pytest.mark.parametrize(
    "second, where",
    [
        ("contact: {pin: 17}", "doors[0].contact.pin"),
        ("lock_sensor: {pin: 17}", "doors[0].lock_sensor.pin"),
        ("feedback: {buzzer: {pin: 17}}", "doors[0].feedback.buzzer.pin"),
    ],
)
def test_a_pin_used_twice_is_refused_at_its_second_use(second: str, where: str) -> None:
    found = issues(f"- name: front\n  relay: {{pin: 17, lock_type: fail_secure}}\n  {second}\n")
    assert found == [f"{where}: GPIO 17 is already used by doors[0].relay.pin"]


def test_check_config_exits_2_naming_the_door_key(tmp_path: Path) -> None:
    config = tmp_path / "node.yaml"
    config.write_text(HEAD + "  - name: front\n    relay: {pin: 17, lock_type: fail_secure}\n    unlock_s: 1\n")
    result = run_edge("check-config", "--no-secrets", str(config))
    assert result.returncode == 2
    assert "doors[0].unlock_s: Input should be greater than or equal to 3" in result.stderr


def test_check_config_prints_each_door_relay_boot_line(tmp_path: Path) -> None:
    config = tmp_path / "node.yaml"
    config.write_text(
        HEAD
        + "  - name: front\n    relay: {pin: 17, lock_type: fail_secure}\n"
        + "  - name: back\n    relay: {pin: 23, lock_type: fail_safe, wired_to: 'no', active_high: true}\n"
    )
    result = run_edge("check-config", "--no-secrets", "--boot-gpio", str(config))
    assert result.returncode == 0, result.stderr
    settings = [line for line in result.stdout.splitlines() if not line.startswith("#")]
    # strike via NO on an active-low board: coil off = high; maglock via NO on an active-high board: coil on = high
    assert settings == ["gpio=17=op,dh", "gpio=23=op,dh"]


def test_check_config_prints_no_boot_line_for_an_invalid_file(tmp_path: Path) -> None:
    config = tmp_path / "node.yaml"
    config.write_text(HEAD + "  - name: front\n    relay: {pin: 17, lock_type: fail_secure}\n    unlock_s: 1\n")
    result = run_edge("check-config", "--no-secrets", "--boot-gpio", str(config))
    assert (result.returncode, result.stdout) == (2, "")


def test_the_shipped_example_is_valid() -> None:
    config = load_config(ROOT / "examples" / "nodes" / "door-front.yaml", check_secrets=False)
    assert [door.name for door in config.doors] == ["front"]


ACCESS_CASES = [
    ("snapshot_keys: [s.pub]", None),
    ("snapshot_keys: [s.pub]\n  command_keys: [c.pub]", None),
    ("snapshot_keys: []", "access.snapshot_keys: "),
    ("command_keys: [c.pub]", "access.snapshot_keys: required key is missing"),
    ("public_keys: [staff.pub]", "access: public_keys was split into snapshot_keys"),
    ("snapshot_keys: [s.pub]\n  home_assistant: true\n  discovery_prefix: ha-lyon", None),
    ("snapshot_keys: [s.pub]\n  home_assistant: true\n  discovery_prefix: ha/#", "access.discovery_prefix: "),
    ("snapshot_keys: [s.pub]\n  home_assistant: maybe", "access.home_assistant: "),
    ("snapshot_keys: [s.pub]\n  min_snapshot_version: 1764149000000", None),
    ("snapshot_keys: [s.pub]\n  min_snapshot_version: -1", "access.min_snapshot_version: "),
    ("snapshot_keys: [s.pub]\n  min_snapshot_version: true", "access.min_snapshot_version: "),
    ("snapshot_keys: [s.pub]\n  min_snapshot_version: '17'", "access.min_snapshot_version: "),
]


@pytest.mark.parametrize(("access", "expected"), ACCESS_CASES, ids=[a for a, _ in ACCESS_CASES])
def test_snapshot_keys_are_required_and_command_keys_optional(access: str, expected: str | None) -> None:
    text = f"site: hub\nnode: door-pi\nbadge_key_file: badge.key\naccess:\n  {access}\n"
    if expected is None:
        config = parse_config(text, base_dir=Path("/etc/edge"), check_secrets=False)
        assert config.access is not None
        assert config.access.snapshot_keys == (Path("/etc/edge/s.pub"),)
        assert config.access.command_keys in ((), (Path("/etc/edge/c.pub"),))
        return
    with pytest.raises(ConfigError) as caught:
        parse_config(text, check_secrets=False)
    assert any(issue.startswith(expected) for issue in caught.value.issues), caught.value.issues


def test_the_docs_state_the_command_skew_the_door_applies_by_default() -> None:
    default = AccessConfig.model_fields["command_max_skew_s"].default
    configuration = (ROOT / "docs" / "configuration.md").read_text()
    security = (ROOT / "docs" / "security.md").read_text()
    assert f"| `command_max_skew_s` | `{default:g}` |" in configuration
    assert f"`access.command_max_skew_s` (**{default:g} s** by default" in security
    assert "5 s of clock skew allowed" not in security
