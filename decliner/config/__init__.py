"""The TOML configuration: schema, defaults, lookup order and validation.

Validation reports *every* problem at once, one line each, as
`FILE: [section].key: what is wrong`. The models are in `schema.py`, finding and
reading the file in `loading.py`, the rules that span keys in `validation.py`.
Secrets are only *located* here; `credentials.py` fetches them when needed.
"""

from __future__ import annotations

from decliner.config.loading import default_path, load, parse
from decliner.config.oauth2 import OAuth2Client
from decliner.config.schema import (
    WEEKDAYS,
    AccountConfig,
    CalendarConfig,
    CancelEntry,
    Config,
    FollowupConfig,
    ImapConfig,
    MaildirConfig,
    SmtpConfig,
    StateConfig,
    WithdrawalConfig,
    check_address,
    check_name,
    parse_business_hours,
    parse_duration,
)
from decliner.config.validation import SECRET_KEYS, is_loopback

__all__ = [
    "SECRET_KEYS",
    "WEEKDAYS",
    "AccountConfig",
    "CalendarConfig",
    "CancelEntry",
    "Config",
    "FollowupConfig",
    "ImapConfig",
    "MaildirConfig",
    "OAuth2Client",
    "SmtpConfig",
    "StateConfig",
    "WithdrawalConfig",
    "check_address",
    "check_name",
    "default_path",
    "is_loopback",
    "load",
    "parse",
    "parse_business_hours",
    "parse_duration",
]
