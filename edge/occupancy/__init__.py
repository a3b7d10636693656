"""Pure desk occupancy: sensor verdicts, hysteresis, fusion, zone counts and heartbeats over an injected clock."""

from edge.occupancy.desk import DeskMachine, fuse
from edge.occupancy.model import (
    DEFAULT_HYSTERESIS,
    DEFAULT_PIR_WARMUP_S,
    DeskSpec,
    DeskUpdate,
    Fault,
    Fusion,
    Hysteresis,
    Occupancy,
    Presence,
    RadarThresholds,
    SensorKind,
    SensorSpec,
    SensorView,
    Update,
    ZoneCounts,
    ZoneSpec,
)
from edge.occupancy.tracker import OccupancyTracker

__all__ = [
    "DEFAULT_HYSTERESIS",
    "DEFAULT_PIR_WARMUP_S",
    "DeskMachine",
    "DeskSpec",
    "DeskUpdate",
    "Fault",
    "Fusion",
    "Hysteresis",
    "Occupancy",
    "OccupancyTracker",
    "Presence",
    "RadarThresholds",
    "SensorKind",
    "SensorSpec",
    "SensorView",
    "Update",
    "ZoneCounts",
    "ZoneSpec",
    "fuse",
]
