"""The TOML configuration: schema, defaults, lookup order and validation.

Validation reports *every* problem at once, one line each, as
`FILE: [section].key: what is wrong`. Field-level checks are pydantic's; rules
that span keys (one secret source, `plain` only on loopback, ...) are checked
on the raw document so they are reported even when other keys are broken.
Secrets are only *located* here; `credentials.py` fetches them when needed.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
)

from decliner.errors import ConfigError, UserError

SECRET_KEYS = (
    "password",
    "password_env",
    "password_file",
    "password_command",
    "oauth2_token_command",
)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DURATION = re.compile(r"(\d+)([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_IMAP_ATOM_SPECIALS = re.compile(r'[\s(){%*"\\\]\x00-\x1f\x7f]')


def parse_duration(value: object) -> timedelta:
    """`"90s"`, `"5m"`, `"4h"`, `"1d"`, `"1h30m"` or `"0"` as a timedelta."""
    if not isinstance(value, str):
        raise ValueError('expected a duration string such as "90s", "5m", "4h" or "1d"')
    text = value.strip().lower()
    if text == "0":
        return timedelta(0)
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f'"{value}" is not a duration; use e.g. "90s", "5m", "4h", "1d" or "0"')
    return timedelta(seconds=sum(int(n) * _UNIT_SECONDS[u] for n, u in parts))


def check_address(value: str) -> str:
    local, at, domain = value.partition("@")
    if not (at and local and "." in domain.strip(".")) or re.search(r'[\s<>,;"()]', value):
        raise ValueError(f'"{value}" is not an email address')
    return value


def _check_zone(value: str) -> str:
    if value:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f'unknown time zone "{value}"; use an IANA name such as "Europe/Berlin"'
            ) from None
    return value


def _check_optional_address(value: str) -> str:
    return check_address(value) if value else value


def _check_keyword(value: str) -> str:
    if value and (_IMAP_ATOM_SPECIALS.search(value) or not value.isascii()):
        raise ValueError(
            f'"{value}" cannot be an IMAP keyword (no spaces, quotes, brackets or backslashes)'
        )
    return value


def _check_hours(value: str) -> str:
    if value:
        parse_business_hours(value)
    return value


def parse_business_hours(value: str) -> tuple[time, time] | None:
    """`"09:00-17:00"` as (start, end), end exclusive; `""` means any time."""
    if not value:
        return None
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", value)
    try:
        if match is None:
            raise ValueError
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        start, end = time(h1, m1), time(h2, m2)
    except ValueError:
        raise ValueError(f'"{value}" is not a range like "09:00-17:00"') from None
    if end <= start:
        raise ValueError(f'"{value}" ends before it starts')
    return start, end


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
EmailAddress = Annotated[str, AfterValidator(check_address)]
OptionalAddress = Annotated[str, AfterValidator(_check_optional_address)]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Security = Literal["tls", "starttls", "plain"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class AccountConfig(_Section):
    """Who the user is: the name and addresses that mean "me"."""

    name: str = Field(min_length=1)
    email: EmailAddress
    aliases: list[EmailAddress] = []
    timezone: Annotated[str, AfterValidator(_check_zone)] = ""

    @property
    def addresses(self) -> tuple[str, ...]:
        """Every address that is the user, lower-cased for comparison."""
        return tuple(a.lower() for a in (self.email, *self.aliases))

    @property
    def zone(self) -> ZoneInfo:
        """The account's time zone; the system's when none is configured."""
        if self.timezone:
            return ZoneInfo(self.timezone)
        import tzlocal

        local = tzlocal.get_localzone()
        return local if isinstance(local, ZoneInfo) else ZoneInfo("UTC")


class _SecretFields(_Section):
    password: SecretStr = SecretStr("")
    password_env: str = ""
    password_file: str = ""
    password_command: str = ""
    oauth2_token_command: str = ""


class ImapConfig(_SecretFields):
    """How to reach and read the mailbox."""

    host: str = Field(min_length=1)
    port: int = Field(default=0, ge=0, le=65535)
    security: Security = "tls"
    username: str = ""
    ca_file: str = ""
    folders: list[str] = Field(default=["INBOX"], min_length=1)
    flag_keyword: Annotated[str, AfterValidator(_check_keyword)] = "Decline"
    flag_folder: str = "Decline"
    sent_folder: str = ""
    idle: bool = True
    poll_interval: Duration = timedelta(seconds=60)
    timeout: Duration = timedelta(seconds=30)

    @property
    def effective_port(self) -> int:
        """The configured port, or the standard one for the security mode."""
        return self.port or (993 if self.security == "tls" else 143)


def _check_maildir_folder(value: str) -> str:
    """A Maildir++ folder name: "INBOX" (the top) or "X" (the ".X" subdirectory)."""
    if value.startswith(".") or ".." in value or "\x00" in value or "\\" in value:
        raise ValueError(f'"{value}" is not a folder name; write "Sent" for the .Sent directory')
    return value


MaildirFolder = Annotated[str, AfterValidator(_check_maildir_folder)]


class MaildirConfig(_Section):
    """A local Maildir++ tree used instead of IMAP."""

    path: str = Field(min_length=1)
    folders: list[Annotated[MaildirFolder, Field(min_length=1)]] = Field(
        default=["INBOX"], min_length=1
    )
    flag_folder: MaildirFolder = "Decline"
    sent_folder: MaildirFolder = "Sent"
    poll_interval: Duration = timedelta(seconds=60)

    @property
    def sent(self) -> str | None:
        """Where sent copies go ("" means "Sent"), or None for "none"."""
        if self.sent_folder.lower() == "none":
            return None
        return self.sent_folder or "Sent"


class SmtpConfig(_SecretFields):
    """How to send: SMTP, or a local Maildir for dry runs."""

    transport: Literal["smtp", "maildir"] = "smtp"
    maildir_path: str = ""
    host: str = ""
    port: int = Field(default=0, ge=0, le=65535)
    security: Security = "tls"
    username: str = ""
    ca_file: str = ""
    timeout: Duration = timedelta(seconds=30)

    @property
    def effective_port(self) -> int:
        """The configured port, or the standard one for the security mode."""
        return self.port or {"tls": 465, "starttls": 587, "plain": 25}[self.security]


class WithdrawalConfig(_Section):
    """What the withdrawal says and when it goes out."""

    reason: str = ""
    offer_help: bool = True
    keep_in_touch: bool = True
    grace: Duration = timedelta(minutes=5)
    min_notice: Duration = timedelta(hours=24)
    attach_decline: bool = True
    template: str = ""
    cc: list[EmailAddress] = []


class FollowupConfig(_Section):
    """The written confirmation sent later in the same thread."""

    enabled: bool = True
    delay: Duration = timedelta(days=1)
    business_hours: Annotated[str, AfterValidator(_check_hours)] = "09:00-17:00"
    business_days: list[Weekday] = ["mon", "tue", "wed", "thu", "fri"]
    template: str = ""
    cc_attendees: bool = False
    skip_if_replied: bool = False

    @property
    def hours(self) -> tuple[time, time] | None:
        """The business hours as (start, end), or None for any time."""
        return parse_business_hours(self.business_hours)


class StateConfig(_Section):
    """Where the state database lives."""

    path: str = ""


class CancelEntry(_Section):
    """One interview flagged in the config file, by UID or by globs."""

    uid: str = ""
    summary: str = ""
    organizer: str = ""
    reason: str = ""
    to: OptionalAddress = ""


class Config(_Section):
    """The whole configuration file."""

    account: AccountConfig
    imap: ImapConfig | None = None
    maildir: MaildirConfig | None = None
    smtp: SmtpConfig = SmtpConfig()
    withdrawal: WithdrawalConfig = WithdrawalConfig()
    followup: FollowupConfig = FollowupConfig()
    state: StateConfig = StateConfig()
    cancel: list[CancelEntry] = []
    source: Path = Field(default=Path("config.toml"), exclude=True)

    def need_imap(self) -> ImapConfig:
        """The `[imap]` section, for code paths that only make sense with IMAP."""
        if self.imap is None:
            raise UserError(f"{self.source}: [imap]: this needs an IMAP account, not [maildir]")
        return self.imap

    def need_maildir(self) -> MaildirConfig:
        """The `[maildir]` section, for code paths that only make sense with a local tree."""
        if self.maildir is None:
            raise UserError(f"{self.source}: [maildir]: this needs a Maildir source, not [imap]")
        return self.maildir

    def resolve_path(self, value: str) -> Path:
        """A path from the config: `~` expanded, relative to the config file's folder."""
        return (self.source.parent / Path(value).expanduser()).resolve()

    def state_path(self) -> Path:
        """The state db: `[state].path`, else systemd's StateDirectory, else the user state dir."""
        if self.state.path:
            return self.resolve_path(self.state.path)
        if state_dir := os.environ.get("STATE_DIRECTORY"):
            return Path(state_dir.split(":")[0]) / "decliner.db"
        return Path(platformdirs.user_state_dir("decliner")) / "decliner.db"


