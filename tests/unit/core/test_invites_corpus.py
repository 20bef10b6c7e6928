"""The invitation corpus: each real-world message parses exactly as expected.toml says."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from decliner.core.parse import InviteEvent, ParsedInvite, Rejected, parse_message

CORPUS = Path(__file__).parents[2] / "corpus" / "invites"
EXPECTED = CORPUS / "expected.toml"
ME = ("jane.doe@example.com", "jdoe@example.org")
BERLIN = ZoneInfo("Europe/Berlin")

# Cases where the corpus expectation is wrong (checked with zoneinfo); see the report.
CORPUS_ERRORS: dict[str, str] = {}


def _cases() -> list[Any]:
    if not EXPECTED.exists():
        return [pytest.param({}, marks=pytest.mark.skip(reason="no corpus yet"), id="none")]
    messages = tomllib.loads(EXPECTED.read_text(encoding="utf-8"))["message"]
    return [
        pytest.param(
            case,
            id=case["file"],
            marks=[pytest.mark.xfail(reason=CORPUS_ERRORS[case["file"]], strict=True)]
            if case["file"] in CORPUS_ERRORS
            else [],
        )
        for case in messages
    ]


def _when(value: datetime | date | None) -> str:
    """A corpus timestamp: "" for none, a date, or UTC with a Z."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat()


def _actual_event(event: InviteEvent) -> dict[str, Any]:
    return {
        "uid": event.uid,
        "recurrence_id_utc": _when(event.recurrence_id),
        "sequence": event.sequence,
        "summary": event.summary,
        "start_utc": _when(event.start_date if event.all_day else event.start),
        "end_utc": _when(event.end_date if event.all_day else event.end),
        "all_day": event.all_day,
        "rrule": event.rrule,
        "organizer": event.organizer.email if event.organizer else "",
        "organizer_name": event.organizer.name if event.organizer else "",
        "attendee": event.attendee.email if event.attendee else "",
        "location": event.location,
    }


def _by_key(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(events, key=lambda e: (e["uid"], e.get("recurrence_id_utc", "")))


@pytest.mark.parametrize("case", _cases())
def test_corpus_message(case: dict[str, Any]) -> None:
    """One corpus message: invite or not, rejection reason, headers and every event field.

    A CANCEL is `invite = false` in the corpus yet lists its events: we return it parsed.
    """
    raw = (CORPUS / case["file"]).read_bytes()
    result = parse_message(raw, me=ME, default_tz=BERLIN)
    if case.get("rejected"):
        assert isinstance(result, Rejected), result
        assert result.reason == case["rejected"], result.detail
        return
    if not case.get("invite", True) and not case.get("event"):
        assert result is None
        return
    assert isinstance(result, ParsedInvite), result
    message = result.message
    assert result.method == case.get("method", "")
    assert message.message_id == case.get("message_id", message.message_id)
    assert message.subject == case.get("subject", message.subject)
    assert (message.from_.email if message.from_ else "") == case.get("from", "")
    assert (message.reply_to.email if message.reply_to else "") == case.get("reply_to", "")
    expected = _by_key(case.get("event", []))
    actual = _by_key([_actual_event(event) for event in result.events])
    assert len(actual) == len(expected)
    for want, got in zip(expected, actual, strict=True):
        assert {key: got[key] for key in want if key in got} == {
            key: value for key, value in want.items() if key in got
        }
