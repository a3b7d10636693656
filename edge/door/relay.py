"""The lock relay: one GPIO output whose first and last commanded state is LOCKED.

Which relay state means "locked" follows from the lock type and the relay contact the lock's power runs through:

| lock        | wired through | relay coil when locked |
|-------------|---------------|------------------------|
| fail_safe   | NC (default)  | de-energised           |
| fail_safe   | NO            | energised              |
| fail_secure | NO (default)  | de-energised           |
| fail_secure | NC            | energised              |

With the default wiring the coil is off whenever the door is locked, so a dead process, a released pin or a relay
board without power leaves the door locked. `active_high` only says which pin level energises the coil (most Pi
relay boards are active-low: LOW = coil on).
"""

from __future__ import annotations

import atexit
import logging
import threading
from typing import Any, Self

from gpiozero import OutputDevice

from edge.door.lock_wiring import DEFAULT_CONTACT, LockType, RelayContact, energized_when_locked

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_CONTACT", "LockRelay", "LockType", "RelayContact", "energized_when_locked"]


class LockRelay:
    """A door lock behind a relay: `lock()`, `unlock()`, and locked again on `close()` and at interpreter exit."""

    def __init__(
        self,
        pin: int,
        *,
        lock_type: LockType,
        active_high: bool = False,
        wired_to: RelayContact | None = None,
        pin_factory: Any = None,
    ) -> None:
        self.energized_when_locked = energized_when_locked(lock_type, wired_to)
        # Re-entrant: a signal handler calling close() may interrupt this thread inside unlock().
        self._mutex = threading.RLock()
        # initial_value makes the very first level ever driven on the pin the locked one.
        self._device = OutputDevice(
            pin, active_high=active_high, initial_value=self.energized_when_locked, pin_factory=pin_factory
        )
        self._closed = False
        # Runs before gpiozero's own atexit cleanup (registered at its import, so called later): lock, then release.
        atexit.register(self._lock_at_exit)

    @property
    def locked(self) -> bool:
        """True when the relay is in the locked state."""
        return bool(self._device.value) == self.energized_when_locked

    @property
    def closed(self) -> bool:
        """True once `close()` ran; the relay then stays as it was left: locked."""
        return self._closed

    def lock(self) -> None:
        """Drive the relay to the locked state (idempotent, thread-safe)."""
        with self._mutex:
            if not self._closed:
                self._device.value = self.energized_when_locked

    def unlock(self) -> None:
        """Drive the relay to the unlocked state; refused once closed."""
        with self._mutex:
            if self._closed:
                raise RuntimeError("the lock relay is closed; it stays locked")
            self._device.value = not self.energized_when_locked

    def close(self) -> None:
        """Lock, then release the pin; idempotent, and the call to make from a signal handler.

        Once closed, an `unlock()` that the handler interrupted fails instead of writing: the door stays locked.
        """
        with self._mutex:
            if self._closed:
                return
            try:
                self._device.value = self.energized_when_locked
            finally:
                self._closed = True
                self._device.close()
                atexit.unregister(self._lock_at_exit)

    def _lock_at_exit(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter exit: nothing is left to report to but the log
            log.exception("could not lock the relay at exit")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("locked" if self.locked else "unlocked")
        return f"<LockRelay {self._device.pin} {state}>"
