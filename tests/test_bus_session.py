"""The one paho seam, `edge.bus.session.NetworkLoop`, against a real Mosquitto: one I/O thread owns the socket, a
publish from another thread wakes it at once, it reconnects forever (or, for a short-lived tool, not at all), and no
module of edge reaches into paho's private attributes."""

from __future__ import annotations

import ast
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from edge.bus.session import NetworkLoop, acknowledged, make_client
from edge.config import MqttConfig
from tests.rig.fixtures import REPO
from tests.rig.mqtt import Recorder
from tests.rig.servers import Mosquitto, free_port
from tests.rig.waiting import wait_until


class Watched:
    """A client on a NetworkLoop, with what its callbacks saw."""

    def __init__(self, port: int, *, reconnect: bool = True, tick_s: float = 1.0) -> None:
        self.config = MqttConfig(host="127.0.0.1", port=port, reconnect_min_s=0.2, reconnect_max_s=1)
        self.client = make_client(self.config, f"seam-{id(self)}", reconnect=reconnect)
        self.connects = 0
        self.disconnects = 0
        self.callback_threads: set[str] = set()
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.loop = NetworkLoop(self.client, self.config, name="seam-test", reconnect=reconnect, tick_s=tick_s)

    def _on_connect(self, *_args: Any) -> None:
        self.callback_threads.add(threading.current_thread().name)
        self.connects += 1

    def _on_disconnect(self, *_args: Any) -> None:
        self.callback_threads.add(threading.current_thread().name)
        self.disconnects += 1


@pytest.fixture
def recorder(mosquitto: Mosquitto) -> Iterator[Recorder]:
    """A subscriber to everything on the broker."""
    watcher = Recorder(mosquitto.port, "seam/#")
    yield watcher
    watcher.close()


def test_a_publish_from_another_thread_wakes_the_loop_at_once(mosquitto: Mosquitto, recorder: Recorder) -> None:
    # The select waits an hour between wake-ups: the message can only arrive within the wait if publishing woke it.
    watched = Watched(mosquitto.port, tick_s=3600)
    writers: set[str] = set()
    write = watched.client.loop_write

    def loop_write() -> mqtt.MQTTErrorCode:
        writers.add(threading.current_thread().name)
        return write()

    watched.client.loop_write = loop_write  # type: ignore[method-assign]  # who writes the socket
    watched.loop.start()
    try:
        wait_until(lambda: watched.connects == 1, what="the first connection")
        infos: list[mqtt.MQTTMessageInfo] = []
        publisher = threading.Thread(
            target=lambda: infos.append(watched.client.publish("seam/a", b"now", qos=1)), name="publisher"
        )
        publisher.start()
        publisher.join()
        wait_until(lambda: [m.payload for m in recorder.messages] == [b"now"], what="the message at the subscriber")
        wait_until(infos[0].is_published, what="the broker's PUBACK")
        ran_on: list[str] = []
        watched.loop.call_soon(lambda _client: ran_on.append(threading.current_thread().name))
        wait_until(lambda: ran_on == ["seam-test"], what="the call on the I/O thread")
    finally:
        watched.loop.stop()
    assert not watched.loop.alive
    assert writers == {"seam-test"}  # the publisher only queued its packet
    assert watched.callback_threads == {"seam-test"}


def test_the_loop_reconnects_after_the_broker_restarts(mosquitto: Mosquitto) -> None:
    watched = Watched(mosquitto.port)
    watched.loop.start()
    try:
        wait_until(lambda: watched.connects == 1, what="the first connection")
        mosquitto.stop()
        wait_until(lambda: watched.disconnects == 1, what="the loss of the connection")
        mosquitto.start()
        wait_until(lambda: watched.connects == 2, what="a new connection after the restart")
        recorder = Recorder(mosquitto.port, "seam/#")
        try:
            watched.client.publish("seam/b", b"again", qos=1)
            wait_until(lambda: [m.payload for m in recorder.messages] == [b"again"], what="a message after it")
        finally:
            recorder.close()
        assert watched.loop.alive
    finally:
        watched.loop.stop()
    assert not watched.loop.alive


