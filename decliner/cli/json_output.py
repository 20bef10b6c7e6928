"""The JSON the CLI prints for scripts: the SPEC's `invites --json` and `log --json`
objects, built from what the service returns, and the one way they are written."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from decliner.config import Config
    from decliner.service.listing import InviteView
    from decliner.service.thread_log import LogEntry


def print_json(data: Any) -> None:
    """JSON for scripts: one document on stdout, UTF-8, stable key order."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def invite_json(view: InviteView, config: Config) -> dict[str, object]:
    """The SPEC's `invites --json` object, times in the account's zone."""
    zone = config.account.zone
    e = view.event
    return {
        "id": e.id,
        "uid": e.uid,
        "recurrence_id": e.recurrence_id or None,
        "summary": e.summary,
        "start": e.start.astimezone(zone).isoformat(),
        "end": e.end.astimezone(zone).isoformat(),
        "all_day": e.all_day,
        "location": e.location,
        "organizer": e.organizer.email if e.organizer else None,
        "organizer_name": e.organizer.name if e.organizer else "",
        "recipient": view.recipient_email,
        "recipient_name": view.recipient_name,
        "folder": e.invite.folder,
        "status": view.status,
        "flagged_by": view.flagged_by,
        "looks_like_interview": e.interview,
        "kind": e.kind,
        "booking_links": [link.as_json() for link in e.booking_links],
        "calendar": view.calendar,
        "role": view.named.role,
        "company": view.named.company,
        "process": view.process,
        "sequence": e.sequence,
    }


def log_entry_json(entry: LogEntry, config: Config) -> dict[str, object]:
    """The SPEC's `log --json` object, the date in the account's zone."""
    return {
        "event_id": entry.event.id,
        "direction": entry.direction,
        "kind": entry.kind,
        "message_id": entry.message_id,
        "in_reply_to": entry.in_reply_to or None,
        "from": entry.sender,
        "to": list(entry.to),
        "cc": list(entry.cc),
        "subject": entry.subject,
        "date": entry.date.astimezone(config.account.zone).isoformat(),
        "state": entry.state,
        "attempts": entry.attempts,
        "error": entry.error,
        "cancel_reason": entry.cancel_reason,
        "summary": entry.event.summary,
        "booking_links": [link.as_json() for link in entry.event.booking_links],
    }
