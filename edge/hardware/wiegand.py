"""Wiegand 26/34-bit door readers on two GPIO inputs (D0, D1), through gpiozero.

Both lines idle high; a bit is a 20-100 µs low pulse on D0 (0) or D1 (1), bits 0.2-20 ms apart. A frame ends
when no bit came for `frame_timeout_s`, or, when the reader's format is configured (`formats` names one length),
at its last bit. Three parts:

- `decode_wiegand` (pure): bits -> facility, card number and UID, parity checked.
- `WiegandAssembler` (pure): groups edges into frames by the time between their timestamps, so two cards read
  back to back can never merge, even when the timer fires late; with one configured length, by bit count too.
- `WiegandReader`: the pins (pull-up, no debounce: lgpio's debounce would swallow the short pulses) and a
  timer thread that waits on a condition until the frame timeout passes (no busy wait).

With a configured length, a valid frame never waits for the timeout (last bit -> decision in well under 5 ms
instead of 25 ms), and the timer only ends a partial frame (a bit lost, noise), so it waits longer: at least
`PARTIAL_FRAME_S`. That is safe on real hardware because frames are split by the edges' own timestamps, taken by
the kernel when the edge happened (gpio-cdev, delivered by lgpio as ticks), not by when this process saw them:
a gap longer than `frame_timeout_s` (the standard allows at most 20 ms between bits) between two timestamps
ends a frame however late the callbacks run. The longer timer only delays counting a garbled frame, and it keeps
a frame whose edges are merely delivered late (the process was not scheduled for a while) from being cut.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from edge.clock import Clock
from edge.errors import ChecksumError, FrameError
from edge.hardware.readers import BadgeReader, FaultCallback, ScanCallback
from edge.hardware.uid import uid_from_bytes

SUPPORTED_FORMATS = (26, 34)
"""Frame lengths decoded: HID H10301 26-bit (8-bit facility) and 34-bit (16-bit facility)."""

MAX_BITS = 64
"""Longest run of bits kept; anything longer is noise and is rejected by length."""

IDLE_WAKE_S = 5.0
"""Seconds an idle Wiegand reader thread sleeps between checks that it is not hung."""

PARTIAL_FRAME_S = 0.25
"""With a configured length, how long (wall clock) a partial frame waits for its next edge before it is refused."""


@dataclass(frozen=True)
class WiegandCard:
    """A decoded, parity-checked frame."""

    bits: int
    facility: int
    card: int
    uid: str


def _parity_ok(bits: Sequence[int], half: int) -> bool:
    # First bit: even parity over the first half (itself included); last bit: odd parity over the second half.
    return sum(bits[:half]) % 2 == 0 and sum(bits[half:]) % 2 == 1


def decode_wiegand(bits: Sequence[int], formats: Iterable[int] = SUPPORTED_FORMATS) -> WiegandCard:
    """Decode a frame; raise FrameError for an unsupported length, ChecksumError for bad parity."""
    length = len(bits)
    if length not in set(formats) or length not in SUPPORTED_FORMATS:
        raise FrameError(f"unsupported Wiegand frame length {length}")
    if any(bit not in (0, 1) for bit in bits):
        raise FrameError("a Wiegand bit must be 0 or 1")
    if not _parity_ok(bits, length // 2):
        raise ChecksumError(f"Wiegand {length} parity mismatch")
    data = 0
    for bit in bits[1:-1]:
        data = data << 1 | bit
    card_bits = 16
    facility, card = data >> card_bits, data & ((1 << card_bits) - 1)
    uid = uid_from_bytes(data.to_bytes((length - 2) // 8, "big"))
    return WiegandCard(length, facility, card, uid)


def encode_wiegand(facility: int, card: int, length: int = 26) -> tuple[int, ...]:
    """Build the bits of a frame with correct parity (for simulators and tests)."""
    if length not in SUPPORTED_FORMATS:
        raise ValueError(f"length must be one of {SUPPORTED_FORMATS}")
    facility_bits = length - 2 - 16
    if not 0 <= facility < 1 << facility_bits or not 0 <= card < 1 << 16:
        raise ValueError("facility or card number out of range for this format")
    data = facility << 16 | card
    body = [(data >> shift) & 1 for shift in range(length - 3, -1, -1)]
    half = (length - 2) // 2
    even = sum(body[:half]) % 2
    odd = 1 - sum(body[half:]) % 2
    return (even, *body, odd)


class WiegandAssembler:
    """Groups bits into frames: a bit more than `gap_s` after the previous one starts a new frame; with
    `frame_bits`, a frame is also complete as soon as it holds that many bits (see `complete`)."""

    def __init__(self, gap_s: float = 0.025, max_bits: int = MAX_BITS, frame_bits: int | None = None) -> None:
        self.gap_s = gap_s
        self.max_bits = max_bits
        self.frame_bits = frame_bits
        self._bits: list[int] = []
        self._last = 0.0
        self.overflow_bits = 0

    @property
    def pending(self) -> int:
        """Bits of the frame being received."""
        return len(self._bits)

    @property
    def complete(self) -> bool:
        """The frame being received has the configured length: it ends at this bit (`flush` it)."""
        return self.frame_bits is not None and len(self._bits) == self.frame_bits

    def add(self, bit: int, at: float) -> tuple[int, ...] | None:
        """Add a bit whose edge came at `at` (seconds); return the previous frame if this bit begins a new one."""
        done = None
        if self._bits and at - self._last > self.gap_s:
            done = self.flush()
        if len(self._bits) < self.max_bits:
            self._bits.append(bit)
        else:
            self.overflow_bits += 1
        self._last = at
        return done

    def flush(self) -> tuple[int, ...] | None:
        """End the current frame and return it (None if no bit is pending)."""
        if not self._bits:
            return None
        frame = tuple(self._bits)
        self._bits.clear()
        return frame


class WiegandReader(BadgeReader):
    """A Wiegand reader on two gpiozero input devices (D0, D1)."""

    kind = "wiegand"

    def __init__(
        self,
        name: str,
        d0_pin: int,
        d1_pin: int,
        *,
        formats: Iterable[int] = SUPPORTED_FORMATS,
        frame_timeout_s: float = 0.025,
        rearm_s: float = 1.0,
        pin_factory: Any = None,
        on_scan: ScanCallback | None = None,
        on_fault: FaultCallback | None = None,
        clock: Clock | None = None,
        queue_len: int = 16,
    ) -> None:
        super().__init__(name, rearm_s=rearm_s, on_scan=on_scan, on_fault=on_fault, clock=clock)
        from gpiozero import InputDevice

        self.formats = tuple(formats)
        self.frame_timeout_s = frame_timeout_s
        # One configured length: a frame is complete at its last bit; the timer only ends partial frames.
        self.frame_bits = self.formats[0] if len(set(self.formats)) == 1 else None
        self.partial_timeout_s = frame_timeout_s if self.frame_bits is None else max(frame_timeout_s, PARTIAL_FRAME_S)
        self.last_frame_at = 0.0  # monotonic time the last frame was complete (by its last bit or the timer)
        self._assembler = WiegandAssembler(frame_timeout_s, frame_bits=self.frame_bits)
        self._cond = threading.Condition()
        self._done: deque[tuple[tuple[int, ...], float]] = deque()
        self._queue_len = queue_len
        self._edge_clock = 0.0
        self._last_ticks: Any = None
        self._last_rx = 0.0
        self._d0 = InputDevice(d0_pin, pull_up=True, pin_factory=pin_factory)
        try:
            self._d1 = InputDevice(d1_pin, pull_up=True, pin_factory=pin_factory)
        except Exception:
            self._d0.close()
            raise
        self._factory = self._d0.pin_factory
        for device in (self._d0, self._d1):
            device.pin.bounce = None
            device.pin.edges = "falling"

    def start(self) -> None:
        """Listen to the data lines and start the frame timer."""
        super().start()
        self._d0.pin.when_changed = self._edge0
        self._d1.pin.when_changed = self._edge1

    def _edge0(self, ticks: Any, state: Any) -> None:
        self._edge(0, ticks)

    def _edge1(self, ticks: Any, state: Any) -> None:
        self._edge(1, ticks)

    def _edge(self, bit: int, ticks: Any) -> None:
        received = self.clock.monotonic()
        with self._cond:
            # Gaps come from the pin layer's edge timestamps, so a late callback cannot merge or split frames;
            # ticks are only compared through ticks_diff (they may wrap, or have an unrelated origin).
            if self._last_ticks is not None:
                self._edge_clock += self._factory.ticks_diff(ticks, self._last_ticks)
            self._last_ticks = ticks
            previous = self._assembler.add(bit, self._edge_clock)
            if previous is not None:  # the gap before this bit ended the previous frame
                self._queue(previous, self._last_rx)
            self._last_rx = received
            if self._assembler.complete:  # the configured length: the frame ends at this bit
                frame = self._assembler.flush()
                if frame is not None:
                    self._queue(frame, received)
            self._cond.notify()

    def _queue(self, frame: tuple[int, ...], at: float) -> None:
        self.last_frame_at = self.clock.monotonic()
        if len(self._done) >= self._queue_len:
            self.health.frames_dropped += 1
            return
        self._done.append((frame, at))

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._done and not self._stopping.is_set():
                    if self._assembler.pending:
                        remaining = self._last_rx + self.partial_timeout_s - self.clock.monotonic()
                        if remaining <= 0:
                            frame = self._assembler.flush()
                            if frame is not None:
                                self._queue(frame, self._last_rx)
                            continue
                        self._back_within(remaining)
                        self._cond.wait(remaining)
                    else:
                        # Idle: wake now and then anyway, so a hung thread is told from a quiet reader.
                        self._back_within(IDLE_WAKE_S)
                        self._cond.wait(IDLE_WAKE_S)
                if self._stopping.is_set():
                    return
                frame, at = self._done.popleft()
            self._handle(frame, at)

    def _handle(self, frame: tuple[int, ...], at: float) -> None:
        try:
            card = decode_wiegand(frame, self.formats)
        except ChecksumError:
            self.health.bad_checksum += 1
            return
        except FrameError:
            self.health.bad_frames += 1
            return
        self.health.frames_ok += 1
        self._deliver(card.uid, at)

    def _wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _release(self) -> None:
        for device in (self._d0, self._d1):
            device.pin.when_changed = None
            device.close()
