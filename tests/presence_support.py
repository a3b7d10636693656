"""Reading what `edge presence` published: desk states, zone counts and the node status, as a consumer would."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from edge.contract import Kind, decode
from tests.rig.fixtures import mqtt_section
from tests.rig.mqtt import Received, Recorder
from tests.rig.process import EdgeProcess

P = "edge/lyon"


def desk_topic(desk: str) -> str:
    """The desk's occupancy topic."""
    return f"{P}/desk/{desk}/occupancy"


def zone_topic(zone: str) -> str:
    """The zone's occupancy topic."""
    return f"{P}/zone/{zone}/occupancy"


def desk_events(messages: list[Received], desk: str, *, live: bool | None = None) -> list[dict[str, Any]]:
    """Every decoded occupancy event of one desk (validated by the contract), optionally live or retained only."""
    out = []
    for m in messages:
        if m.topic == desk_topic(desk) and (live is None or m.retain != live):
            event = decode(Kind.DESK_OCCUPANCY, m.payload)
            out.append(event.envelope.model_dump() | event.body.model_dump())
    return out


def desk_states(messages: list[Received], desk: str, *, live: bool | None = None) -> list[str]:
    """The desk's states in arrival order, repeats (heartbeats) collapsed."""
    states: list[str] = []
    for event in desk_events(messages, desk, live=live):
        if not states or states[-1] != event["state"]:
            states.append(str(event["state"]))
    return states


def last_state(messages: list[Received], desk: str) -> str | None:
    """The desk's latest state."""
    states = desk_states(messages, desk)
    return states[-1] if states else None


def zone_counts(messages: list[Received], zone: str) -> list[tuple[int, int, int, int]]:
    """The zone's (occupied, vacant, unknown, total) in arrival order."""
    out = []
    for m in messages:
        if m.topic == zone_topic(zone):
            body = decode(Kind.ZONE_OCCUPANCY, m.payload).body
            out.append((body.occupied, body.vacant, body.unknown, body.total))  # type: ignore[attr-defined]
    return out


def statuses(messages: list[Received], node: str) -> list[dict[str, Any]]:
    """The node's status payloads in arrival order."""
    return [json.loads(m.payload) for m in messages if m.topic == f"{P}/node/{node}/status"]


def wait_state(recorder: Recorder, desk: str, state: str, timeout: float = 20.0) -> None:
    """Wait until the desk's latest published state is `state` (fails the test on timeout)."""
    if not recorder.wait_for(lambda ms: last_state(ms, desk) == state, timeout):
        raise AssertionError(f"desk {desk} never became {state}; saw {desk_states(recorder.messages, desk)}")


def retained_now(port: int, topic_filter: str, expect: int, timeout: float = 10.0) -> list[Received]:
    """What a NEW subscriber receives as retained messages right after subscribing (proves retention).

    First waits until `expect` topics have been published at all: a subscriber that arrives before the publisher
    receives the messages live, flagged not retained, and would prove nothing either way.
    """
    watcher = Recorder(port, topic_filter)
    try:
        watcher.wait_for(lambda ms: len({m.topic for m in ms}) >= expect, timeout)
    finally:
        watcher.close()
    recorder = Recorder(port, topic_filter)
    try:
        recorder.wait_for(lambda ms: len({m.topic for m in ms if m.retain}) >= expect, timeout)  # one per topic
        return [m for m in recorder.messages if m.retain]
    finally:
        recorder.close()


NODE = "desks-east"


def write_config(tmp_path: Path, port: int, presence: str) -> Path:
    """A presence node config (site lyon, node NODE) with the given `presence:` section."""
    config = tmp_path / "node.yaml"
    config.write_text(
        f"""site: lyon
node: {NODE}
state_dir: {tmp_path / "state"}
status_interval_s: 0.5
{mqtt_section(port)}presence:
{presence}"""
    )
    return config


def radar_presence(radar: Path) -> str:
    """One radar desk, radar hysteresis shortened to fractions of a second."""
    return f"""  heartbeat_s: 3600
  hysteresis:
    ld2410: {{enter_s: 0.3, release_s: 0.6, gap_s: 0.2}}
  zones: [{{name: east}}]
  desks:
    - name: e01
      zone: east
      sensors: [{{type: ld2410, port: {radar}, silence_s: 2}}]
"""


def start_daemon(config: Path, log: Path, *extra: str) -> EdgeProcess:
    """`edge presence -c CONFIG EXTRA...` started as a real process logging to `log`."""
    return EdgeProcess("presence", "-c", str(config), *extra, log=log).start()


def stop_daemon(proc: EdgeProcess) -> int:
    """SIGTERM, as systemd stops it; the exit code."""
    return proc.stop()
