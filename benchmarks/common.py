"""What every benchmark shares: percentiles, process footprint, and one way to print and collect results."""

from __future__ import annotations

import json
import os
import platform
import resource
import signal
import statistics
import subprocess
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

QUICK = os.environ.get("EDGE_BENCH_QUICK", "") not in ("", "0")
"""Quick mode (`python -m benchmarks --quick` or EDGE_BENCH_QUICK=1): the same measures on fewer samples, for CI."""


def sized(full: float, quick: float) -> float:
    """`full` normally, `quick` in quick mode (sample counts, durations)."""
    return quick if QUICK else full


@dataclass
class Measure:
    """One measured number, with the target it is compared with (if the issues set one)."""

    benchmark: str
    name: str
    value: float
    unit: str
    target: str = ""
    ok: bool | None = None


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100) by nearest rank."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def median(values: Sequence[float]) -> float:
    """The median."""
    return statistics.median(values)


def rss_mb(pid: int | None = None) -> float:
    """Resident memory of a process in MB (from /proc)."""
    path = Path(f"/proc/{pid or os.getpid()}/status")
    for line in path.read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU seconds used by a process so far."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def idle_cpu_percent(pid: int, seconds: float) -> float:
    """Share of one core a process uses over `seconds` of wall time."""
    start_cpu, start = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return 100 * (cpu_seconds(pid) - start_cpu) / (time.monotonic() - start)


def terminate(proc: subprocess.Popen[bytes], within_s: float = 30.0) -> int:
    """SIGTERM a daemon and wait for its exit code; one still running after `within_s` is killed and reported."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(within_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise RuntimeError(f"pid {proc.pid} still ran {within_s:.0f} s after SIGTERM: killed") from None


def machine() -> str:
    """A one-line description of the machine the numbers come from."""
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith(("model name", "Model")):
                model = line.split(":", 1)[1].strip()
                break
    return (
        f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def pss_and_shared_mb(pid: int) -> tuple[float, float]:
    """Proportional set size, and the resident pages shared with other processes (libpython, pydantic_core...)."""
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, _, rest = line.partition(":")
        values[key] = int(rest.split()[0]) / 1024
    return values.get("Pss", float("nan")), values.get("Shared_Clean", 0.0) + values.get("Shared_Dirty", 0.0)


def report(measures: list[Measure]) -> None:
    """Print a table; also append JSON lines to $EDGE_BENCH_JSON when the runner collects results."""
    if QUICK:
        print("  (quick mode: fewer samples; numbers are indicative only)")
    width = max((len(m.name) for m in measures), default=10)
    for m in measures:
        verdict = "" if m.ok is None else ("ok" if m.ok else "MISSED")
        print(f"  {m.name:<{width}}  {m.value:>12.3f} {m.unit:<8} {m.target:<16} {verdict}")
    out = os.environ.get("EDGE_BENCH_JSON")
    if out:
        with open(out, "a") as handle:
            for m in measures:
                handle.write(json.dumps(asdict(m)) + "\n")
