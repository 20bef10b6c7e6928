"""What `preview` prints: a message as its recipient reads it, and the notes beside it."""

from __future__ import annotations

import email
import email.policy
import io
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from decliner.core.letters.languages import Choice
    from decliner.core.plan.events import EventRecord
    from decliner.core.plan.naming import Found


def print_message(raw: bytes) -> None:
    """A message as the recipient would read it: headers, body, a line for the calendar."""
    sys.stdout.write(message_text(raw))


def message_text(raw: bytes) -> str:
    """What `preview` prints for a message (the review page shows the same text)."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    out = io.StringIO()
    for name in ("From", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References"):
        if message[name] is not None:
            out.write(f"{name}: {message[name]}\n")
    out.write("\n")
    for part in message.walk():
        if part.is_multipart():
            continue
        kind = part.get_content_type()
        if kind == "text/plain" and not part.get_filename():
            out.write(str(part.get_content()))
        elif kind in {"text/calendar", "application/ics"}:
            filename = part.get_filename()
            label = f"attachment {filename}" if filename else kind
            out.write(f"\n[{label}: {calendar_summary(part.get_content())}]\n")
    return out.getvalue()


def covered_note(event_id: str, lead: str) -> str:
    """What `preview` says of an event another event's process letter withdraws from."""
    return (
        f"{event_id} is withdrawn from in the letter about {lead} (one letter for the"
        " hiring process); that letter is shown, and this event's decline goes to its"
        " organizer when it is sent"
    )


def calendar_summary(content: object) -> str:
    """One line for an iTIP calendar: method, the attendee's answer, event and time."""
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else str(content)
    fields: dict[str, str] = {}
    depth: list[str] = []  # the components the line is in: a VTIMEZONE has DTSTARTs too
    for line in text.replace("\r\n ", "").splitlines():
        name, _, value = line.partition(":")
        key = name.split(";")[0].upper()
        if key in {"BEGIN", "END"}:
            depth = [*depth, value.strip().upper()] if key == "BEGIN" else depth[:-1]
            continue
        if key == "DTSTART" and "VEVENT" not in depth[-1:]:
            continue
        if key in {"METHOD", "SUMMARY", "DTSTART", "UID"} and key not in fields:
            fields[key] = value
        if key == "ATTENDEE":
            partstat = next(
                (p.split("=")[1] for p in name.split(";") if p.upper().startswith("PARTSTAT=")), "?"
            )
            fields["ATTENDEE"] = (
                f"{value.removeprefix('mailto:').removeprefix('MAILTO:')} {partstat}"
            )
    return (
        f"{fields.get('METHOD', '?')}, {fields.get('ATTENDEE', 'no attendee')}"
        f' for "{fields.get("SUMMARY", "")}" at {fields.get("DTSTART", "?")} (UID {fields.get("UID", "?")})'
    )


def booking_notes(event: EventRecord) -> list[str]:
    """What `preview` says beside the message: no decline for a static calendar, and the
    booking links the user should open (decliner never opens them)."""
    notes = []
    if event.kind == "static":
        notes.append(
            "static invitation (a calendar file that cannot be answered, e.g. METHOD:PUBLISH):"
            " the letter goes without a calendar decline, since nobody could process one"
        )
    notes += [
        f"{link.action} link ({link.tool}): {link.url} -- decliner never opens it;"
        " open it yourself to free the slot"
        for link in event.booking_links
    ]
    return notes


def notes(event: EventRecord, language: Choice, named: Found, *, followup: bool) -> list[str]:
    """The lines `preview` writes beside the message: for "auto" what decided the language,
    what the letter calls the role and the employer and where each was found (SPEC 19),
    and for a withdrawal the booking notes."""
    lines = [f"language: {language.language} ({language.note})"] if language.note else []
    for what, value, where in (
        ("role", named.role, named.role_from),
        ("company", named.company, named.company_from),
    ):
        lines.append(f"{what}: {value} (from the {where})" if value else f"{what}: not found")
    if not followup:
        lines += [f"note: {note}" for note in booking_notes(event)]
    return lines
