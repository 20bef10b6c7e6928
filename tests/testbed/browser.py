"""Headless Debian Chromium driven by Selenium through Debian's chromedriver.

Shared by the sign-in tests (the user's part of `decliner login`) and the
review page's tests. The flags keep Chromium off the network it cannot reach
here (background services, component updates) and its profile in a temp dir.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--window-size=1280,900",
)


def require_browser() -> None:
    """Skip the calling test when Chromium or its driver is not installed (`make servers` installs them)."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if shutil.which(path) is None:
            pytest.skip(f"{path} is not installed (make servers installs it as root)")


@contextmanager
def chromium(profile: Path) -> Iterator[webdriver.Chrome]:
    """A fresh headless Chromium with its profile in `profile`; quit on exit."""
    require_browser()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in _FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()
