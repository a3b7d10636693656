"""An edge CLI (or a test rig program) as a real process: started from this source tree with its output in a log
file, stopped the way systemd stops it (SIGTERM), or killed (SIGKILL) — always by its own PID, never by name."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from types import TracebackType

from tests.rig.fixtures import REPO, edge_env
from tests.rig.waiting import wait_until

STOP_TIMEOUT_S = 30.0


class EdgeProcess:
    """`python -m edge ARGS...` (or another `module` of this tree, e.g. a test rig program) logging stdout and
    stderr to `log`; a context manager that never leaves it running."""

    def __init__(self, *args: str, log: Path, module: str = "edge", own_group: bool = False, **env: str) -> None:
        self.args = args
        self.log = log
        self.module = module
        self.own_group = own_group  # leads a new process group (and session): its children can be found by it
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self._terminated = False  # SIGTERM sent to this run: a second one would land after the daemon's handler

    def start(self) -> EdgeProcess:
        """Start it (again, after a stop or a kill: the log is appended to)."""
        self._terminated = False
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", self.module, *self.args],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=edge_env(**self.env),
                cwd=REPO,
                start_new_session=self.own_group,
            )
        return self

    @property
    def pid(self) -> int:
        """The running process's id."""
        assert self.proc is not None, "not started"
        return self.proc.pid

    def alive(self) -> bool:
        """Started and not exited."""
        return self.proc is not None and self.proc.poll() is None

    def output(self) -> str:
        """Everything it logged so far, over all its runs."""
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def wait_output(self, text: str, count: int = 1, timeout: float = 60.0) -> None:
        """Wait until `text` was logged `count` times in all (e.g. "ready in" once per run); fail naming the log's
        tail, or at once if the process exits first."""

        def logged() -> bool:
            if self.output().count(text) >= count:
                return True
            if not self.alive():
                raise AssertionError(f"{self.name} exited ({self.returncode()}) before logging {text!r}: {self.tail()}")
            return False

        wait_until(logged, timeout, f"{self.name} to log {text!r} ({count}x)", self.tail)

    def wait_ready(self, runs: int = 1, timeout: float = 60.0) -> None:
        """Wait until the daemon said it is ready (runtime's "ready in" line), `runs` times counting restarts."""
        self.wait_output("ready in", runs, timeout)

    def terminate(self) -> None:
        """Send SIGTERM, as systemd does to stop it, without waiting; once per run, as systemd does."""
        assert self.proc is not None, "not started"
        if self.proc.poll() is None and not self._terminated:
            self._terminated = True
            self.proc.send_signal(signal.SIGTERM)

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> int:
        """SIGTERM, as systemd stops it, and its exit code; SIGKILL and fail the test if it does not exit in time."""
        assert self.proc is not None, "not started"
        self.terminate()
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            raise AssertionError(f"{self.name} did not stop within {timeout:g} s of SIGTERM: {self.tail()}") from None

    def wait(self, timeout: float) -> int:
        """Wait for it to end by itself (a command that finishes); its exit code. Fails naming its log's tail."""
        assert self.proc is not None, "not started"
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.name} did not end within {timeout:g} s: {self.tail()}") from None

    def kill9(self) -> int:
        """SIGKILL, as a crash or a power cut would end it; its exit code (-9)."""
        assert self.proc is not None, "not started"
        if self.proc.poll() is None:
            self.proc.kill()
        return self.proc.wait()

    def returncode(self) -> int | None:
        """Its exit code, or None while it runs."""
        return None if self.proc is None else self.proc.poll()

    def tail(self, chars: int = 3000) -> str:
        """The end of its log, for failure messages."""
        return self.output()[-chars:]

    @property
    def name(self) -> str:
        """`edge COMMAND`, for messages."""
        return f"{self.module} {self.args[0]}" if self.args else self.module

    def __enter__(self) -> EdgeProcess:
        return self if self.proc is not None else self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self.alive():
            self.kill9()
