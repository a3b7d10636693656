"""The suite's one wait: poll a condition until it holds, and fail the test naming what never happened.

Waits wait for a condition, never a fixed time: the timeout only tells a hang from a slow run on a busy machine, so
it is generous, and a test never asserts how long something took (benchmarks/ measure that).
"""

from __future__ import annotations

import time
from collections.abc import Callable

# Polling starts fast (an in-process thread answers in microseconds) and backs off, so that a predicate that queries
# a server (SQLite, HTTP) does not keep a busy machine busier.
FIRST_POLL_S = 0.005
LAST_POLL_S = 0.1


def wait_until(
    predicate: Callable[[], object],
    timeout: float = 30.0,
    what: str = "condition",
    info: Callable[[], object] | None = None,
) -> bool:
    """Poll until `predicate()` is true and return True; after `timeout` s fail the test with an AssertionError
    naming `what` (and `info()`, e.g. a daemon's log tail, when given)."""
    deadline = time.monotonic() + timeout
    pause = FIRST_POLL_S
    while not predicate():
        if time.monotonic() > deadline:
            if predicate():  # the last chance, after the deadline
                return True
            detail = f": {info()}" if info is not None else ""
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}{detail}")
        time.sleep(pause)
        pause = min(pause * 2, LAST_POLL_S)
    return True
