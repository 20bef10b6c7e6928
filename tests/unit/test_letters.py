"""The built-in letters in all seven languages (SPEC 14): what each must say, and how."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, time, timedelta

import pytest
from babel.dates import format_date, format_time

from decliner.core.letters.languages import LANGUAGES, LOCALES
from decliner.core.letters.templating import builtin_template, check_template
from decliner.core.letters.wording import format_date as letter_date
from decliner.core.parse.model import Address
from tests.testbed import letters
from tests.testbed.letters import BERLIN, START, followup, interview, withdrawal

# Words of the English letters that no other language's letter should still contain
# ("future" is not among them: Italian writes "posizioni future").
ENGLISH = re.compile(
    r"\b(thank|thanks|hiring|regards|hello|withdraw\w*|calendar|slot|opportunity|"
    r"confirm(?:ed|ing)?|reply|sorry|notice|please|best|kind|decided|declined|happy|glad)\b",
    re.IGNORECASE,
)
OTHERS = [lang for lang in LANGUAGES if lang != "en"]


def flat(text: str) -> str:
    return " ".join(text.split())


def cldr(language: str) -> tuple[str, str]:
    """The interview's date and time as Babel writes them in `language` (in Berlin)."""
    local = START.astimezone(BERLIN)
    locale = LOCALES[language]
    return format_date(local.date(), "full", locale=locale), format_time(
        local, "short", locale=locale
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_letter_states_date_time_and_zone_in_cldr_form(language: str) -> None:
    """Both letters name the day and time as Babel's CLDR data writes them in the language,
    and the zone (CET/MEZ or the zone's name) so nobody guesses."""
    day, clock = cldr(language)
    for text in (withdrawal(language), followup(language)):
        assert day in flat(text)
    assert clock in flat(withdrawal(language))
    zone = {"de": "MEZ", "fr": "heure normale d’Europe centrale"}.get(language, "CET")
    word = " Uhr" if language == "de" else ""  # DIN 5008's "15:00 Uhr"
    assert f"{clock}{word} ({zone})" in flat(withdrawal(language))


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_letter_greets_by_name_and_signs(language: str) -> None:
    """The first line greets Priya by name; without a person's name it greets without one;
    the letter ends with the user's name."""
    for text in (withdrawal(language), followup(language)):
        assert "Priya" in text.split("\n")[0]
        assert text.rstrip().endswith("Jane Doe")
    team = Address("careers@acme.example", "Acme Talent Team")
    anonymous = withdrawal(language, recipient=team).split("\n")[0]
    assert "Acme" not in anonymous and "Talent" not in anonymous and anonymous.strip()


@pytest.mark.parametrize("language", OTHERS)
def test_no_english_is_left_over(language: str) -> None:
    """Apart from data (names, the event's title), no English word in either letter."""
    for text in (withdrawal(language), followup(language), withdrawal(language, reason="")):
        cleaned = flat(text).replace("Acme – Backend", "").replace("Jane Doe", "")
        assert not ENGLISH.findall(cleaned), (language, ENGLISH.findall(cleaned))


@pytest.mark.parametrize("language", LANGUAGES)
def test_well_formed_text(language: str) -> None:
    """No unrendered template syntax, no line over 78 characters, in any variant."""
    variants = [
        withdrawal(language),
        withdrawal(language, reason="", offer_help=False, keep_in_touch=False),
        withdrawal(language, short_notice=True),
        followup(language),
        followup(language, replied=False),
    ]
    for text in variants:
        assert not re.search(r"\{\{|\}\}|\{%|%\}|\{#", text)
        assert all(len(line) <= 78 for line in text.split("\n")), text
    for text in (followup(language), followup(language, replied=False)):
        # greeting, confirmation, thanks, closing: each its own paragraph
        assert len(text.strip().split("\n\n")) == 4, text


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_process_letter_names_every_interview_once(language: str) -> None:
    """A letter for a process of three states each interview's date once, in time order,
    in both the withdrawal and the follow-up; the plural reads as one sentence."""
    three = letters.process_of_three()
    for text in (
        letters.withdrawal(language, named=letters.BOTH, interviews=three),
        letters.followup(language, named=letters.BOTH, interviews=three),
    ):
        flat_text = flat(text)
        days = [flat(letter_date(e.start, letters.BERLIN, language)) for e in three]
        places = [flat_text.find(day) for day in days]
        assert all(p >= 0 for p in places), (days, flat_text)
        assert places == sorted(places)
        assert all(flat_text.count(day) == 1 for day in days)
        assert "Senior Engineer" in flat_text and "Acme – " not in flat_text


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_reason_goes_in_once_without_doubled_punctuation(language: str) -> None:
    """The reason appears as given, ending in one full stop, whether or not it had one."""
    reason = letters.REASONS[language].rstrip(".")
    for given in (reason, reason + ".", reason + " . "):
        text = flat(withdrawal(language, reason=given))
        assert text.count(reason) == 1
        assert reason + "." in text and reason + ".." not in text
    exclaimed = withdrawal(language, reason=reason + "!")
    assert reason + ("\u00a0!" if language == "fr" else "!") in exclaimed.replace("\n", " ")
    assert (
        "!." not in exclaimed
    )  # French sets the mark off with a no-break space, as its letters do


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_short_notice_apology_only_when_late(language: str) -> None:
    """A paragraph apologising appears with short notice and not otherwise."""
    late = set(withdrawal(language, short_notice=True).split("\n"))
    usual = set(withdrawal(language).split("\n"))
    assert late - usual, "no apology paragraph with short notice"
    assert not usual - late


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_follow_up_thanks_for_a_reply_only_after_one(language: str) -> None:
    """After their reply the follow-up says more than without one."""
    assert flat(followup(language, replied=True)) != flat(followup(language, replied=False))


@pytest.mark.parametrize("language", LANGUAGES)
def test_all_day_interviews_name_only_the_day(language: str) -> None:
    """An all-day event gives the date, not a time."""
    day = START.astimezone(BERLIN).date()
    midnight = datetime.combine(day, time(0), tzinfo=BERLIN)
    all_day = replace(interview(midnight), all_day=True, end=midnight + timedelta(days=1))
    text = flat(withdrawal(language, event=all_day))
    assert format_date(day, "full", locale=LOCALES[language]) in text
    assert cldr(language)[1] not in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_check_renders_every_builtin_language(language: str) -> None:
    """`check`'s template check passes for each built-in letter in its language."""
    for kind in ("withdrawal", "followup"):
        text, name = builtin_template(kind, language)
        assert check_template(text, name, kind, zone=BERLIN, language=language) == []


def test_the_snapshots_in_docs_are_what_the_code_renders() -> None:
    """docs/letters/ holds the 56 letters as rendered now (`make letters` rewrites them):
    per language the withdrawal and follow-up, and the withdrawal naming role and employer,
    the employer only, neither, a process of three, `scope = "interview"`, and the
    process's follow-up."""
    for name, text in letters.snapshots().items():
        path = letters.DOCS / name
        assert path.exists(), f"{path} is missing: run make letters"
        assert path.read_text(encoding="utf-8") == text, f"{path} is stale: run make letters"
    assert len(letters.snapshots()) == 56
