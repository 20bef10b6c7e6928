"""Sign-in in the state db's terms (SPEC 17): which sign-ins the config uses are not made
yet (for the review page), and what waited for one once it is made."""

from __future__ import annotations

from datetime import datetime

from decliner.config import Config
from decliner.errors import DeclinerError
from decliner.service.wiring import open_store
from decliner.store import outbox as outbox_db


def needed(config: Config) -> list[str]:
    """One line per sign-in that `decliner login` must make (none without `oauth2`); the
    tokens are read, never refreshed, so the page asks no provider anything."""
    from decliner.auth import providers, token_file

    found = []
    for name in providers.names(config):
        try:
            tokens = token_file(config, name).load()
        except DeclinerError as exc:
            found.append(str(exc))
            continue
        if tokens is None:
            found.append(f"{name}: not signed in; sign in: decliner login")
    return found


def signed_in(config: Config, now: datetime) -> int:
    """After `decliner login`: the messages a failed try left waiting out their backoff
    (refused for the sign-in, or any other passing failure) are due now, so the next pass
    (the daemon's, on its next wake-up or poll) sends them; how many."""
    if not config.state_path().exists():
        return 0
    with open_store(config) as store, store.transaction() as conn:
        return outbox_db.retry_now(conn, now)
