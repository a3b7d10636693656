"""Building a configured paho client (protocol, TLS, credentials) and `NetworkLoop`, the one thread that drives it.

Every MQTT user in edge goes through here: daemons (the bus), the collector's link, the console, staff tools, the
doctor and the demo.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge.backoff import Backoff
from edge.config import MqttConfig, TlsConfig, read_secret
from edge.contract.limits import default_max_packet_size
from edge.errors import ConfigError
from edge.metrics import Counters

log = logging.getLogger(__name__)


def make_client(
    config: MqttConfig,
    client_id: str,
    *,
    clean: bool = True,
    reconnect: bool = True,
    wrap_socket: Callable[[Any], Any] | None = None,
) -> mqtt.Client:
    """A paho 2.x client configured from the node's MQTT section (not yet connected).

    `reconnect=False` is for short-lived tools, driven by `NetworkLoop(..., reconnect=False)`: once the connection is
    lost it is not taken again (as the broker gives each user one connection, that would take it back from whoever
    took it over); paho itself then never retries a refused CONNECT with another protocol version or client id.
    `wrap_socket` puts an object between paho and each new connection's socket (TLS done): the collector's tap.
    """
    v5 = config.protocol == "5"
    client = (mqtt.Client if wrap_socket is None else _WrappingClient)(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
        clean_session=None if v5 else clean,
        reconnect_on_failure=reconnect,
    )
    if config.username is not None:
        password = read_secret(config.password_file).decode() if config.password_file else None
        client.username_pw_set(config.username, password)
    if config.tls is not None:
        client.tls_set_context(tls_context(config.tls))
        client.tls_insecure_set(config.tls.insecure_skip_verify)
    client.max_inflight_messages_set(config.max_inflight)
    client.max_queued_messages_set(0)
    if isinstance(client, _WrappingClient) and wrap_socket is not None:
        client.wrap_socket = wrap_socket
    return client


class _WrappingClient(mqtt.Client):
    """A paho client whose connections go through `wrap_socket` (see `make_client`)."""

    wrap_socket: Callable[[Any], Any]

    def _create_socket(self) -> Any:
        # paho 2.x's one place that makes a connection's socket (TCP, then TLS and its handshake); paho has no
        # public hook to replace the socket it reads. tests/test_bus_tap.py fails if this stops being called.
        return self.wrap_socket(super()._create_socket())


def tls_context(tls: TlsConfig) -> ssl.SSLContext:
    """The TLS context for the broker (its CA, the client certificate if any); ConfigError naming the config key of
    each file that cannot be used. `edge check-config` runs it too, so it cannot pass files a daemon then refuses."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies the broker's certificate and host name
    issues: list[str] = []
    try:
        context.load_verify_locations(cafile=str(tls.ca_file))
    except OSError as exc:  # ssl.SSLError included
        issues.append(f"mqtt.tls.ca_file: {tls.ca_file}: {_tls_problem(exc, 'not a PEM CA certificate')}")
    if tls.cert_file is not None and tls.key_file is not None:
        asked: list[bool] = []

        def no_password() -> bytes:
            asked.append(True)  # else OpenSSL would prompt on a terminal a daemon does not have
            return b""

        try:
            context.load_cert_chain(str(tls.cert_file), str(tls.key_file), password=no_password)
        except OSError as exc:
            problem = (
                "the key is encrypted: a daemon cannot type its passphrase (store it unencrypted, mode 0640)"
                if asked
                else _tls_problem(exc, "not a PEM certificate and its matching private key")
            )
            issues.append(f"mqtt.tls.cert_file, mqtt.tls.key_file: {tls.cert_file}, {tls.key_file}: {problem}")
    if issues:
        raise ConfigError(issues)
    return context


def _tls_problem(exc: OSError, unusable: str) -> str:
    if isinstance(exc, ssl.SSLError) or not exc.strerror:
        return f"{unusable} ({getattr(exc, 'reason', None) or exc})"
    return f"cannot read: {exc.strerror}"


def max_packet_size(config: MqttConfig, client: str) -> int:
    """The largest packet this kind of client (door, badge, presence, collector, staff ...) accepts from the broker."""
    return config.max_packet_size or default_max_packet_size(client)


def connect_properties(config: MqttConfig, client: str) -> Properties | None:
    """MQTT 5 CONNECT properties every edge client sends: its Maximum Packet Size (None with MQTT 3.1.1).

    The broker never sends a client a packet above that size (it drops the message for that client), so a daemon
    that has no use for a large message never reads one, whatever a misbehaving node published.
    """
    if config.protocol != "5":
        return None
    properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    properties.MaximumPacketSize = max_packet_size(config, client)
    return properties


