"""The configuration's schema: one pydantic model per section, with its defaults.

Field-level checks live here (durations, addresses, zones, ...); rules that span
keys are `validation.py`'s, and finding and reading the file is `loading.py`'s.
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
)

from decliner.config import paths
from decliner.config.oauth2 import OAuth2Client
from decliner.config.validation import check_http_url
from decliner.core.letters.languages import AUTO, LANGUAGES
from decliner.core.parse.model import address_spellings, is_valid_email
from decliner.errors import UserError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DURATION = re.compile(r"(\d+)([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_NAME_LIMIT = 100
_IMAP_ATOM_SPECIALS = re.compile(r'[\s(){%*"\\\]\x00-\x1f\x7f]')


def parse_duration(value: object) -> timedelta:
    """`"90s"`, `"5m"`, `"4h"`, `"1d"`, `"1h30m"` or `"0"` as a timedelta."""
    if not isinstance(value, str):
        raise ValueError(  # noqa: TRY004 -- pydantic makes only a ValueError a config error line
            'expected a duration string such as "90s", "5m", "4h" or "1d"'
        )
    text = value.strip().lower()
    if text == "0":
        return timedelta(0)
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f'"{value}" is not a duration; use e.g. "90s", "5m", "4h", "1d" or "0"')
    return timedelta(seconds=sum(int(n) * _UNIT_SECONDS[u] for n, u in parts))


def check_address(value: str) -> str:
    """`value` if it is one address a user may type: core's syntax check, and a dotted domain."""
    if not is_valid_email(value) or "." not in value.rpartition("@")[2].strip("."):
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


def _check_language(value: str) -> str:
    if value and value not in (*LANGUAGES, AUTO):
        raise ValueError(
            f'"{value}" is not a language decliner writes; use one of {", ".join(LANGUAGES)},'
            ' or "auto"'
        )
    return value


def _check_holidays(value: str) -> str:
    """An ISO 3166 country code, optionally with a subdivision ("DE", "US-CA", "GB-SCT")."""
    if not value:
        return value
    country, _, subdivision = value.partition("-")
    import holidays

    try:
        holidays.country_holidays(country, subdiv=subdivision or None)
    except NotImplementedError:
        raise ValueError(
            f'"{value}" is not a country (and subdivision) the holidays package knows;'
            ' use an ISO code such as "DE", "US-CA" or "GB-SCT"'
        ) from None
    return value


def check_name(value: str) -> str:
    """A role or company as the letters will write it: one line, of a sensible length."""
    if any(ch in value for ch in "\r\n\t\x00") or not value.isprintable():
        raise ValueError("must be one line of text, without control characters")
    if len(value) > _NAME_LIMIT:
        raise ValueError(f"is {len(value)} characters long; at most {_NAME_LIMIT} fit a letter")
    return value.strip()


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
            raise ValueError  # noqa: TRY301 -- the except below words both failures alike
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
Scope = Literal["process", "interview"]
Name = Annotated[str, AfterValidator(check_name)]
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
    language: Annotated[str, AfterValidator(_check_language)] = "en"

    @property
    def addresses(self) -> tuple[str, ...]:
        """Every address that is the user, normalised for comparison, each in every spelling
        of its domain (`bücher.example` and `xn--bcher-kva.example` are one mailbox)."""
        return tuple(
            dict.fromkeys(s for a in (self.email, *self.aliases) for s in address_spellings(a))
        )

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
    oauth2: str = ""


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
    scope: Scope = "process"


class FollowupConfig(_Section):
    """The written confirmation sent later in the same thread."""

    enabled: bool = True
    delay: Duration = timedelta(days=1)
    business_hours: Annotated[str, AfterValidator(_check_hours)] = "09:00-17:00"
    business_days: list[Weekday] = ["mon", "tue", "wed", "thu", "fri"]
    holidays: Annotated[str, AfterValidator(_check_holidays)] = ""
    template: str = ""
    cc_attendees: bool = False
    skip_if_replied: bool = False

    @property
    def hours(self) -> tuple[time, time] | None:
        """The business hours as (start, end), or None for any time."""
        return parse_business_hours(self.business_hours)


def _check_calendar_url(value: str) -> str:
    return check_http_url(value, "sends the password")


class CalendarConfig(_SecretFields):
    """The user's own calendar over CalDAV: declined there too, and read for invitations."""

    url: Annotated[str, AfterValidator(_check_calendar_url)] = Field(min_length=1)
    username: str = ""
    calendars: list[str] = []
    on_withdraw: Literal["decline", "delete", "none"] = "decline"
    read_invites: bool = True
    ca_file: str = ""
    timeout: Duration = timedelta(seconds=30)


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
    language: Annotated[str, AfterValidator(_check_language)] = ""
    scope: Literal["", "process", "interview"] = ""  # "" = [withdrawal].scope
    role: Name = ""
    company: Name = ""


class Config(_Section):
    """The whole configuration file."""

    account: AccountConfig
    imap: ImapConfig | None = None
    maildir: MaildirConfig | None = None
    smtp: SmtpConfig = SmtpConfig()
    withdrawal: WithdrawalConfig = WithdrawalConfig()
    followup: FollowupConfig = FollowupConfig()
    calendar: CalendarConfig | None = None
    state: StateConfig = StateConfig()
    cancel: list[CancelEntry] = []
    oauth2: dict[str, OAuth2Client] = {}
    source: Path = Field(default=Path("config.toml"), exclude=True)

    @property
    def mailbox(self) -> ImapConfig | MaildirConfig:
        """Where the mail is read: `[imap]` or `[maildir]` (validation requires exactly one)."""
        found = self.imap or self.maildir
        if found is None:
            raise UserError(f"{self.source}: neither [imap] nor [maildir] is given")
        return found

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
        return paths.resolve(self.source, value)

    def state_path(self) -> Path:
        """The state db: `[state].path`, else systemd's StateDirectory, else the user state dir."""
        return paths.state_path(self.source, self.state.path)
