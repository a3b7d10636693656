"""The simulated-pin bridge: another process operates MockFactory inputs and reads outputs over a UNIX socket."""

from __future__ import annotations

from pathlib import Path

import pytest
from gpiozero import Button, OutputDevice
from gpiozero.pins.mock import MockFactory

from edge.hardware.sim.pinbridge import PinBridgeClient, PinBridgeServer


@pytest.fixture
def bridge(tmp_path: Path):
    factory = MockFactory()
    server = PinBridgeServer(factory, tmp_path / "node.pins")
    server.start()
    client = PinBridgeClient(tmp_path / "node.pins")
    yield factory, client
    client.close()
    server.stop()
    factory.close()


def test_driving_an_input_reaches_the_device(bridge) -> None:
    factory, client = bridge
    button = Button(5, pin_factory=factory)
    client.drive(5, 0)
    assert button.is_pressed
    client.drive(5, 1)
    assert not button.is_pressed


def test_outputs_are_read_as_the_device_set_them(bridge) -> None:
    factory, client = bridge
    relay = OutputDevice(27, active_high=False, initial_value=False, pin_factory=factory)
    assert client.read(27) == 1
    relay.on()
    assert client.read(27) == 0
    assert client.pins()[27] == {"level": 0, "function": "output"}


def test_outputs_cannot_be_driven_from_outside(bridge) -> None:
    factory, client = bridge
    relay = OutputDevice(27, pin_factory=factory)
    with pytest.raises(RuntimeError, match="not an input"):
        client.drive(27, 1)
    relay.close()


@pytest.mark.parametrize("line", [b"garbage\n", b'{"op": "explode"}\n', b'{"op": "drive"}\n', b"[]\n"])
def test_bad_requests_get_an_error_answer_and_the_bridge_keeps_serving(bridge, line: bytes) -> None:
    factory, client = bridge
    button = Button(6, pin_factory=factory)
    client._file.write(line)
    client._file.flush()
    assert b'"ok": false' in client._file.readline()
    client.drive(6, 0)
    assert button.is_pressed
