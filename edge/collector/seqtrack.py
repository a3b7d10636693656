"""Per-node seq tracking: which event numbers arrived, as merged ranges, and what is still missing.

A node numbers its events 1, 2, 3, ... and never reuses a number. The collector keeps, per node, the sorted
disjoint ranges of numbers it stored. Expected events run from the lowest number seen to the highest number
known (seen in an event, or announced by the node's status); the difference with what arrived is missing, and
fills in when a backlog arrives late or out of order. Memory is one pair per gap, not one entry per event.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator

from edge.collector.schema import Completeness

HEAD_SPAN = 10_000
"""How far before a node's first received event a replay is asked for (nodes keep about an hour anyway)."""


class NodeSeqs:
    """The seq numbers received from one node, as sorted disjoint inclusive ranges."""

    def __init__(self, ranges: Iterable[tuple[int, int]] = (), announced: int = 0) -> None:
        self._lo: list[int] = []
        self._hi: list[int] = []
        for lo, hi in sorted(ranges):
            self._lo.append(lo)
            self._hi.append(hi)
        self.announced = announced

    def add(self, seq: int) -> bool:
        """Record one seq; False if it was already recorded (a reused number)."""
        i = bisect.bisect_right(self._lo, seq) - 1
        if i >= 0 and seq <= self._hi[i]:
            return False
        joins_left = i >= 0 and self._hi[i] == seq - 1
        joins_right = i + 1 < len(self._lo) and self._lo[i + 1] == seq + 1
        if joins_left and joins_right:
            self._hi[i] = self._hi[i + 1]
            del self._lo[i + 1], self._hi[i + 1]
        elif joins_left:
            self._hi[i] = seq
        elif joins_right:
            self._lo[i + 1] = seq
        else:
            self._lo.insert(i + 1, seq)
            self._hi.insert(i + 1, seq)
        return True

    def announce(self, seq: int) -> None:
        """The node says its latest event has this seq (from its status)."""
        self.announced = max(self.announced, seq)

    def ranges(self) -> Iterator[tuple[int, int]]:
        """The received ranges, lowest first."""
        return zip(self._lo, self._hi, strict=True)

    def holes(self) -> list[tuple[int, int]]:
        """The missing seq ranges (inclusive): before the first received (at most HEAD_SPAN numbers: what a node
        published just before the collector subscribed), between received ranges, and up to the announced latest.
        """
        out = [(hi + 1, lo - 1) for hi, lo in zip(self._hi, self._lo[1:], strict=False)]
        if self._lo and self._lo[0] > 1:
            out.insert(0, (max(1, self._lo[0] - HEAD_SPAN), self._lo[0] - 1))
        if self._hi and self.announced > self._hi[-1]:
            out.append((self._hi[-1] + 1, self.announced))
        return out

    def completeness(self) -> Completeness:
        """Expected, received and gap figures for this node."""
        if not self._lo:
            return Completeness(expected=0, received=0, gaps=0)
        first = self._lo[0]
        last = max(self._hi[-1], self.announced)
        received = sum(hi - lo + 1 for lo, hi in self.ranges())
        gaps = len(self._lo) - 1 + (1 if last > self._hi[-1] else 0)
        return Completeness(expected=last - first + 1, received=received, gaps=gaps)
