"""`edge badge` end to end: the real CLI as a subprocess, a pty RDM6300 reader, a real Mosquitto."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from pathlib import Path

from edge.contract import Kind, badge_token, decode
from edge.hardware.sim.serial_devices import Rdm6300Sim
from tests.badge_support import KEY, write_config
from tests.rig.fixtures import edge_command, edge_env
from tests.rig.mqtt import Recorder
from tests.rig.process import EdgeProcess
from tests.rig.servers import Mosquitto

CARDS = ["0A1B2C3D4E", "00DEADBEEF", "7F00112233"]


def wait_online(recorder: Recorder) -> None:
    assert recorder.wait_for(
        lambda ms: any(m.topic.endswith("/status") and json.loads(m.payload)["state"] == "online" for m in ms)
    )


def test_scans_are_published_with_tokens_and_no_raw_uid_anywhere(
    mosquitto: Mosquitto, reader: Rdm6300Sim, tmp_path: Path
) -> None:
    config = write_config(tmp_path, mosquitto.port, reader.path)
    recorder = Recorder(mosquitto.port, "edge/lyon/#")
    log = tmp_path / "badge.log"
    with EdgeProcess("badge", "-c", str(config), log=log) as proc:
        wait_online(recorder)
        for card in CARDS:
            reader.send_card(card)
            time.sleep(0.4)  # the card is taken away: longer than the re-arm time
        scans = recorder.wait_events(3, topic_part="/badge/")
        assert proc.stop() == 0
    events = [decode(Kind.BADGE_SCAN, m.payload) for m in scans]
    assert [e.body.token for e in events] == [badge_token(KEY, card) for card in CARDS]  # type: ignore[attr-defined]
    assert {m.topic for m in scans} == {"edge/lyon/badge/reception/scan"}
    everything = b"".join(m.payload for m in recorder.messages) + log.read_bytes()
    for outbox in (tmp_path / "state").glob("*"):
        everything += outbox.read_bytes()
    for card in CARDS:
        for form in (card, card.lower(), str(int(card, 16)), str(int(card[2:], 16))):
            assert form.encode() not in everything


def test_a_held_card_is_one_scan(mosquitto: Mosquitto, reader: Rdm6300Sim, tmp_path: Path) -> None:
    config = write_config(tmp_path, mosquitto.port, reader.path)
    recorder = Recorder(mosquitto.port, "edge/lyon/#")
    with EdgeProcess("badge", "-c", str(config), log=tmp_path / "badge.log") as proc:
        wait_online(recorder)
        reader.hold_card(CARDS[0], seconds=1.5).join()
        time.sleep(0.5)
        reader.send_card(CARDS[0])
        scans = recorder.wait_events(2, topic_part="/badge/")
        time.sleep(0.5)
        proc.stop()
    assert len([m for m in recorder.messages if "/badge/" in m.topic]) == 2 == len(scans)


def test_an_unplugged_reader_is_read_again_after_replug(
    mosquitto: Mosquitto, reader: Rdm6300Sim, tmp_path: Path
) -> None:
    config = write_config(tmp_path, mosquitto.port, reader.path)
    recorder = Recorder(mosquitto.port, "edge/lyon/#")
    with EdgeProcess("badge", "-c", str(config), log=tmp_path / "badge.log") as proc:
        wait_online(recorder)
        reader.send_card(CARDS[0])
        recorder.wait_count(1, topic_part="/badge/")
        reader.unplug()
        time.sleep(1.0)
        assert proc.alive()
        reader.replug()
        deadline = time.monotonic() + 15
        replugged = badge_token(KEY, CARDS[1]).encode()
        while time.monotonic() < deadline and not any(replugged in m.payload for m in list(recorder.messages)):
            reader.send_card(CARDS[1])  # bytes written before the daemon reopens the port are lost
            time.sleep(0.5)
        assert proc.stop() == 0
    tokens = {decode(Kind.BADGE_SCAN, m.payload).body.token for m in recorder.messages if "/badge/" in m.topic}  # type: ignore[attr-defined]
    assert badge_token(KEY, CARDS[1]) in tokens


def test_garbage_from_the_reader_is_counted_and_the_daemon_keeps_reading(
    mosquitto: Mosquitto, reader: Rdm6300Sim, tmp_path: Path
) -> None:
    config = write_config(tmp_path, mosquitto.port, reader.path)
    recorder = Recorder(mosquitto.port, "edge/lyon/#")
    with EdgeProcess("badge", "-c", str(config), log=tmp_path / "badge.log") as proc:
        wait_online(recorder)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not [m for m in recorder.messages if "/badge/" in m.topic]:
            reader.send_card(CARDS[2])  # bytes written before the daemon opens the port are lost
            time.sleep(0.5)
        time.sleep(0.5)  # the card is taken away: longer than the re-arm time
        reader.write(b"\x00\xff garbage \x02ZZZZ\x03")
        reader.send_card(CARDS[0], checksum=0x00)  # a bad checksum
        reader.send_card(CARDS[1])
        assert recorder.wait_for(lambda ms: badge_token(KEY, CARDS[1]).encode() in b"".join(m.payload for m in ms))
        assert recorder.wait_for(
            lambda ms: any(
                json.loads(m.payload).get("counters", {}).get("reader.reception.bad_checksum", 0) >= 1
                for m in ms
                if m.topic.endswith("/status")
            ),
            timeout=10,
        )
        assert proc.stop() == 0
    tokens = [decode(Kind.BADGE_SCAN, m.payload).body.token for m in recorder.messages if "/badge/" in m.topic]  # type: ignore[attr-defined]
    assert badge_token(KEY, CARDS[0]) not in tokens
    assert tokens.count(badge_token(KEY, CARDS[1])) == 1


def test_a_config_without_readers_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "n.yaml"
    path.write_text("site: a\nnode: b\n")
    result = subprocess.run(edge_command("badge", "-c", str(path)), env=edge_env(), capture_output=True, timeout=30)
    assert result.returncode == 2


def test_a_bad_reader_config_exits_2_with_the_key_path(tmp_path: Path) -> None:
    path = tmp_path / "n.yaml"
    path.write_text("site: a\nnode: b\nreaders:\n  - name: r\n    type: rdm6301\n")
    result = subprocess.run(
        edge_command("badge", "-c", str(path)), env=edge_env(), capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert "readers[0].type" in result.stderr


def test_the_daemon_tells_systemd_it_is_ready_pings_the_watchdog_and_says_when_it_stops(
    mosquitto: Mosquitto, reader: Rdm6300Sim, tmp_path: Path
) -> None:
    # The sd_notify protocol for real: a datagram socket as systemd creates it, named in $NOTIFY_SOCKET.
    address = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(address))
        sock.settimeout(30)  # a loaded machine can take seconds to start the interpreter
        config = write_config(tmp_path, mosquitto.port, reader.path)
        badge = EdgeProcess(
            "badge",
            "-c",
            str(config),
            log=tmp_path / "badge.log",
            NOTIFY_SOCKET=str(address),
            WATCHDOG_USEC="1000000",  # a ping every 0.5 s
        )
        with badge:
            received = [sock.recv(256).decode() for _ in range(4)]
            badge.terminate()
            while received[-1] != "STOPPING=1":
                received.append(sock.recv(256).decode())
            assert badge.stop() == 0
    assert received[0] == "READY=1"
    assert received[1:4] == ["WATCHDOG=1"] * 3
