"""Text helpers the templates use: dates in the account zone, names, sentences, wrapping.

Dates, times and zone names are CLDR's (Babel) in the letter's language, never the
process locale's, so a message reads the same under systemd as in a terminal.
Babel is imported on first use: a pass that writes no letter never loads it.
"""

from __future__ import annotations

import re
import textwrap
from datetime import UTC, date, datetime, tzinfo

from decliner.core.letters.languages import LOCALES
from decliner.core.parse.model import one_line

LINE_LIMIT = 78

_DAY_NUMBER = re.compile(r"(\d\.?) (?=\w)")
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


def _locale(language: str) -> str:
    return LOCALES.get(language, LOCALES["en"])


def format_date(value: datetime | date, zone: tzinfo, language: str = "en") -> str:
    """'Thursday, 10 December 2026' (CLDR's full date in the letter's language): a
    datetime's day in `zone`, or a date as it is."""
    from babel.dates import format_date as cldr_date

    day = _aware(value).astimezone(zone).date() if isinstance(value, datetime) else value
    # A no-break space after the day's number: no line ends inside "10. Dezember".
    return _DAY_NUMBER.sub("\\1\u00a0", str(cldr_date(day, "full", locale=_locale(language))))


def zone_label(moment: datetime, language: str = "en") -> str:
    """The zone's name at `moment` in the letter's language: CLDR's abbreviation where the
    language has one ('CET', 'MEZ'), else its long name ('heure normale d’Europe centrale');
    'UTC' for UTC."""
    from babel.dates import get_timezone_name

    offset = moment.utcoffset()
    if offset is not None and not offset and moment.tzname() in {"UTC", "GMT", "Z"}:
        return "UTC"
    short = str(get_timezone_name(moment, "short", locale=_locale(language)))
    if short.isalpha():
        return short
    return str(get_timezone_name(moment, "long", locale=_locale(language)))


# German business letters write a time as "15:00 Uhr" (DIN 5008); CLDR's short time has
# only the digits, which reads as curt there.
_CLOCK_WORD = {"de": " Uhr"}


def format_time(value: datetime, zone: tzinfo, language: str = "en") -> str:
    """'15:00 (CET)': CLDR's short time in `zone`, with the zone named so nobody guesses."""
    from babel.dates import format_time as cldr_time

    local = _aware(value).astimezone(zone)
    clock = cldr_time(local, "short", locale=_locale(language)) + _CLOCK_WORD.get(language, "")
    return f"{clock} ({zone_label(local, language)})"


def format_datetime(value: datetime | date, zone: tzinfo, language: str = "en") -> str:
    """Date and time joined by CLDR's pattern ('Thursday, 10 December 2026, 15:00 (CET)');
    only the day for a date. The built-in letters join them in their own words."""
    if not isinstance(value, datetime):
        return format_date(value, zone, language)
    from babel import Locale

    pattern = str(Locale.parse(_locale(language)).datetime_formats["full"])
    return pattern.replace("{1}", format_date(value, zone, language)).replace(
        "{0}", format_time(value, zone, language)
    )


def join_list(items: object, language: str = "en") -> str:
    """Items joined as the language lists them ('a, b and c', 'a, b et c'): CLDR's pattern."""
    from babel.lists import format_list

    values = [str(item) for item in items] if isinstance(items, list | tuple) else [str(items)]
    return format_list(values, locale=_locale(language)) if values else ""


def sentence(text: object, language: str = "en") -> str:
    """`text` on one line ending in exactly one terminal mark: '.' unless it asked or exclaimed.
    French sets '?' and '!' off with a no-break space, as its built-in letters do."""
    words = " ".join(one_line(str(text)).split())
    body = words.rstrip(_TERMINAL + " ")
    if not body:
        return ""
    if body[-1] in _CLOSERS and len(body) > 1 and body[-2] in _TERMINAL:
        return body  # 'as they said "no."' already ends inside the quote
    tail = words[len(body) :]
    mark = "?" if "?" in tail else "!" if "!" in tail else "."
    return body + ("\u00a0" if language == "fr" and mark != "." else "") + mark


def person_name(name: object) -> str:
    """The display name to greet someone by in full ('Priya Raman'), or '' where
    `first_name` finds no person ('Acme Talent', an address)."""
    if not first_name(name):
        return ""
    text = " ".join(one_line(str(name)).replace('"', " ").split())
    if "," in text:  # Outlook's "Last, First"
        last, _, rest = text.partition(",")
        text = f"{rest.strip()} {last.strip()}"
    return text


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
