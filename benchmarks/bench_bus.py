"""The durable bus: outbox append latency (fsync per event) and end-to-end QoS 1 throughput to a real Mosquitto."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from benchmarks.common import Measure, percentile, report, sized
from edge.bus import Bus, Outbox, Row
from edge.config import parse_config
from edge.contract import BadgeScan
from tests.rig.mqtt import Recorder
from tests.rig.servers import Mosquitto


def append_latency(tmp: Path, synchronous: str, n: int = int(sized(2000, 200))) -> list[float]:
    box = Outbox(tmp / f"bench-{synchronous}.sqlite3", synchronous=synchronous)
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        box.append(lambda seq: Row(seq, f"id{seq}", "edge/s/badge/r/scan", b"x" * 200, 1, False))
        samples.append((time.perf_counter() - start) * 1000)
    box.close()
    return samples


def throughput(tmp: Path, n: int = int(sized(5000, 500))) -> float:
    broker = Mosquitto(tmp / "mosquitto")
    broker.start()
    try:
        config = parse_config(
            f"site: bench\nnode: n1\nstate_dir: {tmp / 'state'}\noutbox:\n  synchronous: normal\n"
            f"mqtt:\n  host: 127.0.0.1\n  port: {broker.port}\n"
        )
        recorder = Recorder(broker.port, "edge/bench/badge/#")
        bus = Bus(config, "bench")
        bus.start()
        bus.wait_connected(10)
        start = time.perf_counter()
        for i in range(n):
            bus.publish_event(BadgeScan(reader="r1", token=f"{i:032x}"))
        bus.wait_drained(120)
        recorder.wait_count(n, timeout=120)
        elapsed = time.perf_counter() - start
        bus.stop()
        recorder.close()
        return n / elapsed
    finally:
        broker.kill()


def main() -> None:
    """Measure and report."""
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        full = append_latency(tmp, "full")
        normal = append_latency(tmp, "normal")
        rate = throughput(tmp)
    report(
        [
            Measure("bus", "outbox append p50 (synchronous=full)", percentile(full, 50), "ms"),
            Measure("bus", "outbox append p99 (synchronous=full)", percentile(full, 99), "ms"),
            Measure("bus", "outbox append p50 (synchronous=normal)", percentile(normal, 50), "ms"),
            Measure("bus", "outbox append p99 (synchronous=normal)", percentile(normal, 99), "ms"),
            Measure("bus", "events stored+published+delivered", rate, "ev/s"),
        ]
    )


if __name__ == "__main__":
    main()
