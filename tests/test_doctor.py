"""`edge doctor`: plain-words checks of a node, run as the real CLI against real servers."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from edge.bus import Outbox
from edge.doctor.checks import Context, boot_config_lines, check_firmware
from edge.doctor.report import Status
from tests.deploy_support import WAIT, Client, make_secrets
from tests.rig.fixtures import run_edge
from tests.rig.servers import Mosquitto, free_port

# The deployed broker binds client ids to user names (deploy/roles/edge_broker): logging in with a node's user takes
# that node's connection over, and with a clean start discards its persistent session.
BINDING = "use_username_as_clientid true"


def node_config(tmp_path: Path, port: int, extra: str = "") -> Path:
    path = tmp_path / "node.yaml"
    path.write_text(
        f"site: demo\nnode: pi-1\nstate_dir: {tmp_path / 'state'}\nmqtt:\n  host: 127.0.0.1\n  port: {port}\n" + extra
    )
    return path


def test_a_healthy_node_passes_with_a_reachable_broker(mosquitto: Mosquitto, tmp_path: Path) -> None:
    result = run_edge("doctor", "-c", str(node_config(tmp_path, mosquitto.port)), "--json")
    report = json.loads(result.stdout)
    by_check = {r["check"]: r for r in report["results"]}
    assert by_check["config"]["status"] == "ok"
    assert by_check["broker"]["status"] == "ok"
    assert by_check["state dir"]["status"] == "ok"
    assert result.returncode == 0


def test_an_unreachable_broker_fails_with_a_fix(tmp_path: Path) -> None:
    result = run_edge("doctor", "-c", str(node_config(tmp_path, free_port())), "--timeout", "2")
    assert result.returncode == 1
    assert "FAIL  broker: cannot reach the broker" in result.stdout
    assert "fix: check that the broker runs" in result.stdout


def test_wrong_credentials_are_reported_as_refused(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path / "broker")
    passwords = tmp_path / "broker" / "passwd"
    passwords.parent.mkdir(parents=True, exist_ok=True)
    passwords.write_text("")
    subprocess.run(["mosquitto_passwd", "-b", str(passwords), "pi-1", "right"], check=True)
    broker.extra = f"allow_anonymous false\npassword_file {passwords}"
    broker.start()
    try:
        (tmp_path / "pw").write_text("wrong\n")
        config = node_config(tmp_path, broker.port, f"  username: pi-1\n  password_file: {tmp_path / 'pw'}\n")
        result = run_edge("doctor", "-c", str(config), "--json")
    finally:
        broker.kill()
    by_check = {r["check"]: r for r in json.loads(result.stdout)["results"]}
    assert by_check["broker"]["status"] == "fail"
    assert "refused" in by_check["broker"]["message"]
    assert result.returncode == 1


def test_the_doctor_does_not_log_in_as_a_node_whose_daemon_runs(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path / "broker", extra=BINDING)
    broker.start()
    daemon = Client(broker.port, None, "pi-1", None)
    outbox = Outbox(tmp_path / "state" / "outbox-presence.sqlite3")  # the lock a running daemon holds
    try:
        assert not daemon.connect().is_failure
        config = node_config(tmp_path, broker.port, "  username: pi-1\n")
        result = run_edge("doctor", "-c", str(config), "--json")
        # A QoS 1 round trip after the doctor finished: a takeover would have disconnected the daemon before it.
        assert daemon.publish("edge/demo/node/pi-1/status") == "accepted"
        assert daemon.disconnects.empty(), daemon.disconnects.get()
    finally:
        outbox.close()
        daemon.close()
        broker.kill()
    broker_check = {r["check"]: r for r in json.loads(result.stdout)["results"]}["broker"]
    assert broker_check["status"] == "ok"
    assert "not tried" in broker_check["message"] and "running" in broker_check["message"]


def test_the_doctor_never_discards_a_collectors_persistent_session(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path / "broker", extra=BINDING)
    broker.start()
    topic, event = "edge/demo/door/front/access", b"queued while the collector was stopped"
    try:
        collector = Client(broker.port, None, "hub", None, persistent=True)
        assert not collector.connect().is_failure
        assert collector.subscribe(topic).value < 0x80
        collector.close()
        door = Client(broker.port, None, "door-front", None)
        assert not door.connect().is_failure
        assert door.publish(topic, event) == "accepted"
        door.close()
        config = node_config(tmp_path, broker.port, "  username: hub\ncollector:\n  derive: false\n")
        result = run_edge("doctor", "-c", str(config), "--json")
        back = Client(broker.port, None, "hub", None, persistent=True)
        assert not back.connect().is_failure
        try:
            assert back.messages.get(timeout=WAIT) == (topic, event)
        finally:
            back.close()
    finally:
        broker.kill()
    broker_check = {r["check"]: r for r in json.loads(result.stdout)["results"]}["broker"]
    assert broker_check["status"] == "ok" and "persistent session" in broker_check["message"]


@pytest.mark.parametrize("trusted", ["site CA", "another CA"])
def test_without_logging_in_the_doctor_still_checks_the_brokers_tls_certificate(tmp_path: Path, trusted: str) -> None:
    site = make_secrets(tmp_path / "site", [])
    ca = site / "ca.crt" if trusted == "site CA" else make_secrets(tmp_path / "other", []) / "ca.crt"
    tls_port = free_port()
    listener = f"listener {tls_port} 127.0.0.1\ncafile {site / 'ca.crt'}\ncertfile {site / 'broker.crt'}\n"
    broker = Mosquitto(tmp_path / "broker", extra=f"{BINDING}\n{listener}keyfile {site / 'broker.key'}\n{BINDING}")
    broker.start()
    try:
        extra = f"  username: hub\n  tls:\n    ca_file: {ca}\ncollector:\n  derive: false\n"
        result = run_edge("doctor", "-c", str(node_config(tmp_path, tls_port, extra)), "--json")
    finally:
        broker.kill()
    broker_check = {r["check"]: r for r in json.loads(result.stdout)["results"]}["broker"]
    if trusted == "site CA":
        assert broker_check["status"] == "ok" and "TLS certificate verified" in broker_check["message"]
    else:
        assert broker_check["status"] == "fail" and "certificate" in broker_check["message"]


def test_an_invalid_config_stops_after_saying_which_keys(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("site: demo\nnode: pi-1\nmqtt:\n  port: 0\n")
    result = run_edge("doctor", "-c", str(path))
    assert result.returncode == 1
    assert "mqtt.port" in result.stdout
    assert "broker" not in result.stdout


def test_firmware_lines_are_found_in_config_txt_whatever_the_spacing(tmp_path: Path) -> None:
    boot = tmp_path / "config.txt"
    boot.write_text("# comment\n[all]\ndtparam=spi=on  # for the reader\nenable_uart = 1\n")
    assert boot_config_lines(boot) == {"[all]", "dtparam=spi=on", "enable_uart=1"}
    ctx = Context(config_path=tmp_path / "x", boot_config=boot)
    results = list(check_firmware(ctx, {"dtparam=spi=on": "the MFRC522", "dtparam=watchdog=on": "the watchdog"}))
    assert [r.status for r in results] == [Status.OK, Status.FAIL]
    assert "reboot" in results[1].fix
