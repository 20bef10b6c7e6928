"""`decliner flag` and `unflag`: the CLI's flag on an event, set or taken back."""

from __future__ import annotations

from dataclasses import dataclass

from decliner.config import Config, check_address, check_name
from decliner.core.plan.events import EventRecord
from decliner.errors import UserError
from decliner.service.listing import InviteView, invite_view
from decliner.service.lookup import find_event
from decliner.service.runner import Runner
from decliner.service.wiring import mail_source, utcnow
from decliner.store import Store, mailbox
from decliner.store import flags as flag_db
from decliner.store import outbox as outbox_db


@dataclass(frozen=True)
class UnflagResult:
    """What `unflag` changed, and what still flags the event."""

    event: EventRecord
    removed: tuple[str, ...]
    remaining: tuple[str, ...]
    withdrawal_state: str | None


def flag(
    config: Config,
    store: Store,
    key: str,
    *,
    reason: str = "",
    to: str = "",
    scope: str = "",
    role: str = "",
    company: str = "",
) -> InviteView:
    """Flag an event from the CLI (or change its reason, recipient, scope, role or company)."""
    if to:
        try:
            check_address(to)
        except ValueError as exc:
            raise UserError(f"--to: {exc}") from None
    if scope not in {"", "process", "interview"}:
        raise UserError(f'--scope: "{scope}" is neither "process" nor "interview"')
    for option, value in (("--role", role), ("--company", company)):
        try:
            check_name(value)
        except ValueError as exc:
            raise UserError(f"{option}: {exc}") from None
    event = find_event(store, key)
    now = utcnow()
    with store.transaction() as conn:
        flag_db.set_cli_flag(
            conn,
            event.id,
            reason,
            to,
            now,
            scope=scope,
            role=role.strip(),
            company=company.strip(),
        )
    return invite_view(config, store, event.id, now)


def unflag(config: Config, store: Store, key: str) -> UnflagResult:
    """Remove the CLI flag and the flag keyword; cancel a withdrawal still in its grace period."""
    event = find_event(store, key)
    conn = store.connection
    removed: list[str] = []
    with store.transaction():
        if flag_db.remove_cli_flag(conn, event.id):
            removed.append("cli")
    keyword = config.imap.flag_keyword if config.imap else ""
    tagged = [m for m in mailbox.messages(conn) if m.keyword and event.id in m.event_ids]
    if keyword and tagged:
        with mail_source(config, store) as source:
            for folder in sorted({m.folder for m in tagged}):
                uids = [m.uid for m in tagged if m.folder == folder]
                source.remove_keyword(folder, uids, keyword)
                with store.transaction():
                    for uid in uids:
                        mailbox.set_keyword(conn, folder, uid, keyword=False)
        removed.append("keyword")
    snapshot, _sends_left_to_the_daemon = Runner(config, store, now=utcnow).settle()
    remaining = tuple(snapshot.sources.get(event.id, []))
    withdrawal = next((r for r in outbox_db.rows(conn, event.id) if r.kind == "withdrawal"), None)
    return UnflagResult(event, tuple(removed), remaining, withdrawal.state if withdrawal else None)
