"""What the interview is for (SPEC 19): the role and the employer, and where each was found.

One rule, here and nowhere else. Given values (`[[cancel]]`, `flag --role/--company`)
win; else the invitation is read in this order: the mail's subject, the event's
SUMMARY, its DESCRIPTION, the mail's text body (sentences such as "your interview for
the Data Analyst position at Tailspin Toys" in any of them, then the parts of the
subject and SUMMARY cut at their separators), then the organizer's and the sender's
names once "Candidate Calendar", "Recruiting" and the like are taken off, then the
domain of the organizer or of the recipient unless it is a mail provider, a scheduling
tool or an applicant-tracking system. An empty string rather than a wrong guess: an
agency recruiter's own domain is not the employer, a person's name is not a company.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, replace

from decliner.core.parse.interview import RECRUITING_DOMAINS
from decliner.core.parse.model import Address, unicode_domain
from decliner.core.plan import titles
from decliner.core.plan.events import EventRecord
from decliner.core.plan.recipient import ROBOT_DOMAINS, is_robot, resolve


@dataclass(frozen=True, slots=True)
class Found:
    """The role and the employer the letters name ('' when unknown), and where each came
    from: "flag", "[[cancel]]", "subject", "summary", "description", "body",
    "organizer name", "sender name", "organizer domain" or "recipient domain"."""

    role: str = ""
    role_from: str = ""
    company: str = ""
    company_from: str = ""


NOTHING = Found()  # nothing known, nothing given

# Domain labels that name a mail provider, a scheduling or meeting tool, an applicant-
# tracking system or a recruiting agency: never the employer.
NOT_EMPLOYERS = frozenset(
    {
        # mail providers
        "gmail", "googlemail", "google", "outlook", "hotmail", "live", "msn", "microsoft",
        "office365", "onmicrosoft", "yahoo", "ymail", "icloud", "me", "mac", "aol", "gmx",
        "web", "proton", "protonmail", "pm", "yandex", "mail", "zoho", "fastmail", "hey",
        "tutanota", "t-online", "posteo", "mailbox", "orange", "free", "laposte", "libero",
        # scheduling and meeting tools
        "calendly", "cal", "zoom", "teams", "doodle", "youcanbook", "acuityscheduling",
        "savvycal", "hubspot", "chilipiper", "webex", "whereby",
        # applicant-tracking and interview tools
        "greenhouse", "greenhouse-mail", "lever", "goodtime", "ashbyhq", "ashby", "workday",
        "myworkday", "myworkdayjobs", "smartrecruiters", "icims", "gem", "modernloop",
        "prelude", "jobvite", "recruitee", "teamtailor", "personio", "workable",
        "workablemail", "bamboohr", "paradox", "hirevue", "codility", "hackerrank",
        "coderpad", "karat", "infor", "successfactors", "taleo", "breezy", "jazzhr",
        "pinpoint", "comeet", "softgarden", "rexx", "join", "welcometothejungle", "indeed",
        "linkedin", "stepstone", "xing", "glassdoor",
        # recruiting agencies: their own name is not the employer's
        "hays", "randstad", "adecco", "michaelpage", "pagegroup", "roberthalf", "kornferry",
        "manpower", "manpowergroup", "kellyservices", "aerotek", "teksystems",
        "insightglobal", "harveynash", "spencerstuart", "heidrick", "egonzehnder", "modis",
        "akkodis", "allegisgroup",
        # documentation domains
        "example", "localhost",
    }
)  # fmt: skip
# Second-level labels under a country code: acme.co.uk -> acme.
_PUBLIC_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "ac", "gov", "edu", "ne", "or"})
# Words a team mailbox or shared calendar adds to the employer's name.
_TEAM_WORDS = re.compile(
    r"\(google calendar\)|\b(candidate|interview|interviews|interviewing|recruiting|"
    r"recruitment|talent acquisition|talent|hiring team|hiring|careers?|jobs|hr|"
    r"people( team| ops)?|team|calendar|scheduling|scheduler|bookings?|no-?reply|"
    r"notifications?|robot|bot|karriere|recrutement|reclutamiento|personal|"
    r"via \w+)\b",
    re.IGNORECASE,
)
_FROM_COMPANY = re.compile(r"^.+?\s+(?:at|from|@|bei|chez)\s+(.+)$|^.+?\((.+)\)$", re.IGNORECASE)
# A recruiter writing for a client they do not name.
_AGENCY = re.compile(
    r"\b(my|our|a) client\b|\bconfidential (client|company|employer)\b|\bclient company\b"
    r"|\bunser(em|en)? (kunden|mandanten)\b|\bnotre client\b|\bnuestro cliente\b",
    re.IGNORECASE,
)
# Sentences that name the job, and what follows them (cut at the sentence's end).
_ROLE_PHRASE = re.compile(
    r"\b(?:(?:interview(?:ing)?|on-?site|screen(?:ing)?|call|chat|loop|conversation)\s+for|application\s+(?:for|to)|applied\s+(?:for|to)|"
    r"applying\s+for|candidacy\s+for|opening\s+for|interest\s+in|"
    r"for(?=\s+(?:the|our|a|an)\s+[^\n.!?;]{2,80}?\s(?:role|position|opening|vacancy)\b)|"
    r"(?:position|role|job\s+title|job|title)\s*(?:of|as|:)|"
    r"bewerbung\s+(?:als|für|auf)|(?:position|stelle)\s*(?:als|:)|gespräch\s+für|"
    r"(?:poste|candidature)\s*(?:de|d['’]|:|pour|au\s+poste\s+de)|entretien\s+pour|"
    r"(?:puesto|vacante)\s*(?:de|:)|(?:candidatura|entrevista)\s+(?:para|al\s+puesto\s+de))"
    r"\s*(?P<tail>[^\n.!?;]{3,120})",
    re.IGNORECASE,
)
_COMPANY_PHRASE = re.compile(
    r"\b(?:company|employer|unternehmen|arbeitgeber|entreprise|empresa)\s*:\s*(?P<tail>[^\n]+)"
    r"|\b(?:interest\s+in\s+joining|applying\s+to|applied\s+to|application\s+to|"
    r"(?:the\s+)?team\s+at|working\s+at)\s+(?P<tail2>[^\n.!?;()]+)",
    re.IGNORECASE,
)
_TAIL_END = re.compile(
    r"\s+(?:on|am|le|el|this|next|with|via|and|und|et|y|to|we|i|you)\s.*$|\s+[-–—,]\s.*$|,.*$",
    re.IGNORECASE,
)
_NAMED_POSITION = re.compile(
    r"^(?P<role>.+?)\s+(?:role|position|opening|job|vacancy|stelle|poste|puesto)\b(?P<rest>.*)$",
    re.IGNORECASE,
)
_AT_COMPANY = re.compile(r"^\s+(?:at|@|bei|chez|en|with)\s+(.+)$", re.IGNORECASE)
_POSITION_HEAD = re.compile(
    r"^(?:the\s+|our\s+|a\s+|an\s+)?(?:(?:position|role|poste|puesto)\s+(?:of|as|de|d['’])\s*)?",
    re.IGNORECASE,
)


def name_interview(
    event: EventRecord, *, me_name: str = "", me: Collection[str] = (), given: Found = NOTHING
) -> Found:
    """The role and employer of `event`: `given`'s where it has them, else found in the
    invitation (see the module docstring); `me_name` and `me` (the user's name and
    addresses) are never taken for either."""
    people = _people(event, me_name)
    texts = _texts(event)
    role, role_from = given.role, given.role_from
    if not role:
        role, role_from = next(_roles(texts, people), ("", ""))
    company, company_from = given.company, given.company_from
    if not company:
        company, company_from = _company(event, texts, people, me)
    return Found(role, role_from if role else "", company, company_from if company else "")


def with_given(found: Found, *, role: str = "", company: str = "", source: str = "") -> Found:
    """`found` with the values the user gave (from `source`) over it."""
    if role:
        found = replace(found, role=role, role_from=source)
    if company:
        found = replace(found, company=company, company_from=source)
    return found


def _people(event: EventRecord, me_name: str) -> list[str]:
    """Every name the invitation gives a person: the user's, the organizer's, the sender's,
    the attendees'; none of them is a role or an employer."""
    addresses = (event.attendee, event.organizer, event.invite.from_, event.invite.reply_to)
    everyone = (*addresses, *event.other_attendees)
    names = [me_name, *(a.name for a in everyone if a is not None and not _is_tool(a))]
    people = []
    for name in names:
        bare = titles.squash(name)
        if bare and not _TEAM_WORDS.search(name) and "@" not in name:
            people.append(name)
    for address in everyone:
        # "Jane <> Sam": a first name is often all a title says, the address's local part
        # ("sam@", "jane.doe@") says whose it is.
        local = address.email.partition("@")[0] if address is not None else ""
        if local and not _is_tool(address) and not _TEAM_WORDS.search(local):
            people.append(re.sub(r"[._+-]+", " ", local))
    return people


