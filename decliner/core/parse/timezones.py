"""Resolve an iCalendar TZID to a tzinfo using only the calendar at hand and tzdata.

icalendar caches every VTIMEZONE it parses in a process-wide table keyed by TZID,
first one wins; so a second "Customized Time Zone" from another message would get
the first one's rules. We therefore never trust the tzinfo icalendar attached, and
resolve each TZID here: the calendar's own VTIMEZONE first, then the name.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterable, Iterator, Mapping
from datetime import tzinfo
from functools import cache

from icalendar import Timezone
from icalendar.timezone import tzp
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

# Outlook repeats a zone's Windows name with " 1", " 2" when it was edited locally.
_TRAILING_NUMBER = re.compile(r"\s+\d+$")
# Outlook display names: "(UTC-08:00) Pacific Time (US & Canada)", older "(GMT-08.00) ...".
_DISPLAY_PREFIX = re.compile(r"^\((?:UTC|GMT)(?:\s*[+-]\d{1,2}(?:[:.]\d{2})?)?\)\s*")

# CLDR (and so icalendar) maps Windows IDs only, not Outlook's display names; these
# are the common display names, pointing at Windows IDs.
_DISPLAY_NAMES = {
    "Coordinated Universal Time": "UTC",
    "Dublin, Edinburgh, Lisbon, London": "GMT Standard Time",
    "Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna": "W. Europe Standard Time",
    "Brussels, Copenhagen, Madrid, Paris": "Romance Standard Time",
    "Belgrade, Bratislava, Budapest, Ljubljana, Prague": "Central Europe Standard Time",
    "Sarajevo, Skopje, Warsaw, Zagreb": "Central European Standard Time",
    "West Central Africa": "W. Central Africa Standard Time",
    "Athens, Bucharest": "GTB Standard Time",
    "Helsinki, Kyiv, Riga, Sofia, Tallinn, Vilnius": "FLE Standard Time",
    "Helsinki, Kiev, Riga, Sofia, Tallinn, Vilnius": "FLE Standard Time",
    "Jerusalem": "Israel Standard Time",
    "Cairo": "Egypt Standard Time",
    "Harare, Pretoria": "South Africa Standard Time",
    "Istanbul": "Turkey Standard Time",
    "Moscow, St. Petersburg": "Russian Standard Time",
    "Nairobi": "E. Africa Standard Time",
    "Abu Dhabi, Muscat": "Arabian Standard Time",
    "Tehran": "Iran Standard Time",
    "Islamabad, Karachi": "Pakistan Standard Time",
    "Chennai, Kolkata, Mumbai, New Delhi": "India Standard Time",
    "Kathmandu": "Nepal Standard Time",
    "Dhaka": "Bangladesh Standard Time",
    "Bangkok, Hanoi, Jakarta": "SE Asia Standard Time",
    "Beijing, Chongqing, Hong Kong, Urumqi": "China Standard Time",
    "Kuala Lumpur, Singapore": "Singapore Standard Time",
    "Perth": "W. Australia Standard Time",
    "Taipei": "Taipei Standard Time",
    "Osaka, Sapporo, Tokyo": "Tokyo Standard Time",
    "Seoul": "Korea Standard Time",
    "Adelaide": "Cen. Australia Standard Time",
    "Brisbane": "E. Australia Standard Time",
    "Canberra, Melbourne, Sydney": "AUS Eastern Standard Time",
    "Auckland, Wellington": "New Zealand Standard Time",
    "Hawaii": "Hawaiian Standard Time",
    "Alaska": "Alaskan Standard Time",
    "Pacific Time (US & Canada)": "Pacific Standard Time",
    "Arizona": "US Mountain Standard Time",
    "Mountain Time (US & Canada)": "Mountain Standard Time",
    "Central Time (US & Canada)": "Central Standard Time",
    "Saskatchewan": "Canada Central Standard Time",
    "Guadalajara, Mexico City, Monterrey": "Central Standard Time (Mexico)",
    "Eastern Time (US & Canada)": "Eastern Standard Time",
    "Bogota, Lima, Quito, Rio Branco": "SA Pacific Standard Time",
    "Atlantic Time (Canada)": "Atlantic Standard Time",
    "Newfoundland": "Newfoundland Standard Time",
    "Brasilia": "E. South America Standard Time",
    "City of Buenos Aires": "Argentina Standard Time",
    "Buenos Aires": "Argentina Standard Time",
}
_WINDOWS_FOLDED = {name.casefold(): olson for name, olson in WINDOWS_TO_OLSON.items()}


@cache
def _iana_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _iana(name: str) -> tzinfo | None:
    return zoneinfo.ZoneInfo(name) if name in _iana_names() else None


def _candidates(tzid: str) -> Iterator[str]:
    """IANA names `tzid` may mean, best first."""
    cleaned = tzid.strip().strip("/")
    yield cleaned
    numberless = _TRAILING_NUMBER.sub("", cleaned)
    for name in (cleaned, numberless):
        if (olson := _WINDOWS_FOLDED.get(name.casefold())) is not None:
            yield olson
    if _DISPLAY_PREFIX.match(cleaned):
        windows = _DISPLAY_NAMES.get(_DISPLAY_PREFIX.sub("", numberless).strip(), "")
        if (olson := WINDOWS_TO_OLSON.get(windows)) is not None:
            yield olson
    # RFC 5545 "globally unique" TZIDs: "/vendor.example/Europe/Berlin".
    if tzid.strip().startswith("/"):
        parts = cleaned.split("/")
        yield from ("/".join(parts[start:]) for start in range(1, len(parts)))


def zone_for_name(tzid: str) -> tzinfo | None:
    """The IANA zone a TZID names (IANA, Windows ID or Outlook display name), or None."""
    for name in _candidates(tzid):
        if (zone := _iana(name)) is not None:
            return zone
    return None


# RFC 5545 3.3.10 ranges of the BY* parts a zone rule may use; signed ones exclude 0.
_BY_RANGES = {
    "BYMONTH": (1, 12),
    "BYMONTHDAY": (-31, 31),
    "BYYEARDAY": (-366, 366),
    "BYWEEKNO": (-53, 53),
    "BYSETPOS": (-366, 366),
    "BYHOUR": (0, 23),
    "BYMINUTE": (0, 59),
    "BYSECOND": (0, 60),
}
_BYDAY = re.compile(r"([+-]?\d{1,2})?(?:MO|TU|WE|TH|FR|SA|SU)")
_MAX_ZONE_INTERVAL = 10


def _in_range(item: str, low: int, high: int) -> bool:
    try:
        number = int(item)
    except ValueError:
        return False
    return low <= number <= high and (low >= 0 or number != 0)


def _plausible_rule(text: str) -> bool:
    """Whether a VTIMEZONE's RRULE is one dateutil expands in bounded time.

    Zone transitions recur yearly; a rule with INTERVAL=0, a finer FREQ, or a BY value
    out of range keeps dateutil looping for minutes or for ever (BYMONTH=0 did), so such
    a block is treated as broken and the TZID resolved by its name instead."""
    fields = dict(part.partition("=")[::2] for part in text.upper().split(";") if part)
    interval = fields.pop("INTERVAL", "1")
    if fields.pop("FREQ", "") != "YEARLY" or not _in_range(interval, 1, _MAX_ZONE_INTERVAL):
        return False
    by_month = "BYMONTH" in fields
    for key, value in fields.items():
        items = value.split(",")
        if key == "BYDAY":
            found = [_BYDAY.fullmatch(item) for item in items]
            limit = 5 if by_month else 53
            if not all(m and (m[1] is None or _in_range(m[1], -limit, limit)) for m in found):
                return False
        elif key in _BY_RANGES:
            if not all(_in_range(item, *_BY_RANGES[key]) for item in items):
                return False
        elif key == "COUNT":
            if not _in_range(value, 1, 10_000):
                return False
        elif key not in {"UNTIL", "WKST"}:
            return False
    return True


def _plausible(component: Timezone) -> bool:
    """Whether every RRULE of a VTIMEZONE's STANDARD and DAYLIGHT parts is plausible."""
    for part in component.subcomponents:
        rules = part.get("RRULE", [])
        for rule in rules if isinstance(rules, list) else [rules]:
            text = rule.to_ical() if hasattr(rule, "to_ical") else str(rule)
            if not _plausible_rule(text.decode() if isinstance(text, bytes) else text):
                return False
    return True


