"""Schedules in config files: every spelling is read once at load, and a mistake is named by its key path.

The same field type serves a door's `unlocked_schedule`, the collector's `opening_hours` and member plans; the
door's section is used here for the spellings, each consumer for its key path.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from edge.config import parse_config
from edge.errors import ConfigError
from edge.schedule import Schedule, parse_schedule
from edge.staff.memberfile import parse_member_file
from tests.rig.fixtures import run_edge

DOOR = """\
site: hub
node: door-pi
badge_key_file: badge.key
access:
  snapshot_keys: [staff.pub]
doors:
  - name: front
    relay: {pin: 17, lock_type: fail_secure}
    unlocked_schedule:"""


def door_schedule(value: str) -> Schedule:
    return parse_config(f"{DOOR} {value}\n", check_secrets=False).doors[0].unlocked_schedule


def door_issues(value: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        door_schedule(value)
    return [issue.split(" (<config>")[0] for issue in caught.value.issues]


SPELLINGS = [
    ("text items", '["mon-fri 08:30-12:00", "sat 09:00-12:00"]', "mon-fri 08:30-12:00; sat 09:00-12:00"),
    ("one line", '"mon-fri 08:30-12:00; sat 09:00-12:00"', "mon-fri 08:30-12:00; sat 09:00-12:00"),
    ("doors' old form", '[{days: [mon, tue, wed, thu, fri], start: "08:30", end: "12:00"}]', "mon-fri 08:30-12:00"),
    ("plans' old form", '[{days: mon-fri, from: "08:30", to: "12:00"}]', "mon-fri 08:30-12:00"),
    ("a list of ranges", '[{days: [mon-wed, fri], from: "08:30", to: "12:00"}]', "mon-wed,fri 08:30-12:00"),
    ("report's old day text", '[{days: "mon-fri,sat", from: "08:30", to: "12:00"}]', "mon-sat 08:30-12:00"),
    ("unquoted YAML times", "[{days: [sat], start: 22:00, end: 24:00}]", "sat 22:00-24:00"),
    ("wrapping days and night", '[{days: fri-sun, from: "22:00", to: "02:00"}]', "fri-sun 22:00-02:00"),
    ("forms mixed", '["mon 08:00-09:00", {days: tue, to: "10:00", from: "09:00"}]', "mon 08:00-09:00; tue 09:00-10:00"),
    ("closures", '["always", "closed 2026-12-24..2026-12-26"]', "always; closed 2026-12-24..2026-12-26"),
    ("always", "always", "always"),
    ("never", "never", "never"),
    ("an empty list", "[]", "never"),
]


@pytest.mark.parametrize(("case", "yaml", "text"), SPELLINGS, ids=[s[0] for s in SPELLINGS])
def test_every_spelling_reads_as_one_schedule(case: str, yaml: str, text: str) -> None:
    assert door_schedule(yaml) == parse_schedule(text)


MISTAKES = [
    (
        '["mon-fri 08:00-12:00", "mon-fryday 14:00-18:00"]',
        'doors[0].unlocked_schedule[1]: "mon-fryday": unknown day "fryday"; write days as mon, tue, ... or a range'
        " mon-fri",
    ),
    ('"mon-fri 08:00-12:00; sat 25:00-26:00"', 'doors[0].unlocked_schedule: "25:00": not a time of day'),
    ('[{days: "mon-fryday", from: "08:00", to: "12:00"}]', 'doors[0].unlocked_schedule[0].days: "mon-fryday": unknown'),
    ("[{days: [mon, 3], from: '08:00', to: '12:00'}]", "doors[0].unlocked_schedule[0].days: 3 is not a day"),
    ("[{days: {mon: 1}, from: '08:00', to: '12:00'}]", "doors[0].unlocked_schedule[0].days: {'mon': 1} is not a day"),
    ("[{days: mon, from: '8h', to: '12:00'}]", 'doors[0].unlocked_schedule[0].from: "8h": write times as HH:MM'),
    ("[{days: mon, start: '08:00', end: '24:30'}]", 'doors[0].unlocked_schedule[0].end: "24:30": not a time of day'),
    ("[{days: mon, start: 08:00, end: 1500}]", "doors[0].unlocked_schedule[0].end: 1500 is not a time of day"),
    ("[{days: mon, start: [8], end: '09:00'}]", "doors[0].unlocked_schedule[0].start: [8] is not a time of day"),
    ("[{days: mon, start: '08:00', end: '08:00'}]", 'doors[0].unlocked_schedule[0]: "08:00-08:00": opens and closes'),
    ("[{days: mon, from: '08:00', start: '08:00', to: '09:00'}]", "doors[0].unlocked_schedule[0]: give from or start"),
    ("[{days: mon, from: '08:00', to: '09:00', until: '10:00'}]", "doors[0].unlocked_schedule[0].until: unknown key"),
    ("[{days: mon}]", "doors[0].unlocked_schedule[0].from: required key is missing"),
    ("[{from: '08:00', to: '09:00'}]", "doors[0].unlocked_schedule[0].days: required key is missing"),
    ("[42]", "doors[0].unlocked_schedule[0]: 42 is not a window"),
    ("42", 'doors[0].unlocked_schedule: write always, never, or a list of windows such as "mon-fri 08:00-19:00"'),
    ("['closed 2026-13-01']", 'doors[0].unlocked_schedule[0]: "closed 2026-13-01": 2026-13-01 is not a date'),
]


@pytest.mark.parametrize(("yaml", "expected"), MISTAKES, ids=[m[1].split(": ")[0] + " " + m[0] for m in MISTAKES])
def test_a_mistake_is_named_by_its_key_path(yaml: str, expected: str) -> None:
    found = door_issues(yaml)
    assert any(issue.startswith(expected) for issue in found), found


def test_every_mistake_in_a_schedule_is_reported_at_once() -> None:
    found = door_issues('["mon-fryday 08:00-12:00", {days: mon, from: "8h", to: "25:00"}, "sat 09:00-09:00"]')
    assert [issue.split(":")[0] for issue in found] == [
        "doors[0].unlocked_schedule[0]",
        "doors[0].unlocked_schedule[1].from",
        "doors[0].unlocked_schedule[1].to",
        "doors[0].unlocked_schedule[2]",
    ]


def test_a_member_plans_schedule_mistake_names_its_key_and_line() -> None:
    text = "site: lyon\nplans:\n  flex:\n    schedule:\n      - mon-fri 08:00-19:00\n      - {days: sat, from: 9h}\n"
    with pytest.raises(ConfigError) as caught:
        parse_member_file(text, source="members.yaml")
    assert caught.value.issues == [
        'plans.flex.schedule[1].from: "9h": write times as HH:MM, e.g. 08:30 (members.yaml, line 6)',
        "plans.flex.schedule[1].to: required key is missing (members.yaml, line 6)",
    ]


def test_member_plans_read_back_in_the_text_form() -> None:
    text = "site: lyon\nplans:\n  evening: {schedule: [{days: [mon-thu], from: 18:00, to: 22:00}]}\n"
    dumped = parse_member_file(text).model_dump(mode="json", by_alias=True)
    assert dumped["plans"]["evening"]["schedule"] == ["mon-thu 18:00-22:00"]


CLI_CASES = [
    (
        "door",
        DOOR + "\n      - mon-fri 08:30-12:00\n      - {days: mon-fryday, start: '14:00', end: '18:00'}\n",
        'doors[0].unlocked_schedule[1].days: "mon-fryday": unknown day "fryday"; write days as mon, tue, ... or a'
        " range mon-fri",
        11,
    ),
    (
        "collector",
        "site: hub\nnode: collector\ncollector:\n  opening_hours:\n    - mon-fri 08:00-19:00\n    - sat 09:00-25:00\n",
        'collector.opening_hours[1]: "25:00": not a time of day; times run from 00:00 to 24:00',
        6,
    ),
]


@pytest.mark.parametrize(("case", "config", "expected", "line"), CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_check_config_exits_2_naming_the_key_of_a_bad_schedule(
    tmp_path: Path, case: str, config: str, expected: str, line: int
) -> None:
    path = tmp_path / "node.yaml"
    path.write_text(textwrap.dedent(config))
    result = run_edge("check-config", "--no-secrets", str(path))
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{expected} ({path}, line {line})" in result.stderr, result.stderr