def test_a_publish_made_while_disconnected_counts_as_acknowledged_once_paho_sent_it(
    mosquitto: Mosquitto, recorder: Recorder
) -> None:
    # What killed a door's outbox pump under load: paho's is_published() raises on such a message for ever.
    watched = Watched(mosquitto.port)
    mosquitto.stop()
    watched.loop.start()
    try:
        info = watched.client.publish("seam/offline", b"kept", qos=1)
        assert info.rc == mqtt.MQTT_ERR_NO_CONN
        assert not acknowledged(info)
        mosquitto.start()
        wait_until(lambda: acknowledged(info), what="the message paho kept to be sent and acknowledged")
    finally:
        watched.loop.stop()


def test_a_publish_paho_refused_is_never_acknowledged() -> None:
    client = make_client(MqttConfig(host="127.0.0.1", port=free_port()), "seam-refused")
    client.max_queued_messages_set(1)
    client.publish("seam/a", b"1", qos=1)
    refused = client.publish("seam/b", b"2", qos=1)  # the queue holds one message
    assert refused.rc == mqtt.MQTT_ERR_QUEUE_SIZE
    assert not acknowledged(refused)


def test_a_short_lived_client_stops_once_its_connection_is_lost(mosquitto: Mosquitto) -> None:
    watched = Watched(mosquitto.port, reconnect=False)
    watched.loop.connect()
    try:
        wait_until(lambda: watched.connects == 1, what="the connection")
        mosquitto.stop()
        wait_until(lambda: not watched.loop.alive, what="the I/O thread's end after the connection was lost")
        assert (watched.connects, watched.disconnects) == (1, 1)
        assert watched.client.socket() is None
    finally:
        watched.loop.stop()


def test_a_short_lived_client_that_cannot_connect_says_so_in_the_callers_thread() -> None:
    watched = Watched(free_port(), reconnect=False)  # nothing listens there
    with pytest.raises(OSError):
        watched.loop.connect()
    assert not watched.loop.alive
    watched.loop.stop()


def private_paho_uses(path: Path, root: Path = REPO) -> list[str]:
    """`x._name` (or getattr/setattr/hasattr of "_name") where x is a paho client by its name (`client`,
    `self._client`, `link.client` ...): edge names every paho client so."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            target, name = node.value, node.attr
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "setattr", "hasattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and str(node.args[1].value).startswith("_")
        ):
            target, name = node.args[0], str(node.args[1].value)
        else:
            continue
        if ast.unparse(target).lower().endswith("client"):
            found.append(f"{path.relative_to(root)}:{node.lineno}: {ast.unparse(target)}.{name}")
    return found


def test_no_module_of_edge_touches_a_private_attribute_of_a_paho_client() -> None:
    found = [use for path in sorted((REPO / "edge").rglob("*.py")) for use in private_paho_uses(path)]
    assert found == []


def private_paho_overrides(path: Path, root: Path = REPO) -> list[str]:
    """Methods named `_name` in a class deriving from paho's `Client`: each replaces a private method of paho's."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ClassDef) and any(ast.unparse(b).endswith("Client") for b in node.bases):
            found += [
                f"{path.relative_to(root)}: {node.name}.{item.name}"
                for item in node.body
                if isinstance(item, ast.FunctionDef) and item.name.startswith("_") and not item.name.startswith("__")
            ]
    return found


def test_the_only_private_paho_method_edge_replaces_is_the_socket_factory_the_collector_s_tap_needs() -> None:
    # paho has no public way to put an object between itself and the broker's socket; tests/test_bus_tap.py fails
    # if paho stops calling it for every connection.
    found = [use for path in sorted((REPO / "edge").rglob("*.py")) for use in private_paho_overrides(path)]
    assert found == ["edge/bus/session.py: _WrappingClient._create_socket"]


def test_the_scan_finds_private_attributes_of_a_client(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("self._client._thread = 1\ngetattr(client, '_sock')\nother._x = 2\nself._client.publish()\n")
    assert private_paho_uses(probe, tmp_path) == ["probe.py:1: self._client._thread", "probe.py:2: client._sock"]
