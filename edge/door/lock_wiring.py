"""Which relay level holds a door locked, from the lock type, the relay contact and the board's polarity (pure).

Used by the relay driver at run time and by `edge check-config --boot-gpio`, which turns it into the
`config.txt` lines that drive each relay pin to its locked level from early boot, before any daemon runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, Protocol

LockType = Literal["fail_safe", "fail_secure"]
RelayContact = Literal["nc", "no"]

DEFAULT_CONTACT: dict[LockType, RelayContact] = {"fail_safe": "nc", "fail_secure": "no"}
"""Standard wiring: maglock powered through NC, fail-secure strike through NO (docs/doors.md)."""


def energized_when_locked(lock_type: LockType, wired_to: RelayContact | None = None) -> bool:
    """Whether the relay coil must be on to hold the door locked."""
    contact = wired_to or DEFAULT_CONTACT[lock_type]
    lock_powered_when_energized = contact == "no"
    # A fail-safe lock holds while powered; a fail-secure lock releases while powered.
    return lock_powered_when_energized == (lock_type == "fail_safe")


def locked_pin_high(lock_type: LockType, wired_to: RelayContact | None, active_high: bool) -> bool:
    """Whether the relay's GPIO pin is driven high to hold the door locked."""
    return energized_when_locked(lock_type, wired_to) == active_high


class RelayWiring(Protocol):
    """What the boot lines need of a door's relay config."""

    @property
    def pin(self) -> int: ...
    @property
    def active_high(self) -> bool: ...
    @property
    def lock_type(self) -> LockType: ...
    @property
    def wired_to(self) -> RelayContact | None: ...


def boot_gpio_setting(relay: RelayWiring) -> str:
    """The `config.txt` setting that drives this relay's pin to its locked level at boot: `gpio=N=op,dh|dl`."""
    high = locked_pin_high(relay.lock_type, relay.wired_to, relay.active_high)
    return f"gpio={relay.pin}=op,{'dh' if high else 'dl'}"


def boot_gpio_lines(relays: Iterable[tuple[str, RelayWiring]]) -> list[str]:
    """`config.txt` lines that make the firmware drive each door's relay pin to its locked level at boot.

    Without them a relay pin is an input with the SoC's power-on pull (a pull-down on GPIO 9-27) until the door
    daemon claims it: on the usual active-low boards that energises the coil, which unlocks a door wired the
    default way, for the whole boot.
    """
    lines: list[str] = []
    for door, relay in relays:
        high = locked_pin_high(relay.lock_type, relay.wired_to, relay.active_high)
        lines.append(f"# door {door}: relay on GPIO {relay.pin} held at its locked level ({'high' if high else 'low'})")
        lines.append(boot_gpio_setting(relay))
    return lines
