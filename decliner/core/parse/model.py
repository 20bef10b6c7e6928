"""Plain data parsed from invitation messages: addresses, events, messages, rejections."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from decliner.core.parse.booking import BookingLink

MIB = 1024 * 1024
# A CANCEL may name only UID and RECURRENCE-ID (RFC 5546 3.2.5): its event's times are then
# unknown until the request is, and stored as this instant (long past).
NO_START = datetime(1970, 1, 1, tzinfo=UTC)
MAX_CALENDAR_BYTES = 4 * MIB  # a decoded calendar part; real invitations are a few KiB
# The email package keeps each line of a message as a str, ~70 bytes apiece whatever its
# length: a whole message with more lines than this is refused before parsing, so one
# message costs at most ~70 MB of lines (a 32 MiB file of 76-byte lines has 440,000).
MAX_MESSAGE_LINES = 1_000_000

InviteKind = Literal["request", "static"]
"""`request`: an iTIP REQUEST that can be answered; `static`: a calendar file that cannot
(METHOD:PUBLISH, as booking tools attach to confirmations)."""
RejectReason = Literal[
    "malformed", "timezone", "encoding", "no-dtstart", "too-large", "unavailable"
]

_MAILTO = re.compile(r"^\s*mailto:", re.IGNORECASE)
# One `local@domain` in any script (RFC 6532): no space, control, bracket or separator, and
# no surrogate or U+FFFD (bytes that were not UTF-8: such an address would be a garbled one).
_NOT_IN_EMAIL = r"\s@<>(),;:\"\\\[\]\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffd"
_EMAIL = re.compile(rf"^[^{_NOT_IN_EMAIL}]+@[^{_NOT_IN_EMAIL}]+$")
_ACE = "xn--"  # an IDNA A-label's prefix (RFC 5890)
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_BREAKS = re.compile(r"[\r\n\t\v\f\x1c-\x1e\x85\u2028\u2029]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_CLIPPED_CHARS = 2000


def normalise_email(value: str) -> str:
    """Strip a `mailto:` prefix and surrounding space, lower-case and NFC-normalise.

    An address is kept in the script it was written in: a domain's U-labels are never
    turned into A-labels (`xn--...`) or back here; `address_spellings` knows both.
    """
    return unicodedata.normalize("NFC", _MAILTO.sub("", value).strip().lower())


def _ascii_label(label: str) -> str | None:
    """A domain label as its IDNA A-label (`bücher` -> `xn--bcher-kva`)."""
    if label.isascii():
        return label
    try:
        return _ACE + label.encode("punycode").decode("ascii")
    except UnicodeError:
        return None


def _unicode_label(label: str) -> str | None:
    """An A-label as its U-label (`xn--bcher-kva` -> `bücher`); None when it is no valid one."""
    if not label.startswith(_ACE):
        return label
    try:
        text = unicodedata.normalize("NFC", label[len(_ACE) :].encode("ascii").decode("punycode"))
    except UnicodeError:
        return None
    text = text.lower()
    # A U-label holds letters, marks, digits and hyphens only (roughly IDNA 2008's PVALID).
    letters = all(c == "-" or unicodedata.category(c)[0] in "LMN" for c in text)
    return text if letters and not text.isascii() and _ascii_label(text) == label else None


def unicode_domain(domain: str) -> str:
    """A domain with its valid A-labels shown as U-labels, for reading (`xn--bcher-kva.de` ->
    `bücher.de`)."""
    return ".".join(_unicode_label(label) or label for label in domain.split("."))


def address_spellings(value: str) -> tuple[str, ...]:
    """`value` normalised, then the same address with its domain's labels all A-labels and
    all U-labels: the spellings one mailbox may be written in (IDNA, RFC 5890)."""
    email = normalise_email(value)
    local, at, domain = email.rpartition("@")
    if not at:
        return (email,)
    spellings = [email]
    for convert in (_ascii_label, _unicode_label):
        labels = [convert(label) for label in domain.split(".")]
        if None not in labels:
            spellings.append(f"{local}@{'.'.join(label or '' for label in labels)}")
    return tuple(dict.fromkeys(spellings))


def email_key(value: str) -> str:
    """One address's identity for comparison: normalised, its domain in A-labels where it can
    be, so `jane@bücher.example` and `jane@xn--bcher-kva.example` are one mailbox."""
    spellings = address_spellings(value)
    return next((s for s in spellings if s.rpartition("@")[2].isascii()), spellings[0])


def is_valid_email(value: str) -> bool:
    """Whether `value` is one plain `local@domain` address, safe to put in a header."""
    return bool(_EMAIL.match(value))


def one_line(value: str) -> str:
    """Line breaks become spaces and controls go, so a field cannot add a header.

    Other spacing (a French no-break space before ":") is kept as written.
    """
    return _CONTROL.sub("", _BREAKS.sub(" ", _FOLD.sub("", value))).strip()


def clipped_text(value: str) -> str:
    """A DESCRIPTION or text body as kept: its first 2,000 characters, without control
    characters other than line breaks and tabs."""
    return _TEXT_CONTROL.sub("", value)[:_CLIPPED_CHARS]


@dataclass(frozen=True, slots=True)
class Address:
    """An email address (normalised: no `mailto:`, lower-case) and its display name."""

    email: str
    name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "email", normalise_email(self.email))
        object.__setattr__(self, "name", one_line(self.name))


@dataclass(frozen=True, slots=True)
class InviteEvent:
    """One VEVENT of an invitation, with every instant resolved to aware UTC.

    All-day events have `all_day=True`, `start`/`end` at midnight of `start_date`/
    `end_date` (end exclusive) in the account's zone; timed events have no dates.
    `tzid` is DTSTART's TZID as written; `other_attendees` leaves out the user and
    the organizer.
    """

    uid: str
    recurrence_id: datetime | date | None
    sequence: int
    method: str
    summary: str
    start: datetime
    end: datetime
    all_day: bool = False
    start_date: date | None = None
    end_date: date | None = None
    tzid: str = ""
    location: str = ""
    description: str = ""
    organizer: Address | None = None
    attendee: Address | None = None
    other_attendees: tuple[Address, ...] = ()
    rrule: str = ""
    status: str = ""
    partstat: str = ""
    kind: InviteKind = "request"
    booking_links: tuple[BookingLink, ...] = ()  # from DESCRIPTION, URL and X- properties
    warnings: tuple[str, ...] = ()  # what was repaired or ignored, one line each

    @property
    def key(self) -> tuple[str, datetime | date | None]:
        """The event's identity: UID and RECURRENCE-ID."""
        return (self.uid, self.recurrence_id)


