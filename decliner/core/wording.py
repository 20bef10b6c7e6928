"""Text helpers the templates use: dates in the account zone, names, sentences, wrapping.

Pure and locale-independent: month and day names are English whatever the
process locale, so a message reads the same under systemd as in a terminal.
"""

from __future__ import annotations

import re
import textwrap
from datetime import UTC, date, datetime, tzinfo

from decliner.core.model import one_line

LINE_LIMIT = 78

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_TERMINAL = ".!?…;:,"
_CLOSERS = "\"')]»”’"
# Words that make a display name a team or a robot rather than a person to greet.
_NOT_A_PERSON = re.compile(
    r"\b(team|recruiting|recruitment|talent|careers?|jobs|hiring|hr|people|calendar|scheduling|"
    r"scheduler|notifications?|no-?reply|do-?not-?reply|admin|support|info|office|"
    r"inc|llc|ltd|gmbh|corp\w*|company|group)\b",
    re.IGNORECASE,
)
_TITLES = frozenset({"dr", "prof", "mr", "mrs", "ms", "mx", "sir", "dame"})


def _aware(value: datetime) -> datetime:
    # Naive values do not come from decliner (every instant is resolved to UTC).
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def format_date(value: datetime | date, zone: tzinfo) -> str:
    """'Thursday 10 December 2026': a datetime's day in `zone`, or a date as it is."""
    day = _aware(value).astimezone(zone).date() if isinstance(value, datetime) else value
    return f"{_DAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"


def zone_label(moment: datetime) -> str:
    """'CET', or 'UTC+05:30' where the zone has no letter abbreviation ('+0530')."""
    name = moment.tzname() or ""
    if name.isalpha():
        return name
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return "UTC" if minutes == 0 else f"UTC{sign}{hours:02d}:{rest:02d}"


def format_time(value: datetime, zone: tzinfo) -> str:
    """'15:00 (CET)': the wall-clock time in `zone`, with the zone so nobody guesses."""
    local = _aware(value).astimezone(zone)
    return f"{local:%H:%M} ({zone_label(local)})"


def format_datetime(value: datetime | date, zone: tzinfo) -> str:
    """'Thursday 10 December 2026 at 15:00 (CET)'; only the day for a date."""
    if not isinstance(value, datetime):
        return format_date(value, zone)
    return f"{format_date(value, zone)} at {format_time(value, zone)}"


def sentence(text: object) -> str:
    """`text` on one line ending in exactly one terminal mark: '.' unless it asked or exclaimed."""
    words = " ".join(one_line(str(text)).split())
    body = words.rstrip(_TERMINAL + " ")
    if not body:
        return ""
    if body[-1] in _CLOSERS and len(body) > 1 and body[-2] in _TERMINAL:
        return body  # 'as they said "no."' already ends inside the quote
    tail = words[len(body) :]
    mark = "?" if "?" in tail else "!" if "!" in tail else "."
    return body + mark


def first_name(name: object) -> str:
    """The name to greet someone by: 'Sam Recruiter' -> 'Sam', 'Nguyen, Priya' -> 'Priya'.

    '' when the name is missing, an address, a username or a team ('Acme Talent').
    """
    text = " ".join(one_line(str(name)).replace('"', " ").split())
    if not text or "@" in text or _NOT_A_PERSON.search(text) or not any(c.isalpha() for c in text):
        return ""
    if "," in text:  # Outlook's "Last, First"
        last, _, rest = text.partition(",")
        words, surname = rest.split(), last.strip()
    else:
        words = text.split()
        surname = words[-1] if len(words) > 1 else ""
    if not words:
        return ""
    if words[0].rstrip(".").lower() in _TITLES:
        return f"{words[0]} {surname}" if surname and surname != words[0] else ""
    given = words[0]
    if len(given.rstrip(".")) < 2 or (" " not in text and re.search(r"[._\d]", given)):
        return ""  # an initial ('J. Smith') or a username ('sam.recruiter')
    return given.capitalize() if given.isupper() and len(given) > 2 else given


def wrap(body: str, width: int = LINE_LIMIT) -> str:
    """Each line longer than `width` wrapped at spaces; words and URLs are never split.

    Short lines (greetings, signatures, lists) stay as written; a wrapped line's
    continuation keeps its indentation, and a '- ' or '* ' item's hanging indent.
    """
    out: list[str] = []
    for raw in body.split("\n"):
        line = raw.rstrip()
        if len(line) <= width:
            out.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip())]
        bullet = re.match(r"[-*] ", line[len(indent) :])
        hanging = indent + ("  " if bullet else "")
        out.extend(
            textwrap.wrap(
                line,
                width=width,
                initial_indent="",
                subsequent_indent=hanging,
                break_long_words=False,
                break_on_hyphens=False,
                drop_whitespace=True,
            )
            if line.strip()
            else [""]
        )
    return "\n".join(out)


def tidy(body: str) -> str:
    """Trailing spaces, runs of blank lines (skipped conditionals) and edge blanks removed."""
    lines = [line.rstrip() for line in body.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    while kept and not kept[-1]:
        kept.pop()
    return "\n".join(kept) + "\n" if kept else ""
