"""Door contact, exit button and lock sensor on MockFactory pins: polarity, pulls, debounce, change reporting."""

from __future__ import annotations

import pytest
from gpiozero.pins.mock import MockFactory

from edge.door.inputs import DEFAULT_BOUNCE_S, BinaryInput, DoorContact, ExitButton, LockSensor

PIN = 22


@pytest.fixture
def factory():
    factory = MockFactory()
    yield factory
    factory.reset()


def drive(factory: MockFactory, level: str) -> None:
    pin = factory.pin(PIN)
    pin.drive_low() if level == "low" else pin.drive_high()


# active_when, pull_up, pin level -> active?
POLARITY = [
    ("low", True, "low", True),  # reed to GND with the internal pull-up: the usual wiring
    ("low", True, "high", False),
    ("high", True, "high", True),  # normally-closed switch opening to the pull-up when the door closes
    ("high", True, "low", False),
    ("high", False, "high", True),  # switch to 3.3 V with the internal pull-down
    ("low", False, "low", True),
    ("low", None, "low", True),  # external resistor: no internal pull
    ("high", None, "high", True),
    ("high", None, "low", False),
]


@pytest.mark.parametrize("active_when, pull_up, level, active", POLARITY)
def test_the_level_is_read_through_the_configured_polarity(factory, active_when, pull_up, level, active) -> None:
    with BinaryInput(PIN, active_when=active_when, pull_up=pull_up, pin_factory=factory) as device:
        drive(factory, level)
        assert device.is_active is active


@pytest.mark.parametrize("pull_up, pull", [(True, "up"), (False, "down"), (None, "floating")])
def test_the_internal_pull_is_set_as_configured(factory, pull_up, pull) -> None:
    with DoorContact(PIN, pull_up=pull_up, pin_factory=factory):
        assert factory.pin(PIN).pull == pull


@pytest.mark.parametrize("kind", [DoorContact, ExitButton, LockSensor])
def test_contacts_are_debounced_by_default(factory, kind) -> None:
    with kind(PIN, pin_factory=factory):
        assert factory.pin(PIN).bounce == pytest.approx(DEFAULT_BOUNCE_S)


@pytest.mark.parametrize("bounce_s, expected", [(0.02, 0.02), (None, None), (0.0, None)])
def test_debounce_can_be_tuned_or_disabled(factory, bounce_s, expected) -> None:
    with DoorContact(PIN, bounce_s=bounce_s, pin_factory=factory):
        assert factory.pin(PIN).bounce == expected


def test_changes_of_meaning_are_reported_once_each(factory) -> None:
    contact = DoorContact(PIN, pin_factory=factory)  # pulled up: reads open
    seen: list[bool] = []
    contact.when_changed = seen.append
    for level in ["low", "high", "high", "low", "low", "high"]:
        drive(factory, level)
    assert seen == [True, False, True, False]
    contact.close()


def test_a_chattering_contact_ends_in_the_state_of_its_last_level(factory) -> None:
    contact = DoorContact(PIN, pin_factory=factory)
    seen: list[bool] = []
    contact.when_changed = seen.append
    for level in ["low", "high", "low", "high", "low"]:
        drive(factory, level)
    assert contact.is_closed and seen[-1] is True
    contact.close()


@pytest.mark.parametrize(
    "device, attribute, level, expected",
    [
        (DoorContact, "is_closed", "low", True),
        (DoorContact, "is_closed", "high", False),
        (ExitButton, "is_pressed", "low", True),
        (ExitButton, "is_pressed", "high", False),
        (LockSensor, "is_locked", "low", True),
        (LockSensor, "is_locked", "high", False),
    ],
)
def test_each_input_names_its_meaning(factory, device, attribute, level, expected) -> None:
    with device(PIN, pin_factory=factory) as sensor:
        drive(factory, level)
        assert getattr(sensor, attribute) is expected


def test_no_callback_after_close(factory) -> None:
    button = ExitButton(PIN, pin_factory=factory)
    seen: list[bool] = []
    button.when_changed = seen.append
    button.close()
    drive(factory, "low")
    assert seen == []
