"""The built-in letters of every language, rendered for one fixed interview.

`python -m tests.testbed.letters` writes them to docs/letters/ (`make letters`), so a reader
of each language can review them in one place; tests/unit/test_letters.py checks the
files are what the code renders now.
"""

from __future__ import annotations

import email
import email.policy
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

from decliner.core.letters.languages import LANGUAGES
from decliner.core.letters.render import render_followup, render_withdrawal
from decliner.core.parse.model import Address
from decliner.core.plan.events import EventRecord, Invite
from decliner.core.plan.naming import NOTHING, Found
from tests.testbed.records import interview_record

DOCS = Path(__file__).parents[2] / "docs" / "letters"
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
START = datetime(2026, 12, 10, 14, 0, tzinfo=UTC)  # a Thursday, 15:00 in Berlin
PRIYA = Address("priya@acme.example", "Priya Raman")
JANE = Address("jane@example.com", "Jane Doe")
REASONS = {
    "en": "I have accepted another offer",
    "de": "Ich habe ein anderes Angebot angenommen.",
    "fr": "J’ai accepté une autre offre",
    "es": "He aceptado otra oferta.",
    "it": "Ho accettato un’altra offerta",
    "nl": "Ik heb een ander aanbod aangenomen.",
    "pt": "Aceitei outra proposta",
}


def _request(start: datetime, summary: str) -> str:
    stamp = f"{start.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    return "\r\n".join(
        [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//Acme//Letters//EN",
            "METHOD:REQUEST",
            "BEGIN:VEVENT",
            "UID:letters@acme.example",
            f"DTSTART:{stamp}",
            f"DTEND:{stamp}",
            f"DTSTAMP:{stamp}",
            f"SUMMARY:{summary}",
            f"ORGANIZER;CN=Priya Raman:mailto:{PRIYA.email}",
            f"ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{JANE.email}",
            "END:VEVENT",
            "END:VCALENDAR",
            "",
        ]
    )


def interview(
    start: datetime = START, summary: str = "Acme – Backend", *, ident: str = "letters"
) -> EventRecord:
    """Priya's invitation to Jane, as decliner stores it (the test bed's record, hers)."""
    invite = Invite("INBOX", 1, "<invite@acme.example>", f"Invitation: {summary}", (), PRIYA, None)
    return replace(
        interview_record(start, event_id=ident, uid="letters@acme.example", summary=summary),
        organizer=PRIYA,
        attendee=JANE,
        invite=invite,
        ical=_request(start, summary),
    )


def body(raw: bytes) -> str:
    """The text/plain body of a rendered message."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def withdrawal(
    language: str,
    *,
    event: EventRecord | None = None,
    reason: str | None = None,
    short_notice: bool = False,
    offer_help: bool = True,
    keep_in_touch: bool = True,
    recipient: Address = PRIYA,
    named: Found | None = None,
    scope: str = "process",
    interviews: tuple[EventRecord, ...] = (),
) -> str:
    """The withdrawal's body in `language` (`named` None: found in the invitation)."""
    rendered = render_withdrawal(
        event=event or interview(),
        me=JANE,
        recipient=recipient,
        cc=[],
        reason=REASONS[language] if reason is None else reason,
        offer_help=offer_help,
        keep_in_touch=keep_in_touch,
        short_notice=short_notice,
        now=NOW,
        zone=BERLIN,
        token="letters",
        attach_decline=True,
        language=language,
        named=named,
        scope=scope,
        interviews=interviews,
    )
    return body(rendered.raw)


def followup(
    language: str,
    *,
    replied: bool = True,
    recipient: Address = PRIYA,
    named: Found | None = None,
    interviews: tuple[EventRecord, ...] = (),
) -> str:
    """The follow-up's body in `language`, a day after the withdrawal."""
    rendered = render_followup(
        event=interview(),
        me=JANE,
        recipient=recipient,
        cc=[],
        in_reply_to="<withdrawal@example.com>",
        references=["<invite@acme.example>", "<withdrawal@example.com>"],
        withdrawal_date=NOW,
        withdrawal_subject="Re: Invitation: Acme – Backend",
        replied=replied,
        now=NOW + timedelta(days=1),
        zone=BERLIN,
        token="letters",
        reason=REASONS[language],
        language=language,
        named=named,
        interviews=interviews,
    )
    return body(rendered.raw)


BOTH = Found("Senior Engineer", "flag", "Acme", "flag")
EMPLOYER = Found(company="Acme", company_from="flag")


def process_of_three() -> tuple[EventRecord, ...]:
    """A phone screen, a technical round and a final round of one hiring process."""
    return (
        interview(),
        interview(START + timedelta(days=1, hours=-4), "Acme – Technical", ident="letters-2"),
        interview(START + timedelta(days=4), "Acme – Final round", ident="letters-3"),
    )


def variants(language: str) -> dict[str, str]:
    """The withdrawal for each way of naming the interview (SPEC 19), for a process of
    three, and with `scope = "interview"`; the follow-up of the process of three."""
    three = process_of_three()
    return {
        f"{language}-withdrawal-both.txt": withdrawal(language, named=BOTH),
        f"{language}-withdrawal-employer.txt": withdrawal(language, named=EMPLOYER),
        f"{language}-withdrawal-neither.txt": withdrawal(language, named=NOTHING),
        f"{language}-withdrawal-process.txt": withdrawal(language, named=BOTH, interviews=three),
        f"{language}-withdrawal-interview.txt": withdrawal(language, named=BOTH, scope="interview"),
        f"{language}-followup-process.txt": followup(language, named=BOTH, interviews=three),
    }


def snapshots() -> dict[str, str]:
    """docs/letters/<file> -> its text, for every language and both letters, and the
    variants of each."""
    return {
        **{f"{lang}-withdrawal.txt": withdrawal(lang) for lang in LANGUAGES},
        **{f"{lang}-followup.txt": followup(lang) for lang in LANGUAGES},
        **{name: text for lang in LANGUAGES for name, text in variants(lang).items()},
    }


def main() -> None:
    """Write the snapshots."""
    DOCS.mkdir(parents=True, exist_ok=True)
    for name, text in snapshots().items():
        (DOCS / name).write_text(text, encoding="utf-8")
        print(f"wrote docs/letters/{name}")


if __name__ == "__main__":
    main()
