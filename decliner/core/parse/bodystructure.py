"""Find a message's calendar parts from its IMAP BODYSTRUCTURE, without its bytes.

imapclient parses the BODYSTRUCTURE response into nested tuples (`BodyData`);
this walks them to the section numbers worth a `BODY.PEEK[section]`, so a scan
never downloads whole messages (attachments, HTML, images).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import decode_rfc2231
from typing import Any
from urllib.parse import unquote_to_bytes

from decliner.core.parse.mime import decode_body
from decliner.core.parse.model import MAX_CALENDAR_BYTES, MIB, Rejected

# A part is downloaded only below this encoded size: base64 and quoted-printable are
# larger than what they decode to, and the decoded bytes are checked exactly after.
FETCH_LIMIT = 2 * MAX_CALENDAR_BYTES
_CALENDAR_TYPES = frozenset({"text/calendar", "application/ics", "text/x-vcalendar"})
_GENERIC_TYPES = frozenset({"application/octet-stream", "application/x-ics", "text/plain"})


@dataclass(frozen=True, slots=True)
class Part:
    """One leaf of a BODYSTRUCTURE: where it is and how to decode it."""

    section: str
    mime_type: str
    charset: str
    encoding: str
    filename: str
    size: int

    @property
    def is_calendar(self) -> bool:
        """A calendar by type (`text/calendar`, ...)."""
        return self.mime_type in _CALENDAR_TYPES

    @property
    def is_ics_attachment(self) -> bool:
        """A generic part named `*.ics`, as some mailers attach invites."""
        return self.mime_type in _GENERIC_TYPES and self.filename.lower().endswith(".ics")


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else ""


def _pairs(value: Any) -> dict[str, str]:
    if not isinstance(value, tuple | list):
        return {}
    items = [_text(v) for v in value]
    return {k.lower(): v for k, v in zip(items[::2], items[1::2], strict=False)}


def _rfc2231(raw: str) -> str:
    """A `name*` parameter's value (RFC 2231: charset'language'percent-encoded) as text."""
    charset, _, text = decode_rfc2231(raw)
    if charset is None:  # no charset'language' prefix: the value as it stands
        return text
    return decode_body(unquote_to_bytes(text), charset=charset)


def _filename(params: dict[str, str], disposition: Any) -> str:
    disp = (
        _pairs(disposition[1])
        if isinstance(disposition, tuple | list) and len(disposition) > 1
        else {}
    )
    for source in (disp, params):
        if "filename*" in source or "name*" in source:
            raw = source.get("filename*") or source.get("name*", "")
            return _rfc2231(raw)
        if source.get("filename") or source.get("name"):
            return source.get("filename") or source.get("name", "")
    return ""


def _leaf(body: Sequence[Any], section: str) -> Part:
    mime_type = f"{_text(body[0])}/{_text(body[1])}".lower()
    params = _pairs(body[2])
    # Extension data follows the basic fields: text/* has a line count, and
    # message/rfc822 an envelope, body and line count, before MD5 and disposition.
    if mime_type.startswith("text/"):
        dsp_index = 9
    elif mime_type == "message/rfc822":
        dsp_index = 11
    else:
        dsp_index = 8
    disposition = body[dsp_index] if len(body) > dsp_index else None
    size = body[6] if len(body) > 6 and isinstance(body[6], int) else 0
    return Part(
        section=section,
        mime_type=mime_type,
        charset=params.get("charset", ""),
        encoding=_text(body[5]).lower() if len(body) > 5 else "",
        filename=_filename(params, disposition),
        size=size,
    )


def leaves(body: Sequence[Any], section: str = "") -> list[Part]:
    """Every non-multipart part with its IMAP section number ("1", "2.1", ...)."""
    if body and isinstance(body[0], list):
        return [
            leaf
            for number, child in enumerate(body[0], start=1)
            for leaf in leaves(child, f"{section}.{number}" if section else str(number))
        ]
    return [_leaf(body, section or "1")]


def calendar_parts(body: Sequence[Any]) -> list[Part]:
    """The parts to fetch: `text/calendar`-like ones, else `*.ics` attachments."""
    try:
        parts = leaves(body)
    except (IndexError, TypeError, ValueError):
        return []
    typed = [p for p in parts if p.is_calendar]
    return typed or [p for p in parts if p.is_ics_attachment]


# A text or HTML body is read for booking links only below this encoded size.
TEXT_FETCH_LIMIT = 512 * 1024


def text_parts(body: Sequence[Any]) -> list[Part]:
    """The message's first text/plain and first text/html body (not attachments), small
    enough to fetch: where booking tools put their cancel and reschedule links."""
    try:
        parts = leaves(body)
    except (IndexError, TypeError, ValueError):
        return []
    found: list[Part] = []
    for mime_type in ("text/plain", "text/html"):
        part = next((p for p in parts if p.mime_type == mime_type and not p.filename), None)
        if part is not None and part.size <= TEXT_FETCH_LIMIT:
            found.append(part)
    return found


def unread_parts(parts: Sequence[Part], fetched: set[str]) -> Rejected | None:
    """Why a calendar part of a message was not read (too large to fetch, or the server sent
    no body for it), so the message is reported, never dropped in silence; None if all were."""
    for part in parts:
        if part.section in fetched:
            continue
        if part.size > FETCH_LIMIT:
            return Rejected(
                "too-large",
                f"calendar part {part.section} of {part.size / MIB:.1f} MiB is over the"
                f" {MAX_CALENDAR_BYTES // MIB} MiB limit",
            )
        return Rejected("unavailable", f"the server sent no body for calendar part {part.section}")
    return None
