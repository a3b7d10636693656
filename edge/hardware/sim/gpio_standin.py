"""A stand-in for the `RPi.GPIO` module, installed into sys.modules by `edge.hardware.sim.install_stand_ins`.

It keeps RPi.GPIO's rules that matter to callers (a numbering mode must be set, and only once; only pins set
up as outputs can be driven; `cleanup()` without arguments releases every pin and the mode) and lets a
simulated chip watch a pin (the MFRC522's reset line). State is process-global, as with the real module.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

BOARD = 10
BCM = 11
OUT = 0
IN = 1
LOW = 0
HIGH = 1
PUD_OFF = 20
PUD_DOWN = 21
PUD_UP = 22
RPI_INFO = {"P1_REVISION": 3, "TYPE": "simulated"}
VERSION = "0.7.1-standin"

# Physical header pin -> BCM GPIO, for BOARD numbering.
_BOARD_TO_BCM = {
    3: 2, 5: 3, 7: 4, 8: 14, 10: 15, 11: 17, 12: 18, 13: 27, 15: 22, 16: 23, 18: 24, 19: 10, 21: 9,
    22: 25, 23: 11, 24: 8, 26: 7, 27: 0, 28: 1, 29: 5, 31: 6, 32: 12, 33: 13, 35: 19, 36: 16, 37: 26,
    38: 20, 40: 21,
}  # fmt: skip


@dataclass
class PinSetup:
    """How a BCM pin is currently set up."""

    direction: int
    level: int
    pull: int = PUD_OFF


class _Board:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.mode: int | None = None
        self.pins: dict[int, PinSetup] = {}
        self.watchers: dict[int, list[Callable[[int], None]]] = {}
        self.warnings = True


_board = _Board()


def _channels(channel: int | Iterable[int]) -> list[int]:
    return [channel] if isinstance(channel, int) else list(channel)


def _bcm(channel: int) -> int:
    if _board.mode is None:
        raise RuntimeError("Please set pin numbering mode using GPIO.setmode(GPIO.BOARD) or GPIO.setmode(GPIO.BCM)")
    if _board.mode == BOARD:
        if channel not in _BOARD_TO_BCM:
            raise ValueError("The channel sent is invalid on a Raspberry Pi")
        return _BOARD_TO_BCM[channel]
    if not 0 <= channel <= 27:
        raise ValueError("The channel sent is invalid on a Raspberry Pi")
    return channel


def setmode(mode: int) -> None:
    """Choose BOARD or BCM numbering; changing it once set is an error, as in RPi.GPIO."""
    with _board.lock:
        if mode not in (BOARD, BCM):
            raise ValueError("An invalid mode was passed to setmode()")
        if _board.mode is not None and _board.mode != mode:
            raise ValueError("A different mode has already been set!")
        _board.mode = mode


def getmode() -> int | None:
    """Return the numbering mode, or None if not set."""
    return _board.mode


def setwarnings(flag: bool) -> None:
    """Enable or disable warnings (recorded only)."""
    _board.warnings = bool(flag)


def setup(channel: int | Iterable[int], direction: int, pull_up_down: int = PUD_OFF, initial: int = -1) -> None:
    """Set pins up as inputs or outputs."""
    with _board.lock:
        for item in _channels(channel):
            pin = _bcm(item)
            if direction == OUT:
                _set_level(pin, PinSetup(OUT, HIGH if initial == HIGH else LOW))
            elif direction == IN:
                level = HIGH if pull_up_down == PUD_UP else LOW
                _board.pins[pin] = PinSetup(IN, level, pull_up_down)
            else:
                raise ValueError("An invalid direction was passed to setup()")


def output(channel: int | Iterable[int], value: int | bool) -> None:
    """Drive output pins."""
    with _board.lock:
        for item in _channels(channel):
            pin = _bcm(item)
            current = _board.pins.get(pin)
            if current is None or current.direction != OUT:
                raise RuntimeError("The GPIO channel has not been set up as an OUTPUT")
            _set_level(pin, PinSetup(OUT, HIGH if value else LOW))


def input(channel: int) -> int:
    """Read a pin's level."""
    with _board.lock:
        pin = _bcm(channel)
        current = _board.pins.get(pin)
        if current is None:
            raise RuntimeError("You must setup() the GPIO channel first")
        return current.level


def cleanup(channel: int | Iterable[int] | None = None) -> None:
    """Release the given pins, or every pin and the numbering mode."""
    with _board.lock:
        if channel is None:
            _board.pins.clear()
            _board.mode = None
            return
        if _board.mode is None:
            return
        for item in _channels(channel):
            _board.pins.pop(_bcm(item), None)


def _set_level(pin: int, new: PinSetup) -> None:
    old = _board.pins.get(pin)
    _board.pins[pin] = new
    if old is None or old.level != new.level:
        for watcher in list(_board.watchers.get(pin, ())):
            watcher(new.level)


# -- simulator side (not part of RPi.GPIO) --------------------------------------------------------------------------


def watch(bcm_pin: int, callback: Callable[[int], None]) -> None:
    """Call `callback(level)` whenever the process drives `bcm_pin` to a new level."""
    with _board.lock:
        _board.watchers.setdefault(bcm_pin, []).append(callback)


def unwatch(bcm_pin: int, callback: Callable[[int], None]) -> None:
    """Stop watching a pin."""
    with _board.lock:
        callbacks = _board.watchers.get(bcm_pin, [])
        if callback in callbacks:
            callbacks.remove(callback)


def pin_setup(bcm_pin: int) -> PinSetup | None:
    """How a BCM pin is set up right now, or None if it is free."""
    return _board.pins.get(bcm_pin)


def reset_board() -> None:
    """Forget every pin, the mode and the watchers (between tests)."""
    with _board.lock:
        _board.pins.clear()
        _board.mode = None
        _board.watchers.clear()
