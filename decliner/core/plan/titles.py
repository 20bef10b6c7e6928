"""What the words of an invitation's title and text are: the lexicon behind SPEC 19.

Scheduling tools and recruiters write titles for the interviewers as much as for the
candidate: "JR1234567 Accountant - Phone Interview", "Jane Doe <> Acme - Senior
Engineer", "Technical Interview between Priya Shah and Jane Doe". This module takes
such a line apart into fragments and says what each is: a role, a company, an
activity ("Phone Interview"), a person, or noise. It knows words, never sources;
`naming.py` decides which source to believe.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_WORD = r"[^\W\d_][\w'’&.-]*"

# Roles: the nouns of job titles, in the seven languages decliner writes (a prefix match:
# "engineer" covers "Engineering Manager", "entwickler" covers "Entwicklerin").
_ROLE_WORDS = re.compile(
    r"\b(engineer|developer|programmer|architect|designer|manager|director|analyst|"
    r"scientist|researcher|accountant|bookkeeper|consultant|specialist|coordinator|"
    r"administrator|lead\b|head of|officer|associate|representative|assistant|technician|"
    r"supervisor|intern\b|internship|trainee|apprentice|recruiter|nurse|teacher|writer|"
    r"editor|marketer|marketing|sales|executive|strategist|advisor|adviser|planner|"
    r"controller|auditor|economist|counsel|paralegal|attorney|lawyer|product owner|"
    r"scrum master|sre\b|devops|qa\b|tester|support|agent\b|clerk|cashier|driver|chef|"
    r"pharmacist|physician|therapist|vp\b|cto\b|cfo\b|operator|buyer|partner\b|"
    r"werkstudent|praktikant|praktikum|entwickler|ingenieur|berater|referent|"
    r"sachbearbeiter|leiter|kaufmann|kauffrau|buchhalter|fachkraft|mitarbeiter|"
    r"développeu|developpeu|ingénieu|chef de|chargé|responsable|stagiaire|alternan|"
    r"comptable|commercial|analista|desarrollador|ingenier|gerente|jefe|becari|"
    r"contable|diseñador|consultor|técnico|coordinador|especialista|administrativ|"
    r"sviluppatore|ingegnere|ontwikkelaar|medewerker|desenvolvedor|engenheir)",
    re.IGNORECASE,
)
# What happens at the meeting, rather than for which job: a fragment made of these and
# the modifiers below is an activity ("Phone Interview", "Onsite - Round 2").
_MEETING_WORDS = (
    r"interviews?|screen(ing)?|call|chat|conversation|on-?site|round|loop|panel|meeting|"
    r"session|sync|intro(duction)?|catch-?up|coffee chat|assessment|challenge|exercise|"
    r"case study|presentation|take-?home|debrief|discussion|deep dive|booking|appointment|"
    r"gespräch|vorstellungsgespräch|bewerbungsgespräch|telefoninterview|kennenlernen|"
    r"kennenlerngespräch|erstgespräch|zweitgespräch|termin|entretien|échange|appel|"
    r"rencontre|entrevista|llamada|reunión|colloquio|sollicitatiegesprek|gesprek|entrevue"
)
_MEETING = re.compile(rf"\b({_MEETING_WORDS})\b", re.IGNORECASE)
_MODIFIER_WORDS = (
    r"phone|video|virtual|technical|coding|final|first|second|third|1st|2nd|3rd|stage|step|"
    r"follow-?up|system design|behaviou?ral|culture|fit|quick|short|initial|next steps?|"
    r"minutes?|min|hours?|candidate|event|hiring manager|recruiter|hr|team|telefonisches|"
    r"erstes|zweites|persönliches|téléphonique|premier|telefónica|primera"
)
_ACTIVITY = re.compile(rf"\b({_MEETING_WORDS}|{_MODIFIER_WORDS})\b", re.IGNORECASE)
_ACTIVITY_WORD = re.compile(rf"^({_MEETING_WORDS}|{_MODIFIER_WORDS})$", re.IGNORECASE)
# Who interviews rather than which job is filled: "Hiring Manager Interview".
_INTERVIEWER = re.compile(
    r"^(hiring manager|recruiter|hr|talent( acquisition)?|people|team|founders?|ceo|cto|"
    r"peers?|panel|manager)$",
    re.IGNORECASE,
)
# Words that are never an employer's name, whatever their capitals.
_NOT_A_COMPANY = re.compile(
    r"^(confidential|client|tbd|tba|remote|hybrid|in person|zoom|google meet|meet|"
    r"microsoft teams|teams|webex|phone|invitation|updated|reminder|confirmed|canceled|"
    r"cancelled|new event|calendar|calendly|cal\.com|greenhouse|lever|ashby|goodtime|"
    r"modernloop|workday|smartrecruiters|teamtailor|personio|workable|infor|bookings|"
    r"n/?a|none|other|general|team|talent|recruiting|careers?|jobs?|hr|people|coffee|lunch|"
    r"dinner|breakfast|drinks|catch-?up|sync|hello|hi|welcome|scheduled|bevestigd|bestätigt|"
    r"confirmé|confirmado|confermato|einladung|uitnodiging|convite|invito|invitación|"
    r"product|engineering|design|sales|marketing|finance|operations|backend|frontend|"
    r"infrastructure|platform|data|security|legal|support|office|berlin office|hq|"
    r"headquarters|virtual|online|video)$",
    re.IGNORECASE,
)
# Connectors that may stand in lower case inside a company's name.
_CONNECTORS = frozenset({"&", "and", "of", "the", "und", "de", "du", "des", "la", "y", "et"})
# Requisition and job ids: JR1234567, JR-0012345, REQ-123, R12345, Req #4411, (Job ID: 12345),
# [12345], a bare number of five digits or more.
_IDS = re.compile(
    r"\(\s*(job\s*id|req(uisition)?|id)\s*[:#]?\s*[\w-]*\d[\w-]*\s*\)"
    r"|\b(jr|req|r|job|jobid|job\s+id|requisition|req\.?|id|p)[\s#:_-]*\d{3,}[\w-]*"
    r"|#\s?\d{3,}\b|\[\s*[\w-]*\d{3,}[\w-]*\s*\]|\b\d{4,}\b",
    re.IGNORECASE,
)
# "(m/w/d)", "(f/m/x)", "H/F", "(all genders)": gender notes on German and French job titles.
_GENDER = re.compile(
    r"\(?\b([mwfdxh])\s*/\s*([mwfdxh])(\s*/\s*[mwfdxh])?\b\)?|\(all genders\)|\(gn\)",
    re.IGNORECASE,
)
_WORK_MODE = re.compile(
    r"\((remote|hybrid|on-?site|full[- ]time|part[- ]time|night shift|day shift|weekends?|"
    r"temporary|contract|permanent|fixed[- ]term|befristet|unbefristet|teilzeit|vollzeit|"
    r"cdi|cdd|temps plein|temps partiel|jornada completa)[^)]*\)",
    re.IGNORECASE,
)
# What calendars and mailers put before or after a title.
_PREFIX = re.compile(
    r"^\s*((updated\s+)?invitation(\s+with\s+note)?|invitation\s+from\s+google\s+calendar|"
    r"new event|event|accepted|declined|confirmed|confirmation|canceled|cancelled|"
    r"rescheduled|updated|reminder|re|fwd?|aw|wg|tr|rv|einladung|aktualisierte einladung|"
    r"scheduled|new booking|bevestigd|uitnodiging|bestätigt|bestätigung|confirmé|"
    r"confirmado|confermato|convite|invito|erinnerung|rappel|recordatorio|"
    r"invitación( actualizada)?|invitation mise à jour|interview confirmation|"
    r"your booking has been confirmed|booking confirmed)\s*[:：]\s*",
    re.IGNORECASE,
)
# Google's " @ Thu Dec 3, 2026 10am - 11am (CET) (jane.doe@example.com)".
_GOOGLE_WHEN = re.compile(r"\s@\s(?=[^@]*\d).*$")
# cal.com and Calendly: "{event type} between {host} and {invitee}".
_BETWEEN = re.compile(r"\s+(between|zwischen|entre)\s+.+?\s+(and|und|et|y)\s+.+$", re.IGNORECASE)
_ON_DATE = re.compile(
    r"\s+(on|am|le|el)\s+((mon|tue|wed|thu|fri|sat|sun|montag|dienstag|mittwoch|donnerstag|"
    r"freitag|lundi|mardi|mercredi|jeudi|vendredi|lunes|martes|miércoles|jueves|viernes)\w*"
    r"|\d).*$",
    re.IGNORECASE,
)
_WHEN = re.compile(
    r"\d{1,2}[:.h]\d{2}|\b\d{1,2}\s?(am|pm)\b|\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}\b"
    r"|\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|january|february|march|"
    r"april|june|july|august|september|october|november|december|mon|tue|wed|thu|fri|sat|"
    r"sun|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b\.?\s*\d",
    re.IGNORECASE,
)
_SEPARATORS = re.compile(r"\s+[-–—|/•·x×]\s+|\s*<>\s*|\s*\|\s*|[:：]\s+|\s+[-–—]|[-–—]\s+")
_AT = re.compile(r"\s+(at|@|bei|chez|en|presso|bij|na)\s+", re.IGNORECASE)
_FOR = re.compile(
    r"\b(for|für|pour|para|per|voor)\s+(the\s+|die\s+|le\s+|la\s+|el\s+)?", re.IGNORECASE
)
_WITH = re.compile(r"\b(with|mit|avec|con|met)\s+", re.IGNORECASE)
_ROLE_TAIL = re.compile(
    r"\s+(role|position|opening|job|vacancy|stelle|poste|puesto|posición|vacante)\s*$",
    re.IGNORECASE,
)
_ROLE_HEAD = re.compile(r"^(the|a|an|our|die|der|le|la|el|un|une|una)\s+", re.IGNORECASE)
_BRACKETED = re.compile(r"\s*\(([^()]*)\)\s*")
_PARENTHESES = re.compile(r"\([^()]*\)")
# A word that only joins what was cut off: "Business Analyst at".
_DANGLING = re.compile(
    r"\s+(at|@|bei|chez|en|for|für|pour|para|with|mit|avec|con|and|und|of)$", re.IGNORECASE
)
_LEADING_CONNECTOR = re.compile(r"^(and|und|et|y|&|with|mit|avec|con)\s+", re.IGNORECASE)
_DEPARTMENT = re.compile(
    r"^(\w+ing|sales|support|marketing|design|product|finance|operations|legal|devops|qa)$",
    re.IGNORECASE,
)
_ARTICLE = re.compile(r"^(the|der|die|das|le|la|les|l'|el|los|las|il|lo|de|het)\s+", re.IGNORECASE)
_EMAIL = re.compile(r"\(?\b[\w.+-]+@[\w-]+(\.[\w-]+)+\b\)?")
_EMPTY_BRACKETS = re.compile(r"\(\s*[-,;]?\s*\)|\[\s*\]")
_SPACES = re.compile(r"\s+")


def squash(text: str) -> str:
    """Letters and digits only, lower-cased: how a domain label compares to a name."""
    return "".join(c for c in text.casefold() if c.isalnum())


def clean_title(title: str, people: Iterable[str]) -> str:
    """A title without what no letter should repeat: calendar prefixes, Google's date
    suffix, "between A and B", addresses, ids, gender notes and the `people` named."""
    text = _PREFIX.sub("", title)
    text = _PREFIX.sub("", text)  # "Re: Invitation: ..."
    text = _GOOGLE_WHEN.sub("", text)
    text = _BETWEEN.sub("", text)
    text = _ON_DATE.sub("", text)
    text = _EMAIL.sub(" ", text)
    text = _IDS.sub(" ", text)
    text = _GENDER.sub(" ", text)
    text = _WORK_MODE.sub(" ", text)
    text = without_people(text, people)
    text = _EMPTY_BRACKETS.sub(" ", text)
    return _SPACES.sub(" ", text).strip(" -–—|:,;/")


def without_people(text: str, people: Iterable[str]) -> str:
    """`text` with each name in `people` taken out, whole ("Jane Doe", "Doe, Jane") first,
    then word by word ("Jane")."""
    names = [p for p in people if p.strip()]
    for name in sorted(names, key=len, reverse=True):
        words = name.split()
        variants = [name]
        if len(words) > 1:
            variants.append(f"{words[-1]}, {' '.join(words[:-1])}")
        for variant in variants:
            text = re.sub(rf"(?<!\w){re.escape(variant)}(?!\w)", " ", text, flags=re.IGNORECASE)
    for word in {w for n in names for w in n.split() if len(w) > 1}:
        text = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", " ", text)
    return text


def fragments(title: str) -> list[str]:
    """A cleaned title cut at its separators (" - ", " | ", "<>", ": ", " / ")."""
    found = []
    for part in _SEPARATORS.split(f" {title} "):
        found += [part] if "(" not in part else _BRACKETED.split(part)
    return [f.strip(" []()-–—,;.'\"") for f in found if f.strip(" []()-–—,;.'\"")]


def is_person(fragment: str, people: Iterable[str]) -> bool:
    """Whether every word of `fragment` is a word of a known person's name."""
    known = {w.casefold() for p in people for w in p.replace(",", " ").split()}
    words = [w.casefold() for w in fragment.split()]
    return bool(words) and all(w in known for w in words)


