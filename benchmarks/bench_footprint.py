"""Footprint and start-up of each daemon as its own process, and of a whole door node. Prints numbers only.

Each daemon runs as a real subprocess (`python -m edge ...`) against a real Mosquitto (and VictoriaMetrics for the
collector), with simulated hardware at the boundary only:

- door: `edge door --simulate` with one door, an RDM6300 on a pty and a Wiegand reader, contact, exit button and
  LED, 1,000 members applied;
- badge (RDM6300): `edge badge` with one reader on a pty;
- badge (MFRC522): `edge badge` with an MFRC522 polled at 10 Hz, answered by the register-level SPI simulator in
  the same process (`benchmarks/mfrc522_badge.py`; its CPU is counted with the daemon's);
- presence: `edge presence --simulate` with 48 desks (14 PIR, 14 seat switches, 20 LD2410 radars on ptys sending
  10 frames/s from a separate process);
- collector: `edge collector` forwarding to VictoriaMetrics, with `influx.api: v2` (influxdb-client) and `v1`
  (standard library HTTP).

Start-up: from spawn to the runtime's "ready in N ms" log line (config loaded, hardware opened, service started),
and from spawn to the node's `online` status received by an MQTT subscriber. Both include the interpreter start
and imports, which dominate. Repeated `--starts` times; the median and the worst are reported.

Footprint: after start-up settles, resident memory (RSS), proportional set size (PSS: shared library pages
divided among the processes that map them), and CPU as % of one core over `--idle-s` seconds with nothing
happening (heartbeats and status messages included).

Whole door node: a door Pi runs `edge door` (its readers are threads inside it; no separate badge daemon). On a
small site the same Pi is also the site's hub and runs Mosquitto; both are reported: `edge door` alone, and
`edge door` + Mosquitto summed.

Targets: badge daemon RSS < 35 MB and MFRC522 at 10 Hz < 2 % of a core (issue 3); presence 48 desks < 3 % and
< 40 MB (issue 4); door RSS < 40 MB (issue 5); collector RSS < 60 MB (issue 6). Start-up has no target.
Run: `python -m benchmarks.bench_footprint [--idle-s 20] [--starts 3] [--only door ...]`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.common import Measure, cpu_seconds, pss_and_shared_mb, report, rss_mb, sized, terminate
from edge.contract import Topics
from edge.files import write_atomic
from edge.hardware.sim.serial_devices import Rdm6300Sim
from tests.rig.fixtures import REPO, edge_command, edge_env
from tests.rig.mqtt import Recorder
from tests.rig.servers import Mosquitto, VictoriaMetrics

MEASURES: list[Measure] = []
BADGE_KEY = b"0123456789abcdef0123456789abcdef"
LIBRARIES = "paho.mqtt.client, pydantic, yaml, ssl, sqlite3"
READY = re.compile(r"ready in (\d+) ms")


@dataclass
class Daemon:
    """One daemon to measure: how to start it, and its targets."""

    label: str
    site: str
    node: str
    command: list[str]
    rss_target: float | None = None
    cpu_target: float | None = None
    extra_pids: Callable[[], dict[str, int]] = field(default=lambda: {})


@dataclass
class Start:
    """One start-up: seconds from spawn to the ready log line and to `online` on MQTT; the runtime's own figure."""

    to_ready: float
    to_online: float
    ready_ms: float