def _texts(event: EventRecord) -> list[tuple[str, str]]:
    return [
        ("subject", event.invite.subject),
        ("summary", event.summary),
        ("description", event.description),
        ("body", event.body_text),
    ]


def _roles(texts: list[tuple[str, str]], people: list[str]) -> Iterator[tuple[str, str]]:
    for source, text in texts:
        for role, _company in _phrases(text, people):
            if role:
                yield role, source
        if source in {"subject", "summary"}:
            for role, _company in _title_parts(text, people):
                if role:
                    yield role, source


def _companies(texts: list[tuple[str, str]], people: list[str]) -> Iterator[tuple[str, str]]:
    for source, text in texts:
        for _role, company in _phrases(text, people):
            if company and not titles.is_person(company, people):
                yield company, source
        for match in _COMPANY_PHRASE.finditer(text):
            company = _leading_name(match.group("tail") or match.group("tail2") or "")
            if company and not titles.is_person(company, people):
                yield company, source
        if source in {"subject", "summary"}:
            for _role, company in _title_parts(text, people):
                if company and not titles.is_person(company, people):
                    yield company, source


def _phrases(text: str, people: list[str]) -> Iterator[tuple[str, str]]:
    """(role, company) from sentences such as "your application for the Data Analyst
    position at Tailspin Toys" ('' for what a sentence does not say)."""
    for match in _ROLE_PHRASE.finditer(titles.without_people(text, people)):
        tail = titles.without_notes(match.group("tail"))
        tail = _TAIL_END.sub("", tail).strip()
        tail = _POSITION_HEAD.sub("", tail)
        if named := _NAMED_POSITION.match(tail):
            # "the Senior Backend Engineer role has four sessions", "... position at Acme"
            at = _AT_COMPANY.match(named.group("rest"))
            role = titles.role_in(named.group("role"))
            company = _leading_name(at.group(1)) if at and role else ""
        else:
            role, company = titles.split_at(tail)
        if not role:
            role = titles.role_in(tail)
            company = "" if role else _leading_name(tail)
        yield role, company


