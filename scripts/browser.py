"""Headless Chromium for the report's browser tests, screenshots and benchmark (playwright).

Playwright drives the system's Chromium (Debian's ``chromium`` package: its own
browser download is not used), headless, with a fresh profile folder, no
sandbox (root in CI) and no background traffic.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str | None:
    """The system Chromium executable, or None where none is installed."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def launch(playwright: Any, profile: Path, width: int = 1400, height: int = 900) -> Any:
    """A headless Chromium context with a fresh profile in ``profile``, downloads allowed."""
    path = chromium_path()
    if path is None:
        raise RuntimeError("no chromium found: apt-get install -y chromium")
    return playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=path,
        headless=True,
        args=ARGS,
        accept_downloads=True,
        viewport={"width": width, "height": height},
    )
