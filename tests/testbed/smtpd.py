"""Real aiosmtpd servers that record what they receive and deliver it into Dovecot."""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import smtplib
import ssl
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.testbed.net import free_port
from tests.testbed.oauth import TokenRegistry
from tests.testbed.wait import CEILING

Security = Literal["plain", "starttls", "tls"]


class Identity(NamedTuple):
    """Who authenticated, and how (stored as the session's auth_data)."""

    login: bytes
    mechanism: str


@dataclass(frozen=True)
class Received:
    """One message accepted by a test SMTP server."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    login: str | None
    auth_mechanism: str | None
    tls: bool
    delivered_to: tuple[str, ...]
    at: float = 0.0  # time.monotonic() when the message was accepted (for latency benches)


@dataclass
class _Faults:
    fail_code: int = 0
    fail_text: str = ""
    fail_count: int = 0
    cut_count: int = 0
    rcpt_code: int = 0
    rcpt_text: str = ""
    rcpt_count: int = 0
    greeting_code: int = 0
    greeting_text: str = ""
    greeting_count: int = 0
    hold_count: int = 0


@dataclass
class _Record:
    lock: threading.Lock = field(default_factory=threading.Lock)
    messages: list[Received] = field(default_factory=list)
    rejected: list[tuple[str, bytes]] = field(default_factory=list)
    faults: _Faults = field(default_factory=_Faults)
    # (verb, over TLS) of every command a client sent, never its arguments (AUTH carries secrets)
    commands: list[tuple[str, bool]] = field(default_factory=list)
    greetings_refused: int = 0
    holding: threading.Event = field(default_factory=threading.Event)  # a 250 is held back
    release: threading.Event = field(default_factory=threading.Event)  # let held 250s go


PasswordLookup = Callable[[str], str | None]
Deliver = Callable[[str, str, bytes], None]


def _is_tls(server: SMTP) -> bool:
    transport = server.transport
    return transport is not None and transport.get_extra_info("sslcontext") is not None


class _Handler:
    """aiosmtpd handler: faults first, then record and deliver; also the XOAUTH2 mechanism."""

    def __init__(
        self,
        record: _Record,
        tokens: TokenRegistry,
        is_local: Callable[[str], bool],
        deliver: Deliver,
    ) -> None:
        self._record = record
        self._tokens = tokens
        self._is_local = is_local
        self._deliver = deliver

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        with self._record.lock:
            faults = self._record.faults
            if faults.rcpt_count > 0:
                faults.rcpt_count -= 1
                self._record.rejected.append((f"RCPT {faults.rcpt_code}", address.encode()))
                return f"{faults.rcpt_code} {faults.rcpt_text}"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        raw = content if isinstance(content, bytes) else content.encode()
        mail_from = str(envelope.mail_from or "")
        with self._record.lock:
            faults = self._record.faults
            if faults.cut_count > 0:
                faults.cut_count -= 1
                self._record.rejected.append(("cut", raw))
                assert isinstance(server.transport, asyncio.Transport)
                server.transport.abort()
                return "250 dropped"  # never reaches the client: the transport is gone
            if faults.fail_count > 0:
                faults.fail_count -= 1
                self._record.rejected.append((f"{faults.fail_code}", raw))
                return f"{faults.fail_code} {faults.fail_text}"
        local = tuple(r for r in envelope.rcpt_tos if self._is_local(r))
        for rcpt in local:
            await asyncio.to_thread(self._deliver, rcpt, mail_from, raw)
        identity = session.auth_data if isinstance(session.auth_data, Identity) else None
        received = Received(
            mail_from=mail_from,
            rcpt_tos=tuple(envelope.rcpt_tos),
            data=raw,
            login=identity.login.decode() if identity else None,
            auth_mechanism=identity.mechanism if identity else None,
            tls=_is_tls(server),
            delivered_to=local,
            at=time.monotonic(),
        )
        with self._record.lock:
            self._record.messages.append(received)
            hold = self._record.faults.hold_count > 0
            if hold:
                self._record.faults.hold_count -= 1
        if hold:
            # Taken and delivered; the 250 waits for the test (or the client gives up first,
            # aiosmtpd then cancels this task and the answer is never written).
            self._record.holding.set()
            await asyncio.to_thread(self._record.release.wait, CEILING)
        return "250 2.0.0 OK queued"

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:
        if len(args) == 2:
            blob = args[1].encode()
        else:
            answer = await server.challenge_auth("", encode_to_b64=False)
            if not isinstance(answer, bytes):
                return AuthResult(success=False, handled=True)
            blob = base64.b64encode(answer)
        try:
            fields = dict(
                part.split("=", 1)
                for part in base64.b64decode(blob, validate=True).decode().split("\x01")
                if "=" in part
            )
        except (ValueError, UnicodeDecodeError):
            await server.push("501 5.5.2 Can't decode XOAUTH2 response")
            return AuthResult(success=False, handled=True)
        user = fields.get("user", "")
        token = fields.get("auth", "").removeprefix("Bearer ").strip()
        if user and self._tokens.lookup(token) == user:
            return AuthResult(success=True, auth_data=Identity(user.encode(), "XOAUTH2"))
        # Like Gmail: a 334 with a JSON error, then the client's empty line, then 535.
        error = json.dumps({"status": "401", "schemes": "Bearer", "scope": "mail"})
        await server.challenge_auth(error)
        return AuthResult(success=False, handled=False, message="535 5.7.8 Invalid OAuth2 token")


class _Server(SMTP):
    """aiosmtpd's SMTP session with the test bed's connection faults and a record of commands."""

    def __init__(self, handler: _Handler, record: _Record, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._bed_record = record
        self._smtp_methods = {
            verb: self._recorded(verb, method) for verb, method in self._smtp_methods.items()
        }

    def _recorded(
        self, verb: str, method: Callable[[str | None], Awaitable[None]]
    ) -> Callable[[str | None], Awaitable[None]]:
        @functools.wraps(method)  # keeps aiosmtpd's syntax attributes (HELP)
        async def command(arg: str | None) -> None:
            with self._bed_record.lock:
                self._bed_record.commands.append((verb, _is_tls(self)))
            await method(arg)

        return command

    async def _handle_client(self) -> None:
        with self._bed_record.lock:
            faults = self._bed_record.faults
            refuse = faults.greeting_count > 0
            if refuse:
                faults.greeting_count -= 1
                self._bed_record.greetings_refused += 1
            reply = f"{faults.greeting_code} {faults.greeting_text}"
        if not refuse:
            await super()._handle_client()
            return
        # Like a busy or throttling server: 421 instead of the 220 greeting, then hang up.
        await self.push(reply)
        if self.transport is not None:
            self.transport.close()


class _Controller(Controller):
    """A Controller whose sessions are `_Server`s sharing one record."""

    def __init__(self, handler: _Handler, record: _Record, **kwargs: Any) -> None:
        self._bed_record = record
        super().__init__(handler, **kwargs)

    def factory(self) -> SMTP:
        return _Server(self.handler, self._bed_record, **self.SMTP_kwargs)


class SmtpServer:
    """One aiosmtpd server on a free 127.0.0.1 port, in its own thread."""

    host = "127.0.0.1"

    def __init__(
        self,
        security: Security,
        *,
        password_of: PasswordLookup,
        tokens: TokenRegistry,
        deliver: Deliver,
        cert_file: str,
        key_file: str,
    ) -> None:
        self.security = security
        self.port = free_port()
        self._record = _Record()
        self._password_of = password_of
        handler = _Handler(self._record, tokens, lambda a: password_of(a) is not None, deliver)
        server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_ctx.load_cert_chain(cert_file, key_file)
        kwargs: dict[str, Any] = {
            "authenticator": self._authenticate,
            "enable_SMTPUTF8": True,
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
        self._controller = _Controller(
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
            self._record.faults = _Faults()

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
        """clear() on every server."""
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
    tokens: TokenRegistry,
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
