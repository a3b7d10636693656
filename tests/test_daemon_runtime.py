"""The runtime every daemon runs in: a stop signal ends the service whenever it lands."""

from __future__ import annotations

import queue
import random
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.fixtures import REPO, edge_env

RUNS = 1000
TICK_S = 0.0001  # a main loop that is almost always inside its timed wait: the window for the old deadlock
STOP_WITHIN_S = 20.0  # a bound for "it stopped", far above any slow run; a hang never ends


class Lines:
    """The lines a process prints, read on a thread so that waiting for one has a deadline."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self._lines: queue.Queue[str] = queue.Queue()
        self._thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self._thread.start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self._lines.put(line.strip())

    def next(self, timeout: float) -> str | None:
        """The next line, or None when none came within `timeout`."""
        try:
            return self._lines.get(timeout=timeout)
        except queue.Empty:
            return None


@pytest.fixture
def stoppable(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """The minimal real process around run_service (tests/rig/stoppable.py), its stderr in a file."""
    log = tmp_path / "stoppable.log"
    with log.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-X", "faulthandler", "-m", "tests.rig.stoppable", str(RUNS), str(TICK_S)],
            stdout=subprocess.PIPE, stderr=err, text=True, env=edge_env(), cwd=REPO,
        )  # fmt: skip
    yield proc, log
    if proc.poll() is None:
        proc.kill()
    proc.wait()


@pytest.mark.timeout(600)
def test_a_stop_signal_at_any_instant_ends_the_service(stoppable: tuple[subprocess.Popen[str], Path]) -> None:
    proc, log = stoppable
    lines = Lines(proc)
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    for run in range(RUNS):
        assert lines.next(STOP_WITHIN_S) == f"ready {run}", log.read_text()[-3000:]
        delay = rng.uniform(0, 0.01)
        threading.Event().wait(delay)  # a random instant of the main loop (the machine's load adds its own jitter)
        sig = rng.choice([signal.SIGTERM, signal.SIGINT])
        proc.send_signal(sig)
        stopped = lines.next(STOP_WITHIN_S)
        if stopped is None:
            proc.send_signal(signal.SIGABRT)  # -X faulthandler: the hung process prints where it is stuck
            proc.wait(10)
        assert stopped == f"stopped {run} 0", (
            f"run {run} (seed {seed}) still running {STOP_WITHIN_S:.0f} s after {sig.name} sent {delay * 1000:.1f} ms "
            f"after it was ready:\n{log.read_text()[-3000:]}"
        )
    assert proc.wait(STOP_WITHIN_S) == 0