@dataclass(frozen=True, slots=True)
class InviteMessage:
    """The headers of the message that carried an invitation, decoded and single-line."""

    message_id: str = ""
    subject: str = ""
    from_: Address | None = None
    reply_to: Address | None = None
    references: tuple[str, ...] = ()
    in_reply_to: str = ""
    date: datetime | None = None
    bulk: bool = False  # sent to a list (List-Id, List-Unsubscribe, Precedence: bulk)


@dataclass(frozen=True, slots=True)
class ParsedInvite:
    """An invitation (REQUEST, CANCEL, or METHOD-less to the user) and its raw calendar."""

    message: InviteMessage
    method: str
    events: tuple[InviteEvent, ...]
    calendar_bytes: bytes
    booking_links: tuple[BookingLink, ...] = ()  # from the message's text and HTML bodies
    body_text: str = ""  # the start of the text body, for "auto" languages

    @property
    def kind(self) -> InviteKind:
        """Whether it can be answered (`request`) or not (`static`)."""
        return "static" if any(e.kind == "static" for e in self.events) else "request"


@dataclass(frozen=True, slots=True)
class Rejected:
    """An invitation that cannot be read safely; `detail` says what, for the warning."""

    reason: RejectReason
    detail: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "detail", one_line(self.detail)[:500])
