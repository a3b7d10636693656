"""The broker killed (SIGKILL) and restarted again and again during a busy hour: a door taking badges, a desk node
whose seats change, and `edge collector` storing everything in its local store. Afterwards every event of every
node is in the store exactly once, and the door went on deciding, and moving its relay, while the broker was down.

EDGE_SOAK=1 runs more outages and more badges per round (docs/reliability.md)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.bus import Bus
from edge.config import parse_config
from edge.contract import DeskOccupancy, DeskState, Kind
from edge.hardware.sim.serial_devices import Rdm6300Sim
from tests.collector_support import CollectorProcess, collector_yaml
from tests.door_site import Site
from tests.door_support import PREFIX, RESIDENT, SUSPENDED, UNKNOWN, counter, events
from tests.fault_nodes import DeskNode, contiguous, count_kind, seqs
from tests.fault_support import soak
from tests.rig.mqtt import Recorder
from tests.rig.servers import Mosquitto
from tests.rig.waiting import wait_until

# Long fault runs (broker kills during a busy hour): CI runs them, `-m "not slow"` does not.
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("no_leftover_collectors")]

OUTAGES = soak(3, 12)
CARDS_PER_ROUND = soak(6, 30)
DESKS = soak(6, 12)  # seat switches on GPIO: 12 free pins; 48 desks run in bench_presence (radars)


# The broker as deploy/ configures it: Mosquitto saves sessions and queued messages only every
# `autosave_interval`, so a SIGKILL loses what it acknowledged since; the nodes replay it when the collector asks.
AS_DEPLOYED = "autosave_interval 60"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    server = Mosquitto(tmp_path / "mosquitto", extra=AS_DEPLOYED)
    server.start()
    yield server
    server.kill()


def strangers() -> Iterator[str]:
    """Badges nobody holds: distinct 5-byte tags."""
    for n in itertools.count(1):
        yield f"C0{n:08X}"


def badge_round(site: Site, cards: Iterator[str], count: int) -> int:
    """A resident (the relay must open, and close again after unlock_s) and `count - 1` other cards; how many."""
    site.reader.send_card(RESIDENT)
    wait_until(lambda: not site.relay_locked(), what="the relay to unlock for the resident")
    for _ in range(count - 1):
        time.sleep(0.25)  # longer than the reader's re-arm
        site.reader.send_card(next(cards))
    wait_until(site.relay_locked, what="the relay to lock again")
    time.sleep(0.25)
    return count


@pytest.mark.timeout(soak(300, 1800))  # the soak: 12 outages of a door and 48 desks
def test_repeated_broker_kills_during_a_busy_hour_lose_nothing_and_never_stop_the_door(
    tmp_path: Path, broker: Mosquitto, reader: Rdm6300Sim
) -> None:
    mosquitto = broker
    site = Site(tmp_path, mosquitto, reader)
    desks = DeskNode(tmp_path, mosquitto.port, DESKS)
    config = tmp_path / "collector.yaml"
    config.write_text(
        collector_yaml(mosquitto.port, tmp_path / "collector", site="lyon", extra="  replay_after_s: 2\n")
    )
    collector = CollectorProcess(config, mosquitto.port, site="lyon").start()
    store = tmp_path / "collector" / "collector.sqlite3"
    recorder = Recorder(mosquitto.port, f"{PREFIX}/#", client_id="fault-recorder", clean=False)
    try:
        version = site.push()
        site.start_door()
        desks.start()
        assert recorder.wait_for(
            lambda ms: any(s.members_version == version for s in events(recorder, Kind.DOOR_STATE))
        )
        cards = itertools.chain.from_iterable(
            itertools.repeat([UNKNOWN, SUSPENDED, *itertools.islice(strangers(), 50)])
        )
        badged = 0
        for _ in range(OUTAGES):
            badged += badge_round(site, cards, CARDS_PER_ROUND)
            desks.toggle_all()
            mosquitto.kill()
            badged += badge_round(site, cards, CARDS_PER_ROUND)  # the door decides alone
            desks.toggle_all()
            time.sleep(0.5)
            mosquitto.start()
        badged += badge_round(site, cards, CARDS_PER_ROUND)
        desks.toggle_all()
        wait_until(
            lambda: count_kind(store, "door-1", "door_access") >= badged,
            60,
            f"{badged} door decisions in the store",
            lambda: count_kind(store, "door-1", "door_access"),
        )
        assert recorder.wait_for(lambda ms: counter(recorder, "access.granted") >= OUTAGES * 2 + 1, 20)
        # Every desk changed state 2 * OUTAGES + 1 times after its first reading: all of those arrive.
        expected_desk_events = DESKS * (2 * OUTAGES + 1)
        wait_until(
            lambda: count_kind(store, desks.node, "desk_occupancy") >= expected_desk_events,
            120,
            f"{expected_desk_events} desk events in the store",
            lambda: count_kind(store, desks.node, "desk_occupancy"),
        )
        time.sleep(2)  # anything stored twice, or late, would show now
        assert count_kind(store, "door-1", "door_access") == badged
        door_seqs, desk_seqs = seqs(store, "door-1"), seqs(store, desks.node)
        assert contiguous(door_seqs), door_seqs
        assert contiguous(desk_seqs), desk_seqs
        assert count_kind(store, desks.node, "desk_occupancy") >= expected_desk_events
        assert site.stop_door() == 0
        assert desks.stop() == 0
        assert collector.stop() == 0
    finally:
        recorder.close()
        site.close()
        desks.close()


def test_events_a_killed_broker_acknowledged_but_never_saved_are_replayed_by_their_node(tmp_path: Path) -> None:
    # The broker as deployed: it saves to disk only every autosave_interval, so a SIGKILL loses what it held.
    broker = Mosquitto(tmp_path / "mosquitto", extra="autosave_interval 3600")
    broker.start()
    config = tmp_path / "collector.yaml"
    config.write_text(collector_yaml(broker.port, tmp_path / "collector", extra="  replay_after_s: 2\n"))
    store = tmp_path / "collector" / "collector.sqlite3"
    node = parse_config(
        f"site: testsite\nnode: desks\nstate_dir: {tmp_path}/desks\noutbox:\n  synchronous: normal\n"
        f"mqtt:\n  host: 127.0.0.1\n  port: {broker.port}\n  reconnect_min_s: 0.2\n  reconnect_max_s: 1\n"
    )
    bus = Bus(node, "presence")

    def publish(count: int) -> None:
        for i in range(count):
            now = bus.clock.now()
            bus.publish_event(DeskOccupancy(desk=f"d{i % 10}", zone="z1", state=DeskState.OCCUPIED, since=now))
        assert bus.wait_drained(30)  # every one acknowledged by the broker

    try:
        bus.start()
        collector = CollectorProcess(config, broker.port).start()
        publish(10)  # 1..10 reach the collector
        wait_until(
            lambda: len(seqs(store, "desks")) == 10, 30, "10 desk events stored", lambda: collector.output()[-2000:]
        )
        assert collector.stop() == 0
        publish(50)  # 11..60: acknowledged, queued in the broker's memory for the collector's session
        broker.kill()  # SIGKILL: the queue was never saved
        broker.start()
        collector = CollectorProcess(config, broker.port).start()
        publish(10)  # 61..70 arrive; 11..60 are a hole until the node replays them
        wait_until(
            lambda: len(seqs(store, "desks")) == 70,
            60,
            "70 desk events stored",
            lambda: (seqs(store, "desks"), collector.output()[-3000:]),
        )
        assert contiguous(seqs(store, "desks"))
        assert bus.counters.get("events_replayed") >= 50
        assert "asked desks to replay seq 11..60" in collector.output()
        assert collector.stop() == 0
    finally:
        bus.stop()
        broker.kill()
