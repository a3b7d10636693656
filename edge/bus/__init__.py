"""The MQTT bus: a durable outbox and a paho 2.x client that reconnects forever."""

from edge.bus.client import Bus, Handler, Message
from edge.bus.outbox import Outbox, Row
from edge.bus.session import NetworkLoop, make_client

__all__ = ["Bus", "Handler", "Message", "NetworkLoop", "Outbox", "Row", "make_client"]
