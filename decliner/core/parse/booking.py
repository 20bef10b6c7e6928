"""Cancel, reschedule and manage links that scheduling tools put in an invitation (SPEC 15).

Found in the calendar (DESCRIPTION, URL, X- properties) and in the message's text
and HTML bodies (HTML read by libxml2 through lxml, never with regular expressions
over markup), classified by the tool's known URL shapes, else by the
link's words in the seven languages decliner writes. Pure: a link is shown to the
user and never fetched (link scanners that opened such URLs have cancelled real
bookings).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, urlsplit

LinkAction = Literal["cancel", "reschedule", "manage"]
MAX_LINKS = 10

_URL = re.compile(r"https?://[^\s<>\"'`{}|\\^\[\]]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}>'\""


@dataclass(frozen=True, slots=True)
class BookingLink:
    """A link that frees or moves the slot in a scheduling tool, for the user to open."""

    action: LinkAction
    url: str
    tool: str = ""

    def as_json(self) -> dict[str, str]:
        """SPEC's `{"action": ..., "url": ...}` (and the tool's name)."""
        return {"action": self.action, "url": self.url, "tool": self.tool}


# The tools, by the domain of their links: name, and URL shapes that say the action
# (path or query patterns, checked in order). Sources in tests/corpus/booking/README.md.
TOOLS: tuple[tuple[str, str, tuple[tuple[str, LinkAction], ...]], ...] = (
    (
        "calendly.com",
        "Calendly",
        ((r"/cancellations/", "cancel"), (r"/reschedulings/", "reschedule")),
    ),
    (
        "cal.com",
        "Cal.com",
        ((r"[?&]cancel=true", "cancel"), (r"/reschedule/", "reschedule"), (r"/booking/", "manage")),
    ),
    ("greenhouse.io", "Greenhouse", ()),
    ("lever.co", "Lever", ()),
    ("ashbyhq.com", "Ashby", ()),
    ("goodtime.io", "GoodTime", ()),
    ("zoom.us", "Zoom Scheduler", ()),
    ("calendar.google.com", "Google Calendar", ()),
    ("calendar.app.google", "Google Calendar", ()),
    ("outlook.office365.com", "Microsoft Bookings", ((r"/bookings/", "manage"),)),
    ("outlook.office.com", "Microsoft Bookings", ((r"/bookings/", "manage"),)),
    ("book.ms", "Microsoft Bookings", ()),
    ("oncehub.com", "OnceHub", ()),
    ("youcanbook.me", "YouCanBookMe", ()),
    ("acuityscheduling.com", "Acuity Scheduling", ()),
    ("hubspot.com", "HubSpot Meetings", ()),
)

# A link's words, in the seven languages: the first that matches wins (reschedule words
# before cancel words: "cancel or reschedule" pages are "manage").
_WORDS: tuple[tuple[LinkAction, re.Pattern[str]], ...] = (
    (
        "manage",
        re.compile(
            r"\b(manage|view|change|modify|edit)\b.{0,20}\b(booking|appointment|interview|meeting|"
            r"event|reservation)|cancel or reschedule|reschedule or cancel|"
            r"\b(verwalten|ändern|bearbeiten)\b|\bgérer\b|\bmodifier\b|\bgestionar\b|"
            r"\bmodificar\b|\bgestisci\b|\bgestire\b|\bbeheren\b|\bwijzigen\b|\bgerir\b|"
            r"\bgerenciar\b|\balterar\b",
            re.IGNORECASE,
        ),
    ),
    (
        "reschedule",
        re.compile(
            r"re-?schedul|\bnew time\b|\bpick another time\b|\bverschieben\b|\bumbuchen\b|"
            r"\bneu planen\b|reprogramm|replanifi|\bchanger l['’]heure\b|reprogramar|"
            r"riprogramm|\bverzetten\b|\bomboeken\b|\bverplaatsen\b|reagendar|remarcar",
            re.IGNORECASE,
        ),
    ),
    (
        "cancel",
        re.compile(
            r"\bcancel|\babsagen\b|\bstornieren\b|\bannuler\b|\bannulation\b|\bcancelar\b|"
            r"\bannulla|\bdisdire\b|\bannuleren\b|\bafzeggen\b|\banular\b|\bdesmarcar\b|"
            r"\bcancelamento\b|\bcancelación\b|\bstornierung\b|\bannullering\b",
            re.IGNORECASE,
        ),
    ),
)
# URL shapes that name their action whatever the tool (a path segment, cal.com's flags).
_EXPLICIT: tuple[tuple[re.Pattern[str], LinkAction], ...] = (
    (re.compile(r"[?&]cancel=true|/cancel(?:lations?)?(?:/|$|\?)", re.IGNORECASE), "cancel"),
    (re.compile(r"/re-?schedul(?:e|ings?)(?:/|$|\?)", re.IGNORECASE), "reschedule"),
    (re.compile(r"[?&]changes=true", re.IGNORECASE), "manage"),
)
# Links that are never booking links whatever their words say: joining a call, answering
# an invitation in Google Calendar, unsubscribing, policies.
_NEVER = re.compile(
    r"unsubscribe|abmelden|désabonner|desuscrib|privacy|datenschutz|confidentialit|"
    r"/j/\d|meet\.google\.com|teams\.microsoft\.com/l/meetup|webex\.com|/help|support\.|"
    r"calendar\.google\.com/calendar/event\?action=|/calendar/r/eventedit|/video/",
    re.IGNORECASE,
)
# Redirectors that wrap a link (Google Calendar's descriptions, Outlook's Safe Links):
# the link shown is the one they wrap.
_REDIRECTS = (("www.google.com", "/url", "q"), ("google.com", "/url", "q"))
_SAFELINKS = "safelinks.protection.outlook.com"


def tool_of(url: str) -> tuple[str, tuple[tuple[str, LinkAction], ...]]:
    """The scheduling tool a URL belongs to (its name, its URL shapes), or the bare host."""
    host = (urlsplit(url).hostname or "").lower()
    for domain, name, shapes in TOOLS:
        if host == domain or host.endswith("." + domain):
            return name, shapes
    return host.removeprefix("www."), ()


def unwrap(url: str) -> str:
    """The link a redirector wraps (google.com/url?q=..., Outlook Safe Links), else `url`."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    query = parse_qs(parts.query)
    for domain, path, key in _REDIRECTS:
        if host == domain and parts.path == path and query.get(key):
            return query[key][0]
    if host.endswith(_SAFELINKS) and query.get("url"):
        return query["url"][0]
    return url