def has_role_word(text: str) -> bool:
    """Whether `text` names a kind of job ("Engineer", "Werkstudent", "Analista")."""
    return bool(_ROLE_WORDS.search(text))


def is_activity(text: str) -> bool:
    """Whether `text` says anything of what happens at the meeting ("Phone", "Onsite")."""
    return bool(_ACTIVITY.search(text))


def is_meeting(text: str) -> bool:
    """Whether `text` names a meeting ("Interview", "Gespräch", "Round")."""
    return bool(_MEETING.search(text))


def role_in(fragment: str) -> str:
    """The role a title fragment names: 'Senior Engineer' from 'Senior Engineer Interview'
    (meeting words at either end are dropped); '' for "Hiring Manager Interview", a
    meeting or no job at all."""
    text = fragment
    if is_meeting(text):
        kept = text.split()
        while kept and _ACTIVITY_WORD.match(kept[-1].strip(".,:;()")):
            kept.pop()
        while kept and _ACTIVITY_WORD.match(kept[0].strip(".,:;()")):
            kept.pop(0)
        text = " ".join(kept)
    role = role_from(text)
    if not role or is_meeting(role) or _INTERVIEWER.match(role):
        return ""
    return role


def mentions_time(text: str) -> bool:
    """Whether `text` holds a date or a time of day."""
    return bool(_WHEN.search(text))


