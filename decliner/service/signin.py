"""Which OAuth2 sign-ins the config uses are not made yet (SPEC 17), for the review page."""

from __future__ import annotations

from decliner.config import Config
from decliner.errors import DeclinerError


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
