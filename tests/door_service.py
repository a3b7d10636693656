"""`DoorService` in-process for the door daemon tests: MockFactory pins for the door and a Wiegand reader, signed
snapshots, a `ScaledClock` (door timings 20 times faster)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from gpiozero.pins.mock import MockFactory, MockPin

from edge.clock import ScaledClock
from edge.config import load_config
from edge.daemons.door import DoorService
from edge.daemons.launch import Launch
from edge.files import write_atomic
from edge.hardware.door_sim import SimulatedDoor
from edge.hardware.sim.wiegand_sim import WiegandSim
from tests.door_support import door_config, make_site, signed_snapshot

SPEED = 20.0
START = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)  # a Thursday, 10:00 in Paris
WIEGAND = "      - reader: {name: outside, type: wiegand, d0_pin: 20, d1_pin: 21, rearm_s: 0.05}\n"
LOCK_SENSOR = "    lock_sensor: {pin: 23, debounce_s: 0, grace_s: 2}\n"
FULL_DOOR = """\
    unlock_s: {unlock_s}
    held_open_s: 5
    contact: {{pin: 27, debounce_s: 0}}
    rex: {{pin: 22, debounce_s: 0}}
    feedback: {{led: {{pin: 24}}}}
"""


class FailingPin(MockPin):  # type: ignore[misc]
    """A mock pin whose next write fails when told to (a relay board whose driver errors once)."""

    fail_next_write = False

    def _set_state(self, value):
        if FailingPin.fail_next_write and self._function == "output":
            FailingPin.fail_next_write = False
            raise OSError("simulated GPIO write failure")
        super()._set_state(value)


class Door:
    """A door daemon in this process on mock pins, with the hands that operate the door and the reader."""

    def __init__(
        self,
        folder: Path,
        port: int,
        *,
        unlock_s: float = 3,
        door: str | None = None,
        readers: str = WIEGAND,
        snapshot_version: int | None = 1,
        pin_class: type[MockPin] = MockPin,
        clock_sync: object = None,
        access: str = "",
    ) -> None:
        make_site(folder)
        path = door_config(
            folder,
            port,
            readers=readers,
            door=FULL_DOOR.format(unlock_s=unlock_s) if door is None else door,
            access=access,
        )
        self.config = load_config(path)
        self.folder = folder
        if snapshot_version is not None:  # as if pushed and applied before this start
            state = self.config.state_dir
            state.mkdir(parents=True, exist_ok=True)
            write_atomic(state / "members.snapshot", signed_snapshot(folder, snapshot_version))
        self.factory = MockFactory(pin_class=pin_class)
        self.clock = ScaledClock(START, SPEED)
        self.service = DoorService(
            Launch(self.config, self.clock, pin_factory=self.factory),
            clock_sync=clock_sync,  # type: ignore[arg-type]
        )
        self.sim = SimulatedDoor(self.config.doors[0], self.factory)
        self.wiegand = WiegandSim(self.factory, 20, 21)

    def start(self) -> None:
        self.service.start()
        if self.config.doors[0].contact is not None:
            self.sim.close_door()
        if self.config.doors[0].lock_sensor is not None:
            self.sim.set_lock_sensor(True)

    def badge(self, card: tuple[int, int]) -> None:
        self.wiegand.send_card(*card)

    def history(self) -> list[bool]:
        """Every level the relay pin took, as locked (True) / unlocked (False), its first claim included."""
        return self.sim.relay_history()[1:]

    def close(self) -> None:
        self.service.stop()
        self.factory.close()
