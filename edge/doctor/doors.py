"""Each door's hardware: its pins can be claimed, the relay clicks on request, the inputs change when operated.

The door is claimed through `DoorHardware`, the layer the door daemon uses, so the relay's first and last
level are the locked one; the click test locks again in a `finally`, and closing the hardware locks too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from edge.config.doors import DoorConfig
from edge.doctor.checks import Context
from edge.doctor.report import Result, Status
from edge.door.hardware import DoorHardware
from edge.door.inputs import BinaryInput

CLICK_S = 1.0
"""How long the click test releases the lock: long enough to hear the relay and see the lock move."""


def check_doors(ctx: Context) -> Iterable[Result]:
    """Claim each door's pins, then (if asked) click the relay and watch the contact and exit button."""
    if ctx.config is None:
        return
    for door in ctx.config.doors:
        yield from check_door(ctx, door)


def check_door(ctx: Context, door: DoorConfig) -> Iterable[Result]:
    """The checks of one door, on its hardware claimed once."""
    name = f"door {door.name}"
    try:
        hardware = DoorHardware.from_config(door, pin_factory=ctx.pin_factory)
    except Exception as exc:  # gpiozero raises many kinds (busy pin, no factory); all mean "cannot claim"
        yield Result(
            name,
            Status.FAIL,
            f"cannot claim the door's GPIO pins: {type(exc).__name__}: {exc}",
            "stop the door daemon while running the doctor (sudo systemctl stop edge-door); on a Pi, check that "
            "this user is in group gpio",
        )
        return
    with hardware:
        yield Result(name, Status.OK, f"pins claimed; {_input_states(hardware)}")
        if ctx.click_relay:
            yield click_relay(ctx, door, hardware)
        else:
            yield Result(
                f"{name} relay",
                Status.SKIP,
                "relay not operated (run with --click-relay to release the lock for 1 s)",
            )
        if ctx.operate_inputs > 0:
            yield from watch_inputs(ctx, door, hardware)


def _input_states(hardware: DoorHardware) -> str:
    parts = []
    if hardware.contact is not None:
        parts.append("the contact says the door is " + ("closed" if hardware.contact.is_closed else "OPEN"))
    if hardware.exit_button is not None:
        parts.append("the exit button is " + ("PRESSED" if hardware.exit_button.is_pressed else "released"))
    if hardware.lock_sensor is not None:
        parts.append("the lock sensor says " + ("locked" if hardware.lock_sensor.is_locked else "UNLOCKED"))
    return ", ".join(parts) or "no inputs configured"


def click_relay(ctx: Context, door: DoorConfig, hardware: DoorHardware) -> Result:
    """Release the lock for CLICK_S and lock it again, whatever happens in between."""
    name = f"door {door.name} relay"
    sensor = hardware.lock_sensor
    ctx.say(f"door {door.name}: the lock releases for {CLICK_S:g} s now: listen for the relay click")
    before = during = None
    try:
        before = sensor.is_locked if sensor is not None else None
        hardware.relay.unlock()
        time.sleep(CLICK_S)
        during = sensor.is_locked if sensor is not None else None
    finally:
        hardware.relay.lock()
    message = f"released for {CLICK_S:g} s on GPIO {door.relay.pin}, then locked again"
    if sensor is not None and not (before and during is False):
        said = "locked" if during else "unlocked"
        return Result(
            name,
            Status.FAIL,
            f"{message}, but the lock sensor did not see it (it said {'locked' if before else 'unlocked'} before "
            f"and {said} during the release)",
            f"check the relay board's power and polarity (relay.active_high: {door.relay.active_high}), the lock's "
            "wiring through the relay contact (relay.wired_to), and the lock sensor's wiring and locked_when",
        )
    if sensor is not None:
        message += "; the lock sensor saw the release"
    return Result(
        name,
        Status.OK,
        message,
        # The doctor cannot hear the click: the installer reads this when nothing moved.
        "if you heard no click: check the relay board's power (JD-VCC) and relay.active_high",
    )


def watch_inputs(ctx: Context, door: DoorConfig, hardware: DoorHardware) -> Iterable[Result]:
    """Watch the contact and exit button for --operate-inputs seconds and say which ones changed."""
    inputs: list[tuple[str, BinaryInput, int]] = []
    if hardware.contact is not None and door.contact is not None:
        inputs.append(("door contact", hardware.contact, door.contact.pin))
    if hardware.exit_button is not None and door.rex is not None:
        inputs.append(("exit button", hardware.exit_button, door.rex.pin))
    if not inputs:
        yield Result(f"door {door.name} inputs", Status.SKIP, "the door has no contact or exit button configured")
        return
    changes: dict[str, list[bool]] = {label: [] for label, _i, _p in inputs}
    lock = threading.Lock()
    for label, device, _pin in inputs:
        device.when_changed = _recorder(changes[label], lock)
    what = " and ".join(label for label, _i, _p in inputs)
    ctx.say(f"door {door.name}: operate the {what} now for {ctx.operate_inputs:g} s")
    time.sleep(ctx.operate_inputs)
    for _label, device, _pin in inputs:
        device.when_changed = None
    for label, _device, pin in inputs:
        with lock:
            seen = list(changes[label])
        name = f"door {door.name} {label}"
        if seen:
            yield Result(name, Status.OK, f"changed {len(seen)} time(s) while operated (GPIO {pin})")
        else:
            yield Result(
                name,
                Status.FAIL,
                f"did not change in {ctx.operate_inputs:g} s (GPIO {pin})",
                f"check the wiring to GPIO {pin} and ground, and the configured level and pull "
                "(closed_when / pressed_when, pull_up); operate it during the check",
            )


def _recorder(into: list[bool], lock: threading.Lock) -> Callable[[bool], None]:
    def record(active: bool) -> None:
        with lock:
            into.append(active)

    return record
