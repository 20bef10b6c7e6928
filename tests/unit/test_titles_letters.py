"""Issue 25's acceptance over the titles corpus: for every file, the withdrawal in each of
the seven languages names the role and employer that expected.toml gives, and never the
raw calendar title (unless the title is nothing but what the letter names)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from decliner.core.letters.languages import LANGUAGES
from decliner.core.letters.render import render_withdrawal
from decliner.core.parse.model import Address
from decliner.core.plan.naming import name_interview
from tests.testbed.helpers import plain_text
from tests.testbed.titles import ME, cases, corpus_record

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # before every interview of the corpus
JANE = Address(ME[0], "Jane Doe")


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("case", cases(), ids=lambda case: case["file"])
def test_every_language_names_the_role_and_employer_never_the_title(case: dict[str, str]) -> None:
    """The letter holds the expected role and company (each when known), not the title."""
    event = corpus_record(case["file"])
    named = name_interview(event, me_name=JANE.name, me=ME)
    assert (named.role, named.company) == (case["role"], case["company"])
    recipient = event.organizer or Address("recruiter@example.com")
    title = flat(event.summary)
    for language in LANGUAGES:
        rendered = render_withdrawal(
            event=event,
            me=JANE,
            recipient=recipient,
            cc=[],
            reason="",
            offer_help=True,
            keep_in_touch=True,
            short_notice=False,
            now=NOW,
            zone=ZoneInfo("Europe/Berlin"),
            token="corpus",
            attach_decline=False,
            language=language,
            named=named,
        )
        body = flat(plain_text(rendered.raw))
        for value in (case["role"], case["company"]):
            if value:
                assert flat(value) in body, (language, value)
        if title and title not in (flat(case["role"]), flat(case["company"])):
            assert title not in body, (language, title)
