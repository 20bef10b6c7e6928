"""A quiet pass loads none of the heavy machinery it does not use (start-up stays fast)."""

from __future__ import annotations

from pathlib import Path

from tests.testbed.lazy_imports import loaded_by_a_pass
from tests.testbed.maildir_tree import Tree, invite


def test_a_quiet_pass_imports_no_language_calendar_or_holiday_machinery(tmp_path: Path) -> None:
    """With language "auto" and an invitation already read but nothing new and nothing to
    send, `run --once` imports none of the heavy machinery: no calendar parser, template
    engine, SMTP client or event loop, Babel, language detector, holidays or CalDAV client,
    rich for its one line to a pipe, the review page's web framework or the OAuth2 client
    (each is loaded the first time it is needed); with followup.holidays set, only the
    holidays package, which checks the code at load."""
    tree = Tree(tmp_path)
    tree.add(invite("quiet@example.com")[0])
    config = tree.config()
    text = config.source.read_text().replace('timezone = "', 'language = "auto"\ntimezone = "')
    config.source.write_text(text)
    assert "icalendar" in loaded_by_a_pass(config.source)  # the first pass reads the invite
    assert loaded_by_a_pass(config.source) == []
    config.source.write_text(text + '\n[followup]\nholidays = "DE"\n')
    assert loaded_by_a_pass(config.source) == ["holidays"]