def _title_parts(title: str, people: list[str]) -> Iterator[tuple[str, str]]:
    """(role, company) from each fragment of a title cut at its separators."""
    for fragment in titles.fragments(titles.clean_title(title, people)):
        if titles.mentions_time(fragment) or titles.is_person(fragment, people):
            continue
        role, company = titles.split_at(fragment)
        if role:
            yield role, company
            continue
        wanted = titles.after_for(fragment)
        if wanted and titles.is_meeting(fragment.split(wanted)[0]):
            yield titles.role_in(wanted), ""
            continue
        host = titles.after_with(fragment)
        if host and titles.is_meeting(fragment.split(host)[0]):
            yield "", "" if titles.is_person(host, people) else titles.company_from(host)
            continue
        yield titles.role_in(fragment), titles.company_from(fragment)


def _leading_name(text: str) -> str:
    """The capitalised words `text` starts with, as a company's name ('' when none)."""
    kept: list[str] = []
    for word in text.strip().split():
        bare = word.strip(".,:;!?'\"()")
        if not bare or not (bare[0].isupper() or bare[0].isdigit() or (kept and bare == "&")):
            break
        kept.append(bare)
        if word != bare:
            break
    return titles.company_from(" ".join(kept))


def _company(
    event: EventRecord, texts: list[tuple[str, str]], people: list[str], me: Collection[str]
) -> tuple[str, str]:
    labels = [] if _for_a_client(texts) else _domain_labels(event, me)
    found = list(_companies(texts, people))
    for company, source in found:
        if any(_same_name(company, label) for label, _ in labels):
            return company, source
    if found:
        return found[0]
    if not _for_a_client(texts):
        named = _from_names(event, people)
        if named[0]:
            return named
    spelled_in = " ".join(text for _, text in texts)
    for label, source in labels:
        return _spelled(label, spelled_in), source
    return "", ""


