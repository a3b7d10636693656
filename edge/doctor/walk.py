"""Where a node's devices sit in its config: every reader (standalone or on a door) and every desk sensor."""

from __future__ import annotations

from edge.config import NodeConfig
from edge.config.desks import DeskConfig, Ld2410SensorConfig, SensorConfig
from edge.config.readers import (
    Mfrc522ReaderConfig,
    Rdm6300ReaderConfig,
    SerialLineReaderConfig,
    WiegandReaderConfig,
)

AnyReader = Mfrc522ReaderConfig | Rdm6300ReaderConfig | SerialLineReaderConfig | WiegandReaderConfig
"""A reader section of any kind (the members of the config's `ReaderConfig` union)."""


def all_readers(config: NodeConfig) -> list[AnyReader]:
    """The node's standalone readers, then each door's readers."""
    readers: list[AnyReader] = list(config.readers)
    for door in config.doors:
        readers.extend(bound.reader for bound in door.readers)
    return readers


def desk_sensors(config: NodeConfig) -> list[tuple[DeskConfig, str, SensorConfig]]:
    """(desk, sensor name, sensor) for every sensor of every desk."""
    if config.presence is None:
        return []
    return [
        (desk, name, sensor)
        for desk in config.presence.desks
        for name, sensor in zip(desk.sensor_names(), desk.sensors, strict=True)
    ]


def radars(config: NodeConfig) -> list[tuple[str, Ld2410SensorConfig]]:
    """("desk/sensor", radar) for every LD2410 of the node."""
    return [
        (f"{desk.name}/{name}", sensor)
        for desk, name, sensor in desk_sensors(config)
        if isinstance(sensor, Ld2410SensorConfig)
    ]
