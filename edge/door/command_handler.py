"""The door's command handler: a signed staff command (`P/door/{door}/command`) is verified, its nonce stored, its
mode stored, and only then handed to the door loop to act. Anything wrong is refused, counted
(`command_refused.<reason>`) and logged, and changes nothing.

Runs on the MQTT network thread: verification and the small fsynced writes stay off the door loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from edge.access.commands import Action, verify_command
from edge.access.signed import TrustedKeys
from edge.bus import Message
from edge.clock import Clock
from edge.contract import DoorMode
from edge.door.clock_trust import ClockTrust
from edge.door.inbox import Obey, Reply
from edge.door.loop import DoorLoop
from edge.door.persistence import StateFiles
from edge.errors import PayloadError
from edge.metrics import Counters

log = logging.getLogger(__name__)

OBEY_S = 5.0
"""How long `on_command` waits for the loop to carry a command out before it returns anyway."""


class CommandHandler:
    """Verifies staff commands for the node's doors and hands the obeyed ones to the loop."""

    def __init__(
        self,
        keys: TrustedKeys | None,
        *,
        site: str,
        max_skew_s: float,
        clock: Clock,
        clock_trust: ClockTrust,
        files: StateFiles,
        counters: Counters,
        loop: DoorLoop,
    ) -> None:
        self.keys = keys
        self.site = site
        self.max_skew_s = max_skew_s
        self.clock = clock
        self.clock_trust = clock_trust
        self.files = files
        self.counters = counters
        self.loop = loop
        self.guard = files.replay_guard(now=clock.now().timestamp())

    def on_message(self, door: str) -> Callable[[Message], None]:
        """The bus callback for one door's command topic."""

        def on_command(message: Message) -> None:
            self.on_command(door, message.payload, retained=message.retain)

        return on_command

    def on_command(self, door: str, raw: bytes, *, retained: bool) -> Action | None:
        """Verify and obey a staff command; the action obeyed, or None when refused."""
        if self.keys is None:
            self._refuse(door, "disabled", "no access.command_keys configured: this door takes no remote command")
            return None
        if retained:
            self._refuse(door, "retained", "a retained command never acts")
            return None
        if not self.clock_trust.trusted:
            self._refuse(door, "clock_untrusted", "the clock is not synchronised: freshness cannot be checked")
            return None
        try:
            command = verify_command(
                raw,
                retained=retained,
                trusted=self.keys,
                site=self.site,
                door=door,
                now=self.clock.now(),
                guard=self.guard,
                max_skew_s=self.max_skew_s,
            )
        except PayloadError as exc:
            self._refuse(door, exc.reason, str(exc))
            return None
        try:
            # The nonce is on disk before the command acts: a restart cannot make it replayable.
            self.files.save_replay_guard(self.guard)
        except Exception as exc:
            self.counters.inc("store_errors")
            self._refuse(door, "store_failed", f"could not persist the replay guard: {exc}")
            return None
        if command.action != Action.UNLOCK_ONCE:
            # Before acting: a lockdown must survive a crash right after it.
            self.files.save_mode(door, DoorMode(str(command.action)))
        done = Reply()
        if not self.loop.post(Obey(door, command.action), done):
            self._refuse(door, "busy", "the door loop is full")
            return None
        self.counters.inc(f"command_obeyed.{command.action}")
        log.info("door %s: obeying %s (nonce %s…)", door, command.action, command.nonce[:8])
        if not done.wait(OBEY_S):
            log.error("door %s: %s not carried out within %.0f s", door, command.action, OBEY_S)
        return command.action

    def _refuse(self, door: str, reason: str, detail: str) -> None:
        self.counters.inc(f"command_refused.{reason}")
        log.warning("door %s: command refused (%s): %s", door, reason, detail)
