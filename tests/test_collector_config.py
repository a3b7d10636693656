"""The collector's config section: defaults, refusals with key paths, and the CLI's exit code."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.config import parse_config
from edge.errors import ConfigError
from tests.rig.fixtures import run_edge

BASE = "site: demo\nnode: col\n"


def issues_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(BASE + text, check_secrets=False)
    return caught.value.issues


def test_an_empty_section_has_safe_defaults() -> None:
    settings = parse_config(BASE + "collector: {}\n").collector
    assert settings is not None
    assert (settings.retention_days, settings.influx, settings.shared_group, settings.derive) == (90, None, None, True)
    assert settings.store_path is None  # state_dir/collector.sqlite3
    assert settings.max_clock_ahead_s == 300  # events dated further ahead are stored at their receipt time


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("collector:\n  influx: {url: influx.local, bucket: b}\n", "collector.influx.url: must be an http"),
        ("collector:\n  influx: {url: 'http://i', bucket: b, token: abc}\n", "collector.influx.token: secrets are"),
        ("collector:\n  influx: {url: 'http://i'}\n", "collector.influx.bucket: required key is missing"),
        ("collector:\n  derive_step_s: 7\n", "collector.derive_step_s:"),
        ("collector:\n  derive_step_s: 70\n", "collector.derive_step_s: must divide an hour"),
        ("collector:\n  retention_days: 0\n", "collector.retention_days:"),
        ("collector:\n  retention_days: 120\n  raw_retention_days: 30\n", "collector.raw_retention_days: must be"),
        ("collector:\n  directions: {front-in: sideways}\n", "collector.directions.front-in:"),
        ("collector:\n  shared_group: 'a/b'\n", "collector.shared_group:"),
        (
            "collector:\n  influx: {url: 'http://i', bucket: b, api: v1, token_file: /t}\n",
            "collector.influx: token_file",
        ),
        ("collector:\n  retension_days: 30\n", "collector.retension_days: unknown key"),
        ("collector:\n  max_clock_ahead_s: 0\n", "collector.max_clock_ahead_s:"),
        (
            "collector:\n  opening_hours: [{days: [mon], start: '25:00', end: '18:00'}]\n",
            'collector.opening_hours[0].start: "25:00": not a time of day',
        ),
        (
            "collector:\n  opening_hours: 'mon-fri 08:00-19:00; sat 9-13'\n",
            'collector.opening_hours: "9-13": write a time range as HH:MM-HH:MM',
        ),
        (
            "collector:\n  opening_hours: ['mon-fri 08:00-19:00', 'closed 2026-12-32']\n",
            'collector.opening_hours[1]: "closed 2026-12-32": 2026-12-32 is not a date',
        ),
    ],
)
def test_bad_values_are_refused_with_their_key_path(text: str, expected: str) -> None:
    assert any(issue.startswith(expected) for issue in issues_of(text)), issues_of(text)


def test_the_command_exits_2_and_names_the_key_on_a_bad_config(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(BASE + "collector:\n  retention_days: -1\n")
    result = run_edge("collector", "-c", str(config), timeout=30)
    assert result.returncode == 2
    assert "collector.retention_days" in result.stderr


@pytest.mark.parametrize(
    ("text", "filters"),
    [
        ("collector: {}\n", ["edge/demo/#"]),
        ("collector: {shared_group: g, derive: false}\n", ["$share/g/edge/demo/#"]),
        (
            "collector: {shared_group: g}\n",
            ["$share/g/edge/demo/#", "edge/demo/desk/+/occupancy", "edge/demo/door/+/access"],
        ),
    ],
)
def test_subscriptions_share_the_load_but_a_deriving_member_sees_every_desk_and_door(
    text: str, filters: list[str]
) -> None:
    from edge.collector.service import subscriptions
    from edge.contract import Topics

    settings = parse_config(BASE + text).collector
    assert settings is not None
    assert subscriptions(Topics("demo"), settings) == filters


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "opening_hours:\n    - {days: [mon, tue, wed, thu, fri], start: '08:30', end: '19:00'}\n",
            "mon-fri 08:30-19:00",
        ),
        ("opening_hours: 'mon-fri 08:30-19:00; sat 09:00-13:00'\n", "mon-fri 08:30-19:00; sat 09:00-13:00"),
        ("opening_hours: ['mon-fri 08:00-19:00', 'closed 2026-12-25']\n", "mon-fri 08:00-19:00; closed 2026-12-25"),
        ("{}\n", "always"),
        ("opening_hours: []\n", "always"),  # before schedules had one syntax, an empty list meant "always open"
        ("opening_hours: ['closed 2026-12-25']\n", "always; closed 2026-12-25"),
    ],
)
def test_opening_hours_are_a_weekly_schedule_in_site_time(text: str, expected: str) -> None:
    settings = parse_config(BASE + "collector:\n  " + text).collector
    assert settings is not None
    assert str(settings.opening_hours) == expected
