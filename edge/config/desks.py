"""The `presence:` section: zones, desks and their sensors (PIR, seat switch, LD2410 radar), hysteresis overrides."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Literal, TypeVar

from pydantic import Field, ValidationInfo, field_validator

from edge.config.base import GpioPin, Issue, Name, PositiveSeconds, SerialDevice, StrictModel

if TYPE_CHECKING:
    from edge.config.node import NodeConfig

SECTION = "presence"
FIXED_PULL_UP = (2, 3)  # the I2C pins have 1.8 kOhm pull-ups on the board: no pull-down, no floating input
T = TypeVar("T")
LD2410_BAUDRATES = (9600, 19200, 38400, 57600, 115200, 230400, 256000, 460800)


class HysteresisOverride(StrictModel):
    """Replace some of a sensor kind's hysteresis durations (seconds); unset keys keep the default."""

    enter_s: float | None = Field(default=None, ge=0, le=3600)
    release_s: float | None = Field(default=None, ge=0, le=86_400)
    gap_s: float | None = Field(default=None, ge=0, le=600)


class HysteresisByKind(StrictModel):
    """Hysteresis overrides per sensor kind."""

    pir: HysteresisOverride | None = None
    seat: HysteresisOverride | None = None
    ld2410: HysteresisOverride | None = None


class PirSensorConfig(StrictModel):
    """An HC-SR501-class PIR on a GPIO input (output high = motion)."""

    type: Literal["pir"]
    name: Name | None = None
    pin: GpioPin
    warmup_s: float = Field(default=60.0, ge=0, le=600)
    sample_rate_hz: float = Field(default=10.0, gt=0, le=100)

    @field_validator("pin")
    @classmethod
    def _pull_down_possible(cls, value: int) -> int:
        if value in FIXED_PULL_UP:
            raise ValueError(f"GPIO {value} has a fixed pull-up; a PIR needs a pin it can pull down")
        return value


class SeatSensorConfig(StrictModel):
    """A seat, pressure-mat, contact or capacitive-touch switch on a GPIO input."""

    type: Literal["seat"]
    name: Name | None = None
    pin: GpioPin
    pull: Literal["up", "down", "none"] = "up"
    active: Literal["low", "high"] | None = Field(default=None, validate_default=True)
    bounce_s: float = Field(default=0.05, ge=0, le=5)

    @field_validator("pull")
    @classmethod
    def _pull_possible(cls, value: str, info: ValidationInfo) -> str:
        pin = info.data.get("pin")
        if pin in FIXED_PULL_UP and value != "up":
            raise ValueError(f"GPIO {pin} has a fixed pull-up; use pull: up (or another pin)")
        return value

    @field_validator("active")
    @classmethod
    def _active_known(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None and info.data.get("pull") == "none":
            raise ValueError("with pull: none, say whether the switch is active: low or active: high")
        return value

    @property
    def active_high(self) -> bool:
        """The input level that means 'someone is sitting'."""
        if self.active is not None:
            return self.active == "high"
        return self.pull == "down"


class Ld2410SensorConfig(StrictModel):
    """An HLK-LD2410 mmWave radar on a UART, and when its reports count as someone at this desk."""

    type: Literal["ld2410"]
    name: Name | None = None
    port: SerialDevice
    baudrate: int = 256_000
    engineering: bool = False
    max_distance_cm: int = Field(default=150, ge=1, le=675)
    min_energy: int = Field(default=10, ge=0, le=100)
    silence_s: float = Field(default=10.0, gt=0, le=3600)
    stuck_s: float = Field(default=600.0, gt=0, le=86_400)
    phantom_s: float = Field(default=60.0, gt=0, le=86_400)

    @field_validator("baudrate")
    @classmethod
    def _known_baudrate(cls, value: int) -> int:
        if value not in LD2410_BAUDRATES:
            raise ValueError(f"the LD2410 supports {', '.join(map(str, LD2410_BAUDRATES))} baud")
        return value


SensorConfig = Annotated[PirSensorConfig | SeatSensorConfig | Ld2410SensorConfig, Field(discriminator="type")]


def _not_empty(value: tuple[T, ...], message: str) -> tuple[T, ...]:
    if not value:
        raise ValueError(message)
    return value


class ZoneConfig(StrictModel):
    """A group of desks counted together."""

    name: Name
    label: str | None = Field(default=None, min_length=1, max_length=80)
    capacity: int | None = Field(default=None, ge=1, le=10_000)


class DeskConfig(StrictModel):
    """A desk: its zone, its sensors, how they are fused, and its own hysteresis overrides."""

    name: Name
    zone: Name
    fusion: Literal["any", "all"] = "any"
    sensors: tuple[SensorConfig, ...] = Field(max_length=8)
    hysteresis: HysteresisByKind = HysteresisByKind()

    # An after-validator rather than min_length: pydantic would also report "0 items" when items are invalid.
    @field_validator("sensors")
    @classmethod
    def _some_sensor(cls, value: tuple[SensorConfig, ...]) -> tuple[SensorConfig, ...]:
        return _not_empty(value, "a desk needs at least one sensor")

    def sensor_names(self) -> list[str]:
        """Each sensor's name: its `name`, else its type, numbered when the desk has several of that type."""
        per_type = Counter(s.type for s in self.sensors)
        seen: Counter[str] = Counter()
        names = []
        for sensor in self.sensors:
            seen[sensor.type] += 1
            default = sensor.type if per_type[sensor.type] == 1 else f"{sensor.type}-{seen[sensor.type]}"
            names.append(sensor.name or default)
        return names


class PresenceConfig(StrictModel):
    """Desk presence on this node: zones, desks, heartbeat, Home Assistant discovery."""

    heartbeat_s: PositiveSeconds = 60.0
    home_assistant: bool = False
    discovery_prefix: Name = "homeassistant"  # Home Assistant's `discovery_prefix` (its MQTT integration setting)
    hysteresis: HysteresisByKind = HysteresisByKind()
    zones: tuple[ZoneConfig, ...]
    desks: tuple[DeskConfig, ...] = Field(max_length=256)

    @field_validator("zones")
    @classmethod
    def _some_zone(cls, value: tuple[ZoneConfig, ...]) -> tuple[ZoneConfig, ...]:
        return _not_empty(value, "define at least one zone")

    @field_validator("desks")
    @classmethod
    def _some_desk(cls, value: tuple[DeskConfig, ...]) -> tuple[DeskConfig, ...]:
        return _not_empty(value, "define at least one desk")

    def cross_check(self, root: NodeConfig) -> Iterable[Issue]:
        """Zones and desks have unique names, desks name existing zones, sensors of a desk have unique names."""
        zones: set[str] = set()
        for i, zone in enumerate(self.zones):
            if zone.name in zones:
                yield Issue(f"{SECTION}.zones[{i}].name", f"zone {zone.name} is defined twice")
            zones.add(zone.name)
        desks: set[str] = set()
        for i, desk in enumerate(self.desks):
            if desk.name in desks:
                yield Issue(f"{SECTION}.desks[{i}].name", f"desk {desk.name} is defined twice")
            desks.add(desk.name)
            if desk.zone not in zones:
                known = ", ".join(sorted(zones))
                yield Issue(f"{SECTION}.desks[{i}].zone", f"zone {desk.zone} is not defined (zones: {known})")
            seen: set[str] = set()
            for j, name in enumerate(desk.sensor_names()):
                if name in seen:
                    yield Issue(
                        f"{SECTION}.desks[{i}].sensors[{j}].name",
                        f"desk {desk.name} already has a sensor named {name}",
                    )
                seen.add(name)
