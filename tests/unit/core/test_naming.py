"""Naming the interview (SPEC 19): the role and employer found, with where each came from,
over hand-made shapes and over every file of the titles corpus through the pure parser."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from decliner.core.letters.templating import context, sample_event
from decliner.core.parse.model import Address
from decliner.core.plan.events import EventRecord, Invite
from decliner.core.plan.naming import Found, name_interview
from tests.testbed.titles import CORPUS, ME, cases, corpus_record

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def shaped(
    *,
    organizer: str = "",
    summary: str = "",
    reply_to: str = "",
    subject: str | None = None,
    description: str = "",
    body: str = "",
    organizer_name: str = "",
) -> EventRecord:
    invite = Invite(
        "INBOX",
        1,
        "",
        summary if subject is None else subject,
        (),
        None,
        Address(reply_to) if reply_to else None,
    )
    return replace(
        sample_event(NOW),
        organizer=Address(organizer, organizer_name) if organizer else None,
        summary=summary,
        invite=invite,
        description=description,
        body_text=body,
    )


def found(event: EventRecord, given: Found | None = None) -> Found:
    return name_interview(event, me_name="Jane Doe", me=ME, given=given or Found())


@pytest.mark.parametrize("case", cases(), ids=lambda case: case["file"])
def test_every_title_in_the_corpus(case: dict[str, Any]) -> None:
    """Each invitation shape of the corpus is named as expected.toml says ('' where the
    invitation does not say), and never by the user's own name."""
    named = found(corpus_record(case["file"]))
    assert (named.role, named.company) == (case["role"], case["company"])
    assert bool(named.role_from) == bool(named.role)
    assert bool(named.company_from) == bool(named.company)
    assert "jane" not in f"{named.role} {named.company}".lower()


def test_the_corpus_covers_the_shapes_asked_for() -> None:
    """At least 25 shapes, each with the page it is modelled on, some in German, French and
    Spanish, and some whose role or company is rightly unknown."""
    rows = cases()
    assert len(rows) >= 25
    assert all(row["url"].startswith("https://") for row in rows)
    assert {row["file"] for row in rows} == {p.name for p in CORPUS.glob("*.eml")}
    assert any(not row["role"] for row in rows)
    assert any(not row["company"] for row in rows)


@pytest.mark.parametrize(
    ("organizer", "summary", "reply_to", "expected"),
    [
        ("sam@acme.example", "Interview", "", ("", "Acme", "organizer domain")),
        ("sam@mail.initech.example", "Interview", "", ("", "Initech", "organizer domain")),
        ("sam@acme.co.uk", "Interview", "", ("", "Acme", "organizer domain")),
        ("sam@acme-labs.example", "Interview", "", ("", "Acme-Labs", "organizer domain")),
        ("sam@globex.example", "Onsite: Jane Doe @ GLOBEX", "", ("", "GLOBEX", "organizer domain")),
        ("no-reply@greenhouse.io", "Interview", "maya@initech.example", ("", "Initech", "recipient domain")),
        ("calendar-notification@google.com", "Interview", "", ("", "", "")),
        ("sam@gmail.com", "Jane Doe <> Acme – Senior Engineer", "", ("Senior Engineer", "Acme", "subject")),
        ("sam@gmail.com", "Interview – Initech", "", ("", "Initech", "subject")),
        ("sam@gmail.com", "Interview - Senior Engineer", "", ("Senior Engineer", "", "")),
        ("sam@gmail.com", "Coffee", "", ("", "", "")),
        ("", "Jane Doe <> Umbrella Corp", "", ("", "Umbrella Corp", "subject")),
        ("x@example.com", "Interview", "", ("", "", "")),
        ("sam@gmail.com", "Hiring Manager Interview", "", ("", "", "")),
        ("sam@gmail.com", "Jane <> Sam", "", ("", "", "")),
        ("sam@gmail.com", "Engineering interview (Jane Doe)", "", ("", "", "")),
        ("sam@gmail.com", "Bevestigd: Sollicitatiegesprek", "", ("", "", "")),
        ("sam@gmail.com", "Registered Nurse (Night Shift)", "", ("Registered Nurse", "", "")),
        ("sam@gmail.com", "Jane Doe - Vandelay Industries (Senior Engineer)", "", ("Senior Engineer", "Vandelay Industries", "subject")),
    ],
)  # fmt: skip
def test_shapes(organizer: str, summary: str, reply_to: str, expected: tuple[str, ...]) -> None:
    """The role from the title, the employer from the title or the organizer's or
    recipient's domain (never a mail provider's, a tool's or the user's); '' when unsure."""
    named = found(shaped(organizer=organizer, summary=summary, reply_to=reply_to))
    assert (named.role, named.company, named.company_from) == expected


