"""The edge_broker role's optional bridge, on two real Mosquittos: the site's events reach a central broker, and
those published while it is unreachable are queued and delivered when it returns."""

from __future__ import annotations

import queue
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.deploy_support import Client, Mosquitto, free_port, local_broker_vars, make_secrets, password, run_playbook

pytestmark = pytest.mark.slow

SITE = "testsite"
P = f"edge/{SITE}"
BRIDGE_WAIT = 60.0  # the bridge retries every few seconds; a bound, not a measurement


@dataclass
class Sites:
    secrets: Path
    site_port: int
    central: Mosquitto

    def door(self) -> Client:
        client = Client(self.site_port, self.secrets / "ca.crt", "door-front", password(self.secrets, "door-front"))
        assert not client.connect().is_failure
        return client

    def watcher(self) -> Client:
        """A persistent session on the central broker: it keeps what arrives while the watcher is away."""
        client = Client(
            self.central.port, self.secrets / "ca.crt", "watcher", "watcher-pw", client_id="watcher", persistent=True
        )
        assert not client.connect().is_failure
        return client


def central_config(tmp: Path, secrets_dir: Path, port: int) -> Path:
    passwd = tmp / "central-passwd"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(passwd), "site-bridge", "bridge-pw"], check=True, timeout=30)
    subprocess.run(["mosquitto_passwd", "-b", str(passwd), "watcher", "watcher-pw"], check=True, timeout=30)
    (tmp / "central-data").mkdir()
    config = tmp / "central.conf"
    config.write_text(
        "per_listener_settings false\nallow_anonymous false\n"
        f"password_file {passwd}\nuser root\npersistence true\npersistence_location {tmp / 'central-data'}/\n"
        f"log_dest file {tmp / 'central.log'}\n"
        f"listener {port} 127.0.0.1\ncafile {secrets_dir / 'ca.crt'}\ncertfile {secrets_dir / 'broker.crt'}\n"
        f"keyfile {secrets_dir / 'broker.key'}\n"
    )
    return config


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sites]:
    tmp = tmp_path_factory.mktemp("bridge")
    (tmp / "data").mkdir()
    secrets_dir = make_secrets(tmp / "secrets", ["door-front", "staff"])
    site_port, central_port = free_port(), free_port()
    broker = local_broker_vars(tmp, site_port) | {
        "edge_broker_local_listener": False,
        "edge_broker_bridge": {
            "enabled": True,
            "name": "central",
            "address": f"127.0.0.1:{central_port}",
            "ca": (secrets_dir / "ca.crt").read_text(),
            "username": "site-bridge",
            "password": "bridge-pw",
            "topics": [f"{P}/#"],
        },
    }
    door = {"edge_node_daemons": ["door"], "edge_node_doors": [{"name": "front"}]}
    inventory = tmp / "inventory.yml"
    inventory.write_text(
        yaml.safe_dump(
            {
                "all": {
                    "vars": {"edge_site": SITE, "edge_secrets_dir": str(secrets_dir)},
                    "children": {
                        "edge_brokers": {"hosts": {"broker": broker}},
                        "edge_nodes": {"hosts": {"door-front": door}},
                    },
                }
            }
        )
    )
    run = run_playbook(tmp, inventory, "site.yml", "--limit", "broker")
    assert run.returncode == 0, run.output[-4000:]
    central = Mosquitto(central_config(tmp, secrets_dir, central_port), central_port)
    with central, Mosquitto(tmp / "mosquitto.conf", site_port):
        watcher = Sites(secrets_dir, site_port, central).watcher()
        assert watcher.subscribe(f"{P}/#").value < 0x80
        watcher.close()
        yield Sites(secrets_dir, site_port, central)


def drain(client: Client, count: int) -> list[tuple[str, bytes]]:
    """Every delivery until `count` distinct messages arrived (a QoS 1 duplicate does not count twice)."""
    received: list[tuple[str, bytes]] = []
    try:
        while len(set(received)) < count:
            received.append(client.messages.get(timeout=BRIDGE_WAIT))
    except queue.Empty:
        pass
    return received


def test_site_event_reaches_the_central_broker(sites: Sites) -> None:
    watcher = sites.watcher()
    door = sites.door()
    try:
        assert door.publish(f"{P}/door/front/access", b"first") == "accepted"
        assert drain(watcher, 1) == [(f"{P}/door/front/access", b"first")]
    finally:
        door.close()
        watcher.close()


def test_events_published_while_the_central_broker_is_down_arrive_when_it_returns(sites: Sites) -> None:
    sites.central.stop()
    door = sites.door()
    try:
        for number in range(20):
            assert door.publish(f"{P}/door/front/access", f"outage-{number}".encode()) == "accepted"
    finally:
        door.close()
    sites.central.start()
    watcher = sites.watcher()
    try:
        payloads = [payload for _topic, payload in drain(watcher, 20)]
    finally:
        watcher.close()
    assert payloads == [f"outage-{number}".encode() for number in range(20)]
