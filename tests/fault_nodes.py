"""Nodes the fault tests run side by side as real subprocesses: a presence node with seat desks driven through the
pin bridge, and reading what a collector store holds per node."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from edge.hardware.sim.pinbridge import PinBridgeClient
from edge.hardware.sim.serial_devices import Rdm6300Sim
from tests.rig.process import EdgeProcess
from tests.rig.waiting import wait_until

SEAT_PINS = (6, 12, 13, 16, 17, 19, 22, 23, 24, 25, 26, 4)  # one seat switch per desk, pressed = LOW


def badge_node(folder: Path, port: int, reader: Rdm6300Sim) -> Path:
    """A reception badge node using the site's badge key."""
    config = folder / "reception.yaml"
    config.write_text(
        f"""site: lyon
node: reception
state_dir: {folder / "state" / "reception"}
badge_key_file: keys/badge.key
status_interval_s: 0.5
mqtt: {{host: 127.0.0.1, port: {port}, reconnect_min_s: 0.2, reconnect_max_s: 1}}
readers:
  - {{name: reception, type: rdm6300, port: {reader.path}, rearm_s: 0.2}}
"""
    )
    return config


class DeskNode:
    """`edge presence --simulate` with `desks` seat desks (short hysteresis), driven through its pin bridge."""

    def __init__(self, folder: Path, port: int, desks: int, node: str = "desks-1", site: str = "lyon") -> None:
        self.node = node
        self.pins_used = SEAT_PINS[:desks]
        self.config = folder / f"{node}.yaml"
        desk_lines = "".join(
            f"    - {{name: d{i:02}, zone: open, sensors: [{{type: seat, pin: {pin}}}]}}\n"
            for i, pin in enumerate(self.pins_used)
        )
        self.config.write_text(
            f"""site: {site}
node: {node}
state_dir: {folder / "state" / node}
status_interval_s: 0.5
mqtt: {{host: 127.0.0.1, port: {port}, reconnect_min_s: 0.2, reconnect_max_s: 1}}
presence:
  heartbeat_s: 3600
  hysteresis:
    seat: {{enter_s: 0.1, release_s: 0.2, gap_s: 0}}
  zones: [{{name: open}}]
  desks:
{desk_lines}"""
        )
        self.sim_dir = folder / "sim"
        self.log = folder / f"{node}.log"
        self.daemon = EdgeProcess("presence", "-c", str(self.config), "--simulate", str(self.sim_dir), log=self.log)
        self.pins: PinBridgeClient | None = None
        self.pressed: dict[int, bool] = {}

    def start(self) -> None:
        """Start the daemon and wait until every seat pin answers on the bridge."""
        self.daemon.start()
        bridge = self.sim_dir / f"{self.node}.pins"
        wait_until(lambda: self._connect(bridge), timeout=30, what="the presence pin bridge")
        for pin, down in self.pressed.items():  # a restarted node reads the seats as they are
            self.press(pin, down)

    def _connect(self, bridge: Path) -> bool:
        if not bridge.exists():
            return False
        try:
            self.pins = PinBridgeClient(bridge)
            return set(self.pins_used) <= set(self.pins.pins())
        except OSError:
            return False

    def press(self, pin: int, down: bool) -> None:
        """Someone sits down (`down`) or leaves the seat on `pin`."""
        assert self.pins is not None
        self.pins.drive(pin, 0 if down else 1)
        self.pressed[pin] = down

    def toggle_all(self) -> None:
        """Every desk changes state."""
        for pin in self.pins_used:
            self.press(pin, not self.pressed.get(pin, False))

    def stop(self) -> int:
        """Stop it as systemd does (SIGTERM); its exit code."""
        self._close_pins()
        return self.daemon.stop()

    def kill9(self) -> int:
        """Kill it as a crash or a power cut would (SIGKILL); its exit code."""
        self._close_pins()
        return self.daemon.kill9()

    def close(self) -> None:
        """Kill whatever is left after a failed test."""
        self._close_pins()
        if self.daemon.alive():
            self.daemon.kill9()

    def _close_pins(self) -> None:
        if self.pins is not None:
            self.pins.close()
            self.pins = None


def seqs(store: Path, node: str) -> list[int]:
    """Every event seq of `node` in a collector store (node statuses excluded), in seq order."""
    with sqlite3.connect(store) as db:
        rows = db.execute(
            "SELECT seq FROM events WHERE node = ? AND kind != 'node_status' ORDER BY seq", (node,)
        ).fetchall()
    return [r[0] for r in rows]


def count_kind(store: Path, node: str, kind: str) -> int:
    """How many events of `kind` from `node` a collector store holds."""
    with sqlite3.connect(store) as db:
        row = db.execute("SELECT COUNT(*) FROM events WHERE node = ? AND kind = ?", (node, kind)).fetchone()
    return int(row[0])


def contiguous(numbers: list[int]) -> bool:
    """1, 2, ..., n with nothing missing and nothing twice."""
    return numbers == list(range(1, len(numbers) + 1))
