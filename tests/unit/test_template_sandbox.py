"""Templates cannot reach Python internals (issue 17, item 5): each escape is refused by the
sandbox with file, line and reason, and Jinja's own globals render only as a repr."""

from __future__ import annotations

import re

import pytest

from decliner.core.letters.headers import TemplateProblem
from decliner.core.letters.templating import context, fill, sample_event
from tests.testbed.injection import (
    BERLIN,
    JANE,
    NOW,
)
from tests.testbed.template_escapes import ESCAPES, HARMLESS


def sample_context() -> dict[str, object]:
    """The variables `check` renders a template with."""
    event = sample_event(NOW)
    assert event.organizer is not None
    return context(
        event=event,
        me=JANE,
        recipient=event.organizer,
        reason="I have accepted another offer",
        offer_help=True,
        keep_in_touch=True,
        short_notice=False,
        now=NOW,
    )


@pytest.mark.parametrize(("source", "refusal"), ESCAPES)
def test_template_escape_is_refused_with_file_and_line(source: str, refusal: str) -> None:
    """Each escape, in the body or the Subject: line, is a TemplateProblem naming the file, the
    line and why; no text is produced to send."""
    for text, line in ((f"Hi\n{source}\n", 2), (f"Subject: {source}\n\nHi\n", 1)):
        with pytest.raises(TemplateProblem) as caught:
            fill((text, "evil.j2"), sample_context(), BERLIN)
        assert (caught.value.name, caught.value.line) == ("evil.j2", line)
        assert refusal in caught.value.message


@pytest.mark.parametrize("source", HARMLESS)
def test_sandbox_globals_render_only_as_a_repr(source: str) -> None:
    """Jinja's own globals print as a bare repr, which reaches nothing."""
    filled = fill((f"Hi\n{source}\n", "t.j2"), sample_context(), BERLIN)
    assert re.fullmatch(r"Hi\n<[^<>\n]+>\n", filled.body), filled.body
