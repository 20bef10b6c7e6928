"""Find the calendar parts of a MIME message and decode its headers, tolerant of junk."""

from __future__ import annotations

import binascii
import codecs
import email
import email.header
import email.utils
import re
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage, Message

from decliner.core.parse.model import Address, InviteMessage, is_valid_email, one_line

_CALENDAR_TYPES = frozenset({"text/calendar"})
_MSG_ID = re.compile(r"<[^<>\s]+>")
_UTF8_ALIASES = frozenset({"", "utf-8", "utf8", "us-ascii", "ascii"})
# Python codecs that decode text but are no MIME charset: a mail naming one is
# junk, and unicode_escape would even interpret backslashes in it.
_NOT_CHARSETS = frozenset({"unicode-escape", "raw-unicode-escape", "idna", "punycode", "undefined"})


def _charset_codec(charset: str) -> str | None:
    """The Python codec for a MIME charset, or None for UTF-8, ASCII, unknown names
    and codecs that are not charsets."""
    name = charset.strip().strip('"').lower()
    if name in _UTF8_ALIASES:
        return None
    try:
        codec = codecs.lookup(name).name
    except (LookupError, ValueError):  # unknown, or a name with a NUL in it
        return None
    return None if codec == "utf-8" or codec in _NOT_CHARSETS else codec


def _to_utf8(data: bytes, charset: str) -> bytes:
    """Re-encode `data` from its declared charset to UTF-8.

    UTF-8, ASCII, unknown or undecodable charsets pass the bytes through
    unchanged: the calendar parser checks them as strict UTF-8 and rejects them
    rather than guessing.
    """
    codec = _charset_codec(charset)
    if codec is None:
        return data
    try:
        return data.decode(codec).encode("utf-8")
    except (UnicodeDecodeError, ValueError, LookupError):  # LookupError: "base64", "rot13"
        return data


def decode_part(body: bytes, *, transfer_encoding: str = "", charset: str = "") -> bytes:
    """A calendar part's body as UTF-8 bytes, for parts fetched alone (IMAP BODY[n])."""
    cte = transfer_encoding.strip().lower()
    try:
        if cte == "base64":
            body = binascii.a2b_base64(body)
        elif cte == "quoted-printable":
            body = binascii.a2b_qp(body)
    except (binascii.Error, ValueError):
        return b""
    return _to_utf8(body, charset)


# Every part `find_calendar_parts` accepts is declared in clear text in some MIME
# header: a text/calendar type, or a file name ending in .ics (also RFC 2231's
# percent-encoded or RFC 2047's encoded-word forms, which are matched loosely).
_MAY_HOLD_CALENDAR = re.compile(
    rb"text/calendar|\.ics|%2eics|filename\*|name\s*=\s*\"?=\?", re.IGNORECASE
)


def may_hold_calendar(raw: bytes) -> bool:
    """Whether a whole message might carry a calendar part: a cheap test before parsing it.

    False only when `find_calendar_parts` would surely find nothing, so a local
    mailbox's plain mail is never MIME-parsed.
    """
    return _MAY_HOLD_CALENDAR.search(raw) is not None


def _is_calendar_part(part: Message) -> tuple[bool, bool]:
    """(is a calendar part, is a text/calendar part) for one leaf part."""
    ctype = part.get_content_type()
    try:
        filename = part.get_filename() or ""
    except Exception:  # noqa: BLE001 -- a garbled filename parameter is just no name
        filename = ""
    primary = ctype in _CALENDAR_TYPES
    return primary or filename.strip().lower().endswith(".ics"), primary


def _part_bytes(part: Message) -> bytes:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return b""
    return _to_utf8(payload, part.get_content_charset() or "")


def _same_content(data: bytes) -> bytes:
    return re.sub(rb"\r\n|\r", b"\n", data).strip()


def find_calendar_parts(msg: Message) -> list[bytes]:
    """The message's calendar parts as UTF-8 bytes: text/calendar first, then `.ics` files.

    An `.ics` attachment repeating a text/calendar part (Google sends both) is
    dropped. A text/plain body merely quoting BEGIN:VCALENDAR is not a calendar.
    """
    primary: list[bytes] = []
    attached: list[bytes] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        is_calendar, is_primary = _is_calendar_part(part)
        if is_calendar:
            (primary if is_primary else attached).append(_part_bytes(part))
    seen = {_same_content(data) for data in primary}
    found = list(primary)
    for data in attached:
        if _same_content(data) not in seen:
            seen.add(_same_content(data))
            found.append(data)
    return [data for data in found if data.strip()]


