"""What `check` says of the state db, read without creating or changing it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from decliner.config import Config
from decliner.core.plan.cover import cover
from decliner.service import snapshot as read_model
from decliner.service.wiring import utcnow
from decliner.store import Store, mailbox
from decliner.store import calendars as calendar_db


@dataclass(frozen=True)
class StateInfo:
    """What `check` says of the state db: whether it exists, the last sync, the daemon's pid."""

    path: Path
    exists: bool
    last_sync: datetime | None = None
    daemon_pid: int | None = None
    skipped: tuple[str, ...] = ()  # messages still in the mailbox that could not be read


def state_info(config: Config) -> StateInfo:
    """Read (never create or change) the account's state db for `check`."""
    path = config.state_path()
    if not path.exists():
        return StateInfo(path, exists=False)
    with Store.open_readonly(path) as store:
        conn = store.connection
        skipped = (
            *mailbox.problems(conn),
            *calendar_db.problems(conn),
            *late(config, store, utcnow()),
        )
        return StateInfo(
            path,
            exists=True,
            last_sync=store.last_sync(),
            daemon_pid=store.daemon_pid(),
            skipped=skipped,
        )


def late(config: Config, store: Store, now: datetime) -> list[str]:
    """Invitations that arrived for a hiring process already withdrawn from (SPEC 18):
    nothing answers them until the user flags them."""
    situations = read_model.situations(config, read_model.read(config, store.connection, now))
    by_id = {s.event.id: s.event for s in situations}
    return [
        f"invitation {event} ({by_id[event].summary!r}) arrived for a hiring process you"
        f" withdrew from in the letter about {lead}; it is not answered: flag it to decline it"
        for event, lead in cover(situations, now).late.items()
    ]
