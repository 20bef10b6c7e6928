"""The built-in letters name the interview by its role and employer (SPEC 19), by one of
them when only one is known, by its date alone when neither is, and never by the
calendar's title, in all seven languages."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from decliner.core.letters.languages import LANGUAGES
from decliner.core.letters.templating import (
    builtin_template,
    context,
    fill,
    followup_variables,
    sample_event,
)
from decliner.core.parse.model import Address

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
TITLE = "Interview: Jane Doe <> Acme | JR1234567"
ROLE, COMPANY = "Senior Engineer", "Acme"

NAMED = {  # (both known, role only, employer only, neither)
    "en": (
        "my interview for the Senior Engineer role at Acme on",
        "my interview for the Senior Engineer role on",
        "my interview at Acme on",
        "from my interview on",
    ),
    "de": (
        "mein Vorstellungsgespräch für die Position als Senior Engineer bei Acme am",
        "mein Vorstellungsgespräch für die Position als Senior Engineer am",
        "mein Vorstellungsgespräch bei Acme am",
        "mein Vorstellungsgespräch am",
    ),
    "fr": (
        "mon entretien pour le poste de Senior Engineer chez Acme prévu le",
        "mon entretien pour le poste de Senior Engineer prévu le",
        "mon entretien chez Acme prévu le",
        "mon entretien prévu le",
    ),
    "es": (
        "mi entrevista para el puesto de Senior Engineer en Acme prevista para",
        "mi entrevista para el puesto de Senior Engineer prevista para",
        "mi entrevista en Acme prevista para",
        "mi entrevista prevista para",
    ),
    "it": (
        "il mio colloquio per la posizione di Senior Engineer presso Acme previsto per",
        "il mio colloquio per la posizione di Senior Engineer previsto per",
        "il mio colloquio presso Acme previsto per",
        "il mio colloquio previsto per",
    ),
    "pt": (
        "a minha entrevista para a posição de Senior Engineer na empresa Acme marcada para",
        "a minha entrevista para a posição de Senior Engineer marcada para",
        "a minha entrevista na empresa Acme marcada para",
        "a minha entrevista marcada para",
    ),
    "nl": (
        "mijn sollicitatiegesprek voor de functie van Senior Engineer bij Acme op",
        "mijn sollicitatiegesprek voor de functie van Senior Engineer op",
        "mijn sollicitatiegesprek bij Acme op",
        "mijn sollicitatiegesprek op",
    ),
}


def letter(kind: str, language: str, role: str, company: str, scope: str = "process") -> str:
    event = replace(sample_event(NOW), summary=TITLE)
    variables = context(
        event=event,
        me=Address("jane@example.com", "Jane Doe"),
        recipient=Address("sam@acme.example", "Sam Recruiter"),
        reason="",
        offer_help=False,
        keep_in_touch=False,
        short_notice=False,
        now=NOW,
        language=language,
    )
    variables.update(role=role, company=company, scope=scope)
    if kind == "followup":
        variables.update(followup_variables(date=NOW, subject="Withdrawal", replied=False))
    filled = fill(builtin_template(kind, language), variables, BERLIN, language)
    return " ".join(filled.body.split())


@pytest.mark.parametrize("language", sorted(NAMED))
@pytest.mark.parametrize("kind", ["withdrawal", "followup"])
def test_the_interview_is_named_by_role_and_employer(kind: str, language: str) -> None:
    """Both, the role alone, the employer alone, neither: each as the language says it,
    and the calendar title (with the candidate's name, `<>` and a requisition id) never."""
    both, role_only, company_only, neither = NAMED[language]
    cases = [
        (ROLE, COMPANY, both),
        (ROLE, "", role_only),
        ("", COMPANY, company_only),
        ("", "", neither),
    ]
    for role, company, expected in cases:
        text = letter(kind, language, role, company)
        assert expected in text, (role, company, text)
        assert TITLE not in text
        assert "JR1234567" not in text
        assert "<>" not in text


def test_every_language_is_covered() -> None:
    """A new language gets its naming pinned here too."""
    assert set(NAMED) == set(LANGUAGES)


def test_french_elides_de_before_a_vowel() -> None:
    """« poste d’ingénieur », not « poste de ingénieur »."""
    text = letter("withdrawal", "fr", "ingénieure logicielle", "Acme")
    assert "pour le poste d’ingénieure logicielle chez Acme" in text


STILL_INTERESTED = {
    "en": ("I remain interested in the role.", "from the hiring process"),
    "de": ("An der Position bin ich weiterhin interessiert.", "zurück"),
    "fr": ("Le poste m’intéresse toujours.", "retir"),
    "es": ("El puesto sigue siendo de mi interés.", "retir"),
    "it": ("La posizione continua a interessarmi.", "ritira"),
    "pt": ("Continuo com interesse na posição.", "retir"),
    "nl": ("Ik blijf geïnteresseerd in de functie.", "sollicitatie in"),
}


@pytest.mark.parametrize("language", sorted(STILL_INTERESTED))
@pytest.mark.parametrize("kind", ["withdrawal", "followup"])
def test_scope_interview_says_the_user_remains_interested(kind: str, language: str) -> None:
    """With `scope = "interview"` the letter cancels this interview only and says the user
    remains interested in the role; it never says the application is withdrawn
    (SPEC 18). The default, "process", withdraws the application and says nothing of
    staying interested."""
    interested, withdrawn = STILL_INTERESTED[language]
    one = letter(kind, language, ROLE, COMPANY, scope="interview")
    assert interested in one
    assert withdrawn not in one
    assert NAMED[language][0] in one
    whole = letter(kind, language, ROLE, COMPANY)
    assert interested not in whole
    assert withdrawn in whole
