"""Desk sensors are alive: PIR and seat inputs can be read, LD2410 radars send valid frames."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from edge.config.desks import Ld2410SensorConfig, PirSensorConfig, SeatSensorConfig
from edge.doctor.checks import Context
from edge.doctor.report import Result, Status
from edge.doctor.walk import desk_sensors
from edge.hardware.ld2410_port import Ld2410Port
from edge.hardware.pir import PirSensor
from edge.hardware.seat import SeatSwitch


def check_sensors(ctx: Context) -> Iterable[Result]:
    """Every desk sensor of the node answers."""
    if ctx.config is None:
        return
    for desk, label, sensor in desk_sensors(ctx.config):
        name = f"desk {desk.name} {label}"
        if isinstance(sensor, Ld2410SensorConfig):
            yield listen_to_radar(ctx, name, sensor)
        else:
            yield read_input(ctx, name, sensor)


def read_input(ctx: Context, name: str, sensor: PirSensorConfig | SeatSensorConfig) -> Result:
    """Claim the sensor's pin through its driver and read it once."""
    try:
        if isinstance(sensor, PirSensorConfig):
            with PirSensor(sensor.pin, on_change=_ignore, pin_factory=ctx.pin_factory) as pir:
                reading = "motion" if pir.motion else "no motion"
        else:
            seat = SeatSwitch(
                sensor.pin,
                on_change=_ignore,
                pull=sensor.pull,
                active_high=sensor.active_high,
                bounce_s=sensor.bounce_s,
                pin_factory=ctx.pin_factory,
            )
            with seat:
                reading = "occupied" if seat.active else "free"
    except Exception as exc:  # gpiozero raises many kinds (busy pin, no factory); all mean "cannot read"
        return Result(
            name,
            Status.FAIL,
            f"cannot read GPIO {sensor.pin}: {type(exc).__name__}: {exc}",
            "stop the presence daemon while running the doctor (sudo systemctl stop edge-presence); on a Pi, "
            "check that this user is in group gpio",
        )
    return Result(name, Status.OK, f"GPIO {sensor.pin} reads {reading}")


def listen_to_radar(ctx: Context, name: str, radar: Ld2410SensorConfig) -> Result:
    """Open the radar's port through its driver and wait up to --timeout for one valid report frame."""
    got = threading.Event()
    offline: list[str] = []

    def on_offline(reason: str, _at: float) -> None:
        offline.append(reason)
        got.set()

    port = Ld2410Port(radar.port, baudrate=radar.baudrate, on_reading=lambda _r, _at: got.set(), on_offline=on_offline)
    with port:
        got.wait(ctx.timeout)
    if port.frames:
        return Result(name, Status.OK, f"the LD2410 on {radar.port} sends valid report frames")
    if offline:
        reason = offline[0]
        fix = (
            "another program holds the port: stop the presence daemon first (sudo systemctl stop edge-presence)"
            if "lock" in reason.lower()
            else f"check that {radar.port} exists and that this user is in group dialout"
        )
        return Result(name, Status.FAIL, f"{radar.port}: {reason}", fix)
    errors = sum(port.errors.values())
    if errors:
        return Result(
            name,
            Status.FAIL,
            f"bytes arrived from {radar.port} but no valid LD2410 frame ({errors} frame problems)",
            f"wrong baud rate or wiring: the config says {radar.baudrate} baud (the radar's factory setting is "
            "256000); check the radar's TX → the port's RX, and that the Pi's UART is the PL011 (dtoverlay=disable-bt "
            "on a Pi 3/4), not the mini UART",
        )
    return Result(
        name,
        Status.FAIL,
        f"nothing received from {radar.port} within {ctx.timeout:g} s",
        "check the radar's 5 V supply (≥ 200 mA) and that its TX goes to the port's RX (grounds joined)",
    )


def _ignore(_level: bool, _at: float) -> None:
    return None
