"""Proves the real-server test bed works: Dovecot, the OAuth2 endpoint and aiosmtpd."""

from __future__ import annotations

import asyncio
import ssl
from email.message import EmailMessage

import aiosmtplib
import pytest
from imapclient import IMAPClient
from imapclient.exceptions import LoginError

from tests.testbed import procs
from tests.testbed.dovecot import Account, Dovecot
from tests.testbed.oauth import OAuthServer
from tests.testbed.smtpd import SmtpServer, SmtpServers

pytestmark = pytest.mark.servers

RAW = b"From: Rita Recruiter <rita@corp.example>\r\nSubject: Interview\r\n\r\nHello Jane\r\n"


def _message(sender: str, rcpt: str, subject: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = rcpt
    msg["Subject"] = subject
    msg.set_content("Thank you, but I withdraw.\n")
    return msg


def _client(server: SmtpServer, ca_file: object) -> aiosmtplib.SMTP:
    return aiosmtplib.SMTP(
        hostname=server.host,
        port=server.port,
        use_tls=server.security == "tls",
        start_tls=server.security == "starttls",
        cert_bundle=str(ca_file),
        timeout=10,
    )


def test_imap_plain_login_and_capabilities(dovecot: Dovecot, account: Account) -> None:
    """Plain-port login works and IDLE/CONDSTORE/MOVE/SPECIAL-USE/... are advertised."""
    with dovecot.imap(account) as client:
        caps = set(client.capabilities())
        folders = {name: flags for flags, _, name in client.list_folders()}
    assert {b"IDLE", b"CONDSTORE", b"MOVE", b"SPECIAL-USE", b"UIDPLUS"} <= caps
    assert b"THREAD=REFERENCES" in caps
    assert {"INBOX", "Sent", "Decline", "Archive"} <= set(folders)
    assert b"\\Sent" in folders["Sent"]


def test_imap_starttls_verifies_ca(dovecot: Dovecot, account: Account) -> None:
    """STARTTLS on the plain port verifies against the bed CA and fails with the other CA."""
    client = IMAPClient(dovecot.host, port=dovecot.imap_port, ssl=False, timeout=10)
    assert b"STARTTLS" in client.capabilities()
    client.starttls(dovecot.ssl_context())
    client.login(account.address, account.password)
    client.logout()
    other = IMAPClient(dovecot.host, port=dovecot.imap_port, ssl=False, timeout=10)
    with pytest.raises(ssl.SSLCertVerificationError):
        other.starttls(dovecot.ssl_context(dovecot.other_ca_file))


def test_imaps_verifies_ca(dovecot: Dovecot, account: Account) -> None:
    """Implicit TLS works with the bed CA (for 127.0.0.1 and localhost), not the other CA."""
    for host in (dovecot.host, "localhost"):
        client = IMAPClient(
            host, port=dovecot.imaps_port, ssl=True, ssl_context=dovecot.ssl_context(), timeout=10
        )
        client.login(account.address, account.password)
        client.logout()
    with pytest.raises(ssl.SSLCertVerificationError):
        IMAPClient(
            dovecot.host,
            port=dovecot.imaps_port,
            ssl=True,
            ssl_context=dovecot.ssl_context(dovecot.other_ca_file),
            timeout=10,
        )


def test_wrong_password_is_refused(dovecot: Dovecot, account: Account) -> None:
    """A wrong password fails; passwords carry the CANARY marker."""
    assert "CANARY" in account.password
    with pytest.raises(LoginError):
        dovecot.imap(Account(account.address, "wrong")).__enter__()


def test_accounts_are_fresh_and_immediately_usable(dovecot: Dovecot) -> None:
    """Two new accounts made back to back both log in at once and start empty."""
    first, second = dovecot.new_account("anna"), dovecot.new_account("anna")
    assert first.address != second.address
    for acct in (first, second):
        assert dovecot.fetch_all(acct, "INBOX") == []


def test_lmtp_delivery_lands_in_inbox(dovecot: Dovecot, account: Account) -> None:
    """deliver() over LMTP puts the raw message into the account's INBOX."""
    dovecot.deliver(account.address, RAW)
    (msg,) = dovecot.fetch_all(account, "INBOX")
    assert msg.endswith(RAW)
    assert f"Delivered-To: {account.address}".encode() in msg


def test_append_set_keyword_fetch_all(dovecot: Dovecot, account: Account) -> None:
    """append() returns UIDs, set_keyword() sets a keyword, fetch_all() returns UID order."""
    uid1 = dovecot.append(account, "INBOX", RAW, flags=[r"\Seen"])
    uid2 = dovecot.append(account, "INBOX", RAW.replace(b"Jane", b"June"), keywords=["Later"])
    assert uid2 > uid1
    dovecot.set_keyword(account, "INBOX", uid1, "Decline")
    with dovecot.imap(account) as client:
        client.select_folder("INBOX", readonly=True)
        flags = client.get_flags([uid1, uid2])
    assert {b"\\Seen", b"Decline"} <= set(flags[uid1])
    assert b"Later" in flags[uid2]
    assert dovecot.fetch_all(account, "INBOX") == [RAW, RAW.replace(b"Jane", b"June")]


def test_imap_xoauth2(dovecot: Dovecot, oauth_server: OAuthServer, account: Account) -> None:
    """XOAUTH2 logs in with an issued token; a revoked or unknown token is refused."""
    token = oauth_server.issue(account.address)
    client = IMAPClient(dovecot.host, port=dovecot.imap_port, ssl=False, timeout=10)
    client.oauth2_login(account.address, token)
    client.logout()
    oauth_server.revoke(token)
    for bad in (token, "not-a-token"):
        client = IMAPClient(dovecot.host, port=dovecot.imap_port, ssl=False, timeout=10)
        with pytest.raises(LoginError):
            client.oauth2_login(account.address, bad)
        client.shutdown()
    assert token in oauth_server.requests


@pytest.mark.parametrize("variant", ["plain", "starttls", "tls"])
def test_smtp_variant_delivers_to_dovecot(
    dovecot: Dovecot, smtp_servers: SmtpServers, account: Account, variant: str
) -> None:
    """Each SMTP variant accepts AUTH + a message and delivers it to the Dovecot recipient."""
    server: SmtpServer = getattr(smtp_servers, variant)
    recruiter = dovecot.new_account("rita")
    msg = _message(account.address, recruiter.address, f"via {variant}")

    async def send() -> None:
        async with _client(server, dovecot.ca_file) as smtp:
            if variant == "plain":
                assert not smtp.supports_extension("starttls")
            await smtp.login(account.address, account.password)
            await smtp.send_message(msg, recipients=[recruiter.address, "outside@else.example"])

    asyncio.run(send())
    received = [m for m in server.messages if recruiter.address in m.rcpt_tos]
    assert len(received) == 1
    assert received[0].login == account.address
    assert received[0].tls == (variant != "plain")
    assert received[0].delivered_to == (recruiter.address,)
    (delivered,) = dovecot.fetch_all(recruiter, "INBOX")
    assert f"Subject: via {variant}".encode() in delivered


def test_smtp_starttls_rejects_other_ca(dovecot: Dovecot, smtp_servers: SmtpServers) -> None:
    """The STARTTLS server's cert does not verify against the unrelated CA."""

    async def connect() -> None:
        async with _client(smtp_servers.starttls, dovecot.other_ca_file):
            pass

    with pytest.raises((aiosmtplib.SMTPException, ssl.SSLError)):
        asyncio.run(connect())


def test_smtp_wrong_password(dovecot: Dovecot, smtp_servers: SmtpServers, account: Account) -> None:
    """SMTP AUTH with a wrong password gets a 535."""

    async def login() -> None:
        async with _client(smtp_servers.plain, dovecot.ca_file) as smtp:
            await smtp.login(account.address, "wrong")

    with pytest.raises(aiosmtplib.SMTPAuthenticationError) as exc:
        asyncio.run(login())
    assert exc.value.code == 535


def test_smtp_xoauth2(
    dovecot: Dovecot, oauth_server: OAuthServer, smtp_servers: SmtpServers, account: Account
) -> None:
    """XOAUTH2 on SMTP accepts an issued token (records it) and refuses an unknown one."""
    token = oauth_server.issue(account.address)
    recruiter = dovecot.new_account("rita")

    async def send(tok: str) -> None:
        async with _client(smtp_servers.tls, dovecot.ca_file) as smtp:
            await smtp.auth_xoauth2(account.address, tok)
            await smtp.send_message(_message(account.address, recruiter.address, "oauth"))

    asyncio.run(send(token))
    (received,) = [m for m in smtp_servers.tls.messages if recruiter.address in m.rcpt_tos]
    assert (received.login, received.auth_mechanism) == (account.address, "XOAUTH2")
    with pytest.raises(aiosmtplib.SMTPAuthenticationError):
        asyncio.run(send("not-a-token"))


def test_smtp_fail_next(dovecot: Dovecot, smtp_servers: SmtpServers, account: Account) -> None:
    """fail_next() makes the next DATA answers 4xx/5xx at aiosmtplib, then mail flows again."""
    server = smtp_servers.plain
    recruiter = dovecot.new_account("rita")
    msg = _message(account.address, recruiter.address, "retry me")

    async def send() -> None:
        async with _client(server, dovecot.ca_file) as smtp:
            await smtp.send_message(msg)

    for code in (451, 554):
        server.fail_next(code, "Injected failure")
        with pytest.raises(aiosmtplib.SMTPDataError) as exc:
            asyncio.run(send())
        assert exc.value.code == code
    asyncio.run(send())
    assert dovecot.fetch_all(recruiter, "INBOX")[0].count(b"retry me") == 1
    assert [reason for reason, _ in server.rejected][-2:] == ["451", "554"]


def test_smtp_cut_after_data(dovecot: Dovecot, smtp_servers: SmtpServers, account: Account) -> None:
    """cut_after_data_next() drops the connection after DATA without an answer."""
    server = smtp_servers.starttls
    recruiter = dovecot.new_account("rita")

    async def send() -> None:
        async with _client(server, dovecot.ca_file) as smtp:
            await smtp.send_message(_message(account.address, recruiter.address, "cut"))

    server.cut_after_data_next()
    with pytest.raises(aiosmtplib.SMTPServerDisconnected):
        asyncio.run(send())
    assert dovecot.fetch_all(recruiter, "INBOX") == []
    asyncio.run(send())
    assert len(dovecot.fetch_all(recruiter, "INBOX")) == 1


def test_restart_on_same_ports(dovecot: Dovecot, account: Account) -> None:
    """stop() kills every Dovecot process (even with an IDLE client); start() reuses the ports."""
    dovecot.deliver(account.address, RAW)
    ports = (dovecot.imap_port, dovecot.imaps_port, dovecot.lmtp_port)
    idler = IMAPClient(dovecot.host, port=dovecot.imap_port, ssl=False, timeout=10)
    idler.login(account.address, account.password)
    idler.select_folder("INBOX")
    idler.idle()
    pids = dovecot.pids()
    try:
        dovecot.stop()
        assert not dovecot.running
        assert [p for p in pids if (proc := procs.proc_of(p)) and procs.is_alive(proc)] == []
    finally:
        dovecot.start()
    assert (dovecot.imap_port, dovecot.imaps_port, dovecot.lmtp_port) == ports
    (msg,) = dovecot.fetch_all(account, "INBOX")
    assert msg.endswith(RAW)
    idler.shutdown()
