"""A window onto simulated GPIO pins from another process.

A daemon started with `--simulate DIR` uses gpiozero's MockFactory instead of real pins and serves this bridge
on `DIR/{node}.pins`, a UNIX socket speaking JSON lines. The demo (or an installer's training bench) drives
inputs (a door contact, an exit button, a PIR, a seat switch) and watches outputs (the lock relay, LEDs) through
it, while the daemon runs its real code path against gpiozero's mock pins.

Requests and answers, one JSON object per line:
    {"op": "drive", "pin": 17, "level": 0}    ->  {"ok": true}
    {"op": "read", "pin": 17}                 ->  {"ok": true, "level": 1, "function": "output"}
    {"op": "pins"}                            ->  {"ok": true, "pins": {"17": {"level": 1, "function": "output"}}}
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import socketserver
import threading
from pathlib import Path
from typing import Any

from gpiozero.pins.mock import MockFactory

log = logging.getLogger(__name__)
MAX_REQUEST = 4096


class PinBridgeServer:
    """Serves a MockFactory's pins on a UNIX socket (owner-only permissions)."""

    def __init__(self, factory: MockFactory, path: Path) -> None:
        self.factory = factory
        self.path = path
        bridge = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                for line in self.rfile:
                    if len(line) > MAX_REQUEST:
                        answer: dict[str, Any] = {"ok": False, "error": "request too large"}
                    else:
                        answer = bridge.answer(line)
                    self.wfile.write(json.dumps(answer).encode() + b"\n")

        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        # Bound and listening under a temporary name, then renamed: whoever sees the path can connect.
        staging = path.with_name(f".{path.name}.{os.getpid()}")
        with contextlib.suppress(FileNotFoundError):
            staging.unlink()
        self._server = socketserver.ThreadingUnixStreamServer(str(staging), Handler)
        self._server.daemon_threads = True
        os.chmod(staging, 0o600)
        os.replace(staging, path)
        self._thread = threading.Thread(target=self._server.serve_forever, name="pinbridge", daemon=True)

    def start(self) -> None:
        """Start serving in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and remove the socket."""
        self._server.shutdown()
        self._server.server_close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def answer(self, line: bytes) -> dict[str, Any]:
        """Handle one request line."""
        try:
            request = json.loads(line)
            op = request["op"]
            if op == "pins":
                pins = {str(p.info.name.removeprefix("GPIO")): self._describe(p) for p in self.factory.pins.values()}
                return {"ok": True, "pins": pins}
            pin = self.factory.pin(int(request["pin"]))
            if op == "read":
                return {"ok": True, **self._describe(pin)}
            if op == "drive":
                if pin.function != "input":
                    return {"ok": False, "error": f"GPIO {request['pin']} is not an input"}
                if int(request["level"]):
                    pin.drive_high()
                else:
                    pin.drive_low()
                return {"ok": True}
            return {"ok": False, "error": f"unknown op {op!r}"}
        except Exception as exc:  # a bad request must never reach the daemon
            return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}

    @staticmethod
    def _describe(pin: Any) -> dict[str, Any]:
        return {"level": int(bool(pin.state)), "function": pin.function}


class PinBridgeClient:
    """Talks to a PinBridgeServer."""

    def __init__(self, path: Path, timeout: float = 5.0) -> None:
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.settimeout(timeout)
        self._sock.connect(str(path))
        self._file = self._sock.makefile("rwb")
        self._lock = threading.Lock()

    def _call(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._file.write(json.dumps(request).encode() + b"\n")
            self._file.flush()
            answer: dict[str, Any] = json.loads(self._file.readline())
        if not answer.get("ok"):
            raise RuntimeError(answer.get("error", "pin bridge error"))
        return answer

    def drive(self, pin: int, level: int) -> None:
        """Drive a simulated input pin high (1) or low (0)."""
        self._call({"op": "drive", "pin": pin, "level": level})

    def read(self, pin: int) -> int:
        """The level of a pin (0 or 1)."""
        return int(self._call({"op": "read", "pin": pin})["level"])

    def pins(self) -> dict[int, dict[str, Any]]:
        """Every pin the daemon has set up, with its level and function."""
        return {int(k): v for k, v in self._call({"op": "pins"})["pins"].items()}

    def close(self) -> None:
        """Close the connection."""
        self._file.close()
        self._sock.close()
