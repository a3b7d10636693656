"""The staff tools' broker session against a real Mosquitto that binds client ids to user names, as deployed."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.config import parse_config
from edge.errors import BrokerError
from edge.staff.broker import BrokerSession
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
