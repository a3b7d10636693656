"""Counters: what a process refused, dropped or retried, published in its node status."""

from __future__ import annotations

import threading
from collections import Counter


class Counters:
    """Thread-safe named counters that only go up."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: Counter[str] = Counter()

    def inc(self, name: str, amount: int = 1) -> None:
        """Add `amount` to counter `name`."""
        with self._lock:
            self._values[name] += amount

    def get(self, name: str) -> int:
        """Current value of one counter (0 if never counted)."""
        with self._lock:
            return self._values[name]

    def snapshot(self) -> dict[str, int]:
        """A copy of every counter."""
        with self._lock:
            return dict(self._values)
