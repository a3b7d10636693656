"""The report as a PDF: the same HTML page printed by the system's headless Chromium.

The page's print CSS (templates/report.css, `@media print` and `@page`) sets A4 pages, page breaks, and running
headers and footers with page numbers (CSS page-margin boxes, which Chromium prints since version 131);
`--no-pdf-header-footer` keeps Chromium's own (URL and date) off the pages. Chromium runs with a throwaway
profile in a temporary folder, in its own process group so that a hung print can be stopped whole.

Errors are `PdfError` with a message that says what to do (install Chromium, or give its path).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from edge.errors import EdgeError

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
BROWSER_ENV = "EDGE_CHROMIUM"
TIMEOUT_S = 180.0


class PdfError(EdgeError, RuntimeError):
    """The PDF could not be made (no browser, or the browser failed); the HTML and CSV are not affected."""


def find_browser(given: str | None = None) -> str:
    """The Chromium to print with: `given`, else `$EDGE_CHROMIUM`, else the first of BROWSERS on the PATH."""
    wanted = given or os.environ.get(BROWSER_ENV)
    if wanted:
        found = shutil.which(wanted)
        if found is None:
            raise PdfError(f"no browser at {wanted}: give the path of Chromium (apt-get install chromium)")
        return found
    for name in BROWSERS:
        found = shutil.which(name)
        if found is not None:
            return found
    raise PdfError(
        "Chromium is not installed, so the PDF cannot be printed: install it (apt-get install chromium) or give"
        f" its path with --chromium or ${BROWSER_ENV}; the HTML page prints to PDF from any browser too"
    )


def print_pdf(html: str, out: Path, *, browser: str | None = None, timeout_s: float = TIMEOUT_S) -> Path:
    """Print the page to `out` (A4, through a temporary file, so a reader never sees half a PDF); returns `out`."""
    executable = find_browser(browser)
    with tempfile.TemporaryDirectory(prefix="edge-report-pdf-") as tmp:
        folder = Path(tmp)
        page, printed = folder / "report.html", folder / "report.pdf"
        page.write_text(html, encoding="utf-8")
        command = [
            executable,
            "--headless",
            "--no-sandbox",  # root in a container or a service account: Chromium's sandbox needs user namespaces
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-extensions",
            "--no-first-run",
            "--no-default-browser-check",
            f"--user-data-dir={folder / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={printed}",
            page.as_uri(),
        ]
        _run(command, folder, timeout_s)
        if not printed.is_file() or printed.stat().st_size == 0:
            raise PdfError(f"{executable} did not print the report (no PDF came out)")
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(f".{out.name}.tmp")
        shutil.copyfile(printed, partial)
        os.replace(partial, out)
    return out


def _run(command: list[str], home: Path, timeout_s: float) -> None:
    env = {**os.environ, "HOME": str(home)}  # Chromium writes caches under $HOME: keep them in the temporary folder
    try:
        process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
            text=True,
        )
    except OSError as exc:
        raise PdfError(f"cannot run {command[0]}: {exc.strerror or exc}") from None
    try:
        _, stderr = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # the browser and the helpers it started, all ours
        process.communicate()
        raise PdfError(f"{command[0]} did not print the report within {timeout_s:g} s") from None
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # helpers that outlive the browser's main process
    if process.returncode != 0:
        lines = [line for line in (stderr or "").splitlines() if line.strip() and "dbus" not in line.lower()]
        detail = lines[-1] if lines else f"exit status {process.returncode}"
        raise PdfError(f"{command[0]} could not print the report: {detail}")
