"""`python -m benchmarks [NAME ...]`: run every benchmark (or the named ones) and print one table."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import machine

HERE = Path(__file__).parent


def main() -> int:
    """Run benchmarks in separate processes so footprints do not mix; print a summary table."""
    wanted = set(sys.argv[1:])
    scripts = sorted(p for p in HERE.glob("bench_*.py") if not wanted or p.stem.removeprefix("bench_") in wanted)
    print(f"edge benchmarks on {machine()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    with tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False) as out:
        results = Path(out.name)
    env = dict(os.environ, EDGE_BENCH_JSON=str(results), PYTHONPATH=str(HERE.parent))
    failed = []
    for script in scripts:
        print(f"\n== {script.stem}")
        proc = subprocess.run([sys.executable, "-m", f"benchmarks.{script.stem}"], env=env, cwd=HERE.parent)
        if proc.returncode:
            failed.append(script.stem)
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    results.unlink()
    print("\n== summary")
    print(f"  {'benchmark':<12} {'measure':<44} {'value':>12} {'unit':<8} {'target':<16} verdict")
    for r in rows:
        verdict = "" if r["ok"] is None else ("ok" if r["ok"] else "MISSED")
        print(f"  {r['benchmark']:<12} {r['name']:<44} {r['value']:>12.3f} {r['unit']:<8} {r['target']:<16} {verdict}")
    if failed:
        print(f"\nbenchmarks that failed to run: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
