"""VictoriaMetrics down for a long outage while events keep coming: `edge collector` keeps everything in its local
store with bounded memory, and after the outage every event reaches VictoriaMetrics exactly once (read back through
its export API). EDGE_SOAK=1 makes the outage and the backlog ten times larger."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.collector_support import (
    CollectorProcess,
    Publisher,
    collector_yaml,
    desk_event,
    desk_timestamps,
    samples,
    store_ids,
    wire,
)
from tests.fault_support import soak
from tests.rig.servers import Mosquitto, VictoriaMetrics
from tests.rig.waiting import wait_until

# Long fault runs (a long outage with a backlog of 20,000 events): CI runs them, `-m "not slow"` does not.
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("no_leftover_collectors")]

BACKLOG = soak(20_000, 200_000)  # events published while VictoriaMetrics is down
RSS_LIMIT_MB = 150  # a Pi 4 runs door, presence and the broker beside the collector


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


def test_a_long_influx_outage_under_load_loses_nothing_keeps_memory_bounded_and_drains_fully(
    mosquitto: Mosquitto, victoria: VictoriaMetrics, tmp_path: Path
) -> None:
    config = tmp_path / "collector.yaml"
    config.write_text(collector_yaml(mosquitto.port, tmp_path / "state", victoria=victoria))
    collector = CollectorProcess(config, mosquitto.port).start()
    assert collector.alive()
    store = tmp_path / "state" / "collector.sqlite3"
    publisher = Publisher(mosquitto.port)
    first = [wire(desk_event(i)) for i in range(500)]
    publisher.send(first)
    wait_until(lambda: len(samples(victoria, "desk_state_occupied")) >= 1, 30)
    victoria.stop()
    peak: list[float] = [rss_mb(collector.pid)]
    done = threading.Event()

    def watch(pid: int) -> None:
        while not done.wait(0.2):
            peak.append(rss_mb(pid))

    watcher = threading.Thread(target=watch, args=(collector.pid,), daemon=True)
    watcher.start()
    backlog = [wire(desk_event(i)) for i in range(500, 500 + BACKLOG)]
    for start in range(0, len(backlog), 2000):
        publisher.send(backlog[start : start + 2000])
    total = 500 + BACKLOG
    wait_until(lambda: len(store_ids(store)) >= total, 120, info=lambda: len(store_ids(store)))
    victoria.start()
    try:
        wait_until(
            lambda: len(set(samples(victoria, "desk_state_occupied"))) >= total,
            180,
            "the backlog to drain into VictoriaMetrics",
            lambda: (len(samples(victoria, "desk_state_occupied")), collector.output()[-2000:]),
        )
    finally:
        done.set()
        watcher.join(5)
    assert sorted(t for _, t in samples(victoria, "desk_state_occupied")) == desk_timestamps(total)
    assert max(peak) < RSS_LIMIT_MB, f"collector RSS peaked at {max(peak):.0f} MB"
    print(f"backlog {BACKLOG} events, collector RSS peak {max(peak):.0f} MB")
    publisher.close()
    assert collector.stop() == 0
