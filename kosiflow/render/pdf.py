"""HTML to PDF with the system's headless Chromium (never a browser download).

The document is written to a temporary folder and printed from there as a ``file://`` URL: it
must be self-contained (styles inlined, no images or fonts from elsewhere), and Chromium runs
without network services, sync or updates, with a throw-away profile in the same folder.
"""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Literal

from kosiflow.errors import KosiflowError

__all__ = ["CHROMIUM_VARIABLE", "DEFAULT_CHROMIUM", "PdfUnavailable", "chromium_path", "print_pdf"]

CHROMIUM_VARIABLE = "KOSIFLOW_CHROMIUM"
"""The environment variable naming the Chromium executable."""
DEFAULT_CHROMIUM = Path("/usr/bin/chromium")
TIMEOUT_SECONDS = 60.0

_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-pdf-header-footer",
)

_log = logging.getLogger(__name__)


class PdfUnavailable(KosiflowError):
    """No PDF can be made: Chromium is ``missing`` at ``chromium``, or printing ``failed``."""

    def __init__(self, chromium: Path, reason: Literal["missing", "failed"], detail: str) -> None:
        self.chromium = chromium
        self.reason = reason
        self.detail = detail
        super().__init__(f"no PDF from {chromium}: {detail}")


def chromium_path() -> Path:
    """The Chromium to print with: ``$KOSIFLOW_CHROMIUM``, else ``/usr/bin/chromium``."""
    return Path(os.environ.get(CHROMIUM_VARIABLE) or DEFAULT_CHROMIUM)


def print_pdf(document: str, *, chromium: Path, timeout: float = TIMEOUT_SECONDS) -> bytes:
    """``document`` (a self-contained HTML page) printed to PDF by headless ``chromium``.

    Raises :class:`PdfUnavailable` when ``chromium`` is not an executable file, exits with an
    error, runs longer than ``timeout`` seconds or writes no PDF.
    """
    if not chromium.is_file() or not os.access(chromium, os.X_OK):
        raise PdfUnavailable(chromium, "missing", "Chromium is not installed there")
    with tempfile.TemporaryDirectory(prefix="kosiflow-pdf-") as folder:
        source, target = Path(folder) / "report.html", Path(folder) / "report.pdf"
        source.write_text(document, encoding="utf-8")
        command = [
            str(chromium),
            *_FLAGS,
            f"--user-data-dir={Path(folder) / 'profile'}",
            f"--print-to-pdf={target}",
            source.as_uri(),
        ]
        try:
            # The command is fixed; only our own temporary paths are filled in.
            finished = subprocess.run(  # noqa: S603
                command, capture_output=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise PdfUnavailable(chromium, "failed", f"no PDF within {timeout:g} s") from exc
        except OSError as exc:
            raise PdfUnavailable(chromium, "failed", str(exc)) from exc
        if finished.returncode != 0 or not target.is_file():
            _log.error(
                "chromium could not print: %s", finished.stderr.decode(errors="replace")[-2000:]
            )
            raise PdfUnavailable(chromium, "failed", f"exit code {finished.returncode}")
        return target.read_bytes()
