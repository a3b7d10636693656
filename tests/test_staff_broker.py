"""The staff tools' and the console's broker links against a real Mosquitto configured as deployed."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from edge.config import NodeConfig, parse_config
from edge.contract.limits import largest_payload
from edge.errors import BrokerError
from edge.staff.broker import BrokerSession
from edge.staff.live import LiveLink
from tests.rig.servers import Mosquitto


def staff_config(port: int) -> str:
    return f"site: lyon\nnode: staff-laptop\nmqtt:\n  host: 127.0.0.1\n  port: {port}\n  username: staff\n"


def test_a_session_taken_over_by_another_tool_of_the_same_user_fails_saying_why(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path / "broker", extra="use_username_as_clientid true")
    broker.start()
    config = parse_config(staff_config(broker.port))
    try:
        with BrokerSession(config, "status", timeout=5) as first:
            first.read_retained(["edge/lyon/#"])
            with BrokerSession(config, "push", timeout=5) as second:
                # The broker closed the first connection before it accepted the second: the first never logs in
                # again (that would take the connection back) and says what happened.
                with pytest.raises(BrokerError, match="one connection per user: give each staff machine"):
                    first.wait_for_more(0, 30)
                second.publish("edge/lyon/door/front/command", b"{}", retain=False)
    finally:
        broker.kill()


def open_link(config: NodeConfig, kind: str, stack: contextlib.ExitStack) -> BrokerSession | LiveLink:
    """A connected staff session or console link, closed when `stack` closes."""
    if kind == "session":
        return stack.enter_context(BrokerSession(config, "push", timeout=5))
    link = LiveLink(config, timeout=5)
    link.start()
    stack.callback(link.stop)
    assert link.wait_synced(10)
    return link


@pytest.mark.parametrize("kind", ["session", "console"])
def test_a_message_larger_than_the_broker_accepts_is_refused_before_it_is_sent(tmp_path: Path, kind: str) -> None:
    broker = Mosquitto(tmp_path / "broker", extra="max_packet_size 4096")  # announced to MQTT 5 clients at CONNACK
    broker.start()
    topic = "edge/lyon/members"
    try:
        with contextlib.ExitStack() as stack:
            link = open_link(parse_config(staff_config(broker.port)), kind, stack)
            with pytest.raises(BrokerError, match=f"accepts at most {largest_payload(topic, 4096):,} there"):
                link.publish(topic, b"s" * 5000, retain=True)
            link.publish(topic, b"s" * largest_payload(topic, 4096), retain=True)  # the largest one still passes
    finally:
        broker.kill()