def spawn(daemon: Daemon, broker: Mosquitto, log: Path) -> tuple[subprocess.Popen[bytes], Start]:
    """Start the daemon and wait until it logged ready and published its `online` status."""
    recorder = Recorder(broker.port, Topics(daemon.site).node_status(daemon.node))
    time.sleep(0.2)  # a retained status from an earlier run arrives now, before the spawn
    seen = len(recorder.messages)
    out = log.open("wb")
    began = time.monotonic()
    proc = subprocess.Popen(daemon.command, stdout=out, stderr=subprocess.STDOUT, env=edge_env(), cwd=REPO)
    out.close()
    ready_at = online_at = None
    ready_ms = float("nan")
    deadline = began + 90
    try:
        while (ready_at is None or online_at is None) and time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"{daemon.label} exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            if ready_at is None and (match := READY.search(log.read_text(errors="replace"))):
                ready_at, ready_ms = time.monotonic(), float(match.group(1))
            if online_at is None and any(
                json.loads(m.payload).get("state") == "online" for m in recorder.messages[seen:]
            ):
                online_at = time.monotonic()
            time.sleep(0.005)
    finally:
        recorder.client.loop_stop()
        recorder.client.disconnect()
    if ready_at is None or online_at is None:
        terminate(proc)
        raise TimeoutError(f"{daemon.label} was not ready and online within 90 s:\n{log.read_text()[-3000:]}")
    return proc, Start(ready_at - began, online_at - began, ready_ms)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM and wait (a daemon that does not stop is killed and reported)."""
    terminate(proc)


def cpu_percent(pids: list[int], seconds: float) -> float:
    """Share of one core the processes use together over `seconds`."""
    before, began = sum(cpu_seconds(p) for p in pids), time.monotonic()
    time.sleep(seconds)
    return 100 * (sum(cpu_seconds(p) for p in pids) - before) / (time.monotonic() - began)


def measure(daemon: Daemon, broker: Mosquitto, folder: Path, starts: int, idle_s: float) -> None:
    """Start-up over `starts` runs, then the footprint of the last one."""
    runs: list[Start] = []
    for n in range(starts):
        proc, start = spawn(daemon, broker, folder / f"{daemon.node}-{n}.log")
        runs.append(start)
        if n < starts - 1:
            stop(proc)
    try:
        time.sleep(sized(3.0, 1.0))  # start-up work (first statuses, discovery, first radar frames) is over
        rss = rss_mb(proc.pid)
        pss, shared = pss_and_shared_mb(proc.pid)
        threads = len(list(Path(f"/proc/{proc.pid}/task").iterdir()))
        extra = daemon.extra_pids()
        cpu = cpu_percent([proc.pid], idle_s) if not extra else float("nan")
        if extra:
            own_before = cpu_seconds(proc.pid)
            all_before = own_before + sum(cpu_seconds(p) for p in extra.values())
            began = time.monotonic()
            time.sleep(idle_s)
            elapsed = time.monotonic() - began
            own = cpu_seconds(proc.pid)
            cpu = 100 * (own - own_before) / elapsed
            node_cpu = 100 * (own + sum(cpu_seconds(p) for p in extra.values()) - all_before) / elapsed
            node_rss = rss + sum(rss_mb(p) for p in extra.values())
            node_pss = pss + sum(pss_and_shared_mb(p)[0] for p in extra.values())
    finally:
        stop(proc)
    label = daemon.label
    to_ready = [r.to_ready * 1000 for r in runs]
    to_online = [r.to_online * 1000 for r in runs]
    print(
        f"  {label}: {threads} threads; start-up over {starts} run(s): ready log line "
        f"{', '.join(f'{v:.0f}' for v in to_ready)} ms; online {', '.join(f'{v:.0f}' for v in to_online)} ms; "
        f"runtime's own 'ready in' {', '.join(f'{r.ready_ms:.0f}' for r in runs)} ms"
    )
    MEASURES.append(Measure("footprint", f"{label}: spawn -> ready log, median", statistics.median(to_ready), "ms"))
    MEASURES.append(
        Measure("footprint", f"{label}: spawn -> online on MQTT, median", statistics.median(to_online), "ms")
    )
    MEASURES.append(Measure("footprint", f"{label}: spawn -> online on MQTT, worst", max(to_online), "ms"))
    MEASURES.append(
        Measure("footprint", f"{label}: service start ('ready in')", statistics.median(r.ready_ms for r in runs), "ms")
    )
    rss_target = f"< {daemon.rss_target:.0f} MB" if daemon.rss_target else ""
    MEASURES.append(
        Measure(
            "footprint", f"{label}: RSS", rss, "MB", rss_target, rss < daemon.rss_target if daemon.rss_target else None
        )
    )
    MEASURES.append(Measure("footprint", f"{label}: PSS (shared libs split)", pss, "MB"))
    MEASURES.append(Measure("footprint", f"{label}: RSS in shared pages", shared, "MB"))
    cpu_target = f"< {daemon.cpu_target:g} %" if daemon.cpu_target else ""
    MEASURES.append(
        Measure(
            "footprint",
            f"{label}: idle CPU",
            cpu,
            "% core",
            cpu_target,
            cpu < daemon.cpu_target if daemon.cpu_target else None,
        )
    )
    if extra:
        parts = " + ".join(["edge door", *extra])
        MEASURES.append(Measure("footprint", f"door node ({parts}): RSS", node_rss, "MB"))
        MEASURES.append(Measure("footprint", f"door node ({parts}): PSS", node_pss, "MB"))
        MEASURES.append(Measure("footprint", f"door node ({parts}): idle CPU", node_cpu, "% core"))


@contextlib.contextmanager
def door(folder: Path, broker: Mosquitto) -> Iterator[Daemon]:
    """`edge door --simulate`: one door, a pty RDM6300 and a Wiegand reader, 1,000 members."""
    from benchmarks.bench_door import member_file
    from tests.door_support import SITE, door_config, make_site, signed_snapshot

    folder.mkdir(parents=True)
    make_site(folder)
    reader = Rdm6300Sim()
    readers = f"      - reader: {{name: inside, type: rdm6300, port: {reader.path}}}\n"
    readers += "      - reader: {name: outside, type: wiegand, d0_pin: 20, d1_pin: 21}\n"
    extra = "    contact: {pin: 27}\n    rex: {pin: 22}\n    feedback: {led: {pin: 24}}\n"
    path = door_config(folder, broker.port, readers=readers, door=extra, status_interval_s=60)
    state = folder / "state" / "door-1"
    state.mkdir(parents=True, exist_ok=True)
    write_atomic(state / "members.snapshot", signed_snapshot(folder, 1, member_file(1000)))
    assert broker.proc is not None
    pid = broker.proc.pid
    try:
        yield Daemon(
            "edge door",
            SITE,
            "door-1",
            edge_command("door", "-c", str(path), "--simulate", str(folder / "sim")),
            rss_target=40,
            extra_pids=lambda: {"Mosquitto": pid},
        )
    finally:
        reader.close()


def _badge_config(folder: Path, port: int, reader: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "badge.key").write_bytes(BADGE_KEY)
    path = folder / "node.yaml"
    path.write_text(
        f"site: bench\nnode: reception\nstate_dir: {folder / 'state'}\nbadge_key_file: badge.key\n"
        f"status_interval_s: 60\nmqtt: {{host: 127.0.0.1, port: {port}, reconnect_min_s: 0.2, reconnect_max_s: 1}}\n"
        f"readers:\n  - {reader}\n"
    )
    return path


@contextlib.contextmanager
def badge_rdm6300(folder: Path, broker: Mosquitto) -> Iterator[Daemon]:
    """`edge badge` with one RDM6300 on a pty."""
    reader = Rdm6300Sim()
    path = _badge_config(folder, broker.port, f"{{name: reception, type: rdm6300, port: {reader.path}}}")
    try:
        yield Daemon("edge badge (RDM6300)", "bench", "reception", edge_command("badge", "-c", str(path)), 35)
    finally:
        reader.close()


@contextlib.contextmanager
def badge_mfrc522(folder: Path, broker: Mosquitto) -> Iterator[Daemon]:
    """`edge badge` with an MFRC522 polled at 10 Hz, the SPI simulator in the same process."""
    path = _badge_config(folder, broker.port, "{name: reception, type: mfrc522, poll_interval_s: 0.1}")
    command = [sys.executable, "-m", "benchmarks.mfrc522_badge", "badge", "-c", str(path)]
    yield Daemon("edge badge (MFRC522 10 Hz + sim)", "bench", "reception", command, 35, 2)


@contextlib.contextmanager
def presence(folder: Path, broker: Mosquitto) -> Iterator[Daemon]:
    """`edge presence --simulate` with 48 desks: 14 PIR, 14 seat switches, 20 radars on ptys."""
    from benchmarks.bench_presence import _bus_head, _config, radar_devices

    folder.mkdir(parents=True)
    with radar_devices(20) as radars:
        path = folder / "node.yaml"
        path.write_text(_config(seat_desks=14, pir_desks=14, radars=radars, head=_bus_head(folder, broker.port)))
        command = edge_command("presence", "-c", str(path), "--simulate", str(folder / "sim"))
        yield Daemon("edge presence (48 desks)", "bench", "n", command, 40, 3)


def collector(api: str) -> Callable[[Path, Mosquitto], contextlib.AbstractContextManager[Daemon]]:
    """`edge collector` forwarding to a real VictoriaMetrics through influx `api`."""

    @contextlib.contextmanager
    def make(folder: Path, broker: Mosquitto) -> Iterator[Daemon]:
        folder.mkdir(parents=True)
        victoria = VictoriaMetrics(folder / "vm")
        victoria.start()
        path = folder / "collector.yaml"
        path.write_text(
            f"site: bench\nnode: collector\nstate_dir: {folder / 'state'}\nstatus_interval_s: 60\n"
            f"mqtt: {{host: 127.0.0.1, port: {broker.port}, reconnect_min_s: 0.2, reconnect_max_s: 1}}\n"
            f"collector:\n  influx: {{url: '{victoria.url}', bucket: bench, api: {api}}}\n"
        )
        label = f"edge collector (influx api {api})"
        try:
            yield Daemon(label, "bench", "collector", edge_command("collector", "-c", str(path)), 60)
        finally:
            victoria.kill()

    return make


DAEMONS = {
    "door": door,
    "badge-rdm6300": badge_rdm6300,
    "badge-mfrc522": badge_mfrc522,
    "presence": presence,
    "collector-v2": collector("v2"),
    "collector-v1": collector("v1"),
}


def interpreter(idle_s: float) -> None:
    """The floor every daemon stands on: a bare interpreter, and one that imported only the CLI's entry point."""
    for label, code in (
        ("bare python3.11 interpreter", "import time; time.sleep(60)"),
        ("python + paho, pydantic, yaml, ssl, sqlite3", f"import {LIBRARIES}, time; time.sleep(60)"),
    ):  # fmt: skip
        proc = subprocess.Popen([sys.executable, "-c", code])
        try:
            time.sleep(sized(2.0, 1.0))
            MEASURES.append(Measure("footprint", f"{label}: RSS", rss_mb(proc.pid), "MB"))
        finally:
            proc.kill()
            proc.wait()


def main() -> None:
    """Measure every daemon (or the chosen ones)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--idle-s", type=float, default=sized(20.0, 3.0), help="idle CPU window per daemon")
    parser.add_argument("--starts", type=int, default=int(sized(3, 1)), help="start-ups measured per daemon")
    parser.add_argument("--only", choices=list(DAEMONS), action="append")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-footprint-") as name:
        tmp = Path(name)
        broker = Mosquitto(tmp / "mosquitto")
        broker.start()
        try:
            for key in args.only or list(DAEMONS):
                with DAEMONS[key](tmp / key, broker) as daemon:
                    measure(daemon, broker, tmp / key, args.starts, args.idle_s)
        finally:
            broker.kill()
    interpreter(args.idle_s)
    report(MEASURES)


if __name__ == "__main__":
    main()
