"""`edge doctor`: plain-words checks of a node, run as the real CLI against real servers."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from edge.doctor.checks import Context, boot_config_lines, check_firmware
from edge.doctor.report import Status
from tests.rig.fixtures import run_edge
from tests.rig.servers import Mosquitto, free_port


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
