"""A best guess at the hiring company's name, for templates; '' rather than a wrong guess."""

from __future__ import annotations

import re

from decliner.core.parse.model import Address, unicode_domain
from decliner.core.plan.events import EventRecord

# Domains whose label names a mail provider, a scheduler or a calendar robot, not an employer.
_NOT_EMPLOYERS = frozenset(
    {
        "gmail",
        "googlemail",
        "google",
        "outlook",
        "hotmail",
        "live",
        "msn",
        "microsoft",
        "office365",
        "yahoo",
        "ymail",
        "icloud",
        "me",
        "mac",
        "aol",
        "gmx",
        "web",
        "proton",
        "protonmail",
        "pm",
        "yandex",
        "mail",
        "zoho",
        "fastmail",
        "hey",
        "tutanota",
        "t-online",
        "greenhouse",
        "lever",
        "goodtime",
        "calendly",
        "zoom",
        "teams",
        "ashbyhq",
        "workday",
        "myworkday",
        "smartrecruiters",
        "icims",
        "gem",
        "modernloop",
        "prelude",
        "doodle",
        "example",
        "localhost",
    }
)
# Second-level labels under a country code: acme.co.uk -> acme.
_PUBLIC_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "ac", "gov", "edu", "ne", "or"})
# Words that make a summary fragment a role or an activity, not a company name.
_NOT_A_NAME = re.compile(
    r"\b(interview\w*|screen\w*|call|chat|round|onsite|on-site|loop|panel|meeting|sync|"
    r"engineer\w*|developer|manager|designer|analyst|scientist|lead|intern\w*|role|"
    r"position|senior|junior|staff|principal|team|hiring|recruit\w*|technical|coding|"
    r"take-home|check-in|follow-up|and|with|for)\b",
    re.IGNORECASE,
)
_SEPARATORS = re.compile(r"\s(?:<>|[-–—|:@x×]|w/|with|at)\s", re.IGNORECASE)


def _domain_label(address: Address | None) -> str:
    if address is None or "@" not in address.email:
        return ""
    domain = unicode_domain(address.email.rpartition("@")[2])  # `xn--...` as its name reads
    labels = [label for label in domain.split(".") if label]
    if len(labels) < 2:
        return ""
    labels.pop()  # the top-level domain
    if len(labels) > 1 and labels[-1] in _PUBLIC_SECOND_LEVEL:
        labels.pop()
    label = labels[-1]
    return "" if label in _NOT_EMPLOYERS or label.isdigit() else label


def _looks_like_name(fragment: str) -> bool:
    words = fragment.split()
    return (
        0 < len(words) <= 3
        and not _NOT_A_NAME.search(fragment)
        and all(word[0].isupper() or word[0].isdigit() for word in words)
    )


def _from_summary(summary: str) -> str:
    """'Jane Doe <> Acme – Senior Engineer' -> 'Acme'; '' when no part looks like a company."""
    if "<>" in summary:
        summary = summary.split("<>", 1)[1]
        parts = [p.strip(" ()[]") for p in _SEPARATORS.split(f" {summary} ")]
        first = next((p for p in parts if p), "")
        return first if _looks_like_name(first) else ""
    parts = [p.strip(" ()[]") for p in _SEPARATORS.split(summary)]
    names = [p for p in parts[1:] if _looks_like_name(p)]
    return names[-1] if len(names) == 1 else ""


def guess_company(event: EventRecord) -> str:
    """The employer's name from the organizer's or Reply-To's domain, else the summary.

    A domain label ('acme') takes its spelling from the summary when the summary names
    it ('ACME Corp' -> 'ACME'); robots, schedulers and webmail domains are skipped.
    """
    for address in (event.organizer, event.invite.reply_to, event.invite.from_):
        label = _domain_label(address)
        if not label:
            continue
        spelled = re.search(rf"\b{re.escape(label)}\b", event.summary, re.IGNORECASE)
        if spelled:
            return spelled.group()
        return "-".join(part.capitalize() for part in label.split("-"))
    return _from_summary(event.summary)
