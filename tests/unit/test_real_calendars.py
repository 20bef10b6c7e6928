"""Calendars other projects keep as test data (issue 24 item 6), through a real Maildir
scan: no crash, no repr of a library object, every skip warned with its reason, every
listed start equal to icalendar's own reading, every listed REQUEST previewed with a
REPLY that parses.

The files are third-party data, so they are not committed here: the corpus lives in the
steering repository's `shared/corpus/real/` (SOURCES.toml names each file's project,
commit and licence), or wherever DECLINER_REAL_CORPUS points. Without it the test skips
and says why.
"""

from __future__ import annotations

import email
import email.policy
import json
import logging
import mailbox
import os
import re
import tomllib
from collections import Counter
from datetime import UTC, date, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from icalendar import Calendar

from decliner.cli.main import cli
from decliner.config import check_address

REPO = Path(__file__).parents[2]
CORPUS = Path(os.environ.get("DECLINER_REAL_CORPUS", REPO.parent / "shared" / "corpus" / "real"))
ME = "jane.doe@example.com"
REPRS = re.compile(r"\bv(Text|CalAddress|DDDTypes|Recur|Broken|Int|Date|DateTime)\(|<icalendar\.")
ADDRESS = re.compile(r"(?im)^(?:ATTENDEE|ORGANIZER)[^\r\n]*?:mailto:([^\s;:>]+@[^\s;:>]+)")

pytestmark = pytest.mark.skipif(
    not (CORPUS / "SOURCES.toml").exists(),
    reason=f"the real-calendar corpus is not at {CORPUS} (see this module's docstring)",
)


def sources() -> list[dict[str, Any]]:
    return list(tomllib.loads((CORPUS / "SOURCES.toml").read_text(encoding="utf-8"))["file"])


def wrapped(ics: bytes, method: str, name: str) -> bytes:
    """A calendar file as a mail client receives it: one text/calendar part."""
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = "Organizer <organizer@producer.example>"
    message["To"] = ME
    message["Subject"] = f"Invitation: {name}"
    message["Message-ID"] = f"<{abs(hash(name))}@corpus.example>"
    message.set_content("Calendar attached.\n")
    params = {"method": method} if method else {}
    message.add_alternative(ics, maintype="text", subtype="calendar", params=params)
    return message.as_bytes()


def valid(address: str) -> bool:
    try:
        check_address(address)
    except ValueError:
        return False
    return True


def same_instance(prop: Any, stored: str) -> bool:
    """Whether a RECURRENCE-ID names the stored instance (an aware instant or a date)."""
    value = getattr(prop, "dt", None)
    if isinstance(value, datetime):
        return value.tzinfo is not None and value.astimezone(UTC) == datetime.fromisoformat(stored)
    return isinstance(value, date) and value.isoformat() == stored


def expected_start(ics: bytes, uid: str, recurrence_id: str | None) -> datetime | None:
    """DTSTART as icalendar reads it (its own zone handling, not decliner's), in UTC; None
    when icalendar cannot say (a floating time, a zone it does not know)."""
    try:
        calendar = Calendar.from_ical(ics)
    except ValueError:
        return None
    for vevent in calendar.walk("VEVENT"):
        if str(vevent.get("UID", "")).strip() != uid or "DTSTART" not in vevent:
            continue
        if bool(recurrence_id) != ("RECURRENCE-ID" in vevent):
            continue
        if recurrence_id and not same_instance(vevent["RECURRENCE-ID"], recurrence_id):
            continue
        value: Any = getattr(vevent["DTSTART"], "dt", None)
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.astimezone(UTC)
        return None
    return None


def test_real_calendars_through_a_maildir_scan(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Every file is read without a crash or a repr; each skip is warned with its reason;
    listed starts match icalendar's; each listed REQUEST previews with a parseable REPLY."""
    files = sources()
    root = tmp_path / "mail"
    box = mailbox.Maildir(root, create=True)
    texts: dict[str, bytes] = {}
    for entry in files:
        data = (CORPUS / entry["path"]).read_bytes()
        texts[entry["path"]] = data
        raw = (
            data
            if entry["path"].endswith(".eml")
            else wrapped(data, entry["method"], entry["path"])
        )
        box.add(mailbox.MaildirMessage(raw))
    found = {
        m.lower() for d in texts.values() for m in ADDRESS.findall(d.decode("utf-8", "replace"))
    }
    invited = sorted(a for a in found - {ME} if valid(a))
    aliases = ", ".join(json.dumps(a) for a in invited)
    (tmp_path / "config.toml").write_text(
        f'[account]\nname = "Jane Doe"\nemail = "{ME}"\naliases = [{aliases}]\n'
        'timezone = "Europe/Berlin"\n[maildir]\npath = "mail"\n'
        '[smtp]\ntransport = "maildir"\nmaildir_path = "outbox"\n[state]\npath = "state.db"\n',
        encoding="utf-8",
    )
    config = ["--config", str(tmp_path / "config.toml")]
    with caplog.at_level(logging.INFO):
        listed = CliRunner().invoke(cli, [*config, "invites", "--all", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    logged = [r.getMessage() for r in caplog.records]
    for text in (listed.stdout, *logged):
        assert not REPRS.search(text), text
    skipped = [line for line in logged if "skipped an unreadable" in line]
    for line in skipped:
        assert re.search(r"folder INBOX key \S+: skipped an unreadable \w+ \([a-z-]+: .+\)", line)
    mismatched, compared = [], 0
    for row in rows:
        if row["all_day"]:
            continue
        # Several files may carry one UID (a series and its changes): ours is one of theirs.
        wanted = {
            want
            for path, data in texts.items()
            if row["uid"].encode() in data
            and (want := expected_start(data, row["uid"], row["recurrence_id"])) is not None
        }
        if not wanted:
            continue
        compared += 1
        if datetime.fromisoformat(row["start"]).astimezone(UTC) not in wanted:
            mismatched.append((row["uid"], row["start"], sorted(w.isoformat() for w in wanted)))
    requests = [r for r in rows if r["kind"] == "request" and r["organizer"]]
    for row in requests:
        shown = CliRunner().invoke(cli, [*config, "preview", row["id"], "--raw"])
        assert shown.exit_code in (0, 2), shown.output
        if shown.exit_code == 0:
            parsed = email.message_from_bytes(shown.stdout_bytes, policy=email.policy.default)
            part = next(p for p in parsed.walk() if p.get_content_type() == "text/calendar")
            payload: Any = part.get_payload(decode=True)
            reply = Calendar.from_ical(payload)
            assert str(reply["METHOD"]) == "REPLY"
            assert not reply.errors
    listings = [e["path"] for e in files if e.get("published_listing")]
    listed_listings = [
        path for path in listings for row in rows if row["uid"].encode() in texts[path]
    ]
    assert listed_listings == [], listed_listings
    reasons = Counter(re.search(r"\(([a-z-]+):", s).group(1) for s in skipped)  # type: ignore[union-attr]
    print(  # the figures the note reports
        f"\nreal corpus: {len(files)} files, {len(rows)} events listed, {len(requests)} requests"
        f" previewed, {len(skipped)} skipped {dict(reasons)}, {compared} starts compared,"
        f" {len(mismatched)} differ; {len(listings)} published listings, none listed"
    )
    assert not mismatched, mismatched[:10]