def _for_a_client(texts: list[tuple[str, str]]) -> bool:
    return any(_AGENCY.search(text) for _, text in texts)


def _from_names(event: EventRecord, people: list[str]) -> tuple[str, str]:
    """The employer a team mailbox's or calendar's name holds: "Initrode Candidate
    Calendar", "Contoso Recruiting", "Sam Lee at Acme"."""
    sources = [("organizer name", event.organizer)]
    sources += [("sender name", a) for a in (event.invite.reply_to, event.invite.from_)]
    for source, address in sources:
        name = address.name if address else ""
        if not name:
            continue
        match = _FROM_COMPANY.match(name)
        if match and (company := titles.company_from(match.group(1) or match.group(2) or "")):
            return company, source
        stripped = re.sub(r"\s+", " ", _TEAM_WORDS.sub(" ", name)).strip(" -–—|:,()")
        if stripped != name.strip() and not titles.is_person(stripped, people):
            company = titles.company_from(stripped)
            if company and company.casefold() not in NOT_EMPLOYERS:
                return company, source
    return "", ""


def _domain_labels(event: EventRecord, me: Collection[str]) -> list[tuple[str, str]]:
    """The employer-like labels of the organizer's and the recipient's domains."""
    mine = {_label(m) for m in me}
    recipient = resolve(event, me)
    found: list[tuple[str, str]] = []
    for address, source in ((event.organizer, "organizer domain"), (recipient, "recipient domain")):
        label = _label(address.email) if address else ""
        if label and label not in mine and not _is_tool(address) and label not in dict(found):
            found.append((label, source))
    return found


def _is_tool(address: Address | None) -> bool:
    if address is None:
        return True
    domain = address.email.rpartition("@")[2]
    tools = (*RECRUITING_DOMAINS, *ROBOT_DOMAINS)
    in_tool = any(domain == d or domain.endswith("." + d) for d in tools)
    return in_tool or is_robot(address.email, address.name)


def _label(email: str) -> str:
    """'acme' for sam@mail.acme.co.uk; '' for a provider's, a tool's or no domain."""
    domain = unicode_domain(email.rpartition("@")[2])  # `xn--...` as its name reads
    labels = [label for label in domain.lower().split(".") if label]
    if "@" not in email or len(labels) < 2:
        return ""
    labels.pop()
    if len(labels) > 1 and labels[-1] in _PUBLIC_SECOND_LEVEL:
        labels.pop()
    label = labels[-1]
    return "" if label in NOT_EMPLOYERS or label.isdigit() else label


def _same_name(company: str, label: str) -> bool:
    a, b = titles.squash(company), titles.squash(label)
    return bool(a and b) and (a.startswith(b) or b.startswith(a))


def _spelled(label: str, text: str) -> str:
    """The label as the invitation writes it ('tailspintoys' -> 'Tailspin Toys'), else
    capitalised ('acme-labs' -> 'Acme-Labs')."""
    words = titles.words(text)
    target = titles.squash(label)
    for start in range(len(words)):
        for end in range(start + 1, min(start + 4, len(words)) + 1):
            candidate = " ".join(words[start:end])
            if titles.squash(candidate) == target and candidate[0].isupper():
                return candidate.strip(".")
    return "-".join(part.capitalize() for part in label.split("-"))
