"""What a pass or a listing knows, read once: events, flags, outbox rows, replies.

Reads only: flags newly seen in mail or config count from `now` until a pass stores
them (`settle`), so a listing never starts a grace period (SPEC 16).
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from decliner.config import Config
from decliner.core.parse.model import Address
from decliner.core.parse.replies import Reply
from decliner.core.plan import recipient as recipients
from decliner.core.plan.cover import process_ids
from decliner.core.plan.events import EventRecord
from decliner.core.plan.flags import (
    CancelRule,
    Intent,
    MessageFlag,
    flag_sources,
    intents,
    rules_by_event,
    with_derived,
)
from decliner.core.plan.naming import NOTHING, Found, name_interview
from decliner.core.plan.outbox import OutboxRow, RowKey, RowKind
from decliner.core.plan.situation import Situation
from decliner.service.policy import cancel_rules, flag_folder
from decliner.store import events as event_db
from decliner.store import flags as flag_db
from decliner.store import mailbox
from decliner.store import outbox as outbox_db
from decliner.store import thread as thread_db


@dataclass(frozen=True)
class Snapshot:
    """Everything a plan or a listing needs about every event, read at one moment."""

    events: Sequence[EventRecord]
    rule_of: Mapping[str, CancelRule]  # event id -> the first [[cancel]] rule naming it
    sources: Mapping[str, list[str]]  # event id -> why it is flagged now
    intents: Mapping[str, Intent]
    rows: Mapping[RowKey, OutboxRow]
    replies: Mapping[str, Sequence[Reply]]

    def row(self, event_id: str, kind: RowKind) -> OutboxRow | None:
        """The event's outbox row of this kind, if it has one."""
        return self.rows.get(RowKey(event_id, kind))


def read(
    config: Config,
    conn: sqlite3.Connection,
    now: datetime,
    *,
    acting_only: bool = False,
    wide: bool = False,
) -> Snapshot:
    """Read the whole snapshot; `[[cancel]]` rules are matched once per event here.

    `acting_only` (a pass's plan): only the events a plan can act on, those something
    flags or with an outbox row, as the plan yields nothing for the others; a quiet pass
    then reads no row per known event. The upcoming events are read too when a process
    letter (SPEC 18) may still name them (a flag of scope "process" whose letter is not
    written yet), or when `wide` (new invitations arrived: one may be late for a
    process already withdrawn from). With `[[cancel]]` rules every event is read, as
    any of them may match one."""
    rules = cancel_rules(config)
    folder = flag_folder(config)
    rows = outbox_db.rows(conn)
    if not acting_only or rules:
        flagging = [m for m in mailbox.messages(conn) if m.kind == "invite"]
        return _snapshot(config, conn, now, event_db.all_events(conn), flagging=flagging, rows=rows)
    flagging = mailbox.flagging_invites(conn, folder)
    wanted = {eid for m in flagging for eid in m.event_ids}
    # A written process letter's other interviews are acted on with it (their REPLY and
    # calendar rows are queued when it is sent).
    covered = {c for row in rows for c in row.covers}
    acting = wanted | flag_db.flagged_ids(conn) | outbox_db.event_ids(conn) | covered
    if not acting:
        return _snapshot(config, conn, now, [], flagging=flagging, rows=rows)
    snapshot = _snapshot(
        config, conn, now, event_db.by_ids(conn, acting), flagging=flagging, rows=rows
    )
    if wide or _letter_open(config, snapshot):
        events = event_db.by_ids_and_upcoming(conn, acting, now)
        snapshot = _snapshot(config, conn, now, events, flagging=flagging, rows=rows)
    return snapshot


def _snapshot(
    config: Config,
    conn: sqlite3.Connection,
    now: datetime,
    events: Sequence[EventRecord],
    *,
    flagging: Sequence[mailbox.StoredMessage],
    rows: Sequence[OutboxRow],
) -> Snapshot:
    rule_of = rules_by_event(events, cancel_rules(config))
    messages = [MessageFlag(m.folder, m.keyword, m.event_ids) for m in flagging]
    sources = flag_sources(
        events, rule_of, messages, flag_db.cli_flag_ids(conn), flag_folder=flag_folder(config)
    )
    flags = with_derived(flag_db.all_flags(conn), sources, now)
    replies: dict[str, list[Reply]] = {}
    for reply in thread_db.replies(conn):
        replies.setdefault(reply.event_id, []).append(reply)
    return Snapshot(
        events=events,
        rule_of=rule_of,
        sources=sources,
        intents=intents(events, flags, rule_of),
        rows={r.key: r for r in rows},
        replies=replies,
    )


def _letter_open(config: Config, snapshot: Snapshot) -> bool:
    """Whether a flag of scope "process" waits for its letter to be written."""
    for event_id, intent in snapshot.intents.items():
        row = snapshot.row(event_id, "withdrawal")
        scope = intent.scope or config.withdrawal.scope
        if scope == "process" and (row is None or row.raw is None):
            return True
    return False


def recipient(config: Config, event: EventRecord, intent: Intent | None) -> Address | None:
    """Who the withdrawal goes to (SPEC 3), honouring `--to` and `[[cancel]].to`."""
    return recipients.resolve(event, config.account.addresses, intent.to if intent else "")


def named(config: Config, event: EventRecord, intent: Intent | None) -> Found:
    """The role and company the letters name (SPEC 19): given by the flag or `[[cancel]]`
    (see `intents`), else found in the invitation."""
    account = config.account
    given = intent.named if intent else NOTHING
    return _named(event, account.name, tuple(account.addresses), given)


@functools.lru_cache(maxsize=512)
def _named(event: EventRecord, me_name: str, me: tuple[str, ...], given: Found) -> Found:
    """`name_interview`, remembered: a pure function of these values, and a daemon's every
    pass names each interview it plans for again (a sixth of a pass's time with 100). An
    event holds its iCalendar text, so the memory is kept to a few hundred."""
    return name_interview(event, me_name=me_name, me=me, given=given)


def situations(config: Config, snapshot: Snapshot) -> list[Situation]:
    """Every event with its flags, recipient, outbox rows, replies and hiring process,
    for planning."""
    found = []
    for event in snapshot.events:
        intent = snapshot.intents.get(event.id)
        found.append(
            Situation(
                event=event,
                flagged_since=intent.since if intent else None,
                recipient=recipient(config, event, intent),
                withdrawal=snapshot.row(event.id, "withdrawal"),
                followup=snapshot.row(event.id, "followup"),
                calendar=snapshot.row(event.id, "calendar"),
                decline=snapshot.row(event.id, "decline"),
                replies=tuple(snapshot.replies.get(event.id, ())),
                reason=intent.reason if intent else "",
                language=intent.language if intent else "",
                named=named(config, event, intent),
                scope=(intent.scope if intent else "") or config.withdrawal.scope,
            )
        )
    process_of = process_ids(found)
    return [replace(s, process=process_of[s.event.id]) for s in found]
