"""Session fixtures for the real-server test bed (private Dovecot, OAuth2 endpoint, aiosmtpd)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.testbed.dovecot import DOVECOT_BIN, Account, Dovecot
from tests.testbed.oauth import OAuthServer
from tests.testbed.smtpd import SmtpServers, lmtp_deliverer, start_smtp_servers
from tests.world import World

# `make stress` runs the property tests with many more examples.
settings.register_profile("stress", max_examples=3000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def _make_traversable(path: Path, factory: pytest.TempPathFactory) -> None:
    """chmod 0755 `path` and the parents pytest created for it (pytest makes them 0700)."""
    basetemp = factory.getbasetemp()
    top = basetemp.parent if basetemp.parent.name.startswith("pytest-of-") else basetemp
    if not path.is_relative_to(top):
        raise RuntimeError(f"{path} is not under pytest's temp dir {top}")
    for directory in [path, *path.parents]:
        directory.chmod(directory.stat().st_mode | 0o755)
        if directory == top:
            break


@pytest.fixture(scope="session")
def oauth_server() -> Iterator[OAuthServer]:
    """Token-introspection endpoint shared by Dovecot and the SMTP servers."""
    server = OAuthServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def dovecot(
    tmp_path_factory: pytest.TempPathFactory, oauth_server: OAuthServer
) -> Iterator[Dovecot]:
    """A private Dovecot (IMAP, IMAPS, LMTP, XOAUTH2) for the whole session."""
    if not DOVECOT_BIN.exists():
        pytest.skip(f"{DOVECOT_BIN} not installed (apt-get install dovecot-imapd dovecot-lmtpd)")
    yield from _private_dovecot(
        tmp_path_factory, "dovecot", introspection_url=oauth_server.introspection_url
    )


def _private_dovecot(
    factory: pytest.TempPathFactory, name: str, **options: str
) -> Iterator[Dovecot]:
    """Start a private Dovecot under a fresh traversable temp dir; stop it afterwards."""
    root = factory.mktemp(name)
    _make_traversable(root, factory)
    server = Dovecot(root, **options)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def own_dovecot(tmp_path_factory: pytest.TempPathFactory, dovecot: Dovecot) -> Iterator[Dovecot]:
    """A Dovecot of the test's own, for tests that stop and restart the server."""
    yield from _private_dovecot(tmp_path_factory, "own-dovecot")


@pytest.fixture
def basic_dovecot(tmp_path_factory: pytest.TempPathFactory, dovecot: Dovecot) -> Iterator[Dovecot]:
    """A Dovecot that advertises neither IDLE nor CONDSTORE, like some older servers."""
    yield from _private_dovecot(tmp_path_factory, "basic-dovecot", extra_config=BASIC_CAPABILITIES)


BASIC_CAPABILITIES = "imap_capability = IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE SPECIAL-USE UIDPLUS MOVE"


@pytest.fixture(scope="session")
def smtp_servers(dovecot: Dovecot, oauth_server: OAuthServer) -> Iterator[SmtpServers]:
    """aiosmtpd servers (.plain, .starttls, .tls) delivering to Dovecot users over LMTP."""
    servers = start_smtp_servers(
        password_of=dovecot.password_of,
        tokens=oauth_server.registry,
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


@pytest.fixture(autouse=True)
def _no_canary_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every test bed password contains CANARY: no log record of any test may show one."""
    caplog.set_level(logging.DEBUG, logger="decliner")
    yield
    records = caplog.get_records("setup") + caplog.get_records("call")
    leaked = [
        r.getMessage()
        for r in records
        if "CANARY" in r.getMessage() or "CANARY" in (r.exc_text or "")
    ]
    assert not leaked, f"a secret reached the log: {leaked[:3]}"
