"""The broker connection over TLS, built by `make_client` from the node's `mqtt.tls` files, against a real Mosquitto
TLS listener: the broker's certificate and host are verified, and a client certificate is presented."""

from __future__ import annotations

import ssl
import threading
from pathlib import Path

import pytest

from edge.bus.session import make_client
from edge.config import MqttConfig, TlsConfig
from tests.node_files_support import client_pair
from tests.rig.servers import Mosquitto


def connack(config: MqttConfig) -> str:
    client = make_client(config, "tls-test")
    done = threading.Event()
    outcome: list[str] = []
    client.on_connect = lambda c, u, f, reason, p: (outcome.append(str(reason)), done.set())
    client.connect(config.host, config.port, 10)
    client.loop_start()
    try:
        assert done.wait(10), "no CONNACK"
    finally:
        client.loop_stop()
        client.disconnect()
    return outcome[0]


def test_a_node_with_the_site_ca_and_its_certificate_connects(tls_broker: Mosquitto, tmp_path: Path) -> None:
    cert, key = client_pair(tmp_path, name="door-1")
    tls = TlsConfig(ca_file=tmp_path / "ca.crt", cert_file=cert, key_file=key)
    assert connack(MqttConfig(host="127.0.0.1", port=tls_broker.port, tls=tls)) == "Success"


def test_a_broker_whose_certificate_the_ca_did_not_sign_is_refused(tls_broker: Mosquitto, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    other_ca, _key = client_pair(other, name="impostor-ca")  # a certificate, but not the broker's issuer
    cert, key = client_pair(tmp_path, name="door-1")
    tls = TlsConfig(ca_file=other_ca, cert_file=cert, key_file=key)
    with pytest.raises(ssl.SSLCertVerificationError):
        connack(MqttConfig(host="127.0.0.1", port=tls_broker.port, tls=tls))


def test_the_broker_host_name_is_checked_unless_told_otherwise(tls_broker: Mosquitto, tmp_path: Path) -> None:
    cert, key = client_pair(tmp_path, name="door-1")
    tls = TlsConfig(ca_file=tmp_path / "ca.crt", cert_file=cert, key_file=key)
    with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
        connack(MqttConfig(host="localhost", port=tls_broker.port, tls=tls))  # the certificate names 127.0.0.1 only
    insecure = tls.model_copy(update={"insecure_skip_verify": True})
    assert connack(MqttConfig(host="localhost", port=tls_broker.port, tls=insecure)) == "Success"
