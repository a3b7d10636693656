"""pytest fixtures for real servers and for running the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.hardware.sim.serial_devices import Rdm6300Sim
from tests.rig.servers import InfluxDB16, Mosquitto, VictoriaMetrics

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A fresh real broker for one test."""
    broker = Mosquitto(tmp_path / "mosquitto")
    broker.start()
    yield broker
    broker.kill()


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """Mosquitto whose only listener is TLS with a certificate for 127.0.0.1 (signed by `tmp_path/ca.crt`, the
    site CA of tests.node_files_support), requiring a client certificate."""
    from tests.node_files_support import ca_pem, client_pair

    (tmp_path / "ca.crt").write_bytes(ca_pem())
    cert, key = client_pair(tmp_path, name="broker", ip="127.0.0.1")
    extra = f"cafile {tmp_path / 'ca.crt'}\ncertfile {cert}\nkeyfile {key}\nrequire_certificate true\n"
    broker = Mosquitto(tmp_path / "mosquitto", extra=extra)
    broker.start()
    yield broker
    broker.kill()


@pytest.fixture
def victoria(tmp_path: Path) -> Iterator[VictoriaMetrics]:
    """A fresh real VictoriaMetrics for one test."""
    server = VictoriaMetrics(tmp_path / "vm")
    server.start()
    yield server
    server.kill()


@pytest.fixture
def influxdb(tmp_path: Path) -> Iterator[InfluxDB16]:
    """A fresh real InfluxDB 1.6.7 for one test."""
    server = InfluxDB16(tmp_path / "influx")
    server.start()
    yield server
    server.kill()


@pytest.fixture
def reader() -> Iterator[Rdm6300Sim]:
    """A simulated RDM6300 reader behind a real pty, at a stable path that can be unplugged and replugged."""
    sim = Rdm6300Sim()
    yield sim
    sim.close()


def mqtt_section(port: int) -> str:
    """A node config's `mqtt:` section for a test broker on this machine, reconnecting quickly after an outage."""
    return f"mqtt:\n  host: 127.0.0.1\n  port: {port}\n  reconnect_min_s: 0.2\n  reconnect_max_s: 1\n"


def edge_env(**extra: str) -> dict[str, str]:
    """Environment for running `python -m edge` from this source tree (installed or not)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def edge_command(*args: str) -> list[str]:
    """The argv that runs the real CLI."""
    return [sys.executable, "-m", "edge", *args]


def run_edge(
    *args: str, timeout: float = 60, input_text: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run the real CLI to completion (with `input_text` on its standard input) and capture its output."""
    return subprocess.run(
        edge_command(*args),
        capture_output=True,
        text=True,
        timeout=timeout,
        env=edge_env(**env),
        cwd=REPO,
        input=input_text,
    )


@pytest.fixture
def door_reader() -> Iterator[Rdm6300Sim]:
    """An RDM6300 on a pty, for a door's reader."""
    sim = Rdm6300Sim()
    yield sim
    sim.close()


@pytest.fixture
def desk_reader() -> Iterator[Rdm6300Sim]:
    """An RDM6300 on a pty, for a reception (standalone) reader."""
    sim = Rdm6300Sim()
    yield sim
    sim.close()
