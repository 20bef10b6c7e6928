"""`decliner login`, `check` and `logout` against a real authorization server (SPEC 17): the
user's part done by headless Chromium, Dovecot checking each IMAP login by introspection and
the SMTP server checking XOAUTH2 against the same server."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner, Result

from decliner.auth import login as flow
from decliner.auth import providers, tokens
from decliner.cli.main import cli
from decliner.config import load
from decliner.service import wiring
from tests.testbed.bearer_gate import BearerGate
from tests.testbed.browser import chromium
from tests.testbed.dovecot import Account, Dovecot
from tests.testbed.oauth import OAuthServer
from tests.testbed.radicale import Radicale
from tests.testbed.signin import Login, consent, sign_in, signin_config
from tests.testbed.smtpd import SmtpServers
from tests.testbed.wait import wait_until

pytestmark = pytest.mark.servers
# Access tokens of a few seconds: short enough to outlive several in a test, long enough that
# a busy machine still logs in with one before it lapses.
LIFETIME = 6.0


@pytest.fixture
def idp(oauth_server: OAuthServer, account: Account) -> Iterator[OAuthServer]:
    """The session's authorization server, with this test's user signed in at it; its
    settings are put back afterwards."""
    oauth_server.user = account.address
    try:
        yield oauth_server
    finally:
        oauth_server.lifetime, oauth_server.down = 3600.0, False


@pytest.fixture
def config(
    tmp_path: Path, dovecot: Dovecot, smtp_servers: SmtpServers, account: Account, idp: OAuthServer
) -> Path:
    return signin_config(tmp_path, dovecot, account, idp, smtp_port=smtp_servers.plain.port)


FRESH_TOKEN_PROBE = """
import sys
from pathlib import Path
from decliner.config import load
from decliner.config.credentials import imap_credential
credential = imap_credential(load(Path(sys.argv[1])))
print(credential.mechanism, "authlib" in sys.modules, "requests" in sys.modules)
"""


def check(config: Path) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config), "check"])


def wait_for_renewal(config: Path, use: str = "imap") -> None:
    """Wait until the stored access token for `use` is due for renewal (half its life)."""
    found = tokens.token_file(load(config), "testidp").load()
    assert found is not None
    renew_at = found.access[use].renew_at
    wait_until(lambda: time.time() >= renew_at, "the access token to reach half its life")


def stored(config: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((config.parent / "oauth2-testidp.json").read_text())
    return data


def test_first_login_then_check(
    tmp_path: Path, config: Path, idp: OAuthServer, dovecot: Dovecot, account: Account
) -> None:
    """The browser signs in (consent, loopback redirect), the tokens are stored 0600 and
    never printed, and `check` logs in to Dovecot (which asked the server) with OAUTHBEARER,
    which it offers, and to SMTP with XOAUTH2. A fresh stored token is used without loading
    Authlib; a refresh with every debug log on shows no token."""
    with chromium(tmp_path / "profile") as driver:
        output = sign_in(driver, config)
    assert "signed in to testidp" in output and "CANARY" not in output
    path = config.parent / "oauth2-testidp.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token = stored(config)["access"]["imap"]["token"]  # type: ignore[index]
    result = check(config)
    assert result.exit_code == 0, result.output
    assert token in idp.requests  # Dovecot introspected exactly this token
    assert "sign-in   testidp: signed in " in result.output
    assert dovecot.login_methods(account) == ["OAUTHBEARER"]
    probe = subprocess.run(
        [sys.executable, "-c", FRESH_TOKEN_PROBE, str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert probe.stdout.split() == ["xoauth2", "False", "False"], probe.stderr
    # The next run refreshes (the stored token shown as long expired), every debug log on.
    path.write_text(path.read_text().replace('"expires_at": ', '"expires_at": 1.0, "old": '))
    debug = subprocess.run(
        [sys.executable, "-m", "decliner", "--debug", "-vv", "--config", str(config), "check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert debug.returncode == 0, debug.stderr
    assert "CANARY" not in debug.stdout + debug.stderr
    assert "CANARY" not in result.output
    assert "smtp" in result.output


def test_denied_consent(tmp_path: Path, config: Path) -> None:
    """Deny on the consent page: login says access was denied, exits 1, stores nothing."""
    with chromium(tmp_path / "profile") as driver, Login(config, "--no-browser") as login:
        consent(driver, login.url(), allow=False)
        status, output = login.finish()
    assert status == 1
    assert "access was denied" in output
    assert not (config.parent / "oauth2-testidp.json").exists()


def test_device_grant(tmp_path: Path, config: Path) -> None:
    """--device prints an address and a code; approving it in a browser signs in."""
    with Login(config, "--device") as login:
        where, code = login.device_code()
        with chromium(tmp_path / "profile") as driver:
            consent(driver, f"{where}?user_code={code}")
        status, output = login.finish()
    assert status == 0, output
    assert check(config).exit_code == 0


def test_refresh_rotates_and_is_stored(tmp_path: Path, config: Path, idp: OAuthServer) -> None:
    """With access tokens of a few seconds, the next `check` refreshes: the rotated refresh
    token is stored, and Dovecot is given the new access token, never the expired one."""
    idp.lifetime = LIFETIME
    with chromium(tmp_path / "profile") as driver:
        sign_in(driver, config)
    first = stored(config)
    wait_for_renewal(config)
    assert check(config).exit_code == 0
    second = stored(config)
    assert second["refresh_token"] != first["refresh_token"]
    new_token = second["access"]["imap"]["token"]  # type: ignore[index]
    assert new_token != first["access"]["imap"]["token"]  # type: ignore[index]
    assert new_token in idp.requests


def test_kill_between_refresh_and_store(tmp_path: Path, config: Path, idp: OAuthServer) -> None:
    """Killed after the server rotated the refresh token but before it was stored: the file
    still holds the old tokens whole, and the next run signs in with them."""
    idp.lifetime = LIFETIME
    with chromium(tmp_path / "profile") as driver:
        sign_in(driver, config)
    before = stored(config)
    wait_for_renewal(config)
    killed = subprocess.run(
        [sys.executable, "-m", "decliner", "--config", str(config), "check"],
        env={**os.environ, "DECLINER_FAILPOINT": "token-refreshed"},
        capture_output=True,
        check=False,
    )
    assert killed.returncode == -9
    assert stored(config) == before
    assert check(config).exit_code == 0
    assert stored(config)["refresh_token"] != before["refresh_token"]


def test_revoked_then_login_again(
    tmp_path: Path, config: Path, idp: OAuthServer, account: Account
) -> None:
    """Consent withdrawn at the provider: `check` says "sign in again: decliner login"
    (exit 1); a new login mends it; logout deletes the tokens."""
    with chromium(tmp_path / "profile") as driver:
        sign_in(driver, config)
        idp.records.revoke_user(account.address)
        result = check(config)
        assert result.exit_code == 1
        assert "sign in again: decliner login" in result.output
        sign_in(driver, config)
    assert check(config).exit_code == 0
    # Revocation (RFC 7009) as logout does it where the provider has an endpoint (Google).
    provider = replace(
        providers.provider(load(config), "testidp"), revoke_url=f"{idp.base_url}/revoke"
    )
    refresh = str(stored(config)["refresh_token"])
    assert flow.revoke(provider, refresh) == "revoked the sign-in and deleted the stored tokens"
    assert idp.records.by_refresh[refresh].revoked
    out = CliRunner().invoke(cli, ["--config", str(config), "logout"])
    assert out.exit_code == 0 and "deleted the stored tokens" in out.output
    assert not (config.parent / "oauth2-testidp.json").exists()
    result = check(config)
    assert result.exit_code == 1
    assert "testidp: not signed in; sign in: decliner login" in result.output


def test_token_endpoint_down(tmp_path: Path, config: Path, idp: OAuthServer) -> None:
    """A token endpoint that answers 503 is a failure to retry, not a lost sign-in."""
    idp.lifetime = LIFETIME
    with chromium(tmp_path / "profile") as driver:
        sign_in(driver, config)
    wait_for_renewal(config)
    idp.down = True
    result = check(config)
    assert result.exit_code == 1
    assert "answered HTTP 503" in result.output
    assert "sign in again" not in result.output
    idp.down = False
    assert check(config).exit_code == 0


def test_calendar_gets_bearer_tokens_renewed(
    tmp_path: Path,
    dovecot: Dovecot,
    smtp_servers: SmtpServers,
    account: Account,
    idp: OAuthServer,
    radicale: Radicale,
) -> None:
    """[calendar] without a secret of its own signs in like IMAP: `check` lists the calendar
    through a server that accepts only Bearer tokens it can introspect, and one account
    object kept open (as the daemon keeps it) sends a fresh token once the first aged."""
    radicale.add_account(account)
    radicale.make_calendar(account, "Work")
    gate = BearerGate(idp.introspection(), radicale.port, radicale.password_of)
    gate.start()
    try:
        home = urlsplit(radicale.principal_url(account)).path
        config = signin_config(
            tmp_path,
            dovecot,
            account,
            idp,
            smtp_port=smtp_servers.plain.port,
            extra=f'[calendar]\nurl = "{gate.url(home)}"\n',
        )
        idp.lifetime = LIFETIME
        with chromium(tmp_path / "profile") as driver:
            sign_in(driver, config)
        result = check(config)
        assert result.exit_code == 0, result.output
        assert "Work" in result.output
        caldav = wiring.calendar_account(load(config))
        assert [c.name for c in caldav.collections()] == ["Work"]
        first = gate.passed[-1]
        wait_for_renewal(config, "calendar")
        assert [c.name for c in caldav.collections()] == ["Work"]
        caldav.close()
        assert gate.passed[-1] != first and gate.refused == 0
    finally:
        gate.stop()


def test_a_refresh_per_resource(tmp_path: Path, config: Path, idp: OAuthServer) -> None:
    """Microsoft's way: a refresh names the scopes of one use and gets a token for just
    that resource, which is kept for that use only (the others keep theirs)."""
    with chromium(tmp_path / "profile") as driver:
        sign_in(driver, config)
    provider = replace(
        providers.provider(load(config), "testidp"),
        refresh_names_scope=True,
        scopes={"imap": ("mail",), "calendar": ("calendar",)},
    )
    before = tokens.token_file(load(config), "testidp").load()
    assert before is not None
    after = tokens.refresh(provider, before, "calendar", time.time)
    assert idp.records.by_access[after.access["calendar"].token].scope == "calendar"
    assert after.access["imap"] == before.access["imap"]
