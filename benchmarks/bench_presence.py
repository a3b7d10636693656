"""Presence benchmarks: desk state-change latency and the idle cost of a node's 48 desks. Prints numbers.

A Pi has 28 GPIOs, so a 48-desk node mixes GPIO desks with UART radars (one per desk, on USB-serial
adapters). The radars here are simulated on ptys by a child process, 10 frames/s each with jittering energies
as real ones send, so this process pays the real cost of reading and parsing them.

1. Idle (in process): 48 desks = 28 GPIO desks (half PIR through gpiozero's MotionSensor sampling at 10 Hz, half seat
   switch) + 20 radar desks, nobody there: CPU time of this process as % of one core, and resident memory.
   `--radars N` moves desks from GPIO to radars (heavier: a radar streams, a switch waits for an edge).
2. Latency: the same node with all 28 GPIO desks on seat switches (MockFactory pins), through the real drivers,
   loop and tracker. Each seat is pressed and released; we measure from the moment the configured delay
   expires (edge + enter or release delay) to the moment the update callback (the daemon's hand-off to the
   bus) receives the change.

3. Daemon hand-off: the real `PresenceService` (drivers, loop, tracker, durable bus) against a real Mosquitto,
   28 seat desks on MockFactory pins + 20 radar desks: from the moment a seat change's delay expires to the
   moment `publish_event` returned (the event is durably in the outbox), and to the moment a subscriber
   received it from the broker.
4. Daemon idle (subprocess): `edge presence -c FILE --simulate DIR` with the 48 desks of (1) and a real
   Mosquitto, nobody there, over a window that includes one heartbeat round: CPU % of one core and resident
   memory of the whole daemon process.

Run: python -m benchmarks.bench_presence [--rounds 10] [--idle-s 30] [--daemon-idle-s 65] [--radars 20]
     (or python -m benchmarks)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from gpiozero.pins.mock import MockFactory

from benchmarks.common import (
    Measure,
    cpu_seconds,
    idle_cpu_percent,
    machine,
    median,
    percentile,
    pss_and_shared_mb,
    report,
    rss_mb,
    sized,
    terminate,
)
from edge.clock import SystemClock
from edge.config import parse_config
from edge.occupancy import DeskUpdate, Occupancy, OccupancyTracker
from edge.presence import DeskSensors, PresenceLoop, desk_specs, zone_specs

MEASURES: list[Measure] = []
DESKS = 48
GPIO_PINS = 28
DELAY_S = 0.05


def _config(
    seat_desks: int = 0,
    pir_desks: int = 0,
    radars: list[Path] | None = None,
    seat_bounce_s: float = 0.05,
    head: str = "",
) -> str:
    lines = [
        "site: bench",
        "node: n",
        head,
        "presence:",
        "  heartbeat_s: 60",
        "  hysteresis:",
        f"    seat: {{enter_s: {DELAY_S}, release_s: {DELAY_S}}}",
        "  zones: [{name: open-space}]",
        "  desks:",
    ]
    if seat_desks + pir_desks > GPIO_PINS or (pir_desks and seat_desks < 2):
        raise SystemExit(f"{seat_desks} + {pir_desks} GPIO desks do not fit {GPIO_PINS} pins (GPIO 2/3: switches)")
    pins = iter([2, 3] + [p for p in range(GPIO_PINS) if p not in (2, 3)])  # 2 and 3 have fixed pull-ups
    for i in range(seat_desks):
        lines += [f"    - name: s{i:02d}", "      zone: open-space", "      sensors:"]
        lines.append(f"        - {{type: seat, pin: {next(pins)}, bounce_s: {seat_bounce_s}}}")
    for i in range(pir_desks):
        lines += [f"    - name: p{i:02d}", "      zone: open-space", "      sensors:"]
        lines.append(f"        - {{type: pir, pin: {next(pins)}}}")
    for i, path in enumerate(radars or []):
        lines += [f"    - name: r{i:02d}", "      zone: open-space", "      sensors:"]
        lines.append(f"        - {{type: ld2410, port: {path}}}")
    return "\n".join(lines) + "\n"


def _radar_sims(paths: list[str], ready, stop) -> None:
    from edge.hardware.sim.ld2410 import EMPTY, RadarSimulator

    sims = [RadarSimulator(p, rate_hz=10, reading=EMPTY).start() for p in paths]
    ready.set()
    stop.wait()
    for sim in sims:
        sim.stop()


@contextlib.contextmanager
def radar_devices(count: int) -> Iterator[list[Path]]:
    """`count` simulated radars on ptys under /dev/shm, run by a child process."""
    folder = Path(tempfile.mkdtemp(prefix="edge-bench-", dir="/dev/shm"))
    paths = [folder / f"ttyRADAR{i}" for i in range(count)]
    context = multiprocessing.get_context("spawn")
    ready, stop = context.Event(), context.Event()
    child = context.Process(target=_radar_sims, args=([str(p) for p in paths], ready, stop), daemon=True)
    child.start()
    try:
        if not ready.wait(60):
            raise RuntimeError("radar simulators did not start")
        yield paths
    finally:
        stop.set()
        child.join(10)
        shutil.rmtree(folder, ignore_errors=True)


class Fleet:
    """A node's desks, running through the real drivers, loop and tracker."""

    def __init__(self, text: str, on_update=None) -> None:
        presence = parse_config(text, check_secrets=False).presence
        assert presence is not None
        self.factory = MockFactory()
        clock = SystemClock()
        tracker = OccupancyTracker(desk_specs(presence), zone_specs(presence), clock, presence.heartbeat_s)
        self.loop = PresenceLoop(tracker, on_update or (lambda updates: None), clock).start()
        self.sensors = DeskSensors(presence, self.loop.post, clock=clock, pin_factory=self.factory)
        self.sensors.start()

    def close(self) -> None:
        self.sensors.close()
        self.loop.stop()
        self.factory.reset()


