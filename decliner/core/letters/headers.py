"""Header values made safe: message data can never add a header or break threading."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from email import policy
from typing import TYPE_CHECKING

from decliner.core.parse.model import Address, one_line

if TYPE_CHECKING:
    from decliner.core.plan.events import EventRecord

# RFC 5322 dot-atom local part and an LDH host name: one plain `local@domain`. An address
# in another script (RFC 6532) is checked in its shape: each visible non-ASCII character
# stands for a letter (`_shape`), so `josé@bücher.example` passes as `josa@bacher.example`.
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_ADDR_SPEC = re.compile(rf"{_LOCAL}@{_LABEL}(?:\.{_LABEL})*")
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+"
MSG_ID = re.compile(rf"<{_ATEXT}@(?:{_ATEXT}|\[[\x21-\x5a\x5e-\x7e]*\])>")
TOKEN = re.compile(rf"{_ATEXT}")
_REPLY_PREFIX = re.compile(
    r"^\s*(?:re|aw|sv|vs|antw|odp|ang|rif|res|r|回复|答复)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*",
    re.IGNORECASE,
)
# Any encoded word, so nested ones ('=?..?q?=3D=3F..?=') are decoded until none is left.
# Looser than RFC 2047 (spaces allowed inside), as the email package is when it reads a
# header back: a word it would decode must be decoded here, or it could hide a CR or LF.
_ENCODED_WORD = re.compile(r"=\?[^?]*\?[bqBQ]\?[^?]*\?=")
_MAX_DECODES = 4
_MAX_REFERENCES = 20


class RenderError(Exception):
    """A message cannot be built safely from this data (e.g. no usable address)."""


def clean_text(value: str) -> str:
    """One line of display text with RFC 2047 words decoded, so none can hide a CR or LF."""
    # Lone surrogates cannot be encoded; data read from mail never holds them, but be sure.
    text = one_line(value.encode("utf-8", "replace").decode("utf-8"))
    for _ in range(_MAX_DECODES):
        if not _ENCODED_WORD.search(text):
            return text
        try:
            decoded = str(policy.default.header_factory("x-decliner", text))
        except Exception:  # noqa: BLE001 -- the email package raises assorted errors on junk
            decoded = _ENCODED_WORD.sub(" ", text)
        text = one_line(decoded)
    return one_line(_ENCODED_WORD.sub(" ", text))


# Not a letter of an address: controls, format characters (bidi overrides), unassigned or
# private code points, separators; the joiners ZWJ and ZWNJ are letters' parts in some scripts.
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"})
_JOINERS = frozenset("\u200c\u200d")


def _shape(text: str) -> str:
    """`text` with each visible non-ASCII character as `a` and any other as a NUL."""
    return "".join(
        c
        if c.isascii()
        else "a"
        if c in _JOINERS or unicodedata.category(c) not in _INVISIBLE
        else "\0"
        for c in text
    )


def checked_address(address: Address, role: str) -> Address:
    """`address` with a clean display name, or RenderError when it is not one plain address
    (in any script: RFC 6532)."""
    email = address.email
    domain = email.rpartition("@")[2]
    if (
        not _ADDR_SPEC.fullmatch(_shape(email))
        or len(email.encode("utf-8")) > 254
        # IDNA 2008 refuses what NFKC changes: a full-width `ａcme` is a look-alike of acme.
        or unicodedata.normalize("NFKC", domain) != domain
    ):
        raise RenderError(f"{role} address {email!r} is not one plain local@domain address")
    name = clean_text(address.name)
    if normalise(name) == email or ("@" in name and _ADDR_SPEC.search(_shape(name))):
        name = ""  # a name that is (or holds) an address only invites confusion
    return Address(email, name)


def normalise(value: str) -> str:
    """A display name compared loosely to an address: no quotes, brackets or case."""
    return value.strip("\"'<> ").lower()


def message_ids(values: Iterable[str]) -> tuple[str, ...]:
    """The syntactically valid `<id@host>` message-ids, de-duplicated in order."""
    seen: dict[str, None] = {}
    for value in values:
        text = value.strip()
        if MSG_ID.fullmatch(text) and len(text) <= 250:
            seen.setdefault(text, None)
    return tuple(seen)


def trimmed_references(ids: tuple[str, ...]) -> tuple[str, ...]:
    """A long References chain cut to its root and newest ids, as mail clients do."""
    if len(ids) <= _MAX_REFERENCES:
        return ids
    return (ids[0], *ids[-(_MAX_REFERENCES - 1) :])


def reply_subject(subject: str) -> str:
    """'Re: ' and the subject with every reply prefix stripped ('RE: Aw: x' -> 'Re: x')."""
    text = clean_text(subject)
    while True:
        stripped = _REPLY_PREFIX.sub("", text, count=1)
        if stripped == text:
            break
        text = stripped
    return f"Re: {text.strip()}" if text.strip() else ""


class TemplateProblem(Exception):  # noqa: N818 -- a public name; renaming would break callers
    """A template that does not compile or render, with the file and line to fix."""

    def __init__(self, name: str, line: int | None, message: str) -> None:
        self.name = name
        self.line = line
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.name}:{self.line}" if self.line else self.name
        return f"{where}: {self.message}"


def withdrawal_subject(event: EventRecord) -> str:
    """`Re: <invite subject>`; an invitation known only from the calendar starts a thread."""
    if event.invite.from_calendar:
        return clean_text(event.summary) or "Interview"
    return reply_subject(event.invite.subject or event.summary)


def decline_subject(event: EventRecord) -> str:
    """`Declined: <summary>`, the subject calendar clients give a declining REPLY."""
    return f"Declined: {clean_text(event.summary) or 'Interview'}"
