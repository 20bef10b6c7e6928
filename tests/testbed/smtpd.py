"""Real aiosmtpd servers that record what they receive and deliver it into Dovecot."""

from __future__ import annotations

import smtplib
import ssl
import threading
from dataclasses import dataclass
from typing import Any, Literal

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.testbed.net import free_port
from tests.testbed.oauth_models import TokenCheck
from tests.testbed.smtp_session import (
    BedController,
    Deliver,
    Faults,
    Handler,
    Identity,
    PasswordLookup,
    Received,
    Record,
)
from tests.testbed.wait import CEILING

Security = Literal["plain", "starttls", "tls"]


class SmtpServer:
    """One aiosmtpd server on a free 127.0.0.1 port, in its own thread; it offers SMTPUTF8
    (RFC 6531) unless made with `smtputf8=False`."""

    host = "127.0.0.1"

    def __init__(
        self,
        security: Security,
        *,
        password_of: PasswordLookup,
        tokens: TokenCheck,
        deliver: Deliver,
        cert_file: str,
        key_file: str,
        smtputf8: bool = True,
    ) -> None:
        self.security = security
        self.port = free_port()
        self._record = Record()
        self._password_of = password_of
        handler = Handler(self._record, tokens, lambda a: password_of(a) is not None, deliver)
        server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_ctx.load_cert_chain(cert_file, key_file)
        kwargs: dict[str, Any] = {
            "authenticator": self._authenticate,
            "enable_SMTPUTF8": smtputf8,
            "server_hostname": "localhost",
            # aiosmtpd's default of 5 s for its thread to answer is short on a busy machine.
            "ready_timeout": CEILING,
        }
        if security == "plain":
            kwargs["auth_require_tls"] = False
        elif security == "starttls":
            kwargs["tls_context"] = server_ctx
        else:
            # aiosmtpd only counts STARTTLS as TLS for auth_require_tls.
            kwargs["ssl_context"] = server_ctx
            kwargs["auth_require_tls"] = False
        self._controller = BedController(
            handler, self._record, hostname=self.host, port=self.port, **kwargs
        )

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace")
        expected = self._password_of(login)
        if expected is not None and auth_data.password.decode("utf-8", "replace") == expected:
            return AuthResult(success=True, auth_data=Identity(auth_data.login, mechanism))
        return AuthResult(success=False, handled=False)

    def start(self) -> None:
        """Start serving (returns once the server answers)."""
        self._controller.start()

    def stop(self) -> None:
        """Stop serving and join the thread."""
        self._controller.stop()

    @property
    def messages(self) -> list[Received]:
        """Accepted messages so far, oldest first (a snapshot)."""
        with self._record.lock:
            return list(self._record.messages)

    @property
    def rejected(self) -> list[tuple[str, bytes]]:
        """(reason, raw) of DATA answered by fail_next ("4xx"/"5xx") or cut_after_data_next."""
        with self._record.lock:
            return list(self._record.rejected)

    @property
    def commands(self) -> list[tuple[str, bool]]:
        """(verb, over TLS) of each command clients sent, oldest first: ("AUTH", False) is a
        login attempt in clear. Arguments are never kept."""
        with self._record.lock:
            return list(self._record.commands)

    @property
    def greetings_refused(self) -> int:
        """How many connections got `refuse_greeting_next`'s answer instead of a 220."""
        with self._record.lock:
            return self._record.greetings_refused

    def clear(self) -> None:
        """Forget received messages, commands and pending faults; let any held 250 go."""
        self.release_held()
        with self._record.lock:
            self._record.messages.clear()
            self._record.rejected.clear()
            self._record.commands.clear()
            self._record.greetings_refused = 0
            self._record.faults = Faults()

    def fail_next(self, code: int, text: str = "Try again later", count: int = 1) -> None:
        """Answer the next `count` DATA commands with `code text` (e.g. 451 or 554)."""
        with self._record.lock:
            self._record.faults.fail_code = code
            self._record.faults.fail_text = text
            self._record.faults.fail_count = count

    def fail_rcpt_next(self, code: int, text: str = "Try again later", count: int = 1) -> None:
        """Answer the next `count` RCPT commands with `code` (the message is never taken)."""
        with self._record.lock:
            self._record.faults.rcpt_code = code
            self._record.faults.rcpt_text = text
            self._record.faults.rcpt_count = count

    def cut_after_data_next(self, count: int = 1) -> None:
        """Drop the connection after the next `count` messages' data, without replying."""
        with self._record.lock:
            self._record.faults.cut_count = count

    def refuse_greeting_next(
        self, code: int = 421, text: str = "Service not available", count: int = 1
    ) -> None:
        """Greet the next `count` connections with `code text` instead of 220, then close."""
        with self._record.lock:
            self._record.faults.greeting_code = code
            self._record.faults.greeting_text = text
            self._record.faults.greeting_count = count

    def hold_reply_after_data_next(self, count: int = 1) -> None:
        """Take (record and deliver) the next `count` messages but hold back each one's 250
        until `release_held()`: the server has the message, the client waits for the answer.
        `holding` is set once a 250 is being held."""
        with self._record.lock:
            self._record.release.clear()
            self._record.holding.clear()
            self._record.faults.hold_count = count

    @property
    def holding(self) -> threading.Event:
        """Set while (or once) a 250 after the data is held back by `hold_reply_after_data_next`."""
        return self._record.holding

    def release_held(self) -> None:
        """Let every held 250 go (to a client that may have given up and gone)."""
        self._record.release.set()


@dataclass
class SmtpServers:
    """The three variants: no TLS, STARTTLS, implicit TLS."""

    plain: SmtpServer
    starttls: SmtpServer
    tls: SmtpServer

    @property
    def all(self) -> tuple[SmtpServer, SmtpServer, SmtpServer]:
        """All three servers."""
        return (self.plain, self.starttls, self.tls)

    def clear(self) -> None:
        """Clear all three servers, as SmtpServer.clear does one."""
        for server in self.all:
            server.clear()

    def stop(self) -> None:
        """Stop every server."""
        for server in self.all:
            server.stop()


def lmtp_deliverer(host: str, port: int) -> Deliver:
    """A Deliver callable that hands one message to one recipient over LMTP."""

    def deliver(rcpt: str, mail_from: str, raw: bytes) -> None:
        with smtplib.LMTP(host, port, timeout=10) as lmtp:
            lmtp.sendmail(mail_from, [rcpt], raw)

    return deliver


def start_smtp_servers(
    *,
    password_of: PasswordLookup,
    tokens: TokenCheck,
    deliver: Deliver,
    cert_file: str,
    key_file: str,
) -> SmtpServers:
    """Start the plain, starttls and tls servers (stopping any started if one fails)."""
    started: list[SmtpServer] = []
    try:
        for security in ("plain", "starttls", "tls"):
            server = SmtpServer(
                security,
                password_of=password_of,
                tokens=tokens,
                deliver=deliver,
                cert_file=cert_file,
                key_file=key_file,
            )
            server.start()
            started.append(server)
    except BaseException:
        for server in started:
            server.stop()
        raise
    return SmtpServers(*started)