class Stopwatch:
    """Matches update callbacks against the time each change became due."""

    def __init__(self) -> None:
        self.due: dict[tuple[str, Occupancy], float] = {}
        self.latencies: list[float] = []
        self.arrived = threading.Condition()

    def expect(self, desk: str, state: Occupancy, at: float) -> None:
        with self.arrived:
            self.due[(desk, state)] = at

    def __call__(self, updates) -> None:
        now = time.monotonic()
        with self.arrived:
            for update in updates:
                if isinstance(update, DeskUpdate) and not update.heartbeat:
                    due = self.due.pop((update.desk, update.state), None)
                    if due is not None:
                        self.latencies.append(now - due)
            self.arrived.notify_all()

    def wait_all(self) -> None:
        with self.arrived:
            if not self.arrived.wait_for(lambda: not self.due, timeout=10):
                print(f"  {len(self.due)} expected changes never arrived", file=sys.stderr)
                self.due.clear()


def bench_latency(rounds: int) -> None:
    """Seat edge -> (delay) -> update callback, every seat desk pressed and released `rounds` times."""
    seats = GPIO_PINS
    watch = Stopwatch()
    with radar_devices(DESKS - seats) as radars:
        # No debounce here: in a real config it settles well within the 2 s enter delay, but this run uses
        # 50 ms delays to be short, and the debounce would overlap them.
        fleet = Fleet(_config(seat_desks=seats, radars=radars, seat_bounce_s=0), watch)
        try:
            pins = [fleet.factory.pin(p) for p in [2, 3] + [p for p in range(GPIO_PINS) if p not in (2, 3)]]
            time.sleep(0.5)
            for _ in range(rounds):
                for state, drive in ((Occupancy.OCCUPIED, "drive_low"), (Occupancy.VACANT, "drive_high")):
                    for i, pin in enumerate(pins):
                        watch.expect(f"s{i:02d}", state, time.monotonic() + DELAY_S)
                        getattr(pin, drive)()
                        time.sleep(0.002)  # desks change one after the other, as people do
                    watch.wait_all()
        finally:
            fleet.close()
    ms = [x * 1000 for x in watch.latencies]
    label = f"seat edge+delay -> update, {len(ms)} changes"
    p99 = percentile(ms, 99)
    MEASURES.append(Measure("presence", f"{label} p50", median(ms), "ms"))
    MEASURES.append(Measure("presence", f"{label} p99", p99, "ms", "< 5 ms", p99 < 5))
    MEASURES.append(Measure("presence", f"{label} max", max(ms), "ms"))


