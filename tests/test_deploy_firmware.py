"""Firmware config fragments and udev rules: well formed, known keys only, every line explained."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.deploy_support import parse_udev_rules

FIRMWARE = Path(__file__).resolve().parents[1] / "firmware_config"
FRAGMENTS = sorted(p.name for p in FIRMWARE.glob("*.txt"))
README = (FIRMWARE / "README.md").read_text()

FILTERS = {"all", "pi02", "pi3", "pi4", "pi5"}
DTPARAMS = {"watchdog", "spi", "strict_gpiod"}
OVERLAYS = {"disable-bt", "miniuart-bt", "uart0-pi5"}
# The filter each model's firmware applies, besides [all].
MODEL_FILTER = {"Zero 2 W": "pi02", "Pi 3": "pi3", "Pi 4": "pi4", "Pi 5": "pi5"}


def directive_problem(line: str) -> str | None:
    """Why a config.txt line is not one we know, or None when it is."""
    if re.fullmatch(r"\[[a-z0-9+]+\]", line):
        return None if line[1:-1] in FILTERS else f"unknown filter {line}"
    key, sep, value = line.partition("=")
    if not sep:
        return f"not key=value: {line!r}"
    if key == "dtparam":
        name, _, state = value.partition("=")
        if name not in DTPARAMS:
            return f"unknown dtparam {name!r}"
        return None if state in ("", "on", "off") else f"dtparam {name} takes on/off, not {state!r}"
    if key == "dtoverlay":
        return None if value in OVERLAYS else f"unknown overlay {value!r}"
    if key == "enable_uart":
        return None if value in ("0", "1") else "enable_uart takes 0 or 1"
    return f"unknown key {key!r}"


def lines_of(name: str) -> list[str]:
    text = (FIRMWARE / name).read_text()
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def effective_lines(name: str, model: str) -> list[str]:
    """The directives a given model applies from a fragment, following section filters."""
    active, out = True, []
    for line in lines_of(name):
        if line.startswith("["):
            active = line[1:-1] in ("all", MODEL_FILTER[model])
        elif active:
            out.append(line)
    return out


def test_the_fragments_are_the_hardware_roles() -> None:
    assert FRAGMENTS == ["common.txt", "spi-mfrc522.txt", "uart-gpio.txt"]


@pytest.mark.parametrize("name", FRAGMENTS)
def test_fragment_uses_only_known_filters_and_keys(name: str) -> None:
    problems = [problem for line in lines_of(name) if (problem := directive_problem(line))]
    assert problems == []


@pytest.mark.parametrize("name", FRAGMENTS)
def test_fragment_opens_with_a_filter_and_leaves_the_all_scope(name: str) -> None:
    filters = [line for line in lines_of(name) if line.startswith("[")]
    assert lines_of(name)[0].startswith("[")
    assert filters[-1] == "[all]"


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("dtparam=spi=yes", "dtparam spi takes on/off, not 'yes'"),
        ("dtparam=i2c_arm=on", "unknown dtparam 'i2c_arm'"),
        ("dtoverlay=disable-bluetooth", "unknown overlay 'disable-bluetooth'"),
        ("[pi6]", "unknown filter [pi6]"),
        ("enable_uart=on", "enable_uart takes 0 or 1"),
        ("gpu_mem=16", "unknown key 'gpu_mem'"),
        ("watchdog on", "not key=value: 'watchdog on'"),
    ],
)
def test_unknown_or_malformed_directive_is_reported(line: str, problem: str) -> None:
    assert directive_problem(line) == problem


@pytest.mark.parametrize("name", FRAGMENTS)
def test_every_fragment_line_is_explained_in_the_readme(name: str) -> None:
    unexplained = [line for line in lines_of(name) if f"`{line}`" not in README]
    assert unexplained == []


@pytest.mark.parametrize("model", sorted(MODEL_FILTER))
def test_common_fragment_enables_watchdog_and_strict_gpiod_on_every_model(model: str) -> None:
    assert effective_lines("common.txt", model) == ["dtparam=watchdog=on", "dtparam=strict_gpiod"]


@pytest.mark.parametrize(
    ("model", "overlay"),
    [
        ("Zero 2 W", "dtoverlay=disable-bt"),
        ("Pi 3", "dtoverlay=disable-bt"),
        ("Pi 4", "dtoverlay=disable-bt"),
        ("Pi 5", "dtoverlay=uart0-pi5"),
    ],
)
def test_uart_fragment_gives_each_model_a_pl011_on_gpio14_and_15(model: str, overlay: str) -> None:
    assert effective_lines("uart-gpio.txt", model) == [overlay, "enable_uart=1"]


def test_example_udev_rules_parse() -> None:
    rules = parse_udev_rules((FIRMWARE / "70-edge-serial.rules.example").read_text())
    assert [rule.value("SYMLINK") for rule in rules] == [
        "edge-reader-front",
        "edge-radar-desk-01",
        "edge-radar-desk-02",
    ]


def test_example_udev_rules_match_tty_devices_and_keep_them_in_dialout() -> None:
    rules = parse_udev_rules((FIRMWARE / "70-edge-serial.rules.example").read_text())
    assert {(rule.value("SUBSYSTEM"), rule.value("GROUP"), rule.value("MODE")) for rule in rules} == {
        ("tty", "dialout", "0660")
    }


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('SUBSYSTEM=="tty", SYMLINK+="edge-x', "unterminated quote"),
        ('SUBSYSTEM=="tty" SYMLINK+="edge-x"', "cannot parse"),
        ('SUBSYSTEMS="tty", SYMLINK+="edge-x"', "SUBSYSTEMS cannot be assigned"),
        ('SUBSYSTEM=="tty", MODE="660"', "MODE must be four octal digits"),
        ('SUBSYSTEM=="tty", KERNEL=="ttyAMA0"', "at least one match and one assignment"),
        ('SERIAL=="x", SYMLINK+="edge-x"', "SERIAL cannot be matched"),
    ],
)
def test_malformed_udev_rule_is_refused_with_its_line(text: str, error: str) -> None:
    with pytest.raises(ValueError, match=rf"line 1: .*{re.escape(error)}"):
        parse_udev_rules(text)
