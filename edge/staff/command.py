"""`edge members command`: make a door command, sign it and publish it, never retained, on `P/door/{door}/command`.

The door checks the signature, that the command is for it, fresh (issued now, valid `valid_for_s` seconds)
and not replayed (see docs/security.md); a retained command would be replayed by the broker at every
reconnect, so it is always sent with the retain flag off. Doors do not answer commands: their retained state
shows the mode they are in (`edge members status`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import secrets
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge.access.commands import COMMAND_KIND, DEFAULT_VALID_FOR_S, MAX_VALID_FOR_S, Action, Command
from edge.clock import Clock, parse_rfc3339, rfc3339_ms
from edge.config import NodeConfig
from edge.contract.payloads import NAME_PATTERN
from edge.contract.topics import Topics
from edge.errors import ConfigError
from edge.staff.broker import BrokerLink, BrokerSession
from edge.staff.signing import sign


def make_command(
    site: str, door: str, action: Action, *, now: dt.datetime, valid_for_s: int = DEFAULT_VALID_FOR_S
) -> Command:
    """A new command issued `now`, with a fresh random nonce."""
    if not 1 <= valid_for_s <= MAX_VALID_FOR_S:
        raise ValueError(f"valid_for_s must be 1-{MAX_VALID_FOR_S}")
    issued = parse_rfc3339(rfc3339_ms(now))  # the signed form has milliseconds; keep the object identical to it
    return Command(site, door, Action(action), issued, valid_for_s, secrets.token_hex(16))


def sign_command(command: Command, key: Ed25519PrivateKey) -> bytes:
    """Sign a command; the bytes are what gets published (never retained) on `P/door/{door}/command`."""
    return sign(COMMAND_KIND, command.to_payload(), key)


@dataclass(frozen=True)
class SentCommand:
    """A command that the broker acknowledged, where it went, and whether that door has ever reported a state."""

    command: Command
    topic: str
    door_known: bool


def send_command(
    config: NodeConfig,
    door: str,
    action: Action,
    *,
    signing_key: Ed25519PrivateKey,
    clock: Clock,
    timeout: float,
    valid_for_s: int = DEFAULT_VALID_FOR_S,
    link: BrokerLink | None = None,
) -> SentCommand:
    """Sign and publish one command (QoS 1, not retained) and wait for the broker's acknowledgement.

    Publishes through `link` when given (the console's own connection), otherwise through a short session.
    """
    if not re.match(NAME_PATTERN, door):
        raise ConfigError([f"--door: {door!r} is not a door name (a-z, 0-9, - and _)"])
    if not 1 <= valid_for_s <= MAX_VALID_FOR_S:
        raise ConfigError([f"--valid-for: must be 1-{MAX_VALID_FOR_S} seconds"])
    topics = Topics(config.site, config.mqtt.prefix)
    with contextlib.ExitStack() as stack:
        session = link if link is not None else stack.enter_context(BrokerSession(config, "command", timeout=timeout))
        known = bool(session.read_retained([topics.door_state(door)]))
        # Signed as late as possible: the validity window starts now.
        command = make_command(config.site, door, action, now=clock.now(), valid_for_s=valid_for_s)
        session.publish(topics.door_command(door), sign_command(command, signing_key), retain=False)
    return SentCommand(command, topics.door_command(door), known)
