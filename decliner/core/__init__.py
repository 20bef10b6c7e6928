"""The pure core: invitations parsed from bytes; no sockets, database, clock or env."""

from decliner.core.invites import (
    looks_like_interview,
    parse_calendar,
    parse_message,
    parse_parts,
    read_calendar,
)
from decliner.core.mime import decode_part, find_calendar_parts, parse_headers
from decliner.core.model import Address, InviteEvent, InviteMessage, ParsedInvite, Rejected

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
