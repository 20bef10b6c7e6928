"""Finding the event a command names: by short id, unique id prefix, or full UID."""

from __future__ import annotations

from decliner.core.plan.events import EventRecord
from decliner.errors import UserError
from decliner.store import Store
from decliner.store import events as event_db


def find_event(store: Store, key: str) -> EventRecord:
    """An event by short id, unique id prefix, or full UID; ambiguity lists the candidates."""
    records = event_db.all_events(store.connection)
    exact = [e for e in records if key in {e.id, e.uid}]
    matches = exact or [e for e in records if e.id.startswith(key.lower())]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise UserError(f"no invitation matches {key!r}; see `decliner invites --all`")
    raise UserError(f"{key!r} is ambiguous: " + ", ".join(_label(e) for e in matches[:8]))


def _label(event: EventRecord) -> str:
    return f"{event.id} ({event.summary[:40]}, {event.start:%Y-%m-%d})"
