"""The SMTP port: connect with the configured TLS mode, log in, map errors onto ours.

`starttls` is strict: aiosmtplib's default would carry on unencrypted when the
server does not offer STARTTLS, which would send the password in clear text.

A message to or from an address in another script, or with UTF-8 headers (RFC 6532), is
sent with the SMTPUTF8 option (RFC 6531); a server that does not offer it gets nothing,
and the attempt is refused for good with that reason: never a garbled address.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import ssl
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiosmtplib

from decliner import tls
from decliner.config import Config, SmtpConfig
from decliner.config.credentials import Credential, smtp_credential
from decliner.errors import AuthFailure, ConnectionFailure, DeclinerError, TLSFailure
from decliner.mail.ports import SendResult

_BLANK_LINE = re.compile(rb"\r?\n\r?\n")


@dataclass(frozen=True)
class Session:
    """A connected, authenticated SMTP client and what its server offered."""

    client: aiosmtplib.SMTP
    encrypted: bool
    auth_methods: tuple[str, ...]


def _where(smtp: SmtpConfig) -> str:
    return f"SMTP {smtp.host}:{smtp.effective_port}"


def _text(exc: aiosmtplib.SMTPException) -> str:
    return " ".join(str(getattr(exc, "message", exc) or exc).split())[:300]


@asynccontextmanager
async def session(config: Config, credential: Credential | None = None) -> AsyncIterator[Session]:
    """Connect, secure and log in for the block; QUIT afterwards."""
    smtp = config.smtp
    # Loading the system's CA store is a third of a send's own time: only when it secures one.
    ca_file = config.resolve_path(smtp.ca_file) if smtp.ca_file else None
    context = tls.client_context(ca_file) if smtp.security != "plain" else None
    client = aiosmtplib.SMTP(
        hostname=smtp.host,
        port=smtp.effective_port,
        use_tls=smtp.security == "tls",
        start_tls=False,
        tls_context=context,
        timeout=smtp.timeout.total_seconds(),
    )
    where = _where(smtp)
    credential = credential or smtp_credential(config)
    try:
        try:
            await client.connect()
            await client.ehlo()
            if smtp.security == "starttls":
                if not client.supports_extension("starttls"):
                    raise TLSFailure(
                        f"{where}: server does not offer STARTTLS; refusing to send unencrypted"
                    )
                await client.starttls()
                await client.ehlo()  # the pre-TLS EHLO answer must not be trusted
            await _login(client, credential, where)
        except DeclinerError:
            raise
        except aiosmtplib.SMTPAuthenticationError as exc:
            user = credential.username if credential else "?"
            raise AuthFailure(
                f"{where}: login as {user} refused: {exc.code} {_text(exc)}"
            ) from None
        except ssl.SSLError as exc:
            raise TLSFailure(f"{where}: {tls.describe(exc)}") from None
        except aiosmtplib.SMTPConnectError as exc:
            raise ConnectionFailure(f"{where}: {_connect_reason(exc)}") from None
        except aiosmtplib.SMTPException as exc:
            raise ConnectionFailure(f"{where}: {_text(exc)}") from None
        except OSError as exc:
            raise ConnectionFailure(f"{where}: {exc.strerror or exc}") from None
        methods = tuple(sorted(client.server_auth_methods))
        yield Session(client, smtp.security != "plain", methods)
    finally:
        await _quit(client)


def _connect_reason(exc: aiosmtplib.SMTPConnectError) -> str:
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, ssl.SSLError):
        return tls.describe(cause)
    if isinstance(exc, aiosmtplib.SMTPResponseException):  # e.g. a 421 instead of the greeting
        return f"{exc.code} {_text(exc)}"
    return _text(exc)


async def _login(client: aiosmtplib.SMTP, credential: Credential, where: str) -> None:
    if credential.mechanism == "xoauth2":
        if "xoauth2" not in client.server_auth_methods:
            raise AuthFailure(f"{where}: server does not offer XOAUTH2")
        try:
            await client.auth_xoauth2(credential.username, credential.secret)
        except aiosmtplib.SMTPAuthenticationError:
            if credential.renew is None:
                raise
            renewed = credential.renew()  # a refused token from the stored sign-in
            await client.auth_xoauth2(renewed.username, renewed.secret)
    else:
        await client.login(credential.username, credential.secret)


async def _quit(client: aiosmtplib.SMTP) -> None:
    """Say QUIT if the connection still stands, and always close the transport: a
    connection the server dropped (or a handshake cut half way) leaves one open otherwise."""
    try:
        with contextlib.suppress(aiosmtplib.SMTPException, OSError):  # closed below either way
            if client.is_connected:
                await client.quit()
    finally:
        client.close()


async def send(
    config: Config,
    raw: bytes,
    sender: str,
    recipients: Sequence[str],
    credential: Credential | None = None,
) -> SendResult:
    """One attempt to send `raw` to `recipients`; never raises for a server's answer."""
    try:
        async with session(config, credential) as smtp_session:
            return await _transact(
                smtp_session.client, raw, sender, recipients, _where(config.smtp)
            )
    except DeclinerError as exc:
        # Unreachable, TLS or login trouble: nothing was sent; the user may fix it.
        return SendResult("temporary", str(exc))


