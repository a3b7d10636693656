"""From the `presence:` config section to the occupancy domain's specs (defaults, node-wide and per-desk overrides)."""

from __future__ import annotations

from dataclasses import replace

from edge.config.desks import (
    DeskConfig,
    HysteresisByKind,
    Ld2410SensorConfig,
    PirSensorConfig,
    PresenceConfig,
    SensorConfig,
)
from edge.occupancy import (
    DEFAULT_HYSTERESIS,
    DeskSpec,
    Fusion,
    Hysteresis,
    RadarThresholds,
    SensorKind,
    SensorSpec,
    ZoneSpec,
)


def hysteresis_for(kind: SensorKind, *layers: HysteresisByKind) -> Hysteresis:
    """The kind's default hysteresis with each layer's overrides applied in order (node-wide, then desk)."""
    result = DEFAULT_HYSTERESIS[kind]
    for layer in layers:
        override = getattr(layer, kind.value)
        if override is not None:
            result = replace(result, **override.model_dump(exclude_none=True))
    return result


def sensor_spec(sensor: SensorConfig, name: str, presence: PresenceConfig, desk: DeskConfig) -> SensorSpec:
    """The domain's view of one configured sensor."""
    kind = SensorKind(sensor.type)
    hysteresis = hysteresis_for(kind, presence.hysteresis, desk.hysteresis)
    if isinstance(sensor, PirSensorConfig):
        return SensorSpec(name, kind, hysteresis, warmup_s=sensor.warmup_s)
    if isinstance(sensor, Ld2410SensorConfig):
        thresholds = RadarThresholds(
            max_distance_cm=sensor.max_distance_cm,
            min_energy=sensor.min_energy,
            silence_s=sensor.silence_s,
            stuck_s=sensor.stuck_s,
            phantom_s=sensor.phantom_s,
        )
        return SensorSpec(name, kind, hysteresis, radar=thresholds)
    return SensorSpec(name, kind, hysteresis)


def desk_specs(presence: PresenceConfig) -> list[DeskSpec]:
    """Every configured desk as the domain needs it."""
    return [
        DeskSpec(
            desk.name,
            desk.zone,
            tuple(
                sensor_spec(sensor, name, presence, desk)
                for sensor, name in zip(desk.sensors, desk.sensor_names(), strict=True)
            ),
            Fusion(desk.fusion),
        )
        for desk in presence.desks
    ]


def zone_specs(presence: PresenceConfig) -> list[ZoneSpec]:
    """Every configured zone."""
    return [ZoneSpec(z.name, z.label, z.capacity) for z in presence.zones]
