"""Open every configured desk sensor and route what it reports to one `post(desk, sensor, value, at)` function.

A sensor that cannot be opened (pin busy, driver error) is logged and posted as `Fault.OFFLINE`: its desk shows
unknown and the others keep running. A radar whose port is missing is not an error here: its reader keeps
retrying and reports offline by itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from edge.clock import Clock
from edge.config.desks import Ld2410SensorConfig, PirSensorConfig, PresenceConfig, SeatSensorConfig, SensorConfig
from edge.hardware.ld2410 import RadarReading
from edge.hardware.ld2410_port import Ld2410Port
from edge.hardware.pir import PirSensor
from edge.hardware.seat import SeatSwitch
from edge.occupancy import Fault

log = logging.getLogger(__name__)

Post = Callable[[str, str, object, float], object]


@dataclass(frozen=True)
class RadarHealth:
    """What a radar's reader has seen since start."""

    frames: int
    frame_errors: int
    opens: int
    online: bool


class Driver(Protocol):
    """What every sensor driver offers the wiring."""

    def start(self) -> object:
        """Begin reporting."""
        ...

    def close(self) -> None:
        """Stop reporting and release the hardware."""
        ...


class DeskSensors:
    """The node's open sensor drivers; `start()` them once the loop runs, `close()` them at shutdown."""

    def __init__(self, presence: PresenceConfig, post: Post, *, clock: Clock, pin_factory: Any = None) -> None:
        self._post = post
        self._clock = clock
        self.drivers: list[Driver] = []
        self.radars: dict[tuple[str, str], Ld2410Port] = {}
        self.failed: list[tuple[str, str]] = []
        for desk in presence.desks:
            for sensor, name in zip(desk.sensors, desk.sensor_names(), strict=True):
                try:
                    driver = self._open(desk.name, name, sensor, pin_factory)
                except Exception as exc:  # a driver that cannot start must not take the other desks down
                    log.error("desk %s sensor %s cannot be opened: %s", desk.name, name, exc)
                    self.failed.append((desk.name, name))
                    continue
                self.drivers.append(driver)
                if isinstance(driver, Ld2410Port):
                    self.radars[(desk.name, name)] = driver

    def start(self) -> None:
        """Start every driver; the ones that failed to open are reported offline."""
        for desk, name in self.failed:
            self._post(desk, name, Fault.OFFLINE, self._clock.monotonic())
        for driver in self.drivers:
            driver.start()

    def alive(self) -> bool:
        """Every reader thread runs (gpiozero's own threads are not ours to watch)."""
        return all(driver.alive() for driver in self.drivers if isinstance(driver, Ld2410Port))

    def radar_health(self) -> dict[tuple[str, str], RadarHealth]:
        """Each radar's frames, refused frames, port opens and whether its port is open now (any thread)."""
        return {
            key: RadarHealth(
                frames=port.frames,
                frame_errors=sum(list(port.errors.values())),  # list(): the reader thread may add a label
                opens=port.opens,
                online=port.online,
            )
            for key, port in self.radars.items()
        }

    def close(self) -> None:
        """Close every driver."""
        for driver in self.drivers:
            try:
                driver.close()
            except Exception:
                log.exception("closing a sensor driver failed")

    def _open(self, desk: str, name: str, sensor: SensorConfig, pin_factory: Any) -> Driver:
        post = self._post

        def level(value: bool, at: float) -> None:
            post(desk, name, value, at)

        if isinstance(sensor, PirSensorConfig):
            return PirSensor(
                sensor.pin,
                on_change=level,
                clock=self._clock,
                sample_rate_hz=sensor.sample_rate_hz,
                pin_factory=pin_factory,
            )
        if isinstance(sensor, SeatSensorConfig):
            return SeatSwitch(
                sensor.pin,
                on_change=level,
                pull=sensor.pull,
                active_high=sensor.active_high,
                bounce_s=sensor.bounce_s,
                clock=self._clock,
                pin_factory=pin_factory,
            )
        assert isinstance(sensor, Ld2410SensorConfig)

        def reading(value: RadarReading, at: float) -> None:
            post(desk, name, value, at)

        def offline(reason: str, at: float) -> None:
            post(desk, name, Fault.OFFLINE, at)

        return Ld2410Port(
            sensor.port,
            on_reading=reading,
            on_offline=offline,
            clock=self._clock,
            baudrate=sensor.baudrate,
            engineering=sensor.engineering,
        )