TEXT_LIMIT = 256 * 1024  # characters of a text or HTML body read for booking links


def text_bodies(msg: Message) -> list[tuple[str, str]]:
    """The message's text/plain and text/html bodies (the first of each, not attachments),
    as ("plain" | "html", text), each cut at TEXT_LIMIT characters; never raises."""
    found: list[tuple[str, str]] = []
    for subtype in ("plain", "html"):
        try:
            part = msg.get_body((subtype,)) if isinstance(msg, EmailMessage) else None
            if part is None or part.get_content_type() != f"text/{subtype}":
                continue
            if _charset_codec(part.get_content_charset() or "") is not None:
                text = part.get_content()
            else:  # UTF-8, ASCII, or a name that is no charset: read as UTF-8
                payload = part.get_payload(decode=True)
                text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else None
        except Exception:  # noqa: BLE001,S112 -- a body that cannot be decoded has no links to offer
            continue
        if isinstance(text, str):
            found.append((subtype, text[:TEXT_LIMIT]))
    return found


def decode_body(body: bytes, *, transfer_encoding: str = "", charset: str = "") -> str:
    """A text or HTML part fetched alone (IMAP BODY[n]) as text, cut at TEXT_LIMIT."""
    data = decode_part(body, transfer_encoding=transfer_encoding, charset=charset)
    return data.decode("utf-8", "replace")[:TEXT_LIMIT]


def _raw_headers(headers: bytes | Message) -> dict[str, str]:
    msg = (
        email.message_from_bytes(headers, policy=policy.default)
        if isinstance(headers, bytes)
        else headers
    )
    found: dict[str, str] = {}
    for name, value in msg.raw_items():
        found.setdefault(name.lower(), str(value))
    return found


def decode_text(name: str, raw: str) -> str:
    """An unstructured header (RFC 2047 encoded words, raw UTF-8) as one clean line."""
    try:
        text = str(policy.default.header_fetch_parse(name, raw))
    except Exception:  # noqa: BLE001 -- the email package raises assorted errors on junk
        try:
            text = str(email.header.make_header(email.header.decode_header(raw)))
        except Exception:  # noqa: BLE001 -- a part the email package cannot decode is no part either
            text = raw
    return one_line(text.encode("utf-8", "replace").decode("utf-8"))


def utf8_header(raw: str) -> str:
    """A header value as the email package reads raw 8-bit bytes (surrogate escapes), as the
    UTF-8 text it holds (RFC 6532: `josé@empresa.es` in From); other values as they are."""
    try:
        return raw.encode("ascii", "surrogateescape").decode("utf-8")
    except UnicodeError:  # already text, or not UTF-8: an address in it stays unusable
        return raw


def parse_address(name: str, raw: str) -> Address | None:
    """The first usable address in an address header, or None; never raises."""
    raw = utf8_header(raw)
    try:
        header = policy.default.header_fetch_parse(name, raw)
        candidates = [(a.display_name, a.addr_spec) for a in getattr(header, "addresses", ())]
    except Exception:  # noqa: BLE001 -- fall back to the lenient parser below
        candidates = []
    candidates.append(email.utils.parseaddr(raw))
    for display, addr in candidates:
        address = Address(addr, decode_text("Subject", display) if display else "")
        if is_valid_email(address.email):
            return address
    return None


def _date(raw: str) -> datetime | None:
    try:
        parsed = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _message_id(raw: str) -> str:
    match = _MSG_ID.search(raw)
    return one_line(match.group()) if match else ""


def parse_headers(headers: bytes | Message) -> InviteMessage:
    """The threading and sender headers of an invitation message; never raises."""
    try:
        raw = _raw_headers(headers)
    except Exception:  # noqa: BLE001 -- headers we cannot read at all are no headers
        raw = {}
    from_ = parse_address("From", raw["from"]) if "from" in raw else None
    reply_to = parse_address("Reply-To", raw["reply-to"]) if "reply-to" in raw else None
    return InviteMessage(
        message_id=_message_id(raw.get("message-id", "")),
        subject=decode_text("Subject", raw.get("subject", "")),
        from_=from_,
        reply_to=reply_to,
        references=tuple(one_line(ref) for ref in _MSG_ID.findall(raw.get("references", ""))),
        in_reply_to=_message_id(raw.get("in-reply-to", "")),
        date=_date(raw["date"]) if "date" in raw else None,
        bulk="list-id" in raw
        or "list-unsubscribe" in raw
        or raw.get("precedence", "").strip().lower() in {"bulk", "list", "junk"},
    )
