"""Terminal output: data from messages is shown as text, never as rich markup."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from decliner.cli import output, progress
from decliner.core.parse.model import Address
from decliner.core.plan.events import EventRecord
from decliner.service.listing import InviteView
from decliner.service.thread_log import LogEntry
from tests.testbed.records import interview_record

SAM = Address("sam@acme.example", "Sam")
START = datetime(2027, 1, 5, 14, tzinfo=UTC)


def event(summary: str) -> EventRecord:
    record = interview_record(START, event_id="abcdef123456", uid="u", summary=summary)
    return replace(record, organizer=SAM, attendee=None, invite=replace(record.invite, from_=SAM))


def test_markup_in_a_summary_is_printed_literally(capsys: pytest.CaptureFixture[str]) -> None:
    """A summary like '[bold red]x[/]' appears as typed in the table and the log."""
    tricky = "Interview [red]URGENT[/red] [link=http://x]"
    output.invites_table(
        [InviteView(event(tricky), "upcoming", None, SAM.email, "Sam")], ZoneInfo("UTC")
    )
    entry = LogEntry(
        event(tricky),
        "out",
        "withdrawal",
        "<m@x>",
        "<i@x>",
        "me@x.example",
        (SAM.email,),
        (),
        f"Re: {tricky}",
        START,
        "sent",
        1,
        None,
    )
    output.log_threads([entry], ZoneInfo("UTC"))
    printed = capsys.readouterr().out
    assert printed.count("[red]URGENT[/red]") >= 2


def test_short_ids_stay_unique() -> None:
    """The table's id prefix grows until every shown id is distinct (at least 6 digits)."""
    assert output.short_id_width(["abcdef123456", "fedcba654321"]) == 6
    assert output.short_id_width(["abcdef123456", "abcdef923456"]) == 7
    assert output.short_id_width([]) == 6


def test_progress_bar_only_on_a_terminal_and_large_folders(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first scan of a large folder draws a bar on a terminal; small folders and pipes get none."""
    with progress.scan_progress() as update:
        assert update is None  # stderr is captured, not a terminal
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich then treats stderr as a terminal
    with progress.scan_progress() as update:
        assert update is not None
        update("Small", 50, 50)
        update("INBOX", 1500, 5000)
    drawn = capsys.readouterr().err
    assert "reading INBOX" in drawn and "1500/5000" in drawn
    assert "Small" not in drawn


def test_the_calendar_line_gives_the_events_start_not_its_time_zones() -> None:
    """An Outlook REPLY puts a VTIMEZONE (with DTSTARTs of 1601) before the VEVENT: the
    line `preview` prints names the event's own start."""
    from decliner.cli.preview_text import calendar_summary

    reply = (
        "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VTIMEZONE\r\nTZID:W. Europe Standard Time\r\n"
        "BEGIN:STANDARD\r\nDTSTART:16010101T030000\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
        "BEGIN:VEVENT\r\nUID:x@acme\r\nSUMMARY:Interview\r\n"
        "DTSTART;TZID=W. Europe Standard Time:20261210T150000\r\n"
        "ATTENDEE;PARTSTAT=DECLINED:mailto:jane@example.com\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    line = calendar_summary(reply)
    assert "at 20261210T150000" in line and "1601" not in line
    assert line.startswith("REPLY, jane@example.com DECLINED")