def bench_idle(idle_s: float, radar_desks: int) -> None:
    """CPU and memory of 48 desks with nobody there."""
    gpio_desks = DESKS - radar_desks
    pir_desks = gpio_desks // 2
    seat_desks = gpio_desks - pir_desks
    with radar_devices(radar_desks) as radars:
        fleet = Fleet(_config(seat_desks=seat_desks, pir_desks=pir_desks, radars=radars))
        try:
            time.sleep(3)  # start-up done
            before_cpu, before = cpu_seconds(), time.monotonic()
            time.sleep(idle_s)
            cpu = 100 * (cpu_seconds() - before_cpu) / (time.monotonic() - before)
            rss = rss_mb()
            threads = threading.active_count()
        finally:
            fleet.close()
    print(
        f"  48 desks: {pir_desks} PIR (10 Hz sampling), {seat_desks} seat switch, {radar_desks} radar "
        f"(10 frames/s); {threads} threads"
    )
    label = f"48 desks ({radar_desks} radar) idle"
    MEASURES.append(Measure("presence", f"{label} CPU", cpu, "% core", "< 3 %", cpu < 3))
    MEASURES.append(Measure("presence", f"{label} RSS", rss, "MB", "< 40 MB", rss < 40))


def _bus_head(tmp: Path, port: int) -> str:
    return (
        f"state_dir: {tmp / 'state'}\nstatus_interval_s: 60\n"
        f"mqtt:\n  host: 127.0.0.1\n  port: {port}\n  reconnect_min_s: 0.2\n  reconnect_max_s: 1"
    )


class HandOff:
    """Times each desk change from its due moment to `publish_event` returning, and to a subscriber."""

    def __init__(self) -> None:
        self.due: dict[tuple[str, str], float] = {}
        self.stored: dict[tuple[str, str], float] = {}
        self.to_bus: list[float] = []
        self.to_subscriber: list[float] = []
        self.cond = threading.Condition()

    def expect(self, desk: str, state: str, at: float) -> None:
        with self.cond:
            self.due[(desk, state)] = at

    def handed(self, desk: str, state: str) -> None:
        now = time.monotonic()
        with self.cond:
            due = self.due.pop((desk, state), None)
            if due is not None:
                self.to_bus.append(now - due)
                self.stored[(desk, state)] = due

    def received(self, desk: str, state: str) -> None:
        now = time.monotonic()
        with self.cond:
            due = self.stored.pop((desk, state), None)
            if due is not None:
                self.to_subscriber.append(now - due)
            self.cond.notify_all()

    def wait_all(self) -> None:
        with self.cond:
            if not self.cond.wait_for(lambda: not self.due and not self.stored, timeout=20):
                print(f"  {len(self.due) + len(self.stored)} expected changes never arrived", file=sys.stderr)
                self.due.clear()
                self.stored.clear()