def test_what_was_given_wins_and_says_so() -> None:
    """A role or company given by the flag or `[[cancel]]` is used as given, with its
    source; what was not given is still found."""
    event = shaped(organizer="sam@acme.example", summary="Jane Doe <> Acme - Data Engineer")
    named = found(event, Found(role="Platform Engineer", role_from="flag"))
    assert named == Found("Platform Engineer", "flag", "Acme", "subject")


def test_an_agency_is_not_the_employer() -> None:
    """A recruiter who writes for "my client" is not the employer: their domain and their
    name are not taken, a client named in the text is."""
    unnamed = shaped(
        organizer="chris@brightpath.example",
        summary="Client interview",
        description="My client would like to meet you for the Data Engineer role.",
    )
    assert found(unnamed) == Found("Data Engineer", "description", "", "")
    named = replace(unnamed, summary="Acme Bank - Risk Analyst")
    assert found(named).company == "Acme Bank"


def test_team_mailboxes_name_the_employer() -> None:
    """A shared calendar's or team mailbox's name gives the employer once "Candidate
    Calendar", "Recruiting" and the like are taken off; a person's name never does."""
    team = shaped(
        organizer="c_1@group.calendar.google.com",
        organizer_name="Initrode Candidate Calendar",
        summary="Onsite",
    )
    assert found(team) == Found("", "", "Initrode", "organizer name")
    person = replace(team, organizer=Address("c_1@group.calendar.google.com", "Sam Lee"))
    assert found(person) == Found()
    recruiter = replace(team, organizer=Address("sam@acme.example", "Sam Recruiter"))
    assert found(recruiter) == Found("", "", "Acme", "organizer domain")
    particle = replace(team, organizer=Address("pieter@zoom.us", "Pieter de Vries"))
    assert found(particle) == Found()


def test_the_domain_is_spelled_as_the_invitation_spells_it() -> None:
    """'tailspintoys' becomes 'Tailspin Toys' when the text writes it so."""
    event = shaped(
        organizer="maria@tailspintoys.example", summary="Call", body="Maria\nTailspin Toys | HR"
    )
    assert found(event).company == "Tailspin Toys"


def test_templates_get_role_and_company() -> None:
    """A custom template has `role` and `company` (what the plan found, else found from the
    event), tidied like every value from a message."""
    event = shaped(organizer="sam@acme.example", summary="Jane Doe <> Acme - Data Engineer")
    me, sam = Address(ME[0], "Jane Doe"), Address("sam@acme.example", "Sam")
    common: dict[str, Any] = {
        "event": event,
        "me": me,
        "recipient": sam,
        "reason": "",
        "offer_help": True,
        "keep_in_touch": True,
        "short_notice": False,
        "now": NOW,
    }
    variables = context(**common)
    assert (variables["role"], variables["company"]) == ("Data Engineer", "Acme")
    given = context(**common, named=Found("Analyst\nBcc: x@evil.example", "flag", "Acme", "s"))
    assert "\n" not in given["role"]


def test_a_robot_organizer_name_is_not_an_employer() -> None:
    """An organizer named "Hiring Robot" or "Acme Recruiting Bot": no "Robot" or "Bot"
    employer (found while building the review page)."""
    robot = shaped(organizer="robot@gmail.com", summary="Interview", organizer_name="Hiring Robot")
    assert found(robot).company == ""
    bot = shaped(
        organizer="bot@gmail.com", summary="Interview", organizer_name="Acme Recruiting Bot"
    )
    assert found(bot).company == "Acme"
