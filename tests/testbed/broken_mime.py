"""Hypothesis strategies for broken mail: bodies in any transfer encoding and charset, header
lines as spammers write them, and MIME messages with missing, doubled or wrong boundaries."""

from __future__ import annotations

import base64
import binascii
import codecs
from urllib.parse import quote

from hypothesis import strategies as st

from tests.testbed.fuzz import CALENDAR, mutated
from tests.testbed.tag_soup import soup

CHARSETS = [
    "",
    "utf-8",
    "UTF-8",
    '"utf-8"',
    "us-ascii",
    "iso-8859-1",
    "windows-1252",
    "utf-16",
    "utf-16-le",
    "utf-7",
    "shift_jis",
    "koi8-r",
    "gb2312",
    "big5",
    "x-unknown",
    "unicode-1-1-utf-7",
    "ünicode",
    "utf-8; format=flowed",
    "cp65001",
    "idna",
    "punycode",
    "unicode_escape",
    "raw_unicode_escape",
    "undefined",
]


TRANSFER_ENCODINGS = ["", "7bit", "8bit", "binary", "base64", "BASE64", " quoted-printable "]


TRANSFER_ENCODINGS += ["x-uuencode", "gzip", "garbage", "base64 base64"]


def known_bad_charset(name: str) -> bool:
    """decode_part and decode_body raise on a charset with a NUL or naming a codec that is no
    text encoding ("base64", "rot13"): test_non_text_charsets_never_raise, an open bug."""
    name = name.strip().strip('"').lower()
    try:
        codecs.lookup(name)
    except LookupError:
        return False
    except ValueError:
        return True
    try:
        b"".decode(name)
    except LookupError:
        return True
    return False


charsets = (st.sampled_from(CHARSETS) | st.text(max_size=20)).filter(
    lambda name: not known_bad_charset(name)
)


def encode_as(text: str, charset: str) -> bytes:
    """`text` in `charset` where Python knows it (with replacements), else UTF-8."""
    try:
        return text.encode(charset.strip().strip('"') or "utf-8", "replace")
    except (LookupError, UnicodeError, ValueError):
        return text.encode("utf-8", "surrogatepass")


