"""Building a configured paho client: protocol, TLS, credentials, reconnect policy. Used by every MQTT user."""

from __future__ import annotations

import contextlib
import logging
import ssl
import threading

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge.config import MqttConfig, TlsConfig, read_secret
from edge.contract.limits import default_max_packet_size
from edge.errors import ConfigError

log = logging.getLogger(__name__)


def make_client(config: MqttConfig, client_id: str, *, clean: bool = True, reconnect: bool = True) -> mqtt.Client:
    """A paho 2.x client configured from the node's MQTT section (not yet connected).

    `reconnect=False` is for short-lived tools: paho's loop then ends when the connection is lost, rather than log
    in again (and, as the broker gives each user one connection, take it back from whoever took it over).
    """
    v5 = config.protocol == "5"
    client = mqtt.Client(
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
    client.reconnect_delay_set(min_delay=max(1, round(config.reconnect_min_s)), max_delay=round(config.reconnect_max_s))
    return client


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
    """Runs paho's network loop in a thread that reconnects forever.

    paho's own loop gives up when connecting raises anything but OSError; this loop catches everything, logs it,
    waits (backoff) and starts again, until `stop()`.
    """

    def __init__(
        self,
        client: mqtt.Client,
        config: MqttConfig,
        *,
        clean: bool = True,
        name: str = "mqtt",
        properties: Properties | None = None,
    ) -> None:
        self._client = client
        self._config = config
        self._clean = clean
        self._properties = properties
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        """Begin connecting in the background."""
        if self._config.protocol == "5":
            self._client.connect_async(
                self._config.host,
                self._config.port,
                self._config.keepalive,
                clean_start=self._clean,
                properties=self._properties,
            )
        else:
            self._client.connect_async(self._config.host, self._config.port, self._config.keepalive)
        self._thread.start()

    @property
    def alive(self) -> bool:
        """Whether the loop thread runs."""
        return self._thread.is_alive()

    def _run(self) -> None:
        # Tell paho it runs in a network thread (as loop_start would): otherwise publish() and ack() called from
        # other threads write to the socket themselves, concurrently with this loop.
        self._client._thread = threading.current_thread()
        # loop_start also creates the socket pair through which a publish() from another thread wakes this loop's
        # select(); loop() creates it when missing (and returns at once: not connected yet). Without it, a
        # message published by the outbox pump waits for the select timeout: up to a second.
        self._client.loop(timeout=0.0)
        delay = self._config.reconnect_min_s
        while not self._stopping.is_set():
            try:
                self._client.loop_forever(retry_first_connection=True)
            except Exception as exc:  # any failure must lead to another attempt, never to a dead client
                log.warning("MQTT network loop failed (%s: %s); retrying in %.1f s", type(exc).__name__, exc, delay)
                if self._stopping.wait(delay):
                    break
                delay = min(delay * 2, self._config.reconnect_max_s)
                with contextlib.suppress(Exception):
                    self._client.reconnect()
            else:
                if self._stopping.is_set():
                    break
                self._stopping.wait(self._config.reconnect_min_s)

    def stop(self, timeout: float = 5.0) -> None:
        """Disconnect and wait for the loop thread to end."""
        self._stopping.set()
        with contextlib.suppress(Exception):
            self._client.disconnect()
        self._thread.join(timeout)
