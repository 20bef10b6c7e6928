"""Bytes -> typed invitations: MIME, calendars, time zones, booking links.

The names below are imported on first use (PEP 562), so code that needs only a light
module of the core (the plain data) never loads icalendar.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from decliner.core.parse.interview import looks_like_interview
    from decliner.core.parse.invites import parse_message, parse_parts
    from decliner.core.parse.mime import decode_part, find_calendar_parts, parse_headers
    from decliner.core.parse.model import (
        Address,
        InviteEvent,
        InviteMessage,
        ParsedInvite,
        Rejected,
    )
    from decliner.core.parse.vcalendar import parse_calendar, read_calendar

_HOMES = {
    "Address": "model",
    "InviteEvent": "model",
    "InviteMessage": "model",
    "ParsedInvite": "model",
    "Rejected": "model",
    "decode_part": "mime",
    "find_calendar_parts": "mime",
    "parse_headers": "mime",
    "looks_like_interview": "interview",
    "parse_calendar": "vcalendar",
    "parse_message": "invites",
    "parse_parts": "invites",
    "read_calendar": "vcalendar",
}
__all__ = [
    "Address",
    "InviteEvent",
    "InviteMessage",
    "ParsedInvite",
    "Rejected",
    "decode_part",
    "find_calendar_parts",
    "looks_like_interview",
    "parse_calendar",
    "parse_headers",
    "parse_message",
    "parse_parts",
    "read_calendar",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'decliner.core.parse' has no attribute {name!r}")
    return getattr(import_module(f"decliner.core.parse.{_HOMES[name]}"), name)
