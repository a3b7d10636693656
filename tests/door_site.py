"""A door node as staff run it, for the end-to-end and fault tests: `edge members keygen/push/command` from a staff
folder, `edge door --simulate` as a subprocess with a pty RDM6300 and a Wiegand reader, the relay read through the
pin bridge."""

from __future__ import annotations

import subprocess
from pathlib import Path

from edge.hardware.sim.pinbridge import PinBridgeClient
from edge.hardware.sim.serial_devices import Rdm6300Sim
from edge.hardware.wiegand import encode_wiegand
from tests.door_support import MEMBER_FILE, door_config
from tests.rig.fixtures import run_edge
from tests.rig.process import EdgeProcess
from tests.rig.servers import Mosquitto
from tests.rig.waiting import wait_until

RELAY_PIN = 5  # active-low board, fail-safe lock on NC: HIGH = coil off = locked
DOOR = "    unlock_s: 3\n    contact: {pin: 27, debounce_s: 0}\n"


class Site:
    """A staff folder (keys, member file, staff config) and one door node run as `edge door --simulate`."""

    def __init__(
        self, folder: Path, broker: Mosquitto, reader: Rdm6300Sim, member_file: str = MEMBER_FILE, door: str = DOOR
    ) -> None:
        self.folder = folder
        self.broker = broker
        self.reader = reader
        result = run_edge("members", "keygen", "--dir", str(folder / "keys"))
        assert result.returncode == 0, result.stderr
        (folder / "members.yaml").write_text(member_file)
        (folder / "staff.yaml").write_text(
            f"site: lyon\nnode: staff\nmqtt:\n  host: 127.0.0.1\n  port: {broker.port}\n"
        )
        readers = f"      - reader: {{name: inside, type: rdm6300, port: {reader.path}, rearm_s: 0.2}}\n"
        # 26 bits configured and a generous frame timeout: each edge is a request through the pin bridge, and a
        # busy machine can delay one by more than the default 25 ms (these tests are not about Wiegand timing)
        readers += (
            "      - reader: {name: outside, type: wiegand, d0_pin: 20, d1_pin: 21, rearm_s: 0.2,"
            " formats: [26], frame_timeout_s: 0.5}\n"
        )
        self.config = door_config(folder, broker.port, readers=readers, door=door, status_interval_s=0.3)
        self.sim_dir = folder / "sim"
        self.log = folder / "door.log"
        self.daemon = EdgeProcess("door", "-c", str(self.config), "--simulate", str(self.sim_dir), log=self.log)
        self.pins: PinBridgeClient | None = None

    # -- staff -----------------------------------------------------------------------------------------------

    def members(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run `edge members ARGS` from the staff folder."""
        return run_edge("members", *args)

    def push(self) -> int:
        result = self.members(
            "push", "--members", str(self.folder / "members.yaml"), "-c", str(self.folder / "staff.yaml"),
            "--signing-key", str(self.folder / "keys/snapshot-signing.key"),
            "--badge-key", str(self.folder / "keys/badge.key"),
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        return int(result.stdout.split("version ", 1)[1].split()[0])

    def command(self, action: str) -> subprocess.CompletedProcess[str]:
        return self.members(
            "command", action, "--door", "front", "-c", str(self.folder / "staff.yaml"),
            "--signing-key", str(self.folder / "keys/command-signing.key"),
        )  # fmt: skip

    # -- the door --------------------------------------------------------------------------------------------

    def start_door(self) -> None:
        """Start `edge door --simulate` and wait until its pin bridge answers and it says it is ready."""
        readies = self.daemon.output().count("ready in")
        self.daemon.start()
        bridge = self.sim_dir / "door-1.pins"
        wait_until(lambda: self._connect_pins(bridge), timeout=30, what="the pin bridge to answer")
        self.daemon.wait_ready(runs=readies + 1, timeout=30)

    def _connect_pins(self, bridge: Path) -> bool:
        try:
            self.pins = PinBridgeClient(bridge)
            return RELAY_PIN in self.pins.pins()
        except OSError:
            return False

    def stop_door(self) -> int:
        """Stop the door as systemd does (SIGTERM); its exit code."""
        code = self.daemon.stop()
        self._close_pins()
        return code

    def kill_door(self) -> int:
        """Kill the door as a crash or a power cut would (SIGKILL); its exit code."""
        code = self.daemon.kill9()
        self._close_pins()
        return code

    def _close_pins(self) -> None:
        if self.pins is not None:
            self.pins.close()
            self.pins = None

    def relay_locked(self) -> bool:
        assert self.pins is not None
        return self.pins.read(RELAY_PIN) == 1

    def wiegand(self, facility: int, card: int) -> None:
        """Clock a 26-bit frame into the door's D0/D1 mock pins through the bridge (each edge is one request)."""
        assert self.pins is not None
        for bit in encode_wiegand(facility, card):
            pin = 21 if bit else 20
            self.pins.drive(pin, 0)
            self.pins.drive(pin, 1)

    def close(self) -> None:
        """Kill whatever a failed test left running."""
        if self.daemon.alive():
            self.daemon.kill9()
        self._close_pins()
