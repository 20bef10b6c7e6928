"""The `[oauth2.*]` tables: the OAuth2 client the user registered, per provider.

"google" and "microsoft" are built in (their endpoints and scopes are known, the
table holds only the registered client); any other NAME gives its endpoints and
scopes. The rules that span keys (which keys a built-in table takes, that an
`oauth2 = "NAME"` has its table) are checked on the raw document, like every rule
in `validation.py`, so each problem names the file and the key.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from decliner.config.validation import check_http_url

BUILT_IN = ("google", "microsoft")
_KEYS = {
    "google": {"client_id", "client_secret"},
    "microsoft": {"client_id", "tenant"},
}
_NAME = re.compile(r"[A-Za-z0-9_-]{1,40}")
_TENANT = re.compile(r"common|consumers|organizations|[0-9a-fA-F-]{36}|[A-Za-z0-9.-]+\.[a-z]{2,}")
USES = ("imap", "smtp", "calendar")


def _check_url(value: str) -> str:
    """An https endpoint, or http on a loopback host (a test or a local provider)."""
    return check_http_url(value, "would send tokens") if value else value


def _check_tenant(value: str) -> str:
    if not _TENANT.fullmatch(value):
        raise ValueError(
            f'"{value}" is not a tenant; use "common", "consumers", "organizations",'
            " a tenant id or a tenant's domain"
        )
    return value


Endpoint = Annotated[str, AfterValidator(_check_url)]


class OAuth2Client(BaseModel):
    """One `[oauth2.NAME]` table: the registered client and, for NAME, its endpoints."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    client_id: str = Field(min_length=1)
    client_secret: str = Field(default="", repr=False)
    tenant: Annotated[str, AfterValidator(_check_tenant)] = "common"
    authorize_url: Endpoint = ""
    token_url: Endpoint = ""
    device_url: Endpoint = ""
    scopes: list[Annotated[str, Field(min_length=1)]] = []


def problems(raw: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """What is wrong with the `[oauth2.*]` tables and the `oauth2` keys naming them."""
    tables = raw.get("oauth2")
    tables = tables if isinstance(tables, dict) else {}
    yield from _table_problems(tables)
    yield from _use_problems(raw, tables)


def _table_problems(tables: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for name, table in tables.items():
        if not _NAME.fullmatch(name):
            yield f"[oauth2.{name}]", "a name of letters, digits, - and _ (at most 40)"
        if not isinstance(table, dict):
            continue
        if name in _KEYS:
            for key in sorted(set(table) - _KEYS[name]):
                keys = ", ".join(sorted(_KEYS[name]))
                what = f"not used: {name}'s endpoints and scopes are built in (keys: {keys})"
                yield f"[oauth2.{name}].{key}", what
            continue
        for key in ("authorize_url", "token_url"):
            if not table.get(key):
                yield f"[oauth2.{name}].{key}", "required for a provider that is not built in"
        if not table.get("scopes"):
            yield f"[oauth2.{name}].scopes", "required: the scopes IMAP and SMTP need"
        if "tenant" in table:
            yield f"[oauth2.{name}].tenant", "only [oauth2.microsoft] takes a tenant"


def _use_problems(raw: Mapping[str, Any], tables: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for use in USES:
        section = raw.get(use)
        if not isinstance(section, dict) or not isinstance(section.get("oauth2"), str):
            continue
        name = section["oauth2"]
        if name and name not in tables:
            known = ", ".join(f'"{n}"' for n in tables) or "none is given"
            hint = (
                f"add an [oauth2.{name}] table with the client_id you registered"
                if name in BUILT_IN
                else f"no [oauth2.{name}] table (tables given: {known})"
            )
            yield f"[{use}].oauth2", hint
        if use == "calendar" and name == "microsoft":
            what = "Microsoft offers no CalDAV server; leave [calendar] out for Outlook.com"
            yield "[calendar].oauth2", what + " and Microsoft 365"
