"""Running a daemon: logging, signals, readiness and the systemd watchdog, the same way for every daemon."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import Protocol

from edge.daemons.journal import JournalHandler, stderr_is_journal
from edge.daemons.notify import notify, watchdog_interval
from edge.daemons.signals import StopSignals

log = logging.getLogger(__name__)


class Service(Protocol):
    """What a daemon provides to the runtime."""

    def start(self) -> None:
        """Open devices, connect, start threads; return when ready to serve."""
        ...

    def stop(self) -> None:
        """Leave everything safe (doors locked), flush and close; must not raise."""
        ...

    def alive(self) -> bool:
        """True while every loop of the daemon is making progress (feeds the systemd watchdog)."""
        ...


def setup_logging(level: str = "info", identifier: str = "edge") -> None:
    """Log to the journal with priorities when systemd connected stderr to it (journal.py), else text on stderr."""
    handler: logging.Handler
    if stderr_is_journal():
        handler = JournalHandler(identifier)
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=getattr(logging, level.upper()), handlers=[handler], force=True)


def run_service(name: str, service: Service, *, tick: float = 1.0, on_tick: Callable[[], None] | None = None) -> int:
    """Start a service, report ready, feed the watchdog while it is alive, stop it on SIGTERM/SIGINT; exit code.

    Must run in the main thread (signals are delivered there). The signal handler takes no lock (see signals.py).
    """
    with StopSignals() as stop:
        started = time.monotonic()
        try:
            service.start()
        except BaseException:
            log.exception("%s: failed to start", name)
            service.stop()
            return 1
        log.info("%s: ready in %.0f ms", name, (time.monotonic() - started) * 1000)
        notify("READY=1")
        interval = watchdog_interval()
        period = min(tick, interval) if interval else tick
        try:
            while not stop.wait(period):
                if on_tick is not None:
                    on_tick()
                if service.alive():
                    notify("WATCHDOG=1")
                else:
                    log.error("%s: a loop stopped making progress; withholding the watchdog ping", name)
            assert stop.received is not None
            log.info("%s: received %s, stopping", name, stop.received.name)
        finally:
            notify("STOPPING=1")
            service.stop()
            log.info("%s: stopped", name)
    return 0
