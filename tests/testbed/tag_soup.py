"""Hypothesis strategies for HTML bodies: hrefs in every odd form (absolute, wrapped by a
redirector, not web, entity-escaped) and tag soup around them."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from hypothesis import strategies as st

# Characters that once broke link reading, now generated like any other: those whose NFKC
# form holds "/", "?", "#", "@" or ":" made urlsplit raise on a link's host, and controls
# ended up inside links (see the regression tests at the end of test_bodies_fuzz.py).
NFKC_TRAPS = "".join(
    c
    for c in map(chr, range(0x80, 0x10000))
    if set(unicodedata.normalize("NFKC", c)) & set("/?#@:")
)


CONTROLS = "".join(c for c in map(chr, range(0xA0)) if unicodedata.category(c) == "Cc")


CONTROLS = "".join(c for c in CONTROLS if not c.isspace())


SAFE_TEXT = st.text(
    st.characters(codec="utf-8") | st.sampled_from(NFKC_TRAPS + CONTROLS), max_size=40
)


HOSTS = [
    "calendly.com",
    "app.cal.com",
    "WWW.CALENDLY.COM",
    "boards.greenhouse.io",
    "app.ashbyhq.com",
    "outlook.office365.com",
    "acme.example",
    "bücher.example",
    "xn--bcher-kva.example",
    "127.0.0.1",
    "localhost",
]


PATHS = [
    "",
    "/",
    "/cancellations/AAAA-BBBB",
    "/reschedulings/AAAA",
    "/booking/abc?cancel=true",
    "/reschedule/abc",
    "/i/7/cancel",
    "/owa/calendar/x@acme.example/bookings/",
    "/help/cancel",
    "/x?changes=true",
]


URL_CHARS = st.text(
    st.sampled_from("abcXYZ019-._~%/?#&=+;:@!$'()*,ü例 \t"), max_size=30
)  # spaces and tabs too: such an href is no link at all


LINK_WORDS = [
    "Cancel",
    "Reschedule",
    "Cancel or reschedule",
    "Manage booking",
    "Termin absagen",
    "Annuler l'entretien",
    "Reagendar",
    "Gestisci la prenotazione",
    "Join the call",
    "Unsubscribe",
    "here",
    "",
]


@st.composite
def absolute_urls(draw: st.DrawFn) -> str:
    """An http(s) URL of any case, host, port, userinfo, path and junk tail."""
    scheme = draw(st.sampled_from(["http", "https", "HTTPS", "hTTp"]))
    userinfo = draw(st.sampled_from(["", "user@", "u:p@"]))
    host = draw(
        st.sampled_from(HOSTS) | st.text(st.sampled_from("abcz09-.üж例"), min_size=1, max_size=20)
    )
    port = draw(st.sampled_from(["", ":443", ":8080", ":0", ":99999", ":x"]))
    return f"{scheme}://{userinfo}{host}{port}{draw(st.sampled_from(PATHS))}{draw(URL_CHARS)}"


# Redirectors around a link (Google's /url?q=, Outlook Safe Links). Their targets are only
# absolute http(s) URLs without spaces here: any other target comes out as the link itself
# (javascript:, data:, a relative path, CR LF; test_every_link_found_is_an_absolute_http_url).
wrapped_urls = st.builds(
    lambda template, target: template.format(quote(target, safe="")),
    st.sampled_from(
        [
            "https://www.google.com/url?q={}&sa=D",
            "https://google.com/url?q={}",
            "https://eur01.safelinks.protection.outlook.com/?url={}&data=05",
        ]
    ),
    absolute_urls().filter(lambda url: not re.search(r"\s", url)),
)


NOT_WEB = [
    "javascript:alert(1)",
    "JaVaScRiPt:void(0)",
    " javascript:cancel()",
    "java\tscript:x",
    "vbscript:msgbox(1)",
    "data:text/html;base64,PGEgaHJlZj0iaHR0cHM6Ly9jYWxlbmRseS5jb20iPg==",
    "data:,https://calendly.com/cancellations/A",
    "mailto:cancel@acme.example",
    "file:///etc/passwd",
    "ftp://acme.example/cancel",
    "about:blank",
    "/cancel",
    "cancel",
    "../reschedule/1",
    "?cancel=true",
    "#cancel",
    "",
    " ",
    "https:",
    "https://",
    "http:/calendly.com/cancellations/x",
    "https:calendly.com/cancellations/x",
    "https://[::1]/cancel",
    "https://[bad/cancel",
]


NAMED = {":": "&colon;", "/": "&sol;", ".": "&period;", "?": "&quest;", "=": "&equals;"}


@st.composite
def entity_escaped(draw: st.DrawFn, url: str) -> str:
    """`url` with some characters written as character references, some without ';'."""
    out = []
    for char in url:
        style = draw(st.sampled_from(["", "", "dec", "hex", "named", "bare"]))
        if style == "dec":
            out.append(f"&#{ord(char)};")
        elif style == "hex":
            out.append(f"&#x{ord(char):X};")
        elif style == "named" and char in NAMED:
            out.append(NAMED[char])
        elif style == "bare":
            out.append(f"&#{ord(char)}")
        else:
            out.append("&amp;" if char == "&" else char)
    return "".join(out)


hrefs = st.one_of(
    absolute_urls(),
    wrapped_urls,
    st.sampled_from(NOT_WEB),
    absolute_urls().map(lambda url: "//" + url.split("://", 1)[1]),  # protocol-relative
    (absolute_urls() | st.sampled_from(NOT_WEB)).flatmap(entity_escaped),
    st.builds(
        lambda url, pad: f"{pad}{url}{pad}", absolute_urls(), st.sampled_from([" ", "\n", "\t "])
    ),
    st.sampled_from(["&#0;", "&#xD800;", "&#99999999;", "&#x110000;", "&", "&;"]),
    SAFE_TEXT,
)


def quoted(name: str, value: str, style: str) -> str:
    """` name="value"` quoted in `style`, or broken the way mailers break it."""
    forms = {
        "double": f' {name}="{value}"',
        "single": f" {name}='{value}'",
        "bare": f" {name}={value}",
        "spaced": f' {name} = "{value}"',
        "unclosed": f' {name}="{value}',
        "empty": f" {name}",
        "escaped": f' {name}="{value.replace(chr(34), "&quot;")}"',
    }
    return forms[style]


STYLES = st.sampled_from(["double", "single", "bare", "spaced", "unclosed", "empty", "escaped"])


attributes = st.lists(
    st.one_of(
        st.builds(quoted, st.sampled_from(["href", "HREF", "Href"]), hrefs, STYLES),
        st.builds(quoted, st.sampled_from(["title", "alt", "style", "class"]), SAFE_TEXT, STYLES),
        st.sampled_from([" /", " =", ' ""', " href=", " <a", " a:b=c"]),
    ),
    max_size=4,
).map("".join)


TAGS = ["a", "A", "img", "p", "div", "span", "td", "br", "b", "font", "base", "meta", "svg"]


RAW_TEXT = ["script", "style", "title", "textarea"]  # html.parser reads no tags inside these


JUNK = ["<", ">", "&", "</", "<!--", "-->", "<![CDATA[", "]]>", "<!DOCTYPE html>", "<?xml ?>"]


JUNK += ["</a>", "<a>", "<a", "<br/>", "&amp", "&#", "&#x;", "&#1;", "\r\n", "</>", "<!>"]


leaves = st.one_of(
    SAFE_TEXT,
    st.sampled_from(LINK_WORDS),
    st.sampled_from(JUNK),
    st.builds(
        lambda tag, attrs, end: f"<{tag}{attrs}{end}",
        st.sampled_from(TAGS + RAW_TEXT),
        attributes,
        st.sampled_from([">", "/>", ""]),
    ),
    st.builds(lambda tag: f"</{tag}>", st.sampled_from(TAGS + RAW_TEXT)),
    st.builds(lambda alt: f'<img src="x.png" alt="{alt}">', st.sampled_from(LINK_WORDS)),
    st.sampled_from(LINK_WORDS).map(lambda words: f"{words}: https://calendly.com/cancellations/X"),
    st.builds(  # a plain anchor, as booking tools write them
        lambda url, words: f'<a href="{url}">{words}</a>',
        absolute_urls().filter(lambda url: not re.search(r"[\s\"]", url)),
        st.sampled_from(LINK_WORDS),
    ),
)


def _children(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """An <a> (closed or not) or another element or a comment around a few children."""
    return st.one_of(
        st.builds(
            lambda attrs, kids, end: f"<a{attrs}>{''.join(kids)}{end}",
            attributes,
            st.lists(inner, max_size=4),
            st.sampled_from(["</a>", "</A>", "", "</a", "</b>"]),
        ),
        st.builds(
            lambda tag, kids: f"<{tag}>{''.join(kids)}</{tag}>",
            st.sampled_from(TAGS + RAW_TEXT),
            st.lists(inner, max_size=4),
        ),
        st.lists(inner, max_size=3).map(lambda kids: f"<!--{''.join(kids)}-->"),
    )


@st.composite
def soups(draw: st.DrawFn) -> str:
    """Tag soup; one in eight has an anchor with a huge attribute and a huge href too."""
    markup = "".join(draw(st.lists(st.recursive(leaves, _children, max_leaves=30), max_size=12)))
    if draw(st.sampled_from([False] * 7 + [True])):
        size = draw(st.sampled_from([1_000, 30_000]))
        url, words = draw(absolute_urls()), draw(st.sampled_from(LINK_WORDS))
        huge = f'<a title="{"x" * size}" href="{url}/{"a" * size}" alt=x>{words}</a>'
        cut = draw(st.integers(0, len(markup)))
        markup = markup[:cut] + huge + markup[cut:]
    return markup


soup = soups()
