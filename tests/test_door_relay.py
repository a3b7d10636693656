"""The lock relay on MockFactory pins: locked is the first level driven, and the last one left behind."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest
from gpiozero.pins.mock import MockFactory

from edge.door.lock_wiring import boot_gpio_lines
from edge.door.relay import LockRelay, energized_when_locked

PIN = 17
ROOT = Path(__file__).resolve().parents[1]

# lock type, wired through, active_high -> pin level that means LOCKED
WIRING = [
    ("fail_safe", None, False, True),  # maglock via NC, active-low board: coil off = pin high
    ("fail_safe", None, True, False),
    ("fail_secure", None, False, True),  # strike via NO, active-low board: coil off = pin high
    ("fail_secure", None, True, False),
    ("fail_safe", "no", False, False),  # maglock via NO: coil on to hold
    ("fail_safe", "no", True, True),
    ("fail_secure", "nc", False, False),  # strike via NC: coil on to hold
    ("fail_secure", "nc", True, True),
]


@pytest.fixture
def factory():
    factory = MockFactory()
    yield factory
    factory.reset()


def levels(factory: MockFactory) -> list[bool]:
    return [state.state for state in factory.pin(PIN).states]


@pytest.mark.parametrize(
    "lock_type, wired_to, energized",
    [("fail_safe", None, False), ("fail_secure", None, False), ("fail_safe", "no", True), ("fail_secure", "nc", True)],
)
def test_standard_wiring_locks_with_the_coil_off(lock_type, wired_to, energized) -> None:
    assert energized_when_locked(lock_type, wired_to) is energized


@pytest.mark.parametrize("lock_type, wired_to, active_high, locked_level", WIRING)
@pytest.mark.parametrize("floating_level", [False, True], ids=["pin-read-low", "pin-read-high"])
def test_the_first_level_driven_is_locked_and_close_leaves_it_locked(
    factory, lock_type, wired_to, active_high, locked_level, floating_level
) -> None:
    pin = factory.pin(PIN)
    pin.drive_high() if floating_level else pin.drive_low()
    pin.clear_states()
    relay = LockRelay(PIN, lock_type=lock_type, wired_to=wired_to, active_high=active_high, pin_factory=factory)
    assert relay.locked
    relay.unlock()
    assert not relay.locked
    relay.lock()
    relay.unlock()
    relay.close()

    unlocked_level = not locked_level
    driven = [locked_level, unlocked_level, locked_level, unlocked_level, locked_level]
    before = [] if floating_level == locked_level else [floating_level]
    assert levels(factory) == before + driven
    pin.assert_states(before + driven)
    assert pin.function == "input"  # released after close


def test_locking_twice_drives_nothing_new(factory) -> None:
    relay = LockRelay(PIN, lock_type="fail_secure", pin_factory=factory)
    relay.lock()
    relay.lock()
    assert levels(factory) == [False, True]
    relay.close()


def test_unlock_is_refused_after_close(factory) -> None:
    relay = LockRelay(PIN, lock_type="fail_safe", pin_factory=factory)
    relay.close()
    with pytest.raises(RuntimeError, match="stays locked"):
        relay.unlock()
    relay.close()  # idempotent
    assert relay.closed


def test_context_manager_locks_on_an_exception(factory) -> None:
    with pytest.raises(ZeroDivisionError), LockRelay(PIN, lock_type="fail_secure", pin_factory=factory) as relay:
        relay.unlock()
        _ = 1 / 0
    assert levels(factory)[-1] is True  # active-low, coil off: locked


def test_interpreter_exit_locks_an_unlocked_relay() -> None:
    script = textwrap.dedent(
        f"""
        import atexit
        from gpiozero.pins.mock import MockFactory
        factory = MockFactory()
        # Registered first, so it runs last: after the relay's own exit hook.
        atexit.register(lambda: print("levels", [s.state for s in factory.pin({PIN}).states]))
        from edge.door.relay import LockRelay
        relay = LockRelay({PIN}, lock_type="fail_secure", active_high=True, pin_factory=factory)
        relay.unlock()
        print("unlocked", not relay.locked)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["unlocked True", "levels [False, True, False]"]


@pytest.mark.parametrize("lock_type, wired_to, active_high, locked_level", WIRING)
def test_the_boot_line_drives_the_level_the_relay_driver_calls_locked(
    factory, lock_type, wired_to, active_high, locked_level
) -> None:
    relay = LockRelay(PIN, lock_type=lock_type, wired_to=wired_to, active_high=active_high, pin_factory=factory)
    driven = factory.pin(PIN).state
    relay.close()
    wiring = SimpleNamespace(pin=PIN, lock_type=lock_type, wired_to=wired_to, active_high=active_high)
    comment, line = boot_gpio_lines([("front", wiring)])
    assert driven is locked_level
    assert line == f"gpio={PIN}=op,{'dh' if locked_level else 'dl'}"
    assert comment.startswith("# door front: relay on GPIO 17")


def test_no_door_means_no_boot_line() -> None:
    assert boot_gpio_lines([]) == []
