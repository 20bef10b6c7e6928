"""Templates: filters, header block, errors with file and line, the sandbox."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from decliner.core.letters.templating import (
    TemplateProblem,
    builtin_template,
    check_template,
    context,
    fill,
    sample_event,
)
from decliner.core.letters.wording import (
    first_name,
    format_date,
    format_datetime,
    format_time,
    sentence,
    wrap,
)
from decliner.core.parse.model import Address

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
ME = Address("jane@example.com", "Jane Doe")


def _context(**changes: Any) -> dict[str, Any]:
    event = changes.pop("event", sample_event(NOW))
    values: dict[str, Any] = {
        "reason": "",
        "offer_help": False,
        "keep_in_touch": False,
        "short_notice": False,
    }
    values.update(changes)
    return context(event=event, me=ME, recipient=event.organizer or ME, now=NOW, **values)


def _fill(text: str, **changes: Any) -> str:
    return fill((text, "user.j2"), _context(**changes), BERLIN).body


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 12, 10, 14, 0, tzinfo=UTC), "Thursday, 10\u00a0December 2026"),
        (datetime(2026, 12, 10, 23, 30, tzinfo=UTC), "Friday, 11\u00a0December 2026"),
        (date(2027, 1, 22), "Friday, 22\u00a0January 2027"),
    ],
)
def test_date_filter_is_the_day_in_the_account_zone(moment: datetime | date, expected: str) -> None:
    """`date` names the weekday and day in the account's zone, in English (CLDR en_GB), with
    a no-break space after the day's number so no line ends inside a date."""
    assert format_date(moment, BERLIN) == expected


def test_time_filter_names_the_zone() -> None:
    """`time` is 24-hour wall time with the zone's CLDR abbreviation, summer and winter, or
    its CLDR name where English has no abbreviation for it (IST would be ambiguous)."""
    assert format_time(datetime(2026, 12, 10, 14, 0, tzinfo=UTC), BERLIN) == "15:00 (CET)"
    assert format_time(datetime(2027, 6, 10, 14, 0, tzinfo=UTC), BERLIN) == "16:00 (CEST)"
    kolkata = ZoneInfo("Asia/Kolkata")
    assert (
        format_time(datetime(2027, 6, 10, 14, 0, tzinfo=UTC), kolkata)
        == "19:30 (India Standard Time)"
    )
    sao_paulo = ZoneInfo("America/Sao_Paulo")
    assert (
        format_time(datetime(2027, 6, 10, 14, 0, tzinfo=UTC), sao_paulo)
        == "11:00 (Brasilia Standard Time)"
    )
    assert format_datetime(datetime(2026, 12, 10, 14, 0, tzinfo=UTC), BERLIN) == (
        "Thursday, 10\u00a0December 2026, 15:00 (CET)"
    )


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("I have accepted another offer", "I have accepted another offer."),
        ("I have accepted another offer.", "I have accepted another offer."),
        ("I have accepted another offer..", "I have accepted another offer."),
        ("I have accepted another offer...", "I have accepted another offer."),
        ("I have accepted another offer …", "I have accepted another offer."),
        ("I have accepted another offer!", "I have accepted another offer!"),
        ("I have accepted another offer!.", "I have accepted another offer!"),
        ("Would it be possible to talk later?", "Would it be possible to talk later?"),
        ("Could we talk later?.", "Could we talk later?"),
        ("  spaced   out\nreason  ", "spaced out reason."),
        ("ends with a comma,", "ends with a comma."),
        ('as they say "never."', 'as they say "never."'),
        ("(for personal reasons)", "(for personal reasons)."),
        ("", ""),
        (" . ", ""),
    ],
)
def test_sentence_ends_with_exactly_one_mark(given: str, expected: str) -> None:
    """A reason gets exactly one terminal mark: never '..' or '!.', a question stays one."""
    assert sentence(given) == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("j’ai accepté une autre offre !", "j’ai accepté une autre offre\u00a0!"),
        ("j’ai accepté une autre offre!", "j’ai accepté une autre offre\u00a0!"),
        ("pourrions-nous en reparler ?.", "pourrions-nous en reparler\u00a0?"),
        ("pour des raisons personnelles.", "pour des raisons personnelles."),
        ("pour des raisons personnelles", "pour des raisons personnelles."),
    ],
)
def test_a_french_sentence_keeps_the_space_before_its_mark(given: str, expected: str) -> None:
    """French typography: a no-break space before '!' and '?', none before '.'."""
    assert sentence(given, "fr") == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Sam Recruiter", "Sam"),
        ("Nguyen, Priya", "Priya"),
        ('"Iyer, Meera"', "Meera"),
        ("Priya", "Priya"),
        ("Dr. Sam Lee", "Dr. Lee"),
        ("Lee, Dr. Sam", "Dr. Lee"),
        ("SAM LEE", "Sam"),
        ("Jean-Luc Picard", "Jean-Luc"),
        ("", ""),
        ("sam@acme.example", ""),
        ("Sam <sam@acme.example>", ""),
        ("sam.recruiter", ""),
        ("J. Smith", ""),
        ("Acme Talent Team", ""),
        ("Acme Recruiting", ""),
        ("Google Calendar", ""),
        ("no-reply", ""),
        ("1234", ""),
    ],
)
def test_first_name(name: str, expected: str) -> None:
    """The greeting name is a person's given name, never an address, initial or team."""
    assert first_name(name) == expected


