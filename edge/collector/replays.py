"""When to ask a node to publish again the events the collector never received (pure; the caller publishes).

A hole in a node's seq numbers is real once it has lasted `grace_s`: events come in order, and a message the
broker re-sends after a reconnect arrives within seconds. The planner then asks for it (in spans of at most
MAX_REPLAY_SPAN), again after a growing pause while it stays open, and gives up after `give_up_s` (nodes keep
acknowledged events for an hour by default: past that there is nothing left to ask for; the collector's
completeness figures keep reporting the hole).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from edge.contract.replay import MAX_REPLAY_SPAN, ReplayRequest


@dataclass
class _Hole:
    first_seen: float
    next_ask: float
    pause: float


class ReplayPlanner:
    """Tracks the holes of every node and says which replay requests are due."""

    def __init__(self, *, grace_s: float = 15.0, first_pause_s: float = 30.0, max_pause_s: float = 600.0,
                 give_up_s: float = 2 * 3600.0) -> None:  # fmt: skip
        self.grace_s = grace_s
        self.first_pause_s = first_pause_s
        self.max_pause_s = max_pause_s
        self.give_up_s = give_up_s
        self._holes: dict[tuple[str, int, int], _Hole] = {}

    def due(self, holes: Mapping[str, list[tuple[int, int]]], now: float) -> list[tuple[str, ReplayRequest]]:
        """The requests to send now for the current holes (monotonic seconds); forgets holes that closed."""
        current: dict[tuple[str, int, int], _Hole] = {}
        out: list[tuple[str, ReplayRequest]] = []
        for node, ranges in holes.items():
            for first, last in ranges:
                for start in range(first, last + 1, MAX_REPLAY_SPAN):
                    key = (node, start, min(last, start + MAX_REPLAY_SPAN - 1))
                    hole = self._holes.get(key) or _Hole(first_seen=now, next_ask=now + self.grace_s, pause=0.0)
                    current[key] = hole
                    if now >= hole.next_ask and now - hole.first_seen < self.give_up_s:
                        out.append((node, ReplayRequest(key[1], key[2])))
                        hole.pause = min(max(hole.pause * 2, self.first_pause_s), self.max_pause_s)
                        hole.next_ask = now + hole.pause
        self._holes = current
        return out
