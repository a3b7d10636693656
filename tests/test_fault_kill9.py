"""kill -9 of each daemon (door, presence, badge, collector) at random points while badges and seats keep coming,
each restarted at once: afterwards every event each node numbered is in the collector's store exactly once (its
seqs run 1..last with no gap, and `last` is the seq the node itself reports), and every restarted door drives its
relay locked first. The random schedule's seed is printed; EDGE_SOAK=1 runs more kills."""

from __future__ import annotations

import json
import random
import signal
import threading
import time
from pathlib import Path

import pytest

from edge.hardware.sim.serial_devices import Rdm6300Sim
from tests.collector_support import CollectorProcess, collector_yaml
from tests.door_site import Site
from tests.door_support import PREFIX, RESIDENT, UNKNOWN
from tests.fault_nodes import DeskNode, badge_node, seqs
from tests.fault_support import soak
from tests.rig.mqtt import Recorder
from tests.rig.process import EdgeProcess
from tests.rig.servers import Mosquitto
from tests.rig.waiting import wait_until

# Long fault runs (kill -9 of every daemon at random points under load): CI runs them, `-m "not slow"` does not.
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("no_leftover_collectors")]

KILLS = soak(8, 40)
DAEMONS = ("door", "presence", "badge", "collector")


def last_seq(recorder: Recorder, node: str) -> int | None:
    """The outbox seq a node's latest status reports (its last numbered event)."""
    topic = f"{PREFIX}/node/{node}/status"
    found = [m for m in list(recorder.messages) if m.topic == topic and m.payload]
    return int(json.loads(found[-1].payload)["seq"]) if found else None


def complete(store: Path, recorder: Recorder, node: str) -> bool:
    """The store holds seqs 1..last of `node`, each once, `last` being what the node reports."""
    stored = seqs(store, node)
    return bool(stored) and stored == list(range(1, len(stored) + 1)) and last_seq(recorder, node) == len(stored)


def test_kill_9_of_each_daemon_at_random_points_under_load_loses_nothing_and_the_relay_restarts_locked(
    tmp_path: Path, mosquitto: Mosquitto, door_reader: Rdm6300Sim, desk_reader: Rdm6300Sim
) -> None:
    seed = random.randrange(1 << 32)
    print(f"kill schedule seed {seed}")
    rng = random.Random(seed)
    site = Site(tmp_path, mosquitto, door_reader)
    desks = DeskNode(tmp_path, mosquitto.port, 4)
    badge = EdgeProcess(
        "badge", "-c", str(badge_node(tmp_path, mosquitto.port, desk_reader)), log=tmp_path / "reception.log"
    )
    config = tmp_path / "collector.yaml"
    config.write_text(collector_yaml(mosquitto.port, tmp_path / "collector", site="lyon"))
    collector = CollectorProcess(config, mosquitto.port, site="lyon")
    store = tmp_path / "collector" / "collector.sqlite3"
    recorder = Recorder(mosquitto.port, f"{PREFIX}/node/+/status")
    stop = threading.Event()
    door_quiet = threading.Event()  # no badge at the door while a restarted door's first relay level is read
    failures: list[BaseException] = []

    def load() -> None:
        cards = [RESIDENT, UNKNOWN, "C2000000A1", "C2000000B2"]
        n = 0
        while not stop.is_set():
            n += 1
            try:
                if not door_quiet.is_set():
                    door_reader.send_card(cards[n % len(cards)])
                desk_reader.send_card(cards[(n + 1) % len(cards)])
                if n % 3 == 0 and desks.pins is not None:
                    desks.toggle_all()
            except (OSError, AssertionError):
                pass  # a daemon is being killed or restarted: the next round goes on
            except BaseException as exc:
                failures.append(exc)
            stop.wait(0.25)

    loader = threading.Thread(target=load, daemon=True)
    try:
        collector.start()
        site.push()
        site.start_door()
        desks.start()
        badge.start()
        loader.start()
        victims = [*DAEMONS, *(rng.choice(DAEMONS) for _ in range(KILLS - len(DAEMONS)))]  # each at least once
        rng.shuffle(victims)
        for victim in victims:
            time.sleep(rng.uniform(0.3, 2.5))
            if victim == "door":
                door_quiet.set()
                time.sleep(0.3)  # a card already sent is read by this process, not left for the next one
                assert site.kill_door() == -signal.SIGKILL
                site.start_door()
                assert site.relay_locked()  # the first level a restarted door drives, even if killed unlocked
                door_quiet.clear()
            elif victim == "presence":
                assert desks.kill9() == -signal.SIGKILL
                desks.start()
            elif victim == "badge":
                assert badge.kill9() == -signal.SIGKILL
                badge.start()
            else:
                collector.kill9()
                collector.start()
        stop.set()
        loader.join(10)
        assert not failures, failures
        for node in ("door-1", desks.node, "reception"):
            wait_until(
                lambda node=node: complete(store, recorder, node),  # type: ignore[misc]
                60,
                f"every event of {node} stored",
                lambda node=node: (last_seq(recorder, node), seqs(store, node)[-5:], len(seqs(store, node))),  # type: ignore[misc]
            )
        wait_until(site.relay_locked, 30, "the relay to lock again")  # the last grant's unlock_s runs out
        assert site.stop_door() == 0
        assert desks.stop() == 0
        assert badge.stop() == 0
        assert collector.stop() == 0
    finally:
        stop.set()
        recorder.close()
        site.close()
        desks.close()
        if badge.alive():
            badge.kill9()
