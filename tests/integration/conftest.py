"""Session fixtures for the real-server test bed (private Dovecot, OAuth2 endpoint, aiosmtpd,
Radicale)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.testbed.dovecot import DOVECOT_BIN, Account, Dovecot
from tests.testbed.oauth import OAuthServer
from tests.testbed.radicale import Radicale
from tests.testbed.smtpd import SmtpServers, lmtp_deliverer, start_smtp_servers
from tests.testbed.world import World


@pytest.fixture(scope="session")
def oauth_server() -> Iterator[OAuthServer]:
    """The authorization server (Authlib): Dovecot and the SMTP servers check tokens by its
    introspection (RFC 7662)."""
    server = OAuthServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def dovecot(oauth_server: OAuthServer) -> Iterator[Dovecot]:
    """A private Dovecot (IMAP, IMAPS, LMTP, XOAUTH2) for the whole session."""
    if not DOVECOT_BIN.exists():
        pytest.skip(f"{DOVECOT_BIN} not installed (apt-get install dovecot-imapd dovecot-lmtpd)")
    yield from _private_dovecot("dovecot", introspection_url=oauth_server.introspection_url)


def _private_dovecot(name: str, **options: str) -> Iterator[Dovecot]:
    """Start a private Dovecot under a fresh temp dir of its own; stop it and remove the dir.

    Not under pytest's temp dir: every pytest session of the same user (another checkout's
    `make test` on the same machine) chmods /tmp/pytest-of-USER back to 0700, and from then on
    Dovecot's auth and mail users, which must traverse every parent of its root, are refused.
    """
    root = Path(tempfile.mkdtemp(prefix=f"decliner-{name}-"))
    root.chmod(0o755)
    try:
        server = Dovecot(root, **options)
        try:
            server.start()
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def own_dovecot(dovecot: Dovecot) -> Iterator[Dovecot]:
    """A Dovecot of the test's own, for tests that stop and restart the server."""
    yield from _private_dovecot("own-dovecot")


@pytest.fixture
def basic_dovecot(dovecot: Dovecot) -> Iterator[Dovecot]:
    """A Dovecot that advertises neither IDLE nor CONDSTORE, like some older servers."""
    yield from _private_dovecot("basic-dovecot", extra_config=BASIC_CAPABILITIES)


BASIC_CAPABILITIES = "imap_capability = IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE SPECIAL-USE UIDPLUS MOVE"


@pytest.fixture(scope="session")
def smtp_servers(dovecot: Dovecot, oauth_server: OAuthServer) -> Iterator[SmtpServers]:
    """The aiosmtpd servers (.plain, .starttls, .tls) delivering to Dovecot users over LMTP."""
    servers = start_smtp_servers(
        password_of=dovecot.password_of,
        tokens=oauth_server.introspection(),
        deliver=lmtp_deliverer(dovecot.host, dovecot.lmtp_port),
        cert_file=str(dovecot.cert_file),
        key_file=str(dovecot.key_file),
    )
    try:
        yield servers
    finally:
        servers.stop()


@pytest.fixture
def account(dovecot: Dovecot) -> Account:
    """A fresh Dovecot account (empty mailboxes) for one test."""
    return dovecot.new_account()


@pytest.fixture
def world(tmp_path: Path, dovecot: Dovecot, smtp_servers: SmtpServers) -> World:
    """Jane and a recruiter Sam on fresh accounts, with Jane's config writer."""
    return World(
        dovecot, smtp_servers, dovecot.new_account("jane"), dovecot.new_account("sam"), tmp_path
    )


def _private_radicale(name: str, *, tls: bool) -> Iterator[Radicale]:
    """Start a private Radicale under a fresh temp dir of its own; stop it and remove the dir."""
    root = Path(tempfile.mkdtemp(prefix=f"decliner-{name}-"))
    try:
        server = Radicale(root, tls=tls)
        try:
            server.start()
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def radicale() -> Iterator[Radicale]:
    """A private Radicale (CalDAV over plain HTTP on loopback) for the whole session."""
    yield from _private_radicale("radicale", tls=False)


@pytest.fixture(scope="session")
def radicale_tls() -> Iterator[Radicale]:
    """A private Radicale over TLS, its certificate signed by the test CA (`.ca_file`)."""
    yield from _private_radicale("radicale-tls", tls=True)


@pytest.fixture
def own_radicale() -> Iterator[Radicale]:
    """A plain-HTTP Radicale of the test's own, for tests that stop and restart the server."""
    yield from _private_radicale("own-radicale", tls=False)
