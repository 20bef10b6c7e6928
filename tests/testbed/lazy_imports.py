"""What a quiet `run --once` imports of the heavy machinery, probed in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
    "flask",
    "werkzeug",
    "authlib",
    "requests",
    "decliner.auth",
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
    """The heavy modules a `run --once` with `config` imported, sorted."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found: list[str] = json.loads(done.stderr.strip().splitlines()[-1])
    return found
