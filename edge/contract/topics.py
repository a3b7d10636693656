"""MQTT topic names: the only place they are spelled."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """Every kind of message in the contract; the value is also the collector's name for it."""

    BADGE_SCAN = "badge_scan"
    DOOR_ACCESS = "door_access"
    DOOR_ALARM = "door_alarm"
    DOOR_STATE = "door_state"
    DOOR_COMMAND = "door_command"
    DESK_OCCUPANCY = "desk_occupancy"
    ZONE_OCCUPANCY = "zone_occupancy"
    NODE_STATUS = "node_status"
    NODE_REPLAY = "node_replay"
    MEMBERS = "members"


# kind -> (first level, leaf) of P/{first}/{name}/{leaf}; MEMBERS is P/members.
_LAYOUT: dict[Kind, tuple[str, str]] = {
    Kind.BADGE_SCAN: ("badge", "scan"),
    Kind.DOOR_ACCESS: ("door", "access"),
    Kind.DOOR_ALARM: ("door", "alarm"),
    Kind.DOOR_STATE: ("door", "state"),
    Kind.DOOR_COMMAND: ("door", "command"),
    Kind.DESK_OCCUPANCY: ("desk", "occupancy"),
    Kind.ZONE_OCCUPANCY: ("zone", "occupancy"),
    Kind.NODE_STATUS: ("node", "status"),
    Kind.NODE_REPLAY: ("node", "replay"),
}
_BY_LAYOUT = {layout: kind for kind, layout in _LAYOUT.items()}


@dataclass(frozen=True)
class TopicMatch:
    """A parsed topic: its kind and the object it is about (door, desk, ... or None for P/members)."""

    kind: Kind
    name: str | None


@dataclass(frozen=True)
class Topics:
    """Topic names under P = {prefix}/{site}."""

    site: str
    prefix: str = "edge"

    @property
    def base(self) -> str:
        """P, the site's topic prefix."""
        return f"{self.prefix}/{self.site}"

    def for_kind(self, kind: Kind, name: str | None = None) -> str:
        """Topic for a message of `kind` about object `name`."""
        if kind is Kind.MEMBERS:
            return f"{self.base}/members"
        if not name or "/" in name or "+" in name or "#" in name:
            raise ValueError(f"{kind} needs a plain object name, got {name!r}")
        first, leaf = _LAYOUT[kind]
        return f"{self.base}/{first}/{name}/{leaf}"

    def badge_scan(self, reader: str) -> str:
        """P/badge/{reader}/scan."""
        return self.for_kind(Kind.BADGE_SCAN, reader)

    def door_access(self, door: str) -> str:
        """P/door/{door}/access."""
        return self.for_kind(Kind.DOOR_ACCESS, door)

    def door_alarm(self, door: str) -> str:
        """P/door/{door}/alarm."""
        return self.for_kind(Kind.DOOR_ALARM, door)

    def door_state(self, door: str) -> str:
        """P/door/{door}/state."""
        return self.for_kind(Kind.DOOR_STATE, door)

    def door_command(self, door: str) -> str:
        """P/door/{door}/command."""
        return self.for_kind(Kind.DOOR_COMMAND, door)

    def desk_occupancy(self, desk: str) -> str:
        """P/desk/{desk}/occupancy."""
        return self.for_kind(Kind.DESK_OCCUPANCY, desk)

    def zone_occupancy(self, zone: str) -> str:
        """P/zone/{zone}/occupancy."""
        return self.for_kind(Kind.ZONE_OCCUPANCY, zone)

    def node_status(self, node: str) -> str:
        """P/node/{node}/status."""
        return self.for_kind(Kind.NODE_STATUS, node)

    def node_replay(self, node: str) -> str:
        """P/node/{node}/replay: the collector asks a node to publish again events it is missing."""
        return self.for_kind(Kind.NODE_REPLAY, node)

    def members(self) -> str:
        """P/members."""
        return self.for_kind(Kind.MEMBERS)

    def everything(self) -> str:
        """A filter for every message of the site: P/#."""
        return f"{self.base}/#"

    def filter(self, kind: Kind) -> str:
        """A filter for every message of one kind, e.g. P/door/+/access."""
        if kind is Kind.MEMBERS:
            return self.members()
        first, leaf = _LAYOUT[kind]
        return f"{self.base}/{first}/+/{leaf}"

    def parse(self, topic: str) -> TopicMatch | None:
        """Recognise a topic of this site; None for anything else."""
        head = self.base + "/"
        if not topic.startswith(head):
            return None
        parts = topic[len(head) :].split("/")
        if parts == ["members"]:
            return TopicMatch(Kind.MEMBERS, None)
        if len(parts) != 3 or not parts[1]:
            return None
        kind = _BY_LAYOUT.get((parts[0], parts[2]))
        return TopicMatch(kind, parts[1]) if kind is not None else None
