"""Which language a letter is written in (SPEC 14): configured, or detected for "auto"."""

from __future__ import annotations

import pytest

from decliner.core.letters.languages import LANGUAGES, Choice, choose, detect

SAMPLES = {
    "en": "Technical interview with the platform team, followed by a short chat with the manager.",
    "de": "Technisches Gespräch mit dem Plattform-Team, danach ein kurzes Gespräch mit der Leitung.",
    "fr": "Entretien technique avec l'équipe plateforme, suivi d'un court échange avec la responsable.",
    "es": "Entrevista técnica con el equipo de plataforma, seguida de una breve charla con la jefa.",
    "it": "Colloquio tecnico con il team della piattaforma, seguito da una breve chiacchierata.",
    "nl": "Technisch gesprek met het platformteam, gevolgd door een kort gesprek met de manager.",
    "pt": "Entrevista técnica com a equipa da plataforma, seguida de uma breve conversa com a diretora.",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_detects_each_of_the_seven(language: str) -> None:
    """A sentence of an invitation's description is told apart among the seven."""
    found, confidence = detect(SAMPLES[language])
    assert found == language and confidence >= 0.8


def test_configured_languages_win_and_need_no_detection() -> None:
    """[[cancel]].language over account.language; neither "auto" means no note."""
    assert choose("de", "fr", []) == Choice("de")
    assert choose("", "fr", []) == Choice("fr")
    assert choose("", "", []) == Choice("en")


def test_auto_uses_the_first_source_it_is_sure_of() -> None:
    """The description first; a subject too short to tell is skipped."""
    chosen = choose("", "auto", [("description", SAMPLES["fr"]), ("subject", SAMPLES["de"])])
    assert chosen.language == "fr" and "description" in chosen.note
    chosen = choose("auto", "en", [("description", ""), ("subject", SAMPLES["it"])])
    assert chosen.language == "it" and "subject" in chosen.note


def test_auto_falls_back_to_english_and_says_why() -> None:
    """Nothing long enough, or nothing sure enough: English, and the note says so."""
    chosen = choose("", "auto", [("description", ""), ("subject", "Interview")])
    assert chosen == Choice("en", chosen.note) and "not sure" in chosen.note
    mixed = "Interview Gespräch entretien colloquio"
    chosen = choose("", "auto", [("subject", mixed)])
    assert chosen.language in LANGUAGES and chosen.note
