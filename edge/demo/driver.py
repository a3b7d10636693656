"""Plays the scripted day against the simulated hardware: cards on the reader, people at the door and desks."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from edge.clock import ScaledClock
from edge.demo.observer import Observer
from edge.demo.scenario import Action, Arrive, BrokerRestart, HoldOpen, Leave, Revoke
from edge.demo.site import DOOR_PINS, DemoSite
from edge.demo.stack import Broker
from edge.hardware.sim.ld2410 import EMPTY, RadarSimulator, someone
from edge.hardware.sim.pinbridge import PinBridgeClient
from edge.hardware.sim.serial_devices import Rdm6300Sim

OPEN, CLOSED = 1, 0  # the reed switch pulls the contact input low when the door is closed
PRESSED, IDLE = 0, 1  # the exit button pulls its input low


class Driver:
    """Turns scenario actions into hardware signals and narrates them."""

    def __init__(
        self,
        site: DemoSite,
        clock: ScaledClock,
        observer: Observer,
        broker: Broker,
        reader: Rdm6300Sim,
        radars: dict[str, RadarSimulator],
        bridges: dict[str, PinBridgeClient],
        revoke: Callable[[str], int],
    ) -> None:
        self.site = site
        self.clock = clock
        self.observer = observer
        self.broker = broker
        self.reader = reader
        self.radars = radars
        self.bridges = bridges
        self.revoke = revoke
        self.door = bridges["door-front"]
        self.locked_level = self.door.read(DOOR_PINS["relay"])
        self.desk_of = {p.id: p.desk for p in site.people if p.desk}
        self.desks = {d.name: d for d in site.desks}

    # -- time ------------------------------------------------------------------------------------------

    def wait_until(self, when: datetime, tick: Callable[[], None] | None = None) -> None:
        """Sleep (really) until the simulated clock reaches `when`."""
        while True:
            remaining = (when - self.clock.now()).total_seconds() / self.clock.speed
            if remaining <= 0:
                return
            if tick is not None:
                tick()
            time.sleep(min(remaining, 0.1))

    def sim_sleep(self, seconds: float) -> None:
        """Let `seconds` of simulated time pass."""
        time.sleep(seconds / self.clock.speed)

    # -- actions ---------------------------------------------------------------------------------------

    def run(self, actions: list[Action], tick: Callable[[], None] | None = None) -> None:
        """Play every action at its time."""
        for action in actions:
            self.wait_until(action.at, tick)
            self.perform(action)

    def perform(self, action: Action) -> None:
        """Do one action."""
        stamp = action.at.strftime("%H:%M")
        if isinstance(action, Arrive):
            self.reader.send_card(action.card)
            if self.wait_unlocked(1.0):
                self.pass_door()
                if action.sit and action.person in self.desk_of:
                    self.sit(self.desk_of[action.person], True)
        elif isinstance(action, Leave):
            desk = self.desk_of.get(action.person)
            if desk:
                self.sit(desk, False)
            self.exit_button()
            if self.wait_unlocked(1.0):
                self.pass_door()
        elif isinstance(action, Revoke):
            version = self.revoke(action.person)
            self.observer.note(f"{stamp}  staff revoke the lost badge of {action.person}; snapshot v{version} pushed")
        elif isinstance(action, HoldOpen):
            self.observer.note(f"{stamp}  a delivery: the door is propped open for {action.seconds:.0f} s")
            self.exit_button()
            if self.wait_unlocked(1.0):
                self.door.drive(DOOR_PINS["contact"], OPEN)
                self.sim_sleep(action.seconds)
                self.door.drive(DOOR_PINS["contact"], CLOSED)
        elif isinstance(action, BrokerRestart):
            self.observer.note(f"{stamp}  the broker crashes (back in {action.down_s / 60:.0f} min)")
            self.broker.stop(kill=True)
            self.sim_sleep(action.down_s)
            self.broker.start()
            self.observer.note(f"{(self.clock.now()).astimezone(action.at.tzinfo):%H:%M}  the broker is back")

    def wait_unlocked(self, real_timeout: float) -> bool:
        """Wait for the relay to unlock (a granted badge or the exit button); False if it stays locked."""
        deadline = time.monotonic() + real_timeout
        while time.monotonic() < deadline:
            if self.door.read(DOOR_PINS["relay"]) != self.locked_level:
                return True
            time.sleep(0.001)
        return False

    def pass_door(self) -> None:
        """Open the door, walk through (3 s), close it."""
        self.door.drive(DOOR_PINS["contact"], OPEN)
        self.sim_sleep(3)
        self.door.drive(DOOR_PINS["contact"], CLOSED)

    def exit_button(self) -> None:
        """Press and release the request-to-exit button."""
        self.door.drive(DOOR_PINS["rex"], PRESSED)
        self.sim_sleep(1)
        self.door.drive(DOOR_PINS["rex"], IDLE)

    def sit(self, desk_name: str, seated: bool) -> None:
        """Someone sits down at (or leaves) a desk: its sensor sees it."""
        desk = self.desks[desk_name]
        if desk.sensor == "radar":
            self.radars[desk.name].show(someone(distance_cm=70, energy=55) if seated else EMPTY)
        elif desk.sensor == "seat" and desk.pin is not None:
            self.bridges[desk.node].drive(desk.pin, 0 if seated else 1)
        elif desk.pin is not None:  # a PIR in retrigger mode stays high while the person moves a little
            self.bridges[desk.node].drive(desk.pin, 1 if seated else 0)

    def prepare(self) -> None:
        """Close the door and settle every input before the day starts."""
        self.door.drive(DOOR_PINS["contact"], CLOSED)
        self.door.drive(DOOR_PINS["rex"], IDLE)
        for desk in self.site.desks:
            self.sit(desk.name, False)