def _openable(url: str) -> bool:
    """Whether `url` is an absolute http(s) URL with a host and nothing a terminal, a header
    or a reader could misread: no space, control or format character (bidi overrides)."""
    if any(char.isspace() or unicodedata.category(char)[0] == "C" for char in url):
        return False
    parts = urlsplit(url)
    return parts.scheme.lower() in {"http", "https"} and bool(parts.hostname)


def classify(url: str, words: str = "") -> BookingLink | None:
    """The link's action by an explicit URL shape or its tool's, else by its words (the
    link text, or the line it stands in), else by the words in its path; None when it is
    no booking link, or not an absolute http(s) URL, before or after its redirect wrapper
    is removed."""
    try:
        return _classify(url, words)
    except ValueError:  # urlsplit refuses some hosts (an NFKC form holding / ? # @ :)
        return None


def _classify(url: str, words: str) -> BookingLink | None:
    if not _openable(url) or not _openable(url := unwrap(url)):
        return None
    if _NEVER.search(url) or _NEVER.search(words):
        return None
    tool, shapes = tool_of(url)
    target = f"{urlsplit(url).path}?{urlsplit(url).query}"
    for pattern, verdict in _EXPLICIT:
        if pattern.search(target):
            return BookingLink(verdict, url, tool)
    for shape, action in shapes:
        if re.search(shape, target, re.IGNORECASE):
            return BookingLink(action, url, tool)
    query = " ".join(f"{k}={v}" for k, vs in parse_qs(urlsplit(url).query).items() for v in vs)
    path_words = re.sub(r"[/_\-.=&?]+", " ", f"{urlsplit(url).path} {query}")
    for text in (words, path_words):
        for verdict, pattern in _WORDS:
            if text and pattern.search(text):
                return BookingLink(verdict, url, tool)
    return None


def _clean(url: str) -> str:
    while url and url[-1] in _TRAILING:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url


def in_text(text: str) -> Iterator[BookingLink]:
    r"""Links in plain text (a DESCRIPTION or a text/plain body): each URL is judged by the
    words on its line and the line before ("Need to cancel?\n<url>")."""
    lines = text.replace("\r\n", "\n").split("\n")
    for number, line in enumerate(lines):
        for match in _URL.finditer(line):
            url = _clean(match.group(0))
            before = lines[number - 1] if number else ""
            words = f"{before} {line[: match.start()]} {line[match.end() :]}"
            if (found := classify(url, words)) is not None:
                yield found


def in_html(html: str) -> Iterator[BookingLink]:
    """Links in an HTML body: each <a href> judged by its text (or its image's alt text).
    libxml2 reads it in time linear in its size whatever the markup; the standard library's
    html.parser takes time quadratic in the number of unclosed tags (24 KB of "<a " cost
    8 s), and a scan must not stall on one message."""
    from lxml import etree  # only for messages with an HTML body

    data = html.encode("utf-8", "replace")
    if not data.strip():
        return
    parser = etree.HTMLParser(encoding="utf-8", recover=True, no_network=True)
    try:
        root = etree.fromstring(data, parser)
    except (etree.LxmlError, ValueError):
        return
    if root is None:
        return
    for anchor in root.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href:
            continue
        alts = [img.get(k) or "" for img in anchor.iter("img") for k in ("alt", "title")]
        text = " ".join(" ".join([*anchor.itertext(), *alts]).split())
        if _URL.fullmatch(href) and (found := classify(href, text)) is not None:
            yield found


def in_calendar(properties: Iterable[tuple[str, str]]) -> Iterator[BookingLink]:
    """Links in a VEVENT's (name, value) properties: DESCRIPTION as text, URL and X- values
    judged by the property's name too ("X-CALENDLY-CANCEL-URL")."""
    for name, value in properties:
        upper = name.upper()
        if upper == "DESCRIPTION":
            yield from in_text(value)
        elif upper == "URL" or upper.startswith("X-"):
            label = upper.removeprefix("X-").replace("-", " ").lower()
            for match in _URL.finditer(value):
                url = _clean(match.group(0))
                if (found := classify(url, label)) is not None:
                    yield found


def unique(links: Iterable[BookingLink]) -> tuple[BookingLink, ...]:
    """Each URL once (its first classification), at most MAX_LINKS."""
    seen: dict[str, BookingLink] = {}
    for link in links:
        seen.setdefault(link.url, link)
    return tuple(seen.values())[:MAX_LINKS]
