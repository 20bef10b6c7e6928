"""The aiosmtpd side of a test SMTP server: the handler that injects the faults a test asks
for, then records and delivers each message (and speaks XOAUTH2), and a session and
controller that can refuse the greeting and record every command's verb."""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session

from tests.testbed.oauth_models import TokenCheck
from tests.testbed.wait import CEILING


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
    mail_options: tuple[str, ...] = ()  # MAIL FROM's parameters: SMTPUTF8, BODY=8BITMIME


@dataclass
class Faults:
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
class Record:
    lock: threading.Lock = field(default_factory=threading.Lock)
    messages: list[Received] = field(default_factory=list)
    rejected: list[tuple[str, bytes]] = field(default_factory=list)
    faults: Faults = field(default_factory=Faults)
    # (verb, over TLS) of every command a client sent, never its arguments (AUTH carries secrets)
    commands: list[tuple[str, bool]] = field(default_factory=list)
    greetings_refused: int = 0
    holding: threading.Event = field(default_factory=threading.Event)  # a 250 is held back
    release: threading.Event = field(default_factory=threading.Event)  # let held 250s go


PasswordLookup = Callable[[str], str | None]


Deliver = Callable[[str, str, bytes], None]


def is_tls(server: SMTP) -> bool:
    transport = server.transport
    return transport is not None and transport.get_extra_info("sslcontext") is not None


class Handler:
    """aiosmtpd handler: faults first, then record and deliver; also the XOAUTH2 mechanism."""

    def __init__(
        self,
        record: Record,
        tokens: TokenCheck,
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
            tls=is_tls(server),
            delivered_to=local,
            at=time.monotonic(),
            mail_options=tuple(envelope.mail_options),
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


class BedSMTP(SMTP):
    """aiosmtpd's SMTP session with the test bed's connection faults and a record of commands."""

    def __init__(self, handler: Handler, record: Record, **kwargs: Any) -> None:
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
                self._bed_record.commands.append((verb, is_tls(self)))
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


class BedController(Controller):
    """A Controller whose sessions are `BedSMTP`s sharing one record."""

    def __init__(self, handler: Handler, record: Record, **kwargs: Any) -> None:
        self._bed_record = record
        super().__init__(handler, **kwargs)

    def factory(self) -> SMTP:
        return BedSMTP(self.handler, self._bed_record, **self.SMTP_kwargs)