class NetworkLoop:
    """The one way edge drives a paho client: one I/O thread owns its socket and reconnects (or not) by policy.

    The thread runs paho's external-loop API (`loop_read`/`loop_write`/`loop_misc` around our own `select` on the
    client's socket and a wake socket pair), never `loop_forever`/`loop_start`, and no private paho attribute:

    * Other threads' `publish()`, `subscribe()`, `ack()` and `disconnect()` only queue packets. paho writes a queued
      packet from the caller's thread unless a network thread runs or `on_socket_register_write` is set; we set that
      hook, and it wakes the select, so the packet leaves at once, written by this thread (two threads writing one
      socket, or one TLS session, corrupt it).
    * Work that must run on this thread (an acknowledgement that depends on the connection) goes through `call_soon`.
    * `reconnect=True` (daemons): connecting never ends until `stop()`. Every attempt after the first waits
      `Backoff`: the first delay after a session (a broker that drops each new connection, or a second client with
      our id, is not hammered), doubling while attempts fail. Any exception leads to another attempt.
    * `reconnect=False` (short-lived tools, `make_client(..., reconnect=False)`): the thread ends with the first
      connection (or the first failed attempt); whatever waits on the client learns it from `on_disconnect`.

    `read(sock)` reads what the socket has (default: one `loop_read`, as paho's own loop does) and returns False when
    the connection was lost; the collector's link reads several packets per wake-up (edge/collector/link.py).
    """

    def __init__(
        self,
        client: mqtt.Client,
        config: MqttConfig,
        *,
        clean: bool = True,
        name: str = "mqtt",
        properties: Properties | None = None,
        reconnect: bool = True,
        read: Callable[[Any], bool] | None = None,
        counters: Counters | None = None,
        tick_s: float = 1.0,
    ) -> None:
        self.heartbeat = 0.0
        """When the thread last passed its loop (time.monotonic()), for a watchdog; it passes at least every tick."""
        self._client = client
        self._config = config
        self._clean = clean
        self._properties = properties
        self._reconnect = reconnect
        self._read = read or self._read_once
        self._counters = counters
        self._tick_s = tick_s  # the longest select: keepalive pings are checked after it (a test makes it long)
        self._stopping = threading.Event()
        self._calls: collections.deque[Callable[[mqtt.Client], None]] = collections.deque()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._backoff = Backoff(config.reconnect_min_s, config.reconnect_max_s)
        self._attempts = 0  # connections attempted
        self._session = False  # whether the latest attempt reached a session (CONNACK accepted)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        client.on_socket_register_write = self._wake_for_write

    # -- other threads ---------------------------------------------------------------------------------------

    def start(self) -> None:
        """Begin connecting in the background (the broker may be down)."""
        if self._config.protocol == "5":
            self._client.connect_async(*self._where(), clean_start=self._clean, properties=self._properties)
        else:
            self._client.connect_async(*self._where())
        self._thread.start()

    def connect(self) -> None:
        """Connect in the caller's thread (paho's OSError or ValueError propagate), then run the loop."""
        self._attempts = 1
        if self._config.protocol == "5":
            self._client.connect(*self._where(), clean_start=self._clean, properties=self._properties)
        else:
            self._client.connect(*self._where())
        self._thread.start()  # the CONNECT packet waits for it: the hook woke a select that is not running yet

    @property
    def alive(self) -> bool:
        """Whether the I/O thread runs (connected or trying to)."""
        return self._thread.is_alive()

    def call_soon(self, call: Callable[[mqtt.Client], None]) -> None:
        """Run `call(client)` on the I/O thread, after the socket's input of the current wake-up."""
        self._calls.append(call)
        self._wake()

    def stop(self, timeout: float = 5.0) -> None:
        """Disconnect cleanly (no last will), let the DISCONNECT out and end the I/O thread."""
        self._stopping.set()
        self.call_soon(_disconnect)
        if self._thread.ident is not None:
            self._thread.join(timeout)
        self._wake_r.close()
        self._wake_w.close()

    def _where(self) -> tuple[str, int, int]:
        return self._config.host, self._config.port, self._config.keepalive

    def _wake(self) -> None:
        with contextlib.suppress(OSError):  # BlockingIOError: a wake-up is pending already; closed: stopped
            self._wake_w.send(b"\0")

    def _wake_for_write(self, _client: mqtt.Client, _userdata: Any, _sock: Any) -> None:
        # paho's on_socket_register_write: a packet was queued while none was waiting. From another thread, wake the
        # select so this thread writes it now; on this thread, the end of the current turn writes it anyway.
        if threading.get_ident() != self._thread.ident:
            self._wake()

    # -- the I/O thread --------------------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            self.heartbeat = time.monotonic()
            try:
                if self._stopping.is_set():
                    self._run_calls()
                    self._flush()
                    return
                if self._client.socket() is not None:
                    self._turn()
                elif self._attempts and not self._reconnect:
                    return  # a short-lived tool's connection ended: nothing more to do
                else:
                    self._attempt()
            except Exception:  # a failure must lead to another attempt, never to a dead client
                self._count("mqtt_loop_errors")
                log.exception("MQTT I/O failed; reconnecting")
                with contextlib.suppress(Exception):
                    self._client.disconnect()
                self._pause(self._backoff.current)

    def _attempt(self) -> None:
        if self._attempts:
            self._pause(self._backoff.failed())
            if self._stopping.is_set():
                return
        self._attempts += 1
        self._session = False
        try:
            self._client.reconnect()
        except Exception as exc:
            retry = f"; retrying in {self._backoff.current:.1f} s" if self._reconnect else ""
            log.warning("cannot reach the broker %s:%s (%s)%s", self._config.host, self._config.port, exc, retry)

    def _pause(self, seconds: float) -> None:
        # in slices, so the heartbeat shows a waiting loop, not a hung one
        end = time.monotonic() + seconds
        while not self._stopping.is_set() and time.monotonic() < end:
            self.heartbeat = time.monotonic()
            self._stopping.wait(min(1.0, end - time.monotonic()))

    def _turn(self) -> None:
        sock = self._client.socket()
        if sock is None:
            return
        buffered = tls_buffered(sock)  # TLS: bytes already decrypted, which select cannot see
        wlist = [sock] if self._client.want_write() or _unsent(sock) else []
        readable, writable, _ = select.select([sock, self._wake_r], wlist, [], 0.0 if buffered else self._tick_s)
        if writable and _unsent(sock):
            sock.flush()  # type: ignore[attr-defined]  # a wrapped socket's own queue (the collector's tap)
        if self._wake_r in readable:
            with contextlib.suppress(BlockingIOError):
                self._wake_r.recv(65536)
        if (sock in readable or buffered) and not self._read(sock):
            return  # the connection was lost (paho called on_disconnect): the next pass reconnects
        self._run_calls()
        if self._client.want_write():
            self._client.loop_write()
        self._client.loop_misc()
        if not self._session and self._client.is_connected():
            self._session = True
            self._backoff.succeeded()

    def _read_once(self, _sock: Any) -> bool:
        return self._client.loop_read() == mqtt.MQTT_ERR_SUCCESS

    def _run_calls(self) -> None:
        while self._calls:
            call = self._calls.popleft()
            try:
                call(self._client)
            except Exception:
                self._count("mqtt_call_errors")
                log.exception("MQTT call failed")

    def _flush(self) -> None:
        # Let the DISCONNECT (and any last acknowledgements) reach the socket before the thread ends.
        with contextlib.suppress(Exception):
            while self._client.socket() is not None and self._client.want_write():
                if self._client.loop_write() != mqtt.MQTT_ERR_SUCCESS:
                    break

    def _count(self, name: str) -> None:
        if self._counters is not None:
            self._counters.inc(name)


def _disconnect(client: mqtt.Client) -> None:
    client.disconnect()


def _unsent(sock: Any) -> int:
    unsent = getattr(sock, "unsent", None)
    return int(unsent()) if unsent is not None else 0


def tls_buffered(sock: Any) -> bool:
    """Whether a TLS socket holds bytes already decrypted, which `select` cannot see."""
    pending = getattr(sock, "pending", None)
    return bool(pending and pending())


def acknowledged(info: mqtt.MQTTMessageInfo) -> bool:
    """Whether the broker acknowledged a QoS 1 publish, never raising for one published while disconnected.

    A publish made while paho is not connected returns rc NO_CONN; paho keeps the message, sends it after it
    reconnects and marks the same `MQTTMessageInfo` published on its PUBACK, but leaves rc as it was, and
    `is_published()` raises RuntimeError on any such rc instead of answering (paho 2.1). Any other failure rc is
    not in flight at all: never acknowledged.
    """
    if info.rc == mqtt.MQTT_ERR_NO_CONN:
        info.rc = mqtt.MQTT_ERR_SUCCESS  # queued by paho: from now on only its acknowledgement matters
    if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_AGAIN):
        return False
    return info.is_published()
