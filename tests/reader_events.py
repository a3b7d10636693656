"""Collect what a badge reader reports, and wait for it without sleeping blindly."""

from __future__ import annotations

import threading

from tests.rig.waiting import wait_until


class ReaderEvents:
    """Thread-safe record of `on_scan` and `on_fault` calls."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.scans: list[tuple[str, float]] = []
        self.faults: list[tuple[bool, str]] = []

    def on_scan(self, uid: str, at: float) -> None:
        with self._lock:
            self.scans.append((uid, at))

    def on_fault(self, active: bool, detail: str) -> None:
        with self._lock:
            self.faults.append((active, detail))

    @property
    def uids(self) -> list[str]:
        with self._lock:
            return [uid for uid, _ in self.scans]

    @property
    def fault_states(self) -> list[bool]:
        with self._lock:
            return [active for active, _ in self.faults]

    def wait_scans(self, count: int, timeout: float = 30.0) -> list[str]:
        """Every scan's uid, once at least `count` came (fails the test otherwise)."""
        wait_until(lambda: len(self.scans) >= count, timeout, f"{count} scans", lambda: self.uids)
        return self.uids

    def wait_faults(self, count: int, timeout: float = 30.0) -> list[bool]:
        """Every fault state, once at least `count` came (fails the test otherwise)."""
        wait_until(lambda: len(self.faults) >= count, timeout, f"{count} fault changes", lambda: self.fault_states)
        return self.fault_states
