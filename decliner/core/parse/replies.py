"""Recognise a message as a reply in one of our threads, from its headers alone."""

from __future__ import annotations

import email
import email.utils
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from email import policy

from decliner.core.parse.mime import parse_headers, utf8_header
from decliner.core.parse.model import address_spellings, is_valid_email, normalise_email


@dataclass(frozen=True, slots=True)
class Reply:
    """An answer in one of our threads: whose, to what, and when."""

    event_id: str
    message_id: str
    in_reply_to: str
    from_: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    date: datetime | None


def match_reply(headers: bytes, ours: Mapping[str, str], me: Collection[str]) -> Reply | None:
    """The reply these headers make to one of our Message-IDs (`ours`: id -> event), if any.

    A message from the user (a copy of our own, or one they wrote) is no reply from them.
    """
    parsed = parse_headers(headers)
    if not parsed.message_id or parsed.message_id in ours:
        return None
    named = [parsed.in_reply_to, *reversed(parsed.references)]
    event_id = next((ours[mid] for mid in named if mid in ours), None)
    if event_id is None:
        return None
    sender = parsed.from_.email if parsed.from_ else ""
    if sender in {spelling for m in me for spelling in address_spellings(m)}:
        return None
    to, cc = _addresses(headers, "to"), _addresses(headers, "cc")
    return Reply(
        event_id, parsed.message_id, parsed.in_reply_to, sender, to, cc, parsed.subject, parsed.date
    )


THREADING_FIELDS = "IN-REPLY-TO REFERENCES"
"""The header fields that decide whether a message can be a reply in one of our threads."""


def names_ours(headers: bytes, ours: Collection[str]) -> bool:
    """Whether these headers (at least In-Reply-To and References) name one of our
    Message-IDs: only such a message can be a reply `match_reply` files."""
    parsed = parse_headers(headers)
    return any(mid in ours for mid in (parsed.in_reply_to, *parsed.references) if mid)


def _addresses(headers: bytes, name: str) -> tuple[str, ...]:
    try:
        message = email.message_from_bytes(headers, policy=policy.compat32)
        values = [utf8_header(str(v)) for k, v in message.raw_items() if k.lower() == name]
        pairs = email.utils.getaddresses(values)
    except Exception:  # noqa: BLE001 -- junk headers give no addresses rather than an error
        return ()
    found = (normalise_email(addr) for _name, addr in pairs)
    return tuple(a for a in found if is_valid_email(a))
