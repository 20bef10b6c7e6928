"""Fetch a server secret from the one source the config names, only when needed.

The secret never appears in a message raised from here: errors name the config
key, the variable, the file or the command, and nothing they produced.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from decliner import logs
from decliner.config.schema import CalendarConfig, Config, ImapConfig, SmtpConfig
from decliner.config.validation import SECRET_KEYS
from decliner.errors import SecretError

COMMAND_TIMEOUT = 60.0


@dataclass(frozen=True)
class Credential:
    """A login: the user name and a password or an OAuth2 access token."""

    username: str
    secret: str = field(repr=False)
    mechanism: Literal["password", "xoauth2"] = "password"
    renew_at: float | None = None
    """When an OAuth2 access token should be replaced (epoch seconds); None: never."""
    renew: Callable[[], Credential] | None = field(default=None, repr=False, compare=False)
    """For a stored sign-in: a new token, after a server refused this one."""

    def __post_init__(self) -> None:
        # Defense in depth: should a secret ever reach a log line, it is masked there.
        logs.redact(self.secret)


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
    if key == "password":
        return Credential(username, value)
    if key == "password_env":
        if not env.get(value):
            raise SecretError(f"{where}: environment variable {value} is not set or empty")
        return Credential(username, env[value])
    if key == "password_file":
        return Credential(username, _read_file(where, value, config, env))
    if key == "password_command":
        return Credential(username, _run(where, value, env))
    if key == "oauth2_token_command":
        return Credential(username, _run(where, value, env), "xoauth2")
    if key == "oauth2":
        return _signed_in(config, value, use or name, username)
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


def _read_file(where: str, name: str, config: Config, env: Mapping[str, str]) -> str:
    candidates = []
    creds = env.get("CREDENTIALS_DIRECTORY")
    if creds and not Path(name).expanduser().is_absolute():
        candidates.append(Path(creds) / name)
    candidates.append(config.resolve_path(name))
    for path in candidates:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            continue
        except (OSError, UnicodeDecodeError) as exc:
            raise SecretError(f"{where}: cannot read {path}: {exc.__class__.__name__}") from None
        if not lines or not lines[0].strip():
            raise SecretError(f"{where}: {path} is empty")
        return lines[0].strip()
    raise SecretError(f"{where}: no such file: {' or '.join(map(str, candidates))}")


def _run(where: str, command: str, env: Mapping[str, str]) -> str:
    """The first stdout line of a shell command; its output never reaches an error."""
    try:
        done = subprocess.run(
            ["/bin/sh", "-c", command],
            capture_output=True,
            timeout=COMMAND_TIMEOUT,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise SecretError(
            f"{where}: `{command}` did not finish in {COMMAND_TIMEOUT:.0f}s"
        ) from None
    except OSError as exc:
        raise SecretError(f"{where}: cannot run `{command}`: {exc.strerror}") from None
    if done.returncode != 0:
        raise SecretError(f"{where}: `{command}` failed with exit status {done.returncode}")
    first = done.stdout.decode("utf-8", "replace").partition("\n")[0].strip()
    if not first:
        raise SecretError(f"{where}: `{command}` printed nothing")
    return first