_BUILT: dict[bytes, tzinfo | None] = {}
_BUILT_LIMIT = 256  # distinct VTIMEZONE texts kept; a mailbox has a handful


def _from_vtimezone(component: Timezone) -> tzinfo | None:
    """The zone a VTIMEZONE describes, built once per distinct VTIMEZONE text: building one
    expands its RRULEs over decades (most of a first scan's CPU before this cache), and the
    same Outlook and Google blocks come with every invitation. Keyed by the whole text, not
    the TZID, so two different "Customized Time Zone" blocks never share rules."""
    try:
        key = component.to_ical()
    except Exception:  # noqa: BLE001 -- a block that cannot be written back is not kept
        key = b""
    if key and key in _BUILT:
        return _BUILT[key]
    try:
        # create_timezone builds a fresh tzinfo and does not touch icalendar's cache.
        zone = tzp.create_timezone(component) if _plausible(component) else None
    except Exception:  # noqa: BLE001 -- any broken VTIMEZONE falls back to its name
        zone = None
    if key:
        if len(_BUILT) >= _BUILT_LIMIT:
            _BUILT.clear()
        _BUILT[key] = zone
    return zone


def resolve_tzid(tzid: str, vtimezones: Mapping[str, Timezone]) -> tzinfo | None:
    """The zone for `tzid`: its VTIMEZONE's rules when the calendar has one, else its name."""
    component = vtimezones.get(tzid) or vtimezones.get(tzid.strip().strip("/"))
    if component is not None and (zone := _from_vtimezone(component)) is not None:
        return zone
    return zone_for_name(tzid)


class Zones:
    """One calendar's TZIDs, each resolved once: its own VTIMEZONEs first, then by name."""

    def __init__(self, vtimezones: Iterable[Timezone]) -> None:
        self._components = {str(c.get("TZID", "")).strip(): c for c in vtimezones}
        self._resolved: dict[str, tzinfo | None] = {}

    def get(self, tzid: str) -> tzinfo | None:
        """The zone for `tzid`, or None when neither a VTIMEZONE nor tzdata knows it."""
        if tzid not in self._resolved:
            self._resolved[tzid] = resolve_tzid(tzid, self._components)
        return self._resolved[tzid]
