"""`python -m edge.dashboards [--check] [DIR]`: write (or check) the provisioned dashboard JSON files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from edge.dashboards import DASHBOARDS, render

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "deploy" / "roles" / "edge_grafana" / "files" / "dashboards"


def main(argv: list[str] | None = None) -> int:
    """Write every dashboard into DIR; with --check, only report files that differ (exit 1)."""
    parser = argparse.ArgumentParser(prog="python -m edge.dashboards", description=__doc__)
    parser.add_argument("dir", nargs="?", type=Path, default=DEFAULT_DIR, help="where the JSON files go")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file is out of date")
    args = parser.parse_args(argv)
    stale = []
    for name, build in DASHBOARDS.items():
        path = args.dir / name
        text = render(build)
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    for path in stale:
        print(f"{'out of date' if args.check else 'wrote'}: {path}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
