"""The withdrawal and the follow-up as the exact bytes to send, threaded under the invite.

Every header value that came from a message is cleaned (no CR, LF or other control,
no RFC 2047 word hiding one) or rejected with `RenderError`, and the finished bytes
are parsed back to prove they carry exactly the headers and recipients intended.
A letter to or from an address in another script is written as RFC 6532 says (raw UTF-8
headers, the email package's SMTPUTF8 policy), never with RFC 2047 words in an address;
every other letter is written as before, in ASCII headers.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses
from typing import Any
from zoneinfo import ZoneInfo

from decliner.core.letters.headers import (
    TOKEN,
    RenderError,
    checked_address,
    message_ids,
    reply_subject,
    trimmed_references,
    withdrawal_subject,
)
from decliner.core.letters.itip import decline_reply
from decliner.core.letters.templating import (
    Filled,
    builtin_template,
    context,
    fill,
    followup_variables,
)
from decliner.core.parse.model import Address, email_key
from decliner.core.plan.events import EventRecord
from decliner.core.plan.naming import Found

__all__ = ["RenderError", "Rendered", "render_followup", "render_withdrawal", "withdrawal_subject"]

_POLICY = email.policy.SMTP
_UTF8_POLICY = email.policy.SMTPUTF8
# Message-id headers are written pre-folded (set_raw) and must not be refolded: the
# email package would turn a long unbreakable id into RFC 2047 words, breaking threading.
_OUTPUT = _POLICY.clone(refold_source="none")
_UTF8_OUTPUT = _UTF8_POLICY.clone(refold_source="none")
_FALLBACK_SUBJECT = "Interview withdrawal"
_SMTP_LINE = 998


@dataclass(frozen=True, slots=True)
class Rendered:
    """A message ready to store in the outbox and send byte for byte."""

    raw: bytes
    message_id: str
    subject: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    in_reply_to: str
    references: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Envelope:
    """The headers of one message: who, to whom, its subject, date and place in the thread."""

    me: Address
    to: Address
    cc: tuple[Address, ...]
    subject: str
    date: str
    message_id: str
    in_reply_to: str
    references: tuple[str, ...]


def _cte(text: str) -> str:
    """7bit for plain ASCII text; quoted-printable otherwise, which any relay passes intact."""
    lines = text.splitlines()
    return (
        "7bit"
        if text.isascii() and all(len(x) <= _SMTP_LINE for x in lines)
        else "quoted-printable"
    )


def _header_address(address: Address) -> HeaderAddress:
    if address.email.isascii():
        return HeaderAddress(display_name=address.name, addr_spec=address.email)
    # The email package refuses a non-ASCII addr_spec (a defect) but takes its two parts.
    local, _, domain = address.email.rpartition("@")
    return HeaderAddress(display_name=address.name, username=local, domain=domain)


def _needs_utf8(envelope: Envelope) -> bool:
    """Whether an address is in another script, so the headers must be UTF-8 (RFC 6532)."""
    return not all(a.email.isascii() for a in (envelope.me, envelope.to, *envelope.cc))


def _message_id(token: str, me: Address) -> str:
    if not TOKEN.fullmatch(token) or len(token) > 128:
        raise ValueError(f"token {token!r} is not usable in a Message-ID")
    # The A-label domain keeps the id ASCII, as every mail client's threading expects.
    return f"<{token}@{email_key(me.email).rpartition('@')[2]}>"


def _recipients(
    recipient: Address, cc: Sequence[Address], extra: Sequence[Address]
) -> tuple[Address, tuple[Address, ...]]:
    to = checked_address(recipient, "recipient")
    seen = {email_key(to.email)}
    copies: list[Address] = []
    for address in (*cc, *extra):
        checked = checked_address(address, "Cc")
        if email_key(checked.email) not in seen:
            seen.add(email_key(checked.email))
            copies.append(checked)
    return to, tuple(copies)


def _headers(message: EmailMessage, envelope: Envelope) -> None:
    message["From"] = _header_address(envelope.me)
    message["To"] = _header_address(envelope.to)
    if envelope.cc:
        message["Cc"] = [_header_address(a) for a in envelope.cc]
    message["Subject"] = envelope.subject
    message["Date"] = envelope.date
    message.set_raw("Message-ID", envelope.message_id)
    if envelope.in_reply_to:
        message.set_raw("In-Reply-To", envelope.in_reply_to)
    if envelope.references:
        message.set_raw("References", "\r\n ".join(envelope.references))
    message["MIME-Version"] = "1.0"


def _expected_headers(envelope: Envelope, *, multipart: bool) -> list[str]:
    names = ["From", "To", *(["Cc"] if envelope.cc else []), "Subject", "Date", "Message-ID"]
    names += ["In-Reply-To"] if envelope.in_reply_to else []
    names += ["References"] if envelope.references else []
    names += ["MIME-Version", "Content-Type"]
    return names if multipart else [*names, "Content-Transfer-Encoding"]


def _verify(raw: bytes, envelope: Envelope, *, multipart: bool) -> None:
    """Parse `raw` back: the same header names, recipients and ids, or RenderError."""
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    names = [name.lower() for name in parsed]
    expected = [name.lower() for name in _expected_headers(envelope, multipart=multipart)]
    to = [a.lower() for _, a in getaddresses([str(v) for v in parsed.get_all("To", [])])]
    cc = [a.lower() for _, a in getaddresses([str(v) for v in parsed.get_all("Cc", [])])]
    if (
        sorted(names) != sorted(expected)
        or to != [envelope.to.email]
        or cc != [a.email for a in envelope.cc]
        or str(parsed["Message-ID"]).strip() != envelope.message_id
    ):
        raise RenderError("the built message does not parse back to the intended headers")


def compose(envelope: Envelope, body: str, calendar: bytes | None) -> Rendered:
    """The message's bytes: the text, and a METHOD:REPLY calendar part when one is given,
    parsed back to prove the headers are what was intended."""
    utf8 = _needs_utf8(envelope)
    message = EmailMessage(policy=_UTF8_POLICY if utf8 else _POLICY)
    _headers(message, envelope)
    message.set_content(body, charset="utf-8", cte=_cte(body))
    if calendar is not None:
        text = calendar.decode("utf-8")
        message.add_alternative(
            text, subtype="calendar", charset="UTF-8", cte=_cte(text), params={"method": "REPLY"}
        )
        message.add_attachment(
            calendar,
            maintype="application",
            subtype="ics",
            filename="invite.ics",
            params={"name": "invite.ics"},
        )
    for part in message.walk():
        if part is not message:
            del part["MIME-Version"]  # the email package adds it to parts; only the top has it
    raw = message.as_bytes(policy=_UTF8_OUTPUT if utf8 else _OUTPUT)
    _verify(raw, envelope, multipart=calendar is not None)
    return Rendered(
        raw=raw,
        message_id=envelope.message_id,
        subject=envelope.subject,
        to=(envelope.to.email,),
        cc=tuple(a.email for a in envelope.cc),
        in_reply_to=envelope.in_reply_to,
        references=envelope.references,
    )


def _date(now: datetime, zone: ZoneInfo) -> str:
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    return format_datetime(now.astimezone(zone))


def envelope_for(
    *,
    me: Address,
    recipient: Address,
    cc: Sequence[Address],
    filled: Filled,
    subject: str,
    now: datetime,
    zone: ZoneInfo,
    token: str,
    in_reply_to: str,
    references: Sequence[str],
) -> Envelope:
    """The headers from the template's (Subject, Cc) or the given subject, threaded under
    `in_reply_to`; RenderError for an address that cannot be written."""
    sender = checked_address(me, "sender")
    to, copies = _recipients(recipient, cc, filled.cc)
    parent = message_ids([in_reply_to])
    return Envelope(
        me=sender,
        to=to,
        cc=copies,
        subject=filled.subject or subject or _FALLBACK_SUBJECT,
        date=_date(now, zone),
        message_id=_message_id(token, sender),
        in_reply_to=parent[0] if parent else "",
        references=trimmed_references(message_ids([*references, *parent])),
    )


def render_withdrawal(
    *,
    event: EventRecord,
    me: Address,
    recipient: Address,
    cc: Sequence[Address],
    reason: str,
    offer_help: bool,
    keep_in_touch: bool,
    short_notice: bool,
    now: datetime,
    zone: ZoneInfo,
    token: str,
    attach_decline: bool,
    template: tuple[str, str] | None = None,
    language: str = "en",
    named: Found | None = None,
    scope: str = "process",
    interviews: Sequence[EventRecord] = (),
) -> Rendered:
    """The withdrawal replying to the invite, with the iTIP decline when `attach_decline`,
    in `language` (the built-in template of that language unless `template` is given).

    Raises RenderError for data that cannot be sent safely (bad address, unreadable
    request calendar) and TemplateProblem for a broken template.
    """
    _date(now, zone)  # a naive `now` is the caller's bug: fail before any work
    variables = context(
        event=event,
        me=me,
        recipient=recipient,
        reason=reason,
        offer_help=offer_help,
        keep_in_touch=keep_in_touch,
        short_notice=short_notice,
        now=now,
        declined=attach_decline,
        language=language,
        named=named,
        scope=scope,
        interviews=interviews,
    )
    filled = fill(template or builtin_template("withdrawal", language), variables, zone, language)
    envelope = envelope_for(
        me=me,
        recipient=recipient,
        cc=cc,
        filled=filled,
        subject=withdrawal_subject(event),
        now=now,
        zone=zone,
        token=token,
        in_reply_to=event.invite.message_id,
        references=event.invite.references,
    )
    calendar = (
        decline_reply(event=event, me=envelope.me, reason=reason, now=now, zone=zone)
        if attach_decline
        else None
    )
    return compose(envelope, filled.body, calendar)


def render_followup(
    *,
    event: EventRecord,
    me: Address,
    recipient: Address,
    cc: Sequence[Address],
    in_reply_to: str,
    references: Sequence[str],
    withdrawal_date: datetime,
    withdrawal_subject: str,
    replied: bool,
    now: datetime,
    zone: ZoneInfo,
    token: str,
    template: tuple[str, str] | None = None,
    reason: str = "",
    offer_help: bool = True,
    keep_in_touch: bool = True,
    language: str = "en",
    named: Found | None = None,
    scope: str = "process",
    interviews: Sequence[EventRecord] = (),
) -> Rendered:
    """The follow-up confirmation replying to the newest message of the thread.

    Its subject is the withdrawal's, as one `Re:`; raises like `render_withdrawal`.
    """
    _date(now, zone)
    variables: dict[str, Any] = context(
        event=event,
        me=me,
        recipient=recipient,
        reason=reason,
        offer_help=offer_help,
        keep_in_touch=keep_in_touch,
        short_notice=False,
        now=now,
        language=language,
        named=named,
        scope=scope,
        interviews=interviews,
    )
    variables |= followup_variables(
        date=withdrawal_date, subject=withdrawal_subject, replied=replied
    )
    filled = fill(template or builtin_template("followup", language), variables, zone, language)
    subject = reply_subject(withdrawal_subject) or reply_subject(
        event.invite.subject or event.summary
    )
    envelope = envelope_for(
        me=me,
        recipient=recipient,
        cc=cc,
        filled=filled,
        subject=subject,
        now=now,
        zone=zone,
        token=token,
        in_reply_to=in_reply_to,
        references=references,
    )
    return compose(envelope, filled.body, None)
