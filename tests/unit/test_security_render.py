"""Header injection through the renderer (issue 17, item 5): every payload goes into every
field combination of `render_withdrawal` and `render_followup` (the pure functions that build
the bytes decliner stores and sends), the custom-template Subject and the follow-up; and
into an address."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from decliner.core.letters.headers import RenderError
from decliner.core.letters.languages import LANGUAGES
from decliner.core.letters.render import Rendered, render_followup, render_withdrawal
from decliner.core.parse.model import Address
from decliner.core.plan.events import EventRecord, Invite
from tests.testbed.injection import (
    BERLIN,
    CLOSINGS,
    FOLLOWUP_HEADERS,
    JANE,
    NESTED_WORD,
    NOW,
    PAYLOADS,
    REFUSED,
    ROBOT,
    SAM,
    VARIANTS,
    WITHDRAWAL_HEADERS,
    Case,
    assert_safe,
    request_calendar,
)
from tests.testbed.world import SOON


def payload_event(case: Case) -> EventRecord:
    """The event decliner would store from `case`'s invitation (built by hand, as read)."""
    organizer = Address(ROBOT if case.robot else SAM, case.payload)
    start = NOW + timedelta(days=9)
    reply_to = Address(SAM, case.payload) if case.robot else None
    return EventRecord(
        id=f"inj{case.index}",
        uid=case.uid,
        recurrence_id="",
        sequence=0,
        summary=case.payload,
        start=start,
        end=start + timedelta(hours=1),
        all_day=False,
        location=case.payload,
        description="",
        rrule="",
        interview=True,
        organizer=organizer,
        attendee=JANE,
        other_attendees=(),
        invite=Invite(
            "INBOX",
            case.index + 1,
            case.message_id,
            case.payload if case.in_subject else "",
            (),
            organizer,
            reply_to,
        ),
        ical=request_calendar(
            uid=case.uid, payload=case.payload, organizer=organizer.email, me=JANE.email
        ).replace(SOON.strftime("%Y%m%dT%H%M%SZ"), start.strftime("%Y%m%dT%H%M%SZ")),
        cancelled_by_organizer=False,
    )


# A custom template that puts every variable a message can fill into the Subject.
HEADER_TEMPLATE = (
    (
        "Subject: {{ company }} | {{ event.summary }} | {{ event.location }} | {{ reason }}"
        " | {{ recipient.name }} | {{ event.organizer.name }}\n"
        "\n"
        "Hello {{ recipient.name }}, about {{ event.summary }} at {{ company }}: {{ reason }}\n"
        "\n"
        "Jane Doe\n"
    ),
    "header-template.j2",
)


def cases(language: str) -> Iterator[Case]:
    """Each payload twice, in complementary variants: once in the invite's Subject and once in
    the SUMMARY standing in for it, once to the organizer and once to Reply-To (which two of
    the four rotates with the language, so the seven languages run all four)."""
    shift = LANGUAGES.index(language)
    for index, payload in enumerate(PAYLOADS):
        for step in (0, 2):
            in_subject, robot = VARIANTS[(index + shift + step) % 4]
            yield Case(index, payload, in_subject, robot)


def withdrawal(case: Case, language: str, template: tuple[str, str] | None = None) -> Rendered:
    """The withdrawal for `case`'s event, the payload also its reason and recipient's name."""
    return render_withdrawal(
        event=payload_event(case),
        me=JANE,
        recipient=Address(SAM, case.payload),  # the organizer's CN, or Reply-To's name
        cc=[],
        reason=case.payload,
        offer_help=True,
        keep_in_touch=True,
        short_notice=False,
        now=NOW,
        zone=BERLIN,
        token=f"sec{case.index}",
        attach_decline=True,
        language=language,
        template=template,
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_render_cross_product_adds_no_header_or_recipient(language: str) -> None:
    """Every payload x {invite Subject, SUMMARY as subject} x {organizer CN, Reply-To name},
    also as the reason, location and (custom template) company, through render_withdrawal
    and render_followup: exactly the intended headers and recipient and a whole body, or a
    RenderError (refused, never sent), which only the payloads in REFUSED get."""
    refused: set[str] = set()
    company_reached = 0
    for case in cases(language):
        try:
            sent = withdrawal(case, language)
        except RenderError:
            refused.add(case.payload)
            continue
        assert_safe(sent.raw, to=SAM, closing=CLOSINGS[language])
        assert sent.to == (SAM,) and sent.cc == ()
        custom = withdrawal(case, language, template=HEADER_TEMPLATE)
        message = assert_safe(custom.raw, to=SAM)
        company_reached += bool(str(message["Subject"]).split("|")[0].strip())
        followup = render_followup(
            event=payload_event(case),
            me=JANE,
            recipient=Address(SAM, case.payload),
            cc=[],
            in_reply_to=f"<sec{case.index}@example.com>",
            references=[case.message_id, f"<sec{case.index}@example.com>"],
            withdrawal_date=NOW,
            withdrawal_subject=sent.subject,
            replied=False,
            now=NOW + timedelta(days=1),
            zone=BERLIN,
            token=f"fu{case.index}",
            reason=case.payload,
            language=language,
        )
        assert_safe(followup.raw, to=SAM, closing=CLOSINGS[language], headers=FOLLOWUP_HEADERS)
    assert refused == REFUSED
    assert company_reached > 0


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_in_an_address_is_refused_or_harmless(payload: str) -> None:
    """A payload inside the recipient's or a Cc address (a [[cancel]].to, an organizer) is a
    RenderError, or leaves exactly that one plain address: never a second recipient."""
    case = Case(0, "Interview", in_subject=True, robot=False)
    for recipient, cc in (
        (Address(f"sam{payload}@acme.example"), []),
        (Address(payload), []),
        (Address(SAM), [Address(payload)]),
    ):
        try:
            sent = render_withdrawal(
                event=payload_event(case),
                me=JANE,
                recipient=recipient,
                cc=cc,
                reason="",
                offer_help=True,
                keep_in_touch=True,
                short_notice=False,
                now=NOW,
                zone=BERLIN,
                token="addr",
                attach_decline=True,
            )
        except RenderError:
            continue
        assert sent.to == (recipient.email,)
        assert sent.cc == tuple(a.email for a in cc if a.email != recipient.email)
        names = [*WITHDRAWAL_HEADERS, *(["cc"] if sent.cc else [])]
        assert_safe(sent.raw, to=sent.to[0], cc=sent.cc, closing=CLOSINGS["en"], headers=names)


def test_nested_encoded_word_is_cleaned_and_the_letter_sent() -> None:
    """A doubly encoded CR LF is cleaned like any other, and the withdrawal is written: clean_text
    stopped at '=?utf-8?q?Interview=0D=0ABcc=3A evil...?=' (a space inside), which the email
    package still decodes to CR LF, so the letter was refused and never sent."""
    sent = withdrawal(Case(0, NESTED_WORD, in_subject=True, robot=False), "en")
    assert_safe(sent.raw, to=SAM, closing=CLOSINGS["en"])