def bench_daemon_latency(rounds: int, spacing_s: float) -> None:
    """Seat edge -> (delay) -> DeskOccupancy handed to the durable bus, and delivered by a real broker."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from edge.contract import DeskOccupancy
    from edge.daemons.launch import Launch
    from edge.daemons.presence import PresenceService
    from tests.rig.servers import Mosquitto

    watch = HandOff()
    with tempfile.TemporaryDirectory() as name, radar_devices(DESKS - GPIO_PINS) as radars:
        tmp = Path(name)
        broker = Mosquitto(tmp / "mosquitto")
        broker.start()
        subscriber = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)

        def on_message(_c, _u, msg) -> None:  # type: ignore[no-untyped-def]
            if msg.topic.endswith("/occupancy") and "/desk/" in msg.topic and not msg.retain:
                body = json.loads(msg.payload)
                watch.received(body["desk"], body["state"])

        subscriber.on_message = on_message
        subscriber.connect("127.0.0.1", broker.port)
        subscriber.subscribe("edge/bench/desk/+/occupancy", qos=1)
        subscriber.loop_start()
        text = _config(seat_desks=GPIO_PINS, radars=radars, seat_bounce_s=0, head=_bus_head(tmp, broker.port))
        factory = MockFactory()
        service = PresenceService(Launch(config=parse_config(text), clock=SystemClock(), pin_factory=factory))
        original = service.bus.publish_event

        def timed(body, ts=None):  # type: ignore[no-untyped-def]
            envelope = original(body, ts)
            if isinstance(body, DeskOccupancy):
                watch.handed(body.desk, str(body.state))
            return envelope

        service.bus.publish_event = timed  # type: ignore[method-assign]
        service.start()
        try:
            service.bus.wait_connected(10)
            pins = [factory.pin(p) for p in [2, 3] + [p for p in range(GPIO_PINS) if p not in (2, 3)]]
            time.sleep(1.0)
            for _ in range(rounds):
                for state, drive in (("occupied", "drive_low"), ("vacant", "drive_high")):
                    for i, pin in enumerate(pins):
                        watch.expect(f"s{i:02d}", state, time.monotonic() + DELAY_S)
                        getattr(pin, drive)()
                        time.sleep(spacing_s)
                    watch.wait_all()
        finally:
            service.stop()
            factory.reset()
            subscriber.loop_stop()
            subscriber.disconnect()
            broker.kill()
    for label, samples in (
        ("-> handed to the bus (stored)", watch.to_bus),
        ("-> received by a subscriber", watch.to_subscriber),
    ):
        ms = [x * 1000 for x in samples]
        full = f"daemon: seat edge+delay {label}, {len(ms)} changes"
        p99 = percentile(ms, 99)
        MEASURES.append(Measure("presence", f"{full} p50", median(ms), "ms"))
        target = label.endswith("(stored)")
        MEASURES.append(
            Measure("presence", f"{full} p99", p99, "ms", "< 5 ms" if target else "", p99 < 5 if target else None)
        )


def bench_daemon_idle(idle_s: float, radar_desks: int) -> None:
    """The whole `edge presence` process with 48 desks and nobody there: CPU and resident memory."""
    from tests.rig.fixtures import REPO, edge_command, edge_env
    from tests.rig.servers import Mosquitto

    gpio_desks = DESKS - radar_desks
    pir_desks = gpio_desks // 2
    with tempfile.TemporaryDirectory() as name, radar_devices(radar_desks) as radars:
        tmp = Path(name)
        broker = Mosquitto(tmp / "mosquitto")
        broker.start()
        config = tmp / "node.yaml"
        config.write_text(
            _config(
                seat_desks=gpio_desks - pir_desks, pir_desks=pir_desks, radars=radars, head=_bus_head(tmp, broker.port)
            )
        )
        log = (tmp / "presence.log").open("wb")
        proc = subprocess.Popen(
            edge_command("presence", "-c", str(config), "--simulate", str(tmp / "sim")),
            stdout=log,
            stderr=subprocess.STDOUT,
            env=edge_env(),
            cwd=REPO,
        )
        try:
            time.sleep(5)  # start-up done, every desk published once
            if proc.poll() is not None:
                raise RuntimeError((tmp / "presence.log").read_text())
            cpu = idle_cpu_percent(proc.pid, idle_s)
            rss = rss_mb(proc.pid)
            pss, shared = pss_and_shared_mb(proc.pid)
            threads = len(list(Path(f"/proc/{proc.pid}/task").iterdir()))
        finally:
            code = terminate(proc)
            log.close()
            broker.kill()
    print(f"  edge presence subprocess: {threads} threads, exit code {code} after SIGTERM")
    label = f"daemon: 48 desks ({radar_desks} radar) idle, {idle_s:.0f} s"
    MEASURES.append(Measure("presence", f"{label} CPU", cpu, "% core", "< 3 %", cpu < 3))
    MEASURES.append(Measure("presence", f"{label} RSS", rss, "MB", "< 40 MB", rss < 40))
    MEASURES.append(Measure("presence", f"{label} RSS shared libs", shared, "MB"))
    MEASURES.append(Measure("presence", f"{label} PSS", pss, "MB"))


def main() -> None:
    """Run every presence benchmark."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=int(sized(10, 2)))
    parser.add_argument("--idle-s", type=float, default=sized(30.0, 5.0))
    parser.add_argument(
        "--daemon-idle-s", type=float, default=sized(65.0, 5.0), help="65 s includes one 60 s heartbeat round"
    )
    parser.add_argument("--spacing-s", type=float, default=0.02, help="between two desk changes (daemon latency)")
    parser.add_argument("--radars", type=int, default=DESKS - GPIO_PINS)
    parser.add_argument("--only", choices=["idle", "latency", "daemon-latency", "daemon-idle"], action="append")
    args = parser.parse_args()
    print(f"  {machine()}")
    wanted = set(args.only or ["idle", "latency", "daemon-latency", "daemon-idle"])
    if "idle" in wanted:
        bench_idle(args.idle_s, args.radars)
    if "latency" in wanted:
        bench_latency(args.rounds)
    if "daemon-latency" in wanted:
        bench_daemon_latency(args.rounds, args.spacing_s)
    if "daemon-idle" in wanted:
        bench_daemon_idle(args.daemon_idle_s, args.radars)
    report(MEASURES)


if __name__ == "__main__":
    main()
