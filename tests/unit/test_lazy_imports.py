"""A quiet pass loads none of the heavy machinery it does not use (start-up stays fast)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.testbed.maildir_tree import Tree, invite

HEAVY = (
    "babel",
    "holidays",
    "py3langid",
    "numpy",
    "caldav",
    "niquests",
    "lxml",
    "icalendar",
    "recurring_ical_events",
    "jinja2",
    "aiosmtplib",
    "asyncio",
    "apscheduler",
    "rich",
    "platformdirs",
)

PROBE = """
import json, sys
from decliner.cli.main import main
sys.argv = ["decliner", "--config", sys.argv[1], "run", "--once"]
try:
    main()
except SystemExit as stop:
    assert not stop.code, stop.code
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)), file=sys.stderr)
"""


def loaded_by_a_pass(config: Path) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found: list[str] = json.loads(done.stderr.strip().splitlines()[-1])
    return found


def test_a_quiet_pass_imports_no_language_calendar_or_holiday_machinery(tmp_path: Path) -> None:
    """With language "auto" and an invitation already read but nothing new and nothing to
    send, `run --once` imports none of the heavy machinery: no calendar parser, template
    engine, SMTP client or event loop, Babel, language detector, holidays or CalDAV client,
    nor rich for its one line to a pipe (each is loaded the first time it is needed); with
    followup.holidays set, only the holidays package, which checks the code at load."""
    tree = Tree(tmp_path)
    tree.add(invite("quiet@example.com")[0])
    config = tree.config()
    text = config.source.read_text().replace('timezone = "', 'language = "auto"\ntimezone = "')
    config.source.write_text(text)
    assert "icalendar" in loaded_by_a_pass(config.source)  # the first pass reads the invite
    assert loaded_by_a_pass(config.source) == []
    config.source.write_text(text + '\n[followup]\nholidays = "DE"\n')
    assert loaded_by_a_pass(config.source) == ["holidays"]
