"""`decliner preview`: an event's message as stored, or as it would be written now, and
the language its letters are written in."""

from __future__ import annotations

import secrets

from decliner.config import Config
from decliner.core.letters.headers import RenderError, TemplateProblem
from decliner.core.letters.languages import Choice
from decliner.core.plan.actions import LetterKind
from decliner.core.plan.cover import cover
from decliner.core.plan.naming import Found
from decliner.core.plan.outbox import OutboxRow, RowKind
from decliner.errors import UserError
from decliner.service import letters
from decliner.service import snapshot as read_model
from decliner.service.lookup import find_event
from decliner.service.runner import Runner
from decliner.service.wiring import utcnow
from decliner.store import Store
from decliner.store import outbox as outbox_db


def message(config: Config, store: Store, key: str, *, kind: LetterKind) -> bytes:
    """The bytes stored for the event's message, or the message as it would be written now;
    for an event another event's process letter withdraws from, that letter (SPEC 18)."""
    event = find_event(store, key)
    if (lead := covered_by(config, store, key)) is not None:
        event = find_event(store, lead)
    stored = stored_message(store, event.id, kind)
    if stored is not None and stored.raw is not None:
        return stored.raw
    runner = Runner(config, store, now=utcnow)
    try:
        rendered = runner.preview(event, kind, token=f"preview.{secrets.token_hex(8)}")
    except (RenderError, TemplateProblem) as exc:
        raise UserError(f"cannot preview the {kind} for {event.id}: {exc}") from None
    return rendered.raw


def covered_by(config: Config, store: Store, key: str) -> str | None:
    """The id of the event whose process letter withdraws from this one, if another's does."""
    event = find_event(store, key)
    now = utcnow()
    situations = read_model.situations(config, read_model.read(config, store.connection, now))
    return cover(situations, now).lead_of.get(event.id)


def stored_message(store: Store, event_id: str, kind: RowKind) -> OutboxRow | None:
    """The event's outbox row of this kind (its bytes once written), if it has one."""
    return next((r for r in outbox_db.rows(store.connection, event_id) if r.kind == kind), None)


def letter_language(config: Config, store: Store, key: str) -> Choice:
    """Which language the event's letters are written in, and for "auto" why."""
    return letters.letter_language(config, find_event(store, key))


def naming(config: Config, store: Store, key: str) -> Found:
    """What the event's letters call its role and employer, and where each was found
    (SPEC 19): the flag's or `[[cancel]]`'s when given, else the invitation's."""
    event = find_event(store, key)
    intent = read_model.read(config, store.connection, utcnow()).intents.get(event.id)
    return read_model.named(config, event, intent)
