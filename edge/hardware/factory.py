"""Build a badge reader driver from its config section, through its kind (edge/hardware/reader_kinds.py); a
driver module is imported only when a reader of its kind is built."""

from __future__ import annotations

from typing import Any

from edge.clock import Clock
from edge.config.readers import ReaderConfig
from edge.hardware.reader_kinds import kind_of
from edge.hardware.readers import BadgeReader, FaultCallback, ScanCallback


def build_reader(
    config: ReaderConfig,
    *,
    pin_factory: Any = None,
    on_scan: ScanCallback | None = None,
    on_fault: FaultCallback | None = None,
    clock: Clock | None = None,
) -> BadgeReader:
    """Return the (not yet started) reader a config section describes."""
    kind = kind_of(config)
    args, options = kind.options(config)
    common: dict[str, Any] = {"rearm_s": config.rearm_s, "on_scan": on_scan, "on_fault": on_fault, "clock": clock}
    if kind.gpiozero:
        common["pin_factory"] = pin_factory
    reader: BadgeReader = kind.driver_class()(config.name, *args, **options, **common)
    return reader
