"""A minimal real process around `run_service`, run again and again, for stopping it with signals at random instants.

Usage: python -m tests.rig.stoppable RUNS TICK — for each run, prints "ready N" once the service has started and
"stopped N" once `run_service` returned (with its exit code), then starts the next run. Logs go to stderr.
"""

from __future__ import annotations

import sys

from edge.daemons.runtime import run_service, setup_logging


class Idle:
    """A service with nothing to do: only the runtime's own loop runs."""

    def __init__(self, run: int) -> None:
        self.run = run
        self.ticks = 0

    def start(self) -> None:
        """Say that this run is ready to be stopped."""
        print(f"ready {self.run}", flush=True)

    def stop(self) -> None:
        """Nothing to release."""

    def alive(self) -> bool:
        """Always making progress."""
        return True

    def tick(self) -> None:
        """Count the main loop's passes."""
        self.ticks += 1


def main() -> None:
    """Run the idle service RUNS times with a main-loop period of TICK seconds."""
    runs, tick = int(sys.argv[1]), float(sys.argv[2])
    setup_logging("info")
    for run in range(runs):
        service = Idle(run)
        code = run_service("stoppable", service, tick=tick, on_tick=service.tick)
        print(f"stopped {run} {code}", flush=True)


if __name__ == "__main__":
    main()