def test_wrap_keeps_short_lines_and_whole_words() -> None:
    """Long lines wrap at 78 without splitting words or URLs; short ones stay as written."""
    url = "https://example.com/" + "a" * 90
    body = "Hi Sam,\n\n" + "word " * 40 + url + " end\n- " + "item " * 30 + "\nJane\n"
    wrapped = wrap(body)
    lines = wrapped.split("\n")
    assert lines[0] == "Hi Sam,"
    assert url in lines
    assert all(len(line) <= 78 for line in lines if line != url)
    assert wrapped.replace("\n", " ").split() == body.replace("\n", " ").split()
    assert any(line.startswith("  item") for line in lines)  # a list item's hanging indent
    assert lines[-2:] == ["Jane", ""]


def test_headers_are_split_from_the_source() -> None:
    """Subject: and Cc: open a template; the body starts after the blank line."""
    text = "Subject: Withdrawing: {{ event.summary }}\nCc: Hiring <hm@acme.example>, x@y.example\n\nBody {{ me.name }}\n"
    filled = fill((text, "user.j2"), _context(), BERLIN)
    assert filled.subject == "Withdrawing: Interview: Jane Doe <> Acme - Senior Engineer"
    assert filled.cc == (Address("hm@acme.example", "Hiring"), Address("x@y.example"))
    assert filled.body == "Body Jane Doe\n"


def test_a_first_line_that_is_no_header_is_body() -> None:
    """Without a leading Subject:/Cc:, everything is body, even a later 'Subject:' line."""
    filled = fill(("Hello,\nSubject: none\n", "user.j2"), _context(), BERLIN)
    assert filled.subject == ""
    assert filled.body == "Hello,\nSubject: none\n"


def test_a_summary_is_never_a_header() -> None:
    """A value that looks like a header stays in the body: headers come from the source only."""
    event = replace(sample_event(NOW), summary="Subject: pwned")
    filled = fill(("{{ event.summary }}\n\nbody\n", "user.j2"), _context(event=event), BERLIN)
    assert filled.subject == ""
    assert filled.body.startswith("Subject: pwned\n")


def test_values_are_data_not_template_code() -> None:
    """A summary of '{{ 7*7 }}' renders literally."""
    event = replace(sample_event(NOW), summary="{{ 7*7 }} {% if 1 %}x{% endif %}")
    assert _fill("{{ event.summary }}\n", event=event) == "{{ 7*7 }} {% if 1 %}x{% endif %}\n"


def test_undefined_variable_names_file_and_line() -> None:
    """StrictUndefined: a typo is an error with file and line, not a blank in a mail."""
    with pytest.raises(TemplateProblem) as caught:
        fill(("Subject: x\n\nHi,\n\n{{ event.sumary }}\n", "mine.j2"), _context(), BERLIN)
    assert caught.value.name == "mine.j2"
    assert caught.value.line == 5
    assert "sumary" in caught.value.message
    assert str(caught.value).startswith("mine.j2:5: ")


def test_undefined_variable_in_a_header() -> None:
    """A typo in the Subject: header is reported at its line."""
    with pytest.raises(TemplateProblem) as caught:
        fill(("Cc: a@b.example\nSubject: {{ evnt.summary }}\n\nbody\n", "m.j2"), _context(), BERLIN)
    assert (caught.value.line, "evnt" in caught.value.message) == (2, True)


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__ }}",
        "{{ event.__class__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ me.update({'name': 'x'}) }}",
        "{{ '{0.__class__}'.format(event.summary) }}",
    ],
)
def test_sandbox_escapes_fail(source: str) -> None:
    """The sandbox refuses Python internals and mutation of the context."""
    with pytest.raises(TemplateProblem) as caught:
        _fill(f"Hi\n{source}\n")
    assert caught.value.line == 2


def test_syntax_error_names_file_and_line() -> None:
    """A syntax error is a TemplateProblem with the line of the broken tag."""
    with pytest.raises(TemplateProblem) as caught:
        _fill("Hi\n\n{% if reason %}\nno end\n")
    assert caught.value.name == "user.j2"
    assert "syntax error" in caught.value.message


def test_bad_headers_are_problems() -> None:
    """A second Subject:, another header in the block, or a bad Cc address is reported."""
    cases = [
        ("Subject: a\nSubject: b\n\nx\n", 2),
        ("Subject: a\nBcc: evil@x.example\n\nx\n", 2),
        ("Subject: a\nCc: not an address\n\nx\n", 2),
        ("Cc: {{ event.summary }}\n\nx\n", 1),
    ]
    for text, line in cases:
        with pytest.raises(TemplateProblem) as caught:
            fill((text, "t.j2"), _context(), BERLIN)
        assert caught.value.line == line, text


def test_check_template_reports_every_branch() -> None:
    """`check` renders both ways, so a typo under a false flag is still found."""
    text = "Hi\n{% if short_notice %}{{ hours_untl }}{% endif %}\n{{ withdrawal.date | date }}\n"
    assert check_template(text, "t.j2", "withdrawal") == [
        "t.j2:2: undefined: 'hours_untl' is undefined",
        "t.j2:3: undefined: 'withdrawal' is undefined",
    ]
    assert check_template(text.replace("untl", "until"), "t.j2", "followup") == []


@pytest.mark.parametrize("kind", ["withdrawal", "followup"])
def test_builtin_templates_check_clean(kind: Any) -> None:
    """The built-in templates pass `check` for their kind."""
    text, name = builtin_template(kind)
    assert check_template(text, name, kind, zone=BERLIN) == []
