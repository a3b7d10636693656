"""Two shapes of an MQTT receiver with the same work per message: one process (today's collector) or two.

    python -m benchmarks.collector_shapes [--events 30000] [--work-us 30]

A queued persistent session of N desk events is drained with manual QoS 1 acknowledgement in two shapes, each
doing `--work-us` microseconds of CPU per message after receipt (a stand-in for the store's and forwarder's work,
which this measures no better than its stand-in) and acknowledging only after it:
(a) threads: paho's loop in one thread, the work in another, acknowledgements back to paho (the collector today);
(b) processes: paho in a spawned child that hands batches through a pipe, the work in the parent, acknowledgements
    back through a second pipe.
Each is compared with the bare paho subscriber (bench_collector's ceiling) measured in the same round. Not part
of `python -m benchmarks`: it answers a design question (issue 17), docs/benchmarks.md quotes its output.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import pickle
import queue
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

BATCH = 250  # messages per hand-over, the collector's store batch
DRAIN_S = 300  # a drain that takes longer lost messages: fail rather than wait forever

# benchmarks.bench_collector and the rig are imported inside functions: the spawned child re-imports this module
# and must stay a bare paho receiver.


def _client(port: int, name: str, on_message) -> mqtt.Client:  # type: ignore[no-untyped-def]
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = 3600
    props.ReceiveMaximum = 1000
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=name, protocol=mqtt.MQTTv5)
    client.manual_ack_set(True)
    client.on_message = on_message
    client.connect("127.0.0.1", port, 60, clean_start=False, properties=props)
    return client


def queue_drain(port: int, name: str, n: int) -> None:
    """Create the persistent session `name` subscribed to every edge topic, leave it, and queue n desk events."""
    from benchmarks.bench_collector import TOPICS, desk_stream, publish_all

    subscribed = threading.Event()
    client = _client(port, name, lambda *a: None)
    client.on_subscribe = lambda *a: subscribed.set()
    client.loop_start()
    client.subscribe(TOPICS.everything(), 1)
    if not subscribed.wait(30):
        raise RuntimeError(f"{name}: the broker did not acknowledge the subscription")
    client.disconnect()
    client.loop_stop()
    publish_all(port, desk_stream(n, datetime.now(UTC) - timedelta(hours=1)))


def child(port: int, name: str, out, back) -> None:  # type: ignore[no-untyped-def]
    """The receiver: paho, batches out through `out`, mids to acknowledge back through `back`."""
    pending: list[tuple[str, bytes, int]] = []

    def on_message(_c, _u, m):  # type: ignore[no-untyped-def]
        pending.append((m.topic, m.payload, m.mid))
        if len(pending) >= BATCH:
            flush()

    def flush() -> None:
        if pending:
            out.send_bytes(pickle.dumps(pending[:], protocol=5))
            pending.clear()

    client = _client(port, name, on_message)

    def acker() -> None:
        while True:  # until the parent kills this process
            for mid in back.recv():
                client.ack(mid, 1)

    threading.Thread(target=acker, daemon=True).start()
    while True:
        client.loop(0.005)
        flush()  # a partial batch once no more input is waiting


def burn(us: float) -> None:
    """Spend `us` microseconds of CPU (the stand-in for the work per message)."""
    end = time.perf_counter() + us / 1e6
    while time.perf_counter() < end:
        pass


def split_rate(port: int, n: int, work_us: float) -> float:
    """Messages acknowledged per second with paho in a child process and the work in this one."""
    name = "probe-split"
    queue_drain(port, name, n)
    ctx = mp.get_context("spawn")
    out_r, out_w = ctx.Pipe(duplex=False)
    back_r, back_w = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=child, args=(port, name, out_w, back_r), daemon=True)
    proc.start()
    got, first, deadline = 0, 0.0, time.monotonic() + DRAIN_S
    while got < n:
        if not out_r.poll(max(0.0, deadline - time.monotonic())):
            proc.kill()
            raise RuntimeError(f"split: {got} of {n} messages in {DRAIN_S} s")
        batch = pickle.loads(out_r.recv_bytes())
        if not first:
            first = time.perf_counter()
        for _m in batch:
            burn(work_us)
        got += len(batch)
        back_w.send([m[2] for m in batch])
    last = time.perf_counter()
    proc.kill()
    return (n - 1) / (last - first)


def thread_rate(port: int, n: int, work_us: float) -> float:
    """Today's shape: paho's thread receives, a worker thread does the work, acks go back to paho's thread."""
    name = "probe-thread"
    queue_drain(port, name, n)
    inbox: queue.Queue[list[int]] = queue.Queue()
    pending: list[int] = []

    def on_message(_c, _u, m):  # type: ignore[no-untyped-def]
        pending.append(m.mid)
        if len(pending) >= BATCH:
            inbox.put(pending[:])
            pending.clear()

    client = _client(port, name, on_message)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            client.loop(0.005)
            if pending:
                inbox.put(pending[:])
                pending.clear()

    threading.Thread(target=loop, daemon=True).start()
    got, first = 0, 0.0
    while got < n:
        try:
            mids = inbox.get(timeout=DRAIN_S)
        except queue.Empty:
            raise RuntimeError(f"threads: {got} of {n} messages, then none for {DRAIN_S} s") from None
        if not first:
            first = time.perf_counter()
        for mid in mids:
            burn(work_us)
            client.ack(mid, 1)
        got += len(mids)
    last = time.perf_counter()
    stop.set()
    client.disconnect()
    return (n - 1) / (last - first)


def main() -> None:
    """Run the rounds on one Mosquitto and print each round's three rates."""
    from benchmarks.bench_collector import bare_subscriber_rate
    from tests.rig.servers import Mosquitto

    parser = argparse.ArgumentParser(prog="python -m benchmarks.collector_shapes", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=30_000, help="events queued per drain (default 30000)")
    parser.add_argument("--work-us", type=float, default=30.0, help="CPU microseconds of work per message")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of the three drains")
    args = parser.parse_args()
    n, work_us = args.events, args.work_us
    with tempfile.TemporaryDirectory() as tmp:
        broker = Mosquitto(Path(tmp) / "mq", max_queued=max(200_000, 2 * n))
        broker.start()
        try:
            for _ in range(args.rounds):
                bare = bare_subscriber_rate(broker.port, n)
                split = split_rate(broker.port, n, work_us)
                threads = thread_rate(broker.port, n, work_us)
                print(
                    f"bare {bare:7.0f}  split {split:7.0f} ({split / bare:.2f})  "
                    f"threads {threads:7.0f} ({threads / bare:.2f})  work {work_us} us/msg",
                    flush=True,
                )
        finally:
            broker.kill()


if __name__ == "__main__":
    main()