async def _transact(
    client: aiosmtplib.SMTP, raw: bytes, sender: str, recipients: Sequence[str], where: str
) -> SendResult:
    options = ["BODY=8BITMIME"] if _is_8bit(raw) and client.supports_extension("8bitmime") else []
    needs = needs_smtputf8(raw, sender, recipients)
    if needs and not client.supports_extension("smtputf8"):
        return SendResult(
            "permanent",
            f"{where} does not offer SMTPUTF8, which {needs} needs (RFC 6531); not sent",
        )
    encoding = "utf-8" if needs else "ascii"
    options += ["SMTPUTF8"] if needs else []
    try:
        await client.mail(sender, options=options, encoding=encoding)
        for recipient in recipients:
            await client.rcpt(recipient, encoding=encoding)
    except aiosmtplib.SMTPResponseException as exc:
        return _refused(exc)
    except (aiosmtplib.SMTPException, OSError) as exc:
        return SendResult(
            "temporary",
            f"before DATA: {_text(exc) if isinstance(exc, aiosmtplib.SMTPException) else exc}",
        )
    try:
        await client.data(raw)
    except aiosmtplib.SMTPResponseException as exc:
        return _refused(exc)
    except (aiosmtplib.SMTPException, OSError) as exc:
        detail = _text(exc) if isinstance(exc, aiosmtplib.SMTPException) else str(exc)
        return SendResult("cut", f"connection lost during DATA: {detail}")
    return SendResult("sent")


def _refused(exc: aiosmtplib.SMTPResponseException) -> SendResult:
    reply = f"{exc.code} {_text(exc)}"
    return SendResult("permanent" if 500 <= exc.code < 600 else "temporary", reply)


def _is_8bit(raw: bytes) -> bool:
    return not raw.isascii()


def needs_smtputf8(raw: bytes, sender: str, recipients: Sequence[str]) -> str:
    """What needs SMTPUTF8 ("the address josé@empresa.es", "the message's UTF-8 headers"),
    "" when nothing does: only ASCII addresses, and ASCII headers."""
    address = next((a for a in (sender, *recipients) if not a.isascii()), None)
    if address is not None:
        return f"the address {address}"
    head = _BLANK_LINE.split(raw, maxsplit=1)[0]
    return "" if head.isascii() else "the message's UTF-8 headers"


class SmtpTransport:
    """SMTP as a `Transport`: one connection per attempt, with the configured TLS and login."""

    def __init__(self, config: Config) -> None:
        self.config = config

    def send(self, raw: bytes, sender: str, recipients: Sequence[str]) -> SendResult:
        """One attempt over SMTP (aiosmtplib, run to completion here)."""
        return asyncio.run(send(self.config, raw, sender, recipients))
