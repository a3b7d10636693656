"""`python -m benchmarks [--quick] [NAME ...]`: run every benchmark (or the named ones) and print one table.

`--quick` (or EDGE_BENCH_QUICK=1) runs the same measures on fewer samples and shorter windows, for CI.
`--json FILE` also writes every measure as a JSON line to FILE.
"""

from __future__ import annotations

import argparse
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
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="benchmarks to run (bus, door, footprint...); default: all")
    parser.add_argument("--quick", action="store_true", help="fewer samples and shorter windows (CI)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the measures as JSON lines")
    args = parser.parse_args()
    quick = args.quick or os.environ.get("EDGE_BENCH_QUICK", "") not in ("", "0")
    wanted = set(args.names)
    scripts = sorted(p for p in HERE.glob("bench_*.py") if not wanted or p.stem.removeprefix("bench_") in wanted)
    mode = " (quick mode)" if quick else ""
    print(f"edge benchmarks on {machine()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}{mode}")
    with tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False) as out:
        results = Path(out.name)
    env = dict(os.environ, EDGE_BENCH_JSON=str(results), PYTHONPATH=str(HERE.parent))
    if quick:
        env["EDGE_BENCH_QUICK"] = "1"
    failed = []
    for script in scripts:
        print(f"\n== {script.stem}", flush=True)
        began = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", f"benchmarks.{script.stem}"], env=env, cwd=HERE.parent)
        print(f"   ({script.stem}: {time.monotonic() - began:.0f} s)", flush=True)
        if proc.returncode:
            failed.append(script.stem)
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    if args.json:
        args.json.write_text(results.read_text())
    results.unlink()
    print("\n== summary")
    width = max([len(r["name"]) for r in rows] + [7])
    print(f"  {'benchmark':<12} {'measure':<{width}} {'value':>12} {'unit':<8} {'target':<14} verdict")
    for r in rows:
        verdict = "" if r["ok"] is None else ("ok" if r["ok"] else "MISSED")
        value, name = r["value"], r["name"]
        print(f"  {r['benchmark']:<12} {name:<{width}} {value:>12.3f} {r['unit']:<8} {r['target']:<14} {verdict}")
    missed = [r for r in rows if r["ok"] is False]
    print(f"\n{sum(r['ok'] is True for r in rows)} targets met, {len(missed)} missed")
    silent = [s.stem for s in scripts if not any(r["benchmark"] == s.stem.removeprefix("bench_") for r in rows)]
    failed += [name for name in silent if name not in failed]
    if failed:
        print(f"\nbenchmarks that failed to run or reported nothing: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
