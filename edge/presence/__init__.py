"""Desk presence wiring without the bus: config to domain specs, sensor drivers, and the loop that runs them."""

from edge.presence.loop import PresenceLoop
from edge.presence.sensors import DeskSensors, RadarHealth
from edge.presence.specs import desk_specs, hysteresis_for, zone_specs

__all__ = ["DeskSensors", "PresenceLoop", "RadarHealth", "desk_specs", "hysteresis_for", "zone_specs"]
