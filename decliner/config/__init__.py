"""The TOML configuration: schema, defaults, lookup order and validation.

Validation reports *every* problem at once, one line each, as
`FILE: [section].key: what is wrong`. The models are in `schema.py`, finding and
reading the file in `loading.py`, the rules that span keys in `validation.py`, where
files are in `paths.py`. Secrets are only *located* here; `credentials.py` fetches them
when needed, through `secret_sources.py`.

The names below are imported on first use, so that `paths` and `secret_sources` load without
pydantic: a quiet `run --once` that needs no validation (`service/quiet_pass.py`) and
`--help` do not pay for it.
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Any

# pydantic looks for plugins in every installed package's entry points when it builds the
# first model, a tenth of a pass's start-up; decliner uses none (a user's setting wins).
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

if TYPE_CHECKING:
    from decliner.config.loading import load, parse, read
    from decliner.config.oauth2 import OAuth2Client
    from decliner.config.paths import default_path
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

_HOME = {
    "load": "loading",
    "parse": "loading",
    "read": "loading",
    "OAuth2Client": "oauth2",
    "default_path": "paths",
    "SECRET_KEYS": "validation",
    "is_loopback": "validation",
}

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
    "read",
]


def __getattr__(name: str) -> Any:
    """Each exported name, from its module, imported the first time it is asked for."""
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f"{__name__}.{_HOME.get(name, 'schema')}")
    value = getattr(module, name)
    globals()[name] = value
    return value
