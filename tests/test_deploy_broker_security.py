"""The edge_broker role's Mosquitto config on a real Mosquitto: TLS, a password per node, ACLs from the inventory.

The role runs against this machine (local connection) with its paths pointed into a temp directory; the broker
then runs with exactly the files the role generated. MQTT v5 is used so a denied publish is answered with
"Not authorized" instead of being dropped silently.
"""

from __future__ import annotations

import datetime as dt
import queue
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge.access.signed import TrustedKeys
from edge.access.snapshot import apply_snapshot
from edge.contract import Topics
from edge.contract.homeassistant import Discovery
from edge.contract.limits import LARGE_PACKET_BYTES, default_max_packet_size, largest_payload, publish_packet_size
from edge.staff.members import MemberFile
from edge.staff.signing import public_key_of
from edge.staff.snapshot import build_snapshot, sign_snapshot
from tests.deploy_support import (
    WAIT,
    Client,
    Mosquitto,
    PlaybookRun,
    free_port,
    local_broker_vars,
    make_secrets,
    password,
    run_playbook,
)

pytestmark = pytest.mark.slow

SITE = "testsite"
P = f"edge/{SITE}"
USERS = ["door-front", "door-back", "desks-east", "hub", "staff", "console"]


@dataclass(frozen=True)
class Broker:
    """The generated files and the running broker's address."""

    secrets: Path
    config_dir: Path
    config_file: Path
    port: int
    local_port: int
    runs: tuple[PlaybookRun, PlaybookRun]


def inventory(tmp: Path, secrets_dir: Path, port: int, local_port: int) -> Path:
    broker_vars = local_broker_vars(tmp, port, edge_broker_local_port=local_port)
    site_vars = {"edge_site": SITE, "edge_secrets_dir": str(secrets_dir)}  # users staff and console by default
    doc = {
        "all": {
            "vars": site_vars,
            "children": {
                "edge_brokers": {"hosts": {"broker": broker_vars}},
                "edge_collectors": {"hosts": {"hub": {"edge_node_daemons": ["collector"]}}},
                "edge_nodes": {
                    "children": {
                        "edge_doors": {
                            "hosts": {
                                "door-front": {"edge_node_daemons": ["door"], "edge_node_doors": [{"name": "front"}]},
                                "door-back": {"edge_node_daemons": ["door"], "edge_node_doors": [{"name": "back"}]},
                            }
                        },
                        "edge_desks": {
                            "hosts": {
                                "desks-east": {
                                    "edge_node_daemons": ["presence"],
                                    "edge_node_presence": {
                                        "desks": [{"name": "desk-01"}],
                                        "zones": [{"name": "east"}],
                                        "discovery_prefix": "ha-east",
                                    },
                                }
                            }
                        },
                    }
                },
            },
        }
    }
    path = tmp / "inventory.yml"
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    tmp = tmp_path_factory.mktemp("broker")
    (tmp / "data").mkdir()
    secrets_dir = make_secrets(tmp / "secrets", USERS)
    port, local_port = free_port(), free_port()
    inv = inventory(tmp, secrets_dir, port, local_port)
    first = run_playbook(tmp, inv, "site.yml", "--limit", "broker")
    assert first.returncode == 0, first.output[-4000:]
    second = run_playbook(tmp, inv, "site.yml", "--limit", "broker")
    with Mosquitto(tmp / "mosquitto.conf", port):
        yield Broker(secrets_dir, tmp / "edge", tmp / "mosquitto.conf", port, local_port, (first, second))


@pytest.fixture
def connect(broker: Broker) -> Iterator[Callable[..., Client]]:
    clients: list[Client] = []

    def make(user: str, *, local: bool = False, **options: Any) -> Client:
        """A client of `user` on the TLS listener, or on the loopback one (the collector's) when `local`."""
        port, ca = (broker.local_port, None) if local else (broker.port, broker.secrets / "ca.crt")
        client = Client(port, ca, user, password(broker.secrets, user), **options)
        clients.append(client)
        assert not client.connect().is_failure
        return client

    yield make
    for client in clients:
        client.close()


