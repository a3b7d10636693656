"""`edge console -c FILE` as staff run it: a real subprocess serving HTTPS with the configured certificate,
`create-user` for the first account, and a prompt stop on SIGTERM."""

from __future__ import annotations

import socket
import ssl
import subprocess
import time
import urllib.request
from pathlib import Path

from tests.console_support import console_config
from tests.rig.fixtures import run_edge
from tests.rig.process import EdgeProcess


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def self_signed(folder: Path) -> None:
    """A certificate for 127.0.0.1 (as an installer makes one for the hub's address)."""
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip


def test_the_console_serves_the_french_login_page_over_https_and_stops_on_sigterm(tmp_path: Path) -> None:
    folder = tmp_path / "hub"
    folder.mkdir()
    self_signed(folder)
    port = free_port()
    config = console_config(folder, console_extra=f"  listen: 127.0.0.1\n  port: {port}\n")
    created = run_edge("console", "-c", str(config), "create-user", "alice", "--role", "manager", "--password-stdin",
                       input_text="correct horse battery\n")  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert "created manager alice" in created.stdout
    with EdgeProcess("console", "-c", str(config), log=tmp_path / "console.log") as console:
        console.wait_ready()
        context = ssl.create_default_context(cafile=str(folder / "cert.pem"))
        with urllib.request.urlopen(f"https://127.0.0.1:{port}/login/", context=context, timeout=30) as response:
            page = response.read().decode()
            assert response.status == 200
            assert response.headers["Strict-Transport-Security"].startswith("max-age=")
        assert "Connexion à la console" in page
        with urllib.request.urlopen(f"https://127.0.0.1:{port}/members/", context=context, timeout=30) as response:
            assert response.url.endswith("/login/?next=/members/")  # redirected: no session
        started = time.monotonic()
        assert console.stop(15) == 0
        assert time.monotonic() - started < 10


def test_a_console_without_its_signing_key_refuses_to_start_naming_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "hub"
    config = console_config(folder)
    (folder / "keys" / "snapshot-signing.key").unlink()
    result = run_edge("console", "-c", str(config))
    assert result.returncode == 2
    assert "console.snapshot_signing_key_file" in result.stderr