def role_from(text: str) -> str:
    """`text` as a role: gender notes, ids and "the ... position" taken off; '' unless it
    names a job in at most eight words."""
    text = _GENDER.sub(" ", _IDS.sub(" ", _WORK_MODE.sub(" ", text)))
    text = _PARENTHESES.sub(" ", text).replace("(", " ").replace(")", " ")
    text = _SPACES.sub(" ", text).strip(" -–—|:,;/.'\"")
    text = _DANGLING.sub("", _ROLE_HEAD.sub("", _ROLE_TAIL.sub("", text))).strip(" -–—,;")
    text = _LEADING_CONNECTOR.sub("", text)
    if not text or len(text.split()) > 8 or not has_role_word(text) or mentions_time(text):
        return ""
    if " " not in text and _DEPARTMENT.match(text):
        return ""  # "Engineering interview": a team, not a job
    return text


def company_from(text: str) -> str:
    """`text` as an employer's name: one to five capitalised words with no job or meeting
    word in them; '' otherwise."""
    text = _ARTICLE.sub("", _SPACES.sub(" ", text).strip(" -–—|:,;/.()'\""))
    words = text.split()
    if not words or len(words) > 5 or _NOT_A_COMPANY.match(text):
        return ""
    if has_role_word(text) or is_activity(text) or mentions_time(text) or "@" in text:
        return ""
    capitalised = all(
        w[0].isupper() or w[0].isdigit() or w.casefold() in _CONNECTORS for w in words
    )
    return text if capitalised and (words[0][0].isupper() or words[0][0].isdigit()) else ""


