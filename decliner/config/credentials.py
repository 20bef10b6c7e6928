"""The login for each server, from the one secret source its config section names,
fetched only when needed (`secret_sources.py` reads the plain sources; sign-in is `decliner.auth`'s).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from decliner.config import secret_sources
from decliner.config.schema import CalendarConfig, Config, ImapConfig, SmtpConfig
from decliner.config.secret_sources import Credential
from decliner.config.validation import SECRET_KEYS
from decliner.errors import SecretError

__all__ = [
    "Credential",
    "calendar_credential",
    "has_secret",
    "imap_credential",
    "plain_source",
    "smtp_credential",
]


def imap_credential(config: Config, env: Mapping[str, str] | None = None) -> Credential:
    """The IMAP login, fetching the secret now."""
    imap = config.need_imap()
    return _credential("imap", imap, imap.username or config.account.email, config, env)


def smtp_credential(config: Config, env: Mapping[str, str] | None = None) -> Credential:
    """The SMTP login: its own secret source, or the IMAP one when none is given."""
    smtp, imap = config.smtp, config.imap
    default_user = (imap.username if imap else "") or config.account.email
    username = smtp.username or default_user
    if _source(smtp) is None and imap is not None:
        return _credential("imap", imap, username, config, env, use="smtp")
    return _credential("smtp", smtp, username, config, env)


def calendar_credential(config: Config, env: Mapping[str, str] | None = None) -> Credential:
    """The CalDAV login (an OAuth2 token is sent as a bearer token), or the IMAP one."""
    calendar, imap = config.calendar, config.imap
    if calendar is None:
        raise SecretError("[calendar]: not configured")
    username = calendar.username or (imap.username if imap else "") or config.account.email
    if _source(calendar) is None and imap is not None:
        return _credential("imap", imap, username, config, env, use="calendar")
    return _credential("calendar", calendar, username, config, env)


Section = ImapConfig | SmtpConfig | CalendarConfig


def has_secret(section: Section) -> bool:
    """Whether a config section names a secret source of its own."""
    return _source(section) is not None


def plain_source(section: Section) -> tuple[str, str] | None:
    """The section's secret source as (key, value) when it is a plain one a quiet check can
    fetch again from the file (an inline password's value is left out: it stays in the
    file); None for none or a sign-in (`oauth2`), whose tokens need `decliner.auth`."""
    key = _source(section)
    if key is None or key == "oauth2":
        return None
    return key, "" if key == "password" else _raw(section, key)


def _source(section: Section) -> str | None:
    return next((key for key in SECRET_KEYS if _raw(section, key)), None)


def _raw(section: Section, key: str) -> str:
    if key == "password":
        return section.password.get_secret_value()
    value: str = getattr(section, key)
    return value


def _credential(
    name: str,
    section: Section,
    username: str,
    config: Config,
    env: Mapping[str, str] | None,
    *,
    use: str = "",
) -> Credential:
    """The secret of section `name`, for `use` (the part that logs in with it: an OAuth2
    sign-in keeps a token per use)."""
    env = os.environ if env is None else env
    key = _source(section)
    where = f"[{name}].{key}"
    value = _raw(section, key) if key else ""
    if key == "oauth2":
        return _signed_in(config, value, use or name, username)
    if key:
        secret, mechanism = secret_sources.fetch(where, key, value, env, config.resolve_path)
        return Credential(username, secret, mechanism)
    raise SecretError(f"[{name}]: no secret configured")


def _signed_in(
    config: Config, provider: str, use: str, username: str, refused: str = ""
) -> Credential:
    """An access token from the stored sign-in (`decliner login`), fresh for `use`."""
    from decliner.auth.tokens import access_token

    access = access_token(config, provider, use, refused=refused)
    return Credential(
        username,
        access.token,
        "xoauth2",
        access.renew_at,
        lambda: _signed_in(config, provider, use, username, access.token),
    )
