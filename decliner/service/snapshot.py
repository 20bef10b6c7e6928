"""What a pass or a listing knows, read once: events, flags, outbox rows, replies.

Reads only: flags newly seen in mail or config count from `now` until a pass stores
them (`settle`), so a listing never starts a grace period (SPEC 16).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from decliner.config import Config
from decliner.core.parse.model import Address
from decliner.core.parse.replies import Reply
from decliner.core.plan import recipient as recipients
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
    config: Config, conn: sqlite3.Connection, now: datetime, *, acting_only: bool = False
) -> Snapshot:
    """Read the whole snapshot; `[[cancel]]` rules are matched once per event here.

    `acting_only` (a pass's plan): only the events a plan can act on, those something
    flags or with an outbox row, as the plan yields nothing for the others; a quiet pass
    then reads no row per known event. With `[[cancel]]` rules every event is read, as
    any of them may match one."""
    rules = cancel_rules(config)
    folder = flag_folder(config)
    if acting_only and not rules:
        flagging = mailbox.flagging_invites(conn, folder)
        wanted = {eid for m in flagging for eid in m.event_ids}
        events = event_db.by_ids(
            conn, wanted | flag_db.flagged_ids(conn) | outbox_db.event_ids(conn)
        )
    else:
        events = event_db.all_events(conn)
        flagging = [m for m in mailbox.messages(conn) if m.kind == "invite"]
    rule_of = rules_by_event(events, rules)
    messages = [MessageFlag(m.folder, m.keyword, m.event_ids) for m in flagging]
    sources = flag_sources(
        events, rule_of, messages, flag_db.cli_flag_ids(conn), flag_folder=folder
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
        rows={r.key: r for r in outbox_db.rows(conn)},
        replies=replies,
    )


def recipient(config: Config, event: EventRecord, intent: Intent | None) -> Address | None:
    """Who the withdrawal goes to (SPEC 3), honouring `--to` and `[[cancel]].to`."""
    return recipients.resolve(event, config.account.addresses, intent.to if intent else "")


def named(config: Config, event: EventRecord, intent: Intent | None) -> Found:
    """The role and company the letters name (SPEC 19): given by the flag or `[[cancel]]`
    (see `intents`), else found in the invitation."""
    account = config.account
    given = intent.named if intent else NOTHING
    return name_interview(event, me_name=account.name, me=account.addresses, given=given)


def situations(config: Config, snapshot: Snapshot) -> list[Situation]:
    """Every event with its flags, recipient, outbox rows and replies, for planning."""
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
                replies=tuple(snapshot.replies.get(event.id, ())),
                reason=intent.reason if intent else "",
                language=intent.language if intent else "",
                named=named(config, event, intent),
                scope=(intent.scope if intent else "") or config.withdrawal.scope,
            )
        )
    return found