def split_at(fragment: str) -> tuple[str, str]:
    """'Business Analyst at Vandelay Industries' -> (role, company); ('', '') when the
    fragment is not a role at a company."""
    parts = _AT.split(fragment, maxsplit=1)
    if len(parts) < 3:
        return "", ""
    role, company = role_from(parts[0]), company_from(parts[2])
    return (role, company) if role else ("", "")


def after_for(fragment: str) -> str:
    """'Interview for Accountant' -> 'Accountant'; '' when nothing follows "for"."""
    parts = _FOR.split(fragment, maxsplit=1)
    return parts[-1] if len(parts) > 1 else ""


def after_with(fragment: str) -> str:
    """'Interview with Globex' -> 'Globex'; '' when nothing follows "with"."""
    parts = _WITH.split(fragment, maxsplit=1)
    return parts[-1] if len(parts) > 1 else ""


def words(text: str) -> list[str]:
    """The words of `text` as written, for matching a domain label against its spelling."""
    return re.findall(_WORD, text)


def without_notes(text: str) -> str:
    """`text` without gender notes, work modes and ids: "(m/w/d)", "(Remote)", "(Job ID 1)"."""
    return _SPACES.sub(" ", _GENDER.sub(" ", _WORK_MODE.sub(" ", _IDS.sub(" ", text))))
