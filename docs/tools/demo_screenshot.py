"""Take the screenshot of `edge demo`'s live view shown in docs/demo.md.

Runs the demo in a tmux session, captures the screen with its colours at a chosen moment, turns the ANSI codes
into HTML and lets headless Chromium render it to docs/demo-live-view.png. Needs tmux and chromium (apt).
Usage: python docs/tools/demo_screenshot.py [SECONDS_INTO_THE_RUN]
"""

from __future__ import annotations

import html
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1]
COLOURS = {"31": "#e06c75", "32": "#98c379", "33": "#e5c07b", "2": "#7f848e"}


def ansi_to_html(text: str) -> str:
    """Just the SGR codes the demo view uses: colours, dim, bold, reset."""
    out, open_spans = [], 0
    for part in re.split(r"(\x1b\[[0-9;]*m)", text):
        match = re.fullmatch(r"\x1b\[([0-9;]*)m", part)
        if not match:
            out.append(html.escape(part))
            continue
        code = match.group(1)
        if code == "1":
            out.append('<span style="font-weight:bold">')
            open_spans += 1
        elif code in COLOURS:
            out.append(f'<span style="color:{COLOURS[code]}">')
            open_spans += 1
        else:  # 0, 22, 39 and the rest: back to the default look
            out.append("</span>" * open_spans)
            open_spans = 0
    out.append("</span>" * open_spans)
    return "".join(out)


def main() -> None:
    """Run, capture, render."""
    moment = float(sys.argv[1]) if len(sys.argv) > 1 else 50.0
    work = Path(tempfile.mkdtemp(prefix="edge-demo-shot-"))
    command = f"{sys.executable} -m edge demo --speed 300 --workdir {work / 'demo'}; sleep 60"
    subprocess.run(["tmux", "new-session", "-d", "-s", "edge-demo-shot", "-x", "110", "-y", "42", command], check=True)
    try:
        time.sleep(moment)
        screen = subprocess.run(
            ["tmux", "capture-pane", "-t", "edge-demo-shot", "-e", "-p"], check=True, capture_output=True, text=True
        ).stdout
    finally:
        subprocess.run(["tmux", "kill-session", "-t", "edge-demo-shot"], check=False)
    page = work / "screen.html"
    page.write_text(
        "<!doctype html><meta charset=utf-8><body style='margin:0;background:#282c34'>"
        "<pre style='margin:0;padding:16px;color:#dcdfe4;font:14px/1.35 DejaVu Sans Mono,monospace'>"
        + ansi_to_html(screen.rstrip() + "\n")
        + "</pre>"
    )
    subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--disable-background-networking",
            f"--screenshot={DOCS / 'demo-live-view.png'}",
            "--window-size=1000,760",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
    )
    print(DOCS / "demo-live-view.png")


if __name__ == "__main__":
    main()