def default_path(env: Mapping[str, str] | None = None) -> Path:
    """`$DECLINER_CONFIG`, else `$XDG_CONFIG_HOME/decliner/config.toml`."""
    env = os.environ if env is None else env
    if env.get("DECLINER_CONFIG"):
        return Path(env["DECLINER_CONFIG"])
    return Path(platformdirs.user_config_dir("decliner")) / "config.toml"


def load(path: Path | None = None) -> Config:
    """Read and validate the config file; raise ConfigError listing every problem."""
    path = path or default_path()
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise UserError(
            f"{path}: no such config file (write one with `decliner init {path}`)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read config file: {exc}") from None
    return parse(text, path)


def parse(text: str, path: Path) -> Config:
    """Validate TOML text as a config; `path` names it in errors and anchors relative paths."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: invalid TOML: {exc}"]) from None
    found = sorted(set(problems_in(raw, path)), key=_file_order)
    problems = [f"{path}: {where}: {what}" for where, what in found]
    if problems:
        raise ConfigError(problems)
    return Config.model_validate({**raw, "source": path})


def problems_in(raw: dict[str, Any], path: Path) -> Iterator[tuple[str, str]]:
    """Every problem in a raw config document, as (location, message) pairs."""
    if "source" in raw:
        yield "[source]", "unknown section"
    try:
        Config.model_validate({**raw, "source": path})
    except ValidationError as exc:
        for error in exc.errors():
            if tuple(error["loc"]) == ("maildir", "flag_keyword"):
                continue  # explained by _maildir_problems
            yield _location(error["loc"]), _message(error)
    yield from _cross_key_problems(raw)


_SECTION_ORDER = ("[account", "[imap", "[maildir", "[smtp", "[withdrawal", "[followup", "[state")


def _file_order(problem: tuple[str, str]) -> tuple[int, str]:
    where = problem[0]
    rank = next(
        (i for i, s in enumerate(_SECTION_ORDER) if where.startswith(s)), len(_SECTION_ORDER)
    )
    return rank, where


def _location(loc: tuple[int | str, ...]) -> str:
    if not loc:
        return "(top level)"
    section, *rest = loc
    if section == "cancel" and rest and isinstance(rest[0], int):
        head = f"[[cancel]] #{int(rest.pop(0)) + 1}"
    else:
        head = f"[{section}]"
    return head + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in rest)


def _message(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key" if len(error["loc"]) > 1 else "unknown section"
    if kind == "missing":
        return "required" if len(error["loc"]) > 1 else "required section is missing"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    if kind in {"model_type", "dict_type"}:
        return "must be a table"
    if kind == "literal_error":
        return f"must be one of {error['ctx']['expected']}"
    return f"{error['msg'][0].lower()}{error['msg'][1:]} (got {error.get('input')!r})"


def _cross_key_problems(raw: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    imap, maildir, smtp = (_table(raw, k) for k in ("imap", "maildir", "smtp"))
    if "imap" not in raw and "maildir" not in raw:
        yield "[imap]", "required: a mail source, [imap] or [maildir]"
    elif "imap" in raw and "maildir" in raw:
        yield "[maildir]", "give either [imap] or [maildir], not both"
    if maildir is not None:
        yield from _maildir_problems(maildir)
    if imap is not None:
        sources = [k for k in SECRET_KEYS if imap.get(k)]
        if not sources:
            yield "[imap].password", f"no secret given; set one of {', '.join(SECRET_KEYS)}"
        yield from _secret_problems("imap", sources)
        yield from _plain_problems("imap", imap)
    smtp = smtp or {}
    yield from _secret_problems("smtp", [k for k in SECRET_KEYS if smtp.get(k)])
    if smtp.get("transport", "smtp") == "smtp":
        if not smtp.get("host"):
            yield "[smtp].host", "required"
        yield from _plain_problems("smtp", smtp)
        if imap is None and maildir is not None and not any(smtp.get(k) for k in SECRET_KEYS):
            yield (
                "[smtp].password",
                "no secret given; with [maildir] there is no IMAP secret to reuse",
            )
    elif smtp.get("transport") == "maildir" and not smtp.get("maildir_path"):
        yield "[smtp].maildir_path", 'required with transport = "maildir"'
    for number, entry in enumerate(raw.get("cancel") or [], start=1):
        if isinstance(entry, dict) and not any(
            entry.get(k) for k in ("uid", "summary", "organizer")
        ):
            yield f"[[cancel]] #{number}", "needs a uid, or a summary or organizer glob"


_MAILDIR_KEYWORD = (
    "not used with [maildir]: flag by copying or moving an invite into flag_folder;"
    ' the Maildir F ("flagged") flag means important and never withdraws anyone'
)


def _maildir_problems(maildir: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    if "flag_keyword" in maildir:
        yield "[maildir].flag_keyword", _MAILDIR_KEYWORD
    flag, folders = maildir.get("flag_folder", "Decline"), maildir.get("folders", ["INBOX"])
    if not isinstance(flag, str) or not isinstance(folders, list):
        return
    if flag and (flag.upper() == "INBOX" or flag in folders):
        yield (
            "[maildir].flag_folder",
            f'"{flag}" is where invitations arrive: every one of them would be withdrawn;'
            ' use a folder of its own (it is read anyway), or "" for none',
        )


def _table(raw: Mapping[str, Any], key: str) -> dict[str, Any] | None:
    value = raw.get(key)
    return value if isinstance(value, dict) else None


def _secret_problems(section: str, sources: list[str]) -> Iterator[tuple[str, str]]:
    if len(sources) > 1:
        yield (
            f"[{section}].{sources[1]}",
            f"give only one secret source, not {' and '.join(sources)}",
        )


def _plain_problems(section: str, table: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    host = table.get("host")
    if (
        table.get("security") == "plain"
        and isinstance(host, str)
        and host
        and not is_loopback(host)
    ):
        yield (
            f"[{section}].security",
            f'"plain" sends the password unencrypted; allowed only for a loopback host, not {host}',
        )


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine (localhost, 127.0.0.0/8, ::1)."""
    if host.lower().rstrip(".") in {"localhost", "localhost.localdomain"}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