@st.composite
def transfer_encoded(draw: st.DrawFn) -> tuple[bytes, str, str]:
    """(body, transfer encoding, charset): soup or bytes, encoded rightly or wrongly."""
    charset = draw(charsets)
    cte = draw(st.sampled_from(TRANSFER_ENCODINGS))
    body = draw(
        soup.map(lambda markup: encode_as(markup, charset))
        | st.binary(max_size=2000)
        | st.just(CALENDAR.encode())
    )
    how = draw(st.sampled_from(["as declared", "raw", "base64 junk", "truncated"]))
    if how == "as declared" and "base64" in cte.lower():
        body = base64.encodebytes(body)
    elif how == "as declared" and "quoted" in cte:
        body = binascii.b2a_qp(body)
    elif how == "base64 junk":
        body = b"!!" + base64.b64encode(body)[1:] + b"=?"
    elif how == "truncated":
        body = body[: len(body) // 2]
    return body, cte, charset


HEADER_VALUES = st.one_of(
    st.binary(max_size=60),  # NUL, 8-bit and CR/LF bytes as they come
    st.sampled_from(
        [
            b"=?utf-8?b?SW50ZXJ2aWV3?=",
            b"=?x-unknown?q?abc?=",
            b"=?utf-8?b?!!!?=",
            b"=?utf-8?q?=FF=FE?=",
            b"Sam \xc3\xa9 <sam@acme.example>",
            b"<a@b> <c@d>",
            b"\x00\x00",
            b"x" * 3000,
        ]
    ),
)


HEADER_NAMES = [b"From", b"Reply-To", b"Subject", b"Message-ID", b"Date", b"References"]


HEADER_NAMES += [b"In-Reply-To", b"List-Id", b"Precedence", b"X-\xff\x00", b"Content-Type"]


@st.composite
def header_lines(draw: st.DrawFn) -> bytes:
    """A header line as mailers and spammers write them: 8-bit, NUL, no colon, folded."""
    name = draw(st.sampled_from(HEADER_NAMES))
    value = draw(HEADER_VALUES)
    form = draw(st.sampled_from(["plain", "folded", "no colon", "continuation"]))
    if form == "folded":
        return name + b": " + value[:10] + b"\r\n\t" + value[10:]
    if form == "no colon":
        return name + b" " + value
    if form == "continuation":
        return b" " + value
    return name + b": " + value


PART_TYPES = [
    "text/plain",
    "text/html",
    "text/calendar; method=REQUEST",
    "text/calendar",
    'application/ics; name="invite.ics"',
    "application/octet-stream",
    "message/rfc822",
    "multipart/alternative",
    "image/png",
    "text",
    "",
    "text/calendar; charset=base64",
    "text/html; charset=rot13",
    'text/calendar; charset="utf-8',
]


DISPOSITIONS = [
    "",
    'attachment; filename="invite.ics"',
    "attachment; filename*=utf-8''invite%2Eics",
    'attachment; filename="=?utf-8?q?invite=2Eics?="',
    "attachment; filename*0*=x-unknown''%FF; filename*1=.ics",
    "inline",
]


CALENDAR_HEADS = [
    "Content-Type: text/calendar; method=REQUEST; charset=utf-8",
    "Content-Type: text/calendar",
    'Content-Type: application/ics; name="invite.ics"\r\nContent-Disposition: attachment',
    "Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=invite.ics",
]


@st.composite
def parts(draw: st.DrawFn) -> bytes:
    """One MIME part: a calendar, an HTML or text body, or anything under any type, transfer
    encoding, charset and disposition, encoded rightly or wrongly."""
    role = draw(st.sampled_from(["calendar", "calendar", "html", "html", "plain", "any"]))
    cte = draw(st.sampled_from(["", "8bit", "base64", "quoted-printable", *TRANSFER_ENCODINGS]))
    if role == "calendar":
        head, body = draw(st.sampled_from(CALENDAR_HEADS)), CALENDAR.encode()
    elif role in {"html", "plain"}:
        charset = draw(st.sampled_from(["utf-8", "utf-8", "x-unknown", "utf-16", "base64"]))
        head = f"Content-Type: text/{role}; charset={charset}"
        body = draw(soup).encode()
    else:
        ctype = draw(st.sampled_from(PART_TYPES))
        charset = draw(st.sampled_from(["", "; charset=utf-8", "; charset=x-unknown"]))
        disposition = draw(st.sampled_from(DISPOSITIONS))
        head = f"Content-Type: {ctype}{charset}" if ctype or draw(st.booleans()) else ""
        head += f"\r\nContent-Disposition: {disposition}" if disposition else ""
        body = draw(st.just(CALENDAR.encode()) | soup.map(str.encode) | st.binary(max_size=300))
    if "base64" in cte.lower() and draw(st.booleans()):
        body = base64.encodebytes(body)
    elif "quoted" in cte and draw(st.booleans()):
        body = binascii.b2a_qp(body)
    head += f"\r\nContent-Transfer-Encoding: {cte}" if cte else ""
    return head.strip().encode() + b"\r\n\r\n" + body


@st.composite
def mime_messages(draw: st.DrawFn) -> bytes:
    """A message of a few parts with boundaries missing, duplicated, nested or wrong, header
    lines with NUL and 8-bit bytes, mixed line ends, then a few byte-level mutations."""
    boundary = draw(
        st.sampled_from(["b1", "b1", "=_Part_0.1", "", " spaced ", "a" * 90, "--", "b\x001"])
    )
    param = draw(
        st.sampled_from(
            [
                f'; boundary="{boundary}"',
                f'; boundary="{boundary}"',
                f"; boundary={boundary}",
                "",
                f'; boundary="{boundary}"; boundary="other"',
                f"; boundary*=utf-8''{quote(boundary)}",
            ]
        )
    )
    top = draw(st.sampled_from(["multipart/mixed", "multipart/alternative", "multipart/related"]))
    head = [
        b"From: Sam <sam@acme.example>",
        b"Subject: Interview",
        b"MIME-Version: 1.0",
        *draw(st.lists(header_lines(), max_size=6)),
    ]
    # After a line without a colon the rest is body: the Content-Type goes anywhere.
    head.insert(
        draw(st.integers(0, len(head))),
        f"Content-Type: {top}{param}".encode("utf-8", "surrogateescape"),
    )
    body: list[bytes] = [draw(st.sampled_from([b"", b"preamble", b"--" + boundary.encode()]))]
    for part in draw(st.lists(parts(), min_size=1, max_size=4)):
        marker = draw(st.sampled_from(["right"] * 4 + ["missing", "twice", "other"]))
        line = {
            "right": [b"--" + boundary.encode()],
            "missing": [],
            "twice": [b"--" + boundary.encode()] * 2,
            "other": [b"--not-the-boundary"],
        }[marker]
        body += [*line, part]
    body += draw(
        st.sampled_from([[f"--{boundary}--".encode()], [], [f"--{boundary}--".encode()] * 2])
    )
    eol = draw(st.sampled_from([b"\r\n", b"\n", b"\r"]))
    raw = eol.join(head) + eol + eol + eol.join(body) + eol
    return draw(mutated(raw)) if draw(st.sampled_from([True, False, False])) else raw
