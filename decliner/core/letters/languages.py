"""The seven languages decliner writes in, and which one a letter is written in (SPEC 14).

`[[cancel]].language`, else `account.language`; "auto" looks at what the
invitation is written in: its description, else the message's text, else its
subject, with py3langid restricted to the seven. Below `MIN_CONFIDENCE` the
letter is English and the choice says why. The detector (numpy and a model of
a few MB) is imported only when "auto" is actually used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "pt")
NAMES = {
    "en": "English",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
    "nl": "Dutch",
    "pt": "Portuguese",
}
# The CLDR locale of each letter: British English keeps day-month order and the 24-hour
# clock; European Portuguese names zones (CET) where pt_BR gives only an offset, and writes
# the same full dates.
LOCALES = {
    "en": "en_GB",
    "de": "de_DE",
    "fr": "fr_FR",
    "es": "es_ES",
    "it": "it_IT",
    "nl": "nl_NL",
    "pt": "pt_PT",
}
AUTO = "auto"
MIN_CONFIDENCE = 0.8  # py3langid's normalised probability over the seven
MIN_LETTERS = 12  # shorter texts say too little to tell languages apart


@dataclass(frozen=True, slots=True)
class Choice:
    """The letter's language and, for "auto", what decided it (shown by `preview`)."""

    language: str
    note: str = ""


def choose(rule: str, account: str, sources: Sequence[tuple[str, str]]) -> Choice:
    """The language for one letter: `rule` ([[cancel]].language) or `account`; for "auto",
    the first of `sources` ((where, text) pairs, best first) detected with confidence."""
    wanted = rule or account or "en"
    if wanted != AUTO:
        return Choice(wanted)
    tried: list[str] = []
    for where, text in sources:
        if sum(c.isalpha() for c in text) < MIN_LETTERS:
            continue
        language, confidence = detect(text)
        if confidence >= MIN_CONFIDENCE:
            return Choice(language, f"auto: {NAMES[language]}, detected in the {where}")
        tried.append(f"{where}: {NAMES[language]}? {confidence:.0%}")
    why = "; ".join(tried) if tried else "no text long enough to tell"
    return Choice("en", f"auto: not sure of the invitation's language ({why}); writing English")


def detect(text: str) -> tuple[str, float]:
    """The most likely of the seven languages for `text`, and its probability."""
    language, confidence = _identifier().classify(" ".join(text.split())[:2000])
    return str(language), float(confidence)


@cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier  # type: ignore[import-untyped]

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier
