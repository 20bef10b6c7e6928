"""Jinja2 templates for the two messages: sandboxed, strict, pure; the caller reads files.

A template's first lines may be `Subject:` and `Cc:` headers, then a blank line,
then the body. Headers are split from the *source* before rendering, so no value
(a summary, a reason) can ever turn into a header. Values from messages are only
passed as variables, never compiled.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import getaddresses
from functools import cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, UndefinedError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from decliner.core.letters.headers import RenderError, TemplateProblem, checked_address, clean_text
from decliner.core.letters.wording import (
    first_name,
    format_date,
    format_datetime,
    format_time,
    join_list,
    person_name,
    sentence,
    tidy,
    wrap,
)
from decliner.core.parse.model import Address
from decliner.core.plan.actions import LetterKind
from decliner.core.plan.events import EventRecord, Invite
from decliner.core.plan.naming import Found, name_interview

__all__ = ["TemplateProblem"]  # defined with RenderError, re-exported where it is raised

BUILTIN: Mapping[LetterKind, str] = {
    "withdrawal": "withdrawal.txt.j2",
    "followup": "followup.txt.j2",
    "decline": "decline.txt.j2",
}
# One template per language and kind, written in that language: templates/<lang>/<file>.

_HEADER = re.compile(r"^(subject|cc)[ \t]*:[ \t]*(.*?)[ \t]*$", re.IGNORECASE)
_OTHER_HEADER = re.compile(r"^[A-Za-z][A-Za-z0-9-]*[ \t]*:")


@dataclass(frozen=True, slots=True)
class Filled:
    """A rendered template: its Subject ('' = the default), extra Cc, and wrapped body."""

    subject: str
    cc: tuple[Address, ...]
    body: str


@cache
def builtin_template(kind: LetterKind, language: str = "en") -> tuple[str, str]:
    """The built-in template for `kind` in `language` as (text, file name), from the package."""
    name = f"{language}/{BUILTIN[kind]}"
    folder = resources.files("decliner").joinpath("templates", language)
    return folder.joinpath(BUILTIN[kind]).read_text(encoding="utf-8"), name


def _first_name(value: object) -> str:
    if isinstance(value, Mapping):
        value = value.get("name", "")
    return first_name(value)


def _person_name(value: object) -> str:
    if isinstance(value, Mapping):
        value = value.get("name", "")
    return person_name(value)


def environment(zone: ZoneInfo, language: str = "en") -> ImmutableSandboxedEnvironment:
    """A sandbox with StrictUndefined and date filters bound to the account's zone and the
    letter's language."""
    env = ImmutableSandboxedEnvironment(
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    filters: dict[str, Callable[..., str]] = {
        "date": lambda value: format_date(value, zone, language),
        "time": lambda value: format_time(value, zone, language),
        "datetime": lambda value: format_datetime(value, zone, language),
        "sentence": lambda value: sentence(value, language),
        "join_list": lambda value: join_list(value, language),
        "first_name": _first_name,
        "person_name": _person_name,
    }
    env.filters.update(filters)
    return env


def _line_of(exc: BaseException, name: str) -> int | None:
    """The template line an exception was raised at, from Jinja's rewritten traceback."""
    line = getattr(exc, "lineno", None)
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename == name:
            line = lineno
    return line if isinstance(line, int) else None


def _compile(env: ImmutableSandboxedEnvironment, source: str, name: str) -> Template:
    try:
        code = env.compile(source, name=name, filename=name)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(name, exc.lineno, f"syntax error: {exc.message}") from None
    return env.template_class.from_code(env, code, env.make_globals(None))


def _render(env: ImmutableSandboxedEnvironment, source: str, name: str, context: Any) -> str:
    template = _compile(env, source, name)
    try:
        return template.render(context)
    except SecurityError as exc:
        raise TemplateProblem(name, _line_of(exc, name), f"not allowed: {exc}") from None
    except UndefinedError as exc:
        raise TemplateProblem(name, _line_of(exc, name), f"undefined: {exc.message}") from None
    except Exception as exc:  # noqa: BLE001 -- anything a template does wrong is the template's problem
        message = f"{type(exc).__name__}: {exc}"
        raise TemplateProblem(name, _line_of(exc, name), message) from None


def _split(text: str, name: str) -> tuple[list[tuple[str, str, int]], str]:
    """The (field, value source, line) headers and the body source padded to its lines."""
    lines = text.replace("\r\n", "\n").split("\n")
    headers: list[tuple[str, str, int]] = []
    index = 0
    while index < len(lines) and (match := _HEADER.match(lines[index])):
        field = match.group(1).lower()
        if any(seen == field for seen, _, _ in headers):
            raise TemplateProblem(name, index + 1, f"a second {match.group(1)}: header")
        headers.append((field, match.group(2), index + 1))
        index += 1
    if headers and index < len(lines):
        if not lines[index].strip():
            index += 1
        elif _OTHER_HEADER.match(lines[index]):
            message = "only Subject: and Cc: headers may open a template"
            raise TemplateProblem(name, index + 1, message)
    # Padding keeps Jinja's line numbers equal to the file's.
    return headers, "\n" * index + "\n".join(lines[index:])


def _cc(value: str, name: str, line: int) -> tuple[Address, ...]:
    found: list[Address] = []
    for display, addr in getaddresses([value]):
        if not addr and not display:
            continue
        try:
            found.append(checked_address(Address(addr, display), "Cc"))
        except RenderError as exc:
            raise TemplateProblem(name, line, str(exc)) from None
    return tuple(found)


def fill(
    template: tuple[str, str], context: Mapping[str, Any], zone: ZoneInfo, language: str = "en"
) -> Filled:
    """Render (text, file name) with `context`: headers split off, body tidied and wrapped;
    date filters in `language`."""
    text, name = template
    env = environment(zone, language)
    headers, body_source = _split(text, name)
    subject = ""
    cc: tuple[Address, ...] = ()
    for field, source, line in headers:
        value = clean_text(_render(env, "\n" * (line - 1) + source, name, context))
        if field == "subject":
            subject = value
        else:
            cc = _cc(value, name, line)
    body = wrap(tidy(_render(env, body_source, name, context)))
    if not body.strip():
        raise TemplateProblem(name, None, "the body is empty")
    return Filled(subject=subject, cc=cc, body=body)


def _person(address: Address | None) -> dict[str, str]:
    if address is None:
        return {"name": "", "email": ""}
    return {"name": clean_text(address.name), "email": address.email}


def _event(event: EventRecord) -> dict[str, Any]:
    return {
        "summary": clean_text(event.summary),
        "start": event.start,
        "end": event.end,
        "all_day": event.all_day,
        "location": clean_text(event.location),
        "uid": event.uid,
        "organizer": _person(event.organizer),
    }


def context(
    *,
    event: EventRecord,
    me: Address,
    recipient: Address,
    reason: str,
    offer_help: bool,
    keep_in_touch: bool,
    short_notice: bool,
    now: datetime,
    declined: bool = False,
    language: str = "en",
    named: Found | None = None,
    scope: str = "process",
    interviews: Sequence[EventRecord] = (),
) -> dict[str, Any]:
    """The variables SPEC "Templates" lists for a withdrawal (a follow-up adds two);
    `named` is what the plan found the role and company to be (SPEC 19), else they are
    found here; `interviews` every one the letter withdraws from (() = `event` alone)."""
    seconds = (event.start - now).total_seconds()
    if named is None:
        named = name_interview(event, me_name=me.name, me=(me.email,))
    return {
        "me": _person(me),
        "recipient": _person(recipient),
        "event": _event(event),
        "company": clean_text(named.company),
        "role": clean_text(named.role),
        "scope": scope,
        "interviews": [_event(e) for e in interviews or (event,)],
        "reason": " ".join(clean_text(reason).split()),
        "offer_help": offer_help,
        "keep_in_touch": keep_in_touch,
        "short_notice": short_notice,
        "hours_until": max(0, int(seconds // 3600)),
        "declined": declined,
        "language": language,
        "booking_links": [link.as_json() for link in event.booking_links],
    }


def followup_variables(*, date: datetime, subject: str, replied: bool) -> dict[str, Any]:
    """What a follow-up adds: the withdrawal (date, subject) and whether they replied."""
    return {"withdrawal": {"date": date, "subject": clean_text(subject)}, "replied": replied}


def sample_event(now: datetime) -> EventRecord:
    """A realistic interview a week after `now`, for checking templates."""
    recruiter = Address("sam@acme.example", "Sam Recruiter")
    start = (now + timedelta(days=7)).replace(hour=15, minute=0, second=0, microsecond=0)
    return EventRecord(
        id="sample",
        uid="sample-uid@acme.example",
        recurrence_id="",
        sequence=0,
        summary="Interview: Jane Doe <> Acme - Senior Engineer",
        start=start,
        end=start + timedelta(hours=1),
        all_day=False,
        location="https://meet.example/abc-defg-hij",
        description="",
        rrule="",
        interview=True,
        organizer=recruiter,
        attendee=Address("jane@example.com", "Jane Doe"),
        other_attendees=(),
        invite=Invite("INBOX", 1, "<invite@acme.example>", "Interview", (), recruiter, None),
        ical="",
        cancelled_by_organizer=False,
    )


def check_template(
    text: str, name: str, kind: LetterKind, *, zone: ZoneInfo | None = None, language: str = "en"
) -> list[str]:
    """Problems ('file:line: message') rendering the template against a sample event.

    Every flag is tried both ways (and one interview or two), so a typo in a rarely taken
    branch shows up too.
    """
    now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    event = sample_event(now)
    me = Address("jane@example.com", "Jane Doe")
    problems: dict[str, None] = {}
    for on in (True, False):
        variables = context(
            event=event,
            me=me,
            recipient=event.organizer or me,
            reason="I have accepted another offer" if on else "",
            offer_help=on,
            keep_in_touch=on,
            short_notice=on,
            now=now,
            declined=on,
            language=language,
            interviews=(event, replace(event, id="sample-2", start=event.start + timedelta(days=2)))
            if on
            else (),
        )
        if kind == "followup":
            variables |= followup_variables(date=now, subject="Re: Interview", replied=on)
        try:
            fill((text, name), variables, zone or ZoneInfo("UTC"), language)
        except TemplateProblem as problem:
            problems.setdefault(str(problem), None)
    return list(problems)
