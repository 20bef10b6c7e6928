"""Whether an event looks like a job interview: hiring words in several languages, or a
recruiting tool's domain. Kept apart from the parser so deciding needs no icalendar."""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["NOT_AN_INTERVIEW", "RECRUITING_DOMAINS", "looks_like_interview"]

_INTERVIEW = re.compile(
    r"interview|\bscreen|on-?site|\bhiring|recruit|\btechnical\b|\bloop\b|chat with|call with"
    r"|coffee chat|meet the team|take-home|\bcoding|assessment|\bpanel\b|\btalent\b"
    r"|vorstellungsgespr|bewerbungsgespr|kennenlerngespr|entretien|entrevista|colloquio"
    r"|sollicitatiegesprek|rozmowa kwalifikacyjna|面接|面试"
    # what scheduling tools write in their confirmations (SPEC 15)
    r"|\bcandidate\b|bewerbung|candidature|candidatura|sollicitatie|entrevue"
    r"|kennismakingsgesprek|sondeo telef|telefoongesprek met",
    re.IGNORECASE,
)

# Events for many people that mention hiring: never a static invitation to one candidate.
NOT_AN_INTERVIEW = re.compile(
    r"webinar|newsletter|info(rmation)? session|career(s)? (fair|night|day)|meetup|open house"
    r"|workshop|conference|karrieretag|jobmesse|salon|séminaire|seminario|journée portes",
    re.IGNORECASE,
)

RECRUITING_DOMAINS = (
    "greenhouse.io",
    "greenhouse-mail.io",
    "lever.co",
    "hire.lever.co",
    "goodtime.io",
    "ashbyhq.com",
    "smartrecruiters.com",
    "workablemail.com",
    "workable.com",
    "myworkday.com",
    "icims.com",
    "jobvite.com",
    "recruitee.com",
    "teamtailor.com",
    "personio.de",
    "bamboohr.com",
    "paradox.ai",
    "modernloop.io",
    "prelude.co",
    "gem.com",
    "hirevue.com",
    "codility.com",
    "hackerrank.com",
    "coderpad.io",
    "karat.io",
)


def looks_like_interview(summary: str, description: str = "", senders: Iterable[str] = ()) -> bool:
    """A guess whether an event is a job interview: hiring words in several languages in
    its title or description, or an organizer/sender at a recruiting tool's domain."""
    if _INTERVIEW.search(f"{summary}\n{description}"):
        return True
    domains = (address.rpartition("@")[2].lower() for address in senders)
    return any(d == r or d.endswith("." + r) for d in domains for r in RECRUITING_DOMAINS)
