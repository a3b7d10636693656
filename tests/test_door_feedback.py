"""Door LED/buzzer feedback on MockFactory pins: the patterns' pin sequences, cutting, and close."""

from __future__ import annotations

import pytest
from gpiozero.pins.mock import MockFactory

from edge.door.feedback import PATTERNS, DoorFeedback

LED, BUZZER = 5, 6
FAST = {"granted": ((0.01, True, True), (0.02, True, False)), "denied": ((0.01, True, True), (0.01, False, False)) * 3}


@pytest.fixture
def factory():
    factory = MockFactory()
    yield factory
    factory.reset()


def levels(factory: MockFactory, pin: int) -> list[bool]:
    return [state.state for state in factory.pin(pin).states]


@pytest.mark.parametrize(
    "pattern, led, buzzer",
    [
        ("granted", [False, True, False], [False, True, False]),
        ("denied", [False, True, False] * 3, [False, True, False] * 3),
    ],
)
def test_a_pattern_drives_the_led_and_buzzer_in_sequence_then_off(factory, pattern, led, buzzer) -> None:
    with DoorFeedback(LED, BUZZER, patterns=FAST, pin_factory=factory) as feedback:
        feedback.play(pattern)
        assert feedback.wait(timeout=10)
    assert levels(factory, LED) == _squash(led)
    assert levels(factory, BUZZER) == _squash(buzzer)


def test_play_returns_with_the_first_segment_on_and_the_rest_in_the_background(factory) -> None:
    slow = {"long": ((60.0, True, False),)}
    feedback = DoorFeedback(LED, BUZZER, patterns=slow, pin_factory=factory)
    feedback.play("long")
    assert feedback.playing
    assert factory.pin(LED).state is True
    feedback.close()  # cuts the 60 s pattern
    assert not feedback.playing
    assert levels(factory, LED) == [False, True, False]


def test_a_new_pattern_cuts_the_running_one(factory) -> None:
    patterns = {"long": ((60.0, True, True),), "short": ((0.01, False, True),)}
    with DoorFeedback(LED, BUZZER, patterns=patterns, pin_factory=factory) as feedback:
        feedback.play("long")
        feedback.play("short")
        assert feedback.wait(timeout=10)
    assert levels(factory, LED) == [False, True, False]
    assert levels(factory, BUZZER) == [False, True, False, True, False]


def test_an_led_alone_is_enough(factory) -> None:
    with DoorFeedback(led_pin=LED, patterns=FAST, pin_factory=factory) as feedback:
        feedback.play("granted")
        assert feedback.wait(timeout=10)
    assert levels(factory, LED) == [False, True, False]


def test_active_low_outputs_idle_high(factory) -> None:
    with DoorFeedback(LED, led_active_high=False, patterns=FAST, pin_factory=factory) as feedback:
        feedback.play("granted")
        assert feedback.wait(timeout=10)
    assert levels(factory, LED) == [False, True, False, True]  # read low, idle high, on low, idle high


def test_feedback_needs_at_least_one_output() -> None:
    with pytest.raises(ValueError, match="LED pin, a buzzer pin"):
        DoorFeedback()


def test_patterns_need_positive_segments(factory) -> None:
    with pytest.raises(ValueError, match="positive"):
        DoorFeedback(LED, patterns={"bad": ((0.0, True, True),)}, pin_factory=factory)


def test_the_shipped_patterns_are_granted_and_denied() -> None:
    assert set(PATTERNS) == {"granted", "denied"}


def _squash(values: list[bool]) -> list[bool]:
    """Mock pins record changes only: collapse repeats."""
    out: list[bool] = []
    for value in values:
        if not out or out[-1] != value:
            out.append(value)
    return out
