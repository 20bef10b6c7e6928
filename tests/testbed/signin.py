"""`decliner login` as the user runs it: the command in a subprocess, the browser part in
headless Chromium against the test authorization server's consent page."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Self

from selenium import webdriver
from selenium.webdriver.common.by import By

from tests.testbed.dovecot import Account, Dovecot
from tests.testbed.helpers import config_text
from tests.testbed.oauth import OAuthServer
from tests.testbed.wait import poll, wait_until

_URL = re.compile(r"https?://\S+")
_CODE = re.compile(r"open (\S+) and enter the code (\S+)")


def signin_config(
    tmp_path: Path,
    dovecot: Dovecot,
    account: Account,
    idp: OAuthServer,
    *,
    smtp_port: int,
    extra: str = "",
) -> Path:
    """A test bed config whose IMAP and SMTP sign in with the test authorization server."""
    text = config_text(dovecot, account, tmp_path, smtp_port=smtp_port, extra=extra)
    text = text.replace(f'password = "{account.password}"', 'oauth2 = "testidp"')
    path = tmp_path / "config.toml"
    path.write_text(text + "\n" + idp.config_table(), encoding="utf-8")
    return path


class Login:
    """`decliner login` in a subprocess; what it prints is read as it comes."""

    def __init__(self, config: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "decliner", "--config", str(config), "login", *args],
            env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self.errors = ""
        self._threads = [
            threading.Thread(target=self._read, daemon=True),
            threading.Thread(target=self._read_errors, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        """A test that failed half way leaves no `login` waiting for its browser."""
        if self.process.poll() is None:
            self.process.kill()
            self.finish()

    def _read(self) -> None:
        assert self.process.stdout is not None
        self.lines.extend(self.process.stdout)

    def _read_errors(self) -> None:
        assert self.process.stderr is not None
        self.errors = self.process.stderr.read()

    def printed(self, pattern: re.Pattern[str]) -> re.Match[str]:
        """The first match of `pattern` in what the command printed, once it has."""
        found: list[re.Match[str]] = []

        def seen() -> bool:
            found.extend(m for line in list(self.lines) if (m := pattern.search(line)))
            return bool(found) or self.process.poll() is not None

        poll(seen)
        assert found, f"login printed no {pattern.pattern}: {''.join(self.lines)}{self.errors}"
        return found[0]

    def url(self) -> str:
        """The address the user is told to open."""
        return self.printed(_URL)[0]

    def device_code(self) -> tuple[str, str]:
        """The verification address and the code to enter there (--device)."""
        match = self.printed(_CODE)
        return match[1], match[2].rstrip(".")

    def finish(self) -> tuple[int, str]:
        """The exit status and all it printed (stdout, then stderr)."""
        status = self.process.wait(60)
        for thread in self._threads:
            thread.join(60)
        for pipe in (self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()
        return status, "".join(self.lines) + self.errors


def consent(driver: webdriver.Chrome, url: str, *, allow: bool = True) -> None:
    """Do the user's part: open `url`, press Allow (or Deny) on the consent page, and wait
    until the browser has landed where the provider sent it."""
    driver.get(url)
    before = driver.current_url
    driver.find_element(By.ID, "allow" if allow else "deny").click()
    wait_until(lambda: driver.current_url != before, "the browser to leave the consent page")


def sign_in(driver: webdriver.Chrome, config: Path) -> str:
    """A whole browser sign-in; what `login` printed."""
    with Login(config, "--no-browser") as login:
        consent(driver, login.url())
        wait_until(lambda: "Signed in." in driver.page_source, "the loopback page")
        status, output = login.finish()
    assert status == 0, output
    return output
