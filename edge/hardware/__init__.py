"""Hardware drivers, one small module per device kind, each with a simulator in `edge.hardware.sim`."""

from edge.hardware.factory import build_reader
from edge.hardware.readers import BadgeReader, ReaderHealth, ScanDebouncer

__all__ = ["BadgeReader", "ReaderHealth", "ScanDebouncer", "build_reader"]