def test_role_converges_and_a_second_run_changes_nothing(broker: Broker) -> None:
    _first, second = broker.runs
    assert second.returncode == 0, second.output[-4000:]
    assert second.recap("broker")["changed"] == 0, second.changed_tasks()


def test_role_refuses_a_client_running_two_daemons(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    path = inventory(tmp_path, make_secrets(tmp_path / "secrets", USERS), free_port(), free_port())
    doc = yaml.safe_load(path.read_text())
    doors = doc["all"]["children"]["edge_nodes"]["children"]["edge_doors"]["hosts"]
    doors["door-front"]["edge_node_daemons"] = ["door", "badge"]
    path.write_text(yaml.safe_dump(doc))
    run = run_playbook(tmp_path, path, "site.yml", "--limit", "broker")
    assert run.returncode != 0
    assert "door-front runs ['door', 'badge']: a broker client must run exactly one daemon" in run.output
    assert not (tmp_path / "mosquitto.conf").exists()


def test_anonymous_client_is_refused(broker: Broker) -> None:
    client = Client(broker.port, broker.secrets / "ca.crt", None, None)
    try:
        assert client.connect().is_failure
    finally:
        client.close()


def test_wrong_password_is_refused(broker: Broker) -> None:
    client = Client(broker.port, broker.secrets / "ca.crt", "door-front", "not-the-password")
    try:
        assert client.connect().is_failure
    finally:
        client.close()


def test_plain_tcp_is_not_accepted_on_the_tls_port(broker: Broker) -> None:
    client = Client(broker.port, None, "door-front", password(broker.secrets, "door-front"))
    with pytest.raises((OSError, queue.Empty)):
        client.connect()
    client.close()


@pytest.mark.parametrize("event", ["access", "alarm", "state"])
def test_door_publishes_its_own_events_and_state(connect, event: str) -> None:
    assert connect("door-front").publish(f"{P}/door/front/{event}") == "accepted"


@pytest.mark.parametrize("event", ["access", "alarm", "state"])
def test_door_cannot_publish_another_doors_events(connect, event: str) -> None:
    assert connect("door-front").publish(f"{P}/door/back/{event}") == "Not authorized"


@pytest.mark.parametrize("door", ["front", "back"])
def test_door_cannot_publish_door_commands(connect, door: str) -> None:
    assert connect("door-front").publish(f"{P}/door/{door}/command") == "Not authorized"


def test_door_cannot_publish_the_member_snapshot(connect) -> None:
    assert connect("door-front").publish(f"{P}/members") == "Not authorized"


def test_door_cannot_publish_another_nodes_status(connect) -> None:
    door = connect("door-front")
    assert door.publish(f"{P}/node/door-front/status") == "accepted"
    assert door.publish(f"{P}/node/door-back/status") == "Not authorized"


# What the daemons announce, as edge/contract/homeassistant.py names it (desks-east has its own discovery prefix).
DOOR_FRONT_HA = Discovery(Topics(SITE), "door-front")
DESKS_EAST_HA = Discovery(Topics(SITE), "desks-east", prefix="ha-east")


def test_door_announces_only_its_own_home_assistant_entities(connect) -> None:
    door = connect("door-front")
    own = [DOOR_FRONT_HA.node_entity(), *DOOR_FRONT_HA.door("front")]
    assert {door.publish(a.topic) for a in own} == {"accepted"}
    assert door.publish(DESKS_EAST_HA.desk("desk-01", "east").topic) == "Not authorized"
    assert door.publish(Discovery(Topics(SITE), "door-back").door("back")[0].topic) == "Not authorized"


def test_door_receives_its_own_commands_and_the_member_snapshot_from_staff(connect) -> None:
    door = connect("door-front")
    assert door.subscribe(f"{P}/door/front/command").value < 0x80
    assert door.subscribe(f"{P}/members").value < 0x80
    staff = connect("staff")
    assert staff.publish(f"{P}/door/front/command", b"unlock") == "accepted"
    assert staff.publish(f"{P}/members", b"snapshot") == "accepted"
    received = {door.messages.get(timeout=WAIT), door.messages.get(timeout=WAIT)}
    assert received == {(f"{P}/door/front/command", b"unlock"), (f"{P}/members", b"snapshot")}


def test_only_the_collector_asks_nodes_to_replay_and_each_node_hears_only_its_own_requests(connect) -> None:
    door = connect("door-front")
    assert door.subscribe(f"{P}/node/+/replay").value < 0x80  # granted; the ACL filters what is delivered
    collector = connect("hub")
    assert collector.publish(f"{P}/node/door-back/replay", b"back") == "accepted"
    assert collector.publish(f"{P}/node/door-front/replay", b"front") == "accepted"
    assert door.messages.get(timeout=WAIT) == (f"{P}/node/door-front/replay", b"front")
    assert door.publish(f"{P}/node/door-back/replay", b"x") == "Not authorized"
    assert connect("staff").publish(f"{P}/node/door-front/replay", b"x") == "Not authorized"


@pytest.mark.parametrize("pattern", [f"{P}/door/back/command", f"{P}/door/+/command", f"{P}/#", "#"])
def test_door_never_receives_another_doors_commands_whatever_it_subscribes_to(connect, pattern: str) -> None:
    door = connect("door-front")
    door.subscribe(pattern)  # Mosquitto 2.0 may grant it: the ACL is applied to each message delivered
    assert door.subscribe(f"{P}/door/front/command").value < 0x80
    staff = connect("staff")
    assert staff.publish(f"{P}/door/back/command", b"back") == "accepted"
    # Published after the other door's command: once it arrives, the other had its chance to arrive first.
    assert staff.publish(f"{P}/door/front/command", b"front") == "accepted"
    seen: list[tuple[str, bytes]] = []
    while not seen or seen[-1][1] != b"front":
        seen.append(door.messages.get(timeout=WAIT))
    assert (f"{P}/door/back/command", b"back") not in seen


def test_presence_node_publishes_only_its_desks_and_zones(connect) -> None:
    desks = connect("desks-east")
    own_ha = [DESKS_EAST_HA.node_entity(), DESKS_EAST_HA.desk("desk-01", "east"), *DESKS_EAST_HA.zone("east")]
    codes = {
        topic: desks.publish(topic)
        for topic in [
            f"{P}/desk/desk-01/occupancy",
            f"{P}/zone/east/occupancy",
            *(a.topic for a in own_ha),
            f"{P}/desk/desk-99/occupancy",
            f"{P}/zone/west/occupancy",
            f"{P}/door/front/access",
            DOOR_FRONT_HA.door("front")[0].topic,
            Discovery(Topics(SITE), "desks-east").desk("desk-01", "east").topic,  # not its discovery prefix
        ]
    }
    assert codes == {
        f"{P}/desk/desk-01/occupancy": "accepted",
        f"{P}/zone/east/occupancy": "accepted",
        **{a.topic: "accepted" for a in own_ha},
        f"{P}/desk/desk-99/occupancy": "Not authorized",
        f"{P}/zone/west/occupancy": "Not authorized",
        f"{P}/door/front/access": "Not authorized",
        DOOR_FRONT_HA.door("front")[0].topic: "Not authorized",
        Discovery(Topics(SITE), "desks-east").desk("desk-01", "east").topic: "Not authorized",
    }


def test_collector_reads_the_whole_site_but_publishes_no_events(connect) -> None:
    collector = connect("hub")
    assert collector.subscribe(f"{P}/#").value < 0x80
    assert connect("door-front").publish(f"{P}/door/front/access", b"event") == "accepted"
    assert collector.messages.get(timeout=WAIT) == (f"{P}/door/front/access", b"event")
    assert collector.publish(f"{P}/door/front/access") == "Not authorized"
    assert collector.publish(f"{P}/members") == "Not authorized"


def test_staff_cannot_impersonate_a_door(connect) -> None:
    assert connect("staff").publish(f"{P}/door/front/access") == "Not authorized"


def test_passwords_are_stored_hashed(broker: Broker) -> None:
    text = (broker.config_dir / "passwd").read_text()
    users = [line.split(":", 1)[0] for line in text.splitlines()]
    assert sorted(users) == sorted(USERS)
    assert all(line.split(":", 1)[1].startswith("$7$") for line in text.splitlines())
    assert not any(password(broker.secrets, user) in text for user in USERS)


def test_queues_are_sized_for_the_outage_budget_from_the_inventory(broker: Broker) -> None:
    settings = dict(
        line.split(" ", 1) for line in broker.config_file.read_text().splitlines() if line.startswith("max_queued")
    )
    # 4 nodes x 60 status/h + 2 doors x 60/h + 1 desk x 6/h + 1 zone x 12/h = 378 messages/h, over 72 h, x2 headroom.
    assert settings == {"max_queued_messages": str(378 * 72 * 2), "max_queued_bytes": str(378 * 72 * 2 * 512)}


# --- Client ids are bound to the user name ----------------------------------------------------------------------
# The ids an attacker can guess: the node name (what the edge_node role renders as mqtt.client_id) and the code's
# default, edge-{site}-{node}-{daemon}.


@pytest.mark.parametrize("intruder_listener", ["tls", "local"])
@pytest.mark.parametrize("door_id", ["door-front", f"edge-{SITE}-door-front-door"])
def test_another_nodes_credentials_cannot_disconnect_the_door_with_its_client_id(
    connect, door_id: str, intruder_listener: str
) -> None:
    door = connect("door-front", client_id=door_id)
    connect("desks-east", local=intruder_listener == "local", client_id=door_id)
    # A QoS 1 round trip begun after the intruder's CONNACK: a takeover would have closed the door's connection
    # before that CONNACK was sent, so its disconnection would be known by the time the PUBACK arrives.
    assert door.publish(f"{P}/door/front/state") == "accepted"
    assert door.disconnects.empty(), door.disconnects.get()


@pytest.mark.parametrize("intruder_listener", ["tls", "local"])
@pytest.mark.parametrize("collector_id", ["hub", f"edge-{SITE}-hub-collector"])
def test_another_nodes_credentials_cannot_erase_the_collectors_persistent_session(
    connect, collector_id: str, intruder_listener: str
) -> None:
    topic, event = f"{P}/door/front/access", f"away: {collector_id} {intruder_listener}".encode()
    # The collector runs on the broker host and connects through the loopback listener.
    collector = connect("hub", local=True, client_id=collector_id, persistent=True)
    assert collector.subscribe(topic).value < 0x80
    collector.close()
    assert connect("door-front").publish(topic, event) == "accepted"
    # A clean start with the collector's id would discard the session and the event queued in it.
    connect("desks-east", local=intruder_listener == "local", client_id=collector_id).close()
    back = connect("hub", local=True, client_id=collector_id, persistent=True)
    assert back.session_present
    assert (topic, event) in back.wait_for(topic, event)
    back.close()
    connect("hub", local=True, client_id=collector_id).close()  # a clean start ends the session this test made


def test_a_staff_tool_and_the_console_keep_their_own_connections(connect) -> None:
    staff = connect("staff")
    connect("console")
    assert staff.publish(f"{P}/members", b"snapshot") == "accepted"
    assert staff.disconnects.empty(), staff.disconnects.get()
    assert connect("console").publish(f"{P}/door/front/command", b"unlock") == "accepted"


# --- Message size -----------------------------------------------------------------------------------------------


def test_broker_announces_the_largest_packet_it_accepts(connect) -> None:
    assert connect("door-front").connack_properties.MaximumPacketSize == LARGE_PACKET_BYTES


@pytest.mark.parametrize("protocol", [mqtt.MQTTv5, mqtt.MQTTv311])
def test_an_oversized_message_is_refused_and_never_delivered(connect, protocol: int) -> None:
    topic = f"{P}/door/front/state"
    watcher = connect("staff", max_packet_size=4 * LARGE_PACKET_BYTES)
    assert watcher.subscribe(topic).value < 0x80
    # A node that ignores the announced limit (a 3.1.1 client is never told it): the broker drops the connection.
    door = connect("door-front", protocol=protocol)
    door.client.publish(topic, b"x" * (LARGE_PACKET_BYTES + 1), qos=0, retain=True)
    door.disconnects.get(timeout=WAIT)
    door.close()
    assert connect("door-front").publish(topic, b"after", retain=True) == "accepted"
    assert watcher.wait_for(topic, b"after") == [(topic, b"after")]
    newcomer = connect("staff", max_packet_size=4 * LARGE_PACKET_BYTES)
    assert newcomer.subscribe(topic).value < 0x80
    assert newcomer.messages.get(timeout=WAIT) == (topic, b"after")


def test_the_largest_message_the_broker_accepts_reaches_a_door(connect) -> None:
    topic = f"{P}/members"
    payload = b"s" * largest_payload(topic, LARGE_PACKET_BYTES)
    assert publish_packet_size(topic, len(payload)) == LARGE_PACKET_BYTES
    door = connect("door-front", max_packet_size=default_max_packet_size("door"))
    assert door.subscribe(topic).value < 0x80
    assert connect("staff").publish(topic, payload) == "accepted"
    assert door.messages.get(timeout=WAIT) == (topic, payload)
    assert door.disconnects.empty(), door.disconnects.get()


def test_a_signed_snapshot_of_10000_members_reaches_a_door_that_applies_it(connect) -> None:
    raw = snapshot_of(10_000)
    door = connect("door-front", max_packet_size=default_max_packet_size("door"))
    assert door.subscribe(f"{P}/members").value < 0x80
    assert connect("staff").publish(f"{P}/members", raw, retain=True) == "accepted"
    topic, received = door.messages.get(timeout=WAIT)
    index = apply_snapshot(received, TrustedKeys([public_key_of(SIGNING_KEY)]), site=SITE, applied_version=None)
    assert (topic, index.member_count) == (f"{P}/members", 10_000)
    assert connect("staff").publish(f"{P}/members", b"", retain=True) == "accepted"  # clear the retained copy


SIGNING_KEY = Ed25519PrivateKey.generate()


def snapshot_of(count: int) -> bytes:
    """A signed snapshot built by edge's own code: one badge each, a tenth with two, a third with dates."""
    members = [
        {"id": f"M-{n:05d}", "plan": "resident", "badges": [f"{n:08X}"] + ([f"{n:08X}01"] if n % 10 == 0 else [])}
        | ({"valid_from": "2026-01-01", "valid_until": "2027-06-30"} if n % 3 == 0 else {})
        for n in range(count)
    ]
    data = {"site": SITE, "plans": {"resident": {"schedule": "always"}}}
    members_file = MemberFile.model_validate(data | {"members": members})
    created = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    return sign_snapshot(build_snapshot(members_file, version=1, badge_key=b"k" * 32, created_at=created), SIGNING_KEY)


def test_a_daemon_that_needs_no_snapshot_is_never_sent_one(connect) -> None:
    topic = f"{P}/members"
    collector = connect("hub", max_packet_size=default_max_packet_size("collector"))
    assert collector.subscribe(topic).value < 0x80
    staff = connect("staff")
    assert staff.publish(topic, b"s" * default_max_packet_size("collector"), retain=True) == "accepted"
    assert staff.publish(topic, b"small", retain=True) == "accepted"
    assert collector.wait_for(topic, b"small") == [(topic, b"small")]
    assert staff.publish(topic, b"", retain=True) == "accepted"
